import { z } from 'zod';
import type { EventOf, ExchangeEvent } from '../../events/schema.js';
import { KeyedState, pairKey } from '../../stream/keyed.js';
import { RollingWindow } from '../../stream/rolling.js';
import type { BookSnapshot, BookSource } from '../../stream/books.js';
import type { MarketFlow } from '../../stream/order-flow.js';
import { P2Quantile } from '../../stream/rolling-quantile.js';
import { baseParams, defineDetector, policyFrom, type Detector, type DetectorContext, type EpisodePolicy } from '../detector.js';
import type { Episode } from '../emitter.js';
import { num, pct, plural, time } from './format.js';

/**
 * Fat finger / abnormal orders: orders priced far off the market, or far larger than the account
 * usually trades; and (variant off_market_trade) trade prints far from the market, which needs no
 * account data and so also runs on public feeds.
 *
 * Price test (limit orders placed or re-priced, and trades): the references are the mid just
 * before the event (when the book is two-sided, its spread is at most `maxSpreadPct`), the last
 * trade price, and — when the venue publishes them — the mark price and the index price (the
 * perpetual's `mark_price` and its index; a spot market's index from `index_price` events naming it
 * as a component, or `X-INDEX` for `X`), each only when at most `maxReferenceAgeMs` old. The
 * deviation is measured from the NEAREST of them: an order near the index or the last print is not
 * off-market just because the book is momentarily dislocated (a sweep, a pump, a thin side). The
 * deviation |price − reference| / reference must exceed BOTH the floor `minDeviationPct` AND
 * `k` × the market's volatility. For orders that is the volatility over `rangeMs` from sampled mid
 * returns: the mid is sampled at the first trade `volSampleMs` after the previous sample (spread at
 * most `maxSpreadPct`), σ of a sample return is 1.4826 × the P² median of |log return| (robust: a
 * sweep that empties the book for a moment, or a pump long gone, does not set the bar), scaled by
 * √(rangeMs / volSampleMs). For trade prints it is the EW standard deviation of trade prices over
 * the half-life `state.priceHalfLifeMs`, relative to their EW mean. Until `minSamples` samples
 * (trades for prints) the volatility is not trusted and the threshold is `coldStartDeviationPct`.
 *
 * Size test (orders at or through the touch: marketable, or joining or improving the best level on
 * their side — an oversized order resting behind the touch executes nothing and is judged by the
 * spoofing/layering detectors on how it is cancelled): the account's own history in the market — a
 * P² estimate of the `sizeQuantile` quantile of its past order sizes — and the order is abnormal
 * when its size exceeds `sizeMultiple` × that quantile, after at least `minHistory` orders, and also
 * exceeds `sizeMultiple` × its usual notional across the markets of the underlying (an account that
 * trades the perpetual in size is not fat-fingering the spot market with the same size). With
 * fewer orders in the market, the underlying's notionals decide once there are `minAccountHistory`;
 * with fewer still, the peers: each account's first `peerOrders` orders in the market (a typical
 * account's order, not a typical order — market makers place most orders).
 *
 * An oversized order paired with another account's oversized order on the other side (a linked
 * account's within `noticeMs`, any account's within `pairMs`), or whose account or a linked one
 * trades the other side while it rests, is a coordinated strategy (spoofing through a second
 * account, a prearranged cross), not a slip: it is no size suspect.
 *
 * An account with too little quoting history in the market (< `minDevHistory` orders) is compared
 * with its peers: the price threshold is at least `devMultiple` × the market's `devQuantile`
 * deviation over all accounts' limit orders (deep ladders of thin markets raise it) and at least
 * `newAccountDeviationPct` (default 3 %, the floor) for a passive order.
 *
 * A size suspect is a slip only if it stands alone: when the account placed an order of at least
 * `isolationShare` × its size in the market within `noticeMs` before it, or places one while it
 * rests, the account is working in size (a spoofer's genuine side next to its spoof, a campaign
 * pressing a close): no size suspect. A conditional order (stop, take-profit) is not on the book
 * until it triggers: it is not at the touch, and cancelling it is no noticed slip.
 *
 * A size error is an error because the trader notices it: a size-only suspect alerts when the
 * account cancels it (or amends it down) within `noticeMs` of placing it with part of it still
 * unfilled — the alert then dates from the placement. Deliberate blocks (a whale's sweep, an
 * algo's position, a momentum entry) execute and stay; if a market order's size sweeps the book,
 * its prints are tested for price (off_market_trade). A slip can also be picked off before the
 * trader notices: a size-only suspect of an account with little history in the market (judged
 * against the underlying's or its peers' sizes), at least `filledRatio` × the size threshold, whose
 * resting remainder other participants take in full within `noticeMs`, alerts on that last fill. One
 * that executes in full on arrival (a deliberate take) does not, nor one the account preceded
 * (within `noticeMs`) or followed while it rested with another order in the market (a slip is one
 * order; a campaign, e.g. marking the close, places more).
 *
 * In a fast market the band widens with it: the threshold is at least the width of the traded
 * range over `rangeMs` (max/min − 1), as exchanges' dynamic price bands do — a crash or a pump is not
 * a fat finger, and orders placed around it are not either.
 *
 * A passive order (not marketable: a bid below the ask, an offer above the bid) is measured also
 * against the market's traded range over the last `rangeMs`: a bid is off-market only below the
 * range's low, an offer only above its high — after a fast move, resting orders at the prices of a
 * few minutes ago are normal, and an order that cannot execute harms no one until the market
 * comes to it.
 *
 * Trade prints (variant off_market_trade) are tested when the taker is unknown (public feeds): with
 * account data the taker's order was judged itself (its limit price, or its size for a market
 * order), and a print off the mid is the depth it met (a sweep of a thin book, a pump's rush).
 *
 * A passive off-market order (it cannot execute on arrival) is reported only when its account
 * cancels or re-prices it within `noticeMs` (it noticed: feature `cancelled_after_ms`), or when it
 * lies at least `restingMultiple` × the threshold away (no quote is meant there: a shifted decimal
 * point); one left resting is a deliberate deep quote (a bid waiting for a crash). Not before
 * `confirmMs`, and not when the account placed or re-priced another quote on that side off-market
 * within it (a slip is one order; a quoting algorithm widening in a fast market or a ladder shifted in
 * one go repeats itself), nor when it quoted the other side off the reference the same way within it
 * (its two-sided quote moved to a new level, e.g. in a one-sided book: a slip's other side stays at
 * the market).
 *
 * Score: 50 + 25·log2(observed / threshold) for the stronger test (50 at the threshold, 75 at
 * twice, 100 at four times), +10 when the order was marketable on arrival; capped at 100. One
 * episode per account × market (per market for trades without accounts) within `episodeGapMs`.
 *
 * Method: exchange price-band / "limit up-limit down" style collars and fat-finger controls
 * (ESMA Guidelines on systems and controls in an automated trading environment, ESMA/2012/122,
 * guideline 5 (pre-trade controls: price collars, maximum order size); MiFID II RTS 6 Art. 15 and
 * RTS 7 Art. 20); deviation scaled by realised volatility as in dynamic price bands (e.g. the
 * volatility-interruption mechanisms of Deutsche Börse Xetra). Size against the account's own
 * history follows the "unusual order size" checks of market-abuse surveillance (ESMA MAR
 * Guidelines, Annex I indicators).
 */
