import { z } from 'zod';
import type { EventOf, ExchangeEvent } from '../../events/schema.js';
import { pairKey } from '../../stream/keyed.js';
import { baseParams, defineDetector, policyFrom, type Detector, type DetectorContext, type EpisodePolicy } from '../detector.js';
import type { Episode } from '../emitter.js';
import { num, plural, time } from './format.js';
import { orderKey, type MarketBook, type MarketBooks } from '../../stream/books.js';
import { p2Estimate, p2Update } from '../../stream/rolling-quantile.js';

/**
 * Spoofing and layering: non-bona-fide orders that show size on one side of the book and are
 * cancelled once the same actor (or an account linked to it, `ctx.links`) has traded, or offered to
 * trade, on the other side.
 *
 * For every resting limit order (not marketable on arrival) the detector records, at placement, its
 * size relative to the book it joins: the mean size of the `refLevels` best levels on its side (the
 * L3 book just before the order), and whether it sits behind the touch. When such an order is
 * cancelled (not filled by more than `maxFilledShare`) within `maxLifetimeMs` of its placement, it is
 * a *fleeting* order. The account's fleeting orders on one side cancelled within `clusterMs` of
 * each other form a cluster:
 *
 * - **layering** when the cluster spans at least `minLayers` distinct price levels and its total
 *   size is at least `layerTotalMultiple` × the reference level size;
 * - **spoofing** otherwise, when one of its orders is at least `sizeMultiple` × the reference level
 *   size and was placed behind the touch (or within `maxTouchDistanceBps` of it).
 *
 * Either needs *opposite-side interest* while the orders rested: an execution or a placement at or
 * through the touch on the other side, by the account or a linked account, between the cluster's
 * first placement and its cancellation, that is *new*: none in the `quietMs` before (a market maker
 * quotes both sides all along; a spoofer's trade follows its display). Accounts count as linked
 * when `ctx.links` says so (the graph: devices, addresses, transfers…) or, with `ipLinks`, when
 * they placed orders in this market from the same IP address as the spoofer within
 * `accountIdleMs` (orders carry their client IP; a trading leg run from the spoofer's own network
 * is the Sarao/Coscia pattern with a second account). Without it a cluster counts only as `unpaired` and an alert
 * needs `unpairedMinClusters` of them in the episode (a large fleeting order that repeats — the
 * trading leg may sit in an account the surveillance does not know is linked).
 *
 * Spoofing and layering are one abuse at two shapes (Lee, Eom & Park treat layering as spoofing
 * over several levels), and each cluster is reported under one of them: a spoofing cluster is not
 * reported when the account placed layer-sized orders (≥ `layerMinMultiple` × the level size) on
 * at least `minLayers` distinct prices of that side within `stackMs` of the cluster's first
 * placement — a stack, which the layering detector judges, even when only one or two of its orders
 * passed the candidate tests.
 *
 * Legitimate market makers also cancel most of what they post, and trade on both sides; what they
 * do not do is post orders many times the size of the levels they join and pull them within
 * seconds. The size test is relative to the book, so it adapts to each market's depth.
 *
 * Score: 45 + 20·log2(size ratio / threshold) + 10 per further cluster in the episode (up to +30),
 * +10 when the trading leg came from a linked account; −15 when unpaired. One episode per account ×
 * market (spoofer) within `episodeGapMs`.
 *
 * Cost: per order event one account lookup (market, then account: no composite key built); per
 * account × market one on-heap array of doubles (rings and the P² median), maps and lists only for
 * accounts with candidates; the reference level size stops reading levels once the order cannot
 * reach `layerMinMultiple` of it.
 *
 * Method: Lee, Eom & Park (2013), "Microstructure-based manipulation: strategic behavior and
 * performance of spoofing traders", Journal of Financial Markets 16(2); CFTC v. Sarao (2015) and
 * US v. Coscia (7th Cir. 2017) fact patterns (large orders away from the touch, cancelled before
 * execution, while trading the other side); Dodd-Frank §747 (CEA §4c(a)(5)(C)); EU MAR Annex I
 * 1(a)/2(a) indicators; FCA Final Notice 7722656 (Da Vinci Invest, layering).
 */
