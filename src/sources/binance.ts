import { DECIMAL_RE, isZeroDecimal } from '../events/decimal.js';
import type { EventOf } from '../events/schema.js';
import { L2Book, checkLevels as levels, isUnsignedDecimal, type PriceLevel } from '../market/l2-book.js';
import { RecentIds } from '../pipeline/dedupe.js';
import type { Decoder, Emit, RecordPosition } from '../pipeline/types.js';

/**
 * Raw Binance websocket captures: `<local receive ns> <json>` or bare json lines, with or without the
 * `{stream, data}` combined-stream envelope. Spot, USDⓈ-M and COIN-M futures. Canonical events are
 * built by hand (no zod on the hot path); every price and size string is passed through unchanged.
 * See docs/formats/binance.md.
 */

export type BinanceVenue = 'spot' | 'usdm' | 'coinm';
type MarketKind = 'spot' | 'perpetual' | 'future';
type Levels = PriceLevel[];

interface MarketInfo {
  symbol: string;
  venue: BinanceVenue;
  market: string;
  marketKind: MarketKind;
  source: string;
  /** `${source}:${market}:`, the start of every event id. */
  prefix: string;
  futures: boolean;
  state: BookState | undefined;
}

interface Diff {
  U: number;
  u: number;
  pu: number | undefined;
  bids: Levels;
  asks: Levels;
  ts: number;
}

/**
 * Repeat detection for ids that normally arrive increasing (trade ids, book update ids): a new
 * maximum costs O(1); anything else is looked up in the window of recent ids (binary search) and a
 * small set of late arrivals. Ids older than the window are taken as new, like any bounded dedupe.
 */
class IncreasingIds {
  private static readonly SIZE = 4096;
  private readonly ring = new Float64Array(IncreasingIds.SIZE);
  private n = 0;
  private max = -1;
  private readonly late = new Set<number>();

  seen(id: number): boolean {
    const size = IncreasingIds.SIZE;
    if (id > this.max) {
      this.max = id;
      this.ring[this.n++ % size] = id;
      return false;
    }
    const count = Math.min(this.n, size);
    const first = this.n - count;
    let lo = first;
    let hi = this.n - 1;
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2);
      const v = this.ring[mid % size];
      if (v === id) return true;
      if (v < id) lo = mid + 1;
      else hi = mid - 1;
    }
    if (this.late.has(id)) return true;
    if (this.late.size >= size) this.late.clear();
    this.late.add(id);
    return false;
  }
}

/**
 * The capture clock's offset to the exchange's: the largest `E - receive time` over the last
 * WINDOW_MS of receive time (a monotonic deque, O(1) amortised). Network delay only makes E - receive
 * smaller, so the largest recent value is the least-delayed message's, the best view of the offset;
 * a window follows drift. Messages without exchange time (spot book tickers) get receive time + this,
 * which lands them within the 100 ms depth batch that holds their update id (test/binance.test.ts).
 */
class ClockOffset {
  static readonly WINDOW_MS = 10_000;
  private readonly at: number[] = [];
  private readonly off: number[] = [];
  private head = 0;
  /** Last estimate, kept when the window empties (the offset barely moves between messages). */
  private last: number | undefined;

  observe(recvMs: number, exchangeMs: number): void {
    const o = exchangeMs - recvMs;
    const at = this.at;
    const off = this.off;
    while (off.length > this.head && off[off.length - 1] <= o) {
      off.pop();
      at.pop();
    }
    at.push(recvMs);
    off.push(o);
    while (at[this.head] < recvMs - ClockOffset.WINDOW_MS) this.head++;
    if (this.head > 1024) {
      at.splice(0, this.head);
      off.splice(0, this.head);
      this.head = 0;
    }
    this.last = off[this.head];
  }

  /** Exchange time for a receive time, or the receive time itself before any exchange time was seen. */
  exchangeTime(recvMs: number): number {
    return this.last === undefined ? recvMs : recvMs + this.last;
  }
}

interface BookState {
  info: MarketInfo;
  book: L2Book;
  /** Recent diffs, to fold into a snapshot that arrives after them (Binance's documented sync). */
  recent: Diff[];
  /** Diffs folded into the book since the last snapshot (0 = none yet, so the straddle rule applies). */
  sinceSnapshot: number;
  statusCount: number;
  lastTs: number;
  bboIds: IncreasingIds;
  tradeIds: IncreasingIds;
  aggTradeIds: IncreasingIds;
}

interface PendingSnapshot {
  L: number;
  bids: Levels;
  asks: Levels;
  ts: number;
  futures: boolean;
  raw: string;
  pos: RecordPosition;
}

const RECENT_WHILE_WAITING = 1000;
const RECENT_WHEN_SYNCED = 64;
const PARTIAL_DEPTH_STREAM = /@depth(5|10|20)(@|$)/;
const DELIVERY = /_\d{6}$/;

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isPositive(v: unknown): v is string {
  return isUnsignedDecimal(v) && !isZeroDecimal(v);
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? s.slice(0, 40) + '…' : s;
}

const NO_TIME = -1;

/** The receive time in ms from the first `end` characters (nanoseconds), or NO_TIME if not all digits. */
function receiveMs(line: string, end: number): number {
  let ms = 0;
  for (let i = 0; i < end; i++) {
    const c = line.charCodeAt(i);
    if (c < 48 || c > 57) return NO_TIME;
    if (i < end - 6) ms = ms * 10 + (c - 48); // dropping the last six digits is floor(ns / 1e6)
  }
  return ms;
}

/** The fields of the common messages, as the fast scanner fills them; absent fields stay undefined. */
class Msg {
  e: unknown = undefined;
  E: unknown = undefined;
  T: unknown = undefined;
  s: unknown = undefined;
  t: unknown = undefined;
  p: unknown = undefined;
  q: unknown = undefined;
  m: unknown = undefined;
  M: unknown = undefined;
  X: unknown = undefined;
  u: unknown = undefined;
  U: unknown = undefined;
  pu: unknown = undefined;
  b: unknown = undefined;
  a: unknown = undefined;
  B: unknown = undefined;
  A: unknown = undefined;
  f: unknown = undefined;
  l: unknown = undefined;

