/**
 * Exact TreeSHAP (Lundberg, Erion & Lee 2018, "Consistent Individualized Feature Attribution for Tree
 * Ensembles", Algorithm 2): path-dependent Shapley values of each feature for one row, in margin units,
 * in O(T·L·D²). The conditional expectations use the training covers stored on the nodes, so
 * bias + Σ contributions = the model's raw margin for the row.
 */
import { DT_CATEGORICAL, DT_DEFAULT_LEFT, DT_STRICT, MISSING_NAN, type Ensemble, type Tree } from './tree.js';

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
  /** The model's margin summed tree by tree exactly as Ensemble.margin does (bit for bit), from the same split decisions. */
  treeMargin: number;
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

/**
 * Comparison kind of a split for the table path (as Ensemble's flat layout): 1: x ≤ t, NaN right;
 * 2: NaN left; 3: x < t, NaN right; 4: NaN left; 5/6: categorical, NaN right/left; 0: anything else (the tree decides).
 */
function splitKind(d: number): number {
  if (d & DT_CATEGORICAL) return d & DT_DEFAULT_LEFT ? 6 : 5;
  if (((d >> 2) & 3) !== MISSING_NAN) return 0;
  return d & DT_STRICT ? (d & DT_DEFAULT_LEFT ? 4 : 3) : d & DT_DEFAULT_LEFT ? 2 : 1;
}

