import type { SimContext } from '../context.js';
import type { SimMarket } from '../markets.js';
import type { Account } from '../population.js';
import type { Rng } from '../rng.js';
import { Timer } from '../scheduler.js';
import { nextBoundary } from '../venue.js';
import { Agent } from './agent.js';

const LOAN = 1;
const MARGIN = 2;
const EARN = 3;
const STRUCTURED = 4;
const LOAN_CHECK = 5;
const REPAY = 10;
const MARGIN_CLOSE = 11;
const REDEEM = 12;

interface Loan {
  id: string;
  account: Account;
  collateral: number;
  collateralAmount: number;
  debt: number;
  /** Loan-to-value at which the venue calls for more collateral, and at which it liquidates. */
  callLtv: number;
  liqLtv: number;
  /** Tops up after a margin call (some borrowers never do). */
  responsive: boolean;
}

/** Loans are checked against the collateral's price this often. */
const LOAN_CHECK_MS = 15_000;
/** Liquidation penalty: collateral sold covers the debt plus this share. */
const LIQUIDATION_PENALTY = 0.05;

/** Liquidation LTV for a collateral whose margin-call LTV is `call`: a quarter of the way from it to 1. */
export function liquidationLtv(call: number): number {
  return Math.min(0.95, call + (1 - call) * 0.25);
}

interface MarginTrip {
  account: Account;
  loanId: string;
  market: number;
  lots: number;
  debt: number;
}

interface Holding {
  account: Account;
  productId: string;
  asset: number;
  amount: number;
}

/**
 * Financial products used legitimately: collateral loans (including loans against thin altcoins,
 * so pledging an alt is not suspicious by itself), margin trades on spot, flexible and locked earn
 * products, and hourly dual-investment products that settle on the index.
 */
export class Products extends Agent {
  private readonly timers: Timer[];
  private readonly gaps: Record<number, number>;
  private readonly loans = new Map<Account, Loan>();
  /** The venue's own spot market per collateral asset: loans are valued at its mid. */
  private readonly collateralMarket: (SimMarket | null)[];

  constructor(ctx: SimContext, rng: Rng) {
    super(ctx, rng);
    const pop = ctx.pop;
    const perHour = (x: number) => 3_600_000 / Math.max(x, 1e-9);
    this.gaps = {
      [LOAN]: perHour(pop.borrowers.length * 0.6 + 1),
      [MARGIN]: perHour(8 * ctx.cfg.trafficScale),
      [EARN]: perHour(pop.savers.length * 0.05 + 1),
      [STRUCTURED]: perHour(pop.savers.length * 0.03 + 1),
      [LOAN_CHECK]: LOAN_CHECK_MS,
    };
    this.timers = [LOAN, MARGIN, EARN, STRUCTURED, LOAN_CHECK].map((c) => new Timer(this, c));
    this.collateralMarket = ctx.assets.map((a) => ctx.markets.find((m) => !m.isPerp && m.asset === a) ?? null);
  }

  start(at: number): void {
    this.openBook(at);
    for (const t of this.timers) this.ctx.sched.at(t, at + this.rng.exp(this.gaps[t.code]));
  }

  /** Collateral price in USDT: the venue's own spot mid (the fundamental if it has no market). */
  private priceOf(asset: number): number {
    const m = this.collateralMarket[asset];
    return m === null ? this.ctx.assets[asset].price : m.midPrice();
  }

  private collateralAssets() {
    return this.ctx.assets.filter((x) => x.index > 0 && x.spec.collateral);
  }

  /**
   * The loan book the venue already carries when the run starts (borrowed before it, so no borrow
   * events): prices have moved since, so LTVs are spread up to just under the liquidation line and
   * a few loans sit margin-called, waiting for a top-up that may never come.
   */
  private openBook(at: number): void {
    const ctx = this.ctx;
    const rng = this.rng;
    const eligible = this.collateralAssets();
    for (const a of rng.sample(ctx.pop.borrowers, Math.round(ctx.pop.borrowers.length * 0.35))) {
      const r = rng.float();
      const asset = r < 0.4 ? eligible[0] : r < 0.7 ? eligible[1] : rng.pick(eligible.slice(2));
      const call = asset.spec.maxLtv;
      const liq = liquidationLtv(call);
      // Most sit below the call line; a quarter were margin-called, crowding toward the liquidation line.
      const ltv = rng.chance(0.75) ? call * rng.uniform(0.35, 1) : call + (liq * 0.995 - call) * Math.sqrt(rng.float());
      const debt = rng.lognormal(3_000, 1);
      const loan: Loan = {
        id: ctx.ids.loan(), account: a, collateral: asset.index, collateralAmount: debt / (ltv * this.priceOf(asset.index)), debt,
        callLtv: call, liqLtv: liq, responsive: rng.chance(0.5),
      };
      this.loans.set(a, loan);
      this.later(at + rng.exp(90 * 60_000), REPAY, loan);
    }
  }

