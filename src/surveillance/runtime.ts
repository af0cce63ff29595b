import type { ExchangeEvent } from '../events/schema.js';
import { MarketBooks, TradeParties } from '../stream/books.js';
import { OrderFlow } from '../stream/order-flow.js';
import { decimalToFloat } from '../stream/scaled.js';
import type { Alert } from './alert.js';
import { resolveDetectors, type ResolvedDetector, type SurveillanceConfig } from './config.js';
import type { AccountLinks, Detector, DetectorContext, DetectorDefinition } from './detector.js';
import { GraphLinks } from '../graph/links.js';
import { AlertEmitter, type EmitterStats } from './emitter.js';
import { AlertFilter } from './filter.js';
import { Partitioner } from './partitioner.js';

export interface RuntimeStats {
  events: number;
  lateEvents: number;
  detectorErrors: Record<string, number>;
  firstError?: string;
  alerts: EmitterStats;
  openEpisodes: number;
  restingOrders: number;
  accounts: number;
}

/**
 * One partition of the surveillance engine: shared state (books, order flow, links) plus the
 * enabled detectors plus the alert emitter. Events must arrive released by the watermark (in
 * event-time order, late ones flagged), each preceded by `advance(watermark)`.
 *
 * Per event: detectors' onEvent (state as before the event) -> books -> order flow -> links ->
 * detectors' afterEvent. Dispatch is by event type through precomputed arrays; no allocation.
 */
export class PartitionRuntime implements DetectorContext {
  readonly books: MarketBooks;
  readonly flow: OrderFlow;
  readonly alerts: AlertEmitter;
  readonly links: AccountLinks;
  readonly trade = new TradeParties();
  readonly partition: { readonly index: number; readonly count: number };
  readonly detectors: ResolvedDetector[];
  watermark = -Infinity;
  late = false;
  /** Events processed so far, the current one included (identifies the event being processed). */
  seq = 0;
  /** Event time of the event being processed. */
  ts = NaN;
  /**
   * The event's `price` and `size` as floats (NaN when it has none), parsed once per event for every
   * detector. Plain fields, not lazy getters: a getter that is not inlined into a detector boxes the
   * double it returns (measured: 24 bytes of garbage per event), and nearly every priced event has
   * a detector that reads them.
   */
  px = NaN;
  sz = NaN;
  private readonly partitioner: Partitioner;
  private readonly before: Record<string, Detector[]> = Object.create(null);
  private readonly after: Record<string, Detector[]> = Object.create(null);
  private readonly timers: Detector[] = [];
  private readonly tickMs: number;
  private lastTick = -Infinity;
  private readonly stats = { events: 0, lateEvents: 0, detectorErrors: {} as Record<string, number>, firstError: undefined as string | undefined };

  constructor(cfg: SurveillanceConfig, registry: readonly DetectorDefinition[], sink: (a: Alert) => void, partition = { index: 0, count: 1 }, links?: AccountLinks) {
    this.partition = partition;
    this.partitioner = new Partitioner(partition.count, cfg.partition.groups);
    this.tickMs = cfg.watermark.tickMs;
    this.books = new MarketBooks({ scales: cfg.state.scales, maxOrdersPerMarket: cfg.state.maxOrdersPerMarket, takerTtlMs: cfg.state.takerTtlMs, l2: cfg.state.l2Books });
    this.flow = new OrderFlow({ accountIdleMs: cfg.state.accountIdleMs, maxAccounts: cfg.state.maxAccounts, priceHalfLifeMs: cfg.state.priceHalfLifeMs, volumeWindowMs: cfg.state.volumeWindowMs });
    // Linked accounts from the entity graph of account-level events (every partition sees them all) plus config groups.
    this.links = links ?? new GraphLinks({ groups: cfg.links.groups });
    const isHome =
      partition.count > 1
        ? (markets: readonly string[], accounts: readonly string[]) =>
            markets.length > 0 ? this.partitioner.ofMarket(markets[0]) === partition.index : accounts.length > 0 ? this.partitioner.ofAccount(accounts[0]) === partition.index : partition.index === 0
        : undefined;
    this.alerts = new AlertEmitter(sink, {
      updateIntervalMs: cfg.episodes.updateIntervalMs,
      maxEvidenceIds: cfg.episodes.maxEvidenceIds,
      maxDurationMs: cfg.episodes.maxDurationMs,
      filter: new AlertFilter(cfg.allow, cfg.suppress),
      isHome,
    });
    this.detectors = resolveDetectors(cfg, registry);
    for (const { detector: d } of this.detectors) {
      for (const t of d.onEventTypes ?? d.eventTypes) (this.before[t] ??= []).push(d);
      if (d.afterEvent !== undefined) for (const t of d.afterEventTypes ?? d.eventTypes) (this.after[t] ??= []).push(d);
      if (d.onWatermark !== undefined) this.timers.push(d);
    }
  }

