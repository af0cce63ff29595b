import { z } from 'zod';
import type { EventOf, ExchangeEvent } from '../../events/schema.js';
import { baseParams, defineDetector, policyFrom, type Detector, type DetectorContext, type EpisodePolicy } from '../detector.js';
import type { Episode } from '../emitter.js';
import { num, pct, plural, time } from './format.js';

/**
 * Pump and dump: a coordinated burst of market buys ("rush orders") that jumps the price and the
 * buy volume of a market far above its own recent baseline.
 *
 * Rush orders (La Morgia et al.): the trades one taker's order fills in the same millisecond are
 * one market order. A coordinated rush is one millisecond in which at least `minRushTakers`
 * distinct accounts buy aggressively with orders submitted in that millisecond (with order events:
 * stop orders triggered by the move, placed earlier, are the market's reaction, not coordination). Each market keeps an exponentially decaying baseline
 * (`baselineHalfLifeMs`) of its aggressive buy notional per unit time, of its rush-order rate and of
 * its trade price. The pump is flagged, within the burst, when in the last `burstWindowMs`
 *  - at least `minRushes` coordinated rushes occurred (distinct milliseconds),
 *  - aggressive buy notional is at least `volumeMultiple` × the baseline expected over that
 *    window (and at least `minBurstNotional`),
 *  - the price is at least `minJumpPct` above the lower of the baseline price and the first buy of
 *    the window (a market still above its long average after an earlier spike is measured from
 *    where this burst started), and at least `jumpSigma` × the market's own typical move over the
 *    window: √(variance rate × burstWindowMs), the variance rate being the decaying sum of squared
 *    log price changes between trades over the decaying elapsed time (the same half-life), read
 *    before the burst. Thin, jumpy markets need a larger jump than quiet ones.
 * The accounts named are the takers of coordinated rushes; later rushes in the same market within
 * `episodeGapMs` add their takers to the episode (one episode per market).
 *
 * Score: 50 + 10·log2(volume ratio / volumeMultiple) + 10·log2(jump / minJumpPct)
 * + 5 per extra coordinated taker, capped at 100.
 */
export const pumpAndDumpParams = z.object({
  ...baseParams,
  episodeGapMs: z.number().int().positive().default(180_000).describe('an episode closes after this much event time (ms) without another coordinated rush'),
  minRushTakers: z.number().int().min(2).default(2).describe('distinct accounts buying aggressively in the same millisecond for a coordinated rush'),
  minRushes: z.number().int().positive().default(2).describe('coordinated rushes (distinct milliseconds) within burstWindowMs before the alert opens: one coincidence is not a campaign'),
  burstWindowMs: z.number().int().positive().default(15_000).describe('window of the burst (ms) over which volume and price jump are measured'),
  volumeMultiple: z.number().positive().default(12).describe('burst aggressive-buy notional must reach this multiple of the baseline for the window'),
  minBurstNotional: z.number().nonnegative().default(0).describe('…and at least this quote notional'),
  minJumpPct: z.number().positive().default(1.5).describe('price must be at least this % above the lower of the baseline price and the first buy of the burst window'),
  jumpSigma: z.number().nonnegative().default(2).describe('…and this many standard deviations of the market’s own price moves over burstWindowMs (realised variance rate of trade prices before the burst, scaled by √window)'),
  baselineHalfLifeMs: z.number().int().positive().default(1_800_000).describe('half-life of the per-market baselines (volume rate, price)'),
  minHistoryMs: z.number().int().nonnegative().default(300_000).describe('event time a market must have been observed before it can alert'),
  bookLevels: z.number().int().positive().default(5).describe('levels per side in the evidence book snapshot'),
});
export type PumpAndDumpParams = z.output<typeof pumpAndDumpParams>;

interface Burst {
  ts: number;
  notional: number;
  px: number;
}

interface MState {
  first: number;
  /** decaying sum of aggressive buy notional, and its time */
  volSum: number;
  volTs: number;
  /** EW price mean/variance */
  pMean: number;
  pVar: number;
  pTs: number;
  /** decaying sums of squared log price changes between trades (%²) and of elapsed time (ms) */
  r2: number;
  r2Dt: number;
  lastPx: number;
  /** current millisecond's buy takers */
  msTs: number;
  msTakers: string[];
  msNotional: number;
  /** recent aggressive buys (burst window) */
  recent: Burst[];
  recentHead: number;
  recentSum: number;
  lastRush: number;
  rushTakersPending: string[];
  /** times of coordinated rushes within the burst window */
  rushTimes: number[];
}

class PumpAndDumpDetector implements Detector {
  readonly name = 'pump_and_dump';
  readonly typology = 'pump_and_dump' as const;
  readonly eventTypes = ['trade', 'order.placed'] as const;
  readonly onEventTypes = [] as const;
  readonly policy: EpisodePolicy;
  private readonly m = new Map<string, MState>();
  private readonly tau: number;

