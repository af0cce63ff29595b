import { Rng } from '../../sim/rng.js';
import type { MiningDataset } from './dataset.js';
import { binDataset, growTree, type Binning, type PathCondition } from './tree.js';

/**
 * A skope-rules style learner: seeded bagging of shallow decision trees, every node's path as a
 * candidate conjunction, kept when its out-of-bag precision and recall clear the floors; then
 * simplified (one condition per feature and direction, conditions that change nothing dropped),
 * thresholds moved to the most readable value that splits the data identically, and
 * near-duplicates removed (same features and directions, or covered rows overlapping above a
 * Jaccard cut). Deterministic for a seed.
 */

export type ConditionOp = '>' | '>=' | '<' | '<=';

export interface MinedCondition {
  /** Feature expression in the rule language. */
  feature: string;
  op: ConditionOp;
  threshold: number;
}

export interface RuleMetrics {
  /** Weighted (events represented) precision and recall on the mining data. */
  precision: number;
  recall: number;
  f1: number;
  /** Share of all events (of the mined event types) the rule fires on. */
  coverage: number;
  /** Events (weighted) the rule fires on, and the positives among them. */
  support: number;
  truePositives: number;
  /** Ground-truth groups (episodes) with at least one covered positive, of all groups. */
  groupsHit: number;
  groups: number;
}

export interface MinedRule {
  conditions: MinedCondition[];
  metrics: RuleMetrics;
  /** Out-of-bag precision and recall of the tree path the rule came from (the selection criterion). */
  oob: { precision: number; recall: number };
}

export interface LearnerOptions {
  seed?: number;
  /** Trees in the bag (default 24). */
  trees?: number;
  /** Tree depths to cycle through (default [1, 2, 3]): the longest rule has this many conditions. */
  depths?: number[];
  /** Share of rows in each bootstrap sample (default 0.8). */
  sampleShare?: number;
  /** Share of features each tree may use (default 0.7). */
  featureShare?: number;
  minSamplesLeaf?: number;
  /** Out-of-bag floors (defaults 0.5 and 0.05). */
  minPrecision?: number;
  minRecall?: number;
  /** Covered-row Jaccard above which two rules are duplicates (default 0.7). */
  maxOverlap?: number;
  /** At most this many rules (default 5). */
  maxRules?: number;
  /** Cuts per feature (default 32). */
  maxCuts?: number;
}

/** Evaluates a conjunction with rule semantics: NaN (null) fails every comparison. */
export function coveredRows(ds: MiningDataset, conds: readonly { feature: number; op: ConditionOp; threshold: number }[]): Uint8Array {
  const n = ds.labels.length;
  const out = new Uint8Array(n).fill(1);
  for (const c of conds) {
    const col = ds.columns[c.feature];
    const t = c.threshold;
    for (let i = 0; i < n; i++) {
      if (!out[i]) continue;
      const v = col[i];
      const ok = c.op === '>' ? v > t : c.op === '>=' ? v >= t : c.op === '<' ? v < t : v <= t;
      if (!ok) out[i] = 0;
    }
  }
  return out;
}

export function ruleMetrics(ds: MiningDataset, covered: Uint8Array, rows?: Int32Array): RuleMetrics {
  let tp = 0;
  let fp = 0;
  let pos = 0;
  let all = 0;
  const groups = new Set<string>();
  const hit = new Set<string>();
  const visit = (i: number) => {
    const w = ds.weights[i];
    all += w;
    if (ds.labels[i]) {
      pos += w;
      groups.add(ds.groups[i]);
      if (covered[i]) {
        tp += w;
        hit.add(ds.groups[i]);
      }
    } else if (covered[i]) fp += w;
  };
  if (rows) for (let k = 0; k < rows.length; k++) visit(rows[k]);
  else for (let i = 0; i < ds.labels.length; i++) visit(i);
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = pos > 0 ? tp / pos : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1, coverage: all > 0 ? (tp + fp) / all : 0, support: tp + fp, truePositives: tp, groupsHit: hit.size, groups: groups.size };
}

