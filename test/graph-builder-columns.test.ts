import { describe, expect, it } from 'vitest';
import type { ExchangeEvent } from '../src/events/schema.js';
import { EntityGraphBuilder } from '../src/graph/entity-graph.js';
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
