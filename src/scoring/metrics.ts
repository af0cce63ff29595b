/**
 * Evaluation metrics for binary scores: AUC, KS, Gini, log-loss, Brier, calibration table, PSI,
 * and cost-matrix cost with a cost-minimising threshold. Labels are 0/1 with 1 = bad (the event);
 * scores are "higher = riskier" (probability of bad).
 */

/** Indices sorted by score ascending (stable). */
function order(scores: ArrayLike<number>): Int32Array {
  const idx = new Int32Array(scores.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  return idx.sort((a, b) => scores[a] - scores[b] || a - b);
}

function counts(y: ArrayLike<number>): { pos: number; neg: number } {
  let pos = 0;
  for (let i = 0; i < y.length; i++) if (y[i] > 0.5) pos++;
  return { pos, neg: y.length - pos };
}

/** Area under the ROC curve (Mann–Whitney U, ties counted half). NaN when one class is absent. */
export function auc(y: ArrayLike<number>, scores: ArrayLike<number>): number {
  const { pos, neg } = counts(y);
  if (pos === 0 || neg === 0) return NaN;
  const idx = order(scores);
  // Sum of ranks of positives with average ranks for tied scores.
  let rankSum = 0;
  let i = 0;
  while (i < idx.length) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]] === scores[idx[i]]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (y[idx[k]] > 0.5) rankSum += avgRank;
    i = j + 1;
  }
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

export function gini(y: ArrayLike<number>, scores: ArrayLike<number>): number {
  return 2 * auc(y, scores) - 1;
}

/**
 * Kolmogorov–Smirnov statistic: the largest gap between the cumulative score distributions of bads
 * and goods. Tied scores move together (the curve is only evaluated between distinct scores).
 */
export function ks(y: ArrayLike<number>, scores: ArrayLike<number>): number {
  const { pos, neg } = counts(y);
  if (pos === 0 || neg === 0) return NaN;
  const idx = order(scores);
  let cPos = 0;
  let cNeg = 0;
  let best = 0;
  let i = 0;
  while (i < idx.length) {
    let j = i;
    while (j < idx.length && scores[idx[j]] === scores[idx[i]]) {
      if (y[idx[j]] > 0.5) cPos++;
      else cNeg++;
      j++;
    }
    best = Math.max(best, Math.abs(cNeg / neg - cPos / pos));
    i = j;
  }
  return best;
}

/** Mean negative log-likelihood, probabilities clipped to [1e-15, 1 − 1e-15]. */
export function logLoss(y: ArrayLike<number>, p: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const q = Math.min(1 - 1e-15, Math.max(1e-15, p[i]));
    s -= y[i] > 0.5 ? Math.log(q) : Math.log(1 - q);
  }
  return s / y.length;
}

export function brier(y: ArrayLike<number>, p: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (p[i] - y[i]) ** 2;
  return s / y.length;
}

export interface CalibrationRow {
  bin: number;
  count: number;
  minProbability: number;
  maxProbability: number;
  meanPredicted: number;
  observedRate: number;
}

/** Calibration table: rows sorted by probability and cut into `bins` groups of (nearly) equal size. */
export function calibrationTable(y: ArrayLike<number>, p: ArrayLike<number>, bins = 10): CalibrationRow[] {
  const idx = order(p);
  const n = idx.length;
  const rows: CalibrationRow[] = [];
  for (let b = 0; b < bins; b++) {
    const lo = Math.floor((b * n) / bins);
    const hi = Math.floor(((b + 1) * n) / bins);
    if (hi <= lo) continue;
    let sp = 0;
    let sy = 0;
    for (let k = lo; k < hi; k++) {
      sp += p[idx[k]];
      sy += y[idx[k]];
    }
    rows.push({ bin: b + 1, count: hi - lo, minProbability: p[idx[lo]], maxProbability: p[idx[hi - 1]], meanPredicted: sp / (hi - lo), observedRate: sy / (hi - lo) });
  }
  return rows;
}

/** A reference score distribution for PSI: the cut points (deciles of the reference) and its share per bin. */
export interface ScoreDistribution {
  edges: number[];
  shares: number[];
}

/** Cuts at the reference's quantiles; equal scores never straddle a cut, so bins may be fewer than asked. */
export function scoreDistribution(scores: ArrayLike<number>, bins = 10): ScoreDistribution {
  const sorted = Float64Array.from(scores).sort();
  const n = sorted.length;
  const edges: number[] = [];
  for (let b = 1; b < bins; b++) {
    const v = sorted[Math.min(n - 1, Math.floor((b * n) / bins))];
    if (edges.length === 0 || v > edges[edges.length - 1]) edges.push(v);
  }
  return { edges, shares: binShares(sorted, edges) };
}

