import type { ExchangeEvent, EventOf } from '../events/schema.js';
import { L3Book, type OrderKey, type RestingOrder } from '../market/l3-book.js';
import { L2Book } from '../market/l2-book.js';
import { TakerLog } from './taker-log.js';
import { decimalToFloat, formatScaled, parseDecimal, parsed, toScaledInt, POW10 } from './scaled.js';

/**
 * Order books per market, maintained from the event stream:
 *
 * - L3 (per order) from order events: `order.placed` (limit orders rest; market and stop orders are
 *   remembered briefly so trades can be attributed), `order.amended`, `order.cancelled`,
 *   `order.expired`, and `trade` (reduces the maker and, if it rested, the taker). Prices and sizes
 *   are integers (ticks, lots) at a per-market decimal scale, configured or inferred from the
 *   values seen: the scale is the largest number of significant decimals seen so far and, if a finer
 *   value arrives later, the market's book is rebuilt once at the finer scale (priorities kept).
 * - L2 (per price level) from `depth` snapshots and diffs, using src/market/l2-book.ts (exact
 *   decimal strings), and the top of book from `bbo`; `book.status` marks a book (un)reliable.
 *
 * The touch (best bid/ask, mid, spread) prefers the L3 book when it has both sides, else the more
 * recent of the BBO and the L2 book. `snapshot(market, levels)` builds alert evidence (allocates;
 * call it only when raising an alert). Reading the touch is O(1) and allocation-free.
 *
 * Memory: resting orders are capped per market (`maxOrdersPerMarket`, overflow is counted and the
 * L3 book flagged incomplete); market-order attributions expire after `takerTtlMs` of event time.
 * The L2 book holds the levels the feed sends (a depth feed bounds them).
 */
export interface BooksOptions {
  /** Fixed decimal scales per market (digits after the point); otherwise inferred. */
  scales?: Record<string, { price?: number; size?: number }>;
  /** Cap on resting orders per market (default 5 000 000). */
  maxOrdersPerMarket?: number;
  /** How long a market/stop order is remembered for trade attribution (default 60 000 ms). */
  takerTtlMs?: number;
  /**
   * Maintain L2 books from depth events (default true). On full-depth feeds (e.g. Binance
   * depth@0ms, ~50 levels per update) this is most of the engine's cost; without it the touch comes
   * from BBO events and evidence snapshots show the top of book only.
   */
  l2?: boolean;
}

/** Where a touch came from. */
export type BookSource = 'l3' | 'l2' | 'bbo' | 'none';

/** The top of a book; a reused object (copy what you keep). Prices are floats for statistics. */
export class Touch {
  bid = NaN;
  ask = NaN;
  bidSize = NaN;
  askSize = NaN;
  /** (bid + ask) / 2, NaN unless both sides are known and not crossed. */
  mid = NaN;
  spread = NaN;
  source: BookSource = 'none';
  /** Event time of the data behind it. */
  ts = NaN;
  reliable = false;
}

/** A book around an alert, for evidence. Prices and sizes are exact decimal strings. */
export interface BookSnapshot {
  market: string;
  ts: number;
  source: BookSource;
  reliable: boolean;
  /** Best first: [price, size] or, from the L3 book, [price, size, orders]. */
  bids: ([string, string] | [string, string, number])[];
  asks: ([string, string] | [string, string, number])[];
  mid?: number;
  spread?: number;
  lastTrade?: string;
}

/** Trade counterparties as resolved from the event and the books (scratch, reused). */
export class TradeParties {
  maker: string | undefined = undefined;
  taker: string | undefined = undefined;
  /** Side of the taker, or undefined when neither the feed nor the book tells. */
  takerSide: 'buy' | 'sell' | undefined = undefined;
}

/**
 * An order id as a book key: a canonical integer string (no sign, no leading zero, at most 15
 * digits) becomes the number, so the book keeps no string per order and hashes a number; any other
 * id stays the string. Distinct ids keep distinct keys because only canonical strings convert.
 */
export function orderKey(id: string): OrderKey {
  const n = id.length;
  if (n === 0 || n > 15) return id;
  const c0 = id.charCodeAt(0) - 48;
  if (c0 < 1 || c0 > 9) return n === 1 && c0 === 0 ? 0 : id;
  let v = c0;
  for (let i = 1; i < n; i++) {
    const d = id.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return id;
    v = v * 10 + d;
  }
  return v;
}

export const MAKER_FILLED = 1;
export const TAKER_FILLED = 2;

