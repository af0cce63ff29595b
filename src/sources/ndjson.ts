import { parseEvent } from '../events/validate.js';
import type { Decoder, Emit, RecordPosition } from '../pipeline/types.js';

/** Canonical NDJSON: one event object per line, validated against the schema. */
export class NdjsonDecoder implements Decoder {
  readonly format = 'ndjson';
  decode(line: string, pos: RecordPosition, out: Emit): void {
    if (line.trim() === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (err) {
      out.reject(`invalid JSON: ${(err as Error).message}`, line, pos);
      return;
    }
    const r = parseEvent(obj);
    if (r.ok) out.event(r.event);
    else out.reject(r.reason, line, pos, r.type);
  }
}
