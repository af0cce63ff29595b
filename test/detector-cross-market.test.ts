import { describe, expect, it } from 'vitest';
import type { ExchangeEvent } from '../src/events/schema.js';
import type { TypologyMetrics } from '../src/surveillance/eval.js';
import type { SimConfigInput } from '../src/sim/config.js';
import { ev, runDetectorE2e, runOneDetector } from './helpers/detector-e2e.js';

const NAME = 'cross_market';
const TYP = 'cross_market_manipulation';


const run = (events: ExchangeEvent[], params: Record<string, unknown> = {}) => runOneDetector(NAME, TYP, events, params);

const T0 = 1_723_161_600_000;
let n = 0;
const SPOT = 'BTCUSDT';
const PERP = 'BTCUSDT-PERP';
const bbo = (ts: number, market: string, mid: number) =>
  ev({ type: 'bbo', id: `b${n++}`, ts, market, bidPrice: (mid - 0.5).toFixed(1), bidSize: '3', askPrice: (mid + 0.5).toFixed(1), askSize: '3' });
const trade = (ts: number, market: string, taker: string, side: 'buy' | 'sell', px: number, size: string) =>
  ev({ type: 'trade', id: `t${n++}`, ts, market, tradeId: `tr${n}`, price: px.toFixed(1), size, aggressor: side, takerAccountId: taker, makerAccountId: 'mm', takerOrderId: `o${n}`, makerOrderId: `m${n}` });
const snapshot = (ts: number, acct: string, size: string) =>
  ev({ type: 'position.snapshot', id: `p${n++}`, ts, market: PERP, accountId: acct, size, entryPrice: '60000' });

/** Both markets quiet around 60 000 with small retail trades. */
function background(from: number, to: number): ExchangeEvent[] {
  const out: ExchangeEvent[] = [];
  for (let t = from, i = 0; t < to; t += 2_000, i++) {
    const px = 60_000 + 2 * Math.sin(i / 5);
    out.push(bbo(t, SPOT, px), bbo(t, PERP, px + 5));
    out.push(trade(t + 1, SPOT, `r${i % 23}`, i % 2 ? 'buy' : 'sell', px, '0.02'));
    out.push(trade(t + 2, PERP, `r${i % 19}`, i % 2 ? 'sell' : 'buy', px + 5, '0.03'));
  }
  return out;
}

/** `who` buys (dir 1) or sells (dir -1) spot aggressively: `orders` orders of `size`, moving the price `move` (0.3%). */
function push(who: string, start: number, dir: 1 | -1, orders = 7, size = '1.5', move = 0.003): ExchangeEvent[] {
  const out: ExchangeEvent[] = [];
  for (let i = 0; i < orders; i++) {
    const t = start + i * 8_000;
    const px = 60_000 * (1 + (dir * move * (i + 1)) / orders);
    out.push(trade(t, SPOT, who, dir > 0 ? 'buy' : 'sell', px, size));
    out.push(bbo(t + 3, SPOT, px));
  }
  return out;
}

