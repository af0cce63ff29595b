import { describe, expect, it } from 'vitest';
import type { ExchangeEvent } from '../src/events/schema.js';
import { FeatureEngine, FeatureOperator, pointInTimeFeatures, type Decision, type FeatureInput } from '../src/scoring/features/engine.js';
import { FEATURES } from '../src/scoring/features/definitions.js';
import { TimeWindow } from '../src/scoring/features/window.js';
import { ScoringRng } from '../src/scoring/rng.js';
import { Simulation } from '../src/sim/simulator.js';

/** A seeded simulator run with a lending-heavy population (enough loans, withdrawals and liquidations). */
function simulate(seed: number): ExchangeEvent[] {
  const events: ExchangeEvent[] = [];
  new Simulation({ seed, duration: '20m', trafficScale: 0.3, population: { retail: 800, borrowers: 600, savers: 100 } }, (e) => void events.push(e)).run();
  return events;
}

const events = simulate(5);
const start = events[0].ts;
const end = events[events.length - 1].ts;
const accountsOf = (type: string) => [...new Set(events.filter((e) => e.type === type).map((e) => (e as { accountId?: string }).accountId).filter((a): a is string => !!a))];

/** Accounts with lending, flows and liquidations, plus a seeded sample of everyone else. */
function decisionAccounts(): string[] {
  const special = [...accountsOf('loan.borrow'), ...accountsOf('withdrawal'), ...accountsOf('liquidation'), ...accountsOf('position.snapshot').slice(0, 40)];
  const rng = new ScoringRng(3);
  const all = accountsOf('login');
  const sample = Array.from({ length: 40 }, () => all[Math.floor(rng.float() * all.length)]);
  return [...new Set([...special, ...sample])];
}

/** Every minute of event time, at half-milliseconds so no decision ties with an (integer-ms) event. */
function decisions(accounts: string[]): Decision[] {
  const out: Decision[] = [];
  for (let t = start + 60_000.5; t < end; t += 60_000) for (const a of accounts) out.push({ accountId: a, time: t });
  return out;
}

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const rng = new ScoringRng(seed);
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.float() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

const same = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).every((v, i) => Object.is(v, b[i]));

