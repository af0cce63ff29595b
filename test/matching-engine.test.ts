import { describe, expect, it } from 'vitest';
import { ExchangeEvent, type EventOf } from '../src/events/schema.js';
import { MatchingEngine, counterSink, type MarketRules, type OrderRequest } from '../src/market/matching-engine.js';
import { CounterText, DecimalGrid } from '../src/market/tick-format.js';

const RULES: MarketRules = { symbol: 'BTCUSDT', tickSize: '0.01', lotSize: '0.001' };

function setup(rules: Partial<MarketRules> = {}) {
  const sink = counterSink();
  const engine = new MatchingEngine({ ...RULES, ...rules }, sink);
  let ts = 1_700_000_000_000;
  const place = (r: Partial<OrderRequest> & Pick<OrderRequest, 'side' | 'size'>) => engine.submit({ accountId: 'a', ...r }, ++ts);
  const of = <T extends ExchangeEvent['type']>(type: T) => sink.events.filter((e): e is EventOf<T> => e.type === type);
  const clear = () => void (sink.events.length = 0);
  return { engine, sink, place, of, clear, now: () => ts };
}

describe('matching engine', () => {
  it('rests limit orders and matches at the resting price with price-time priority', () => {
    const { engine, place, of } = setup();
    const a1 = place({ accountId: 'm1', side: 'sell', price: 10_000, size: 5 });
    const a2 = place({ accountId: 'm2', side: 'sell', price: 10_000, size: 5 });
    const better = place({ accountId: 'm3', side: 'sell', price: 9_990, size: 2 });
    expect(engine.bestAsk()).toBe(9_990);
    const t = place({ accountId: 't', side: 'buy', price: 10_005, size: 9 });
    const trades = of('trade');
    expect(trades.map((x) => [x.makerOrderId, x.price, x.size])).toEqual([
      [better.orderId, '99.9', '0.002'],
      [a1.orderId, '100', '0.005'],
      [a2.orderId, '100', '0.002'],
    ]);
    expect(trades.every((x) => x.aggressor === 'buy' && x.takerOrderId === t.orderId && x.takerAccountId === 't')).toBe(true);
    expect(t.status).toBe('filled');
    expect(a2.status).toBe('resting');
    expect(a2.size).toBe(3);
    expect(engine.bestAsk()).toBe(10_000);
    expect(engine.bestAskSize()).toBe(3);
  });

  it('rests the remainder of a partially filled limit order', () => {
    const { engine, place } = setup();
    place({ accountId: 'm', side: 'sell', price: 100, size: 3 });
    const t = place({ accountId: 't', side: 'buy', price: 101, size: 10 });
    expect(t.status).toBe('resting');
    expect(t.filled).toBe(3);
    expect(t.size).toBe(7);
    expect(engine.bestBid()).toBe(101);
    expect(engine.bestAsk()).toBe(0);
  });

  it('sweeps with market orders and cancels the unfilled rest', () => {
    const { place, of } = setup();
    place({ accountId: 'm', side: 'buy', price: 100, size: 2 });
    place({ accountId: 'm', side: 'buy', price: 99, size: 2 });
    const t = place({ accountId: 't', side: 'sell', type: 'market', size: 5 });
    expect(of('trade').map((x) => x.price)).toEqual(['1', '0.99']);
    const c = of('order.cancelled');
    expect(c).toHaveLength(1);
    expect(c[0]).toMatchObject({ orderId: t.orderId, reason: 'ioc', remainingSize: '0.001' });
    expect(of('order.placed').at(-1)).toMatchObject({ orderType: 'market', timeInForce: 'IOC' });
  });

  it('IOC fills what it can and cancels the rest', () => {
    const { engine, place, of } = setup();
    place({ accountId: 'm', side: 'sell', price: 100, size: 2 });
    place({ accountId: 'm', side: 'sell', price: 105, size: 2 });
    const t = place({ accountId: 't', side: 'buy', price: 101, size: 5, tif: 'IOC' });
    expect(of('trade')).toHaveLength(1);
    expect(t.status).toBe('cancelled');
    expect(of('order.cancelled')[0]).toMatchObject({ orderId: t.orderId, reason: 'ioc', remainingSize: '0.003' });
    expect(engine.bestBid()).toBe(0);
  });

  it('FOK kills without executing anything when it cannot fill completely', () => {
    const { engine, place, of, clear } = setup();
    place({ accountId: 'm', side: 'sell', price: 100, size: 2 });
    place({ accountId: 'm', side: 'sell', price: 101, size: 2 });
    clear();
    const k = place({ accountId: 't', side: 'buy', price: 101, size: 5, tif: 'FOK' });
    expect(of('trade')).toHaveLength(0);
    expect(k.status).toBe('cancelled');
    expect(of('order.cancelled')[0]).toMatchObject({ orderId: k.orderId, reason: 'fok', remainingSize: '0.005' });
    expect(engine.bestAskSize()).toBe(2);
    const f = place({ accountId: 't', side: 'buy', price: 101, size: 4, tif: 'FOK' });
    expect(f.status).toBe('filled');
    expect(of('trade')).toHaveLength(2);
  });

  it('FOK counts own orders as unavailable under self-trade prevention', () => {
    const { place, of } = setup();
    place({ accountId: 'x', side: 'sell', price: 100, size: 2 });
    place({ accountId: 'm', side: 'sell', price: 100, size: 2 });
    const k = place({ accountId: 'x', side: 'buy', price: 100, size: 3, tif: 'FOK', stp: 'cancel_taker' });
    expect(k.status).toBe('cancelled');
    expect(of('trade')).toHaveLength(0);
    const ok = place({ accountId: 'x', side: 'buy', price: 100, size: 2, tif: 'FOK', stp: 'cancel_maker' });
    expect(ok.status).toBe('filled');
    expect(of('trade')).toHaveLength(1);
    expect(of('order.cancelled').at(-1)).toMatchObject({ reason: 'stp' });
  });

  it('post-only rests when passive and is rejected (or cancelled) when it would take', () => {
    const { engine, place, of } = setup();
    place({ accountId: 'm', side: 'sell', price: 100, size: 2 });
    const passive = place({ accountId: 'p', side: 'buy', price: 99, size: 1, postOnly: true });
    expect(passive.status).toBe('resting');
    const r = place({ accountId: 'p', side: 'buy', price: 100, size: 1, postOnly: true });
    expect(r.status).toBe('rejected');
    expect(of('order.rejected')[0]).toMatchObject({ orderId: r.orderId, reason: 'post_only_would_take' });
    expect(of('trade')).toHaveLength(0);

    const c = setup({ postOnly: 'cancel' });
    c.place({ accountId: 'm', side: 'sell', price: 100, size: 2 });
    const o = c.place({ accountId: 'p', side: 'buy', price: 101, size: 1, postOnly: true });
    expect(o.status).toBe('cancelled');
    expect(c.of('order.placed')).toHaveLength(2);
    expect(c.of('order.cancelled')[0]).toMatchObject({ orderId: o.orderId, reason: 'post_only' });
    expect(c.of('trade')).toHaveLength(0);
    expect(engine.bestBid()).toBe(99);
  });

  describe('self-trade prevention', () => {
    function selfCross(stp: OrderRequest['stp'], makerSize = 3, takerSize = 3) {
      const s = setup();
      const other = s.place({ accountId: 'o', side: 'sell', price: 100, size: 1 });
      const own = s.place({ accountId: 'x', side: 'sell', price: 100, size: makerSize });
      const behind = s.place({ accountId: 'o', side: 'sell', price: 101, size: 5 });
      s.clear();
      const taker = s.place({ accountId: 'x', side: 'buy', price: 101, size: takerSize, stp });
      return { ...s, other, own, behind, taker };
    }

    it('none: the trade happens and is flagged', () => {
      const { of, own, taker } = selfCross('none');
      const t = of('trade');
      expect(t.map((x) => x.size)).toEqual(['0.001', '0.002']);
      expect(t[0].selfTrade).toBeUndefined();
      expect(t[1]).toMatchObject({ selfTrade: true, makerAccountId: 'x', takerAccountId: 'x', makerOrderId: own.orderId, takerOrderId: taker.orderId });
    });

    it('cancel_taker: the taker stops at its own order', () => {
      const { of, own, taker } = selfCross('cancel_taker');
      expect(of('trade')).toHaveLength(1);
      expect(own.status).toBe('resting');
      expect(taker.status).toBe('cancelled');
      expect(of('order.cancelled')).toEqual([expect.objectContaining({ orderId: taker.orderId, reason: 'stp', remainingSize: '0.002' })]);
    });

    it('cancel_maker: own resting order is cancelled and matching continues', () => {
      const { of, own, taker, behind } = selfCross('cancel_maker');
      expect(own.status).toBe('cancelled');
      expect(of('order.cancelled')).toEqual([expect.objectContaining({ orderId: own.orderId, reason: 'stp', remainingSize: '0.003' })]);
      expect(of('trade').map((x) => x.makerOrderId)).toEqual([expect.any(String), behind.orderId]);
      expect(taker.status).toBe('filled');
    });

    it('cancel_both: both orders are cancelled', () => {
      const { of, own, taker } = selfCross('cancel_both');
      expect(own.status).toBe('cancelled');
      expect(taker.status).toBe('cancelled');
      expect(of('order.cancelled').map((x) => [x.orderId, x.reason])).toEqual([
        [own.orderId, 'stp'],
        [taker.orderId, 'stp'],
      ]);
    });

    it('decrement: the smaller is cancelled, the larger decremented, no trade between them', () => {
      const big = selfCross('decrement', 3, 6);
      // taker 6: 1 trades with 'o', then own maker (3) is cancelled and the taker decremented to 5 total, then 2 trade at 101.
      expect(big.own.status).toBe('cancelled');
      expect(big.of('order.amended')).toEqual([expect.objectContaining({ orderId: big.taker.orderId, prevSize: '0.006', size: '0.003' })]);
      expect(big.of('trade').map((x) => x.size)).toEqual(['0.001', '0.002']);
      expect(big.taker.status).toBe('filled');
      expect(big.of('trade').some((x) => x.selfTrade)).toBe(false);

      const small = selfCross('decrement', 5, 3);
      expect(small.taker.status).toBe('cancelled');
      expect(small.of('order.cancelled')).toEqual([expect.objectContaining({ orderId: small.taker.orderId, reason: 'stp', remainingSize: '0.002' })]);
      expect(small.of('order.amended')).toEqual([expect.objectContaining({ orderId: small.own.orderId, prevSize: '0.005', size: '0.003' })]);
      expect(small.own.size).toBe(3);
      expect(small.engine.bestAskSize()).toBe(3);
    });
  });

  it('stop orders wait for the last trade price, then execute; stop-limits rest', () => {
    const { engine, place, of } = setup();
    place({ accountId: 'm', side: 'sell', price: 100, size: 1 });
    place({ accountId: 't', side: 'buy', price: 100, size: 1 }); // last = 100
    const stop = place({ accountId: 's', side: 'buy', type: 'stop', stopPrice: 102, size: 2 });
    const stopLimit = place({ accountId: 's', side: 'sell', type: 'stop_limit', stopPrice: 98, price: 97, size: 1 });
    expect(stop.status).toBe('pending');
    expect(engine.pendingStops).toBe(2);
    expect(place({ accountId: 's', side: 'buy', type: 'stop', stopPrice: 99, size: 1 }).rejectReason).toBe('stop_would_trigger_immediately');
    place({ accountId: 'm', side: 'sell', price: 102, size: 1 });
    place({ accountId: 'm', side: 'sell', price: 103, size: 5 });
    place({ accountId: 't', side: 'buy', price: 102, size: 1 }); // last = 102 -> fires the buy stop
    expect(stop.status).toBe('filled');
    expect(of('trade').at(-1)).toMatchObject({ takerOrderId: stop.orderId, price: '1.03', size: '0.002' });
    // Fall to 98: the stop-limit fires and rests at 97 with nothing to hit.
    place({ accountId: 'b', side: 'buy', price: 98, size: 1 });
    place({ accountId: 't', side: 'sell', price: 98, size: 1 });
    expect(stopLimit.status).toBe('resting');
    expect(engine.bestAsk()).toBe(97);
    expect(engine.pendingStops).toBe(0);
  });

  it('stops cascade: one triggered stop can trigger the next', () => {
    const { place, of } = setup();
    place({ accountId: 'm', side: 'sell', price: 100, size: 1 });
    place({ accountId: 't', side: 'buy', price: 100, size: 1 }); // last = 100
    place({ accountId: 'm', side: 'buy', price: 99, size: 1 });
    place({ accountId: 'm', side: 'buy', price: 98, size: 1 });
    place({ accountId: 'm', side: 'buy', price: 97, size: 1 });
    const s1 = place({ accountId: 's1', side: 'sell', type: 'stop', stopPrice: 99, size: 1 });
    const s2 = place({ accountId: 's2', side: 'sell', type: 'stop', stopPrice: 98, size: 1 });
    const tp = place({ accountId: 's3', side: 'buy', type: 'take_profit', stopPrice: 97, size: 1 });
    const far = place({ accountId: 's4', side: 'sell', type: 'stop', stopPrice: 90, size: 1 });
    place({ accountId: 't', side: 'sell', price: 99, size: 1, tif: 'IOC' });
    expect(of('trade').map((x) => x.price)).toEqual(['1', '0.99', '0.98', '0.97']);
    expect(s1.status).toBe('filled');
    expect(s2.status).toBe('filled');
    // the take-profit buy fires at 97 but finds no asks
    expect(tp.status).toBe('cancelled');
    expect(far.status).toBe('pending');
  });

  it('amend: a size decrease keeps priority, a price change or increase loses it', () => {
    const { engine, place, of } = setup();
    const first = place({ accountId: 'm1', side: 'buy', price: 100, size: 5 });
    const second = place({ accountId: 'm2', side: 'buy', price: 100, size: 5 });
    expect(engine.amend(first, 1e12, undefined, 3)).toBe(true);
    place({ accountId: 't', side: 'sell', price: 100, size: 1, tif: 'IOC' });
    expect(of('trade').at(-1)!.makerOrderId).toBe(first.orderId);
    expect(engine.amend(first, 1e12 + 1, undefined, 6)).toBe(true);
    place({ accountId: 't', side: 'sell', price: 100, size: 1, tif: 'IOC' });
    expect(of('trade').at(-1)!.makerOrderId).toBe(second.orderId);
    const am = of('order.amended');
    expect(am[0]).toMatchObject({ orderId: first.orderId, size: '0.003', prevSize: '0.005', price: undefined });
    expect(am[1]).toMatchObject({ size: '0.006', prevSize: '0.003' });
    // price change: second moves away and back, now behind first
    expect(engine.amend(second, 1e12 + 2, 99)).toBe(true);
    expect(engine.amend(second, 1e12 + 3, 100)).toBe(true);
    place({ accountId: 't', side: 'sell', price: 100, size: 1, tif: 'IOC' });
    expect(of('trade').at(-1)!.makerOrderId).toBe(first.orderId);
    expect(of('order.amended').at(-1)).toMatchObject({ price: '1', prevPrice: '0.99' });
    expect(engine.amend(second, 1e12 + 4, undefined, second.filled)).toBe(false);
  });

  it('amend across the spread executes', () => {
    const { engine, place, of } = setup();
    place({ accountId: 'm', side: 'sell', price: 101, size: 2 });
    const b = place({ accountId: 'b', side: 'buy', price: 99, size: 5 });
    expect(engine.amend(b, 1e12, 101)).toBe(true);
    expect(of('trade')).toHaveLength(1);
    expect(b.status).toBe('resting');
    expect(b.size).toBe(3);
    expect(engine.bestBid()).toBe(101);
    expect(engine.bestAsk()).toBe(0);
  });

  it('validates tick and lot size and other rules with order.rejected reasons', () => {
    const { engine, of, now } = setup({ minLots: 2, priceBand: 0.1 });
    const ts = now();
    const reasons = [
      engine.submitDecimal({ accountId: 'a', side: 'buy', price: '100.005', size: '0.002' }, ts),
      engine.submitDecimal({ accountId: 'a', side: 'buy', price: '100.01', size: '0.0025' }, ts),
      engine.submitDecimal({ accountId: 'a', side: 'buy', price: '100.01', size: '0.001' }, ts),
      engine.submitDecimal({ accountId: 'a', side: 'buy', size: '0.002' }, ts),
      engine.submitDecimal({ accountId: 'a', side: 'buy', type: 'stop', size: '0.002' }, ts),
      engine.submitDecimal({ accountId: 'a', side: 'buy', price: '100', size: '0.002', tif: 'GTD' }, ts),
      engine.submitDecimal({ accountId: 'a', side: 'buy', type: 'market', price: '100', size: '0.002' }, ts),
      engine.submitDecimal({ accountId: 'a', side: 'buy', price: '100', size: '0.002', tif: 'IOC', postOnly: true }, ts),
    ].map((o) => o.rejectReason);
    expect(reasons).toEqual([
      'price_not_multiple_of_tick',
      'size_not_multiple_of_lot',
      'size_below_minimum',
      'missing_price',
      'missing_stop_price',
      'missing_expire_time',
      'price_not_allowed_for_market_order',
      'post_only_requires_resting_limit',
    ]);
    expect(of('order.rejected').map((e) => e.reason)).toEqual(reasons);
    const ok = engine.submitDecimal({ accountId: 'a', side: 'sell', price: '100.01', size: '0.002' }, ts);
    expect(ok.status).toBe('resting');
    engine.submitDecimal({ accountId: 'b', side: 'buy', price: '100.01', size: '0.002' }, ts);
    expect(engine.submitDecimal({ accountId: 'a', side: 'sell', price: '150', size: '0.002' }, ts).rejectReason).toBe('price_out_of_band');
    const dup = engine.submitDecimal({ accountId: 'a', orderId: 'X1', side: 'sell', price: '100.5', size: '0.002' }, ts);
    expect(dup.status).toBe('resting');
    expect(engine.submitDecimal({ accountId: 'a', orderId: 'X1', side: 'sell', price: '100.6', size: '0.002' }, ts).rejectReason).toBe('duplicate_order_id');
    expect(of('order.placed').map((e) => e.price)).toEqual(['100.01', '100.01', '100.5']);
  });

  it('expires GTD orders and cancels on request', () => {
    const { engine, place, of, now } = setup();
    const g = place({ accountId: 'a', side: 'buy', price: 100, size: 1, tif: 'GTD', expireAt: now() + 1000 });
    const c = place({ accountId: 'a', side: 'buy', price: 99, size: 1 });
    engine.advance(now() + 500);
    expect(g.status).toBe('resting');
    engine.advance(now() + 1500);
    expect(g.status).toBe('expired');
    expect(of('order.expired')[0]).toMatchObject({ orderId: g.orderId, remainingSize: '0.001' });
    expect(engine.cancel(c, now() + 2000)).toBe(true);
    expect(engine.cancel(c, now() + 2001)).toBe(false);
    expect(of('order.cancelled')[0]).toMatchObject({ orderId: c.orderId, reason: 'user' });
    expect(engine.bestBid()).toBe(0);
  });

  it('publishes bbo on top-of-book changes and every event validates', () => {
    const { sink, place, of } = setup();
    place({ accountId: 'm', side: 'buy', price: 99, size: 1 });
    place({ accountId: 'm', side: 'buy', price: 98, size: 1 }); // no top change
    place({ accountId: 'm', side: 'sell', price: 101, size: 2 });
    place({ accountId: 't', side: 'buy', price: 101, size: 1 });
    const b = of('bbo');
    expect(b.map((x) => [x.bidPrice, x.bidSize, x.askPrice, x.askSize])).toEqual([
      ['0.99', '0.001', '0', '0'],
      ['0.99', '0.001', '1.01', '0.002'],
      ['0.99', '0.001', '1.01', '0.001'],
    ]);
    for (const e of sink.events) expect(ExchangeEvent.parse(JSON.parse(JSON.stringify(e)))).toBeTruthy();
    const seqs = sink.events.map((e) => e.seq!);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
  });

  it('never leaves a crossed book under random flow, and trades print at resting prices', () => {
    const { engine, sink, place } = setup();
    let s = 12345;
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const live: ReturnType<typeof place>[] = [];
    const restingPrice = new Map<string, string>();
    for (let i = 0; i < 5000; i++) {
      const r = rnd();
      if (r < 0.15 && live.length) {
        const o = live.splice(Math.floor(rnd() * live.length), 1)[0];
        engine.cancel(o, 1);
      } else if (r < 0.2 && live.length) {
        const o = live[Math.floor(rnd() * live.length)];
        engine.amend(o, 1, 990 + Math.floor(rnd() * 20));
      } else {
        const stps = ['none', 'cancel_taker', 'cancel_maker', 'cancel_both', 'decrement'] as const;
        const o = place({
          accountId: `a${Math.floor(rnd() * 4)}`,
          side: rnd() < 0.5 ? 'buy' : 'sell',
          size: 1 + Math.floor(rnd() * 5),
          stp: stps[Math.floor(rnd() * 5)],
          ...(rnd() < 0.9 ? { price: 990 + Math.floor(rnd() * 20), type: 'limit' as const } : { type: 'market' as const }),
        });
        if (o.status === 'resting') live.push(o);
      }
      const b = engine.bestBid();
      const a = engine.bestAsk();
      if (b && a) expect(b).toBeLessThan(a);
    }
    for (const e of sink.events) {
      if (e.type === 'order.placed' && e.price) restingPrice.set(e.orderId, e.price);
      if (e.type === 'order.amended' && e.price) restingPrice.set(e.orderId, e.price);
      if (e.type === 'trade') expect(e.price).toBe(restingPrice.get(e.makerOrderId!));
    }
  });

  it('keeps many price levels in order, reaching deep levels and refilling emptied ones', () => {
    const { engine, place, clear } = setup();
    // 60 bid and 60 ask levels placed in shuffled order (deeper than the book's linear scan).
    const bidPrices = Array.from({ length: 60 }, (_, i) => 5000 - i * 3);
    const askPrices = Array.from({ length: 60 }, (_, i) => 5100 + i * 2);
    const shuffled = (xs: number[]) => xs.map((x, i) => [x, (i * 37) % 61] as const).sort((a, b) => a[1] - b[1]).map((p) => p[0]);
    const bids = shuffled(bidPrices).map((price) => place({ accountId: 'm', side: 'buy', price, size: 2 }));
    shuffled(askPrices).forEach((price) => place({ accountId: 'm', side: 'sell', price, size: 1 }));
    expect(engine.book.bids.levels.map((l) => l.price)).toEqual([...bidPrices].reverse());
    expect(engine.book.asks.levels.map((l) => l.price)).toEqual([...askPrices].reverse());
    // Cancel every other bid level, deep ones included; the rest stay sorted and sized.
    bids.filter((_, i) => i % 2 === 0).forEach((o) => engine.cancel(o, 1));
    const left = bids.filter((_, i) => i % 2 === 1).map((o) => o.price).sort((a, b) => a - b);
    expect(engine.book.bids.levels.map((l) => l.price)).toEqual(left);
    expect(engine.book.bids.levels.every((l) => l.total === 2 && l.count === 1)).toBe(true);
    expect(engine.liquidity('sell', 5110)).toBe(6);
    // A sweep through 10 ask levels, then resting again at a swept price.
    clear();
    const t = place({ accountId: 't', side: 'buy', price: 5118, size: 10 });
    expect(t.status).toBe('filled');
    expect(engine.bestAsk()).toBe(5120);
    place({ accountId: 'm', side: 'sell', price: 5104, size: 1 });
    expect(engine.bestAsk()).toBe(5104);
    expect(engine.book.orderCount).toBe(30 + 51);
  });
});

