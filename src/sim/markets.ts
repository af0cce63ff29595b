import type { BookLevel } from '../market/engine-book.js';
import { MatchingEngine, type MarketKindName } from '../market/matching-engine.js';
import { EVENT_ID_PREFIX, type EventOut, type FillListener, MarketSink } from './events-out.js';
import type { Rng } from './rng.js';

/**
 * Assets, markets and their price model. Each asset has an exogenous fundamental price (a random
 * walk with occasional news jumps). A market's reference price is the fundamental moved by the
 * market's own order flow (a decaying price-impact state), so aggressive buying really lifts the
 * quotes market makers post, and pumps, ramps and marking work as they do on a real venue.
 */
export interface AssetSpec {
  symbol: string;
  /** Median starting price in USDT (the seed scatters it). */
  price: number;
  /** Daily volatility of the log price. */
  volPerDay: number;
  /** News jumps per day and their typical size (fraction). */
  jumpsPerDay: number;
  jumpSize: number;
  /** Decimals used for balances and transfers. */
  decimals: number;
  /** Accepted as loan collateral. */
  collateral: boolean;
  /** Collateral value haircut (loan-to-value cap). */
  maxLtv: number;
}

export interface MarketSpec {
  symbol: string;
  kind: 'spot' | 'perpetual';
  base: string;
  quote: string;
  tickSize: string;
  lotSize: string;
  /** Thin markets: few makers, wide spreads, large impact; targets of pumps. */
  thin: boolean;
  /** Notional per level each maker shows. */
  makerLevelNotional: number;
  makerLevels: number;
  /** Maker half spread and level spacing in basis points. */
  halfSpreadBps: number;
  levelGapBps: number;
  /** Log-price impact of taking one maker-depth worth of notional. */
  impactPerDepth: number;
  impactHalfLifeMs: number;
  /** Retail order arrivals per second and their median notional. */
  retailPerSec: number;
  retailMedianNotional: number;
}

export const DEFAULT_ASSETS: AssetSpec[] = [
  { symbol: 'USDT', price: 1, volPerDay: 0, jumpsPerDay: 0, jumpSize: 0, decimals: 2, collateral: true, maxLtv: 0.9 },
  { symbol: 'BTC', price: 62_000, volPerDay: 0.03, jumpsPerDay: 1, jumpSize: 0.006, decimals: 8, collateral: true, maxLtv: 0.7 },
  { symbol: 'ETH', price: 3_100, volPerDay: 0.04, jumpsPerDay: 1, jumpSize: 0.008, decimals: 6, collateral: true, maxLtv: 0.7 },
  { symbol: 'ZNTH', price: 0.42, volPerDay: 0.08, jumpsPerDay: 3, jumpSize: 0.05, decimals: 2, collateral: true, maxLtv: 0.4 },
  { symbol: 'PYRA', price: 1.85, volPerDay: 0.09, jumpsPerDay: 3, jumpSize: 0.05, decimals: 2, collateral: true, maxLtv: 0.4 },
  { symbol: 'QRX', price: 0.064, volPerDay: 0.1, jumpsPerDay: 3, jumpSize: 0.06, decimals: 0, collateral: false, maxLtv: 0 },
  { symbol: 'VELA', price: 7.4, volPerDay: 0.08, jumpsPerDay: 3, jumpSize: 0.05, decimals: 3, collateral: true, maxLtv: 0.4 },
];

