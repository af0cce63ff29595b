import { Ewma } from '../../stream/ewma.js';

const QUOTES = ['USDT', 'USDC', 'BUSD', 'FDUSD', 'USD'];
const STABLE = new Set(QUOTES);
const MINUTE = 60_000;

/** BTCUSDT, BTCUSDT-PERP, BTC-USDT → BTC; undefined when the quote is not a USD stablecoin. */
export function baseAsset(market: string): string | undefined {
  const m = market.split(/[-_:/]/);
  const head = m.length > 1 && STABLE.has(m[1]) ? m[0] + m[1] : m[0];
  for (const q of QUOTES) if (head.length > q.length && head.endsWith(q)) return head.slice(0, -q.length);
  return undefined;
}

/** Price sources, worst to best. */
export const PriceSource = { Last: 0, Mid: 1, Index: 2 } as const;
export type PriceSource = (typeof PriceSource)[keyof typeof PriceSource];

interface AssetPrice {
  price: number;
  /** Close of the last whole minute seen, and which minute it was. */
  minuteClose: number;
  minute: number;
  /** EWMA of squared one-minute log returns (half-life one day of event time). */
  var1m: Ewma;
}

/**
 * USD prices and daily volatility per asset, from index, mark and trade prices on USD-quoted
 * markets (the last one seen wins). Volatility: squared log returns between consecutive minute
 * closes, EWMA-averaged; O(1) per price update.
 */
export class AssetPrices {
  private readonly assets = new Map<string, AssetPrice>();
  private readonly markets = new Map<string, number>();

  /** Best price source seen per asset: once an asset has one, worse sources no longer move it. */
  private readonly level = new Map<string, PriceSource>();

  /**
   * A price observation from a source: index > book mid > last trade/mark. Mixing them would read
   * their spread (and last-trade bid/ask bounce) as volatility.
   */
  update(market: string, ts: number, price: number, source: PriceSource = PriceSource.Last): void {
    if (!(price > 0)) return;
    if (source === PriceSource.Last) this.markets.set(market, price);
    const asset = baseAsset(market);
    if (asset === undefined) return;
    const best = this.level.get(asset) ?? -1;
    if (source < best) return;
    if (source > best) this.level.set(asset, source);
    let a = this.assets.get(asset);
    const minute = Math.floor(ts / MINUTE);
    if (!a) {
      a = { price, minuteClose: price, minute, var1m: new Ewma(86_400_000) };
      this.assets.set(asset, a);
      return;
    }
    if (minute > a.minute) {
      const r = Math.log(a.price / a.minuteClose);
      // A gap of several minutes is one return spread over them: per-minute variance.
      a.var1m.add(ts, (r * r) / (minute - a.minute));
      a.minuteClose = a.price;
      a.minute = minute;
    }
    a.price = price;
  }

  /** Last price of a market (NaN when never seen). */
  marketPrice(market: string): number {
    return this.markets.get(market) ?? NaN;
  }

  /** USD price; stablecoins are 1; NaN for an asset never priced. */
  price(asset: string): number {
    if (STABLE.has(asset)) return 1;
    return this.assets.get(asset)?.price ?? NaN;
  }

  /** Daily volatility (standard deviation of the daily log return); 0 for stablecoins, NaN unknown. */
  dailyVol(asset: string): number {
    if (STABLE.has(asset)) return 0;
    const v = this.assets.get(asset)?.var1m;
    if (!v || v.count === 0) return NaN;
    return Math.sqrt(v.mean * 1440);
  }

  /** Value in USD of `amount` of `asset` (0 when unpriced: an unknown asset adds nothing). */
  value(asset: string, amount: number): number {
    const p = this.price(asset);
    return Number.isFinite(p) ? amount * p : 0;
  }
}
