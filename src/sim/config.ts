import { z } from 'zod';
import { TYPOLOGIES, type Typology } from '../events/labels.js';
import { Rng } from './rng.js';

/** Simulator configuration. A JSON config file is a deep-partial of this; everything has a default. */
export interface TypologyConfig {
  /** Multiplies the global intensity for this typology (0 turns it off). */
  intensity: number;
  /** Episodes per hour of event time at intensity 1. */
  perHour: number;
  /** Injector parameters; each injector documents and defaults its own. */
  params: Record<string, unknown>;
}

export interface PopulationConfig {
  /** Pre-existing retail accounts (a share of them trade during a run). */
  retail: number;
  /** Systematic momentum traders. */
  momentum: number;
  /** Large legitimate traders (big orders, TWAP executions). */
  whales: number;
  /** Semi-professional API traders (some with STP off). */
  algos: number;
  /** Market-making firms; each runs quotes on several markets. */
  marketMakers: number;
  /** HFT market makers (high but legitimate cancel ratios). */
  hftMakers: number;
  /** Accounts with collateral loans. */
  borrowers: number;
  /** Accounts using earn and structured products. */
  savers: number;
  /** Legitimate new sign-ups per hour (some from a bonus campaign). */
  signupsPerHour: number;
  /** Offices / households whose accounts share an IP (legitimately). */
  sharedIpGroups: number;
}

export interface SimConfig {
  seed: number;
  durationMs: number;
  /** Event time of the first event; derived from the seed when absent. */
  startTime?: number;
  /** Multiplies order-flow rates of every trading agent. */
  trafficScale: number;
  population: PopulationConfig;
  marketData: {
    depthIntervalMs: number;
    depthLevels: number;
    /** Index and mark price cadence. */
    markIntervalMs: number;
    balanceSnapshotIntervalMs: number;
    positionSnapshotIntervalMs: number;
  };
  /** Hourly (by default) index settlement used by hourly products. */
  settlementIntervalMinutes: number;
  abuse: {
    enabled: boolean;
    /** Global multiplier of every typology's episode rate. */
    intensity: number;
    /** No episode starts before this much event time has passed (books and histories warm up). */
    warmupMs: number;
    /** Minimum quiet time between episodes on the same market or account. */
    guardMs: number;
    typologies: Record<Typology, TypologyConfig>;
  };
}

const DEFAULT_PER_HOUR: Record<Typology, number> = {
  spoofing: 2,
  layering: 2,
  wash_trading: 2,
  pump_and_dump: 1.75,
  ramping: 2,
  marking_the_close: 2,
  quote_stuffing: 2,
  fat_finger: 2,
  cross_market_manipulation: 1.75,
  fake_traffic: 1.75,
  collateral_abuse: 1.75,
};

export function defaultConfig(): SimConfig {
  return {
    seed: 1,
    durationMs: 2 * 3_600_000,
    trafficScale: 1,
    population: {
      retail: 4000,
      momentum: 40,
      whales: 12,
      algos: 40,
      marketMakers: 4,
      hftMakers: 3,
      borrowers: 150,
      savers: 400,
      signupsPerHour: 30,
      sharedIpGroups: 12,
    },
    marketData: {
      depthIntervalMs: 10_000,
      depthLevels: 20,
      markIntervalMs: 1_000,
      balanceSnapshotIntervalMs: 15 * 60_000,
      positionSnapshotIntervalMs: 5 * 60_000,
    },
    settlementIntervalMinutes: 60,
    abuse: {
      enabled: true,
      intensity: 1,
      warmupMs: 4 * 60_000,
      guardMs: 90_000,
      typologies: Object.fromEntries(TYPOLOGIES.map((t) => [t, { intensity: 1, perHour: DEFAULT_PER_HOUR[t], params: {} }])) as Record<Typology, TypologyConfig>,
    },
  };
}

const typologyFile = z.object({ intensity: z.number().min(0).optional(), perHour: z.number().min(0).optional(), params: z.record(z.string(), z.unknown()).optional() }).strict();

