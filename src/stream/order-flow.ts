import type { ExchangeEvent, EventOf } from '../events/schema.js';
import { Ewma } from './ewma.js';
import { KeyedState } from './keyed.js';
import { RollingWindow } from './rolling.js';
import { decimalToFloat, parseDecimal, parsed, POW10, formatScaled } from './scaled.js';
import { MAKER_FILLED, TAKER_FILLED, type TradeParties } from './books.js';

/**
 * Order-flow state per market, per account and per account × market, from order and trade events.
 *
 * Counters: messages, orders placed / amended / cancelled / rejected / expired, fills (executions),
 * orders filled completely (resting orders the L3 book saw complete), traded volume (base) and
 * notional (quote). Derived: order-to-trade ratio (order messages per execution) and cancel ratio
 * (cancels per placed order).
 *
 * Positions per account × market: the net position is exact (integer lots at the size's decimal
 * scale, rescaled up when a finer size appears); average cost, realised and unrealised PnL are
 * floats (statistics), average-cost method: adding to a position moves the average price,
 * reducing it realises (price - average) × quantity, flipping opens the remainder at the trade
 * price. Trades whose counterparties or taker side are unknown (public feeds) update only market
 * statistics.
 *
 * Accounts are evicted after `accountIdleMs` of event-time inactivity (bounded memory). Per-market
 * state lives as long as the market. Everything is O(1) per event.
 *
 * Partitioning note: with `--workers N` each partition sees only its own markets, so `account(id)`
 * aggregates the account's activity in this partition's markets. Detectors whose alerts must not
 * depend on the worker count should use `market()` and `accountMarket()`.
 */
export interface OrderFlowOptions {
  /** Evict accounts idle this long (default 24 h). */
  accountIdleMs?: number;
  /** Hard cap on tracked accounts (default 1 000 000). */
  maxAccounts?: number;
  /** Half-life of the per-market trade price EW mean/variance (default 300 000 ms). */
  priceHalfLifeMs?: number;
  /** Window of the per-market rolling notional/volume (default 60 000 ms). */
  volumeWindowMs?: number;
}

export class FlowCounters {
  messages = 0;
  placed = 0;
  amended = 0;
  cancelled = 0;
  rejected = 0;
  expired = 0;
  fills = 0;
  ordersFilled = 0;
  volume = 0;
  notional = 0;
  firstTs = NaN;
  lastTs = NaN;

  /** Order messages (placed + amended + cancelled) per execution; order messages when none executed. */
  orderToTradeRatio(): number {
    const orders = this.placed + this.amended + this.cancelled;
    return orders / Math.max(1, this.fills);
  }

  /** Cancelled orders per placed order (0 when nothing was placed). */
  cancelRatio(): number {
    return this.placed === 0 ? 0 : this.cancelled / this.placed;
  }

  protected stamp(t: number): void {
    if (this.firstTs !== this.firstTs) this.firstTs = t;
    if (!(t <= this.lastTs)) this.lastTs = t;
  }

  /** Counts one order event of type `type`. */
  countOrder(type: ExchangeEvent['type'], t: number): void {
    this.messages++;
    this.stamp(t);
    switch (type) {
      case 'order.placed':
        this.placed++;
        break;
      case 'order.amended':
        this.amended++;
        break;
      case 'order.cancelled':
        this.cancelled++;
        break;
      case 'order.rejected':
        this.rejected++;
        break;
      case 'order.expired':
        this.expired++;
        break;
    }
  }

  countFill(t: number, size: number, notional: number, completed: boolean): void {
    this.fills++;
    this.volume += size;
    this.notional += notional;
    if (completed) this.ordersFilled++;
    this.stamp(t);
  }
}

/** A net position with average-cost PnL. */
export class Position {
  /** Signed net position in lots (exact) at `scale` decimals. */
  lots = 0;
  scale = 0;
  /** Average entry price of the open position (float), NaN when flat. */
  avgPrice = NaN;
  /** Realised PnL in quote currency (float). */
  realised = 0;
  boughtLots = 0;
  soldLots = 0;

  /** Net position as a float. */
  get size(): number {
    return this.lots / POW10[this.scale];
  }

