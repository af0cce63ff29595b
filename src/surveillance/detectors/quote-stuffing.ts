import { z } from 'zod';
import type { EventOf, ExchangeEvent } from '../../events/schema.js';
import { EwRate } from '../../stream/ewma.js';
import { pairKey } from '../../stream/keyed.js';
import { orderKey } from '../../stream/books.js';
import { IdMap } from '../../market/id-map.js';
import { RollingCount, RollingWindow, ringOf } from '../../stream/rolling.js';
import { baseParams, defineDetector, policyFrom, type Detector, type DetectorContext, type EpisodePolicy } from '../detector.js';
import type { Episode } from '../emitter.js';
import { num, time } from './format.js';

/**
 * Quote stuffing: floods of order messages that serve no trading purpose — bursts of hundreds of
 * orders per second cancelled within milliseconds (variant `burst`), or a sustained message rate
 * far above the account's habit with almost no executions (variant `excessive_otr`).
 *
 * Per account × market the detector keeps the order messages (placed, amended, cancelled) over a
 * short window (`burstWindowMs`) and a long one (`sustainWindowMs`), the executions over the long
 * window, and two baselines: the account's own long-run message rate before the long window
 * (time-decayed, half-life `baselineHalfLifeMs`; the window's own messages are excluded and the
 * counter is frozen while the account is flagged, so a flood does not raise its own bar)
 * and the market's message rate per active account (its peers).
 *
 * - burst: messages in the short window, as a rate, at least `burstMinRate` per second AND
 *   `baselineMultiple` × the account's baseline AND `peerMultiple` × the peer rate;
 * - excessive_otr: the long window's rate at least `sustainMinRate` per second, `baselineMultiple` ×
 *   the account's baseline and `peerMultiple` × the peer rate, its order-to-trade ratio (messages
 *   per execution) at least `minOtr` and at least `peerOtrMultiple` × its peers' (the market's without the account), and its cancel
 *   ratio at least `minCancelRatio`.
 *
 * The account baseline needs `baselineWarmupMs` of observation of the market before the long
 * window; until then only
 * the peer tests apply, with doubled multiples. A market maker that quotes at a high but steady rate
 * has a baseline as high as its current rate and never passes the baseline test. The warm-up is 5
 * minutes (it was 15): the baseline is normalised over the observed time, so a few minutes of a
 * steady quoter already give its rate, and with 15 a sustained flood in a capture's (or a
 * restart's) first quarter of an hour went unseen (dev seed 16: 5 minutes of excessive_otr starting
 * 12 minutes in, missed).
 *
 * Score: 50 + 20·log2(rate / threshold) of the weaker of the baseline and peer ratios, +10 for the
 * burst variant when cancels follow placements within `fastCancelMs` on average; capped at 100.
 * One episode per account × market within `episodeGapMs`.
 *
 * Method: Egginton, Van Ness & Van Ness (2016), "Quote stuffing", Financial Management 45(3);
 * SEC Market Access and Regulation SHO/NMS discussions of message-traffic abuse; MiFID II RTS 9
 * (maximum order-to-trade ratio) and ESMA MAR Guidelines Annex I (excessive order entry and
 * cancellation); FINRA Rule 5210 supplementary material (disruptive quoting).
 */
