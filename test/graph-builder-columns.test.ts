import { MultiDirectedGraph } from 'graphology';
import { describe, expect, it } from 'vitest';
import type { ExchangeEvent } from '../src/events/schema.js';
import { ActivityLog } from '../src/graph/activity-log.js';
import { EntityGraphBuilder, type EntityGraph } from '../src/graph/entity-graph.js';
import { mulberry32 } from '../src/graph/rng.js';
import { StringIntMap } from '../src/graph/string-ids.js';

/** Events over a few accounts so edges repeat, in several buckets and markets, partly out of time order. */
function events(count: number, seed: number): ExchangeEvent[] {
  const rnd = mulberry32(seed);
  const out: ExchangeEvent[] = [];
  for (let i = 0; i < count; i++) {
    const a = `u${Math.floor(rnd() * 30)}`;
    const b = `u${Math.floor(rnd() * 30)}`;
    // Mostly increasing, sometimes a few minutes back.
    const ts = 1_722_470_400_000 + i * 7_000 - (rnd() < 0.1 ? Math.floor(rnd() * 300_000) : 0);
    const r = rnd();
    if (r < 0.35) out.push({ type: 'trade', id: `t${i}`, ts, market: rnd() < 0.7 ? 'BTCUSDT' : 'ETHUSDT', tradeId: `t${i}`, price: String(100 + Math.floor(rnd() * 50)), size: '0.5', aggressor: rnd() < 0.5 ? 'buy' : 'sell', makerAccountId: a, takerAccountId: b } as ExchangeEvent);
    else if (r < 0.6) out.push({ type: 'login', id: `l${i}`, ts, accountId: a, sessionId: `s${i}`, deviceId: `d${Math.floor(rnd() * 10)}`, ip: `10.0.0.${Math.floor(rnd() * 10)}`, success: rnd() < 0.9 } as ExchangeEvent);
    else if (r < 0.85) out.push({ type: 'transfer.internal', id: `x${i}`, ts, fromAccountId: a, toAccountId: b, asset: 'USDT', amount: String(1 + Math.floor(rnd() * 99)) } as ExchangeEvent);
    else out.push({ type: rnd() < 0.5 ? 'deposit' : 'withdrawal', id: `w${i}`, ts, accountId: a, asset: 'ETH', chain: 'ETH', address: `0x${Math.floor(rnd() * 8).toString(16).padStart(40, '0')}`, amount: '1.25', status: 'completed' } as ExchangeEvent);
  }
  return out;
}

