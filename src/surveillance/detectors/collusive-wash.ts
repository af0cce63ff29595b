import { z } from 'zod';
import type { EventOf, ExchangeEvent } from '../../events/schema.js';
import { baseParams, defineDetector, policyFrom, type Detector, type DetectorContext, type EpisodePolicy } from '../detector.js';
import type { Episode } from '../emitter.js';
import { num, plural, time } from './format.js';
import { collusiveRingsInWindow, type CollusiveRing, type RingTrade } from '../../graph/algorithms/collusive-rings.js';

/**
 * Wash trading, variants collusive_pair and collusive_ring: two or more accounts that trade the
 * same quantity round among themselves so that each ends (about) flat — volume without any change
 * in who holds the asset.
 *
 * Method (Victor & Weintraud, WWW 2021): per market, over a sliding window of `windowMs`, the
 * directed flow graph seller → buyer of trades between distinct, known accounts. Every
 * `evalEveryMs` of event time (a watermark timer, so the per-trade cost is an append), the graph
 * restricted to repeated relationships (pairs with at least `minEdgeTrades` trades in the window) is
 * split into strongly connected components (Tarjan); a component of 2…`maxMembers` accounts is a
 * ring when volume matches: every member's net position over the component's own trades is within
 * `tolerance` of zero (|bought − sold| ≤ tolerance · max(bought, sold)), with at least `minTrades`
 * trades and `minNotional` quote notional inside it. A component that fails is peeled (the member
 * furthest from flat is removed and the rest re-split), so an honest counterparty in the same
 * component does not hide the ring. One episode per market × member set; it grows while the ring is
 * found again. The ring logic is the graph module's (collusiveRingsInWindow, src/graph), one piece of
 * code for surveillance and graph analysis.
 *
 * Cost: the window's per-pair and per-account totals are kept as trades enter and leave it. An
 * evaluation first bounds what a ring would need from them (each member's volume with its
 * `maxMembers` − 1 strongest partners, bought and sold each way; ties asked only of pairs that pass)
 * and skips the search when no account can be a member; otherwise it searches only the trades
 * between accounts of pairs that can be edges, with the same result as a search of the whole window
 * (test/detector-wash.test.ts checks both).
 *
 * Linked accounts (ctx.links: the entity graph's shared devices, IPs, addresses and internal
 * transfers, as of event time) change the evidence needed: a ring none of whose members is tied to
 * another must end within `unlinkedTolerance` (market makers hover near flat against each other;
 * pre-arranged rotations end exactly flat), and tied accounts that trade mostly with each other
 * (`minLinkedConcentration`) are reported even when their rotation is broken (no cycle, not flat).
 *
 * Score: 50 + 8·log2(trades / minTrades) + 20·flat + 10 when every member did at least
 * `minEdgeTrades` trades in both directions + linkedBonus·(share of members tied to another),
 * minus 10 for a tied group without a cycle (flat = 1 − worst net ratio / tolerance; for such a group
 * the concentration), capped at 100.
 */