interface Candidate {
  conds: { feature: number; op: ConditionOp; threshold: number }[];
  oob: { precision: number; recall: number };
  covered?: Uint8Array;
  metrics?: RuleMetrics;
}

/** One condition per feature and direction, the tightest; sorted for a stable signature. */
function simplifyPath(path: PathCondition[]): Candidate['conds'] {
  const tight = new Map<string, PathCondition>();
  for (const c of path) {
    const k = `${c.feature}${c.op}`;
    const prev = tight.get(k);
    if (!prev || (c.op === '>' ? c.threshold > prev.threshold : c.threshold < prev.threshold)) tight.set(k, c);
  }
  return [...tight.values()].sort((a, b) => a.feature - b.feature || (a.op < b.op ? -1 : 1)).map((c) => ({ ...c }));
}

const signature = (conds: Candidate['conds']) => conds.map((c) => `${c.feature}${c.op === '>' || c.op === '>=' ? '>' : '<'}`).join('&');

/** The value with the fewest significant digits in [lo, hi) (or (lo, hi] when `upper`). */
export function readableBetween(lo: number, hi: number, upper = false): number {
  if (!(hi > lo)) return lo;
  const mag = Math.max(Math.abs(lo), Math.abs(hi));
  const e = mag > 0 ? Math.floor(Math.log10(mag)) : 0;
  for (let d = 0; d <= 12; d++) {
    const step = Math.pow(10, e - d);
    const x = Number((upper ? Math.floor(hi / step) * step : Math.ceil(lo / step) * step).toPrecision(d + 1));
    if (upper ? x > lo && x <= hi : x >= lo && x < hi) return x;
  }
  return upper ? hi : lo;
}

/** Moves each threshold to the most readable value that splits the observed data identically. */
function readableThresholds(bin: Binning, conds: Candidate['conds'], integer: boolean[]): Candidate['conds'] {
  return conds.map((c) => {
    const d = bin.distinct[c.feature];
    // a = largest observed value ≤ t, b = smallest observed value > t
    let lo = 0;
    let hi = d.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (d[m] <= c.threshold) lo = m + 1;
      else hi = m;
    }
    const a = lo > 0 ? d[lo - 1] : c.threshold;
    const b = lo < d.length ? d[lo] : c.threshold;
    if (integer[c.feature]) return c.op === '>' ? { feature: c.feature, op: '>=' as const, threshold: b } : { feature: c.feature, op: '<=' as const, threshold: a };
    if (c.op === '>') return { ...c, threshold: readableBetween(a, b) };
    // `v <= x` keeps a and drops b: x in [a, b).
    return { ...c, threshold: readableBetween(a, b) };
  });
}

/**
 * The trees only cut at quantile bins; move each threshold, the others held, to the observed value
 * that maximises F1 (precision floor kept): one sorted sweep per condition. Two rounds settle it.
 */
