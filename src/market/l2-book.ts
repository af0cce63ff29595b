import { compareDecimal, isZeroDecimal } from '../events/decimal.js';

/**
 * A price-level (L2) order book keyed by exact decimal strings.
 *
 * A Map from the price string gives O(1) access to existing levels; new levels are parsed once and
 * placed by binary search in a chunked sorted array (O(log n) lookup, small splices). Prices and
 * sizes keep the exact strings the feed sent, which matters for checksums over the original text.
 */

export type BookSide = 'bid' | 'ask';
/** [price, size] as exact decimal strings. */
export type PriceLevel = [price: string, size: string];

interface Level {
  /** Sort key: the price for bids, minus the price for asks, so "best" is always the largest key. */
  key: number;
  price: string;
  size: string;
}

/** Fast check for an unsigned decimal string ("0", "61837.63000000", "0.001"); no exponent, no sign. */
export function isUnsignedDecimal(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  const n = v.length;
  if (n === 0 || n > 64) return false;
  let i = 0;
  let c = v.charCodeAt(0);
  if (c < 48 || c > 57) return false;
  while (i < n && (c = v.charCodeAt(i)) >= 48 && c <= 57) i++;
  if (i === n) return true;
  if (c !== 46 /* . */ || i === n - 1) return false;
  for (i++; i < n; i++) {
    c = v.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? s.slice(0, 40) + '…' : s;
}

/**
 * Validates decoded [[price, size], ...] rows for a book: the levels (the same array unless a row has
 * extra fields, which are dropped), or a reason naming the first bad row.
 */
export function checkLevels(v: unknown, field: string): PriceLevel[] | string {
  if (!Array.isArray(v)) return `field ${field}: expected an array of [price, size], got ${show(v)}`;
  let out = v as PriceLevel[];
  for (let i = 0; i < v.length; i++) {
    const l = v[i];
    if (!Array.isArray(l) || l.length < 2 || !isUnsignedDecimal(l[0]) || !isUnsignedDecimal(l[1])) {
      return `field ${field}[${i}]: expected [price, size] as decimal strings, got ${show(l)}`;
    }
    if (l.length !== 2) {
      if (out === v) out = v.slice(0, i) as PriceLevel[];
      out.push([l[0], l[1]]);
    } else if (out !== v) out.push(l as PriceLevel);
  }
  return out;
}

/** Levels per chunk before it splits; small enough that splices stay cheap, large enough for few chunks. */
const CHUNK = 64;

/**
 * One side as a two-level sorted structure: chunks of at most 2×CHUNK levels, ordered by key, best
 * last. Finding a level is a binary search over chunks then within one; inserts and removals only
 * splice one small chunk, so deep books (thousands of levels) stay fast.
 */
class Side {
  private chunks: Level[][] = [];
  private readonly byPrice = new Map<string, Level>();
  private n = 0;
  constructor(private readonly sign: 1 | -1) {}

  get count(): number {
    return this.n;
  }

  clear(): void {
    this.chunks = [];
    this.byPrice.clear();
    this.n = 0;
  }

  /** Sets a level; a zero size removes it. */
  set(price: string, size: string): void {
    const zero = isZeroDecimal(size);
    const existing = this.byPrice.get(price);
    if (existing !== undefined) {
      if (zero) this.remove(existing);
      else existing.size = size;
      return;
    }
    const key = this.sign * Number(price);
    const chunks = this.chunks;
    if (chunks.length === 0) {
      if (!zero) this.insertNew(0, 0, key, price, size);
      return;
    }
    const c = this.chunkFor(key, price);
    const chunk = chunks[c];
    const i = this.lowerBound(chunk, key, price);
    const at = chunk[i];
    if (at !== undefined && at.key === key && compareDecimal(at.price, price) === 0) {
      // Same price written differently ("1.5" vs "1.50"): one level, latest spelling wins.
      if (zero) {
        this.remove(at);
      } else {
        this.byPrice.delete(at.price);
        at.price = price;
        at.size = size;
        this.byPrice.set(price, at);
      }
      return;
    }
    if (!zero) this.insertNew(c, i, key, price, size);
  }

  /** Bulk load, e.g. a snapshot: sorts once instead of inserting level by level. */
  load(levels: readonly (readonly string[])[]): void {
    this.clear();
    const arr: Level[] = [];
    for (let i = 0; i < levels.length; i++) {
      const price = levels[i][0];
      const size = levels[i][1];
      const prev = this.byPrice.get(price);
      if (prev !== undefined) {
        prev.size = size; // a repeated price: the later row wins, as in a diff
        continue;
      }
      const lv: Level = { key: this.sign * Number(price), price, size };
      arr.push(lv);
      this.byPrice.set(price, lv);
    }
    const sign = this.sign;
    arr.sort((a, b) => (a.key !== b.key ? a.key - b.key : sign * compareDecimal(a.price, b.price)));
    let w = 0;
    for (let r = 0; r < arr.length; r++) {
      const lv = arr[r];
      if (isZeroDecimal(lv.size)) {
        this.byPrice.delete(lv.price);
        continue;
      }
      // "Same value, different spelling" duplicates the Map could not see: the later one wins.
      if (w > 0 && arr[w - 1].key === lv.key && compareDecimal(arr[w - 1].price, lv.price) === 0) {
        this.byPrice.delete(arr[w - 1].price);
        w--;
      }
      arr[w++] = lv;
    }
    arr.length = w;
    for (let i = 0; i < w; i += CHUNK) this.chunks.push(arr.slice(i, i + CHUNK));
    this.n = w;
  }

  sizeAt(price: string): string | undefined {
    const lv = this.byPrice.get(price);
    if (lv !== undefined) return lv.size;
    if (this.chunks.length === 0) return undefined;
    const key = this.sign * Number(price);
    const chunk = this.chunks[this.chunkFor(key, price)];
    const at = chunk[this.lowerBound(chunk, key, price)];
    return at !== undefined && at.key === key && compareDecimal(at.price, price) === 0 ? at.size : undefined;
  }

  best(): PriceLevel | undefined {
    const last = this.chunks[this.chunks.length - 1];
    if (last === undefined) return undefined;
    const lv = last[last.length - 1];
    return [lv.price, lv.size];
  }

  top(n: number): PriceLevel[] {
    const out: PriceLevel[] = [];
    this.forEachTop(n, (p, s) => out.push([p, s]));
    return out;
  }

  /** Visits the best n levels, best first. */
  forEachTop(n: number, fn: (price: string, size: string, rank: number) => void): void {
    let r = 0;
    for (let c = this.chunks.length - 1; c >= 0 && r < n; c--) {
      const chunk = this.chunks[c];
      for (let i = chunk.length - 1; i >= 0 && r < n; i--, r++) fn(chunk[i].price, chunk[i].size, r);
    }
  }

  /** Order of a level against (key, price): negative if it sorts before. */
  private cmp(a: Level, key: number, price: string): number {
    if (a.key !== key) return a.key < key ? -1 : 1;
    // Equal doubles are possible for long decimals; only then is the exact comparison needed.
    return a.price === price ? 0 : this.sign * compareDecimal(a.price, price);
  }

  /** The chunk that holds (key, price) or where it would be inserted. */
  private chunkFor(key: number, price: string): number {
    const chunks = this.chunks;
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.cmp(chunks[mid][0], key, price) <= 0) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private lowerBound(chunk: Level[], key: number, price: string): number {
    let lo = 0;
    let hi = chunk.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cmp(chunk[mid], key, price) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private insertNew(c: number, i: number, key: number, price: string, size: string): void {
    const lv: Level = { key, price, size };
    this.byPrice.set(price, lv);
    this.n++;
    const chunks = this.chunks;
    if (chunks.length === 0) {
      chunks.push([lv]);
      return;
    }
    const chunk = chunks[c];
    // Manual shift: Array#splice allocates a result array on every call.
    let k = chunk.length;
    chunk.push(lv);
    for (; k > i; k--) chunk[k] = chunk[k - 1];
    chunk[i] = lv;
    if (chunk.length >= 2 * CHUNK) chunks.splice(c + 1, 0, chunk.splice(CHUNK));
  }

  private remove(lv: Level): void {
    const c = this.chunkFor(lv.key, lv.price);
    const chunk = this.chunks[c];
    let i = this.lowerBound(chunk, lv.key, lv.price);
    while (i < chunk.length && chunk[i] !== lv) i++;
    if (i === chunk.length) throw new Error(`L2Book: level ${lv.price} not where its key says`); // a bug, never data
    const last = chunk.length - 1;
    for (; i < last; i++) chunk[i] = chunk[i + 1];
    chunk.pop();
    if (last === 0) this.chunks.splice(c, 1);
    this.byPrice.delete(lv.price);
    this.n--;
  }
}

export class L2Book {
  private readonly bids = new Side(1);
  private readonly asks = new Side(-1);
  /** Whether the book is known to match the exchange's; false until a snapshot or after a gap. */
  reliable = false;
  reason = 'empty: no data yet';
  /** Last exchange update id folded into the book, for feeds that have one. */
  lastUpdateId: number | undefined;

  /** Sets one level; size "0" (any zero spelling) removes it. Strings must be valid unsigned decimals. */
  set(side: BookSide, price: string, size: string): void {
    (side === 'bid' ? this.bids : this.asks).set(price, size);
  }

  /** Applies a diff: each [price, size] sets or removes a level. */
  apply(bids: readonly (readonly string[])[], asks: readonly (readonly string[])[]): void {
    for (let i = 0; i < bids.length; i++) this.bids.set(bids[i][0], bids[i][1]);
    for (let i = 0; i < asks.length; i++) this.asks.set(asks[i][0], asks[i][1]);
  }

  /** Replaces the whole book with a snapshot. */
  replace(bids: readonly (readonly string[])[], asks: readonly (readonly string[])[]): void {
    this.bids.load(bids);
    this.asks.load(asks);
  }

  clear(): void {
    this.bids.clear();
    this.asks.clear();
    this.lastUpdateId = undefined;
  }

  bestBid(): PriceLevel | undefined {
    return this.bids.best();
  }

  bestAsk(): PriceLevel | undefined {
    return this.asks.best();
  }

  /** The best n levels of a side, best first, as the feed's original strings. */
  top(side: BookSide, n: number): PriceLevel[] {
    return (side === 'bid' ? this.bids : this.asks).top(n);
  }

  forEachTop(side: BookSide, n: number, fn: (price: string, size: string, rank: number) => void): void {
    (side === 'bid' ? this.bids : this.asks).forEachTop(n, fn);
  }

  sizeAt(side: BookSide, price: string): string | undefined {
    return (side === 'bid' ? this.bids : this.asks).sizeAt(price);
  }

  /** Number of levels on a side. */
  count(side: BookSide): number {
    return (side === 'bid' ? this.bids : this.asks).count;
  }

  /** Crossed (best bid >= best ask) is a sign of a broken book. */
  crossed(): boolean {
    const b = this.bids.best();
    const a = this.asks.best();
    return b !== undefined && a !== undefined && compareDecimal(b[0], a[0]) >= 0;
  }

  setReliable(reliable: boolean, reason: string): void {
    this.reliable = reliable;
    this.reason = reason;
  }
}
