import { describe, expect, it } from 'vitest';
import type { ExchangeEvent } from '../src/events/schema.js';
import type { Alert } from '../src/surveillance/alert.js';
import { finalAlerts } from '../src/surveillance/alert.js';
import { SurveillanceEngine } from '../src/surveillance/engine.js';
import { AlertCollector } from '../src/surveillance/run.js';
import { ev } from './helpers/detector-e2e.js';
import { BUILTIN_DETECTORS } from '../src/surveillance/detectors/index.js';


async function run(events: ExchangeEvent[], opts: { groups?: string[][]; ramping?: Record<string, unknown> } = {}): Promise<Alert[]> {
  const off = Object.fromEntries(BUILTIN_DETECTORS.filter((d) => d.name !== 'ramping').map((d) => [d.name, { enabled: false }]));
  const col = new AlertCollector();
  const engine = new SurveillanceEngine({ config: { detectors: { ...off, ramping: { enabled: true, ...opts.ramping } }, links: { groups: opts.groups ?? [] } }, sinks: [col] });
  for (const e of events.sort((a, b) => a.ts - b.ts)) engine.onEvent(e);
  await engine.finish();
  return finalAlerts(col.transitions).filter((a) => a.typology === 'ramping');
}

const T0 = 1_723_161_600_000;
const M = 'VELAUSDT';
let n = 0;
function bbo(ts: number, mid: number, touch = 100): ExchangeEvent {
  return ev({ type: 'bbo', id: `e${n++}`, ts, market: M, bidPrice: (mid - 0.005).toFixed(3), bidSize: String(touch), askPrice: (mid + 0.005).toFixed(3), askSize: String(touch) });
}
function trade(ts: number, taker: string, side: 'buy' | 'sell', px: number, size: number, takerOrder: string, maker = 'mm'): ExchangeEvent {
  return ev({ type: 'trade', id: `e${n++}`, ts, market: M, tradeId: `t${n}`, price: px.toFixed(3), size: String(size), aggressor: side, takerAccountId: taker, makerAccountId: maker, takerOrderId: takerOrder, makerOrderId: `m${n}` });
}

/** Background: retail trades of `size` both ways around 10.000, quotes of `touch` per side. */
function background(from: number, to: number, size = 2, touch = 100): ExchangeEvent[] {
  const out: ExchangeEvent[] = [];
  for (let t = from, i = 0; t < to; t += 4_000, i++) {
    out.push(bbo(t, 10, touch));
    out.push(trade(t + 1, `r${i % 11}`, i % 2 ? 'buy' : 'sell', 10, size, `ro${i}`));
  }
  return out;
}

/**
 * `who` buys aggressively in `k` orders, each sweeping two levels, lifting the mid 2 ticks per order;
 * with `refill` the makers restore the book at 10.000 right after each order (the price does not move).
 */
function ignition(who: string, start: number, k: number, sweep = true, refill = false): { events: ExchangeEvent[]; top: number } {
  const out: ExchangeEvent[] = [];
  let mid = 10;
  for (let i = 0; i < k; i++) {
    const t = start + i * 2_000;
    out.push(trade(t, who, 'buy', mid + 0.005, 20, `ig${who}${i}`));
    if (sweep) out.push(trade(t, who, 'buy', mid + 0.015, 20, `ig${who}${i}`));
    if (!refill) mid += 0.02;
    out.push(bbo(t + 1, mid));
  }
  return { events: out, top: mid };
}