export const collusiveWashParams = z.object({
  ...baseParams,
  episodeGapMs: z.number().int().positive().default(600_000).describe('an episode closes after this much event time (ms) without the ring being found again'),
  windowMs: z.number().int().positive().default(600_000).describe('sliding window of trades forming the flow graph (ms of event time)'),
  evalEveryMs: z.number().int().positive().default(15_000).describe('how often (event time) each market with new trades is evaluated'),
  minEdgeTrades: z.number().int().positive().default(2).describe('a pair of accounts needs this many trades with each other (either direction) in the window to enter the graph'),
  minPairShare: z.number().min(0).max(1).default(0.2).describe('a pair enters the graph only if its volume (both directions) is at least this share of each side’s window volume'),
  minConcentration: z.number().min(0).max(1).default(0.85).describe('every member must do at least this share of its window volume in the market inside the ring'),
  minSizeMatch: z.number().min(0).max(1).default(0.6).describe('share of the ring volume each side bought and sold back in identical sizes (trade-by-trade volume matching; separates rings from groups of market makers trading mostly with each other)'),
  minTrades: z.number().int().positive().default(4).describe('trades inside the component before it can be a ring'),
  minNotional: z.number().nonnegative().default(0).describe('quote notional inside the component before it can be a ring'),
  maxMembers: z.number().int().min(2).default(8).describe('largest ring considered (larger components are peeled)'),
  tolerance: z.number().positive().max(1).default(0.3).describe('largest |net| / max(bought, sold) a member may have within the ring'),
  maxTradesPerMarket: z.number().int().positive().default(50_000).describe('memory bound on window trades per market'),
  unlinkedTolerance: z.number().min(0).max(1).default(0.01).describe('a ring none of whose members is tied to another (ctx.links) must end this flat (|net| / max(bought, sold)); tied rings get `tolerance`'),
  minLinkedConcentration: z.number().min(0).max(1).default(0.3).describe('tied accounts (shared device, IP, address, transfers) trading with each other form a group without a cycle or flat ending when every member did at least this share of its window volume inside the group'),
  farmAgeMs: z.number().int().nonnegative().default(86_400_000).describe('a ring most of whose members opened their accounts within this much event time is a sybil farm churning volume: left to the fake_traffic detector (0 disables)'),
  linkedBonus: z.number().min(0).max(50).default(15).describe('score added, times the share of members linked to another member (ctx.links: shared devices, IPs, addresses, internal transfers)'),
});
export type CollusiveWashParams = z.output<typeof collusiveWashParams>;

interface MarketState {
  trades: WindowTrade[];
  head: number;
  dirty: boolean;
  nextEval: number;
  /** The last evaluated window's trades, kept as running totals: indices [aggLo, aggHi) of `trades`. */
  agg: WindowTotals;
  aggLo: number;
  aggHi: number;
  /** Time and end (index: trades before it are earlier than that time) of the last evaluation. */
  lastAt: number;
  lastHi: number;
}

/**
 * Running totals of one market's window (base volume per account, trades and volume per unordered
 * pair), kept as trades enter and leave it, so an evaluation can tell cheaply that the ring search
 * would find nothing: a flow-graph edge needs a pair with `minEdgeTrades` trades in the window, and
 * then either `minPairShare` of both sides' volume (cycles) or a tie between the two (linked groups).
 * Only pairs at or above `minEdgeTrades` are examined; the totals are floats kept incrementally, so
 * the share and concentration tests are loosened by a small relative slack (a near miss costs a full
 * search, never a lost ring).
 */
export class WindowTotals {
  /** Per account: trades and base volume in the window. */
  private readonly accounts = new Map<string, AccountTotals>();
  /** Pairs with at least `minTrades` trades in the window. */
  private readonly hot = new Set<PairTotals>();
  // scratch of mayFindRing
  private readonly edges: PairTotals[] = [];
  private readonly seen: AccountTotals[] = [];
  private readonly qtys: number[] = [];
  private readonly queue: AccountTotals[] = [];
  private stage = 0;
  constructor(private readonly minTrades: number) {}

  /** Adds (sign 1) or removes (sign -1) a trade of the window; an added trade keeps its pair for its removal. */
  apply(t: WindowTrade, sign: 1 | -1): void {
    const sellerLow = t.seller < t.buyer;
    let p = sign < 0 ? t.pair : undefined;
    if (p === undefined) {
      const s = this.account(t.seller);
      const b = this.account(t.buyer);
      const lo = sellerLow ? s : b;
      const partners = (lo.partners ??= new Map());
      p = partners.get(sellerLow ? t.buyer : t.seller);
      if (p === undefined) partners.set(sellerLow ? t.buyer : t.seller, (p = { a: sellerLow ? t.seller : t.buyer, b: sellerLow ? t.buyer : t.seller, ta: lo, tb: sellerLow ? b : s, trades: 0, qty: 0, ab: 0, ba: 0, qab: 0, qba: 0, hot: false, stage: 0 }));
      t.pair = p;
    }
    const q = sign * t.qty;
    p.ta.trades += sign;
    p.ta.qty += q;
    p.tb.trades += sign;
    p.tb.qty += q;
    p.trades += sign;
    p.qty += q;
    if (sellerLow) {
      p.ab += sign;
      p.qab += q;
    } else {
      p.ba += sign;
      p.qba += q;
    }
    if (p.trades >= this.minTrades) {
      if (!p.hot) this.hot.add(p);
      p.hot = true;
    } else if (p.hot) {
      this.hot.delete(p);
      p.hot = false;
    }
    if (p.trades <= 0) {
      p.ta.partners!.delete(p.b);
      if (p.ta.trades <= 0) this.accounts.delete(p.a);
      if (p.tb.trades <= 0) this.accounts.delete(p.b);
    }
  }

