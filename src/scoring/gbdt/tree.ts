/**
 * Decision trees and tree ensembles, shared by riskloop's own GBDT and by imported XGBoost/LightGBM
 * models. One node layout covers all three (struct of typed arrays, root at 0, leaves have feature −1):
 *
 * - numeric split: left when x ≤ threshold (or x < threshold when DT_STRICT is set, as in XGBoost);
 * - missing values by missing type (LightGBM's semantics): NaN → the default direction; None → NaN reads
 *   as 0 first; Zero → 0 (and NaN) take the default direction;
 * - categorical split: left when the category code is in the node's set; missing → the default direction;
 *   negative or unknown codes → right.
 */
import type { FeatureSpec } from '../data.js';

export const DT_CATEGORICAL = 1;
export const DT_DEFAULT_LEFT = 2;
/** Missing type, bits 2–3. */
export const MISSING_NONE = 0;
export const MISSING_ZERO = 1;
export const MISSING_NAN = 2;
/** Numeric comparison is strict (x < threshold), as in XGBoost. */
export const DT_STRICT = 16;
const K_ZERO = 1e-35;

export function missingTypeOf(decision: number): number {
  return (decision >> 2) & 3;
}

export interface TreeJSON {
  feature: number[];
  threshold: number[];
  decision: number[];
  left: number[];
  right: number[];
  value: number[];
  cover: number[];
  /** For categorical nodes: the category codes that go left. */
  categories?: Record<string, number[]>;
}

export class Tree {
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly decision: Uint8Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** Leaf outputs (margin units, learning rate applied). Internal nodes hold their would-be output. */
  readonly value: Float64Array;
  /** Training hessian sum (or row count) per node: used by TreeSHAP. */
  readonly cover: Float64Array;
  /** Bitsets of left-going categories for categorical nodes. */
  readonly catBits: (Uint32Array | null)[];

  constructor(j: TreeJSON) {
    const n = j.feature.length;
    for (const k of ['threshold', 'decision', 'left', 'right', 'value', 'cover'] as const) {
      if (j[k].length !== n) throw new Error(`tree: ${k} has ${j[k].length} entries, feature has ${n}`);
    }
    this.feature = Int32Array.from(j.feature);
    this.threshold = Float64Array.from(j.threshold, (v) => (v === null ? NaN : v));
    this.decision = Uint8Array.from(j.decision);
    this.left = Int32Array.from(j.left);
    this.right = Int32Array.from(j.right);
    this.value = Float64Array.from(j.value);
    this.cover = Float64Array.from(j.cover);
    this.catBits = new Array(n).fill(null);
    for (const [node, codes] of Object.entries(j.categories ?? {})) {
      const max = codes.reduce((a, b) => Math.max(a, b), 0);
      const bits = new Uint32Array((max >> 5) + 1);
      for (const c of codes) bits[c >> 5] |= 1 << (c & 31);
      this.catBits[Number(node)] = bits;
    }
    for (let i = 0; i < n; i++) {
      if (this.feature[i] < 0) continue;
      if (this.left[i] <= 0 || this.left[i] >= n || this.right[i] <= 0 || this.right[i] >= n) throw new Error(`tree: node ${i} has children outside the tree`);
      if (this.decision[i] & DT_CATEGORICAL && !this.catBits[i]) throw new Error(`tree: categorical node ${i} has no category set`);
    }
  }

  get size(): number {
    return this.feature.length;
  }

  isLeaf(node: number): boolean {
    return this.feature[node] < 0;
  }

  /** Whether x goes to the left child of `node`. */
  goesLeft(node: number, x: number): boolean {
    const d = this.decision[node];
    if (d & DT_CATEGORICAL) {
      if (x !== x) return (d & DT_DEFAULT_LEFT) !== 0;
      // Codes truncate toward zero (as C's int cast); negative codes go right.
      const c = Math.trunc(x);
      if (c < 0) return false;
      const bits = this.catBits[node]!;
      const w = c >> 5;
      return w < bits.length && (bits[w] & (1 << (c & 31))) !== 0;
    }
    const mt = (d >> 2) & 3;
    if (mt === MISSING_NAN) {
      if (x !== x) return (d & DT_DEFAULT_LEFT) !== 0;
    } else {
      if (x !== x) x = 0;
      if (mt === MISSING_ZERO && x >= -K_ZERO && x <= K_ZERO) return (d & DT_DEFAULT_LEFT) !== 0;
    }
    return d & DT_STRICT ? x < this.threshold[node] : x <= this.threshold[node];
  }

