import { DirectedGraph, MultiGraph, UndirectedGraph } from 'graphology';
import { csrView, csrViewPublic } from '../src/graph/graph-csr.js';
import { describe, expect, it } from 'vitest';
import { buildCsr, connectedComponents, pageRank, stronglyConnectedComponents } from '../src/graph/csr.js';
import { EntityGraphBuilder } from '../src/graph/entity-graph.js';
import { linkedClusters, louvainCommunities, identifierWeight } from '../src/graph/algorithms/linked-clusters.js';
import { detectCollusiveRings, collusiveRings } from '../src/graph/algorithms/collusive-rings.js';
import { sybilFarms, coActivity } from '../src/graph/algorithms/sybil-farms.js';
import { personalizedPageRank, riskPropagation } from '../src/graph/algorithms/risk-propagation.js';
import { accountFeatures } from '../src/graph/algorithms/account-features.js';
import { E, hasNetworkx, python, randomEdges } from './graph-helpers.js';

const partition = (labels: ArrayLike<number>): string[] => {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    if (!groups.has(labels[i])) groups.set(labels[i], []);
    groups.get(labels[i])!.push(i);
  }
  return [...groups.values()].map((g) => g.join(',')).sort();
};

describe('CSR kernels on hand-made graphs', () => {
  it('finds strongly connected components', () => {
    // 0→1→2→0 is a cycle, 2→3, 3→4→3 another, 5 alone.
    const g = buildCsr(6, [0, 1, 2, 2, 3, 4], [1, 2, 0, 3, 4, 3]);
    const scc = stronglyConnectedComponents(g);
    expect(partition(scc.labels)).toEqual(['0,1,2', '3,4', '5']);
    expect(scc.count).toBe(3);
  });

  it('finds connected components, ids in order of the smallest node', () => {
    const cc = connectedComponents(7, [0, 2, 3, 5], [1, 3, 4, 6]);
    expect([...cc.labels]).toEqual([0, 0, 1, 1, 1, 2, 2]);
    expect([...cc.sizes]).toEqual([2, 3, 2]);
  });

  it('PageRank of a symmetric cycle is uniform; personalised mass concentrates at the seed', () => {
    const g = buildCsr(4, [0, 1, 2, 3], [1, 2, 3, 0], null, { undirected: true });
    const r = pageRank(g, null, { tolerance: 1e-12 });
    for (const x of r.scores) expect(x).toBeCloseTo(0.25, 9);
    const p = pageRank(g, [1, 0, 0, 0], { tolerance: 1e-12 }).scores;
    expect(p[0]).toBeGreaterThan(p[1]);
    expect(p[1]).toBeCloseTo(p[3], 12);
    expect(p[2]).toBeLessThan(p[1]);
    expect(p.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 9);
  });
});

describe('CSR layout of graphology graphs', () => {
  it('the fast layout equals the public-API layout on a mixed multigraph, and its index outlives a newer view', () => {
    const g = new MultiGraph();
    for (const k of ['a', 'b', 'c', 'd']) g.addNode(k);
    g.addDirectedEdge('a', 'b', { weight: 2 });
    g.addDirectedEdge('a', 'b', { weight: 3 });
    g.addUndirectedEdge('b', 'c', { weight: 5 });
    g.addUndirectedEdge('d', 'd');
    g.addDirectedEdge('c', 'a');
    const fast = csrView(g, { keys: true });
    const slow = csrViewPublic(g, { keys: true });
    expect(fast.nodes).toEqual(slow.nodes);
    expect([...fast.csr.offsets]).toEqual([...slow.csr.offsets]);
    expect([...fast.csr.targets]).toEqual([...slow.csr.targets]);
    expect([...fast.csr.weights]).toEqual([...slow.csr.weights]);
    expect(fast.edgeKeys).toEqual(slow.edgeKeys);
    const filtered = csrView(g, { filter: (a) => a.weight !== 3 });
    expect(filtered.csr.targets.length).toBe(slow.csr.targets.length - 1);
    expect(fast.index.get('c')).toBe(2);
    expect(fast.index.get('zz')).toBeUndefined();
  });
});

