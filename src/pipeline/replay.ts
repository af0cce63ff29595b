import type { ExchangeEvent } from '../events/schema.js';
import { openInput, readLines, type LineBatch } from '../sources/lines.js';
import type { DeadLetter, Decoder, Emit, Operator, RecordPosition } from './types.js';
import { RecentIds } from './dedupe.js';
import { decodeInWorker, decodeLine, decoderFor, MAX_RAW, sourceNameOf, workerPays, type InputSpec } from './decode-thread.js';

export type { InputSpec } from './decode-thread.js';

export interface ProgressInfo {
  bytes: number;
  lines: number;
  events: number;
  deadLetters: number;
}

export interface ReplayOptions {
  /** Stages every event and dead letter passes through, in order. */
  operators: Operator[];
  onProgress?: (p: ProgressInfo) => void;
  /** Drop events whose id was seen among the last N (default 1,000,000; 0 disables). Each drop is a dead letter. */
  dedupeWindow?: number;
  /**
   * Decode a single input in a worker thread, so decoding and the operators run on two cores
   * (same events, order, positions and dead letters). Off by default: on the 2-core machine this
   * was measured on it cost 2.5× the CPU and was slower in wall time (a cold worker isolate, and
   * serialising every event), see docs/events.md. 'auto' uses it for files of 4 MiB or more.
   * Several inputs (a merge) and stdin always decode on this thread.
   */
  decodeInWorker?: boolean | 'auto';
}

/** Fans events and dead letters out to the operators. Operators never see a throw from each other. */
export class Fanout implements Emit {
  events = 0;
  deadLetters = 0;
  /** Set by the pipeline before each record, so a duplicate can say where it was. */
  pos: RecordPosition = { source: '', line: 0 };
  private readonly recent: RecentIds | null;
  constructor(private readonly operators: Operator[], private readonly format: () => string, dedupeWindow = 1_000_000) {
    this.recent = dedupeWindow > 0 ? new RecentIds(dedupeWindow) : null;
  }

  event(e: ExchangeEvent): void {
    if (this.recent && this.recent.seen(e.id)) {
      this.reject(`duplicate event id ${e.id}`, JSON.stringify(e), this.pos, e.type);
      return;
    }
    this.events++;
    const ops = this.operators;
    for (let i = 0; i < ops.length; i++) ops[i].onEvent(e);
  }

  /** Lets every operator flush (sinks close files, detectors close open episodes). */
  async finish(): Promise<void> {
    for (const op of this.operators) await op.finish?.();
  }

  reject(reason: string, raw: string, pos: RecordPosition, type?: string): void {
    this.deadLetters++;
    const d: DeadLetter = { source: pos.source, line: pos.line, format: this.format(), reason, raw: raw.length > MAX_RAW ? raw.slice(0, MAX_RAW) + '…' : raw };
    if (type !== undefined) d.type = type;
    for (const op of this.operators) op.onDeadLetter?.(d);
  }
}

/**
 * The pipeline: source -> decode/validate -> stages (partitioning, stateful operators, sinks).
 * Replay and live share this path; a live feed is just another line source. One input streams
 * straight through; several inputs are merged by event time (see mergeInputs).
 */
export async function replay(inputs: InputSpec[], opts: ReplayOptions): Promise<ProgressInfo> {
  let currentFormat = 'unknown';
  const out = new Fanout(opts.operators, () => currentFormat, opts.dedupeWindow);
  const progress: ProgressInfo = { bytes: 0, lines: 0, events: 0, deadLetters: 0 };
  const report = (bytes: number, lines: number) => {
    progress.bytes += bytes;
    progress.lines += lines;
    progress.events = out.events;
    progress.deadLetters = out.deadLetters;
    opts.onProgress?.(progress);
  };
  const worker = inputs.length === 1 && inputs[0].path !== '-' && (opts.decodeInWorker === true || (opts.decodeInWorker === 'auto' && workerPays(inputs[0])));
  if (inputs.length > 1) await mergeInputs(inputs, out, (f) => (currentFormat = f), report);
  else if (worker) await decodeInWorker(inputs[0], out, (f) => (currentFormat = f), report);
  else
    for (const input of inputs) {
      const sourceName = sourceNameOf(input);
      const stream = await openInput(input.path);
      let decoder: Decoder | undefined;
      const pos: RecordPosition = { source: sourceName, line: 0 };
      out.pos = pos;
      for await (const batch of readLines(stream)) {
        if (!decoder) {
          decoder = decoderFor(input, sourceName, batch.lines);
          currentFormat = decoder.format;
        }
        for (let i = 0; i < batch.lines.length; i++) {
          pos.line = batch.firstLine + i;
          decodeLine(decoder, batch.lines[i], pos, out);
        }
        report(batch.bytes, batch.lines.length);
      }
      decoder?.end?.(pos, out);
    }
  progress.events = out.events;
  progress.deadLetters = out.deadLetters;
  await out.finish();
  return progress;
}

