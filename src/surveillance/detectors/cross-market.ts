import { z } from 'zod';
import type { EventOf, ExchangeEvent } from '../../events/schema.js';
import { KeyedState, pairKey } from '../../stream/keyed.js';
import { baseParams, defineDetector, policyFrom, type Detector, type DetectorContext, type EpisodePolicy } from '../detector.js';
import type { Episode } from '../emitter.js';
import { num, pct, time } from './format.js';

/**
 * Cross-market manipulation: an account holding a perpetual position pushes the spot market that
 * feeds the perpetual's index (BTCUSDT ↔ BTCUSDT-PERP ↔ BTCUSDT-INDEX) in the direction that
 * profits the position — buying spot aggressively while long the perp, selling while short. The
 * index and mark follow the spot price, and the perp position gains more than the push costs.
 *
 * Spot and perpetual of one underlying share a partition, so both legs are seen together.
 *
 * Per account × perpetual: the position, from the latest `position.snapshot` plus the account's
 * fills since (or fills alone without snapshots). Per account × spot market: the current
 * aggressive run in one direction — taker notional, aggressive orders, the reference price just
 * before the run's first trade, and the market's taker notional since then. A run ends after
 * `runIdleMs` without an aggressive trade by the account in that direction (a trade the other way
 * restarts it). On each aggressive spot trade the run is tested:
 *  - the account holds a perp position on the same underlying in the direction of the push, of
 *    notional ≥ `minPerpToSpot` × the run's notional and ≥ `minPerpNotional`, of which ≥
 *    `minBuiltShare` was opened or added to in that direction in the last `openedWithinMs` (the
 *    derivative position is built for the push; a long-held position beside a large spot order is
 *    routine trading);
 *  - the run's share of the spot market's taker notional IN ITS DIRECTION since it began ≥
 *    `minShare` (a push dominates the aggressive flow its way; flow the other way — followers
 *    taking profit, liquidity seekers — does not dilute it);
 *  - at least `minOrders` aggressive orders and `minRunNotional` of notional;
 *  - the run's impact: its own fills reached a price in the push direction ≥ `minMovePct` (and
 *    ≥ `k` × the market's rolling relative volatility) beyond the price just before it (the
 *    furthest fill, as price impact is measured in Comerton-Forde & Putniņš 2011: the market may
 *    revert between slices).
 * Legitimate look-alikes: a cash-and-carry or hedging account holds the OPPOSITE perp position to
 * its spot flow; a momentum trader chasing a move does not dominate the taker flow.
 *
 * Market-level variant `basis_blowout` (public feeds, no accounts): the spot/perp basis
 * (perp mid / spot mid − 1) departing from its EW mean by more than `basisK` rolling standard
 * deviations and at least `basisMinBps`, with the spot leg having moved — reported per underlying.
 *
 * Method: cross-market manipulation of a derivative via its underlying (MAR Art. 12(1)(a) and
 * ESMA MAR Guidelines Annex I indicators; Kumar & Seppi, "Futures manipulation with cash
 * settlement", J. Finance 1992); price impact as in Comerton-Forde & Putniņš (2011).
 */
