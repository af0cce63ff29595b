import type { EventOf } from '../events/schema.js';
import { Agent } from './agents/agent.js';
import { formatAmount, type SimContext } from './context.js';
import type { SimMarket } from './markets.js';
import type { Rng } from './rng.js';
import { Timer } from './scheduler.js';

const TICK = 1;
const SECOND = 2;
const DEPTH = 3;
const FUNDING = 4;
const SETTLE = 5;

export const FUNDING_INTERVAL_MS = 8 * 3_600_000;
/** Settlement prices are the average index over this window before the settlement time. */
export const SETTLEMENT_WINDOW_MS = 5 * 60_000;
const TICK_MS = 200;
/** Weight of our own spot mid in the index; the rest comes from (simulated) external venues. */
const OWN_WEIGHT = 0.5;

/** Funding times are 00:00, 08:00 and 16:00 UTC. */
export function nextFundingTime(ts: number): number {
  return Math.floor(ts / FUNDING_INTERVAL_MS) * FUNDING_INTERVAL_MS + FUNDING_INTERVAL_MS;
}

export function nextBoundary(ts: number, intervalMs: number): number {
  return Math.floor(ts / intervalMs) * intervalMs + intervalMs;
}

export function indexSymbol(base: string): string {
  return `${base}USDT-INDEX`;
}

/** Per-perpetual state: index history, premium accumulation, mark. */
class PerpState {
  ema = 0;
  premiumSum = 0;
  premiumN = 0;
  mark = 0;
  fundingEstimate = 0.0001;
  readonly indexHistory = new Float64Array(SETTLEMENT_WINDOW_MS / 1000);
  histPos = 0;
  histCount = 0;
  readonly indexSym: string;
  constructor(
    readonly m: SimMarket,
    readonly spot: SimMarket,
  ) {
    this.indexSym = indexSymbol(m.spec.base);
  }
}

/**
 * The venue's own machinery: advances fundamentals and price impact, samples histories, publishes
 * index and mark prices, charges funding at 00/08/16 UTC, settles hourly index products, liquidates
 * under-margined positions and publishes depth snapshots.
 */
export class Venue extends Agent {
  private readonly perps: PerpState[] = [];
  private readonly second = new Timer(this, SECOND);
  private readonly depth = new Timer(this, DEPTH);
  private readonly funding = new Timer(this, FUNDING);
  private readonly settle = new Timer(this, SETTLE);
  private readonly settleMs: number;
  private readonly priceRng: Rng;

  constructor(ctx: SimContext, rng: Rng) {
    super(ctx, rng);
    this.timer.code = TICK;
    this.priceRng = rng.fork('fundamentals');
    for (const m of ctx.markets) if (m.isPerp && m.spot) this.perps.push(new PerpState(m, m.spot));
    this.settleMs = ctx.cfg.settlementIntervalMinutes * 60_000;
    for (const p of this.perps) {
      p.m.indexPrice = p.m.asset.price;
      p.m.basis = 0.0001 + 0.0002 * rng.normal();
    }
  }

  start(at: number): void {
    this.wakeAt(at);
    const s = this.ctx.sched;
    s.at(this.second, Math.ceil(at / 1000) * 1000);
    s.at(this.depth, at + this.ctx.cfg.marketData.depthIntervalMs / 2);
    const f = nextFundingTime(at);
    if (f < this.ctx.end) s.at(this.funding, f);
    const st = nextBoundary(at, this.settleMs);
    if (st < this.ctx.end) s.at(this.settle, st);
  }

  fire(timer: Timer, now: number): void {
    const ctx = this.ctx;
    const s = ctx.sched;
    switch (timer.code) {
      case TICK:
        for (const a of ctx.assets) a.step(TICK_MS, this.priceRng);
        for (const m of ctx.markets) m.decay(TICK_MS);
        this.wakeAfter(TICK_MS);
        return;
      case SECOND:
        this.onSecond(now);
        if (now + 1000 < ctx.end) s.at(this.second, now + 1000);
        return;
      case DEPTH:
        for (const m of ctx.markets) m.engine.depthSnapshot(Math.floor(now), ctx.cfg.marketData.depthLevels);
        if (now + ctx.cfg.marketData.depthIntervalMs < ctx.end) s.at(this.depth, now + ctx.cfg.marketData.depthIntervalMs);
        return;
      case FUNDING:
        this.onFunding(now);
        if (now + FUNDING_INTERVAL_MS < ctx.end) s.at(this.funding, now + FUNDING_INTERVAL_MS);
        return;
      case SETTLE:
        this.onSettlement(now);
        if (now + this.settleMs < ctx.end) s.at(this.settle, now + this.settleMs);
        return;
    }
  }

