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
  const xs: number[] = [];
  for (let i = 0; i < values.length; i++) if (values[i] === values[i]) xs.push(values[i]);
  const sorted = Float64Array.from(xs).sort();
  const distinct: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    if (i > 0 && sorted[i] === sorted[i - 1]) counts[counts.length - 1]++;
    else {
      distinct.push(sorted[i]);
      counts.push(1);
    }
  }
  const upper: number[] = [];
  if (distinct.length <= maxBins) {
    for (let i = 0; i + 1 < distinct.length; i++) upper.push(midpoint(distinct[i], distinct[i + 1]));
  } else {
    // Greedy equal-frequency cuts: cut before the distinct value where the running count passes the next quantile.
    const n = sorted.length;
    let cum = 0;
    let next = 1;
    for (let i = 0; i + 1 < distinct.length && next < maxBins; i++) {
      cum += counts[i];
      if (cum >= (next * n) / maxBins) {
        upper.push(midpoint(distinct[i], distinct[i + 1]));
        while (next < maxBins && cum >= (next * n) / maxBins) next++;
      }
    }
  }
  upper.push(Infinity);
  return { kind: 'numeric', nBins: upper.length, upper: Float64Array.from(upper), binOfCategory: new Int32Array(0), categoriesOfBin: [] };
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
  /** Row-major bin indices: bins[r · nFeatures + f]. */
  bins: Uint8Array;
  nRows: number;
  nFeatures: number;
}

export function makeBinnings(ds: Dataset, maxBins: number): FeatureBinning[] {
  if (maxBins < 2 || maxBins > 255) throw new Error(`maxBins must be in [2, 255], got ${maxBins}`);
  return ds.features.map((f, i) =>
    f.type === 'categorical' ? categoricalBins(ds.columns[i], f.categories?.length ?? 0, maxBins) : numericBins(ds.columns[i], maxBins),
  );
}

export function binDataset(ds: Dataset, binnings: FeatureBinning[]): BinnedMatrix {
  const nf = binnings.length;
  const bins = new Uint8Array(ds.nRows * nf);
  for (let f = 0; f < nf; f++) {
    const col = ds.columns[f];
    const b = binnings[f];
    for (let r = 0; r < ds.nRows; r++) bins[r * nf + f] = binValue(b, col[r]);
  }
  return { bins, nRows: ds.nRows, nFeatures: nf };
}
