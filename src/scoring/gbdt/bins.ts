/**
 * Feature binning for histogram GBDT. Numeric features get at most `maxBins` quantile bins whose upper
 * bounds sit halfway between neighbouring distinct values; categorical features get one bin per category
 * seen in training (the rarest share a last bin when there are more than maxBins − 1). Every feature
 * has one more bin for missing values, so a bin index always fits a byte.
 */
import type { Dataset } from '../data.js';

export interface FeatureBinning {
  kind: 'numeric' | 'categorical';
  /** Number of non-missing bins; the missing bin's index is nBins. */
  nBins: number;
  /** Numeric: bin b holds x ≤ upper[b] (and > upper[b−1]); the last bound is +∞. */
  upper: Float64Array;
  /** Categorical: the bin of each category code (−1 when unseen in training). */
  binOfCategory: Int32Array;
  /** Categorical: the category codes in each bin. */
  categoriesOfBin: number[][];
}

export function midpoint(a: number, b: number): number {
  const m = a + (b - a) / 2;
  // Never equal to b, so b stays in the upper bin.
  return m < b ? m : a;
}

/** Quantile bins over the non-missing values of a numeric column. */
export function numericBins(values: ArrayLike<number>, maxBins: number): FeatureBinning {
  let m = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === values[i]) m++;
  const sorted = new Float64Array(m);
  m = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === values[i]) sorted[m++] = values[i];
  sorted.sort();
  return numericBinsOfSorted(sorted, maxBins);
}

/** numericBins over values already sorted ascending (no NaN). */
export function numericBinsOfSorted(sorted: Float64Array, maxBins: number): FeatureBinning {
  const n = sorted.length;
  let nDistinct = 0;
  for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) nDistinct++;
  const upper: number[] = [];
  if (nDistinct <= maxBins) {
    for (let i = 1; i < n; i++) if (sorted[i] !== sorted[i - 1]) upper.push(midpoint(sorted[i - 1], sorted[i]));
  } else {
    // Greedy equal-frequency cuts: a cut goes between two distinct values once the count below passes the next quantile.
    let next = 1;
    for (let i = 1; i < n && next < maxBins; i++) {
      if (sorted[i] === sorted[i - 1]) continue;
      if (i >= (next * n) / maxBins) {
        upper.push(midpoint(sorted[i - 1], sorted[i]));
        while (next < maxBins && i >= (next * n) / maxBins) next++;
      }
    }
  }
  upper.push(Infinity);
  return { kind: 'numeric', nBins: upper.length, upper: Float64Array.from(upper), binOfCategory: new Int32Array(0), categoriesOfBin: [] };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * The non-missing values of a column in ascending order with their rows: an LSD radix sort (three 11-bit digits)
 * of the high 32 bits of the IEEE-754 bits mapped to unsigned order, skipping digits every value shares, then runs
 * of equal high words put in order of their low words. About 4× faster than sorting, and it yields the rows too, so
 * binning needs no binary search per value. Stable: equal values keep their row order.
 */
