import { IdMap } from '../market/id-map.js';
import type { OrderKey } from '../market/l3-book.js';

/**
 * One market's recent orders that do not rest (market, IOC, FOK): order key → account and side, so
 * their trades can be attributed for `ttlMs` of event time after placement. A ring in placement
 * order plus an IdMap of key → slot: no object per order (it was a KeyedState entry and a record
 * per taker order, and a Map entry made and deleted for each). Entries leave when older than ttlMs
 * (checked on every read, dropped from the ring's front on add and sweep), when deleted, or when the
 * ring is at `maxKeys` (oldest first).
 */
export class TakerLog {
  private keys: OrderKey[] = [];
  private accounts: string[] = [];
  private sides: ('buy' | 'sell')[] = [];
  private ts: number[] = [];
  private mask = -1;
  private start = 0;
  private end = 0;
  private readonly index = new IdMap();

  constructor(
    readonly ttlMs: number,
    readonly maxKeys = 200_000,
  ) {}

  get size(): number {
    return this.index.size;
  }

  /** Remembers (or re-stamps) a taker order placed at t. */
  add(key: OrderKey, account: string, side: 'buy' | 'sell', t: number): void {
    this.expire(t);
    // a repeated id: the newer placement wins (set below overwrites; the older slot is orphaned)
    if (this.end - this.start > this.mask) {
      if (this.mask + 1 < this.maxKeys) this.grow();
      else this.dropFront();
    }
    const i = this.end & this.mask;
    this.keys[i] = key;
    this.accounts[i] = account;
    this.sides[i] = side;
    this.ts[i] = t;
    this.index.set(key, this.end);
    this.end++;
  }

  /** The ring position of a live entry for key at t, or -1. */
  private find(key: OrderKey, t: number): number {
    if (this.end === this.start) return -1;
    const pos = this.index.get(key);
    if (pos === undefined) return -1;
    const i = pos & this.mask;
    return t - this.ts[i] > this.ttlMs ? -1 : i;
  }

  accountOf(key: OrderKey, t: number): string | undefined {
    const i = this.find(key, t);
    return i === -1 ? undefined : this.accounts[i];
  }

  sideOf(key: OrderKey, t: number): 'buy' | 'sell' | undefined {
    const i = this.find(key, t);
    return i === -1 ? undefined : this.sides[i];
  }

  delete(key: OrderKey): void {
    if (this.index.size > 0) this.index.delete(key);
  }

  /** Drops entries older than ttlMs at `now` from the front. */
  expire(now: number): void {
    const cutoff = now - this.ttlMs;
    while (this.end > this.start && this.ts[this.start & this.mask] < cutoff) this.dropFront();
  }

  private dropFront(): void {
    const i = this.start & this.mask;
    const key = this.keys[i];
    if (this.index.get(key) === this.start) this.index.delete(key); // not deleted or re-added since
    this.accounts[i] = '';
    this.start++;
  }

  private grow(): void {
    const n = this.end - this.start;
    const cap = Math.max(16, (this.mask + 1) * 2);
    const keys: OrderKey[] = new Array<OrderKey>(cap).fill(0);
    const accounts: string[] = new Array<string>(cap).fill('');
    const sides: ('buy' | 'sell')[] = new Array<'buy' | 'sell'>(cap).fill('buy');
    const ts: number[] = new Array<number>(cap).fill(0.5);
    for (let k = 0; k < n; k++) {
      const i = (this.start + k) & this.mask;
      keys[k] = this.keys[i];
      accounts[k] = this.accounts[i];
      sides[k] = this.sides[i];
      ts[k] = this.ts[i];
      // positions are renumbered from 0
      if (this.index.get(keys[k]) === this.start + k) this.index.set(keys[k], k);
    }
    this.keys = keys;
    this.accounts = accounts;
    this.sides = sides;
    this.ts = ts;
    this.mask = cap - 1;
    this.start = 0;
    this.end = n;
  }
}
