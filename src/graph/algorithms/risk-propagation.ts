import type { AbstractGraph, Attributes } from 'graphology-types';
import { bfsDistances, pageRank } from '../csr.js';
import { csrView, type CsrView, type EdgeWeight } from '../graph-csr.js';
import type { EntityEdgeAttributes, EntityEdgeType, EntityGraph } from '../entity-graph.js';

/**
 * Risk propagation: personalised PageRank (Haveliwala 2002; the random walk with restart used for
 * fraud propagation since TrustRank, Gyöngyi et al. 2004, inverted) from seed bad accounts and
 * addresses. A node's score is the stationary probability that a walker who keeps jumping back to the
 * seeds stands there: high for nodes close to many seeds through few, specific links.
 *
 * The power iteration runs on CSR (see csr.ts) with networkx's fixed point and stopping rule, so the
 * scores agree with networkx.pagerank(G, personalization=seeds) to the tolerance.
 */
export interface PersonalizedPageRankOptions<E extends Attributes = Attributes> {
  alpha?: number;
  tolerance?: number;
  maxIterations?: number;
  /** Edge weight: attribute name, function, or null (1 per edge). Default 'weight'. */
  weight?: EdgeWeight<E>;
  /** Walk edges both ways (default for undirected graphs; true is the usual choice for risk). */
  undirected?: boolean;
  filter?: (attrs: E, key: string, source: string, target: string) => boolean;
  /** A prepared view, to skip the layout pass when ranking repeatedly. */
  view?: CsrView;
}

export interface PersonalizedPageRankResult {
  /** Scores by node key (built on first access). */
  readonly scores: Map<string, number>;
  /** Scores by dense id, in `view.nodes` order. */
  vector: Float64Array;
  iterations: number;
  converged: boolean;
  /** The layout used (reuse it through `view`). */
  view: CsrView;
}

/** Personalised PageRank on any graphology graph. Seeds: node keys (weight 1 each) or key → weight. */
export function personalizedPageRank<N extends Attributes, E extends Attributes>(
  graph: AbstractGraph<N, E>,
  seeds: readonly string[] | Record<string, number> | Map<string, number>,
  opts: PersonalizedPageRankOptions<E> = {},
): PersonalizedPageRankResult {
  const view = opts.view ?? csrView(graph, { weight: opts.weight, filter: opts.filter, undirected: opts.undirected });
  const p = seedVector(view, seeds);
  const r = pageRank(view.csr, p, { alpha: opts.alpha, tolerance: opts.tolerance, maxIterations: opts.maxIterations });
  let map: Map<string, number> | null = null;
  return {
    get scores(): Map<string, number> {
      if (!map) {
        map = new Map();
        for (let i = 0; i < view.nodes.length; i++) map.set(view.nodes[i], r.scores[i]);
      }
      return map;
    },
    vector: r.scores,
    iterations: r.iterations,
    converged: r.converged,
    view,
  };
}

function seedVector(view: CsrView, seeds: readonly string[] | Record<string, number> | Map<string, number>): Float64Array {
  const p = new Float64Array(view.nodes.length);
  const entries: [string, number][] = Array.isArray(seeds)
    ? (seeds as readonly string[]).map((s) => [s, 1])
    : seeds instanceof Map
      ? [...seeds.entries()]
      : Object.entries(seeds as Record<string, number>);
  for (const [k, w] of entries) {
    const i = view.index.get(k);
    if (i !== undefined && w > 0) p[i] += w;
  }
  return p;
}

export interface RiskPropagationOptions extends Omit<PersonalizedPageRankOptions<EntityEdgeAttributes>, 'weight' | 'filter'> {
  /** Edge types the risk flows along. Default all. */
  edgeTypes?: EntityEdgeType[];
  /**
   * How strongly an edge carries risk. Default: 1 + log(count) — repeated contact counts, with
   * diminishing returns, and value units (which differ between edge types) do not enter.
   */
  edgeWeight?: (attrs: EntityEdgeAttributes) => number;
  /** Keep the top-k ranked nodes in `ranking`. Default 100. */
  top?: number;
  /** Only rank nodes of this kind. Default 'account'. */
  kind?: 'account' | 'address' | 'device' | 'ip' | null;
}

export interface RiskScore {
  node: string;
  score: number;
  /** Score relative to the uniform share 1/n: above 1 means more risk than an average node. */
  lift: number;
  /** Hops to the nearest seed (through any node kind) and the path, as the explanation. */
  hops: number;
  path: string[];
}

