import { crc32 } from 'node:zlib';
import { DECIMAL_RE, isZeroDecimal } from '../events/decimal.js';
import type { EventOf } from '../events/schema.js';
import { L2Book, checkLevels, isUnsignedDecimal } from '../market/l2-book.js';
import { RecentIds } from '../pipeline/dedupe.js';
import type { Decoder, Emit, RecordPosition } from '../pipeline/types.js';

/**
 * Raw Bitget v1 public websocket captures (cryptofeed's format): `<unix time>: <json>` for received
 * messages, `<url> <- <time>: <sent>`, `<url> <-> <time>` on connect, `<url> -> <time>: <rest reply>`.
 * Spot (`sp`) and futures (`mc`, `umcbl`/`dmcbl`/`cmcbl`). Books are rebuilt per market and every
 * snapshot and update is checked against the exchange's CRC32 checksum. See docs/formats/bitget.md.
 */

type MarketKind = 'spot' | 'perpetual' | 'future';

interface MarketInfo {
  market: string;
  marketKind: MarketKind;
  /** `bitget:${market}:`, the start of every event id. */
  prefix: string;
  futures: boolean;
}

interface BookState {
  book: L2Book;
  /** True once a snapshot was seen: only then can a checksum be verified. */
  based: boolean;
  statusCount: number;
}

interface Pending {
  text: string;
  recvMs: number;
  error: string;
  lines: { raw: string; pos: RecordPosition }[];
}

interface Ctx {
  info: MarketInfo;
  /** Capture time of the line, ms. */
  recvMs: number;
  action: string;
}

/** Bitget's checksum covers the best 25 levels of each side. */
const CHECKSUM_DEPTH = 25;
const MAX_CONTINUATION_LINES = 64;
const TIME_PREFIX = /^(\d{9,11})(?:\.(\d+))?: /;
const INST_SUFFIX = /^([A-Z0-9]+)_(SPBL|S?[UDC]MCBL)(?:_(\d{6}))?$/i;

class Reject {
  constructor(readonly reason: string, readonly type?: string) {}
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? s.slice(0, 40) + '…' : s;
}

function isPositive(v: unknown): v is string {
  return isUnsignedDecimal(v) && !isZeroDecimal(v);
}

/** Milliseconds from a number or a digit string ("1649290077611"). */
function msOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > 16) return undefined;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return Number(v);
}

/** "1649290077.519788" -> 1649290077519 exactly (no float rounding). */
function captureMs(sec: string, frac: string | undefined): number {
  return Number(sec) * 1000 + Number(((frac ?? '') + '000').slice(0, 3));
}

/**
 * Bitget v1 book checksum: CRC32 of "bid1price:bid1size:ask1price:ask1size:..." over the best 25
 * levels per side (a side with fewer simply stops contributing), using the feed's original strings,
 * read as a signed 32-bit integer.
 */
export function bitgetChecksum(book: L2Book): number {
  const bids = book.top('bid', CHECKSUM_DEPTH);
  const asks = book.top('ask', CHECKSUM_DEPTH);
  const parts: string[] = [];
  for (let i = 0; i < CHECKSUM_DEPTH; i++) {
    if (i < bids.length) parts.push(bids[i][0], bids[i][1]);
    if (i < asks.length) parts.push(asks[i][0], asks[i][1]);
  }
  return crc32(parts.join(':')) | 0;
}

export class BitgetDecoder implements Decoder {
  readonly format = 'bitget';
  /** Lines that carry no market data (connects, sent requests, subscribe acks, pings, REST replies). */
  skipped = 0;
  readonly skippedByKind: Record<string, number> = {};
  /** Records seen twice (same trade, same book message): dropped so ids stay unique. */
  duplicates = 0;
  checksumsVerified = 0;
  checksumMismatches = 0;

  private readonly markets = new Map<string, MarketInfo>();
  private readonly books = new Map<string, BookState>();
  private readonly seen = new RecentIds(1 << 15);
  private pending: Pending | undefined;

  /** The book rebuilt for a canonical market (e.g. EOSUSDT, BTCUSDT-PERP), if any. */
  book(market: string): L2Book | undefined {
    return this.books.get(market)?.book;
  }