function refineThresholds(ds: MiningDataset, conds: Candidate['conds'], minPrecision: number): Candidate['conds'] {
  const n = ds.labels.length;
  let pos = 0;
  for (let i = 0; i < n; i++) if (ds.labels[i]) pos += ds.weights[i];
  const cur = conds.map((c) => ({ ...c }));
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < cur.length; i++) {
      const others = coveredRows(ds, cur.filter((_, j) => j !== i));
      const col = ds.columns[cur[i].feature];
      const idx: number[] = [];
      for (let r = 0; r < n; r++) if (others[r] && !Number.isNaN(col[r])) idx.push(r);
      if (idx.length === 0) continue;
      const above = cur[i].op === '>' || cur[i].op === '>=';
      // Sweep from the covered end: `> d` covers everything above d; `<= d` everything up to d.
      idx.sort((a, b) => (above ? col[b] - col[a] : col[a] - col[b]));
      let tp = 0;
      let fp = 0;
      let bestF1 = -1;
      let bestT = cur[i].threshold;
      for (let k = 0; k < idx.length; k++) {
        const r = idx[k];
        if (above && k > 0 && col[r] !== col[idx[k - 1]]) {
          // threshold col[r]: covers rows 0..k-1 (strictly above col[r])
          const f = f1Of(tp, fp, pos);
          if (tp / (tp + fp) >= minPrecision && f > bestF1) [bestF1, bestT] = [f, col[r]];
        }
        if (ds.labels[r]) tp += ds.weights[r];
        else fp += ds.weights[r];
        if (!above && (k === idx.length - 1 || col[idx[k + 1]] !== col[r])) {
          const f = f1Of(tp, fp, pos);
          if (tp / (tp + fp) >= minPrecision && f > bestF1) [bestF1, bestT] = [f, col[r]];
        }
      }
      if (bestF1 >= 0) cur[i] = { ...cur[i], op: above ? '>' : '<=', threshold: bestT };
    }
  }
  return cur;
}

const f1Of = (tp: number, fp: number, pos: number) => {
  const p = tp + fp > 0 ? tp / (tp + fp) : 0;
  const r = pos > 0 ? tp / pos : 0;
  return p + r > 0 ? (2 * p * r) / (p + r) : 0;
};

function jaccard(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let uni = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] && b[i]) inter++;
    if (a[i] || b[i]) uni++;
  }
  return uni > 0 ? inter / uni : 0;
}

