import type { EngineOrder, OrderSide } from '../../market/matching-engine.js';
import type { SimMarket } from '../markets.js';
import type { Account } from '../population.js';
import { Scenario, activeTraders, paramsOf, pickVariant, range, slot, type Injector } from './common.js';

const ENTER = 1;
const NOTICE = 2;

type Variant = 'off_market' | 'size';

interface Plan {
  variant: Variant;
  market: SimMarket;
  trader: Account;
}

/**
 * Fat finger: an erroneous order from an otherwise ordinary account. Off-market: the price is far
 * from the market (a typo of several percent, or a shifted decimal point) at the account's usual
 * size, so it sweeps the book or rests absurdly far away. Size: tens to hundreds of times the
 * account's usual size near the touch. The trader notices and cancels what is left within seconds.
 */
export class FatFingerScenario extends Scenario<Plan> {
  private order0: EngineOrder | null = null;


  protected step(code: number, _data: unknown, now: number): void {
    const { market: m, trader, variant } = this.p;
    const rng = this.rng;
    const eng = m.engine;
    if (code === NOTICE) {
      if (this.order0) this.cancel(this.order0, m, now);
      return;
    }
    const side: OrderSide = rng.chance(0.5) ? 'buy' : 'sell';
    const mid = m.midTicks();
    const usual = m.spec.retailMedianNotional * trader.sizeScale;
    let price: number;
    let lots: number;
    if (variant === 'off_market') {
      lots = this.lots(m, usual * rng.lognormal(1, 0.4));
      const decimalSlip = rng.chance(num(this.params, 'decimalShare'));
      const dev = range(this.params, 'deviation', rng);
      price = decimalSlip ? (side === 'buy' ? mid * 10 : mid / 10) : side === 'buy' ? mid * (1 + dev) : mid * (1 - dev);
      // A typo can be on the passive side too: a bid far below (or offer far above) the market.
      if (!decimalSlip && rng.chance(0.3)) price = side === 'buy' ? mid * (1 - dev) : mid * (1 + dev);
    } else {
      lots = this.lots(m, usual * range(this.params, 'sizeMultiple', rng));
      const passive = rng.chance(0.5);
      const touch = side === 'buy' ? (passive ? eng.bestBid() : eng.bestAsk()) : passive ? eng.bestAsk() : eng.bestBid();
      price = touch > 0 ? touch + (passive ? 0 : (side === 'buy' ? 1 : -1) * Math.round(rng.uniform(0, 3) * m.spec.levelGapBps * 1e-4 * mid)) : mid;
    }
    price = Math.max(1, Math.round(price));
    this.order0 = this.order(m, trader, side, 'limit', 'GTC', price, lots, now, { api: trader.usesApi && rng.chance(0.5) });
    this.at(now + range(this.params, 'noticeMs', rng), NOTICE);
  }
}

function num(p: Record<string, unknown>, k: string): number {
  return p[k] as number;
}

export const fatFinger: Injector = {
  typology: 'fat_finger',
  defaults: {
    variants: { off_market: 0.55, size: 0.45 },
    /** Off-market price error as a fraction of the mid. */
    deviation: [0.04, 0.35],
    /** Share of off-market errors that are a shifted decimal point (x10 / /10). */
    decimalShare: 0.2,
    /** Size error as a multiple of the account's usual order. */
    sizeMultiple: [25, 400],
    noticeMs: [400, 25_000],
  },
  plan(env, count) {
    const { ctx, rng, planner } = env;
    const p = paramsOf(this, env);
    // Accounts with a trading history to be judged against: the more active ones.
    const traders = activeTraders(ctx).filter((a) => a.activity > 2);
    for (let i = 0; i < count; i++) {
      const variant = pickVariant<Variant>(rng, p);
      const duration = 45_000;
      const s = slot(env, ctx.markets, duration);
      if (!s) continue;
      const [trader] = planner.pickAccounts(rng, traders, 1, s.start, s.start + duration);
      if (!trader) continue;
      const m = s.market;
      trader.balances[0] = Math.max(trader.balances[0], m.spec.retailMedianNotional * trader.sizeScale * 500);
      if (!m.isPerp) trader.balances[m.asset.index] = Math.max(trader.balances[m.asset.index], (m.spec.retailMedianNotional * trader.sizeScale * 500) / m.asset.price);
      planner.reserve([m.symbol], [trader], s.start, s.start + duration);
      const ep = env.episode('fat_finger', variant, { market: m.symbol });
      ep.addAccount(trader);
      new FatFingerScenario(env, rng.fork(`fat:${i}`), ep, { variant, market: m, trader }, p).later(s.start, ENTER);
    }
  },
};
