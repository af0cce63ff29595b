import type { LabelEpisode } from '../events/labels.js';
import type { ExchangeEvent } from '../events/schema.js';
import { Fanout, replay, type InputSpec, type ProgressInfo } from '../pipeline/replay.js';
import type { Operator } from '../pipeline/types.js';
import { Simulation } from '../sim/simulator.js';
import type { SimConfigInput } from '../sim/config.js';
import type { Alert } from '../surveillance/alert.js';
import { createSurveillance } from '../surveillance/run.js';

/**
 * Where an analysis reads its events from: files (NDJSON/gz or any replay format, through the
 * same replay pipeline as `riskloop replay`), a simulator config (its labels come with it), or
 * events already in memory. Optionally the surveillance engine runs beside, so rules and features
 * can use alerts(...).
 */
export type EventInput = { files: (string | InputSpec)[] } | { sim: SimConfigInput } | { events: Iterable<ExchangeEvent> };

export interface StreamOptions {
  /** Run the surveillance detectors and hand their alerts to `onAlert`. */
  surveillance?: boolean;
  onAlert?: (a: Alert) => void;
  onProgress?: (events: number, info?: InputProgress) => void;
}

/** Simulator inputs report event time; file inputs the bytes read so far. */
export interface InputProgress {
  now?: number;
  start?: number;
  end?: number;
  bytes?: number;
}

export interface StreamResult {
  events: number;
  deadLetters: number;
  firstTs: number | null;
  lastTs: number | null;
  /** Ground truth that came with the input (simulator runs). */
  episodes?: LabelEpisode[];
  /** Every surveillance alert (final states), when surveillance ran. */
  alerts: Alert[];
}

/** Streams an input through the operators (in order), the way replay and live do. */
export async function streamInput(input: EventInput, operators: Operator[], opts: StreamOptions = {}): Promise<StreamResult> {
  let firstTs: number | null = null;
  let lastTs: number | null = null;
  const span: Operator = {
    onEvent(e) {
      if (firstTs === null || e.ts < firstTs) firstTs = e.ts;
      if (lastTs === null || e.ts > lastTs) lastTs = e.ts;
    },
  };
  const alerts = new Map<string, Alert>();
  const ops: Operator[] = [span];
  if (opts.surveillance) {
    const run = await createSurveillance({
      sinks: [
        {
          onAlert(a: Alert) {
            alerts.set(a.id, a);
            opts.onAlert?.(a);
          },
        },
      ],
    });
    ops.push(run.engine);
  }
  ops.push(...operators);
  if ('files' in input) {
    const specs: InputSpec[] = input.files.map((f) => (typeof f === 'string' ? { path: f } : f));
    const p: ProgressInfo = await replay(specs, { operators: ops, onProgress: (x) => opts.onProgress?.(x.events, { bytes: x.bytes }) });
    return { events: p.events, deadLetters: p.deadLetters, firstTs, lastTs, alerts: [...alerts.values()] };
  }
  const out = new Fanout(ops, () => ('sim' in input ? 'sim' : 'memory'));
  out.pos = { source: 'sim' in input ? 'simulator' : 'memory', line: 0 };
  if ('sim' in input) {
    const sim = new Simulation(input.sim, (e) => {
      out.pos.line++;
      out.event(e);
    });
    const chunk = 5 * 60_000;
    for (let t = sim.startTime + chunk; ; t += chunk) {
      const more = sim.step(t);
      opts.onProgress?.(out.events, { now: Math.min(t, sim.endTime), start: sim.startTime, end: sim.endTime });
      if (!more) break;
    }
    await out.finish();
    const r = sim.result();
    return { events: out.events, deadLetters: out.deadLetters, firstTs: r.startTime, lastTs: r.endTime, episodes: r.episodes, alerts: [...alerts.values()] };
  }
  for (const e of input.events) {
    out.pos.line++;
    out.event(e);
  }
  await out.finish();
  return { events: out.events, deadLetters: out.deadLetters, firstTs, lastTs, alerts: [...alerts.values()] };
}

/**
 * The label episodes an analysis scores against: the given ones, else (for a simulator input) the
 * run's own ground truth — the simulator is deterministic, so a quick pass without consumers yields
 * exactly the episodes of the run the analysis streams.
 */
export async function truthFor(input: EventInput, labels?: LabelEpisode[], dispositions?: readonly unknown[]): Promise<LabelEpisode[]> {
  if (labels) return labels;
  if ('sim' in input) return new Simulation(input.sim, () => {}).run().episodes;
  if (dispositions && dispositions.length > 0) return [];
  throw new Error('no ground truth: pass labels (label episodes or case dispositions) or use a simulator input');
}