export function argsortValues(col: Float64Array): { sorted: Float64Array; rows: Int32Array } {
  let m = 0;
  for (let i = 0; i < col.length; i++) if (col[i] === col[i]) m++;
  const vals = new Float64Array(m);
  let rows = new Int32Array(m);
  for (let i = 0, k = 0; i < col.length; i++) {
    if (col[i] === col[i]) {
      vals[k] = col[i];
      rows[k++] = i;
    }
  }
  if (!LITTLE_ENDIAN || m < 2) {
    const order = Array.from(rows.keys()).sort((a, b) => vals[a] - vals[b] || a - b);
    return { sorted: Float64Array.from(order, (k) => vals[k]), rows: Int32Array.from(order, (k) => rows[k]) };
  }
  const bits = new Uint32Array(vals.buffer);
  let lo = new Uint32Array(m);
  let hi = new Uint32Array(m);
  for (let i = 0; i < m; i++) {
    const h = bits[2 * i + 1];
    // Negative numbers: flip every bit (larger magnitude sorts first); positive: set the sign bit.
    if (h >>> 31) {
      hi[i] = ~h >>> 0;
      lo[i] = ~bits[2 * i] >>> 0;
    } else {
      hi[i] = (h | 0x80000000) >>> 0;
      lo[i] = bits[2 * i];
    }
  }
  const counts = new Int32Array(3 * 2048);
  for (let i = 0; i < m; i++) {
    const h = hi[i];
    counts[h & 2047]++;
    counts[2048 + ((h >>> 11) & 2047)]++;
    counts[4096 + (h >>> 22)]++;
  }
  let lo2 = new Uint32Array(m);
  let hi2 = new Uint32Array(m);
  let rows2 = new Int32Array(m);
  for (let d = 0; d < 3; d++) {
    const c = counts.subarray(2048 * d, 2048 * d + 2048);
    let skip = false;
    for (let b = 0; b < 2048; b++) if (c[b] === m) skip = true;
    if (skip) continue;
    for (let b = 0, sum = 0; b < 2048; b++) {
      const t = c[b];
      c[b] = sum;
      sum += t;
    }
    const s = 11 * d;
    for (let i = 0; i < m; i++) {
      const at = c[(hi[i] >>> s) & 2047]++;
      lo2[at] = lo[i];
      hi2[at] = hi[i];
      rows2[at] = rows[i];
    }
    [lo, lo2] = [lo2, lo];
    [hi, hi2] = [hi2, hi];
    [rows, rows2] = [rows2, rows];
  }
  // Runs of equal high words (values within ~1e-6 relative of each other, or equal): order by the low word, stably.
  for (let a = 0; a < m; ) {
    let b = a + 1;
    while (b < m && hi[b] === hi[a]) b++;
    if (b - a > 1) sortRunByLow(lo, rows, a, b);
    a = b;
  }
  const sorted = new Float64Array(m);
  for (let i = 0; i < m; i++) sorted[i] = col[rows[i]];
  return { sorted, rows };
}

/** Stable sort of lo[a, b) (with rows) by lo: insertion sort while short or already ordered, else a comparison sort. */
function sortRunByLow(lo: Uint32Array, rows: Int32Array, a: number, b: number): void {
  let ordered = true;
  for (let i = a + 1; i < b && ordered; i++) ordered = lo[i - 1] <= lo[i];
  if (ordered) return;
  if (b - a <= 32) {
    for (let i = a + 1; i < b; i++) {
      const l = lo[i];
      const r = rows[i];
      let j = i - 1;
      while (j >= a && lo[j] > l) {
        lo[j + 1] = lo[j];
        rows[j + 1] = rows[j];
        j--;
      }
      lo[j + 1] = l;
      rows[j + 1] = r;
    }
    return;
  }
  const order = Array.from({ length: b - a }, (_, k) => a + k).sort((x, y) => lo[x] - lo[y] || x - y);
  const l2 = Uint32Array.from(order, (k) => lo[k]);
  const r2 = Int32Array.from(order, (k) => rows[k]);
  lo.set(l2, a);
  rows.set(r2, a);
}

/** One bin per category present, most frequent first; beyond maxBins − 1 categories the rest share the last bin. */
export function categoricalBins(values: ArrayLike<number>, nCategories: number, maxBins: number): FeatureBinning {
  const count = new Float64Array(nCategories);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === v && v >= 0 && v < nCategories) count[v]++;
  }
  const present = [...count.keys()].filter((c) => count[c] > 0).sort((a, b) => count[b] - count[a] || a - b);
  const binOfCategory = new Int32Array(nCategories).fill(-1);
  const categoriesOfBin: number[][] = [];
  present.forEach((c, i) => {
    const b = Math.min(i, maxBins - 1);
    binOfCategory[c] = b;
    (categoriesOfBin[b] ??= []).push(c);
  });
  return { kind: 'categorical', nBins: Math.max(1, categoriesOfBin.length), upper: new Float64Array(0), binOfCategory, categoriesOfBin };
}