  reset(): void {
    this.e = this.E = this.T = this.s = this.t = this.p = this.q = this.m = this.M = this.X = undefined;
    this.u = this.U = this.pu = this.b = this.a = this.B = this.A = this.f = this.l = undefined;
  }
}

const STREAM_PREFIX = '{"stream":"';
const DATA_KEY = ',"data":{';

/**
 * A strict scanner for the common, flat Binance messages (trade, aggTrade, bookTicker, depthUpdate):
 * compact JSON, known keys only, strings without escapes or control characters, integers, booleans,
 * [["price","size"], ...] with plain decimals. It never accepts what JSON.parse would refuse: anything
 * outside that subset returns undefined and the caller falls back to JSON.parse.
 */
class FastScanner {
  stream: string | undefined;
  private v: unknown;
  private readonly m = new Msg();
  /** Last values of the stream name, e, s and X: they repeat line after line, so reuse the strings. */
  private readonly last = ['', '', '', ''];

  /** Scans j from index `from` (past the receive-time prefix, so the line need not be sliced). */
  scan(j: string, from: number): Msg | undefined {
    // One record, reused: handlers read it synchronously and keep only the values.
    const m = this.m;
    m.reset();
    this.stream = undefined;
    let i = from;
    if (j.startsWith(STREAM_PREFIX, from)) {
      i = this.repeated(j, from + STREAM_PREFIX.length - 1, 0);
      if (i < 0 || !j.startsWith(DATA_KEY, i)) return undefined;
      this.stream = this.v as string;
      i = this.obj(j, i + DATA_KEY.length - 1, m);
      return i > 0 && j.charCodeAt(i) === 125 /* } */ && i + 1 === j.length ? m : undefined;
    }
    i = this.obj(j, from, m);
    return i === j.length ? m : undefined;
  }

  /** {"k":v,...} into m; the index after it, or -1. */
  private obj(j: string, i: number, m: Msg): number {
    if (j.charCodeAt(i) !== 123 /* { */) return -1;
    if (j.charCodeAt(++i) === 125) return i + 1;
    for (;;) {
      // Keys are one letter, or "pu".
      if (j.charCodeAt(i) !== 34) return -1;
      const k = j.charCodeAt(i + 1);
      let pu = false;
      if (j.charCodeAt(i + 2) === 34) i += 3;
      else if (k === 112 && j.charCodeAt(i + 2) === 117 && j.charCodeAt(i + 3) === 34) {
        pu = true;
        i += 4;
      } else return -1;
      if (j.charCodeAt(i) !== 58 /* : */) return -1;
      const slot = pu ? 0 : k === 101 ? 1 : k === 115 ? 2 : k === 88 ? 3 : 0;
      i = slot !== 0 && j.charCodeAt(i + 1) === 34 ? this.repeated(j, i + 1, slot) : this.value(j, i + 1);
      if (i < 0) return -1;
      const v = this.v;
      if (pu) m.pu = v;
      else {
        switch (k) {
          case 101: m.e = v; break; // e
          case 69: m.E = v; break; // E
          case 84: m.T = v; break; // T
          case 115: m.s = v; break; // s
          case 116: m.t = v; break; // t
          case 112: m.p = v; break; // p
          case 113: m.q = v; break; // q
          case 109: m.m = v; break; // m
          case 77: m.M = v; break; // M
          case 88: m.X = v; break; // X
          case 117: m.u = v; break; // u
          case 85: m.U = v; break; // U
          case 98: m.b = v; break; // b
          case 97: m.a = v; break; // a
          case 66: m.B = v; break; // B
          case 65: m.A = v; break; // A
          case 102: m.f = v; break; // f
          case 108: m.l = v; break; // l
          default: return -1;
        }
      }
      const d = j.charCodeAt(i++);
      if (d === 125 /* } */) return i;
      if (d !== 44 /* , */) return -1;
    }
  }

  private value(j: string, i: number): number {
    const c = j.charCodeAt(i);
    if (c === 34 /* " */) return this.str(j, i);
    if (c === 91 /* [ */) return this.levels(j, i);
    if ((c >= 48 && c <= 57) || c === 45) return this.int(j, i);
    const word = c === 116 ? 'true' : c === 102 ? 'false' : c === 110 ? 'null' : '';
    if (word === '' || !j.startsWith(word, i)) return -1;
    this.v = c === 116 ? true : c === 102 ? false : null;
    return i + word.length;
  }

  /** A string like str(), reusing the previous value of the same slot when the text is the same. */
  private repeated(j: string, i: number, slot: number): number {
    const prev = this.last[slot];
    if (prev.length > 0 && j.charCodeAt(i + 1 + prev.length) === 34 && j.startsWith(prev, i + 1)) {
      this.v = prev;
      return i + 2 + prev.length;
    }
    const end = this.str(j, i);
    if (end > 0) this.last[slot] = this.v as string;
    return end;
  }

  /** A string without escapes or control characters, from its opening quote. */
  private str(j: string, i: number): number {
    const start = i + 1;
    for (let k = start; k < j.length; k++) {
      const c = j.charCodeAt(k);
      if (c === 34) {
        this.v = j.slice(start, k);
        return k + 1;
      }
      if (c === 92 || c < 32) return -1;
    }
    return -1;
  }

  /** A JSON integer (no fraction or exponent: Binance sends decimals as strings). */
  private int(j: string, i: number): number {
    const start = i;
    const neg = j.charCodeAt(i) === 45;
    if (neg) i++;
    const first = i;
    let v = 0;
    let c = j.charCodeAt(i);
    while (c >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      c = j.charCodeAt(++i);
    }
    if (i === first || (j.charCodeAt(first) === 48 && i - first > 1) || c === 46 || c === 101 || c === 69) return -1;
    // Exact up to 15 digits; longer ones are rounded the way JSON.parse rounds them.
    this.v = i - first > 15 ? Number(j.slice(start, i)) : neg ? -v : v;
    return i;
  }

