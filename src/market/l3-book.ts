import { IdMap } from './id-map.js';

/**
 * A per-order (L3) limit order book with price-time priority.
 *
 * Prices and sizes are integers (ticks and lots) so every operation is exact; callers convert
 * at the edges. Each price level is a FIFO doubly-linked list, so adding, cancelling and
 * executing an order is O(1) at an existing level and O(log L) (+ a short splice near the touch)
 * when a level appears or disappears.
 *
 * Memory: orders live in parallel typed arrays (struct of arrays) indexed by a slot, with a free
 * list, rather than one object per order; accounts are interned (reference-counted) so a million
 * resting orders of a few thousand accounts hold a few thousand account strings. The only per-order
 * heap object is a string id's entry in the id -> slot map (integer ids sit in an open-addressing table). `get()` returns a fresh snapshot (cold paths);
 * hot paths use `slotOf()` and the `*At(slot)` accessors, which allocate nothing.
 */
export type BookSide = 'buy' | 'sell';
export type OrderKey = string | number;

/** A resting order as seen at the time of the call (a snapshot; later changes are not reflected). */
export interface RestingOrder {
  readonly id: OrderKey;
  readonly side: BookSide;
  readonly price: number;
  /** Remaining size. */
  readonly size: number;
  /** Event time the order (or its last loss of priority) entered the book. */
  readonly ts: number;
  readonly accountId?: string;
  /** Numeric payload for the owner (e.g. the order's total size); undefined if none. */
  readonly tag?: number;
}

/** A price level: its aggregate and the first/last order slot of its FIFO (-1 when empty). */
export class PriceLevel {
  head = -1;
  tail = -1;
  total = 0;
  count = 0;
  /** Fixed while the level exists (a dropped level object may be reused for another price). */
  price: number;
  constructor(price: number) {
    this.price = price;
  }
}

/** Emptied levels kept for reuse per side (levels appear and vanish constantly near the touch). */
const LEVEL_POOL = 256;

// Manual shifts: Array#splice allocates the array of removed items on every call.
function insertAt(a: number[], i: number, v: number): void {
  a.push(v);
  for (let j = a.length - 1; j > i; j--) a[j] = a[j - 1];
  a[i] = v;
}

function removeAt(a: number[], i: number): void {
  if (i < 0 || i >= a.length) return;
  for (let j = i; j < a.length - 1; j++) a[j] = a[j + 1];
  a.pop();
}

/** One side: levels by price, plus prices kept sorted worst-first so the touch is at the end (cheap splices). */
export class BookLevels {
  readonly levels = new Map<number, PriceLevel>();
  /** Sorted so that the best price is last. */
  readonly prices: number[] = [];
  private readonly pool: PriceLevel[] = [];
  constructor(readonly isBid: boolean) {}

  private indexOf(price: number): number {
    // first index whose price is not worse than `price`
    const p = this.prices;
    let lo = 0;
    let hi = p.length;
    if (this.isBid) {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (p[mid] < price) lo = mid + 1;
        else hi = mid;
      }
    } else {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (p[mid] > price) lo = mid + 1;
        else hi = mid;
      }
    }
    return lo;
  }

  level(price: number, create: boolean): PriceLevel | undefined {
    let l = this.levels.get(price);
    if (l === undefined && create) {
      if (this.pool.length > 0) {
        l = this.pool.pop()!;
        l.price = price;
      } else l = new PriceLevel(price);
      this.levels.set(price, l);
      const n = this.prices.length;
      // New levels usually appear at or near the touch (the end): append without a search then.
      if (n === 0 || (this.isBid ? price > this.prices[n - 1] : price < this.prices[n - 1])) this.prices.push(price);
      else insertAt(this.prices, this.indexOf(price), price);
    }
    return l;
  }

  drop(level: PriceLevel): void {
    this.levels.delete(level.price);
    const n = this.prices.length;
    if (n > 0 && this.prices[n - 1] === level.price) this.prices.pop();
    else removeAt(this.prices, this.indexOf(level.price));
    if (level.count === 0 && this.pool.length < LEVEL_POOL) {
      level.head = level.tail = -1;
      level.total = 0;
      this.pool.push(level);
    }
  }

  best(): PriceLevel | undefined {
    const n = this.prices.length;
    return n === 0 ? undefined : this.levels.get(this.prices[n - 1]);
  }

  /** The best level's price (ticks) without looking the level up; NaN when the side is empty. */
  bestPrice(): number {
    const n = this.prices.length;
    return n === 0 ? NaN : this.prices[n - 1];
  }

  /** Levels from the touch outwards. */
  *walk(): Generator<PriceLevel> {
    for (let i = this.prices.length - 1; i >= 0; i--) yield this.levels.get(this.prices[i])!;
  }
}

