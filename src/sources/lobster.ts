/**
 * LOBSTER (lobsterdata.com) limit-order-book data: a decoder for message files into canonical events,
 * and a replayer that rebuilds LOBSTER's orderbook file from a message file.
 *
 * Message row: time (seconds after midnight, exchange local time), type, order id, size,
 * price (dollars x 10^4), direction (1 buy / -1 sell limit order; for executions the resting order's side).
 * Orderbook row: askPrice1,askSize1,bidPrice1,bidSize1,askPrice2,... with placeholders for empty levels.
 */
import type { ExchangeEvent } from '../events/schema.js';
import type { Decoder, Emit, RecordPosition } from '../pipeline/types.js';
import { L3Book, type BookLevels, type BookSide } from '../market/l3-book.js';

/** LOBSTER's dummy price for an empty ask level (its size is 0). */
export const ASK_PLACEHOLDER = 9999999999;
/** LOBSTER's dummy price for an empty bid level (its size is 0). */
export const BID_PLACEHOLDER = -9999999999;

export type LobsterType = 1 | 2 | 3 | 4 | 5 | 6 | 7;

export interface LobsterMessage {
  /** Time column as written, e.g. "34200.004241176". */
  time: string;
  /** Milliseconds after midnight, truncated. */
  ms: number;
  type: LobsterType;
  orderId: number;
  size: number;
  /** Integer price in 1/tickDivisor dollars; for type 7: -1 halt, 0 quoting, 1 resume. */
  price: number;
  direction: 1 | -1;
}

const TIME_RE = /^(\d{1,6})(?:\.(\d{1,9}))?$/;
const INT_RE = /^-?\d{1,15}$/;
const TYPE_NAMES: Record<LobsterType, string> = {
  1: 'order.placed',
  2: 'order.amended',
  3: 'order.cancelled',
  4: 'trade',
  5: 'trade',
  6: 'trade',
  7: 'book.status',
};

function intColumn(s: string, col: number, name: string): number | string {
  return INT_RE.test(s) ? Number(s) : `column ${col} (${name}): expected an integer, got ${JSON.stringify(s)}`;
}

/** Parses one message row; returns the reason when it is not a valid LOBSTER message. Extra columns are ignored. */
export function parseLobsterMessage(line: string): LobsterMessage | string {
  const f = line.split(',');
  if (f.length < 6) return `expected 6 columns (time,type,orderId,size,price,direction), got ${f.length}`;
  const t = TIME_RE.exec(f[0]);
  if (!t) return `column 1 (time): expected seconds after midnight like 34200.004241176, got ${JSON.stringify(f[0])}`;
  const ms = Number(t[1]) * 1000 + (t[2] ? Number((t[2] + '00').slice(0, 3)) : 0);
  const type = intColumn(f[1], 2, 'type');
  if (typeof type === 'string') return type;
  if (type < 1 || type > 7) return `column 2 (type): expected 1-7, got ${type}`;
  const orderId = intColumn(f[2], 3, 'order id');
  if (typeof orderId === 'string') return orderId;
  const size = intColumn(f[3], 4, 'size');
  if (typeof size === 'string') return size;
  const price = intColumn(f[4], 5, 'price');
  if (typeof price === 'string') return price;
  const direction = intColumn(f[5], 6, 'direction');
  if (typeof direction === 'string') return direction;
  if (direction !== 1 && direction !== -1) return `column 6 (direction): expected 1 (buy) or -1 (sell), got ${direction}`;
  if (orderId < 0) return `column 3 (order id): expected a non-negative integer, got ${orderId}`;
  if (type === 7) {
    if (price < -1 || price > 1) return `type 7 (trading halt) price must be -1 (halt), 0 (quoting) or 1 (resume), got ${price}`;
  } else {
    if (size <= 0) return `column 4 (size): expected a positive integer, got ${size}`;
    if (price <= 0) return `column 5 (price): expected a positive integer (dollars x 10^4), got ${price}`;
  }
  return { time: f[0], ms, type: type as LobsterType, orderId, size, price, direction };
}

