import { z } from 'zod';
import type { EventOf, ExchangeEvent } from '../../events/schema.js';
import { baseParams, defineDetector, policyFrom, type Detector, type DetectorContext, type EpisodePolicy } from '../detector.js';
import type { Episode } from '../emitter.js';
import { num, pct, time } from './format.js';
import { pairKey } from '../../stream/keyed.js';

/**
 * Marking the close: abnormal one-directional aggressive trading by an account in the minutes
 * before a price fixing — a perpetual's funding time (the mark and the funding premium) or an
 * index settlement (for the index's spot components) — that moves the price into the fixing.
 *
 * Closes. Perpetuals: `nextFundingTime` from `mark_price` events (else `funding` events, else the
 * `fundingHours` UTC grid). Spot markets that are index components (listed in `index_price`
 * components, or the `X-INDEX` ↔ `X` naming): index settlement times — the `settlementMinutes`
 * UTC grid, learnt from the spacing of `settlement` events when they appear.
 *
 * Per account × market × close, over the `windowMs` before the close: aggressive (taker)
 * notional bought and sold, aggressive orders, the price just before its first aggressive trade,
 * and the market's taker notional over the same span. `evalDelayMs` after the close (event time)
 * each account is tested:
 *  - at least `minOrders` aggressive orders;
 *  - one-directional: |bought − sold| / (bought + sold) ≥ `minDirectionality`, for its aggressive
 *    fills and for all its fills (aggressive and passive);
 *  - participation: the account's fills (aggressive, and passive ones after its first aggressive
 *    trade) as a share of the market's traded notional from its first trade to the close ≥
 *    `minShare` (a manipulator also leaves bids or offers that the market hits);
 *  - price impact: the price at the close moved in the account's direction from before its first
 *    trade by ≥ `minImpactPct` and ≥ `k` × the market's rolling relative volatility — or the
 *    account dominated the flow (≥ `dominantShare` of it with ≥ `dominantOrders` orders), which is
 *    abnormal trading into the close in itself whatever the price did (an attempt is abuse too:
 *    MAR Art. 15);
 *  - abnormal against the account's own activity outside close windows: its window notional is
 *    ≥ `minAbnormal` × its average notional per window-length outside windows (accounts without
 *    history pass).
 * The reversal after the close (price `evalDelayMs` later back toward the pre-window price) is
 * reported and adds to the score. Legitimate traders who adjust positions before funding or
 * hedge before a settlement trade a few orders, a small share of the market, without moving it.
 *
 * Method: Comerton-Forde & Putniņš (2011), "Measuring closing price manipulation", J. Financial
 * Intermediation 20(2) — abnormal trading at the close, closing-price impact and next-day
 * reversal; Hillion & Suominen (2004), "The manipulation of closing prices", J. Financial Markets.
 */
export const markingTheCloseParams = z.object({
  ...baseParams,
  episodeGapMs: z.number().int().positive().default(600_000).describe('an episode closes after this much event time (ms) without a new observation'),
  windowMs: z.number().int().positive().default(300_000).describe('the window before a close that is watched'),
  evalDelayMs: z.number().int().nonnegative().default(20_000).describe('the test runs this long after the close (reversal measured then)'),
  minOrders: z.number().int().positive().default(5).describe('aggressive orders by the account in the window'),
  minDirectionality: z.number().min(0).max(1).default(0.8).describe('|bought − sold| / (bought + sold) of its aggressive notional'),
  minShare: z.number().min(0).max(1).default(0.2).describe('participation: its fills (aggressive and passive) as a share of the market’s traded notional from its first trade to the close'),
  minImpactPct: z.number().default(0.03).describe('price move (%) into the close in the account’s direction'),
  k: z.number().nonnegative().default(0.5).describe('…and at least k × the market’s rolling relative volatility'),
  dominantShare: z.number().min(0).max(1).default(0.4).describe('an account with at least this participation…'),
  dominantOrders: z.number().int().positive().default(15).describe('…and this many aggressive orders, one way, alerts whatever the price did (deep markets absorb the push; other flow may carry the price the other way)'),
  minAbnormal: z.number().nonnegative().default(3).describe('window notional vs the account’s average per window-length outside close windows'),
  baselineHalfLifeMs: z.number().int().positive().default(3_600_000).describe('half-life of the account’s outside-window activity rate'),
  fundingHours: z.array(z.number().min(0).max(23)).default([0, 8, 16]).describe('UTC funding hours when the feed gives no nextFundingTime'),
  settlementMinutes: z.number().int().positive().default(60).describe('index settlement interval (UTC grid) until settlement events show it'),
  maxAccountsPerClose: z.number().int().positive().default(50_000).describe('cap on accounts tracked per market and close'),
  bookLevels: z.number().int().positive().default(5).describe('levels per side in the evidence book snapshot'),
});
export type MarkingTheCloseParams = z.output<typeof markingTheCloseParams>;