export interface RiskPropagationResult {
  /** Scores by node key (built on first access; prefer `score()` on large graphs). */
  readonly scores: Map<string, number>;
  /** Score of one node (0 when unknown). */
  score(node: string): number;
  /** Scores by dense id, in `view.nodes` order. */
  vector: Float64Array;
  view: CsrView;
  ranking: RiskScore[];
  iterations: number;
  converged: boolean;
  /** Explains any node: its score, lift, and path to the nearest seed. */
  explain(node: string): RiskScore | null;
}

/** Personalised PageRank over the entity graph from seed accounts/addresses, ranked and explained. */
export function riskPropagation(graph: EntityGraph, seeds: readonly string[] | Record<string, number> | Map<string, number>, opts: RiskPropagationOptions = {}): RiskPropagationResult {
  const types = opts.edgeTypes ? new Set<string>(opts.edgeTypes) : null;
  const ew = opts.edgeWeight ?? ((a: EntityEdgeAttributes) => 1 + Math.log(Math.max(1, a.count)));
  const view =
    opts.view ??
    csrView(graph, {
      weight: (a) => ew(a),
      filter: types ? (a) => types.has(a.type) : undefined,
      undirected: opts.undirected ?? true,
    });
  const p = seedVector(view, seeds);
  const r = pageRank(view.csr, p, { alpha: opts.alpha, tolerance: opts.tolerance, maxIterations: opts.maxIterations });
  const x = r.scores;
  const n = view.nodes.length;
  const seedIdx: number[] = [];
  for (let i = 0; i < n; i++) if (p[i] > 0) seedIdx.push(i);
  let bfs: { dist: Int32Array; parent: Int32Array } | null = null;
  const distances = (): { dist: Int32Array; parent: Int32Array } => (bfs ??= bfsDistances(view.csr, seedIdx));
  const explainIndex = (i: number): RiskScore => {
    const { dist, parent } = distances();
    const path: string[] = [];
    if (dist[i] >= 0) for (let u = i; u >= 0; u = parent[u]) path.push(view.nodes[u]);
    return { node: view.nodes[i], score: x[i], lift: x[i] * n, hops: dist[i], path };
  };
  const kind = opts.kind === undefined ? 'account' : opts.kind;
  const prefix = kind ? `${kind}:` : null;
  const top = opts.top ?? 100;
  // Top-k by score (ties by key) with a bounded heap: no sort of every node.
  const heap: number[] = [];
  const worse = (a: number, b: number): boolean => x[a] < x[b] || (x[a] === x[b] && view.nodes[a] > view.nodes[b]);
  const siftDown = (k: number): void => {
    for (;;) {
      const l = 2 * k + 1;
      const rr = l + 1;
      let m = k;
      if (l < heap.length && worse(heap[l], heap[m])) m = l;
      if (rr < heap.length && worse(heap[rr], heap[m])) m = rr;
      if (m === k) return;
      [heap[k], heap[m]] = [heap[m], heap[k]];
      k = m;
    }
  };
  if (top > 0) {
    for (let i = 0; i < n; i++) {
      if (x[i] <= 0) continue;
      if (prefix && !view.nodes[i].startsWith(prefix)) continue;
      if (heap.length < top) {
        heap.push(i);
        for (let k = heap.length - 1; k > 0; ) {
          const parent = (k - 1) >> 1;
          if (!worse(heap[k], heap[parent])) break;
          [heap[k], heap[parent]] = [heap[parent], heap[k]];
          k = parent;
        }
      } else if (worse(heap[0], i)) {
        heap[0] = i;
        siftDown(0);
      }
    }
  }
  const ranking = heap.sort((a, b) => x[b] - x[a] || (view.nodes[a] < view.nodes[b] ? -1 : 1)).map(explainIndex);
  let map: Map<string, number> | null = null;
  return {
    get scores(): Map<string, number> {
      if (!map) {
        map = new Map();
        for (let i = 0; i < n; i++) map.set(view.nodes[i], x[i]);
      }
      return map;
    },
    score(node: string): number {
      const i = view.index.get(node);
      return i === undefined ? 0 : x[i];
    },
    vector: x,
    view,
    ranking,
    iterations: r.iterations,
    converged: r.converged,
    explain(node: string): RiskScore | null {
      const i = view.index.get(node);
      return i === undefined ? null : explainIndex(i);
    },
  };
}