export function learnRules(ds: MiningDataset, opts: LearnerOptions = {}): MinedRule[] {
  const n = ds.labels.length;
  const nf = ds.features.length;
  const seed = opts.seed ?? 1;
  const rng = new Rng(seed, 0x6d696e65);
  const trees = opts.trees ?? 24;
  const depths = opts.depths ?? [1, 2, 3];
  const sampleShare = opts.sampleShare ?? 0.8;
  const featureShare = opts.featureShare ?? 0.7;
  const minLeaf = opts.minSamplesLeaf ?? Math.max(3, Math.floor(n * 0.002));
  const minPrecision = opts.minPrecision ?? 0.5;
  const minRecall = opts.minRecall ?? 0.05;
  const maxOverlap = opts.maxOverlap ?? 0.7;
  const maxRules = opts.maxRules ?? 5;
  let positives = 0;
  for (let i = 0; i < n; i++) positives += ds.labels[i];
  if (positives === 0 || positives === n || nf === 0) return [];

  const bin = binDataset(ds, opts.maxCuts ?? 32);
  const integer = ds.columns.map((col) => col.every((v) => Number.isNaN(v) || Number.isInteger(v)));
  // Balanced training weights: both classes weigh the same in the Gini, whatever the sampling.
  let wPos = 0;
  let wNeg = 0;
  for (let i = 0; i < n; i++) {
    if (ds.labels[i]) wPos += ds.weights[i];
    else wNeg += ds.weights[i];
  }
  const train = new Float64Array(n);
  for (let i = 0; i < n; i++) train[i] = ds.weights[i] / (ds.labels[i] ? wPos : wNeg);

  const bySig = new Map<string, Candidate>();
  const nFeat = Math.max(1, Math.round(nf * featureShare));
  for (let t = 0; t < trees; t++) {
    const inBag = new Uint8Array(n);
    const bag: number[] = [];
    for (let i = 0; i < n; i++) {
      if (rng.float() < sampleShare) {
        inBag[i] = 1;
        bag.push(i);
      }
    }
    const oob: number[] = [];
    for (let i = 0; i < n; i++) if (!inBag[i]) oob.push(i);
    const feats = rng.sample(
      Array.from({ length: nf }, (_, i) => i),
      nFeat,
    );
    const paths = growTree(ds, bin, Int32Array.from(bag), train, { maxDepth: depths[t % depths.length], minSamplesLeaf: minLeaf, features: feats });
    const oobRows = Int32Array.from(oob);
    for (const p of paths) {
      const conds = simplifyPath(p);
      const m = ruleMetrics(ds, coveredRows(ds, conds), oobRows);
      if (m.precision < minPrecision || m.recall < minRecall) continue;
      const sig = signature(conds) + '|' + conds.map((c) => c.threshold).join(',');
      const prev = bySig.get(sig);
      if (!prev || m.precision + m.recall > prev.oob.precision + prev.oob.recall) bySig.set(sig, { conds, oob: { precision: m.precision, recall: m.recall } });
    }
  }

  // Best raw candidate per feature/direction signature; only the strongest few are polished.
  const raw = new Map<string, Candidate>();
  for (const c of bySig.values()) {
    c.covered = coveredRows(ds, c.conds);
    c.metrics = ruleMetrics(ds, c.covered);
    const s = signature(c.conds);
    const prev = raw.get(s);
    if (!prev || better(c, prev)) raw.set(s, c);
  }
  const shortlist = [...raw.values()].sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0)).slice(0, Math.max(8, maxRules * 3));
  // Exact thresholds, readable values, then drop conditions that change nothing (or only help).
  const pool: Candidate[] = [];
  for (const c of shortlist) {
    let conds = readableThresholds(bin, refineThresholds(ds, c.conds, minPrecision), integer);
    let covered = coveredRows(ds, conds);
    let m = ruleMetrics(ds, covered);
    // Coarser round numbers when they cost (almost) nothing: 0.38 reads better than 0.3783.
    for (let i = 0; i < conds.length; i++) {
      if (integer[conds[i].feature]) continue;
      for (let digits = 1; digits <= 3; digits++) {
        const t = Number(conds[i].threshold.toPrecision(digits));
        if (t === conds[i].threshold) break;
        const trial = conds.map((x, j) => (j === i ? { ...x, threshold: t } : x));
        const cov = coveredRows(ds, trial);
        const mt = ruleMetrics(ds, cov);
        if (mt.f1 >= m.f1 * 0.995 && mt.precision >= minPrecision) {
          conds = trial;
          covered = cov;
          m = mt;
          break;
        }
      }
    }
    for (let i = conds.length - 1; i >= 0 && conds.length > 1; i--) {
      const shorter = conds.filter((_, j) => j !== i);
      const cov = coveredRows(ds, shorter);
      const ms = ruleMetrics(ds, cov);
      if (ms.f1 >= m.f1 && ms.precision >= minPrecision) {
        conds = shorter;
        covered = cov;
        m = ms;
      }
    }
    pool.push({ conds, oob: c.oob, covered, metrics: m });
  }
  // Same features and directions: keep the best; then drop rules overlapping a better one.
  const best = new Map<string, Candidate>();
  for (const c of pool) {
    const s = signature(c.conds);
    const prev = best.get(s);
    if (!prev || better(c, prev)) best.set(s, c);
  }
  const ranked = [...best.values()].sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
  const kept: Candidate[] = [];
  for (const c of ranked) {
    if (kept.length >= maxRules) break;
    if (c.metrics!.precision < minPrecision) continue;
    if (kept.some((k) => jaccard(k.covered!, c.covered!) > maxOverlap)) continue;
    kept.push(c);
  }
  return kept.map((c) => ({
    conditions: c.conds.map((x) => ({ feature: ds.features[x.feature], op: x.op, threshold: x.threshold })),
    metrics: c.metrics!,
    oob: c.oob,
  }));
}

/** F1 first; fewer conditions, then the stable text order break ties. */
function better(a: Candidate, b: Candidate): boolean {
  const fa = a.metrics!.f1;
  const fb = b.metrics!.f1;
  if (Math.abs(fa - fb) > 1e-9) return fa > fb;
  if (a.conds.length !== b.conds.length) return a.conds.length < b.conds.length;
  return signature(a.conds) + a.conds.map((c) => c.threshold).join() < signature(b.conds) + b.conds.map((c) => c.threshold).join();
}
