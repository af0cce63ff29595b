import { DECIMAL_RE } from '../events/decimal.js';
import type { EventOf } from '../events/schema.js';
import type { Decoder, Emit, RecordPosition } from '../pipeline/types.js';

/** Which CSV column holds what; names match the header, case-insensitively. */
export interface CsvColumns {
  time?: string;
  price?: string;
  size?: string;
  side?: string;
  id?: string;
  market?: string;
  delimiter?: string;
}

/** Splits one CSV record (RFC 4180 quoting within a line). */
export function splitCsvLine(line: string, delimiter = ','): string[] {
  if (line.indexOf('"') < 0) return line.split(delimiter);
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else quoted = false;
      } else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Epoch seconds, ms, µs or ns (by magnitude), or an ISO-8601 timestamp -> epoch ms. */
export function parseTimestamp(s: string): number | undefined {
  const t = s.trim();
  if (/^\d+(\.\d+)?$/.test(t)) {
    const v = Number(t);
    if (v < 1e11) return Math.floor(v * 1000); // seconds
    if (v < 1e14) return Math.floor(v); // ms
    if (v < 1e17) return Math.floor(v / 1e3); // µs
    return Math.floor(v / 1e6); // ns
  }
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

function parseSide(s: string): 'buy' | 'sell' | 'unknown' | undefined {
  switch (s.trim().toLowerCase()) {
    case 'buy': case 'b': case 'bid': case '1':
      return 'buy';
    case 'sell': case 's': case 'ask': case '-1':
      return 'sell';
    // Binance data dumps: is_buyer_maker=true means the seller was the aggressor.
    case 'true':
      return 'sell';
    case 'false':
      return 'buy';
    case '': case 'unknown':
      return 'unknown';
    default:
      return undefined;
  }
}

/** CSV trades: the header names the columns; flags map them to canonical trade fields. */
export class CsvTradeDecoder implements Decoder {
  readonly format = 'csv';
  private idx: Record<keyof Omit<CsvColumns, 'delimiter'>, number> | null = null;
  private readonly cols: Required<Pick<CsvColumns, 'time' | 'price' | 'size'>> & CsvColumns;
  private readonly delimiter: string;

  constructor(private readonly opts: { source?: string; market?: string; csv?: CsvColumns } = {}) {
    const c = opts.csv ?? {};
    this.cols = { ...c, time: c.time ?? 'time', price: c.price ?? 'price', size: c.size ?? 'size' };
    this.delimiter = c.delimiter ?? ',';
  }

  decode(line: string, pos: RecordPosition, out: Emit): void {
    if (line.trim() === '') return;
    const fields = splitCsvLine(line, this.delimiter);
    if (!this.idx) {
      this.readHeader(fields, line, pos, out);
      return;
    }
    const ix = this.idx;
    const get = (i: number) => (i >= 0 ? (fields[i] ?? '').trim() : '');
    if (fields.length < 2) return out.reject(`expected ${this.headerWidth} fields, got ${fields.length}`, line, pos, 'trade');
    const ts = parseTimestamp(get(ix.time));
    if (ts === undefined) return out.reject(`column ${this.cols.time}: not a timestamp: "${get(ix.time)}"`, line, pos, 'trade');
    const price = get(ix.price);
    if (!DECIMAL_RE.test(price) || price.startsWith('-') || /^[0.]+$/.test(price)) return out.reject(`column ${this.cols.price}: not a positive decimal: "${price}"`, line, pos, 'trade');
    const size = get(ix.size);
    if (!DECIMAL_RE.test(size) || size.startsWith('-') || /^[0.]+$/.test(size)) return out.reject(`column ${this.cols.size}: not a positive decimal: "${size}"`, line, pos, 'trade');
    const aggressor = ix.side >= 0 ? parseSide(get(ix.side)) : 'unknown';
    if (aggressor === undefined) return out.reject(`column ${this.cols.side}: unknown side "${get(ix.side)}"`, line, pos, 'trade');
    const market = (ix.market >= 0 ? get(ix.market) : '') || this.opts.market || 'CSV';
    const tradeId = ix.id >= 0 && get(ix.id) ? get(ix.id) : `${pos.line}`;
    const e: EventOf<'trade'> = {
      type: 'trade',
      id: `csv:${market}:${tradeId}`,
      ts,
      market,
      tradeId,
      price,
      size,
      aggressor,
    };
    if (this.opts.source) e.source = this.opts.source;
    out.event(e);
  }

  private headerWidth = 0;

  private readHeader(fields: string[], line: string, pos: RecordPosition, out: Emit): void {
    const names = fields.map((f) => f.trim().toLowerCase());
    const find = (name: string | undefined) => (name ? names.indexOf(name.toLowerCase()) : -1);
    const idx = {
      time: find(this.cols.time),
      price: find(this.cols.price),
      size: find(this.cols.size),
      side: find(this.cols.side),
      id: find(this.cols.id),
      market: find(this.cols.market),
    };
    const missing = (['time', 'price', 'size'] as const).filter((k) => idx[k] < 0).map((k) => `${k}="${this.cols[k]}"`);
    for (const k of ['side', 'id', 'market'] as const) if (this.cols[k] && idx[k] < 0) missing.push(`${k}="${this.cols[k]}"`);
    if (missing.length) {
      out.reject(`CSV header lacks mapped column(s) ${missing.join(', ')}; header is: ${names.join(',')}; map columns with --csv-time/--csv-price/--csv-size/--csv-side/--csv-id/--csv-market`, line, pos);
      // Without a usable header, every later row is rejected with the same explanation.
      this.idx = { time: -1, price: -1, size: -1, side: -1, id: -1, market: -1 };
      this.cols.time = `${this.cols.time} (missing)`;
      return;
    }
    this.headerWidth = names.length;
    this.idx = idx;
  }
}
