import type { ExchangeEvent, EventOf } from '../events/schema.js';
import { EngineBook, type BookLevel, type BookNode, type BookSide } from './engine-book.js';
import { CounterText, DecimalGrid } from './tick-format.js';

/**
 * A matching engine for one market: price-time priority over its own book (engine-book.ts), integer ticks and lots
 * inside, exact decimal strings in the events it emits. Supports limit, market, IOC, FOK
 * (all-or-nothing, checked before anything executes), post-only, stop / stop-limit /
 * take-profit orders triggered by the last trade price, GTD expiry, amends (a price change or a
 * size increase loses priority, a size decrease keeps it) and self-trade prevention in the modes
 * exchanges offer. Every state change is reported as a canonical event.
 */
export type OrderSide = 'buy' | 'sell';
export type OrderKind = 'limit' | 'market' | 'stop' | 'stop_limit' | 'take_profit' | 'take_profit_limit';
export type TimeInForce = 'GTC' | 'IOC' | 'FOK' | 'GTD';
export type StpMode = 'none' | 'cancel_taker' | 'cancel_maker' | 'cancel_both' | 'decrement';
export type OrderStatus = 'pending' | 'working' | 'resting' | 'filled' | 'cancelled' | 'rejected' | 'expired';
export type MarketKindName = 'spot' | 'perpetual' | 'future' | 'margin' | 'option' | 'index';
type CancelReason = 'user' | 'system' | 'stp' | 'ioc' | 'fok' | 'post_only' | 'liquidation' | 'admin';

export interface MarketRules {
  symbol: string;
  kind?: MarketKindName;
  tickSize: string;
  lotSize: string;
  /** Smallest order size in lots (default 1). */
  minLots?: number;
  maxLots?: number;
  /** Reject limit prices further than this fraction from the last trade price (0 or absent: no band). */
  priceBand?: number;
  /** What a post-only order that would take does: rejected outright, or accepted then cancelled. */
  postOnly?: 'reject' | 'cancel';
  /** STP mode for orders that do not name one. */
  defaultStp?: StpMode;
  /** Emit a `bbo` event whenever the top of book changes (default true). */
  bbo?: boolean;
  /**
   * Index live orders by their string order id, for `order()`/`cancelById()` and duplicate-id
   * rejection (default true). Callers that keep the returned order objects can turn it off.
   */
  indexOrderIds?: boolean;
  /** Prefix of event ids (ids are prefix + sequence number). */
  idPrefix?: string;
  source?: string;
}

/** Where the engine's events go, and where its ids come from (shared across markets in a simulation). */
export interface EngineSink {
  nextSeq(): number;
  nextOrderId(): string;
  nextTradeId(): string;
  event(e: ExchangeEvent): void;
  /** Called after each trade event, e.g. to update positions or attribute the trade to a label. */
  fill?(maker: EngineOrder, taker: EngineOrder, price: number, lots: number, tradeId: string, ts: number): void;
}

/** A new order with price and size in integer ticks and lots. */
export interface OrderRequest {
  orderId?: string;
  accountId: string;
  side: OrderSide;
  type?: OrderKind;
  tif?: TimeInForce;
  price?: number;
  stopPrice?: number;
  size: number;
  postOnly?: boolean;
  reduceOnly?: boolean;
  stp?: StpMode;
  /** GTD expiry, event time ms. */
  expireAt?: number;
  clientOrderId?: string;
  apiKeyId?: string;
  ip?: string;
  leverage?: number;
  marginMode?: 'cross' | 'isolated';
  /** Opaque references carried to fill callbacks (e.g. the account object, a label episode). */
  owner?: unknown;
  label?: unknown;
}

/** The same request with exact decimal strings, as an API would receive it. */
export interface DecimalOrderRequest extends Omit<OrderRequest, 'price' | 'stopPrice' | 'size'> {
  price?: string;
  stopPrice?: string;
  size: string;
}

