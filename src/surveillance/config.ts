import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { Typology } from '../events/labels.js';
import { formatIssues } from '../events/validate.js';
import type { Detector, DetectorDefinition } from './detector.js';

/**
 * Surveillance configuration: a JSON file (comments and trailing commas allowed). Every section is
 * optional; `{}` is a valid config that runs every detector enabled by default with its defaults.
 * See docs/surveillance.md and docs/examples/surveillance.config.json.
 */
const detectorEntry = z
  .object({ enabled: z.boolean().optional().describe('switch the detector on or off') })
  .catchall(z.unknown())
  .describe("the detector's parameters (see its params schema) plus `enabled`");

export const SurveillanceConfig = z
  .object({
    watermark: z
      .object({
        maxOutOfOrderMs: z.number().int().nonnegative().default(250).describe('events may arrive this far (ms) out of event-time order and still be put in order'),
        allowedLatenessMs: z.number().int().nonnegative().default(60_000).describe('later events are processed out of order up to this far behind the watermark; beyond it they become dead letters ("late event")'),
        tickMs: z.number().int().positive().default(100).describe('granularity (ms of event time) of watermark callbacks: episode closing, detector timers, memory sweeps'),
      })
      .strict()
      .prefault({}),
    episodes: z
      .object({
        updateIntervalMs: z.number().int().nonnegative().default(60_000).describe('an open alert that grows without a severity change is re-emitted at most this often'),
        maxEvidenceIds: z.number().int().positive().default(200).describe('order and trade ids kept per alert'),
        maxDurationMs: z.number().int().positive().default(86_400_000).describe('longer episodes are split'),
      })
      .strict()
      .prefault({}),
    state: z
      .object({
        accountIdleMs: z.number().int().positive().default(86_400_000).describe('forget an account after this much event time without activity'),
        maxAccounts: z.number().int().positive().default(1_000_000),
        maxOrdersPerMarket: z.number().int().positive().default(5_000_000),
        takerTtlMs: z.number().int().positive().default(60_000).describe('how long a market order is remembered to attribute its trades'),
        priceHalfLifeMs: z.number().int().positive().default(300_000).describe('half-life of each market’s trade-price EW mean/variance (volatility)'),
        volumeWindowMs: z.number().int().positive().default(60_000).describe('window of each market’s rolling traded notional'),
        l2Books: z.boolean().default(true).describe('maintain L2 books from depth feeds (depth evidence); off: touch from BBO only, much cheaper on full-depth feeds'),
        scales: z.record(z.string(), z.object({ price: z.number().int().min(0).max(15).optional(), size: z.number().int().min(0).max(15).optional() })).default({}).describe('decimal places of L3 prices/sizes per market; inferred when absent'),
      })
      .strict()
      .prefault({}),
    detectors: z.record(z.string(), detectorEntry).default({}).describe('per detector: {"enabled": bool, ...params}'),
    allow: z
      .object({
        accounts: z.array(z.string()).default([]).describe('alerts naming only these accounts are dropped'),
        markets: z.array(z.string()).default([]).describe('alerts naming only these markets are dropped'),
      })
      .strict()
      .prefault({}),
    suppress: z
      .array(
        z
          .object({
            typology: z.union([Typology, z.literal('*')]).optional(),
            account: z.string().optional(),
            market: z.string().optional(),
            from: z.number().int().optional().describe('event time (ms): applies to alerts starting at or after'),
            until: z.number().int().optional().describe('event time (ms): applies to alerts starting before (expiry)'),
            reason: z.string().optional(),
          })
          .strict(),
      )
      .default([]),
    links: z.object({ groups: z.array(z.array(z.string())).default([]).describe('sets of accounts known to be linked') }).strict().prefault({}),
    partition: z.object({ groups: z.record(z.string(), z.string()).default({}).describe('market -> partition key; markets with one key share a worker') }).strict().prefault({}),
    plugins: z.array(z.string()).default([]).describe('extra detector modules (paths relative to the config file); each exports `detectors: DetectorDefinition[]`'),
  })
  .strict();