  /** Mark price of a perpetual (its index before the first second). */
  markOf(m: SimMarket): number {
    for (const p of this.perps) if (p.m === m) return p.mark || m.indexPrice;
    return m.midPrice();
  }

  private onSecond(now: number): void {
    const ctx = this.ctx;
    const ts = Math.floor(now);
    for (const m of ctx.markets) m.sample();
    for (const p of this.perps) {
      const m = p.m;
      // Basis: an Ornstein-Uhlenbeck premium around one basis point.
      m.basis += (0.0001 - m.basis) / 300 + 0.00012 * this.priceRng.normal() / Math.sqrt(150);
      const asset = m.asset;
      const own = p.spot.engine.bestBid() > 0 && p.spot.engine.bestAsk() > 0 ? p.spot.midPrice() : asset.price;
      const extA = asset.price * Math.exp(0.00004 * this.priceRng.normal());
      const extB = asset.price * Math.exp(0.00004 * this.priceRng.normal());
      const index = OWN_WEIGHT * own + ((1 - OWN_WEIGHT) / 2) * (extA + extB);
      m.indexPrice = index;
      p.histPos = (p.histPos + 1) % p.indexHistory.length;
      p.indexHistory[p.histPos] = index;
      if (p.histCount < p.indexHistory.length) p.histCount++;
      const grid = p.spot.engine.prices;
      const fmt = (x: number) => grid.format(Math.max(1, grid.nearest(x)));
      this.emitIndex(p, ts, fmt(index), [
        { venue: 'sim', market: p.spot.symbol, price: fmt(own), weight: OWN_WEIGHT },
        { venue: 'ext-a', market: p.spot.symbol, price: fmt(extA), weight: (1 - OWN_WEIGHT) / 2 },
        { venue: 'ext-b', market: p.spot.symbol, price: fmt(extB), weight: (1 - OWN_WEIGHT) / 2 },
      ]);
      const perpMid = m.engine.bestBid() > 0 && m.engine.bestAsk() > 0 ? m.midPrice() : index;
      const premium = (perpMid - index) / index;
      p.ema += (premium - p.ema) / 60;
      p.premiumSum += premium;
      p.premiumN++;
      const avg = p.premiumSum / p.premiumN;
      p.fundingEstimate = Math.max(-0.003, Math.min(0.003, avg + Math.max(-0.0005, Math.min(0.0005, 0.0001 - avg))));
      const toFunding = (nextFundingTime(now) - now) / FUNDING_INTERVAL_MS;
      const last = m.engine.lastPrice > 0 ? m.engine.lastPrice * m.tickValue : perpMid;
      p.mark = median3(index * (1 + p.ema), index * (1 + p.fundingEstimate * toFunding), last);
      this.emitMark(p, ts);
      this.liquidations(p, now);
    }
  }

  private emitIndex(p: PerpState, ts: number, price: string, components: { venue: string; market: string; price: string; weight: number }[]): void {
    const seq = this.ctx.out.nextSeq();
    const e: EventOf<'index_price'> = { type: 'index_price', id: this.ctx.out.eventId(seq), ts, seq, market: p.indexSym, marketKind: 'index', price, components };
    this.ctx.out.emit(e);
  }

  private emitMark(p: PerpState, ts: number): void {
    const m = p.m;
    const g = m.engine.prices;
    const seq = this.ctx.out.nextSeq();
    const e: EventOf<'mark_price'> = {
      type: 'mark_price', id: this.ctx.out.eventId(seq), ts, seq, market: m.symbol, marketKind: 'perpetual',
      markPrice: g.format(Math.max(1, g.nearest(p.mark))), indexPrice: g.format(Math.max(1, g.nearest(m.indexPrice))),
      fundingRate: formatAmount(p.fundingEstimate, 8) || '0', nextFundingTime: nextFundingTime(ts),
    };
    this.ctx.out.emit(e);
  }