describe('cross_market detector', () => {
  it('flags a spot/perp basis blow-out on market data alone (variant basis_blowout)', async () => {
    const quiet = background(T0, T0 + 1_200_000);
    expect((await run(quiet)).filter((a) => a.variant === 'basis_blowout')).toEqual([]);
    // the perp gaps 1% over spot for 20 s: ~100 bps against a steady ~1 bps basis
    const gap: ExchangeEvent[] = [];
    for (let t = T0 + 1_200_000; t < T0 + 1_220_000; t += 2_000) gap.push(bbo(t, SPOT, 60_000), bbo(t + 1, PERP, 60_600));
    const alerts = (await run([...quiet, ...gap])).filter((a) => a.variant === 'basis_blowout');
    expect(alerts.length).toBe(1);
    expect(alerts[0].accounts).toEqual([]);
    expect(alerts[0].markets).toEqual([SPOT, PERP]);
    const dev = alerts[0].evidence.features.find((f) => f.name === 'basis_deviation_bps')!;
    expect(dev.value).toBeGreaterThan(90);
    expect(dev.value).toBeLessThan(110);
  });

  it('alerts when an account pushes spot in the direction of its perp position', async () => {
    const start = T0 + 600_000;
    // snapshots show the position growing from 0.5 to 4 in the minute before the push
    const alerts = await run([...background(T0, T0 + 1_200_000), snapshot(start - 300_000, 'A', '0.5'), snapshot(start - 60_000, 'A', '4'), ...push('A', start, 1)]);
    expect(alerts.length).toBe(1);
    expect(alerts[0].accounts).toEqual(['A']);
    expect(alerts[0].markets).toEqual([SPOT, PERP]);
    expect(alerts[0].startTime).toBe(start);
    expect(alerts[0].explanation).toMatch(/long BTCUSDT-PERP position of 4 \(88% of it built in the 10 min before, last at /);
    const built = alerts[0].evidence.features.find((f) => f.name === 'perp_position_built_recently');
    expect(built).toMatchObject({ value: 0.875, threshold: 0.5, passed: true });
  });

  it('needs most of the position built in the last openedWithinMs, not a long-held one', async () => {
    const start = T0 + 1_500_000;
    const held = [snapshot(T0 + 10_000, 'L', '4'), snapshot(start - 60_000, 'L', '4')]; // long since the start, unchanged
    const opens = [0, 1, 2].map((i) => trade(start - 900_000 + i * 10_000, PERP, 'O', 'buy', 60_000, '1.5')); // opened 15 min before
    const during = [snapshot(T0 + 10_000, 'D', '4'), trade(start + 404_000, PERP, 'D', 'buy', 60_000, '1')]; // long-held 4, adds 1 during the push
    const events = [...background(T0, T0 + 2_400_000), ...held, ...opens, ...during, ...push('L', start, 1), ...push('O', start + 200_000, 1), ...push('D', start + 400_000, 1)];
    expect(await run(events)).toEqual([]);
    // with the test off, all three alert
    expect((await run(events, { openedWithinMs: 0 })).map((a) => a.accounts[0]).sort()).toEqual(['D', 'L', 'O']);
  });

  it('uses perp fills when there is no position snapshot (short perp, spot sell-off)', async () => {
    const start = T0 + 600_000;
    const opens = [0, 1, 2].map((i) => trade(start - 90_000 + i * 10_000, PERP, 'S', 'sell', 60_000, '1.5'));
    const alerts = await run([...background(T0, T0 + 1_200_000), ...opens, ...push('S', start, -1)]);
    expect(alerts.map((a) => a.accounts)).toEqual([['S']]);
  });

  it('stays silent for look-alikes: hedger (opposite perp), no perp position, small momentum trades', async () => {
    const events = [
      ...background(T0, T0 + 3_000_000),
      snapshot(T0 + 500_000, 'H', '-4'),
      ...push('H', T0 + 600_000, 1), // cash-and-carry: long spot, short perp
      ...push('N', T0 + 1_200_000, 1), // spot buyer without a perp position
      snapshot(T0 + 1_700_000, 'M', '0.5'),
      ...push('M', T0 + 1_800_000, 1, 7, '0.02'), // a long perp holder trading spot at the usual size
    ];
    expect(await run(events)).toEqual([]);
  });

  it('needs orders of at least 4 × the market’s average trade (routine flow beside a perp position trades at the usual size)', async () => {
    const start = T0 + 600_000;
    // 0.07 per order against background trades of 0.02: ~3.4× the average trade
    const events = [...background(T0, T0 + 1_200_000), snapshot(start - 300_000, 'A', '0.5'), snapshot(start - 60_000, 'A', '4'), ...push('A', start, 1, 7, '0.07')];
    expect(await run(events)).toEqual([]);
    expect((await run(events, { minOrderVsTrade: 3 })).map((a) => a.accounts)).toEqual([['A']]);
    // 0.1 per order: ~4.8×
    const big = [...background(T0, T0 + 1_200_000), snapshot(start - 300_000, 'A', '0.5'), snapshot(start - 60_000, 'A', '4'), ...push('A', start, 1, 7, '0.1')];
    const alerts = await run(big);
    expect(alerts.map((a) => a.accounts)).toEqual([['A']]);
    expect(alerts[0].evidence.features.find((f) => f.name === 'avg_order_vs_market_trade')).toMatchObject({ threshold: 4, passed: true });
  });

  it('counts a push whose furthest fill is only 0.8 bp beyond the start (a deep book refilled between its slices)', async () => {
    const start = T0 + 600_000;
    const events = [...background(T0, T0 + 1_200_000), snapshot(start - 300_000, 'A', '0.5'), snapshot(start - 60_000, 'A', '4'), ...push('A', start, 1, 7, '1.5', 0.00008)];
    const alerts = await run(events);
    expect(alerts.map((a) => a.accounts)).toEqual([['A']]);
    const mv = alerts[0].evidence.features.find((f) => f.name === 'spot_move_pct')!;
    expect(mv.value).toBeLessThan(0.01);
    expect(mv.threshold).toBe(0.005);
    expect(await run(events, { minMovePct: 0.01 })).toEqual([]);
  });
});

async function e2e(seed: number, sim: SimConfigInput): Promise<TypologyMetrics> {
  return (await runDetectorE2e({ seed, typology: TYP, sim })).metrics;
}

describe('cross_market on a simulator run', () => {
  it('reaches F1 >= 0.9 (seed 5)', async () => {
    const m = await e2e(5, { duration: '40m', trafficScale: 0.5, population: { retail: 1500, savers: 150, borrowers: 60, algos: 30, momentum: 20, signupsPerHour: 20 }, abuse: { intensity: 6, warmupMs: 180_000, guardMs: 30_000 } } as SimConfigInput);
    expect(m.labels).toBeGreaterThanOrEqual(3);
    expect(m.f1).toBeGreaterThanOrEqual(0.9);
  }, 180_000);
});
