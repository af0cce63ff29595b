/**
 * Quantiles on streams.
 *
 * - `OrderStatisticTree`: a multiset of numbers with insert, delete, k-th smallest and rank in
 *   O(log n) expected. It is a treap (randomised balanced BST, priorities from a fixed-seed
 *   xorshift so runs are reproducible) stored in typed arrays with a free list: no object per
 *   value, equal values share a node (a count), memory is ~40 bytes per distinct value.
 * - `RollingQuantile`: exact quantiles of the values in a sliding event-time window (optionally also
 *   capped to the newest N samples): a ring of (time, value) plus the tree. add/advance are
 *   O(log n), a quantile is O(log n). The results are exactly those of sorting the window.
 * - `P2Quantile`: the P² estimator (Jain & Chlamtac, "The P² algorithm for dynamic calculation of
 *   quantiles and histograms without storing observations", CACM 28(10), 1985): one quantile of an
 *   unbounded stream in O(1) time and 5 markers of memory; approximate.
 *
 * Quantile definitions (the same in every class and in the tests' sort-based reference):
 *   quantile(q)    linear interpolation between closest ranks (Hyndman & Fan type 7, numpy's
 *                  default): h = (n - 1) q, x[⌊h⌋] + (h - ⌊h⌋)(x[⌊h⌋ + 1] - x[⌊h⌋]);
 *   nearestRank(q) x[max(0, ⌈q n⌉ - 1)] (the smallest sample with at least q of the data at or below it).
 */
export class OrderStatisticTree {
  private key = new Float64Array(64);
  private cnt = new Int32Array(64);
  private sz = new Int32Array(64);
  private lc = new Int32Array(64);
  private rc = new Int32Array(64);
  private pri = new Int32Array(64);
  private root = 0;
  private nextNode = 1; // node 0 is the nil sentinel (size 0)
  private freeHead = 0;
  private rng = 0x9e3779b9 | 0;
  private found = false;
  /** Number of distinct values held. */
  distinct = 0;

  /** Number of values held (with multiplicity). */
  get size(): number {
    return this.sz[this.root];
  }

  insert(x: number): void {
    if (Number.isNaN(x)) return;
    this.root = this.ins(this.root, x);
  }

  /** Removes one occurrence of x; returns false if x is not held. */
  delete(x: number): boolean {
    this.found = false;
    this.root = this.del(this.root, x);
    return this.found;
  }

  /** The k-th smallest value, 0-based; NaN if out of range. */
  kth(k: number): number {
    let n = this.root;
    if (k < 0 || k >= this.sz[n]) return NaN;
    while (n !== 0) {
      const ls = this.sz[this.lc[n]];
      if (k < ls) n = this.lc[n];
      else if (k < ls + this.cnt[n]) return this.key[n];
      else {
        k -= ls + this.cnt[n];
        n = this.rc[n];
      }
    }
    return NaN;
  }

  /** How many values are < x (strict) or <= x (`inclusive`). */
  rank(x: number, inclusive = false): number {
    let n = this.root;
    let r = 0;
    while (n !== 0) {
      const k = this.key[n];
      if (x < k || (!inclusive && x === k)) n = this.lc[n];
      else {
        r += this.sz[this.lc[n]] + (x === k && !inclusive ? 0 : this.cnt[n]);
        if (x === k) return r;
        n = this.rc[n];
      }
    }
    return r;
  }

  min(): number {
    return this.kth(0);
  }

  max(): number {
    return this.kth(this.size - 1);
  }

  quantile(q: number): number {
    return quantileOf(this, q);
  }