export function binValue(b: FeatureBinning, x: number): number {
  if (x !== x) return b.nBins;
  if (b.kind === 'categorical') {
    const c = Math.trunc(x);
    const bin = c >= 0 && c < b.binOfCategory.length ? b.binOfCategory[c] : -1;
    // Unseen categories go with missing values: trees send them the default way.
    return bin < 0 ? b.nBins : bin;
  }
  const u = b.upper;
  let lo = 0;
  let hi = u.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x <= u[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export interface BinnedMatrix {
  /** Column-major bin indices: cols[f][r]. */
  cols: Uint8Array[];
  nRows: number;
  nFeatures: number;
}

/** Rows used to place numeric bin boundaries. */
export const BIN_SAMPLE = 200_000;

export function makeBinnings(ds: Dataset, maxBins: number): FeatureBinning[] {
  if (maxBins < 2 || maxBins > 255) throw new Error(`maxBins must be in [2, 255], got ${maxBins}`);
  // Bin boundaries come from at most BIN_SAMPLE rows (every k-th row, deterministic), as LightGBM does.
  const step = Math.ceil(ds.nRows / BIN_SAMPLE);
  const sample = (col: Float64Array) => (step <= 1 ? col : Float64Array.from({ length: Math.ceil(col.length / step) }, (_, i) => col[i * step]));
  return ds.features.map((f, i) =>
    f.type === 'categorical' ? categoricalBins(ds.columns[i], f.categories?.length ?? 0, maxBins) : numericBins(sample(ds.columns[i]), maxBins),
  );
}

export function binDataset(ds: Dataset, binnings: FeatureBinning[]): BinnedMatrix {
  const cols = binnings.map((b, f) => {
    const col = ds.columns[f];
    const out = new Uint8Array(ds.nRows);
    if (b.kind === 'categorical') for (let r = 0; r < ds.nRows; r++) out[r] = binValue(b, col[r]);
    else {
      // Inlined binary search over the upper bounds.
      const u = b.upper;
      const last = u.length - 1;
      for (let r = 0; r < ds.nRows; r++) {
        const x = col[r];
        if (x !== x) {
          out[r] = b.nBins;
          continue;
        }
        let lo = 0;
        let hi = last;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (x <= u[mid]) hi = mid;
          else lo = mid + 1;
        }
        out[r] = lo;
      }
    }
    return out;
  });
  return { cols, nRows: ds.nRows, nFeatures: binnings.length };
}

/**
 * Binnings and the binned matrix of a training set in one go: when every row places the bin boundaries,
 * each numeric column is sorted once (with its rows) and binned by walking that order.
 */
export function binTrainingData(ds: Dataset, maxBins: number): { binnings: FeatureBinning[]; X: BinnedMatrix } {
  if (Math.ceil(ds.nRows / BIN_SAMPLE) > 1) {
    const binnings = makeBinnings(ds, maxBins);
    return { binnings, X: binDataset(ds, binnings) };
  }
  if (maxBins < 2 || maxBins > 255) throw new Error(`maxBins must be in [2, 255], got ${maxBins}`);
  const binnings: FeatureBinning[] = [];
  const cols: Uint8Array[] = [];
  ds.features.forEach((f, i) => {
    if (f.type === 'categorical') {
      const b = categoricalBins(ds.columns[i], f.categories?.length ?? 0, maxBins);
      binnings.push(b);
      cols.push(binDataset({ ...ds, columns: [ds.columns[i]] }, [b]).cols[0]);
      return;
    }
    const { sorted, rows } = argsortValues(ds.columns[i]);
    const b = numericBinsOfSorted(sorted, maxBins);
    const out = new Uint8Array(ds.nRows).fill(b.nBins);
    const u = b.upper;
    // The same bin as the binary search (the first bound ≥ x), found by walking the sorted values.
    for (let k = 0, bin = 0; k < sorted.length; k++) {
      while (sorted[k] > u[bin]) bin++;
      out[rows[k]] = bin;
    }
    binnings.push(b);
    cols.push(out);
  });
  return { binnings, X: { cols, nRows: ds.nRows, nFeatures: binnings.length } };
}
