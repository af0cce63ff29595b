import type { AbstractGraph, Attributes } from 'graphology-types';
import type { Csr } from '../csr.js';
import { undirectedCsr, type EdgeWeight } from '../graph-csr.js';
import { mulberry32 } from '../rng.js';

/**
 * Louvain community detection (Blondel et al. 2008) over CSR typed arrays.
 *
 * Each level moves nodes between neighbouring communities while modularity rises, then folds every
 * community into one node of a new, smaller CSR (internal weight kept as a self-loop) and repeats,
 * until a level moves nothing or gains less than `tolerance`. The moving phase uses a work queue
 * (every node once in seeded random order; a node's neighbours are queued again when it moves), so a
 * pass costs the nodes that can still gain rather than the whole graph.
 *
 * Modularity follows networkx: Q = Σ_c [ L_c / m − γ · (d_c / 2m)² ], L_c the weight inside c
 * (self-loops once), d_c the summed degrees of c (self-loops twice), m the total weight.
 */
export interface LouvainOptions<E extends Attributes = Attributes> {
  /** Edge weight: attribute name, function, or null for 1 per edge. Default 'weight' (1 where absent). */
  weight?: EdgeWeight<E>;
  /** Resolution γ: above 1 favours smaller communities. Default 1. */
  resolution?: number;
  /** Seed of the node order. Default 1. */
  seed?: number;
  /** Stop when a level raises modularity by less than this. Default 1e-7 (networkx's threshold). */
  tolerance?: number;
  /** At most this many levels. Default unlimited. */
  maxLevels?: number;
}

export interface LouvainLevel {
  /** Community per original node after this level, numbered 0.. in order of each community's first node. */
  communities: Int32Array;
  count: number;
  modularity: number;
}

export interface LouvainCsrResult {
  /** The last level's communities. */
  communities: Int32Array;
  count: number;
  modularity: number;
  levels: LouvainLevel[];
}

export interface LouvainResult {
  /** Node key → community. */
  communities: Record<string, number>;
  count: number;
  modularity: number;
  levels: { count: number; modularity: number }[];
}

/** Louvain communities of a graphology graph (edges taken as undirected; parallel edges add up). */
export function louvain<N extends Attributes, E extends Attributes>(graph: AbstractGraph<N, E>, opts: LouvainOptions<E> = {}): LouvainResult {
  const view = undirectedCsr(graph, opts.weight === undefined ? 'weight' : opts.weight);
  const r = louvainCsr(view.csr, opts);
  const communities: Record<string, number> = {};
  for (let i = 0; i < view.nodes.length; i++) communities[view.nodes[i]] = r.communities[i];
  return { communities, count: r.count, modularity: r.modularity, levels: r.levels.map((l) => ({ count: l.count, modularity: l.modularity })) };
}

/**
 * Scratch arrays sized for the first level and reused by the smaller ones: large typed arrays are
 * external memory to V8, and allocating them per level sets off full collections of the caller's heap.
 */
class Workspace {
  readonly i32: Int32Array[];
  readonly f64: Float64Array[];
  readonly queued: Uint8Array;
  constructor(n: number) {
    this.i32 = [new Int32Array(n), new Int32Array(n), new Int32Array(n), new Int32Array(n + 1)];
    this.f64 = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
    this.queued = new Uint8Array(n);
  }
}

/** A symmetric weighted graph for one level: neighbours without self-loops, self-loop weight apart. */
interface Level {
  n: number;
  offsets: Int32Array;
  targets: Int32Array;
  weights: Float64Array;
  self: Float64Array;
}

/**
 * Louvain over a CSR that holds every edge in both directions (buildCsr with `undirected: true`; a
 * self-loop in one slot). Weights must be non-negative.
 */