export const fatFingerParams = z.object({
  ...baseParams,
  k: z.number().positive().default(8).describe('price deviation must exceed k × rolling relative volatility'),
  minDeviationPct: z.number().nonnegative().default(3).describe('…and this absolute floor (% of the reference price)'),
  coldStartDeviationPct: z.number().positive().default(10).describe('threshold (%) while the market has fewer than minSamples trades'),
  minSamples: z.number().int().nonnegative().default(50).describe('trades (trade prints) / mid samples (orders) needed before the volatility estimate is trusted'),
  volSampleMs: z.number().int().positive().default(10_000).describe('orders: the mid is sampled for volatility at the first trade at least this long after the previous sample'),
  isolationShare: z.number().positive().default(0.5).describe('a size suspect is a slip only if it stands alone: the account placed no order in the market of at least this share of its size within noticeMs before it, nor places one while it rests (a strategy works in size: spoofing, pressing a close)'),
  maxSpreadPct: z.number().positive().default(1).describe('a mid from a wider spread (% of mid) is not used as reference; the last trade is'),
  maxReferenceAgeMs: z.number().int().positive().default(300_000).describe('reference data older than this (event time) is not used'),
  sizeQuantile: z.number().min(0.5).max(1).default(0.99).describe('quantile of the account’s past order sizes in the market'),
  sizeMultiple: z.number().positive().default(10).describe('size must exceed this multiple of that quantile'),
  minHistory: z.number().int().positive().default(30).describe('orders in the account’s history before the size test applies'),
  minAccountHistory: z.number().int().positive().default(3).describe('with fewer than minHistory orders in the market, the size test uses the notional of the account’s orders across the markets of the same underlying (ctx.partitionKey) once it has this many (with so few, their p99 is their largest)'),
  pairMs: z.number().int().nonnegative().default(5_000).describe('oversized orders on both sides of a market from two accounts this close in time are a coordinated pair even when the accounts are not known to be linked (linked ones: within noticeMs)'),
  peerOrders: z.number().int().positive().default(5).describe('each account’s first this-many orders in a market feed the market’s peer size distribution (a typical account’s order, not a typical order: market makers place most orders)'),
  marketSizeMultiple: z.number().positive().default(5).describe('an account with too little history alerts on size when its order notional exceeds this multiple of the peers’ sizeQuantile order notional…'),
  marketMedianMultiple: z.number().positive().default(25).describe('…or this multiple of the peers’ median order notional'),
  devQuantile: z.number().min(0.5).max(1).default(0.99).describe('quantile of the account’s past limit-price deviations from the reference in the market'),
  devMultiple: z.number().positive().default(2).describe('a price deviation must also exceed this multiple of that quantile (accounts that routinely quote far away, e.g. market makers’ deep ladders, do not alert)'),
  minDevHistory: z.number().int().positive().default(20).describe('limit orders in the account’s history before the deviation-history test applies'),
  newAccountDeviationPct: z.number().positive().default(3).describe('price threshold (%) for a passive order from an account with less history than minDevHistory in the market (its quoting habits are unknown: a new market maker’s deep ladder); a marketable one is held to the floor and its peers’ habits (see devMultiple)'),
  minPeerSamples: z.number().int().positive().default(50).describe('limit orders in the market before the peers’ deviation quantile is used'),
  historyIdleMs: z.number().int().positive().default(7 * 86_400_000).describe('forget an account’s size history after this much inactivity'),
  maxAccounts: z.number().int().positive().default(500_000).describe('cap on accounts with size history (memory bound)'),
  noticeMs: z.number().int().positive().default(60_000).describe('a size-only suspect alerts when the account cancels or amends it down within this of placing it'),
  filledRatio: z.number().positive().default(4).describe('a size-only suspect from an account with little history in the market (sizes judged against the underlying or its peers) also alerts when its resting remainder is taken in full by others within noticeMs (not in full on arrival) and its size is at least this multiple of the size threshold (sizeMultiple × the usual size)'),
  rangeMs: z.number().int().positive().default(300_000).describe('passive orders are also measured from the market’s traded range over this window'),
  confirmMs: z.number().int().nonnegative().default(10_000).describe('a passive off-market order alerts after this long unless the account placed another off-market quote on that side meanwhile (a deliberate repricing)'),
  restingMultiple: z.number().positive().default(4).describe('a passive off-market order alerts when the account cancels or re-prices it within noticeMs (it noticed), or when its deviation is at least this multiple of the threshold (no quote is meant that far off: a shifted decimal point); one left resting is a deliberate deep quote'),
  repeatShare: z.number().positive().default(0.5).describe('a later quote counts as a repeat when its deviation exceeds this share of the price threshold'),
  checkTrades: z.boolean().default(true).describe('also test trade prints against the market (variant off_market_trade)'),
  bookLevels: z.number().int().positive().default(5).describe('levels per side in the evidence book snapshot'),
});
export type FatFingerParams = z.output<typeof fatFingerParams>;

const ORDER_TYPES = ['order.placed', 'order.amended', 'order.cancelled', 'trade', 'mark_price', 'index_price'] as const;

/** The order an observation is about, as the alert reports it. */
interface OrderSeen {
  eventId: string;
  ts: number;
  account: string;
  market: string;
  orderId: string;
  side: string;
  price: string;
  size: string;
}

/** A size-only suspect waiting for the trader to notice it. */
interface Suspect extends OrderSeen {
  sizeQ: number;
  histN: number;
  basis: SizeBasis;
  score: number;
  marketable: boolean;
  book: BookSnapshot | undefined;
  /** size as a float, and how much of it has executed so far */
  sizeNum: number;
  filled: number;
  /** the account placed another order in the market within noticeMs before it or while it rested (a campaign, not one slip) */
  followed: boolean;
}

/** An order found off-market or oversized, with what the alert reports. */
interface Finding extends OrderSeen {
  type: 'order.placed' | 'order.amended';
  priceScore: number;
  sizeScore: number;
  dev: number;
  thr: number;
  vol: number;
  devQ: number;
  peerQ: number;
  sizeQ: number;
  sizeNum: number;
  histN: number;
  sizeBasis: SizeBasis;
  marketable: boolean;
  refKind: string;
  refPrice: number;
  book: BookSnapshot | undefined;
  /** A later off-market quote of the account on this side came within confirmMs. */
  repeated: boolean;
  /** a passive one: ms after placement at which the account cancelled it or amended it (noticed), -1 if not (yet) */
  noticedMs: number;
}

/** What an order's size was judged against: the account's orders in this market, across the underlying's markets, or its peers'. */
type SizeBasis = 'own' | 'underlying' | 'peers';

/** A reference price with its event time. */
interface Ref {
  px: number;
  ts: number;
}

interface Hist {
  size: P2Quantile;
  /** Limit-price deviations; created on the first price-tested order (never for the underlying's entry). */
  dev: P2Quantile | undefined;
  /** The account's entry across the underlying's markets (same map, key Mkt.groupKey): notionals; undefined on that entry itself. */
  group: Hist | undefined;
  /** the largest order the account placed here within the last noticeMs (approximately: reset when the held one is older), and when */
  recentSz: number;
  recentTs: number;
  /** when the account last placed an order here */
  lastTs: number;
  /** the account's last limit price on each side here, and when (a two-sided re-centring, see recentred) */
  buyPx: number;
  buyTs: number;
  sellPx: number;
  sellTs: number;
}

