import type { EngineOrder, OrderSide } from '../../market/matching-engine.js';
import type { SimContext } from '../context.js';
import type { SimMarket } from '../markets.js';
import type { Account } from '../population.js';
import type { Rng } from '../rng.js';
import type { Timer } from '../scheduler.js';
import { Agent } from './agent.js';

const CHILD = 1;
const CANCEL = 2;

interface Twap {
  market: SimMarket;
  account: Account;
  side: OrderSide;
  childLots: number;
  left: number;
  gapMs: number;
}

/**
 * Large legitimate traders. They execute big parent orders in slices (TWAP), rest big limit orders
 * well away from the touch for many minutes, and occasionally sweep several levels with one block.
 * Each resembles an abuse pattern on one feature (size, distance, aggression) and differs on the
 * rest: no quick cancels, no opposite-side trading, no reversal.
 */
export class Whales extends Agent {
  private readonly weights: number[];

  constructor(
    ctx: SimContext,
    rng: Rng,
    private readonly accounts: Account[],
    private readonly perHour: number,
  ) {
    super(ctx, rng);
    this.weights = ctx.markets.map((m) => (m.spec.thin ? 0.6 : m.symbol.startsWith('BTC') ? 3 : 2));
  }

  start(at: number): void {
    this.wakeAt(at + this.rng.exp(3_600_000 / this.perHour));
  }

  fire(timer: Timer, now: number): void {
    if (timer.code === CHILD) return this.child(timer.data as Twap, now);
    if (timer.code === CANCEL) {
      const o = timer.data as { market: SimMarket; order: EngineOrder };
      if (o.order.isLive) o.market.engine.cancel(o.order, Math.floor(now));
      return;
    }
    this.act(now);
    this.wakeAfter(this.rng.exp(3_600_000 / this.perHour));
  }

  private act(now: number): void {
    const rng = this.rng;
    if (this.accounts.length === 0) return;
    const m = this.ctx.markets[rng.weightedIndex(this.weights)];
    const a = rng.pick(this.accounts);
    const side: OrderSide = rng.chance(0.5) ? 'buy' : 'sell';
    const depth = m.spec.makerLevelNotional;
    // On thin books even large traders scale down: a fraction of what they do on majors.
    const k = m.spec.thin ? 0.4 : 1;
    const bps = m.refTicks() * 1e-4;
    const r = rng.float();
    if (r < 0.4) {
      const total = m.lotsFor(depth * k * rng.uniform(2, 10));
      const children = rng.int(6, 20);
      this.child({ market: m, account: a, side, childLots: Math.max(1, Math.round(total / children)), left: children, gapMs: rng.uniform(5_000, 40_000) }, now);
    } else if (r < 0.75) {
      const away = rng.uniform(15, m.spec.thin ? 300 : 120) * bps;
      const px = Math.round(side === 'buy' ? m.engine.bestBid() - away : m.engine.bestAsk() + away);
      if (px <= 0 || m.engine.bestBid() === 0 || m.engine.bestAsk() === 0) return;
      const o = this.ctx.place(m, a, side, 'limit', 'GTC', px, m.lotsFor(depth * k * rng.uniform(3, 12)), now, { api: true });
      if (o.status === 'resting') this.later(now + rng.uniform(4 * 60_000, 25 * 60_000), CANCEL, { market: m, order: o });
    } else {
      const touch = side === 'buy' ? m.engine.bestAsk() : m.engine.bestBid();
      if (touch === 0) return;
      const px = Math.round(touch + (side === 'buy' ? 1 : -1) * rng.uniform(5, m.spec.thin ? 80 : 25) * bps);
      this.ctx.place(m, a, side, 'limit', 'IOC', px, m.lotsFor(depth * k * rng.uniform(1.5, 5)), now, { api: true });
    }
  }

  private child(t: Twap, now: number): void {
    const jitter = Math.max(1, Math.round(t.childLots * this.rng.uniform(0.7, 1.3)));
    this.ctx.place(t.market, t.account, t.side, 'market', 'IOC', 0, jitter, now, { api: true });
    if (--t.left > 0) this.later(now + t.gapMs * this.rng.uniform(0.6, 1.4), CHILD, t);
  }
}