  private account(id: string): AccountTotals {
    let a = this.accounts.get(id);
    if (a === undefined) this.accounts.set(id, (a = { trades: 0, qty: 0, partners: undefined, adj: NO_PAIRS, alive: false, queued: false }));
    return a;
  }

  /**
   * Marks in `out` the accounts of every pair that may be a flow-graph edge: `minTrades` trades in the
   * window and either `minShare` of both sides' volume (cycles) or a tie (linked groups). Empty: no
   * ring and no linked group can exist in this window.
   */
  candidates(minShare: number, tied: (a: string, b: string) => boolean, out: Set<string>): void {
    out.clear();
    const slack = 1 - 1e-9;
    for (const p of this.hot) {
      const va = p.ta.qty;
      const vb = p.tb.qty;
      if ((p.qty >= minShare * va * slack && p.qty >= minShare * vb * slack) || tied(p.a, p.b) || tied(p.b, p.a)) out.add(p.a).add(p.b);
    }
  }

  /**
   * False when the ring search provably finds nothing in this window (true: search). A ring has at
   * most `maxMembers` members, and each does `minConcentration` (cycles) or `minLinkedConcentration`
   * (linked groups) of its window volume with the others: so with its strongest `maxMembers` − 1
   * partners among the pairs that can be edges (share-passing pairs for cycles, where it also needs an
   * in- and an out-edge; repeated pairs for groups). Accounts failing that are pruned to a fixpoint.
   * `tied` (the costly query) is asked only about pairs that survive, and the survivors are pruned
   * again over the tied pairs alone.
   */
  mayFindRing(p: Pick<CollusiveWashParams, 'minPairShare' | 'minConcentration' | 'minLinkedConcentration' | 'maxMembers' | 'tolerance'>, tied: ((a: string, b: string) => boolean) | undefined): boolean {
    if (this.hot.size === 0) return false;
    const slack = 1 - 1e-6;
    const edges = this.edges;
    const seen = this.seen;
    edges.length = 0;
    seen.length = 0;
    for (const q of this.hot) {
      if (q.qty >= p.minPairShare * q.ta.qty * slack && q.qty >= p.minPairShare * q.tb.qty * slack) edges.push(q);
      for (let j = 0; j < 2; j++) {
        const a = j === 0 ? q.ta : q.tb;
        if (a.adj.length === 0) {
          if (a.adj === NO_PAIRS) a.adj = [];
          seen.push(a);
        }
        a.adj.push(q);
      }
    }
    const k = p.maxMembers - 1;
    // A cycle member ends within `tolerance` of flat, so it bought and sold each at least
    // minConcentration · (1 − tolerance) / (2 − tolerance) of its volume inside the ring.
    const side = ((p.minConcentration * (1 - p.tolerance)) / (2 - p.tolerance)) * slack;
    let found = this.survivors(edges, p.minConcentration * slack, side, k) > 0;
    if (!found && tied !== undefined) {
      edges.length = 0;
      for (const q of this.hot) edges.push(q);
      let n = this.survivors(edges, p.minLinkedConcentration * slack, undefined, k);
      let t = 0;
      for (let i = 0; i < n; i++) if (tied(edges[i].a, edges[i].b) || tied(edges[i].b, edges[i].a)) edges[t++] = edges[i];
      edges.length = t;
      n = this.survivors(edges, p.minLinkedConcentration * slack, undefined, k);
      found = n > 0;
    }
    for (const a of seen) a.adj.length = 0;
    edges.length = 0;
    seen.length = 0;
    return found;
  }

