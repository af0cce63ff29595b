import { MultiUndirectedGraph } from 'graphology';
import { describe, expect, it } from 'vitest';
import { buildCsr } from '../src/graph/csr.js';
import { csrView, undirectedCsr } from '../src/graph/graph-csr.js';
import { louvain, louvainCsr, modularity } from '../src/graph/algorithms/louvain.js';
import { randomEdges } from './graph-helpers.js';

/** Zachary's karate club (0-indexed, as networkx.karate_club_graph): 34 members, 78 ties. */
const KARATE: Record<number, number[]> = {
  0: [1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 17, 19, 21, 31],
  1: [2, 3, 7, 13, 17, 19, 21, 30],
  2: [3, 7, 8, 9, 13, 27, 28, 32],
  3: [7, 12, 13],
  4: [6, 10],
  5: [6, 10, 16],
  6: [16],
  8: [30, 32, 33],
  9: [33],
  13: [33],
  14: [32, 33],
  15: [32, 33],
  18: [32, 33],
  19: [33],
  20: [32, 33],
  22: [32, 33],
  23: [25, 27, 29, 32, 33],
  24: [25, 27, 31],
  25: [31],
  26: [29, 33],
  27: [33],
  28: [31, 33],
  29: [32, 33],
  30: [32, 33],
  31: [32, 33],
  32: [33],
};
const karate = (): { src: number[]; dst: number[] } => {
  const src: number[] = [];
  const dst: number[] = [];
  for (const [u, vs] of Object.entries(KARATE))
    for (const v of vs) {
      src.push(Number(u));
      dst.push(v);
    }
  return { src, dst };
};

/** Modularity straight from the definition, over all node pairs: (1/2m) Σ_ij [A_ij − γ k_i k_j / 2m] δ(c_i, c_j). */
function naiveModularity(n: number, src: number[], dst: number[], w: number[] | null, labels: ArrayLike<number>, gamma = 1): number {
  const A = Array.from({ length: n }, () => new Float64Array(n));
  src.forEach((s, i) => {
    const x = w ? w[i] : 1;
    A[s][dst[i]] += x;
    A[dst[i]][s] += x;
  });
  const k = A.map((row) => row.reduce((a, b) => a + b, 0));
  const twoM = k.reduce((a, b) => a + b, 0);
  let q = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (labels[i] === labels[j]) q += A[i][j] - (gamma * k[i] * k[j]) / twoM;
  return q / twoM;
}

