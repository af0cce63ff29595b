import { basename } from 'node:path';
import type { ExchangeEvent } from '../events/schema.js';
import { openInput, readLines } from '../sources/lines.js';
import { createDecoder, sniffFormat, type DecoderOptions } from '../sources/registry.js';
import type { DeadLetter, Decoder, Emit, Operator, RecordPosition } from './types.js';
import { RecentIds } from './dedupe.js';

export interface InputSpec {
  path: string;
  /** A format name, or 'auto' to sniff it from the first line. */
  format?: string;
  options?: DecoderOptions;
}

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
    const d: DeadLetter = { source: pos.source, line: pos.line, format: this.format(), reason, raw: raw.length > 2048 ? raw.slice(0, 2048) + '…' : raw };
    if (type !== undefined) d.type = type;
    for (const op of this.operators) op.onDeadLetter?.(d);
  }
}

/**
 * The pipeline: source -> decode/validate -> stages (partitioning, stateful operators, sinks).
 * Replay and live share this path; a live feed is just another line source.
 */
export async function replay(inputs: InputSpec[], opts: ReplayOptions): Promise<ProgressInfo> {
  let currentFormat = 'unknown';
  const out = new Fanout(opts.operators, () => currentFormat, opts.dedupeWindow);
  const progress: ProgressInfo = { bytes: 0, lines: 0, events: 0, deadLetters: 0 };
  for (const input of inputs) {
    const sourceName = input.path === '-' ? 'stdin' : basename(input.path);
    const stream = await openInput(input.path);
    let decoder: Decoder | undefined;
    const pos: RecordPosition = { source: sourceName, line: 0 };
    out.pos = pos;
    for await (const batch of readLines(stream)) {
      if (!decoder) {
        let format = input.format ?? 'auto';
        if (format === 'auto') {
          format = sniffFormat(batch.lines.slice(0, 20)) ?? 'ndjson';
        }
        decoder = createDecoder(format, { source: sourceName, ...input.options });
        currentFormat = decoder.format;
      }
      for (let i = 0; i < batch.lines.length; i++) {
        pos.line = batch.firstLine + i;
        try {
          decoder.decode(batch.lines[i], pos, out);
        } catch (err) {
          // A decoder bug must not kill the stream or lose the record.
          out.reject(`decoder error: ${(err as Error).message}`, batch.lines[i], pos);
        }
      }
      progress.bytes += batch.bytes;
      progress.lines += batch.lines.length;
      progress.events = out.events;
      progress.deadLetters = out.deadLetters;
      opts.onProgress?.(progress);
    }
    decoder?.end?.(pos, out);
  }
  progress.events = out.events;
  progress.deadLetters = out.deadLetters;
  await out.finish();
  return progress;
}
