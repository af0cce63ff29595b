import type { EngineOrder, OrderSide } from '../../market/matching-engine.js';
import type { SimMarket } from '../markets.js';
import type { Account } from '../population.js';
import { Scenario, intRange, paramsOf, range, type Injector } from './common.js';

const OPEN = 1;
const PUSH = 2;
const CLOSE = 3;
const UNWIND = 4;
const END = 5;

interface Plan {
  spot: SimMarket;
  perp: SimMarket;
  trader: Account;
  side: OrderSide;
  openOrders: number;
  openGapMs: number;
  pushNotional: number;
  pushGapMs: number;
  end: number;
}

/**
 * Cross-market manipulation: build a perpetual position, then push the spot market that feeds the
 * perpetual's index with aggressive orders; the index and mark follow, and the perpetual position
 * is closed at the better mark. The spot inventory is unwound afterwards.
 */
export class CrossMarketScenario extends Scenario<Plan> {
  private opened = 0;
  private pushed = 0;
  private readonly perpOrders: EngineOrder[] = [];
  private readonly spotOrders: EngineOrder[] = [];
  private readonly exits: EngineOrder[] = [];
  private readonly unwinds: EngineOrder[] = [];


  private held(orders: EngineOrder[]): number {
    let n = 0;
    for (const o of orders) n += o.filled;
    return n;
  }

  protected step(code: number, _data: unknown, now: number): void {
    const { spot, perp, trader, side } = this.p;
    const rng = this.rng;
    const opp: OrderSide = side === 'buy' ? 'sell' : 'buy';
    if (now > this.p.end - 4_000 && code !== END) return this.step(END, null, now);
    switch (code) {
      case OPEN: {
        const lots = this.lots(perp, perp.spec.makerLevelNotional * range(this.params, 'perpOrderMultiple', rng));
        const market = rng.chance(0.5);
        this.perpOrders.push(this.order(perp, trader, side, market ? 'market' : 'limit', 'IOC', market ? 0 : this.through(perp, side, 1), lots, now));
        if (++this.opened < this.p.openOrders) return this.at(now + this.p.openGapMs * rng.uniform(0.4, 1.6), OPEN);
        return this.at(now + rng.uniform(5_000, 30_000), PUSH);
      }
      case PUSH: {
        const chunk = (this.p.pushNotional / 8) * rng.uniform(0.5, 1.5);
        this.spotOrders.push(this.order(spot, trader, side, 'limit', 'IOC', this.through(spot, side, rng.uniform(0.5, 2.5)), this.lots(spot, chunk), now));
        this.pushed += chunk;
        if (this.pushed < this.p.pushNotional) return this.at(now + this.p.pushGapMs * rng.uniform(0.4, 1.6), PUSH);
        return this.at(now + rng.uniform(2_000, 12_000), CLOSE);
      }
      case CLOSE: {
        const left = this.held(this.perpOrders) - this.held(this.exits);
        if (left <= 0) return this.at(now + rng.uniform(3_000, 15_000), UNWIND);
        const lots = Math.min(left, Math.ceil(left * rng.uniform(0.3, 0.8)));
        this.exits.push(this.order(perp, trader, opp, 'limit', 'IOC', this.through(perp, opp, 1.5), lots, now, { reduceOnly: true }));
        return this.at(now + rng.uniform(1_500, 12_000), CLOSE);
      }
      case UNWIND: {
        const left = this.held(this.spotOrders) - this.held(this.unwinds);
        if (left <= 0) return this.step(END, null, now);
        const lots = Math.min(left, Math.ceil(left * rng.uniform(0.25, 0.7)));
        this.unwinds.push(this.order(spot, trader, opp, 'limit', 'IOC', this.through(spot, opp, 1), lots, now));
        return this.at(now + rng.uniform(3_000, 15_000), UNWIND);
      }
      case END:
        this.cancelAll(now);
        return;
    }
  }

  /** A limit price `gaps` maker level gaps through the touch (an aggressive order with a cap). */
  private through(m: SimMarket, side: OrderSide, gaps: number): number {
    const touch = side === 'buy' ? m.engine.bestAsk() : m.engine.bestBid();
    const ref = touch > 0 ? touch : Math.round(m.refTicks());
    const d = Math.max(1, Math.round(gaps * m.spec.levelGapBps * 1e-4 * ref));
    return side === 'buy' ? ref + d : Math.max(1, ref - d);
  }
}

export const crossMarketManipulation: Injector = {
  typology: 'cross_market_manipulation',
  defaults: {
    openOrders: [3, 8],
    openSeconds: [40, 150],
    perpOrderMultiple: [0.8, 2.5],
    /** Spot push notional as a multiple of the spot makers' one-side depth. */
    pushDepthMultiple: [0.6, 1.6],
    pushSeconds: [50, 200],
  },
  plan(env, count) {
    const { ctx, rng, planner } = env;
    const p = paramsOf(this, env);
    const pairs = ctx.perps.filter((m) => m.spot !== null);
    const traders = ctx.pop.whales.concat(ctx.pop.algos);
    for (let i = 0; i < count; i++) {
      const openOrders = intRange(p, 'openOrders', rng);
      const openMs = range(p, 'openSeconds', rng) * 1000;
      const pushMs = range(p, 'pushSeconds', rng) * 1000;
      const duration = openMs + pushMs + 40_000 + 90_000 + 150_000;
      let chosen: { perp: SimMarket; start: number } | null = null;
      for (const perp of rng.shuffle(pairs.slice())) {
        const start = planner.findStart(rng, [perp.symbol, perp.spot!.symbol], duration);
        if (start !== null) {
          chosen = { perp, start };
          break;
        }
      }
      if (!chosen) continue;
      const { perp, start } = chosen;
      const spot = perp.spot!;
      const end = start + duration;
      const [trader] = planner.pickAccounts(rng, traders, 1, start, end);
      if (!trader) continue;
      const pushNotional = spot.depthNotional * range(p, 'pushDepthMultiple', rng);
      trader.balances[0] = Math.max(trader.balances[0], pushNotional * 3);
      trader.balances[spot.asset.index] = Math.max(trader.balances[spot.asset.index], (pushNotional * 3) / spot.asset.price);
      planner.reserve([perp.symbol, spot.symbol], [trader], start, end);
      const side: OrderSide = rng.chance(0.5) ? 'buy' : 'sell';
      const ep = env.episode('cross_market_manipulation', 'spot_index_push', { spot: spot.symbol, perp: perp.symbol, direction: side });
      ep.addAccount(trader);
      const sc = new CrossMarketScenario(
        env, rng.fork(`xmkt:${i}`), ep,
        { spot, perp, trader, side, openOrders, openGapMs: openMs / openOrders, pushNotional, pushGapMs: pushMs / 8, end },
        p,
      );
      sc.later(start, OPEN);
    }
  },
};
