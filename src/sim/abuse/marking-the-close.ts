import type { OrderSide } from '../../market/matching-engine.js';
import type { SimMarket } from '../markets.js';
import type { Account } from '../population.js';
import { FUNDING_INTERVAL_MS, nextBoundary } from '../venue.js';
import { Scenario, activeTraders, paramsOf, range, type Injector } from './common.js';

const MOTIVE = 1;
const MARK = 2;
const END = 3;

type Variant = 'funding' | 'settlement';

interface Plan {
  variant: Variant;
  market: SimMarket;
  trader: Account;
  side: OrderSide;
  close: number;
  pushStart: number;
}

/**
 * Marking the close: in the last minutes before a funding time (perpetual: push the perp price,
 * hence the mark and the funding premium) or an index settlement (spot: push an index component
 * so the settlement average moves), an actor with a stake in that price trades aggressively in
 * one direction and props the price with orders at the touch, intensifying toward the close.
 * The stake (a perp position or an hourly product) is taken earlier and is not labelled.
 */
export class MarkingScenario extends Scenario<Plan> {

  protected step(code: number, _data: unknown, now: number): void {
    const { market: m, trader, side, close } = this.p;
    const rng = this.rng;
    const eng = m.engine;
    const level = m.spec.makerLevelNotional;
    switch (code) {
      case MOTIVE: {
        const ctx = this.ctx;
        if (this.p.variant === 'funding') {
          // An existing position that the mark move benefits (ordinary-looking orders, not labelled).
          ctx.place(m, trader, side, 'market', 'IOC', 0, m.lotsFor(level * rng.uniform(2, 6)), now, { api: trader.usesApi });
        } else {
          const base = m.asset.symbol;
          const strikeTicks = Math.round(m.refTicks() * (1 + (side === 'buy' ? 1 : -1) * rng.uniform(0.0005, 0.003)));
          const payIn = side === 'buy' ? m.asset.index : 0;
          const amount = side === 'buy' ? (level * 3) / m.asset.price : level * 3;
          trader.balances[payIn] = Math.max(trader.balances[payIn], amount * 1.5);
          ctx.ensureSession(trader, now, false);
          ctx.structuredSubscribe(trader, now, `DI-${base}-${side === 'buy' ? 'UP' : 'DOWN'}-${m.engine.prices.format(strikeTicks)}-${close}`, payIn, amount, m.engine.prices.format(strikeTicks), close);
        }
        return;
      }
      case MARK: {
        if (now >= close - 150) return this.at(close + rng.uniform(200, 3_000), END);
        const toClose = close - now;
        if (rng.chance(num0(this.params, 'proppingShare'))) {
          // Prop the price at the touch on the pushing side.
          const px = side === 'buy' ? eng.bestBid() : eng.bestAsk();
          if (px > 0) this.order(m, trader, side, 'limit', 'GTC', px, this.lots(m, level * range(this.params, 'orderMultiple', rng)), now, { postOnly: true });
        } else {
          const touch = side === 'buy' ? eng.bestAsk() : eng.bestBid();
          if (touch > 0) {
            const reach = Math.round(rng.uniform(0, 2) * m.spec.levelGapBps * 1e-4 * m.refTicks());
            this.order(m, trader, side, 'limit', 'IOC', side === 'buy' ? touch + reach : Math.max(1, touch - reach), this.lots(m, level * range(this.params, 'orderMultiple', rng)), now);
          }
        }
        // Intensifies into the close.
        const gap = toClose < 25_000 ? rng.uniform(250, 2_000) : rng.uniform(1_500, 9_000);
        return this.at(Math.min(now + gap, close - rng.uniform(100, 2_500)), MARK);
      }
      case END:
        this.cancelAll(now);
        return;
    }
  }
}

function num0(p: Record<string, unknown>, k: string): number {
  return typeof p[k] === 'number' ? (p[k] as number) : 0;
}

export const markingTheClose: Injector = {
  typology: 'marking_the_close',
  defaults: {
    /** How long before the close the actor starts. */
    pushMinutes: [1.2, 4.5],
    orderMultiple: [0.3, 1.4],
    /** Share of actions that prop the price with a resting order at the touch. */
    proppingShare: 0.3,
    /** Relative preference for settlement (spot) over funding (perp) closes. */
    settlementWeight: 1,
    fundingWeight: 2,
  },
  plan(env, count) {
    const { ctx, rng, planner } = env;
    const p = paramsOf(this, env);
    const candidates: { variant: Variant; market: SimMarket; close: number; w: number }[] = [];
    for (let t = nextBoundary(planner.earliest, FUNDING_INTERVAL_MS); t < ctx.end - 5_000; t += FUNDING_INTERVAL_MS) {
      for (const m of ctx.perps) candidates.push({ variant: 'funding', market: m, close: t, w: p.fundingWeight as number });
    }
    const interval = ctx.cfg.settlementIntervalMinutes * 60_000;
    for (let t = nextBoundary(planner.earliest, interval); t < ctx.end - 5_000; t += interval) {
      if (t % FUNDING_INTERVAL_MS === 0) continue;
      for (const m of ctx.perps) if (m.spot) candidates.push({ variant: 'settlement', market: m.spot, close: t, w: p.settlementWeight as number });
    }
    const traders = activeTraders(ctx).concat(ctx.pop.whales);
    let planned = 0;
    while (planned < count && candidates.length > 0) {
      const c = candidates.splice(rng.weightedIndex(candidates.map((x) => x.w)), 1)[0];
      const pushMs = range(p, 'pushMinutes', rng) * 60_000;
      const pushStart = c.close - pushMs;
      if (pushStart < planner.earliest) continue;
      const related = c.variant === 'settlement' && c.market.perp ? [c.market.perp.symbol] : [];
      if (!planner.marketsFree([c.market.symbol, ...related], pushStart - 5_000, c.close + 5_000)) continue;
      const motiveAt = Math.max(ctx.start + 1_000, c.close - rng.uniform(15, 50) * 60_000);
      const [trader] = planner.pickAccounts(rng, traders, 1, motiveAt, c.close + 5_000);
      if (!trader) continue;
      trader.balances[0] = Math.max(trader.balances[0], c.market.spec.makerLevelNotional * 40);
      if (!c.market.isPerp) trader.balances[c.market.asset.index] = Math.max(trader.balances[c.market.asset.index], (c.market.spec.makerLevelNotional * 40) / c.market.asset.price);
      planner.reserve([c.market.symbol], [trader], pushStart - 5_000, c.close + 5_000);
      const side: OrderSide = rng.chance(0.5) ? 'buy' : 'sell';
      const ep = env.episode('marking_the_close', c.variant, { market: c.market.symbol, closeTime: c.close, direction: side });
      ep.addAccount(trader);
      const sc = new MarkingScenario(env, rng.fork(`mark:${planned}`), ep, { variant: c.variant, market: c.market, trader, side, close: c.close, pushStart }, p);
      sc.later(motiveAt, MOTIVE);
      sc.later(pushStart, MARK);
      planned++;
    }
  },
};