/** The engine's record of an order; it is also the book's resting node (no second allocation). */
export class EngineOrder implements BookNode {
  /** Remaining size in lots (RestingOrder.size). */
  size: number;
  /** Total order size in lots (filled + remaining), changed only by amends and STP decrements. */
  total: number;
  filled = 0;
  status: OrderStatus = 'working';
  rejectReason = '';
  prev: BookNode | null = null;
  next: BookNode | null = null;
  level: BookLevel | null = null;
  /** The limit price as a decimal string, formatted once. */
  priceText: string | undefined = undefined;
  /** `total` as a decimal string, kept with it (placed, amended and cancelled events reuse it). */
  totalText = '';
  constructor(
    /** Engine-local integer key (keys the untriggered-stop index). */
    readonly id: number,
    /** The exchange order id carried by events. */
    readonly orderId: string,
    readonly accountId: string,
    readonly side: OrderSide,
    readonly type: OrderKind,
    readonly tif: TimeInForce,
    public price: number,
    readonly stopPrice: number,
    size: number,
    readonly postOnly: boolean,
    readonly stp: StpMode,
    readonly expireAt: number,
    public ts: number,
    readonly owner: unknown,
    readonly label: unknown,
  ) {
    this.size = size;
    this.total = size;
  }

  get isLive(): boolean {
    return this.status === 'resting' || this.status === 'pending';
  }
}

const NO_PRICE = 0;
/**
 * Sizes are mostly one-off (drawn per order), so their format cache is small: it still serves the
 * reuse that comes soon (a trade of a whole order, the same level total in consecutive bbo events)
 * without keeping thousands of dead texts alive for the scavenger to copy and promote.
 */
const SIZE_CACHE_SLOTS = 1 << 10;

function isTriggered(type: OrderKind): boolean {
  return type === 'stop' || type === 'stop_limit' || type === 'take_profit' || type === 'take_profit_limit';
}

function isMarketLike(type: OrderKind): boolean {
  return type === 'market' || type === 'stop' || type === 'take_profit';
}

/** Buy stops and sell take-profits fire when the price rises to them; the others when it falls. */
function triggersUp(side: OrderSide, type: OrderKind): boolean {
  const stop = type === 'stop' || type === 'stop_limit';
  return side === 'buy' ? stop : !stop;
}

/** Counter-based ids for a standalone engine (tests, tools). */
export function counterSink(events: ExchangeEvent[] = []): EngineSink & { events: ExchangeEvent[] } {
  let seq = 0;
  let orders = 0;
  let trades = 0;
  return {
    events,
    nextSeq: () => ++seq,
    nextOrderId: () => String(++orders),
    nextTradeId: () => String(++trades),
    event: (e) => void events.push(e),
  };
}

export class MatchingEngine {
  readonly book = new EngineBook();
  readonly prices: DecimalGrid;
  readonly sizes: DecimalGrid;
  readonly symbol: string;
  readonly kind: MarketKindName;
  /** Last trade price in ticks (0 before the first trade). */
  lastPrice = 0;
  lastTradeTs = 0;
  trades = 0;
  volumeLots = 0;
  private readonly minLots: number;
  private readonly maxLots: number;
  private readonly band: number;
  private readonly postOnlyMode: 'reject' | 'cancel';
  private readonly defaultStp: StpMode;
  private readonly emitBbo: boolean;
  /** Event ids: the prefix and the sequence number. */
  private readonly idText: CounterText;
  private readonly source: string | undefined;
  /** Untriggered stops, keyed by id; fire queues sorted by stop price (then arrival). */
  private readonly pending = new Map<number, EngineOrder>();
  private readonly byOrderId: Map<string, EngineOrder> | null;
  private nextKey = 0;
  private readonly stopsUp: EngineOrder[] = [];
  private readonly stopsDown: EngineOrder[] = [];
  private readonly gtd: EngineOrder[] = [];
  private bboBidP = -1;
  private bboBidS = -1;
  private bboAskP = -1;
  private bboAskS = -1;
  /** Text of the last published bbo fields: a quote change usually moves one side only. */
  private bboBidPText = '0';
  private bboBidSText = '0';
  private bboAskPText = '0';
  private bboAskSText = '0';
  private updateId = 0;