export const crossMarketParams = z.object({
  ...baseParams,
  episodeGapMs: z.number().int().positive().default(300_000).describe('an episode closes after this much event time (ms) without a new observation'),
  minShare: z.number().min(0).max(1).default(0.2).describe('the run’s share of the spot market’s taker notional in its direction since it began'),
  minOrders: z.number().int().positive().default(3).describe('aggressive spot orders in the run'),
  minOrderVsTrade: z.number().nonnegative().default(4).describe('the run’s average aggressive order notional ≥ this × the spot market’s average trade notional (pushes sweep depth; routine flow trades at the usual size: below 3× in every run of dev seeds 11–24)'),
  minRunNotional: z.number().nonnegative().default(0).describe('minimum notional of the spot run (quote currency)'),
  minMovePct: z.number().default(0.005).describe('impact (%): the run’s furthest fill in the push direction beyond the price before it (0.5 bp: in a deep spot book makers refill between the slices of a push, so its furthest fill stays close to the start)'),
  k: z.number().nonnegative().default(0).describe('…and at least k × the spot market’s rolling relative volatility'),
  minPerpToSpot: z.number().nonnegative().default(0.3).describe('perp position notional ≥ this × the spot run’s notional'),
  minPerpNotional: z.number().nonnegative().default(0).describe('minimum perp position notional'),
  openedWithinMs: z.number().int().nonnegative().default(600_000).describe('window (ms, back from each test) in which the perp position must have been built (0: any position counts)'),
  minBuiltShare: z.number().min(0).max(1).default(0.5).describe('share of the perp position opened or added to in the push direction within `openedWithinMs`'),
  runIdleMs: z.number().int().positive().default(90_000).describe('a spot run ends after this long without an aggressive trade in its direction'),
  perpSuffixes: z.array(z.string()).default(['-PERP', '-SWAP', '_PERP']).describe('suffixes that turn a spot symbol into its perpetual'),
  basis: z.boolean().default(true).describe('also watch the spot/perp basis (variant basis_blowout)'),
  basisK: z.number().positive().default(12).describe('basis deviation from its EW mean in rolling standard deviations'),
  basisMinBps: z.number().nonnegative().default(50).describe('…and at least this many basis points'),
  basisHalfLifeMs: z.number().int().positive().default(600_000).describe('half-life of the basis EW mean/variance'),
  basisMinSamples: z.number().int().positive().default(300).describe('basis samples before the test applies'),
  maxAccounts: z.number().int().positive().default(200_000).describe('cap on tracked account × market states'),
  bookLevels: z.number().int().positive().default(5).describe('levels per side in the evidence book snapshot'),
});
export type CrossMarketParams = z.output<typeof crossMarketParams>;

class Run {
  dir = 0;
  startTs = NaN;
  lastTs = NaN;
  startPrice = NaN;
  notional = 0;
  orders = 0;
  lastOrder = '';
  marketAtStart = 0;
  /** Best price the run's own trades reached in its direction (highest buy, lowest sell). */
  extreme = NaN;
  firstEventId = '';
  readonly trades: string[] = [];
}

const MAX_ADDS = 64;

class Pos {
  snap = 0;
  snapTs = -Infinity;
  delta = 0;
  /** Recent growth away from zero, flat (ts, signed amount) pairs, newest last, at most MAX_ADDS. */
  readonly adds: number[] = [];
  get size(): number {
    return this.snap + this.delta;
  }
  /** Record a change from `before` at `ts`: growth away from zero is when the position was opened or added to. */
  moved(before: number, ts: number): void {
    const after = this.size;
    const eps = 1e-9 * Math.max(1, Math.abs(after)); // a snapshot restating summed fills is not growth
    let grown = 0;
    if (after > 0 && after - before > eps) grown = after - Math.max(0, before);
    else if (after < 0 && before - after > eps) grown = after - Math.min(0, before);
    if (grown === 0) return;
    if (this.adds.length >= 2 * MAX_ADDS) this.adds.splice(0, 2);
    this.adds.push(ts, grown);
  }
  /** Growth in direction `dir` since `from`, and the time of the latest such growth. */
  addedSince(dir: number, from: number): [number, number] {
    let sum = 0;
    let last = -Infinity;
    for (let i = this.adds.length - 2; i >= 0 && this.adds[i] >= from; i -= 2) {
      const a = this.adds[i + 1];
      if (Math.sign(a) !== dir) continue;
      sum += Math.abs(a);
      if (last === -Infinity) last = this.adds[i];
    }
    return [sum, last];
  }
}

class Basis {
  constructor(
    readonly spot: string,
    readonly perp: string,
  ) {}
  mean = 0;
  m2 = 0;
  w = 0;
  n = 0;
  lastTs = NaN;
}

const EVENT_TYPES = ['trade', 'position.snapshot', 'bbo', 'depth', 'order.placed', 'order.cancelled', 'order.amended'] as const;

