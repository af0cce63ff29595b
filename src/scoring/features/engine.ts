/**
 * Point-in-time account features. One engine, two ways to drive it:
 *
 * - online: `FeatureOperator` applies each event as it streams (O(1) amortised per event; reads cost
 *   O(the account's assets, positions and loans)) and answers "features of account A now";
 * - batch: `pointInTimeFeatures` joins decision times against an event history by replaying it in
 *   event-time order and reading each decision's features just before the first event later than
 *   its time — the same definitions, so the same values, and nothing after the decision leaks in.
 *
 * A decision at time T sees every event with ts ≤ T. Reads never go back in time: asking for a time
 * before the last event applied is an error, because rolling windows cannot be rewound.
 */
import type { ExchangeEvent } from '../../events/schema.js';
import type { Operator } from '../../pipeline/types.js';
import { Ewma } from '../../stream/ewma.js';
import { AccountState, DAY } from './account.js';
import { FEATURES, type FeatureContext, type FeatureDef } from './definitions.js';
import { AssetPrices, PriceSource } from './market.js';

/** A surveillance alert as a feature input (alerts are not exchange events; their time is detectedAt). */
export interface AlertInput {
  type: 'surveillance.alert';
  id: string;
  ts: number;
  seq?: number;
  accounts: string[];
  severity: 'low' | 'medium' | 'high' | 'critical';
  /** What the alert is about (e.g. spoofing), for the reasons of the decisions it changes. */
  typology?: string;
}
export type FeatureInput = ExchangeEvent | AlertInput;

/**
 * Plug-in slot for graph features (e.g. from src/graph accountFeatures). It is called at read time and
 * must itself answer as of `asOf`: fed the same inputs through `onInput`, never anything later.
 */
export interface GraphFeatureProvider {
  readonly names: readonly string[];
  onInput?(e: FeatureInput): void;
  read(accountId: string, asOf: number): ArrayLike<number>;
}

export interface FeatureEngineOptions {
  graph?: GraphFeatureProvider;
}

const num = (s: string | undefined) => (s === undefined ? NaN : Number(s));

export class FeatureEngine {
  readonly prices = new AssetPrices();
  private readonly accounts = new Map<string, AccountState>();
  private readonly deviceAccounts = new Map<string, Set<string>>();
  private readonly graph?: GraphFeatureProvider;
  readonly names: readonly string[];
  /** Time of the last input applied. */
  lastTs = -Infinity;
  inputs = 0;

  constructor(opts: FeatureEngineOptions = {}) {
    this.graph = opts.graph;
    this.names = [...FEATURES.map((f) => f.name), ...(opts.graph?.names ?? []).map((n) => `graph_${n}`)];
  }

  get definitions(): readonly FeatureDef[] {
    return FEATURES;
  }

  /** Accounts an input changes (the ones to re-score). */
  static touched(e: FeatureInput): string[] {
    switch (e.type) {
      case 'trade':
        return [e.makerAccountId, e.takerAccountId].filter((a): a is string => a !== undefined && a !== '');
      case 'transfer.internal':
        return [e.fromAccountId, e.toAccountId];
      case 'surveillance.alert':
        return e.accounts;
      default:
        return 'accountId' in e && typeof e.accountId === 'string' ? [e.accountId] : [];
    }
  }

  account(id: string): AccountState | undefined {
    return this.accounts.get(id);
  }

  accountIds(): IterableIterator<string> {
    return this.accounts.keys();
  }

  private acc(id: string, ts: number): AccountState {
    let a = this.accounts.get(id);
    if (!a) {
      a = new AccountState();
      a.firstSeen = ts;
      this.accounts.set(id, a);
    }
    return a;
  }

