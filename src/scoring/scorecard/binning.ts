/**
 * Optimal binning for scorecards.
 *
 * Numeric features are pre-binned at quantiles, then adjacent pre-bins are merged by an exact dynamic
 * program that maximises information value (IV) subject to a bad-rate trend (ascending, descending,
 * peak = up then down, valley = down then up; auto tries ascending and descending and keeps the higher
 * IV), a minimum bin share and a maximum number of bins. Categorical features are ordered by bad rate
 * and grouped by the same program (ascending in that order). Missing values and each special value get
 * bins of their own with their real, smoothed WoE; a missing/special bin that had no training rows is
 * flagged `empty` and scores as the riskiest regular bin (a documented, conservative choice), never 0.
 *
 * Convention: WoE = ln(%good / %bad) with counts smoothed by +α, so higher WoE = safer;
 * IV = Σ (%good − %bad) · WoE.
 */
import type { Dataset, FeatureSpec } from '../data.js';
import { numericBins } from '../gbdt/bins.js';

export type Trend = 'auto' | 'ascending' | 'descending' | 'peak' | 'valley';

export interface BinningParams {
  trend: Trend;
  /** Most regular bins (missing and special bins come on top). */
  maxBins: number;
  /** Quantile pre-bins before merging. */
  preBins: number;
  /** Smallest share of the rows a regular bin may hold. */
  minBinShare: number;
  /** Count smoothing α for WoE. */
  smoothing: number;
  /** Values with their own bin (e.g. −999 = "no bureau record"), numeric features only. */
  specialValues: number[];
}

export const DEFAULT_BINNING: BinningParams = { trend: 'auto', maxBins: 6, preBins: 20, minBinShare: 0.05, smoothing: 0.5, specialValues: [] };

export interface Bin {
  kind: 'range' | 'categories' | 'missing' | 'special';
  /** Range bins hold lo < x ≤ hi. */
  lo?: number;
  hi?: number;
  /** Category codes of a categorical bin. */
  categories?: number[];
  /** The special value of a special bin. */
  value?: number;
  label: string;
  count: number;
  goods: number;
  bads: number;
  badRate: number;
  woe: number;
  iv: number;
  /** No training rows: the WoE is the riskiest regular bin's. */
  empty?: boolean;
}

export interface FeatureBins {
  feature: string;
  type: 'numeric' | 'categorical';
  /** The trend the bins follow (auto resolved). */
  trend: Exclude<Trend, 'auto'> | 'none';
  bins: Bin[];
  iv: number;
}

interface Cell {
  goods: number;
  bads: number;
}

/** Best grouping of ordered cells into contiguous groups under a trend; returns group end indices (inclusive). */
export function optimalGroups(cells: Cell[], trend: Exclude<Trend, 'auto'>, maxGroups: number, minCount: number, totGood: number, totBad: number, alpha: number): number[] | null {
  const m = cells.length;
  if (m === 0) return [];
  const cg = new Float64Array(m + 1);
  const cb = new Float64Array(m + 1);
  for (let i = 0; i < m; i++) {
    cg[i + 1] = cg[i] + cells[i].goods;
    cb[i + 1] = cb[i] + cells[i].bads;
  }
  const G = Math.max(totGood, 1e-9);
  const B = Math.max(totBad, 1e-9);
  // Group [j, i]: count, bad rate, IV term.
  const stats = (j: number, i: number) => {
    const g = cg[i + 1] - cg[j];
    const b = cb[i + 1] - cb[j];
    const dg = (g + alpha) / G;
    const db = (b + alpha) / B;
    return { n: g + b, rate: (b + alpha) / (g + b + 2 * alpha), iv: (dg - db) * Math.log(dg / db) };
  };
  const K = Math.max(1, maxGroups);
  // best[ph][k][j][i]: best IV over cells 0..i with k+1 groups, the last being [j, i], in phase ph.
  const phases = trend === 'peak' || trend === 'valley' ? 2 : 1;
  const size = phases * K * m * m;
  const best = new Float64Array(size).fill(-Infinity);
  const from = new Int32Array(size).fill(-1);
  const at = (ph: number, k: number, j: number, i: number) => ((ph * K + k) * m + j) * m + i;
  const rate = new Float64Array(m * m);
  const ivs = new Float64Array(m * m);
  const okSize = new Uint8Array(m * m);
  for (let j = 0; j < m; j++) {
    for (let i = j; i < m; i++) {
      const s = stats(j, i);
      rate[j * m + i] = s.rate;
      ivs[j * m + i] = s.iv;
      okSize[j * m + i] = s.n >= minCount ? 1 : 0;
    }
  }
  // up = rates must rise from group to group in this phase.
  const up = (ph: number) => (trend === 'ascending' || (trend === 'peak' && ph === 0) || (trend === 'valley' && ph === 1));
  for (let i = 0; i < m; i++) {
    if (okSize[i]) best[at(0, 0, 0, i)] = ivs[i];
  }
  for (let k = 1; k < K; k++) {
    for (let i = 0; i < m; i++) {
      for (let j = 1; j <= i; j++) {
        if (!okSize[j * m + i]) continue;
        const r = rate[j * m + i];
        for (let ph = 0; ph < phases; ph++) {
          let bestV = -Infinity;
          let bestFrom = -1;
          // Previous group [l, j−1], from the same phase, or (second phase) from the first.
          for (let pph = 0; pph <= ph; pph++) {
            for (let l = 0; l < j; l++) {
              const v = best[at(pph, k - 1, l, j - 1)];
              if (v === -Infinity) continue;
              const pr = rate[l * m + j - 1];
              const rising = up(ph);
              if (rising ? !(r > pr) : !(r < pr)) continue;
              if (v > bestV) {
                bestV = v;
                bestFrom = pph * m + l;
              }
            }
          }
          if (bestFrom >= 0) {
            best[at(ph, k, j, i)] = bestV + ivs[j * m + i];
            from[at(ph, k, j, i)] = bestFrom;
          }
        }
      }
    }
  }
  let bv = -Infinity;
  let bk = -1, bj = -1, bph = -1;
  for (let ph = 0; ph < phases; ph++) {
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < m; j++) {
        const v = best[at(ph, k, j, m - 1)];
        if (v > bv + 1e-12) {
          bv = v;
          bk = k;
          bj = j;
          bph = ph;
        }
      }
    }
  }
  if (bk < 0) return null;
  const ends: number[] = [];
  let i = m - 1, j = bj, k = bk, ph = bph;
  while (k >= 0) {
    ends.push(i);
    const f = from[at(ph, k, j, i)];
    if (k === 0) break;
    i = j - 1;
    ph = Math.floor(f / m);
    j = f % m;
    k--;
  }
  return ends.reverse();
}

