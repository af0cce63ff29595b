/**
 * A sliding event-time window whose reads do not change it. Samples are evicted only when a new
 * sample arrives, so the window's state depends on its inputs alone — never on when or how often it
 * was read. That is what lets the online operator (reads at any time) and the batch join (reads at
 * decision times only) produce bit-identical features. Reads use prefix sums and binary search:
 * O(log n); `add` is amortised O(1).
 */
export class TimeWindow {
  private cap = 8;
  private mask = 7;
  private ts = new Float64Array(8);
  private vs = new Float64Array(8);
  /** cum[i] = sum of values of samples up to and including absolute index i. */
  private cum = new Float64Array(8);
  private start = 0;
  private end = 0;
  /** Sum through the last evicted sample (prefix of everything before `start`). */
  private cumStart = 0;
  // Monotonic deque of absolute indices with decreasing values (for max), when kept.
  private dq: number[] | undefined;
  private dqHead = 0;

  constructor(readonly windowMs: number, keepMax = false) {
    if (keepMax) this.dq = [];
  }

  add(t: number, v: number): void {
    if (!Number.isFinite(v)) return;
    const cutoff = t - this.windowMs;
    while (this.start < this.end && this.ts[this.start & this.mask] <= cutoff) this.cumStart = this.cum[this.start++ & this.mask];
    if (this.end - this.start === this.cap) this.grow();
    const prev = this.end > this.start ? this.cum[(this.end - 1) & this.mask] : this.cumStart;
    const i = this.end++;
    this.ts[i & this.mask] = t;
    this.vs[i & this.mask] = v;
    this.cum[i & this.mask] = prev + v;
    const dq = this.dq;
    if (dq) {
      while (dq.length > this.dqHead && this.vs[dq[dq.length - 1] & this.mask] <= v) dq.pop();
      dq.push(i);
      while (this.dqHead < dq.length && dq[this.dqHead] < this.start) this.dqHead++;
      if (this.dqHead > 1024 && this.dqHead * 2 > dq.length) {
        dq.splice(0, this.dqHead);
        this.dqHead = 0;
      }
    }
  }

  /** First absolute index whose time is inside (asOf − window, asOf]. */
  private first(asOf: number): number {
    const cutoff = asOf - this.windowMs;
    let lo = this.start;
    let hi = this.end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid & this.mask] <= cutoff) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  count(asOf: number): number {
    return this.end - this.first(asOf);
  }

  sum(asOf: number): number {
    const f = this.first(asOf);
    if (f === this.end) return 0;
    const before = f === this.start ? this.cumStart : this.cum[(f - 1) & this.mask];
    return this.cum[(this.end - 1) & this.mask] - before;
  }

  /** Largest value in the window as of `asOf`; 0 when empty (windows hold non-negative amounts). */
  max(asOf: number): number {
    const dq = this.dq;
    if (!dq) throw new Error('this window does not keep its maximum');
    const f = this.first(asOf);
    let lo = this.dqHead;
    let hi = dq.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (dq[mid] < f) lo = mid + 1;
      else hi = mid;
    }
    return lo < dq.length ? this.vs[dq[lo] & this.mask] : 0;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const ts = new Float64Array(cap);
    const vs = new Float64Array(cap);
    const cum = new Float64Array(cap);
    for (let i = this.start; i < this.end; i++) {
      ts[i & (cap - 1)] = this.ts[i & this.mask];
      vs[i & (cap - 1)] = this.vs[i & this.mask];
      cum[i & (cap - 1)] = this.cum[i & this.mask];
    }
    this.ts = ts;
    this.vs = vs;
    this.cum = cum;
    this.cap = cap;
    this.mask = cap - 1;
  }
}