class CrossMarketDetector implements Detector {
  readonly name = 'cross_market';
  readonly typology = 'cross_market_manipulation' as const;
  readonly eventTypes: readonly (typeof EVENT_TYPES)[number][];
  readonly policy: EpisodePolicy;
  private readonly runs: KeyedState<string, Run>;
  private readonly pos: KeyedState<string, Pos>;
  /** spot market -> cumulative taker notional per aggressor side ([buy, sell]) */
  private readonly marketNotional = new Map<string, [number, number]>();
  /** spot -> perp and perp -> spot, learned from the symbols seen */
  private readonly perpOf = new Map<string, string | null>();
  private readonly spotOf = new Map<string, string | null>();
  private readonly basis = new Map<string, Basis>();
  /** The last market's basis state (consecutive events are mostly of one market); reset when a pair is learned. */
  private lastBasisMarket = '';
  private lastBasis: Basis | null = null;

  constructor(private readonly p: CrossMarketParams) {
    this.policy = policyFrom(p);
    this.eventTypes = p.basis ? EVENT_TYPES : (['trade', 'position.snapshot'] as const);
    this.runs = new KeyedState(() => new Run(), { idleMs: p.runIdleMs * 4, maxKeys: p.maxAccounts });
    this.pos = new KeyedState(() => new Pos(), { idleMs: 7 * 86_400_000, maxKeys: p.maxAccounts });
  }

  /** The spot market of a perpetual symbol, or null. */
  private spotFor(perp: string): string | null {
    let s = this.spotOf.get(perp);
    if (s === undefined) {
      s = null;
      for (const suf of this.p.perpSuffixes) if (perp.length > suf.length && perp.endsWith(suf)) s = perp.slice(0, -suf.length);
      this.spotOf.set(perp, s);
      if (s !== null) {
        this.perpOf.set(s, perp);
        this.lastBasisMarket = '';
      }
    }
    return s;
  }

  /** The perpetual of a spot symbol, once that perpetual has been seen; else null. */
  private perpFor(m: string): string | null {
    return this.perpOf.get(m) ?? null;
  }

  private price(market: string, ctx: DetectorContext): number {
    const t = ctx.books.touch(market);
    if (t.mid > 0) return t.mid;
    const mf = ctx.flow.peekMarket(market);
    return mf !== undefined && mf.lastPrice > 0 ? mf.lastPrice : NaN;
  }

  onEvent(e: ExchangeEvent, ctx: DetectorContext): void {
    switch (e.type) {
      case 'position.snapshot': {
        this.spotFor(e.market);
        const ps = this.pos.get(pairKey(e.accountId, e.market), e.ts);
        const known = ps.snapTs > -Infinity || ps.delta !== 0;
        const before = ps.size;
        ps.snap = +e.size;
        ps.snapTs = e.ts;
        ps.delta = 0;
        // A first snapshot says nothing about when the position was opened.
        if (known) ps.moved(before, e.ts);
        return;
      }
      case 'trade':
        return this.onTrade(e, ctx);
      default:
        return;
    }
  }

  afterEvent(e: ExchangeEvent, ctx: DetectorContext): void {
    if (!this.p.basis) return;
    if (e.type !== 'bbo' && e.type !== 'depth' && e.type !== 'trade' && e.type !== 'order.placed' && e.type !== 'order.cancelled' && e.type !== 'order.amended') return;
    const m = e.market;
    let b = this.lastBasis;
    if (m !== this.lastBasisMarket) {
      b = this.basisOf(m);
      this.lastBasisMarket = m;
      this.lastBasis = b;
    }
    if (b !== null) this.onBasis(e, b, ctx);
  }

  /** The spot/perp pair a market belongs to (its basis state), or null while it has no counterpart. */
  private basisOf(m: string): Basis | null {
    const spot = this.spotFor(m) ?? (this.perpOf.get(m) ? m : null);
    if (spot === null) return null;
    const perp = this.perpOf.get(spot);
    if (perp === undefined || perp === null) return null;
    let b = this.basis.get(spot);
    if (b === undefined) this.basis.set(spot, (b = new Basis(spot, perp)));
    return b;
  }