  /**
   * Prunes, to a fixpoint, the accounts of `edges` that cannot be members: less than `share` of their
   * volume with their `k` strongest partners over live edges (or, `directed`, no live in- or
   * out-edge). Moves the live edges to the front of `edges` and returns their count.
   */
  private survivors(edges: PairTotals[], share: number, side: number | undefined, k: number): number {
    const stage = ++this.stage;
    const queue = this.queue;
    queue.length = 0;
    for (const q of edges) {
      q.stage = stage;
      if (!q.ta.alive) queue.push(q.ta);
      if (!q.tb.alive) queue.push(q.tb);
      q.ta.alive = q.tb.alive = q.ta.queued = q.tb.queued = true;
    }
    // Worklist: an account that drops out sends its live partners back for another look.
    for (let i = 0; i < queue.length; i++) {
      const a = queue[i];
      a.queued = false;
      if (!a.alive || this.canStay(a, stage, share, side, k)) continue;
      a.alive = false;
      for (const q of a.adj) {
        if (q.stage !== stage) continue;
        const o = q.ta === a ? q.tb : q.ta;
        if (o.alive && !o.queued) {
          o.queued = true;
          queue.push(o);
        }
      }
    }
    let n = 0;
    for (const q of edges) if (q.ta.alive && q.tb.alive) edges[n++] = q;
    for (const a of queue) a.alive = a.queued = false;
    queue.length = 0;
    return n;
  }

  /**
   * Whether `a` can still be a member: a live edge, `share` of its volume with its `k` strongest live
   * partners and, for cycles (`side` given), bought and sold each at least `side` of its volume.
   */
  private canStay(a: AccountTotals, stage: number, share: number, side: number | undefined, k: number): boolean {
    let count = 0;
    let sum = 0;
    let sold = 0;
    let bought = 0;
    for (const q of a.adj) {
      if (q.stage !== stage || !q.ta.alive || !q.tb.alive) continue;
      count++;
      sum += q.qty;
      sold += q.ta === a ? q.qab : q.qba;
      bought += q.ta === a ? q.qba : q.qab;
    }
    const need = share * a.qty;
    if (count === 0 || sum < need) return false;
    if (side !== undefined && (sold <= 0 || bought <= 0 || sold < side * a.qty || bought < side * a.qty)) return false;
    if (count <= k) return true;
    if (this.topK(a, stage, k, 0) < need) return false;
    return side === undefined || (this.topK(a, stage, k, 1) >= side * a.qty && this.topK(a, stage, k, 2) >= side * a.qty);
  }

  /** Sum of the `k` largest live pair volumes of `a`: both ways (0), sold (1) or bought (2). */
  private topK(a: AccountTotals, stage: number, k: number, what: 0 | 1 | 2): number {
    const qty = this.qtys;
    qty.length = 0;
    for (const q of a.adj) {
      if (q.stage !== stage || !q.ta.alive || !q.tb.alive) continue;
      qty.push(what === 0 ? q.qty : (what === 1) === (q.ta === a) ? q.qab : q.qba);
    }
    qty.sort(descending);
    let cap = 0;
    for (let i = 0; i < k && i < qty.length; i++) cap += qty[i];
    return cap;
  }
}

/** Shared empty adjacency of accounts never examined (most come and go without a repeated pair). */
const NO_PAIRS: PairTotals[] = [];

const descending = (x: number, y: number): number => y - x;

/** A window trade; `pair` is set by WindowTotals when it enters the window. */
export interface WindowTrade extends RingTrade {
  pair?: PairTotals;
}

interface AccountTotals {
  trades: number;
  qty: number;
  /** Pairs with the accounts whose id sorts after this one's, by that id (made on first use). */
  partners: Map<string, PairTotals> | undefined;
  /** Scratch of mayFindRing: the account's hot pairs, and whether it can still be a member. */
  adj: PairTotals[];
  alive: boolean;
  queued: boolean;
}

export interface PairTotals {
  /** The two accounts, a < b, and their totals. */
  a: string;
  b: string;
  ta: AccountTotals;
  tb: AccountTotals;
  trades: number;
  qty: number;
  /** Trades a sold to b, and b sold to a, and their base volumes. */
  ab: number;
  ba: number;
  qab: number;
  qba: number;
  /** In the window's hot set. */
  hot: boolean;
  /** Scratch of mayFindRing: the pruning pass this pair is an edge of. */
  stage: number;
}

