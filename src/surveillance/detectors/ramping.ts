import { z } from 'zod';
import type { EventOf, ExchangeEvent } from '../../events/schema.js';
import { KeyedState, pairKey } from '../../stream/keyed.js';
import { Ewma } from '../../stream/ewma.js';
import { baseParams, defineDetector, policyFrom, type Detector, type DetectorContext, type EpisodePolicy } from '../detector.js';
import type { Episode } from '../emitter.js';
import { num, time } from './format.js';

/**
 * Ramping (momentum ignition): a run of aggressive orders in one direction that moves the price,
 * followed by the same account trading the other way into the move it started.
 *
 * Per account × market the detector follows *ignition runs*: the account's aggressive (taker)
 * orders on one side, each within `maxGapMs` of the previous one. A run is an ignition when it has
 * at least `minOrders` aggressive orders of which at least `minMovedSweeps` swept a level (printed at
 * more than one price — ignition consumes depth, a pick-off of a stale quote does not), it is one-way (the account's own fills on the other side
 * while it lasted are at most `maxOppShare` of its volume — market makers and HFT pick-off traders
 * trade both ways throughout), it took at least `minShare` of the market's traded volume
 * while it lasted, and the mid moved in its direction by at least `minMoveBps` AND `moveSigmas` ×
 * the market's rolling volatility (EW standard deviation of trade prices, relative): the mid's
 * furthest excursion in the run's direction, measured right after each of its fills, beyond the mid
 * just before its first order (its impact; makers refill the book between the orders, so the mid
 * after the last order understates what the run did). After an ignition the account's executions
 * on the other side (as maker or taker) within `reversalWindowMs` of the run's end are the
 * *reversal*; the alert opens when the reversal volume reaches `minReversalRatio` × the ignition
 * volume. A new ignition the other way (often the reversal itself, sweeping and moving the price
 * back) does not end that count.
 *
 * The run must also be large for its market: its volume ≥ `minTradeMultiple` × the market's mean
 * trade size and ≥ `minDepthMultiple` × its mean visible touch size (mean of bid and ask sizes just
 * before each trade), both decaying means (half-life `sizeHalfLifeMs`) read just before the run —
 * a run of a few ordinary trades that happens to coincide with a move is noise, not an ignition.
 *
 * An *attempted* ignition (variant `attempted`; MAR art. 12 and 15 cover attempts) is a run that meets
 * every condition but the move — the book refilled or other flow pushed the other way — and shows
 * its aggression instead by at least `minSweeps` sweeping orders; its reversal alerts the same way,
 * scored below every ignition that moved the price. Off with `attempts: false`.
 *
 * Cross-market pushes are left to the cross_market detector: no alert when, on another market of
 * the same underlying (`ctx.partitionKey`), the account held a position in the ignition's direction
 * at its start, or built one during the ignition and reversal, of notional ≥ `maxRelatedShare` × the
 * ignition's (the move then served that position — e.g. a perpetual held while spot is pushed).
 * Group pushes are left to pump_and_dump: no alert when a linked account (ctx.links) also took
 * liquidity on the ignition's side of the market while it ran (`groupPushes: true` alerts anyway).
 *
 * A trader who simply executes a large order aggressively (no reversal), a market maker (passive
 * fills on both sides, no aggressive runs) and a momentum follower (does not move the price itself:
 * small share of the volume) do not alert.
 *
 * Score: 50 + 10·log2(move / threshold) + 5·log2(sweeps / minSweeps) + 15·min(1, reversal ratio − required
 * threshold) + 10 when the
 * reversal was at a better average price than the ignition (it profited from the move); capped at
 * 100. An attempt: `attemptScore` (40) + 3·log2(sweeps / minSweeps) + 5·min(1, reversal ratio −
 * required) + 4 when profitable, capped at 49. One episode per account × market within
 * `episodeGapMs`; an ignition that moved the price renames an episode an attempt opened.
 *
 * Method: SEC Concept Release on Equity Market Structure (2010, 75 FR 3594, "momentum ignition");
 * FINRA Regulatory Notice 15-09 and its guidance on algorithmic strategies; ESMA MAR Guidelines
 * Annex I (orders that move the price followed by opposite trading); Cartea, Jaimungal & Wang
 * (2020), "Spoofing and price manipulation in order-driven markets", Applied Mathematical Finance.
 */
