import type { EngineOrder, OrderSide } from '../../market/matching-engine.js';
import type { SimMarket } from '../markets.js';
import type { Account } from '../population.js';
import { Scenario, intRange, paramsOf, pickVariant, range, slot, type Injector } from './common.js';

const BURST = 1;
const PLACE = 2;
const CANCEL = 3;
const TINY_TRADE = 4;
const END = 5;

type Variant = 'burst' | 'excessive_otr';

interface Plan {
  variant: Variant;
  market: SimMarket;
  trader: Account;
  bursts: number;
  end: number;
}

/**
 * Quote stuffing: an API account floods one market with orders that are cancelled within
 * milliseconds (bursts of hundreds to thousands of messages per second), or, in the excessive
 * order-to-trade variant, keeps up a lower but sustained message rate for minutes, away from the
 * touch, with a trade only now and then. Unlike HFT makers it quotes one side at a time, rarely
 * trades, and its rate is spiky.
 */
export class StuffingScenario extends Scenario<Plan> {
  private burst = 0;
  private burstEnd = 0;
  private intervalMs = 1;
  private side: OrderSide = 'buy';


  protected step(code: number, data: unknown, now: number): void {
    const { market: m, trader } = this.p;
    const rng = this.rng;
    const eng = m.engine;
    const otr = this.p.variant === 'excessive_otr';
    switch (code) {
      case BURST: {
        if (now > this.p.end - 5_000) return this.step(END, null, now);
        const lengthMs = otr ? range(this.params, 'otrMinutes', rng) * 60_000 : range(this.params, 'burstMs', rng);
        const rate = otr ? range(this.params, 'otrPerSecond', rng) : range(this.params, 'burstPerSecond', rng);
        this.burstEnd = Math.min(now + lengthMs, this.p.end - 3_000);
        this.intervalMs = 1000 / rate;
        this.side = rng.chance(0.5) ? 'buy' : 'sell';
        if (otr) this.at(now + rng.uniform(5_000, 30_000), TINY_TRADE);
        return this.step(PLACE, null, now);
      }
      case PLACE: {
        if (now >= this.burstEnd) {
          if (++this.burst < this.p.bursts) return this.at(now + rng.uniform(4_000, 30_000), BURST);
          return this.at(now + 50, END);
        }
        if (rng.chance(0.03)) this.side = this.side === 'buy' ? 'sell' : 'buy';
        const bps = m.refTicks() * 1e-4;
        const best = this.side === 'buy' ? eng.bestBid() : eng.bestAsk();
        if (best > 0) {
          const away = otr ? Math.round(rng.uniform(2, 20) * bps) : rng.int(0, Math.max(1, Math.round(0.5 * bps)));
          const px = this.side === 'buy' ? best - away : best + away;
          if (px > 0) {
            const o = this.order(m, trader, this.side, 'limit', 'GTC', px, this.lots(m, m.spec.retailMedianNotional * rng.uniform(0.2, 2)), now, { postOnly: true });
            if (o.isLive) this.at(now + (otr ? rng.uniform(40, 900) : rng.uniform(0.3, 25)), CANCEL, o);
          }
        }
        return this.at(now + this.intervalMs * rng.uniform(0.3, 1.7), PLACE);
      }
      case CANCEL:
        this.cancel(data as EngineOrder, m, now);
        return;
      case TINY_TRADE: {
        if (now >= this.burstEnd) return;
        const touch = rng.chance(0.5) ? eng.bestAsk() : eng.bestBid();
        if (touch > 0) this.order(m, trader, touch === eng.bestAsk() ? 'buy' : 'sell', 'limit', 'IOC', touch, 1 + rng.int(0, 2), now);
        return this.at(now + rng.uniform(10_000, 60_000), TINY_TRADE);
      }
      case END:
        this.cancelAll(now);
        return;
    }
  }
}

export const quoteStuffing: Injector = {
  typology: 'quote_stuffing',
  defaults: {
    variants: { burst: 0.65, excessive_otr: 0.35 },
    bursts: [1, 4],
    burstMs: [800, 9_000],
    burstPerSecond: [150, 900],
    otrMinutes: [1.5, 6],
    otrPerSecond: [4, 25],
  },
  plan(env, count) {
    const { ctx, rng, planner } = env;
    const p = paramsOf(this, env);
    const api = ctx.pop.algos.filter((a) => a.usesApi);
    for (let i = 0; i < count; i++) {
      const variant = pickVariant<Variant>(rng, p);
      const bursts = variant === 'burst' ? intRange(p, 'bursts', rng) : 1;
      const duration = variant === 'burst' ? 20_000 + bursts * 40_000 : 60_000 + (p.otrMinutes as number[])[1] * 60_000;
      const s = slot(env, ctx.markets, duration);
      if (!s) continue;
      const end = s.start + duration;
      const [trader] = planner.pickAccounts(rng, api, 1, s.start, end);
      if (!trader) continue;
      trader.balances[0] = Math.max(trader.balances[0], 50_000);
      if (!s.market.isPerp) trader.balances[s.market.asset.index] = Math.max(trader.balances[s.market.asset.index], 50_000 / s.market.asset.price);
      planner.reserve([s.market.symbol], [trader], s.start, end);
      const ep = env.episode('quote_stuffing', variant, { market: s.market.symbol, bursts });
      ep.addAccount(trader);
      const sc = new StuffingScenario(env, rng.fork(`stuff:${i}`), ep, { variant, market: s.market, trader, bursts, end }, p);
      sc.later(s.start, BURST);
    }
  },
};
