/**
 * Dynamic re-scoring: on a large withdrawal, a liquidation (position or loan), a drop in a
 * collateral asset's price or a surveillance alert naming the account, the affected accounts are
 * re-scored and re-decided within that same event (event time), and a `score.changed` event says
 * what changed, before → after, and why.
 */
import type { ExchangeEvent } from '../../events/schema.js';
import type { Operator } from '../../pipeline/types.js';
import { alertInput, FeatureEngine, type AlertInput, type FeatureInput } from '../features/engine.js';
import { baseAsset } from '../features/market.js';
import type { Reason } from '../model.js';
import type { Decider, Decision, ModelVersion } from './decide.js';
import type { Pricing } from './policy.js';

export type TriggerKind = 'large_withdrawal' | 'liquidation' | 'loan_liquidation' | 'collateral_price_drop' | 'surveillance_alert';

export interface Trigger {
  kind: TriggerKind;
  eventId: string;
  eventType: string;
  ts: number;
  /** What made it a trigger, e.g. "withdrawal 25000 USD ≥ 10000" or "ETH 2890 → 2790 (−3.5%)". */
  detail: string;
}

export interface ProductTerms {
  eligible: boolean;
  band: string;
  limit: string;
  pricing: Pricing;
}

export interface ScoreState {
  probability: number;
  products: Record<string, ProductTerms>;
}

export interface ScoreChange {
  type: 'score.changed';
  id: string;
  ts: number;
  accountId: string;
  trigger: Trigger;
  model: ModelVersion;
  before: ScoreState;
  after: ScoreState;
  /** Fields that changed: "probability", "margin.limit", "collateral_loan.pricing.apr", … */
  changed: { field: string; before: unknown; after: unknown }[];
  /** Top model reason codes after the change, with the values. */
  reasons: Reason[];
  decision: Decision;
}

export interface RescoreOptions {
  decider: Decider;
  /** Share the feature engine of another operator (it then applies events itself); default: own one. */
  engine?: FeatureEngine;
  /** A withdrawal is large at this many USD… */
  largeWithdrawalUsd?: number;
  /** …or at this share of the account's equity before it. */
  largeWithdrawalShare?: number;
  /** A collateral asset's price drop (from its price at the last re-evaluation) that re-scores its holders. */
  priceDrop?: number;
  onChange?(c: ScoreChange): void;
}

function state(d: Decision): ScoreState {
  return {
    probability: d.probability,
    products: Object.fromEntries(d.products.map((p) => [p.product, { eligible: p.eligible, band: p.band, limit: p.limit, pricing: p.pricing }])),
  };
}

function diff(a: ScoreState, b: ScoreState): ScoreChange['changed'] {
  const out: ScoreChange['changed'] = [];
  if (a.probability !== b.probability) out.push({ field: 'probability', before: a.probability, after: b.probability });
  for (const [id, x] of Object.entries(b.products)) {
    const y = a.products[id];
    for (const k of ['eligible', 'band', 'limit'] as const) if (y?.[k] !== x[k]) out.push({ field: `${id}.${k}`, before: y?.[k], after: x[k] });
    for (const k of ['apr', 'ltv', 'haircut', 'collateralRatio'] as const) if (y?.pricing[k] !== x.pricing[k]) out.push({ field: `${id}.pricing.${k}`, before: y?.pricing[k], after: x.pricing[k] });
  }
  return out;
}

export class RescoreOperator implements Operator {
  readonly engine: FeatureEngine;
  private readonly ownEngine: boolean;
  private readonly decider: Decider;
  private readonly largeUsd: number;
  private readonly largeShare: number;
  private readonly drop: number;
  /** Collateral asset → accounts pledging it. */
  private readonly holders = new Map<string, Set<string>>();
  /** Asset → price at its last re-evaluation. */
  private readonly refPrice = new Map<string, number>();
  readonly changes: ScoreChange[] = [];
  triggers = 0;

  constructor(private readonly opts: RescoreOptions) {
    this.decider = opts.decider;
    this.engine = opts.engine ?? new FeatureEngine();
    this.ownEngine = opts.engine === undefined;
    this.largeUsd = opts.largeWithdrawalUsd ?? 10_000;
    this.largeShare = opts.largeWithdrawalShare ?? 0.5;
    this.drop = opts.priceDrop ?? 0.02;
  }

  /** The decision for an account as of `asOf` (default: the last event applied). */
  decide(accountId: string, asOf = this.engine.lastTs): Decision {
    const values = this.engine.read(accountId, asOf);
    const names = this.engine.names;
    const index = new Map(names.map((n, i) => [n, i]));
    const lookup = (n: string) => {
      const i = index.get(n);
      return i === undefined ? NaN : values[i];
    };
    return this.decider.decide(accountId, this.decider.row(lookup), lookup, asOf);
  }