export const DEFAULT_MARKETS: MarketSpec[] = [
  spot('BTC', '0.01', '0.00001', { makerLevelNotional: 45_000, makerLevels: 6, halfSpreadBps: 0.6, levelGapBps: 0.9, impactPerDepth: 0.0012, impactHalfLifeMs: 60_000, retailPerSec: 1.6, retailMedianNotional: 350 }),
  spot('ETH', '0.01', '0.0001', { makerLevelNotional: 25_000, makerLevels: 6, halfSpreadBps: 0.8, levelGapBps: 1.2, impactPerDepth: 0.0015, impactHalfLifeMs: 60_000, retailPerSec: 1.1, retailMedianNotional: 250 }),
  spot('ZNTH', '0.0001', '1', { thin: true, makerLevelNotional: 700, makerLevels: 8, halfSpreadBps: 12, levelGapBps: 9, impactPerDepth: 0.06, impactHalfLifeMs: 180_000, retailPerSec: 0.22, retailMedianNotional: 90 }),
  spot('PYRA', '0.0001', '0.1', { thin: true, makerLevelNotional: 900, makerLevels: 8, halfSpreadBps: 10, levelGapBps: 8, impactPerDepth: 0.05, impactHalfLifeMs: 180_000, retailPerSec: 0.25, retailMedianNotional: 110 }),
  spot('QRX', '0.00001', '1', { thin: true, makerLevelNotional: 450, makerLevels: 8, halfSpreadBps: 18, levelGapBps: 12, impactPerDepth: 0.08, impactHalfLifeMs: 200_000, retailPerSec: 0.15, retailMedianNotional: 70 }),
  spot('VELA', '0.001', '0.01', { thin: true, makerLevelNotional: 1_100, makerLevels: 8, halfSpreadBps: 9, levelGapBps: 7, impactPerDepth: 0.045, impactHalfLifeMs: 180_000, retailPerSec: 0.28, retailMedianNotional: 120 }),
  perp('BTC', '0.1', '0.001', { makerLevelNotional: 70_000, makerLevels: 6, halfSpreadBps: 0.5, levelGapBps: 0.8, impactPerDepth: 0.0012, impactHalfLifeMs: 60_000, retailPerSec: 2.2, retailMedianNotional: 900 }),
  perp('ETH', '0.01', '0.001', { makerLevelNotional: 35_000, makerLevels: 6, halfSpreadBps: 0.7, levelGapBps: 1.1, impactPerDepth: 0.0015, impactHalfLifeMs: 60_000, retailPerSec: 1.4, retailMedianNotional: 600 }),
];

function spot(base: string, tickSize: string, lotSize: string, p: Partial<MarketSpec>): MarketSpec {
  return { symbol: `${base}USDT`, kind: 'spot', base, quote: 'USDT', tickSize, lotSize, thin: false, ...(p as Omit<MarketSpec, 'symbol' | 'kind' | 'base' | 'quote' | 'tickSize' | 'lotSize' | 'thin'>) };
}

function perp(base: string, tickSize: string, lotSize: string, p: Partial<MarketSpec>): MarketSpec {
  return { ...spot(base, tickSize, lotSize, p), symbol: `${base}USDT-PERP`, kind: 'perpetual' };
}

export class Asset {
  /** Fundamental price in USDT. */
  price: number;
  private readonly sigmaPerMs: number;
  private readonly jumpPerMs: number;
  constructor(
    readonly index: number,
    readonly spec: AssetSpec,
    rng: Rng,
  ) {
    this.price = spec.price * Math.exp(0.25 * rng.normal());
    this.sigmaPerMs = spec.volPerDay / Math.sqrt(86_400_000);
    this.jumpPerMs = spec.jumpsPerDay / 86_400_000;
  }

  get symbol(): string {
    return this.spec.symbol;
  }

  /** Advances the fundamental by dt ms; returns the log jump if news hit (0 otherwise). */
  step(dt: number, rng: Rng): number {
    if (this.sigmaPerMs === 0) return 0;
    let dlog = this.sigmaPerMs * Math.sqrt(dt) * rng.normal();
    let jump = 0;
    if (rng.float() < this.jumpPerMs * dt) {
      jump = (rng.chance(0.5) ? 1 : -1) * this.spec.jumpSize * Math.exp(0.5 * rng.normal());
      dlog += jump;
    }
    this.price *= Math.exp(dlog);
    return jump;
  }
}

export class SimMarket {
  readonly engine: MatchingEngine;
  readonly isPerp: boolean;
  readonly symbol: string;
  /** Float value of one tick (quote) and one lot (base). */
  readonly tickValue: number;
  readonly lotValue: number;
  /** Log-price impact of recent order flow. */
  impact = 0;
  /** Perps: premium of the perp's fair value over the index (log). */
  basis = 0;
  /** Notional a full maker book shows near the touch (for the impact scale). */
  depthNotional = 0;
  /** One-second samples of the mid (ticks) and traded lots, newest at `histPos`. */
  readonly mids = new Float64Array(900);
  readonly volumes = new Float64Array(900);
  histPos = 0;
  histCount = 0;
  private secondVolume = 0;
  private decayDt = -1;
  private decayFactor = 1;
  /** Index price (for perps, the underlying's index; spot: unused). */
  indexPrice = 0;
  spot: SimMarket | null = null;
  perp: SimMarket | null = null;
  readonly kindName: MarketKindName;