/** Makers' passive fills of `who` selling `k` × 40 to other takers (a reversal into the followers). */
function reversal(who: string, start: number, k: number, px: number): ExchangeEvent[] {
  const out: ExchangeEvent[] = [];
  for (let i = 0; i < k; i++) out.push(trade(start + i * 3_000, `f${i}`, 'buy', px, 40, `fo${who}${i}`, who));
  return out;
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

  it('leaves a push carried with linked accounts to pump_and_dump (unless groupPushes), but not one with unlinked buyers', async () => {
    // rampr ignites and reverses as in the first test, while mate buys aggressively during the run.
    const ig = ignition('rampr', T0 + 60_000, 6);
    const mate: ExchangeEvent[] = [];
    for (let i = 0; i < 4; i++) mate.push(trade(T0 + 61_000 + i * 2_000, 'mate', 'buy', 10.05, 5, `mt${i}`));
    const rev: ExchangeEvent[] = [];
    for (let i = 0; i < 6; i++) rev.push(trade(T0 + 90_000 + i * 3_000, `f${i}`, 'buy', ig.top, 40, `fo${i}`, 'rampr'));
    const events = () => [...background(T0, T0 + 200_000), ...ig.events, ...mate, ...rev];
    expect(await run(events(), { groups: [['rampr', 'mate']] })).toEqual([]);
    expect((await run(events(), { groups: [['rampr', 'mate']], ramping: { groupPushes: true } })).map((a) => a.accounts)).toEqual([['rampr']]);
    expect((await run(events())).map((a) => a.accounts)).toEqual([['rampr']]);
  });

  it('stays silent for a one-way buyer (no reversal) and for a two-way trader without sweeps', async () => {
    const buyer = ignition('whale', T0 + 60_000, 6).events;
    const hft = ignition('hft', T0 + 150_000, 6, false).events;
    const back: ExchangeEvent[] = [];
    for (let i = 0; i < 6; i++) back.push(trade(T0 + 170_000 + i * 1_000, 'hft', 'sell', 10.1, 20, `hs${i}`));
    const alerts = await run([...background(T0, T0 + 300_000), ...buyer, ...hft, ...back]);
    expect(alerts).toEqual([]);
  });

  it('reports a sweeping run that did not move the price, then reversed, as an attempt scoring below 50', async () => {
    const ig = ignition('tryer', T0 + 60_000, 6, true, true);
    const alerts = await run([...background(T0, T0 + 200_000), ...ig.events, ...reversal('tryer', T0 + 90_000, 6, 10)]);
    expect(alerts.map((a) => [a.accounts, a.variant])).toEqual([[['tryer'], 'attempted']]);
    expect(alerts[0].score).toBeGreaterThanOrEqual(40);
    expect(alerts[0].score).toBeLessThan(50);
    expect(alerts[0].explanation).toContain('attempted ignition');
    const move = alerts[0].evidence.features.find((f) => f.name === 'price_move_bps');
    expect(move?.passed).toBe(false);
  });

  it('keeps attempts silent without a reversal, without sweeps, or when attempts are off', async () => {
    const oneWay = ignition('whale', T0 + 20_000, 6, true, true).events;
    const noSweep = ignition('hft', T0 + 120_000, 6, false, true).events;
    const alerts = await run([...background(T0, T0 + 300_000), ...oneWay, ...noSweep, ...reversal('hft', T0 + 140_000, 6, 10)]);
    expect(alerts).toEqual([]);
    const off = Object.fromEntries(BUILTIN_DETECTORS.filter((d) => d.name !== 'ramping').map((d) => [d.name, { enabled: false }]));
    const col = new AlertCollector();
    const engine = new SurveillanceEngine({ config: { detectors: { ...off, ramping: { enabled: true, attempts: false } } }, sinks: [col] });
    const evs = [...background(T0, T0 + 200_000), ...ignition('tryer', T0 + 60_000, 6, true, true).events, ...reversal('tryer', T0 + 90_000, 6, 10)];
    for (const e of evs.sort((a, b) => a.ts - b.ts)) engine.onEvent(e);
    await engine.finish();
    expect(finalAlerts(col.transitions).filter((a) => a.typology === 'ramping')).toEqual([]);
  });

  it('counts a reversal that is itself a sweeping run moving the price the other way', async () => {
    const ig = ignition('rampr', T0 + 60_000, 6);
    const dump: ExchangeEvent[] = [];
    let mid = 10; // the background's quotes are back at 10.000
    for (let i = 0; i < 4; i++) {
      const t = T0 + 90_000 + i * 2_000;
      dump.push(trade(t, 'rampr', 'sell', mid - 0.005, 20, `d${i}`), trade(t, 'rampr', 'sell', mid - 0.015, 20, `d${i}`));
      mid -= 0.02;
      dump.push(bbo(t + 1, mid));
    }
    const alerts = await run([...background(T0, T0 + 200_000), ...ig.events, ...dump]);
    expect(alerts.map((a) => [a.accounts, a.variant])).toEqual([[['rampr'], 'ramp_up']]);
  });

  it('names the episode after the ignition that moved the price when an attempt came first', async () => {
    const first = ignition('rampr', T0 + 60_000, 6, true, true);
    const second = ignition('rampr', T0 + 120_000, 6);
    const alerts = await run([...background(T0, T0 + 300_000), ...first.events, ...reversal('rampr', T0 + 80_000, 4, 10), ...second.events, ...reversal('rampr', T0 + 140_000, 6, second.top)]);
    expect(alerts.map((a) => [a.accounts, a.variant])).toEqual([[['rampr'], 'ramp_up']]);
    expect(alerts[0].score).toBeGreaterThanOrEqual(50);
  });
  // 60 background trades (240 s) before the ignition: the market's mean trade and touch sizes are trusted.
  const LONG = 240_000;
  function rampWithRev(who: string, start: number, k: number, revRatio: number, refill = false): ExchangeEvent[] {
    const ig = ignition(who, start, k, true, refill);
    const vol = k * 40;
    const lots = Math.round((vol * revRatio) / 8);
    const rev: ExchangeEvent[] = [];
    for (let i = 0; i < 8; i++) rev.push(trade(start + 30_000 + i * 3_000, `f${i}`, 'buy', refill ? 10 : ig.top, lots, `fo${who}${i}`, who));
    return [...ig.events, ...rev];
  }

  it('alerts on an ignition that is large for its market, with the size features in the evidence', async () => {
    // 240 of volume against mean trades of 2 (120×) and touches of 100 (2.4×).
    const alerts = await run([...background(T0, T0 + LONG + 200_000), ...rampWithRev('rampr', T0 + LONG, 6, 1)]);
    expect(alerts.map((a) => a.accounts)).toEqual([['rampr']]);
    const f = alerts[0].evidence.features;
    expect(f.find((x) => x.name === 'volume_vs_mean_trade')?.value).toBeGreaterThan(100);
    expect(f.find((x) => x.name === 'volume_vs_mean_touch_size')?.passed).toBe(true);
    expect(alerts[0].explanation).toContain('its mean trade');
  });

  it('stays silent when the run is small for its market: few mean trades, or less than twice the usual touch', async () => {
    // Mean trade 30: the 240 of volume is 8 trades' worth (< 12).
    expect(await run([...background(T0, T0 + LONG + 200_000, 30), ...rampWithRev('rampr', T0 + LONG, 6, 1)])).toEqual([]);
    // Touch of 200 per side: 240 is 1.2 touches (< 2).
    expect(await run([...background(T0, T0 + LONG + 200_000, 2, 200), ...rampWithRev('rampr', T0 + LONG, 6, 1)])).toEqual([]);
  });

  it('still needs the full reversal ratio after a large ignition (0.4 × its volume is not enough)', async () => {
    expect(await run([...background(T0, T0 + LONG + 200_000), ...rampWithRev('rampr', T0 + LONG, 6, 0.4)])).toEqual([]);
    expect((await run([...background(T0, T0 + LONG + 200_000), ...rampWithRev('rampr', T0 + LONG, 6, 0.7)])).map((a) => a.variant)).toEqual(['ramp_up']);
  });
  it('takes one sweeping order once the run moved the mid (and stays silent with none)', async () => {
    const build = (who: string, sweeps: number): ExchangeEvent[] => {
      const out: ExchangeEvent[] = [];
      let mid = 10;
      for (let i = 0; i < 6; i++) {
        const t = T0 + LONG + i * 2_000;
        if (i < sweeps) out.push(trade(t, who, 'buy', mid + 0.005, 20, `ig${who}${i}`), trade(t, who, 'buy', mid + 0.015, 20, `ig${who}${i}`));
        else out.push(trade(t, who, 'buy', mid + 0.005, 40, `ig${who}${i}`));
        mid += 0.02;
        out.push(bbo(t + 1, mid));
      }
      for (let i = 0; i < 8; i++) out.push(trade(T0 + LONG + 30_000 + i * 3_000, `f${i}`, 'buy', mid, 30, `fo${who}${i}`, who));
      return out;
    };
    expect((await run([...background(T0, T0 + LONG + 200_000), ...build('one', 1)])).map((a) => [a.accounts, a.variant])).toEqual([[['one'], 'ramp_up']]);
    expect(await run([...background(T0, T0 + LONG + 200_000), ...build('none', 0)])).toEqual([]);
  });
});
