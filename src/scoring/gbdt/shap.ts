/**
 * Exact TreeSHAP (Lundberg, Erion & Lee 2018, "Consistent Individualized Feature Attribution for Tree
 * Ensembles", Algorithm 2): path-dependent Shapley values of each feature for one row, in margin units,
 * in O(T·L·D²). The conditional expectations use the training covers stored on the nodes, so
 * bias + Σ contributions = the model's raw margin for the row.
 */
import type { Ensemble, Tree } from './tree.js';

/** Path element storage for one recursion: flat arrays indexed by slot. */
class PathStore {
  feature: Int32Array;
  zero: Float64Array;
  one: Float64Array;
  pweight: Float64Array;
  constructor(size: number) {
    this.feature = new Int32Array(size);
    this.zero = new Float64Array(size);
    this.one = new Float64Array(size);
    this.pweight = new Float64Array(size);
  }
}

function extendPath(p: PathStore, at: number, depth: number, zero: number, one: number, feature: number): void {
  p.feature[at + depth] = feature;
  p.zero[at + depth] = zero;
  p.one[at + depth] = one;
  p.pweight[at + depth] = depth === 0 ? 1 : 0;
  for (let i = depth - 1; i >= 0; i--) {
    p.pweight[at + i + 1] += (one * p.pweight[at + i] * (i + 1)) / (depth + 1);
    p.pweight[at + i] = (zero * p.pweight[at + i] * (depth - i)) / (depth + 1);
  }
}

function unwindPath(p: PathStore, at: number, depth: number, index: number): void {
  const one = p.one[at + index];
  const zero = p.zero[at + index];
  let next = p.pweight[at + depth];
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = p.pweight[at + i];
      p.pweight[at + i] = (next * (depth + 1)) / ((i + 1) * one);
      next = tmp - (p.pweight[at + i] * zero * (depth - i)) / (depth + 1);
    } else {
      p.pweight[at + i] = (p.pweight[at + i] * (depth + 1)) / (zero * (depth - i));
    }
  }
  for (let i = index; i < depth; i++) {
    p.feature[at + i] = p.feature[at + i + 1];
    p.zero[at + i] = p.zero[at + i + 1];
    p.one[at + i] = p.one[at + i + 1];
  }
}

function unwoundPathSum(p: PathStore, at: number, depth: number, index: number): number {
  const one = p.one[at + index];
  const zero = p.zero[at + index];
  let next = p.pweight[at + depth];
  let total = 0;
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = (next * (depth + 1)) / ((i + 1) * one);
      total += tmp;
      next = p.pweight[at + i] - (tmp * zero * (depth - i)) / (depth + 1);
    } else if (zero !== 0) {
      total += p.pweight[at + i] / zero / ((depth - i) / (depth + 1));
    }
  }
  return total;
}

function recurse(
  tree: Tree,
  leftOf: Uint8Array,
  phi: Float64Array,
  node: number,
  depth: number,
  p: PathStore,
  parentAt: number,
  zero: number,
  one: number,
  feature: number,
): void {
  // This call's path lives right after the parent's (as in the reference implementation).
  const at = parentAt + depth;
  for (let i = 0; i < depth; i++) {
    p.feature[at + i] = p.feature[parentAt + i];
    p.zero[at + i] = p.zero[parentAt + i];
    p.one[at + i] = p.one[parentAt + i];
    p.pweight[at + i] = p.pweight[parentAt + i];
  }
  extendPath(p, at, depth, zero, one, feature);
  const split = tree.feature[node];
  if (split < 0) {
    const v = tree.value[node];
    for (let i = 1; i <= depth; i++) {
      const w = unwoundPathSum(p, at, depth, i);
      phi[p.feature[at + i]] += w * (p.one[at + i] - p.zero[at + i]) * v;
    }
    return;
  }
  const left = tree.left[node];
  const right = tree.right[node];
  const hot = leftOf[node] ? left : right;
  const cold = hot === left ? right : left;
  const w = tree.cover[node];
  const hotZero = w > 0 ? tree.cover[hot] / w : 0.5;
  const coldZero = w > 0 ? tree.cover[cold] / w : 0.5;
  let inZero = 1;
  let inOne = 1;
  let k = 0;
  for (; k <= depth; k++) if (p.feature[at + k] === split) break;
  let d = depth;
  if (k !== depth + 1) {
    inZero = p.zero[at + k];
    inOne = p.one[at + k];
    unwindPath(p, at, d, k);
    d -= 1;
  }
  recurse(tree, leftOf, phi, hot, d + 1, p, at, hotZero * inZero, inOne, split);
  recurse(tree, leftOf, phi, cold, d + 1, p, at, coldZero * inZero, 0, split);
}

export interface ShapResult {
  /** Base value: base margin + each tree's cover-weighted expected output. */
  bias: number;
  /** One contribution per feature, in margin units. */
  contributions: Float64Array;
  /** bias + Σ contributions (equals the model's margin). */
  margin: number;
}

/**
 * Per-tree lookup of SHAP values. A tree's path-dependent SHAP values depend on the row only through the
 * direction it takes at each internal node, so for a tree with K internal nodes all 2^K answers can be
 * computed once; explaining a row is then K split decisions and a table read per tree. Trees with more
 * internal nodes (or past the memory budget) are explained by the recursion.
 */
interface ShapTable {
  internal: Int32Array;
  features: Int32Array;
  /** (2^K × features.length) contributions, row = pattern of left-decisions. */
  values: Float64Array;
}

const MAX_TABLE_SPLITS = 8;
const TABLE_BUDGET = 4_000_000;

/** Precomputed per-model state: expected values, path buffers, and lookup tables for small trees. */
export class TreeExplainer {
  private readonly store: PathStore;
  private readonly tables: (ShapTable | null)[];
  private readonly leftOf: Uint8Array;
  readonly bias: number;

