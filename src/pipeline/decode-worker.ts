import { parentPort, workerData } from 'node:worker_threads';
import type { ExchangeEvent } from '../events/schema.js';
import { checkOwnedEvent } from '../events/validate.js';
import { openInput, readLines } from '../sources/lines.js';
import type { Emit, RecordPosition } from './types.js';
import { decodeLine, decoderFor, type DecodeBatch, type DecodeWorkerInit, type FromDecodeWorker, MAX_RAW } from './decode-thread.js';

/**
 * Decodes one input off the engine's thread (see decode-thread.ts): reads and decodes lines, and
 * posts batches of validated events as one JSON array text, with each event's line and the dead
 * letters at their place in the order. At most `inFlight` batches wait for the engine at a time.
 */
const init = workerData as DecodeWorkerInit;
const port = parentPort!;
let credits = init.inFlight;
let wake: (() => void) | undefined;
port.on('message', (m: 'ack') => {
  if (m === 'ack') {
    credits++;
    wake?.();
  }
});

class BatchSink implements Emit {
  parts: string[] = [];
  lines: number[] = [];
  dead: DecodeBatch['dead'] = [];
  pos!: RecordPosition;

  event(e: ExchangeEvent): void {
    this.parts.push(JSON.stringify(e));
    this.lines.push(this.pos.line);
  }

  /** An event whose source text is already its exact canonical JSON. */
  rawEvent(text: string): void {
    this.parts.push(text);
    this.lines.push(this.pos.line);
  }

  reject(reason: string, raw: string, pos: RecordPosition, type?: string): void {
    this.dead.push({ at: this.parts.length, reason, raw: raw.length > MAX_RAW ? raw.slice(0, MAX_RAW + 1) : raw, source: pos.source, line: pos.line, type });
  }

  take(format: string, bytes: number, lineCount: number): DecodeBatch {
    const b: DecodeBatch = { kind: 'batch', format, json: `[${this.parts.join(',')}]`, lines: this.lines, dead: this.dead, bytes, lineCount };
    this.parts = [];
    this.lines = [];
    this.dead = [];
    return b;
  }
}

async function send(b: DecodeBatch): Promise<void> {
  while (credits === 0) await new Promise<void>((r) => (wake = r));
  wake = undefined;
  credits--;
  port.postMessage(b satisfies FromDecodeWorker);
}

async function run(): Promise<void> {
  const sink = new BatchSink();
  const pos: RecordPosition = { source: init.sourceName, line: 0 };
  sink.pos = pos;
  let decoder: ReturnType<typeof decoderFor> | undefined;
  let format = 'unknown';
  for await (const batch of readLines(await openInput(init.input.path))) {
    if (!decoder) {
      decoder = decoderFor(init.input, init.sourceName, batch.lines);
      format = decoder.format;
    }
    const ndjson = format === 'ndjson';
    for (let i = 0; i < batch.lines.length; i++) {
      pos.line = batch.firstLine + i;
      const line = batch.lines[i];
      if (ndjson && line.charCodeAt(0) === 123 /* { */) {
        // The canonical format's fast path: a line the validator leaves unchanged is sent as it is.
        let obj: unknown;
        try {
          obj = JSON.parse(line);
        } catch {
          obj = undefined;
        }
        const verdict = obj === undefined ? 0 : checkOwnedEvent(obj);
        if (verdict === 1) {
          sink.rawEvent(line);
          continue;
        }
        if (verdict === 2) {
          sink.event(obj as ExchangeEvent);
          continue;
        }
      }
      decodeLine(decoder, line, pos, sink); // other formats, and the wording of an NDJSON reject
    }
    await send(sink.take(format, batch.bytes, batch.lines.length));
  }
  decoder?.end?.(pos, sink);
  await send(sink.take(format, 0, 0));
  port.postMessage({ kind: 'done' } satisfies FromDecodeWorker);
}

run().catch((err: unknown) => {
  port.postMessage({ kind: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies FromDecodeWorker);
});
