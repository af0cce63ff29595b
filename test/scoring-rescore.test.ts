import { describe, expect, it } from 'vitest';
import { ExchangeEvent } from '../src/events/schema.js';
import type { Dataset } from '../src/scoring/data.js';
import { Decider } from '../src/scoring/decide/decide.js';
import { EXAMPLE_POLICY } from '../src/scoring/decide/default-policy.js';
import { parsePolicy } from '../src/scoring/decide/policy.js';
import { RescoreOperator, type ScoreChange } from '../src/scoring/decide/rescore.js';
import { ScoringModel } from '../src/scoring/model.js';
import { ScoringRng } from '../src/scoring/rng.js';
import { trainModel } from '../src/scoring/train.js';
import { Simulation } from '../src/sim/simulator.js';

/** A GBDT over three engine features, trained on a seeded population where liquidations and draining raise the risk. */
export function riskModel(): ScoringModel {
  const n = 4000;
  const rng = new ScoringRng(11);
  const names = ['liquidations_30d', 'withdrawal_share_24h', 'leverage_use'];
  const columns = names.map(() => new Float64Array(n));
  const target = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const liq = rng.float() < 0.2 ? 1 + Math.floor(rng.float() * 3) : 0;
    const share = rng.float() < 0.7 ? rng.float() * 0.2 : rng.float();
    const lev = rng.float() * 5;
    columns[0][r] = liq;
    columns[1][r] = share;
    columns[2][r] = lev;
    const z = -4.2 + 1.6 * liq + 2 * share + 0.3 * lev;
    target[r] = rng.float() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  const ds: Dataset = { features: names.map((name) => ({ name, type: 'numeric' })), columns, nRows: n, target, targetName: 'bad' };
  return new ScoringModel(trainModel(ds, { model: 'gbdt', params: { nTrees: 80, maxLeaves: 4, subsample: 1, colsample: 1 }, monotone: { liquidations_30d: 1 } }).json);
}

const T0 = Date.UTC(2026, 0, 5, 12);
/** Events as a producer writes them (without ids), validated by the canonical schema. */
const ev = (e: Record<string, unknown>, i: number): ExchangeEvent => ExchangeEvent.parse({ id: `e${i}`, ...e });

function story(): ExchangeEvent[] {
  const a = 'acct-1';
  const raw: Record<string, unknown>[] = [
    // A few minutes of index prices first: the collateral's volatility is known before the story starts.
    { type: 'index_price', ts: T0 - 180_000, market: 'BTCUSDT-INDEX', price: '59900' },
    { type: 'index_price', ts: T0 - 120_000, market: 'BTCUSDT-INDEX', price: '60050' },
    { type: 'index_price', ts: T0 - 60_000, market: 'BTCUSDT-INDEX', price: '59980' },
    { type: 'account.opened', ts: T0, accountId: a, country: 'DE', kycLevel: 2 },
    { type: 'index_price', ts: T0 + 1, market: 'BTCUSDT-INDEX', price: '60000' },
    { type: 'deposit', ts: T0 + 2, accountId: a, asset: 'USDT', chain: 'TRON', address: 'T1', amount: '20000' },
    { type: 'deposit', ts: T0 + 3, accountId: a, asset: 'BTC', chain: 'BTC', address: 'b1', amount: '1' },
    { type: 'collateral.changed', ts: T0 + 4, accountId: a, loanId: 'L1', asset: 'BTC', delta: '1', reason: 'add' },
    { type: 'loan.borrow', ts: T0 + 5, accountId: a, loanId: 'L1', asset: 'USDT', amount: '20000', collateralAsset: 'BTC', collateralAmount: '1' },
    { type: 'mark_price', ts: T0 + 6, market: 'BTCUSDT-PERP', markPrice: '60000', indexPrice: '60000' },
    { type: 'position.snapshot', ts: T0 + 7, market: 'BTCUSDT-PERP', accountId: a, size: '0.5', entryPrice: '60000', leverage: 10, unrealizedPnl: '0' },
    { type: 'liquidation', ts: T0 + 60_000, market: 'BTCUSDT-PERP', accountId: a, side: 'sell', price: '58000', size: '0.5' },
    { type: 'index_price', ts: T0 + 120_000, market: 'BTCUSDT-INDEX', price: '57000' },
    { type: 'withdrawal', ts: T0 + 180_000, accountId: a, asset: 'USDT', chain: 'TRON', address: 'T9', amount: '25000' },
  ];
  return raw.map(ev);
}