class Rec {
  bought = 0;
  sold = 0;
  /** Passive (maker) fills after its first aggressive trade: part of its participation and direction. */
  passiveBought = 0;
  passiveSold = 0;
  orders = 0;
  lastOrder = '';
  firstTs = NaN;
  firstId = '';
  lastTs = NaN;
  lastId = '';
  startPrice = NaN;
  marketAtStart = 0;
  readonly trades: string[] = [];
}

class Baseline {
  rate = 0; // EW notional per ms outside windows
  lastTs = NaN;
  firstTs = NaN;
}

class CloseState {
  readonly recs = new Map<string, Rec>();
  marketNotional = 0;
  priceAtClose = NaN;
  done = false;
  constructor(readonly close: number, readonly kind: 'funding' | 'settlement') {}
}

class MarketState {
  nextFunding = NaN;
  settlementMs = 0;
  lastSettlement = NaN;
  readonly closes = new Map<number, CloseState>();
  constructor(readonly market: string, readonly kind: 'perp' | 'spot') {}
}

const HOUR = 3_600_000;
const EVENT_TYPES = ['trade', 'mark_price', 'funding', 'settlement', 'index_price', 'bbo', 'depth', 'order.placed', 'order.cancelled'] as const;

class MarkingTheCloseDetector implements Detector {
  readonly name = 'marking_the_close';
  readonly typology = 'marking_the_close' as const;
  readonly eventTypes = EVENT_TYPES;
  readonly policy: EpisodePolicy;
  private readonly markets = new Map<string, MarketState>();
  /** index market -> settlement interval learnt */
  private readonly settlementMsOf = new Map<string, { last: number; ms: number }>();
  /** spot component -> index market */
  private readonly indexOf = new Map<string, string>();
  private readonly baselines = new Map<string, Baseline>();
  private readonly pending = new Set<MarketState>();

  constructor(private readonly p: MarkingTheCloseParams) {
    this.policy = policyFrom(p);
  }

  private state(market: string): MarketState | undefined {
    let s = this.markets.get(market);
    if (s === undefined) {
      const perp = /-(PERP|SWAP)$|_PERP$/.test(market);
      if (perp) s = new MarketState(market, 'perp');
      else if (this.indexOf.has(market)) s = new MarketState(market, 'spot');
      else return undefined;
      this.markets.set(market, s);
    }
    return s;
  }

  /** The next close at or after ts for the market (NaN if none known): a funding on a perpetual, else a settlement. */
  private nextClose(s: MarketState, ts: number): number {
    if (s.kind === 'perp') {
      if (s.nextFunding >= ts) return s.nextFunding;
      const day = Math.floor(ts / (24 * HOUR)) * 24 * HOUR;
      let best = Infinity;
      for (const h of this.p.fundingHours) {
        let c = day + h * HOUR;
        if (c < ts) c += 24 * HOUR;
        if (c < best) best = c;
      }
      return Number.isFinite(best) ? best : NaN;
    }
    const idx = this.indexOf.get(s.market);
    const ms = (idx !== undefined ? this.settlementMsOf.get(idx)?.ms : undefined) || this.p.settlementMinutes * 60_000;
    return Math.ceil(ts / ms) * ms;
  }

