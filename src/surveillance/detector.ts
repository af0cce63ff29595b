import { z } from 'zod';
import type { EventType, ExchangeEvent } from '../events/schema.js';
import type { Typology } from '../events/labels.js';
import type { MarketBooks, TradeParties } from '../stream/books.js';
import type { OrderFlow } from '../stream/order-flow.js';
import type { AlertEmitter, Episode } from './emitter.js';

export { AlertEmitter, Episode } from './emitter.js';

/**
 * The detector plug-in API.
 *
 * A detector module exports a `DetectorDefinition`: its name, typology, a zod schema of its
 * parameters (every field with a default and a `.describe()`), a description, a citation of the
 * method, and `create(params)` returning a `Detector`. The engine instantiates enabled detectors
 * from config, dispatches to each only the event types it declares, and gives it a
 * `DetectorContext` with the shared state (books, order flow, linked accounts) and the
 * `AlertEmitter`.
 *
 * Rules a detector follows (they make alerts identical on every replay and worker count):
 * - Event time only. Read windowed state after advancing it to `e.ts`. Never the wall clock, never
 *   Math.random.
 * - State keyed by market, or by account × market. `--workers N` gives each partition a subset of
 *   the markets (spot and perpetual of one underlying stay together), so per-account state across
 *   markets is partition-local: aggregate across markets only within `ctx.partitionKey(market)`. Account-level events (no market: logins, transfers, loans…) are
 *   broadcast to every partition; act on one only where `ctx.ownsAccount(accountId)`.
 * - `onEvent` runs BEFORE the shared state applies the event: the books show the market just
 *   before it (the order being cancelled is still resting; the mid excludes the new order).
 *   `afterEvent` runs after. Keep both allocation-free unless something is found.
 * - `onWatermark(t)` means "event time up to t is complete" (fire due timers <= t). It may be
 *   called with any increasing subsequence of watermark values, so do nothing that depends on how
 *   often it is called.
 * - Never throw on data (the engine catches and counts errors, but a throw loses the event for
 *   that detector).
 * - Report through `ctx.alerts.episode(this, key, e)`: one episode per key that grows, not an
 *   alert per event (see AlertEmitter).
 */
export interface EpisodePolicy {
  /** The episode closes after this much event time without a new observation. */
  gapMs: number;
  /** The alert stays silent until its score reaches this. */
  minScore: number;
}

export interface Detector {
  readonly name: string;
  readonly typology: Typology;
  /** Event types `onEvent`/`afterEvent` receive. */
  readonly eventTypes: readonly EventType[];
  /**
   * The event types `onEvent` is called for, when fewer than `eventTypes` (e.g. `[]` when only
   * `afterEvent` does work): the engine makes no call for the others. Default: `eventTypes`.
   */
  readonly onEventTypes?: readonly EventType[];
  /** The event types `afterEvent` is called for, when fewer than `eventTypes`. Default: `eventTypes`. */
  readonly afterEventTypes?: readonly EventType[];
  readonly policy: EpisodePolicy;
  onEvent(e: ExchangeEvent, ctx: DetectorContext): void;
  afterEvent?(e: ExchangeEvent, ctx: DetectorContext): void;
  onWatermark?(t: number, ctx: DetectorContext): void;
  /** One sentence an analyst understands, built from the episode's features. Called per transition. */
  explain(ep: Episode): string;
}

/** What a detector module exports. */
export interface DetectorDefinition<P extends z.ZodObject = z.ZodObject> {
  /** Config key and `detector` field of its alerts, e.g. "fat_finger". */
  readonly name: string;
  readonly typology: Typology;
  readonly variant?: string;
  readonly description: string;
  /** The method it implements (paper, regulation or rulebook). */
  readonly citation: string;
  /** Parameters with defaults and docs; `{}` must parse. */
  readonly params: P;
  readonly enabledByDefault: boolean;
  create(params: z.output<P>): Detector;
}