  apply(e: FeatureInput): void {
    const t = e.ts;
    if (t > this.lastTs) this.lastTs = t;
    this.inputs++;
    this.graph?.onInput?.(e);
    switch (e.type) {
      case 'mark_price':
        this.prices.update(e.market, t, Number(e.markPrice));
        if (e.indexPrice !== undefined) this.prices.update(e.market, t, Number(e.indexPrice), PriceSource.Index);
        return;
      case 'index_price':
        this.prices.update(e.market, t, Number(e.price), PriceSource.Index);
        return;
      case 'bbo': {
        const bid = Number(e.bidPrice);
        const ask = Number(e.askPrice);
        if (bid > 0 && ask >= bid) this.prices.update(e.market, t, (bid + ask) / 2, PriceSource.Mid);
        return;
      }
      case 'trade':
        return this.trade(e, t);
      case 'order.placed': {
        const a = this.acc(e.accountId, t);
        a.add('orders24h', t);
        if (e.leverage !== undefined) {
          a.leverageEwma ??= new Ewma(7 * DAY);
          a.leverageEwma.add(t, e.leverage);
          a.orderLeverage = a.leverageEwma.mean;
        }
        return;
      }
      case 'order.cancelled':
        return void this.acc(e.accountId, t).add('cancels24h', t);
      case 'account.opened': {
        const a = this.acc(e.accountId, t);
        a.openedAt = t;
        a.kycLevel = e.kycLevel ?? NaN;
        a.country = e.country;
        return;
      }
      case 'login':
        return this.login(e, t);
      case 'deposit': {
        const a = this.acc(e.accountId, t);
        if (e.status !== 'completed') return;
        const amount = Number(e.amount);
        this.credit(a, e.asset, amount);
        const usd = this.prices.value(e.asset, amount);
        a.add('deposits7d', t, usd);
        a.add('deposits30d', t, usd);
        return;
      }
      case 'withdrawal': {
        const a = this.acc(e.accountId, t);
        a.withdrawalAddresses.add(e.address);
        if (e.status === 'failed' || e.status === 'rejected') return void a.add('failedWithdrawals30d', t);
        if (e.status !== 'completed') return;
        const amount = Number(e.amount);
        this.credit(a, e.asset, -amount);
        const usd = this.prices.value(e.asset, amount);
        a.add('withdrawals24h', t, usd);
        a.add('withdrawals7d', t, usd);
        a.add('withdrawals30d', t, usd);
        return;
      }
      case 'transfer.internal': {
        const amount = Number(e.amount);
        this.credit(this.acc(e.fromAccountId, t), e.asset, -amount);
        this.credit(this.acc(e.toAccountId, t), e.asset, amount);
        return;
      }
      case 'balance.snapshot': {
        const a = this.acc(e.accountId, t);
        a.balances.clear();
        for (const b of e.balances) a.balances.set(b.asset, Number(b.free) + Number(b.locked));
        return;
      }
      case 'position.snapshot': {
        const a = this.acc(e.accountId, t);
        const size = Number(e.size);
        if (size === 0) a.positions.delete(e.market);
        else a.positions.set(e.market, { size, leverage: e.leverage ?? 1, unrealizedPnl: num(e.unrealizedPnl) || 0 });
        return;
      }
      case 'liquidation': {
        if (e.accountId === undefined) return;
        const a = this.acc(e.accountId, t);
        this.liquidated(a, t, Number(e.price) * Number(e.size));
        a.positions.delete(e.market);
        return;
      }
      case 'loan.borrow': {
        const a = this.acc(e.accountId, t);
        const amount = Number(e.amount);
        const l = a.loans.get(e.loanId);
        if (l) l.debt += amount;
        else {
          a.loans.set(e.loanId, { asset: e.asset, debt: amount, product: e.product });
          a.loansBorrowed++;
        }
        this.credit(a, e.asset, amount);
        return;
      }
      case 'loan.repay': {
        const a = this.acc(e.accountId, t);
        const amount = Number(e.amount);
        const interest = num(e.interest) || 0;
        this.credit(a, e.asset, -(amount + interest));
        a.interestPaidUsd += this.prices.value(e.asset, interest);
        const l = a.loans.get(e.loanId);
        if (l) {
          l.debt -= amount;
          // Repaid to within a rounding step of the amounts: closed.
          if (l.debt <= amount * 1e-9) {
            a.loans.delete(e.loanId);
            a.loansRepaid++;
          }
        }
        return;
      }
      case 'loan.liquidation': {
        const a = this.acc(e.accountId, t);
        a.loans.delete(e.loanId);
        a.loanLiquidations++;
        const sold = Number(e.collateralSold);
        a.collateral.set(e.collateralAsset, (a.collateral.get(e.collateralAsset) ?? 0) - sold);
        this.liquidated(a, t, this.prices.value(e.asset, Number(e.debtAmount)));
        return;
      }
      case 'collateral.changed': {
        const a = this.acc(e.accountId, t);
        const delta = Number(e.delta);
        a.collateral.set(e.asset, (a.collateral.get(e.asset) ?? 0) + delta);
        // Pledged from (or released to) the free balance; a liquidation's collateral is sold off.
        if (e.reason !== 'liquidation' && e.reason !== 'revaluation') this.credit(a, e.asset, -delta);
        return;
      }
      case 'earn.subscribe':
      case 'structured.subscribe':
        return this.credit(this.acc(e.accountId, t), e.asset, -Number(e.amount));
      case 'earn.redeem':
        return this.credit(this.acc(e.accountId, t), e.asset, Number(e.amount));
      case 'bonus.granted':
        return this.credit(this.acc(e.accountId, t), e.asset, Number(e.amount));
      case 'surveillance.alert':
        for (const id of e.accounts) {
          const a = this.acc(id, t);
          a.add('alerts30d', t);
          if (e.severity === 'high' || e.severity === 'critical') a.add('highAlerts30d', t);
        }
        return;
      default:
        if ('accountId' in e && typeof e.accountId === 'string') this.acc(e.accountId, t);
        return;
    }
  }

