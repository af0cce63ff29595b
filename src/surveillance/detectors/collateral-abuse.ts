import { z } from 'zod';
import type { EventOf, ExchangeEvent } from '../../events/schema.js';
import { KeyedState, pairKey } from '../../stream/keyed.js';
import { baseParams, defineDetector, policyFrom, type Detector, type DetectorContext, type EpisodePolicy } from '../detector.js';
import type { Episode } from '../emitter.js';
import { num, pct, time } from './format.js';

/**
 * Collateral abuse: an account pumps a collateral asset — aggressive buying that dominates a spot
 * market's taker flow and moves its price — and then borrows against that asset (`loan.borrow`
 * with it as `collateralAsset`) while the price is still inflated, so the loan is sized off the
 * manipulated valuation.
 *
 * Per account × spot market the detector keeps the current "buying run": aggressive (taker) buy
 * and sell notional, the reference price (mid, else last trade) just before the run's first
 * aggressive buy, and the market's total taker-buy notional since then. A run ends after
 * `runIdleMs` without an aggressive buy by the account. On `loan.borrow` (account-level, so it
 * reaches every partition; only the partition holding the collateral's spot market can act, so
 * exactly one does) with a collateral asset whose spot market(s) this partition trades, the
 * borrower's run in that market is tested:
 *  - price rise from the run's start to now ≥ `minRisePct` and ≥ `k` × the market's rolling
 *    relative volatility;
 *  - the account's share of the market's taker-buy notional during the run ≥ `minBuyShare`;
 *  - the account is a net buyer: buys / (buys + sells) ≥ `minNetBuyRatio`;
 *  - at least `minBuys` aggressive buys;
 *  - the borrow comes within `maxBorrowDelayMs` of the last aggressive buy.
 * The run is the borrower's merged with its helpers' runs in the market that also ended within
 * `maxBorrowDelayMs` (helpers may push part or all of the price), summed, from the earliest start.
 * Helpers are linked accounts (ctx.links) and, among the last 32 accounts to start buying runs in the
 * market, any with a weaker tie to the borrower (e.g. a shared IP, which alone does not link
 * accounts): a weak tie plus pushing the very asset borrowed against minutes later is coordination. The inflated part of the collateral value, collateralAmount × (price now − price
 * before), is reported. A legitimate borrower against an altcoin has no buying run that moved the price, and a
 * buyer who never borrows against the asset is not this typology.
 *
 * Score: 50 + 25·log2 of the weakest ratio of rise and share to their thresholds, +10 when the
 * loan's LTV on the pre-pump price exceeds `ltvWarn`.
 *
 * Method: manipulation of collateral valuations (the 2022 Mango Markets oracle/collateral attack;
 * CFTC v. Eisenberg, 2023); detection as the conjunction of price-impact manipulation
 * (Comerton-Forde & Putniņš, "Measuring closing price manipulation", J. Financial Intermediation
 * 2011 — abnormal aggressive volume with price impact) and the benefit taken (the borrow).
 */
