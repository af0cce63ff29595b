import type { MiningDataset } from './dataset.js';

/**
 * A shallow CART classifier on pre-binned features (weighted Gini), the building block of the
 * bagged rule learner. Missing values (NaN) always go to the `<=` side while training; rules are
 * re-scored afterwards with the rule language's semantics (a comparison with null is false), so the
 * reported figures are exactly what the rule does.
 */

/** Per-feature candidate thresholds: sorted distinct values; `v > cuts[k]` ⟺ `bin(v) > k`. */
export interface Binning {
  cuts: Float64Array[];
  /** Row bins per feature: number of cuts strictly below the value; -1 for NaN. */
  bins: Int16Array[];
  /** Sorted distinct non-NaN values of each feature (for readable thresholds). */
  distinct: Float64Array[];
}

function quantiles(sorted: Float64Array, k: number, out: Set<number>): void {
  if (sorted.length === 0) return;
  for (let i = 1; i < k; i++) out.add(sorted[Math.min(sorted.length - 1, Math.floor((i * sorted.length) / k))]);
}

/** Cuts from quantiles of the positives and of the negatives separately, so rare positives shape thresholds too. */
export function binDataset(ds: MiningDataset, maxCuts = 32): Binning {
  const n = ds.labels.length;
  const cuts: Float64Array[] = [];
  const bins: Int16Array[] = [];
  const distinct: Float64Array[] = [];
  for (const col of ds.columns) {
    const pos: number[] = [];
    const neg: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = col[i];
      if (Number.isNaN(v)) continue;
      (ds.labels[i] ? pos : neg).push(v);
    }
    const sp = Float64Array.from(pos).sort();
    const sn = Float64Array.from(neg).sort();
    const all = Float64Array.from([...pos, ...neg]).sort();
    const d: number[] = [];
    for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) d.push(all[i]);
    const set = new Set<number>();
    quantiles(sp, maxCuts >> 1, set);
    quantiles(sn, maxCuts >> 1, set);
    // A cut at the maximum splits nothing off.
    if (d.length) set.delete(d[d.length - 1]);
    const c = Float64Array.from(set).sort();
    const b = new Int16Array(n);
    for (let i = 0; i < n; i++) {
      const v = col[i];
      if (Number.isNaN(v)) {
        b[i] = -1;
        continue;
      }
      let lo = 0;
      let hi = c.length;
      while (lo < hi) {
        const m = (lo + hi) >> 1;
        if (c[m] < v) lo = m + 1;
        else hi = m;
      }
      b[i] = lo;
    }
    cuts.push(c);
    bins.push(b);
    distinct.push(Float64Array.from(d));
  }
  return { cuts, bins, distinct };
}

export interface PathCondition {
  feature: number;
  /** `>`: value above the threshold; `<=`: value at or below it. */
  op: '>' | '<=';
  threshold: number;
}

export interface TreeOptions {
  maxDepth: number;
  minSamplesLeaf: number;
  /** Features the tree may split on. */
  features: number[];
}

/** Every node's path from the root whose training data is mostly positive. */
export function growTree(ds: MiningDataset, bin: Binning, rows: Int32Array, trainWeights: Float64Array, opts: TreeOptions): PathCondition[][] {
  const paths: PathCondition[][] = [];
  const grow = (idx: Int32Array, path: PathCondition[], depth: number) => {
    let wp = 0;
    let wn = 0;
    for (let i = 0; i < idx.length; i++) {
      const r = idx[i];
      if (ds.labels[r]) wp += trainWeights[r];
      else wn += trainWeights[r];
    }
    if (path.length > 0 && wp > wn) paths.push(path);
    if (depth >= opts.maxDepth || wp === 0 || wn === 0 || idx.length < 2 * opts.minSamplesLeaf) return;
    const best = bestSplit(ds, bin, idx, trainWeights, wp, wn, opts);
    if (!best) return;
    const left: number[] = [];
    const right: number[] = [];
    const b = bin.bins[best.feature];
    for (let i = 0; i < idx.length; i++) (b[idx[i]] > best.bin ? right : left).push(idx[i]);
    const t = bin.cuts[best.feature][best.bin];
    grow(Int32Array.from(left), [...path, { feature: best.feature, op: '<=', threshold: t }], depth + 1);
    grow(Int32Array.from(right), [...path, { feature: best.feature, op: '>', threshold: t }], depth + 1);
  };
  grow(rows, [], 0);
  return paths;
}

const gini = (p: number, n: number) => {
  const t = p + n;
  return t > 0 ? t - (p * p + n * n) / t : 0;
};

function bestSplit(ds: MiningDataset, bin: Binning, idx: Int32Array, w: Float64Array, wp: number, wn: number, opts: TreeOptions): { feature: number; bin: number } | null {
  const parent = gini(wp, wn);
  let best: { feature: number; bin: number } | null = null;
  let bestGain = 1e-12 * (wp + wn);
  for (const f of opts.features) {
    const nc = bin.cuts[f].length;
    if (nc === 0) continue;
    const b = bin.bins[f];
    // Histograms over bins 0..nc (NaN counted in bin 0: it goes left).
    const hp = new Float64Array(nc + 1);
    const hn = new Float64Array(nc + 1);
    const hc = new Int32Array(nc + 1);
    for (let i = 0; i < idx.length; i++) {
      const r = idx[i];
      const k = b[r] < 0 ? 0 : b[r];
      if (ds.labels[r]) hp[k] += w[r];
      else hn[k] += w[r];
      hc[k]++;
    }
    let lp = 0;
    let ln = 0;
    let lc = 0;
    for (let k = 0; k < nc; k++) {
      lp += hp[k];
      ln += hn[k];
      lc += hc[k];
      if (lc < opts.minSamplesLeaf || idx.length - lc < opts.minSamplesLeaf) continue;
      const gain = parent - gini(lp, ln) - gini(wp - lp, wn - ln);
      if (gain > bestGain) {
        bestGain = gain;
        best = { feature: f, bin: k };
      }
    }
  }
  return best;
}
