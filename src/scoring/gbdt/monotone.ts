/**
 * Monotone-constraint verifier for a trained tree ensemble, run after training (and on imported models).
 * Two independent checks:
 *
 * 1. Structure, per tree: every pair of leaves whose regions overlap in all other features, with one
 *    leaf's range of the constrained feature wholly below the other's, must be ordered. A sum of trees
 *    that all pass is monotone everywhere (sufficient, not necessary).
 * 2. Probes: for probe rows (e.g. the training data), the constrained feature is swept across every split
 *    threshold the ensemble uses on it (and the midpoints between, and beyond both ends); the predicted
 *    margin must never move against the constraint. This checks the model as it predicts.
 *
 * Missing values of the constrained feature are outside the constraint (they take the learnt default path).
 */
import { DT_CATEGORICAL, DT_DEFAULT_LEFT, DT_STRICT, MISSING_NAN, missingTypeOf, type Ensemble, type Tree } from './tree.js';

export interface MonotoneViolation {
  feature: string;
  direction: 1 | -1;
  check: 'structure' | 'probe';
  tree?: number;
  leaves?: [number, number];
  row?: number;
  /** The two feature values (lower first) and the outputs there. */
  at?: [number, number];
  values: [number, number];
}

export interface MonotoneReport {
  ok: boolean;
  constraints: Record<string, 1 | -1>;
  treesChecked: number;
  leafPairsChecked: number;
  probeRows: number;
  probePoints: number;
  violations: MonotoneViolation[];
}

interface Region {
  lo: Float64Array;
  hi: Float64Array;
  /** Whether a missing value of the feature reaches the leaf. */
  nan: Uint8Array;
  /** Allowed categories of categorical features (null = all). */
  cats: (Set<number> | null)[];
}

function leafRegions(tree: Tree, nf: number, cardinality: number[]): { leaf: number; region: Region }[] {
  const out: { leaf: number; region: Region }[] = [];
  const walk = (node: number, r: Region) => {
    const f = tree.feature[node];
    if (f < 0) {
      out.push({ leaf: node, region: r });
      return;
    }
    const d = tree.decision[node];
    const dl = (d & DT_DEFAULT_LEFT) !== 0;
    const copy = (): Region => ({ lo: r.lo.slice(), hi: r.hi.slice(), nan: r.nan.slice(), cats: r.cats.slice() });
    const L = copy();
    const R = copy();
    if (d & DT_CATEGORICAL) {
      const bits = tree.catBits[node]!;
      const inSet = (c: number) => (c >> 5) < bits.length && (bits[c >> 5] & (1 << (c & 31))) !== 0;
      const all = r.cats[f] ?? new Set(Array.from({ length: Math.max(cardinality[f], bits.length * 32) }, (_, i) => i));
      L.cats[f] = new Set([...all].filter(inSet));
      R.cats[f] = new Set([...all].filter((c) => !inSet(c)));
      if (dl) R.nan[f] = 0;
      else L.nan[f] = 0;
    } else {
      const t = tree.threshold[node];
      L.hi[f] = Math.min(L.hi[f], t);
      R.lo[f] = Math.max(R.lo[f], t);
      const mt = missingTypeOf(d);
      // Where missing values go: the default way for NaN-type splits, where 0 goes otherwise.
      const nanLeft = mt === MISSING_NAN ? dl : d & DT_STRICT ? 0 < t : 0 <= t;
      if (nanLeft) R.nan[f] = 0;
      else L.nan[f] = 0;
    }
    walk(tree.left[node], L);
    walk(tree.right[node], R);
  };
  walk(0, { lo: new Float64Array(nf).fill(-Infinity), hi: new Float64Array(nf).fill(Infinity), nan: new Uint8Array(nf).fill(1), cats: new Array(nf).fill(null) });
  return out;
}

function overlapsExcept(a: Region, b: Region, skip: number): boolean {
  for (let g = 0; g < a.lo.length; g++) {
    if (g === skip) continue;
    const both = a.nan[g] && b.nan[g];
    const ca = a.cats[g];
    const cb = b.cats[g];
    if (ca || cb) {
      if (both) continue;
      if (ca && cb && ![...ca].some((c) => cb.has(c))) return false;
      continue;
    }
    const intervals = Math.max(a.lo[g], b.lo[g]) < Math.min(a.hi[g], b.hi[g]);
    if (!intervals && !both) return false;
  }
  return true;
}

export interface VerifyOptions {
  /** Rows (feature order) to sweep; without them only the structural check runs. */
  probes?: ArrayLike<number>[];
  /** Tolerance on margin differences. */
  tolerance?: number;
  /** Stop collecting violations after this many. */
  maxViolations?: number;
}

export function verifyMonotone(model: Ensemble, constraints: Record<string, 1 | -1>, opts: VerifyOptions = {}): MonotoneReport {
  const tol = opts.tolerance ?? 1e-9;
  const maxV = opts.maxViolations ?? 20;
  const nf = model.features.length;
  const violations: MonotoneViolation[] = [];
  let pairs = 0;
  const cons: [number, 1 | -1, string][] = Object.entries(constraints).map(([name, dir]) => {
    const f = model.features.findIndex((s) => s.name === name);
    if (f < 0) throw new Error(`monotone constraint on unknown feature "${name}"`);
    return [f, dir, name];
  });
  model.trees.forEach((tree, ti) => {
    const regions = leafRegions(tree, nf, model.features.map((s) => s.categories?.length ?? 0));
    for (const [f, dir, name] of cons) {
      for (const a of regions) {
        for (const b of regions) {
          if (a === b || !(a.region.hi[f] <= b.region.lo[f])) continue;
          if (!overlapsExcept(a.region, b.region, f)) continue;
          pairs++;
          const va = tree.value[a.leaf];
          const vb = tree.value[b.leaf];
          if (dir * (vb - va) < -tol && violations.length < maxV) {
            violations.push({ feature: name, direction: dir, check: 'structure', tree: ti, leaves: [a.leaf, b.leaf], values: [va, vb] });
          }
        }
      }
    }
  });
  let points = 0;
  const probes = opts.probes ?? [];
  for (const [f, dir, name] of cons) {
    const ts = new Set<number>();
    for (const t of model.trees) for (let i = 0; i < t.size; i++) if (t.feature[i] === f && !(t.decision[i] & DT_CATEGORICAL)) ts.add(t.threshold[i]);
    const th = [...ts].sort((a, b) => a - b);
    if (th.length === 0) continue;
    const span = Math.max(1, Math.abs(th[0]), Math.abs(th[th.length - 1]));
    const xs: number[] = [th[0] - span];
    th.forEach((t, i) => {
      xs.push(t);
      if (i + 1 < th.length) xs.push(t + (th[i + 1] - t) / 2);
    });
    xs.push(th[th.length - 1] + span);
    const row = new Float64Array(nf);
    probes.forEach((probe, r) => {
      for (let g = 0; g < nf; g++) row[g] = probe[g];
      let prevX = NaN;
      let prev = NaN;
      for (const x of xs) {
        row[f] = x;
        const m = model.margin(row);
        points++;
        if (prev === prev && dir * (m - prev) < -tol && violations.length < maxV) {
          violations.push({ feature: name, direction: dir, check: 'probe', row: r, at: [prevX, x], values: [prev, m] });
        }
        prevX = x;
        prev = m;
      }
    });
  }
  return { ok: violations.length === 0, constraints, treesChecked: model.trees.length, leafPairsChecked: pairs, probeRows: probes.length, probePoints: points, violations };
}