function newHistory(): Map<string, Hist> {
  return new Map();
}

/** Everything kept per market, fetched with one lookup per event. */
class Mkt {
  /** traded prices over rangeMs (min/max); created on the first trade */
  range: RollingWindow | undefined = undefined;
  /** mark price; index price (perps from mark_price, spot components from index_price) */
  mark: Ref | undefined = undefined;
  index: Ref | undefined = undefined;
  /** last order tested by the price test (its prints are not tested again) */
  lastTested: string | undefined = undefined;
  /** P² quantile and median of order notionals (each account's first peerOrders orders) */
  sizes: P2Quantile | undefined = undefined;
  medians: P2Quantile | undefined = undefined;
  /** P² quantile of limit-price deviations (all accounts) */
  devs: P2Quantile | undefined = undefined;
  /** the last few oversized placements (see pairedWithLinked) */
  oversized: { account: string; side: string; ts: number }[] = [];
  /** orderId -> size-only suspect */
  readonly suspects = new Map<string, Suspect>();
  /** key of the account's history across the underlying's markets (ctx.partitionKey), set on first use */
  groupKey = '';
  /** mid at the last volatility sample (the first trade volSampleMs after the one before), when, and the P² median of |log mid return| between samples */
  midPrev = 0;
  midTs = 0;
  absR: P2Quantile | undefined = undefined;
  nR = 0;
  /** the market's order flow (markets are never removed from it), once it exists */
  flow: MarketFlow | undefined = undefined;
}

class FatFingerDetector implements Detector {
  readonly name = 'fat_finger';
  readonly typology = 'fat_finger' as const;
  readonly eventTypes: readonly (typeof ORDER_TYPES)[number][];
  readonly policy: EpisodePolicy;
  /** account -> market -> P² quantile of order sizes */
  private readonly history: KeyedState<string, Map<string, Hist>>;
  // scratch for the reference price (no allocation per event)
  private refPrice = NaN;
  private refKind = '';
  private marketable = false;
  private samples = 0;
  private readonly mkts = new Map<string, Mkt>();
  /** size-only suspects over all markets (each market keeps its own) */
  private nSuspects = 0;
  /** account × market -> passive off-market order waiting confirmMs (no repeat) before it alerts */
  private readonly pending = new Map<string, Finding>();
  /** dev at or below this cannot reach any price threshold (or the repeat share of one): the lowest threshold × min(1, repeatShare) */
  private readonly devBound: number;

  constructor(private readonly p: FatFingerParams) {
    this.policy = policyFrom(p);
    this.eventTypes = p.checkTrades ? ORDER_TYPES : ORDER_TYPES.filter((t) => t !== 'trade');
    this.history = new KeyedState(newHistory, { idleMs: p.historyIdleMs, maxKeys: p.maxAccounts });
    this.devBound = Math.min(p.minDeviationPct, p.coldStartDeviationPct) * Math.min(1, p.repeatShare);
  }

  private flowOf(mk: Mkt, market: string, ctx: DetectorContext): MarketFlow | undefined {
    return mk.flow ?? (mk.flow = ctx.flow.peekMarket(market));
  }

  private mkt(market: string): Mkt {
    let m = this.mkts.get(market);
    if (m === undefined) this.mkts.set(market, (m = new Mkt()));
    return m;
  }

  onEvent(ev: ExchangeEvent, ctx: DetectorContext): void {
    const ts = ctx.ts;
    if (ev.type === 'trade') {
      const m = this.mkt(ev.market);
      if (m.range === undefined) m.range = new RollingWindow(this.p.rangeMs);
      this.evPx = ctx.px;
      if (ts - m.midTs >= this.p.volSampleMs) {
        const t = ctx.books.touch(ev.market);
        if (t.spread <= (t.mid * this.p.maxSpreadPct) / 100) this.midReturn(m, t.mid, ts);
      }
      this.onTrade(ev, m, ctx);
      m.range.add(ts, this.evPx);
      return;
    }
    if (ev.type === 'order.cancelled') {
      if (this.nSuspects > 0 && ev.reason === 'user') this.noticed(this.mkt(ev.market), ev.market, ev.orderId, ts, ctx);
      if (this.pending.size > 0 && ev.reason === 'user') this.pendingNoticed(ev.accountId, ev.market, ev.orderId, ts, ctx);
      return;
    }
    if (ev.type === 'mark_price') {
      const m = this.mkt(ev.market);
      m.mark = setRef(m.mark, +ev.markPrice, ts);
      if (ev.indexPrice !== undefined) m.index = setRef(m.index, +ev.indexPrice, ts);
      return;
    }
    if (ev.type === 'index_price') {
      const px = ctx.px;
      if (ev.components !== undefined && ev.components.length > 0) {
        for (const c of ev.components) {
          const m = this.mkt(c.market);
          m.index = setRef(m.index, px, ts);
        }
      } else if (ev.market.endsWith('-INDEX')) {
        const m = this.mkt(ev.market.slice(0, -6));
        m.index = setRef(m.index, px, ts);
      }
      return;
    }
    if (ev.type === 'order.placed' || ev.type === 'order.amended') {
      // read here, where the getters inline: onOrder is too large for them to, and a float returned from a call is boxed
      this.evPx = ctx.px;
      this.evSz = ctx.sz;
      this.onOrder(ev, ctx);
    }
  }

  /** The event's price and size as floats (ctx.px, ctx.sz), set by onEvent. */
  private evPx = NaN;
  private evSz = NaN;

