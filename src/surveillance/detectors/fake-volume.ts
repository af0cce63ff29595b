import { z } from 'zod';
import type { EventOf, ExchangeEvent } from '../../events/schema.js';
import { baseParams, defineDetector, policyFrom, type Detector, type DetectorContext, type EpisodePolicy } from '../detector.js';
import type { Episode } from '../emitter.js';
import { num, time } from './format.js';

/**
 * Wash trading, variant fake_volume_stats: market-level statistical tests for fabricated volume
 * that need no account ids, so they run on public trade feeds as well.
 *
 * Per market and tumbling window of `windowMs` (event time, aligned to multiples of it), with at
 * least `minTrades` trades, the trade sizes are tested as in Cong, Li, Tang & Yang (2023):
 *  1. First-digit (Benford) conformity: mean absolute deviation (Nigrini's MAD) of the first
 *     significant digit frequencies from log10(1 + 1/d); fails above `maxBenfordMad`
 *     (Nigrini's "nonconformity" bound for first digits is 0.015).
 *  2. Clustering at round sizes: genuine (human) trading clusters at sizes with one significant
 *     digit (0.1, 0.5, 2, 10…); fails when the share of such trades is below `minRoundShare`
 *     relative to the share at "near" sizes with two significant digits (the ratio of per-value
 *     frequencies must reach `minRoundRatio`).
 *  3. Trade-size tail: Hill estimator of the power-law exponent over the top `tailShare` of
 *     sizes; genuine markets fall in the Pareto–Lévy range; fails outside
 *     [`minTailAlpha`, `maxTailAlpha`].
 * The volume-to-depth ratio (window volume / mean touch depth) is reported as context (Aloosh & Li
 * 2024 find it the least robust of the tests, so it never decides). A window fails when at least
 * `minFailedTests` tests fail; the market alerts after `minWindows` consecutive failing windows
 * (Cong et al. judge exchanges over long samples: fabricated volume is a standing practice, and
 * one hour's sizes can be odd by chance). One episode per market grows over consecutive failing
 * windows, from the first of them.
 *
 * Score: 45 + 15 per failed test beyond the minimum + 10·min(1, Benford MAD / (2·maxBenfordMad)).
 */
export const fakeVolumeParams = z.object({
  ...baseParams,
  episodeGapMs: z.number().int().positive().default(3_700_000).describe('an episode closes after this much event time (ms) without another failing window'),
  windowMs: z.number().int().positive().default(3_600_000).describe('tumbling window per market (ms of event time)'),
  minTrades: z.number().int().positive().default(2_000).describe('trades a window needs before it is tested'),
  maxBenfordMad: z.number().positive().default(0.03).describe('first-digit MAD above this fails the Benford test'),
  minRoundRatio: z.number().positive().default(1).describe('per-value frequency at one-significant-digit sizes / at two-significant-digit sizes below this fails the clustering test'),
  tailShare: z.number().positive().max(0.5).default(0.05).describe('top share of sizes used by the Hill tail estimator'),
  minTailAlpha: z.number().positive().default(0.7).describe('tail exponent below this fails the tail test'),
  maxTailAlpha: z.number().positive().default(4).describe('tail exponent above this fails the tail test'),
  minFailedTests: z.number().int().min(1).max(3).default(3).describe('failed tests needed for a window to fail'),
  minWindows: z.number().int().positive().default(2).describe('consecutive failing windows before the market alerts: fabricated volume is a standing practice, one odd hour is not evidence of it'),
});
export type FakeVolumeParams = z.output<typeof fakeVolumeParams>;

const BENFORD = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => (d === 0 ? 0 : Math.log10(1 + 1 / d)));

interface Win {
  start: number;
  sizes: number[];
  digits: number[];
  sig1: number;
  sig2: number;
  volume: number;
  notional: number;
  depthSum: number;
  depthN: number;
  firstId: string;
}

function newWin(start: number): Win {
  return { start, sizes: [], digits: new Array(10).fill(0), sig1: 0, sig2: 0, volume: 0, notional: 0, depthSum: 0, depthN: 0, firstId: '' };
}