export const rampingParams = z.object({
  ...baseParams,
  episodeGapMs: z.number().int().positive().default(180_000).describe('an episode closes after this much event time without a new observation (the reversal window: one ignition, one alert)'),
  maxGapMs: z.number().int().positive().default(15_000).describe('aggressive orders of one run follow each other within this'),
  minOrders: z.number().int().positive().default(3).describe('aggressive orders in an ignition run'),
  minShare: z.number().min(0).max(1).default(0.4).describe('the run’s share of the market’s traded volume while it lasted'),
  maxOppShare: z.number().min(0).default(0.1).describe('the account’s own fills on the other side during the run, at most this share of the run’s volume (an ignition is one-way)'),
  minSweeps: z.number().int().nonnegative().default(3).describe('aggressive orders of the run that printed at more than one price (swept a level), for an attempt (the mid did not move beyond the threshold)'),
  minMovedSweeps: z.number().int().nonnegative().default(1).describe('…and for a run that moved the mid beyond the threshold (the move already shows its impact; small runs are kept out by `minTradeMultiple` and `minDepthMultiple`)'),
  minTradeMultiple: z.number().nonnegative().default(12).describe('the run’s volume ≥ this × the market’s mean trade size just before it (an ignition is large for its market; 0: off)'),
  minDepthMultiple: z.number().nonnegative().default(2).describe('the run’s volume ≥ this × the market’s mean visible touch size (mean of bid and ask sizes) just before it (it consumed depth beyond the touch; 0: off)'),
  sizeHalfLifeMs: z.number().int().positive().default(1_800_000).describe('half-life of the market’s mean trade size and mean touch size (decaying sums over its trades)'),
  minSizeSamples: z.number().int().nonnegative().default(50).describe('trades observed in the market before its mean trade and touch sizes are trusted (the two size tests apply from then on)'),
  minMoveBps: z.number().nonnegative().default(2).describe('mid move in the run’s direction, floor (basis points)'),
  moveSigmas: z.number().nonnegative().default(1).describe('…and this many standard deviations of the market’s own mid moves over the run’s horizon (realised variance rate of the mid before the run, scaled by √horizon)'),
  minHorizonMs: z.number().int().positive().default(5_000).describe('shortest horizon the mid’s noise is scaled to (a run of orders in one instant is judged over this)'),
  volHalfLifeMs: z.number().int().positive().default(1_800_000).describe('half-life of the market’s realised variance rate of the mid'),
  reversalWindowMs: z.number().int().positive().default(180_000).describe('the reversal must come within this after the run’s last order'),
  minReversalRatio: z.number().positive().default(0.6).describe('reversal volume as a share of the ignition volume before the alert opens'),
  groupPushes: z.boolean().default(false).describe('alert also when linked accounts (ctx.links) bought or sold aggressively on the ignition’s side of the same market while it ran; off by default: a push carried by a linked group is a coordinated pump (pump_and_dump), not one actor’s ignition'),
  maxRelatedShare: z.number().positive().default(0.5).describe('no alert when the account holds or builds a position in the ignition’s direction on another market of the same underlying of at least this × the ignition notional (cross-market, see cross_market)'),
  minVolSamples: z.number().int().nonnegative().default(50).describe('mid changes observed in the market before its variance rate is trusted (the floor applies alone until then)'),
  accountIdleMs: z.number().int().positive().default(1_800_000).describe('forget an account × market after this much inactivity'),
  maxAccounts: z.number().int().positive().default(500_000).describe('cap on tracked account × market states'),
  attempts: z.boolean().default(true).describe('also alert on attempted ignitions: runs meeting every condition but the price move, followed by the reversal (MAR art. 15: attempted manipulation), variant `attempted`'),
  attemptScore: z.number().min(0).max(49).default(40).describe('base score of an attempted ignition (capped below 50, the floor of an ignition that moved the price)'),
  bookLevels: z.number().int().positive().default(5).describe('levels per side in the evidence book snapshot'),
});
export type RampingParams = z.output<typeof rampingParams>;

