import { describe, expect, it } from 'vitest';
import type { ExchangeEvent } from '../src/events/schema.js';
import type { TypologyMetrics } from '../src/surveillance/eval.js';
import type { SimConfigInput } from '../src/sim/config.js';
import { ev, runDetectorE2e, runOneDetector } from './helpers/detector-e2e.js';

// The reference cases (price collar, size vs history, off-market prints) are also pinned in
// test/surveillance-engine.test.ts; these add the off-market variant against the account's own
// quoting habits and the legitimate look-alikes.
const NAME = 'fat_finger';
const TYP = 'fat_finger';


const run = (events: ExchangeEvent[], params: Record<string, unknown> = {}) => runOneDetector(NAME, TYP, events, params);

const T0 = 1_723_161_600_000;
let n = 0;
const M = 'PYRAUSDT';
const bbo = (ts: number, mid: number) => ev({ type: 'bbo', id: `b${n++}`, ts, market: M, bidPrice: (mid * 0.999).toFixed(4), bidSize: '500', askPrice: (mid * 1.001).toFixed(4), askSize: '500' });
const trade = (ts: number, px: number) => ev({ type: 'trade', id: `t${n++}`, ts, market: M, tradeId: `tr${n}`, price: px.toFixed(4), size: '10', aggressor: 'buy' });
const place = (ts: number, acct: string, side: 'buy' | 'sell', px: number, size: number) =>
  ev({ type: 'order.placed', id: `p${n++}`, ts, market: M, accountId: acct, orderId: `o${n}`, side, orderType: 'limit', timeInForce: 'GTC', price: px.toFixed(4), size: String(size) });

/** A market quiet around 2.0000 with trades every 2 s. */
function background(from: number, to: number): ExchangeEvent[] {
  const out: ExchangeEvent[] = [];
  for (let t = from, i = 0; t < to; t += 2_000, i++) out.push(bbo(t, 2 + 0.002 * Math.sin(i / 3)), trade(t + 1, 2 + 0.002 * Math.sin(i / 3)));
  return out;
}

/** `count` orders by `acct` from `from`, every 10 s, at `dev(i)` relative deviation from 2.0, of `size(i)`. */
function history(acct: string, from: number, count: number, dev: (i: number) => number, size: (i: number) => number): ExchangeEvent[] {
  return Array.from({ length: count }, (_, i) => place(from + i * 10_000, acct, i % 2 ? 'buy' : 'sell', 2 * (1 + (i % 2 ? -1 : 1) * dev(i)), size(i)));
}

