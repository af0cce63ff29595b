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

/** Lays a graphology graph out as CSR (one pass over the edges). Parallel edges stay separate slots. */
export function csrView<N extends Attributes, E extends Attributes>(graph: AbstractGraph<N, E>, opts: CsrViewOptions<E> = {}): CsrView {
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
