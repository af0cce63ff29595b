import { describe, expect, it } from 'vitest';
import type { ExchangeEvent } from '../src/events/schema.js';
import type { Alert } from '../src/surveillance/alert.js';
import { finalAlerts } from '../src/surveillance/alert.js';
import { SurveillanceEngine } from '../src/surveillance/engine.js';
import { AlertCollector } from '../src/surveillance/run.js';
import { ev } from './helpers/detector-e2e.js';
import { BUILTIN_DETECTORS } from '../src/surveillance/detectors/index.js';
import { F_INIT, p2Add, p2Value } from '../src/surveillance/detectors/spoofing.js';
import { P2Quantile } from '../src/stream/rolling-quantile.js';


const MINE = ['spoofing', 'layering'];
async function run(events: ExchangeEvent[]): Promise<Alert[]> {
  const off = Object.fromEntries(BUILTIN_DETECTORS.filter((d) => !MINE.includes(d.name)).map((d) => [d.name, { enabled: false }]));
  const col = new AlertCollector();
  const engine = new SurveillanceEngine({ config: { detectors: { ...off, spoofing: { enabled: true, warmupMs: 10_000 }, layering: { enabled: true, warmupMs: 10_000 } } }, sinks: [col] });
  for (const e of events.sort((a, b) => a.ts - b.ts)) engine.onEvent(e);
  await engine.finish();
  return finalAlerts(col.transitions).filter((a) => MINE.includes(a.typology));
}

const T0 = 1_723_161_600_000;
const M = 'ETHUSDT';
let n = 0;
function place(ts: number, acct: string, side: 'buy' | 'sell', px: number, size: string, tif: 'GTC' | 'IOC' = 'GTC'): [ExchangeEvent, string] {
  const id = `o${n++}`;
  return [ev({ type: 'order.placed', id: `e${n++}`, ts, market: M, accountId: acct, orderId: id, side, orderType: 'limit', timeInForce: tif, price: px.toFixed(2), size }), id];
}
function cancel(ts: number, acct: string, orderId: string): ExchangeEvent {
  return ev({ type: 'order.cancelled', id: `e${n++}`, ts, market: M, accountId: acct, orderId, reason: 'user' });
}

/** A book of 1-lot levels from 5 accounts, 2000.00 ± 0.5 .. 2.5. */
function book(ts: number): ExchangeEvent[] {
  const out: ExchangeEvent[] = [];
  for (let i = 0; i < 5; i++) {
    out.push(place(ts, `mk${i}`, 'buy', 1999.5 - i * 0.5, '1')[0]);
    out.push(place(ts, `mk${i}`, 'sell', 2000.5 + i * 0.5, '1')[0]);
  }
  return out;
}

/** `who` shows a large bid 2 levels down (or a stack of `layers` bids), then quotes the ask at the touch, then cancels all. */
function cycle(who: string, t: number, layers = 1): ExchangeEvent[] {
  const out: ExchangeEvent[] = [];
  const ids: string[] = [];
  for (let i = 0; i < layers; i++) {
    const [p, id] = place(t + i * 50, who, 'buy', 1998.5 - i * 0.5, layers > 1 ? '2' : '10');
    out.push(p);
    ids.push(id);
  }
  const [g, gid] = place(t + 800, who, 'sell', 2000.5, '1');
  out.push(g);
  for (const id of ids) out.push(cancel(t + 2_000, who, id));
  out.push(cancel(t + 2_000, who, gid));
  return out;
}

/**
 * One layering cycle at t: 5 bids of `size` from `top` down in 0.5 steps, an ask of `askSize` at the
 * touch taken by `fills` trades of 0.1, then everything cancelled at t + 2 s.
 */
function stackCycle(who: string, t: number, top: number, size: string, askSize: string, fills = 0): ExchangeEvent[] {
  const out: ExchangeEvent[] = [];
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const [p, id] = place(t + i * 50, who, 'buy', top - i * 0.5, size);
    out.push(p);
    ids.push(id);
  }
  const [g, gid] = place(t + 800, who, 'sell', 2000.5, askSize);
  out.push(g);
  for (let k = 0; k < fills; k++) {
    out.push(ev({ type: 'trade', id: `e${n++}`, ts: t + 900 + k * 20, market: M, tradeId: `tr${n++}`, price: '2000.50', size: '0.1', aggressor: 'buy', makerOrderId: gid, makerAccountId: who, takerAccountId: 'tk' }));
  }
  for (const id of [...ids, gid]) out.push(cancel(t + 2_000, who, id));
  return out;
}