  constructor(
    rules: MarketRules,
    private readonly sink: EngineSink,
  ) {
    this.symbol = rules.symbol;
    this.kind = rules.kind ?? 'spot';
    this.prices = new DecimalGrid(rules.tickSize);
    this.sizes = new DecimalGrid(rules.lotSize, SIZE_CACHE_SLOTS);
    this.minLots = rules.minLots ?? 1;
    this.maxLots = rules.maxLots ?? Number.MAX_SAFE_INTEGER;
    this.band = rules.priceBand ?? 0;
    this.postOnlyMode = rules.postOnly ?? 'reject';
    this.defaultStp = rules.defaultStp ?? 'none';
    this.emitBbo = rules.bbo ?? true;
    this.idText = new CounterText(rules.idPrefix ?? '');
    this.source = rules.source;
    this.byOrderId = rules.indexOrderIds === false ? null : new Map();
  }

  // ------------------------------------------------------------------ queries

  /** Best bid in ticks (0 if none). */
  bestBid(): number {
    return this.book.bids.bestPrice();
  }

  bestAsk(): number {
    return this.book.asks.bestPrice();
  }

  bestBidSize(): number {
    const l = this.book.bids.best();
    return l === undefined ? 0 : l.total;
  }

  bestAskSize(): number {
    const l = this.book.asks.best();
    return l === undefined ? 0 : l.total;
  }

  /** Mid in ticks (may be fractional), falling back to the one side or the last trade. */
  mid(): number {
    const b = this.bestBid();
    const a = this.bestAsk();
    if (b > 0 && a > 0) return (a + b) / 2;
    return b || a || this.lastPrice;
  }

  /** A live order by its order id (requires `indexOrderIds`). */
  order(orderId: string): EngineOrder | undefined {
    const o = this.byOrderId?.get(orderId);
    return o !== undefined && o.isLive ? o : undefined;
  }

  get pendingStops(): number {
    return this.pending.size;
  }

  /** Lots resting on `side` at prices at least as good as `limit` (e.g. liquidity a taker could reach). */
  liquidity(side: OrderSide, limit: number): number {
    return this.book.side(side).depthTo(limit);
  }

  // ------------------------------------------------------------------ commands

  /** Submits an order given in exact decimal strings; off-grid prices and sizes are rejected. */
  submitDecimal(req: DecimalOrderRequest, ts: number): EngineOrder {
    const price = req.price === undefined ? undefined : this.prices.parse(req.price);
    const stopPrice = req.stopPrice === undefined ? undefined : this.prices.parse(req.stopPrice);
    const size = this.sizes.parse(req.size);
    const r: OrderRequest = { ...req, price, stopPrice, size };
    if (Number.isNaN(size)) return this.reject(r, ts, 'size_not_multiple_of_lot');
    if (price !== undefined && Number.isNaN(price)) return this.reject(r, ts, 'price_not_multiple_of_tick');
    if (stopPrice !== undefined && Number.isNaN(stopPrice)) return this.reject(r, ts, 'stop_price_not_multiple_of_tick');
    return this.submit(r, ts);
  }