describe('EntityGraphBuilder edge columns', () => {
  it('gives the same graph whether edges wait in columns or are objects from the start, with reads in between', () => {
    const evs = events(4000, 11);
    // adjacency: true makes every edge's object at once; the default keeps new edges in columns until read.
    const eager = new EntityGraphBuilder({ adjacency: true });
    const lazy = new EntityGraphBuilder();
    const batched = new EntityGraphBuilder();
    evs.forEach((e, i) => {
      eager.onEvent(e);
      lazy.onEvent(e);
      batched.onEvent(e);
      if (i % 97 === 0) void lazy.graph.size; // hand over mid-stream: later updates go to the objects
    });
    const ref = eager.graph.export();
    expect(lazy.graph.export()).toStrictEqual(ref);
    expect(batched.graph.export()).toStrictEqual(ref);
    expect(lazy.edgeUpdates).toBe(eager.edgeUpdates);
    expect(lazy.newEdges).toBe(eager.newEdges);
    // The flow edges carry several buckets, so both paths (implied one bucket, then objects) ran.
    const multi = ref.edges.filter((e) => (e.attributes?.buckets?.length ?? 0) > 5).length;
    expect(multi).toBeGreaterThan(10);
  });

  it('gives the same node attributes, in the same key order, whether nodes wait in columns or are objects from the start', () => {
    const rnd = mulberry32(5);
    const evs = events(4000, 17);
    // The rarer node fields: openings, failed logins, self-trades, one address on several chains in several spellings.
    for (let i = 0; i < 400; i++) {
      const a = `u${Math.floor(rnd() * 40)}`;
      const ts = 1_722_470_400_000 + Math.floor(rnd() * 4000 * 7_000);
      const r = rnd();
      const at = Math.floor(rnd() * evs.length);
      if (r < 0.25) evs.splice(at, 0, { type: 'account.opened', id: `o${i}`, ts, accountId: a, country: 'DE', kycLevel: 1, ...(rnd() < 0.5 ? { referrerId: 'u1' } : {}) } as ExchangeEvent);
      else if (r < 0.5) evs.splice(at, 0, { type: 'trade', id: `st${i}`, ts, market: 'BTCUSDT', tradeId: `st${i}`, price: '100', size: '1', aggressor: 'buy', makerAccountId: a, takerAccountId: a } as ExchangeEvent);
      else if (r < 0.75) evs.splice(at, 0, { type: 'login', id: `fl${i}`, ts, accountId: a, sessionId: 's', success: false } as ExchangeEvent);
      else evs.splice(at, 0, { type: 'deposit', id: `dc${i}`, ts, accountId: a, asset: 'ETH', chain: ['ETH', 'eth', 'BSC', 'Arbitrum'][Math.floor(rnd() * 4)], address: `0x${Math.floor(rnd() * 12).toString(16).padStart(40, '0')}`, amount: '2', status: 'completed' } as ExchangeEvent);
    }
    for (const activityCap of [3, 256]) {
      // Reading the graph after every event makes every node's object at once.
      const eager = new EntityGraphBuilder({ activityCap });
      const lazy = new EntityGraphBuilder({ activityCap });
      const reads = new EntityGraphBuilder({ activityCap });
      evs.forEach((e, i) => {
        eager.onEvent(e);
        void eager.graph.order;
        lazy.onEvent(e);
        reads.onEvent(e);
        if (i % 53 === 0) reads.nodeAttributes(i % reads.nodeCount); // one node's object made early
      });
      // Key order is part of what graphology exports, so compare the serialised form.
      const ref = JSON.stringify(eager.graph.export());
      expect(JSON.stringify(lazy.graph.export())).toBe(ref);
      expect(JSON.stringify(reads.graph.export())).toBe(ref);
      const act = eager.graph.getNodeAttribute('account:u3', 'activity')!;
      expect(act.length).toBeGreaterThan(activityCap === 3 ? 2 : 50);
      expect(eager.graph.filterNodes((_k, a) => (a.chains?.length ?? 0) > 1).length).toBeGreaterThan(3);
    }
  });

  it('hands over a graph whose adjacency queries and edits behave like a graph graphology built itself', () => {
    const b = new EntityGraphBuilder();
    for (const e of events(3000, 23)) b.onEvent(e);
    const g = b.graph;
    const ref: EntityGraph = new MultiDirectedGraph({ allowSelfLoops: false });
    ref.import(g.export());
    const view = (x: EntityGraph) => x.mapNodes((n) => [n, x.outNeighbors(n), x.inNeighbors(n), x.outEdges(n), x.inEdges(n), x.degree(n)]);
    expect(view(g)).toStrictEqual(view(ref));
    const nodes = g.nodes();
    for (let i = 0; i < nodes.length; i += 7) {
      for (let j = 1; j < nodes.length; j += 11) {
        expect(g.areNeighbors(nodes[i], nodes[j])).toBe(ref.areNeighbors(nodes[i], nodes[j]));
        expect(g.hasDirectedEdge(nodes[i], nodes[j])).toBe(ref.hasDirectedEdge(nodes[i], nodes[j]));
      }
    }
    // Edits go through the same adjacency objects.
    for (const x of [g, ref]) {
      x.dropNode(nodes[3]);
      x.dropEdge(x.edges()[10]);
      x.addDirectedEdgeWithKey('extra', nodes[5], nodes[9], { type: 'uses_ip', weight: 0, count: 1, firstSeen: 0, lastSeen: 0 });
    }
    expect(view(g)).toStrictEqual(view(ref));
    expect(g.export()).toStrictEqual(ref.export());
  });

  it('ActivityLog holds what an array trimmed at 2·cap to cap would, through compactions', () => {
    for (const cap of [0, 1, 2, 3, 2.5, 8]) {
      const rnd = mulberry32(7);
      const log = new ActivityLog(cap, 64);
      const ref: (number[] | undefined)[] = [];
      for (let step = 0; step < 5000; step++) {
        const r = rnd();
        if (r < 0.02 || ref.length === 0) {
          log.addOwner();
          ref.push(undefined);
          continue;
        }
        const o = Math.floor(rnd() * ref.length);
        if (r < 0.04) {
          expect(log.take(o)).toEqual(ref[o]);
          ref[o] = undefined;
          continue;
        }
        // The builder's own array rule: the first time starts the list, later ones trim at 2·cap.
        const a = ref[o];
        if (a === undefined) ref[o] = [step];
        else {
          a.push(step);
          if (a.length >= 2 * cap) a.splice(0, a.length - cap);
        }
        log.push(o, step);
        expect(log.pushes(o)).toBeGreaterThan(0);
      }
      for (let o = 0; o < ref.length; o++) expect(log.take(o)).toEqual(ref[o]);
    }
  });

  it('StringIntMap agrees with a Map through many resizes', () => {
    const rnd = mulberry32(3);
    const m = new StringIntMap();
    const ref = new Map<string, number>();
    for (let i = 0; i < 30_000; i++) {
      const k = rnd() < 0.5 ? `u${Math.floor(rnd() * 20_000)}` : `0x${Math.floor(rnd() * 1e6).toString(16)}`;
      expect(m.get(k)).toBe(ref.get(k) ?? -1);
      if (!ref.has(k)) {
        ref.set(k, i);
        m.add(k, i);
      }
    }
    expect(m.size).toBe(ref.size);
    expect(m.keys).toEqual([...ref.keys()]);
    for (const [k, v] of ref) expect(m.get(k)).toBe(v);
    expect(m.get('absent')).toBe(-1);
  });
});