  /** Exact net position as a decimal string. */
  decimal(): string {
    return formatScaled(this.lots, this.scale);
  }

  /** Unrealised PnL at `mark` (0 when flat, NaN without a mark). */
  unrealised(mark: number): number {
    if (this.lots === 0) return 0;
    return (mark - this.avgPrice) * this.size;
  }

  /** Applies a fill; `size` is the exact decimal string, `price` a float. Returns false if unusable. */
  apply(side: 'buy' | 'sell', size: string, price: number): boolean {
    if (!parseDecimal(size) || parsed.negative || !(price > 0)) return false;
    if (parsed.scale > this.scale) {
      const k = POW10[parsed.scale - this.scale];
      if (k === undefined || !Number.isSafeInteger(this.boughtLots * k) || !Number.isSafeInteger(this.soldLots * k)) return false;
      this.lots *= k;
      this.boughtLots *= k;
      this.soldLots *= k;
      this.scale = parsed.scale;
    }
    const q = parsed.mantissa * POW10[this.scale - parsed.scale];
    if (!Number.isSafeInteger(q)) return false;
    const signed = side === 'buy' ? q : -q;
    if (side === 'buy') this.boughtLots += q;
    else this.soldLots += q;
    const before = this.lots;
    const after = before + signed;
    const unit = POW10[this.scale];
    if (before === 0 || Math.sign(before) === Math.sign(signed)) {
      // open or add: volume-weighted average price
      const b = Math.abs(before);
      this.avgPrice = before === 0 ? price : (this.avgPrice * b + price * q) / (b + q);
    } else {
      // reduce, close or flip
      const closed = Math.min(Math.abs(before), q);
      this.realised += (price - this.avgPrice) * (closed / unit) * Math.sign(before);
      if (after === 0) this.avgPrice = NaN;
      else if (Math.sign(after) !== Math.sign(before)) this.avgPrice = price;
    }
    this.lots = after;
    return true;
  }
}

export class AccountMarketFlow extends FlowCounters {
  readonly position = new Position();
  constructor(readonly accountId: string, readonly market: string) {
    super();
  }
}

export class AccountFlow extends FlowCounters {
  readonly markets = new Map<string, AccountMarketFlow>();
  constructor(readonly accountId: string) {
    super();
  }

  // The last market looked up (an account's consecutive orders are mostly in one market).
  private lastMarket = '';
  private lastFlow: AccountMarketFlow | undefined = undefined;

  market(m: string): AccountMarketFlow {
    if (m === this.lastMarket && this.lastFlow !== undefined) return this.lastFlow;
    let f = this.markets.get(m);
    if (f === undefined) {
      f = new AccountMarketFlow(this.accountId, m);
      this.markets.set(m, f);
    }
    this.lastMarket = m;
    this.lastFlow = f;
    return f;
  }
}

export class MarketFlow extends FlowCounters {
  /** Last trade price (float), NaN before the first trade. */
  lastPrice = NaN;
  lastTradeTs = NaN;
  /** EW mean and variance of trade prices (rolling volatility). */
  readonly price: Ewma;
  /** Rolling traded notional over `volumeWindowMs` (count = trades, sum = notional); call advance(t) before reading. */
  readonly notionalWindow: RollingWindow;
  constructor(readonly market: string, priceHalfLifeMs: number, volumeWindowMs: number) {
    super();
    this.price = new Ewma(priceHalfLifeMs);
    this.notionalWindow = new RollingWindow(volumeWindowMs, { minMax: false });
  }

  /** Relative price volatility: EW std / EW mean of trade prices (NaN until known). */
  relativeVolatility(): number {
    const m = this.price.mean;
    return m > 0 ? this.price.std / m : NaN;
  }
}

function newAccount(id: string): AccountFlow {
  return new AccountFlow(id);
}

export class OrderFlow {
  private readonly marketMap = new Map<string, MarketFlow>();
  readonly accounts: KeyedState<string, AccountFlow>;
  private readonly priceHalfLifeMs: number;
  private readonly volumeWindowMs: number;

