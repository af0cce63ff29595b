import type { EngineOrder, OrderSide } from '../../market/matching-engine.js';
import type { PlaceOpts, SimContext } from '../context.js';
import type { SimMarket } from '../markets.js';
import type { Account } from '../population.js';
import type { Rng } from '../rng.js';
import type { Timer } from '../scheduler.js';
import { Agent } from './agent.js';

const QUOTE: PlaceOpts = { postOnly: true, api: true };
const TAKE: PlaceOpts = { api: true };

/** How a maker quotes. Institutional makers show deep ladders; HFT makers sit at the touch and requote constantly. */
export interface MakerStyle {
  levels: number;
  halfSpreadBps: number;
  levelGapBps: number;
  levelNotional: number;
  /** Mean time between quote refreshes. */
  refreshMs: number;
  /** Drift a level may have from its target before it is requoted. */
  toleranceBps: number;
  /** Share of requotes done as price amends instead of cancel + new order. */
  amendShare: number;
  /** Maximum quote skew against inventory, and the inventory notional that reaches it. */
  skewBps: number;
  maxInventory: number;
  /** How far the top-of-book imbalance moves the quote centre (order-flow sensitive makers). */
  imbalanceBps: number;
  /** Takes stale quotes that are this far through the maker's fair price (0: never takes). */
  takeEdgeBps: number;
}

/**
 * A market maker quoting a ladder on both sides of one market around the reference price, skewed
 * against its inventory, widening when the market moves fast. Its cancel ratio is high, as real
 * makers' are, but it quotes both sides continuously and its quotes do get filled.
 */
export class MarketMaker extends Agent {
  private readonly bids: (EngineOrder | null)[];
  private readonly asks: (EngineOrder | null)[];
  private readonly baseInventory: number;

  constructor(
    ctx: SimContext,
    rng: Rng,
    readonly account: Account,
    readonly market: SimMarket,
    readonly style: MakerStyle,
  ) {
    super(ctx, rng);
    this.bids = new Array<EngineOrder | null>(style.levels).fill(null);
    this.asks = new Array<EngineOrder | null>(style.levels).fill(null);
    this.baseInventory = account.balances[market.asset.index];
  }

  start(at: number): void {
    this.wakeAt(at);
  }

  fire(_timer: Timer, now: number): void {
    this.quote(now);
    this.wakeAfter(this.rng.exp(this.style.refreshMs));
  }

  private inventoryNotional(mid: number): number {
    const m = this.market;
    if (m.isPerp) {
      const p = this.account.positions[m.index];
      return p === null ? 0 : p.lots * m.lotValue * mid;
    }
    return (this.account.balances[m.asset.index] - this.baseInventory) * mid;
  }

  private quote(now: number): void {
    const m = this.market;
    const s = this.style;
    const eng = m.engine;
    const refPx = m.refPrice();
    const ref = refPx / m.tickValue;
    const bps = ref * 1e-4;
    const midPrice = ref * m.tickValue;
    let inv = this.inventoryNotional(midPrice) / s.maxInventory;
    if (inv > 1) inv = 1;
    else if (inv < -1) inv = -1;
    let centre = ref - inv * s.skewBps * bps;
    if (s.imbalanceBps !== 0) centre += m.imbalance(s.halfSpreadBps * 12 + 3) * s.imbalanceBps * bps;
    // Fast markets: widen with the last ten seconds' move.
    const move = Math.abs(m.midTicks() - m.midAgo(10)) / bps;
    const widen = 1 + Math.min(1.5, move / (4 * s.halfSpreadBps + 1));
    const half = Math.max(1, s.halfSpreadBps * widen * bps);
    const gap = Math.max(1, s.levelGapBps * (1 + (widen - 1) * 0.3) * bps);
    const tol = Math.max(0.5, s.toleranceBps * bps);
    if (s.takeEdgeBps > 0) this.pickOff(centre, s.takeEdgeBps * bps, now);
    const bestAsk = eng.bestAsk();
    const bestBid = eng.bestBid();
    // Quotes cannot trade (post-only), so the reference price, and with it the lot price, holds for the whole ladder.
    const lotPx = refPx * m.lotValue;
    const bids = this.bids;
    const asks = this.asks;
    for (let i = 0; i < s.levels; i++) {
      let bid = Math.floor(centre - half - i * gap);
      if (bestAsk > 0 && bid >= bestAsk) bid = bestAsk - 1 - i;
      let ask = Math.ceil(centre + half + i * gap);
      if (bestBid > 0 && ask <= bestBid) ask = bestBid + 1 + i;
      const t = tol * (1 + i);
      // Levels still within tolerance of their target are left alone (the common case).
      const ob = bids[i];
      if (bid > 0 && (ob === null || ob.status !== 'resting' || ob.price - bid > t || bid - ob.price > t)) bids[i] = this.requote(ob, 'buy', bid, i, lotPx, now);
      const oa = asks[i];
      if (ask > 0 && (oa === null || oa.status !== 'resting' || oa.price - ask > t || ask - oa.price > t)) asks[i] = this.requote(oa, 'sell', ask, i, lotPx, now);
    }
  }

  /** Lifts an offer (or hits a bid) left stale by a move, a small clip at a time. */
  private pickOff(fair: number, edge: number, now: number): void {
    const m = this.market;
    const eng = m.engine;
    const ask = eng.bestAsk();
    const bid = eng.bestBid();
    if (ask > 0 && ask < fair - edge) this.ctx.place(m, this.account, 'buy', 'limit', 'IOC', ask, Math.min(m.lotsFor(this.style.levelNotional), eng.bestAskSize()), now, TAKE);
    else if (bid > 0 && bid > fair + edge) this.ctx.place(m, this.account, 'sell', 'limit', 'IOC', bid, Math.min(m.lotsFor(this.style.levelNotional), eng.bestBidSize()), now, TAKE);
  }

  /** Moves a level to `target`: amends the resting quote, or cancels it and places a new one. */
  private requote(o: EngineOrder | null, side: OrderSide, target: number, i: number, lotPx: number, now: number): EngineOrder | null {
    const eng = this.market.engine;
    const ts = Math.floor(now);
    if (o !== null && o.status === 'resting') {
      if (this.rng.float() < this.style.amendShare && eng.amend(o, ts, target)) return o;
      eng.cancel(o, ts);
    }
    // Market.lotsFor at the ladder's lot price.
    const lots = Math.round((this.style.levelNotional * (1 + 0.35 * i) * this.rng.lognormal(1, 0.3)) / lotPx);
    const n = this.ctx.place(this.market, this.account, side, 'limit', 'GTC', target, lots < 1 ? 1 : lots, now, QUOTE);
    return n.status === 'resting' ? n : null;
  }
}
