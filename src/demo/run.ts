import type { ExchangeEvent } from '../events/schema.js';
import type { LabelEpisode } from '../events/labels.js';
import { Fanout } from '../pipeline/replay.js';
import { SummaryCounter, type ReplaySummary } from '../pipeline/summary.js';
import type { DeadLetter, Operator, RecordPosition } from '../pipeline/types.js';
import { Simulation, type SimResult } from '../sim/simulator.js';
import type { SimConfigInput } from '../sim/config.js';
import { Rng } from '../sim/rng.js';
import { NdjsonDecoder } from '../sources/ndjson.js';

/**
 * A capability that plugs into the demo: it sees every event of the simulated exchange through
 * the real ingestion path, may print live lines as things happen, and contributes a report.
 */
export interface DemoStage {
  readonly name: string;
  readonly operator: Operator;
  /** Called once the simulation ends, with its ground truth. */
  report(ctx: { sim: SimResult; labels: LabelEpisode[] }): Promise<DemoSection> | DemoSection;
}

export interface DemoSection {
  title: string;
  text: string;
  json: unknown;
}

export interface DemoOptions {
  seed: number;
  duration: string;
  /** Share of encoded records the demo corrupts, to show the dead-letter path (0 disables). */
  faultRate?: number;
  stages?: DemoStage[];
  sim?: SimConfigInput;
  onProgress?: (now: number, start: number, end: number, events: number) => void;
  /** Event time simulated per step (ms). */
  chunkMs?: number;
}

export interface DemoReport {
  seed: number;
  duration: string;
  startTime: number;
  endTime: number;
  events: number;
  summary: ReplaySummary;
  episodesByTypology: Record<string, number>;
  episodes: LabelEpisode[];
  injectedFaults: number;
  deadLetters: DeadLetter[];
  sections: DemoSection[];
}

/** Corrupts a record the way real feeds break: truncation, a garbled number, a wrong type, a lost field. */
function corrupt(line: string, rng: Rng): string {
  const broken = garble(line, rng);
  return broken !== line ? broken : line.slice(0, Math.max(1, line.length >> 1));
}

function garble(line: string, rng: Rng): string {
  switch (rng.int(0, 3)) {
    case 0:
      return line.slice(0, Math.max(1, Math.floor(line.length * rng.uniform(0.2, 0.9))));
    case 1:
      return line.replace(/"ts":\d+/, '"ts":"yesterday"');
    case 2:
      return line.replace(/"id":"[^"]*",?/, '');
    default:
      return line.replace(/"(price|size|amount)":"[^"]*"/, '"$1":"1,5"');
  }
}

/**
 * The main job: simulate an exchange, push every event through the canonical ingestion path
 * (encode → decode/validate → operators) and every plugged-in capability, then report.
 */
export async function runDemo(opts: DemoOptions): Promise<DemoReport> {
  const counter = new SummaryCounter();
  const dead: DeadLetter[] = [];
  const deadCollector: Operator = { onEvent() {}, onDeadLetter: (d) => void dead.push(d) };
  const stages = opts.stages ?? [];
  const fanout = new Fanout([counter, deadCollector, ...stages.map((s) => s.operator)], () => 'ndjson');
  const decoder = new NdjsonDecoder();
  const pos: RecordPosition = { source: 'simulator', line: 0 };
  fanout.pos = pos;
  const faultRng = new Rng(opts.seed ^ 0x5eed);
  const faultRate = opts.faultRate ?? 1 / 25_000;
  let faults = 0;

  const sim = new Simulation({ ...opts.sim, seed: opts.seed, duration: opts.duration }, (e: ExchangeEvent) => {
    pos.line++;
    let line = JSON.stringify(e);
    if (faultRate > 0 && faultRng.float() < faultRate) {
      line = corrupt(line, faultRng);
      faults++;
    }
    decoder.decode(line, pos, fanout);
  });
  const chunk = opts.chunkMs ?? 60_000;
  for (let t = sim.startTime + chunk; ; t += chunk) {
    const more = sim.step(t);
    opts.onProgress?.(Math.min(t, sim.endTime), sim.startTime, sim.endTime, pos.line);
    // Let a progress bar and live output breathe between chunks.
    await new Promise((r) => setImmediate(r));
    if (!more) break;
  }
  await fanout.finish();
  const result = sim.result();
  const sections: DemoSection[] = [];
  for (const s of stages) sections.push(await s.report({ sim: result, labels: result.episodes }));
  return {
    seed: opts.seed,
    duration: opts.duration,
    startTime: result.startTime,
    endTime: result.endTime,
    events: result.events,
    summary: counter.summary(),
    episodesByTypology: result.episodesByTypology,
    episodes: result.episodes,
    injectedFaults: faults,
    deadLetters: dead,
    sections,
  };
}