  /** [] or [["p","q"],...] with plain decimal strings (anything else: let JSON.parse judge). */
  private levels(j: string, i: number): number {
    const out: PriceLevel[] = [];
    this.v = out;
    if (j.charCodeAt(++i) === 93 /* ] */) return i + 1;
    for (;;) {
      if (j.charCodeAt(i) !== 91 || j.charCodeAt(i + 1) !== 34) return -1;
      const p0 = i + 2;
      const p1 = decimalEnd(j, p0);
      if (p1 < 0 || j.charCodeAt(p1 + 1) !== 44 || j.charCodeAt(p1 + 2) !== 34) return -1;
      const q0 = p1 + 3;
      const q1 = decimalEnd(j, q0);
      if (q1 < 0 || j.charCodeAt(q1 + 1) !== 93) return -1;
      out.push([j.slice(p0, p1), j.slice(q0, q1)]);
      const d = j.charCodeAt(q1 + 2);
      i = q1 + 3;
      if (d === 93) return i;
      if (d !== 44) return -1;
    }
  }
}

/** Index of the closing quote of an unsigned decimal starting at i ("0", "12.50"), or -1. */
function decimalEnd(j: string, i: number): number {
  let c = j.charCodeAt(i);
  if (c < 48 || c > 57) return -1;
  do c = j.charCodeAt(++i);
  while (c >= 48 && c <= 57);
  if (c === 46) {
    c = j.charCodeAt(++i);
    if (c < 48 || c > 57) return -1;
    do c = j.charCodeAt(++i);
    while (c >= 48 && c <= 57);
  }
  return c === 34 ? i : -1;
}

class Reject {
  constructor(readonly reason: string, readonly type?: string) {}
}

export interface BinanceDecoderOptions {
  /** Forces the venue instead of detecting it from the payloads. */
  venue?: BinanceVenue;
  /** Binance symbol (e.g. BTCUSDT) for depth snapshots that carry none, when a capture holds several. */
  market?: string;
  /**
   * Keep each market's full L2 book between snapshots, for book() (default true). Without it the
   * events are the same (sequence checks need only update ids, and a snapshot is reconciled in a
   * scratch book): replay passes false, since the engine keeps its own books from these events.
   */
  books?: boolean;
}

export class BinanceDecoder implements Decoder {
  readonly format = 'binance';
  /** Control frames (subscription acks) that carry no data. */
  skipped = 0;
  /** Records delivered twice (a trade id, book-ticker update id, snapshot or other message seen before). */
  duplicates = 0;
  /** Diffs already contained in the book (u at or below its last update id), not re-emitted. */
  staleDiffs = 0;
  /** Snapshots older than a reliable book that the buffered diffs no longer reach: not emitted. */
  staleSnapshots = 0;
  /** Sequence gaps found in depth diffs, over all markets. */
  gaps = 0;

  private readonly venueOption: BinanceVenue | undefined;
  private readonly marketOption: string | undefined;
  private readonly infos: Record<BinanceVenue, Map<string, MarketInfo>> = { spot: new Map(), usdm: new Map(), coinm: new Map() };
  private readonly venueBySymbol = new Map<string, BinanceVenue>();
  private fileVenue: BinanceVenue | undefined;
  private readonly books: BookState[] = [];
  /** Recent ids of the rarer messages (mark price, klines, tickers, liquidations, snapshots), to drop repeats. */
  private readonly ids = new RecentIds(1 << 16);
  private pending: PendingSnapshot | undefined;
  private readonly scanner = new FastScanner();
  /** Set while handling a scanner-read message: its level rows are already validated decimals. */
  private trusted = false;
  private lastSymbol = '';
  private lastInfo: MarketInfo | undefined;
  private readonly clock = new ClockOffset();
  private readonly keepBooks: boolean;

  constructor(opts: BinanceDecoderOptions = {}) {
    const v = opts.venue;
    if (v !== undefined && v !== 'spot' && v !== 'usdm' && v !== 'coinm') {
      throw new Error(`binance: unknown venue "${String(v)}" (expected spot, usdm or coinm)`);
    }
    this.venueOption = v;
    this.marketOption = typeof opts.market === 'string' && opts.market !== '' ? opts.market.replace(/-PERP$/, '') : undefined;
    this.keepBooks = opts.books !== false;
  }

  /** The book the decoder rebuilt for a canonical market (e.g. BTCUSDT-PERP), if any (none with `books: false`). */
  book(market: string): L2Book | undefined {
    if (!this.keepBooks) return undefined;
    for (const st of this.books) if (st.info.market === market) return st.book;
    return undefined;
  }

  decode(line: string, pos: RecordPosition, out: Emit): void {
    let from = 0;
    let recvMs = NO_TIME;
    const c0 = line.charCodeAt(0);
    if (c0 >= 48 && c0 <= 57) {
      const sp = line.indexOf(' ');
      recvMs = sp > 0 ? receiveMs(line, sp) : NO_TIME;
      if (recvMs === NO_TIME) {
        out.reject('expected "<local receive ns> <json>"', line, pos);
        return;
      }
      from = sp + 1;
    } else if (c0 !== 123 /* { */ && c0 !== 91 /* [ */) {
      if (line.trim() !== '') out.reject('expected "<local receive ns> <json>" or a JSON line', line, pos);
      return;
    }
    const fast = this.scanner.scan(line, from);
    if (fast !== undefined) {
      if (recvMs !== NO_TIME && isInt(fast.E)) this.clock.observe(recvMs, fast.E);
      this.trusted = true;
      const r = this.one(fast as unknown as Record<string, unknown>, this.scanner.stream, recvMs, line, pos, out);
      this.trusted = false;
      if (r !== undefined) out.reject(r.reason, line, pos, r.type);
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(from === 0 ? line : line.slice(from));
    } catch (err) {
      out.reject(`invalid JSON: ${(err as Error).message}`, line, pos);
      return;
    }
    if (typeof msg !== 'object' || msg === null) {
      out.reject(`expected a JSON object, got ${show(msg)}`, line, pos);
      return;
    }
    let data: unknown = msg;
    let stream: string | undefined;
    const m = msg as Record<string, unknown>;
    if (typeof m.stream === 'string' && 'data' in m) {
      stream = m.stream;
      data = m.data;
    } else if ('result' in m && 'id' in m) {
      this.skipped++; // subscription ack
      return;
    }
    if (recvMs !== NO_TIME && typeof data === 'object' && data !== null && isInt((data as Record<string, unknown>).E)) {
      this.clock.observe(recvMs, (data as Record<string, unknown>).E as number);
    }
    const r = Array.isArray(data) ? this.each(data, stream, recvMs, line, pos, out) : this.one(data, stream, recvMs, line, pos, out);
    if (r !== undefined) out.reject(r.reason, line, pos, r.type);
  }

