import type { AbstractGraph, Attributes } from 'graphology-types';
import { buildCsr, type Csr } from './csr.js';

/** A graphology graph laid out as CSR: dense node ids in graph.nodes() order. */
export interface CsrView {
  csr: Csr;
  nodes: string[];
  /** Node key → dense id. */
  index: { get(key: string): number | undefined };
  /** Per input edge: its graphology key (csr.edgeIds index into it); only with `keys: true`. */
  edgeKeys?: string[];
}

export type EdgeWeight<E extends Attributes = Attributes> = string | null | ((attrs: E, key: string) => number);

export interface CsrViewOptions<E extends Attributes = Attributes> {
  /** An edge attribute name, a function, or null for 1 per edge. Default 'weight' (1 where absent). */
  weight?: EdgeWeight<E>;
  /** Keep only edges this accepts. */
  filter?: (attrs: E, key: string, source: string, target: string) => boolean;
  /** Treat edges as undirected. Default: graph.type === 'undirected'. Mixed graphs' undirected edges always go both ways. */
  undirected?: boolean;
  /** Keep every edge's key (costs a string array the size of the graph). */
  keys?: boolean;
}

interface NodeData {
  key: string;
  __csr?: number;
  __csrGen?: number;
}
interface EdgeData<E> {
  key: string;
  attributes: E;
  undirected: boolean;
  source: NodeData;
  target: NodeData;
}
let generation = 0;

/**
 * Lays a graphology graph out as CSR (one pass over the edges). Parallel edges stay separate slots.
 *
 * With graphology's own node and edge stores available (0.26, pinned), dense ids are stamped on its
 * node records and read back off each edge record: no key hashing per edge, about four times faster
 * than going through the public iteration API, which remains the fallback.
 */
export function csrView<N extends Attributes, E extends Attributes>(graph: AbstractGraph<N, E>, opts: CsrViewOptions<E> = {}): CsrView {
  const internals = graph as unknown as { _nodes?: unknown; _edges?: unknown };
  if (!(internals._nodes instanceof Map) || !(internals._edges instanceof Map)) return csrViewPublic(graph, opts);
  const nodeStore = internals._nodes as Map<string, NodeData>;
  const edgeStore = internals._edges as Map<string, EdgeData<E>>;
  const gen = ++generation;
  const nodes: string[] = new Array(nodeStore.size);
  let i = 0;
  for (const nd of nodeStore.values()) {
    nd.__csr = i;
    nd.__csrGen = gen;
    nodes[i++] = nd.key;
  }
  const m = edgeStore.size;
  const weight = opts.weight === undefined ? 'weight' : opts.weight;
  const allUndirected = opts.undirected ?? graph.type === 'undirected';
  let src = new Int32Array(m);
  let dst = new Int32Array(m);
  let w = new Float64Array(m);
  const edgeKeys: string[] | undefined = opts.keys ? [] : undefined;
  const extra: number[] = [];
  let k = 0;
  for (const ed of edgeStore.values()) {
    const attrs = ed.attributes;
    if (opts.filter && !opts.filter(attrs, ed.key, ed.source.key, ed.target.key)) continue;
    let value = 1;
    if (typeof weight === 'function') value = weight(attrs, ed.key);
    else if (typeof weight === 'string') {
      const v = attrs[weight];
      value = typeof v === 'number' ? v : 1;
    }
    const si = ed.source.__csr!;
    const ti = ed.target.__csr!;
    src[k] = si;
    dst[k] = ti;
    w[k] = value;
    edgeKeys?.push(ed.key);
    if (ed.undirected && !allUndirected && si !== ti) extra.push(k);
    k++;
  }
  if (extra.length) {
    const total = k + extra.length;
    const s2 = new Int32Array(total);
    const d2 = new Int32Array(total);
    const w2 = new Float64Array(total);
    s2.set(src.subarray(0, k));
    d2.set(dst.subarray(0, k));
    w2.set(w.subarray(0, k));
    extra.forEach((e, j) => {
      s2[k + j] = dst[e];
      d2[k + j] = src[e];
      w2[k + j] = w[e];
      edgeKeys?.push(edgeKeys[e]);
    });
    src = s2;
    dst = d2;
    w = w2;
    k = total;
  }
  const csr = buildCsr(nodes.length, src.subarray(0, k), dst.subarray(0, k), w.subarray(0, k), { undirected: allUndirected });
  let fallback: Map<string, number> | null = null;
  const index = {
    get(key: string): number | undefined {
      const nd = nodeStore.get(key);
      if (nd && nd.__csrGen === gen) return nd.__csr;
      // A newer view re-stamped the records (or the node is new): answer from this view's own snapshot.
      if (!fallback) {
        fallback = new Map();
        nodes.forEach((n, j) => fallback!.set(n, j));
      }
      return fallback.get(key);
    },
  };
  return { csr, nodes, index, edgeKeys };
}