/** First significant digit and number of significant digits of a decimal string. */
/** Leading significant digit and count of significant digits, packed as `count * 16 + digit` (no array per trade). */
function sig(s: string): number {
  let first = 0;
  let start = -1;
  let end = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) continue;
    if (start < 0) {
      if (c === 48) continue;
      start = i;
      first = c - 48;
    }
    if (c !== 48) end = i;
  }
  if (start < 0) return 0;
  let n = 0;
  for (let i = start; i <= end; i++) if (s.charCodeAt(i) !== 46) n++;
  return n * 16 + first;
}

export interface FakeVolumeStats {
  trades: number;
  benfordMad: number;
  roundRatio: number;
  tailAlpha: number;
  volumeToDepth: number;
}

function stats(w: Win, tailShare: number): FakeVolumeStats {
  const n = w.sizes.length;
  let mad = 0;
  let tot = 0;
  for (let d = 1; d <= 9; d++) tot += w.digits[d];
  for (let d = 1; d <= 9; d++) mad += Math.abs(w.digits[d] / Math.max(1, tot) - BENFORD[d]);
  mad /= 9;
  // one-significant-digit sizes: 9 values per decade; two-significant-digit: 81 per decade
  const roundRatio = w.sig2 > 0 ? w.sig1 / 9 / (w.sig2 / 81) : w.sig1 > 0 ? Infinity : 0;
  const sorted = Float64Array.from(w.sizes).sort();
  const k = Math.max(10, Math.floor(n * tailShare));
  let alpha = NaN;
  if (n > k + 1) {
    const xk = sorted[n - k - 1];
    let s = 0;
    for (let i = n - k; i < n; i++) s += Math.log(sorted[i] / xk);
    alpha = s > 0 ? k / s : Infinity;
  }
  const depth = w.depthN > 0 ? w.depthSum / w.depthN : NaN;
  return { trades: n, benfordMad: mad, roundRatio, tailAlpha: alpha, volumeToDepth: depth > 0 ? w.volume / depth : NaN };
}

class FakeVolumeDetector implements Detector {
  readonly name = 'fake_volume_stats';
  readonly typology = 'wash_trading' as const;
  readonly eventTypes = ['trade'] as const;
  readonly onEventTypes = [] as const;
  readonly policy: EpisodePolicy;
  private readonly wins = new Map<string, Win>();
  /** market -> consecutive failing windows so far, and the first one's start and first trade id */
  private readonly streak = new Map<string, { n: number; start: number; firstId: string; trades: number }>();

  constructor(private readonly p: FakeVolumeParams) {
    this.policy = policyFrom(p);
  }

  onEvent(): void {}

  afterEvent(ev: ExchangeEvent, ctx: DetectorContext): void {
    const e = ev as EventOf<'trade'>;
    const start = Math.floor(ctx.ts / this.p.windowMs) * this.p.windowMs;
    let w = this.wins.get(e.market);
    if (w === undefined || start > w.start) {
      if (w !== undefined) this.close(e.market, w, ctx);
      this.wins.set(e.market, (w = newWin(start)));
    }
    const size = ctx.sz;
    if (!(size > 0)) return;
    const dn = sig(e.size);
    const d = dn & 15;
    const n = dn >> 4;
    if (w.firstId === '') w.firstId = e.id;
    w.sizes.push(size);
    w.digits[d]++;
    if (n === 1) w.sig1++;
    else if (n === 2) w.sig2++;
    w.volume += size;
    w.notional += size * ctx.px;
    if ((w.sizes.length & 63) === 1) {
      const t = ctx.books.touch(e.market);
      const dep = t.bidSize + t.askSize;
      if (dep > 0) {
        w.depthSum += dep;
        w.depthN++;
      }
    }
  }

  onWatermark(t: number, ctx: DetectorContext): void {
    for (const [m, w] of this.wins) {
      if (w.start + this.p.windowMs <= t) {
        this.close(m, w, ctx);
        this.wins.delete(m);
      }
    }
  }

