import type { DeadLetter, Operator } from '../pipeline/types.js';
import type { ExchangeEvent } from '../events/schema.js';
import { NdjsonWriter } from './ndjson-writer.js';

/** Writes every dead letter, with its reason and position, as NDJSON. */
export class DeadLetterSink implements Operator {
  private w: NdjsonWriter;
  constructor(path: string) {
    this.w = new NdjsonWriter(path);
  }
  onEvent(_e: ExchangeEvent): void {}
  onDeadLetter(d: DeadLetter): void {
    this.w.write(d);
  }
  async finish(): Promise<void> {
    await this.w.close();
  }
}

/** Writes accepted events as canonical NDJSON. */
export class EventSink implements Operator {
  private w: NdjsonWriter;
  constructor(path: string, opts: { gzip?: boolean } = {}) {
    this.w = new NdjsonWriter(path, opts);
  }
  onEvent(e: ExchangeEvent): void {
    this.w.write(e);
  }
  async finish(): Promise<void> {
    await this.w.close();
  }
}