/** One market's books. */
export class MarketBook {
  l3 = new L3Book();
  /** Digits after the point of L3 prices/sizes; -1 until known. */
  priceScale = -1;
  sizeScale = -1;
  readonly fixedScale: boolean;
  l3Incomplete = false;
  droppedOrders = 0;
  l3Ts = NaN;
  readonly l2 = new L2Book();
  l2Ts = NaN;
  l2Active = false;
  l2BidPx = NaN;
  l2AskPx = NaN;
  l2BidSz = NaN;
  l2AskSz = NaN;
  bboTs = NaN;
  bboBid = NaN;
  bboAsk = NaN;
  bboBidSz = NaN;
  bboAskSz = NaN;
  bboBidStr = '';
  bboAskStr = '';
  bboBidSzStr = '';
  bboAskSzStr = '';
  /** The BBO strings changed since they were last parsed (parsing is deferred to the first read). */
  bboDirty = false;
  lastTradePx = NaN;
  lastTradeStr = '';
  lastTradeTs = NaN;
  /** Event time of the last event applied to this market. */
  lastEventTs = NaN;
  readonly takers: TakerLog;

  constructor(readonly market: string, scales: { price?: number; size?: number } | undefined, takerTtlMs: number) {
    this.fixedScale = scales?.price !== undefined && scales?.size !== undefined;
    if (scales?.price !== undefined) this.priceScale = scales.price;
    if (scales?.size !== undefined) this.sizeScale = scales.size;
    this.takers = new TakerLog(takerTtlMs);
  }

  /** Price string -> ticks at this market's scale, upgrading the scale if needed; NaN if unusable. */
  priceTicks(s: string): number {
    if (!parseDecimal(s)) return NaN;
    if (parsed.scale > this.priceScale) {
      if (this.fixedScale || !this.rescale(parsed.scale, this.sizeScale)) return NaN;
      parseDecimal(s);
    }
    const v = parsed.mantissa * POW10[this.priceScale - parsed.scale];
    return Number.isSafeInteger(v) ? v : NaN;
  }

  sizeLots(s: string): number {
    if (!parseDecimal(s)) return NaN;
    if (parsed.scale > this.sizeScale) {
      if (this.fixedScale || !this.rescale(this.priceScale, parsed.scale)) return NaN;
      parseDecimal(s);
    }
    const v = parsed.mantissa * POW10[this.sizeScale - parsed.scale];
    return Number.isSafeInteger(v) ? v : NaN;
  }

  /** Rebuilds the L3 book at finer scales (rare: only while the scale is being discovered). */
  private rescale(priceScale: number, sizeScale: number): boolean {
    priceScale = Math.max(priceScale, this.priceScale, 0);
    sizeScale = Math.max(sizeScale, this.sizeScale, 0);
    if (priceScale > 15 || sizeScale > 15) return false;
    const dp = this.priceScale < 0 ? 1 : POW10[priceScale - this.priceScale];
    const ds = this.sizeScale < 0 ? 1 : POW10[sizeScale - this.sizeScale];
    if (this.l3.orderCount > 0 && (dp !== 1 || ds !== 1)) {
      const next = new L3Book();
      const l3 = this.l3;
      for (const side of [l3.bids, l3.asks]) {
        for (const level of side.walk()) {
          for (let s = level.head; s !== -1; s = l3.nextAt(s)) {
            const tag = l3.tagAt(s);
            next.add(l3.idAt(s), l3.sideAt(s), l3.priceAt(s) * dp, l3.sizeAt(s) * ds, l3.tsAt(s), l3.accountAt(s), tag === tag ? tag * ds : undefined);
          }
        }
      }
      this.l3 = next;
    }
    this.priceScale = priceScale;
    this.sizeScale = sizeScale;
    return true;
  }

  /** L3 price (ticks) -> float. */
  pxFloat(ticks: number): number {
    return ticks / POW10[Math.max(0, this.priceScale)];
  }

  szFloat(lots: number): number {
    return lots / POW10[Math.max(0, this.sizeScale)];
  }
}

/** Event types the books apply (every order.* type, trades and market data). */
const BOOK_TYPES: ReadonlySet<string> = new Set(['trade', 'depth', 'bbo', 'book.status', 'order.placed', 'order.amended', 'order.cancelled', 'order.expired', 'order.rejected']);

export class MarketBooks {
  private readonly markets = new Map<string, MarketBook>();
  private readonly opts: Required<Omit<BooksOptions, 'scales'>> & Pick<BooksOptions, 'scales'>;
  private readonly touchScratch = new Touch();

  constructor(opts: BooksOptions = {}) {
    this.opts = { maxOrdersPerMarket: opts.maxOrdersPerMarket ?? 5_000_000, takerTtlMs: opts.takerTtlMs ?? 60_000, l2: opts.l2 ?? true, scales: opts.scales };
  }

