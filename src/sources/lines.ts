import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';

/** A batch of consecutive lines; `firstLine` is the 1-based number of lines[0]. */
export interface LineBatch {
  firstLine: number;
  lines: string[];
  bytes: number;
}

async function isGzipFile(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** Opens a file (plain or gzip, detected by magic bytes) or stdin for '-'. */
export async function openInput(path: string): Promise<Readable> {
  if (path === '-') return process.stdin;
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  return (await isGzipFile(path)) ? raw.pipe(createGunzip()) : raw;
}

/** Streams lines in batches, without the trailing newline or '\r'. Empty lines are kept (callers skip them). */
export async function* readLines(stream: Readable): AsyncGenerator<LineBatch> {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let lineNo = 1;
  for await (const chunk of stream) {
    const text = carry + (typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer));
    const parts = text.split('\n');
    carry = parts.pop() ?? '';
    if (parts.length === 0) continue;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (p.length > 0 && p.charCodeAt(p.length - 1) === 13) parts[i] = p.slice(0, -1);
    }
    yield { firstLine: lineNo, lines: parts, bytes: (chunk as Buffer).length };
    lineNo += parts.length;
  }
  const rest = carry + decoder.end();
  if (rest.length > 0) yield { firstLine: lineNo, lines: [rest.endsWith('\r') ? rest.slice(0, -1) : rest], bytes: 0 };
}
