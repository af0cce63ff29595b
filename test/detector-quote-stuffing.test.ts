import { describe, expect, it } from 'vitest';
import type { ExchangeEvent } from '../src/events/schema.js';
import type { Alert } from '../src/surveillance/alert.js';
import { finalAlerts } from '../src/surveillance/alert.js';
import { SurveillanceEngine } from '../src/surveillance/engine.js';
import { AlertCollector } from '../src/surveillance/run.js';
import { BUILTIN_DETECTORS } from '../src/surveillance/detectors/index.js';
import type { TypologyMetrics } from '../src/surveillance/eval.js';
import type { SimConfigInput } from '../src/sim/config.js';
import { ev, runDetectorE2e } from './helpers/detector-e2e.js';


const MINE = ['quote_stuffing'];
async function run(events: ExchangeEvent[], params: Record<string, unknown> = {}): Promise<Alert[]> {
  const off = Object.fromEntries(BUILTIN_DETECTORS.filter((d) => !MINE.includes(d.name)).map((d) => [d.name, { enabled: false }]));
  const col = new AlertCollector();
  const engine = new SurveillanceEngine({ config: { detectors: { ...off, quote_stuffing: { enabled: true, baselineWarmupMs: 60_000, ...params } } }, sinks: [col] });
  for (const e of events.sort((a, b) => a.ts - b.ts)) engine.onEvent(e);
  await engine.finish();
  return finalAlerts(col.transitions).filter((a) => a.typology === 'quote_stuffing');
}

const T0 = 1_723_161_600_000;
const M = 'QRXUSDT';
let n = 0;
function place(ts: number, acct: string, side: 'buy' | 'sell', px: number, size = '10'): [ExchangeEvent, string] {
  const id = `o${n++}`;
  return [ev({ type: 'order.placed', id: `e${n++}`, ts, market: M, accountId: acct, orderId: id, side, orderType: 'limit', timeInForce: 'GTC', price: px.toFixed(4), size }), id];
}
function cancel(ts: number, acct: string, orderId: string): ExchangeEvent {
  return ev({ type: 'order.cancelled', id: `e${n++}`, ts, market: M, accountId: acct, orderId, reason: 'user' });
}

/** A resting book, some retail quoting, and a market maker requoting steadily (20 messages/s, cancels after ~300 ms). */
function background(from: number, to: number, makerRate = 10): ExchangeEvent[] {
  const out: ExchangeEvent[] = [];
  for (let i = 0; i < 5; i++) {
    out.push(place(from, 'book', 'buy', 0.99 - i * 0.001, '1000')[0]);
    out.push(place(from, 'book', 'sell', 1.01 + i * 0.001, '1000')[0]);
  }
  const step = 1000 / makerRate;
  for (let t = from + 10, i = 0; t < to; t += step, i++) {
    const [p, id] = place(t, 'hft', i % 2 ? 'buy' : 'sell', i % 2 ? 0.995 : 1.005);
    out.push(p, cancel(t + 300, 'hft', id));
  }
  for (let t = from + 70, i = 0; t < to; t += 3_000, i++) {
    out.push(ev({ type: 'trade', id: `e${n++}`, ts: t, market: M, tradeId: `t${n}`, price: '1.0000', size: '5', aggressor: i % 2 ? 'buy' : 'sell', takerAccountId: `r${i % 13}`, makerAccountId: 'book' }));
  }
  for (let t = from + 50, i = 0; t < to; t += 2_000, i++) {
    const acct = `r${i % 13}`;
    const [p, id] = place(t, acct, i % 2 ? 'buy' : 'sell', i % 2 ? 0.993 : 1.007);
    out.push(p, cancel(t + 5_000, acct, id));
  }
  return out;
}

/** `rate` orders per second for `ms`, each cancelled after `life` ms. */
function flood(acct: string, start: number, ms: number, rate: number, life: number): ExchangeEvent[] {
  const out: ExchangeEvent[] = [];
  for (let t = start, i = 0; t < start + ms; t += 1000 / rate, i++) {
    const [p, id] = place(Math.round(t), acct, 'buy', 0.994 - (i % 3) * 0.0005);
    out.push(p, cancel(Math.round(t) + life, acct, id));
  }
  return out;
}

describe('quote_stuffing detector', () => {
  it('alerts on a burst of fleeting orders from a normally quiet account', async () => {
    const alerts = await run([...background(T0, T0 + 180_000), ...flood('stuffer', T0 + 120_000, 3_000, 400, 5)]);
    expect(alerts.map((a) => a.accounts)).toEqual([['stuffer']]);
    expect(alerts[0].variant).toBe('burst');
    expect(alerts[0].explanation).toMatch(/stuffer/);
  });

  // The flood is judged against the account's rate before the window (a flood must not raise its own bar).
  it('alerts on a sustained excessive order-to-trade rate', async () => {
    const alerts = await run([...background(T0, T0 + 300_000), ...flood('otr', T0 + 120_000, 120_000, 8, 400)]);
    expect(alerts.map((a) => a.accounts)).toEqual([['otr']]);
    expect(alerts[0].variant).toBe('excessive_otr');
  });

  // Default warm-up (5 min): a sustained flood 7 minutes into the market's observation is judged (with 15 it was not).
  it('alerts on excessive order-to-trade rate early in a capture, and not on the steady maker', async () => {
    const alerts = await run([...background(T0, T0 + 720_000), ...flood('early', T0 + 420_000, 120_000, 8, 400)], { baselineWarmupMs: undefined });
    expect(alerts.map((a) => a.accounts)).toEqual([['early']]);
    expect(alerts[0].variant).toBe('excessive_otr');
  });

  it('stays silent for a market maker with a high but steady rate, and for a slower burst of resting orders', async () => {
    // The maker runs at 40 messages/s all along; another account posts 80 orders/s that rest for seconds.
    const alerts = await run([...background(T0, T0 + 300_000, 40), ...flood('slow', T0 + 120_000, 3_000, 80, 4_000)]);
    expect(alerts).toEqual([]);
  });
});

/** A short simulator run with only this typology injected, fed through the engine. */
async function e2e(seed: number, sim: SimConfigInput): Promise<TypologyMetrics | undefined> {
  return (await runDetectorE2e({ seed, typology: 'quote_stuffing', detectors: MINE, sim })).metrics;
}

describe('quote_stuffing on a simulator run', () => {
  it('reaches F1 >= 0.9 (seed 7)', async () => {
    const m = await e2e(7, { duration: '40m', trafficScale: 0.5, abuse: { intensity: 4, warmupMs: 900_000, guardMs: 30_000 } } as SimConfigInput);
    expect(m?.labels ?? 0).toBeGreaterThanOrEqual(3);
    expect(m?.f1 ?? 0).toBeGreaterThanOrEqual(0.9);
  }, 120_000);
});