class Run {
  side: 'buy' | 'sell' = 'buy';
  start = NaN;
  last = NaN;
  orders = 0;
  lastOrder = '';
  lastOrderPx = NaN;
  swept = false;
  /** Aggressive orders of the run that printed at more than one price (swept a level). */
  sweeps = 0;
  volume = 0;
  notional = 0;
  /** The account's fills on the other side while the run lasted (a one-way run has none). */
  oppVolume = 0;
  startMid = NaN;
  endMid = NaN;
  /** The market's mid variance rate (bps²/ms) just before the run: its own move must stand out of it. */
  varRate = NaN;
  /** The market's mean trade size and mean touch size just before the run (NaN until trusted). */
  avgTrade = NaN;
  avgTouch = NaN;
  /** Mid furthest in the run's direction, right after one of its fills. */
  bestMid = NaN;
  /** Market traded volume when the run started (cumulative counter). */
  mktVolStart = 0;
  mktVolEnd = 0;
  firstTradeId = '';
  readonly tradeIds: string[] = [];
}

class Ignition {
  side: 'buy' | 'sell' = 'buy';
  start = 0;
  end = 0;
  orders = 0;
  sweeps = 0;
  volume = 0;
  vwap = 0;
  moveBps = 0;
  moveThr = 0;
  moveSigmas = NaN;
  share = 0;
  /** Run volume over the market's mean trade size and mean touch size before it (NaN: not yet known). */
  tradeMult = NaN;
  depthMult = NaN;
  /** The mid did not move beyond the threshold: an attempted ignition (see the class doc). */
  attempted = false;
  revVolume = 0;
  revNotional = 0;
  /** Positions (float) of the account on the other markets of the underlying when the ignition armed. */
  related: { market: string; size: number }[] = [];
  readonly tradeIds: string[] = [];
}

/**
 * A market's realised variance rate of the mid (bps² per ms): exponentially decaying sums of squared
 * log mid changes and of elapsed time, sampled after each trade. Its √(rate × horizon) is the mid's
 * typical move over a horizon, the yardstick of an ignition's move in this market.
 */
class MidVar {
  mid = NaN;
  ts = NaN;
  r2 = 0;
  dt = 0;
  n = 0;
  /** Time-decayed means over the market's trades (half-life `sizeHalfLifeMs`): trade size, and touch size just before each trade. */
  readonly tradeSize: Ewma;
  readonly touchSize: Ewma;
  constructor(sizeHalfLifeMs: number) {
    this.tradeSize = new Ewma(sizeHalfLifeMs);
    this.touchSize = new Ewma(sizeHalfLifeMs);
  }
  rate(): number {
    return this.dt > 0 ? this.r2 / this.dt : NaN;
  }
}

class AcctState {
  run = new Run();
  /** The latest burst of aggressive fills per side (0 buy, 1 sell): first and last time, bursts split by gaps over maxGapMs. */
  readonly aggFirst = [NaN, NaN];
  readonly aggLast = [NaN, NaN];
  ign: Ignition | undefined;
  /** A live ignition of the other side that `ign` followed (often its own sweeping reversal): its reversal still counts. */
  prev: Ignition | undefined;
}

function newState(): AcctState {
  return new AcctState();
}

class RampingDetector implements Detector {
  readonly name = 'ramping';
  readonly typology = 'ramping' as const;
  readonly eventTypes = ['trade'] as const;
  readonly policy: EpisodePolicy;
  private readonly state: KeyedState<string, AcctState>;
  /** Mid just before the current trade (onEvent), per market. */
  private preMid = NaN;
  /** partition key (underlying) -> markets seen */
  private readonly groups = new Map<string, string[]>();
  private readonly grouped = new Set<string>();
  private readonly midVar = new Map<string, MidVar>();
  private readonly volTau: number;

  constructor(private readonly p: RampingParams) {
    this.policy = policyFrom(p);
    this.state = new KeyedState(newState, { idleMs: p.accountIdleMs, maxKeys: p.maxAccounts });
    this.volTau = p.volHalfLifeMs / Math.LN2;
  }

  /** The market's tracker (mid variance, mean sizes), created on first use. */
  private market(market: string): MidVar {
    let v = this.midVar.get(market);
    if (v === undefined) this.midVar.set(market, (v = new MidVar(this.p.sizeHalfLifeMs)));
    return v;
  }

