import type { Typology } from '../../src/events/labels.js';
import { TYPOLOGIES } from '../../src/events/labels.js';
import type { Alert } from '../../src/surveillance/alert.js';
import { finalAlerts } from '../../src/surveillance/alert.js';
import type { ExchangeEvent } from '../../src/events/schema.js';
import { parseEvent, type ExchangeEventInput } from '../../src/events/index.js';
import { BUILTIN_DETECTORS } from '../../src/surveillance/detectors/index.js';
import { SurveillanceEngine } from '../../src/surveillance/engine.js';
import { evaluate, type TypologyMetrics } from '../../src/surveillance/eval.js';
import { AlertCollector } from '../../src/surveillance/run.js';
import type { SimConfigInput } from '../../src/sim/config.js';
import { simulate } from '../../src/sim/simulator.js';

/** A small exchange population for short runs (the default one is sized for hours of traffic). */
export const SMALL_POPULATION = { retail: 1500, savers: 150, borrowers: 60, algos: 30, momentum: 20, signupsPerHour: 20 };

export interface E2eOptions {
  /** Simulator seed. */
  seed: number;
  /** The typology injected and scored. */
  typology: Typology;
  /** Detectors left on (by name); the others are switched off. Default: the built-ins of this typology. */
  detectors?: readonly string[];
  /** Parameters per detector name. */
  params?: Record<string, Record<string, unknown>>;
  /** Simulator config (duration, population, traffic, abuse intensity…). Only `typology` is injected. */
  sim: SimConfigInput;
  /** Also inject these typologies (look-alikes the detector must not confuse). */
  alsoInject?: readonly Typology[];
  /** Eval tolerance (ms), default 60 000. */
  toleranceMs?: number;
}

export interface E2eResult {
  metrics: TypologyMetrics;
  alerts: Alert[];
  labels: number;
}

/**
 * Simulates a seed with only `typology` injected (plus `alsoInject`), runs the engine with only the
 * chosen detectors on, and scores the alerts against the simulator's labels — the same path as
 * `riskloop simulate` → `replay --alerts` → `eval`, in memory.
 */
export async function runDetectorE2e(o: E2eOptions): Promise<E2eResult> {
  const names = o.detectors ?? BUILTIN_DETECTORS.filter((d) => d.typology === o.typology).map((d) => d.name);
  const detectors = Object.fromEntries(BUILTIN_DETECTORS.map((d) => [d.name, names.includes(d.name) ? { enabled: true, ...(o.params?.[d.name] ?? {}) } : { enabled: false }]));
  const col = new AlertCollector();
  const engine = new SurveillanceEngine({ config: { detectors }, sinks: [col] });
  const inject = new Set<string>([o.typology, ...(o.alsoInject ?? [])]);
  const sim = o.sim as { abuse?: { typologies?: Record<string, { intensity?: number }> } & Record<string, unknown> };
  const typologies = Object.fromEntries(TYPOLOGIES.map((t) => [t, { ...(sim.abuse?.typologies?.[t] ?? {}), intensity: inject.has(t) ? (sim.abuse?.typologies?.[t]?.intensity ?? 1) : 0 }]));
  const r = simulate({ seed: o.seed, ...o.sim, abuse: { ...(sim.abuse ?? {}), typologies } } as SimConfigInput, (e) => engine.onEvent(e));
  await engine.finish();
  const rep = evaluate(col.transitions, r.episodes, { toleranceMs: o.toleranceMs });
  const metrics = rep.rows.find((x) => x.typology === o.typology)!;
  return { metrics, alerts: col.transitions, labels: metrics.labels };
}

/** Parses a hand-built event; a bad one fails the test at once. */
export function ev(x: ExchangeEventInput): ExchangeEvent {
  const r = parseEvent(x);
  if (!r.ok) throw new Error(r.reason);
  return r.event;
}

/** Runs hand-built events (in time order) through the engine with only detector `name` on; the final alerts of `typology`. */
export async function runOneDetector(name: string, typology: string, events: ExchangeEvent[], params: Record<string, unknown> = {}): Promise<Alert[]> {
  const off = Object.fromEntries(BUILTIN_DETECTORS.filter((d) => d.name !== name).map((d) => [d.name, { enabled: false }]));
  const col = new AlertCollector();
  const engine = new SurveillanceEngine({ config: { detectors: { ...off, [name]: { enabled: true, ...params } } }, sinks: [col] });
  for (const e of events.sort((a, b) => a.ts - b.ts)) engine.onEvent(e);
  await engine.finish();
  return finalAlerts(col.transitions).filter((a) => a.typology === typology);
}
