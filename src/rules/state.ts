import { KeyedState } from '../stream/keyed.js';
import { RollingCount, RollingWindow } from '../stream/rolling.js';
import { RollingQuantile } from '../stream/rolling-quantile.js';

/**
 * Distinct values in a sliding event-time window (now - windowMs, now]: a ring of (time, value)
 * plus a multiset of the values in it. add/advance are amortised O(1); `size` is O(1).
 */
export class RollingDistinct {
  readonly windowMs: number;
  private ts = new Float64Array(16);
  private vs: string[] = new Array<string>(16);
  private mask = 15;
  private start = 0;
  private end = 0;
  private readonly counts = new Map<string, number>();
  now = -Infinity;

  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  /** Number of distinct values in the window. */
  get size(): number {
    return this.counts.size;
  }
  get count(): number {
    return this.end - this.start;
  }

  add(t: number, v: string): void {
    if (t > this.now) this.advance(t);
    else t = this.now;
    if (this.end - this.start === this.mask + 1) this.grow();
    const k = this.end++ & this.mask;
    this.ts[k] = t;
    this.vs[k] = v;
    this.counts.set(v, (this.counts.get(v) ?? 0) + 1);
  }

  advance(t: number): void {
    if (t > this.now) this.now = t;
    const cutoff = this.now - this.windowMs;
    while (this.end > this.start && this.ts[this.start & this.mask] <= cutoff) {
      const k = this.start++ & this.mask;
      const v = this.vs[k];
      const c = this.counts.get(v)!;
      if (c <= 1) this.counts.delete(v);
      else this.counts.set(v, c - 1);
      this.vs[k] = '';
    }
  }

  private grow(): void {
    const cap = (this.mask + 1) * 2;
    const ts = new Float64Array(cap);
    const vs = new Array<string>(cap);
    for (let i = this.start; i < this.end; i++) {
      ts[i & (cap - 1)] = this.ts[i & this.mask];
      vs[i & (cap - 1)] = this.vs[i & this.mask];
    }
    this.ts = ts;
    this.vs = vs;
    this.mask = cap - 1;
  }
}

export type GroupFamily = 'count' | 'window' | 'distinct' | 'quantile' | 'alerts';
export type GroupState = RollingCount | RollingWindow | RollingDistinct | RollingQuantile;

/**
 * The per-key windows of one aggregate group. A key idle for longer than the window holds nothing
 * any more, so it is dropped after `windowMs` of event time (KeyedState expires it exactly and
 * sweeps it lazily): memory stays bounded by the keys active within one window.
 */
export function createGroupState(family: GroupFamily, windowMs: number, minMax: boolean, maxKeys: number): KeyedState<string, GroupState> {
  const factory =
    family === 'count' || family === 'alerts'
      ? () => new RollingCount(windowMs)
      : family === 'window'
        ? () => new RollingWindow(windowMs, { minMax })
        : family === 'distinct'
          ? () => new RollingDistinct(windowMs)
          : () => new RollingQuantile(windowMs);
  return new KeyedState<string, GroupState>(factory, { idleMs: windowMs, maxKeys });
}