  /** Adds this trade's size and the touch size before it to the market's decaying sums. */
  private updateSizes(v: MidVar, ts: number, sz: number): void {
    if (!(sz > 0)) return;
    v.tradeSize.add(ts, sz);
    // The touch as it stood before the trade (onEvent): the depth the market showed.
    const touch = (this.preBidSz + this.preAskSz) / 2;
    if (touch > 0) v.touchSize.add(ts, touch);
  }

  /** The market's mid variance tracker, updated with the mid after this trade. */
  private updateMidVar(v: MidVar, market: string, ts: number, ctx: DetectorContext): MidVar {
    const mid = ctx.books.touch(market).mid;
    if (!(mid > 0)) return v;
    if (v.mid > 0 && ts > v.ts) {
      const dt = ts - v.ts;
      const decay = Math.exp(-dt / this.volTau);
      const r = Math.log(mid / v.mid) * 1e4;
      v.r2 = v.r2 * decay + r * r;
      v.dt = v.dt * decay + dt;
      v.n++;
    }
    if (!(v.mid > 0) || ts > v.ts) {
      v.mid = mid;
      v.ts = ts;
    } else v.mid = mid;
    return v;
  }

  onEvent(_e: ExchangeEvent, ctx: DetectorContext): void {
    if (_e.type !== 'trade') return;
    const t = ctx.books.touch(_e.market);
    this.preMid = t.mid;
    this.preBidSz = t.bidSize;
    this.preAskSz = t.askSize;
    if (!this.grouped.has(_e.market)) {
      this.grouped.add(_e.market);
      const k = ctx.partitionKey(_e.market);
      const g = this.groups.get(k);
      if (g === undefined) this.groups.set(k, [_e.market]);
      else g.push(_e.market);
    }
  }

  /** Signed notional of the account's positions on the other markets of this market's underlying. */
  private relatedPositions(account: string, market: string, ctx: DetectorContext): { market: string; size: number }[] {
    const out: { market: string; size: number }[] = [];
    for (const m of this.groups.get(ctx.partitionKey(market)) ?? []) {
      if (m === market) continue;
      const size = ctx.flow.accountMarket(account, m)?.position.size ?? 0;
      out.push({ market: m, size });
    }
    return out;
  }

  /**
   * True when a linked account (ctx.links) also took liquidity on the ignition's side of this market
   * while it ran: the push was a group's. On dev seeds 19, 26 and 33 every ramping false alert was
   * such a member of a pump-and-dump group (2–4 linked accounts buying with it), and no labelled
   * ignition had a linked account trading its market.
   */
  private groupPush(account: string, market: string, g: Ignition, ctx: DetectorContext): boolean {
    const si = g.side === 'buy' ? 0 : 1;
    for (const other of ctx.links.linked(account)) {
      const os = this.state.peek(pairKey(other, market), ctx.ts);
      if (os !== undefined && os.aggFirst[si] <= g.end && os.aggLast[si] >= g.start) return true;
    }
    return false;
  }

  /** True when the move served a position on a related market (held at the start, or built since, in the ignition's direction). */
  private crossMarket(account: string, market: string, g: Ignition, ctx: DetectorContext): boolean {
    const dir = g.side === 'buy' ? 1 : -1;
    const limit = this.p.maxRelatedShare * g.volume * g.vwap;
    for (const r of g.related) {
      const px = ctx.books.touch(r.market).mid || ctx.flow.peekMarket(r.market)?.lastPrice || 0;
      const now = ctx.flow.accountMarket(account, r.market)?.position.size ?? 0;
      if (dir * r.size * px >= limit || dir * (now - r.size) * px >= limit) return true;
    }
    void market;
    return false;
  }