function woeOf(goods: number, bads: number, G: number, B: number, alpha: number): { woe: number; iv: number } {
  const dg = (goods + alpha) / Math.max(G, 1e-9);
  const db = (bads + alpha) / Math.max(B, 1e-9);
  const woe = Math.log(dg / db);
  return { woe, iv: (dg - db) * woe };
}

function fmt(v: number): string {
  return Number.isFinite(v) ? String(+v.toPrecision(6)) : v > 0 ? '+inf' : '-inf';
}

/** Bins one feature against 0/1 labels (1 = bad). */
export function binFeature(spec: FeatureSpec, x: Float64Array, y: Float64Array, params: Partial<BinningParams> = {}): FeatureBins {
  const p = { ...DEFAULT_BINNING, ...params };
  let G = 0, B = 0;
  for (let r = 0; r < y.length; r++) {
    if (y[r] > 0.5) B++;
    else G++;
  }
  const minCount = Math.max(1, Math.ceil(p.minBinShare * y.length));
  const specials = spec.type === 'numeric' ? [...new Set(p.specialValues)] : [];
  const isSpecial = (v: number) => specials.includes(v);
  const missing = { goods: 0, bads: 0 };
  const special = specials.map(() => ({ goods: 0, bads: 0 }));
  const regular: Bin[] = [];
  let trendUsed: FeatureBins['trend'] = 'none';

  if (spec.type === 'numeric') {
    const vals: number[] = [];
    for (let r = 0; r < x.length; r++) {
      const v = x[r];
      if (v !== v) {
        if (y[r] > 0.5) missing.bads++;
        else missing.goods++;
      } else if (isSpecial(v)) {
        const s = special[specials.indexOf(v)];
        if (y[r] > 0.5) s.bads++;
        else s.goods++;
      } else vals.push(v);
    }
    const pre = numericBins(Float64Array.from(vals), p.preBins).upper;
    const cells: Cell[] = Array.from(pre, () => ({ goods: 0, bads: 0 }));
    for (let r = 0; r < x.length; r++) {
      const v = x[r];
      if (v !== v || isSpecial(v)) continue;
      let lo = 0, hi = pre.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (v <= pre[mid]) hi = mid;
        else lo = mid + 1;
      }
      if (y[r] > 0.5) cells[lo].bads++;
      else cells[lo].goods++;
    }
    const { ends, trend } = groupCells(cells, p, minCount, G, B);
    trendUsed = trend;
    let start = 0;
    for (const e of ends) {
      const lo = start === 0 ? -Infinity : pre[start - 1];
      const hi = e === pre.length - 1 ? Infinity : pre[e];
      let goods = 0, bads = 0;
      for (let c = start; c <= e; c++) {
        goods += cells[c].goods;
        bads += cells[c].bads;
      }
      regular.push({ kind: 'range', lo, hi, label: `(${fmt(lo)}, ${fmt(hi)}]`, count: goods + bads, goods, bads, badRate: 0, woe: 0, iv: 0 });
      start = e + 1;
    }
  } else {
    const nc = spec.categories?.length ?? 0;
    const cg = new Float64Array(nc);
    const cb = new Float64Array(nc);
    for (let r = 0; r < x.length; r++) {
      const v = x[r];
      if (v !== v || v < 0 || v >= nc) {
        if (y[r] > 0.5) missing.bads++;
        else missing.goods++;
      } else if (y[r] > 0.5) cb[v]++;
      else cg[v]++;
    }
    // Categories in order of smoothed bad rate (ties by code); unseen categories are left to the missing bin.
    const present = [...Array(nc).keys()].filter((c) => cg[c] + cb[c] > 0);
    const rateOf = (c: number) => (cb[c] + p.smoothing) / (cg[c] + cb[c] + 2 * p.smoothing);
    present.sort((a, b) => rateOf(a) - rateOf(b) || a - b);
    const cells = present.map((c) => ({ goods: cg[c], bads: cb[c] }));
    const ends = optimalGroups(cells, 'ascending', p.maxBins, minCount, G, B, p.smoothing) ?? (cells.length ? [cells.length - 1] : []);
    trendUsed = 'ascending';
    let start = 0;
    for (const e of ends) {
      const codes = present.slice(start, e + 1).sort((a, b) => a - b);
      let goods = 0, bads = 0;
      for (const c of codes) {
        goods += cg[c];
        bads += cb[c];
      }
      const labels = codes.map((c) => spec.categories![c]);
      regular.push({ kind: 'categories', categories: codes, label: labels.join(','), count: goods + bads, goods, bads, badRate: 0, woe: 0, iv: 0 });
      start = e + 1;
    }
  }

  const bins: Bin[] = [...regular];
  bins.push({ kind: 'missing', label: 'missing', count: missing.goods + missing.bads, goods: missing.goods, bads: missing.bads, badRate: 0, woe: 0, iv: 0 });
  specials.forEach((v, i) => bins.push({ kind: 'special', value: v, label: `special ${fmt(v)}`, count: special[i].goods + special[i].bads, goods: special[i].goods, bads: special[i].bads, badRate: 0, woe: 0, iv: 0 }));
  let iv = 0;
  for (const b of bins) {
    const w = woeOf(b.goods, b.bads, G, B, p.smoothing);
    b.badRate = b.count ? b.bads / b.count : NaN;
    if (b.count === 0 && b.kind !== 'range' && b.kind !== 'categories') {
      b.empty = true;
      b.iv = 0;
      continue;
    }
    b.woe = w.woe;
    b.iv = w.iv;
    iv += w.iv;
  }
  const worst = regular.length ? Math.min(...regular.map((b) => b.woe)) : 0;
  for (const b of bins) if (b.empty) b.woe = worst;
  return { feature: spec.name, type: spec.type, trend: trendUsed, bins, iv };
}

