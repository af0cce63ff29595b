import type { OrderSide } from '../../market/matching-engine.js';
import type { SimContext } from '../context.js';
import type { SimMarket } from '../markets.js';
import type { Account } from '../population.js';
import type { Rng } from '../rng.js';
import type { Timer } from '../scheduler.js';
import { Agent } from './agent.js';

const EXIT = 1;

interface Trip {
  account: Account;
  side: OrderSide;
  lots: number;
}

/**
 * Systematic momentum traders on one market: after a move of more than ~2 sigma over their
 * lookback they buy (or sell) with market orders, and exit a minute or two later. Legitimate,
 * bursty and aggressive: superficially like ramping, but they never lead the move.
 */
export class MomentumTraders extends Agent {
  private readonly sigmaPerSqrtSec: number;
  private readonly lookback: number;

  constructor(
    ctx: SimContext,
    rng: Rng,
    readonly market: SimMarket,
    private readonly accounts: Account[],
  ) {
    super(ctx, rng);
    this.sigmaPerSqrtSec = market.asset.spec.volPerDay / Math.sqrt(86_400);
    this.lookback = rng.int(20, 45);
  }

  start(at: number): void {
    this.wakeAt(at + 60_000 + this.rng.exp(2_000));
  }

  fire(timer: Timer, now: number): void {
    if (timer.code === EXIT) {
      const t = timer.data as Trip;
      this.ctx.place(this.market, t.account, t.side === 'buy' ? 'sell' : 'buy', 'market', 'IOC', 0, t.lots, now, { api: true });
      return;
    }
    this.evaluate(now);
    this.wakeAfter(this.rng.exp((this.market.spec.thin ? 5_000 : 1_500) / this.ctx.cfg.trafficScale));
  }

  /** Realized volatility per sqrt(second) from 10-second mid returns over the last five minutes. */
  private realizedVol(): number {
    const m = this.market;
    const n = Math.min(30, Math.floor((m.histCount - 1) / 10));
    if (n < 6) return 0;
    // The ring of one-second mids read directly (as midAgo would: every lag here is within the history).
    const mids = m.mids;
    const len = mids.length;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const a = mids[(m.histPos - i * 10 + len) % len];
      const b = mids[(m.histPos - i * 10 - 10 + len) % len];
      if (a <= 0 || b <= 0) return 0;
      const r = Math.log(a / b);
      ss += r * r;
    }
    return Math.sqrt(ss / n / 10);
  }

  private evaluate(now: number): void {
    const m = this.market;
    const past = m.midAgo(this.lookback);
    if (past <= 0 || this.accounts.length === 0) return;
    // Against the larger of the asset's volatility and the market's own recent noise (spread bounce
    // on thin books), so a signal is a real move, not a quote flicker.
    const z = Math.log(m.midTicks() / past) / (Math.max(this.sigmaPerSqrtSec, this.realizedVol()) * Math.sqrt(this.lookback));
    const excess = Math.abs(z) - (m.spec.thin ? 3 : 2.2);
    if (excess <= 0 || !this.rng.chance(Math.min(0.4, excess * 0.15))) return;
    const a = this.rng.pick(this.accounts);
    const side: OrderSide = z > 0 ? 'buy' : 'sell';
    // Sized to the book: nobody systematic takes out several levels of a thin market per trade.
    const notional = Math.min(m.spec.retailMedianNotional * a.sizeScale * this.rng.lognormal(1, 0.5), m.spec.makerLevelNotional * (m.spec.thin ? 0.3 : 0.6));
    if (!m.isPerp && side === 'sell' && a.balances[m.asset.index] * m.refPrice() < notional) return;
    if (a.balances[0] < notional / (m.isPerp ? 5 : 1)) return;
    const lots = m.lotsFor(notional);
    const o = this.ctx.place(m, a, side, 'market', 'IOC', 0, lots, now, { api: true });
    if (o.filled > 0) this.later(now + this.rng.uniform(30_000, 180_000), EXIT, { account: a, side, lots: o.filled } satisfies Trip);
  }
}
