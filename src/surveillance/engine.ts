import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ExchangeEvent } from '../events/schema.js';
import type { DeadLetter, Operator } from '../pipeline/types.js';
import { Watermark, type WatermarkOutput } from '../stream/watermark.js';
import type { Alert, AlertSink } from './alert.js';
import { parseConfig, type SurveillanceConfig, type SurveillanceConfigInput } from './config.js';
import type { AccountLinks, DetectorDefinition } from './detector.js';
import { BUILTIN_DETECTORS } from './detectors/index.js';
import { Partitioner } from './partitioner.js';
import { PartitionRuntime, type RuntimeStats } from './runtime.js';

/**
 * The surveillance engine, a pipeline Operator:
 *
 *   decoded events -> watermark (reorder buffer, late events) -> partition(s):
 *     detectors.onEvent (state before the event) -> books -> order flow -> links -> detectors.afterEvent
 *   -> alert emitter (episodes, allow-lists, suppressions) -> alert sinks
 *
 * With `workers > 1` the watermark runs here and the released stream is split by market across
 * worker threads (stable hash of the market's partition key, see partitioner.ts). Account-level
 * events (no market: logins, transfers, loans, deposits…) are broadcast to every worker so each
 * has the same account-level state; an alert is forwarded by exactly one partition (its first
 * market's, else its first account's). Each worker is handed, with every event, the clock it must
 * advance to first (the event's time, or for a late event the watermark it arrived at), which is
 * exactly what a one-worker run does — so the alerts are identical to a one-worker run.
 *
 * Late events within the allowed lateness are processed out of order (flagged `ctx.late`); later
 * ones become dead letters with reason "late event" (via `onDeadLetter`). Nothing is dropped.
 */
export interface SurveillanceOptions {
  config?: SurveillanceConfig | SurveillanceConfigInput;
  /** Detector definitions available (default: the built-ins). Plugins must be loaded into it; see run.ts. */
  registry?: readonly DetectorDefinition[];
  sinks?: AlertSink[];
  /** Receives "late event" dead letters. */
  onDeadLetter?: (d: DeadLetter) => void;
  /** Worker threads (default 1: in this thread). */
  workers?: number;
  /** Account links for the in-thread runtime (default, and in workers: GraphLinks over the account-level events plus config groups). */
  links?: AccountLinks;
}

export interface EngineStats extends RuntimeStats {
  workers: number;
  lateDeadLetters: number;
  maxReorderBuffered: number;
  forcedReleases: number;
}

export class SurveillanceEngine implements Operator, WatermarkOutput<ExchangeEvent> {
  readonly config: SurveillanceConfig;
  private readonly wm: Watermark<ExchangeEvent>;
  private readonly runtime?: PartitionRuntime;
  private readonly pool?: WorkerPool;
  private readonly sinks: AlertSink[];
  private readonly onDeadLetterFn?: (d: DeadLetter) => void;
  private finished?: EngineStats;
  private readonly expectedDetectors: string[] = [];

  constructor(opts: SurveillanceOptions = {}) {
    this.config = parseConfig(opts.config ?? {});
    this.sinks = opts.sinks ?? [];
    this.onDeadLetterFn = opts.onDeadLetter;
    this.wm = new Watermark<ExchangeEvent>(this, { maxOutOfOrderMs: this.config.watermark.maxOutOfOrderMs, allowedLatenessMs: this.config.watermark.allowedLatenessMs });
    const registry = opts.registry ?? BUILTIN_DETECTORS;
    const workers = Math.max(1, Math.floor(opts.workers ?? 1));
    const sink = (a: Alert) => this.deliver(a);
    if (workers === 1) this.runtime = new PartitionRuntime(this.config, registry, sink, { index: 0, count: 1 }, opts.links);
    else {
      // Validate config and detectors here, so a mistake fails fast rather than inside N workers.
      const probe = new PartitionRuntime(this.config, registry, () => {}, { index: 0, count: workers });
      this.expectedDetectors = probe.detectors.map((d) => d.def.name);
      const builtin = new Set(BUILTIN_DETECTORS);
      if (this.config.plugins.length === 0 && registry.some((d) => !builtin.has(d))) {
        throw new Error('with workers > 1, custom detectors must be loaded as plugins (config "plugins"): worker threads cannot receive detector objects');
      }
      this.pool = new WorkerPool(workers, this.config, sink);
    }
  }

  /** Detector names enabled. */
  get detectorNames(): string[] {
    return this.runtime?.detectors.map((d) => d.def.name) ?? this.pool!.detectorNames;
  }

  onEvent(e: ExchangeEvent): void {
    const ts = e.ts;
    this.wm.push(e, ts);
    if (this.runtime !== undefined) this.runtime.advance(this.wm.current);
  }

  onDeadLetter(): void {}

  // --- watermark outputs
  onRelease(e: ExchangeEvent, ts: number): void {
    this.dispatch(e, ts, false, ts);
  }

