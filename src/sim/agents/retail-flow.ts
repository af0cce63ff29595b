import type { EngineOrder, OrderSide } from '../../market/matching-engine.js';
import type { SimContext } from '../context.js';
import type { SimMarket } from '../markets.js';
import type { Account, AccountPool } from '../population.js';
import type { Rng } from '../rng.js';
import type { Timer } from '../scheduler.js';
import { Agent } from './agent.js';

const CANCEL = 1;

/**
 * Order flow of the many small traders in one market: a Poisson stream of market orders, passive
 * limits that are later cancelled, marketable IOCs, stop-losses and GTD orders, drawn from a
 * heavy-tailed pool of accounts (a few trade a lot). Attention rises after sharp moves and leans
 * with them (FOMO), which is what makes pumps and momentum ignition work on real venues.
 */
export class RetailFlow extends Agent {
  private readonly meanGapMs: number;
  private readonly sigmaPerMinute: number;

  constructor(
    ctx: SimContext,
    rng: Rng,
    readonly market: SimMarket,
    private readonly pool: AccountPool,
    private readonly newcomers: AccountPool,
  ) {
    super(ctx, rng);
    this.meanGapMs = 1000 / (market.spec.retailPerSec * ctx.cfg.trafficScale);
    this.sigmaPerMinute = market.asset.spec.volPerDay / Math.sqrt(1440);
  }

  /** Starts a few seconds in, once the makers have quoted. */
  start(at: number): void {
    this.wakeAt(at + 2_000 + this.rng.exp(this.meanGapMs));
  }

  fire(timer: Timer, now: number): void {
    if (timer.code === CANCEL) {
      const o = timer.data as EngineOrder;
      if (o.isLive) this.market.engine.cancel(o, Math.floor(now));
      return;
    }
    const heat = this.attention();
    this.act(now, heat);
    this.wakeAfter(this.rng.exp(this.meanGapMs / (1 + Math.abs(heat))));
  }

  /** Signed excitement after a sharp one-minute move, in units beyond two sigma. */
  private attention(): number {
    const m = this.market;
    const past = m.midAgo(60);
    if (past <= 0) return 0;
    const z = Math.log(m.midTicks() / past) / this.sigmaPerMinute;
    const a = Math.abs(z) - 2;
    if (a <= 0) return 0;
    return (z > 0 ? 1 : -1) * Math.min(2, a * 0.5);
  }