export const spoofingParams = z.object({
  ...baseParams,
  refLevels: z.number().int().positive().default(5).describe('best levels on the order’s side whose mean size is the reference level size'),
  sizeMultiple: z.number().positive().default(3).describe('spoofing: a fleeting order must be at least this multiple of the reference level size'),
  layerMinMultiple: z.number().positive().default(0.8).describe('layering: each layer must be at least this multiple of the reference level size'),
  layerTotalMultiple: z.number().positive().default(4).describe('layering: the layers together must be at least this multiple of the reference level size'),
  minLayers: z.number().int().min(2).default(3).describe('layering: distinct price levels in one cluster'),
  maxLifetimeMs: z.number().int().positive().default(10_000).describe('a fleeting order is cancelled within this long of its placement'),
  maxFilledShare: z.number().min(0).max(1).default(0.25).describe('a fleeting order had at most this share of its size filled'),
  clusterMs: z.number().int().positive().default(1_500).describe('fleeting orders of one side cancelled within this of each other form one cluster'),
  maxTouchDistanceBps: z.number().nonnegative().default(0).describe('spoofing: orders at the touch qualify only when at least this far from the opposite touch (0: must be behind the touch)'),
  minRefLevels: z.number().int().positive().default(2).describe('levels the side must have for the reference to be trusted'),
  ownSizeMultiple: z.number().positive().default(3).describe('an order must also be at least this multiple of the account’s own median order size in the market (when it has minHistory orders there)'),
  minHistory: z.number().int().positive().default(20).describe('orders the account needs in the market before its own median size is used'),
  warmupMs: z.number().int().nonnegative().default(120_000).describe('no alerts until the market has been observed this long (book and account baselines)'),
  quietMs: z.number().int().nonnegative().default(10_000).describe('opposite-side interest counts only if the account had none in this long before the orders were placed (a market maker quoting both sides all along is not trading against its own display)'),
  stackMs: z.number().int().positive().default(3_000).describe('spoofing: layer-sized placements on distinct prices of one side within this of the cluster’s first placement make it a stack (layering), not spoofing'),
  ipLinks: z.boolean().default(true).describe('accounts placing orders in the market from the same IP as the spoofer count as linked for pairing'),
  maxIpAccounts: z.number().int().positive().default(4).describe('an IP used by more accounts than this in a market links none of them (offices, NAT, VPN exits)'),
  minFleetingShare: z.number().min(0).max(1).default(0.05).describe('the episode’s fleeting orders as a share of all the account’s orders in the market (market makers post thousands of ordinary orders)'),
  unpairedMinClusters: z.number().int().positive().default(3).describe('clusters without opposite-side interest needed for an alert'),
  accountIdleMs: z.number().int().positive().default(3_600_000).describe('forget an account × market after this much inactivity'),
  maxAccounts: z.number().int().positive().default(500_000).describe('cap on tracked account × market states (memory bound)'),
  maxLiveCandidates: z.number().int().positive().default(2_000).describe('cap on tracked resting orders per account × market'),
  bookLevels: z.number().int().positive().default(5).describe('levels per side in the evidence book snapshot'),
});
export type SpoofingParams = z.output<typeof spoofingParams>;

const ACTS = 16;
/** Accounts with more resting candidates than this (market makers) are measured against whole levels. */
const OWN_MAX = 64;
const NONE: readonly string[] = [];
const STACK = 16;
const BUY = 0;
const SELL = 1;

interface Cand {
  side: number;
  price: number;
  size: number;
  placedTs: number;
  ref: number;
  behind: boolean;
  distBps: number;
}

interface Fleeting {
  id: string;
  price: number;
  size: number;
  placedTs: number;
  cancelTs: number;
  ref: number;
  behind: boolean;
  distBps: number;
}

// Layout of an account × market's numbers (AcctState.f), per side s (0 buy, 1 sell):
// the ring of recent bursts of interest (ACTS starts, then ACTS ends: interest less than quietMs after
// the previous one extends its burst), the ring of layer-sized placements
// (STACK times, STACK prices), the last interest time and the two rings' heads; then the P² median
// of the account's order sizes (markers q, positions n, desired positions ns, increments dn).
const F_ACTS = 0;
const F_ACT_END = F_ACTS + 2 * ACTS;
const F_STACK_TS = F_ACT_END + 2 * ACTS;
const F_STACK_PX = F_STACK_TS + 2 * STACK;
const F_LAST_ACT = F_STACK_PX + 2 * STACK;
const F_ACT_HEAD = F_LAST_ACT + 2;
const F_STACK_HEAD = F_ACT_HEAD + 2;
const F_P2 = F_STACK_HEAD + 2; // 20 numbers, laid out as p2Update expects
const F_SIZE = F_P2 + 20;
/**
 * A new state's numbers. States copy it into a plain array of doubles: it is allocated on the JS
 * heap, where a typed array per account × market costs an off-heap allocation (fresh pages, ~10 µs each).
 */
export const F_INIT: number[] = [];
for (let i = 0; i < F_SIZE; i++) F_INIT.push(0.5); // doubles from the start (unboxed elements)
for (let i = 0; i < F_SIZE; i++) F_INIT[i] = (i >= F_ACTS && i < F_STACK_PX) || (i >= F_LAST_ACT && i < F_ACT_HEAD) ? -Infinity : 0;
/** The median's quantile. */
const P2_P = 0.5;

/**
 * One account × market. The maps and lists that only candidates need are created on the first one.
 * Evicted states are reset and reused.
 */