  /** The leaf `row` lands in. */
  leafOf(row: ArrayLike<number>): number {
    let node = 0;
    const feature = this.feature;
    while (feature[node] >= 0) node = this.goesLeft(node, row[feature[node]]) ? this.left[node] : this.right[node];
    return node;
  }

  predict(row: ArrayLike<number>): number {
    return this.value[this.leafOf(row)];
  }

  depth(node = 0): number {
    return this.feature[node] < 0 ? 0 : 1 + Math.max(this.depth(this.left[node]), this.depth(this.right[node]));
  }

  /** Cover-weighted mean of the leaves: the tree's expected output (TreeSHAP's base value). */
  expectedValue(node = 0): number {
    if (this.feature[node] < 0) return this.value[node];
    const l = this.left[node];
    const r = this.right[node];
    const cl = this.cover[l];
    const cr = this.cover[r];
    if (cl + cr <= 0) return 0.5 * (this.expectedValue(l) + this.expectedValue(r));
    return (cl * this.expectedValue(l) + cr * this.expectedValue(r)) / (cl + cr);
  }

  toJSON(): TreeJSON {
    const categories: Record<string, number[]> = {};
    this.catBits.forEach((bits, node) => {
      if (!bits) return;
      const codes: number[] = [];
      for (let w = 0; w < bits.length; w++) for (let b = 0; b < 32; b++) if (bits[w] & (1 << b)) codes.push(w * 32 + b);
      categories[node] = codes;
    });
    const j: TreeJSON = {
      feature: [...this.feature],
      threshold: [...this.threshold].map((v) => (Number.isFinite(v) ? v : (null as unknown as number))),
      decision: [...this.decision],
      left: [...this.left],
      right: [...this.right],
      value: [...this.value],
      cover: [...this.cover],
    };
    if (Object.keys(categories).length) j.categories = categories;
    return j;
  }
}

/**
 * One tree kept alive (exported so it stays reachable): optimised code checks Tree's hidden class, which V8 drops,
 * and that code with it, once no tree is left.
 */
export const TREE_SHAPE_KEEPER = new Tree({ feature: [-1], threshold: [0], decision: [0], left: [-1], right: [-1], value: [0], cover: [0] });

export type Objective = 'binary' | 'regression';

export interface EnsembleJSON {
  kind: 'tree-ensemble';
  /** Who trained it: riskloop, xgboost or lightgbm. */
  source: string;
  objective: Objective;
  /** Added to the sum of the trees. */
  baseMargin: number;
  /** probability = 1 / (1 + exp(−sigmoidScale · margin)) for binary models. */
  sigmoidScale: number;
  /** XGBoost compares in float32: inputs are rounded to float32 before the splits. */
  float32Inputs: boolean;
  features: FeatureSpec[];
  trees: TreeJSON[];
}

export class Ensemble {
  readonly trees: Tree[];
  readonly features: FeatureSpec[];
  readonly source: string;
  readonly objective: Objective;
  readonly baseMargin: number;
  readonly sigmoidScale: number;
  readonly float32Inputs: boolean;
  private readonly scratch: Float64Array;

  constructor(j: Omit<EnsembleJSON, 'kind' | 'trees'> & { trees: (Tree | TreeJSON)[] }) {
    this.trees = j.trees.map((t) => (t instanceof Tree ? t : new Tree(t)));
    this.features = j.features;
    this.source = j.source;
    this.objective = j.objective;
    this.baseMargin = j.baseMargin;
    this.sigmoidScale = j.sigmoidScale;
    this.float32Inputs = j.float32Inputs;
    this.scratch = new Float64Array(j.features.length);
    for (const t of this.trees) {
      for (let i = 0; i < t.size; i++) {
        if (t.feature[i] >= j.features.length) throw new Error(`tree splits on feature ${t.feature[i]}, the model has ${j.features.length}`);
      }
    }
  }

  static fromJSON(j: EnsembleJSON): Ensemble {
    if (j.kind !== 'tree-ensemble') throw new Error(`not a tree ensemble: ${j.kind}`);
    return new Ensemble(j);
  }

