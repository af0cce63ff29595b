import type { EngineOrder, OrderSide } from '../../market/matching-engine.js';
import type { SimMarket } from '../markets.js';
import type { Account } from '../population.js';
import { Scenario, activeTraders, intRange, liquidOrThin, paramsOf, range, slot, type Injector } from './common.js';

const IGNITE = 1;
const REVERSE = 2;
const END = 3;

interface Plan {
  market: SimMarket;
  trader: Account;
  side: OrderSide;
  ignitions: number;
  gapMs: number;
  waitMs: number;
  reversalMs: number;
  end: number;
}

/**
 * Ramping (momentum ignition): a burst of aggressive orders in one direction, sweeping a level or
 * more each, moves the price and triggers momentum traders and retail FOMO; the actor then
 * reverses into the move, selling what it bought (and more) to those following it.
 */
export class RampingScenario extends Scenario<Plan> {
  private fired = 0;
  private inventory = 0;
  private target = 0;
  private reversed = 0;
  private reverseUntil = 0;
  private resting: EngineOrder | null = null;
  private readonly ignition: EngineOrder[] = [];
  private readonly reversal: EngineOrder[] = [];


  protected step(code: number, _data: unknown, now: number): void {
    const { market: m, trader, side } = this.p;
    const rng = this.rng;
    const eng = m.engine;
    const level = m.spec.makerLevelNotional;
    const bps = m.refTicks() * 1e-4;
    const opp: OrderSide = side === 'buy' ? 'sell' : 'buy';
    switch (code) {
      case IGNITE: {
        const touch = side === 'buy' ? eng.bestAsk() : eng.bestBid();
        if (touch > 0) {
          const sweep = Math.round(rng.uniform(0.5, 2.5) * m.spec.levelGapBps * bps) + 1;
          const px = side === 'buy' ? touch + sweep : Math.max(1, touch - sweep);
          const o = rng.chance(0.35)
            ? this.order(m, trader, side, 'market', 'IOC', 0, this.lots(m, level * range(this.params, 'orderMultiple', rng)), now)
            : this.order(m, trader, side, 'limit', 'IOC', px, this.lots(m, level * range(this.params, 'orderMultiple', rng)), now);
          this.ignition.push(o);
        }
        if (++this.fired < this.p.ignitions) return this.at(now + this.p.gapMs * rng.uniform(0.3, 1.7), IGNITE);
        for (const o of this.ignition) this.inventory += o.filled;
        this.target = Math.round(this.inventory * range(this.params, 'reversalRatio', rng));
        this.reverseUntil = now + this.p.waitMs + this.p.reversalMs;
        return this.at(now + this.p.waitMs, REVERSE);
      }
      case REVERSE: {
        if (this.resting) this.cancel(this.resting, m, now);
        this.resting = null;
        this.reversed = 0;
        for (const o of this.reversal) this.reversed += o.filled;
        const left = this.target - this.reversed;
        if (left <= 0 || now > this.p.end - 3_000) return this.step(END, null, now);
        const chunk = now >= this.reverseUntil ? left : Math.min(left, Math.ceil(left * rng.uniform(0.2, 0.6)));
        if (now < this.reverseUntil && rng.chance(0.6)) {
          // Offer into the followers: at or just through the touch on the actor's selling side.
          const touch = opp === 'sell' ? eng.bestAsk() : eng.bestBid();
          if (touch > 0) this.reversal.push((this.resting = this.order(m, trader, opp, 'limit', 'GTC', touch, chunk, now)));
        } else {
          const touch = opp === 'sell' ? eng.bestBid() : eng.bestAsk();
          if (touch > 0) this.reversal.push(this.order(m, trader, opp, 'limit', 'IOC', opp === 'sell' ? Math.max(1, touch - Math.round(3 * bps)) : touch + Math.round(3 * bps), chunk, now));
        }
        return this.at(now + rng.uniform(1_500, 9_000), REVERSE);
      }
      case END:
        this.cancelAll(now);
        return;
    }
  }
}

export const ramping: Injector = {
  typology: 'ramping',
  defaults: {
    ignitionOrders: [4, 14],
    /** Whole ignition burst length. */
    ignitionSeconds: [2, 25],
    orderMultiple: [0.5, 2],
    waitSeconds: [5, 40],
    reversalSeconds: [20, 90],
    /** Reversal size relative to the ignition inventory (above 1: the actor ends net the other way). */
    reversalRatio: [1, 1.8],
    liquidShare: 0.5,
  },
  plan(env, count) {
    const { ctx, rng, planner } = env;
    const p = paramsOf(this, env);
    const traders = activeTraders(ctx);
    for (let i = 0; i < count; i++) {
      const ignitions = intRange(p, 'ignitionOrders', rng);
      const span = range(p, 'ignitionSeconds', rng) * 1000;
      const waitMs = range(p, 'waitSeconds', rng) * 1000;
      const reversalMs = range(p, 'reversalSeconds', rng) * 1000;
      const duration = span * 1.8 + waitMs + reversalMs + 30_000;
      const candidates = liquidOrThin(ctx, rng, p);
      const s = slot(env, candidates, duration);
      if (!s) continue;
      const end = s.start + duration;
      const [trader] = planner.pickAccounts(rng, traders, 1, s.start, end);
      if (!trader) continue;
      const m = s.market;
      trader.balances[0] = Math.max(trader.balances[0], m.spec.makerLevelNotional * 40);
      if (!m.isPerp) trader.balances[m.asset.index] = Math.max(trader.balances[m.asset.index], (m.spec.makerLevelNotional * 40) / m.asset.price);
      planner.reserve([m.symbol], [trader], s.start, end);
      const side: OrderSide = rng.chance(0.5) ? 'buy' : 'sell';
      const ep = env.episode('ramping', side === 'buy' ? 'ramp_up' : 'ramp_down', { market: m.symbol, ignitions });
      ep.addAccount(trader);
      const sc = new RampingScenario(env, rng.fork(`ramp:${i}`), ep, { market: m, trader, side, ignitions, gapMs: span / ignitions, waitMs, reversalMs, end }, p);
      sc.later(s.start, IGNITE);
    }
  },
};