describe.skipIf(!hasNetworkx())('agreement with networkx on seeded random graphs', () => {
  const n = 1500;
  const { src, dst, w } = randomEdges(n, 6000, 7);

  it('personalised PageRank (directed, weighted) matches networkx.pagerank', () => {
    const seeds: Record<string, number> = { '3': 1, '10': 2, '99': 1, '1400': 0.5 };
    const g = new DirectedGraph();
    for (let i = 0; i < n; i++) g.addNode(String(i));
    src.forEach((s, i) => g.addEdge(String(s), String(dst[i]), { weight: w[i] }));
    const ours = personalizedPageRank(g, seeds, { tolerance: 1e-12, maxIterations: 1000 });
    const theirs = python<number[]>(
      `import sys, json, networkx as nx
d = json.load(sys.stdin)
G = nx.DiGraph(); G.add_nodes_from(range(d['n']))
for s, t, w in zip(d['src'], d['dst'], d['w']): G.add_edge(s, t, weight=w)
r = nx.pagerank(G, alpha=0.85, personalization={int(k): v for k, v in d['seeds'].items()}, tol=1e-12, max_iter=1000, weight='weight')
print(json.dumps([r[i] for i in range(d['n'])]))`,
      { n, src, dst, w, seeds },
    );
    let maxDiff = 0;
    for (let i = 0; i < n; i++) maxDiff = Math.max(maxDiff, Math.abs(ours.scores.get(String(i))! - theirs[i]));
    expect(maxDiff).toBeLessThan(1e-9);
  });

  it('personalised PageRank (undirected) matches networkx.pagerank', () => {
    const g = new UndirectedGraph();
    for (let i = 0; i < n; i++) g.addNode(String(i));
    const us: number[] = [];
    const vs: number[] = [];
    src.forEach((s, i) => {
      if (!g.hasEdge(String(s), String(dst[i]))) {
        g.addEdge(String(s), String(dst[i]));
        us.push(s);
        vs.push(dst[i]);
      }
    });
    const ours = personalizedPageRank(g, ['0', '1', '2'], { weight: null, tolerance: 1e-12, maxIterations: 1000 });
    const theirs = python<number[]>(
      `import sys, json, networkx as nx
d = json.load(sys.stdin)
G = nx.Graph(); G.add_nodes_from(range(d['n'])); G.add_edges_from(zip(d['src'], d['dst']))
r = nx.pagerank(G, personalization={0: 1, 1: 1, 2: 1}, tol=1e-12, max_iter=1000)
print(json.dumps([r[i] for i in range(d['n'])]))`,
      { n, src: us, dst: vs },
    );
    let maxDiff = 0;
    for (let i = 0; i < n; i++) maxDiff = Math.max(maxDiff, Math.abs(ours.scores.get(String(i))! - theirs[i]));
    expect(maxDiff).toBeLessThan(1e-9);
  });

  it('strongly and weakly connected components match networkx', () => {
    // A sparser graph so there are many non-trivial components of both kinds.
    const s = randomEdges(3000, 3300, 11);
    const scc = stronglyConnectedComponents(buildCsr(3000, s.src, s.dst));
    const cc = connectedComponents(3000, s.src, s.dst);
    const theirs = python<{ scc: number[][]; cc: number[][] }>(
      `import sys, json, networkx as nx
d = json.load(sys.stdin)
G = nx.DiGraph(); G.add_nodes_from(range(d['n'])); G.add_edges_from(zip(d['src'], d['dst']))
print(json.dumps({'scc': [sorted(c) for c in nx.strongly_connected_components(G)], 'cc': [sorted(c) for c in nx.weakly_connected_components(G)]}))`,
      { n: 3000, src: s.src, dst: s.dst },
    );
    expect(partition(scc.labels)).toEqual(theirs.scc.map((c) => c.join(',')).sort());
    expect(partition(cc.labels)).toEqual(theirs.cc.map((c) => c.join(',')).sort());
    expect(scc.count).toBeGreaterThan(2000);
  });

  it('Louvain reaches networkx louvain_communities modularity (within 0.02) and reports it correctly', () => {
    const p = randomEdges(2000, 10000, 5, { communities: 40, intra: 0.85 });
    const g = new UndirectedGraph();
    for (let i = 0; i < 2000; i++) g.addNode(String(i));
    p.src.forEach((s, i) => {
      if (!g.hasEdge(String(s), String(p.dst[i]))) g.addEdge(String(s), String(p.dst[i]), { weight: 1 });
    });
    const ours = louvainCommunities(g, { seed: 3 });
    const labels = Array.from({ length: 2000 }, (_, i) => ours.communities[String(i)]);
    const theirs = python<{ q: number; ourQ: number }>(
      `import sys, json, networkx as nx
from networkx.algorithms.community import louvain_communities, modularity
d = json.load(sys.stdin)
G = nx.Graph(); G.add_nodes_from(range(d['n'])); G.add_edges_from(zip(d['src'], d['dst']))
c = louvain_communities(G, seed=3)
groups = {}
for i, l in enumerate(d['labels']): groups.setdefault(l, set()).add(i)
print(json.dumps({'q': modularity(G, c), 'ourQ': modularity(G, list(groups.values()))}))`,
      { n: 2000, src: p.src, dst: p.dst, labels },
    );
    expect(Math.abs(ours.modularity - theirs.ourQ)).toBeLessThan(1e-6);
    expect(ours.modularity).toBeGreaterThan(theirs.q - 0.02);
    expect(ours.modularity).toBeGreaterThan(0.6);
  });
});