describe('louvain', () => {
  it('splits two 5-cliques joined by one edge into the two cliques', () => {
    const src: number[] = [];
    const dst: number[] = [];
    for (const base of [0, 5])
      for (let i = 0; i < 5; i++)
        for (let j = i + 1; j < 5; j++) {
          src.push(base + i);
          dst.push(base + j);
        }
    src.push(4);
    dst.push(5);
    const r = louvainCsr(buildCsr(10, src, dst, null, { undirected: true }), { seed: 7 });
    expect(r.count).toBe(2);
    expect([...r.communities]).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    // 2 × (10/21 − (21/42)²) = 0.452381
    expect(r.modularity).toBeCloseTo(2 * (10 / 21 - 0.25), 12);
    expect(r.modularity).toBeCloseTo(naiveModularity(10, src, dst, null, r.communities), 12);
  });

  it('finds the karate club communities at modularity ≥ 0.41 (best known 0.4198), equal to the definition', () => {
    const { src, dst } = karate();
    expect(src.length).toBe(78);
    const csr = buildCsr(34, src, dst, null, { undirected: true });
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = louvainCsr(csr, { seed });
      expect(r.modularity).toBeGreaterThan(0.41);
      expect(r.modularity).toBeLessThan(0.4199);
      expect(r.count).toBeGreaterThanOrEqual(3);
      expect(r.modularity).toBeCloseTo(naiveModularity(34, src, dst, null, r.communities), 12);
      expect(modularity(csr, r.communities)).toBeCloseTo(r.modularity, 12);
      // Every level's modularity matches its partition, and levels only improve.
      r.levels.forEach((l, i) => {
        expect(l.modularity).toBeCloseTo(naiveModularity(34, src, dst, null, l.communities), 12);
        if (i) expect(l.modularity).toBeGreaterThan(r.levels[i - 1].modularity);
      });
    }
    // The instructor (0) and the administrator (33) never share a community.
    const r = louvainCsr(csr, { seed: 1 });
    expect(r.communities[0]).not.toBe(r.communities[33]);
  });

  it('is deterministic for a seed, and the graphology entry point agrees with the CSR one', () => {
    const p = randomEdges(600, 3000, 9, { communities: 12, intra: 0.8 });
    const csr = buildCsr(600, p.src, p.dst, p.w, { undirected: true });
    const a = louvainCsr(csr, { seed: 42 });
    const b = louvainCsr(csr, { seed: 42 });
    expect([...a.communities]).toEqual([...b.communities]);
    expect(a.levels.map((l) => l.modularity)).toEqual(b.levels.map((l) => l.modularity));
    expect(a.modularity).toBeCloseTo(naiveModularity(600, p.src, p.dst, p.w, a.communities), 10);
    expect(a.modularity).toBeGreaterThan(0.6);
    // randomEdges may hold both (u, v) and (v, u): parallel edges, whose weights add up on both sides.
    const g = new MultiUndirectedGraph();
    for (let i = 0; i < 600; i++) g.addNode(String(i));
    p.src.forEach((s, i) => g.addEdge(String(s), String(p.dst[i]), { weight: p.w[i] }));
    const viaGraph = louvain(g, { seed: 42 });
    expect(Array.from({ length: 600 }, (_, i) => viaGraph.communities[String(i)])).toEqual([...a.communities]);
    expect(viaGraph.modularity).toBe(a.modularity);
    // Unweighted is a different optimisation.
    const unweighted = louvain(g, { seed: 42, weight: null });
    expect(unweighted.modularity).toBeCloseTo(naiveModularity(600, p.src, p.dst, null, Array.from({ length: 600 }, (_, i) => unweighted.communities[String(i)])), 10);
  });

  it('weights decide the split, and a higher resolution gives more, smaller communities', () => {
    // A 6-cycle whose heavy edges pair up (0,1), (2,3), (4,5).
    const src = [0, 1, 2, 3, 4, 5];
    const dst = [1, 2, 3, 4, 5, 0];
    const w = [10, 1, 10, 1, 10, 1];
    const r = louvainCsr(buildCsr(6, src, dst, w, { undirected: true }));
    expect([...r.communities]).toEqual([0, 0, 1, 1, 2, 2]);
    expect(r.modularity).toBeCloseTo(naiveModularity(6, src, dst, w, r.communities), 12);
    const k = karate();
    const csr = buildCsr(34, k.src, k.dst, null, { undirected: true });
    const low = louvainCsr(csr, { resolution: 0.3 });
    const high = louvainCsr(csr, { resolution: 2 });
    expect(high.count).toBeGreaterThan(louvainCsr(csr).count);
    expect(louvainCsr(csr).count).toBeGreaterThan(low.count);
    expect(high.modularity).toBeCloseTo(naiveModularity(34, k.src, k.dst, null, high.communities, 2), 10);
  });

  it('lays a graphology graph out slot for slot like csrView (parallel edges, self-loops, weights)', () => {
    const p = randomEdges(300, 1500, 2);
    const g = new MultiUndirectedGraph({ allowSelfLoops: true });
    for (let i = 0; i < 300; i++) g.addNode(`n${i}`);
    p.src.forEach((s, i) => g.addEdge(`n${s}`, `n${p.dst[i]}`, { weight: p.w[i] }));
    g.addEdge('n5', 'n5', { weight: 3 });
    g.addEdge('n5', 'n7');
    for (const weight of ['weight', null] as const) {
      const lean = undirectedCsr(g, weight);
      const ref = csrView(g, { weight, undirected: true });
      expect(lean.nodes).toEqual(ref.nodes);
      expect([...lean.csr.offsets]).toEqual([...ref.csr.offsets]);
      expect([...lean.csr.targets]).toEqual([...ref.csr.targets]);
      expect([...lean.csr.weights]).toEqual([...ref.csr.weights]);
      expect(lean.index.get('n42')).toBe(42);
    }
  });

  it('handles self-loops, isolated nodes and empty graphs; rejects negative weights', () => {
    const r = louvainCsr(buildCsr(5, [0, 0, 1, 3], [0, 1, 2, 3], [2, 1, 1, 5], { undirected: true }));
    expect(r.modularity).toBeCloseTo(naiveModularity(5, [0, 0, 1, 3], [0, 1, 2, 3], [2, 1, 1, 5], r.communities), 12);
    expect(r.communities[3]).not.toBe(r.communities[0]);
    expect(louvainCsr(buildCsr(3, [], [], null, { undirected: true })).count).toBe(3);
    expect(() => louvainCsr(buildCsr(2, [0], [1], [-1], { undirected: true }))).toThrow(/non-negative/);
  });
});