  /** markets with buy placements: the millisecond of the latest ones and their order ids (a field, not a Map value: an epoch-ms number stored in a Map is a new heap number per write) */
  private readonly placed = new Map<string, { ms: number; ids: string[] }>();

  private placedBuy(e: EventOf<'order.placed'>, ts: number): void {
    let p = this.placed.get(e.market);
    if (p === undefined) this.placed.set(e.market, (p = { ms: NaN, ids: [] }));
    if (p.ms !== ts) {
      p.ms = ts;
      p.ids.length = 0;
    }
    if (p.ids.length < 1_024) p.ids.push(e.orderId);
  }

  constructor(private readonly p: PumpAndDumpParams) {
    this.policy = policyFrom(p);
    this.tau = p.baselineHalfLifeMs / Math.LN2;
  }

  onEvent(): void {}

  afterEvent(ev: ExchangeEvent, ctx: DetectorContext): void {
    if (ev.type === 'order.placed') {
      if (ev.side === 'buy') this.placedBuy(ev, ctx.ts);
      return;
    }
    const e = ev as EventOf<'trade'>;
    const price = ctx.px;
    const size = ctx.sz;
    const ts = ctx.ts;
    if (!(price > 0) || !(size > 0)) return;
    let s = this.m.get(e.market);
    if (s === undefined) {
      s = { first: ts, volSum: 0, volTs: ts, pMean: price, pVar: 0, pTs: ts, r2: 0, r2Dt: 0, lastPx: price, msTs: NaN, msTakers: [], msNotional: 0, recent: [], recentHead: 0, recentSum: 0, lastRush: -Infinity, rushTakersPending: [], rushTimes: [] };
      this.m.set(e.market, s);
    }
    const notional = price * size;
    const buy = ctx.trade.takerSide === 'buy' || (ctx.trade.takerSide === undefined && e.aggressor === 'buy');
    // baseline values before this trade
    const dt = Math.max(0, ts - s.volTs);
    const decay = Math.exp(-dt / this.tau);
    const baseRate = s.volSum / this.tau; // notional per ms
    const baseMean = s.pMean;
    // the market's typical move over the burst window (%), from its variance rate before this trade
    const baseStd = s.r2Dt > 0 ? Math.sqrt((s.r2 / s.r2Dt) * this.p.burstWindowMs) : 0;
    // burst window
    const from = ts - this.p.burstWindowMs;
    while (s.recentHead < s.recent.length && s.recent[s.recentHead].ts <= from) s.recentSum -= s.recent[s.recentHead++].notional;
    if (s.recentHead > 256 && s.recentHead * 2 > s.recent.length) {
      s.recent = s.recent.slice(s.recentHead);
      s.recentHead = 0;
    }
    if (buy) {
      s.recent.push({ ts, notional, px: price });
      s.recentSum += notional;
    }
    // same-millisecond takers
    const taker = ctx.trade.taker;
    if (ts !== s.msTs) {
      s.msTs = ts;
      s.msTakers.length = 0;
      s.msNotional = 0;
    }
    let rush = false;
    // A rush order is submitted in that millisecond: a stop triggered by the move itself (placed
    // earlier) is the market's reaction, not a decision taken together. Without order events
    // (public feeds) every taker counts.
    const pl = e.takerOrderId === undefined ? undefined : this.placed.get(e.market);
    const fresh = pl === undefined || (pl.ms === ts && pl.ids.includes(e.takerOrderId!));
    if (buy && taker !== undefined && fresh) {
      if (!s.msTakers.includes(taker)) s.msTakers.push(taker);
      s.msNotional += notional;
      if (s.msTakers.length >= this.p.minRushTakers) {
        rush = true;
        if (s.lastRush !== ts) s.rushTimes.push(ts);
        s.lastRush = ts;
        while (s.rushTimes.length > 0 && s.rushTimes[0] <= ts - this.p.burstWindowMs) s.rushTimes.shift();
      }
    }
    if (rush) this.check(e, s, ctx, baseRate, baseMean, baseStd);
    // update baselines after the test
    s.volSum = s.volSum * decay + (buy ? notional : 0);
    s.volTs = ts;
    const a = 1 - Math.exp(-Math.max(0, ts - s.pTs) / this.tau);
    const w = Math.max(a, 0.002);
    const d = price - s.pMean;
    s.pMean += w * d;
    s.pVar = (1 - w) * (s.pVar + w * d * d);
    const r = Math.log(price / s.lastPx) * 100;
    s.r2 = s.r2 * decay + r * r;
    s.r2Dt = s.r2Dt * decay + dt;
    s.lastPx = price;
    s.pTs = ts;
  }