export const collateralAbuseParams = z.object({
  ...baseParams,
  episodeGapMs: z.number().int().positive().default(600_000).describe('an episode closes after this much event time (ms) without a new observation'),
  minRisePct: z.number().default(0).describe('price rise (%) from before the account’s buying run to the higher of its highest fill and the price at the borrow'),
  k: z.number().nonnegative().default(0).describe('…and at least k × the market’s rolling relative volatility at the run’s start'),
  minBuyShare: z.number().min(0).max(1).default(0.1).describe('account’s share of the market’s taker-buy notional during its run'),
  minNetBuyRatio: z.number().min(0).max(1).default(0.8).describe('account’s aggressive buys / (buys + sells) in the run'),
  minBuys: z.number().int().positive().default(3).describe('aggressive buys in the run'),
  minTouchMultiple: z.number().nonnegative().default(2).describe('the run’s buy notional must be at least this multiple of the best-ask level’s notional at its start (it consumed real depth)'),
  runIdleMs: z.number().int().positive().default(300_000).describe('a buying run ends after this long without an aggressive buy by the account'),
  maxBorrowDelayMs: z.number().int().positive().default(300_000).describe('the borrow must come within this long after the run’s last aggressive buy'),
  ltvWarn: z.number().positive().default(0.5).describe('loan / collateral value at the pre-pump price above this adds to the score'),
  quoteAssets: z.array(z.string()).default(['USDT', 'USDC', 'FDUSD', 'BUSD', 'USD', 'EUR', 'TRY', 'BTC', 'ETH']).describe('quote-asset suffixes used to find a collateral asset’s spot markets (e.g. ZNTH → ZNTHUSDT)'),
  maxAccounts: z.number().int().positive().default(200_000).describe('cap on tracked account × market runs'),
  bookLevels: z.number().int().positive().default(5).describe('levels per side in the evidence book snapshot'),
});
export type CollateralAbuseParams = z.output<typeof collateralAbuseParams>;

class Run {
  startTs = NaN;
  lastBuyTs = NaN;
  startPrice = NaN;
  buyNotional = 0;
  sellNotional = 0;
  buys = 0;
  marketBuyAtStart = 0;
  peak = NaN;
  touchNotional = NaN;
  volAtStart = NaN;
  firstEventId = '';
  readonly trades: string[] = [];
}

function copyRun(r: Run): Run {
  const c = new Run();
  c.startTs = r.startTs;
  c.lastBuyTs = r.lastBuyTs;
  c.startPrice = r.startPrice;
  c.buyNotional = r.buyNotional;
  c.sellNotional = r.sellNotional;
  c.buys = r.buys;
  c.marketBuyAtStart = r.marketBuyAtStart;
  c.peak = r.peak;
  c.touchNotional = r.touchNotional;
  c.volAtStart = r.volAtStart;
  c.firstEventId = r.firstEventId;
  c.trades.push(...r.trades);
  return c;
}

/** Adds run r into the group run g: sums, the earlier start (with its reference price and market state), the later last buy. */
function mergeRun(g: Run, r: Run): void {
  if (r.startTs < g.startTs) {
    g.startTs = r.startTs;
    g.startPrice = r.startPrice;
    g.marketBuyAtStart = r.marketBuyAtStart;
    g.touchNotional = r.touchNotional;
    g.volAtStart = r.volAtStart;
    g.firstEventId = r.firstEventId;
  }
  if (r.lastBuyTs > g.lastBuyTs) g.lastBuyTs = r.lastBuyTs;
  g.buyNotional += r.buyNotional;
  g.sellNotional += r.sellNotional;
  g.buys += r.buys;
  if (!(r.peak <= g.peak)) g.peak = r.peak;
  for (const t of r.trades) if (g.trades.length < 50) g.trades.push(t);
}

const EVENT_TYPES = ['trade', 'loan.borrow'] as const;
const RECENT_BUYERS = 32;

/** A market's running totals. */
class MktState {
  /** Taker-buy notional so far. */
  buyNotional = 0;
  /** The market's latest buyers that started a run (up to RECENT_BUYERS, newest last). */
  readonly recentBuyers: string[] = [];
  constructor(
    /** A spot market (not a perpetual or index symbol): collateral prices come from these. */
    readonly spot: boolean,
  ) {}
}

class CollateralAbuseDetector implements Detector {
  readonly name = 'collateral_abuse';
  readonly typology = 'collateral_abuse' as const;
  readonly eventTypes = EVENT_TYPES;
  readonly policy: EpisodePolicy;
  /** account \0 market -> run */
  private readonly runs: KeyedState<string, Run>;
  /** Per market seen in a trade (consecutive trades are mostly of one market: the last is remembered). */
  private readonly mkts = new Map<string, MktState>();
  private lastMkt = '';
  private lastMktState: MktState | undefined = undefined;
  /** base asset -> spot markets seen in this partition */
  private readonly marketsOfAsset = new Map<string, string[]>();