  /** An order placed or amended: the price test, then the size test. */
  private onOrder(e: EventOf<'order.placed'> | EventOf<'order.amended'>, ctx: DetectorContext): void {
    const ts = ctx.ts;
    const m = this.mkt(e.market);
    const lp = this.evPx;
    if (m.suspects.size > 0 && e.type === 'order.placed') {
      for (const [k, s] of m.suspects) {
        if (s.account !== e.accountId) continue;
        s.followed = true;
        // another order of comparable size while it rests: a strategy working in size, not one slip
        if (this.evSz >= this.p.isolationShare * s.sizeNum) this.dropSuspect(m, k);
      }
    }
    // the touch, read once (a scratch object the books overwrite on every call)
    const t = ctx.books.touch(e.market);
    const tBid = t.bid;
    const tAsk = t.ask;
    const tMid = t.mid;
    let priceScore = 0;
    let dev = NaN;
    let thr = NaN;
    let vol = NaN;
    let side: 'buy' | 'sell' | undefined;
    if (e.type === 'order.placed') side = e.side;
    else side = ctx.books.orderSide(e.market, e.orderId);
    const isLimit = e.type === 'order.amended' || e.orderType === 'limit';
    const byMarket = this.history.get(e.accountId, ts);
    let h = byMarket.get(e.market);
    if (h === undefined) {
      // Across the markets of one underlying only (ctx.partitionKey): an "all markets" history would
      // differ between --workers 1 and N, whose partitions each see a subset of the markets.
      if (m.groupKey === '') m.groupKey = pairKey('', ctx.partitionKey(e.market));
      let g = byMarket.get(m.groupKey);
      if (g === undefined) byMarket.set(m.groupKey, (g = { size: new P2Quantile(this.p.sizeQuantile), dev: undefined, group: undefined, recentSz: 0, recentTs: 0, lastTs: -Infinity, buyPx: 0, buyTs: 0, sellPx: 0, sellTs: 0 }));
      byMarket.set(e.market, (h = { size: new P2Quantile(this.p.sizeQuantile), dev: undefined, group: g, recentSz: 0, recentTs: 0, lastTs: -Infinity, buyPx: 0, buyTs: 0, sellPx: 0, sellTs: 0 }));
    }
    let devQ = NaN;
    let peerQ = NaN;
    if (isLimit && e.price !== undefined && this.reference(e.market, m, ts, ctx, tMid, t.spread, t.ts, t.source)) {
      const px = lp;
      this.nearestDeviation(e.market, m, ctx);
      dev = this.best * 100;
      m.lastTested = e.orderId;
      const r = m.range;
      if (r !== undefined) r.advance(ts);
      if (side !== undefined) {
        this.marketable = side === 'buy' ? px >= tAsk : px <= tBid;
        // A passive order: off-market only beyond the recent traded range on its side.
        if (r !== undefined && !this.marketable) {
          const edge = r.count > 0 ? (side === 'buy' ? r.min() : r.max()) : NaN;
          if (edge > 0 && (side === 'buy' ? px >= edge : px <= edge)) dev = 0;
          else if (edge > 0) {
            const d = (Math.abs(px - edge) / edge) * 100;
            if (d < dev) {
              dev = d;
              this.refPrice = edge;
              this.refKind = side === 'buy' ? 'recent low' : 'recent high';
            }
          }
        }
      }
      let hd = h.dev;
      if (hd === undefined) h.dev = hd = new P2Quantile(this.p.devQuantile);
      let peers = m.devs;
      if (peers === undefined) m.devs = peers = new P2Quantile(this.p.devQuantile);
      // Every threshold below only raises the lowest one: a quote within devBound (most quotes) is
      // judged without the volatility, range and habit lookups.
      if (dev > this.devBound) {
        this.priceThreshold(m, hd, peers);
        vol = this.volPct;
        thr = this.thr;
        devQ = this.devQ;
        peerQ = this.peerQ;
        if (dev > thr) priceScore = score(dev / thr) + (this.marketable ? 10 : 0);
      }
      if (Number.isFinite(dev)) {
        // (P² has no window: its time argument is unused, and 0 is not a boxed float)
        hd.add(0, dev);
        // The market's habit is learnt from orders that did not alert: a burst of fat fingers must
        // not raise the bar for the next one (an account's own habit still absorbs its repeats).
        if (priceScore === 0) peers.add(0, dev);
      }
    }
    // Size against the account's own history in this market (placements, and amendments that grow).
    let sizeScore = 0;
    let size = NaN;
    let sizeQ = NaN;
    let histN = 0;
    let sizeBasis: SizeBasis = 'own';
    let peerLim = NaN;
    let isolated = true;
    // the account placed another order here within noticeMs before this one (a slip taken in full must be one order)
    const preceded = ts - h.lastTs <= this.p.noticeMs;
    if (e.type === 'order.placed') h.lastTs = ts;
    // At or through the touch: marketable, a market order, or joining/improving the best level.
    // (a conditional order — stop, take-profit — is not on the book until it triggers: not at the touch)
    const conditional = e.type === 'order.placed' && e.orderType !== 'limit' && e.orderType !== 'market';
    const atTouch = !conditional && (!isLimit || !(lp > 0) || side === undefined || (side === 'buy' ? !(lp < tBid) : !(lp > tAsk)));
    if (e.size !== undefined) {
      size = this.evSz;
      const q = h.size;
      histN = q.count;
      const all = h.group!;
      const px = e.price !== undefined ? lp : tMid;
      const notional = px > 0 ? size * px : NaN;
      // the peers' limit matters only to an account with little history here (the size test below, and the pairing test)
      peerLim = notional > 0 && histN <= this.p.minHistory ? this.peerLimit(m) : NaN;
      if (histN >= this.p.minHistory) {
        sizeQ = q.value();
        // the account's usual notional across the underlying's markets, as a size here
        const acrossQ = all.size.count >= this.p.minAccountHistory && notional > 0 ? (all.size.value() / notional) * size : 0;
        if (acrossQ > sizeQ) {
          sizeQ = acrossQ;
          sizeBasis = 'underlying';
        }
        if (sizeQ > 0 && size > this.p.sizeMultiple * sizeQ) sizeScore = score(size / (this.p.sizeMultiple * sizeQ));
      } else if (all.size.count < this.p.minAccountHistory && notional > 0) {
        if (Number.isFinite(peerLim)) {
          sizeBasis = 'peers';
          histN = m.sizes!.count;
          sizeQ = (peerLim / this.p.sizeMultiple / notional) * size;
          if (size > this.p.sizeMultiple * sizeQ) sizeScore = score(size / (this.p.sizeMultiple * sizeQ));
        }
      } else if (all.size.count >= this.p.minAccountHistory && notional > 0) {
        // little history in this market: compare the order's notional with the account's usual notional
        const nq = all.size.value();
        if (nq > 0) {
          sizeBasis = 'underlying';
          histN = all.size.count;
          sizeQ = (nq / notional) * size * 1.5; // the size at the account's usual notional, ×1.5: notionals across markets vary more
          if (size > this.p.sizeMultiple * sizeQ) sizeScore = score(size / (this.p.sizeMultiple * sizeQ));
        }
      }
      if (e.type === 'order.placed') {
        // isolation: the largest order of the account here within noticeMs (before this one)
        if (ts - h.recentTs <= this.p.noticeMs) {
          if (h.recentSz >= this.p.isolationShare * size) isolated = false;
          if (size >= h.recentSz) {
            h.recentSz = size;
            h.recentTs = ts;
          }
        } else {
          h.recentSz = size;
          h.recentTs = ts;
        }
        // peers: each account's first peerOrders orders here, so every account weighs alike
        if (notional > 0 && histN < this.p.peerOrders) {
          if (m.sizes === undefined) m.sizes = new P2Quantile(this.p.sizeQuantile);
          if (m.medians === undefined) m.medians = new P2Quantile(0.5);
          m.medians.add(0, notional);
          m.sizes.add(0, notional);
        }
        q.add(0, size);
        if (notional > 0) all.size.add(0, notional);
      }
    }
    // (a low-history account's order beyond the peers' limit counts as oversized even when its own few orders were as large)
    if ((sizeScore > 0 || (h.size.count <= this.p.minHistory && size * (lp > 0 ? lp : tMid) > peerLim)) && e.type === 'order.placed' && this.pairedWithLinked(m, e.accountId, side, ts, ctx)) sizeScore = 0;
    if (!atTouch || !isolated) sizeScore = 0;
    const marketable = this.marketable || !isLimit;
    if (priceScore === 0 && sizeScore > 0) {
      // size alone: wait for the trader to notice (cancel or amend down)
      if (e.type === 'order.placed' && this.nSuspects < 10_000) {
        if (!m.suspects.has(e.orderId)) this.nSuspects++;
        m.suspects.set(e.orderId, {
          eventId: e.id, ts, account: e.accountId, market: e.market, orderId: e.orderId, side: side ?? '?', price: e.price ?? '', size: e.size ?? '', sizeQ, histN, basis: sizeBasis,
          score: sizeScore, marketable, book: ctx.books.snapshot(e.market, this.p.bookLevels), sizeNum: size, filled: 0, followed: preceded,
        });
      } else if (e.type === 'order.amended') this.noticed(m, e.market, e.orderId, ts, ctx);
      return;
    }
    if (e.type === 'order.amended' && this.nSuspects > 0) this.noticed(m, e.market, e.orderId, ts, ctx);
    if (isLimit && lp > 0 && side !== undefined) {
      if (side === 'buy') {
        h.buyPx = lp;
        h.buyTs = ts;
      } else {
        h.sellPx = lp;
        h.sellTs = ts;
      }
      // a quote on the other side of a waiting passive off-market one, off the same way: re-centring
      if (this.pending.size > 0) {
        const prev = this.pending.get(pairKey(e.accountId, e.market));
        if (prev !== undefined && prev.side !== side && ts - prev.ts <= this.p.confirmMs && this.sameWay(prev.refPrice, +prev.price, lp, prev.thr)) prev.repeated = true;
        // the waiting order itself re-priced: noticed (re-priced off-market again, it is also a repeat below)
        if (prev !== undefined && prev.orderId === e.orderId && prev.noticedMs < 0 && ts - prev.ts <= this.p.noticeMs) prev.noticedMs = ts - prev.ts;
      }
    }
    if (priceScore === 0 && !(Number.isFinite(dev) && dev > thr * this.p.repeatShare)) return;
    // A passive off-market quote that repeats an earlier one of the account on this side (within
    // confirmMs) is a deliberate repricing — a quoting algorithm widening in a fast market, a ladder
    // shifted in one go — not a slip: the earlier one is withdrawn and this one is not reported.
    const pk = pairKey(e.accountId, e.market);
    if (this.pending.size > 0) {
      const prev = this.pending.get(pk);
      if (prev !== undefined && prev.side === (side ?? '?') && ts - prev.ts <= this.p.confirmMs) {
        prev.repeated = true;
        if (priceScore > 0 && sizeScore === 0 && !this.marketable) return;
      }
    }
    if (priceScore === 0 && sizeScore === 0) return;
    const f: Finding = {
      eventId: e.id, ts, type: e.type, account: e.accountId, market: e.market, orderId: e.orderId, side: side ?? '?', price: e.price ?? '', size: e.size ?? '',
      priceScore, sizeScore, dev, thr, vol, devQ, peerQ, sizeQ, sizeNum: size, histN, sizeBasis, marketable, refKind: this.refKind, refPrice: this.refPrice,
      book: undefined, repeated: false, noticedMs: -1,
    };
    if (priceScore > 0 && sizeScore === 0 && !this.marketable && this.pending.size < 10_000) {
      // the account quoted the other side off the same way just before: its two-sided quote moved (re-centring on a new level), not a slip
      const oppPx = side === 'buy' ? h.sellPx : h.buyPx;
      const oppTs = side === 'buy' ? h.sellTs : h.buyTs;
      if (ts - oppTs <= this.p.confirmMs && this.sameWay(this.refPrice, lp, oppPx, thr)) return;
      // passive and priced off: it harms no one until the market comes to it; confirm it is a one-off
      f.book = ctx.books.snapshot(e.market, this.p.bookLevels);
      this.pending.set(pk, f);
      return;
    }
    this.emit(f, ctx, ts);
  }