  private check(e: EventOf<'trade'>, s: MState, ctx: DetectorContext, baseRate: number, baseMean: number, baseStd: number): void {
    const price = ctx.px;
    const open = ctx.alerts.find(this, e.market);
    if (open === undefined) {
      if (ctx.ts - s.first < this.p.minHistoryMs) return;
      const expected = baseRate * this.p.burstWindowMs;
      const ratio = s.recentSum / Math.max(expected, 1e-12);
      // from the lower of the baseline price and the first buy of the window: a market still above
      // its long average after an earlier spike is measured from where this burst started
      const first = s.recent.length > s.recentHead ? s.recent[s.recentHead].px : baseMean;
      const ref = Math.min(baseMean, first);
      const jump = ref > 0 ? ((price - ref) / ref) * 100 : 0;
      const jumpThr = Math.max(this.p.minJumpPct, this.p.jumpSigma * baseStd);
      if (s.rushTimes.length < this.p.minRushes || ratio < this.p.volumeMultiple || s.recentSum < this.p.minBurstNotional || jump < jumpThr) return;
      const ep = ctx.alerts.episode(this, e.market, e);
      ep.variant ??= 'pump';
      ep.addMarket(e.market).addTrade(e.tradeId);
      for (const t of s.msTakers) ep.addAccount(t);
      const d = ep.data;
      d.ratio = ratio;
      d.jump = jump;
      d.jumpThr = jumpThr;
      d.moveSd = baseStd;
      d.burstNotional = s.recentSum;
      d.basePrice = ref;
      d.rushes = 1;
      d.maxTakers = s.msTakers.length;
      const score = 50 + 10 * Math.log2(ratio / this.p.volumeMultiple) + 10 * Math.log2(jump / jumpThr) + 5 * (s.msTakers.length - this.p.minRushTakers);
      if (ep.offer(Math.min(100, score))) {
        ep.feature('coordinated_takers_same_ms', s.msTakers.length, this.p.minRushTakers, '>=');
        ep.feature('coordinated_rushes_in_window', s.rushTimes.length, this.p.minRushes, '>=');
        ep.feature('burst_buy_volume_ratio', ratio, this.p.volumeMultiple, '>=');
        ep.feature('burst_buy_notional', s.recentSum, this.p.minBurstNotional, '>=', 'quote');
        ep.feature('price_jump_pct', jump, jumpThr, '>=', '%');
        if (baseStd > 0) ep.feature('price_jump_sigmas', jump / baseStd, this.p.jumpSigma, '>=', 'sigma');
        ep.book = ctx.books.snapshot(e.market, this.p.bookLevels);
      }
      ep.notes.basePrice = num(Math.min(baseMean, s.recent.length > s.recentHead ? s.recent[s.recentHead].px : baseMean), 8);
      ep.notes.pumpPrice = e.price;
      ctx.alerts.commit(ep, ctx.ts);
      return;
    }
    // a running pump: later coordinated rushes add their takers
    const ep = ctx.alerts.episode(this, e.market, e);
    const before = ep.accounts.length;
    for (const t of s.msTakers) ep.addAccount(t);
    ep.addTrade(e.tradeId);
    if (ep.accounts.length > before || s.msTakers.length === this.p.minRushTakers) ep.data.rushes = (ep.data.rushes ?? 0) + 1;
    ep.data.maxTakers = Math.max(ep.data.maxTakers ?? 0, s.msTakers.length);
    ep.notes.pumpPrice = e.price;
    ctx.alerts.commit(ep, ctx.ts);
  }

  explain(ep: Episode): string {
    const d = ep.data;
    return `${plural(ep.accounts.length, 'account')} (${ep.accounts.join(', ')}) fired market buys in the same millisecond in ${ep.markets.join(', ')} at ${time(ep.startTime)}: aggressive buy volume over ${num(this.p.burstWindowMs / 1000, 0)} s was ${num(d.ratio ?? 0, 1)}× its baseline and the price ${pct(d.jump ?? 0)} above its baseline ${ep.notes.basePrice ?? ''} (${plural(d.rushes ?? 1, 'coordinated rush', 'coordinated rushes')}), the signature of a pump.`;
  }
}

export const pumpAndDump = defineDetector({
  name: 'pump_and_dump',
  typology: 'pump_and_dump',
  variant: 'pump',
  description: 'Coordinated rush orders (several accounts buying aggressively in the same millisecond) with a jump in buy volume and price far above the market’s baseline.',
  citation: 'La Morgia, Mei, Sassi & Stefa, "The Doge of Wall Street: Analysis and Detection of Pump and Dump Cryptocurrency Manipulations", ACM TOIT 2023 (ICCCN 2020); EU MAR Annex I 1(a)(iv)',
  params: pumpAndDumpParams,
  enabledByDefault: true,
  create: (p) => new PumpAndDumpDetector(p),
});
