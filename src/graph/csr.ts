/**
 * Compact graph kernels. graphology is the entity graph's store and API; the heavy numeric passes
 * (PageRank, components, SCCs, taint propagation) run on compressed sparse rows built from it,
 * because typed arrays are an order of magnitude faster than walking JavaScript objects.
 *
 * Nodes are dense integers 0..n-1. Every result is deterministic: ties are broken by node index.
 */

/** Compressed sparse rows: the out-neighbours of u are targets[offsets[u] .. offsets[u+1]). */
export interface Csr {
  n: number;
  offsets: Int32Array;
  targets: Int32Array;
  /** Edge weight per CSR slot (1 when the input had none). */
  weights: Float64Array;
  /** The index of the input edge behind each CSR slot (for undirected input, both slots point at it). */
  edgeIds: Int32Array;
}

export interface CsrOptions {
  /** Store every edge in both directions (an undirected graph). */
  undirected?: boolean;
}

/** Counting-sort build: O(n + m), stable in input order within each row. An undirected self-loop takes one slot. */
export function buildCsr(n: number, src: ArrayLike<number>, dst: ArrayLike<number>, weight?: ArrayLike<number> | null, opts: CsrOptions = {}): Csr {
  const m = src.length;
  let loops = 0;
  if (opts.undirected) for (let i = 0; i < m; i++) if (src[i] === dst[i]) loops++;
  const slots = opts.undirected ? 2 * m - loops : m;
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < m; i++) {
    offsets[src[i] + 1]++;
    if (opts.undirected && src[i] !== dst[i]) offsets[dst[i] + 1]++;
  }
  for (let u = 0; u < n; u++) offsets[u + 1] += offsets[u];
  const fill = offsets.slice(0, n);
  const targets = new Int32Array(slots);
  const weights = new Float64Array(slots);
  const edgeIds = new Int32Array(slots);
  for (let i = 0; i < m; i++) {
    const s = src[i];
    const t = dst[i];
    const w = weight ? weight[i] : 1;
    let k = fill[s]++;
    targets[k] = t;
    weights[k] = w;
    edgeIds[k] = i;
    if (opts.undirected && s !== t) {
      k = fill[t]++;
      targets[k] = s;
      weights[k] = w;
      edgeIds[k] = i;
    }
  }
  return { n, offsets, targets, weights, edgeIds };
}

/** The reverse graph: in-neighbours become out-neighbours. */
export function transposeCsr(g: Csr): Csr {
  const m = g.targets.length;
  const src = new Int32Array(m);
  for (let u = 0; u < g.n; u++) for (let k = g.offsets[u]; k < g.offsets[u + 1]; k++) src[k] = u;
  const r = buildCsr(g.n, g.targets, src, g.weights);
  // Keep the original edge ids through the transpose.
  const ids = new Int32Array(m);
  for (let k = 0; k < m; k++) ids[k] = g.edgeIds[r.edgeIds[k]];
  r.edgeIds = ids;
  return r;
}

export interface Components {
  /** Component id per node, numbered 0.. in order of each component's smallest node. */
  labels: Int32Array;
  count: number;
  /** Size of each component, by id. */
  sizes: Int32Array;
}

function relabel(raw: Int32Array): Components {
  const n = raw.length;
  const map = new Int32Array(n).fill(-1);
  const labels = new Int32Array(n);
  let count = 0;
  for (let u = 0; u < n; u++) {
    const r = raw[u];
    if (map[r] < 0) map[r] = count++;
    labels[u] = map[r];
  }
  const sizes = new Int32Array(count);
  for (let u = 0; u < n; u++) sizes[labels[u]]++;
  return { labels, count, sizes };
}

