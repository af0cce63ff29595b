import { describe, expect, it } from 'vitest';
import { MarketBooks, TradeParties, orderKey } from '../src/stream/books.js';
import { L3Book } from '../src/market/l3-book.js';
import { decimalToFloat } from '../src/stream/scaled.js';
import { OrderFlow, Position } from '../src/stream/order-flow.js';
import { parseEvent, type EventOf, type ExchangeEvent, type ExchangeEventInput } from '../src/events/index.js';

function ev(x: ExchangeEventInput): ExchangeEvent {
  const r = parseEvent(x);
  if (!r.ok) throw new Error(r.reason);
  return r.event;
}

let n = 0;
const place = (acct: string, id: string, side: 'buy' | 'sell', price: string, size: string, ts = 1000, extra: Partial<ExchangeEventInput> = {}) =>
  ev({ type: 'order.placed', id: `e${n++}`, ts, market: 'BTCUSDT', accountId: acct, orderId: id, side, orderType: 'limit', price, size, ...extra } as ExchangeEventInput);

describe('L3Book (struct of arrays)', () => {
  it('keeps price-time priority, reuses freed slots and reference-counts accounts', () => {
    const b = new L3Book();
    expect(b.add('a', 'buy', 100, 5, 1, 'x', 5)).toBe(true);
    expect(b.add('b', 'buy', 100, 3, 2, 'y')).toBe(true);
    expect(b.add('a', 'buy', 101, 1, 3)).toBe(false); // id already resting
    expect(b.add('z', 'sell', 105, 0, 3)).toBe(false); // nothing to rest
    expect(b.add('c', 'sell', 105, 2, 4, 'x')).toBe(true);
    const lv = b.bestBid()!;
    expect([lv.price, lv.total, lv.count]).toEqual([100, 8, 2]);
    expect(b.idAt(lv.head)).toBe('a');
    expect(b.idAt(b.nextAt(lv.head))).toBe('b');
    expect(b.get('a')).toEqual({ id: 'a', side: 'buy', price: 100, size: 5, ts: 1, accountId: 'x', tag: 5 });
    expect(b.get('b')!.tag).toBeUndefined();
    expect(b.reduce('a', 2)).toBe(2);
    expect(b.bestBid()!.total).toBe(6);
    // increasing the size loses priority
    const s = b.amend('a', 100, 4, 5);
    expect(b.sizeAt(s)).toBe(4);
    expect(b.idAt(b.bestBid()!.head)).toBe('b');
    expect(b.tagAt(s)).toBe(5);
    expect(b.remove('b')).toBe(true);
    expect(b.remove('b')).toBe(false);
    expect(b.add('d', 'buy', 99, 1, 6, 'w')).toBe(true);
    expect(b.orderCount).toBe(3);
    expect(b.depth('buy', 5)).toEqual([{ price: 100, size: 4, orders: 1 }, { price: 99, size: 1, orders: 1 }]);
    expect(b.reduce('c', 10)).toBe(2); // fully executed: removed, level dropped
    expect(b.levelCount('sell')).toBe(0);
    expect(b.accountAt(b.slotOf('a'))).toBe('x');
    b.clear();
    expect(b.orderCount).toBe(0);
    expect(b.levelCount('buy')).toBe(0);
    for (let i = 0; i < 1000; i++) b.add(i, i % 2 ? 'sell' : 'buy', i % 2 ? 2000 + i : 1000 - i, 1, i, `acc${i % 7}`);
    expect(b.orderCount).toBe(1000);
    expect(b.bestBid()!.price).toBe(1000);
    expect(b.bestAsk()!.price).toBe(2001);
    expect(b.get(998)!.accountId).toBe(`acc${998 % 7}`);
  });

  it('matches a plain model through random adds, amends, partial fills and cancels (levels come and go, emptied ones are reused)', () => {
    const b = new L3Book();
    const model = new Map<number, { side: 'buy' | 'sell'; price: number; size: number; ts: number }>();
    let seed = 11;
    const r = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const depthOf = (side: 'buy' | 'sell'): { price: number; size: number; orders: number }[] => {
      const by = new Map<number, { price: number; size: number; orders: number }>();
      for (const o of model.values()) {
        if (o.side !== side) continue;
        const l = by.get(o.price) ?? { price: o.price, size: 0, orders: 0 };
        l.size += o.size;
        l.orders++;
        by.set(o.price, l);
      }
      return [...by.values()].sort((x, y) => (side === 'buy' ? y.price - x.price : x.price - y.price));
    };
    for (let i = 0; i < 20_000; i++) {
      const ids = [...model.keys()];
      const op = r();
      if (op < 0.45 || ids.length === 0) {
        const side = r() < 0.5 ? 'buy' : 'sell';
        const price = side === 'buy' ? 1000 - Math.floor(r() * 12) : 1001 + Math.floor(r() * 12);
        const size = 1 + Math.floor(r() * 5);
        b.add(i, side, price, size, i, `a${i % 5}`);
        model.set(i, { side, price, size, ts: i });
      } else {
        const id = ids[Math.floor(r() * ids.length)];
        const o = model.get(id)!;
        if (op < 0.75) {
          b.remove(id);
          model.delete(id);
        } else if (op < 0.9) {
          const q = 1 + Math.floor(r() * 3);
          b.reduce(id, q);
          if (q >= o.size) model.delete(id);
          else o.size -= q;
        } else {
          const price = o.side === 'buy' ? 1000 - Math.floor(r() * 12) : 1001 + Math.floor(r() * 12);
          b.amend(id, price, o.size, i);
          o.price = price;
        }
      }
      if (i % 97 === 0 || i > 19_900) {
        expect(b.depth('buy', 100)).toEqual(depthOf('buy'));
        expect(b.depth('sell', 100)).toEqual(depthOf('sell'));
        expect(b.orderCount).toBe(model.size);
      }
    }
  });

  it('parses decimal strings to exactly the float `+s` gives', () => {
    let seed = 5;
    const r = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const cases = ['0', '-0', '0.0', '-0.000', '61837.63000000', '.5', '5.', '007.50', '1e5', '+1', ' 1', '', '-', '1.2.3', 'abc', 'Infinity', '9007199254740993', '0.1', '0.3', '123456789012.345678', `0.${'0'.repeat(25)}1`, '-12.5'];
    for (let i = 0; i < 20_000; i++) {
      const int = String(Math.floor(r() * 10 ** Math.floor(r() * 12)));
      const frac = r() < 0.8 ? `.${String(Math.floor(r() * 10 ** 9)).padStart(Math.floor(r() * 12), '0')}` : '';
      cases.push(`${r() < 0.1 ? '-' : ''}${int}${frac}`);
    }
    for (const c of cases) expect(Object.is(decimalToFloat(c), +c), c).toBe(true);
  });

  it('turns only canonical integer order ids into numbers', () => {
    expect(orderKey('377925559')).toBe(377925559);
    expect(orderKey('0')).toBe(0);
    expect(orderKey('007')).toBe('007');
    expect(orderKey('-1')).toBe('-1');
    expect(orderKey('1e3')).toBe('1e3');
    expect(orderKey('o12')).toBe('o12');
    expect(orderKey('1234567890123456')).toBe('1234567890123456');
    expect(orderKey('')).toBe('');
  });
});