/**
 * One input of a merge: its own line reader, decoder and positions. It decodes a batch of lines at
 * a time into a queue of events (each with its line); rejects go straight to the fan-out with this
 * source's position and format.
 */
class MergeSource implements Emit {
  readonly name: string;
  decoder: Decoder | undefined;
  /** Decoded events not yet released, and the line each came from. */
  events: ExchangeEvent[] = [];
  lines: number[] = [];
  head = 0;
  done = false;
  /** Position of the line being decoded. */
  readonly pos: RecordPosition;
  /** Position of the event being released (a duplicate's dead letter points here). */
  readonly releasePos: RecordPosition;
  private batches: AsyncGenerator<LineBatch> | undefined;

  constructor(
    readonly input: InputSpec,
    readonly index: number,
    private readonly out: Fanout,
  ) {
    this.name = sourceNameOf(input);
    this.pos = { source: this.name, line: 0 };
    this.releasePos = { source: this.name, line: 0 };
  }

  get format(): string {
    return this.decoder?.format ?? 'unknown';
  }

  /** Event time of the next event to release. */
  get headTs(): number {
    return this.events[this.head].ts;
  }

  event(e: ExchangeEvent): void {
    this.events.push(e);
    this.lines.push(this.pos.line);
  }

  reject(reason: string, raw: string, pos: RecordPosition, type?: string): void {
    this.out.reject(reason, raw, pos, type);
  }

  /**
   * Decodes batches until at least one event is queued or the source ends. `setFormat` names this
   * source's format for the dead letters raised meanwhile.
   */
  async fill(setFormat: (f: string) => void, report: (bytes: number, lines: number) => void): Promise<void> {
    this.events = [];
    this.lines = [];
    this.head = 0;
    this.batches ??= readLines(await openInput(this.input.path));
    while (this.events.length === 0 && !this.done) {
      const next = await this.batches.next();
      if (next.done) {
        this.done = true;
        if (this.decoder?.end) {
          setFormat(this.decoder.format);
          this.decoder.end(this.pos, this);
        }
        break;
      }
      const batch = next.value;
      this.decoder ??= decoderFor(this.input, this.name, batch.lines);
      setFormat(this.decoder.format);
      for (let i = 0; i < batch.lines.length; i++) {
        this.pos.line = batch.firstLine + i;
        decodeLine(this.decoder, batch.lines[i], this.pos, this);
      }
      report(batch.bytes, batch.lines.length);
    }
  }
}

/** Orders sources by the time of their next event, then by their place on the command line. */
function before(a: MergeSource, b: MergeSource): boolean {
  const ta = a.headTs;
  const tb = b.headTs;
  return ta < tb || (ta === tb && a.index < b.index);
}

/**
 * k-way merge of several inputs by event time: a binary heap of sources keyed by their next
 * event's time (ties go to the earlier input), so the operators see what a stable time sort of
 * the inputs would give when each input is in time order, without reading any input ahead by
 * more than a batch. An input that is not in time order is merged as it comes (never reordered
 * within itself).
 */
async function mergeInputs(inputs: InputSpec[], out: Fanout, setFormat: (f: string) => void, report: (bytes: number, lines: number) => void): Promise<void> {
  const heap: MergeSource[] = [];
  for (let i = 0; i < inputs.length; i++) {
    const s = new MergeSource(inputs[i], i, out);
    await s.fill(setFormat, report);
    if (s.events.length > 0) heapPush(heap, s);
  }
  while (heap.length > 0) {
    const s = heap[0];
    const i = s.head++;
    s.releasePos.line = s.lines[i];
    out.pos = s.releasePos;
    setFormat(s.format);
    out.event(s.events[i]);
    if (s.head === s.events.length) {
      await s.fill(setFormat, report);
      if (s.events.length === 0) {
        const last = heap.pop()!;
        if (last !== s) {
          heap[0] = last;
          siftDown(heap, 0);
        }
        continue;
      }
    }
    siftDown(heap, 0);
  }
}

function heapPush(heap: MergeSource[], s: MergeSource): void {
  let i = heap.push(s) - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!before(heap[i], heap[p])) break;
    [heap[i], heap[p]] = [heap[p], heap[i]];
    i = p;
  }
}

function siftDown(heap: MergeSource[], i: number): void {
  const n = heap.length;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) return;
    const c = l + 1 < n && before(heap[l + 1], heap[l]) ? l + 1 : l;
    if (!before(heap[c], heap[i])) return;
    [heap[i], heap[c]] = [heap[c], heap[i]];
    i = c;
  }
}
