import type { LabelEpisode, Typology } from '../../events/labels.js';
import type { EngineOrder } from '../../market/matching-engine.js';
import type { Account } from '../population.js';

/**
 * Ground truth of one injected episode, collected while it runs: the orders the injector placed
 * for it (only those the engine accepted) and the trades those orders took part in. Times span
 * the first and last event that is part of the abuse.
 */
export class Episode {
  readonly accounts = new Set<string>();
  readonly markets = new Set<string>();
  readonly orderIds: string[] = [];
  readonly tradeIds: string[] = [];
  start = Infinity;
  end = -Infinity;
  /** When the abuse first shows in the market (set by scenarios with a quiet preparation phase). */
  onset: number | undefined = undefined;

  constructor(
    /** Assigned when the run ends, in start-time order. */
    public id: string,
    readonly typology: Typology,
    readonly variant: string | undefined,
    readonly params: Record<string, unknown>,
    /** Count only trades whose both sides belong to this episode (wash trades, sybil churn). */
    readonly internalTradesOnly = false,
  ) {}

  addAccount(a: Account): void {
    this.accounts.add(a.id);
  }

  touch(ts: number): void {
    if (ts < this.start) this.start = ts;
    if (ts > this.end) this.end = ts;
  }

  /** Records an order placed for the episode (rejected orders never reached the book and are not labelled). */
  addOrder(o: EngineOrder, market: string, ts: number): boolean {
    if (o.status === 'rejected') return false;
    this.orderIds.push(o.orderId);
    this.markets.add(market);
    this.accounts.add(o.accountId);
    this.touch(ts);
    return true;
  }

  onTrade(tradeId: string, ts: number, maker: EngineOrder, taker: EngineOrder): void {
    if (this.internalTradesOnly && (maker.label !== this || taker.label !== this)) return;
    this.tradeIds.push(tradeId);
    this.touch(ts);
  }

  get empty(): boolean {
    return this.orderIds.length === 0 && this.start === Infinity;
  }

  toLabel(): LabelEpisode {
    return {
      id: this.id,
      typology: this.typology,
      variant: this.variant,
      accounts: [...this.accounts],
      markets: [...this.markets],
      startTime: this.start,
      endTime: this.end,
      ...(this.onset !== undefined && this.onset > this.start ? { onsetTime: this.onset } : {}),
      orderIds: this.orderIds,
      tradeIds: this.tradeIds,
      params: this.params,
    };
  }
}