export const quoteStuffingParams = z.object({
  ...baseParams,
  burstWindowMs: z.number().int().positive().default(1_000).describe('short window for message bursts'),
  burstMinRate: z.number().positive().default(75).describe('burst: minimum messages per second in the short window (doubled while the market is not yet observed for baselineWarmupMs)'),
  sustainWindowMs: z.number().int().positive().default(60_000).describe('long window for sustained message rates and order-to-trade ratios'),
  sustainMinRate: z.number().positive().default(2.5).describe('excessive_otr: minimum messages per second over the long window'),
  baselineHalfLifeMs: z.number().int().positive().default(1_800_000).describe('half-life of the account’s own message-rate baseline'),
  baselineWarmupMs: z.number().int().nonnegative().default(300_000).describe('observation of the market before the long window needed before account baselines are trusted (an account silent so far has a zero baseline); until then excessive_otr is off and burst thresholds double'),
  baselineMultiple: z.number().positive().default(15).describe('rate must exceed this multiple of the account’s own baseline'),
  peerMultiple: z.number().positive().default(5).describe('rate must exceed this multiple of the market’s message rate per active account'),
  minOtr: z.number().positive().default(40).describe('excessive_otr: order messages per execution over the long window'),
  peerOtrMultiple: z.number().positive().default(3).describe('excessive_otr: OTR must exceed this multiple of the market’s'),
  minCancelRatio: z.number().min(0).max(1).default(0.8).describe('excessive_otr: cancels per placed order over the episode'),
  fastCancelMs: z.number().int().positive().default(100).describe('burst: the orders cancelled in the short window lived at most this long on average (fleeting orders)'),
  accountIdleMs: z.number().int().positive().default(3_600_000).describe('forget an account × market after this much inactivity'),
  maxAccounts: z.number().int().positive().default(500_000).describe('cap on tracked account × market states'),
  bookLevels: z.number().int().positive().default(5).describe('levels per side in the evidence book snapshot'),
});
export type QuoteStuffingParams = z.output<typeof quoteStuffingParams>;

const NONE: number[] = [];

/**
 * The account's order messages over the short and the long window: one ring, two window starts.
 * Both windows see the same samples at the same times, so this equals two RollingCounts exactly.
 */
class Messages {
  private ts: number[] = NONE;
  private mask = -1;
  private shortStart = 0;
  private longStart = 0;
  private end = 0;
  now = -Infinity;
  constructor(
    private readonly shortMs: number,
    private readonly longMs: number,
  ) {}

  get short(): number {
    return this.end - this.shortStart;
  }

  get long(): number {
    return this.end - this.longStart;
  }

  add(t: number): void {
    if (t > this.now) {
      this.now = t;
      const ts = this.ts;
      const mask = this.mask;
      const end = this.end;
      let c = t - this.shortMs;
      let i = this.shortStart;
      while (i < end && ts[i & mask] <= c) i++;
      this.shortStart = i;
      c = t - this.longMs;
      i = this.longStart;
      while (i < end && ts[i & mask] <= c) i++;
      this.longStart = i;
    } else t = this.now;
    const start = Math.min(this.shortStart, this.longStart);
    if (this.end - start === this.mask + 1) {
      const n = this.end - start;
      const ts = ringOf(this.ts, start, this.end, this.mask, n === 0 ? 4 : n * 2);
      this.ts = ts;
      this.mask = ts.length - 1;
      this.shortStart -= start;
      this.longStart -= start;
      this.end = n;
    }
    this.ts[this.end++ & this.mask] = t;
  }
}

/** Counters of one account × market, replaced by a fresh set after `accountIdleMs` of inactivity. */
class AcctState {
  readonly msgs: Messages;
  readonly fills: RollingCount;
  readonly placedLong: RollingCount;
  readonly cancelLong: RollingCount;
  readonly baseline: EwRate;
  firstTs: number;
  /** Placement times of recent orders as offsets from firstTs (small integers: a Map stores them without a boxed number), for cancel latency; created on the first placement. */
  placedAt: IdMap | undefined = undefined;
  /** Latencies (placement to user cancel) of the cancels in the short window; created on the first such cancel. */
  latency: RollingWindow | undefined = undefined;
  /** Latest time the latency window was advanced to before it existed (it clamps late samples to it). */
  latencyNow = -Infinity;
  flagged = false;
  constructor(p: QuoteStuffingParams, t: number) {
    this.msgs = new Messages(p.burstWindowMs, p.sustainWindowMs);
    this.fills = new RollingCount(p.sustainWindowMs);
    this.placedLong = new RollingCount(p.sustainWindowMs);
    this.cancelLong = new RollingCount(p.sustainWindowMs);
    this.baseline = new EwRate(p.baselineHalfLifeMs);
    this.firstTs = t;
  }

  placedMap(): IdMap {
    return (this.placedAt ??= new IdMap());
  }

  latencyWindow(windowMs: number): RollingWindow {
    if (this.latency === undefined) {
      this.latency = new RollingWindow(windowMs, { minMax: false });
      if (this.latencyNow !== -Infinity) this.latency.advance(this.latencyNow);
    }
    return this.latency;
  }