describe('dynamic re-scoring', () => {
  const model = riskModel();
  const decider = new Decider(model, { version: 'gbdt-test', alias: 'champion', type: 'gbdt', modelSha256: 'x' }, parsePolicy(EXAMPLE_POLICY));

  it('a liquidation changes quota and pricing within the same event, with the trigger, before → after and the reasons', () => {
    const changes: ScoreChange[] = [];
    const op = new RescoreOperator({ decider, onChange: (c) => void changes.push(c) });
    const events = story();
    const liq = events.find((e) => e.type === 'liquidation')!;
    for (const e of events) {
      const seen = changes.length;
      op.onEvent(e);
      // Emitted synchronously from that very event, stamped with its event time.
      if (e === liq) expect(changes.length).toBe(seen + 1);
    }
    const c = changes.find((x) => x.trigger.kind === 'liquidation')!;
    expect(c.ts).toBe(liq.ts);
    expect(c.trigger.eventId).toBe(liq.id);
    expect(c.model).toEqual({ version: 'gbdt-test', alias: 'champion', type: 'gbdt', modelSha256: 'x' });
    expect(c.after.probability).toBeGreaterThan(c.before.probability);
    const limit = c.changed.find((x) => x.field === 'margin.limit')!;
    expect(Number(limit.after)).toBeLessThan(Number(limit.before));
    expect(c.changed.some((x) => x.field === 'margin.pricing.apr' || x.field === 'margin.eligible')).toBe(true);
    expect(c.reasons[0]).toMatchObject({ feature: 'liquidations_30d', value: '1' });
    const margin = c.decision.products.find((p) => p.product === 'margin')!;
    expect(margin.hardRules.map((r) => r.id)).toContain('open_liquidation');
    expect(margin.hardRules.find((r) => r.id === 'open_liquidation')!.value).toBe(1);
    // Decided again before the liquidation, the account had the better terms.
    expect(c.before.products.margin.limit).toBe(limit.before);
  });

  it('a collateral price drop re-decides its holders; a large withdrawal re-decides the account', () => {
    const changes: ScoreChange[] = [];
    const op = new RescoreOperator({ decider, onChange: (c) => void changes.push(c) });
    for (const e of story()) op.onEvent(e);
    const drop = changes.find((x) => x.trigger.kind === 'collateral_price_drop')!;
    expect(drop.trigger.detail).toMatch(/BTC 60050 → 57000 \(-5\.1%\)/);
    const loan = drop.changed.find((x) => x.field === 'collateral_loan.limit')!;
    expect(Number(loan.after)).toBeLessThan(Number(loan.before));
    const w = changes.find((x) => x.trigger.kind === 'large_withdrawal')!;
    expect(w.trigger.detail).toMatch(/\(25000 USD\) ≥ 10000 USD/);
    expect(w.after.probability).toBeGreaterThan(w.before.probability);
  });

  it('on simulator data every account liquidation is re-scored at its own event time', () => {
    const changes: ScoreChange[] = [];
    const op = new RescoreOperator({ decider, onChange: (c) => void changes.push(c) });
    const liquidations: ExchangeEvent[] = [];
    new Simulation({ seed: 3, duration: '30m', trafficScale: 0.3, population: { retail: 800, borrowers: 300, savers: 100 } }, (e) => {
      if (e.type === 'liquidation' && e.accountId) liquidations.push(e);
      op.onEvent(e);
    }).run();
    expect(liquidations.length).toBeGreaterThan(0);
    for (const l of liquidations) {
      const c = changes.find((x) => x.trigger.eventId === l.id);
      expect(c?.ts).toBe(l.ts);
      expect(c?.accountId).toBe((l as { accountId: string }).accountId);
      expect(c!.after.probability).toBeGreaterThanOrEqual(c!.before.probability - 1e-12);
    }
  });
});
