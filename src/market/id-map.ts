import type { OrderKey } from './l3-book.js';

const EMPTY = -0.5;
const NONE: number[] = [];

/** Whether k goes to the open-addressing table (a non-negative safe integer). */
function inTable(k: OrderKey): k is number {
  return typeof k === 'number' && k >= 0 && k <= Number.MAX_SAFE_INTEGER && Math.floor(k) === k;
}

/**
 * Order key → number, with Map semantics. Non-negative integer keys (the common case: venues number their orders)
 * sit in an open-addressing table in plain arrays (linear probing, backward-shift deletion: no
 * tombstones, no per-entry object); other keys in a Map. A Map of order ids reallocates its
 * backing store as orders come and go: it was the largest source of garbage per event in the
 * engine (the L3 book's id index) and about half of quote stuffing's time (its placement times).
 *
 * Plain arrays rather than typed arrays: most tables are small (one per account), and a typed array
 * costs microseconds to allocate. Values must be numbers; integers stay unboxed.
 */
export class IdMap {
  private keys: number[] = NONE;
  private vals: number[] = NONE;
  private mask = -1;
  private shift = 32;
  private n = 0;
  /** Keys that are not non-negative safe integers (string ids, and any other number). */
  private strs: Map<OrderKey, number> | undefined = undefined;

  get size(): number {
    return this.strs === undefined ? this.n : this.n + this.strs.size;
  }

  has(k: OrderKey): boolean {
    return inTable(k) ? this.find(k) >= 0 : this.strs !== undefined && this.strs.has(k);
  }

  get(k: OrderKey): number | undefined {
    if (!inTable(k)) return this.strs?.get(k);
    const i = this.find(k);
    return i < 0 ? undefined : this.vals[i];
  }

  set(k: OrderKey, v: number): void {
    if (!inTable(k)) {
      (this.strs ??= new Map()).set(k, v);
      return;
    }
    if ((this.n + 1) * 2 > this.mask + 1) this.grow();
    const keys = this.keys;
    let i = this.home(k);
    for (;;) {
      const x = keys[i];
      if (x === EMPTY) {
        keys[i] = k;
        this.vals[i] = v;
        this.n++;
        return;
      }
      if (x === k) {
        this.vals[i] = v;
        return;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** Removes k and returns its value (undefined when absent). */
  take(k: OrderKey): number | undefined {
    if (!inTable(k)) {
      const v = this.strs?.get(k);
      if (v !== undefined) this.strs!.delete(k);
      return v;
    }
    let i = this.find(k);
    if (i < 0) return undefined;
    const v = this.vals[i];
    const keys = this.keys;
    const mask = this.mask;
    // backward shift: move later entries of the cluster into the hole unless that would put them before their home
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const y = keys[j];
      if (y === EMPTY) break;
      const h = this.home(y);
      if (i <= j ? h <= i || h > j : h <= i && h > j) {
        keys[i] = y;
        this.vals[i] = this.vals[j];
        i = j;
      }
    }
    keys[i] = EMPTY;
    this.n--;
    return v;
  }

  delete(k: OrderKey): boolean {
    return this.take(k) !== undefined;
  }

  clear(): void {
    if (this.n > 0) this.keys.fill(EMPTY);
    this.n = 0;
    this.strs?.clear();
  }

  /** Every entry (order unspecified); the map must not change during the walk. */
  forEach(fn: (v: number, k: OrderKey) => void): void {
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== EMPTY) fn(this.vals[i], keys[i]);
    this.strs?.forEach(fn);
  }

  private find(k: number): number {
    if (this.n === 0) return -1;
    const keys = this.keys;
    const mask = this.mask;
    let i = this.home(k);
    for (;;) {
      const x = keys[i];
      if (x === k) return i;
      if (x === EMPTY) return -1;
      i = (i + 1) & mask;
    }
  }

  private home(k: number): number {
    return Math.imul((k >>> 0) ^ ((k / 4_294_967_296) | 0), 0x9e3779b1) >>> this.shift;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    const cap = this.mask < 0 ? 16 : (this.mask + 1) * 2;
    // exact capacity (push would leave up to half again as much spare); holey double elements throughout
    const keys: number[] = new Array<number>(cap).fill(EMPTY);
    const vals: number[] = new Array<number>(cap).fill(0.5);
    this.keys = keys;
    this.vals = vals;
    this.mask = cap - 1;
    this.shift = 32 - Math.log2(cap);
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i];
      if (k === EMPTY) continue;
      let j = this.home(k);
      while (keys[j] !== EMPTY) j = (j + 1) & this.mask;
      keys[j] = k;
      vals[j] = oldVals[i];
    }
  }
}