  end(_pos: RecordPosition, out: Emit): void {
    if (this.pending !== undefined) {
      const p = this.pending;
      this.pending = undefined;
      out.reject('depth snapshot without a symbol and no depth stream to attach it to (pass --market)', p.raw, p.pos, 'depth');
    }
    for (const st of this.books) {
      if (st.book.lastUpdateId !== undefined && !st.book.reliable) {
        const reason = `stream ended with the book unreliable: ${st.book.reason}`;
        this.status(out, st, false, reason, st.lastTs, 'end');
      }
    }
  }

  // ------------------------------------------------------------------ dispatch

  /** Array payloads (e.g. !markPrice@arr): good elements become events, bad ones one reject for the line. */
  private each(arr: unknown[], stream: string | undefined, recvMs: number, raw: string, pos: RecordPosition, out: Emit): Reject | undefined {
    let bad = 0;
    let first: Reject | undefined;
    for (let i = 0; i < arr.length; i++) {
      const d = arr[i];
      const e = typeof d === 'object' && d !== null ? (d as Record<string, unknown>).e : undefined;
      // Book messages only make sense one per line, in sequence.
      const book = e === 'depthUpdate' || e === 'bookTicker' || (e === undefined && typeof d === 'object' && d !== null && !Array.isArray(d));
      const r = book ? new Reject(`array payloads of ${show(e ?? 'book data')} are not supported`) : this.one(d, stream, recvMs, raw, pos, out);
      if (r !== undefined) {
        bad++;
        first ??= new Reject(`element ${i}: ${r.reason}`, r.type);
      }
    }
    if (first === undefined) return undefined;
    return bad === 1 ? first : new Reject(`${bad} of ${arr.length} elements rejected; first: ${first.reason}`, first.type);
  }

  private one(d: unknown, stream: string | undefined, recvMs: number, raw: string, pos: RecordPosition, out: Emit): Reject | undefined {
    if (typeof d !== 'object' || d === null || Array.isArray(d)) return new Reject(`data: expected an object, got ${show(d)}`);
    const o = d as Record<string, unknown>;
    switch (o.e) {
      case 'trade':
      case 'aggTrade':
        return this.trade(o, out);
      case 'bookTicker':
        return this.bbo(o, recvMs, out);
      case 'depthUpdate':
        if (stream !== undefined && PARTIAL_DEPTH_STREAM.test(stream)) return this.snapshot(o, stream, recvMs, raw, pos, out);
        return this.diff(o, recvMs, out);
      case 'markPriceUpdate':
        return this.markPrice(o, out);
      case 'forceOrder':
        return this.liquidation(o, out);
      case 'kline':
        return this.kline(o, out);
      case '24hrTicker':
      case '24hrMiniTicker':
        return this.ticker(o, out);
      case undefined:
        if (o.lastUpdateId !== undefined) return this.snapshot(o, stream, recvMs, raw, pos, out);
        if (o.u !== undefined && o.b !== undefined && o.a !== undefined) return this.bbo(o, recvMs, out);
        if (o.code !== undefined && o.msg !== undefined) return new Reject(`exchange error frame: ${show(o.code)} ${show(o.msg)}`);
        return new Reject('unrecognised message: no event type "e" and not a book ticker or depth snapshot');
      default:
        return new Reject(`unsupported event type ${show(o.e)}${stream !== undefined ? ` on stream "${stream}"` : ''}`, String(o.e));
    }
  }

  // ------------------------------------------------------------------ markets

  /** Venue from the symbol's shape, else from payload evidence, else what this symbol or file showed before. */
  private info(symbol: string, evidence: BinanceVenue | undefined): MarketInfo {
    // Most messages repeat the previous one's market.
    const last = this.lastInfo;
    if (last !== undefined && symbol === this.lastSymbol && (evidence === undefined || evidence === last.venue || (evidence === 'usdm' && last.venue === 'coinm'))) return last;
    const info = this.resolve(symbol, evidence);
    this.lastSymbol = symbol;
    this.lastInfo = info;
    return info;
  }

  private resolve(symbol: string, evidence: BinanceVenue | undefined): MarketInfo {
    let venue = this.venueOption;
    if (venue === undefined) {
      const us = symbol.indexOf('_');
      if (us > 0) venue = symbol.endsWith('USD', us) ? 'coinm' : 'usdm';
      else venue = evidence ?? this.venueBySymbol.get(symbol) ?? this.fileVenue ?? 'spot';
      if (evidence !== undefined) {
        this.venueBySymbol.set(symbol, venue);
        this.fileVenue ??= venue;
      }
    }
    let info = this.infos[venue].get(symbol);
    if (info === undefined) {
      let market = symbol;
      let kind: MarketKind = 'spot';
      if (venue === 'usdm') {
        if (DELIVERY.test(symbol)) kind = 'future';
        else {
          kind = 'perpetual';
          market = symbol.endsWith('_PERP') ? symbol : `${symbol}-PERP`;
        }
      } else if (venue === 'coinm') {
        kind = symbol.endsWith('_PERP') ? 'perpetual' : 'future';
      }
      const source = `binance-${venue}`;
      info = { symbol, venue, market, marketKind: kind, source, prefix: `${source}:${market}:`, futures: venue !== 'spot', state: undefined };
      this.infos[venue].set(symbol, info);
    }
    return info;
  }