class AcctState {
  /** Resting candidates by order id (undefined until the first). */
  live: Map<string, Cand> | undefined = undefined;
  /** Recently cancelled fleeting orders per side (short; undefined until the first). */
  recent: [Fleeting[], Fleeting[]] | undefined = undefined;
  /** Last client IP the account placed an order from in this market. */
  ip = '';
  /** Samples in the P² median of the account's limit order sizes here. */
  n = 0;
  /** Event time of the last get (idle expiry, as KeyedState). */
  lastSeen = 0;
  account = '';
  mk: MarketState | undefined = undefined;
  /** The next state in creation order (forced eviction of the oldest, as KeyedState). */
  next: AcctState | undefined = undefined;

  /** The rings, times and P² markers above. */
  readonly f = F_INIT.slice();

  /** As a new state. */
  reset(): void {
    this.live = undefined;
    this.recent = undefined;
    this.ip = '';
    this.n = 0;
    const f = this.f;
    for (let i = 0; i < F_SIZE; i++) f[i] = F_INIT[i];
  }

  /** Notes a layer-sized passive placement on `side`. */
  stack(side: number, ts: number, px: number): void {
    const f = this.f;
        const h = f[F_STACK_HEAD + side];
    f[F_STACK_TS + side * STACK + h] = ts;
    f[F_STACK_PX + side * STACK + h] = px;
    f[F_STACK_HEAD + side] = (h + 1) % STACK;
  }
}

/** Accounts that placed orders in a market from one IP (up to maxIpAccounts + 1). */
class IpState {
  accounts: string[] = [];
  lastSeen = 0;
  next: IpState | undefined = undefined;
  constructor(
    readonly ip: string,
    readonly mk: MarketState,
  ) {}
}

/** Per market: when its first order was seen, its book, its accounts' states and its IPs. */
class MarketState {
  readonly accounts = new Map<string, AcctState>();
  readonly ips = new Map<string, IpState>();
  seen = false;
  first = 0;
  book: MarketBook | undefined = undefined;
}

/**
 * Notes interest (an execution, or an order at or through the touch) on `side` at ts. Interest
 * within quietMs of the side's latest extends that burst; only a new burst takes a ring slot. (One
 * slot per act let a run of fills, e.g. a resting order taken in 16 pieces, push out what happened
 * before the cluster, and its interest could then never be shown to be new.)
 */
function record(st: AcctState, side: number, ts: number, quietMs: number): void {
  const f = st.f;
  const last = f[F_LAST_ACT + side];
  const h = f[F_ACT_HEAD + side];
  const cur = (h + ACTS - 1) % ACTS;
  if (ts >= last ? ts - last <= quietMs : ts >= f[F_ACTS + side * ACTS + cur] - quietMs) {
    // in the current burst (a late event inside it, or before it by less than quietMs, moves its start)
    if (ts > last) f[F_LAST_ACT + side] = f[F_ACT_END + side * ACTS + cur] = ts;
    else if (ts < f[F_ACTS + side * ACTS + cur]) f[F_ACTS + side * ACTS + cur] = ts;
    return;
  }
  f[F_ACT_HEAD + side] = (h + 1) % ACTS;
  if (ts > last) {
    f[F_LAST_ACT + side] = ts;
    f[F_ACTS + side * ACTS + h] = f[F_ACT_END + side * ACTS + h] = ts;
    return;
  }
  // a late act well before the current burst: its own slot behind the current one (which stays the newest)
  f[F_ACTS + side * ACTS + h] = f[F_ACTS + side * ACTS + cur];
  f[F_ACT_END + side * ACTS + h] = f[F_ACT_END + side * ACTS + cur];
  f[F_ACTS + side * ACTS + cur] = f[F_ACT_END + side * ACTS + cur] = ts;
}

/**
 * Interest on `side` after `from` that was new: none in [from − quietMs, from) (and the ring reaches
 * back that far). Bursts are separated by more than quietMs, so a burst that began before `from` and
 * reaches it had interest in that quiet window.
 */
function newInterest(st: AcctState, side: number, from: number, quietMs: number): boolean {
  const f = st.f;
  if (!(f[F_LAST_ACT + side] >= from)) return false;
  const starts = F_ACTS + side * ACTS;
  const ends = F_ACT_END + side * ACTS;
  let oldest = Infinity;
  for (let i = 0; i < ACTS; i++) {
    const t = f[starts + i];
    if (t < oldest) oldest = t;
    if (t < from && f[ends + i] >= from - quietMs) return false;
  }
  return oldest < from;
}

/** Distinct prices of the layer-sized placements on `side` within `ms` of `t`. */
function stackLevels(st: AcctState, side: number, t: number, ms: number): number {
  const f = st.f;
  const ts = F_STACK_TS + side * STACK;
  const px = F_STACK_PX + side * STACK;
  let n = 0;
  for (let i = 0; i < STACK; i++) {
    if (!(Math.abs(f[ts + i] - t) <= ms)) continue;
    let seen = false;
    for (let j = 0; j < i; j++) if (Math.abs(f[ts + j] - t) <= ms && f[px + j] === f[px + i]) seen = true;
    if (!seen) n++;
  }
  return n;
}