export interface LevelView {
  price: number;
  size: number;
  orders: number;
}

const BUY = 0;
const SELL = 1;
const NONE = -1;

export class L3Book {
  /** Order key → slot. */
  private readonly index = new IdMap();
  readonly bids = new BookLevels(true);
  readonly asks = new BookLevels(false);

  // --- orders, struct of arrays indexed by slot
  private cap = 0;
  private ids: OrderKey[] = [];
  private px = new Float64Array(0);
  private sz = new Float64Array(0);
  private tss = new Float64Array(0);
  private tags = new Float64Array(0);
  private prv = new Int32Array(0);
  private nxt = new Int32Array(0);
  private sides = new Uint8Array(0);
  private accts = new Int32Array(0);
  private lvl: (PriceLevel | null)[] = [];
  /** Free slots, chained through `nxt`. */
  private freeHead = NONE;
  private used = 0;

  // --- interned accounts, reference-counted by resting orders
  private readonly acctIds = new Map<string, number>();
  private readonly acctNames: string[] = [];
  private acctRefs = new Int32Array(0);
  private readonly acctFree: number[] = [];

  get orderCount(): number {
    return this.index.size;
  }

  side(s: BookSide): BookLevels {
    return s === 'buy' ? this.bids : this.asks;
  }

  has(id: OrderKey): boolean {
    return this.index.has(id);
  }

  /** The order's slot (for the `*At` accessors), or -1 if it is not resting. */
  slotOf(id: OrderKey): number {
    const s = this.index.get(id);
    return s === undefined ? NONE : s;
  }

  idAt(slot: number): OrderKey {
    return this.ids[slot];
  }
  sideAt(slot: number): BookSide {
    return this.sides[slot] === BUY ? 'buy' : 'sell';
  }
  priceAt(slot: number): number {
    return this.px[slot];
  }
  sizeAt(slot: number): number {
    return this.sz[slot];
  }
  tsAt(slot: number): number {
    return this.tss[slot];
  }
  accountAt(slot: number): string | undefined {
    const a = this.accts[slot];
    return a === NONE ? undefined : this.acctNames[a];
  }
  /** The order's numeric tag, NaN if none. */
  tagAt(slot: number): number {
    return this.tags[slot];
  }
  setTagAt(slot: number, tag: number): void {
    this.tags[slot] = tag;
  }
  /** The next order of the same level in time priority, -1 at the end. */
  nextAt(slot: number): number {
    return this.nxt[slot];
  }

  /** A snapshot of a resting order (allocates; hot paths use slotOf and the accessors). */
  get(id: OrderKey): RestingOrder | undefined {
    const s = this.index.get(id);
    if (s === undefined) return undefined;
    const tag = this.tags[s];
    return { id: this.ids[s], side: this.sideAt(s), price: this.px[s], size: this.sz[s], ts: this.tss[s], accountId: this.accountAt(s), tag: tag === tag ? tag : undefined };
  }

  /** Rests an order at the back of its level. Returns false if the id is already resting or size <= 0. */
  add(id: OrderKey, side: BookSide, price: number, size: number, ts: number, accountId?: string, tag?: number): boolean {
    if (!(size > 0) || this.index.has(id)) return false;
    const s = this.alloc();
    this.ids[s] = id;
    this.px[s] = price;
    this.sz[s] = size;
    this.tss[s] = ts;
    this.tags[s] = tag === undefined ? NaN : tag;
    this.sides[s] = side === 'buy' ? BUY : SELL;
    this.accts[s] = accountId === undefined ? NONE : this.internAccount(accountId);
    this.push(this.side(side).level(price, true)!, s);
    this.index.set(id, s);
    return true;
  }

  /** Removes `qty` from an order (partial cancel or execution); removes it when nothing is left. Returns the size removed. */
  reduce(id: OrderKey, qty: number): number {
    const s = this.index.get(id);
    if (s === undefined) return 0;
    const have = this.sz[s];
    const take = Math.min(qty, have);
    if (take >= have) {
      this.removeSlot(id, s);
      return take;
    }
    this.sz[s] = have - take;
    this.lvl[s]!.total -= take;
    return take;
  }