  constructor(private readonly p: CollateralAbuseParams) {
    this.policy = policyFrom(p);
    this.runs = new KeyedState(() => new Run(), { idleMs: Math.max(p.runIdleMs, p.maxBorrowDelayMs) * 2, maxKeys: p.maxAccounts });
  }

  private base(market: string): string | undefined {
    if (market.includes('-')) return undefined; // perpetuals, indices
    for (const q of this.p.quoteAssets) if (market.length > q.length && market.endsWith(q)) return market.slice(0, -q.length);
    return undefined;
  }

  private price(market: string, ctx: DetectorContext): number {
    const t = ctx.books.touch(market);
    if (t.mid > 0) return t.mid;
    const mf = ctx.flow.peekMarket(market);
    return mf !== undefined && mf.lastPrice > 0 ? mf.lastPrice : NaN;
  }

  onEvent(e: ExchangeEvent, ctx: DetectorContext): void {
    if (e.type === 'trade') this.onTrade(e, ctx);
    else if (e.type === 'loan.borrow') this.onBorrow(e, ctx);
  }

  private mkt(market: string): MktState {
    if (market === this.lastMkt && this.lastMktState !== undefined) return this.lastMktState;
    let m = this.mkts.get(market);
    if (m === undefined) {
      m = new MktState(!market.includes('-'));
      this.mkts.set(market, m);
      const b = this.base(market);
      if (b !== undefined) {
        const l = this.marketsOfAsset.get(b) ?? [];
        l.push(market);
        this.marketsOfAsset.set(b, l);
      }
    }
    this.lastMkt = market;
    this.lastMktState = m;
    return m;
  }

  private onTrade(e: EventOf<'trade'>, ctx: DetectorContext): void {
    const m = this.mkt(e.market);
    if (!m.spot) return;
    const notional = ctx.px * ctx.sz;
    if (!(notional > 0)) return;
    const side = ctx.trade.takerSide ?? (e.aggressor === 'unknown' ? undefined : e.aggressor);
    const before = m.buyNotional;
    if (side === 'buy') m.buyNotional = before + notional;
    const taker = ctx.trade.taker;
    if (taker === undefined || side === undefined) return;
    const key = pairKey(taker, e.market);
    if (side === 'sell') {
      const r = this.runs.peek(key, ctx.ts);
      if (r !== undefined && r.buys > 0 && ctx.ts - r.lastBuyTs <= this.p.runIdleMs) r.sellNotional += notional;
      return;
    }
    const r = this.runs.get(key, ctx.ts);
    if (!(r.buys > 0) || ctx.ts - r.lastBuyTs > this.p.runIdleMs) {
      // a new run: the reference is the market just before this buy
      r.startTs = ctx.ts;
      r.startPrice = this.price(e.market, ctx);
      r.buyNotional = 0;
      r.sellNotional = 0;
      r.buys = 0;
      r.marketBuyAtStart = before;
      r.peak = NaN;
      const tt = ctx.books.touch(e.market);
      r.touchNotional = tt.ask > 0 && tt.askSize > 0 ? tt.ask * tt.askSize : NaN;
      const mf0 = ctx.flow.peekMarket(e.market);
      r.volAtStart = mf0 !== undefined && mf0.price.count >= 20 ? mf0.relativeVolatility() * 100 : NaN;
      r.firstEventId = e.id;
      r.trades.length = 0;
      const recent = m.recentBuyers;
      const at = recent.indexOf(taker);
      if (at >= 0) recent.splice(at, 1);
      else if (recent.length >= RECENT_BUYERS) recent.shift();
      recent.push(taker);
    }
    r.buyNotional += notional;
    if (!(ctx.px <= r.peak)) r.peak = ctx.px;
    if (r.lastBuyTs !== ctx.ts || r.buys === 0) r.buys++; // fills of one order in one ms count once
    r.lastBuyTs = ctx.ts;
    if (r.trades.length < 50) r.trades.push(e.tradeId);
  }