/** P2Quantile.add on a state's numbers `b` holding `n` samples (p = 0.5). Returns the new count. Exported for tests. */
export function p2Add(b: number[], n: number, x: number): number {
  return p2Update(b, F_P2, n, P2_P, x);
}

/** P2Quantile.value of `n` samples in `b`. Exported for tests. */
export function p2Value(b: number[], n: number): number {
  return p2Estimate(b, F_P2, n, P2_P);
}

type Kind = 'spoofing' | 'layering';

/** Parameters that shape the state (everything but the typologies' own tests): equal ones share it. */
const STATE_PARAMS = ['refLevels', 'minRefLevels', 'layerMinMultiple', 'ownSizeMultiple', 'minHistory', 'warmupMs', 'maxLiveCandidates', 'ipLinks', 'maxIpAccounts', 'accountIdleMs', 'maxAccounts', 'maxLifetimeMs', 'maxFilledShare', 'clusterMs'] as const;

type Hit = { st: AcctState; side: number; rec: Fleeting[] };

/** States in creation order, a FIFO linked through their `next` (the cap evicts the oldest first, as KeyedState does). */
class CreationQueue<T extends { next: T | undefined }> {
  size = 0;
  private head: T | undefined = undefined;
  private tail: T | undefined = undefined;

  push(s: T): void {
    s.next = undefined;
    if (this.tail !== undefined) this.tail.next = s;
    else this.head = s;
    this.tail = s;
    this.size++;
  }

  /** The oldest, removed; undefined when empty. */
  shift(): T | undefined {
    const s = this.head;
    if (s === undefined) return undefined;
    this.head = s.next;
    if (this.head === undefined) this.tail = undefined;
    s.next = undefined;
    this.size--;
    return s;
  }
}

/**
 * Per account × market state built from the order and trade events, identical for both typologies
 * given the same STATE_PARAMS: one instance per partition serves both detectors, applying each event
 * once (by `ctx.seq`), so enabling layering next to spoofing costs only its cluster tests.
 *
 * Account states are found by market then account (no composite key per event) and follow
 * KeyedState's rules: one idle for more than `accountIdleMs` is hidden from peeks and starts anew on
 * the next get; past `maxAccounts` the oldest created is evicted.
 */
class SpoofingState {
  private readonly markets = new Map<string, MarketState>();
  private lastMarket = '';
  private lastMk: MarketState | undefined = undefined;
  private readonly accounts = new CreationQueue<AcctState>();
  private readonly pool: AcctState[] = [];
  /** Scratch for refLevelSize: the account's resting candidates on one side (price ticks, size lots). */
  private readonly ownPx: number[] = F_INIT.slice(0, OWN_MAX);
  private readonly ownSz: number[] = F_INIT.slice(0, OWN_MAX);
  /** IP states (market × IP), oldest created first, with KeyedState's rules as for accounts. */
  private readonly ips = new CreationQueue<IpState>();
  /** `ctx.seq` of the last event applied by onEvent / afterEvent. */
  private onSeq = -1;
  private afterSeq = -1;
  /** The cluster the last cancel completed (to evaluate), or undefined. */
  private cancelled: Hit | undefined = undefined;
  private readonly hit: Hit = { st: undefined as unknown as AcctState, side: 0, rec: [] as Fleeting[] };

  constructor(
    private readonly p: SpoofingParams,
    private readonly books: MarketBooks,
  ) {}

  private market(market: string): MarketState {
    if (market === this.lastMarket && this.lastMk !== undefined) return this.lastMk;
    let m = this.markets.get(market);
    if (m === undefined) this.markets.set(market, (m = new MarketState()));
    this.lastMarket = market;
    this.lastMk = m;
    return m;
  }

  /** The account's state in the market at event time t, created (or started anew when idle) and stamped. */
  private get(m: MarketState, account: string, t: number): AcctState {
    let s = m.accounts.get(account);
    if (s === undefined) {
      if (this.accounts.size >= this.p.maxAccounts) this.evictOldest();
      s = this.alloc();
      s.account = account;
      s.mk = m;
      s.lastSeen = t;
      this.accounts.push(s);
      m.accounts.set(account, s);
    } else if (t > s.lastSeen) {
      if (t - s.lastSeen > this.p.accountIdleMs) s.reset();
      s.lastSeen = t;
    }
    return s;
  }

  /** The account's state if present and not idle at t, without creating or stamping it. */
  peek(market: string, account: string, t: number): AcctState | undefined {
    const s = this.market(market).accounts.get(account);
    return s === undefined || t - s.lastSeen > this.p.accountIdleMs ? undefined : s;
  }

  private alloc(): AcctState {
    const s = this.pool.pop();
    if (s !== undefined) {
      s.reset();
      return s;
    }
    return new AcctState();
  }

  private evictOldest(): void {
    const s = this.accounts.shift();
    if (s === undefined) return;
    s.mk!.accounts.delete(s.account);
    s.mk = undefined;
    s.reset();
    this.pool.push(s);
  }