  decode(line: string, pos: RecordPosition, out: Emit): void {
    const c0 = line.charCodeAt(0);
    let time: RegExpExecArray | null = null;
    if (c0 >= 48 && c0 <= 57) time = TIME_PREFIX.exec(line);
    if (time === null) {
      if (this.pending !== undefined && !this.isPrefixed(line)) {
        this.continuation(line, pos, out);
        return;
      }
      this.flushPending(out);
      if (line.trim() === '') return;
      this.prefixedOther(line, pos, out);
      return;
    }
    this.flushPending(out);
    this.payload(line.slice(time[0].length), captureMs(time[1], time[2]), line, pos, out);
  }

  end(_pos: RecordPosition, out: Emit): void {
    this.flushPending(out);
  }

  // ------------------------------------------------------------------ line shapes

  private skip(kind: string): void {
    this.skipped++;
    this.skippedByKind[kind] = (this.skippedByKind[kind] ?? 0) + 1;
  }

  private isPrefixed(line: string): boolean {
    return /^(?:wss?|https?):\/\/\S+ (?:<->|<-|->) /.test(line) || line.startsWith('configuration: ');
  }

  /** Lines that are not `<time>: <json>`: connection bookkeeping, our own requests, REST replies. */
  private prefixedOther(line: string, pos: RecordPosition, out: Emit): void {
    const m = /^(?:wss?|https?):\/\/\S+ (<->|<-|->) (\d{9,11}(?:\.\d+)?)(?:$|: )/.exec(line);
    if (m !== null) this.skip(m[1] === '<->' ? 'connect' : m[1] === '<-' ? 'sent' : 'rest');
    else if (line.startsWith('configuration: ')) this.skip('header');
    else out.reject('unrecognised line: expected "<unix time>: <json>" or "<url> <direction> <unix time>"', line, pos);
  }