export function louvainCsr(csr: Csr, opts: Omit<LouvainOptions, 'weight'> = {}): LouvainCsrResult {
  const gamma = opts.resolution ?? 1;
  const tolerance = opts.tolerance ?? 1e-7;
  const maxLevels = opts.maxLevels ?? Infinity;
  const rnd = mulberry32(opts.seed ?? 1);
  const n0 = csr.n;
  let level = fromCsr(csr);
  let m = 0;
  for (let u = 0; u < level.n; u++) {
    m += level.self[u];
    for (let k = level.offsets[u]; k < level.offsets[u + 1]; k++) m += level.weights[k] / 2;
  }
  // Original node → its node in the current level.
  const membership = new Int32Array(n0);
  for (let i = 0; i < n0; i++) membership[i] = i;
  const levels: LouvainLevel[] = [];
  const ws = new Workspace(Math.max(1, n0));
  let q = modularityOf(level, identity(level.n), m, gamma, ws);
  const singletons = { communities: membership.slice(), count: n0, modularity: q };
  if (m <= 0) return { ...singletons, levels: [] };
  while (levels.length < maxLevels) {
    const { community, count, moved } = moveNodes(level, m, gamma, rnd, ws);
    if (!moved) break;
    const next = aggregate(level, community, count, ws);
    const nq = modularityOf(next, identity(next.n), m, gamma, ws);
    if (!(nq > q)) break;
    for (let i = 0; i < n0; i++) membership[i] = community[membership[i]];
    levels.push({ communities: membership.slice(), count, modularity: nq });
    const gain = nq - q;
    level = next;
    q = nq;
    if (gain < tolerance) break;
  }
  if (!levels.length) return { ...singletons, levels };
  const last = levels[levels.length - 1];
  return { communities: last.communities, count: last.count, modularity: last.modularity, levels };
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

function fromCsr(csr: Csr): Level {
  const n = csr.n;
  const self = new Float64Array(n);
  const offsets = new Int32Array(n + 1);
  let loops = 0;
  for (let u = 0; u < n; u++)
    for (let k = csr.offsets[u]; k < csr.offsets[u + 1]; k++) {
      const w = csr.weights[k];
      if (!(w >= 0)) throw new Error(`louvain: edge weights must be non-negative numbers (got ${w})`);
      if (csr.targets[k] === u) loops++;
    }
  if (loops === 0) return { n, offsets: csr.offsets, targets: csr.targets, weights: csr.weights, self };
  const targets = new Int32Array(csr.targets.length - loops);
  const weights = new Float64Array(targets.length);
  let j = 0;
  for (let u = 0; u < n; u++) {
    offsets[u] = j;
    for (let k = csr.offsets[u]; k < csr.offsets[u + 1]; k++) {
      const v = csr.targets[k];
      if (v === u) self[u] += csr.weights[k];
      else {
        targets[j] = v;
        weights[j++] = csr.weights[k];
      }
    }
  }
  offsets[n] = j;
  return { n, offsets, targets, weights, self };
}

/** Modularity of a partition of a level graph (m: total weight of the original graph). */
function modularityOf(g: Level, community: Int32Array, m: number, gamma: number, ws: Workspace): number {
  if (m <= 0) return 0;
  const inside = ws.f64[0].subarray(0, g.n).fill(0);
  const total = ws.f64[1].subarray(0, g.n).fill(0);
  for (let u = 0; u < g.n; u++) {
    const cu = community[u];
    inside[cu] += g.self[u];
    total[cu] += 2 * g.self[u];
    for (let k = g.offsets[u]; k < g.offsets[u + 1]; k++) {
      const w = g.weights[k];
      total[cu] += w;
      if (community[g.targets[k]] === cu) inside[cu] += w / 2;
    }
  }
  let q = 0;
  for (let c = 0; c < g.n; c++) if (total[c] > 0) q += inside[c] / m - gamma * (total[c] / (2 * m)) ** 2;
  return q;
}

/** The local moving phase; communities renumbered 0..count-1 by first node. */
function moveNodes(g: Level, m: number, gamma: number, rnd: () => number, ws: Workspace): { community: Int32Array; count: number; moved: boolean } {
  const { n, offsets, targets, weights, self } = g;
  const community = identity(n);
  const degree = ws.f64[0].subarray(0, n);
  const total = ws.f64[1].subarray(0, n);
  for (let u = 0; u < n; u++) {
    let d = 2 * self[u];
    for (let k = offsets[u]; k < offsets[u + 1]; k++) d += weights[k];
    degree[u] = d;
    total[u] = d;
  }
  // Seeded order (Fisher–Yates), then a FIFO ring of nodes to visit.
  const queue = ws.i32[0].subarray(0, n);
  for (let i = 0; i < n; i++) queue[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = queue[i];
    queue[i] = queue[j];
    queue[j] = t;
  }
  const queued = ws.queued.subarray(0, n).fill(1);
  let head = 0;
  let size = n;
  const toCommunity = ws.f64[2].subarray(0, n).fill(-1);
  const touched = ws.i32[1].subarray(0, n);
  const scale = gamma / (2 * m * m);
  let moved = false;
  // Every move raises modularity, so this ends; the budget only guards against rounding cycles.
  let budget = 100 * n + 1000;
  while (size > 0 && budget-- > 0) {
    const u = queue[head];
    head = head + 1 === n ? 0 : head + 1;
    size--;
    queued[u] = 0;
    const cu = community[u];
    const du = degree[u];
    // Weight from u to each neighbouring community.
    let nt = 0;
    toCommunity[cu] = 0;
    touched[nt++] = cu;
    for (let k = offsets[u], e = offsets[u + 1]; k < e; k++) {
      const c = community[targets[k]];
      if (toCommunity[c] < 0) {
        toCommunity[c] = weights[k];
        touched[nt++] = c;
      } else toCommunity[c] += weights[k];
    }
    total[cu] -= du;
    // Gain of joining c, less the cost of leaving cu; staying has gain 0 (the networkx rule).
    const removeCost = -toCommunity[cu] / m + scale * total[cu] * du;
    let best = cu;
    let bestGain = 0;
    for (let i = 0; i < nt; i++) {
      const c = touched[i];
      const gain = removeCost + toCommunity[c] / m - scale * total[c] * du;
      if (gain > bestGain) {
        bestGain = gain;
        best = c;
      }
      toCommunity[c] = -1;
    }
    total[best] += du;
    if (best !== cu) {
      community[u] = best;
      moved = true;
      for (let k = offsets[u], e = offsets[u + 1]; k < e; k++) {
        const v = targets[k];
        if (!queued[v] && community[v] !== best) {
          queued[v] = 1;
          let tail = head + size;
          if (tail >= n) tail -= n;
          queue[tail] = v;
          size++;
        }
      }
    }
  }
  // Renumber by first node.
  const renum = ws.i32[2].subarray(0, n).fill(-1);
  let count = 0;
  for (let u = 0; u < n; u++) {
    const c = community[u];
    if (renum[c] < 0) renum[c] = count++;
    community[u] = renum[c];
  }
  return { community, count, moved };
}

/** Folds each community into one node: edges between communities summed, edges inside kept as its self-loop. */
function aggregate(g: Level, community: Int32Array, count: number, ws: Workspace): Level {
  const { n, offsets, targets, weights, self } = g;
  // Members of each community, by counting sort (members in ws.i32[0], starts in ws.i32[3]).
  const start = ws.i32[3].subarray(0, count + 1).fill(0);
  for (let u = 0; u < n; u++) start[community[u] + 1]++;
  for (let c = 0; c < count; c++) start[c + 1] += start[c];
  const members = ws.i32[0].subarray(0, n);
  const fill = ws.i32[2].subarray(0, count);
  fill.set(start.subarray(0, count));
  for (let u = 0; u < n; u++) members[fill[community[u]]++] = u;
  const acc = ws.f64[0].subarray(0, count).fill(-1);
  const touched = ws.i32[1].subarray(0, count);
  // Two passes over the members' edges: count each community's neighbours, then write them, so the
  // new arrays are allocated at their exact size.
  const newOffsets = new Int32Array(count + 1);
  for (let pass = 0; pass < 2; pass++) {
    const newTargets = pass ? new Int32Array(newOffsets[count]) : null;
    const newWeights = pass ? new Float64Array(newOffsets[count]) : null;
    const newSelf = pass ? new Float64Array(count) : null;
    let j = 0;
    for (let c = 0; c < count; c++) {
      let nt = 0;
      let inside = 0;
      for (let i = start[c]; i < start[c + 1]; i++) {
        const u = members[i];
        inside += self[u];
        for (let k = offsets[u], e = offsets[u + 1]; k < e; k++) {
          const d = community[targets[k]];
          const w = weights[k];
          if (d === c) inside += w / 2;
          else if (acc[d] < 0) {
            acc[d] = w;
            touched[nt++] = d;
          } else acc[d] += w;
        }
      }
      if (newSelf && newTargets && newWeights) {
        newSelf[c] = inside;
        for (let i = 0; i < nt; i++) {
          const d = touched[i];
          newTargets[j] = d;
          newWeights[j++] = acc[d];
          acc[d] = -1;
        }
      } else {
        newOffsets[c + 1] = newOffsets[c] + nt;
        for (let i = 0; i < nt; i++) acc[touched[i]] = -1;
      }
    }
    if (newSelf && newTargets && newWeights) return { n: count, offsets: newOffsets, targets: newTargets, weights: newWeights, self: newSelf };
  }
  throw new Error('unreachable');
}

/** Modularity of any partition of a symmetric CSR (the same definition Louvain optimises). */
export function modularity(csr: Csr, communities: ArrayLike<number>, resolution = 1): number {
  const g = fromCsr(csr);
  let m = 0;
  for (let u = 0; u < g.n; u++) {
    m += g.self[u];
    for (let k = g.offsets[u]; k < g.offsets[u + 1]; k++) m += g.weights[k] / 2;
  }
  // Community ids may be anything: compact them first.
  const ids = new Map<number, number>();
  const compact = new Int32Array(g.n);
  for (let u = 0; u < g.n; u++) {
    let c = ids.get(communities[u]);
    if (c === undefined) ids.set(communities[u], (c = ids.size));
    compact[u] = c;
  }
  return modularityOf(g, compact, m, resolution, new Workspace(Math.max(1, g.n)));
}