describe('entity graph', () => {
  it('links accounts to identifiers and counterparties, with first/last seen and weights', () => {
    const b = new EntityGraphBuilder();
    b.onEvent(E.opened('A', 1000, { referrerId: 'R' }));
    b.onEvent(E.login('A', 2000, 'dev1', '10.0.0.1'));
    b.onEvent(E.login('A', 5000, 'dev1', '10.0.0.2'));
    b.onEvent(E.login('B', 6000, 'dev1', '10.0.0.2', false));
    b.onEvent(E.deposit('A', 7000, '0xAbCdEf0123456789abcdef0123456789ABCDEF01', '2.5'));
    b.onEvent(E.withdrawal('B', 8000, '0xabcdef0123456789abcdef0123456789abcdef01', '1'));
    b.onEvent(E.transfer('A', 'B', 9000, '100'));
    b.onEvent(E.transfer('A', 'B', 9500, '50'));
    b.onEvent(E.trade('A', 'B', 10_000, '2', '50'));
    b.onEvent(E.trade('A', 'A', 10_001));
    const g = b.graph;
    expect(g.getEdgeAttributes('uses_device|account:A|device:dev1')).toMatchObject({ count: 2, firstSeen: 2000, lastSeen: 5000 });
    expect(g.hasEdge('uses_device|account:B|device:dev1')).toBe(false); // failed login links nothing
    expect(g.getNodeAttribute('account:B', 'failedLogins')).toBe(1);
    // Case-insensitive EVM address: one node for both spellings.
    const addr = 'address:0xabcdef0123456789abcdef0123456789abcdef01';
    expect(g.inDegree(addr)).toBe(2);
    expect(g.getEdgeAttributes('transfers_to|account:A|account:B')).toMatchObject({ weight: 150, count: 2 });
    expect(g.getEdgeAttributes('trades_with|account:A|account:B')).toMatchObject({ weight: 100, qty: 2 });
    expect(g.getNodeAttribute('account:A', 'selfTrades')).toBe(1);
    expect(g.getNodeAttributes('account:A')).toMatchObject({ openedAt: 1000, referrerId: 'R', firstSeen: 1000 });
    expect(g.getAttribute('watermark')).toBe(10_001);
    expect(b.edgeUpdates).toBe(9);
  });

  it('batches new nodes and edges into graphology, and its own CSR view ranks exactly like the graphology walk', () => {
    const b = new EntityGraphBuilder();
    b.onEvent(E.login('A', 1, 'd1', 'i1'));
    expect(b.graph.order).toBe(3);
    b.onEvent(E.login('A', 2, 'd1', 'i1'));
    // An update of a known edge is visible without a sync (attribute objects are shared).
    expect(b.graph.getEdgeAttribute('uses_device|account:A|device:d1', 'count')).toBe(2);
    for (let i = 0; i < 200; i++) {
      b.onEvent(E.login(`u${i}`, 10 + i, `d${i % 37}`, `i${i % 11}`));
      b.onEvent(E.transfer(`u${i}`, `u${(i * 7) % 200}`, 10 + i, String(1 + (i % 5))));
    }
    const weight = (a: { count: number }) => 1 + Math.log(a.count);
    const fast = riskPropagation(b.graph, ['account:u3', 'account:A'], { view: b.csrView({ weight }), top: 20, edgeWeight: weight });
    const slow = riskPropagation(b.graph, ['account:u3', 'account:A'], { top: 20, edgeWeight: weight });
    expect(fast.ranking.map((r) => r.node)).toEqual(slow.ranking.map((r) => r.node));
    for (const [k, v] of slow.scores) expect(fast.scores.get(k)).toBeCloseTo(v, 12);
    // The layout is reused until an event changes the graph.
    const v1 = b.csrView({ weight });
    expect(b.csrView({ weight })).toBe(v1);
    b.onEvent(E.login('A', 5, 'd1', 'i1'));
    expect(b.csrView({ weight })).not.toBe(v1);
    // A builder can continue an existing graph.
    const c = new EntityGraphBuilder({ graph: b.graph });
    c.onEvent(E.login('A', 6, 'd1', 'i1'));
    expect(c.graph.getEdgeAttribute('uses_device|account:A|device:d1', 'count')).toBe(4);
    expect(c.graph.size).toBe(b.graph.size);
  });
});