/** Precomputed per-model state: expected values, path buffers, and lookup tables for small trees. */
export class TreeExplainer {
  private readonly store: PathStore;
  private readonly tables: (ShapTable | null)[];
  private readonly leftOf: Uint8Array;
  readonly bias: number;
  /**
   * Every table tree's internal splits in one set of arrays (tree ti owns splits [splitAt[ti], splitAt[ti + 1])),
   * and its table's features and values likewise, so explaining a row is flat loops with no calls.
   */
  private readonly splitAt: Int32Array;
  private readonly sNode: Int32Array;
  private readonly sFeat: Int32Array;
  private readonly sThr: Float64Array;
  private readonly sKind: Uint8Array;
  /** Categorical splits: their left-going category bitset is catBits[catAt[g], catAt[g] + catLen[g]). */
  private readonly catAt: Int32Array;
  private readonly catLen: Int32Array;
  private readonly catBits: Uint32Array;
  private readonly featAt: Int32Array;
  private readonly tFeat: Int32Array;
  private readonly valAt: Int32Array;
  private readonly tVal: Float64Array;
  /** Table trees: the leaf value each pattern of split decisions reaches (2^K per tree, from leafAt[ti]). */
  private readonly leafAt: Int32Array;
  private readonly leafVal: Float64Array;

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
    const nt = model.trees.length;
    this.splitAt = new Int32Array(nt + 1);
    this.featAt = new Int32Array(nt + 1);
    this.valAt = new Int32Array(nt + 1);
    this.tables.forEach((tab, ti) => {
      this.splitAt[ti + 1] = this.splitAt[ti] + (tab ? tab.internal.length : 0);
      this.featAt[ti + 1] = this.featAt[ti] + (tab ? tab.features.length : 0);
      this.valAt[ti + 1] = this.valAt[ti] + (tab ? tab.values.length : 0);
    });
    this.sNode = new Int32Array(this.splitAt[nt]);
    this.sFeat = new Int32Array(this.splitAt[nt]);
    this.sThr = new Float64Array(this.splitAt[nt]);
    this.sKind = new Uint8Array(this.splitAt[nt]);
    this.tFeat = new Int32Array(this.featAt[nt]);
    this.tVal = new Float64Array(this.valAt[nt]);
    this.catAt = new Int32Array(this.splitAt[nt]);
    this.catLen = new Int32Array(this.splitAt[nt]);
    const bits: number[] = [];
    this.tables.forEach((tab, ti) => {
      if (!tab) return;
      const t = model.trees[ti];
      tab.internal.forEach((n, k) => {
        const g = this.splitAt[ti] + k;
        this.sNode[g] = n;
        this.sFeat[g] = t.feature[n];
        this.sThr[g] = t.threshold[n];
        this.sKind[g] = splitKind(t.decision[n]);
        const cb = t.catBits[n];
        if (cb) {
          this.catAt[g] = bits.length;
          this.catLen[g] = cb.length;
          bits.push(...cb);
        }
      });
      this.tFeat.set(tab.features, this.featAt[ti]);
      this.tVal.set(tab.values, this.valAt[ti]);
    });
    this.catBits = Uint32Array.from(bits);
    this.leafAt = new Int32Array(nt + 1);
    this.tables.forEach((tab, ti) => (this.leafAt[ti + 1] = this.leafAt[ti] + (tab ? 1 << tab.internal.length : 0)));
    this.leafVal = new Float64Array(this.leafAt[nt]);
    this.tables.forEach((tab, ti) => {
      if (!tab) return;
      const t = model.trees[ti];
      const kOf = new Map<number, number>();
      tab.internal.forEach((n, k) => kOf.set(n, k));
      for (let mask = 0; mask < 1 << tab.internal.length; mask++) {
        let n = 0;
        while (t.feature[n] >= 0) n = (mask >> kOf.get(n)!) & 1 ? t.left[n] : t.right[n];
        this.leafVal[this.leafAt[ti] + mask] = t.value[n];
      }
    });
  }

  /** SHAP values of one row; `into` (one slot per feature) is reused when given, so the hot path allocates no array. */
  explain(row: ArrayLike<number>, into?: Float64Array): ShapResult {
    const x = this.model.prepare(row);
    const phi = into ? into.fill(0) : new Float64Array(this.model.features.length);
    const trees = this.model.trees;
    const offsets = this.model.treeOffsets();
    let tm = this.model.baseMargin;
    for (let ti = 0; ti < trees.length; ti++) {
      const t = trees[ti];
      if (t.feature[0] < 0) {
        tm += t.value[0];
        continue;
      }
      if (this.tables[ti]) {
        let mask = 0;
        const s0 = this.splitAt[ti];
        const K = this.splitAt[ti + 1] - s0;
        for (let k = 0; k < K; k++) {
          const g = s0 + k;
          const v = x[this.sFeat[g]];
          const th = this.sThr[g];
          let left: boolean;
          switch (this.sKind[g]) {
            case 1:
              left = v <= th;
              break;
            case 2:
              left = !(v > th);
              break;
            case 3:
              left = v < th;
              break;
            case 4:
              left = !(v >= th);
              break;
            case 5:
            case 6: {
              // As Tree.goesLeft: missing → the default side; codes truncate toward zero; negative or unknown → right.
              if (v !== v) left = this.sKind[g] === 6;
              else {
                const c = Math.trunc(v);
                const w = c >> 5;
                left = c >= 0 && w < this.catLen[g] && (this.catBits[this.catAt[g] + w] & (1 << (c & 31))) !== 0;
              }
              break;
            }
            default:
              left = this.model.goesLeftFlat(offsets[ti] + this.sNode[g], v);
          }
          if (left) mask |= 1 << k;
        }
        tm += this.leafVal[this.leafAt[ti] + mask];
        const f0 = this.featAt[ti];
        const nf = this.featAt[ti + 1] - f0;
        const base = this.valAt[ti] + mask * nf;
        for (let j = 0; j < nf; j++) phi[this.tFeat[f0 + j]] += this.tVal[base + j];
        continue;
      }
      const leftOf = this.leftOf;
      for (let n = 0; n < t.size; n++) if (t.feature[n] >= 0) leftOf[n] = t.goesLeft(n, x[t.feature[n]]) ? 1 : 0;
      let n = 0;
      while (t.feature[n] >= 0) n = leftOf[n] ? t.left[n] : t.right[n];
      tm += t.value[n];
      recurse(t, leftOf, phi, 0, 0, this.store, 0, 1, 1, -1);
    }
    let m = this.bias;
    for (let i = 0; i < phi.length; i++) m += phi[i];
    return { bias: this.bias, contributions: phi, margin: m, treeMargin: tm };
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
    return { bias: this.bias, contributions: phi, margin: m, treeMargin: this.model.margin(row) };
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