  /** Submits an order in ticks and lots. Returns the order; its status says what became of it. */
  submit(req: OrderRequest, ts: number): EngineOrder {
    this.expireDue(ts);
    const type = req.type ?? 'limit';
    const tif = req.tif ?? (type === 'market' || type === 'stop' || type === 'take_profit' ? 'IOC' : 'GTC');
    const reason = this.validate(req, type, tif);
    if (reason !== '') return this.reject(req, ts, reason);
    if (req.orderId !== undefined && this.byOrderId !== null && this.order(req.orderId) !== undefined) return this.reject(req, ts, 'duplicate_order_id');
    const o = new EngineOrder(
      ++this.nextKey,
      req.orderId ?? this.sink.nextOrderId(),
      req.accountId,
      req.side,
      type,
      tif,
      req.price ?? NO_PRICE,
      req.stopPrice ?? NO_PRICE,
      req.size,
      req.postOnly === true,
      req.stp ?? this.defaultStp,
      req.expireAt ?? 0,
      ts,
      req.owner,
      req.label,
    );
    if (isTriggered(type)) {
      const up = triggersUp(o.side, type);
      if (this.lastPrice > 0 && (up ? this.lastPrice >= o.stopPrice : this.lastPrice <= o.stopPrice)) {
        return this.reject(req, ts, 'stop_would_trigger_immediately');
      }
    }
    const crosses = type === 'limit' && this.crosses(o.side, o.price);
    if (o.postOnly && crosses && this.postOnlyMode === 'reject') return this.reject(req, ts, 'post_only_would_take');
    if (this.byOrderId !== null) this.track(o);
    if (o.price > 0) o.priceText = this.prices.format(o.price);
    this.emitPlaced(o, req, ts);
    if (isTriggered(type)) {
      o.status = 'pending';
      this.addStop(o);
    } else if (o.postOnly && crosses) {
      this.finishTaker(o, ts, 'post_only');
    } else {
      this.execute(o, ts);
      this.triggerStops(ts);
    }
    this.publishBbo(ts);
    return o;
  }

  /** Cancels a live order (resting or untriggered stop). Returns false if it was not live. */
  cancel(o: EngineOrder, ts: number, reason: CancelReason = 'user'): boolean {
    this.expireDue(ts);
    if (o.status === 'resting') {
      this.removeResting(o, ts, reason);
      this.publishBbo(ts);
      return true;
    }
    if (o.status === 'pending') {
      this.removeStop(o);
      o.status = 'cancelled';
      this.emitCancelled(o, ts, reason, o.size);
      return true;
    }
    return false;
  }

  cancelById(orderId: string, ts: number, reason: CancelReason = 'user'): boolean {
    const o = this.order(orderId);
    return o !== undefined && this.cancel(o, ts, reason);
  }

  /**
   * Amends a resting order's price and/or total size. A price change or size increase sends it to
   * the back of the queue (and may execute if the new price crosses); a size decrease keeps its
   * place. Returns false (and emits nothing) if the amend is invalid.
   */
  amend(o: EngineOrder, ts: number, newPrice?: number, newTotal?: number): boolean {
    this.expireDue(ts);
    if (o.status !== 'resting') return false;
    const price = newPrice ?? o.price;
    const total = newTotal ?? o.total;
    if (!Number.isSafeInteger(price) || price <= 0 || !Number.isSafeInteger(total)) return false;
    if (total <= o.filled || total - o.filled < this.minLots || total > this.maxLots) return false;
    if (price === o.price && total === o.total) return false;
    if (this.band > 0 && this.outOfBand(price)) return false;
    const crosses = price !== o.price && this.crosses(o.side, price);
    if (crosses && o.postOnly) return false;
    this.emitAmended(o, ts, price, total);
    if (price === o.price && total < o.total) {
      const d = o.total - total;
      o.total = total;
      o.size -= d;
      o.level!.total -= d;
    } else {
      this.book.remove(o);
      if (price !== o.price) o.priceText = this.prices.format(price);
      o.price = price;
      o.total = total;
      o.size = total - o.filled;
      o.ts = ts;
      if (crosses) {
        o.status = 'working';
        this.execute(o, ts);
        this.triggerStops(ts);
      } else {
        this.book.insert(o);
      }
    }
    this.publishBbo(ts);
    return true;
  }

  /** Expires GTD orders due at `ts` (the engine also does this lazily before every command). */
  advance(ts: number): void {
    this.expireDue(ts);
    this.publishBbo(ts);
  }