/** Union-find with path halving and union by size. */
export class UnionFind {
  readonly parent: Int32Array;
  private readonly size: Int32Array;
  constructor(n: number) {
    this.parent = new Int32Array(n);
    this.size = new Int32Array(n).fill(1);
    for (let i = 0; i < n; i++) this.parent[i] = i;
  }
  find(x: number): number {
    const p = this.parent;
    while (p[x] !== x) {
      p[x] = p[p[x]];
      x = p[x];
    }
    return x;
  }
  /** Joins the sets of a and b; returns false when they were already one. */
  union(a: number, b: number): boolean {
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return false;
    if (this.size[ra] < this.size[rb] || (this.size[ra] === this.size[rb] && rb < ra)) [ra, rb] = [rb, ra];
    this.parent[rb] = ra;
    this.size[ra] += this.size[rb];
    return true;
  }
  sizeOf(x: number): number {
    return this.size[this.find(x)];
  }
}

/** Weakly connected components of an edge list (direction ignored). */
export function connectedComponents(n: number, src: ArrayLike<number>, dst: ArrayLike<number>): Components {
  const uf = new UnionFind(n);
  for (let i = 0; i < src.length; i++) uf.union(src[i], dst[i]);
  const raw = new Int32Array(n);
  for (let u = 0; u < n; u++) raw[u] = uf.find(u);
  return relabel(raw);
}

/** Strongly connected components, iterative Tarjan (no recursion, so deep graphs cannot overflow the stack). */
export function stronglyConnectedComponents(g: Csr): Components {
  const n = g.n;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack = new Int32Array(n);
  let sp = 0;
  const callNode = new Int32Array(n);
  const callEdge = new Int32Array(n);
  const raw = new Int32Array(n);
  let counter = 0;
  const { offsets, targets } = g;
  for (let root = 0; root < n; root++) {
    if (index[root] >= 0) continue;
    let depth = 0;
    callNode[0] = root;
    callEdge[0] = offsets[root];
    index[root] = low[root] = counter++;
    stack[sp++] = root;
    onStack[root] = 1;
    while (depth >= 0) {
      const u = callNode[depth];
      const k = callEdge[depth];
      if (k < offsets[u + 1]) {
        callEdge[depth] = k + 1;
        const v = targets[k];
        if (index[v] < 0) {
          index[v] = low[v] = counter++;
          stack[sp++] = v;
          onStack[v] = 1;
          depth++;
          callNode[depth] = v;
          callEdge[depth] = offsets[v];
        } else if (onStack[v] && index[v] < low[u]) {
          low[u] = index[v];
        }
        continue;
      }
      if (low[u] === index[u]) {
        // u roots a component: pop it; its representative is its smallest node, for stable ids.
        let rep = u;
        let top = sp;
        do {
          top--;
          if (stack[top] < rep) rep = stack[top];
        } while (stack[top] !== u);
        for (let i = top; i < sp; i++) {
          raw[stack[i]] = rep;
          onStack[stack[i]] = 0;
        }
        sp = top;
      }
      depth--;
      if (depth >= 0) {
        const parent = callNode[depth];
        if (low[u] < low[parent]) low[parent] = low[u];
      }
    }
  }
  return relabel(raw);
}

export interface PageRankOptions {
  /** Damping factor: the probability of following an edge rather than jumping back to the seeds. Default 0.85. */
  alpha?: number;
  /** Convergence: stop when the L1 change is below n * tolerance (networkx's rule). Default 1e-6. */
  tolerance?: number;
  maxIterations?: number;
  /** Where dangling nodes (no out-weight) send their mass; default the personalisation vector (as networkx). */
  dangling?: Float64Array;
}

export interface PageRankResult {
  scores: Float64Array;
  iterations: number;
  converged: boolean;
}

/**
 * Personalised PageRank by power iteration over CSR, the same fixed point as networkx.pagerank:
 *   x' = alpha * (x·P + (Σ dangling x) · d) + (1 - alpha) · p,   P = row-normalised weights.
 * `personalization` need not be normalised; an all-zero vector means uniform (plain PageRank).
 */
