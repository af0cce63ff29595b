import { acceptOwnedEvent, parseEvent } from '../events/validate.js';
import type { Decoder, Emit, RecordPosition } from '../pipeline/types.js';

/** Canonical NDJSON: one event object per line, validated against the schema. */
export class NdjsonDecoder implements Decoder {
  readonly format = 'ndjson';
  decode(line: string, pos: RecordPosition, out: Emit): void {
    if (line.charCodeAt(0) !== 123 && line.trim() === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (err) {
      out.reject(`invalid JSON: ${(err as Error).message}`, line, pos);
      return;
    }
    // The parsed object is ours alone: validate it in place (no copy). A reject is re-parsed so its
    // reason is worded from the line as it was.
    const ev = acceptOwnedEvent(obj);
    if (ev !== undefined) {
      out.event(ev);
      return;
    }
    const r = parseEvent(JSON.parse(line));
    if (r.ok) out.event(r.event);
    else out.reject(r.reason, line, pos, r.type);
  }
}