  onEvent(e: ExchangeEvent): void {
    this.apply(e);
  }

  /**
   * A surveillance alert as it opens (an AlertSink): its accounts' alert features count it and they are
   * re-decided. Alerts can trail the event stream a little (detector watermarks), so an alert older than
   * the last event applied counts as of that event.
   */
  onAlert(a: { id: string; detectedAt: number; accounts: string[]; severity: AlertInput['severity']; status: string; typology?: string }): void {
    if (a.status !== 'open' || a.accounts.length === 0) return;
    this.apply(alertInput({ ...a, detectedAt: Math.max(a.detectedAt, this.engine.lastTs) }));
  }

  apply(e: FeatureInput): void {
    const trig = this.triggerOf(e);
    // "Before" is read just before the event is applied: the same event time, without it.
    const before = trig ? trig.accounts.map((a) => this.decide(a, Math.max(e.ts, this.engine.lastTs))) : undefined;
    if (this.ownEngine) this.engine.apply(e);
    if (e.type === 'collateral.changed') this.holding(e.accountId, e.asset);
    if (e.type === 'loan.borrow' && e.collateralAsset) this.holding(e.accountId, e.collateralAsset);
    if (!trig) return;
    this.triggers++;
    trig.accounts.forEach((accountId, i) => {
      const after = this.decide(accountId, e.ts);
      const b = state(before![i]);
      const a = state(after);
      const c: ScoreChange = {
        type: 'score.changed',
        id: `sc_${e.id}_${accountId}`,
        ts: e.ts,
        accountId,
        trigger: trig.trigger,
        model: after.model,
        before: b,
        after: a,
        changed: diff(b, a),
        reasons: after.reasons,
        decision: after,
      };
      this.changes.push(c);
      this.opts.onChange?.(c);
    });
  }

  private holding(accountId: string, asset: string): void {
    const amount = this.engine.account(accountId)?.collateral.get(asset) ?? 0;
    let s = this.holders.get(asset);
    if (!s) this.holders.set(asset, (s = new Set()));
    if (amount > 0) s.add(accountId);
    else s.delete(accountId);
  }

  private triggerOf(e: FeatureInput): { trigger: Trigger; accounts: string[] } | undefined {
    const t = (kind: TriggerKind, detail: string, accounts: string[]) => ({ trigger: { kind, eventId: e.id, eventType: e.type, ts: e.ts, detail }, accounts });
    switch (e.type) {
      case 'withdrawal': {
        if (e.status !== 'completed') return undefined;
        const usd = this.engine.prices.value(e.asset, Number(e.amount));
        const eq = this.engine.readRecord(e.accountId, Math.max(e.ts, this.engine.lastTs)).equity_usd;
        if (usd >= this.largeUsd) return t('large_withdrawal', `withdrawal ${e.amount} ${e.asset} (${usd.toFixed(0)} USD) ≥ ${this.largeUsd} USD`, [e.accountId]);
        if (eq > 0 && usd / eq >= this.largeShare) return t('large_withdrawal', `withdrawal ${e.amount} ${e.asset} = ${((100 * usd) / eq).toFixed(0)}% of equity ≥ ${(100 * this.largeShare).toFixed(0)}%`, [e.accountId]);
        return undefined;
      }
      case 'liquidation':
        return e.accountId ? t('liquidation', `${e.market} ${e.side} ${e.size} @ ${e.price} liquidated`, [e.accountId]) : undefined;
      case 'loan.liquidation':
        return t('loan_liquidation', `loan ${e.loanId} liquidated: debt ${e.debtAmount} ${e.asset}, ${e.collateralSold} ${e.collateralAsset} sold`, [e.accountId]);
      case 'surveillance.alert': {
        const accounts = [...new Set(e.accounts)].sort();
        return accounts.length ? t('surveillance_alert', `${e.severity} ${e.typology ?? 'surveillance'} alert ${e.id}`, accounts) : undefined;
      }
      case 'mark_price':
      case 'index_price': {
        const price = Number(e.type === 'mark_price' ? (e.indexPrice ?? e.markPrice) : e.price);
        const asset = baseAsset(e.market);
        if (asset === undefined || !(price > 0)) return undefined;
        const ref = this.refPrice.get(asset);
        if (ref === undefined || price > ref) {
          // The reference follows the price up: a drop is measured from the recent high.
          this.refPrice.set(asset, price);
          return undefined;
        }
        if (price > ref * (1 - this.drop)) return undefined;
        this.refPrice.set(asset, price);
        const accounts = [...(this.holders.get(asset) ?? [])].sort();
        if (!accounts.length) return undefined;
        return t('collateral_price_drop', `${asset} ${ref} → ${price} (${((100 * (price - ref)) / ref).toFixed(1)}%)`, accounts);
      }
      default:
        return undefined;
    }
  }

  finish(): void {}
}
