import { z } from 'zod';
import type { EventOf, ExchangeEvent } from '../../events/schema.js';
import { EwRate } from '../../stream/ewma.js';
import { KeyedState, pairKey } from '../../stream/keyed.js';
import { RollingCount, RollingWindow } from '../../stream/rolling.js';
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
 * has a baseline as high as its current rate and never passes the baseline test.
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
  baselineWarmupMs: z.number().int().nonnegative().default(900_000).describe('observation of the market before the long window needed before account baselines are trusted (an account silent so far has a zero baseline); until then excessive_otr is off and burst thresholds double'),
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

class AcctState {
  readonly short: RollingCount;
  readonly long: RollingCount;
  readonly fills: RollingCount;
  readonly placedLong: RollingCount;
  readonly cancelLong: RollingCount;
  readonly baseline: EwRate;
  firstTs: number;
  /** Placement times of recent orders as offsets from firstTs (small integers: a Map stores them without a boxed number), for cancel latency. */
  readonly placedAt = new Map<string, number>();
  /** Latencies (placement to user cancel) of the cancels in the short window. */
  readonly latency: RollingWindow;
  flagged = false;
  constructor(p: QuoteStuffingParams, t: number) {
    this.short = new RollingCount(p.burstWindowMs);
    this.long = new RollingCount(p.sustainWindowMs);
    this.fills = new RollingCount(p.sustainWindowMs);
    this.placedLong = new RollingCount(p.sustainWindowMs);
    this.cancelLong = new RollingCount(p.sustainWindowMs);
    this.baseline = new EwRate(p.baselineHalfLifeMs);
    this.latency = new RollingWindow(p.burstWindowMs, { minMax: false });
    this.firstTs = t;
  }
}

class MarketState {
  readonly messages: RollingCount;
  readonly fills: RollingCount;
  /** Accounts with order messages in the long window: last message time (offset from firstTs, unboxed in the Map), and a FIFO of (account, time). */
  readonly lastSeen = new Map<string, number>();
  private qAcc: string[] = [];
  private qTs: number[] = [];
  private head = 0;
  constructor(p: QuoteStuffingParams, readonly firstTs: number) {
    this.messages = new RollingCount(p.sustainWindowMs);
    this.fills = new RollingCount(p.sustainWindowMs);
  }

  /** Records a message of `account` at t and expires accounts silent for longer than windowMs (exact, event time only). */
  touch(account: string, t: number, windowMs: number): void {
    const p = this.lastSeen.get(account);
    const prev = p === undefined ? undefined : p + this.firstTs;
    this.lastSeen.set(account, t - this.firstTs);
    if (prev === undefined || t - prev > windowMs / 8) {
      this.qAcc.push(account);
      this.qTs.push(t);
    }
    while (this.head < this.qTs.length && t - this.qTs[this.head] > windowMs) {
      const a = this.qAcc[this.head];
      const last = this.lastSeen.get(a);
      if (last !== undefined && t - (last + this.firstTs) > windowMs) this.lastSeen.delete(a);
      this.head++;
    }
    if (this.head > 4_096 && this.head * 2 > this.qTs.length) {
      this.qAcc = this.qAcc.slice(this.head);
      this.qTs = this.qTs.slice(this.head);
      this.head = 0;
    }
  }

  get active(): number {
    return Math.max(1, this.lastSeen.size);
  }
}

class QuoteStuffingDetector implements Detector {
  readonly name = 'quote_stuffing';
  readonly typology = 'quote_stuffing' as const;
  readonly eventTypes = ['order.placed', 'order.amended', 'order.cancelled', 'trade'] as const;
  readonly onEventTypes = [] as const;
  readonly policy: EpisodePolicy;
  private readonly state: KeyedState<string, AcctState>;
  private readonly markets = new Map<string, MarketState>();

  constructor(private readonly p: QuoteStuffingParams) {
    this.policy = policyFrom(p);
    this.state = new KeyedState((_k: string, t: number) => new AcctState(p, t), { idleMs: p.accountIdleMs, maxKeys: p.maxAccounts });
  }

  private market(m: string, t: number): MarketState {
    let s = this.markets.get(m);
    if (s === undefined) this.markets.set(m, (s = new MarketState(this.p, t)));
    return s;
  }

  onEvent(): void {}

  afterEvent(ev: ExchangeEvent, ctx: DetectorContext): void {
    if (ev.type === 'trade') {
      const t = ctx.ts;
      const ms = this.market(ev.market, t);
      ms.fills.add(t);
      if (ctx.trade.maker !== undefined) this.state.get(pairKey(ctx.trade.maker, ev.market), t).fills.add(t);
      if (ctx.trade.taker !== undefined && ctx.trade.taker !== ctx.trade.maker) this.state.get(pairKey(ctx.trade.taker, ev.market), t).fills.add(t);
      return;
    }
    if (ev.type !== 'order.placed' && ev.type !== 'order.amended' && ev.type !== 'order.cancelled') return;
    this.onOrder(ev, ctx);
  }