  /** Removes an order entirely. Returns true if it was resting. */
  remove(id: OrderKey): boolean {
    const s = this.index.get(id);
    if (s === undefined) return false;
    this.removeSlot(id, s);
    return true;
  }

  /**
   * Changes size in place (keeps priority when decreasing, loses it when increasing, as exchanges do)
   * or price (loses priority). Returns the order's slot afterwards, -1 if it is not (or no longer) resting.
   */
  amend(id: OrderKey, newPrice: number, newSize: number, ts: number): number {
    const s = this.index.get(id);
    if (s === undefined) return NONE;
    if (newPrice === this.px[s] && newSize <= this.sz[s]) {
      this.reduce(id, this.sz[s] - newSize);
      return this.slotOf(id);
    }
    const side = this.sideAt(s);
    const account = this.accountAt(s);
    const tag = this.tags[s];
    this.removeSlot(id, s);
    return this.add(id, side, newPrice, newSize, ts, account, tag === tag ? tag : undefined) ? this.slotOf(id) : NONE;
  }

  bestBid(): PriceLevel | undefined {
    return this.bids.best();
  }

  bestAsk(): PriceLevel | undefined {
    return this.asks.best();
  }

  /** Up to n levels from the touch. */
  depth(side: BookSide, n: number): LevelView[] {
    const out: LevelView[] = [];
    const lv = this.side(side);
    for (let i = lv.prices.length - 1; i >= 0 && out.length < n; i--) {
      const l = lv.levels.get(lv.prices[i])!;
      out.push({ price: l.price, size: l.total, orders: l.count });
    }
    return out;
  }

  levelCount(side: BookSide): number {
    return this.side(side).prices.length;
  }

  clear(): void {
    const all: [OrderKey, number][] = [];
    this.index.forEach((s, id) => all.push([id, s]));
    for (const [id, s] of all) this.removeSlot(id, s);
  }

  // ------------------------------------------------------------ internals

  private push(level: PriceLevel, s: number): void {
    this.lvl[s] = level;
    this.prv[s] = level.tail;
    this.nxt[s] = NONE;
    if (level.tail !== NONE) this.nxt[level.tail] = s;
    else level.head = s;
    level.tail = s;
    level.total += this.sz[s];
    level.count++;
  }

  private removeSlot(id: OrderKey, s: number): void {
    const level = this.lvl[s]!;
    const p = this.prv[s];
    const n = this.nxt[s];
    if (p !== NONE) this.nxt[p] = n;
    else level.head = n;
    if (n !== NONE) this.prv[n] = p;
    else level.tail = p;
    level.total -= this.sz[s];
    level.count--;
    if (level.count === 0) (this.sides[s] === BUY ? this.bids : this.asks).drop(level);
    this.index.delete(id);
    const a = this.accts[s];
    if (a !== NONE && --this.acctRefs[a] === 0) {
      this.acctIds.delete(this.acctNames[a]);
      this.acctNames[a] = '';
      this.acctFree.push(a);
    }
    this.lvl[s] = null;
    this.ids[s] = 0;
    this.nxt[s] = this.freeHead;
    this.freeHead = s;
    this.used--;
  }

  private alloc(): number {
    if (this.freeHead !== NONE) {
      const s = this.freeHead;
      this.freeHead = this.nxt[s];
      this.used++;
      return s;
    }
    if (this.used >= this.cap) this.grow();
    return this.used++;
  }

  private grow(): void {
    const cap = Math.max(64, this.cap * 2);
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    const i32 = (a: Int32Array) => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    this.px = f64(this.px);
    this.sz = f64(this.sz);
    this.tss = f64(this.tss);
    this.tags = f64(this.tags);
    this.prv = i32(this.prv);
    this.nxt = i32(this.nxt);
    this.accts = i32(this.accts);
    const sides = new Uint8Array(cap);
    sides.set(this.sides);
    this.sides = sides;
    this.cap = cap;
  }

  private internAccount(name: string): number {
    let a = this.acctIds.get(name);
    if (a === undefined) {
      if (this.acctFree.length > 0) a = this.acctFree.pop()!;
      else {
        a = this.acctNames.length;
        this.acctNames.push('');
        if (a >= this.acctRefs.length) {
          const refs = new Int32Array(Math.max(64, this.acctRefs.length * 2));
          refs.set(this.acctRefs);
          this.acctRefs = refs;
        }
      }
      this.acctNames[a] = name;
      this.acctRefs[a] = 0;
      this.acctIds.set(name, a);
    }
    this.acctRefs[a]++;
    return a;
  }
}
