import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ExchangeEvent } from '../events/schema.js';
import { createDecoder, sniffFormat, type DecoderOptions } from '../sources/registry.js';
import type { Decoder, Emit, RecordPosition } from './types.js';

/**
 * Decoding in a worker thread, so the engine's thread only turns each batch's JSON text back into
 * events (one JSON.parse per batch) and runs the operators. The events, their order, their
 * positions and the dead letters are the same as decoding on the engine's thread.
 */

export interface InputSpec {
  path: string;
  /** A format name, or 'auto' to sniff it from the first line. */
  format?: string;
  options?: DecoderOptions;
}

/** Dead letters keep this much of the raw record (the fan-out marks the cut). */
export const MAX_RAW = 2048;

export interface DecodeWorkerInit {
  input: InputSpec;
  sourceName: string;
  /** Batches that may wait for the engine at once (bounds memory when the engine is slower). */
  inFlight: number;
}

export interface DecodeBatch {
  kind: 'batch';
  format: string;
  /** The batch's events as one JSON array. */
  json: string;
  /** The line each event came from. */
  lines: number[];
  /** Rejects, each placed before the event with index `at` (or after the last one). */
  dead: { at: number; reason: string; raw: string; source: string; line: number; type: string | undefined }[];
  bytes: number;
  lineCount: number;
}

export type FromDecodeWorker = DecodeBatch | { kind: 'done' } | { kind: 'error'; message: string };

export function sourceNameOf(input: InputSpec): string {
  return input.path === '-' ? 'stdin' : basename(input.path);
}

/** The input's decoder: its named format, or the one sniffed from its first lines. */
export function decoderFor(input: InputSpec, sourceName: string, firstLines: string[]): Decoder {
  let format = input.format ?? 'auto';
  if (format === 'auto') format = sniffFormat(firstLines.slice(0, 20)) ?? 'ndjson';
  return createDecoder(format, { source: sourceName, ...input.options });
}

export function decodeLine(decoder: Decoder, line: string, pos: RecordPosition, out: Emit): void {
  try {
    decoder.decode(line, pos, out);
  } catch (err) {
    // A decoder bug must not kill the stream or lose the record.
    out.reject(`decoder error: ${(err as Error).message}`, line, pos);
  }
}

/** Files at least this large decode in a worker by default (below it, starting a thread costs more than it saves). */
export const WORKER_MIN_BYTES = 4 << 20;

/** Whether `decodeInWorker: 'auto'` picks a worker for this input: a file (not stdin) of WORKER_MIN_BYTES or more. */
export function workerPays(input: InputSpec): boolean {
  if (input.path === '-') return false;
  try {
    return statSync(input.path).size >= WORKER_MIN_BYTES;
  } catch {
    return false; // the reader reports the missing file
  }
}

function workerScript(): URL {
  const here = new URL('./decode-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  // Running from src/ (tests): use the built worker.
  const dist = new URL(here.href.replace(/\/src\/pipeline\/decode-worker\.js$/, '/dist/pipeline/decode-worker.js'));
  if (existsSync(fileURLToPath(dist))) return dist;
  throw new Error(`decode worker script not found at ${fileURLToPath(here)} (run npm run build)`);
}

/** What the replay loop needs from its fan-out: events with the position they came from, and rejects. */
export interface PositionedEmit extends Emit {
  pos: RecordPosition;
}

/**
 * Decodes `input` in a worker thread and feeds its events and dead letters to `out`, in the order
 * the single-thread path would, with the same positions.
 */
export async function decodeInWorker(
  input: InputSpec,
  out: PositionedEmit,
  setFormat: (f: string) => void,
  report: (bytes: number, lines: number) => void,
): Promise<void> {
  const sourceName = sourceNameOf(input);
  const init: DecodeWorkerInit = { input, sourceName, inFlight: 4 };
  const worker = new Worker(workerScript(), { workerData: init });
  const queue: FromDecodeWorker[] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  worker.on('message', (m: FromDecodeWorker) => {
    queue.push(m);
    wake?.();
  });
  worker.on('error', (err) => {
    failure = err;
    wake?.();
  });
  worker.on('exit', (code) => {
    if (code !== 0) failure ??= new Error(`decode worker exited with code ${code}`);
    wake?.();
  });
  const pos: RecordPosition = { source: sourceName, line: 0 };
  out.pos = pos;
  try {
    for (;;) {
      while (queue.length === 0) {
        if (failure) throw failure;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
      const m = queue.shift()!;
      if (m.kind === 'done') break;
      if (m.kind === 'error') throw new Error(`decode worker: ${m.message}`);
      worker.postMessage('ack');
      setFormat(m.format);
      const events = JSON.parse(m.json) as ExchangeEvent[];
      const dead = m.dead;
      let d = 0;
      for (let i = 0; i < events.length; i++) {
        while (d < dead.length && dead[d].at === i) deadLetter(out, dead[d++]);
        pos.line = m.lines[i];
        out.event(events[i]);
      }
      while (d < dead.length) deadLetter(out, dead[d++]);
      report(m.bytes, m.lineCount);
    }
  } finally {
    await worker.terminate();
  }
}

function deadLetter(out: Emit, d: DecodeBatch['dead'][number]): void {
  out.reject(d.reason, d.raw, { source: d.source, line: d.line }, d.type);
}
