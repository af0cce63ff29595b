/**
 * Sliding event-time windows: count, sum, mean, min and max over the samples whose time lies in
 * (now - windowMs, now], where `now` is the newest time given to `add` or `advance`.
 *
 * Samples live in a growable power-of-two ring; min and max use monotonic deques (each sample
 * enters and leaves each deque once), so `add` and `advance` are amortised O(1) and every getter is
 * O(1). The sum is compensated (Neumaier), so adding and expiring millions of samples does not
 * drift. Time is event time only. A sample older than `now` (a late event) is counted as if it
 * arrived at `now`: windows never reorder. Non-finite values are ignored (never thrown on).
 *
 * Uniform API of the src/stream primitives: `add(t, v)`, `advance(t)`, getters, `reset()`.
 */
export interface RollingOptions {
  /** Keep min/max deques (default true). Without them a window is a little cheaper. */
  minMax?: boolean;
  /** Also cap the window at this many newest samples (default unbounded, i.e. time only). */
  maxCount?: number;
}

const NO_DEQUE = new Float64Array(0);

export class RollingWindow {
  readonly windowMs: number;
  private readonly minMax: boolean;
  private readonly maxCount: number;
  private cap = 16;
  private mask = 15;
  private ts = new Float64Array(16);
  private vs = new Float64Array(16);
  /** absolute index of the oldest sample in the window, and one past the newest */
  private start = 0;
  private end = 0;
  // monotonic deques of absolute sample indices, stored in rings of the same capacity (empty without minMax)
  private maxQ: Float64Array;
  private maxHead = 0;
  private maxLen = 0;
  private minQ: Float64Array;
  private minHead = 0;
  private minLen = 0;
  private s = 0;
  private c = 0;
  /** Newest time seen. */
  now = -Infinity;

  constructor(windowMs: number, opts: RollingOptions = {}) {
    this.windowMs = windowMs;
    this.minMax = opts.minMax ?? true;
    this.maxCount = opts.maxCount ?? Infinity;
    this.maxQ = this.minMax ? new Float64Array(16) : NO_DEQUE;
    this.minQ = this.minMax ? new Float64Array(16) : NO_DEQUE;
  }

  get count(): number {
    return this.end - this.start;
  }

  get sum(): number {
    return this.s + this.c;
  }

  /** Mean of the window, NaN when empty. */
  mean(): number {
    const n = this.end - this.start;
    return n === 0 ? NaN : (this.s + this.c) / n;
  }

  /** Smallest value in the window, NaN when empty (or when built without min/max). */
  min(): number {
    return this.minLen === 0 ? NaN : this.vs[this.minQ[this.minHead & this.mask] & this.mask];
  }

  /** Largest value in the window, NaN when empty (or when built without min/max). */
  max(): number {
    return this.maxLen === 0 ? NaN : this.vs[this.maxQ[this.maxHead & this.mask] & this.mask];
  }

  /** Time of the oldest sample still in the window, NaN when empty. */
  oldestTime(): number {
    return this.end === this.start ? NaN : this.ts[this.start & this.mask];
  }

  add(t: number, v: number): void {
    if (!Number.isFinite(v)) return;
    if (t > this.now) this.advance(t);
    else t = this.now;
    if (this.end - this.start === this.cap) this.grow();
    const i = this.end++;
    const k = i & this.mask;
    this.ts[k] = t;
    this.vs[k] = v;
    this.addSum(v);
    if (this.minMax) {
      const mask = this.mask;
      while (this.maxLen > 0 && this.vs[this.maxQ[(this.maxHead + this.maxLen - 1) & mask] & mask] <= v) this.maxLen--;
      this.maxQ[(this.maxHead + this.maxLen++) & mask] = i;
      while (this.minLen > 0 && this.vs[this.minQ[(this.minHead + this.minLen - 1) & mask] & mask] >= v) this.minLen--;
      this.minQ[(this.minHead + this.minLen++) & mask] = i;
    }
    if (this.end - this.start > this.maxCount) this.evictOne();
  }