  private onBorrow(e: EventOf<'loan.borrow'>, ctx: DetectorContext): void {
    const asset = e.collateralAsset;
    if (asset === undefined) return;
    const markets = this.marketsOfAsset.get(asset.toUpperCase());
    if (markets === undefined) return;
    for (const m of markets) this.test(e, m, ctx);
  }

  /**
   * The buying run behind a borrow: the borrower's own, merged with those of its linked accounts in
   * the same market that also ended within maxBorrowDelayMs (helpers may do part or all of the
   * pushing). Undefined when none qualifies; the borrower's own Run object when it is the only one.
   */
  private groupRun(account: string, market: string, ctx: DetectorContext, members: string[]): Run | undefined {
    let first: Run | undefined;
    let merged: Run | undefined;
    const cands = [account, ...ctx.links.linked(account)];
    // A weaker tie (a shared IP) is enough for an account that was itself buying this market lately.
    for (const b of this.mkts.get(market)?.recentBuyers ?? []) if (!cands.includes(b) && (ctx.links.evidence?.(account, b)?.weight ?? 0) > 0) cands.push(b);
    for (const a of cands) {
      const r = this.runs.peek(pairKey(a, market), ctx.ts);
      if (r === undefined || r.buys === 0) continue;
      const sinceBuy = ctx.ts - r.lastBuyTs;
      if (sinceBuy < 0 || sinceBuy > this.p.maxBorrowDelayMs) continue;
      members.push(a);
      if (first === undefined) {
        first = r;
        continue;
      }
      if (merged === undefined) merged = copyRun(first);
      mergeRun(merged, r);
    }
    return merged ?? first;
  }

  private test(e: EventOf<'loan.borrow'>, market: string, ctx: DetectorContext): void {
    const members: string[] = [];
    const r = this.groupRun(e.accountId, market, ctx, members);
    if (r === undefined) return;
    const sinceBuy = ctx.ts - r.lastBuyTs;
    if (r.buys < this.p.minBuys) return;
    const depthMult = r.touchNotional > 0 ? r.buyNotional / r.touchNotional : Infinity;
    if (!(depthMult >= this.p.minTouchMultiple)) return;
    const now = this.price(market, ctx);
    if (!(now > 0) || !(r.startPrice > 0)) return;
    const rise = ((Math.max(now, r.peak > 0 ? r.peak : now) - r.startPrice) / r.startPrice) * 100;
    const vol = r.volAtStart;
    const riseThr = Number.isFinite(vol) ? Math.max(this.p.minRisePct, this.p.k * vol) : this.p.minRisePct;
    if (!(rise >= riseThr)) return;
    const marketBuys = (this.mkts.get(market)?.buyNotional ?? 0) - r.marketBuyAtStart;
    const share = marketBuys > 0 ? r.buyNotional / marketBuys : 0;
    if (!(share >= this.p.minBuyShare)) return;
    const net = r.buyNotional / (r.buyNotional + r.sellNotional);
    if (!(net >= this.p.minNetBuyRatio)) return;
    const collAmt = e.collateralAmount !== undefined ? +e.collateralAmount : NaN;
    const amount = +e.amount;
    const ltvPre = collAmt > 0 ? amount / (collAmt * r.startPrice) : NaN;
    const ltvNow = collAmt > 0 ? amount / (collAmt * now) : NaN;
    const score = Math.min(100, 50 + 25 * Math.log2(share / this.p.minBuyShare) + Math.min(25, Math.max(0, rise) * 5) + (ltvPre > this.p.ltvWarn ? 10 : 0));
    const ep = ctx.alerts.episode(this, pairKey(e.accountId, market), { id: r.firstEventId, ts: r.startTs });
    ctx.alerts.episode(this, pairKey(e.accountId, market), e);
    ep.variant ??= 'pump_then_borrow';
    ep.addMarket(market).addAccount(e.accountId);
    for (const a of members) ep.addAccount(a);
    for (const t of r.trades) ep.addTrade(t);
    if (ep.offer(Math.max(50, score))) {
      ep.notes.loanId = e.loanId;
      ep.notes.asset = e.collateralAsset ?? '';
      ep.notes.borrowed = `${e.amount} ${e.asset}`;
      ep.notes.collateral = e.collateralAmount ?? '?';
      ep.notes.runStart = String(r.startTs);
      ep.notes.ts = String(ctx.ts);
      ep.notes.borrower = e.accountId;
      ep.notes.buyers = members.join(', ');
      ep.notes.pricePre = String(r.startPrice);
      ep.notes.priceNow = String(now);
      ep.feature('price_rise_pct', rise, riseThr, '>=', '%');
      ep.feature('account_share_of_taker_buys', share, this.p.minBuyShare, '>=');
      ep.feature('net_buy_ratio', net, this.p.minNetBuyRatio, '>=');
      ep.feature('aggressive_buys', r.buys, this.p.minBuys, '>=');
      if (members.length > 1 || members[0] !== e.accountId) ep.feature('linked_buyers', members.filter((a) => a !== e.accountId).length, 0, '>');
      ep.feature('buy_notional', r.buyNotional, 0, '>');
      if (Number.isFinite(depthMult)) ep.feature('buy_notional_vs_best_ask_level', depthMult, this.p.minTouchMultiple, '>=', 'x');
      ep.feature('borrow_delay_ms', sinceBuy, this.p.maxBorrowDelayMs, '<=', 'ms');
      if (Number.isFinite(ltvPre)) {
        ep.feature('ltv_at_pre_pump_price', ltvPre, this.p.ltvWarn, '>');
        ep.feature('ltv_at_current_price', ltvNow, this.p.ltvWarn, '>');
        ep.feature('inflated_collateral_value', collAmt * (now - r.startPrice), 0, '>');
      }
      ep.book = ctx.books.snapshot(market, this.p.bookLevels);
    }
    ctx.alerts.commit(ep, ctx.ts);
  }