describe('decimal grid formatting', () => {
  it('formats exactly through its cache, including values that share a cache slot', () => {
    const g = new DecimalGrid('0.00001');
    const slotStride = 1 << 14;
    for (const n of [0, 1, 10, 12_345, 100_000, 6_200_000_01, 6_200_000_01 + slotStride, 7]) {
      const want = g.formatUncached(n);
      expect(g.format(n)).toBe(want);
      expect(g.format(n)).toBe(want);
    }
    expect(g.format(6_200_000_01)).toBe('6200.00001');
    expect(g.format(6_200_000_01 + slotStride)).toBe('6200.16385');
    expect(g.format(100_000)).toBe('1');
    expect(new DecimalGrid('0.05').format(3)).toBe('0.15');
    expect(new DecimalGrid('10').format(-3)).toBe('-30');
  });

  it('formats the same through a small cache (sizes) as through the default one, and rejects a slot count that is not a power of two', () => {
    const big = new DecimalGrid('0.0001');
    const small = new DecimalGrid('0.0001', 1 << 4);
    let x = 12345;
    for (let i = 0; i < 5000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const n = i % 3 === 0 ? x % 64 : x % 10_000_000; // recurring small values and one-off large ones
      expect(small.format(n)).toBe(big.format(n));
      expect(small.format(n)).toBe(big.formatUncached(n));
    }
    expect(() => new DecimalGrid('0.01', 1000)).toThrow(/power of two/);
    expect(() => new DecimalGrid('0.01', 0)).toThrow(/power of two/);
  });

  it('writes counter ids exactly as prefix + decimal, across the cached high part and its rollovers', () => {
    const t = new CounterText('e');
    const plain = new CounterText();
    const ns = [0, 7, 9_999, 10_000, 10_001, 19_999, 20_000, 123_456_789, 700_009_999, 700_010_000, 2 ** 31 + 5, 1.5];
    for (let n = 99_990; n < 100_020; n++) ns.push(n);
    for (const n of ns) {
      expect(t.text(n)).toBe(`e${n}`);
      expect(plain.text(n)).toBe(String(n));
    }
    // Going back to an earlier high part (several engines share one sequence) still reads right.
    expect(t.text(10_005)).toBe('e10005');
    expect(t.text(990_005)).toBe('e990005');
  });
});