describe('MarketBooks', () => {
  it('maintains the L3 book from order events and trades, and infers/upgrades the decimal scale', () => {
    const books = new MarketBooks();
    const flow = new OrderFlow();
    const p = new TradeParties();
    const apply = (e: ExchangeEvent) => {
      const parties = e.type === 'trade' ? books.resolveTrade(e, p) : undefined;
      const f = books.apply(e);
      flow.apply(e, parties, f);
    };
    apply(place('a', 'o1', 'buy', '100.5', '2'));
    apply(place('b', 'o2', 'sell', '101', '1.5'));
    apply(place('c', 'o3', 'buy', '100.5', '1')); // same level, behind o1
    apply(place('d', 'o4', 'sell', '100.75', '0.25')); // finer price -> scale 2, rebuild
    const b = books.get('BTCUSDT');
    expect(b.priceScale).toBe(2);
    expect(books.touch('BTCUSDT')).toMatchObject({ bid: 100.5, ask: 100.75, bidSize: 3, source: 'l3' });
    expect(books.mid('BTCUSDT')).toBeCloseTo(100.625, 9);
    // priority preserved through the rebuild
    expect(b.l3.idAt(b.l3.bestBid()!.head)).toBe('o1');
    // amend o3 to a better price (loses priority, new level)
    apply(ev({ type: 'order.amended', id: 'e-am', ts: 1001, market: 'BTCUSDT', accountId: 'c', orderId: 'o3', price: '100.6', size: '1' }));
    expect(books.touch('BTCUSDT').bid).toBe(100.6);
    // a trade: taker e sells 1.2 into o3 (1) — the book reduces o3, fully filled
    const t = ev({ type: 'trade', id: 't1', ts: 1002, market: 'BTCUSDT', tradeId: 't1', price: '100.6', size: '1', aggressor: 'sell', makerOrderId: 'o3', takerOrderId: 'o9' });
    apply(t);
    expect(p.maker).toBe('c');
    expect(books.order('BTCUSDT', 'o3')).toBeUndefined();
    expect(flow.accountMarket('c', 'BTCUSDT')!.ordersFilled).toBe(1);
    expect(flow.accountMarket('c', 'BTCUSDT')!.position.decimal()).toBe('1');
    // cancel o1
    apply(ev({ type: 'order.cancelled', id: 'e-c', ts: 1003, market: 'BTCUSDT', accountId: 'a', orderId: 'o1' }));
    // o3 filled and o1 cancelled: no bids left, so no two-sided L3 touch
    expect(b.l3.bestBid()).toBeUndefined();
    expect(books.touch('BTCUSDT').source).toBe('none');
    expect(Number.isNaN(books.mid('BTCUSDT'))).toBe(true);
  });

  it('attributes trades against market orders and builds snapshots', () => {
    const books = new MarketBooks();
    const p = new TradeParties();
    books.apply(place('mm', 'm1', 'sell', '50000.10', '0.5'));
    books.apply(place('mm', 'm2', 'buy', '49999.90', '0.5'));
    books.apply(ev({ type: 'order.placed', id: 'x', ts: 1001, market: 'BTCUSDT', accountId: 'tk', orderId: 'mk1', side: 'buy', orderType: 'market', size: '0.1' }));
    const t = ev({ type: 'trade', id: 't', ts: 1002, market: 'BTCUSDT', tradeId: 't', price: '50000.1', size: '0.1', aggressor: 'unknown', makerOrderId: 'm1', takerOrderId: 'mk1' });
    books.resolveTrade(t as EventOf<'trade'>, p);
    expect([p.maker, p.taker, p.takerSide]).toEqual(['mm', 'tk', 'buy']);
    books.apply(t);
    const s = books.snapshot('BTCUSDT', 3);
    expect(s.source).toBe('l3');
    expect(s.asks).toEqual([['50000.1', '0.4', 1]]);
    expect(s.bids).toEqual([['49999.9', '0.5', 1]]);
    expect(s.mid).toBeCloseTo(50000, 6);
    expect(s.lastTrade).toBe('50000.1');
  });

  it('keeps L2 books from depth and uses the fresher of BBO and L2 for the touch', () => {
    const books = new MarketBooks();
    books.apply(ev({ type: 'depth', id: 'd1', ts: 1000, market: 'X', snapshot: true, bids: [['10.00', '1'], ['9.99', '2']], asks: [['10.02', '3']] }));
    expect(books.touch('X')).toMatchObject({ bid: 10, ask: 10.02, source: 'l2', reliable: true });
    books.apply(ev({ type: 'depth', id: 'd2', ts: 1001, market: 'X', bids: [['10.00', '0']], asks: [['10.01', '1']] }));
    expect(books.touch('X')).toMatchObject({ bid: 9.99, ask: 10.01 });
    books.apply(ev({ type: 'bbo', id: 'b1', ts: 1002, market: 'X', bidPrice: '10.00', bidSize: '5', askPrice: '10.01', askSize: '1' }));
    expect(books.touch('X')).toMatchObject({ bid: 10, source: 'bbo' });
    expect(books.snapshot('X', 2).bids).toEqual([['10.00', '5']]);
    books.apply(ev({ type: 'book.status', id: 's', ts: 1003, market: 'X', status: 'unreliable', reason: 'gap' }));
    books.apply(ev({ type: 'depth', id: 'd3', ts: 1004, market: 'X', bids: [], asks: [] }));
    expect(books.touch('X')).toMatchObject({ source: 'l2', reliable: false });
    expect(books.snapshot('X', 2)).toMatchObject({ bids: [['9.99', '2']], asks: [['10.01', '1'], ['10.02', '3']], reliable: false });
  });
});