describe('point-in-time account features', () => {
  it('the simulator run has the activity the features are about', () => {
    const count = (t: string) => events.filter((e) => e.type === t).length;
    expect(count('loan.borrow')).toBeGreaterThan(5);
    expect(count('withdrawal')).toBeGreaterThan(5);
    expect(count('position.snapshot')).toBeGreaterThan(100);
    expect(count('login')).toBeGreaterThan(100);
  });

  it('online (operator, read at any time) and batch (point-in-time join) give identical values at every decision', () => {
    const accounts = decisionAccounts();
    const ds = decisions(accounts);
    expect(ds.length).toBeGreaterThan(1000);
    // Online: the operator sees the stream in order; a decision is read when the stream passes its time.
    // It is also read at random extra moments, which must not disturb anything.
    const op = new FeatureOperator();
    const online: Float64Array[] = [];
    const rng = new ScoringRng(9);
    let d = 0;
    for (const e of events) {
      for (; d < ds.length && ds[d].time < e.ts; d++) online.push(op.features(ds[d].accountId, ds[d].time));
      op.onEvent(e);
      if (rng.float() < 0.01) op.features(accounts[Math.floor(rng.float() * accounts.length)]);
    }
    for (; d < ds.length; d++) online.push(op.features(ds[d].accountId, ds[d].time));
    // Batch: the history in shuffled order, the decisions in shuffled order.
    const order = shuffled(ds.map((_, i) => i), 4);
    const batch = pointInTimeFeatures(shuffled(events, 2), order.map((i) => ds[i]));
    let nonTrivial = 0;
    order.forEach((i, k) => {
      expect(batch[k].accountId).toBe(ds[i].accountId);
      if (!same(batch[k].values, online[i])) throw new Error(`decision ${i} (${ds[i].accountId} at ${ds[i].time}) differs:\n${FEATURES.map((f, j) => `${f.name} ${online[i][j]} ${batch[k].values[j]}`).join('\n')}`);
      if (online[i].some((v, j) => FEATURES[j].group !== 'account' && v !== 0 && !Number.isNaN(v))) nonTrivial++;
    });
    expect(nonTrivial).toBeGreaterThan(ds.length / 4);
  });

  it('nothing after the decision time leaks in: later events, however extreme, change no value', () => {
    const accounts = decisionAccounts().slice(0, 60);
    const T = Math.floor(start + (end - start) / 2) + 0.5;
    const before = events.filter((e) => e.ts <= T);
    const poison: FeatureInput[] = accounts.flatMap((a, i): FeatureInput[] => [
      { type: 'withdrawal', id: `p-w-${i}`, ts: Math.ceil(T), accountId: a, asset: 'USDT', chain: 'TRON', address: 'x', amount: '1000000', status: 'completed' },
      { type: 'liquidation', id: `p-l-${i}`, ts: Math.ceil(T) + 1, market: 'BTCUSDT-PERP', accountId: a, side: 'sell', price: '1', size: '1000' },
      { type: 'surveillance.alert', id: `p-a-${i}`, ts: Math.ceil(T) + 2, accounts: [a], severity: 'critical' },
    ]);
    const at = accounts.map((a) => ({ accountId: a, time: T }));
    const clean = pointInTimeFeatures(before, at);
    const poisoned = pointInTimeFeatures([...events, ...poison], at);
    clean.forEach((r, i) => expect(FEATURES.filter((_, j) => !Object.is(r.values[j], poisoned[i].values[j])).map((f) => f.name)).toEqual([]));
    // …while just after T the poison shows.
    const later = pointInTimeFeatures([...events.filter((e) => e.ts <= T + 5), ...poison], accounts.map((a) => ({ accountId: a, time: Math.ceil(T) + 5 })));
    const liq = FEATURES.findIndex((f) => f.name === 'liquidations_30d');
    later.forEach((r, i) => expect(r.values[liq]).toBe(clean[i].values[liq] + 1));
  });

  it('window features match a brute-force recount of the raw events', () => {
    const accounts = decisionAccounts();
    const ds = decisions(accounts).filter((_, i) => i % 11 === 0);
    const rows = pointInTimeFeatures(events, ds);
    const idx = (n: string) => FEATURES.findIndex((f) => f.name === n);
    const byAccount = new Map<string, ExchangeEvent[]>();
    for (const a of accounts) byAccount.set(a, []);
    for (const e of events) for (const a of FeatureEngine.touched(e)) byAccount.get(a)?.push(e);
    for (const r of rows) {
      const mine = (byAccount.get(r.accountId) ?? []).filter((e) => e.ts <= r.time && e.ts > r.time - 86_400_000);
      const orders = mine.filter((e) => e.type === 'order.placed' && e.accountId === r.accountId).length;
      const trades = mine.filter((e) => e.type === 'trade' && (e.makerAccountId === r.accountId || e.takerAccountId === r.accountId)).length;
      const logins = mine.filter((e) => e.type === 'login' && e.accountId === r.accountId && e.success).length;
      expect([r.values[idx('orders_24h')], r.values[idx('trades_24h')], r.values[idx('logins_7d')]]).toEqual([orders, trades, logins]);
    }
  });

  it('refuses to read features as of a time before inputs it already applied', () => {
    const eng = new FeatureEngine();
    eng.apply(events[0]);
    eng.apply(events[events.length - 1]);
    expect(() => eng.read('x', events[0].ts)).toThrow(/cannot be rewound/);
  });
});

describe('TimeWindow', () => {
  it('count, sum and max match brute force, whatever the read pattern', () => {
    const rng = new ScoringRng(1);
    const w = new TimeWindow(1000, true);
    const xs: [number, number][] = [];
    let t = 0;
    for (let i = 0; i < 5000; i++) {
      t += Math.floor(rng.float() * 60);
      const v = Math.round(rng.float() * 1000) / 10;
      w.add(t, v);
      xs.push([t, v]);
      if (rng.float() < 0.2) {
        const asOf = t + Math.floor(rng.float() * 1500);
        const inside = xs.filter(([s]) => s > asOf - 1000 && s <= asOf).map(([, x]) => x);
        expect(w.count(asOf)).toBe(inside.length);
        expect(w.sum(asOf)).toBeCloseTo(inside.reduce((a, b) => a + b, 0), 6);
        expect(w.max(asOf)).toBe(inside.length ? Math.max(...inside) : 0);
      }
    }
  });
});