export type SurveillanceConfig = z.output<typeof SurveillanceConfig>;
export type SurveillanceConfigInput = z.input<typeof SurveillanceConfig>;

/** Strips // and /* *\/ comments and trailing commas outside strings. */
export function stripJsonComments(text: string): string {
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else {
      out += c;
      i++;
    }
  }
  return out.replace(/,(\s*[}\]])/g, '$1');
}

export function parseConfig(value: unknown): SurveillanceConfig {
  const r = SurveillanceConfig.safeParse(value ?? {});
  if (!r.success) throw new Error(`invalid surveillance config: ${formatIssues(r.error)}`);
  return r.data;
}

/** Reads and validates a config file; plugin paths become absolute file URLs. */
export async function loadConfig(path: string): Promise<SurveillanceConfig> {
  const text = await readFile(path, 'utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(stripJsonComments(text));
  } catch (err) {
    throw new Error(`${path}: not valid JSON: ${(err as Error).message}`);
  }
  let cfg: SurveillanceConfig;
  try {
    cfg = parseConfig(raw);
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
  cfg.plugins = cfg.plugins.map((p) => (/^[a-z]+:/i.test(p) ? p : pathToFileURL(isAbsolute(p) ? p : resolve(dirname(path), p)).href));
  return cfg;
}

/** Imports plugin modules; each exports `detectors` (or a default export) as DetectorDefinition[]. */
export async function loadPlugins(urls: readonly string[]): Promise<DetectorDefinition[]> {
  const out: DetectorDefinition[] = [];
  for (const u of urls) {
    const mod = (await import(u)) as { detectors?: DetectorDefinition[]; default?: DetectorDefinition[] | DetectorDefinition };
    const defs = mod.detectors ?? mod.default;
    if (defs === undefined) throw new Error(`plugin ${u} exports no "detectors"`);
    out.push(...(Array.isArray(defs) ? defs : [defs]));
  }
  return out;
}

export interface ResolvedDetector {
  def: DetectorDefinition;
  params: Record<string, unknown>;
  detector: Detector;
}

/** Instantiates the enabled detectors in registry order, validating every detector entry. */
export function resolveDetectors(cfg: SurveillanceConfig, registry: readonly DetectorDefinition[]): ResolvedDetector[] {
  const byName = new Map(registry.map((d) => [d.name, d]));
  for (const name of Object.keys(cfg.detectors)) {
    if (!byName.has(name)) throw new Error(`unknown detector "${name}" in config; known: ${[...byName.keys()].join(', ')}`);
  }
  const out: ResolvedDetector[] = [];
  for (const def of registry) {
    const { enabled, ...rest } = (cfg.detectors[def.name] ?? {}) as { enabled?: boolean } & Record<string, unknown>;
    const shape = def.params.shape as Record<string, unknown>;
    const unknown = Object.keys(rest).filter((k) => !(k in shape));
    if (unknown.length > 0) throw new Error(`detector ${def.name}: unknown parameter(s) ${unknown.join(', ')}; known: ${Object.keys(shape).join(', ')}`);
    const r = def.params.safeParse(rest);
    if (!r.success) throw new Error(`detector ${def.name}: ${formatIssues(r.error)}`);
    if (!(enabled ?? def.enabledByDefault)) continue;
    out.push({ def, params: r.data as Record<string, unknown>, detector: def.create(r.data) });
  }
  return out;
}

/** Every detector's parameters with defaults and descriptions (for docs and `--help`). */
export function detectorParamsJsonSchema(registry: readonly DetectorDefinition[]): Record<string, unknown> {
  return Object.fromEntries(registry.map((d) => [d.name, z.toJSONSchema(d.params, { io: 'input' })]));
}