  toJSON(): EnsembleJSON {
    return {
      kind: 'tree-ensemble',
      source: this.source,
      objective: this.objective,
      baseMargin: this.baseMargin,
      sigmoidScale: this.sigmoidScale,
      float32Inputs: this.float32Inputs,
      features: this.features,
      trees: this.trees.map((t) => t.toJSON()),
    };
  }

  /** The row as the trees compare it (float32-rounded for XGBoost models). */
  prepare(row: ArrayLike<number>): ArrayLike<number> {
    if (!this.float32Inputs) return row;
    const s = this.scratch;
    for (let i = 0; i < s.length; i++) s[i] = Math.fround(row[i]);
    return s;
  }

  /**
   * All trees in one set of arrays (node indices global), for the scoring hot path: the common
   * decisions compile to one comparison each (NaN compares false, so "x ≤ t" sends NaN right and
   * "!(x > t)" sends it left).
   */
  private flatten(): void {
    const total = this.trees.reduce((a, t) => a + t.size, 0);
    const feat = new Int32Array(total);
    const thr = new Float64Array(total);
    const left = new Int32Array(total);
    const right = new Int32Array(total);
    const kind = new Uint8Array(total);
    const val = new Float64Array(total);
    const roots = new Int32Array(this.trees.length);
    const owner = new Int32Array(total);
    let o = 0;
    this.trees.forEach((t, ti) => {
      roots[ti] = o;
      for (let i = 0; i < t.size; i++) {
        const g = o + i;
        feat[g] = t.feature[i];
        thr[g] = t.threshold[i];
        left[g] = o + t.left[i];
        right[g] = o + t.right[i];
        val[g] = t.value[i];
        owner[g] = ti;
        const d = t.decision[i];
        const nanMissing = ((d >> 2) & 3) === MISSING_NAN && !(d & DT_CATEGORICAL);
        // 1: x ≤ t, NaN right; 2: NaN left; 3: x < t, NaN right; 4: NaN left; 0: general.
        kind[g] = !nanMissing ? 0 : d & DT_STRICT ? (d & DT_DEFAULT_LEFT ? 4 : 3) : d & DT_DEFAULT_LEFT ? 2 : 1;
      }
      o += t.size;
    });
    this.flat = { feat, thr, left, right, kind, val, roots, owner, offsets: roots };
  }

  private flat?: { feat: Int32Array; thr: Float64Array; left: Int32Array; right: Int32Array; kind: Uint8Array; val: Float64Array; roots: Int32Array; owner: Int32Array; offsets: Int32Array };

  /** Whether x goes left at global node g (after flattening). */
  goesLeftFlat(g: number, x: number): boolean {
    const f = this.flat!;
    switch (f.kind[g]) {
      case 1:
        return x <= f.thr[g];
      case 2:
        return !(x > f.thr[g]);
      case 3:
        return x < f.thr[g];
      case 4:
        return !(x >= f.thr[g]);
      default: {
        const ti = f.owner[g];
        return this.trees[ti].goesLeft(g - f.offsets[ti], x);
      }
    }
  }

  /** The global node offset of each tree (flattened layout). */
  treeOffsets(): Int32Array {
    if (!this.flat) this.flatten();
    return this.flat!.offsets;
  }

  /** Raw margin: base + Σ trees (the first `nTrees` trees when given). */
  margin(row: ArrayLike<number>, nTrees = this.trees.length): number {
    if (!this.flat) this.flatten();
    const x = this.prepare(row);
    const { feat, left, right, val, roots } = this.flat!;
    let m = this.baseMargin;
    for (let t = 0; t < nTrees; t++) {
      let g = roots[t];
      while (feat[g] >= 0) g = this.goesLeftFlat(g, x[feat[g]]) ? left[g] : right[g];
      m += val[g];
    }
    return m;
  }

  link(margin: number): number {
    return this.objective === 'binary' ? 1 / (1 + Math.exp(-this.sigmoidScale * margin)) : margin;
  }

  predict(row: ArrayLike<number>): number {
    return this.link(this.margin(row));
  }

  /** Predictions for every row of column-major data. */
  predictColumns(columns: Float64Array[], nRows: number): Float64Array {
    const out = new Float64Array(nRows);
    const row = new Float64Array(columns.length);
    for (let r = 0; r < nRows; r++) {
      for (let f = 0; f < columns.length; f++) row[f] = columns[f][r];
      out[r] = this.predict(row);
    }
    return out;
  }

  maxDepth(): number {
    return this.trees.reduce((d, t) => Math.max(d, t.depth()), 0);
  }
}
