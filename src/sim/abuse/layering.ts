import type { EngineOrder, OrderSide } from '../../market/matching-engine.js';
import type { SimMarket } from '../markets.js';
import type { Account } from '../population.js';
import { Scenario, activeTraders, intRange, liquidOrThin, paramsOf, range, slot, type Injector } from './common.js';

const LAYER = 1;
const EXECUTE = 2;
const CANCEL = 3;
const NEXT = 4;
const END = 5;

interface Plan {
  market: SimMarket;
  trader: Account;
  cycles: number;
  end: number;
}

/**
 * Layering: several orders stacked on consecutive price levels of one side (placed within a
 * fraction of a second), an execution on the other side, then the whole stack cancelled. The
 * stack can be nudged toward the touch with amends while it waits.
 */
export class LayeringScenario extends Scenario<Plan> {
  private cycle = 0;
  private layers: EngineOrder[] = [];
  private genuine: EngineOrder | null = null;
  private side: OrderSide = 'buy';
  private nextPrice = 0;
  private toPlace = 0;
  private layerLots = 0;
  private step0 = 1;


  protected step(code: number, _data: unknown, now: number): void {
    const { market: m, trader } = this.p;
    const rng = this.rng;
    const eng = m.engine;
    switch (code) {
      case NEXT: {
        if (now > this.p.end - 12_000) return this.step(END, null, now);
        const bid = eng.bestBid();
        const ask = eng.bestAsk();
        if (bid === 0 || ask === 0) return this.at(now + 5_000, NEXT);
        this.side = rng.chance(0.5) ? 'buy' : 'sell';
        const gap = Math.max(1, Math.round(m.spec.levelGapBps * 1e-4 * m.refTicks() * range(this.params, 'layerSpacing', rng)));
        this.step0 = gap;
        const start = intRange(this.params, 'firstLevel', rng) * gap;
        this.nextPrice = this.side === 'buy' ? bid - start : ask + start;
        this.toPlace = intRange(this.params, 'layers', rng);
        this.layerLots = this.lots(m, m.spec.makerLevelNotional * range(this.params, 'layerMultiple', rng));
        this.layers = [];
        return this.step(LAYER, null, now);
      }
      case LAYER: {
        if (this.nextPrice > 0) this.layers.push(this.order(m, trader, this.side, 'limit', 'GTC', this.nextPrice, this.layerLots * rng.uniform(0.8, 1.25), now, { postOnly: true }));
        this.nextPrice += this.side === 'buy' ? -this.step0 : this.step0;
        if (--this.toPlace > 0) this.at(now + range(this.params, 'layerIntervalMs', rng), LAYER);
        else this.at(now + range(this.params, 'executeDelayMs', rng), EXECUTE);
        return;
      }
      case EXECUTE: {
        const other: OrderSide = this.side === 'buy' ? 'sell' : 'buy';
        const lots = this.lots(m, m.spec.makerLevelNotional * range(this.params, 'genuineMultiple', rng));
        if (rng.chance(0.5)) {
          const px = other === 'sell' ? eng.bestAsk() : eng.bestBid();
          if (px > 0) this.genuine = this.order(m, trader, other, 'limit', 'GTC', px, lots, now, { postOnly: true });
          this.at(now + rng.uniform(800, 4_000), CANCEL);
        } else {
          const px = other === 'sell' ? eng.bestBid() : eng.bestAsk();
          if (px > 0) this.genuine = this.order(m, trader, other, 'limit', 'IOC', px, lots, now);
          this.at(now + range(this.params, 'cancelAfterTradeMs', rng), CANCEL);
        }
        return;
      }
      case CANCEL: {
        if (this.genuine) this.cancel(this.genuine, m, now);
        // The whole stack comes down at once (a batch cancel).
        for (const o of this.layers) this.cancel(o, m, now);
        this.layers = [];
        this.genuine = null;
        if (++this.cycle < this.p.cycles) this.at(now + rng.uniform(6_000, 45_000), NEXT);
        else this.at(now + rng.uniform(100, 1_000), END);
        return;
      }
      case END:
        this.cancelAll(now);
        return;
    }
  }
}

export const layering: Injector = {
  typology: 'layering',
  defaults: {
    layers: [3, 8],
    /** Each layer's size as a multiple of one maker level. */
    layerMultiple: [1.2, 4],
    /** Distance of the first layer from the touch, in layer spacings. */
    firstLevel: [1, 3],
    /** Spacing between layers as a multiple of the makers' level gap. */
    layerSpacing: [0.6, 1.5],
    layerIntervalMs: [15, 350],
    executeDelayMs: [200, 2_500],
    cancelAfterTradeMs: [40, 1_200],
    genuineMultiple: [0.3, 1.5],
    cycles: [1, 4],
    liquidShare: 0.65,
  },
  plan(env, count) {
    const { ctx, rng, planner } = env;
    const p = paramsOf(this, env);
    const traders = activeTraders(ctx);
    for (let i = 0; i < count; i++) {
      const cycles = intRange(p, 'cycles', rng);
      const duration = 30_000 + cycles * 55_000;
      const candidates = liquidOrThin(ctx, rng, p);
      const s = slot(env, candidates, duration);
      if (!s) continue;
      const end = s.start + duration;
      const [trader] = planner.pickAccounts(rng, traders, 1, s.start, end);
      if (!trader) continue;
      planner.reserve([s.market.symbol], [trader], s.start, end);
      const ep = env.episode('layering', undefined, { market: s.market.symbol, cycles });
      ep.addAccount(trader);
      const sc = new LayeringScenario(env, rng.fork(`layer:${i}`), ep, { market: s.market, trader, cycles, end }, p);
      sc.later(s.start, NEXT);
    }
  },
};