  private onFunding(now: number): void {
    const ts = Math.floor(now);
    for (const p of this.perps) {
      const rate = p.fundingEstimate;
      const seq = this.ctx.out.nextSeq();
      const e: EventOf<'funding'> = {
        type: 'funding', id: this.ctx.out.eventId(seq), ts, seq, market: p.m.symbol, marketKind: 'perpetual',
        rate: formatAmount(rate, 8) || '0', fundingTime: ts,
      };
      this.ctx.out.emit(e);
      const mark = p.mark || p.m.indexPrice;
      for (const pos of this.ctx.perpPositions[p.m.index]) {
        if (pos.lots === 0) continue;
        pos.account.balances[0] -= pos.lots * p.m.lotValue * mark * rate;
        pos.account.dirty = true;
      }
      p.premiumSum = 0;
      p.premiumN = 0;
    }
  }

  private onSettlement(now: number): void {
    const ts = Math.floor(now);
    for (const p of this.perps) {
      let sum = 0;
      for (let i = 0; i < p.histCount; i++) sum += p.indexHistory[i];
      const avg = p.histCount > 0 ? sum / p.histCount : p.m.indexPrice;
      const g = p.spot.engine.prices;
      const seq = this.ctx.out.nextSeq();
      const e: EventOf<'settlement'> = {
        type: 'settlement', id: this.ctx.out.eventId(seq), ts, seq, market: p.indexSym, marketKind: 'index',
        price: g.format(Math.max(1, g.nearest(avg))), settlementTime: ts,
      };
      this.ctx.out.emit(e);
    }
  }

  /** Closes positions whose mark has crossed their liquidation price, with a reduce-only market order. */
  private liquidations(p: PerpState, now: number): void {
    const ctx = this.ctx;
    const mi = p.m.index;
    const mark = p.mark;
    // Nothing can be due while the mark is inside every known liquidation price.
    if (mark > ctx.liqLongMax[mi] && mark < ctx.liqShortMin[mi]) return;
    const list = ctx.perpPositions[mi];
    for (let i = list.length - 1; i >= 0; i--) {
      const pos = list[i];
      if (pos.lots === 0) {
        pos.listed = false;
        list[i] = list[list.length - 1];
        list.pop();
        continue;
      }
      const liq = pos.liq;
      if (liq <= 0 || (pos.lots > 0 ? mark > liq : mark < liq)) continue;
      const m = p.m;
      const side = pos.lots > 0 ? 'sell' : 'buy';
      const lots = Math.abs(pos.lots);
      const ts = Math.floor(now);
      const o = m.engine.submit(
        { accountId: pos.account.id, side, type: 'market', tif: 'IOC', size: lots, reduceOnly: true, leverage: pos.leverage, marginMode: pos.leverage >= 20 ? 'isolated' : 'cross', owner: pos.account },
        ts,
      );
      if (o.filled === 0) continue;
      const seq = this.ctx.out.nextSeq();
      const e: EventOf<'liquidation'> = {
        type: 'liquidation', id: this.ctx.out.eventId(seq), ts, seq, market: m.symbol, marketKind: 'perpetual',
        accountId: pos.account.id, orderId: o.orderId, side, price: m.engine.prices.format(Math.max(1, m.engine.lastPrice)), size: m.engine.sizes.format(o.filled),
      };
      this.ctx.out.emit(e);
    }
    // Recompute the bounds (positions the orders could not close keep theirs).
    let longMax = 0;
    let shortMin = Infinity;
    for (const pos of list) {
      if (pos.lots === 0 || pos.liq <= 0) continue;
      if (pos.lots > 0) longMax = Math.max(longMax, pos.liq);
      else shortMin = Math.min(shortMin, pos.liq);
    }
    ctx.liqLongMax[mi] = longMax;
    ctx.liqShortMin[mi] = shortMin;
  }
}

function median3(a: number, b: number, c: number): number {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}
