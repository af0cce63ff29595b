import { createWriteStream, type WriteStream } from 'node:fs';
import { createGzip } from 'node:zlib';
import type { Writable } from 'node:stream';
import { once } from 'node:events';

/** Buffered NDJSON writer to a file ('.gz' compresses) or stdout ('-'). */
export class NdjsonWriter {
  private buf: string[] = [];
  private size = 0;
  private readonly out: Writable;
  private readonly file?: WriteStream;
  count = 0;

  constructor(path: string, opts: { gzip?: boolean } = {}) {
    if (path === '-') {
      this.out = process.stdout;
    } else {
      this.file = createWriteStream(path);
      if (opts.gzip ?? path.endsWith('.gz')) {
        const gz = createGzip({ level: 6 });
        gz.pipe(this.file);
        this.out = gz;
      } else {
        this.out = this.file;
      }
    }
  }

  write(obj: unknown): void {
    this.writeLine(JSON.stringify(obj));
  }

  writeLine(line: string): void {
    this.buf.push(line);
    this.size += line.length + 1;
    this.count++;
    if (this.size > 1 << 20) this.flushSync();
  }

  /** Hands the buffer to the stream; `drain()` waits for backpressure. */
  flushSync(): boolean {
    if (this.buf.length === 0) return true;
    const ok = this.out.write(this.buf.join('\n') + '\n');
    this.buf = [];
    this.size = 0;
    return ok;
  }

  async drain(): Promise<void> {
    if (!this.flushSync()) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    this.flushSync();
    if (this.out === process.stdout) return;
    this.out.end();
    await once(this.file ?? this.out, 'close');
  }
}