  /** Emits a depth snapshot of the top `levels` levels per side. */
  depthSnapshot(ts: number, levels: number): void {
    const bids: [string, string][] = [];
    const asks: [string, string][] = [];
    this.collect(this.book.bids, levels, bids);
    this.collect(this.book.asks, levels, asks);
    const seq = this.sink.nextSeq();
    const e: EventOf<'depth'> = {
      type: 'depth', id: this.idText.text(seq), ts, seq, source: this.source, market: this.symbol, marketKind: this.kind,
      snapshot: true, bids, asks, lastUpdateId: this.updateId,
    };
    this.sink.event(e);
  }

  // ------------------------------------------------------------------ internals

  /** Indexes an order by its string id, dropping dead entries now and then so the index stays small. */
  private track(o: EngineOrder): void {
    const idx = this.byOrderId!;
    idx.set(o.orderId, o);
    if (idx.size > 4 * (this.book.orderCount + this.pending.size) + 1024) {
      for (const [k, v] of idx) if (!v.isLive && v !== o) idx.delete(k);
    }
  }

  private collect(side: BookSide, n: number, out: [string, string][]): void {
    const ls = side.levels;
    for (let i = ls.length - 1; i >= 0 && out.length < n; i--) out.push([this.prices.format(ls[i].price), this.sizes.format(ls[i].total)]);
  }

  private validate(req: OrderRequest, type: OrderKind, tif: TimeInForce): string {
    const size = req.size;
    if (!Number.isSafeInteger(size) || size <= 0) return 'size_not_multiple_of_lot';
    if (size < this.minLots) return 'size_below_minimum';
    if (size > this.maxLots) return 'size_above_maximum';
    const needsPrice = type === 'limit' || type === 'stop_limit' || type === 'take_profit_limit';
    if (needsPrice) {
      if (req.price === undefined) return 'missing_price';
      if (!Number.isSafeInteger(req.price) || req.price <= 0) return 'price_not_multiple_of_tick';
      if (this.band > 0 && this.outOfBand(req.price)) return 'price_out_of_band';
    } else if (req.price !== undefined) return 'price_not_allowed_for_market_order';
    if (isTriggered(type)) {
      if (req.stopPrice === undefined) return 'missing_stop_price';
      if (!Number.isSafeInteger(req.stopPrice) || req.stopPrice <= 0) return 'stop_price_not_multiple_of_tick';
      if (req.postOnly) return 'post_only_not_allowed';
    }
    if (req.postOnly && (type !== 'limit' || (tif !== 'GTC' && tif !== 'GTD'))) return 'post_only_requires_resting_limit';
    if (tif === 'GTD' && !(req.expireAt !== undefined && req.expireAt > 0)) return 'missing_expire_time';
    if (isMarketLike(type) && (tif === 'GTC' || tif === 'GTD')) return 'invalid_time_in_force';
    return '';
  }

  private outOfBand(price: number): boolean {
    const ref = this.lastPrice || this.mid();
    return ref > 0 && Math.abs(price - ref) > this.band * ref;
  }

  private crosses(side: OrderSide, price: number): boolean {
    if (side === 'buy') {
      const a = this.bestAsk();
      return a > 0 && a <= price;
    }
    const b = this.bestBid();
    return b > 0 && b >= price;
  }

  private reject(req: OrderRequest, ts: number, reason: string): EngineOrder {
    const id = req.orderId ?? this.sink.nextOrderId();
    const seq = this.sink.nextSeq();
    const e: EventOf<'order.rejected'> = {
      type: 'order.rejected', id: this.idText.text(seq), ts, seq, source: this.source, market: this.symbol, marketKind: this.kind,
      accountId: req.accountId, orderId: id, reason,
    };
    this.sink.event(e);
    const o = new EngineOrder(++this.nextKey, id, req.accountId, req.side, req.type ?? 'limit', req.tif ?? 'GTC', 0, 0, 0, false, 'none', 0, ts, req.owner, req.label);
    o.status = 'rejected';
    o.rejectReason = reason;
    return o;
  }