describe('spoofing and layering detectors', () => {
  it('alerts spoofing on repeated large bids behind the touch cancelled after offering on the other side', async () => {
    const ev1 = [...book(T0), ...cycle('spf', T0 + 20_000), ...cycle('spf', T0 + 40_000), ...cycle('spf', T0 + 60_000)];
    const alerts = await run(ev1);
    expect(alerts.map((a) => [a.typology, a.accounts.join(',')])).toEqual([['spoofing', 'spf']]);
  });

  it('alerts layering on a stack of bids over several levels', async () => {
    const alerts = await run([...book(T0), ...cycle('lyr', T0 + 20_000, 5), ...cycle('lyr', T0 + 40_000, 5)]);
    expect(alerts.map((a) => [a.typology, a.accounts.join(',')])).toEqual([['layering', 'lyr']]);
  });

  it('pairs a stack whose opposite-side order is taken in more pieces than its interest ring has slots', async () => {
    // One cycle: 5 bids stacked, an ask at the touch taken in 24 fills, then everything cancelled.
    // Each fill is interest on the ask side; they form one burst, so what preceded the stack stays
    // visible and the interest is shown to be new (a ring of single acts lost it after 16 fills).
    const out = [...book(T0), ...stackCycle('lyr', T0 + 20_000, 1998.5, '2', '5', 24)];
    const alerts = await run(out);
    expect(alerts.map((a) => [a.typology, a.accounts.join(',')])).toEqual([['layering', 'lyr']]);
    expect(alerts[0].evidence.features.find((f) => f.name === 'opposite_side_interest')?.value).toBe(1);
  });

  it('measures each layer against the other participants’ levels, not against its own earlier layers', async () => {
    // Layers of 1 lot joining the 1-lot bid levels: counted with the account's own, the third layer's
    // reference would be (2+2+1+1+1)/5 = 1.4 lots and 1 lot < 0.8 × 1.4 would not be a layer.
    const out = [...book(T0), ...stackCycle('lyr', T0 + 20_000, 1999.5, '1', '1')];
    const alerts = await run(out);
    expect(alerts.map((a) => [a.typology, a.accounts.join(',')])).toEqual([['layering', 'lyr']]);
    expect(alerts[0].evidence.features.find((f) => f.name === 'layers')?.value).toBe(5);
  });

  it('stays silent for a market maker requoting its usual size on both sides, and for a large bid left resting', async () => {
    const out = [...book(T0)];
    for (let t = T0 + 1_000, i = 0; t < T0 + 90_000; t += 500, i++) {
      const [b, bid] = place(t, 'mm', 'buy', 1999.5, '3');
      const [a, aid] = place(t, 'mm', 'sell', 2000.5, '3');
      out.push(b, a, cancel(t + 400, 'mm', bid), cancel(t + 400, 'mm', aid));
    }
    const [big] = place(T0 + 30_000, 'whale', 'buy', 1998.5, '10');
    out.push(big, place(T0 + 31_000, 'whale', 'sell', 2000.5, '1')[0]);
    expect(await run(out)).toEqual([]);
  });

  it('gives each typology the same alerts whether the two share their state or run alone', async () => {
    const events = [...book(T0), ...cycle('spf', T0 + 20_000), ...cycle('spf', T0 + 40_000), ...cycle('spf', T0 + 60_000), ...cycle('lyr', T0 + 25_000, 5), ...cycle('lyr', T0 + 45_000, 5)];
    const runWith = async (detectors: Record<string, Record<string, unknown>>): Promise<string[]> => {
      const off = Object.fromEntries(BUILTIN_DETECTORS.map((d) => [d.name, { enabled: false }]));
      const col = new AlertCollector();
      const engine = new SurveillanceEngine({ config: { detectors: { ...off, ...detectors } }, sinks: [col] });
      for (const e of [...events].sort((a, b) => a.ts - b.ts)) engine.onEvent(e);
      await engine.finish();
      return finalAlerts(col.transitions).map((a) => JSON.stringify(a));
    };
    const spoof = { enabled: true, warmupMs: 10_000 };
    const layer = { enabled: true, warmupMs: 10_000 };
    const both = await runWith({ spoofing: spoof, layering: layer });
    const alone = [...(await runWith({ spoofing: spoof })), ...(await runWith({ layering: layer }))];
    expect(both.map((a) => JSON.parse(a).typology).sort()).toEqual(['layering', 'spoofing']);
    expect([...both].sort()).toEqual([...alone].sort());
    // different state parameters: separate states, each typology still sees every event once
    const split = await runWith({ spoofing: spoof, layering: { ...layer, warmupMs: 9_000 } });
    expect(split.map((a) => JSON.parse(a).typology).sort()).toEqual(['layering', 'spoofing']);
  });

  it('keeps the account median with exactly P2Quantile’s arithmetic (on its own numbers)', () => {
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let run = 0; run < 50; run++) {
      const ref = new P2Quantile(0.5);
      const b = F_INIT.slice();
      let n = 0;
      for (let i = 0; i < 300; i++) {
        const r = rnd();
        // sizes with ties, a zero of each sign and non-finite values (skipped by both)
        const x = r < 0.02 ? NaN : r < 0.04 ? -0 : r < 0.06 ? 0 : r < 0.3 ? 5 : Math.round(rnd() * 100) / (run % 3 === 0 ? 1 : 7);
        ref.add(0, x);
        n = p2Add(b, n, x);
        expect(n).toBe(ref.count);
        expect(Object.is(p2Value(b, n), ref.value())).toBe(true);
      }
    }
  });
});