  private symbolOf(o: Record<string, unknown>, type: string): string | Reject {
    const s = o.s;
    if (typeof s !== 'string' || s.length === 0 || s.length > 60) return new Reject(`field s: expected a symbol, got ${show(s)}`, type);
    return s;
  }

  /** ts: T, else E, else the local receive time moved onto the exchange's clock. */
  private timeOf(o: Record<string, unknown>, recvMs: number, type: string): number | Reject {
    const T = o.T;
    if (T !== undefined) return isInt(T) ? T : new Reject(`field T: expected integer milliseconds, got ${show(T)}`, type);
    return this.eventTime(o, recvMs, type);
  }

  /** ts: E, else the local receive time moved onto the exchange's clock (for payloads whose T means something else). */
  private eventTime(o: Record<string, unknown>, recvMs: number, type: string): number | Reject {
    const E = o.E;
    if (E !== undefined) return isInt(E) ? E : new Reject(`field E: expected integer milliseconds, got ${show(E)}`, type);
    if (recvMs !== NO_TIME) return this.clock.exchangeTime(recvMs);
    return new Reject('no event time (E or T) and no local receive time', type);
  }

  // ------------------------------------------------------------------ trades

  private trade(o: Record<string, unknown>, out: Emit): Reject | undefined {
    const agg = o.e === 'aggTrade';
    const sym = this.symbolOf(o, 'trade');
    if (sym instanceof Reject) return sym;
    const t = agg ? o.a : o.t;
    if (!isInt(t)) return new Reject(`field ${agg ? 'a' : 't'}: expected a trade id, got ${show(t)}`, 'trade');
    const p = o.p;
    if (!isPositive(p)) return new Reject(`field p: expected a positive decimal string, got ${show(p)}`, 'trade');
    const q = o.q;
    if (!isPositive(q)) return new Reject(`field q: expected a positive decimal string, got ${show(q)}`, 'trade');
    if (typeof o.m !== 'boolean') return new Reject(`field m: expected true or false, got ${show(o.m)}`, 'trade');
    const ts = this.timeOf(o, NO_TIME, 'trade');
    if (ts instanceof Reject) return ts;
    // Spot trades carry M (and no X); futures trades carry X (and no M).
    const evidence: BinanceVenue | undefined = o.X !== undefined ? 'usdm' : o.M !== undefined ? 'spot' : undefined;
    const info = this.info(sym, evidence);
    const st = this.state(info);
    if ((agg ? st.aggTradeIds : st.tradeIds).seen(t)) {
      this.duplicates++;
      return undefined;
    }
    const tradeId = agg ? `agg:${t}` : String(t);
    const id = `${info.prefix}trade:${tradeId}`;
    const e: EventOf<'trade'> = {
      type: 'trade',
      id,
      ts,
      seq: t,
      source: info.source,
      market: info.market,
      marketKind: info.marketKind,
      tradeId,
      price: p,
      size: q,
      aggressor: o.m ? 'sell' : 'buy',
    };
    out.event(e);
    return undefined;
  }

  private liquidation(o: Record<string, unknown>, out: Emit): Reject | undefined {
    const ord = o.o;
    if (typeof ord !== 'object' || ord === null) return new Reject(`field o: expected the liquidation order, got ${show(ord)}`, 'liquidation');
    const x = ord as Record<string, unknown>;
    const sym = this.symbolOf(x, 'liquidation');
    if (sym instanceof Reject) return sym;
    const S = x.S;
    if (S !== 'BUY' && S !== 'SELL') return new Reject(`field o.S: expected BUY or SELL, got ${show(S)}`, 'liquidation');
    // Average fill price and filled quantity when there are fills, else the order's price and quantity.
    const price = isPositive(x.ap) ? x.ap : x.p;
    if (!isPositive(price)) return new Reject(`field o.p: expected a positive decimal string, got ${show(x.p)}`, 'liquidation');
    const size = isPositive(x.z) ? x.z : x.q;
    if (!isPositive(size)) return new Reject(`field o.q: expected a positive decimal string, got ${show(x.q)}`, 'liquidation');
    // The order's trade time, else the event time.
    const ts = isInt(x.T) ? x.T : this.eventTime(o, NO_TIME, 'liquidation');
    if (ts instanceof Reject) return ts;
    const info = this.info(sym, sym.includes('_') ? undefined : 'usdm');
    const id = `${info.prefix}liquidation:${ts}:${S}:${price}:${size}`;
    if (this.ids.seen(id)) {
      this.duplicates++;
      return undefined;
    }
    const e: EventOf<'liquidation'> = {
      type: 'liquidation',
      id,
      ts,
      source: info.source,
      market: info.market,
      marketKind: info.marketKind,
      side: S === 'BUY' ? 'buy' : 'sell',
      price,
      size,
    };
    out.event(e);
    return undefined;
  }

  // ------------------------------------------------------------------ prices

  /** Emits unless the id was seen recently (the same message delivered twice). */
  private emitOnce(out: Emit, e: EventOf<'mark_price' | 'candle' | 'ticker'>): void {
    if (this.ids.seen(e.id)) this.duplicates++;
    else out.event(e);
  }