  private price(market: string, ctx: DetectorContext): number {
    const t = ctx.books.touch(market);
    if (t.mid > 0) return t.mid;
    const mf = ctx.flow.peekMarket(market);
    return mf !== undefined && mf.lastPrice > 0 ? mf.lastPrice : NaN;
  }

  onEvent(e: ExchangeEvent, ctx: DetectorContext): void {
    switch (e.type) {
      case 'index_price': {
        if (e.components !== undefined) for (const c of e.components) if (!this.indexOf.has(c.market)) this.indexOf.set(c.market, e.market);
        const base = e.market.replace(/-INDEX$/, '');
        if (base !== e.market && !this.indexOf.has(base)) this.indexOf.set(base, e.market);
        return;
      }
      case 'settlement': {
        const base = e.market.replace(/-INDEX$/, '');
        if (base !== e.market && !this.indexOf.has(base)) this.indexOf.set(base, e.market);
        const prev = this.settlementMsOf.get(e.market);
        if (prev === undefined) this.settlementMsOf.set(e.market, { last: e.settlementTime, ms: 0 });
        else if (e.settlementTime > prev.last) {
          prev.ms = e.settlementTime - prev.last;
          prev.last = e.settlementTime;
        }
        return;
      }
      case 'mark_price': {
        const s = this.state(e.market);
        if (s !== undefined && e.nextFundingTime !== undefined) s.nextFunding = e.nextFundingTime;
        this.capture(e.market, ctx);
        return;
      }
      case 'funding': {
        const s = this.state(e.market);
        if (s !== undefined && e.fundingTime > ctx.ts && !(s.nextFunding >= ctx.ts)) s.nextFunding = e.fundingTime;
        return;
      }
      case 'trade':
        this.capture(e.market, ctx);
        return this.onTrade(e, ctx);
      default:
        if ('market' in e) this.capture((e as { market: string }).market, ctx);
        return;
    }
  }

  /** Records the price at the close: the market just before the first event at or after it. */
  private capture(market: string, ctx: DetectorContext): void {
    const s = this.markets.get(market);
    if (s === undefined || s.closes.size === 0) return;
    for (const c of s.closes.values()) if (ctx.ts >= c.close && !(c.priceAtClose > 0)) c.priceAtClose = this.price(market, ctx);
  }

  private onTrade(e: EventOf<'trade'>, ctx: DetectorContext): void {
    const s = this.state(e.market);
    if (s === undefined) return;
    const notional = ctx.px * ctx.sz;
    if (!(notional > 0)) return;
    const ts = ctx.ts;
    const taker = ctx.trade.taker;
    const side = ctx.trade.takerSide ?? (e.aggressor === 'unknown' ? undefined : e.aggressor);
    const nc = this.nextClose(s, ts);
    const inWindow = nc - ts <= this.p.windowMs && nc > ts;
    if (!inWindow) {
      if (taker !== undefined) this.baseline(taker, e.market, ts, notional);
      return;
    }
    let c = s.closes.get(nc);
    if (c === undefined) {
      s.closes.set(nc, (c = new CloseState(nc, s.kind === 'perp' ? 'funding' : 'settlement')));
      this.pending.add(s);
    }
    const before = c.marketNotional;
    c.marketNotional += notional;
    if (side === undefined) return;
    const maker = ctx.trade.maker;
    if (maker !== undefined && maker !== taker) {
      const m = c.recs.get(maker);
      if (m !== undefined) {
        if (side === 'buy') m.passiveSold += notional;
        else m.passiveBought += notional;
      }
    }
    if (taker === undefined) return;
    let r = c.recs.get(taker);
    if (r === undefined) {
      if (c.recs.size >= this.p.maxAccountsPerClose) return;
      c.recs.set(taker, (r = new Rec()));
      r.firstTs = ts;
      r.firstId = e.id;
      r.startPrice = this.price(e.market, ctx);
      r.marketAtStart = before;
    }
    if (side === 'buy') r.bought += notional;
    else r.sold += notional;
    const oid = e.takerOrderId ?? String(ts);
    if (oid !== r.lastOrder) {
      r.orders++;
      r.lastOrder = oid;
    }
    r.lastTs = ts;
    r.lastId = e.id;
    if (r.trades.length < 100) r.trades.push(e.tradeId);
  }