  /**
   * A quote at `other` is off the reference the same way as the off-market one at `px` (both above it or
   * both below) by more than repeatShare × its threshold: the account re-centred its two-sided quote on
   * a new level (after a gap, in a one-sided or wide book), while a slip's other side stays at the market.
   */
  private sameWay(ref: number, px: number, other: number, thr: number): boolean {
    return other > 0 && (other - ref) * (px - ref) > 0 && (Math.abs(other - ref) / ref) * 100 > this.p.repeatShare * thr;
  }

  // priceThreshold's results (fields: a float returned from a call that is not inlined is boxed)
  private thr = NaN;
  private devQ = NaN;
  private peerQ = NaN;

  /**
   * The price threshold of an order (into thr, volPct, devQ, peerQ): the floor and k × volatility
   * (coldStartDeviationPct before minSamples trades), the traded range's width, and the account's
   * own deviation habit (or, with little history, newAccountDeviationPct when passive and its peers').
   */
  private priceThreshold(m: Mkt, hd: P2Quantile, peers: P2Quantile): void {
    this.horizonVolPct(m);
    const vol = this.volPct;
    let thr = Number.isFinite(vol) ? Math.max(this.p.minDeviationPct, this.p.k * vol) : this.p.coldStartDeviationPct;
    const r = m.range;
    const width = r !== undefined && r.count > 1 ? (r.max() / r.min() - 1) * 100 : 0;
    if (width > thr) thr = width;
    this.devQ = NaN;
    this.peerQ = NaN;
    if (hd.count >= this.p.minDevHistory) {
      const devQ = (this.devQ = hd.value());
      if (devQ * this.p.devMultiple > thr) thr = devQ * this.p.devMultiple;
    } else {
      if (!this.marketable && thr < this.p.newAccountDeviationPct) thr = this.p.newAccountDeviationPct;
      if (peers.count >= this.p.minPeerSamples) {
        const peerQ = (this.peerQ = peers.value());
        if (peerQ * this.p.devMultiple > thr) thr = peerQ * this.p.devMultiple;
      }
    }
    this.thr = thr;
  }

  private emit(f: Finding, ctx: DetectorContext, now: number): void {
    const ep = ctx.alerts.episode(this, pairKey(f.account, f.market), { id: f.eventId, ts: f.ts });
    ep.variant ??= 'order';
    ep.addMarket(f.market).addAccount(f.account).addOrder(f.orderId);
    ep.data.orders = (ep.data.orders ?? 0) + 1;
    if (ep.offer(Math.min(100, Math.max(f.priceScore, f.sizeScore)))) {
      ep.notes.kind = f.priceScore >= f.sizeScore ? 'price' : 'size';
      ep.notes.orderId = f.orderId;
      ep.notes.side = f.side;
      ep.notes.price = f.price;
      ep.notes.size = f.size;
      ep.notes.event = f.type === 'order.placed' ? 'placed' : 'amended';
      ep.notes.marketable = f.marketable ? 'yes' : 'no';
      ep.notes.ts = String(f.ts);
      if (Number.isFinite(f.dev)) {
        ep.notes.refKind = f.refKind;
        ep.notes.ref = String(f.refPrice);
        this.samples = this.mkt(f.market).nR;
        this.refPrice = f.refPrice;
        this.priceFeatures(ep, f.dev, f.thr, f.vol, +f.price);
        if (Number.isFinite(f.devQ)) ep.feature('deviation_vs_own_history', f.dev, f.devQ * this.p.devMultiple, '>', '%');
        else if (Number.isFinite(f.peerQ)) ep.feature('deviation_vs_peers', f.dev, f.peerQ * this.p.devMultiple, '>', '%');
        if (!f.marketable) {
          ep.feature('repeated_within_ms', 0, this.p.confirmMs, '==', 'orders');
          if (f.noticedMs >= 0) ep.feature('cancelled_after_ms', f.noticedMs, this.p.noticeMs, '<=', 'ms');
          else ep.feature('deviation_over_threshold', f.dev / f.thr, this.p.restingMultiple, '>=', 'x');
        }
      }
      if (Number.isFinite(f.sizeQ)) {
        ep.feature('size_multiple_of_history_quantile', f.sizeNum / f.sizeQ, this.p.sizeMultiple, '>', 'x');
        ep.feature('order_size', f.sizeNum, this.p.sizeMultiple * f.sizeQ, '>');
        ep.feature('history_orders', f.histN, this.minHistoryFor(f.sizeBasis), '>=');
        ep.notes.sizeBasis = f.sizeBasis;
      }
      ep.book = f.book ?? ctx.books.snapshot(f.market, this.p.bookLevels);
    }
    ctx.alerts.commit(ep, now);
  }