  afterEvent(ev: ExchangeEvent, ctx: DetectorContext): void {
    const e = ev as EventOf<'trade'>;
    const side = ctx.trade.takerSide;
    if (side === undefined) return;
    const mf = ctx.flow.peekMarket(e.market);
    this.mktVol = mf?.volume ?? 0;
    const taker = ctx.trade.taker;
    const maker = ctx.trade.maker;
    // The variance rate as it was before this trade (a run starting now is judged against it).
    const mv = this.market(e.market);
    this.varRate = mv.n >= this.p.minVolSamples ? mv.rate() : NaN;
    // Mean trade and touch sizes before this trade (a run starting now is sized against them).
    const trusted = mv.tradeSize.count >= this.p.minSizeSamples;
    this.avgTrade = trusted ? mv.tradeSize.mean : NaN;
    this.avgTouch = trusted ? mv.touchSize.mean : NaN;
    if (taker !== undefined) this.onFill(taker, side, true, e, ctx);
    if (maker !== undefined && maker !== taker) this.onFill(maker, side === 'buy' ? 'sell' : 'buy', false, e, ctx);
    this.updateSizes(mv, ctx.ts, ctx.sz);
    this.updateMidVar(mv, e.market, ctx.ts, ctx);
  }

  private varRate = NaN;
  private avgTrade = NaN;
  private avgTouch = NaN;
  /** Touch sizes just before the current trade (onEvent). */
  private preBidSz = NaN;
  private preAskSz = NaN;
  /** The market's traded volume after the current trade (a field: a float argument would be boxed per call). */
  private mktVol = 0;

  private onFill(account: string, side: 'buy' | 'sell', aggressive: boolean, e: EventOf<'trade'>, ctx: DetectorContext): void {
    const t = ctx.ts;
    const sz = ctx.sz;
    const px = ctx.px;
    const mktVol = this.mktVol;
    const st = this.state.get(pairKey(account, e.market), t);
    // Reversal of an earlier ignition.
    const ign = st.ign;
    if (ign !== undefined) {
      if (t - ign.end > this.p.reversalWindowMs) st.ign = undefined;
      else if (side !== ign.side) this.reverse(account, ign, sz, px, e, ctx);
    }
    const prev = st.prev;
    if (prev !== undefined) {
      if (t - prev.end > this.p.reversalWindowMs) st.prev = undefined;
      else if (side !== prev.side) this.reverse(account, prev, sz, px, e, ctx);
    }
    const run = st.run;
    if (run.orders > 0 && side !== run.side && t - run.last <= this.p.maxGapMs) run.oppVolume += sz;
    if (!aggressive) return;
    const si = side === 'buy' ? 0 : 1;
    if (!(t - st.aggLast[si] <= this.p.maxGapMs)) st.aggFirst[si] = t;
    st.aggLast[si] = t;
    if (run.orders === 0 || run.side !== side || t - run.last > this.p.maxGapMs) {
      run.side = side;
      run.start = t;
      run.orders = 0;
      run.lastOrder = '';
      run.sweeps = 0;
      run.volume = 0;
      run.notional = 0;
      run.oppVolume = 0;
      run.startMid = this.preMid;
      run.bestMid = this.preMid;
      run.varRate = this.varRate;
      run.avgTrade = this.avgTrade;
      run.avgTouch = this.avgTouch;
      run.mktVolStart = mktVol - sz;
      run.tradeIds.length = 0;
    }
    const oid = e.takerOrderId ?? e.tradeId;
    if (oid !== run.lastOrder) {
      run.orders++;
      run.lastOrder = oid;
      run.lastOrderPx = px;
      run.swept = false;
    } else if (px !== run.lastOrderPx && !run.swept) {
      // The order printed at more than one price: it swept a level.
      run.swept = true;
      run.sweeps++;
    }
    run.last = t;
    run.volume += sz;
    run.notional += sz * px;
    run.mktVolEnd = mktVol;
    if (run.tradeIds.length < 100) run.tradeIds.push(e.tradeId);
    run.endMid = ctx.books.touch(e.market).mid;
    const dir = side === 'buy' ? 1 : -1;
    if (run.endMid > 0 && !(dir * (run.bestMid - run.endMid) >= 0)) run.bestMid = run.endMid;
    if (run.orders < this.p.minOrders || !(run.startMid > 0) || !(run.bestMid > 0)) return;
    const moveBps = (dir * (run.bestMid - run.startMid) * 1e4) / run.startMid;
    // The mid's typical move over the run's horizon in this market, before the run (bps).
    const sd = run.varRate >= 0 ? Math.sqrt(run.varRate * Math.max(this.p.minHorizonMs, t - run.start)) : NaN;
    const thr = sd > 0 ? Math.max(this.p.minMoveBps, this.p.moveSigmas * sd) : this.p.minMoveBps;
    const share = run.volume / Math.max(run.volume, run.mktVolEnd - run.mktVolStart);
    if (share < this.p.minShare || run.oppVolume > this.p.maxOppShare * run.volume) return;
    // Large for its market (tests skipped until the market's sizes are known).
    const tradeMult = run.volume / run.avgTrade;
    const depthMult = run.volume / run.avgTouch;
    if (tradeMult < this.p.minTradeMultiple || depthMult < this.p.minDepthMultiple) return;
    const attempted = !(moveBps >= thr);
    if (attempted ? !this.p.attempts || run.sweeps < this.p.minSweeps : run.sweeps < this.p.minMovedSweeps) return;
    // (Re)arm the ignition with the run so far.
    let g = st.ign;
    if (g === undefined || g.start !== run.start || g.side !== side) {
      // An attempt does not displace a live ignition (e.g. a sweeping reversal of one): its reversal is still being counted.
      if (attempted && g !== undefined && t - g.end <= this.p.reversalWindowMs) return;
      // A new ignition the other way (typically the sweeping reversal of this one) keeps this one's reversal counting.
      if (g !== undefined && g.side !== side && t - g.end <= this.p.reversalWindowMs) st.prev = g;
      g = st.ign = new Ignition();
      g.side = side;
      g.start = run.start;
      g.related = this.relatedPositions(account, e.market, ctx);
    } else if (attempted && !g.attempted) {
      // The run moved the price earlier (its threshold grows with its horizon): it stays the ignition it was then.
      return;
    }
    g.end = t;
    g.orders = run.orders;
    g.sweeps = run.sweeps;
    g.volume = run.volume;
    g.vwap = run.notional / run.volume;
    g.moveBps = moveBps;
    g.moveThr = thr;
    g.moveSigmas = sd > 0 ? moveBps / sd : NaN;
    g.share = share;
    g.tradeMult = tradeMult;
    g.depthMult = depthMult;
    g.attempted = attempted;
    g.tradeIds.length = 0;
    for (const id of run.tradeIds) g.tradeIds.push(id);
  }