  onLate(e: ExchangeEvent, ts: number): void {
    this.dispatch(e, this.wm.current, true, ts);
  }

  onTooLate(e: ExchangeEvent, ts: number, lateness: number): void {
    const d: DeadLetter = {
      source: e.source ?? 'surveillance',
      line: 0,
      format: 'event',
      reason: `late event: ${Number.isFinite(lateness) ? `${lateness} ms behind the watermark` : `unusable event time ${ts}`} (allowed lateness ${this.wm.allowedLatenessMs} ms)`,
      type: e.type,
      raw: JSON.stringify(e),
    };
    this.onDeadLetterFn?.(d);
  }

  private dispatch(e: ExchangeEvent, clock: number, late: boolean, ts: number): void {
    if (this.runtime !== undefined) {
      this.runtime.advance(clock);
      this.runtime.process(e, late, ts);
    } else if (!this.pool!.failed) {
      // A failed worker pool stops taking events; finish() reports the failure (an upstream catch
      // must not turn it into one dead letter per event).
      try {
        this.pool!.route(e, clock, late, this.wm.current);
      } catch {
        /* recorded in pool.error */
      }
    }
  }

  private deliver(a: Alert): void {
    for (const s of this.sinks) s.onAlert(a);
  }

  /** End of input: releases the reorder buffer, closes every episode, waits for workers and sinks. */
  async finish(): Promise<void> {
    if (this.finished) return;
    this.wm.flush();
    const final = Number.isFinite(this.wm.current) ? this.wm.current : 0;
    let stats: RuntimeStats;
    let workers = 1;
    if (this.runtime !== undefined) {
      this.runtime.end(final);
      stats = this.runtime.getStats();
    } else {
      stats = await this.pool!.end(final);
      workers = this.pool!.size;
      const got = this.pool!.detectorNames.join(',');
      if (got !== this.expectedDetectors.join(',')) throw new Error(`worker detectors (${got}) differ from the main thread's (${this.expectedDetectors.join(',')}): load custom detectors as plugins`);
    }
    for (const s of this.sinks) await s.finish?.();
    this.finished = { ...stats, workers, lateDeadLetters: this.wm.tooLate, maxReorderBuffered: this.wm.maxBufferedSeen, forcedReleases: this.wm.forcedReleases };
  }

  /** Engine statistics (complete after finish()). */
  stats(): EngineStats {
    if (this.finished) return this.finished;
    const s = this.runtime?.getStats() ?? emptyStats();
    return { ...s, workers: this.pool?.size ?? 1, lateDeadLetters: this.wm.tooLate, maxReorderBuffered: this.wm.maxBufferedSeen, forcedReleases: this.wm.forcedReleases };
  }
}

function emptyStats(): RuntimeStats {
  return { events: 0, lateEvents: 0, detectorErrors: {}, alerts: { opened: 0, updated: 0, closed: 0, suppressed: 0, suppressedBy: {}, silent: 0 }, openEpisodes: 0, restingOrders: 0, accounts: 0 };
}

export function mergeStats(all: RuntimeStats[]): RuntimeStats {
  const out = emptyStats();
  for (const s of all) {
    out.events += s.events;
    out.lateEvents += s.lateEvents;
    for (const [k, v] of Object.entries(s.detectorErrors)) out.detectorErrors[k] = (out.detectorErrors[k] ?? 0) + v;
    out.firstError ??= s.firstError;
    out.alerts.opened += s.alerts.opened;
    out.alerts.updated += s.alerts.updated;
    out.alerts.closed += s.alerts.closed;
    out.alerts.suppressed += s.alerts.suppressed;
    out.alerts.silent += s.alerts.silent;
    for (const [k, v] of Object.entries(s.alerts.suppressedBy)) out.alerts.suppressedBy[k] = (out.alerts.suppressedBy[k] ?? 0) + v;
    out.openEpisodes += s.openEpisodes;
    out.restingOrders += s.restingOrders;
    out.accounts += s.accounts;
  }
  return out;
}

// ---------------------------------------------------------------- worker pool

/** Messages main -> worker. */
export type ToWorker = { kind: 'batch'; events: ExchangeEvent[]; clocks: number[]; late: number[]; wm: number } | { kind: 'end'; wm: number };
/** Messages worker -> main. */
export type FromWorker = { kind: 'alerts'; alerts: Alert[] } | { kind: 'ready'; detectors: string[] } | { kind: 'done'; stats: RuntimeStats } | { kind: 'error'; message: string };

export interface WorkerInit {
  config: SurveillanceConfig;
  partition: { index: number; count: number };
  plugins: string[];
  progress: SharedArrayBuffer;
}

const BATCH = 2048;
const MAX_IN_FLIGHT = 16;
const STALL_MS = 60_000;