/** What a LOBSTER file name says: TICKER_YYYY-MM-DD_start_end_(message|orderbook)_LEVELS.csv */
export interface LobsterFileName {
  ticker: string;
  date: string;
  kind: 'message' | 'orderbook';
  levels: number;
}

export function parseLobsterFileName(name: string | undefined): LobsterFileName | undefined {
  if (!name) return undefined;
  const base = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  const m = /^([A-Za-z0-9.-]+)_(\d{4}-\d{2}-\d{2})_\d+_\d+_(message|orderbook)_(\d+)\.csv(?:\.gz)?$/.exec(base);
  if (!m) return undefined;
  return { ticker: m[1], date: m[2], kind: m[3] as 'message' | 'orderbook', levels: Number(m[4]) };
}

/** Epoch ms of local midnight on `date` in `timeZone` (offset taken at noon, clear of DST switches). */
export function midnightEpochMs(date: string, timeZone: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new Error(`LOBSTER date must be YYYY-MM-DD, got ${JSON.stringify(date)}`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const utcMidnight = Date.UTC(y, mo - 1, d);
  if (new Date(utcMidnight).getUTCDate() !== d || mo < 1 || mo > 12) throw new Error(`LOBSTER date ${date} is not a calendar date`);
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
  } catch {
    throw new Error(`unknown time zone ${JSON.stringify(timeZone)} (use an IANA name like America/New_York or UTC)`);
  }
  const noon = utcMidnight + 12 * 3_600_000;
  const p: Record<string, number> = {};
  for (const part of fmt.formatToParts(noon)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const wallNoon = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return utcMidnight - (wallNoon - noon);
}

function decimalsOf(tickDivisor: number): number {
  const d = Math.log10(tickDivisor);
  if (!Number.isInteger(d) || d < 0 || d > 12) throw new Error(`LOBSTER tickDivisor must be a power of ten (1, 10, ..., 10000), got ${tickDivisor}`);
  return d;
}

/** Integer ticks -> exact decimal string with a fixed number of decimals ("585.3300"). */
export function ticksToDecimal(v: number, decimals: number): string {
  if (decimals === 0) return String(v);
  const neg = v < 0;
  const digits = String(neg ? -v : v).padStart(decimals + 1, '0');
  const cut = digits.length - decimals;
  return (neg ? '-' : '') + digits.slice(0, cut) + '.' + digits.slice(cut);
}

/** Exact decimal string -> integer ticks; undefined if it has more decimals than a tick or is not a decimal. */
export function decimalToTicks(s: string, decimals: number): number | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) return undefined;
  const frac = (m[3] ?? '').replace(/0+$/, '');
  if (frac.length > decimals) return undefined;
  const v = Number(m[2] + frac.padEnd(decimals, '0'));
  return Number.isSafeInteger(v) ? (m[1] ? -v : v) : undefined;
}

export interface LobsterDecoderOptions {
  /** Source file name; a LOBSTER-style name supplies ticker and date when they are not given. */
  source?: string;
  /** Market symbol; default: the ticker in the file name, else 'LOBSTER'. */
  market?: string;
  /** Trading day YYYY-MM-DD; default: the date in the file name, else 1970-01-01. */
  date?: string;
  /** Time zone of the time column; default America/New_York when a date is known (LOBSTER is NASDAQ), else UTC. */
  timeZone?: string;
  /** Integer price units per dollar; default 10000. */
  tickDivisor?: number;
  /** LOBSTER carries no account identity: every order is attributed to this account (default 'anonymous'). */
  accountId?: string;
}

