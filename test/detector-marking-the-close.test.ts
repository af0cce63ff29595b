import { describe, expect, it } from 'vitest';
import type { ExchangeEvent } from '../src/events/schema.js';
import type { TypologyMetrics } from '../src/surveillance/eval.js';
import type { SimConfigInput } from '../src/sim/config.js';
import { ev, runDetectorE2e, runOneDetector } from './helpers/detector-e2e.js';

const NAME = 'marking_the_close';
const TYP = 'marking_the_close';


const run = (events: ExchangeEvent[], params: Record<string, unknown> = {}) => runOneDetector(NAME, TYP, events, params);

// 07:30 UTC: the 08:00 funding time is 30 minutes away.
const T0 = Date.UTC(2024, 7, 9, 7, 30);
const FUNDING = Date.UTC(2024, 7, 9, 8, 0);
let n = 0;
const PERP = 'BTCUSDT-PERP';
const bbo = (ts: number, market: string, mid: number) =>
  ev({ type: 'bbo', id: `b${n++}`, ts, market, bidPrice: (mid - 0.5).toFixed(1), bidSize: '3', askPrice: (mid + 0.5).toFixed(1), askSize: '3' });
const trade = (ts: number, market: string, taker: string, side: 'buy' | 'sell', px: number, size: string) =>
  ev({ type: 'trade', id: `t${n++}`, ts, market, tradeId: `tr${n}`, price: px.toFixed(1), size, aggressor: side, takerAccountId: taker, makerAccountId: 'mm', takerOrderId: `o${n}`, makerOrderId: `m${n}` });
const mark = (ts: number, px: number) => ev({ type: 'mark_price', id: `k${n++}`, ts, market: PERP, markPrice: px.toFixed(1), indexPrice: px.toFixed(1), fundingRate: '0.0001', nextFundingTime: FUNDING });

/** A perp quiet around 60 000 with retail trades and mark prices every second… until `to`. */
function background(from: number, to: number, path: (t: number) => number = () => 60_000): ExchangeEvent[] {
  const out: ExchangeEvent[] = [];
  for (let t = from, i = 0; t < to; t += 1_000, i++) {
    const px = path(t) + 2 * Math.sin(i / 7);
    out.push(mark(t, px), bbo(t + 1, PERP, px));
    if (i % 3 === 0) out.push(trade(t + 2, PERP, `r${i % 29}`, i % 2 ? 'buy' : 'sell', px, '0.05'));
  }
  return out;
}

/** `who` buys `orders` times in the last `ms` before the funding time, walking the price up by `movePct`. */
function marking(who: string, ms: number, orders: number, size: string, movePct: number): { events: ExchangeEvent[]; path: (t: number) => number } {
  const start = FUNDING - ms;
  const path = (t: number) => (t < start ? 60_000 : t <= FUNDING ? 60_000 * (1 + (movePct / 100) * ((t - start) / ms)) : 60_000 * (1 + movePct / 200));
  const events: ExchangeEvent[] = [];
  for (let i = 0; i < orders; i++) {
    const t = start + Math.round((i * (ms - 1_000)) / orders) + 500;
    events.push(trade(t, PERP, who, 'buy', path(t), size));
  }
  return { events, path };
}

describe('marking_the_close detector', () => {
  it('alerts on aggressive one-directional buying that walks the perp into the funding time', async () => {
    const m = marking('A', 180_000, 25, '0.6', 0.25);
    const alerts = await run([...background(T0, FUNDING + 120_000, m.path), ...m.events]);
    expect(alerts.length).toBe(1);
    expect(alerts[0].accounts).toEqual(['A']);
    expect(alerts[0].variant).toBe('funding');
    expect(alerts[0].startTime).toBe(m.events[0].ts);
    expect(alerts[0].explanation).toMatch(/funding time/);
  });

  it('stays silent for a position holder trimming before funding (few orders, no impact)', async () => {
    const m = marking('B', 180_000, 3, '0.05', 0);
    expect(await run([...background(T0, FUNDING + 120_000, m.path), ...m.events])).toEqual([]);
  });

  it('stays silent for the same buying away from any close', async () => {
    // The same pattern ending 20 minutes before the funding time.
    const shift = 20 * 60_000;
    const m = marking('C', 180_000, 25, '0.6', 0.25);
    const events = m.events.map((e) => ({ ...e, ts: e.ts - shift }) as ExchangeEvent);
    const path = (t: number) => m.path(t + shift);
    expect(await run([...background(T0 - shift, FUNDING - shift + 600_000, path), ...events])).toEqual([]);
  });

  it('stays silent when the price does not move the trader’s way, unless the trader dominated the flow (an attempt, MAR Art. 15)', async () => {
    const few = marking('D', 180_000, 10, '0.6', -0.25);
    expect(await run([...background(T0, FUNDING + 120_000, few.path), ...few.events])).toEqual([]);
    const many = marking('E', 180_000, 25, '0.6', -0.25);
    const alerts = await run([...background(T0, FUNDING + 120_000, many.path), ...many.events]);
    expect(alerts.map((a) => a.accounts)).toEqual([['E']]);
  });
});

async function e2e(seed: number, sim: SimConfigInput, params: Record<string, unknown> = {}): Promise<TypologyMetrics> {
  return (await runDetectorE2e({ seed, typology: TYP, sim, params: { [NAME]: params } })).metrics;
}

describe('marking_the_close on a simulator run', () => {
  it('reaches F1 >= 0.9 (seed 6, around a funding time, 10-minute settlements)', async () => {
    const m = await e2e(6, {
      duration: '40m',
      startTime: Date.UTC(2024, 4, 17, 7, 35, 13, 517),
      settlementIntervalMinutes: 10,
      trafficScale: 0.5,
      population: { retail: 1500, savers: 150, borrowers: 60, algos: 30, momentum: 20, signupsPerHour: 20 },
      abuse: { intensity: 8, warmupMs: 180_000, guardMs: 30_000 },
    } as SimConfigInput,
    // the venue's settlement interval is configuration (the detector also learns it from settlement events)
    { settlementMinutes: 10 });
    expect(m.labels).toBeGreaterThanOrEqual(3);
    expect(m.f1).toBeGreaterThanOrEqual(0.9);
  }, 180_000);
});