  // Consecutive events are mostly of one market: remember the last lookup (markets are never removed).
  private lastMarket = '';
  private lastBook: MarketBook | undefined = undefined;

  /** The market's books, created on first use. */
  get(market: string): MarketBook {
    if (market === this.lastMarket && this.lastBook !== undefined) return this.lastBook;
    let b = this.markets.get(market);
    if (b === undefined) {
      b = new MarketBook(market, this.opts.scales?.[market], this.opts.takerTtlMs);
      this.markets.set(market, b);
    }
    this.lastMarket = market;
    this.lastBook = b;
    return b;
  }

  peek(market: string): MarketBook | undefined {
    return this.markets.get(market);
  }

  marketList(): string[] {
    return [...this.markets.keys()];
  }

  /** Resting orders across all L3 books. */
  restingOrders(): number {
    let n = 0;
    for (const b of this.markets.values()) n += b.l3.orderCount;
    return n;
  }

  /** The account behind an order id in a market, if known (resting or a recent market order). */
  accountOf(market: string, orderId: string): string | undefined {
    const b = this.markets.get(market);
    if (b === undefined) return undefined;
    const s = b.l3.slotOf(orderKey(orderId));
    return (s !== -1 ? b.l3.accountAt(s) : undefined) ?? b.takers.accountOf(orderKey(orderId), b.lastEventTs);
  }

  /** A resting order, if the L3 book holds it (a snapshot: allocates). */
  order(market: string, orderId: string): RestingOrder | undefined {
    return this.markets.get(market)?.l3.get(orderKey(orderId));
  }

  /** Side of a resting order, without allocating; undefined if the L3 book does not hold it. */
  orderSide(market: string, orderId: string): 'buy' | 'sell' | undefined {
    const b = this.markets.get(market);
    if (b === undefined) return undefined;
    const s = b.l3.slotOf(orderKey(orderId));
    return s === -1 ? undefined : b.l3.sideAt(s);
  }

  /** Fills `out` with the trade's maker/taker accounts and the taker's side (before the books apply it). */
  resolveTrade(e: EventOf<'trade'>, out: TradeParties, ts: number = e.ts): TradeParties {
    const b = this.markets.get(e.market);
    const l3 = b?.l3;
    const mo = e.makerOrderId !== undefined && l3 !== undefined && l3.orderCount > 0 ? l3.slotOf(orderKey(e.makerOrderId)) : -1;
    out.maker = e.makerAccountId ?? (mo !== -1 ? l3!.accountAt(mo) : undefined);
    let taker = e.takerAccountId;
    let takerSide: 'buy' | 'sell' | undefined = e.aggressor === 'unknown' ? undefined : e.aggressor;
    if (e.takerOrderId !== undefined && b !== undefined && (taker === undefined || takerSide === undefined)) {
      const to = b.l3.orderCount > 0 ? b.l3.slotOf(orderKey(e.takerOrderId)) : -1;
      if (to !== -1) {
        taker ??= b.l3.accountAt(to);
        takerSide ??= b.l3.sideAt(to);
      } else {
        const key = orderKey(e.takerOrderId);
        taker ??= b.takers.accountOf(key, ts);
        takerSide ??= b.takers.sideOf(key, ts);
      }
    }
    if (takerSide === undefined && mo !== -1) takerSide = l3!.sideAt(mo) === 'buy' ? 'sell' : 'buy';
    out.taker = taker;
    out.takerSide = takerSide;
    return out;
  }

  /**
   * Applies one event to the books. For trades, returns MAKER_FILLED | TAKER_FILLED bits for resting
   * orders the trade completed; 0 otherwise. Never throws on data. `ts` is `e.ts` (callers that
   * already read it pass it: reading a number field of events of many shapes boxes it anew each time).
   */
  apply(e: ExchangeEvent, ts: number = e.ts): number {
    if (!BOOK_TYPES.has(e.type)) return 0;
    const mb = this.markets.get((e as { market: string }).market);
    if (mb !== undefined && !(ts <= mb.lastEventTs)) mb.lastEventTs = ts;
    switch (e.type) {
      case 'order.placed':
        this.onPlaced(e, ts);
        return 0;
      case 'order.amended':
        this.onAmended(e, ts);
        return 0;
      case 'order.cancelled':
      case 'order.expired': {
        const b = this.markets.get(e.market);
        if (b !== undefined) {
          b.l3.remove(orderKey(e.orderId));
          b.takers.delete(orderKey(e.orderId));
          b.l3Ts = ts;
        }
        return 0;
      }
      case 'trade':
        return this.onTrade(e, ts);
      case 'depth':
        if (this.opts.l2) this.onDepth(e, ts);
        return 0;
      case 'bbo':
        this.onBbo(e, ts);
        return 0;
      case 'book.status': {
        const b = this.get(e.market);
        b.l2.setReliable(e.status === 'reliable', e.reason);
        return 0;
      }
      default:
        return 0;
    }
  }