/** The same layout through graphology's public API only. */
export function csrViewPublic<N extends Attributes, E extends Attributes>(graph: AbstractGraph<N, E>, opts: CsrViewOptions<E> = {}): CsrView {
  const nodes = graph.nodes();
  const index = new Map<string, number>();
  for (let i = 0; i < nodes.length; i++) index.set(nodes[i], i);
  const m = graph.size;
  let src = new Int32Array(m);
  let dst = new Int32Array(m);
  let w = new Float64Array(m);
  const edgeKeys: string[] | undefined = opts.keys ? [] : undefined;
  const weight = opts.weight === undefined ? 'weight' : opts.weight;
  const allUndirected = opts.undirected ?? graph.type === 'undirected';
  const extraSrc: number[] = [];
  const extraDst: number[] = [];
  const extraW: number[] = [];
  const extraKeys: string[] = [];
  let k = 0;
  graph.forEachEdge((key, attrs, s, t, _sa, _ta, undirected) => {
    if (opts.filter && !opts.filter(attrs, key, s, t)) return;
    let value = 1;
    if (typeof weight === 'function') value = weight(attrs, key);
    else if (typeof weight === 'string') {
      const v = attrs[weight];
      value = typeof v === 'number' ? v : 1;
    }
    const si = index.get(s)!;
    const ti = index.get(t)!;
    src[k] = si;
    dst[k] = ti;
    w[k] = value;
    edgeKeys?.push(key);
    k++;
    if (undirected && !allUndirected && si !== ti) {
      extraSrc.push(ti);
      extraDst.push(si);
      extraW.push(value);
      if (edgeKeys) extraKeys.push(key);
    }
  });
  if (extraSrc.length) {
    const total = k + extraSrc.length;
    const s2 = new Int32Array(total);
    const d2 = new Int32Array(total);
    const w2 = new Float64Array(total);
    s2.set(src.subarray(0, k));
    d2.set(dst.subarray(0, k));
    w2.set(w.subarray(0, k));
    s2.set(extraSrc, k);
    d2.set(extraDst, k);
    w2.set(extraW, k);
    src = s2;
    dst = d2;
    w = w2;
    if (edgeKeys) for (const x of extraKeys) edgeKeys.push(x);
    k = total;
  }
  const csr = buildCsr(nodes.length, src.subarray(0, k), dst.subarray(0, k), w.subarray(0, k), { undirected: allUndirected });
  return { csr, nodes, index, edgeKeys };
}

/**
 * An undirected CSR of a graphology graph (every edge both ways, a self-loop once, parallel edges as
 * separate slots), slot for slot the same as `csrView(graph, { undirected: true, weight })`, but
 * built in two passes straight into its final arrays: no edge list, no edge ids. Half the memory,
 * which matters on large graphs because these arrays are external memory to V8 and their growth
 * sets off full collections of the whole heap. Its `csr.edgeIds` is empty.
 */
export function undirectedCsr<N extends Attributes, E extends Attributes>(graph: AbstractGraph<N, E>, weight: EdgeWeight<E> = 'weight'): CsrView {
  const internals = graph as unknown as { _nodes?: unknown; _edges?: unknown };
  if (!(internals._nodes instanceof Map) || !(internals._edges instanceof Map)) return csrViewPublic(graph, { undirected: true, weight });
  const nodeStore = internals._nodes as Map<string, NodeData>;
  const edgeStore = internals._edges as Map<string, EdgeData<E>>;
  const gen = ++generation;
  const n = nodeStore.size;
  const nodes: string[] = new Array(n);
  let i = 0;
  for (const nd of nodeStore.values()) {
    nd.__csr = i;
    nd.__csrGen = gen;
    nodes[i++] = nd.key;
  }
  const offsets = new Int32Array(n + 1);
  let slots = 0;
  for (const ed of edgeStore.values()) {
    const s = ed.source.__csr!;
    const t = ed.target.__csr!;
    offsets[s + 1]++;
    slots++;
    if (s !== t) {
      offsets[t + 1]++;
      slots++;
    }
  }
  for (let u = 0; u < n; u++) offsets[u + 1] += offsets[u];
  const fill = offsets.slice(0, n);
  const targets = new Int32Array(slots);
  const weights = new Float64Array(slots);
  for (const ed of edgeStore.values()) {
    let value = 1;
    if (typeof weight === 'function') value = weight(ed.attributes, ed.key);
    else if (typeof weight === 'string') {
      const v = ed.attributes[weight];
      value = typeof v === 'number' ? v : 1;
    }
    const s = ed.source.__csr!;
    const t = ed.target.__csr!;
    let k = fill[s]++;
    targets[k] = t;
    weights[k] = value;
    if (s !== t) {
      k = fill[t]++;
      targets[k] = s;
      weights[k] = value;
    }
  }
  const index = new Map<string, number>();
  let built = false;
  return {
    csr: { n, offsets, targets, weights, edgeIds: new Int32Array(0) },
    nodes,
    index: {
      get(key: string): number | undefined {
        if (!built) {
          nodes.forEach((k, j) => index.set(k, j));
          built = true;
        }
        return index.get(key);
      },
    },
  };
}
