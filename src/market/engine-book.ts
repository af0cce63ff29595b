/**
 * The matching engine's own price-time book. Unlike the general L3Book it keeps no id index: the
 * engine holds every order object and each order knows its level, so resting, cancelling and
 * filling touch no hash map. Levels sit in an array sorted worst-first (the touch is last); the
 * engine's work happens near the touch, so lookups scan a few levels from the end before falling
 * back to a binary search. Emptied levels are recycled.
 */
export interface BookNode {
  readonly side: 'buy' | 'sell';
  readonly price: number;
  /** Remaining size in lots. */
  size: number;
  prev: BookNode | null;
  next: BookNode | null;
  level: BookLevel | null;
}

export class BookLevel {
  head: BookNode | null = null;
  tail: BookNode | null = null;
  /** Lots resting at this price. */
  total = 0;
  count = 0;
  constructor(public price: number) {}
}

const SCAN = 8;

export class BookSide {
  /** Levels sorted worst-first, so the best price is last and changes at the touch are cheap splices. */
  readonly levels: BookLevel[] = [];
  constructor(readonly isBid: boolean) {}

  best(): BookLevel | undefined {
    const n = this.levels.length;
    return n === 0 ? undefined : this.levels[n - 1];
  }

  /** Best price in ticks, 0 when the side is empty. */
  bestPrice(): number {
    const n = this.levels.length;
    return n === 0 ? 0 : this.levels[n - 1].price;
  }

  /** Index of the first level whose price is not worse than `price`. */
  position(price: number): number {
    const ls = this.levels;
    const bid = this.isBid;
    let i = ls.length;
    const stop = i > SCAN ? i - SCAN : 0;
    while (i > stop) {
      const p = ls[i - 1].price;
      if (bid ? p < price : p > price) return i;
      i--;
    }
    if (i === 0) return 0;
    let lo = 0;
    let hi = i;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const p = ls[mid].price;
      if (bid ? p < price : p > price) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Lots at prices at least as good as `limit` (what a taker could reach). */
  depthTo(limit: number): number {
    const ls = this.levels;
    let sum = 0;
    for (let i = ls.length - 1; i >= 0; i--) {
      const l = ls[i];
      if (this.isBid ? l.price < limit : l.price > limit) break;
      sum += l.total;
    }
    return sum;
  }
}

export class EngineBook {
  readonly bids = new BookSide(true);
  readonly asks = new BookSide(false);
  orderCount = 0;
  private readonly spare: BookLevel[] = [];

  side(s: 'buy' | 'sell'): BookSide {
    return s === 'buy' ? this.bids : this.asks;
  }

  /** Rests an order at the back of its price level. */
  insert(o: BookNode): void {
    const side = o.side === 'buy' ? this.bids : this.asks;
    const ls = side.levels;
    const at = side.position(o.price);
    let level: BookLevel;
    if (at < ls.length && ls[at].price === o.price) level = ls[at];
    else {
      const s = this.spare.pop();
      if (s === undefined) level = new BookLevel(o.price);
      else {
        level = s;
        level.price = o.price;
      }
      insertAt(ls, at, level);
    }
    o.level = level;
    o.prev = level.tail;
    o.next = null;
    if (level.tail !== null) level.tail.next = o;
    else level.head = o;
    level.tail = o;
    level.total += o.size;
    level.count++;
    this.orderCount++;
  }

  /** Takes a resting order out of the book (its level goes when it empties). */
  remove(o: BookNode): void {
    const level = o.level!;
    if (o.prev !== null) o.prev.next = o.next;
    else level.head = o.next;
    if (o.next !== null) o.next.prev = o.prev;
    else level.tail = o.prev;
    level.total -= o.size;
    level.count--;
    o.prev = o.next = null;
    o.level = null;
    this.orderCount--;
    if (level.count === 0) {
      const ls = (o.side === 'buy' ? this.bids : this.asks).levels;
      const n = ls.length;
      if (ls[n - 1] === level) ls.pop();
      else removeAt(ls, (o.side === 'buy' ? this.bids : this.asks).position(level.price));
      level.head = level.tail = null;
      level.total = 0;
      this.spare.push(level);
    }
  }
}

/** Array insert without splice's garbage (splice allocates the array of removed items). */
function insertAt<T>(a: T[], i: number, x: T): void {
  let j = a.length;
  a.push(x);
  for (; j > i; j--) a[j] = a[j - 1];
  a[i] = x;
}

function removeAt<T>(a: T[], i: number): void {
  const last = a.length - 1;
  for (let j = i; j < last; j++) a[j] = a[j + 1];
  a.pop();
}