function optString(opts: Record<string, unknown>, key: string): string | undefined {
  const v = opts[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new Error(`LOBSTER option ${key} must be a string, got ${typeof v}`);
  return v;
}

/**
 * LOBSTER message rows -> canonical events. Partial cancels (type 2) become order.amended carrying the new
 * total size when the order was placed earlier in the same file, otherwise the price only (the size before
 * the file began is unknown). Executions become trades whose aggressor is the opposite of the resting side.
 */
export class LobsterDecoder implements Decoder {
  readonly format = 'lobster';
  readonly market: string;
  readonly date: string;
  private readonly midnight: number;
  private readonly decimals: number;
  private readonly accountId: string;
  private readonly idPrefix: string;
  /** Remaining size of orders placed in this file, so a partial cancel can state the new size. */
  private readonly sizes = new Map<number, number>();

  constructor(opts: LobsterDecoderOptions | Record<string, unknown> = {}) {
    const o = opts as Record<string, unknown>;
    const fromName = parseLobsterFileName(optString(o, 'source'));
    this.market = optString(o, 'market') ?? fromName?.ticker ?? 'LOBSTER';
    const date = optString(o, 'date') ?? fromName?.date;
    this.date = date ?? '1970-01-01';
    this.midnight = midnightEpochMs(this.date, optString(o, 'timeZone') ?? (date ? 'America/New_York' : 'UTC'));
    const td = o.tickDivisor ?? 10000;
    if (typeof td !== 'number') throw new Error(`LOBSTER option tickDivisor must be a number, got ${typeof td}`);
    this.decimals = decimalsOf(td);
    this.accountId = optString(o, 'accountId') ?? 'anonymous';
    this.idPrefix = `lobster:${this.market}:${this.date}:`;
  }

  decode(line: string, pos: RecordPosition, out: Emit): void {
    if (line.length === 0 || line.trim() === '') return;
    const m = parseLobsterMessage(line);
    if (typeof m === 'string') {
      const t = /^[^,]*,([1-7]),[^,]*,[^,]*,[^,]*,/.exec(line);
      out.reject(m, line, pos, t ? TYPE_NAMES[Number(t[1]) as LobsterType] : undefined);
      return;
    }
    const id = this.idPrefix + pos.line;
    const ts = this.midnight + m.ms;
    const seq = pos.line;
    const market = this.market;
    const accountId = this.accountId;
    const orderId = String(m.orderId);
    const side = m.direction === 1 ? 'buy' : 'sell';
    const price = m.type === 7 ? '' : ticksToDecimal(m.price, this.decimals);
    const size = String(m.size);
    // Literal objects, not spreads: this is the hot path and spreads cost several times more.
    let e: ExchangeEvent;
    switch (m.type) {
      case 1:
        this.sizes.set(m.orderId, m.size);
        e = { id, ts, seq, source: 'lobster', market, type: 'order.placed', accountId, orderId, side, orderType: 'limit', timeInForce: 'GTC', price, size };
        break;
      case 2: {
        const prev = this.sizes.get(m.orderId);
        if (prev === undefined) {
          e = { id, ts, seq, source: 'lobster', market, type: 'order.amended', accountId, orderId, price };
        } else if (prev > m.size) {
          this.sizes.set(m.orderId, prev - m.size);
          e = { id, ts, seq, source: 'lobster', market, type: 'order.amended', accountId, orderId, price, size: String(prev - m.size), prevSize: String(prev) };
        } else {
          // Cancelling all that is left is a deletion, whatever the type says.
          this.sizes.delete(m.orderId);
          e = { id, ts, seq, source: 'lobster', market, type: 'order.cancelled', accountId, orderId, reason: 'user', remainingSize: String(prev) };
        }
        break;
      }
      case 3:
        this.sizes.delete(m.orderId);
        e = { id, ts, seq, source: 'lobster', market, type: 'order.cancelled', accountId, orderId, reason: 'user', remainingSize: size };
        break;
      case 4: {
        const prev = this.sizes.get(m.orderId);
        if (prev !== undefined) {
          if (prev > m.size) this.sizes.set(m.orderId, prev - m.size);
          else this.sizes.delete(m.orderId);
        }
        e = { id, ts, seq, source: 'lobster', market, type: 'trade', tradeId: id, price, size, aggressor: side === 'buy' ? 'sell' : 'buy', makerOrderId: orderId };
        break;
      }
      case 5:
        e = { id, ts, seq, source: 'lobster', market, type: 'trade', tradeId: id, price, size, aggressor: side === 'buy' ? 'sell' : 'buy' };
        break;
      case 6:
        e = { id, ts, seq, source: 'lobster', market, type: 'trade', tradeId: id, price, size, aggressor: 'unknown' };
        break;
      case 7:
        e =
          m.price === 1
            ? { id, ts, seq, source: 'lobster', market, type: 'book.status', status: 'reliable', reason: 'trading resumed' }
            : { id, ts, seq, source: 'lobster', market, type: 'book.status', status: 'unreliable', reason: m.price === -1 ? 'trading halt' : 'quoting resumed, trading still halted' };
        break;
    }
    out.event(e);
  }
}

// ---------------------------------------------------------------- orderbook replay

export interface SeedOrder {
  id: number;
  side: BookSide;
  /** Integer price in LOBSTER units (dollars x 10^4). */
  price: number;
  size: number;
}

/** The book before the first message. */
export interface LobsterSnapshot {
  /** One LOBSTER orderbook row: askPrice1,askSize1,bidPrice1,bidSize1,... (any number of levels). */
  row?: number[];
  /** Individual resting orders. Alone they are taken as the complete book; with a row they must fit inside it. */
  orders?: SeedOrder[];
}

export interface BookReplayerOptions {
  /** Levels per side in each rendered row. */
  levels: number;
  /**
   * Levels the message file was generated for (the 10 in ..._message_10.csv); default `levels`. Events behind
   * that depth are missing from the file, so this, not `levels`, bounds what can stay known.
   */
  fileLevels?: number;
  initial?: LobsterSnapshot;
  /** The book is empty before the first message (every level known from the start). */
  assumeEmpty?: boolean;
}

export interface BookReplayerStats {
  messages: number;
  /** Messages about an order id that is not in the book (it was resting before the file began). */
  unknownOrders: number;
  /** ...of which matched to initial-snapshot liquidity at a fully known level. */
  matchedToSnapshot: number;
  /** ...of which at a price beyond the known levels, so not applied. */
  beyondKnown: number;
  /** Messages the known book cannot explain; the level involved (and everything behind it) stops being known. */
  inconsistencies: number;
  /** Rows in which all N levels of both sides are fully known. */
  knownRows: number;
}

/** The order key for snapshot liquidity whose individual orders are not known. */
function seedKey(side: BookSide, price: number): string {
  return (side === 'buy' ? 'seed:b:' : 'seed:a:') + price;
}

/**
 * Applies LOBSTER messages to an L3 book and renders LOBSTER orderbook rows.
 *
 * Knowledge is tracked per side as a price bound: bids at or above `bidFloor` and asks at or below
 * `askCeiling` are known exactly. An L-level LOBSTER message file only contains events that change one of
 * the top L levels, so after each message the bound is pulled in to the L-th level: anything behind it can
 * change without a message. A row of N levels is exact when each side's top N levels (or all of a side,
 * with placeholders, when that whole side is known) lie inside the bound.
 */
export class LobsterBookReplayer {
  readonly book = new L3Book();
  readonly levels: number;
  readonly fileLevels: number;
  readonly stats: BookReplayerStats = { messages: 0, unknownOrders: 0, matchedToSnapshot: 0, beyondKnown: 0, inconsistencies: 0, knownRows: 0 };
  private bidFloor = Infinity;
  private askCeiling = -Infinity;
  private readonly parts: number[];

  constructor(opts: BookReplayerOptions) {
    if (!Number.isInteger(opts.levels) || opts.levels < 1 || opts.levels > 100_000) {
      throw new Error(`levels must be a positive integer, got ${opts.levels}`);
    }
    this.levels = opts.levels;
    this.parts = new Array<number>(4 * opts.levels).fill(0);
    this.fileLevels = opts.fileLevels ?? opts.levels;
    if (!Number.isInteger(this.fileLevels) || this.fileLevels < 1) throw new Error(`fileLevels must be a positive integer, got ${opts.fileLevels}`);
    if (opts.assumeEmpty && (opts.initial?.row || opts.initial?.orders?.length)) {
      throw new Error('an initial snapshot and "assume empty" contradict each other; give one');
    }
    if (opts.assumeEmpty) {
      this.bidFloor = -Infinity;
      this.askCeiling = Infinity;
    } else if (opts.initial) {
      this.seed(opts.initial);
    }
    this.tighten();
  }

  private seed(s: LobsterSnapshot): void {
    const orders = s.orders ?? [];
    const row = s.row;
    const listed = new Map<string, number>();
    for (const o of orders) {
      if (!Number.isSafeInteger(o.price) || o.price <= 0) throw new Error(`initial order ${o.id}: price must be a positive integer, got ${o.price}`);
      if (!Number.isSafeInteger(o.size) || o.size <= 0) throw new Error(`initial order ${o.id}: size must be a positive integer, got ${o.size}`);
      const k = seedKey(o.side, o.price);
      listed.set(k, (listed.get(k) ?? 0) + o.size);
    }
    if (row) {
      const levels = this.seedRow(row, listed);
      for (const o of orders) {
        if (this.isKnown(o.side, o.price) && !levels.has(seedKey(o.side, o.price))) {
          throw new Error(`initial order ${o.id} (${o.side} ${o.size} @ ${o.price}) lies within the orderbook row's levels, but the row has no level at that price`);
        }
      }
    } else {
      this.bidFloor = -Infinity;
      this.askCeiling = Infinity;
    }
    for (const o of orders) {
      if (!this.book.add(o.id, o.side, o.price, o.size, 0)) throw new Error(`initial order id ${o.id} appears twice`);
    }
  }

  /** Rests the row's levels as anonymous liquidity (less what listed orders account for); returns the levels' keys. */
  private seedRow(row: number[], listed: Map<string, number>): Set<string> {
    if (row.length === 0 || row.length % 4 !== 0) {
      throw new Error(`an orderbook row has 4 columns per level (askPrice,askSize,bidPrice,bidSize); got ${row.length} columns`);
    }
    const depth = row.length / 4;
    const keys = new Set<string>();
    const sides: Array<{ side: BookSide; col: number; placeholder: number }> = [
      { side: 'sell', col: 0, placeholder: ASK_PLACEHOLDER },
      { side: 'buy', col: 2, placeholder: BID_PLACEHOLDER },
    ];
    for (const { side, col, placeholder } of sides) {
      let count = 0;
      let last = 0;
      for (let k = 0; k < depth; k++) {
        const price = row[4 * k + col];
        const size = row[4 * k + col + 1];
        const where = `orderbook row level ${k + 1} ${side === 'sell' ? 'ask' : 'bid'}`;
        if (price === placeholder && size === 0) continue;
        if (count < k) throw new Error(`${where}: a real level after an empty (placeholder) level`);
        if (!Number.isSafeInteger(price) || price <= 0) throw new Error(`${where}: price must be a positive integer or the placeholder ${placeholder}, got ${price}`);
        if (!Number.isSafeInteger(size) || size <= 0) throw new Error(`${where}: size must be a positive integer, got ${size}`);
        if (count > 0 && (side === 'sell' ? price <= last : price >= last)) throw new Error(`${where}: prices must move away from the touch level by level`);
        const anon = size - (listed.get(seedKey(side, price)) ?? 0);
        if (anon < 0) throw new Error(`${where}: listed initial orders at ${price} add up to more than the level's size ${size}`);
        if (anon > 0) this.book.add(seedKey(side, price), side, price, anon, 0);
        keys.add(seedKey(side, price));
        count++;
        last = price;
      }
      // A side shorter than the row is complete; a full side is known down to its last level.
      if (side === 'sell') this.askCeiling = count < depth ? Infinity : last;
      else this.bidFloor = count < depth ? -Infinity : last;
    }
    return keys;
  }

  isKnown(side: BookSide, price: number): boolean {
    return side === 'buy' ? price >= this.bidFloor : price <= this.askCeiling;
  }

  /** Applies one message. Never throws on data: what cannot be explained is counted and stops being "known". */
  apply(m: LobsterMessage): void {
    this.stats.messages++;
    if (m.type === 1) this.place(m);
    else if (m.type <= 4) this.take(m);
    // Types 5 (hidden execution), 6 (cross trade) and 7 (halt) leave the visible book as it was.
    this.tighten();
    if (this.rowKnown()) this.stats.knownRows++;
  }

  private place(m: LobsterMessage): void {
    const side: BookSide = m.direction === 1 ? 'buy' : 'sell';
    const old = this.book.get(m.orderId);
    if (old) {
      this.stats.inconsistencies++;
      this.distrust(old.side, old.price);
      this.distrust(side, m.price);
      this.book.remove(m.orderId);
    }
    this.book.add(m.orderId, side, m.price, m.size, m.ms);
  }

  private take(m: LobsterMessage): void {
    const side: BookSide = m.direction === 1 ? 'buy' : 'sell';
    const o = this.book.get(m.orderId);
    if (!o) {
      this.stats.unknownOrders++;
      if (!this.isKnown(side, m.price)) {
        this.stats.beyondKnown++;
        return;
      }
      // The order rested before the file began, so it is part of the snapshot's anonymous liquidity here.
      if (this.book.reduce(seedKey(side, m.price), m.size) === m.size) {
        this.stats.matchedToSnapshot++;
      } else {
        this.stats.inconsistencies++;
        this.distrust(side, m.price);
      }
      return;
    }
    if (o.side !== side || o.price !== m.price) {
      this.stats.inconsistencies++;
      this.distrust(o.side, o.price);
      this.distrust(side, m.price);
    } else if (m.type === 3 ? m.size !== o.size : m.size > o.size) {
      this.stats.inconsistencies++;
      this.distrust(o.side, o.price);
    }
    if (m.type === 3) this.book.remove(o.id);
    else this.book.reduce(o.id, m.size);
  }

  /** Nothing is known any more (e.g. after an unreadable message, which may have changed anything). */
  forget(): void {
    this.bidFloor = Infinity;
    this.askCeiling = -Infinity;
  }

  /** Stops trusting `price` and every price behind it on that side. */
  private distrust(side: BookSide, price: number): void {
    if (side === 'buy') this.bidFloor = Math.max(this.bidFloor, price + 1);
    else this.askCeiling = Math.min(this.askCeiling, price - 1);
  }

  /** Behind the file's L-th level events go unreported, so knowledge ends there. */
  private tighten(): void {
    const n = this.fileLevels;
    const b = this.book.bids.prices;
    if (b.length >= n && b[b.length - n] > this.bidFloor) this.bidFloor = b[b.length - n];
    const a = this.book.asks.prices;
    if (a.length >= n && a[a.length - n] < this.askCeiling) this.askCeiling = a[a.length - n];
  }

  private sideKnown(levels: BookLevels, bound: number, isBid: boolean): boolean {
    const p = levels.prices;
    const n = this.levels;
    if (p.length < n) return isBid ? bound === -Infinity : bound === Infinity;
    return isBid ? p[p.length - n] >= bound : p[p.length - n] <= bound;
  }

  /** True when every one of the N rendered levels on both sides is exact. */
  rowKnown(): boolean {
    return this.sideKnown(this.book.asks, this.askCeiling, false) && this.sideKnown(this.book.bids, this.bidFloor, true);
  }

  /** How many of the N rendered levels of a side are exact (placeholders included when the whole side is known). */
  knownLevels(side: BookSide): number {
    const isBid = side === 'buy';
    const bound = isBid ? this.bidFloor : this.askCeiling;
    if (bound === (isBid ? -Infinity : Infinity)) return this.levels;
    const p = this.book.side(side).prices;
    let k = 0;
    for (let i = p.length - 1; i >= 0 && k < this.levels && this.isKnown(side, p[i]); i--) k++;
    return k;
  }

  /** The book as one LOBSTER orderbook row of N levels. */
  row(): string {
    const n = this.levels;
    const parts = this.parts;
    const asks = this.book.asks;
    const bids = this.book.bids;
    const ap = asks.prices;
    const bp = bids.prices;
    // One join over a reused array allocates far less than 4N string concatenations.
    for (let i = 0, j = 0; i < n; i++, j += 4) {
      const ai = ap.length - 1 - i;
      if (ai >= 0) {
        parts[j] = ap[ai];
        parts[j + 1] = asks.levels.get(ap[ai])!.total;
      } else {
        parts[j] = ASK_PLACEHOLDER;
        parts[j + 1] = 0;
      }
      const bi = bp.length - 1 - i;
      if (bi >= 0) {
        parts[j + 2] = bp[bi];
        parts[j + 3] = bids.levels.get(bp[bi])!.total;
      } else {
        parts[j + 2] = BID_PLACEHOLDER;
        parts[j + 3] = 0;
      }
    }
    return parts.join(',');
  }
}

// ---------------------------------------------------------------- initial snapshot files

const ROW_RE = /^-?\d+(?:,-?\d+)*$/;

/**
 * Parses an initial-snapshot file. Lines may be, in any mix:
 *   - one LOBSTER orderbook row (4 integers per level, placeholders allowed);
 *   - NDJSON orders {"id":16113575,"side":"buy","price":5853300,"size":18};
 *   - CSV orders after a header naming id,side,price,size (any order, extra columns ignored).
 * side is buy/sell (or b/s, bid/ask, 1/-1); price is integer LOBSTER units, or a decimal with a '.'.
 * Blank lines and lines starting with '#' are skipped. Throws with file and line on anything else.
 */
export function parseLobsterSnapshot(text: string, name = 'initial snapshot', tickDivisor = 10000): LobsterSnapshot {
  const decimals = decimalsOf(tickDivisor);
  const out: LobsterSnapshot = { orders: [] };
  let header: Map<string, number> | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    const where = `${name}:${i + 1}`;
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('{')) {
      let obj: Record<string, unknown>;
      try {
        obj = JSON.parse(line) as Record<string, unknown>;
      } catch (err) {
        throw new Error(`${where}: invalid JSON: ${(err as Error).message}`);
      }
      out.orders!.push(seedOrder(obj.id, obj.side, obj.price, obj.size, decimals, where));
    } else if (/^[A-Za-z_"]/.test(line)) {
      const cols = line.split(',').map((c) => c.trim().replace(/^"|"$/g, '').toLowerCase());
      header = new Map(cols.map((c, j) => [c, j]));
      for (const need of ['id', 'side', 'price', 'size']) {
        if (!header.has(need)) throw new Error(`${where}: CSV header needs columns id,side,price,size; missing ${need}`);
      }
    } else if (header) {
      const f = line.split(',').map((c) => c.trim());
      const h = header;
      out.orders!.push(seedOrder(f[h.get('id')!], f[h.get('side')!], f[h.get('price')!], f[h.get('size')!], decimals, where));
    } else if (ROW_RE.test(line)) {
      if (out.row) throw new Error(`${where}: a second orderbook row; the initial snapshot takes the single row describing the book before the first message (e.g. sed -n 'Kp' orderbook.csv)`);
      out.row = line.split(',').map(Number);
      if (out.row.length % 4 !== 0) throw new Error(`${where}: an orderbook row has 4 columns per level; got ${out.row.length}`);
    } else {
      throw new Error(`${where}: not an orderbook row, an NDJSON order or a CSV order row: ${JSON.stringify(line.slice(0, 80))}`);
    }
  }
  return out;
}

function seedOrder(id: unknown, side: unknown, price: unknown, size: unknown, decimals: number, where: string): SeedOrder {
  const num = (v: unknown, what: string, dec: number): number => {
    const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v : '';
    const n = s.includes('.') ? decimalToTicks(s, dec) : /^\d+$/.test(s) ? Number(s) : undefined;
    if (n === undefined || !Number.isSafeInteger(n) || n <= 0) {
      throw new Error(`${where}: ${what} must be a positive integer${what === 'price' ? ' (LOBSTER units) or a decimal price' : ''}, got ${JSON.stringify(v)}`);
    }
    return n;
  };
  const s = String(side ?? '').toLowerCase();
  const bookSide: BookSide | undefined = ['buy', 'b', 'bid', '1'].includes(s) ? 'buy' : ['sell', 's', 'ask', '-1'].includes(s) ? 'sell' : undefined;
  if (!bookSide) throw new Error(`${where}: side must be buy or sell (or 1 / -1), got ${JSON.stringify(side)}`);
  return { id: num(id, 'id', 0), side: bookSide, price: num(price, 'price', decimals), size: num(size, 'size', 0) };
}