/** The compiled worker script (from dist/ when the engine itself runs from TypeScript sources). */
export function workerScript(): URL {
  const here = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const dist = new URL(here.href.replace(/\/src\/surveillance\/worker\.js$/, '/dist/surveillance/worker.js'));
  if (existsSync(fileURLToPath(dist))) return dist;
  throw new Error(`surveillance worker script not found at ${fileURLToPath(here)} (run npm run build)`);
}

class WorkerPool {
  readonly size: number;
  detectorNames: string[] = [];
  private readonly workers: Worker[] = [];
  private readonly batches: { events: ExchangeEvent[]; clocks: number[]; late: number[] }[] = [];
  private readonly sent: number[] = [];
  private readonly progress: Int32Array;
  private readonly partitioner: Partitioner;
  private readonly done: Promise<RuntimeStats>[] = [];
  error: Error | undefined;
  private sinceFlush = 0;
  private closed = false;

  get failed(): boolean {
    return this.error !== undefined;
  }

  /** Records the first failure and stops every worker (so a failed run cannot hang on them). */
  private fail(err: Error): Error {
    if (this.error === undefined) {
      this.error = err;
      for (const w of this.workers) void w.terminate();
    }
    return this.error;
  }

  constructor(n: number, config: SurveillanceConfig, private readonly sink: (a: Alert) => void) {
    this.size = n;
    this.partitioner = new Partitioner(n, config.partition.groups);
    const buf = new SharedArrayBuffer(4 * n * 2);
    this.progress = new Int32Array(buf);
    const script = workerScript();
    for (let i = 0; i < n; i++) {
      const init: WorkerInit = { config, partition: { index: i, count: n }, plugins: config.plugins, progress: buf };
      const w = new Worker(script, { workerData: init });
      this.workers.push(w);
      this.batches.push({ events: [], clocks: [], late: [] });
      this.sent.push(0);
      this.done.push(
        new Promise<RuntimeStats>((resolve, reject) => {
          w.on('message', (m: FromWorker) => {
            if (m.kind === 'alerts') for (const a of m.alerts) this.sink(a);
            else if (m.kind === 'ready') this.detectorNames = m.detectors;
            else if (m.kind === 'done') resolve(m.stats);
            else if (m.kind === 'error') reject(this.fail(new Error(`surveillance worker ${i}: ${m.message}`)));
          });
          w.on('error', (err) => reject(this.fail(err)));
          w.on('exit', (code) => {
            if (!this.closed) reject(this.fail(new Error(`surveillance worker ${i} exited (code ${code}) before finishing`)));
          });
        }),
      );
      this.done[i].catch(() => {});
    }
  }

  route(e: ExchangeEvent, clock: number, late: boolean, wm: number): void {
    const m = (e as { market?: unknown }).market;
    if (typeof m === 'string') this.push(this.partitioner.ofMarket(m), e, clock, late, wm);
    else for (let i = 0; i < this.size; i++) this.push(i, e, clock, late, wm);
    if (++this.sinceFlush >= BATCH * this.size * 4) {
      // keep every worker's watermark moving even if its markets are quiet
      this.sinceFlush = 0;
      for (let i = 0; i < this.size; i++) this.flush(i, wm);
    }
  }

  private push(i: number, e: ExchangeEvent, clock: number, late: boolean, wm: number): void {
    const b = this.batches[i];
    b.events.push(e);
    b.clocks.push(clock);
    b.late.push(late ? 1 : 0);
    if (b.events.length >= BATCH) this.flush(i, wm);
  }

  private flush(i: number, wm: number): void {
    if (this.error) throw this.error;
    const b = this.batches[i];
    // Bound memory: wait (blocking, event time does not move) while a worker is too far behind.
    const started = Date.now();
    while (this.sent[i] - Atomics.load(this.progress, i) >= MAX_IN_FLIGHT) {
      Atomics.wait(this.progress, i, Atomics.load(this.progress, i), 50);
      if (Atomics.load(this.progress, this.size + i) !== 0) throw this.fail(new Error(`surveillance worker ${i} failed`));
      if (Date.now() - started > STALL_MS) throw this.fail(new Error(`surveillance worker ${i} made no progress for ${STALL_MS / 1000} s`));
    }
    const msg: ToWorker = { kind: 'batch', events: b.events, clocks: b.clocks, late: b.late, wm };
    this.workers[i].postMessage(msg);
    this.sent[i]++;
    this.batches[i] = { events: [], clocks: [], late: [] };
  }

  async end(wm: number): Promise<RuntimeStats> {
    try {
      if (this.error) throw this.error;
      for (let i = 0; i < this.size; i++) {
        this.flush(i, wm);
        this.workers[i].postMessage({ kind: 'end', wm } satisfies ToWorker);
      }
      const stats = await Promise.all(this.done);
      this.closed = true;
      return mergeStats(stats);
    } finally {
      this.closed = true;
      await Promise.all(this.workers.map((w) => w.terminate()));
    }
  }
}