  constructor(
    readonly index: number,
    readonly spec: MarketSpec,
    readonly asset: Asset,
    out: EventOut,
    listener: FillListener,
  ) {
    this.isPerp = spec.kind === 'perpetual';
    this.symbol = spec.symbol;
    this.kindName = spec.kind;
    this.engine = new MatchingEngine(
      { symbol: spec.symbol, kind: spec.kind, tickSize: spec.tickSize, lotSize: spec.lotSize, defaultStp: 'cancel_maker', postOnly: 'reject', idPrefix: EVENT_ID_PREFIX, indexOrderIds: false },
      new MarketSink(out, index, listener),
    );
    this.tickValue = this.engine.prices.toNumber(1);
    this.lotValue = this.engine.sizes.toNumber(1);
  }

  /** The price makers centre their quotes on (float USDT). */
  refPrice(): number {
    if (this.isPerp) return (this.indexPrice || this.asset.price) * Math.exp(this.basis + this.impact);
    return this.asset.price * Math.exp(this.impact);
  }

  refTicks(): number {
    return this.refPrice() / this.tickValue;
  }

  /** Lots for a notional at the current reference price (at least one lot). */
  lotsFor(notional: number): number {
    const lots = Math.round(notional / (this.refPrice() * this.lotValue));
    return lots < 1 ? 1 : lots;
  }

  notionalOf(priceTicks: number, lots: number): number {
    return priceTicks * this.tickValue * lots * this.lotValue;
  }

  midTicks(): number {
    const m = this.engine.mid();
    return m > 0 ? m : this.refTicks();
  }

  midPrice(): number {
    return this.midTicks() * this.tickValue;
  }

  /** Taker flow moves the reference price: a decaying, depth-scaled impact. */
  onTake(buy: boolean, priceTicks: number, lots: number): void {
    const notional = priceTicks * this.tickValue * lots * this.lotValue;
    const d = (this.spec.impactPerDepth * notional) / this.depthNotional;
    this.impact += buy ? d : -d;
    this.secondVolume += lots;
  }

  decay(dt: number): void {
    // The venue decays on a fixed tick: the factor is computed once per step length.
    if (dt !== this.decayDt) {
      this.decayDt = dt;
      this.decayFactor = Math.pow(0.5, dt / this.spec.impactHalfLifeMs);
    }
    this.impact *= this.decayFactor;
  }

  /** Records the one-second history used by momentum traders and injectors. */
  sample(): void {
    this.histPos = (this.histPos + 1) % this.mids.length;
    this.mids[this.histPos] = this.midTicks();
    this.volumes[this.histPos] = this.secondVolume;
    this.secondVolume = 0;
    if (this.histCount < this.mids.length) this.histCount++;
  }

  /** Mid `seconds` ago (ticks), or the oldest sample. */
  midAgo(seconds: number): number {
    const back = Math.min(seconds, this.histCount - 1);
    if (back < 0) return this.midTicks();
    const n = this.mids.length;
    return this.mids[(this.histPos - back + n) % n];
  }

  /** Traded lots over the last `seconds`. */
  volumeOver(seconds: number): number {
    const n = this.mids.length;
    const k = Math.min(seconds, this.histCount);
    let s = 0;
    for (let i = 0; i < k; i++) s += this.volumes[(this.histPos - i + n) % n];
    return s;
  }

  /** Book imbalance in [-1, 1] (positive: more bids) of the depth within `bps` of each touch. */
  imbalance(bps: number): number {
    const book = this.engine.book;
    const bb = book.bids.bestPrice();
    const ba = book.asks.bestPrice();
    if (bb === 0 || ba === 0) return 0;
    const width = Math.max(1, bb * bps * 1e-4);
    const b = depthWithin(book.bids.levels, bb - width, true);
    const a = depthWithin(book.asks.levels, ba + width, false);
    return a + b === 0 ? 0 : (b - a) / (a + b);
  }
}

/** Lots on the first (up to) eight levels from the touch that lie within `limit`. */
function depthWithin(levels: readonly BookLevel[], limit: number, bid: boolean): number {
  let s = 0;
  for (let i = levels.length - 1, k = 0; i >= 0 && k < 8; i--, k++) {
    const l = levels[i];
    if (bid ? l.price < limit : l.price > limit) break;
    s += l.total;
  }
  return s;
}