export function pageRank(g: Csr, personalization?: ArrayLike<number> | null, opts: PageRankOptions = {}): PageRankResult {
  const n = g.n;
  const alpha = opts.alpha ?? 0.85;
  const tol = opts.tolerance ?? 1e-6;
  const maxIter = opts.maxIterations ?? 100;
  const p = new Float64Array(n);
  let ps = 0;
  if (personalization) for (let i = 0; i < n; i++) ps += personalization[i] > 0 ? personalization[i] : 0;
  if (ps > 0) for (let i = 0; i < n; i++) p[i] = personalization![i] > 0 ? personalization![i] / ps : 0;
  else p.fill(1 / n);
  let d = p;
  if (opts.dangling) {
    d = new Float64Array(n);
    let ds = 0;
    for (let i = 0; i < n; i++) ds += opts.dangling[i];
    for (let i = 0; i < n; i++) d[i] = ds > 0 ? opts.dangling[i] / ds : 1 / n;
  }
  const { offsets, targets } = g;
  const { norm, dangling } = normalised(g);
  let x = new Float64Array(n).fill(1 / n);
  let next = new Float64Array(n);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIter) {
    iterations++;
    let dsum = 0;
    next.fill(0);
    for (let u = 0; u < n; u++) {
      const xu = x[u];
      if (dangling[u]) {
        dsum += xu;
        continue;
      }
      if (xu === 0) continue;
      for (let k = offsets[u], e = offsets[u + 1]; k < e; k++) next[targets[k]] += xu * norm[k];
    }
    let err = 0;
    const jump = 1 - alpha;
    const ad = alpha * dsum;
    for (let v = 0; v < n; v++) {
      const val = alpha * next[v] + ad * d[v] + jump * p[v];
      err += Math.abs(val - x[v]);
      next[v] = val;
    }
    const t = x;
    x = next;
    next = t;
    if (err < n * tol) {
      converged = true;
      break;
    }
  }
  return { scores: x, iterations, converged };
}

const NORMALISED = new WeakMap<Csr, { norm: Float64Array; dangling: Uint8Array }>();

/** Row-normalised weights and dangling flags of a CSR, computed once per CSR (PageRank on one graph is usually run for many seed sets). */
function normalised(g: Csr): { norm: Float64Array; dangling: Uint8Array } {
  let r = NORMALISED.get(g);
  if (r) return r;
  const { n, offsets, weights } = g;
  const norm = new Float64Array(weights.length);
  const dangling = new Uint8Array(n);
  for (let u = 0; u < n; u++) {
    let s = 0;
    for (let k = offsets[u]; k < offsets[u + 1]; k++) s += weights[k];
    if (s === 0) dangling[u] = 1;
    else for (let k = offsets[u]; k < offsets[u + 1]; k++) norm[k] = weights[k] / s;
  }
  r = { norm, dangling };
  NORMALISED.set(g, r);
  return r;
}

/** Multi-source BFS hop distance (directed along the CSR); -1 where unreachable. */
export function bfsDistances(g: Csr, sources: ArrayLike<number>, maxHops = Infinity): { dist: Int32Array; parent: Int32Array } {
  const n = g.n;
  const dist = new Int32Array(n).fill(-1);
  const parent = new Int32Array(n).fill(-1);
  const queue = new Int32Array(n);
  let head = 0;
  let tail = 0;
  for (let i = 0; i < sources.length; i++) {
    const s = sources[i];
    if (dist[s] < 0) {
      dist[s] = 0;
      queue[tail++] = s;
    }
  }
  while (head < tail) {
    const u = queue[head++];
    if (dist[u] >= maxHops) continue;
    for (let k = g.offsets[u]; k < g.offsets[u + 1]; k++) {
      const v = g.targets[k];
      if (dist[v] < 0) {
        dist[v] = dist[u] + 1;
        parent[v] = u;
        queue[tail++] = v;
      }
    }
  }
  return { dist, parent };
}

/** Interns string keys to dense integer ids, in first-seen order. */
export class Interner {
  private readonly ids = new Map<string, number>();
  readonly keys: string[] = [];
  id(key: string): number {
    let i = this.ids.get(key);
    if (i === undefined) {
      i = this.keys.length;
      this.ids.set(key, i);
      this.keys.push(key);
    }
    return i;
  }
  get(key: string): number | undefined {
    return this.ids.get(key);
  }
  get size(): number {
    return this.keys.length;
  }
}