  private markPrice(o: Record<string, unknown>, out: Emit): Reject | undefined {
    const sym = this.symbolOf(o, 'mark_price');
    if (sym instanceof Reject) return sym;
    const p = o.p;
    if (!isPositive(p)) return new Reject(`field p: expected a positive decimal string, got ${show(p)}`, 'mark_price');
    const ts = this.eventTime(o, NO_TIME, 'mark_price');
    if (ts instanceof Reject) return ts;
    const info = this.info(sym, sym.includes('_') ? undefined : 'usdm');
    const e: EventOf<'mark_price'> = {
      type: 'mark_price',
      id: `${info.prefix}mark_price:${ts}`,
      ts,
      source: info.source,
      market: info.market,
      marketKind: info.marketKind,
      markPrice: p,
    };
    if (o.i !== undefined && o.i !== '') {
      if (!isUnsignedDecimal(o.i)) return new Reject(`field i: expected a decimal string, got ${show(o.i)}`, 'mark_price');
      if (!isZeroDecimal(o.i)) e.indexPrice = o.i;
    }
    // Delivery contracts send r "" and T 0: no funding.
    if (o.r !== undefined && o.r !== '') {
      if (typeof o.r !== 'string' || !DECIMAL_RE.test(o.r)) return new Reject(`field r: expected a decimal string, got ${show(o.r)}`, 'mark_price');
      e.fundingRate = o.r;
    }
    if (o.T !== undefined) {
      if (!isInt(o.T)) return new Reject(`field T: expected integer milliseconds, got ${show(o.T)}`, 'mark_price');
      if (o.T > 0) e.nextFundingTime = o.T;
    }
    this.emitOnce(out, e);
    return undefined;
  }

  private kline(o: Record<string, unknown>, out: Emit): Reject | undefined {
    const sym = this.symbolOf(o, 'candle');
    if (sym instanceof Reject) return sym;
    const k = o.k;
    if (typeof k !== 'object' || k === null) return new Reject(`field k: expected the kline, got ${show(k)}`, 'candle');
    const c = k as Record<string, unknown>;
    if (typeof c.i !== 'string' || c.i.length === 0 || c.i.length > 16) return new Reject(`field k.i: expected an interval, got ${show(c.i)}`, 'candle');
    if (!isInt(c.t)) return new Reject(`field k.t: expected integer milliseconds, got ${show(c.t)}`, 'candle');
    for (const f of ['o', 'h', 'l', 'c'] as const) {
      if (!isPositive(c[f])) return new Reject(`field k.${f}: expected a positive decimal string, got ${show(c[f])}`, 'candle');
    }
    if (!isUnsignedDecimal(c.v)) return new Reject(`field k.v: expected a decimal string, got ${show(c.v)}`, 'candle');
    const ts = this.eventTime(o, NO_TIME, 'candle');
    if (ts instanceof Reject) return ts;
    const info = this.info(sym, undefined);
    const e: EventOf<'candle'> = {
      type: 'candle',
      id: `${info.prefix}candle:${c.i}:${c.t}:${ts}`,
      ts,
      source: info.source,
      market: info.market,
      marketKind: info.marketKind,
      interval: c.i,
      openTime: c.t,
      open: c.o as string,
      high: c.h as string,
      low: c.l as string,
      close: c.c as string,
      volume: c.v,
    };
    this.emitOnce(out, e);
    return undefined;
  }

  private ticker(o: Record<string, unknown>, out: Emit): Reject | undefined {
    const sym = this.symbolOf(o, 'ticker');
    if (sym instanceof Reject) return sym;
    if (!isPositive(o.c)) return new Reject(`field c: expected a positive decimal string, got ${show(o.c)}`, 'ticker');
    const ts = this.eventTime(o, NO_TIME, 'ticker');
    if (ts instanceof Reject) return ts;
    // Only spot's full ticker carries the previous close x and the best bid/ask.
    const info = this.info(sym, o.e === '24hrTicker' ? (o.x !== undefined ? 'spot' : 'usdm') : undefined);
    const e: EventOf<'ticker'> = {
      type: 'ticker',
      id: `${info.prefix}ticker:${ts}`,
      ts,
      source: info.source,
      market: info.market,
      marketKind: info.marketKind,
      last: o.c,
    };
    const opt = [
      ['o', 'open24h'],
      ['h', 'high24h'],
      ['l', 'low24h'],
      ['v', 'baseVolume24h'],
      ['q', 'quoteVolume24h'],
      ['b', 'bidPrice'],
      ['a', 'askPrice'],
    ] as const;
    for (const [f, to] of opt) {
      const v = o[f];
      if (v === undefined) continue;
      if (!isUnsignedDecimal(v)) return new Reject(`field ${f}: expected a decimal string, got ${show(v)}`, 'ticker');
      e[to] = v;
    }
    this.emitOnce(out, e);
    return undefined;
  }

  // ------------------------------------------------------------------ book

  private bbo(o: Record<string, unknown>, recvMs: number, out: Emit): Reject | undefined {
    const sym = this.symbolOf(o, 'bbo');
    if (sym instanceof Reject) return sym;
    const u = o.u;
    if (!isInt(u)) return new Reject(`field u: expected an update id, got ${show(u)}`, 'bbo');
    if (!isUnsignedDecimal(o.b)) return new Reject(`field b: expected a decimal string, got ${show(o.b)}`, 'bbo');
    if (!isUnsignedDecimal(o.B)) return new Reject(`field B: expected a decimal string, got ${show(o.B)}`, 'bbo');
    if (!isUnsignedDecimal(o.a)) return new Reject(`field a: expected a decimal string, got ${show(o.a)}`, 'bbo');
    if (!isUnsignedDecimal(o.A)) return new Reject(`field A: expected a decimal string, got ${show(o.A)}`, 'bbo');
    const ts = this.timeOf(o, recvMs, 'bbo');
    if (ts instanceof Reject) return ts;
    // Futures book tickers carry "e"; spot's do not.
    const info = this.info(sym, o.e === 'bookTicker' ? 'usdm' : 'spot');
    // One update id is one book state: seeing it again is the same message delivered twice.
    if (this.state(info).bboIds.seen(u)) {
      this.duplicates++;
      return undefined;
    }
    const id = `${info.prefix}bbo:${u}`;
    const e: EventOf<'bbo'> = {
      type: 'bbo',
      id,
      ts,
      seq: u,
      source: info.source,
      market: info.market,
      marketKind: info.marketKind,
      bidPrice: o.b as string,
      bidSize: o.B as string,
      askPrice: o.a as string,
      askSize: o.A as string,
      updateId: u,
    };
    out.event(e);
    return undefined;
  }