  private act(now: number, heat: number): void {
    const rng = this.rng;
    const m = this.market;
    const pBuy = 0.5 + 0.1 * Math.sign(heat) * Math.min(1, Math.abs(heat) / 2);
    let side: OrderSide = rng.float() < pBuy ? 'buy' : 'sell';
    // The side is decided first, then someone able to trade it (spot sells need holdings), so
    // the flow stays balanced however holdings are spread.
    let a: Account | null = null;
    let notional = 0;
    // Nothing below moves the reference price before the order is placed: read it once (up to ten
    // candidates are tried, most of them for spot sells, and each read is an exp()).
    const refPx = m.refPrice();
    for (let tries = 0; tries < 10 && a === null; tries++) {
      const c = this.newcomers.size > 0 && rng.chance(0.06) ? this.newcomers.draw(rng) : this.pool.draw(rng);
      notional = m.spec.retailMedianNotional * c.sizeScale * rng.lognormal(1, 0.9);
      if (m.isPerp || this.affordable(c, side, notional, refPx)) a = c;
    }
    if (a === null) return;
    // SimMarket.lotsFor at the reference price read above.
    let lots = Math.round(notional / (refPx * m.lotValue));
    if (lots < 1) lots = 1;
    let reduce = false;
    if (m.isPerp) {
      const p = a.positions[m.index];
      if (p !== null && p.lots !== 0 && rng.chance(0.35)) {
        side = p.lots > 0 ? 'sell' : 'buy';
        lots = Math.min(Math.abs(p.lots), lots);
        reduce = true;
      } else if (a.balances[0] * a.leverage < notional) return;
    }
    const api = a.usesApi && rng.chance(0.7);
    const eng = m.engine;
    const ref = refPx / m.tickValue;
    const bps = ref * 1e-4;
    const r = rng.float();
    if (reduce || r < 0.3) {
      this.ctx.place(m, a, side, 'market', 'IOC', 0, lots, now, { reduceOnly: reduce, api });
      return;
    }
    const bestSame = side === 'buy' ? eng.bestBid() : eng.bestAsk();
    const bestOpp = side === 'buy' ? eng.bestAsk() : eng.bestBid();
    const dir = side === 'buy' ? 1 : -1;
    if (api && rng.chance(0.01)) return this.badPrecision(a, side, bestSame > 0 ? bestSame : Math.round(ref), lots, now);
    if (r < 0.37) {
      const px = Math.round((bestOpp > 0 ? bestOpp : ref) + dir * rng.int(0, 3) * bps);
      this.ctx.place(m, a, side, 'limit', 'IOC', px, lots, now, { api });
      return;
    }
    if (r < 0.93) {
      const anchor = bestSame > 0 ? bestSame : ref - dir * m.spec.halfSpreadBps * bps;
      let px = Math.round(anchor - dir * rng.exp(3 + 2 * m.spec.halfSpreadBps) * bps);
      if (bestOpp > 0 && (side === 'buy' ? px >= bestOpp : px <= bestOpp)) px = bestOpp - dir;
      if (px <= 0) return;
      const o = this.ctx.place(m, a, side, 'limit', 'GTC', px, lots, now, { api });
      if (o.status === 'resting') this.later(now + (rng.chance(0.85) ? rng.exp(120_000) : rng.exp(1_800_000)), CANCEL, o);
      return;
    }
    if (r < 0.965) {
      // Stop-loss (or breakout stop) a little away from the price.
      const away = Math.round(rng.uniform(30, 300) * bps);
      const last = eng.lastPrice || Math.round(ref);
      const stop = side === 'sell' ? last - away : last + away;
      if (stop <= 0) return;
      const o = this.ctx.place(m, a, side, 'stop', 'IOC', 0, lots, now, { stopPrice: stop, api });
      if (o.status === 'pending') this.later(now + rng.exp(1_200_000), CANCEL, o);
      return;
    }
    const anchor = bestSame > 0 ? bestSame : ref;
    const px = Math.round(anchor - dir * rng.exp(10) * bps);
    if (px <= 0 || (bestOpp > 0 && (side === 'buy' ? px >= bestOpp : px <= bestOpp))) return;
    this.ctx.place(m, a, side, 'limit', 'GTD', px, lots, now, { expireAt: Math.floor(now + rng.uniform(60_000, 600_000)), api });
  }

  /**
   * An API client with the wrong precision: the price carries one decimal more than the tick (or
   * the size one more than the lot), and the venue rejects it.
   */
  private badPrecision(a: Account, side: OrderSide, priceTicks: number, lots: number, now: number): void {
    const m = this.market;
    const eng = m.engine;
    const ts = Math.floor(now);
    this.ctx.ensureSession(a, ts, true);
    const sizeSlip = this.rng.chance(0.4);
    const price = sizeSlip ? eng.prices.format(priceTicks) : oneMoreDigit(eng.prices.format(priceTicks), eng.prices.scale, '5');
    const size = sizeSlip ? oneMoreDigit(eng.sizes.format(lots), eng.sizes.scale, '3') : eng.sizes.format(lots);
    eng.submitDecimal({ accountId: a.id, side, type: 'limit', tif: 'GTC', price, size, apiKeyId: a.apiKeyId, ip: a.apiIp, owner: a }, ts);
  }

  /** Spot accounts trade only what they hold (valued at the reference price `refPx`). */
  private affordable(a: Account, side: OrderSide, notional: number, refPx: number): boolean {
    return side === 'buy' ? a.balances[0] >= notional : a.balances[this.market.asset.index] * refPx >= notional;
  }
}

/** The decimal written out to `scale` places plus one more (non-zero) digit: off the grid by construction. */
function oneMoreDigit(text: string, scale: number, digit: string): string {
  const dot = text.indexOf('.');
  const decimals = dot < 0 ? 0 : text.length - dot - 1;
  return (dot < 0 ? `${text}.` : text) + '0'.repeat(scale - decimals) + digit;
}