  /** Applies a before-event (once per seq); for a cancel, returns the cluster it completed. */
  onEvent(ev: ExchangeEvent, ctx: DetectorContext, seq: number): Hit | undefined {
    if (seq !== -1 && seq === this.onSeq) return this.cancelled;
    this.onSeq = seq;
    this.cancelled = undefined;
    // Callees read ctx.ts themselves: a float passed to a call that is not inlined is boxed.
    switch (ev.type) {
      case 'order.placed':
        this.onPlaced(ev, ctx);
        return undefined;
      case 'order.amended': {
        const live = this.peek(ev.market, ev.accountId, ctx.ts)?.live;
        const c = live?.get(ev.orderId);
        if (c !== undefined && ev.size !== undefined) c.size = Math.max(c.size, ctx.sz);
        if (c !== undefined && ev.price !== undefined) c.price = ctx.px;
        return undefined;
      }
      case 'order.cancelled':
        return (this.cancelled = this.onCancelled(ev, ctx));
      default:
        return undefined;
    }
  }

  afterEvent(ev: ExchangeEvent, ctx: DetectorContext, seq: number): void {
    if (ev.type !== 'trade' || (seq !== -1 && seq === this.afterSeq)) return;
    this.afterSeq = seq;
    const side = ctx.trade.takerSide;
    if (side === undefined) return;
    const t = side === 'buy' ? BUY : SELL;
    const taker = ctx.trade.taker;
    const maker = ctx.trade.maker;
    if (taker !== undefined) record(this.get(this.market(ev.market), taker, ctx.ts), t, ctx.ts, this.p.quietMs);
    if (maker !== undefined) record(this.get(this.market(ev.market), maker, ctx.ts), 1 - t, ctx.ts, this.p.quietMs);
  }

  private noteIp(st: AcctState, e: EventOf<'order.placed'>, ts: number): void {
    if (!this.p.ipLinks || e.ip === undefined || e.ip === st.ip) return;
    st.ip = e.ip;
    const list = this.ipGet(st.mk!, e.ip, ts).accounts;
    if (list.length <= this.p.maxIpAccounts && !list.includes(e.accountId)) list.push(e.accountId);
  }

  private ipGet(m: MarketState, ip: string, t: number): IpState {
    let s = m.ips.get(ip);
    if (s === undefined) {
      if (this.ips.size >= this.p.maxAccounts) {
        const old = this.ips.shift()!;
        old.mk.ips.delete(old.ip);
      }
      s = new IpState(ip, m);
      s.lastSeen = t;
      this.ips.push(s);
      m.ips.set(ip, s);
    } else if (t > s.lastSeen) {
      if (t - s.lastSeen > this.p.accountIdleMs) s.accounts = [];
      s.lastSeen = t;
    }
    return s;
  }

  /** Accounts that traded this market from the spoofer's IP (none when the IP is shared widely). */
  ipPeers(st: AcctState, account: string, market: string, ts: number): readonly string[] {
    if (!this.p.ipLinks || st.ip === '') return NONE;
    const s = this.market(market).ips.get(st.ip);
    const list = s === undefined || ts - s.lastSeen > this.p.accountIdleMs ? undefined : s.accounts;
    if (list === undefined || list.length > this.p.maxIpAccounts) return NONE;
    return list.filter((a) => a !== account);
  }

  private onPlaced(e: EventOf<'order.placed'>, ctx: DetectorContext): void {
    const ts = ctx.ts;
    const side = e.side === 'buy' ? BUY : SELL;
    const m = this.market(e.market);
    if (!m.seen) {
      m.seen = true;
      m.first = ts;
    }
    // The touch from the L3 book when it has both sides (what books.touch would give), else books.touch.
    const b = m.book ?? (m.book = this.books.peek(e.market));
    let bid: number;
    let ask: number;
    let mid = NaN;
    const bestBid = b === undefined ? NaN : b.l3.bids.bestPrice();
    const bestAsk = b === undefined ? NaN : b.l3.asks.bestPrice();
    if (bestBid === bestBid && bestAsk === bestAsk) {
      bid = b!.pxFloat(bestBid);
      ask = b!.pxFloat(bestAsk);
    } else {
      const t = this.books.touch(e.market);
      bid = t.bid;
      ask = t.ask;
      mid = t.mid;
    }
    const type = e.orderType;
    const tif = e.timeInForce;
    const px = type === 'market' || tif === 'IOC' || tif === 'FOK' ? NaN : ctx.px;
    const marketable = !(px > 0) || (side === BUY ? px >= ask : px <= bid);
    const st = this.get(m, e.accountId, ts);
    this.noteIp(st, e, ts);
    // Interest at or through the touch counts as trading on this side.
    if (marketable || (side === BUY ? px >= bid : px <= ask)) record(st, side, ts, this.p.quietMs);
    const size = ctx.sz;
    const own = st.n >= this.p.minHistory ? p2Value(st.f, st.n) : NaN;
    st.n = p2Add(st.f, st.n, size);
    if (marketable || type !== 'limit' || !(bid > 0 && ask > bid)) return;
    if (ts - m.first < this.p.warmupMs) return;
    const ref = this.refLevelSize(b, side, size, st.live);
    if (!(ref > 0)) return;
    if (!(size >= this.p.layerMinMultiple * ref)) return;
    st.stack(side, ts, px);
    if (size < this.p.ownSizeMultiple * own) return;
    const live = st.live ?? (st.live = new Map());
    if (live.size >= this.p.maxLiveCandidates) return;
    const behind = side === BUY ? px < bid : px > ask;
    if (bestBid === bestBid && bestAsk === bestAsk) mid = (bid + ask) / 2;
    const distBps = side === BUY ? ((ask - px) / mid) * 1e4 : ((px - bid) / mid) * 1e4;
    live.set(e.orderId, { side, price: px, size, placedTs: ts, ref, behind, distBps });
  }