describe('linked clusters', () => {
  it('weights identifiers by how many accounts share them, links on enough evidence, explains with the identifiers', () => {
    expect(identifierWeight(1, 2, 500)).toBe(1);
    expect(identifierWeight(1, 500, 500)).toBe(0);
    expect(identifierWeight(1, 3, 500)).toBeGreaterThan(identifierWeight(1, 50, 500));
    const b = new EntityGraphBuilder();
    // A, B, C share a device: strong.
    for (const a of ['A', 'B', 'C']) b.onEvent(E.login(a, 1, 'dev-shared', `ip-${a}`));
    // D, E share only an IP: weak, not linked alone.
    b.onEvent(E.login('D', 1, 'dev-D', 'ip-DE'));
    b.onEvent(E.login('E', 1, 'dev-E', 'ip-DE'));
    // F, G share an IP and a withdrawal address: linked.
    b.onEvent(E.login('F', 1, 'dev-F', 'ip-FG'));
    b.onEvent(E.login('G', 1, 'dev-G', 'ip-FG'));
    b.onEvent(E.withdrawal('F', 2, 'bc1qxyzxyzxyzxyzxyz0000'));
    b.onEvent(E.withdrawal('G', 3, 'bc1qxyzxyzxyzxyzxyz0000'));
    // 600 accounts behind one NAT IP: carries no weight.
    for (let i = 0; i < 600; i++) b.onEvent(E.login(`N${i}`, 1, `dev-N${i}`, 'ip-nat'));
    const r = linkedClusters(b.graph);
    const sets = r.clusters.map((c) => c.members.join(' '));
    expect(sets).toEqual(['account:A account:B account:C', 'account:F account:G']);
    const fg = r.clusters[1];
    expect(fg.links[0].via.map((v) => v.node)).toEqual(['address:bc1qxyzxyzxyzxyzxyz0000', 'ip:ip-FG']);
    expect(fg.links[0].weight).toBeCloseTo(1 + 0.4, 6);
    expect(r.clusters[0].identifiers[0]).toMatchObject({ node: 'device:dev-shared', sharedBy: 3, type: 'uses_device' });
    expect(r.clusterOf.get('account:D')).toBeUndefined();
  });

  it('splits a large component into its Louvain communities', () => {
    const b = new EntityGraphBuilder();
    // Two tight groups of 6 (each pair shares a private device), bridged by one shared device.
    for (const grp of ['X', 'Y']) for (let i = 0; i < 6; i++) for (let j = i + 1; j < 6; j++) {
      b.onEvent(E.login(`${grp}${i}`, 1, `d-${grp}${i}${j}`, `ip-${grp}${i}`));
      b.onEvent(E.login(`${grp}${j}`, 1, `d-${grp}${i}${j}`, `ip-${grp}${j}`));
    }
    b.onEvent(E.login('X0', 2, 'bridge', 'ip-b1'));
    b.onEvent(E.login('Y0', 2, 'bridge', 'ip-b2'));
    const r = linkedClusters(b.graph, { communityMinSize: 8 });
    expect(r.clusters).toHaveLength(1);
    expect(r.clusters[0].size).toBe(12);
    expect(r.clusters[0].communities!.map((c) => c.members.map((m) => m.slice(8, 9)).join(''))).toEqual(['XXXXXX', 'YYYYYY']);
    expect(r.clusters[0].modularity).toBeGreaterThan(0.3);
    expect(r.communityOf.get('account:X3')).toBe(r.communityOf.get('account:X0'));
  });
});