describe('OrderFlow', () => {
  it('counts messages and ratios per account and market', () => {
    const flow = new OrderFlow();
    for (let i = 0; i < 10; i++) flow.apply(place('a', `o${i}`, 'buy', '1', '1', 1000 + i), undefined, 0);
    for (let i = 0; i < 8; i++) flow.apply(ev({ type: 'order.cancelled', id: `c${i}`, ts: 2000, market: 'BTCUSDT', accountId: 'a', orderId: `o${i}` }), undefined, 0);
    const p = new TradeParties();
    p.maker = 'a';
    p.taker = 'b';
    p.takerSide = 'sell';
    flow.apply(ev({ type: 'trade', id: 't', ts: 3000, market: 'BTCUSDT', tradeId: 't', price: '1', size: '1', aggressor: 'sell' }), p, 0);
    const a = flow.accountMarket('a', 'BTCUSDT')!;
    expect([a.messages, a.placed, a.cancelled, a.fills]).toEqual([18, 10, 8, 1]);
    expect(a.cancelRatio()).toBe(0.8);
    expect(a.orderToTradeRatio()).toBe(18);
    expect(flow.market('BTCUSDT').messages).toBe(18);
    expect(flow.account('b')!.fills).toBe(1);
    expect(flow.accountMarket('b', 'BTCUSDT')!.position.decimal()).toBe('-1');
  });

  it('computes average-cost positions and PnL exactly like a reference ledger', () => {
    const p = new Position();
    p.apply('buy', '1', 100); // long 1 @100
    p.apply('buy', '1.5', 110); // long 2.5 @106
    expect(p.avgPrice).toBeCloseTo(106, 9);
    p.apply('sell', '0.5', 120); // realise 0.5 × 14 = 7
    expect(p.realised).toBeCloseTo(7, 9);
    expect(p.decimal()).toBe('2');
    p.apply('sell', '3.25', 100); // close 2 (realise -12), open short 1.25 @100
    expect(p.realised).toBeCloseTo(-5, 9);
    expect(p.decimal()).toBe('-1.25');
    expect(p.avgPrice).toBe(100);
    expect(p.unrealised(90)).toBeCloseTo(12.5, 9);
    p.apply('buy', '1.25', 95);
    expect(p.lots).toBe(0);
    expect(p.realised).toBeCloseTo(1.25, 9);
    expect(p.unrealised(1)).toBe(0);
    expect(p.apply('buy', 'junk', 1)).toBe(false);
  });
});