  private credit(a: AccountState, asset: string, amount: number): void {
    if (!Number.isFinite(amount)) return;
    a.balances.set(asset, (a.balances.get(asset) ?? 0) + amount);
  }

  private liquidated(a: AccountState, t: number, notionalUsd: number): void {
    a.liquidationsTotal++;
    a.lastLiquidation = t;
    a.add('liquidations30d', t);
    a.add('liquidatedNotional30d', t, notionalUsd);
  }

  private login(e: Extract<ExchangeEvent, { type: 'login' }>, t: number): void {
    const a = this.acc(e.accountId, t);
    if (!e.success) return void a.add('failedLogins7d', t);
    a.add('logins7d', t);
    a.add('logins30d', t);
    if (!a.devices.has(e.deviceId)) {
      a.devices.add(e.deviceId);
      a.add('newDevices7d', t);
      let s = this.deviceAccounts.get(e.deviceId);
      if (!s) this.deviceAccounts.set(e.deviceId, (s = new Set()));
      s.add(e.accountId);
    }
    a.ips.add(e.ip);
    if (e.country !== undefined) {
      a.loginCountries.add(e.country);
      if (a.country !== undefined && e.country !== a.country) a.add('foreignLogins30d', t);
    }
  }

  private trade(e: Extract<ExchangeEvent, { type: 'trade' }>, t: number): void {
    const price = Number(e.price);
    const size = Number(e.size);
    this.prices.update(e.market, t, price);
    const notional = price * size;
    const takerBuys = e.aggressor !== 'sell';
    if (e.takerAccountId) this.fill(this.acc(e.takerAccountId, t), e.market, t, takerBuys ? size : -size, price, notional, true);
    if (e.makerAccountId) this.fill(this.acc(e.makerAccountId, t), e.market, t, takerBuys ? -size : size, price, notional, false);
  }

  private fill(a: AccountState, market: string, t: number, dq: number, price: number, notional: number, taker: boolean): void {
    a.add('trades24h', t);
    a.add('notional24h', t, notional);
    a.add('notional7d', t, notional);
    if (taker) a.add('takerNotional7d', t, notional);
    let lot = a.lots.get(market);
    if (!lot) a.lots.set(market, (lot = { qty: 0, avg: 0 }));
    if (lot.qty === 0 || Math.sign(lot.qty) === Math.sign(dq)) {
      const q = Math.abs(lot.qty) + Math.abs(dq);
      lot.avg = (lot.avg * Math.abs(lot.qty) + price * Math.abs(dq)) / q;
      lot.qty += dq;
      return;
    }
    const closed = Math.min(Math.abs(dq), Math.abs(lot.qty));
    a.add('realizedPnl7d', t, closed * (price - lot.avg) * Math.sign(lot.qty));
    const before = lot.qty;
    lot.qty += dq;
    if (Math.abs(lot.qty) < 1e-12) lot.qty = lot.avg = 0;
    else if (Math.sign(lot.qty) !== Math.sign(before)) lot.avg = price;
  }