  private onOrder(e: EventOf<'order.placed' | 'order.amended' | 'order.cancelled'>, ctx: DetectorContext): void {
    const t = ctx.ts;
    const ms = this.market(e.market, t);
    ms.messages.add(t);
    ms.touch(e.accountId, t, this.p.sustainWindowMs);
    const st = this.state.get(pairKey(e.accountId, e.market), t);
    st.short.add(t);
    st.long.add(t);
    if (!st.flagged) st.baseline.add(t);
    else st.baseline.advance(t);
    if (e.type === 'order.placed') {
      st.placedLong.add(t);
      if (st.placedAt.size < 4_096) st.placedAt.set(e.orderId, t - st.firstTs);
    } else if (e.type === 'order.cancelled') {
      const off = st.placedAt.get(e.orderId);
      const pt = off === undefined ? undefined : off + st.firstTs;
      if (pt !== undefined) st.placedAt.delete(e.orderId);
      // Only cancels the account asked for (not IOC remainders, STP or system cancels).
      if (e.reason === 'user') {
        st.cancelLong.add(t);
        if (pt !== undefined) st.latency.add(t, t - pt);
      }
    }
    // Cheap pre-filter: neither window can qualify.
    const shortRate = (st.short.count * 1000) / this.p.burstWindowMs;
    const longRate = (st.long.count * 1000) / this.p.sustainWindowMs;
    if (shortRate < this.p.burstMinRate && longRate < this.p.sustainMinRate) {
      if (st.flagged && longRate < this.p.sustainMinRate / 2) st.flagged = false;
      return;
    }
    if (st.placedAt.size >= 4_096) st.placedAt.clear();
    // Baselines.
    st.baseline.advance(t);
    // warm: the market was observed for baselineWarmupMs before the long window
    const warm = t - ms.firstTs >= this.p.baselineWarmupMs + this.p.sustainWindowMs;
    // The baseline is the account's rate BEFORE the long window: a flood must not raise its own bar.
    // The decayed counter minus the window's messages (each decayed by at most the window's age),
    // normalised over the observed time before the window (bias-corrected for the decay).
    const observed = Math.max(1, t - ms.firstTs);
    const kDecay = Math.LN2 / this.p.baselineHalfLifeMs;
    const w = this.p.sustainWindowMs;
    const before = st.flagged ? st.baseline.level : Math.max(0, st.baseline.level - st.long.count);
    const span = Math.exp(-kDecay * w) - Math.exp(-kDecay * observed);
    // floored at one message over the observed time before the window (no rate is known to be lower)
    const base = observed > w && span > 0 ? (Math.max(1, before) * kDecay * 1000) / span : 0;
    const k = warm ? 1 : 2;
    const activeAccounts = ms.active;
    ms.messages.advance(t);
    ms.fills.advance(t);
    const peerRate = (Math.max(0, ms.messages.count - st.long.count) * 1000) / this.p.sustainWindowMs / Math.max(1, activeAccounts - 1);
    let variant: 'burst' | 'excessive_otr' | undefined;
    let rate = 0;
    let rateThr = 0;
    st.latency.advance(t);
    const avgCancel = st.latency.mean();
    if (shortRate >= k * this.p.burstMinRate && avgCancel <= this.p.fastCancelMs && shortRate >= k * this.p.peerMultiple * peerRate && (!warm || shortRate >= this.p.baselineMultiple * base)) {
      variant = 'burst';
      rate = shortRate;
      rateThr = this.p.burstMinRate;
    } else if (warm && longRate >= this.p.sustainMinRate && longRate >= k * this.p.peerMultiple * peerRate && (!warm || longRate >= this.p.baselineMultiple * base)) {
      st.fills.advance(t);
      st.placedLong.advance(t);
      st.cancelLong.advance(t);
      const otr = st.long.count / Math.max(1, st.fills.count);
      const mOtr = this.peerOtr(ms, st);
      const cr = st.placedLong.count > 0 ? st.cancelLong.count / st.placedLong.count : 0;
      if (otr >= this.p.minOtr && otr >= this.p.peerOtrMultiple * mOtr && cr >= this.p.minCancelRatio) {
        variant = 'excessive_otr';
        rate = longRate;
        rateThr = this.p.sustainMinRate;
      }
    }
    if (variant === undefined) return;
    if (!st.flagged) {
      // the window's messages belong to the episode, not to the account's habit
      st.baseline.level = Math.max(0, st.baseline.level - st.long.count);
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
      const otr = st.long.count / Math.max(1, st.fills.count);
      const mOtr = this.peerOtr(ms, st);
      ep.feature('order_to_trade_ratio', otr, this.p.minOtr, '>=', 'x');
      ep.feature('market_order_to_trade_ratio', mOtr, otr / this.p.peerOtrMultiple, '<=', 'x');
      ep.feature('cancel_ratio', st.placedLong.count > 0 ? st.cancelLong.count / st.placedLong.count : 0, this.p.minCancelRatio, '>=');
      if (Number.isFinite(avgCancel)) ep.feature('mean_cancel_latency_ms_short_window', avgCancel, this.p.fastCancelMs, '<=', 'ms');
      ep.book = ctx.books.snapshot(e.market, this.p.bookLevels);
    }
    ctx.alerts.commit(ep, t);
  }

  /** The market's order-to-trade ratio over the long window without the account's own messages and fills (its peers'). */
  private peerOtr(ms: MarketState, st: AcctState): number {
    return Math.max(0, ms.messages.count - st.long.count) / Math.max(1, ms.fills.count - st.fills.count);
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