  private state(info: MarketInfo): BookState {
    let st = info.state;
    if (st === undefined) {
      st = {
        info,
        book: new L2Book(),
        recent: [],
        sinceSnapshot: 0,
        statusCount: 0,
        lastTs: 0,
        bboIds: new IncreasingIds(),
        tradeIds: new IncreasingIds(),
        aggTradeIds: new IncreasingIds(),
      };
      info.state = st;
      this.books.push(st);
    }
    return st;
  }

  private status(out: Emit, st: BookState, reliable: boolean, reason: string, ts: number, tag: string, expected?: number, received?: number): void {
    st.book.setReliable(reliable, reason);
    const info = st.info;
    const e: EventOf<'book.status'> = {
      type: 'book.status',
      id: `${info.prefix}book.status:${++st.statusCount}:${tag}`,
      ts,
      source: info.source,
      market: info.market,
      marketKind: info.marketKind,
      status: reliable ? 'reliable' : 'unreliable',
      reason,
    };
    if (expected !== undefined) e.expected = expected;
    if (received !== undefined) e.received = received;
    out.event(e);
  }

  /**
   * Sequence rules (Binance docs): spot diffs chain by U = previous u + 1 (an overlap is fine);
   * futures diffs by pu = previous u. Right after a snapshot with id L the first diff must straddle it:
   * spot U <= L + 1 <= u, futures U <= L <= u (or pu = L). Returns a gap description or undefined.
   */
  private gapOf(st: BookState, d: Diff): { reason: string; expected: number; received: number } | undefined {
    const last = st.book.lastUpdateId;
    if (last === undefined) return undefined;
    if (st.info.futures && d.pu !== undefined) {
      if (d.pu === last) return undefined;
      if (st.sinceSnapshot === 0 && st.book.reliable && d.U <= last) return undefined;
      return { reason: `sequence gap: expected pu=${last}, got pu=${d.pu} (U=${d.U}, u=${d.u})`, expected: last, received: d.pu };
    }
    if (d.U <= last + 1) return undefined;
    return { reason: `sequence gap: expected U<=${last + 1}, got U=${d.U} (u=${d.u}); ${d.U - last - 1} update ids missing`, expected: last + 1, received: d.U };
  }

  private diff(o: Record<string, unknown>, recvMs: number, out: Emit): Reject | undefined {
    const sym = this.symbolOf(o, 'depth');
    if (sym instanceof Reject) return sym;
    const U = o.U;
    const u = o.u;
    const pu = o.pu;
    if (!isInt(U)) return new Reject(`field U: expected an update id, got ${show(U)}`, 'depth');
    if (!isInt(u) || u < U) return new Reject(`field u: expected an update id >= U, got ${show(u)}`, 'depth');
    if (pu !== undefined && !isInt(pu)) return new Reject(`field pu: expected an update id, got ${show(pu)}`, 'depth');
    // Rows the scanner read are already checked decimals.
    const bids = this.trusted && Array.isArray(o.b) ? (o.b as Levels) : levels(o.b, 'b');
    if (typeof bids === 'string') return new Reject(bids, 'depth');
    const asks = this.trusted && Array.isArray(o.a) ? (o.a as Levels) : levels(o.a, 'a');
    if (typeof asks === 'string') return new Reject(asks, 'depth');
    const ts = this.timeOf(o, recvMs, 'depth');
    if (ts instanceof Reject) return ts;
    const info = this.info(sym, pu !== undefined ? 'usdm' : 'spot');
    const st = this.state(info);
    const d: Diff = { U, u, pu, bids, asks, ts };

    if (this.pending !== undefined) this.attachPending(st, out);
    const last = st.book.lastUpdateId;
    if (last !== undefined && u <= last) {
      // Already contained in the book (e.g. buffered before a newer snapshot, or a repeated line).
      this.staleDiffs++;
      return undefined;
    }
    // Buffer diffs for a snapshot to come: many while the book waits for one, a short tail otherwise
    // (a long buffer keeps every diff alive and the GC cost dominates the decoder).
    const keep = st.book.reliable ? RECENT_WHEN_SYNCED : RECENT_WHILE_WAITING;
    st.recent.push(d);
    if (st.recent.length > 2 * keep) st.recent.splice(0, st.recent.length - keep);

    const gap = this.gapOf(st, d);
    if (this.keepBooks) st.book.apply(bids, asks);
    st.book.lastUpdateId = u;
    st.sinceSnapshot++;
    st.lastTs = ts;
    const e: EventOf<'depth'> = {
      type: 'depth',
      id: `${info.prefix}depth:${U}-${u}`,
      ts,
      seq: u,
      source: info.source,
      market: info.market,
      marketKind: info.marketKind,
      snapshot: false,
      bids,
      asks,
      firstUpdateId: U,
      lastUpdateId: u,
    };
    if (pu !== undefined) e.prevUpdateId = pu;
    out.event(e);
    if (last === undefined) {
      this.status(out, st, false, 'partial book: built from diffs only, no snapshot yet; levels not touched by a diff are missing', ts, 'partial');
    } else if (gap !== undefined) {
      this.gaps++;
      this.status(out, st, false, `${gap.reason}; unreliable until the next snapshot`, ts, `gap:${u}`, gap.expected, gap.received);
    }
    return undefined;
  }