/**
 * The trades of [lo, hi) between two `involved` accounts, in order; `volume` receives every involved
 * account's volume over all of [lo, hi), summed in window order (as the ring search sums it).
 */
export function candidateTrades(trades: readonly RingTrade[], lo: number, hi: number, involved: ReadonlySet<string>, volume: Map<string, number>): RingTrade[] {
  const part: RingTrade[] = [];
  volume.clear();
  for (let i = lo; i < hi; i++) {
    const tr = trades[i];
    const s = involved.has(tr.seller);
    const b = involved.has(tr.buyer);
    if (s) volume.set(tr.seller, (volume.get(tr.seller) ?? 0) + tr.qty);
    if (b) volume.set(tr.buyer, (volume.get(tr.buyer) ?? 0) + tr.qty);
    if (s && b) part.push(tr);
  }
  return part;
}

/** Rings among one window's trades: the graph module's collusiveRingsInWindow with this detector's filters. */
export function findRings(
  trades: readonly RingTrade[],
  p: Pick<CollusiveWashParams, 'minPairShare' | 'minConcentration' | 'minSizeMatch' | 'minEdgeTrades' | 'minTrades' | 'minNotional' | 'maxMembers' | 'tolerance' | 'unlinkedTolerance' | 'minLinkedConcentration'>,
  tied?: (a: string, b: string) => boolean,
  windowVolume?: (account: string) => number,
): CollusiveRing[] {
  return collusiveRingsInWindow(trades, {
    tied,
    windowVolume,
    unlinkedTolerance: p.unlinkedTolerance,
    minLinkedConcentration: p.minLinkedConcentration,
    minPairTrades: p.minEdgeTrades,
    minPairShare: p.minPairShare,
    minConcentration: p.minConcentration,
    minSizeMatch: p.minSizeMatch,
    minTrades: p.minTrades,
    minValue: p.minNotional,
    maxMembers: p.maxMembers,
    tolerance: p.tolerance,
    maxTradeIds: 100,
  });
}

/** Share of members tied (ctx.links: shared devices, IPs, addresses, transfers) to another member, and the strongest tie. */
function tieEvidence(members: readonly string[], tied: (a: string, b: string) => boolean, ctx: DetectorContext): { share: number; via?: string } {
  const linked = new Set<string>();
  let via: string | undefined;
  let best = -1;
  for (let i = 0; i < members.length; i++) {
    for (let j = i + 1; j < members.length; j++) {
      if (!tied(members[i], members[j])) continue;
      linked.add(members[i]).add(members[j]);
      const ev = ctx.links.evidence?.(members[i], members[j]);
      if (ev && ev.weight > best) {
        best = ev.weight;
        via = `${members[i]} ~ ${members[j]} via ${ev.via.map((v) => v.node).join(', ')}`;
      }
    }
  }
  return { share: members.length ? linked.size / members.length : 0, via };
}

class CollusiveWashDetector implements Detector {
  readonly name = 'collusive_wash';
  readonly typology = 'wash_trading' as const;
  readonly eventTypes = ['trade'] as const;
  readonly onEventTypes = [] as const;
  readonly policy: EpisodePolicy;
  private readonly markets = new Map<string, MarketState>();
  private readonly dirty: string[] = [];
  // scratch of evaluate()
  private readonly involved = new Set<string>();
  private readonly volume = new Map<string, number>();

  constructor(private readonly p: CollusiveWashParams) {
    this.policy = policyFrom(p);
  }

  onEvent(): void {}