describe('collusive rings', () => {
  const H = 3_600_000;
  it('finds a three-account cycle whose members end flat, and peels off an honest counterparty', () => {
    const trades = [];
    for (let k = 0; k < 4; k++) {
      trades.push({ ts: k * 60_000, seller: 'A', buyer: 'B', qty: 10, tradeId: `ab${k}` });
      trades.push({ ts: k * 60_000 + 1, seller: 'B', buyer: 'C', qty: 10, tradeId: `bc${k}` });
      trades.push({ ts: k * 60_000 + 2, seller: 'C', buyer: 'A', qty: 10, tradeId: `ca${k}` });
    }
    // D sells to A and buys a little back from A: in the same SCC but far from flat.
    trades.push({ ts: 100, seller: 'D', buyer: 'A', qty: 50, tradeId: 'da' });
    trades.push({ ts: 200, seller: 'A', buyer: 'D', qty: 1, tradeId: 'ad' });
    // A one-way flow E → F is no cycle.
    trades.push({ ts: 300, seller: 'E', buyer: 'F', qty: 5 }, { ts: 400, seller: 'E', buyer: 'F', qty: 5 }, { ts: 500, seller: 'E', buyer: 'F', qty: 5 });
    const rings = detectCollusiveRings(trades, { windowMs: H });
    expect(rings).toHaveLength(1);
    const r = rings[0];
    expect(r.members.map((m) => m.account)).toEqual(['A', 'B', 'C']);
    expect(r.members.every((m) => m.net === 0 && m.bought === 40)).toBe(true);
    expect(r.trades).toBe(12);
    expect(r.volume).toBe(120);
    expect(r.tradeIds).toContain('ab0');
    expect(r.reason).toMatch(/3 accounts traded 120/);
  });

  it('does not call a cycle with lopsided volumes a ring', () => {
    const trades = [
      { ts: 1, seller: 'A', buyer: 'B', qty: 10 },
      { ts: 2, seller: 'B', buyer: 'A', qty: 1 },
      { ts: 3, seller: 'A', buyer: 'B', qty: 10 },
    ];
    expect(detectCollusiveRings(trades, { windowMs: H })).toHaveLength(0);
    expect(detectCollusiveRings(trades, { windowMs: H, tolerance: 0.99 })).toHaveLength(1);
  });

  it('works per window: the same pair flat over a day but not within any hour is no ring at 1h', () => {
    const trades = [
      { ts: 0, seller: 'A', buyer: 'B', qty: 10 },
      { ts: 1, seller: 'A', buyer: 'B', qty: 10 },
      { ts: 5 * H, seller: 'B', buyer: 'A', qty: 10 },
      { ts: 5 * H + 1, seller: 'B', buyer: 'A', qty: 10 },
    ];
    expect(detectCollusiveRings(trades, { windowMs: H })).toHaveLength(0);
    expect(detectCollusiveRings(trades, { windowMs: 24 * H })).toHaveLength(1);
  });

  it('reads rings from the entity graph trade buckets', () => {
    const b = new EntityGraphBuilder();
    for (let k = 0; k < 3; k++) {
      b.onEvent(E.trade('P', 'Q', 1_000_000 + k * 1000, '3'));
      b.onEvent(E.trade('Q', 'P', 1_000_000 + k * 1000 + 500, '3'));
    }
    const rings = collusiveRings(b.graph, { windowMs: H });
    expect(rings).toHaveLength(1);
    expect(rings[0].members.map((m) => m.account)).toEqual(['account:P', 'account:Q']);
    expect(rings[0].market).toBe('BTCUSDT');
    expect(rings[0].trades).toBe(6);
  });
});