  /** Runs an order (new, amended across the spread, or triggered) against the book, then rests or ends it. */
  private execute(o: EngineOrder, ts: number): void {
    const market = isMarketLike(o.type);
    const limit = market ? (o.side === 'buy' ? Infinity : -Infinity) : o.price;
    if (o.tif === 'FOK' && !this.canFill(o, limit)) {
      this.finishTaker(o, ts, 'fok');
      return;
    }
    if (!this.match(o, ts, limit)) return;
    if (o.size === 0) {
      o.status = 'filled';
      return;
    }
    if (market || o.tif === 'IOC' || o.tif === 'FOK') {
      this.finishTaker(o, ts, o.tif === 'FOK' ? 'fok' : 'ioc');
      return;
    }
    o.status = 'resting';
    o.ts = ts;
    this.book.insert(o);
    if (o.tif === 'GTD') this.addGtd(o);
  }

  /** FOK pre-check: can the whole order fill now, given how self-trade prevention would treat own orders? */
  private canFill(o: EngineOrder, limit: number): boolean {
    const ls = (o.side === 'buy' ? this.book.asks : this.book.bids).levels;
    const buy = o.side === 'buy';
    let need = o.size;
    for (let i = ls.length - 1; i >= 0; i--) {
      const p = ls[i].price;
      if (buy ? p > limit : p < limit) return false;
      for (let m = ls[i].head as EngineOrder | null; m !== null; m = m.next as EngineOrder | null) {
        if (m.accountId === o.accountId && o.stp !== 'none') {
          if (o.stp === 'cancel_maker') continue;
          return false; // the taker would be cancelled or decremented before filling completely
        }
        need -= m.size;
        if (need <= 0) return true;
      }
    }
    return false;
  }

  /** Matches a taker; returns false if self-trade prevention ended the taker. */
  private match(t: EngineOrder, ts: number, limit: number): boolean {
    const buy = t.side === 'buy';
    const opp = buy ? this.book.asks : this.book.bids;
    while (t.size > 0) {
      const level = opp.best();
      if (level === undefined) break;
      const price = level.price;
      if (buy ? price > limit : price < limit) break;
      let m = level.head as EngineOrder | null;
      while (m !== null && t.size > 0) {
        const next = m.next as EngineOrder | null;
        if (m.accountId === t.accountId && t.stp !== 'none') {
          if (this.preventSelfTrade(m, t, ts)) return false;
        } else {
          this.fill(m, t, price, m.size < t.size ? m.size : t.size, ts);
        }
        m = next;
      }
    }
    return true;
  }

  private fill(m: EngineOrder, t: EngineOrder, price: number, qty: number, ts: number): void {
    const sink = this.sink;
    const tradeId = sink.nextTradeId();
    const seq = sink.nextSeq();
    const e: EventOf<'trade'> = {
      type: 'trade', id: this.idText.text(seq), ts, seq, source: this.source, market: this.symbol, marketKind: this.kind,
      tradeId, price: m.priceText ?? this.prices.format(price), size: this.sizes.format(qty), aggressor: t.side,
      makerOrderId: m.orderId, takerOrderId: t.orderId, makerAccountId: m.accountId, takerAccountId: t.accountId,
      selfTrade: m.accountId === t.accountId ? true : undefined,
    };
    sink.event(e);
    m.filled += qty;
    t.filled += qty;
    t.size -= qty;
    if (qty >= m.size) {
      m.status = 'filled';
      this.book.remove(m);
      m.size = 0;
    } else {
      m.size -= qty;
      m.level!.total -= qty;
    }
    this.lastPrice = price;
    this.lastTradeTs = ts;
    this.trades++;
    this.volumeLots += qty;
    if (sink.fill !== undefined) sink.fill(m, t, price, qty, tradeId, ts);
  }