  private reverse(account: string, g: Ignition, sz: number, px: number, e: EventOf<'trade'>, ctx: DetectorContext): void {
    g.revVolume += sz;
    g.revNotional += sz * px;
    if (g.tradeIds.length < 100) g.tradeIds.push(e.tradeId);
    this.report(account, g, e, ctx);
  }

  private report(account: string, g: Ignition, e: EventOf<'trade'>, ctx: DetectorContext): void {
    const ratio = g.revVolume / g.volume;
    const revVwap = g.revNotional / g.revVolume;
    const profitable = g.side === 'buy' ? revVwap > g.vwap : revVwap < g.vwap;
    const need = this.p.minReversalRatio;
    if (ratio < need) return;
    if (this.crossMarket(account, e.market, g, ctx)) return;
    if (!this.p.groupPushes && this.groupPush(account, e.market, g, ctx)) return;
    const sweepScore = Math.log2(Math.max(1, g.sweeps / Math.max(1, this.p.minSweeps)));
    const revScore = Math.min(1, Math.max(0, ratio - need));
    // An attempt scores below every ignition that moved the price (< 50).
    const score = g.attempted
      ? Math.min(49, this.p.attemptScore + 3 * sweepScore + 5 * revScore + (profitable ? 4 : 0))
      : Math.min(100, 50 + 10 * Math.log2(Math.max(1, g.moveBps / g.moveThr)) + 5 * sweepScore + 15 * revScore + (profitable ? 10 : 0));
    const ep = ctx.alerts.episode(this, pairKey(account, e.market), { id: e.id, ts: g.start });
    ep.addMarket(e.market).addAccount(account);
    for (const id of g.tradeIds) ep.addTrade(id);
    ep.addTrade(e.tradeId);
    if (ctx.ts > ep.endTime) ep.endTime = ctx.ts;
    // An ignition that moved the price names the episode even when an attempt opened it.
    if (ep.variant === undefined || (ep.variant === 'attempted' && !g.attempted)) ep.variant = g.attempted ? 'attempted' : g.side === 'buy' ? 'ramp_up' : 'ramp_down';
    if (ep.offer(score)) {
      ep.feature('ignition_orders', g.orders, this.p.minOrders, '>=');
      ep.feature('sweeping_orders', g.sweeps, g.attempted ? this.p.minSweeps : this.p.minMovedSweeps, '>=');
      ep.feature('price_move_bps', g.moveBps, g.moveThr, '>=', 'bps');
      if (Number.isFinite(g.moveSigmas)) ep.feature('price_move_sigmas', g.moveSigmas, this.p.moveSigmas, '>=', 'sigma');
      ep.feature('share_of_market_volume', g.share, this.p.minShare, '>=');
      if (Number.isFinite(g.tradeMult)) ep.feature('volume_vs_mean_trade', g.tradeMult, this.p.minTradeMultiple, '>=', 'x');
      if (Number.isFinite(g.depthMult)) ep.feature('volume_vs_mean_touch_size', g.depthMult, this.p.minDepthMultiple, '>=', 'x');
      ep.feature('reversal_over_ignition_volume', ratio, need, '>=', 'x');
      ep.feature('reversal_vwap', revVwap, g.vwap, g.side === 'buy' ? '>' : '<');
      ep.notes.side = g.side;
      ep.notes.attempted = g.attempted ? '1' : '';
      ep.notes.start = String(g.start);
      ep.notes.end = String(g.end);
      ep.notes.volume = num(g.volume, 8);
      ep.notes.rev = num(g.revVolume, 8);
      ep.notes.ts = String(ctx.ts);
      ep.book = ctx.books.snapshot(e.market, this.p.bookLevels);
    }
    ctx.alerts.commit(ep, ctx.ts);
  }