  /** Expires market-order attributions (call on watermark ticks). */
  sweep(now: number): void {
    for (const b of this.markets.values()) b.takers.expire(now);
  }

  private onPlaced(e: EventOf<'order.placed'>, ts: number): void {
    const b = this.get(e.market);
    b.l3Ts = ts;
    if (e.orderType === 'limit' && e.price !== undefined && e.timeInForce !== 'IOC' && e.timeInForce !== 'FOK') {
      const px = b.priceTicks(e.price);
      const sz = b.sizeLots(e.size);
      if (!(px > 0 && sz > 0)) return;
      if (b.l3.orderCount >= this.opts.maxOrdersPerMarket) {
        b.droppedOrders++;
        b.l3Incomplete = true;
        return;
      }
      b.l3.add(orderKey(e.orderId), e.side, px, sz, ts, e.accountId, sz);
      return;
    }
    // Market, IOC/FOK and stop orders do not rest; remember the account for trade attribution.
    b.takers.add(orderKey(e.orderId), e.accountId, e.side, ts);
  }

  private onAmended(e: EventOf<'order.amended'>, ts: number): void {
    const b = this.markets.get(e.market);
    if (b === undefined) return;
    b.l3Ts = ts;
    const key = orderKey(e.orderId);
    if (!b.l3.has(key)) return;
    // Parse first: a finer decimal may rebuild the book at a new scale.
    const px = e.price !== undefined ? b.priceTicks(e.price) : NaN;
    const newTotal = e.size !== undefined ? b.sizeLots(e.size) : NaN;
    const l3 = b.l3;
    const o = l3.slotOf(key);
    const size0 = l3.sizeAt(o);
    const price = e.price !== undefined ? px : l3.priceAt(o);
    const tag0 = l3.tagAt(o);
    const total0 = tag0 === tag0 ? tag0 : size0;
    let total = total0;
    let remaining = size0;
    if (e.size !== undefined) {
      total = newTotal;
      remaining = newTotal - (total0 - size0);
    }
    if (!(price > 0) || !Number.isFinite(remaining)) return;
    if (remaining <= 0) {
      l3.remove(key);
      return;
    }
    const r = l3.amend(key, price, remaining, ts);
    if (r !== -1) l3.setTagAt(r, total);
  }

  private onTrade(e: EventOf<'trade'>, ts: number): number {
    const b = this.get(e.market);
    b.lastTradeStr = e.price;
    b.lastTradePx = decimalToFloat(e.price);
    b.lastTradeTs = ts;
    if (e.makerOrderId === undefined && e.takerOrderId === undefined) return 0;
    if (b.l3.orderCount === 0) return 0;
    b.l3Ts = ts;
    const qty = b.sizeLots(e.size);
    if (!(qty > 0)) return 0;
    let flags = 0;
    if (e.makerOrderId !== undefined) {
      const k = orderKey(e.makerOrderId);
      if (b.l3.has(k)) {
        b.l3.reduce(k, qty);
        if (!b.l3.has(k)) flags |= MAKER_FILLED;
      }
    }
    if (e.takerOrderId !== undefined) {
      const k = orderKey(e.takerOrderId);
      if (b.l3.has(k)) {
        b.l3.reduce(k, qty);
        if (!b.l3.has(k)) flags |= TAKER_FILLED;
      }
    }
    return flags;
  }

  private onDepth(e: EventOf<'depth'>, ts: number): void {
    const b = this.get(e.market);
    if (e.snapshot) {
      b.l2.replace(e.bids, e.asks);
      b.l2.setReliable(true, 'snapshot');
    } else b.l2.apply(e.bids, e.asks);
    b.l2Ts = ts;
    b.l2Active = true;
    const bb = b.l2.bestBid();
    const ba = b.l2.bestAsk();
    b.l2BidPx = bb === undefined ? NaN : decimalToFloat(bb[0]);
    b.l2BidSz = bb === undefined ? NaN : decimalToFloat(bb[1]);
    b.l2AskPx = ba === undefined ? NaN : decimalToFloat(ba[0]);
    b.l2AskSz = ba === undefined ? NaN : decimalToFloat(ba[1]);
  }