  /** The peers' notional limit in a market: the lower of marketSizeMultiple × their p99 and marketMedianMultiple × their median; NaN until minPeerSamples. */
  private peerLimit(mk: Mkt): number {
    const mq = mk.sizes;
    const md = mk.medians;
    if (mq === undefined || md === undefined || mq.count < this.p.minPeerSamples) return NaN;
    const v = mq.value();
    const m = md.value();
    const lim = Math.min(v > 0 ? this.p.marketSizeMultiple * v : Infinity, m > 0 ? this.p.marketMedianMultiple * m : Infinity);
    return Number.isFinite(lim) ? lim : NaN;
  }

  /**
   * An oversized placement (beyond the account's history, or the peers' limit) paired with a linked account's oversized order on the other side within
   * noticeMs (any account's within pairMs; either first) is a coordinated strategy (spoofing through a linked account, a
   * prearranged cross), not one trader's slip: neither is a size suspect. Keeps the last few
   * oversized placements per market.
   */
  private pairedWithLinked(m: Mkt, account: string, side: string | undefined, ts: number, ctx: DetectorContext): boolean {
    const recent = m.oversized;
    let paired = false;
    for (const r of recent) {
      if (ts - r.ts > this.p.noticeMs || r.side === side || r.account === account) continue;
      if (ts - r.ts > this.p.pairMs && !ctx.links.areLinked(r.account, account)) continue;
      paired = true;
      if (m.suspects.size > 0) for (const [k, s] of m.suspects) if (s.account === r.account) this.dropSuspect(m, k);
    }
    if (recent.length >= 8) recent.shift();
    recent.push({ account, side: side ?? '?', ts });
    return paired;
  }

  /**
   * A size suspect whose account (or a linked one) trades the other side while it rests is not an
   * error that was noticed: it is the spoofing pattern (a large order shown, a trade on the other
   * side, the order pulled), judged by the spoofing detector. The suspect is dropped.
   */
  private tradedAgainst(m: Mkt, ctx: DetectorContext): void {
    const { maker, taker, takerSide } = ctx.trade;
    if (takerSide === undefined) return;
    for (const [k, s] of m.suspects) {
      // the taker bought: a sell suspect of the taker, or a buy suspect of the maker (who sold)
      const other = s.side !== takerSide ? taker : maker;
      if (other !== undefined && (other === s.account || ctx.links.areLinked(s.account, other))) this.dropSuspect(m, k);
    }
  }

  /** The account cancelled or amended a size suspect: alert if within noticeMs (dated from its placement). */
  private noticed(m: Mkt, market: string, orderId: string, ts: number, ctx: DetectorContext): void {
    const s = m.suspects.get(orderId);
    if (s === undefined) return;
    this.dropSuspect(m, orderId);
    if (ts - s.ts > this.p.noticeMs) return;
    const account = ctx.books.accountOf(market, orderId);
    if (account === undefined) return;
    this.suspectAlert(s, account, market, orderId, ts, ctx, 'cancelled_after_ms');
  }

  /**
   * A size suspect from an account with little history in the market, far beyond the threshold
   * (filledRatio), whose remainder rested at the touch and was taken in full by other participants
   * within noticeMs: a slip the market picked off before the trader could cancel it, reported on its
   * last fill. An order that executes in full on arrival (a deliberate take: a block, a momentum
   * entry) does not qualify, nor do accounts judged on their own history here (whales, algos), nor
   * one the account followed with another order in the market while it rested (a campaign — e.g.
   * pressing the price into a close — not one slip).
   */
  private fills(e: EventOf<'trade'>, m: Mkt, ctx: DetectorContext): void {
    let s = e.makerOrderId !== undefined ? m.suspects.get(e.makerOrderId) : undefined;
    const asMaker = s !== undefined;
    if (s === undefined && e.takerOrderId !== undefined) s = m.suspects.get(e.takerOrderId);
    if (s === undefined) return;
    s.filled += ctx.sz;
    if (!(s.filled >= s.sizeNum * (1 - 1e-9))) return;
    this.dropSuspect(m, s.orderId);
    const ts = ctx.ts;
    if (!asMaker || s.followed || ts - s.ts > this.p.noticeMs || s.basis === 'own' || !(s.sizeNum >= this.p.filledRatio * this.p.sizeMultiple * s.sizeQ)) return;
    this.suspectAlert(s, s.account, e.market, s.orderId, ts, ctx, 'filled_in_full_after_ms');
  }

  private suspectAlert(s: Suspect, account: string, market: string, orderId: string, ts: number, ctx: DetectorContext, how: 'cancelled_after_ms' | 'filled_in_full_after_ms'): void {
    const ep = ctx.alerts.episode(this, pairKey(account, market), { id: s.eventId, ts: s.ts });
    ep.variant ??= 'order';
    ep.addMarket(market).addAccount(account).addOrder(orderId);
    ep.data.orders = (ep.data.orders ?? 0) + 1;
    if (ep.offer(Math.min(100, s.score + (s.marketable ? 10 : 0)))) {
      ep.notes.kind = 'size';
      ep.notes.orderId = orderId;
      ep.notes.side = s.side;
      ep.notes.price = s.price;
      ep.notes.size = s.size;
      ep.notes.event = 'placed';
      ep.notes.marketable = s.marketable ? 'yes' : 'no';
      ep.notes.ts = String(s.ts);
      ep.feature('size_multiple_of_history_quantile', +s.size / s.sizeQ, this.p.sizeMultiple, '>', 'x');
      ep.feature('order_size', +s.size, this.p.sizeMultiple * s.sizeQ, '>');
      ep.feature('history_orders', s.histN, this.minHistoryFor(s.basis), '>=');
      ep.feature(how, ts - s.ts, this.p.noticeMs, '<=', 'ms');
      if (how === 'filled_in_full_after_ms') ep.feature('size_multiple_of_threshold', s.sizeNum / (this.p.sizeMultiple * s.sizeQ), this.p.filledRatio, '>=', 'x');
      ep.notes.sizeBasis = s.basis;
      if (s.book !== undefined) ep.book = s.book;
    }
    ctx.alerts.commit(ep, ts);
  }