  private baseline(account: string, market: string, ts: number, notional: number): void {
    const key = pairKey(account, market);
    let b = this.baselines.get(key);
    if (b === undefined) {
      if (this.baselines.size > 500_000) return;
      this.baselines.set(key, (b = new Baseline()));
      b.firstTs = ts;
      b.lastTs = ts;
    }
    const dt = ts - b.lastTs;
    if (dt > 0) b.rate *= Math.pow(0.5, dt / this.p.baselineHalfLifeMs);
    b.rate += notional / this.p.baselineHalfLifeMs;
    b.lastTs = ts;
  }

  onWatermark(t: number, ctx: DetectorContext): void {
    if (this.pending.size === 0) return;
    for (const s of [...this.pending]) {
      for (const c of [...s.closes.values()]) {
        if (c.done || t < c.close + this.p.evalDelayMs) continue;
        c.done = true;
        this.evaluate(s, c, t, ctx);
        s.closes.delete(c.close);
      }
      if (s.closes.size === 0) this.pending.delete(s);
    }
  }

  private evaluate(s: MarketState, c: CloseState, t: number, ctx: DetectorContext): void {
    const closePx = c.priceAtClose > 0 ? c.priceAtClose : this.price(s.market, ctx);
    const afterPx = this.price(s.market, ctx);
    const mf = ctx.flow.peekMarket(s.market);
    const vol = mf !== undefined && mf.price.count >= 30 ? mf.relativeVolatility() * 100 : NaN;
    const accounts = [...c.recs.keys()].sort();
    for (const a of accounts) {
      const r = c.recs.get(a)!;
      if (r.orders < this.p.minOrders) continue;
      // Participation: its aggressive and passive fills from its first aggressive trade to the close.
      const bought = r.bought + r.passiveBought;
      const sold = r.sold + r.passiveSold;
      const gross = bought + sold;
      const dirn = Math.abs(bought - sold) / gross;
      if (!(dirn >= this.p.minDirectionality) || !(Math.abs(r.bought - r.sold) >= this.p.minDirectionality * (r.bought + r.sold))) continue;
      const mkt = c.marketNotional - r.marketAtStart;
      const share = mkt > 0 ? Math.min(1, gross / mkt) : 0;
      if (!(share >= this.p.minShare)) continue;
      const dir = bought >= sold ? 1 : -1;
      if (!(r.startPrice > 0 && closePx > 0)) continue;
      const impact = ((closePx - r.startPrice) / r.startPrice) * 100 * dir;
      const thr = Number.isFinite(vol) ? Math.max(this.p.minImpactPct, this.p.k * vol) : this.p.minImpactPct;
      // Dominating the flow into the close one way is abnormal trading in itself, whatever the price did
      // (deep markets absorb the push; other flow may even carry the price the other way).
      const dominant = share >= this.p.dominantShare && r.orders >= this.p.dominantOrders;
      if (!(impact >= thr) && !dominant) continue;
      const b = this.baselines.get(pairKey(a, s.market));
      const expected = b !== undefined ? b.rate * Math.pow(0.5, Math.max(0, r.firstTs - b.lastTs) / this.p.baselineHalfLifeMs) * this.p.windowMs : 0;
      const abnormal = expected > 0 ? gross / expected : Infinity;
      if (!(abnormal >= this.p.minAbnormal)) continue;
      const reversal = afterPx > 0 && closePx !== r.startPrice ? (closePx - afterPx) / (closePx - r.startPrice) : NaN;
      const score = Math.min(100, 50 + 25 * Math.log2(Math.min(share / this.p.minShare, impact >= thr && thr > 0 ? impact / thr : 1, (dirn / this.p.minDirectionality) * 2)) + (reversal > 0.3 ? 10 : 0));
      const key = `${a}\u0000${s.market}\u0000${c.close}`;
      const ep = ctx.alerts.episode(this, key, { id: r.firstId, ts: r.firstTs });
      ctx.alerts.episode(this, key, { id: r.lastId, ts: r.lastTs });
      ep.variant ??= c.kind;
      ep.addMarket(s.market).addAccount(a);
      for (const tr of r.trades) ep.addTrade(tr);
      if (ep.offer(Math.max(50, score))) {
        ep.notes.close = String(c.close);
        ep.notes.kind = c.kind;
        ep.notes.dir = dir > 0 ? 'buy' : 'sell';
        ep.notes.first = String(r.firstTs);
        ep.notes.startPrice = String(r.startPrice);
        ep.notes.closePrice = String(closePx);
        ep.notes.afterPrice = String(afterPx);
        ep.feature('aggressive_orders', r.orders, this.p.minOrders, '>=');
        ep.feature('directionality', dirn, this.p.minDirectionality, '>=');
        ep.feature('share_of_market_notional', share, this.p.minShare, '>=');
        ep.feature('impact_pct', impact, thr, '>=', '%');
        ep.feature('notional_vs_own_baseline', Number.isFinite(abnormal) ? abnormal : 1e9, this.p.minAbnormal, '>=', 'x');
        if (Number.isFinite(reversal)) ep.feature('reversal_after_close', reversal, 0.3, '>');
        ep.feature('seconds_before_close', (c.close - r.firstTs) / 1000, this.p.windowMs / 1000, '<=', 's');
        ep.book = ctx.books.snapshot(s.market, this.p.bookLevels);
      }
      ctx.alerts.commit(ep, t);
    }
  }