  afterEvent(ev: ExchangeEvent, ctx: DetectorContext): void {
    const e = ev as EventOf<'trade'>;
    const maker = ctx.trade.maker;
    const taker = ctx.trade.taker;
    const side = ctx.trade.takerSide;
    if (maker === undefined || taker === undefined || maker === taker || side === undefined) return;
    let m = this.markets.get(e.market);
    if (m === undefined) this.markets.set(e.market, (m = { trades: [], head: 0, dirty: false, nextEval: NaN, agg: new WindowTotals(this.p.minEdgeTrades), aggLo: 0, aggHi: 0, lastAt: -Infinity, lastHi: 0 }));
    const size = ctx.sz;
    const seller = side === 'buy' ? maker : taker;
    const buyer = side === 'buy' ? taker : maker;
    m.trades.push({ ts: ctx.ts, seller, buyer, qty: size, value: size * ctx.px, tradeId: e.tradeId, pair: undefined });
    if (m.trades.length - m.head > this.p.maxTradesPerMarket) m.head++;
    if (!m.dirty) {
      m.dirty = true;
      // evaluation times are multiples of evalEveryMs: independent of how often watermarks arrive
      m.nextEval = (Math.floor(ctx.ts / this.p.evalEveryMs) + 1) * this.p.evalEveryMs;
      this.dirty.push(e.market);
    }
  }

  onWatermark(t: number, ctx: DetectorContext): void {
    if (this.dirty.length === 0) return;
    let keep = 0;
    for (let i = 0; i < this.dirty.length; i++) {
      const market = this.dirty[i];
      const m = this.markets.get(market)!;
      if (m.nextEval > t) {
        this.dirty[keep++] = market;
        continue;
      }
      m.dirty = false;
      this.evaluate(market, m, m.nextEval, ctx);
    }
    this.dirty.length = keep;
  }

  private evaluate(market: string, m: MarketState, at: number, ctx: DetectorContext): void {
    const from = at - this.p.windowMs;
    while (m.head < m.trades.length && m.trades[m.head].ts <= from) m.head++;
    // Trades before the last evaluation's end were all earlier than its time: resume from there.
    let hi = at >= m.lastAt && m.lastHi > m.head ? m.lastHi : m.head;
    while (hi < m.trades.length && m.trades[hi].ts < at) hi++;
    m.lastAt = at;
    m.lastHi = hi;
    // Move the running totals to the window [head, hi).
    for (; m.aggLo < m.head; m.aggLo++) if (m.aggLo < m.aggHi) m.agg.apply(m.trades[m.aggLo], -1);
    if (m.aggHi < m.aggLo) m.aggHi = m.aggLo;
    for (; m.aggHi < hi; m.aggHi++) m.agg.apply(m.trades[m.aggHi], 1);
    if (m.head > 4096 && m.head * 2 > m.trades.length) {
      m.trades = m.trades.slice(m.head);
      m.aggLo -= m.head;
      m.aggHi -= m.head;
      m.lastHi -= m.head;
      hi -= m.head;
      m.head = 0;
    }
    if (hi < m.trades.length) {
      // trades after this evaluation time are waiting: evaluate again at the next step
      m.dirty = true;
      m.nextEval = at + this.p.evalEveryMs;
      this.dirty.push(market);
    }
    if (hi - m.head < this.p.minTrades) return;
    const tied = (a: string, b: string) => ctx.links.areLinked(a, b) || (ctx.links.evidence?.(a, b)?.weight ?? 0) > 0;
    // The search rebuilds the window's flow graph: run it only when an edge can exist, and only on the
    // trades between accounts of candidate pairs (every edge, and every trade between two members of
    // a ring, is among them), with each account's volume over the whole window summed in window order
    // as the search itself would.
    if (!m.agg.mayFindRing(this.p, tied)) return;
    const involved = this.involved;
    m.agg.candidates(this.p.minPairShare, tied, involved);
    if (involved.size === 0) return;
    const part = candidateTrades(m.trades, m.head, hi, involved, this.volume);
    if (part.length < this.p.minTrades) return;
    const volume = this.volume;
    for (const r of findRings(part, this.p, tied, (a) => volume.get(a) ?? 0)) {
      const members = r.members.map((x) => x.account);
      if (this.p.farmAgeMs > 0 && ctx.links.openedAt) {
        const young = members.filter((a) => at - (ctx.links.openedAt!(a) ?? -Infinity) <= this.p.farmAgeMs).length;
        if (young * 2 >= members.length) continue;
      }
      this.report(market, r, tieEvidence(members, tied, ctx), ctx);
    }
  }