  nearestRank(q: number): number {
    const n = this.size;
    if (n === 0) return NaN;
    return this.kth(Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1)));
  }

  clear(): void {
    this.root = 0;
    this.nextNode = 1;
    this.freeHead = 0;
    this.distinct = 0;
  }

  // ---------------------------------------------------------------- internals
  private rand(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x;
    return x;
  }

  private alloc(x: number): number {
    let n = this.freeHead;
    if (n !== 0) this.freeHead = this.lc[n];
    else {
      if (this.nextNode === this.key.length) this.grow();
      n = this.nextNode++;
    }
    this.key[n] = x;
    this.cnt[n] = 1;
    this.sz[n] = 1;
    this.lc[n] = 0;
    this.rc[n] = 0;
    this.pri[n] = this.rand();
    this.distinct++;
    return n;
  }

  private release(n: number): void {
    this.lc[n] = this.freeHead;
    this.freeHead = n;
    this.distinct--;
  }

  private grow(): void {
    const cap = this.key.length * 2;
    const f = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    const g = (a: Int32Array) => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    this.key = f(this.key);
    this.cnt = g(this.cnt);
    this.sz = g(this.sz);
    this.lc = g(this.lc);
    this.rc = g(this.rc);
    this.pri = g(this.pri);
  }

  private pull(n: number): void {
    this.sz[n] = this.sz[this.lc[n]] + this.sz[this.rc[n]] + this.cnt[n];
  }

  private rotRight(n: number): number {
    const l = this.lc[n];
    this.lc[n] = this.rc[l];
    this.rc[l] = n;
    this.pull(n);
    this.pull(l);
    return l;
  }

  private rotLeft(n: number): number {
    const r = this.rc[n];
    this.rc[n] = this.lc[r];
    this.lc[r] = n;
    this.pull(n);
    this.pull(r);
    return r;
  }

  private ins(n: number, x: number): number {
    if (n === 0) return this.alloc(x);
    const k = this.key[n];
    if (x === k) {
      this.cnt[n]++;
      this.sz[n]++;
      return n;
    }
    if (x < k) {
      const c = this.ins(this.lc[n], x);
      this.lc[n] = c;
      this.sz[n]++;
      if (this.pri[c] > this.pri[n]) return this.rotRight(n);
    } else {
      const c = this.ins(this.rc[n], x);
      this.rc[n] = c;
      this.sz[n]++;
      if (this.pri[c] > this.pri[n]) return this.rotLeft(n);
    }
    return n;
  }

  private del(n: number, x: number): number {
    if (n === 0) return 0;
    const k = this.key[n];
    if (x === k) {
      this.found = true;
      if (this.cnt[n] > 1) {
        this.cnt[n]--;
        this.sz[n]--;
        return n;
      }
      const l = this.lc[n];
      const r = this.rc[n];
      if (l === 0) {
        this.release(n);
        return r;
      }
      if (r === 0) {
        this.release(n);
        return l;
      }
      if (this.pri[l] > this.pri[r]) {
        const top = this.rotRight(n);
        this.rc[top] = this.del(this.rc[top], x);
        this.pull(top);
        return top;
      }
      const top = this.rotLeft(n);
      this.lc[top] = this.del(this.lc[top], x);
      this.pull(top);
      return top;
    }
    if (x < k) this.lc[n] = this.del(this.lc[n], x);
    else this.rc[n] = this.del(this.rc[n], x);
    this.pull(n);
    return n;
  }
}

function quantileOf(t: OrderStatisticTree, q: number): number {
  const n = t.size;
  if (n === 0 || !(q >= 0 && q <= 1)) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const a = t.kth(lo);
  if (lo + 1 >= n || h === lo) return a;
  const b = t.kth(lo + 1);
  return a + (h - lo) * (b - a);
}

export interface RollingQuantileOptions {
  /** Also keep at most this many newest samples (default unbounded: time only). */
  maxCount?: number;
}

/** Exact quantiles over a sliding event-time window (now - windowMs, now]. */
export class RollingQuantile {
  readonly windowMs: number;
  private readonly maxCount: number;
  private readonly tree = new OrderStatisticTree();
  private ts = new Float64Array(16);
  private vs = new Float64Array(16);
  private mask = 15;
  private start = 0;
  private end = 0;
  now = -Infinity;

  constructor(windowMs: number, opts: RollingQuantileOptions = {}) {
    this.windowMs = windowMs;
    this.maxCount = opts.maxCount ?? Infinity;
  }

  get count(): number {
    return this.end - this.start;
  }

  add(t: number, v: number): void {
    if (!Number.isFinite(v)) return;
    if (t > this.now) this.advance(t);
    else t = this.now;
    if (this.end - this.start === this.mask + 1) this.grow();
    const k = this.end++ & this.mask;
    this.ts[k] = t;
    this.vs[k] = v;
    this.tree.insert(v);
    if (this.end - this.start > this.maxCount) this.tree.delete(this.vs[this.start++ & this.mask]);
  }

  advance(t: number): void {
    if (t > this.now) this.now = t;
    const cutoff = this.now - this.windowMs;
    while (this.end > this.start && this.ts[this.start & this.mask] <= cutoff) this.tree.delete(this.vs[this.start++ & this.mask]);
  }

  /** Type-7 (linear interpolation) quantile of the window, NaN when empty. */
  quantile(q: number): number {
    return quantileOf(this.tree, q);
  }

  nearestRank(q: number): number {
    return this.tree.nearestRank(q);
  }

  median(): number {
    return quantileOf(this.tree, 0.5);
  }

  /** Fraction of the window's values <= x (the empirical CDF), NaN when empty. */
  cdf(x: number): number {
    const n = this.tree.size;
    return n === 0 ? NaN : this.tree.rank(x, true) / n;
  }

  min(): number {
    return this.tree.min();
  }

  max(): number {
    return this.tree.max();
  }

  reset(): void {
    this.tree.clear();
    this.start = this.end = 0;
    this.now = -Infinity;
  }

  private grow(): void {
    const cap = (this.mask + 1) * 2;
    const ts = new Float64Array(cap);
    const vs = new Float64Array(cap);
    for (let i = this.start; i < this.end; i++) {
      ts[i & (cap - 1)] = this.ts[i & this.mask];
      vs[i & (cap - 1)] = this.vs[i & this.mask];
    }
    this.ts = ts;
    this.vs = vs;
    this.mask = cap - 1;
  }
}