function groupCells(cells: Cell[], p: BinningParams, minCount: number, G: number, B: number): { ends: number[]; trend: FeatureBins['trend'] } {
  const trends: Exclude<Trend, 'auto'>[] = p.trend === 'auto' ? ['ascending', 'descending'] : [p.trend];
  let best: { ends: number[]; trend: FeatureBins['trend']; iv: number } | null = null;
  for (const t of trends) {
    const ends = optimalGroups(cells, t, p.maxBins, minCount, G, B, p.smoothing);
    if (!ends) continue;
    let iv = 0;
    let s = 0;
    for (const e of ends) {
      let g = 0, b = 0;
      for (let c = s; c <= e; c++) {
        g += cells[c].goods;
        b += cells[c].bads;
      }
      iv += woeOf(g, b, G, B, p.smoothing).iv;
      s = e + 1;
    }
    if (!best || iv > best.iv + 1e-12) best = { ends, trend: t, iv };
  }
  // No grouping satisfies the constraints (e.g. too few rows): one bin.
  return best ?? { ends: cells.length ? [cells.length - 1] : [], trend: 'none' };
}

/** The index of the bin a value falls in. Unseen categories and NaN fall in the missing bin. */
export function binIndex(fb: FeatureBins, v: number): number {
  const bins = fb.bins;
  if (v !== v) return bins.findIndex((b) => b.kind === 'missing');
  for (let i = 0; i < bins.length; i++) {
    const b = bins[i];
    if (b.kind === 'special' && b.value === v) return i;
  }
  for (let i = 0; i < bins.length; i++) {
    const b = bins[i];
    if (b.kind === 'range' && v > b.lo! && v <= b.hi!) return i;
    if (b.kind === 'categories' && b.categories!.includes(v)) return i;
  }
  return bins.findIndex((b) => b.kind === 'missing');
}

export function binDatasetFeatures(ds: Dataset, params: Partial<BinningParams> & { perFeature?: Record<string, Partial<BinningParams>> } = {}): FeatureBins[] {
  if (!ds.target) throw new Error('binning needs a target');
  const { perFeature, ...common } = params;
  return ds.features.map((f, i) => binFeature(f, ds.columns[i], ds.target!, { ...common, ...(perFeature?.[f.name] ?? {}) }));
}