  /** Applies the taker's STP mode to a resting order of the same account. Returns true if the taker is done. */
  private preventSelfTrade(m: EngineOrder, t: EngineOrder, ts: number): boolean {
    switch (t.stp) {
      case 'cancel_maker':
        this.removeResting(m, ts, 'stp');
        return false;
      case 'cancel_taker':
        this.finishTaker(t, ts, 'stp');
        return true;
      case 'cancel_both':
        this.removeResting(m, ts, 'stp');
        this.finishTaker(t, ts, 'stp');
        return true;
      case 'decrement': {
        // Decrease-and-cancel: the smaller order is cancelled, the larger decremented by its size.
        if (t.size >= m.size) {
          const q = m.size;
          this.removeResting(m, ts, 'stp');
          if (t.size === q) {
            this.finishTaker(t, ts, 'stp');
            return true;
          }
          this.emitAmended(t, ts, t.price, t.total - q);
          t.total -= q;
          t.size -= q;
          return false;
        }
        const q = t.size;
        this.emitAmended(m, ts, m.price, m.total - q);
        m.total -= q;
        m.size -= q;
        m.level!.total -= q;
        this.finishTaker(t, ts, 'stp');
        return true;
      }
      default:
        return false;
    }
  }

  private finishTaker(t: EngineOrder, ts: number, reason: CancelReason): void {
    t.status = 'cancelled';
    this.emitCancelled(t, ts, reason, t.size);
  }

  private removeResting(o: EngineOrder, ts: number, reason: CancelReason): void {
    this.book.remove(o);
    o.status = 'cancelled';
    this.emitCancelled(o, ts, reason, o.size);
  }