  private report(market: string, r: CollusiveRing, links: { share: number; via?: string }, ctx: DetectorContext): void {
    const members = r.members.map((x) => x.account);
    const key = `${market}\u0000${members.join('\u0000')}`;
    const ep = ctx.alerts.episode(this, key, { id: `${key}@${r.start}`, ts: r.start });
    if (ep.variant === undefined) ep.variant = r.members.length === 2 ? 'collusive_pair' : 'collusive_ring';
    if (r.end > ep.endTime) ep.endTime = r.end;
    ep.addMarket(market);
    for (const a of members) ep.addAccount(a);
    for (const id of r.tradeIds) ep.addTrade(id);
    const d = ep.data;
    d.members = r.members.length;
    d.trades = Math.max(d.trades ?? 0, r.trades);
    d.notional = Math.max(d.notional ?? 0, r.value);
    d.volume = Math.max(d.volume ?? 0, r.volume);
    d.worstNet = r.worstNetRatio;
    const bothWays = r.minDirectionTrades >= this.p.minEdgeTrades;
    d.linkedShare = links.share;
    if (links.via) ep.notes.linkedVia = links.via;
    if (r.kind === 'linked') ep.notes.linkedGroup = 'yes';
    const flat = r.kind === 'linked' ? r.concentration : 1 - Math.min(1, r.worstNetRatio / this.p.tolerance);
    const score = 50 + 8 * Math.log2(Math.max(1, r.trades / this.p.minTrades)) + 20 * flat + (bothWays ? 10 : 0) + this.p.linkedBonus * links.share - (r.kind === 'linked' ? 10 : 0);
    if (ep.offer(Math.min(100, score))) {
      ep.feature('ring_members', r.members.length, 2, '>=');
      ep.feature('trades_inside_ring', r.trades, this.p.minTrades, '>=');
      ep.feature('worst_member_net_ratio', r.worstNetRatio, this.p.tolerance, '<=');
      ep.feature('min_member_volume_share_inside_ring', r.concentration, this.p.minConcentration, '>=');
      ep.feature('volume_matched_in_equal_sizes', r.sizeMatch, this.p.minSizeMatch, '>=');
      ep.feature('ring_notional', r.value, this.p.minNotional, '>=', 'quote');
      ep.feature('window_ms', this.p.windowMs, 0, '>', 'ms');
      ep.feature('members_linked_to_another_member', links.share, 0, '>=');
    }
    ep.notes.firstTrade ??= time(r.start);
    ctx.alerts.commit(ep, Math.max(r.end, ep.endTime));
  }

  explain(ep: Episode): string {
    const n = ep.accounts.length;
    const kind = n === 2 ? 'pair' : `ring of ${n}`;
    const head = `A ${kind} of accounts (${ep.accounts.join(', ')}) traded ${plural(ep.data.trades ?? 0, 'time')} among themselves in ${ep.markets.join(', ')} (volume ${num(ep.data.volume ?? 0, 8)}, notional ${num(ep.data.notional ?? 0)}) within a ${num(this.p.windowMs / 60_000, 1)}-minute window`;
    const tie = ep.notes.linkedVia ? `; they are linked (${ep.notes.linkedVia})` : '';
    if (ep.notes.linkedGroup) return `${head}, mostly with each other${tie} — trading between related accounts that changed little beneficial ownership.`;
    return `${head}, and every member's net position from those trades is within ${num((ep.data.worstNet ?? 0) * 100, 1)}% of flat${tie} — volume that changed no beneficial ownership.`;
  }
}

export const collusiveWash = defineDetector({
  name: 'collusive_wash',
  typology: 'wash_trading',
  variant: 'collusive_ring',
  description: 'Pairs and rings of accounts trading among themselves with matched volumes (every member ends flat): SCCs of the per-window trade-flow graph with volume matching.',
  citation: 'Victor & Weintraud, "Detecting and Quantifying Wash Trading on Decentralized Cryptocurrency Exchanges", WWW 2021; US CEA §4c(a)(2)(A)(i); EU MAR Annex I 1(a)',
  params: collusiveWashParams,
  enabledByDefault: true,
  create: (p) => new CollusiveWashDetector(p),
});