  private onBbo(e: EventOf<'bbo'>, ts: number): void {
    const b = this.get(e.market);
    b.bboTs = ts;
    b.bboBidStr = e.bidPrice;
    b.bboAskStr = e.askPrice;
    b.bboBidSzStr = e.bidSize;
    b.bboAskSzStr = e.askSize;
    // BBO updates are the most frequent market-data events; parse only when someone reads them.
    b.bboDirty = true;
  }

  private static parseBbo(b: MarketBook): void {
    b.bboDirty = false;
    const bid = decimalToFloat(b.bboBidStr);
    const ask = decimalToFloat(b.bboAskStr);
    b.bboBid = bid > 0 ? bid : NaN;
    b.bboAsk = ask > 0 ? ask : NaN;
    b.bboBidSz = decimalToFloat(b.bboBidSzStr);
    b.bboAskSz = decimalToFloat(b.bboAskSzStr);
  }

  /** The touch of a market (reused object, valid until the next call). */
  touch(market: string): Touch {
    const t = this.touchScratch;
    t.bid = t.ask = t.bidSize = t.askSize = t.mid = t.spread = t.ts = NaN;
    t.source = 'none';
    t.reliable = false;
    const b = this.markets.get(market);
    if (b === undefined) return t;
    if (b.bboDirty) MarketBooks.parseBbo(b);
    const bb = b.l3.bestBid();
    const ba = b.l3.bestAsk();
    if (bb !== undefined && ba !== undefined) {
      t.bid = b.pxFloat(bb.price);
      t.ask = b.pxFloat(ba.price);
      t.bidSize = b.szFloat(bb.total);
      t.askSize = b.szFloat(ba.total);
      t.source = 'l3';
      t.ts = b.l3Ts;
      t.reliable = !b.l3Incomplete;
    } else if (b.bboTs === b.bboTs && (!b.l2Active || b.bboTs >= b.l2Ts)) {
      t.bid = b.bboBid;
      t.ask = b.bboAsk;
      t.bidSize = b.bboBidSz;
      t.askSize = b.bboAskSz;
      t.source = 'bbo';
      t.ts = b.bboTs;
      t.reliable = true;
    } else if (b.l2Active) {
      t.bid = b.l2BidPx;
      t.ask = b.l2AskPx;
      t.bidSize = b.l2BidSz;
      t.askSize = b.l2AskSz;
      t.source = 'l2';
      t.ts = b.l2Ts;
      t.reliable = b.l2.reliable;
    }
    if (t.bid > 0 && t.ask > 0 && t.ask > t.bid) {
      t.mid = (t.bid + t.ask) / 2;
      t.spread = t.ask - t.bid;
    }
    return t;
  }

  /** Mid price (float), NaN if unknown. */
  mid(market: string): number {
    return this.touch(market).mid;
  }

  spread(market: string): number {
    return this.touch(market).spread;
  }

  /** Last trade price (float), NaN if none yet. */
  lastTrade(market: string): number {
    return this.markets.get(market)?.lastTradePx ?? NaN;
  }

  /** Up to `levels` levels per side around the touch, for alert evidence (allocates). */
  snapshot(market: string, levels = 5): BookSnapshot {
    const t = this.touch(market);
    const b = this.markets.get(market);
    const snap: BookSnapshot = { market, ts: Number.isFinite(t.ts) ? t.ts : 0, source: t.source, reliable: t.reliable, bids: [], asks: [] };
    if (b !== undefined) {
      if (t.source === 'l3') {
        for (const lv of b.l3.depth('buy', levels)) snap.bids.push([formatScaled(lv.price, b.priceScale), formatScaled(lv.size, b.sizeScale), lv.orders]);
        for (const lv of b.l3.depth('sell', levels)) snap.asks.push([formatScaled(lv.price, b.priceScale), formatScaled(lv.size, b.sizeScale), lv.orders]);
      } else if (t.source === 'l2') {
        for (const [p, s] of b.l2.top('bid', levels)) snap.bids.push([p, s]);
        for (const [p, s] of b.l2.top('ask', levels)) snap.asks.push([p, s]);
      } else if (t.source === 'bbo') {
        if (b.bboBid > 0) snap.bids.push([b.bboBidStr, b.bboBidSzStr]);
        if (b.bboAsk > 0) snap.asks.push([b.bboAskStr, b.bboAskSzStr]);
      }
      if (b.lastTradeStr !== '') snap.lastTrade = b.lastTradeStr;
    }
    if (Number.isFinite(t.mid)) snap.mid = Number(t.mid.toPrecision(12));
    if (Number.isFinite(t.spread)) snap.spread = Number(t.spread.toPrecision(10));
    return snap;
  }
}

export { toScaledInt, formatScaled };