const P2_SCRATCH = new Float64Array(5);
/** Copied per estimator: a plain array of doubles (a Float64Array costs an off-heap allocation of several µs, and detectors make one per account × market). */
const P2_TEMPLATE: number[] = [];
for (let i = 0; i < 20; i++) P2_TEMPLATE.push(0.5); // packed doubles

/**
 * P²'s update, on markers kept at offset `o` of `b`: heights b[o..o+5), positions b[o+5..o+10),
 * desired positions b[o+10..o+15), their increments b[o+15..o+20); `n` samples so far. Returns the
 * new count. P2Quantile uses it, and so do states that embed the markers in their own arrays.
 */
export function p2Update(b: number[], o: number, n: number, p: number, x: number): number {
  if (!Number.isFinite(x)) return n;
  const N = o + 5;
  const NS = o + 10;
  const DN = o + 15;
  if (n < 5) {
    b[o + n++] = x;
    if (n === 5) {
      sort5(b, o);
      for (let i = 0; i < 5; i++) b[N + i] = i + 1;
      b[NS] = 1;
      b[NS + 1] = 1 + 2 * p;
      b[NS + 2] = 1 + 4 * p;
      b[NS + 3] = 3 + 2 * p;
      b[NS + 4] = 5;
      b[DN] = 0;
      b[DN + 1] = p / 2;
      b[DN + 2] = p;
      b[DN + 3] = (1 + p) / 2;
      b[DN + 4] = 1;
    }
    return n;
  }
  n++;
  let k: number;
  if (x < b[o]) {
    b[o] = x;
    k = 0;
  } else if (x < b[o + 1]) k = 0;
  else if (x < b[o + 2]) k = 1;
  else if (x < b[o + 3]) k = 2;
  else if (x <= b[o + 4]) k = 3;
  else {
    b[o + 4] = x;
    k = 3;
  }
  for (let i = k + 1; i < 5; i++) b[N + i]++;
  for (let i = 0; i < 5; i++) b[NS + i] += b[DN + i];
  for (let i = 1; i < 4; i++) {
    const ni = b[N + i];
    const d = b[NS + i] - ni;
    if ((d >= 1 && b[N + i + 1] - ni > 1) || (d <= -1 && b[N + i - 1] - ni < -1)) {
      const s = d > 0 ? 1 : -1;
      const nPrev = b[N + i - 1];
      const nNext = b[N + i + 1];
      const q = o + i;
      const qp = b[q] + (s / (nNext - nPrev)) * ((ni - nPrev + s) * (b[q + 1] - b[q]) / (nNext - ni) + (nNext - ni - s) * (b[q] - b[q - 1]) / (ni - nPrev));
      if (b[q - 1] < qp && qp < b[q + 1]) b[q] = qp;
      else b[q] = b[q] + (s * (b[q + s] - b[q])) / (b[N + i + s] - ni);
      b[N + i] = ni + s;
    }
  }
  return n;
}

/** Sorts b[o..o+5) as Float64Array#sort does (ascending, −0 before +0; the values are finite). */
function sort5(b: number[], o: number): void {
  for (let i = o + 1; i < o + 5; i++) {
    const x = b[i];
    let j = i;
    while (j > o && (b[j - 1] > x || (b[j - 1] === 0 && x === 0 && Object.is(x, -0) && !Object.is(b[j - 1], -0)))) {
      b[j] = b[j - 1];
      j--;
    }
    b[j] = x;
  }
}

/** P²'s estimate from markers at offset `o` of `b` after `n` samples: exact (nearest rank) below 5 samples, NaN before any. */
export function p2Estimate(b: number[], o: number, n: number, p: number): number {
  if (n === 0) return NaN;
  if (n < 5) {
    // nearest rank among the first samples, sorted in a scratch buffer (no allocation)
    const s = P2_SCRATCH;
    for (let i = 0; i < n; i++) {
      const x = b[o + i];
      let j = i;
      while (j > 0 && s[j - 1] > x) {
        s[j] = s[j - 1];
        j--;
      }
      s[j] = x;
    }
    return s[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))];
  }
  return b[o + 2];
}

/** The P² streaming estimator of one quantile p of an unbounded stream (approximate, O(1) memory). */
export class P2Quantile {
  readonly p: number;
  // Marker heights, positions, desired positions and their increments, five each, in one array
  // (detectors keep one estimator per account × market).
  private readonly b: number[] = P2_TEMPLATE.slice();
  count = 0;

  constructor(p: number) {
    this.p = Math.min(1, Math.max(0, p));
  }

  /** `t` is accepted for the uniform API; P² has no window. */
  add(_t: number, x: number): void {
    this.count = p2Update(this.b, 0, this.count, this.p, x);
  }

  /** The estimate; exact (nearest rank) while fewer than 5 samples were seen; NaN before any. */
  value(): number {
    return p2Estimate(this.b, 0, this.count, this.p);
  }

  advance(_t: number): void {}

  reset(): void {
    this.count = 0;
  }
}