  private onBasis(e: ExchangeEvent, b: Basis, ctx: DetectorContext): void {
    const ts = ctx.ts;
    if (ts - b.lastTs < 1_000) return; // sample at most once a second
    const spot = b.spot;
    const perp = b.perp;
    // touch() returns one shared scratch object: read the spot's mid before asking for the perp's
    const spotMid = ctx.books.touch(spot).mid;
    const perpMid = ctx.books.touch(perp).mid;
    if (!(spotMid > 0 && perpMid > 0)) return;
    const x = (perpMid / spotMid - 1) * 1e4; // bps
    const dt = Number.isFinite(b.lastTs) ? ts - b.lastTs : 0;
    b.lastTs = ts;
    if (b.n >= this.p.basisMinSamples) {
      const sd = Math.sqrt(b.m2);
      const dev = Math.abs(x - b.mean);
      const thr = Math.max(this.p.basisMinBps, this.p.basisK * sd);
      if (dev > thr) {
        const ep = ctx.alerts.episode(this, `basis\u0000${spot}`, e as { id: string; ts: number });
        ep.variant ??= 'basis_blowout';
        ep.addMarket(spot).addMarket(perp);
        if (ep.offer(Math.min(100, 50 + 25 * Math.log2(dev / thr)))) {
          ep.notes.kind = 'basis';
          ep.notes.ts = String(ts);
          ep.notes.spotMid = String(spotMid);
          ep.notes.perpMid = String(perpMid);
          ep.feature('basis_deviation_bps', dev, thr, '>', 'bps');
          ep.feature('basis_bps', x, b.mean, x >= b.mean ? '>' : '<', 'bps');
          ep.feature('basis_sigmas', sd > 0 ? dev / sd : Infinity, this.p.basisK, '>', 'sigma');
          ep.book = ctx.books.snapshot(spot, this.p.bookLevels);
        }
        ctx.alerts.commit(ep, ts);
        return; // an outlier does not update the baseline
      }
    }
    const a = dt > 0 ? Math.pow(0.5, dt / this.p.basisHalfLifeMs) : 1;
    const w = b.n === 0 ? 1 : Math.min(0.5, 1 - a);
    const d = x - b.mean;
    b.mean += w * d;
    b.m2 = (1 - w) * (b.m2 + w * d * d);
    b.n++;
  }

  private onTrade(e: EventOf<'trade'>, ctx: DetectorContext): void {
    const side = ctx.trade.takerSide ?? (e.aggressor === 'unknown' ? undefined : e.aggressor);
    const px = +e.price;
    const notional = px * +e.size;
    if (!(notional > 0)) return;
    const spotOfThis = this.spotFor(e.market);
    if (spotOfThis !== null) {
      // a perp fill: update both parties' positions
      if (side === undefined) return;
      const sz = +e.size;
      const taker = ctx.trade.taker;
      const maker = ctx.trade.maker;
      if (taker !== undefined) this.fill(pairKey(taker, e.market), side === 'buy' ? sz : -sz, e.ts);
      if (maker !== undefined) this.fill(pairKey(maker, e.market), side === 'buy' ? -sz : sz, e.ts);
      return;
    }
    const perp = this.perpFor(e.market);
    let flow = this.marketNotional.get(e.market);
    if (flow === undefined) this.marketNotional.set(e.market, (flow = [0, 0]));
    if (side === undefined) return;
    const si = side === 'buy' ? 0 : 1;
    const before = flow[si];
    flow[si] = before + notional;
    if (perp === null) return;
    const taker = ctx.trade.taker;
    if (taker === undefined) return;
    const dir = side === 'buy' ? 1 : -1;
    const r = this.runs.get(pairKey(taker, e.market), e.ts);
    if (r.dir !== dir || !(e.ts - r.lastTs <= this.p.runIdleMs)) {
      r.dir = dir;
      r.startTs = e.ts;
      r.startPrice = this.price(e.market, ctx);
      r.notional = 0;
      r.orders = 0;
      r.lastOrder = '';
      r.marketAtStart = before;
      r.extreme = px;
      r.firstEventId = e.id;
      r.trades.length = 0;
    }
    r.notional += notional;
    if (dir * (px - r.extreme) > 0) r.extreme = px;
    const oid = e.takerOrderId ?? `${e.ts}`;
    if (oid !== r.lastOrder) {
      r.orders++;
      r.lastOrder = oid;
    }
    r.lastTs = e.ts;
    if (r.trades.length < 100) r.trades.push(e.tradeId);
    this.test(e, taker, perp, r, ctx);
  }

