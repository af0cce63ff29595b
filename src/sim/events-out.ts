import { EVENT_TYPES, type ExchangeEvent } from '../events/schema.js';
import type { EngineOrder, EngineSink } from '../market/matching-engine.js';
import { CounterText } from '../market/tick-format.js';
import type { Rng } from './rng.js';

/** Event ids are this prefix plus the exchange-wide sequence number. */
export const EVENT_ID_PREFIX = 'e';

/**
 * The single exit of every simulated event: assigns the global sequence number, counts by type
 * and hands the event to the consumer (a file writer, the surveillance engine, a benchmark).
 */
export class EventOut {
  seq = 0;
  /** Events emitted per type: one counter object per type, so counting is one lookup and a field increment. */
  private readonly byType = new Map<string, { n: number }>(EVENT_TYPES.map((t) => [t, { n: 0 }]));
  private orders: number;
  private trades: number;
  lastTs = 0;
  private readonly idText = new CounterText(EVENT_ID_PREFIX);
  private readonly orderText = new CounterText();
  private readonly tradeText = new CounterText();

  constructor(
    rng: Rng,
    private readonly consumer: (e: ExchangeEvent) => void,
  ) {
    // Exchange-wide order and trade sequences start at seed-derived offsets, like a venue mid-life
    // (kept below 2^30 so the counters stay small integers and format fast).
    this.orders = rng.int(200_000_000, 700_000_000);
    this.trades = rng.int(100_000_000, 600_000_000);
  }

  nextSeq(): number {
    return ++this.seq;
  }

  nextOrderId(): string {
    return this.orderText.text(++this.orders);
  }

  nextTradeId(): string {
    return this.tradeText.text(++this.trades);
  }

  /** The event id of a sequence number. */
  eventId(seq: number): string {
    return this.idText.text(seq);
  }

  /** Events emitted so far by type (types with none left out). */
  get counts(): Map<string, number> {
    return new Map([...this.byType].filter(([, c]) => c.n > 0).map(([t, c]) => [t, c.n]));
  }

  emit(e: ExchangeEvent): void {
    const ts = e.ts;
    if (ts < this.lastTs) throw new Error(`simulator bug: event time went backwards (${e.type} at ${ts} after ${this.lastTs})`);
    const c = this.byType.get(e.type);
    if (c === undefined) throw new Error(`simulator bug: unknown event type ${e.type}`);
    c.n++;
    this.lastTs = ts;
    this.consumer(e);
  }
}

/** Receives every fill of one market (positions, balances, price impact, labels). */
export interface FillListener {
  onFill(market: number, maker: EngineOrder, taker: EngineOrder, price: number, lots: number, tradeId: string, ts: number): void;
}

/** The engine-facing sink of one market: shares the global ids and output, tags fills with the market. */
export class MarketSink implements EngineSink {
  constructor(
    private readonly out: EventOut,
    private readonly market: number,
    private readonly listener: FillListener,
  ) {}

  nextSeq(): number {
    return this.out.nextSeq();
  }

  nextOrderId(): string {
    return this.out.nextOrderId();
  }

  nextTradeId(): string {
    return this.out.nextTradeId();
  }

  event(e: ExchangeEvent): void {
    this.out.emit(e);
  }

  fill(maker: EngineOrder, taker: EngineOrder, price: number, lots: number, tradeId: string, ts: number): void {
    this.listener.onFill(this.market, maker, taker, price, lots, tradeId, ts);
  }
}