  fire(timer: Timer, now: number): void {
    switch (timer.code) {
      case LOAN:
        this.openLoan(now);
        break;
      case MARGIN:
        this.marginTrade(now);
        break;
      case EARN:
        this.earn(now);
        break;
      case STRUCTURED:
        this.structured(now);
        break;
      case LOAN_CHECK:
        this.marginCalls(now);
        break;
      case REPAY:
        return this.repay(timer.data as Loan, now);
      case MARGIN_CLOSE:
        return this.closeMargin(timer.data as MarginTrip, now);
      case REDEEM: {
        const h = timer.data as Holding;
        this.ctx.ensureSession(h.account, now, false);
        this.ctx.earnRedeem(h.account, now, h.productId, h.asset, h.amount, this.rng.chance(0.3));
        return;
      }
      default:
        return;
    }
    const next = timer.code === LOAN_CHECK ? this.gaps[LOAN_CHECK] : this.rng.exp(this.gaps[timer.code]);
    if (now + next < this.ctx.end) this.ctx.sched.at(timer, now + next);
  }

  private openLoan(now: number): void {
    const ctx = this.ctx;
    const rng = this.rng;
    const a = rng.pick(ctx.pop.borrowers);
    if (!a || this.loans.has(a)) return;
    const eligible = this.collateralAssets();
    const r = rng.float();
    const asset = r < 0.4 ? eligible[0] : r < 0.75 ? eligible[1] : rng.pick(eligible.slice(2));
    const value = rng.lognormal(4_000, 1);
    const amount = value / this.priceOf(asset.index);
    ctx.ensureSession(a, now, false);
    if (a.balances[asset.index] < amount) ctx.deposit(a, now, asset.index, amount - a.balances[asset.index] + amount * 0.05, ctx.chainFor(asset.index, rng));
    const ltv = rng.uniform(0.25, asset.spec.maxLtv * 0.95);
    const loan: Loan = {
      id: ctx.ids.loan(), account: a, collateral: asset.index, collateralAmount: amount, debt: value * ltv,
      callLtv: asset.spec.maxLtv, liqLtv: liquidationLtv(asset.spec.maxLtv), responsive: rng.chance(0.8),
    };
    ctx.collateralChanged(a, now, loan.id, asset.index, amount, 'add');
    ctx.loanBorrow(a, now, loan.id, 0, loan.debt, 'collateral_loan', { asset: asset.index, amount, ltv, apr: rng.uniform(0.04, 0.14) });
    this.loans.set(a, loan);
    this.later(now + rng.exp(50 * 60_000), REPAY, loan);
  }

  /** Repays the loan, sometimes only part of it first (the rest later); the collateral comes back with the last payment. */
  private repay(loan: Loan, now: number): void {
    if (this.loans.get(loan.account) !== loan) return; // liquidated meanwhile
    const ctx = this.ctx;
    const rng = this.rng;
    ctx.ensureSession(loan.account, now, false);
    if (loan.debt > 200 && rng.chance(0.3)) {
      const part = loan.debt * rng.uniform(0.3, 0.7);
      if (ctx.loanRepay(loan.account, now, loan.id, 0, part, part * 0.00002 * rng.uniform(1, 4))) loan.debt -= part;
      this.later(now + rng.exp(30 * 60_000), REPAY, loan);
      return;
    }
    ctx.loanRepay(loan.account, now, loan.id, 0, loan.debt, loan.debt * 0.00002 * rng.uniform(1, 4));
    ctx.collateralChanged(loan.account, now, loan.id, loan.collateral, -loan.collateralAmount, 'remove');
    this.loans.delete(loan.account);
  }

  /**
   * Values every loan at the collateral's current price. Past the margin-call LTV a responsive
   * borrower tops up (within a few checks); past the liquidation LTV the venue sells collateral to
   * cover the debt plus a penalty and returns the rest.
   */
  private marginCalls(now: number): void {
    const ctx = this.ctx;
    for (const loan of this.loans.values()) {
      const price = this.priceOf(loan.collateral);
      const ltv = loan.debt / (loan.collateralAmount * price);
      if (ltv >= loan.liqLtv) {
        this.liquidate(loan, price, now);
      } else if (ltv > loan.callLtv && loan.responsive && this.rng.chance(0.3)) {
        const add = loan.debt / (loan.callLtv * 0.8 * price) - loan.collateralAmount;
        if (add > 0) {
          ctx.ensureSession(loan.account, now, false);
          ctx.collateralChanged(loan.account, now, loan.id, loan.collateral, add, 'margin_call');
          loan.collateralAmount += add;
        }
      }
    }
  }