  private close(market: string, w: Win, ctx: DetectorContext): void {
    if (w.sizes.length < this.p.minTrades) return;
    const s = stats(w, this.p.tailShare);
    const failBenford = s.benfordMad > this.p.maxBenfordMad;
    const failRound = s.roundRatio < this.p.minRoundRatio;
    const failTail = !(s.tailAlpha >= this.p.minTailAlpha && s.tailAlpha <= this.p.maxTailAlpha);
    const failed = +failBenford + +failRound + +failTail;
    let st = this.streak.get(market);
    // a passing, untested or non-adjacent window breaks the streak
    if (failed < this.p.minFailedTests || st === undefined || st.start + st.n * this.p.windowMs !== w.start) {
      if (st !== undefined) this.streak.delete(market);
      st = undefined;
    }
    if (failed < this.p.minFailedTests) return;
    if (st === undefined) this.streak.set(market, (st = { n: 0, start: w.start, firstId: w.firstId, trades: 0 }));
    st.n++;
    st.trades += s.trades;
    if (st.n < this.p.minWindows) return;
    const end = w.start + this.p.windowMs;
    const ep = ctx.alerts.episode(this, market, { id: st.firstId, ts: st.start });
    if (end - 1 > ep.endTime) ep.endTime = end - 1;
    ep.variant ??= 'fake_volume_stats';
    ep.addMarket(market);
    ep.data.windows = st.n;
    ep.data.trades = st.trades;
    ep.data.failed = failed;
    const score = 45 + 15 * (failed - this.p.minFailedTests) + 10 * Math.min(1, s.benfordMad / (2 * this.p.maxBenfordMad)) + (failed >= 3 ? 10 : 0);
    if (ep.offer(Math.min(100, score))) {
      ep.feature('benford_first_digit_mad', s.benfordMad, this.p.maxBenfordMad, '>');
      ep.feature('round_size_clustering_ratio', s.roundRatio, this.p.minRoundRatio, '<');
      ep.feature('trade_size_tail_alpha', s.tailAlpha, this.p.minTailAlpha, '>=');
      ep.feature('trade_size_tail_alpha_max', s.tailAlpha, this.p.maxTailAlpha, '<=');
      ep.feature('failed_tests', failed, this.p.minFailedTests, '>=');
      ep.feature('consecutive_failing_windows', st.n, this.p.minWindows, '>=');
      if (Number.isFinite(s.volumeToDepth)) ep.feature('volume_to_touch_depth', s.volumeToDepth, 0, '>');
    }
    ctx.alerts.commit(ep, end);
  }

  explain(ep: Episode): string {
    const b = ep.get('benford_first_digit_mad');
    const r = ep.get('round_size_clustering_ratio');
    const a = ep.get('trade_size_tail_alpha');
    return `Trade sizes in ${ep.markets.join(', ')} from ${time(ep.startTime)} (${num(ep.data.trades ?? 0, 0)} trades over ${num(ep.data.windows ?? 0, 0)} window(s)) fail ${num(ep.data.failed ?? 0, 0)} of 3 authenticity tests (Benford MAD ${num(b?.value ?? NaN, 4)}, round-size clustering ratio ${num(r?.value ?? NaN, 2)}, tail exponent ${num(a?.value ?? NaN, 2)}), as fabricated volume does.`;
  }
}

export const fakeVolume = defineDetector({
  name: 'fake_volume_stats',
  typology: 'wash_trading',
  variant: 'fake_volume_stats',
  description: 'Market-level fake-volume statistics on trade sizes (Benford first digits, round-size clustering, power-law tail) per market and window; needs no account ids.',
  citation: 'Cong, Li, Tang & Yang, "Crypto Wash Trading", Management Science 2023; Aloosh & Li, "Direct Evidence of Bitcoin Wash Trading", Management Science 2024; Nigrini, Benford’s Law (2012)',
  params: fakeVolumeParams,
  enabledByDefault: true,
  create: (p) => new FakeVolumeDetector(p),
});