/** The JSON config file: every field optional. */
export const SimConfigFile = z
  .object({
    seed: z.number().int().nonnegative().optional(),
    duration: z.union([z.string(), z.number()]).optional(),
    startTime: z.union([z.number().int().nonnegative(), z.string()]).optional(),
    trafficScale: z.number().positive().optional(),
    population: z
      .object({
        retail: z.number().int().min(50),
        momentum: z.number().int().min(1),
        whales: z.number().int().min(1),
        algos: z.number().int().min(4),
        marketMakers: z.number().int().min(1),
        hftMakers: z.number().int().min(0),
        borrowers: z.number().int().min(0),
        savers: z.number().int().min(0),
        signupsPerHour: z.number().min(0),
        sharedIpGroups: z.number().int().min(0),
      })
      .partial()
      .strict()
      .optional(),
    marketData: z
      .object({
        depthIntervalMs: z.number().int().positive(),
        depthLevels: z.number().int().positive(),
        markIntervalMs: z.number().int().positive(),
        balanceSnapshotIntervalMs: z.number().int().positive(),
        positionSnapshotIntervalMs: z.number().int().positive(),
      })
      .partial()
      .strict()
      .optional(),
    settlementIntervalMinutes: z.number().int().positive().optional(),
    abuse: z
      .object({
        enabled: z.boolean(),
        intensity: z.number().min(0),
        warmupMs: z.number().int().nonnegative(),
        guardMs: z.number().int().nonnegative(),
        typologies: z.partialRecord(z.enum(TYPOLOGIES), typologyFile),
      })
      .partial()
      .strict()
      .optional(),
  })
  .strict();
export type SimConfigFile = z.infer<typeof SimConfigFile>;

/** Deep-partial overrides accepted by `resolveConfig` (the config file, or code). */
export type SimConfigInput = Omit<SimConfigFile, 'duration' | 'startTime'> & { duration?: string | number; durationMs?: number; startTime?: number | string };

/** "90s", "30m", "2h", "1d", "1h30m", or a number of milliseconds. */
export function parseDuration(v: string | number): number {
  if (typeof v === 'number') {
    if (!(v > 0)) throw new Error(`duration must be positive: ${v}`);
    return Math.round(v);
  }
  const s = v.trim();
  if (/^\d+$/.test(s)) return parseDuration(Number(s));
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * unit[m[2]];
    consumed += m[0].length;
  }
  if (consumed !== s.length || total <= 0) throw new Error(`invalid duration ${JSON.stringify(v)} (use e.g. 30m, 2h, 1d, 1h30m)`);
  return Math.round(total);
}

/** 2024-01-01T00:00:00Z: runs start within the year after it, at a seed-derived instant. */
const EPOCH_BASE = Date.UTC(2024, 0, 1);

export function startTimeFor(seed: number): number {
  const r = new Rng(seed, 0x5747);
  return EPOCH_BASE + r.int(0, 364) * 86_400_000 + r.int(0, 86_399_999);
}

export function resolveConfig(input: SimConfigInput = {}): SimConfig {
  const { durationMs, ...file } = input;
  const parsed = SimConfigFile.parse(file);
  const c = defaultConfig();
  if (parsed.seed !== undefined) c.seed = parsed.seed;
  if (durationMs !== undefined) c.durationMs = parseDuration(durationMs);
  if (parsed.duration !== undefined) c.durationMs = parseDuration(parsed.duration);
  if (parsed.startTime !== undefined) {
    c.startTime = typeof parsed.startTime === 'number' ? parsed.startTime : Date.parse(parsed.startTime);
    if (!Number.isFinite(c.startTime)) throw new Error(`invalid startTime ${JSON.stringify(parsed.startTime)}`);
  }
  if (parsed.trafficScale !== undefined) c.trafficScale = parsed.trafficScale;
  Object.assign(c.population, parsed.population ?? {});
  Object.assign(c.marketData, parsed.marketData ?? {});
  if (parsed.settlementIntervalMinutes !== undefined) c.settlementIntervalMinutes = parsed.settlementIntervalMinutes;
  const a = parsed.abuse ?? {};
  if (a.enabled !== undefined) c.abuse.enabled = a.enabled;
  if (a.intensity !== undefined) c.abuse.intensity = a.intensity;
  if (a.warmupMs !== undefined) c.abuse.warmupMs = a.warmupMs;
  if (a.guardMs !== undefined) c.abuse.guardMs = a.guardMs;
  for (const [t, v] of Object.entries(a.typologies ?? {})) {
    const cur = c.abuse.typologies[t as Typology];
    if (!v) continue;
    if (v.intensity !== undefined) cur.intensity = v.intensity;
    if (v.perHour !== undefined) cur.perHour = v.perHour;
    if (v.params) cur.params = { ...cur.params, ...v.params };
  }
  return c;
}
