import type { SimContext } from '../context.js';
import type { Position } from '../population.js';
import type { Rng } from '../rng.js';
import type { Timer } from '../scheduler.js';
import { FUNDING_INTERVAL_MS, nextBoundary } from '../venue.js';
import { Agent } from './agent.js';

const CLOSE = 1;
const REOPEN = 2;
const HEDGE = 3;

interface Reopen {
  position: Position;
  lots: number;
  side: 'buy' | 'sell';
}

/**
 * Legitimate trading around funding and settlement times: position holders trim positions in the
 * minutes before funding (and some reopen after), and hedgers of hourly products trade a little
 * before each settlement. Activity before a close is therefore normal; its size and direction
 * relative to the book and the mark is what distinguishes marking the close.
 */
export class CloseTraders extends Agent {
  constructor(ctx: SimContext, rng: Rng) {
    super(ctx, rng);
  }

  start(at: number): void {
    const ctx = this.ctx;
    for (let f = nextBoundary(at, FUNDING_INTERVAL_MS); f < ctx.end; f += FUNDING_INTERVAL_MS) {
      const n = this.rng.int(6, 14);
      for (let i = 0; i < n; i++) this.later(f - this.rng.uniform(20_000, 12 * 60_000), CLOSE, f);
    }
    const interval = ctx.cfg.settlementIntervalMinutes * 60_000;
    for (let s = nextBoundary(at, interval); s < ctx.end; s += interval) {
      const n = this.rng.int(3, 8);
      for (let i = 0; i < n; i++) this.later(s - this.rng.uniform(10_000, 6 * 60_000), HEDGE, s);
    }
  }

  fire(timer: Timer, now: number): void {
    const ctx = this.ctx;
    const rng = this.rng;
    if (timer.code === CLOSE) {
      const perp = rng.pick(ctx.perps);
      const open = ctx.perpPositions[perp.index].filter((p) => p.lots !== 0 && p.account.role !== 'maker' && p.account.role !== 'hft');
      if (open.length === 0) return;
      const p = rng.pick(open);
      const lots = Math.max(1, Math.round(Math.abs(p.lots) * rng.uniform(0.3, 1)));
      const side = p.lots > 0 ? 'sell' : 'buy';
      const o = ctx.place(perp, p.account, side, 'market', 'IOC', 0, lots, now, { reduceOnly: true, api: rng.chance(0.5) });
      if (o.filled > 0 && rng.chance(0.5)) this.later((timer.data as number) + rng.uniform(30_000, 300_000), REOPEN, { position: p, lots: o.filled, side: side === 'sell' ? 'buy' : 'sell' } satisfies Reopen);
      return;
    }
    if (timer.code === REOPEN) {
      const r = timer.data as Reopen;
      ctx.place(ctx.markets[r.position.market], r.position.account, r.side, 'market', 'IOC', 0, r.lots, now);
      return;
    }
    if (timer.code === HEDGE) {
      const m = ctx.market(rng.chance(0.6) ? 'BTCUSDT' : 'ETHUSDT');
      const a = rng.pick(ctx.pop.algos);
      const side = rng.chance(0.5) ? 'buy' : 'sell';
      const notional = m.spec.retailMedianNotional * rng.lognormal(4, 0.7);
      if (side === 'sell' && a.balances[m.asset.index] * m.refPrice() < notional) return;
      if (side === 'buy' && a.balances[0] < notional) return;
      ctx.place(m, a, side, 'market', 'IOC', 0, m.lotsFor(notional), now, { api: true });
    }
  }
}