  /** Mean latency in the short window at t (NaN when none). */
  meanLatency(t: number): number {
    if (this.latency === undefined) {
      if (t > this.latencyNow) this.latencyNow = t;
      return NaN;
    }
    this.latency.advance(t);
    return this.latency.mean();
  }
}

/**
 * One account in one market, found with one Map lookup per message (the market's, keyed by account).
 * It holds the account's counters (`c`, replaced when idle for `accountIdleMs` or dropped by the
 * `maxAccounts` cap, as a KeyedState would) and its place in the market's active-account set, which
 * outlives both.
 */
class Slot {
  c: AcctState;
  /** Last order message or execution (idle expiry of `c`). */
  seen: number;
  /** Dropped by the cap: `c` is stale and the slot stays only while in the active set. */
  evicted = false;
  /** Last order message, as an offset from the market's firstTs, while in the active set. */
  lastMsg = 0;
  active = false;
  /** Removed from its market's slots (a memo must not hand it out again). */
  gone = false;
  constructor(
    readonly account: string,
    readonly market: MarketState,
    p: QuoteStuffingParams,
    t: number,
  ) {
    this.c = new AcctState(p, t);
    this.seen = t;
  }
}

class MarketState {
  readonly messages: RollingCount;
  readonly fills: RollingCount;
  readonly slots = new Map<string, Slot>();
  /** Accounts with order messages in the long window (lazily expired through a FIFO of (slot, time)). */
  activeCount = 0;
  private qSlot: Slot[] = [];
  private qTs: number[] = [];
  private head = 0;
  constructor(p: QuoteStuffingParams, readonly firstTs: number) {
    this.messages = new RollingCount(p.sustainWindowMs);
    this.fills = new RollingCount(p.sustainWindowMs);
  }

  /** Records a message of the slot's account at t and expires accounts silent for longer than windowMs (event time only). */
  touch(s: Slot, t: number, windowMs: number): void {
    const prev = s.active ? s.lastMsg + this.firstTs : undefined;
    s.lastMsg = t - this.firstTs;
    if (!s.active) {
      s.active = true;
      this.activeCount++;
    }
    if (prev === undefined || t - prev > windowMs / 8) {
      this.qSlot.push(s);
      this.qTs.push(t);
    }
    while (this.head < this.qTs.length && t - this.qTs[this.head] > windowMs) {
      const a = this.qSlot[this.head];
      if (a.active && t - (a.lastMsg + this.firstTs) > windowMs) {
        a.active = false;
        this.activeCount--;
        if (a.evicted) this.drop(a);
      }
      this.head++;
    }
    if (this.head > 4_096 && this.head * 2 > this.qTs.length) {
      this.qSlot = this.qSlot.slice(this.head);
      this.qTs = this.qTs.slice(this.head);
      this.head = 0;
    }
  }

  get active(): number {
    return Math.max(1, this.activeCount);
  }

  /** Removes a slot from the market (a later message of its account makes a new one). */
  drop(s: Slot): void {
    this.slots.delete(s.account);
    s.gone = true;
  }
}

class QuoteStuffingDetector implements Detector {
  readonly name = 'quote_stuffing';
  readonly typology = 'quote_stuffing' as const;
  readonly eventTypes = ['order.placed', 'order.amended', 'order.cancelled', 'trade'] as const;
  readonly onEventTypes = [] as const;
  readonly policy: EpisodePolicy;
  private readonly markets = new Map<string, MarketState>();
  private lastMarket = '';
  private lastMarketState: MarketState | undefined = undefined;
  /** Live slots in creation order (the cap drops the oldest first, as KeyedState does). */
  private order: Slot[] = [];
  private orderHead = 0;
  private lastSlot: Slot | undefined = undefined;

  private readonly kDecay: number;
  /** e^(-k·sustainWindowMs) */
  private readonly expW: number;
  /** e^(-k·t) drops measurably per ms, so span > 0 once observed ≥ sustainWindowMs + 1 (the lower bound on base is safe). */
  private readonly boundOk: boolean;

