import type { DeadLetter } from '../pipeline/types.js';
import { formatTable } from '../pipeline/summary.js';
import { NdjsonWriter } from '../sinks/ndjson-writer.js';
import type { Alert, AlertSink } from './alert.js';
import { loadConfig, loadPlugins, parseConfig, type SurveillanceConfig } from './config.js';
import { BUILTIN_DETECTORS } from './detectors/index.js';
import { SurveillanceEngine, type EngineStats } from './engine.js';

/** Writes every alert transition as one NDJSON line ('.gz' compresses, '-' is stdout). */
export class AlertFileSink implements AlertSink {
  private readonly w: NdjsonWriter;
  constructor(path: string) {
    this.w = new NdjsonWriter(path);
  }
  onAlert(a: Alert): void {
    this.w.write(a);
  }
  get count(): number {
    return this.w.count;
  }
  async finish(): Promise<void> {
    await this.w.close();
  }
}

/** Keeps every transition in memory (tests, small runs). */
export class AlertCollector implements AlertSink {
  readonly transitions: Alert[] = [];
  onAlert(a: Alert): void {
    this.transitions.push(a);
  }
}

export interface AlertCounts {
  alerts: number;
  transitions: number;
  byTypology: Record<string, number>;
  bySeverity: Record<string, number>;
  /** hour of detectedAt (UTC, "YYYY-MM-DDTHH") -> typology -> count */
  byHour: Record<string, Record<string, number>>;
}

/** Counts distinct alerts (their "open" transitions) per typology, severity and hour of event time. */
export class AlertCounter implements AlertSink {
  private readonly c: AlertCounts = { alerts: 0, transitions: 0, byTypology: {}, bySeverity: {}, byHour: {} };
  onAlert(a: Alert): void {
    this.c.transitions++;
    if (a.status !== 'open') return;
    this.c.alerts++;
    this.c.byTypology[a.typology] = (this.c.byTypology[a.typology] ?? 0) + 1;
    this.c.bySeverity[a.severity] = (this.c.bySeverity[a.severity] ?? 0) + 1;
    const hour = new Date(a.detectedAt).toISOString().slice(0, 13);
    const row = (this.c.byHour[hour] ??= {});
    row[a.typology] = (row[a.typology] ?? 0) + 1;
  }
  counts(): AlertCounts {
    const sort = <T>(o: Record<string, T>) => Object.fromEntries(Object.entries(o).sort((a, b) => (a[0] < b[0] ? -1 : 1)));
    return { ...this.c, byTypology: sort(this.c.byTypology), bySeverity: sort(this.c.bySeverity), byHour: sort(this.c.byHour) };
  }
}

export interface SurveillanceRunOptions {
  /** Config file (JSON with comments); default: every built-in detector with its defaults. */
  configPath?: string;
  config?: SurveillanceConfig;
  /** Write alert transitions here as NDJSON. */
  alertsPath?: string;
  workers?: number;
  onDeadLetter?: (d: DeadLetter) => void;
  sinks?: AlertSink[];
}

export interface SurveillanceRun {
  engine: SurveillanceEngine;
  counter: AlertCounter;
  file?: AlertFileSink;
}

/** Builds the engine the CLI runs: config, plugins, alert file, counters. */
export async function createSurveillance(opts: SurveillanceRunOptions = {}): Promise<SurveillanceRun> {
  const config = opts.config ?? (opts.configPath !== undefined ? await loadConfig(opts.configPath) : parseConfig({}));
  const registry = [...BUILTIN_DETECTORS, ...(await loadPlugins(config.plugins))];
  const counter = new AlertCounter();
  const file = opts.alertsPath !== undefined ? new AlertFileSink(opts.alertsPath) : undefined;
  const sinks = [counter, ...(file ? [file] : []), ...(opts.sinks ?? [])];
  const engine = new SurveillanceEngine({ config, registry, sinks, workers: opts.workers, onDeadLetter: opts.onDeadLetter });
  return { engine, counter, file };
}

export interface SurveillanceSummary {
  detectors: string[];
  workers: number;
  alerts: AlertCounts;
  engine: EngineStats;
}

export function surveillanceSummary(run: SurveillanceRun): SurveillanceSummary {
  return { detectors: run.engine.detectorNames, workers: run.engine.stats().workers, alerts: run.counter.counts(), engine: run.engine.stats() };
}

/** The alert section of the replay summary: per typology, per hour × typology, and engine health. */
export function formatSurveillanceSummary(s: SurveillanceSummary): string {
  const a = s.alerts;
  const e = s.engine;
  const lines = [
    `surveillance: ${s.detectors.length} detectors (${s.detectors.join(', ')}), ${s.workers} worker${s.workers === 1 ? '' : 's'}; ${a.alerts} alerts (${a.transitions} transitions)` +
      (e.alerts.suppressed ? `, ${e.alerts.suppressed} suppressed` : '') +
      (e.lateEvents || e.lateDeadLetters ? `; late events: ${e.lateEvents} processed late, ${e.lateDeadLetters} dead-lettered` : ''),
  ];
  const errs = Object.entries(e.detectorErrors);
  if (errs.length) lines.push(`detector errors: ${errs.map(([k, v]) => `${k} ${v}`).join(', ')}${e.firstError ? ` (first: ${e.firstError.split('\n')[0]})` : ''}`);
  if (a.alerts > 0) {
    const typs = Object.keys(a.byTypology);
    lines.push('', formatTable(['alerts: typology', 'count'], [...Object.entries(a.byTypology), ['total', a.alerts]]));
    const rows = Object.entries(a.byHour).map(([h, row]) => [`${h}:00Z`, ...typs.map((t) => row[t] ?? 0), Object.values(row).reduce((x, y) => x + y, 0)]);
    lines.push('', formatTable(['alerts: hour (UTC)', ...typs, 'total'], rows));
  }
  return lines.join('\n');
}
