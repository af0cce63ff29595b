import type { ExchangeEvent } from '../../src/events/schema.js';
import { rng } from './seeded.js';

export interface Injected {
  selfTrades: { account: string; market: string; tradeIds: string[]; start: number; end: number }[];
  fatFingers: { account: string; market: string; orderId: string; ts: number }[];
}

/**
 * A small synthetic exchange: several markets with a random-walk mid, accounts placing and
 * cancelling limit orders around it, market orders trading against the touch (consistent trade
 * events with maker/taker orders and accounts), plus injected self-trades and fat-finger orders and
 * some account-level events. Deterministic for a seed.
 */
export function syntheticExchange(seed: number, opts: { markets?: number; accounts?: number; steps?: number; start?: number } = {}): { events: ExchangeEvent[]; injected: Injected } {
  const r = rng(seed);
  const nm = opts.markets ?? 6;
  const na = opts.accounts ?? 30;
  const steps = opts.steps ?? 20_000;
  let ts = opts.start ?? 1_723_161_600_000;
  const events: ExchangeEvent[] = [];
  const injected: Injected = { selfTrades: [], fatFingers: [] };
  let seq = 0;
  const id = () => `ev${seed}-${seq++}`;
  type Resting = { id: string; acct: string; side: 'buy' | 'sell'; price: number; size: number };
  const markets = Array.from({ length: nm }, (_, i) => ({
    name: i % 3 === 2 ? `MK${i - 2}USDT-PERP` : `MK${i}USDT`,
    mid: 100 * (i + 1),
    tick: 0.01 * (i + 1),
    book: [] as Resting[],
  }));
  const acct = (i: number) => `acct-${String(i).padStart(3, '0')}`;
  const px = (m: (typeof markets)[number], p: number) => (Math.round(p / m.tick) * m.tick).toFixed(2);
  let nextOrder = 0;
  let nextTrade = 0;
  let selfTradeBurst: { account: string; market: number; left: number; rec: Injected['selfTrades'][number] } | undefined;

  const trade = (m: (typeof markets)[number], maker: Resting, takerAcct: string, takerOrder: string, size: number, takerSide: 'buy' | 'sell') => {
    const tradeId = `t${nextTrade++}`;
    events.push({
      type: 'trade', id: id(), ts, market: m.name, tradeId, price: maker.price.toFixed(2), size: size.toFixed(3), aggressor: takerSide,
      makerOrderId: maker.id, takerOrderId: takerOrder, makerAccountId: maker.acct, takerAccountId: takerAcct,
    });
    maker.size = Math.round((maker.size - size) * 1000) / 1000;
    if (maker.size <= 0) m.book.splice(m.book.indexOf(maker), 1);
    return tradeId;
  };

  for (let step = 0; step < steps; step++) {
    ts += Math.floor(r() * 40);
    const m = markets[Math.floor(r() * nm)];
    m.mid *= 1 + (r() - 0.5) * 0.0004;
    const u = r();
    if (u < 0.45) {
      const side = r() < 0.5 ? 'buy' : 'sell';
      const a = acct(Math.floor(r() * na));
      const off = (0.0005 + r() * 0.003) * m.mid;
      const price = px(m, side === 'buy' ? m.mid - off : m.mid + off);
      const size = (0.1 + Math.floor(r() * 20) / 10).toFixed(3);
      const o: Resting = { id: `o${nextOrder++}`, acct: a, side, price: +price, size: +size };
      m.book.push(o);
      events.push({ type: 'order.placed', id: id(), ts, market: m.name, accountId: a, orderId: o.id, side, orderType: 'limit', timeInForce: 'GTC', price, size });
    } else if (u < 0.75 && m.book.length > 0) {
      const o = m.book[Math.floor(r() * m.book.length)];
      m.book.splice(m.book.indexOf(o), 1);
      events.push({ type: 'order.cancelled', id: id(), ts, market: m.name, accountId: o.acct, orderId: o.id, reason: 'user' });
    } else if (u < 0.97) {
      const side = r() < 0.5 ? 'buy' : 'sell';
      const opp = m.book.filter((o) => o.side !== side).sort((x, y) => (side === 'buy' ? x.price - y.price : y.price - x.price));
      if (opp.length === 0) continue;
      const a = acct(Math.floor(r() * na));
      if (opp[0].acct === a) continue; // no accidental self-trades
      const orderId = `o${nextOrder++}`;
      const size = Math.min(opp[0].size, 0.1 + Math.floor(r() * 5) / 10);
      events.push({ type: 'order.placed', id: id(), ts, market: m.name, accountId: a, orderId, side, orderType: 'market', timeInForce: 'IOC', size: size.toFixed(3) });
      trade(m, opp[0], a, orderId, size, side);
    } else if (u < 0.985) {
      // account-level noise, broadcast to every partition
      events.push({ type: 'login', id: id(), ts, accountId: acct(Math.floor(r() * na)), sessionId: `s${step}`, deviceId: `d${step % 7}`, ip: `10.0.0.${step % 50}`, success: true });
    } else if (u < 0.993 && !selfTradeBurst) {
      // start a self-trade burst: one account trades against its own resting orders a few times
      const mi = Math.floor(r() * nm);
      const a = acct(Math.floor(r() * na));
      const rec = { account: a, market: markets[mi].name, tradeIds: [] as string[], start: ts, end: ts };
      injected.selfTrades.push(rec);
      selfTradeBurst = { account: a, market: mi, left: 2 + Math.floor(r() * 4), rec };
    } else if (u < 0.996) {
      // fat finger: a limit order 30% through the mid
      const a = acct(Math.floor(r() * na));
      const side = r() < 0.5 ? 'buy' : 'sell';
      const orderId = `o${nextOrder++}`;
      const price = px(m, side === 'buy' ? m.mid * 1.3 : m.mid * 0.7);
      events.push({ type: 'order.placed', id: id(), ts, market: m.name, accountId: a, orderId, side, orderType: 'limit', timeInForce: 'GTC', price, size: '0.5' });
      events.push({ type: 'order.cancelled', id: id(), ts: ts + 1, market: m.name, accountId: a, orderId, reason: 'user' });
      injected.fatFingers.push({ account: a, market: m.name, orderId, ts });
    }
    if (selfTradeBurst && r() < 0.05) {
      const b = selfTradeBurst;
      const mk = markets[b.market];
      const sellId = `o${nextOrder++}`;
      const price = px(mk, mk.mid);
      const resting: Resting = { id: sellId, acct: b.account, side: 'sell', price: +price, size: 1 };
      mk.book.push(resting);
      events.push({ type: 'order.placed', id: id(), ts, market: mk.name, accountId: b.account, orderId: sellId, side: 'sell', orderType: 'limit', timeInForce: 'GTC', price, size: '1.000' });
      const buyId = `o${nextOrder++}`;
      events.push({ type: 'order.placed', id: id(), ts, market: mk.name, accountId: b.account, orderId: buyId, side: 'buy', orderType: 'limit', timeInForce: 'IOC', price, size: '1.000' });
      const tid = trade(mk, resting, b.account, buyId, 1, 'buy');
      b.rec.tradeIds.push(tid);
      b.rec.end = ts;
      if (--b.left === 0) selfTradeBurst = undefined;
    }
  }
  return { events, injected };
}

/** Shuffles arrival order by up to `jitterMs` of event time (the watermark must restore it). */
export function jitter(events: ExchangeEvent[], seed: number, jitterMs: number): ExchangeEvent[] {
  const r = rng(seed);
  // one delay per millisecond, so events within a millisecond keep their order (as with `seq`)
  const delay = new Map<number, number>();
  const at = (ts: number) => {
    let d = delay.get(ts);
    if (d === undefined) delay.set(ts, (d = r() * jitterMs));
    return ts + d;
  };
  return events
    .map((e, i) => ({ e, i, at: at(e.ts) }))
    .sort((a, b) => a.at - b.at || a.i - b.i)
    .map((x) => x.e);
}