  constructor(private readonly p: QuoteStuffingParams) {
    this.policy = policyFrom(p);
    this.kDecay = Math.LN2 / p.baselineHalfLifeMs;
    this.expW = Math.exp(-this.kDecay * p.sustainWindowMs);
    this.boundOk = this.kDecay >= 1e-12 && Math.exp(-this.kDecay * (p.sustainWindowMs + 1)) < this.expW;
  }

  private market(m: string, t: number): MarketState {
    if (m === this.lastMarket && this.lastMarketState !== undefined) return this.lastMarketState;
    let s = this.markets.get(m);
    if (s === undefined) this.markets.set(m, (s = new MarketState(this.p, t)));
    this.lastMarket = m;
    this.lastMarketState = s;
    return s;
  }

  /** The account's slot in the market at t, its counters fresh if new, idle for more than accountIdleMs, or dropped by the cap. */
  private slot(ms: MarketState, account: string, t: number): Slot {
    // Consecutive messages are mostly one account's in one market (a market maker's cancel/replace).
    const memo = this.lastSlot;
    let s = memo !== undefined && memo.account === account && memo.market === ms && !memo.gone ? memo : ms.slots.get(account);
    if (s === undefined) {
      if (this.order.length - this.orderHead >= this.p.maxAccounts) this.evictOldest();
      s = new Slot(account, ms, this.p, t);
      ms.slots.set(account, s);
      this.order.push(s);
    } else if (s.evicted) {
      if (this.order.length - this.orderHead >= this.p.maxAccounts) this.evictOldest();
      s.evicted = false;
      s.c = new AcctState(this.p, t);
      s.seen = t;
      this.order.push(s);
    } else if (t > s.seen) {
      if (t - s.seen > this.p.accountIdleMs) s.c = new AcctState(this.p, t);
      s.seen = t;
    }
    this.lastSlot = s;
    return s;
  }

  private evictOldest(): void {
    const s = this.order[this.orderHead++];
    s.evicted = true;
    if (!s.active) s.market.drop(s);
    if (this.orderHead > 4_096 && this.orderHead * 2 > this.order.length) {
      this.order = this.order.slice(this.orderHead);
      this.orderHead = 0;
    }
  }

  onEvent(): void {}

  afterEvent(ev: ExchangeEvent, ctx: DetectorContext): void {
    if (ev.type === 'trade') {
      const t = ctx.ts;
      const ms = this.market(ev.market, t);
      ms.fills.add(t);
      const maker = ctx.trade.maker;
      const taker = ctx.trade.taker;
      if (maker !== undefined) this.slot(ms, maker, t).c.fills.add(t);
      if (taker !== undefined && taker !== maker) this.slot(ms, taker, t).c.fills.add(t);
      return;
    }
    if (ev.type !== 'order.placed' && ev.type !== 'order.amended' && ev.type !== 'order.cancelled') return;
    this.onOrder(ev, ctx);
  }

