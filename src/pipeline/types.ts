import type { ExchangeEvent } from '../events/schema.js';

/** Where a record sits in its source, so a rejected one can be found again. */
export interface RecordPosition {
  source: string;
  line: number;
}

/** A record that could not become an event. Nothing is dropped silently: it lands here with why. */
export interface DeadLetter {
  source: string;
  line: number;
  format: string;
  reason: string;
  type?: string;
  raw: string;
}

/** Receives what a decoder produces. */
export interface Emit {
  event(e: ExchangeEvent): void;
  reject(reason: string, raw: string, pos: RecordPosition, type?: string): void;
}

/** Turns one raw line into zero or more canonical events; never throws on data. */
export interface Decoder {
  readonly format: string;
  decode(line: string, pos: RecordPosition, out: Emit): void;
  /** End of a source: report anything still pending (e.g. a book left unreliable). */
  end?(pos: RecordPosition, out: Emit): void;
}

/** A stateful stage downstream of decoding (books, detectors, counters, sinks). */
export interface Operator {
  onEvent(e: ExchangeEvent): void;
  onDeadLetter?(d: DeadLetter): void;
  finish?(): void | Promise<void>;
}