  /** Features of an account as of `asOf` (≥ the last input applied), in `names` order. */
  read(accountId: string, asOf: number, out = new Float64Array(this.names.length)): Float64Array {
    if (asOf < this.lastTs) throw new Error(`features as of ${asOf} were asked after an input at ${this.lastTs}: windows cannot be rewound (read before applying later inputs)`);
    const acc = this.accounts.get(accountId) ?? Object.assign(new AccountState(), { firstSeen: asOf });
    const ctx: FeatureContext = { acc, asOf, prices: this.prices, accountsOnDevice: (d) => this.deviceAccounts.get(d)?.size ?? 0 };
    for (let i = 0; i < FEATURES.length; i++) out[i] = FEATURES[i].read(ctx);
    if (this.graph) {
      const g = this.graph.read(accountId, asOf);
      for (let i = 0; i < this.graph.names.length; i++) out[FEATURES.length + i] = g[i];
    }
    return out;
  }

  /** Named features (for explanations and JSON). */
  readRecord(accountId: string, asOf: number): Record<string, number> {
    const v = this.read(accountId, asOf);
    return Object.fromEntries(this.names.map((n, i) => [n, v[i]]));
  }
}

/** The online path: an Operator that keeps the features of every account current. */
export class FeatureOperator implements Operator {
  readonly engine: FeatureEngine;
  constructor(opts: FeatureEngineOptions | FeatureEngine = {}) {
    this.engine = opts instanceof FeatureEngine ? opts : new FeatureEngine(opts);
  }
  onEvent(e: ExchangeEvent): void {
    this.engine.apply(e);
  }
  onAlert(a: { id: string; detectedAt: number; accounts: string[]; severity: AlertInput['severity']; status: string }): void {
    if (a.status !== 'open') return;
    this.engine.apply(alertInput(a));
  }
  features(accountId: string, asOf = this.engine.lastTs): Float64Array {
    return this.engine.read(accountId, asOf);
  }
}

export function alertInput(a: { id: string; detectedAt: number; accounts: string[]; severity: AlertInput['severity']; typology?: string }): AlertInput {
  return { type: 'surveillance.alert', id: a.id, ts: a.detectedAt, accounts: a.accounts, severity: a.severity, ...(a.typology !== undefined ? { typology: a.typology } : {}) };
}

export interface Decision {
  accountId: string;
  time: number;
}

export interface FeatureRow extends Decision {
  values: Float64Array;
}

/** Event-time order: ts, then source sequence, then input order (a stable sort). */
export function sortInputs<T extends FeatureInput>(inputs: readonly T[]): T[] {
  const idx = inputs.map((_, i) => i);
  idx.sort((i, j) => inputs[i].ts - inputs[j].ts || (inputs[i].seq ?? 0) - (inputs[j].seq ?? 0) || i - j);
  return idx.map((i) => inputs[i]);
}

/**
 * The batch path: features of every decision as of its time, from an event history. Inputs are put
 * in event-time order first; decisions come back in the order given.
 */
export function pointInTimeFeatures(inputs: readonly FeatureInput[], decisions: readonly Decision[], opts: FeatureEngineOptions = {}): FeatureRow[] {
  const engine = new FeatureEngine(opts);
  const order = decisions.map((_, i) => i).sort((i, j) => decisions[i].time - decisions[j].time || i - j);
  const out: FeatureRow[] = new Array(decisions.length);
  let d = 0;
  const emitUpTo = (t: number) => {
    // Decisions strictly before t: they see everything at or before their own time, nothing later.
    for (; d < order.length && decisions[order[d]].time < t; d++) {
      const dec = decisions[order[d]];
      out[order[d]] = { ...dec, values: engine.read(dec.accountId, dec.time) };
    }
  };
  for (const e of sortInputs(inputs)) {
    emitUpTo(e.ts);
    engine.apply(e);
  }
  emitUpTo(Infinity);
  return out;
}