  private fill(key: string, signed: number, ts: number): void {
    const ps = this.pos.get(key, ts);
    const before = ps.size;
    ps.delta += signed;
    ps.moved(before, ts);
  }

  private test(e: EventOf<'trade'>, account: string, perp: string, r: Run, ctx: DetectorContext): void {
    if (r.orders < this.p.minOrders || r.notional < this.p.minRunNotional) return;
    const mf0 = ctx.flow.peekMarket(e.market);
    const avgTrade = mf0 !== undefined && mf0.fills > 0 ? mf0.notional / mf0.fills : NaN;
    const orderVsTrade = avgTrade > 0 ? r.notional / r.orders / avgTrade : Infinity;
    if (!(orderVsTrade >= this.p.minOrderVsTrade)) return;
    const ps = this.pos.peek(pairKey(account, perp), e.ts);
    let posSize = ps !== undefined ? ps.size : 0;
    if (Math.abs(posSize) < 1e-9) posSize = ctx.flow.accountMarket(account, perp)?.position.size ?? 0; // fills seen by the shared order flow
    if (Math.abs(posSize) < 1e-9) return;
    if (Math.sign(posSize) !== r.dir) return;
    // Most of the position was built (opened or added to, the push's way) in the last openedWithinMs.
    const [added, lastAdd] = ps === undefined ? [0, -Infinity] : ps.addedSince(r.dir, e.ts - this.p.openedWithinMs);
    const built = Math.min(1, added / Math.abs(posSize));
    if (this.p.openedWithinMs > 0 && !(built >= this.p.minBuiltShare)) return;
    const perpPx = this.price(perp, ctx);
    const perpNotional = Math.abs(posSize) * (perpPx > 0 ? perpPx : +e.price);
    if (!(perpNotional >= this.p.minPerpNotional) || !(perpNotional >= this.p.minPerpToSpot * r.notional)) return;
    const mkt = (this.marketNotional.get(e.market)?.[r.dir > 0 ? 0 : 1] ?? 0) - r.marketAtStart;
    const share = mkt > 0 ? r.notional / mkt : 0;
    if (!(share >= this.p.minShare)) return;
    if (!(r.startPrice > 0)) return;
    // Impact: the furthest the run's own fills reached in its direction (the market may bounce back meanwhile).
    const move = ((r.extreme - r.startPrice) / r.startPrice) * 100 * r.dir;
    const mf = ctx.flow.peekMarket(e.market);
    const vol = mf !== undefined && mf.price.count >= 30 ? mf.relativeVolatility() * 100 : NaN;
    const moveThr = Number.isFinite(vol) ? Math.max(this.p.minMovePct, this.p.k * vol) : this.p.minMovePct;
    if (!(move >= moveThr)) return;
    const key = pairKey(account, e.market);
    const ep = ctx.alerts.episode(this, key, { id: r.firstEventId, ts: r.startTs });
    ctx.alerts.episode(this, key, e);
    ep.variant ??= 'spot_push_with_perp_position';
    ep.addMarket(e.market).addMarket(perp).addAccount(account);
    for (const t of r.trades) ep.addTrade(t);
    const s = Math.min(100, 50 + 25 * Math.log2(Math.min(share / this.p.minShare, moveThr > 0 ? move / moveThr : 4, this.p.minPerpToSpot > 0 ? perpNotional / r.notional / this.p.minPerpToSpot : 4)));
    if (ep.offer(s)) {
      ep.notes.kind = 'push';
      ep.notes.dir = r.dir > 0 ? 'buy' : 'sell';
      ep.notes.runStart = String(r.startTs);
      ep.notes.ts = String(e.ts);
      ep.notes.startPrice = String(r.startPrice);
      ep.notes.price = String(r.extreme);
      ep.notes.perp = perp;
      ep.notes.position = String(posSize);
      ep.feature('perp_position', posSize, 0, r.dir > 0 ? '>' : '<');
      if (this.p.openedWithinMs > 0) {
        ep.notes.built = String(built);
        ep.notes.lastAdd = String(lastAdd);
        ep.feature('perp_position_built_recently', built, this.p.minBuiltShare, '>=');
      }
      ep.feature('perp_to_spot_notional', perpNotional / r.notional, this.p.minPerpToSpot, '>=', 'x');
      ep.feature('share_of_spot_taker_notional', share, this.p.minShare, '>=');
      ep.feature('aggressive_orders', r.orders, this.p.minOrders, '>=');
      if (Number.isFinite(orderVsTrade)) ep.feature('avg_order_vs_market_trade', orderVsTrade, this.p.minOrderVsTrade, '>=', 'x');
      ep.feature('spot_run_notional', r.notional, this.p.minRunNotional, '>=');
      ep.feature('spot_move_pct', move, moveThr, '>=', '%');
      ep.book = ctx.books.snapshot(e.market, this.p.bookLevels);
    }
    ctx.alerts.commit(ep, e.ts);
  }