  /** REST-style snapshot lines (no symbol) and partial-depth streams (top N levels). */
  private snapshot(o: Record<string, unknown>, stream: string | undefined, recvMs: number, raw: string, pos: RecordPosition, out: Emit): Reject | undefined {
    const futuresPartial = o.e === 'depthUpdate';
    const L = futuresPartial ? o.u : o.lastUpdateId;
    if (!isInt(L)) return new Reject(`field ${futuresPartial ? 'u' : 'lastUpdateId'}: expected an update id, got ${show(L)}`, 'depth');
    const bids = levels(futuresPartial ? o.b : o.bids, futuresPartial ? 'b' : 'bids');
    if (typeof bids === 'string') return new Reject(bids, 'depth');
    const asks = levels(futuresPartial ? o.a : o.asks, futuresPartial ? 'a' : 'asks');
    if (typeof asks === 'string') return new Reject(asks, 'depth');
    const ts = this.timeOf(o, recvMs, 'depth');
    if (ts instanceof Reject) return ts;

    let symbol: string | undefined = typeof o.s === 'string' && o.s !== '' ? o.s : undefined;
    if (symbol === undefined && stream !== undefined) symbol = stream.slice(0, stream.indexOf('@')).toUpperCase() || undefined;
    // Only futures snapshots carry E/T.
    const evidence: BinanceVenue = futuresPartial || o.E !== undefined || o.T !== undefined ? 'usdm' : 'spot';
    let st: BookState | undefined;
    if (symbol !== undefined) st = this.state(this.info(symbol, evidence));
    else {
      const found = this.snapshotTarget(evidence);
      if (found instanceof Reject) return found;
      if (found === undefined) {
        if (this.pending !== undefined) return new Reject('a second depth snapshot without a symbol before any depth stream', 'depth');
        this.pending = { L, bids, asks, ts, futures: evidence !== 'spot', raw, pos: { source: pos.source, line: pos.line } };
        return undefined;
      }
      st = found;
    }
    this.applySnapshot(st, L, bids, asks, ts, out);
    return undefined;
  }

  /** Which book a symbol-less snapshot belongs to: the --market option, else the only candidate. */
  private snapshotTarget(evidence: BinanceVenue): BookState | Reject | undefined {
    if (this.marketOption !== undefined) {
      const byVenue = this.venueOption ?? (this.marketOption.includes('_') ? undefined : evidence);
      return this.state(this.info(this.marketOption, byVenue));
    }
    const futures = evidence !== 'spot';
    const candidates = this.books.filter((s) => s.recent.length > 0 && s.info.futures === futures);
    if (candidates.length === 1) return candidates[0];
    if (candidates.length === 0) return undefined;
    return new Reject(`depth snapshot without a symbol is ambiguous: ${candidates.map((c) => c.info.market).join(', ')} (pass --market)`, 'depth');
  }

  private attachPending(st: BookState, out: Emit): void {
    const p = this.pending!;
    this.pending = undefined;
    if (p.futures !== st.info.futures) {
      out.reject(`depth snapshot without a symbol does not match ${st.info.market}'s venue`, p.raw, p.pos, 'depth');
      return;
    }
    this.applySnapshot(st, p.L, p.bids, p.asks, p.ts, out);
  }

  /**
   * Replaces the book with the snapshot, then folds in the buffered diffs newer than it (they often
   * arrive before the REST response). The emitted snapshot is that reconciled book, so a consumer
   * applying events in order ends up with the same book as the decoder.
   */
  private applySnapshot(st: BookState, L: number, bids: Levels, asks: Levels, ts: number, out: Emit): void {
    if (this.ids.seen(`${st.info.prefix}depth:snapshot:${L}`)) {
      this.duplicates++;
      return;
    }
    const book = st.book;
    const wasReliable = book.reliable;
    if (book.reliable && book.lastUpdateId !== undefined && L <= book.lastUpdateId) {
      // Our book is already ahead of this snapshot. Fold only if the buffered diffs connect to it;
      // otherwise it adds nothing (and replacing would throw good state away).
      const first = st.recent.find((d) => d.u > L);
      const connects = first !== undefined && (st.info.futures && first.pu !== undefined ? first.pu === L || first.U <= L : first.U <= L + 1);
      if (!connects) {
        this.staleSnapshots++;
        return;
      }
    }
    book.replace(bids, asks);
    book.lastUpdateId = L;
    book.setReliable(true, 'snapshot');
    st.sinceSnapshot = 0;
    let folded = 0;
    let gap: ReturnType<BinanceDecoder['gapOf']>;
    let lastTs = ts;
    const recent = st.recent;
    for (let i = 0; i < recent.length; i++) {
      const d = recent[i];
      if (d.u <= book.lastUpdateId!) continue;
      if (gap === undefined) gap = this.gapOf(st, d);
      book.apply(d.bids, d.asks);
      book.lastUpdateId = d.u;
      st.sinceSnapshot++;
      folded++;
      if (d.ts > lastTs) lastTs = d.ts;
    }
    st.lastTs = Math.max(st.lastTs, lastTs);
    const info = st.info;
    const e: EventOf<'depth'> = {
      type: 'depth',
      id: `${info.prefix}depth:snapshot:${L}`,
      ts: lastTs,
      seq: book.lastUpdateId!,
      source: info.source,
      market: info.market,
      marketKind: info.marketKind,
      snapshot: true,
      bids: book.top('bid', book.count('bid')),
      asks: book.top('ask', book.count('ask')),
      lastUpdateId: book.lastUpdateId!,
    };
    if (!this.keepBooks) book.replace([], []); // only the update id and reliability are kept
    out.event(e);
    const what = `snapshot lastUpdateId=${L}` + (folded > 0 ? ` with ${folded} newer buffered diff(s) folded in, up to u=${book.lastUpdateId}` : '');
    if (gap !== undefined) {
      this.gaps++;
      this.status(out, st, false, `${what}, but the buffered diffs do not connect to it: ${gap.reason}`, lastTs, `gap:${L}`, gap.expected, gap.received);
    } else if (!wasReliable) {
      this.status(out, st, true, `synced from ${what}`, lastTs, `sync:${L}`);
    } else {
      book.setReliable(true, `synced from ${what}`); // still reliable: no event for every periodic snapshot
    }
  }
}