  /** Moves `now` to t (if later) and expires samples with time <= t - windowMs. */
  advance(t: number): void {
    if (t > this.now) this.now = t;
    const cutoff = this.now - this.windowMs;
    while (this.end > this.start && this.ts[this.start & this.mask] <= cutoff) this.evictOne();
  }

  reset(): void {
    this.start = this.end = 0;
    this.maxHead = this.maxLen = this.minHead = this.minLen = 0;
    this.s = this.c = 0;
    this.now = -Infinity;
  }

  private evictOne(): void {
    const i = this.start++;
    const mask = this.mask;
    this.addSum(-this.vs[i & mask]);
    if (this.start === this.end) this.s = this.c = 0; // exact zero when empty
    if (this.maxLen > 0 && this.maxQ[this.maxHead & mask] === i) {
      this.maxHead++;
      this.maxLen--;
    }
    if (this.minLen > 0 && this.minQ[this.minHead & mask] === i) {
      this.minHead++;
      this.minLen--;
    }
  }

  private addSum(v: number): void {
    const t = this.s + v;
    if (Math.abs(this.s) >= Math.abs(v)) this.c += this.s - t + v;
    else this.c += v - t + this.s;
    this.s = t;
  }

  private grow(): void {
    const oldMask = this.mask;
    const cap = this.cap * 2;
    const mask = cap - 1;
    const ts = new Float64Array(cap);
    const vs = new Float64Array(cap);
    for (let i = this.start; i < this.end; i++) {
      ts[i & mask] = this.ts[i & oldMask];
      vs[i & mask] = this.vs[i & oldMask];
    }
    this.ts = ts;
    this.vs = vs;
    if (this.minMax) {
      const maxQ = new Float64Array(cap);
      for (let j = 0; j < this.maxLen; j++) maxQ[j] = this.maxQ[(this.maxHead + j) & oldMask];
      const minQ = new Float64Array(cap);
      for (let j = 0; j < this.minLen; j++) minQ[j] = this.minQ[(this.minHead + j) & oldMask];
      this.maxQ = maxQ;
      this.minQ = minQ;
    }
    this.maxHead = this.minHead = 0;
    this.cap = cap;
    this.mask = mask;
  }
}

const EMPTY: number[] = [];

/**
 * A new ring of capacity `cap` (a power of two) holding old[start..end) (indices masked by `mask`)
 * from index 0: pushed from empty as doubles, so the array keeps one elements kind.
 */
export function ringOf(old: number[], start: number, end: number, mask: number, cap: number): number[] {
  const ts: number[] = [];
  for (let i = start; i < end; i++) ts.push(old[i & mask]);
  while (ts.length < cap) ts.push(0.5);
  return ts;
}

/**
 * A sliding event-time counter (events in the last `windowMs`), e.g. a message rate. Amortised O(1), about 8 bytes per
 * event in the window.
 */
export class RollingCount {
  readonly windowMs: number;
  // A plain array allocated on the first sample and grown by doubling: most keyed counts (an account
  // × market, a rule's group) see a handful of samples, and a typed array costs microseconds to allocate.
  private ts: number[] = EMPTY;
  private mask = -1;
  private start = 0;
  private end = 0;
  now = -Infinity;

  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  get count(): number {
    return this.end - this.start;
  }

  add(t: number, _v = 1): void {
    if (t > this.now) this.advance(t);
    else t = this.now;
    if (this.end - this.start === this.mask + 1) {
      const n = this.end - this.start;
      this.ts = ringOf(this.ts, this.start, this.end, this.mask, n === 0 ? 4 : n * 2);
      this.mask = this.ts.length - 1;
      this.start = 0;
      this.end = n;
    }
    this.ts[this.end++ & this.mask] = t;
  }

  advance(t: number): void {
    if (t > this.now) this.now = t;
    const cutoff = this.now - this.windowMs;
    while (this.end > this.start && this.ts[this.start & this.mask] <= cutoff) this.start++;
  }

  reset(): void {
    this.start = this.end = 0;
    this.now = -Infinity;
  }
}