  explain(ep: Episode): string {
    const n = ep.notes;
    if (n.kind === 'basis') {
      const d = ep.get('basis_deviation_bps');
      const b = ep.get('basis_bps');
      return `The spot/perpetual basis of ${ep.markets.join(' / ')} reached ${num(b?.value ?? 0, 1)} bps at ${time(Number(n.ts))} against a rolling mean of ${num(b?.threshold ?? 0, 1)} bps — a ${num(d?.value ?? 0, 1)} bps blow-out (threshold ${num(d?.threshold ?? 0, 1)} bps).`;
    }
    const share = ep.get('share_of_spot_taker_notional');
    const move = ep.get('spot_move_pct');
    const spot = ep.markets.find((m) => m !== n.perp) ?? '';
    return (
      `Account ${ep.accounts.join(', ')}, holding a ${Number(n.position) > 0 ? 'long' : 'short'} ${n.perp} position of ${num(Math.abs(Number(n.position)), 6)}` +
      `${n.built !== undefined ? ` (${num(Number(n.built) * 100, 0)}% of it built in the ${num(this.p.openedWithinMs / 60_000, 0)} min before, last at ${time(Number(n.lastAdd))})` : ''}, ` +
      `${n.dir === 'buy' ? 'bought' : 'sold'} ${spot} aggressively from ${time(Number(n.runStart))} (${num(ep.get('aggressive_orders')?.value ?? 0, 0)} orders, ${num((share?.value ?? 0) * 100, 0)}% of the market’s taker notional), ` +
      `moving the spot price — which feeds the perpetual’s index — ${pct(move?.value ?? 0)} in the position’s favour (${n.startPrice} → ${n.price}).`
    );
  }
}

export const crossMarket = defineDetector({
  name: 'cross_market',
  typology: 'cross_market_manipulation',
  description: 'An account pushes a spot market (an index component) aggressively in the direction that profits its perpetual position on the same underlying; market-level spot/perp basis blow-outs.',
  citation: 'Kumar & Seppi (1992), Futures manipulation with “cash settlement”, J. Finance 47(4); Comerton-Forde & Putniņš (2011), Measuring closing price manipulation, J. Financial Intermediation 20(2); MAR Art. 12(1)(a), ESMA MAR Guidelines Annex I',
  params: crossMarketParams,
  enabledByDefault: true,
  create: (p) => new CrossMarketDetector(p),
});