function binShares(scores: ArrayLike<number>, edges: number[]): number[] {
  const c = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < scores.length; i++) c[binOf(scores[i], edges)]++;
  return c.map((v) => v / Math.max(1, scores.length));
}

/** Bin b holds scores in [edges[b-1], edges[b]). */
function binOf(v: number, edges: number[]): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v < edges[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Population stability index of `actual` against a reference distribution:
 * Σ (a − e)·ln(a / e), with empty shares floored at 1e-4 so an empty bin counts instead of dividing by zero.
 */
export function psi(reference: ScoreDistribution, actual: ArrayLike<number>): { psi: number; bins: { upTo: number; expected: number; actual: number }[] } {
  const a = binShares(actual, reference.edges);
  let s = 0;
  const bins = reference.shares.map((e, b) => {
    const ee = Math.max(e, 1e-4);
    const aa = Math.max(a[b], 1e-4);
    s += (aa - ee) * Math.log(aa / ee);
    return { upTo: b < reference.edges.length ? reference.edges[b] : Infinity, expected: e, actual: a[b] };
  });
  return { psi: s, bins };
}

/** A cost matrix for accept/reject decisions. German credit's: a bad accepted costs 5, a good rejected costs 1. */
export interface CostMatrix {
  /** Cost of predicting good (accepting) when the case is bad. */
  badAsGood: number;
  /** Cost of predicting bad (rejecting) when the case is good. */
  goodAsBad: number;
}
export const GERMAN_COSTS: CostMatrix = { badAsGood: 5, goodAsBad: 1 };

/** Total cost when every case with probability ≥ threshold is called bad. */
export function cost(y: ArrayLike<number>, p: ArrayLike<number>, threshold: number, m: CostMatrix = GERMAN_COSTS): number {
  let c = 0;
  for (let i = 0; i < y.length; i++) {
    const callBad = p[i] >= threshold;
    if (y[i] > 0.5 && !callBad) c += m.badAsGood;
    else if (y[i] <= 0.5 && callBad) c += m.goodAsBad;
  }
  return c;
}

/**
 * The threshold that minimises total cost on (y, p): every cut between distinct probabilities is tried
 * (and "reject all"/"accept all"). Ties between equally cheap cuts go to the one nearest the Bayes
 * threshold goodAsBad / (goodAsBad + badAsGood). Returns a cut halfway between neighbouring scores.
 */
export function costOptimalThreshold(y: ArrayLike<number>, p: ArrayLike<number>, m: CostMatrix = GERMAN_COSTS): { threshold: number; cost: number } {
  const idx = order(p);
  const n = idx.length;
  const { pos } = counts(y);
  // Threshold below everything: all called bad → cost = goods × goodAsBad.
  let c = (n - pos) * m.goodAsBad;
  const bayes = m.goodAsBad / (m.goodAsBad + m.badAsGood);
  let best = { threshold: n ? p[idx[0]] : 0.5, cost: c };
  let i = 0;
  while (i < n) {
    let j = i;
    while (j < n && p[idx[j]] === p[idx[i]]) {
      // This case moves from "called bad" to "called good".
      if (y[idx[j]] > 0.5) c += m.badAsGood;
      else c -= m.goodAsBad;
      j++;
    }
    const t = j < n ? (p[idx[j - 1]] + p[idx[j]]) / 2 : p[idx[n - 1]] + 1e-9;
    if (c < best.cost - 1e-12 || (Math.abs(c - best.cost) <= 1e-12 && Math.abs(t - bayes) < Math.abs(best.threshold - bayes))) best = { threshold: t, cost: c };
    i = j;
  }
  return best;
}

export interface EvaluationReport {
  n: number;
  positives: number;
  auc: number;
  ks: number;
  gini: number;
  logLoss: number;
  brier: number;
  calibration: CalibrationRow[];
}

export function evaluate(y: ArrayLike<number>, p: ArrayLike<number>): EvaluationReport {
  const { pos } = counts(y);
  const a = auc(y, p);
  return { n: y.length, positives: pos, auc: a, ks: ks(y, p), gini: 2 * a - 1, logLoss: logLoss(y, p), brier: brier(y, p), calibration: calibrationTable(y, p) };
}