  private liquidate(loan: Loan, price: number, now: number): void {
    const sold = Math.min(loan.collateralAmount, (loan.debt * (1 + LIQUIDATION_PENALTY)) / price);
    const m = this.collateralMarket[loan.collateral];
    const g = m === null ? null : m.engine.prices;
    this.ctx.loanLiquidation(loan.account, now, loan.id, 0, loan.debt, loan.collateral, sold, g === null ? undefined : g.format(Math.max(1, g.nearest(price))));
    const rest = loan.collateralAmount - sold;
    if (rest > 0) this.ctx.collateralChanged(loan.account, now, loan.id, loan.collateral, -rest, 'remove');
    this.loans.delete(loan.account);
  }

  private marginTrade(now: number): void {
    const ctx = this.ctx;
    const rng = this.rng;
    const a = ctx.pop.traders.draw(rng);
    const m = ctx.market(rng.chance(0.6) ? 'BTCUSDT' : 'ETHUSDT');
    const equity = a.balances[0];
    if (equity < 200) return;
    const debt = equity * rng.uniform(0.5, 2.5);
    const loanId = ctx.ids.loan();
    ctx.ensureSession(a, now, false);
    ctx.loanBorrow(a, now, loanId, 0, debt, 'margin');
    const lots = m.lotsFor((equity + debt) * rng.uniform(0.5, 0.95));
    const o = ctx.place(m, a, 'buy', 'market', 'IOC', 0, lots, now);
    this.later(now + rng.exp(20 * 60_000), MARGIN_CLOSE, { account: a, loanId, market: m.index, lots: o.filled, debt } satisfies MarginTrip);
  }

  private closeMargin(t: MarginTrip, now: number): void {
    const ctx = this.ctx;
    const m = ctx.markets[t.market];
    if (t.lots > 0) ctx.place(m, t.account, 'sell', 'market', 'IOC', 0, t.lots, now);
    ctx.loanRepay(t.account, now, t.loanId, 0, t.debt, t.debt * 0.00001 * this.rng.uniform(1, 3));
  }

  private earn(now: number): void {
    const ctx = this.ctx;
    const rng = this.rng;
    const a = rng.pick(ctx.pop.savers);
    if (!a) return;
    const asset = rng.chance(0.6) ? 0 : rng.int(1, 2);
    const amount = a.balances[asset] * rng.uniform(0.1, 0.6);
    if (amount * ctx.assets[asset].price < 20) return;
    const locked = rng.chance(0.4);
    const sym = ctx.assets[asset].symbol;
    const productId = locked ? `earn-${sym.toLowerCase()}-${rng.pick([30, 60, 90])}d` : `earn-${sym.toLowerCase()}-flex`;
    ctx.ensureSession(a, now, false);
    if (ctx.earnSubscribe(a, now, productId, asset, amount, locked ? rng.uniform(0.04, 0.12) : rng.uniform(0.01, 0.05), locked ? Number(productId.split('-')[2].slice(0, -1)) : 0)) {
      if (!locked && rng.chance(0.4)) this.later(now + rng.exp(45 * 60_000), REDEEM, { account: a, productId, asset, amount: amount * rng.uniform(0.3, 1) } satisfies Holding);
    }
  }

  /** Dual investment on BTC/ETH that settles on the index at an upcoming settlement time. */
  private structured(now: number): void {
    const ctx = this.ctx;
    const rng = this.rng;
    const a = rng.pick(ctx.pop.savers);
    if (!a) return;
    const interval = ctx.cfg.settlementIntervalMinutes * 60_000;
    let expiry = nextBoundary(now, interval);
    if (expiry - now < 15 * 60_000) expiry += interval;
    const base = rng.chance(0.6) ? 'BTC' : 'ETH';
    const asset = ctx.asset(base);
    const spot = ctx.market(`${base}USDT`);
    const up = rng.chance(0.5);
    const strikeTicks = Math.round(spot.refTicks() * (1 + (up ? 1 : -1) * rng.uniform(0.002, 0.015)));
    const strike = spot.engine.prices.format(strikeTicks);
    const payIn = up ? asset : 0;
    const amount = a.balances[payIn] * rng.uniform(0.1, 0.5);
    if (amount * ctx.assets[payIn].price < 50) return;
    ctx.ensureSession(a, now, false);
    ctx.structuredSubscribe(a, now, `DI-${base}-${up ? 'UP' : 'DOWN'}-${strike}-${expiry}`, payIn, amount, strike, expiry);
  }
}