/** Identity helper that keeps the parameter type for `create`. */
export function defineDetector<P extends z.ZodObject>(d: DetectorDefinition<P>): DetectorDefinition<P> {
  return d;
}

/** Parameters every detector has; spread into a detector's params schema. */
export const baseParams = {
  minScore: z.number().min(0).max(100).default(40).describe('alerts stay silent until their score reaches this (0–100)'),
  episodeGapMs: z.number().int().positive().default(60_000).describe('an episode closes after this much event time (ms) without a new observation'),
};

export function policyFrom(p: { minScore: number; episodeGapMs: number }): EpisodePolicy {
  return { gapMs: p.episodeGapMs, minScore: p.minScore };
}

/**
 * Accounts known to be related (shared devices or IPs, transfers, declared groups). The default is
 * the graph module's GraphLinks (src/graph/links.ts) over the account-level events plus config groups. It sees every event of its partition, including
 * the broadcast account-level ones, so every partition holds the same links.
 */
export interface AccountLinks {
  /** Accounts linked to `accountId` (not including itself). */
  linked(accountId: string): readonly string[];
  areLinked(a: string, b: string): boolean;
  onEvent?(e: ExchangeEvent): void;
  /** What ties two accounts (summed weight, identifiers), for explanations; null if nothing. */
  evidence?(a: string, b: string): { weight: number; via: readonly { node: string; weight: number }[] } | null;
  /** When the account was opened (account.opened seen), in event time. */
  openedAt?(accountId: string): number | undefined;
}

const NONE: readonly string[] = Object.freeze([]);

/** Links from config: each group is a set of accounts linked to each other. */
export class StaticLinks implements AccountLinks {
  private readonly groupOf = new Map<string, readonly string[]>();
  constructor(groups: readonly (readonly string[])[] = []) {
    for (const g of groups) {
      const members = [...new Set(g)].sort();
      for (const a of members) {
        const prev = this.groupOf.get(a) ?? [];
        this.groupOf.set(a, [...new Set([...prev, ...members])].sort());
      }
    }
  }
  linked(accountId: string): readonly string[] {
    const g = this.groupOf.get(accountId);
    return g === undefined ? NONE : g.filter((x) => x !== accountId);
  }
  areLinked(a: string, b: string): boolean {
    return a !== b && (this.groupOf.get(a)?.includes(b) ?? false);
  }
}

/** What a detector sees. One context per partition; fields describe the event being processed. */
export interface DetectorContext {
  readonly books: MarketBooks;
  readonly flow: OrderFlow;
  readonly alerts: AlertEmitter;
  readonly links: AccountLinks;
  /** For a trade: maker/taker accounts and taker side, resolved from the event and the books. */
  readonly trade: TradeParties;
  /** Current watermark (event time). */
  readonly watermark: number;
  /** True if the current event arrived after the watermark (processed out of order). */
  readonly late: boolean;
  /**
   * Event time of the event being processed (`e.ts`). Prefer it in hot paths: events come in many
   * shapes, so V8 reads `e.ts` through a megamorphic load that allocates a fresh number box on every
   * read, while this field is read in place.
   */
  readonly ts: number;
  /** The event's `price` as a float (`+e.price`, parsed once per event for every detector), NaN when it has none. */
  readonly px: number;
  /** The event's `size` as a float (`+e.size`), NaN when it has none. */
  readonly sz: number;
  /**
   * Increments once per processed event: detectors that share state (e.g. spoofing and layering)
   * use it to apply each event to that state once. Optional for contexts built outside the engine.
   */
  readonly seq?: number;
  readonly partition: { readonly index: number; readonly count: number };
  /** Whether this partition acts on account-level (market-less) matters of this account. */
  ownsAccount(accountId: string): boolean;
  /**
   * The market's partition key (its underlying, or its configured group). Markets with one key are
   * always in the same partition, so per-account state that spans markets must be keyed by it (never
   * by "all markets"), or results would depend on the worker count.
   */
  partitionKey(market: string): string;
}