  /**
   * A waiting passive off-market order cancelled by its account: noticed. Within noticeMs it alerts
   * (at once when confirmMs has passed without a repeat, else when it has).
   */
  private pendingNoticed(account: string, market: string, orderId: string, ts: number, ctx: DetectorContext): void {
    const pk = pairKey(account, market);
    const f = this.pending.get(pk);
    if (f === undefined || f.orderId !== orderId) return;
    if (ts - f.ts > this.p.noticeMs) return;
    if (f.noticedMs < 0) f.noticedMs = ts - f.ts;
    if (ts - f.ts < this.p.confirmMs) return;
    this.pending.delete(pk);
    if (!f.repeated) this.emit(f, ctx, ts);
  }

  onWatermark(t: number, ctx: DetectorContext): void {
    if (this.pending.size > 0) {
      for (const [k, f] of this.pending) {
        if (t - f.ts < this.p.confirmMs) continue;
        // a repeat: deliberate; noticed (cancelled or re-priced within noticeMs), or so far off that no
        // quote is meant there: a slip; still resting after noticeMs: deliberate (a deep bid waiting for a crash)
        const extreme = f.dev >= this.p.restingMultiple * f.thr;
        if (f.repeated || f.noticedMs >= 0 || extreme || t - f.ts > this.p.noticeMs) {
          this.pending.delete(k);
          if (!f.repeated && (f.noticedMs >= 0 || extreme)) this.emit(f, ctx, t);
        }
      }
    }
    // forget suspects nobody cancelled in time (they executed or stayed: deliberate)
    if (this.nSuspects === 0) return;
    for (const m of this.mkts.values()) if (m.suspects.size > 0) for (const [k, s] of m.suspects) if (t - s.ts > this.p.noticeMs) this.dropSuspect(m, k);
  }

  private dropSuspect(m: Mkt, orderId: string): void {
    if (m.suspects.delete(orderId)) this.nSuspects--;
  }

  private onTrade(e: EventOf<'trade'>, m: Mkt, ctx: DetectorContext): void {
    if (m.suspects.size > 0) {
      this.tradedAgainst(m, ctx);
      if (m.suspects.size > 0) this.fills(e, m, ctx);
    }
    if (e.takerOrderId !== undefined && m.lastTested === e.takerOrderId) return;
    // With account data the taker's order was judged itself (its limit price, or its size for a
    // market order): a print off the mid is then the depth it met (a sweep of a thin book, a pump's
    // rush), not a second error. Prints of unknown takers (public feeds) are tested.
    if (ctx.trade.taker !== undefined && e.takerOrderId !== undefined) return;
    const ts = ctx.ts;
    const t = ctx.books.touch(e.market);
    if (!this.reference(e.market, m, ts, ctx, t.mid, t.spread, t.ts, t.source)) return;
    const px = this.evPx;
    this.nearestDeviation(e.market, m, ctx);
    const dev = this.best * 100;
    this.volatilityPct(e.market, m, ctx);
    const vol = this.volPct;
    this.rangeWidthPct(m, ts);
    const thr = Math.max(Number.isFinite(vol) ? Math.max(this.p.minDeviationPct, this.p.k * vol) : this.p.coldStartDeviationPct, this.widthPct);
    if (!(dev > thr)) return;
    const taker = ctx.trade.taker;
    const ep = ctx.alerts.episode(this, taker === undefined ? e.market : `${taker}\u0000${e.market}\u0000trade`, e);
    ep.variant ??= 'off_market_trade';
    ep.addMarket(e.market).addAccount(taker).addAccount(ctx.trade.maker).addTrade(e.tradeId).addOrder(e.takerOrderId).addOrder(e.makerOrderId);
    ep.data.trades = (ep.data.trades ?? 0) + 1;
    if (ep.offer(score(dev / thr))) {
      ep.notes.kind = 'trade';
      ep.notes.tradeId = e.tradeId;
      ep.notes.price = e.price;
      ep.notes.size = e.size;
      ep.notes.side = e.aggressor;
      ep.notes.refKind = this.refKind;
      ep.notes.ref = String(this.refPrice);
      ep.notes.ts = String(ctx.ts);
      this.priceFeatures(ep, dev, thr, vol, px);
      ep.book = ctx.books.snapshot(e.market, this.p.bookLevels);
    }
    ctx.alerts.commit(ep, ctx.ts);
  }

  private minHistoryFor(b: SizeBasis): number {
    return b === 'own' ? this.p.minHistory : b === 'underlying' ? this.p.minAccountHistory : this.p.minPeerSamples;
  }

  private priceFeatures(ep: Episode, dev: number, thr: number, vol: number, px: number): void {
    ep.feature('deviation_pct', dev, thr, '>', '%');
    ep.feature('deviation_over_floor', dev, this.p.minDeviationPct, '>', '%');
    if (Number.isFinite(vol) && vol > 0) ep.feature('deviation_sigmas', dev / vol, this.p.k, '>', 'sigma');
    else ep.feature('volatility_samples', this.samples, this.p.minSamples, '<'); // cold start: the threshold is coldStartDeviationPct
    ep.feature('price', px, this.refPrice, px >= this.refPrice ? '>' : '<');
  }

  /**
   * Relative deviation of the event's price (evPx) from the nearest fresh reference (into `best`; ×100 for %): the one
   * set by reference() plus the last trade, the mark and the index. Sets refPrice/refKind to that
   * reference. Results go to fields: a float returned from a call that is not inlined is boxed.
   */
  private nearestDeviation(market: string, mk: Mkt, ctx: DetectorContext): void {
    const px = this.evPx;
    const ts = ctx.ts;
    this.best = Math.abs(px - this.refPrice) / this.refPrice;
    const mf = this.flowOf(mk, market, ctx);
    if (mf !== undefined) this.consider(px, mf.lastPrice, mf.lastTradeTs, ts, 'last trade');
    const m = mk.mark;
    if (m !== undefined) this.consider(px, m.px, m.ts, ts, 'mark price');
    const i = mk.index;
    if (i !== undefined) this.consider(px, i.px, i.ts, ts, 'index price');
  }

  private best = NaN;
  private consider(px: number, ref: number, refTs: number, ts: number, kind: string): void {
    if (!(ref > 0) || ts - refTs > this.p.maxReferenceAgeMs) return;
    const d = Math.abs(px - ref) / ref;
    if (d < this.best) {
      this.best = d;
      this.refPrice = ref;
      this.refKind = kind;
    }
  }

  /** Sets refPrice/refKind; false if no usable reference. */
  private reference(market: string, mk: Mkt, ts: number, ctx: DetectorContext, mid: number, spread: number, touchTs: number, source: BookSource): boolean {
    this.marketable = false;
    if (mid > 0 && spread / mid <= this.p.maxSpreadPct / 100 && ts - touchTs <= this.p.maxReferenceAgeMs) {
      this.refPrice = mid;
      this.refKind = MID_KIND[source];
      return true;
    }
    const mf = this.flowOf(mk, market, ctx);
    if (mf !== undefined && mf.lastPrice > 0 && ts - mf.lastTradeTs <= this.p.maxReferenceAgeMs) {
      this.refPrice = mf.lastPrice;
      this.refKind = 'last trade';
      return true;
    }
    return false;
  }