  explain(ep: Episode): string {
    const n = ep.notes;
    const rise = ep.get('price_rise_pct');
    const share = ep.get('account_share_of_taker_buys');
    const ltv = ep.get('ltv_at_pre_pump_price');
    return (
      `${n.buyers !== undefined && n.buyers !== n.borrower ? `Accounts ${n.buyers} (linked to borrower ${n.borrower})` : `Account ${n.borrower ?? ep.accounts.join(', ')}`} bought aggressively in ${ep.markets.join(', ')} from ${time(Number(n.runStart))} ` +
      `(${num((share?.value ?? 0) * 100, 0)}% of the market’s taker buying, ${num(ep.get('aggressive_buys')?.value ?? 0, 0)} buys), lifting the price ${pct(rise?.value ?? 0)} ` +
      `from ${num(Number(n.pricePre), 8)} to ${num(Number(n.priceNow), 8)}, then at ${time(Number(n.ts))} borrowed ${n.borrowed} (loan ${n.loanId}) against ${n.collateral} ${n.asset}` +
      (ltv !== undefined ? ` — an LTV of ${num(ltv.value * 100, 0)}% at the pre-pump price.` : '.')
    );
  }
}

export const collateralAbuse = defineDetector({
  name: 'collateral_abuse',
  typology: 'collateral_abuse',
  description: 'An account’s aggressive buying dominates a spot market and lifts its price, then the account borrows against that asset as collateral at the inflated valuation.',
  citation:
    'Comerton-Forde & Putniņš (2011), Measuring closing price manipulation, J. Financial Intermediation 20(2); CFTC v. Avraham Eisenberg (2023, Mango Markets collateral/oracle manipulation); ESMA MAR Guidelines Annex I',
  params: collateralAbuseParams,
  enabledByDefault: true,
  create: (p) => new CollateralAbuseDetector(p),
});