  /**
   * Mean size of the best `refLevels` levels on a side of the L3 book (float), NaN if too thin,
   * without the account's own resting candidates (`live`, when it has at most OWN_MAX): a layerer's
   * first layers sit among the best levels and would raise the reference its next layers are
   * measured against (dev seed 9001: the third of four layers fell short of its own first). Levels
   * holding only the account's orders are skipped. With none of its own on the side, it stops (NaN)
   * once the levels read so far put the mean above what an order of `size` can reach (size <
   * layerMinMultiple × it): level totals are not negative, so the sum only grows.
   */
  private refLevelSize(b: MarketBook | undefined, side: number, size: number, live: Map<string, Cand> | undefined): number {
    if (b === undefined) return NaN;
    const l3 = b.l3;
    const ownPx = this.ownPx;
    const ownSz = this.ownSz;
    let k = 0;
    if (live !== undefined && live.size <= OWN_MAX) {
      for (const [id, c] of live) {
        if (c.side !== side) continue;
        const s = l3.slotOf(orderKey(id));
        if (s === -1) continue;
        ownPx[k] = l3.priceAt(s);
        ownSz[k] = l3.sizeAt(s);
        k++;
      }
    }
    const levels = side === BUY ? l3.bids : l3.asks;
    const prices = levels.prices;
    const n = Math.min(this.p.refLevels, prices.length);
    if (n < this.p.minRefLevels) return NaN;
    const cut = k === 0 ? this.p.layerMinMultiple : 0;
    let sum = 0;
    let counted = 0;
    for (let i = prices.length - 1; i >= 0 && counted < n; i--) {
      const p = prices[i];
      let net = levels.levels.get(p)?.total ?? 0;
      for (let j = 0; j < k; j++) if (ownPx[j] === p) net -= ownSz[j];
      if (!(net > 0)) continue;
      sum += net;
      counted++;
      if (size < cut * b.szFloat(sum / n)) return NaN;
    }
    return counted < this.p.minRefLevels ? NaN : b.szFloat(sum / counted);
  }

  private onCancelled(e: EventOf<'order.cancelled'>, ctx: DetectorContext): Hit | undefined {
    const ts = ctx.ts;
    const st = this.peek(e.market, e.accountId, ts);
    const live = st?.live;
    if (live === undefined) return undefined;
    const c = live.get(e.orderId);
    if (c === undefined) return undefined;
    live.delete(e.orderId);
    if (e.reason !== 'user' || ts - c.placedTs > this.p.maxLifetimeMs) return undefined;
    const resting = ctx.books.order(e.market, e.orderId);
    const remaining = resting !== undefined ? (ctx.books.peek(e.market)?.szFloat(resting.size) ?? c.size) : e.remainingSize !== undefined ? +e.remainingSize : c.size;
    if (remaining < (1 - this.p.maxFilledShare) * c.size) return undefined;
    const recent = st!.recent ?? (st!.recent = [[], []]);
    const rec = recent[c.side];
    // Keep only this cluster's orders (cancelled within clusterMs of each other).
    while (rec.length > 0 && ts - rec[rec.length - 1].cancelTs > this.p.clusterMs) rec.length = 0;
    if (rec.length >= 64) rec.shift();
    rec.push({ id: e.orderId, price: c.price, size: c.size, placedTs: c.placedTs, cancelTs: ts, ref: c.ref, behind: c.behind, distBps: c.distBps });
    const hit = this.hit;
    hit.st = st!;
    hit.side = c.side;
    hit.rec = rec;
    return hit;
  }
}

/** One SpoofingState per partition (detector context) and state parameters. */
const sharedStates = new WeakMap<object, Map<string, SpoofingState>>();

class SpoofingDetector implements Detector {
  readonly name: string;
  readonly typology: Kind;
  readonly eventTypes = ['order.placed', 'order.amended', 'order.cancelled', 'trade'] as const;
  readonly onEventTypes = ['order.placed', 'order.amended', 'order.cancelled'] as const;
  readonly afterEventTypes = ['trade'] as const;
  readonly policy: EpisodePolicy;
  private readonly stateKey: string;
  private core: SpoofingState | undefined = undefined;
  private coreCtx: DetectorContext | undefined = undefined;