  /** Width of the market's traded range over rangeMs, in % of its low (0 without trades), into `widthPct`. */
  private widthPct = 0;
  private rangeWidthPct(m: Mkt, ts: number): void {
    const r = m.range;
    if (r === undefined) {
      this.widthPct = 0;
      return;
    }
    r.advance(ts);
    this.widthPct = r.count > 1 ? (r.max() / r.min() - 1) * 100 : 0;
  }

  /**
   * The mid's log return since the last sample (at a trade at least volSampleMs after it, spread at
   * most maxSpreadPct), into the market's P² median of absolute returns (a gap of several intervals
   * counts as one return over that many: |r| / √intervals). Mid returns, not trade returns: a print
   * alternating between bid and ask (bid-ask bounce) is no volatility; sampled, not trade to trade:
   * the touch flickering as levels are taken and refilled is noise that mean-reverts within seconds;
   * and a median: a sweep that empties levels for a moment (a fat finger itself) must not set the bar
   * for the next one, as it would in a mean of squares.
   */
  private midReturn(m: Mkt, mid: number, ts: number): void {
    if (!(mid > 0)) return;
    const prev = m.midPrev;
    const intervals = m.midTs > 0 ? (ts - m.midTs) / this.p.volSampleMs : 1;
    m.midPrev = mid;
    m.midTs = ts;
    if (!(prev > 0)) return;
    const r = Math.abs(Math.log(mid / prev)) / Math.sqrt(intervals);
    let q = m.absR;
    if (q === undefined) m.absR = q = new P2Quantile(0.5);
    q.add(0, r);
    m.nR++;
  }

  /**
   * The market's volatility over rangeMs in % of its price, into `volPct`: σ of a volSampleMs mid
   * return (1.4826 × the median absolute return, the normal-consistent robust estimate) ×
   * √(rangeMs / volSampleMs) — the move a random walk with that volatility makes over the window.
   * NaN until minSamples samples. Unlike the dispersion of price levels, it is not inflated for long
   * after a past move (the window's traded range covers a move in progress).
   */
  private horizonVolPct(m: Mkt): void {
    this.samples = m.nR;
    const q = m.absR;
    this.volPct = q === undefined || m.nR < this.p.minSamples ? NaN : 1.4826 * q.value() * Math.sqrt(this.p.rangeMs / this.p.volSampleMs) * 100;
  }

  /** Rolling relative volatility of the market in %, NaN until minSamples trades, into `volPct`. */
  private volPct = NaN;
  private volatilityPct(market: string, mk: Mkt, ctx: DetectorContext): void {
    const mf = this.flowOf(mk, market, ctx);
    this.samples = mf?.price.count ?? 0;
    this.volPct = mf === undefined || mf.price.count < this.p.minSamples ? NaN : mf.relativeVolatility() * 100;
  }

  explain(ep: Episode): string {
    const n = ep.notes;
    const market = ep.markets.join(', ');
    const at = time(Number(n.ts));
    const more = (ep.data.orders ?? ep.data.trades ?? 1) > 1 ? ` (strongest of ${num(ep.data.orders ?? ep.data.trades ?? 1, 0)} in this episode)` : '';
    const dev = ep.get('deviation_pct');
    const sig = ep.get('deviation_sigmas');
    const volText =
      sig !== undefined
        ? ` and ${num(sig.value, 1)}σ of recent volatility (threshold ${num(sig.threshold, 1)}σ)`
        : ` and the ${pct(this.p.coldStartDeviationPct)} cold-start threshold (only ${plural(ep.get('volatility_samples')?.value ?? 0, 'trade')} seen, too few to estimate volatility)`;
    const priceText =
      dev !== undefined ? `${pct(dev.value)} ${Number(n.price) >= Number(n.ref) ? 'above' : 'below'} the ${n.refKind} ${num(Number(n.ref), 8)} — beyond the ${pct(this.p.minDeviationPct)} floor${volText}` : '';
    if (n.kind === 'trade') {
      return `A trade (${n.tradeId}) in ${market} printed at ${n.price} for ${n.size} at ${at}, ${priceText}${more}.`;
    }
    const who = `Account ${ep.accounts.join(', ')}`;
    const what = `${n.event} a ${n.side} order ${n.orderId} for ${n.size || '?'} at ${n.price || 'market'} in ${market} at ${at}`;
    const sz = ep.get('size_multiple_of_history_quantile');
    const hist = num(ep.get('history_orders')?.value ?? 0, 0);
    const basis =
      n.sizeBasis === 'peers'
        ? `a tenth of the market’s limit (the lower of ${num(this.p.marketSizeMultiple, 0)}× its ${num(this.p.sizeQuantile * 100, 1)}th-percentile and ${num(this.p.marketMedianMultiple, 0)}× its median order notional over ${hist} orders of its peers: the account has little history here)`
        : n.sizeBasis === 'underlying'
          ? `the ${num(this.p.sizeQuantile * 100, 1)}th percentile of the notional of the account’s ${hist} previous orders in this underlying’s markets`
          : `the ${num(this.p.sizeQuantile * 100, 1)}th percentile of the account’s ${hist} previous orders`;
    const sizeText = sz !== undefined && sz.passed ? `its size is ${num(sz.value, 1)}× ${basis} (threshold ${num(sz.threshold, 1)}×)` : '';
    const parts = [dev !== undefined && dev.passed ? `its price is ${priceText}` : '', sizeText].filter((s) => s !== '');
    const marketable = n.marketable === 'yes' ? '; it was marketable on arrival' : '';
    const filled = ep.get('filled_in_full_after_ms');
    const filledText = filled !== undefined ? `; it executed in full ${num(filled.value / 1000, 1)} s after it was placed, never cancelled` : '';
    const cancelled = ep.get('cancelled_after_ms');
    const cancelText = cancelled !== undefined ? `; the account cancelled it ${num(cancelled.value / 1000, 1)} s after placing it` : '';
    return `${who} ${what}: ${parts.join('; and ')}${marketable}${filledText}${cancelText}${more}.`;
  }
}

/** The reference kind of a mid by its book source (a constant string: no template per order). */
const MID_KIND: Record<BookSource, string> = { l3: 'mid (l3)', l2: 'mid (l2)', bbo: 'mid (bbo)', none: 'mid (none)' };

/** The reference updated in place (created on first use); unchanged when px is not a price. */
function setRef(r: Ref | undefined, px: number, ts: number): Ref | undefined {
  if (!(px > 0)) return r;
  if (r === undefined) return { px, ts };
  r.px = px;
  r.ts = ts;
  return r;
}

/** 50 at the threshold, +25 per doubling beyond it. */
function score(ratio: number): number {
  return Math.min(100, 50 + 25 * Math.log2(ratio));
}

export const fatFinger = defineDetector({
  name: 'fat_finger',
  typology: 'fat_finger',
  description: 'Orders priced far off the market (beyond a floor and k × rolling volatility) or far larger than the account’s own history; trade prints far off the market.',
  citation: 'ESMA/2012/122 Guidelines on systems and controls in an automated trading environment (pre-trade price collars, maximum order size); MiFID II RTS 6 Art. 15, RTS 7 Art. 20; ESMA MAR Guidelines Annex I',
  params: fatFingerParams,
  enabledByDefault: true,
  create: (p) => new FatFingerDetector(p),
});