  explain(ep: Episode): string {
    const n = ep.notes;
    const share = ep.get('share_of_market_notional');
    const imp = ep.get('impact_pct');
    const rev = ep.get('reversal_after_close');
    const what = n.kind === 'funding' ? 'funding time' : 'index settlement';
    return (
      `Account ${ep.accounts.join(', ')} ${n.dir === 'buy' ? 'bought' : 'sold'} aggressively in ${ep.markets.join(', ')} from ${time(Number(n.first))} into the ${what} at ${time(Number(n.close))} ` +
      `(${num(ep.get('aggressive_orders')?.value ?? 0, 0)} orders, ${num((share?.value ?? 0) * 100, 0)}% of the market’s traded notional), moving the price ${pct(imp?.value ?? 0)} its way (${n.startPrice} → ${n.closePrice})` +
      (rev !== undefined ? `; ${num(rev.value * 100, 0)}% of the move reversed within ${num(this.p.evalDelayMs / 1000, 0)} s after.` : '.')
    );
  }
}

export const markingTheClose = defineDetector({
  name: 'marking_the_close',
  typology: 'marking_the_close',
  description: 'Abnormal one-directional aggressive trading by an account in the window before a funding time or index settlement that moves the price into it.',
  citation: 'Comerton-Forde & Putniņš (2011), Measuring closing price manipulation, J. Financial Intermediation 20(2); Hillion & Suominen (2004), The manipulation of closing prices, J. Financial Markets 7(4); ESMA MAR Guidelines Annex I',
  params: markingTheCloseParams,
  enabledByDefault: true,
  create: (p) => new MarkingTheCloseDetector(p),
});