  constructor(
    private readonly p: SpoofingParams,
    private readonly kind: Kind,
  ) {
    this.name = kind;
    this.typology = kind;
    this.policy = policyFrom(p);
    this.stateKey = JSON.stringify(STATE_PARAMS.map((k) => p[k]));
  }

  /** The state for this context: shared with the other typology when the engine numbers events (ctx.seq), else own. */
  private stateOf(ctx: DetectorContext): SpoofingState {
    if (ctx === this.coreCtx) return this.core!;
    let core: SpoofingState | undefined;
    if (ctx.seq !== undefined) {
      let byKey = sharedStates.get(ctx);
      if (byKey === undefined) sharedStates.set(ctx, (byKey = new Map()));
      core = byKey.get(this.stateKey);
      if (core === undefined) byKey.set(this.stateKey, (core = new SpoofingState(this.p, ctx.books)));
    } else core = new SpoofingState(this.p, ctx.books);
    this.core = core;
    this.coreCtx = ctx;
    return core;
  }

  onEvent(ev: ExchangeEvent, ctx: DetectorContext): void {
    const hit = this.stateOf(ctx).onEvent(ev, ctx, ctx.seq ?? -1);
    if (hit !== undefined) this.evaluate(ev as EventOf<'order.cancelled'>, hit.st, hit.side, hit.rec, ctx);
  }

  afterEvent(ev: ExchangeEvent, ctx: DetectorContext): void {
    this.stateOf(ctx).afterEvent(ev, ctx, ctx.seq ?? -1);
  }

  private ipPeers(st: AcctState, account: string, market: string, ts: number): readonly string[] {
    return this.core!.ipPeers(st, account, market, ts);
  }

  private evaluate(e: EventOf<'order.cancelled'>, st: AcctState, side: number, rec: Fleeting[], ctx: DetectorContext): void {
    const ts = ctx.ts;
    // Cluster features.
    let first = Infinity;
    let total = 0;
    let ref = 0;
    let maxRatio = 0;
    let maxBehindRatio = 0;
    let levels = 0;
    for (let i = 0; i < rec.length; i++) {
      const f = rec[i];
      if (f.placedTs < first) first = f.placedTs;
      total += f.size;
      ref = Math.max(ref, f.ref);
      const r = f.size / f.ref;
      if (r > maxRatio) maxRatio = r;
      if ((f.behind || f.distBps >= this.p.maxTouchDistanceBps) && r > maxBehindRatio && (f.behind || this.p.maxTouchDistanceBps > 0)) maxBehindRatio = r;
      let seen = false;
      for (let j = 0; j < i; j++) if (rec[j].price === f.price) seen = true;
      if (!seen) levels++;
    }
    const isLayering = levels >= this.p.minLayers && total >= this.p.layerTotalMultiple * ref;
    if (this.kind === 'layering' ? !isLayering : isLayering) return;
    if (this.kind === 'spoofing' && stackLevels(st, side, first, this.p.stackMs) >= this.p.minLayers) return;
    const ratio = this.kind === 'layering' ? total / ref : maxBehindRatio;
    const threshold = this.kind === 'layering' ? this.p.layerTotalMultiple : this.p.sizeMultiple;
    if (!(ratio >= threshold)) return;
    // Opposite-side interest while the orders rested: own or linked.
    const opp = 1 - side;
    let pairedBy: string | undefined;
    let via = '';
    if (newInterest(st, opp, first, this.p.quietMs)) pairedBy = e.accountId;
    else {
      for (const other of ctx.links.linked(e.accountId)) {
        const os = this.core!.peek(e.market, other, ts);
        if (os !== undefined && newInterest(os, opp, first, this.p.quietMs)) {
          pairedBy = other;
          via = 'link';
          break;
        }
      }
      if (pairedBy === undefined) {
        for (const other of this.ipPeers(st, e.accountId, e.market, ts)) {
          const os = this.core!.peek(e.market, other, ts);
          if (os !== undefined && newInterest(os, opp, first, this.p.quietMs)) {
            pairedBy = other;
            via = `IP ${st.ip}`;
            break;
          }
        }
      }
    }
    const key = pairKey(e.accountId, e.market);
    const ep = ctx.alerts.episode(this, key, e);
    ep.addMarket(e.market).addAccount(e.accountId);
    for (const f of rec) ep.addOrder(f.id);
    // A cluster is counted once (its last cancel wins).
    const clusterId = first;
    if (ep.data.lastCluster !== clusterId) {
      ep.data.lastCluster = clusterId;
      ep.data.clusters = (ep.data.clusters ?? 0) + 1;
      if (pairedBy === undefined) ep.data.unpaired = (ep.data.unpaired ?? 0) + 1;
    }
    if (pairedBy !== undefined) {
      ep.addAccount(pairedBy);
      ep.data.paired = (ep.data.paired ?? 0) + (ep.data.lastPaired === clusterId ? 0 : 1);
      ep.data.lastPaired = clusterId;
    }
    const clusters = ep.data.clusters ?? 1;
    const paired = ep.data.paired ?? 0;
    const linked = pairedBy !== undefined && pairedBy !== e.accountId;
    let score = 45 + 20 * Math.log2(ratio / threshold) + Math.min(30, 10 * (clusters - 1)) + (linked ? 10 : 0);
    if (paired === 0) score = (ep.data.unpaired ?? 0) >= this.p.unpairedMinClusters ? score - 15 : 0;
    // Share of the account's orders here that were such fleeting displays: high for a spoofer, tiny
    // for a market maker whose occasional large requote happens to look alike.
    const placed = ctx.flow.accountMarket(e.accountId, e.market)?.placed ?? 0;
    const fleetingShare = placed > 0 ? Math.min(1, ep.orderCount / placed) : 1;
    if (fleetingShare < this.p.minFleetingShare) score = 0;
    if (ep.offer(score)) {
      ep.variant = this.kind === 'layering' ? undefined : linked ? 'linked_account' : 'single_account';
      if (this.kind === 'layering') {
        ep.feature('layers', levels, this.p.minLayers, '>=');
        ep.feature('stack_size_over_level', total / ref, this.p.layerTotalMultiple, '>=', 'x');
      } else ep.feature('order_size_over_level', ratio, this.p.sizeMultiple, '>=', 'x');
      ep.feature('lifetime_ms', ts - first, this.p.maxLifetimeMs, '<=', 'ms');
      ep.feature('opposite_side_interest', pairedBy !== undefined ? 1 : 0, 1, '>=');
      ep.feature('clusters_in_episode', clusters, 1, '>=');
      ep.feature('fleeting_share_of_orders', fleetingShare, this.p.minFleetingShare, '>=');
      ep.notes.side = side === BUY ? 'buy' : 'sell';
      ep.notes.pairedBy = pairedBy ?? '';
      ep.notes.via = via;
      ep.notes.ts = String(ts);
      ep.notes.size = num(total, 8);
      ep.notes.ref = num(ref, 8);
      ep.notes.levels = String(levels);
      ep.book = ctx.books.snapshot(e.market, this.p.bookLevels);
    }
    ctx.alerts.commit(ep, ts);
  }