  explain(ep: Episode): string {
    const n = ep.notes;
    const mv = ep.get('price_move_bps');
    const sh = ep.get('share_of_market_volume');
    const rv = ep.get('reversal_vwap');
    const tm = ep.get('volume_vs_mean_trade');
    const opp = n.side === 'buy' ? 'sold' : 'bought';
    const dir = n.side === 'buy' ? 'up' : 'down';
    const moved = n.attempted === '1' ? `but moving the mid ${dir} only ${num(mv?.value ?? 0, 1)} bps (threshold ${num(mv?.threshold ?? 0, 1)}: an attempted ignition)` : `moving the mid ${dir} ${num(mv?.value ?? 0, 1)} bps (threshold ${num(mv?.threshold ?? 0, 1)})`;
    const profit = rv !== undefined && rv.passed ? `at a better average price (${num(rv.value, 8)} vs ${num(rv.threshold, 8)})` : `at an average price of ${num(rv?.value ?? 0, 8)} (ignition ${num(rv?.threshold ?? 0, 8)})`;
    return `Account ${ep.accounts.join(', ')} ${n.side === 'buy' ? 'bought' : 'sold'} ${n.volume} aggressively in ${num(ep.get('ignition_orders')?.value ?? 0, 0)} orders in ${ep.markets.join(', ')} between ${time(Number(n.start))} and ${time(Number(n.end))} (${num((sh?.value ?? 0) * 100, 0)}% of the market’s volume${tm !== undefined ? `, ${num(tm.value, 0)}× its mean trade` : ''}), ${moved}, then ${opp} ${n.rev} into the move by ${time(Number(n.ts))} ${profit}.`;
  }
}

export const ramping = defineDetector({
  name: 'ramping',
  typology: 'ramping',
  description: 'Momentum ignition: an aggressive run that moves the price, followed by the same account trading the other way into the move.',
  citation:
    'SEC Concept Release on Equity Market Structure, 75 FR 3594 (2010), momentum ignition; FINRA Regulatory Notice 15-09; ESMA MAR Guidelines Annex I; Cartea, Jaimungal & Wang (2020), Spoofing and price manipulation in order-driven markets, Applied Mathematical Finance 27(1-2)',
  params: rampingParams,
  enabledByDefault: true,
  create: (p) => new RampingDetector(p),
});