describe('fat_finger detector', () => {
  it('alerts on an off-market order from an account that trades near the touch', async () => {
    const t = T0 + 600_000;
    const events = [...background(T0, T0 + 900_000), ...history('A', T0 + 150_000, 40, (i) => 0.001 * (i % 3), (i) => 100 + (i % 7) * 10), place(t, 'A', 'buy', 2 * 1.2, 110)];
    const alerts = await run(events);
    expect(alerts.length).toBe(1);
    expect(alerts[0].accounts).toEqual(['A']);
    expect(alerts[0].evidence.features.find((f) => f.name === 'deviation_pct')!.value).toBeGreaterThan(19);
    expect(alerts[0].evidence.features.find((f) => f.name === 'deviation_vs_own_history')!.passed).toBe(true);
  });

  it('alerts on a size far beyond the account’s history at a sane price', async () => {
    const t = T0 + 600_000;
    const events = [...background(T0, T0 + 900_000), ...history('S', T0 + 150_000, 40, () => 0.001, (i) => 100 + (i % 7) * 10), place(t, 'S', 'buy', 2, 30_000)];
    const oid = (events.at(-1) as { orderId: string }).orderId;
    // left to execute, it is a deliberate block; cancelled seconds later, the trader noticed an error
    expect(await run(events.slice())).toEqual([]);
    const alerts = await run([...events, ev({ type: 'order.cancelled', id: `c${n++}`, ts: t + 4_000, market: M, accountId: 'S', orderId: oid, reason: 'user' })]);
    expect(alerts.map((a) => a.accounts)).toEqual([['S']]);
    expect(alerts[0].detectedAt).toBe(t + 4_000);
    expect(alerts[0].evidence.features.find((f) => f.name === 'size_multiple_of_history_quantile')!.value).toBeGreaterThan(100);
  });

  it('stays silent for a market maker’s deep ladder and a whale’s usual large order', async () => {
    const t = T0 + 600_000;
    const events = [
      ...background(T0, T0 + 900_000),
      // a maker that always quotes 2–6% away: another order 6% away is its habit, not an error
      ...history('MM', T0 + 60_000, 50, (i) => 0.02 + 0.04 * ((i % 5) / 4), () => 500),
      place(t, 'MM', 'sell', 2 * 1.06, 500),
      // a whale whose orders are always large, at a sane price
      ...history('W', T0 + 60_000, 40, () => 0.002, (i) => 20_000 + (i % 5) * 5_000),
      place(t + 1_000, 'W', 'buy', 2 * 0.998, 40_000),
    ];
    expect(await run(events)).toEqual([]);
  });

  it('judges a size error of an account with few orders against them, and a coordinated pair not at all', async () => {
    const t = T0 + 600_000;
    const base = [...background(T0, T0 + 900_000), ...history('F', T0 + 150_000, 4, () => 0.001, () => 100)];
    const err = place(t, 'F', 'buy', 2, 20_000);
    const cancel = (ts: number, acct: string, o: ExchangeEvent) => ev({ type: 'order.cancelled', id: `c${n++}`, ts, market: M, accountId: acct, orderId: (o as { orderId: string }).orderId, reason: 'user' });
    const alerts = await run([...base, err, cancel(t + 3_000, 'F', err)]);
    expect(alerts.map((a) => a.accounts)).toEqual([['F']]);
    expect(alerts[0].evidence.features.find((f) => f.name === 'history_orders')!.value).toBe(4);
    // the same order shown against another account's oversized offer a second earlier, both pulled together: a pair, not a slip
    const other = [...history('G', T0 + 155_000, 4, () => 0.001, () => 100), place(t - 1_000, 'G', 'sell', 2.004, 30_000)];
    const paired = await run([...base, ...other, err, cancel(t + 3_000, 'F', err), cancel(t + 3_000, 'G', other.at(-1)!)]);
    expect(paired).toEqual([]);
  });

  it('alerts on a passive quote 8% off a calm market from an account without history when it is cancelled, not when left resting', async () => {
    const t = T0 + 600_000;
    const base = background(T0, T0 + 900_000);
    const bid = place(t, 'N', 'buy', 2 * 0.92, 50);
    const cancel = (ts: number) => ev({ type: 'order.cancelled', id: `c${n++}`, ts, market: M, accountId: 'N', orderId: (bid as { orderId: string }).orderId, reason: 'user' });
    // noticed and pulled 2 s later: a slip (the threshold is 8σ of the market's 5-minute volatility, 0.86% here, not the former 10% for new accounts)
    const alerts = await run([...base, bid, cancel(t + 2_000)]);
    expect(alerts.map((a) => a.accounts)).toEqual([['N']]);
    const f = alerts[0].evidence.features;
    expect(f.find((x) => x.name === 'cancelled_after_ms')!.value).toBe(2_000);
    expect(f.find((x) => x.name === 'deviation_pct')!.threshold).toBeCloseTo(6.85, 1);
    expect(f.find((x) => x.name === 'deviation_pct')!.value).toBeGreaterThan(7.5);
    expect(f.find((x) => x.name === 'deviation_sigmas')!.value).toBeGreaterThan(8);
    expect(alerts[0].explanation).toContain('cancelled it 2 s after');
    // left resting (or pulled only after noticeMs): a deliberate deep bid, 1.2× the threshold is no shifted decimal point
    expect(await run([...base, bid])).toEqual([]);
    expect(await run([...base, bid, cancel(t + 120_000)])).toEqual([]);
    // a bid ten times lower (a decimal slip) alerts even left resting
    expect((await run([...base, place(t, 'N', 'buy', 0.2, 50)])).map((a) => a.accounts)).toEqual([['N']]);
  });

  it('does not take an oversized order for a slip when the account worked in size just before (a spoofer’s genuine side)', async () => {
    const t = T0 + 600_000;
    const base = [...background(T0, T0 + 900_000), ...history('F', T0 + 150_000, 4, () => 0.001, () => 100)];
    const cancel = (ts: number, o: ExchangeEvent) => ev({ type: 'order.cancelled', id: `c${n++}`, ts, market: M, accountId: 'F', orderId: (o as { orderId: string }).orderId, reason: 'user' });
    const err = place(t, 'F', 'buy', 2, 20_000);
    // alone: a slip (as above)
    expect((await run([...base, err, cancel(t + 3_000, err)])).length).toBe(1);
    // after a larger offer of the same account behind the touch 2 s earlier, both pulled together: a strategy
    const big = place(t - 2_000, 'F', 'sell', 2.01, 60_000);
    expect(await run([...base, big, err, cancel(t + 3_000, big), cancel(t + 3_000, err)])).toEqual([]);
    // a comparable order while it rests also makes it a campaign; a small correction does not
    const more = place(t + 1_000, 'F', 'buy', 2, 15_000);
    expect(await run([...base, err, more, cancel(t + 3_000, err)])).toEqual([]);
    const fix = place(t + 1_000, 'F', 'buy', 2, 200);
    expect((await run([...base, err, fix, cancel(t + 3_000, err)])).length).toBe(1);
    // a stop order of that size is not on the book until it triggers: cancelling it is no noticed slip
    const stop = ev({ type: 'order.placed', id: `p${n++}`, ts: t, market: M, accountId: 'F', orderId: `o${n}`, side: 'buy', orderType: 'stop', timeInForce: 'GTC', stopPrice: '2.1000', size: '20000' });
    expect(await run([...base, stop, cancel(t + 3_000, stop)])).toEqual([]);
  });

  it('reports a size slip whose resting remainder the market takes in full, not a size taken in full on arrival', async () => {
    const t = T0 + 600_000;
    const base = [...background(T0, T0 + 900_000), ...history('F', T0 + 150_000, 4, () => 0.001, () => 100)];
    const fill = (ts: number, o: ExchangeEvent, size: number, asMaker: boolean) =>
      ev({
        type: 'trade', id: `f${n++}`, ts, market: M, tradeId: `ft${n}`, price: (o as { price: string }).price, size: String(size), aggressor: asMaker ? 'sell' : 'buy',
        ...(asMaker ? { makerOrderId: (o as { orderId: string }).orderId, makerAccountId: 'F', takerOrderId: `x${n}`, takerAccountId: 'T' } : { takerOrderId: (o as { orderId: string }).orderId, takerAccountId: 'F', makerOrderId: `x${n}`, makerAccountId: 'T' }),
      });
    // a bid 200× the account's usual size at the touch, lifted in full by other accounts' sells within a second
    const err = place(t, 'F', 'buy', 2, 20_000);
    const alerts = await run([...base, err, fill(t + 400, err, 12_000, true), fill(t + 900, err, 8_000, true)]);
    expect(alerts.map((a) => a.accounts)).toEqual([['F']]);
    expect(alerts[0].detectedAt).toBe(t + 900);
    expect(alerts[0].evidence.features.find((f) => f.name === 'filled_in_full_after_ms')!.value).toBe(900);
    expect(alerts[0].evidence.features.find((f) => f.name === 'size_multiple_of_threshold')!.value).toBeGreaterThan(3);
    expect(alerts[0].explanation).toContain('executed in full');
    // the same size bought through the book and filled in full on arrival: a deliberate take
    const take = place(t, 'F', 'buy', 2.01, 20_000);
    expect(await run([...base, take, fill(t, take, 20_000, false)])).toEqual([]);
    // only a little over the size threshold (below filledRatio × it): a large order, not a slip
    const big = place(t, 'F', 'buy', 2, 2_000);
    expect(await run([...base, big, fill(t + 400, big, 2_000, true)])).toEqual([]);
  });
});

async function e2e(seed: number, sim: SimConfigInput): Promise<TypologyMetrics> {
  return (await runDetectorE2e({ seed, typology: TYP, sim })).metrics;
}

describe('fat_finger on a simulator run', () => {
  // Size errors from accounts with little history are judged against the account's few orders
  // across the underlying's markets, or against its peers (each account's first orders); one that
  // executes in full leaves nothing to cancel and is still missed.
  it('keeps F1 >= 0.85 on seed 7 (measures 0.857)', async () => {
    const m = await e2e(7, { duration: '40m', trafficScale: 0.5, population: { retail: 1500, savers: 150, borrowers: 60, algos: 30, momentum: 20, signupsPerHour: 20 }, abuse: { intensity: 4, warmupMs: 600_000, guardMs: 30_000 } } as SimConfigInput);
    expect(m.labels).toBeGreaterThanOrEqual(3);
    expect(m.precision).toBe(1);
    expect(m.f1).toBeGreaterThanOrEqual(0.85);
  }, 180_000);
});