describe('sybil farms', () => {
  it('finds young accounts sharing a device and acting in lockstep, not old or unsynchronised ones', () => {
    expect(coActivity([0, 100, 200], [5, 105, 900], 10)).toBeCloseTo(4 / 6, 9);
    const b = new EntityGraphBuilder();
    const day = 86_400_000;
    const now = 100 * day;
    // Farm: 5 accounts opened within minutes, one device, logging in within seconds of each other.
    for (let i = 0; i < 5; i++) b.onEvent(E.opened(`farm${i}`, now - 2 * day + i * 60_000));
    for (let k = 0; k < 6; k++) for (let i = 0; i < 5; i++) b.onEvent(E.login(`farm${i}`, now - day + k * 3_600_000 + i * 2000, 'emulator-7', `10.9.0.${i}`));
    // Old accounts sharing a device: family, not a farm.
    for (let i = 0; i < 3; i++) b.onEvent(E.opened(`old${i}`, 0));
    for (let k = 0; k < 6; k++) for (let i = 0; i < 3; i++) b.onEvent(E.login(`old${i}`, now - day + k * 3_600_000 + i * 1000, 'family-pc', '10.8.0.1'));
    // Young accounts sharing a café IP at unrelated times.
    for (let i = 0; i < 4; i++) b.onEvent(E.opened(`cafe${i}`, now - 3 * day));
    for (let k = 0; k < 6; k++) for (let i = 0; i < 4; i++) b.onEvent(E.login(`cafe${i}`, now - 2 * day + i * 7 * 3_600_000 + k * 600_000 + 17_000 * i, `dev-cafe${i}`, '10.7.0.1'));
    const farms = sybilFarms(b.graph, { now });
    expect(farms).toHaveLength(1);
    expect(farms[0].members).toEqual(['account:farm0', 'account:farm1', 'account:farm2', 'account:farm3', 'account:farm4']);
    expect(farms[0].identifiers[0]).toEqual({ node: 'device:emulator-7', members: 5 });
    expect(farms[0].lockstep).toBe(1);
    expect(farms[0].reason).toMatch(/5 accounts opened within 4min/);
  });
});

describe('risk propagation and account features', () => {
  it('ranks accounts near the seed highest and explains the path', () => {
    const b = new EntityGraphBuilder();
    b.onEvent(E.login('bad', 1, 'dev-bad', 'ip1'));
    b.onEvent(E.login('mule', 2, 'dev-bad', 'ip2'));
    b.onEvent(E.transfer('mule', 'far', 3));
    b.onEvent(E.login('clean', 4, 'dev-clean', 'ip3'));
    b.onEvent(E.transfer('clean', 'far', 5));
    const r = riskPropagation(b.graph, ['account:bad']);
    const order = r.ranking.map((x) => x.node);
    expect(order.slice(0, 3)).toEqual(['account:bad', 'account:mule', 'account:far']);
    expect(r.explain('account:far')!.path).toEqual(['account:far', 'account:mule', 'device:dev-bad', 'account:bad']);
    expect(r.explain('account:clean')!.hops).toBe(2 + 2);
    const f = accountFeatures(b.graph, { flagged: ['account:bad'] });
    expect(f.get('account:mule')).toMatchObject({ devices: 1, ips: 1, sharedDeviceAccounts: 1, transferOut: 1, hopsToFlagged: 2, nearestFlagged: 'account:bad', clusterSize: 2 });
    expect(f.get('account:mule')!.pprLift).toBeGreaterThan(f.get('account:clean')!.pprLift);
  });
});