  private payload(text: string, recvMs: number, raw: string, pos: RecordPosition, out: Emit): void {
    if (text === 'pong' || text === 'ping') {
      this.skip(text);
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch (err) {
      const c = text.charCodeAt(0);
      if (c === 123 || c === 91) {
        // Possibly a message split over several lines: wait for its continuation.
        this.pending = { text, recvMs, error: (err as Error).message, lines: [{ raw, pos: { source: pos.source, line: pos.line } }] };
      } else {
        out.reject(`invalid JSON: ${(err as Error).message}`, raw, pos);
      }
      return;
    }
    const r = this.message(msg, recvMs, pos, out);
    if (r !== undefined) out.reject(r.reason, raw, pos, r.type);
  }

  private continuation(line: string, pos: RecordPosition, out: Emit): void {
    const p = this.pending!;
    p.text += '\n' + line;
    p.lines.push({ raw: line, pos: { source: pos.source, line: pos.line } });
    let msg: unknown;
    try {
      msg = JSON.parse(p.text);
    } catch (err) {
      p.error = (err as Error).message;
      if (p.lines.length >= MAX_CONTINUATION_LINES) this.flushPending(out);
      return;
    }
    this.pending = undefined;
    const first = p.lines[0];
    const r = this.message(msg, p.recvMs, first.pos, out);
    if (r !== undefined) out.reject(r.reason, p.text, first.pos, r.type);
  }

  /** A message that never became valid JSON: each of its lines is rejected, none dropped. */
  private flushPending(out: Emit): void {
    const p = this.pending;
    if (p === undefined) return;
    this.pending = undefined;
    const head = p.lines[0];
    out.reject(`invalid JSON: ${p.error}`, head.raw, head.pos);
    for (let i = 1; i < p.lines.length; i++) {
      out.reject(`continuation of line ${head.pos.line}, which is not valid JSON`, p.lines[i].raw, p.lines[i].pos);
    }
  }

  // ------------------------------------------------------------------ messages

  private message(msg: unknown, recvMs: number, pos: RecordPosition, out: Emit): Reject | undefined {
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return new Reject(`expected a JSON object, got ${show(msg)}`);
    const m = msg as Record<string, unknown>;
    if (m.action === undefined) {
      if (typeof m.event === 'string') this.skip(`event:${m.event}`);
      else if (m.op !== undefined) this.skip('sent');
      else if (m.code !== undefined && m.msg !== undefined) this.skip('error');
      else return new Reject('unrecognised message: no "action", "event" or "op"');
      return undefined;
    }
    const action = m.action;
    if (action !== 'snapshot' && action !== 'update') return new Reject(`field action: expected "snapshot" or "update", got ${show(action)}`);
    const arg = m.arg;
    if (typeof arg !== 'object' || arg === null) return new Reject(`field arg: expected {instType, channel, instId}, got ${show(arg)}`);
    const a = arg as Record<string, unknown>;
    const channel = a.channel;
    if (typeof channel !== 'string') return new Reject(`field arg.channel: expected a channel name, got ${show(channel)}`);
    const type = channel.startsWith('books') ? 'depth' : channel === 'trade' ? 'trade' : channel === 'ticker' ? 'ticker' : channel.startsWith('candle') ? 'candle' : undefined;
    if (type === undefined) return new Reject(`unsupported channel ${show(channel)}`, channel);
    const info = this.market(a.instType, a.instId);
    if (info instanceof Reject) return new Reject(info.reason, type);
    if (!Array.isArray(m.data)) return new Reject(`field data: expected an array, got ${show(m.data)}`, type);
    const ctx: Ctx = { info, recvMs, action };
    switch (type) {
      case 'depth':
        return this.bookMessages(m.data, ctx, out);
      case 'trade':
        return this.trades(m.data, ctx, out);
      case 'ticker':
        return this.tickers(m.data, ctx, out);
      default:
        return this.candles(m.data, channel.slice(6), ctx, out);
    }
  }

  /** instId/instType -> canonical market: EOSUSDT_SPBL -> EOSUSDT, BTCUSDT_UMCBL or mc BTCUSDT -> BTCUSDT-PERP. */
  private market(instType: unknown, instId: unknown): MarketInfo | Reject {
    if (typeof instId !== 'string' || instId.length === 0 || instId.length > 48) return new Reject(`field arg.instId: expected an instrument, got ${show(instId)}`);
    if (typeof instType !== 'string') return new Reject(`field arg.instType: expected sp or mc, got ${show(instType)}`);
    const key = instType + '|' + instId;
    let info = this.markets.get(key);
    if (info !== undefined) return info;
    const t = instType.toLowerCase();
    const sfx = INST_SUFFIX.exec(instId);
    let kind: MarketKind;
    let base: string;
    if (sfx !== null) {
      base = sfx[1].toUpperCase();
      kind = sfx[2].toUpperCase() === 'SPBL' ? 'spot' : sfx[3] !== undefined ? 'future' : 'perpetual';
    } else if (!/^[A-Z0-9]+$/i.test(instId)) {
      return new Reject(`field arg.instId: unrecognised instrument ${show(instId)}`);
    } else if (t === 'sp' || t === 'spbl') {
      base = instId.toUpperCase();
      kind = 'spot';
    } else if (t === 'mc' || t.endsWith('mcbl')) {
      base = instId.toUpperCase();
      kind = 'perpetual';
    } else {
      return new Reject(`field arg.instType: unknown instrument type ${show(instType)}`);
    }
    const market = kind === 'spot' ? base : kind === 'perpetual' ? `${base}-PERP` : `${base}_${sfx![3]}`;
    info = { market, marketKind: kind, prefix: `bitget:${market}:`, futures: kind !== 'spot' };
    this.markets.set(key, info);
    return info;
  }

  private state(market: string): BookState {
    let st = this.books.get(market);
    if (st === undefined) {
      st = { book: new L2Book(), based: false, statusCount: 0 };
      this.books.set(market, st);
    }
    return st;
  }

  private status(out: Emit, info: MarketInfo, st: BookState, reliable: boolean, reason: string, ts: number, tag: string, expected?: number, received?: number): void {
    st.book.setReliable(reliable, reason);
    const e: EventOf<'book.status'> = {
      type: 'book.status',
      id: `${info.prefix}book.status:${++st.statusCount}:${tag}`,
      ts,
      source: 'bitget',
      market: info.market,
      marketKind: info.marketKind,
      status: reliable ? 'reliable' : 'unreliable',
      reason,
    };
    if (expected !== undefined) e.expected = expected;
    if (received !== undefined) e.received = received;
    out.event(e);
  }

  // ------------------------------------------------------------------ channels

  private bookMessages(data: unknown[], ctx: Ctx, out: Emit): Reject | undefined {
    for (let i = 0; i < data.length; i++) {
      const r = this.bookMessage(data[i], ctx, out);
      if (r !== undefined) return data.length === 1 ? r : new Reject(`data[${i}]: ${r.reason}`, r.type);
    }
    return undefined;
  }

  private bookMessage(d: unknown, ctx: Ctx, out: Emit): Reject | undefined {
    if (typeof d !== 'object' || d === null) return new Reject(`data: expected a book object, got ${show(d)}`, 'depth');
    const o = d as Record<string, unknown>;
    const bids = checkLevels(o.bids, 'bids');
    if (typeof bids === 'string') return new Reject(bids, 'depth');
    const asks = checkLevels(o.asks, 'asks');
    if (typeof asks === 'string') return new Reject(asks, 'depth');
    const cs = o.checksum;
    if (cs !== undefined && !(Number.isInteger(cs) && (cs as number) >= -0x80000000 && (cs as number) <= 0x7fffffff)) {
      return new Reject(`field checksum: expected a signed 32-bit integer, got ${show(cs)}`, 'depth');
    }
    const checksum = cs as number | undefined;
    const ts = o.ts === undefined ? ctx.recvMs : msOf(o.ts);
    if (ts === undefined) return new Reject(`field ts: expected milliseconds, got ${show(o.ts)}`, 'depth');
    const { info } = ctx;
    const snapshot = ctx.action === 'snapshot';
    const id = `${info.prefix}depth:${ts}:${checksum ?? (snapshot ? 'snapshot' : 'update')}`;
    if (this.seen.seen(id)) {
      this.duplicates++;
      return undefined;
    }
    const st = this.state(info.market);
    const book = st.book;
    const wasReliable = book.reliable;
    if (snapshot) {
      book.replace(bids, asks);
      st.based = true;
    } else {
      book.apply(bids, asks);
    }
    const e: EventOf<'depth'> = {
      type: 'depth',
      id,
      ts,
      source: 'bitget',
      market: info.market,
      marketKind: info.marketKind,
      snapshot,
      bids,
      asks,
    };
    if (checksum !== undefined) e.checksum = checksum;
    out.event(e);

    if (!st.based) {
      if (st.statusCount === 0) this.status(out, info, st, false, 'update before any snapshot: book is partial and its checksum cannot be verified', ts, 'partial');
      return undefined;
    }
    let ok = true;
    let computed = 0;
    if (checksum !== undefined) {
      computed = bitgetChecksum(book);
      ok = computed === checksum;
      if (ok) this.checksumsVerified++;
      else this.checksumMismatches++;
    }
    if (snapshot) {
      if (ok) this.status(out, info, st, true, checksum !== undefined ? 'snapshot; checksum verified' : 'snapshot (no checksum to verify)', ts, 'snapshot');
      else this.status(out, info, st, false, `checksum mismatch on snapshot: exchange ${checksum}, computed ${computed}; unreliable until the next snapshot`, ts, 'checksum', checksum, computed);
    } else if (!ok && wasReliable) {
      this.status(out, info, st, false, `checksum mismatch: exchange ${checksum}, computed ${computed}; unreliable until the next snapshot`, ts, 'checksum', checksum, computed);
    }
    return undefined;
  }

  /** Trades: [ts, price, size, side] rows (or {ts, price|px, size|sz, side, tradeId}). Snapshots hold recent history. */
  private trades(data: unknown[], ctx: Ctx, out: Emit): Reject | undefined {
    const { info } = ctx;
    // Oldest first, so history from a snapshot comes out in time order.
    const n = data.length;
    const reversed = n > 1 && tradeTime(data[0]) > tradeTime(data[n - 1]);
    const occurrences = new Map<string, number>();
    let bad = 0;
    let first: Reject | undefined;
    for (let k = 0; k < n; k++) {
      const i = reversed ? n - 1 - k : k;
      const t = parseTrade(data[i]);
      if (typeof t === 'string') {
        bad++;
        first ??= new Reject(`data[${i}]: ${t}`, 'trade');
        continue;
      }
      let tradeId = t.tradeId ?? `${t.ts}:${t.price}:${t.size}:${t.side}`;
      if (t.tradeId === undefined) {
        // Identical rows within one message are distinct trades; across messages they are repeats.
        const seen = (occurrences.get(tradeId) ?? 0) + 1;
        occurrences.set(tradeId, seen);
        if (seen > 1) tradeId += `#${seen}`;
      }
      const id = `${info.prefix}trade:${tradeId}`;
      if (this.seen.seen(id)) {
        this.duplicates++;
        continue;
      }
      const e: EventOf<'trade'> = {
        type: 'trade',
        id,
        ts: t.ts,
        source: 'bitget',
        market: info.market,
        marketKind: info.marketKind,
        tradeId,
        price: t.price,
        size: t.size,
        aggressor: t.side,
      };
      out.event(e);
    }
    if (first === undefined) return undefined;
    return bad === 1 ? first : new Reject(`${bad} of ${n} trades rejected; first: ${first.reason}`, 'trade');
  }

  private tickers(data: unknown[], ctx: Ctx, out: Emit): Reject | undefined {
    for (let i = 0; i < data.length; i++) {
      const r = this.ticker(data[i], ctx, out);
      if (r !== undefined) return data.length === 1 ? r : new Reject(`data[${i}]: ${r.reason}`, r.type);
    }
    return undefined;
  }

  private ticker(d: unknown, ctx: Ctx, out: Emit): Reject | undefined {
    if (typeof d !== 'object' || d === null) return new Reject(`data: expected a ticker object, got ${show(d)}`, 'ticker');
    const o = d as Record<string, unknown>;
    const { info } = ctx;
    // Spot tickers carry ts; futures tickers systemTime.
    const raw = o.ts ?? o.systemTime;
    const ts = raw === undefined ? ctx.recvMs : msOf(raw);
    if (ts === undefined) return new Reject(`field ts: expected milliseconds, got ${show(raw)}`, 'ticker');
    if (!isPositive(o.last)) return new Reject(`field last: expected a positive decimal string, got ${show(o.last)}`, 'ticker');
    const e: EventOf<'ticker'> = {
      type: 'ticker',
      id: `${info.prefix}ticker:${ts}`,
      ts,
      source: 'bitget',
      market: info.market,
      marketKind: info.marketKind,
      last: o.last,
    };
    const opt = [
      ['open24h', 'open24h'],
      ['high24h', 'high24h'],
      ['low24h', 'low24h'],
      ['baseVolume', 'baseVolume24h'],
      ['quoteVolume', 'quoteVolume24h'],
      ['bestBid', 'bidPrice'],
      ['bestAsk', 'askPrice'],
    ] as const;
    for (const [from, to] of opt) {
      const v = o[from];
      if (v === undefined || v === '') continue;
      if (!isUnsignedDecimal(v)) return new Reject(`field ${from}: expected a decimal string, got ${show(v)}`, 'ticker');
      e[to] = v;
    }
    // Futures tickers also carry the mark price and funding.
    let mark: EventOf<'mark_price'> | undefined;
    if (o.markPrice !== undefined && o.markPrice !== '' && !isZeroDecimal(String(o.markPrice))) {
      if (!isPositive(o.markPrice)) return new Reject(`field markPrice: expected a positive decimal string, got ${show(o.markPrice)}`, 'mark_price');
      mark = { type: 'mark_price', id: `${info.prefix}mark_price:${ts}`, ts, source: 'bitget', market: info.market, marketKind: info.marketKind, markPrice: o.markPrice };
      if (isPositive(o.indexPrice)) mark.indexPrice = o.indexPrice;
      if (o.capitalRate !== undefined && o.capitalRate !== '') {
        if (typeof o.capitalRate !== 'string' || !DECIMAL_RE.test(o.capitalRate)) return new Reject(`field capitalRate: expected a decimal string, got ${show(o.capitalRate)}`, 'mark_price');
        mark.fundingRate = o.capitalRate;
      }
      const next = msOf(o.nextSettleTime);
      if (next !== undefined && next > 0) mark.nextFundingTime = next;
    }
    if (this.seen.seen(e.id)) {
      this.duplicates++;
      return undefined;
    }
    out.event(e);
    if (mark !== undefined) out.event(mark);
    return undefined;
  }

  /** Candles: [openTime, open, high, low, close, baseVolume, ...]; interval from the channel (candle1m -> 1m). */
  private candles(data: unknown[], interval: string, ctx: Ctx, out: Emit): Reject | undefined {
    const { info } = ctx;
    if (interval === '' || interval.length > 16) return new Reject(`unsupported candle channel "candle${interval}"`, 'candle');
    let bad = 0;
    let first: Reject | undefined;
    for (let i = 0; i < data.length; i++) {
      const c = data[i];
      let err: string | undefined;
      if (!Array.isArray(c) || c.length < 6) err = `expected [openTime, open, high, low, close, volume], got ${show(c)}`;
      else if (msOf(c[0]) === undefined) err = `openTime: expected milliseconds, got ${show(c[0])}`;
      else if (!isPositive(c[1]) || !isPositive(c[2]) || !isPositive(c[3]) || !isPositive(c[4])) err = `open/high/low/close: expected positive decimal strings, got ${show(c.slice(1, 5))}`;
      else if (!isUnsignedDecimal(c[5])) err = `volume: expected a decimal string, got ${show(c[5])}`;
      if (err !== undefined) {
        bad++;
        first ??= new Reject(`data[${i}]: ${err}`, 'candle');
        continue;
      }
      const row = c as string[];
      const openTime = msOf(row[0])!;
      // The revision's content is its identity: the same candle pushed again is a repeat.
      const id = `${info.prefix}candle:${interval}:${openTime}:${row[1]}:${row[2]}:${row[3]}:${row[4]}:${row[5]}`;
      if (this.seen.seen(id)) {
        this.duplicates++;
        continue;
      }
      const e: EventOf<'candle'> = {
        type: 'candle',
        id,
        // No exchange time on a candle push: when it was received.
        ts: ctx.recvMs,
        source: 'bitget',
        market: info.market,
        marketKind: info.marketKind,
        interval,
        openTime,
        open: row[1],
        high: row[2],
        low: row[3],
        close: row[4],
        volume: row[5],
      };
      out.event(e);
    }
    if (first === undefined) return undefined;
    return bad === 1 ? first : new Reject(`${bad} of ${data.length} candles rejected; first: ${first.reason}`, 'candle');
  }
}

interface ParsedTrade {
  ts: number;
  price: string;
  size: string;
  side: 'buy' | 'sell';
  tradeId: string | undefined;
}

function tradeTime(t: unknown): number {
  const v = Array.isArray(t) ? t[0] : typeof t === 'object' && t !== null ? (t as Record<string, unknown>).ts : undefined;
  return msOf(v) ?? 0;
}

function parseTrade(t: unknown): ParsedTrade | string {
  let ts: unknown, price: unknown, size: unknown, side: unknown, tradeId: unknown;
  if (Array.isArray(t)) [ts, price, size, side] = t;
  else if (typeof t === 'object' && t !== null) {
    const o = t as Record<string, unknown>;
    ({ ts, side, tradeId } = o);
    price = o.price ?? o.px;
    size = o.size ?? o.sz;
  } else return `expected [ts, price, size, side], got ${show(t)}`;
  const ms = msOf(ts);
  if (ms === undefined) return `ts: expected milliseconds, got ${show(ts)}`;
  if (!isPositive(price)) return `price: expected a positive decimal string, got ${show(price)}`;
  if (!isPositive(size)) return `size: expected a positive decimal string, got ${show(size)}`;
  if (side !== 'buy' && side !== 'sell') return `side: expected "buy" or "sell", got ${show(side)}`;
  if (tradeId !== undefined && (typeof tradeId !== 'string' || tradeId === '' || tradeId.length > 64)) return `tradeId: expected an id, got ${show(tradeId)}`;
  return { ts: ms, price, size, side, tradeId: tradeId as string | undefined };
}