  ownsAccount(accountId: string): boolean {
    return this.partitioner.ofAccount(accountId) === this.partition.index;
  }

  private readonly keys = new Map<string, string>();
  partitionKey(market: string): string {
    let k = this.keys.get(market);
    if (k === undefined) {
      k = this.partitioner.keyOf(market);
      if (this.keys.size < 100_000) this.keys.set(market, k);
    }
    return k;
  }

  /** Moves the watermark; on each new tick closes idle episodes, fires detector timers, sweeps memory. */
  advance(wm: number): void {
    if (!(wm > this.watermark)) return;
    this.watermark = wm;
    const tick = Math.floor(wm / this.tickMs) * this.tickMs;
    if (tick <= this.lastTick) return;
    this.lastTick = tick;
    this.alerts.advance(tick);
    for (let i = 0; i < this.timers.length; i++) {
      const d = this.timers[i];
      try {
        d.onWatermark!(tick, this);
      } catch (err) {
        this.error(d, err);
      }
    }
    this.books.sweep(tick);
    this.flow.sweep(tick);
  }

  /** `ts` is `e.ts` (the engine passes the value it already read). */
  process(e: ExchangeEvent, late: boolean, ts: number = e.ts): void {
    this.stats.events++;
    this.seq++;
    if (late) this.stats.lateEvents++;
    this.late = late;
    this.ts = ts;
    const price = (e as { price?: unknown }).price;
    this.px = typeof price === 'string' ? decimalToFloat(price) : NaN;
    const size = (e as { size?: unknown }).size;
    this.sz = typeof size === 'string' ? decimalToFloat(size) : NaN;
    const type = e.type;
    const isTrade = type === 'trade';
    if (isTrade) this.books.resolveTrade(e, this.trade, ts);
    if (ts > this.flow.now) this.flow.now = ts;
    const before = this.before[type];
    if (before !== undefined) {
      for (let i = 0; i < before.length; i++) {
        try {
          before[i].onEvent(e, this);
        } catch (err) {
          this.error(before[i], err);
        }
      }
    }
    const flags = this.books.apply(e, ts);
    this.flow.apply(e, isTrade ? this.trade : undefined, flags, ts, this.px, this.sz);
    this.links.onEvent?.(e);
    const after = this.after[type];
    if (after !== undefined) {
      for (let i = 0; i < after.length; i++) {
        try {
          after[i].afterEvent!(e, this);
        } catch (err) {
          this.error(after[i], err);
        }
      }
    }
  }

  /** End of input at final watermark `wm`: closes every episode. */
  end(wm: number): void {
    this.advance(wm);
    this.alerts.closeAll(Number.isFinite(this.watermark) ? this.watermark : 0);
  }

  getStats(): RuntimeStats {
    return {
      events: this.stats.events,
      lateEvents: this.stats.lateEvents,
      detectorErrors: { ...this.stats.detectorErrors },
      ...(this.stats.firstError !== undefined ? { firstError: this.stats.firstError } : {}),
      alerts: { ...this.alerts.stats, suppressedBy: { ...this.alerts.stats.suppressedBy } },
      openEpisodes: this.alerts.openEpisodes,
      restingOrders: this.books.restingOrders(),
      accounts: this.flow.accounts.size,
    };
  }

  private error(d: Detector, err: unknown): void {
    this.stats.detectorErrors[d.name] = (this.stats.detectorErrors[d.name] ?? 0) + 1;
    this.stats.firstError ??= `${d.name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
  }
}