  private onOrder(e: EventOf<'order.placed' | 'order.amended' | 'order.cancelled'>, ctx: DetectorContext): void {
    const t = ctx.ts;
    const ms = this.market(e.market, t);
    ms.messages.add(t);
    const slot = this.slot(ms, e.accountId, t);
    ms.touch(slot, t, this.p.sustainWindowMs);
    const st = slot.c;
    const msgs = st.msgs;
    msgs.add(t);
    if (!st.flagged) st.baseline.add(t);
    else st.baseline.advance(t);
    if (e.type === 'order.placed') {
      st.placedLong.add(t);
      const placedAt = st.placedMap();
      if (placedAt.size < 4_096) placedAt.set(orderKey(e.orderId), t - st.firstTs);
    } else if (e.type === 'order.cancelled') {
      const placedAt = st.placedAt;
      const off = placedAt === undefined ? undefined : placedAt.take(orderKey(e.orderId));
      const pt = off === undefined ? undefined : off + st.firstTs;
      // Only cancels the account asked for (not IOC remainders, STP or system cancels).
      if (e.reason === 'user') {
        st.cancelLong.add(t);
        if (pt !== undefined) st.latencyWindow(this.p.burstWindowMs).add(t, t - pt);
      }
    }
    // Cheap pre-filter: neither window can qualify.
    const shortRate = (msgs.short * 1000) / this.p.burstWindowMs;
    const longRate = (msgs.long * 1000) / this.p.sustainWindowMs;
    if (shortRate < this.p.burstMinRate && longRate < this.p.sustainMinRate) {
      if (st.flagged && longRate < this.p.sustainMinRate / 2) st.flagged = false;
      return;
    }
    if (st.placedAt !== undefined && st.placedAt.size >= 4_096) st.placedAt.clear();
    // Baselines.
    st.baseline.advance(t);
    // warm: the market was observed for baselineWarmupMs before the long window
    const warm = t - ms.firstTs >= this.p.baselineWarmupMs + this.p.sustainWindowMs;
    // The baseline is the account's rate BEFORE the long window: a flood must not raise its own bar.
    // The decayed counter minus the window's messages (each decayed by at most the window's age),
    // normalised over the observed time before the window (bias-corrected for the decay).
    const observed = Math.max(1, t - ms.firstTs);
    const w = this.p.sustainWindowMs;
    const before = st.flagged ? st.baseline.level : Math.max(0, st.baseline.level - msgs.long);
    // floored at one message over the observed time before the window (no rate is known to be lower)
    const num = Math.max(1, before) * this.kDecay * 1000;
    // base = num / span with span <= e^(-k·w): num / e^(-k·w) bounds it from below without an exp
    // (a steady quoter passes the pre-filter on most messages and fails the baseline test here)
    const baseLow = this.boundOk && observed - w >= 1 ? num / this.expW : 0;
    let base = -1;
    const k = warm ? 1 : 2;
    const activeAccounts = ms.active;
    ms.messages.advance(t);
    ms.fills.advance(t);
    const peerRate = (Math.max(0, ms.messages.count - msgs.long) * 1000) / this.p.sustainWindowMs / Math.max(1, activeAccounts - 1);
    let variant: 'burst' | 'excessive_otr' | undefined;
    let rate = 0;
    let rateThr = 0;
    const avgCancel = st.meanLatency(t);
    if (shortRate >= k * this.p.burstMinRate && avgCancel <= this.p.fastCancelMs && shortRate >= k * this.p.peerMultiple * peerRate && (!warm || (shortRate >= this.p.baselineMultiple * baseLow && shortRate >= this.p.baselineMultiple * (base = this.base(num, observed))))) {
      variant = 'burst';
      rate = shortRate;
      rateThr = this.p.burstMinRate;
    } else if (warm && longRate >= this.p.sustainMinRate && longRate >= k * this.p.peerMultiple * peerRate && longRate >= this.p.baselineMultiple * baseLow && longRate >= this.p.baselineMultiple * (base = this.base(num, observed))) {
      st.fills.advance(t);
      st.placedLong.advance(t);
      st.cancelLong.advance(t);
      const otr = msgs.long / Math.max(1, st.fills.count);
      const mOtr = this.peerOtr(ms, st);
      const cr = st.placedLong.count > 0 ? st.cancelLong.count / st.placedLong.count : 0;
      if (otr >= this.p.minOtr && otr >= this.p.peerOtrMultiple * mOtr && cr >= this.p.minCancelRatio) {
        variant = 'excessive_otr';
        rate = longRate;
        rateThr = this.p.sustainMinRate;
      }
    }
    if (variant === undefined) return;
    if (base < 0) base = this.base(num, observed);
    if (!st.flagged) {
      // the window's messages belong to the episode, not to the account's habit
      st.baseline.level = Math.max(0, st.baseline.level - msgs.long);
      st.flagged = true;
    }
    const ep = ctx.alerts.episode(this, pairKey(e.accountId, e.market), e);
    ep.addMarket(e.market).addAccount(e.accountId);
    ep.data.messages = (ep.data.messages ?? 0) + 1;
    const baseRatio = warm ? rate / Math.max(base, 1e-9) : Infinity;
    const peerRatio = rate / Math.max(peerRate, 1e-9);
    const weakest = Math.min(rate / rateThr, baseRatio / this.p.baselineMultiple, peerRatio / (k * this.p.peerMultiple));
    const score = Math.min(100, 50 + 20 * Math.log2(Math.max(1, weakest)));
    if (variant === 'burst' || ep.variant === undefined) ep.variant = variant;
    if (ep.offer(score)) {
      ep.notes.variant = variant;
      ep.notes.ts = String(t);
      if (variant === 'burst') ep.feature('messages_per_second_short_window', rate, this.p.burstMinRate, '>=', '/s');
      else ep.feature('messages_per_second_long_window', rate, this.p.sustainMinRate, '>=', '/s');
      if (warm) ep.feature('rate_over_own_baseline', baseRatio, this.p.baselineMultiple, '>=', 'x');
      else ep.feature('market_observed_ms', t - ms.firstTs, this.p.baselineWarmupMs, '<', 'ms');
      ep.feature('rate_over_peer_rate', peerRatio, k * this.p.peerMultiple, '>=', 'x');
      st.fills.advance(t);
      st.placedLong.advance(t);
      st.cancelLong.advance(t);
      const otr = msgs.long / Math.max(1, st.fills.count);
      const mOtr = this.peerOtr(ms, st);
      ep.feature('order_to_trade_ratio', otr, this.p.minOtr, '>=', 'x');
      ep.feature('market_order_to_trade_ratio', mOtr, otr / this.p.peerOtrMultiple, '<=', 'x');
      ep.feature('cancel_ratio', st.placedLong.count > 0 ? st.cancelLong.count / st.placedLong.count : 0, this.p.minCancelRatio, '>=');
      if (Number.isFinite(avgCancel)) ep.feature('mean_cancel_latency_ms_short_window', avgCancel, this.p.fastCancelMs, '<=', 'ms');
      ep.book = ctx.books.snapshot(e.market, this.p.bookLevels);
    }
    ctx.alerts.commit(ep, t);
  }