  constructor(readonly model: Ensemble) {
    const d = model.maxDepth() + 2;
    this.store = new PathStore((d * (d + 1)) / 2 + d + 1);
    let bias = model.baseMargin;
    for (const t of model.trees) bias += t.expectedValue();
    this.bias = bias;
    this.leftOf = new Uint8Array(model.trees.reduce((m, t) => Math.max(m, t.size), 1));
    let budget = TABLE_BUDGET;
    this.tables = model.trees.map((t) => {
      const internal: number[] = [];
      for (let i = 0; i < t.size; i++) if (t.feature[i] >= 0) internal.push(i);
      const feats = [...new Set(internal.map((i) => t.feature[i]))].sort((a, b) => a - b);
      const K = internal.length;
      if (K === 0 || K > MAX_TABLE_SPLITS || (1 << K) * feats.length > budget) return null;
      budget -= (1 << K) * feats.length;
      const values = new Float64Array((1 << K) * feats.length);
      const phi = new Float64Array(model.features.length);
      const leftOf = new Uint8Array(t.size);
      for (let mask = 0; mask < 1 << K; mask++) {
        for (let k = 0; k < K; k++) leftOf[internal[k]] = (mask >> k) & 1;
        phi.fill(0);
        recurse(t, leftOf, phi, 0, 0, this.store, 0, 1, 1, -1);
        feats.forEach((f, j) => (values[mask * feats.length + j] = phi[f]));
      }
      return { internal: Int32Array.from(internal), features: Int32Array.from(feats), values };
    });
  }

  /** SHAP values of one row; `into` (one slot per feature) is reused when given, so the hot path allocates no array. */
  explain(row: ArrayLike<number>, into?: Float64Array): ShapResult {
    const x = this.model.prepare(row);
    const phi = into ? into.fill(0) : new Float64Array(this.model.features.length);
    const trees = this.model.trees;
    const offsets = this.model.treeOffsets();
    for (let ti = 0; ti < trees.length; ti++) {
      const t = trees[ti];
      if (t.feature[0] < 0) continue;
      const tab = this.tables[ti];
      if (tab) {
        let mask = 0;
        const internal = tab.internal;
        const off = offsets[ti];
        for (let k = 0; k < internal.length; k++) {
          const n = internal[k];
          if (this.model.goesLeftFlat(off + n, x[t.feature[n]])) mask |= 1 << k;
        }
        const nf = tab.features.length;
        const base = mask * nf;
        for (let j = 0; j < nf; j++) phi[tab.features[j]] += tab.values[base + j];
        continue;
      }
      const leftOf = this.leftOf;
      for (let n = 0; n < t.size; n++) if (t.feature[n] >= 0) leftOf[n] = t.goesLeft(n, x[t.feature[n]]) ? 1 : 0;
      recurse(t, leftOf, phi, 0, 0, this.store, 0, 1, 1, -1);
    }
    let m = this.bias;
    for (let i = 0; i < phi.length; i++) m += phi[i];
    return { bias: this.bias, contributions: phi, margin: m };
  }

  /** The recursion alone (no lookup tables): for testing the tables against it. */
  explainByRecursion(row: ArrayLike<number>): ShapResult {
    const x = this.model.prepare(row);
    const phi = new Float64Array(this.model.features.length);
    const leftOf = this.leftOf;
    for (const t of this.model.trees) {
      if (t.feature[0] < 0) continue;
      for (let n = 0; n < t.size; n++) if (t.feature[n] >= 0) leftOf[n] = t.goesLeft(n, x[t.feature[n]]) ? 1 : 0;
      recurse(t, leftOf, phi, 0, 0, this.store, 0, 1, 1, -1);
    }
    let m = this.bias;
    for (let i = 0; i < phi.length; i++) m += phi[i];
    return { bias: this.bias, contributions: phi, margin: m };
  }
}

/**
 * Brute-force path-dependent Shapley values, for testing: v(S) = E[f(x) | x_S] computed by following
 * x at splits on features in S and averaging children by cover elsewhere, Shapley-weighted over all
 * subsets. Exponential in the number of features.
 */
export function bruteForceShap(model: Ensemble, row: ArrayLike<number>): Float64Array {
  const x = model.prepare(row);
  const m = model.features.length;
  const value = (mask: number): number => {
    let s = model.baseMargin;
    for (const t of model.trees) s += condExpect(t, x, mask, 0);
    return s;
  };
  const fact = [1];
  for (let i = 1; i <= m; i++) fact[i] = fact[i - 1] * i;
  const cache = new Map<number, number>();
  const v = (mask: number) => {
    let r = cache.get(mask);
    if (r === undefined) {
      r = value(mask);
      cache.set(mask, r);
    }
    return r;
  };
  const phi = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    for (let mask = 0; mask < 1 << m; mask++) {
      if (mask & (1 << i)) continue;
      let size = 0;
      for (let b = mask; b; b &= b - 1) size++;
      const w = (fact[size] * fact[m - size - 1]) / fact[m];
      phi[i] += w * (v(mask | (1 << i)) - v(mask));
    }
  }
  return phi;
}

function condExpect(t: Tree, x: ArrayLike<number>, mask: number, node: number): number {
  const f = t.feature[node];
  if (f < 0) return t.value[node];
  const l = t.left[node];
  const r = t.right[node];
  if (mask & (1 << f)) return condExpect(t, x, mask, t.goesLeft(node, x[f]) ? l : r);
  const cl = t.cover[l];
  const cr = t.cover[r];
  return (cl * condExpect(t, x, mask, l) + cr * condExpect(t, x, mask, r)) / (cl + cr);
}
