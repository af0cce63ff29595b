import { describe, expect, it } from 'vitest';
import type { ExchangeEvent } from '../src/events/schema.js';
import type { Alert } from '../src/surveillance/alert.js';
import { finalAlerts } from '../src/surveillance/alert.js';
import { SurveillanceEngine } from '../src/surveillance/engine.js';
import { AlertCollector } from '../src/surveillance/run.js';
import { ev } from './helpers/detector-e2e.js';
import { BUILTIN_DETECTORS } from '../src/surveillance/detectors/index.js';


async function run(events: ExchangeEvent[]): Promise<Alert[]> {
  const off = Object.fromEntries(BUILTIN_DETECTORS.filter((d) => d.name !== 'ramping').map((d) => [d.name, { enabled: false }]));
  const col = new AlertCollector();
  const engine = new SurveillanceEngine({ config: { detectors: { ...off, ramping: { enabled: true } } }, sinks: [col] });
  for (const e of events.sort((a, b) => a.ts - b.ts)) engine.onEvent(e);
  await engine.finish();
  return finalAlerts(col.transitions).filter((a) => a.typology === 'ramping');
}

const T0 = 1_723_161_600_000;
const M = 'VELAUSDT';
let n = 0;
function bbo(ts: number, mid: number): ExchangeEvent {
  return ev({ type: 'bbo', id: `e${n++}`, ts, market: M, bidPrice: (mid - 0.005).toFixed(3), bidSize: '100', askPrice: (mid + 0.005).toFixed(3), askSize: '100' });
}
function trade(ts: number, taker: string, side: 'buy' | 'sell', px: number, size: number, takerOrder: string, maker = 'mm'): ExchangeEvent {
  return ev({ type: 'trade', id: `e${n++}`, ts, market: M, tradeId: `t${n}`, price: px.toFixed(3), size: String(size), aggressor: side, takerAccountId: taker, makerAccountId: maker, takerOrderId: takerOrder, makerOrderId: `m${n}` });
}

/** Background: retail trades both ways around 10.000. */
function background(from: number, to: number): ExchangeEvent[] {
  const out: ExchangeEvent[] = [];
  for (let t = from, i = 0; t < to; t += 4_000, i++) {
    out.push(bbo(t, 10));
    out.push(trade(t + 1, `r${i % 11}`, i % 2 ? 'buy' : 'sell', 10, 2, `ro${i}`));
  }
  return out;
}

/** `who` buys aggressively in `k` orders, each sweeping two levels, lifting the mid 2 ticks per order. */
function ignition(who: string, start: number, k: number, sweep = true): { events: ExchangeEvent[]; top: number } {
  const out: ExchangeEvent[] = [];
  let mid = 10;
  for (let i = 0; i < k; i++) {
    const t = start + i * 2_000;
    out.push(trade(t, who, 'buy', mid + 0.005, 20, `ig${who}${i}`));
    if (sweep) out.push(trade(t, who, 'buy', mid + 0.015, 20, `ig${who}${i}`));
    mid += 0.02;
    out.push(bbo(t + 1, mid));
  }
  return { events: out, top: mid };
}

describe('ramping detector', () => {
  it('alerts on a sweeping aggressive run followed by selling into the move', async () => {
    const ig = ignition('rampr', T0 + 60_000, 6);
    const rev: ExchangeEvent[] = [];
    for (let i = 0; i < 6; i++) rev.push(trade(T0 + 90_000 + i * 3_000, `f${i}`, 'buy', ig.top, 40, `fo${i}`, 'rampr'));
    const alerts = await run([...background(T0, T0 + 200_000), ...ig.events, ...rev]);
    expect(alerts.map((a) => a.accounts)).toEqual([['rampr']]);
    expect(alerts[0].variant).toBe('ramp_up');
  });

  it('stays silent for a one-way buyer (no reversal) and for a two-way trader without sweeps', async () => {
    const buyer = ignition('whale', T0 + 60_000, 6).events;
    const hft = ignition('hft', T0 + 150_000, 6, false).events;
    const back: ExchangeEvent[] = [];
    for (let i = 0; i < 6; i++) back.push(trade(T0 + 170_000 + i * 1_000, 'hft', 'sell', 10.1, 20, `hs${i}`));
    const alerts = await run([...background(T0, T0 + 300_000), ...buyer, ...hft, ...back]);
    expect(alerts).toEqual([]);
  });
});
