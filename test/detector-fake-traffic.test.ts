import { describe, expect, it } from 'vitest';
import type { ExchangeEvent } from '../src/events/schema.js';
import { parseEvent, type ExchangeEventInput } from '../src/events/index.js';
import { finalAlerts, type Alert } from '../src/surveillance/alert.js';
import { SurveillanceEngine } from '../src/surveillance/engine.js';
import { AlertCollector } from '../src/surveillance/run.js';
import { BUILTIN_DETECTORS } from '../src/surveillance/detectors/index.js';
import { runDetectorE2e, SMALL_POPULATION } from './helpers/detector-e2e.js';

const MINE = ['fake_traffic'];
function onlyMine() {
  return { detectors: Object.fromEntries(BUILTIN_DETECTORS.filter((d) => !MINE.includes(d.name)).map((d) => [d.name, { enabled: false }])) };
}

async function run(events: ExchangeEvent[]): Promise<Alert[]> {
  const col = new AlertCollector();
  const engine = new SurveillanceEngine({ config: onlyMine(), sinks: [col] });
  for (const e of [...events].sort((a, b) => a.ts - b.ts)) engine.onEvent(e);
  await engine.finish();
  return finalAlerts(col.transitions);
}

let n = 0;
function ev(x: Record<string, unknown>): ExchangeEvent {
  const r = parseEvent({ id: `e${n++}`, ...x } as ExchangeEventInput);
  if (!r.ok) throw new Error(r.reason);
  return r.event;
}
const T0 = 1_723_161_600_000;
const opened = (a: string, ts: number) => ev({ type: 'account.opened', ts, accountId: a });
const login = (a: string, ts: number, deviceId: string, ip: string) => ev({ type: 'login', ts, accountId: a, sessionId: `s${n}`, deviceId, ip });
const bonus = (a: string, ts: number) => ev({ type: 'bonus.granted', ts, accountId: a, campaignId: 'welcome', asset: 'USDT', amount: '20' });
const withdraw = (a: string, ts: number, address: string) => ev({ type: 'withdrawal', ts, accountId: a, asset: 'USDT', chain: 'TRX', address, amount: '19.5' });
const trade = (ts: number, maker: string, taker: string) =>
  ev({ type: 'trade', ts, market: 'ALTUSDT', tradeId: `tr${n}`, price: '1.5', size: '100', aggressor: 'buy', makerAccountId: maker, takerAccountId: taker, makerOrderId: `m${n}`, takerOrderId: `k${n}` });

function farm(prefix: string, k: number, t0: number, devices: string[], ips: string[]): { ids: string[]; evs: ExchangeEvent[] } {
  const ids = Array.from({ length: k }, (_, i) => `${prefix}${i}`);
  const evs: ExchangeEvent[] = [];
  ids.forEach((a, i) => {
    evs.push(opened(a, t0 + i * 20_000));
    evs.push(login(a, t0 + i * 20_000 + 5_000, devices[i % devices.length], ips[i % ips.length]));
  });
  return { ids, evs };
}

describe('fake_traffic', () => {
  it('flags a bonus-farming sybil farm (shared devices, bonus then withdrawal)', async () => {
    const { ids, evs } = farm('sy', 8, T0, ['devA', 'devB'], ['10.0.0.5', '10.0.0.9', '10.0.0.77']);
    ids.forEach((a, i) => {
      evs.push(bonus(a, T0 + 200_000 + i * 1_000));
      evs.push(withdraw(a, T0 + 900_000 + i * 9_000, i % 2 ? 'Tcollector1' : 'Tcollector2'));
    });
    const alerts = await run(evs);
    expect(alerts).toHaveLength(1);
    expect(alerts[0].variant).toBe('bonus_farming');
    expect(alerts[0].accounts.length).toBe(8);
  });

  it('flags a churning farm trading among itself', async () => {
    const { ids, evs } = farm('ch', 6, T0, ['devC'], ['10.1.0.5', '10.1.0.6']);
    for (let i = 0; i < 6; i++) evs.push(trade(T0 + 300_000 + i * 5_000, ids[i % 6], ids[(i + 2) % 6]));
    const alerts = await run(evs);
    expect(alerts).toHaveLength(1);
    expect(alerts[0].variant).toBe('volume_churn');
  });

  it('stays quiet on a household/office sharing an IP and on unrelated new sign-ups taking bonuses', async () => {
    const evs: ExchangeEvent[] = [];
    // an office: established accounts (no account.opened seen) sharing one IP, trading and withdrawing
    for (let i = 0; i < 10; i++) {
      evs.push(login(`off${i}`, T0 + i * 1_000, `dev-off${i}`, '192.168.1.1'));
      evs.push(withdraw(`off${i}`, T0 + 50_000 + i * 1_000, `Toff${i}`));
    }
    for (let i = 0; i < 5; i++) evs.push(trade(T0 + 60_000 + i * 1_000, `off${i}`, `off${i + 1}`));
    // a household of three new accounts on one IP: too small to be a farm
    const h = farm('hh', 3, T0, ['dh1', 'dh2', 'dh3'], ['172.16.0.2']);
    evs.push(...h.evs);
    h.ids.forEach((a, i) => evs.push(bonus(a, T0 + 100_000 + i), withdraw(a, T0 + 400_000 + i, 'Tfamily')));
    // independent sign-ups (own device and IP) with bonuses and withdrawals
    for (let i = 0; i < 12; i++) {
      const a = `new${i}`;
      evs.push(opened(a, T0 + i * 7_000), login(a, T0 + i * 7_000 + 100, `dn${i}`, `10.9.${i}.1`), bonus(a, T0 + i * 7_000 + 200), withdraw(a, T0 + i * 7_000 + 90_000, `Tn${i}`));
    }
    expect(await run(evs)).toHaveLength(0);
  });
});

describe('fake traffic end to end on the simulator', () => {
  it('reaches F1 >= 0.9 on a short labelled run (seed 4)', async () => {
    const { metrics } = await runDetectorE2e({
      seed: 4,
      typology: 'fake_traffic',
      detectors: MINE,
      sim: { duration: '50m', trafficScale: 0.4, population: { ...SMALL_POPULATION, signupsPerHour: 30 }, abuse: { warmupMs: 120_000, typologies: { fake_traffic: { intensity: 2 } } } } as never,
    });
    expect(metrics.labels).toBeGreaterThan(0);
    expect(metrics.f1).toBeGreaterThanOrEqual(0.9);
  }, 120_000);
});