  private addStop(o: EngineOrder): void {
    this.pending.set(o.id, o);
    const up = triggersUp(o.side, o.type);
    const q = up ? this.stopsUp : this.stopsDown;
    // Up-queue ascending, down-queue descending by stop price; arrival order within a price.
    let lo = 0;
    let hi = q.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const p = q[mid].stopPrice;
      if (up ? p <= o.stopPrice : p >= o.stopPrice) lo = mid + 1;
      else hi = mid;
    }
    q.splice(lo, 0, o);
  }

  private removeStop(o: EngineOrder): void {
    this.pending.delete(o.id);
    const q = triggersUp(o.side, o.type) ? this.stopsUp : this.stopsDown;
    const i = q.indexOf(o);
    if (i >= 0) q.splice(i, 1);
  }

  /** Fires stops whose trigger the last price has reached; their trades can fire more (cascades). */
  private triggerStops(ts: number): void {
    while (this.lastPrice > 0) {
      let o: EngineOrder | undefined;
      if (this.stopsUp.length > 0 && this.stopsUp[0].stopPrice <= this.lastPrice) o = this.stopsUp.shift();
      else if (this.stopsDown.length > 0 && this.stopsDown[0].stopPrice >= this.lastPrice) o = this.stopsDown.shift();
      if (o === undefined) return;
      this.pending.delete(o.id);
      o.status = 'working';
      o.ts = ts;
      this.execute(o, ts);
    }
  }

  private addGtd(o: EngineOrder): void {
    const q = this.gtd;
    let lo = 0;
    let hi = q.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (q[mid].expireAt <= o.expireAt) lo = mid + 1;
      else hi = mid;
    }
    q.splice(lo, 0, o);
  }

  private expireDue(ts: number): void {
    const q = this.gtd;
    if (q.length === 0 || q[0].expireAt > ts) return;
    let n = 0;
    while (n < q.length && q[n].expireAt <= ts) {
      const o = q[n++];
      if (o.status !== 'resting') continue;
      this.book.remove(o);
      o.status = 'expired';
      const seq = this.sink.nextSeq();
      const e: EventOf<'order.expired'> = {
        type: 'order.expired', id: this.idText.text(seq), ts, seq, source: this.source, market: this.symbol, marketKind: this.kind,
        accountId: o.accountId, orderId: o.orderId, remainingSize: this.sizes.format(o.size),
      };
      this.sink.event(e);
    }
    q.splice(0, n);
  }

  private emitPlaced(o: EngineOrder, req: OrderRequest, ts: number): void {
    const seq = this.sink.nextSeq();
    const e: EventOf<'order.placed'> = {
      type: 'order.placed', id: this.idText.text(seq), ts, seq, source: this.source, market: this.symbol, marketKind: this.kind,
      accountId: o.accountId, orderId: o.orderId, clientOrderId: req.clientOrderId, side: o.side, orderType: o.type, timeInForce: o.tif,
      postOnly: o.postOnly ? true : undefined, reduceOnly: req.reduceOnly ? true : undefined,
      price: o.priceText,
      stopPrice: o.stopPrice > 0 ? this.prices.format(o.stopPrice) : undefined,
      size: (o.totalText = this.sizes.format(o.total)), leverage: req.leverage, marginMode: req.marginMode, stp: req.stp,
      apiKeyId: req.apiKeyId, ip: req.ip,
    };
    this.sink.event(e);
  }

  private emitCancelled(o: EngineOrder, ts: number, reason: CancelReason, remaining: number): void {
    const seq = this.sink.nextSeq();
    const e: EventOf<'order.cancelled'> = {
      type: 'order.cancelled', id: this.idText.text(seq), ts, seq, source: this.source, market: this.symbol, marketKind: this.kind,
      accountId: o.accountId, orderId: o.orderId, reason, remainingSize: remaining === o.total ? o.totalText : this.sizes.format(remaining),
    };
    this.sink.event(e);
  }

  private emitAmended(o: EngineOrder, ts: number, price: number, total: number): void {
    const seq = this.sink.nextSeq();
    const priceChanged = price !== o.price;
    const size = this.sizes.format(total);
    const e: EventOf<'order.amended'> = {
      type: 'order.amended', id: this.idText.text(seq), ts, seq, source: this.source, market: this.symbol, marketKind: this.kind,
      accountId: o.accountId, orderId: o.orderId,
      price: priceChanged ? this.prices.format(price) : undefined,
      size,
      prevPrice: priceChanged ? o.priceText : undefined,
      prevSize: o.totalText,
    };
    // Every change of `total` is announced here first.
    o.totalText = size;
    this.sink.event(e);
  }

  private publishBbo(ts: number): void {
    if (!this.emitBbo) return;
    const b = this.book.bids.best();
    const a = this.book.asks.best();
    const bp = b === undefined ? 0 : b.price;
    const bs = b === undefined ? 0 : b.total;
    const ap = a === undefined ? 0 : a.price;
    const as = a === undefined ? 0 : a.total;
    if (bp === this.bboBidP && bs === this.bboBidS && ap === this.bboAskP && as === this.bboAskS) return;
    if (bp !== this.bboBidP) this.bboBidPText = bp > 0 ? this.prices.format(bp) : '0';
    if (bs !== this.bboBidS) this.bboBidSText = this.sizes.format(bs);
    if (ap !== this.bboAskP) this.bboAskPText = ap > 0 ? this.prices.format(ap) : '0';
    if (as !== this.bboAskS) this.bboAskSText = this.sizes.format(as);
    this.bboBidP = bp;
    this.bboBidS = bs;
    this.bboAskP = ap;
    this.bboAskS = as;
    const seq = this.sink.nextSeq();
    const e: EventOf<'bbo'> = {
      type: 'bbo', id: this.idText.text(seq), ts, seq, source: this.source, market: this.symbol, marketKind: this.kind,
      bidPrice: this.bboBidPText, bidSize: this.bboBidSText,
      askPrice: this.bboAskPText, askSize: this.bboAskSText,
      updateId: ++this.updateId,
    };
    this.sink.event(e);
  }
}
