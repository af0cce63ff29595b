/**
 * A per-order (L3) limit order book with price-time priority.
 *
 * Prices and sizes are integers (ticks and lots) so every operation is exact; callers convert
 * at the edges. Each price level is a FIFO doubly-linked list, so adding, cancelling and
 * executing an order is O(1) at an existing level and O(log L) (+ a short splice near the touch)
 * when a level appears or disappears.
 */
export type BookSide = 'buy' | 'sell';
export type OrderKey = string | number;

export interface RestingOrder {
  readonly id: OrderKey;
  readonly side: BookSide;
  readonly price: number;
  /** Remaining size. */
  size: number;
  /** Event time the order (or its last loss of priority) entered the book. */
  ts: number;
  accountId?: string;
  /** Opaque payload for the owner (e.g. the event id that placed it). */
  tag?: unknown;
  prev: RestingOrder | null;
  next: RestingOrder | null;
  level: PriceLevel | null;
}

export class PriceLevel {
  head: RestingOrder | null = null;
  tail: RestingOrder | null = null;
  total = 0;
  count = 0;
  constructor(readonly price: number) {}

  push(o: RestingOrder): void {
    o.level = this;
    o.prev = this.tail;
    o.next = null;
    if (this.tail) this.tail.next = o;
    else this.head = o;
    this.tail = o;
    this.total += o.size;
    this.count++;
  }

  unlink(o: RestingOrder): void {
    if (o.prev) o.prev.next = o.next;
    else this.head = o.next;
    if (o.next) o.next.prev = o.prev;
    else this.tail = o.prev;
    this.total -= o.size;
    this.count--;
    o.prev = o.next = null;
    o.level = null;
  }
}

/** One side: levels by price, plus prices kept sorted worst-first so the touch is at the end (cheap splices). */
export class BookLevels {
  readonly levels = new Map<number, PriceLevel>();
  /** Sorted so that the best price is last. */
  readonly prices: number[] = [];
  constructor(readonly isBid: boolean) {}

  /** true if a is worse than b for this side. */
  private worse(a: number, b: number): boolean {
    return this.isBid ? a < b : a > b;
  }

  private indexOf(price: number): number {
    // first index whose price is not worse than `price`
    let lo = 0;
    let hi = this.prices.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.worse(this.prices[mid], price)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  level(price: number, create: boolean): PriceLevel | undefined {
    let l = this.levels.get(price);
    if (!l && create) {
      l = new PriceLevel(price);
      this.levels.set(price, l);
      this.prices.splice(this.indexOf(price), 0, price);
    }
    return l;
  }

  drop(level: PriceLevel): void {
    this.levels.delete(level.price);
    const n = this.prices.length;
    if (n > 0 && this.prices[n - 1] === level.price) this.prices.pop();
    else this.prices.splice(this.indexOf(level.price), 1);
  }

  best(): PriceLevel | undefined {
    const n = this.prices.length;
    return n === 0 ? undefined : this.levels.get(this.prices[n - 1]);
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

export class L3Book {
  private readonly orders = new Map<OrderKey, RestingOrder>();
  readonly bids = new BookLevels(true);
  readonly asks = new BookLevels(false);

  get orderCount(): number {
    return this.orders.size;
  }

  side(s: BookSide): BookLevels {
    return s === 'buy' ? this.bids : this.asks;
  }

  has(id: OrderKey): boolean {
    return this.orders.has(id);
  }

  get(id: OrderKey): RestingOrder | undefined {
    return this.orders.get(id);
  }

  /** Rests an order at the back of its level. Returns undefined if the id is already resting. */
  add(id: OrderKey, side: BookSide, price: number, size: number, ts: number, accountId?: string, tag?: unknown): RestingOrder | undefined {
    if (this.orders.has(id) || size <= 0) return undefined;
    const o: RestingOrder = { id, side, price, size, ts, accountId, tag, prev: null, next: null, level: null };
    this.side(side).level(price, true)!.push(o);
    this.orders.set(id, o);
    return o;
  }

  /**
   * Rests a caller-built order object (e.g. a matching engine's own order record) at the back of its
   * level, so the owner keeps one object per order. Returns false if the id is already resting.
   */
  insert(o: RestingOrder): boolean {
    if (this.orders.has(o.id) || o.size <= 0) return false;
    this.side(o.side).level(o.price, true)!.push(o);
    this.orders.set(o.id, o);
    return true;
  }

  /** Removes `qty` from an order (partial cancel or execution); removes it when nothing is left. Returns the size removed. */
  reduce(id: OrderKey, qty: number): number {
    const o = this.orders.get(id);
    if (!o) return 0;
    const take = Math.min(qty, o.size);
    if (take >= o.size) {
      this.remove(id);
      return take;
    }
    o.size -= take;
    o.level!.total -= take;
    return take;
  }

  /** Removes an order entirely. Returns it, or undefined if unknown. */
  remove(id: OrderKey): RestingOrder | undefined {
    const o = this.orders.get(id);
    if (!o) return undefined;
    const level = o.level!;
    level.unlink(o);
    if (level.count === 0) this.side(o.side).drop(level);
    this.orders.delete(id);
    return o;
  }

  /** Changes size in place (keeps priority when decreasing, loses it when increasing, as exchanges do) or price (loses priority). */
  amend(id: OrderKey, newPrice: number, newSize: number, ts: number): RestingOrder | undefined {
    const o = this.orders.get(id);
    if (!o) return undefined;
    if (newPrice === o.price && newSize <= o.size) {
      this.reduce(id, o.size - newSize);
      return this.orders.get(id);
    }
    this.remove(id);
    return this.add(id, o.side, newPrice, newSize, ts, o.accountId, o.tag);
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
    for (const l of this.side(side).walk()) {
      if (out.length >= n) break;
      out.push({ price: l.price, size: l.total, orders: l.count });
    }
    return out;
  }

  levelCount(side: BookSide): number {
    return this.side(side).prices.length;
  }

  clear(): void {
    for (const id of [...this.orders.keys()]) this.remove(id);
  }
}