  /** The account's rate before the long window: num spread over the observed time before it, bias-corrected for the decay. */
  private base(num: number, observed: number): number {
    const span = this.expW - Math.exp(-this.kDecay * observed);
    return observed > this.p.sustainWindowMs && span > 0 ? num / span : 0;
  }

  /** The market's order-to-trade ratio over the long window without the account's own messages and fills (its peers'). */
  private peerOtr(ms: MarketState, st: AcctState): number {
    return Math.max(0, ms.messages.count - st.msgs.long) / Math.max(1, ms.fills.count - st.fills.count);
  }

  explain(ep: Episode): string {
    const acct = ep.accounts.join(', ');
    const market = ep.markets.join(', ');
    const at = time(Number(ep.notes.ts));
    const base = ep.get('rate_over_own_baseline');
    const peer = ep.get('rate_over_peer_rate');
    const otr = ep.get('order_to_trade_ratio');
    const baseText = base !== undefined ? `${num(base.value, 1)}× its own usual rate` : 'with too little history for a baseline';
    const peerText = peer !== undefined ? `${num(peer.value, 1)}× the market’s rate per active account` : '';
    if (ep.notes.variant === 'burst') {
      const r = ep.get('messages_per_second_short_window');
      const lat = ep.get('mean_cancel_latency_ms_short_window');
      return `Account ${acct} sent ${num(r?.value ?? 0, 0)} order messages per second in ${market} around ${at} — ${baseText} and ${peerText}${lat !== undefined ? `, cancelling its orders after ${num(lat.value, 1)} ms on average` : ''}.`;
    }
    const r = ep.get('messages_per_second_long_window');
    return `Account ${acct} kept up ${num(r?.value ?? 0, 1)} order messages per second in ${market} around ${at} — ${baseText} and ${peerText} — with ${num(otr?.value ?? 0, 0)} messages per execution and a cancel ratio of ${num(ep.get('cancel_ratio')?.value ?? 0, 2)}.`;
  }
}

export const quoteStuffing = defineDetector({
  name: 'quote_stuffing',
  typology: 'quote_stuffing',
  description: 'Order-message bursts and sustained excessive order-to-trade ratios, measured against the account’s own baseline and its peers on the market.',
  citation:
    'Egginton, Van Ness & Van Ness (2016), Quote stuffing, Financial Management 45(3); MiFID II RTS 9 (order-to-transaction ratio); ESMA MAR Guidelines Annex I; FINRA Rule 5210 SM .02 (disruptive quoting)',
  params: quoteStuffingParams,
  enabledByDefault: true,
  create: (p) => new QuoteStuffingDetector(p),
});