  explain(ep: Episode): string {
    const n = ep.notes;
    const acct = ep.key.split('\u0000')[0];
    const other = n.side === 'buy' ? 'sell' : 'buy';
    const life = ep.get('lifetime_ms')?.value ?? 0;
    const clusters = ep.data.clusters ?? 1;
    const what =
      this.kind === 'layering'
        ? `stacked ${n.levels} ${n.side} orders on distinct price levels (${n.size} in total, ${num(ep.get('stack_size_over_level')?.value ?? 0, 1)}× the ${n.ref} mean level size)`
        : `posted a ${n.side} order of ${n.size} behind the touch (${num(ep.get('order_size_over_level')?.value ?? 0, 1)}× the ${n.ref} mean level size)`;
    const paired =
      n.pairedBy === ''
        ? `no ${other}-side trading by it or a linked account was seen meanwhile, but the pattern repeated`
        : n.pairedBy === acct
          ? `meanwhile it traded or quoted at the touch on the ${other} side`
          : `meanwhile linked account ${n.pairedBy}${n.via?.startsWith('IP') ? ` (orders from the same ${n.via})` : ''} traded or quoted at the touch on the ${other} side`;
    return `Account ${acct} ${what} in ${ep.markets.join(', ')} at ${time(Number(n.ts))} and cancelled within ${num(life / 1000, 2)} s; ${paired} (${plural(clusters, 'such cycle')} in this episode).`;
  }
}

export const spoofing = defineDetector({
  name: 'spoofing',
  typology: 'spoofing',
  description: 'Large resting orders behind the touch, cancelled within seconds while the account or a linked account trades on the other side.',
  citation:
    'Lee, Eom & Park (2013), Microstructure-based manipulation: strategic behavior and performance of spoofing traders, J. Financial Markets 16(2); CEA §4c(a)(5)(C) (Dodd-Frank §747); CFTC v. Sarao (2015); US v. Coscia (7th Cir. 2017); EU MAR Annex I 2(a)',
  params: spoofingParams,
  enabledByDefault: true,
  create: (p) => new SpoofingDetector(p, 'spoofing'),
});

export const layering = defineDetector({
  name: 'layering',
  typology: 'layering',
  description: 'Orders stacked on several price levels of one side and cancelled together within seconds while the account or a linked account trades on the other side.',
  citation:
    'Lee, Eom & Park (2013), J. Financial Markets 16(2); FCA Final Notice, Da Vinci Invest Ltd (2015, layering); US v. Coscia (7th Cir. 2017); EU MAR Annex I 2(a); ESMA MAR Guidelines on layering and spoofing indicators',
  params: spoofingParams,
  enabledByDefault: true,
  create: (p) => new SpoofingDetector(p, 'layering'),
});