  constructor(opts: OrderFlowOptions = {}) {
    this.accounts = new KeyedState<string, AccountFlow>(newAccount, { idleMs: opts.accountIdleMs ?? 86_400_000, maxKeys: opts.maxAccounts ?? 1_000_000 });
    this.priceHalfLifeMs = opts.priceHalfLifeMs ?? 300_000;
    this.volumeWindowMs = opts.volumeWindowMs ?? 60_000;
  }

  // Consecutive events are mostly of one market: remember the last lookup (markets are never removed).
  private lastMarket = '';
  private lastMarketFlow: MarketFlow | undefined = undefined;

  market(m: string): MarketFlow {
    if (m === this.lastMarket && this.lastMarketFlow !== undefined) return this.lastMarketFlow;
    let f = this.marketMap.get(m);
    if (f === undefined) {
      f = new MarketFlow(m, this.priceHalfLifeMs, this.volumeWindowMs);
      this.marketMap.set(m, f);
    }
    this.lastMarket = m;
    this.lastMarketFlow = f;
    return f;
  }

  peekMarket(m: string): MarketFlow | undefined {
    return this.marketMap.get(m);
  }

  /**
   * Event time of the event being processed (set by the engine before detectors run). Lookups hide
   * accounts idle for longer than `accountIdleMs` at this time, so results never depend on when
   * memory sweeps ran.
   */
  now = -Infinity;

  /** The account's flow in this partition's markets, or undefined if unknown (does not create). */
  account(id: string): AccountFlow | undefined {
    return this.accounts.peek(id, this.now);
  }

  /** The account's flow in one market, or undefined if unknown (does not create). */
  accountMarket(id: string, market: string): AccountMarketFlow | undefined {
    return this.accounts.peek(id, this.now)?.markets.get(market);
  }

  /**
   * Applies one event. For trades pass the resolved counterparties and the books' fill flags
   * (MAKER_FILLED / TAKER_FILLED). `ts` is `e.ts`, and `px`/`sz` the trade's price and size as
   * floats, passed by callers that already have them (NaN: parse them here).
   */
  apply(e: ExchangeEvent, parties: TradeParties | undefined, fillFlags: number, ts: number = e.ts, px = NaN, sz = NaN): void {
    if (ts > this.now) this.now = ts;
    switch (e.type) {
      case 'order.placed':
      case 'order.amended':
      case 'order.cancelled':
      case 'order.rejected':
      case 'order.expired': {
        this.market(e.market).countOrder(e.type, ts);
        const a = this.accounts.get(e.accountId, ts);
        a.countOrder(e.type, ts);
        a.market(e.market).countOrder(e.type, ts);
        return;
      }
      case 'trade':
        this.onTrade(e, parties, fillFlags, ts, px === px ? px : decimalToFloat(e.price), sz === sz ? sz : decimalToFloat(e.size));
        return;
      default:
        return;
    }
  }

  private onTrade(e: EventOf<'trade'>, parties: TradeParties | undefined, flags: number, ts: number, px: number, sz: number): void {
    const m = this.market(e.market);
    const notional = px * sz;
    m.countFill(ts, sz, notional, false);
    m.lastPrice = px;
    m.lastTradeTs = ts;
    m.price.add(ts, px);
    m.notionalWindow.add(ts, notional);
    if (parties === undefined) return;
    const takerSide = parties.takerSide;
    if (parties.maker !== undefined) {
      const a = this.accounts.get(parties.maker, ts);
      const done = (flags & MAKER_FILLED) !== 0;
      a.countFill(ts, sz, notional, done);
      const am = a.market(e.market);
      am.countFill(ts, sz, notional, done);
      if (takerSide !== undefined) am.position.apply(takerSide === 'buy' ? 'sell' : 'buy', e.size, px);
    }
    if (parties.taker !== undefined) {
      const a = this.accounts.get(parties.taker, ts);
      const done = (flags & TAKER_FILLED) !== 0;
      a.countFill(ts, sz, notional, done);
      const am = a.market(e.market);
      am.countFill(ts, sz, notional, done);
      if (takerSide !== undefined) am.position.apply(takerSide, e.size, px);
    }
  }

  /** Evicts idle accounts (call on watermark ticks). */
  sweep(now: number): void {
    this.accounts.sweep(now);
  }
}
