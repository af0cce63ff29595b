import type { Typology } from '../events/labels.js';
import type { BookSnapshot } from '../stream/books.js';
import { TimeHeap } from '../stream/heap.js';
import { alertId, severityOf, SEVERITY_RANK, type Alert, type AlertStatus, type FeatureCheck, type FeatureOp, type Severity } from './alert.js';
import type { Detector } from './detector.js';
import type { AlertFilter } from './filter.js';

/**
 * One episode of suspected abuse, as a detector builds it. Detectors get it from
 * `AlertEmitter.episode()`, add what they observed, then `commit` it.
 */
export class Episode {
  readonly detector: Detector;
  readonly key: string;
  readonly typology: Typology;
  variant: string | undefined;
  /** Event id of the first observation: part of the deterministic alert id. */
  readonly startEventId: string;
  readonly startTime: number;
  endTime: number;
  /** Event time of the commit that opened the alert; NaN while silent. */
  detectedAt = NaN;
  /** Alert id, set when the alert opens. */
  id = '';
  score = 0;
  readonly markets: string[] = [];
  readonly accounts: string[] = [];
  readonly orderIds = new Set<string>();
  readonly tradeIds = new Set<string>();
  orderCount = 0;
  tradeCount = 0;
  /** The strongest observation's features (replaced when `offer` accepts a higher or equal score). */
  features: FeatureCheck[] = [];
  book: BookSnapshot | undefined;
  /** Free-form accumulators for the detector (counts, sums) — kept with the episode. */
  readonly data: Record<string, number> = {};
  /** Free-form text for the explanation (e.g. a direction). */
  readonly notes: Record<string, string> = {};
  // lifecycle, managed by the emitter
  emitted = false;
  suppressed = false;
  closed = false;
  lastEmitAt = NaN;
  lastSeverity: Severity = 'low';
  emittedAccounts = 0;
  emittedMarkets = 0;
  pending = false;

  constructor(detector: Detector, key: string, startEventId: string, startTime: number, private readonly maxIds: number) {
    this.detector = detector;
    this.key = key;
    this.typology = detector.typology;
    this.startEventId = startEventId;
    this.startTime = startTime;
    this.endTime = startTime;
  }

  addMarket(m: string): this {
    if (!this.markets.includes(m)) this.markets.push(m);
    return this;
  }

  addAccount(a: string | undefined): this {
    if (a !== undefined && !this.accounts.includes(a)) this.accounts.push(a);
    return this;
  }

  /** Records an order id (distinct while under the evidence cap; the total counts every report beyond it). */
  addOrder(id: string | undefined): this {
    if (id === undefined || this.orderIds.has(id)) return this;
    this.orderCount++;
    if (this.orderIds.size < this.maxIds) this.orderIds.add(id);
    return this;
  }

  addTrade(id: string | undefined): this {
    if (id === undefined || this.tradeIds.has(id)) return this;
    this.tradeCount++;
    if (this.tradeIds.size < this.maxIds) this.tradeIds.add(id);
    return this;
  }

  /**
   * Offers an observation with this score. If it is at least the episode's score, the score rises
   * to it, the features are cleared for the caller to set (the evidence always shows the strongest
   * observation) and true is returned. Cumulative detectors, whose score only grows, always get true.
   */
  offer(score: number): boolean {
    const s = Math.max(0, Math.min(100, score));
    if (!(s >= this.score) && this.features.length > 0) return false;
    this.score = Math.max(this.score, s);
    this.features = [];
    return true;
  }

  /** Adds a feature check (value against threshold) to the current strongest observation. */
  feature(name: string, value: number, threshold: number, op: FeatureOp, unit?: string): this {
    const f: FeatureCheck = { name, value: round(value), threshold: round(threshold), op, passed: test(value, op, threshold) };
    if (unit !== undefined) f.unit = unit;
    this.features.push(f);
    return this;
  }

  /** A feature by name, for `explain`. */
  get(name: string): FeatureCheck | undefined {
    for (const f of this.features) if (f.name === name) return f;
    return undefined;
  }
}

function test(v: number, op: FeatureOp, t: number): boolean {
  switch (op) {
    case '>':
      return v > t;
    case '>=':
      return v >= t;
    case '<':
      return v < t;
    case '<=':
      return v <= t;
    case '==':
      return v === t;
    case '!=':
      return v !== t;
  }
}

/** Rounds to 6 significant digits for readable, stable evidence. */
function round(x: number): number {
  if (!Number.isFinite(x) || x === 0) return Number.isFinite(x) ? x : 0;
  return Number(x.toPrecision(6));
}

export interface EmitterOptions {
  /** An open alert re-emits unchanged-severity growth at most this often (event time). Default 60 000. */
  updateIntervalMs?: number;
  /** Order and trade ids kept as evidence per alert. Default 200. */
  maxEvidenceIds?: number;
  /** An episode longer than this is closed and a new one begins. Default 24 h. */
  maxDurationMs?: number;
  filter?: AlertFilter;
  /** Whether this partition forwards an alert with these markets/accounts (exactly one partition does). */
  isHome?: (markets: readonly string[], accounts: readonly string[]) => boolean;
}

export interface EmitterStats {
  opened: number;
  updated: number;
  closed: number;
  suppressed: number;
  suppressedBy: Record<string, number>;
  silent: number;
}

/**
 * Turns detector observations into alert transitions: "one episode is one alert that grows".
 *
 * - `episode(detector, key, e)` returns the open episode for (detector, key), or opens one whose
 *   start is e. An episode whose last observation is more than `gapMs` before e (or that is longer
 *   than `maxDurationMs`) is closed first, and a new one begins.
 * - `commit(ep, t)` after adding evidence: the first commit with score >= minScore opens the alert
 *   (status "open", detectedAt = t), unless an allow-list or suppression matches (counted). Later
 *   commits emit "updated" only when the severity rises, accounts or markets are added, or
 *   `updateIntervalMs` passed since the last emission; other growth rides on the next transition.
 * - `advance(t)` (on watermark ticks) closes episodes idle for longer than their gap: "closed",
 *   with the final evidence. `closeAll` closes everything at the end of a replay.
 *
 * Close times are derived from event times only (last observation + gap), so transitions do not
 * depend on how often the watermark ticks. A heap of deadlines makes closing O(log n) per episode.
 */
export class AlertEmitter {
  private readonly open = new Map<Detector, Map<string, Episode>>();
  private readonly deadlines = new TimeHeap<Episode>();
  private readonly updateIntervalMs: number;
  private readonly maxIds: number;
  private readonly maxDurationMs: number;
  private readonly filter?: AlertFilter;
  private readonly isHome?: (markets: readonly string[], accounts: readonly string[]) => boolean;
  readonly stats: EmitterStats = { opened: 0, updated: 0, closed: 0, suppressed: 0, suppressedBy: {}, silent: 0 };
  explainErrors = 0;

  constructor(private readonly sink: (a: Alert) => void, opts: EmitterOptions = {}) {
    this.updateIntervalMs = opts.updateIntervalMs ?? 60_000;
    this.maxIds = opts.maxEvidenceIds ?? 200;
    this.maxDurationMs = opts.maxDurationMs ?? 86_400_000;
    this.filter = opts.filter;
    this.isHome = opts.isHome;
  }

  /** Open episodes (for monitoring). */
  get openEpisodes(): number {
    let n = 0;
    for (const m of this.open.values()) n += m.size;
    return n;
  }

  /** The open episode for (detector, key), if any; does not create. */
  find(detector: Detector, key: string): Episode | undefined {
    const ep = this.open.get(detector)?.get(key);
    return ep === undefined || ep.closed ? undefined : ep;
  }

  /** The episode this observation belongs to (created if needed); marks it active at e.ts. */
  episode(detector: Detector, key: string, e: { readonly id: string; readonly ts: number }): Episode {
    let byKey = this.open.get(detector);
    if (byKey === undefined) this.open.set(detector, (byKey = new Map()));
    let ep = byKey.get(key);
    const ts = e.ts; // once: a megamorphic read of a number field boxes it each time
    if (ep !== undefined) {
      if (ts - ep.endTime > detector.policy.gapMs) {
        this.close(ep, ep.endTime + detector.policy.gapMs);
        ep = undefined;
      } else if (ts - ep.startTime > this.maxDurationMs) {
        this.close(ep, Math.max(ep.endTime, ts));
        ep = undefined;
      }
    }
    if (ep === undefined) {
      ep = new Episode(detector, key, e.id, ts, this.maxIds);
      byKey.set(key, ep);
      this.deadlines.push(ep.endTime + detector.policy.gapMs, ep);
    } else if (ts > ep.endTime) ep.endTime = ts;
    return ep;
  }

  /** Publishes the episode's state if it warrants a transition (see class doc). */
  commit(ep: Episode, t: number): void {
    if (ep.suppressed || ep.closed) return;
    if (!ep.emitted) {
      if (ep.score < ep.detector.policy.minScore) return;
      const accounts = [...ep.accounts].sort();
      const markets = [...ep.markets].sort();
      ep.id = alertId(ep.typology, ep.variant, markets, accounts, ep.startEventId);
      const reason = this.filter?.suppressReason(ep.typology, markets, accounts, ep.startTime);
      if (reason !== undefined) {
        ep.suppressed = true;
        this.stats.suppressed++;
        this.stats.suppressedBy[reason] = (this.stats.suppressedBy[reason] ?? 0) + 1;
        return;
      }
      ep.emitted = true;
      ep.detectedAt = t;
      this.emit(ep, 'open', t);
      return;
    }
    const sev = severityOf(ep.score);
    if (SEVERITY_RANK[sev] > SEVERITY_RANK[ep.lastSeverity] || ep.accounts.length > ep.emittedAccounts || ep.markets.length > ep.emittedMarkets || t - ep.lastEmitAt >= this.updateIntervalMs) {
      this.emit(ep, 'updated', t);
    } else ep.pending = true;
  }

  /** Closes episodes whose gap has passed by event time t. */
  advance(t: number): void {
    const h = this.deadlines;
    while (h.size > 0 && h.peekTime() < t) {
      const due = h.peekTime();
      const ep = h.pop()!;
      if (ep.closed) continue;
      const deadline = ep.endTime + ep.detector.policy.gapMs;
      if (deadline !== due) h.push(deadline, ep);
      else this.close(ep, deadline);
    }
  }

  /** End of input: closes every open episode. `t` is the final watermark. */
  closeAll(t: number): void {
    this.advance(t);
    const all: Episode[] = [];
    for (const byKey of this.open.values()) for (const ep of byKey.values()) if (!ep.closed) all.push(ep);
    all.sort((a, b) => a.startTime - b.startTime || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const ep of all) this.close(ep, Math.min(ep.endTime + ep.detector.policy.gapMs, Math.max(ep.endTime, t)));
    this.deadlines.clear();
  }

  private close(ep: Episode, t: number): void {
    if (ep.closed) return;
    ep.closed = true;
    const byKey = this.open.get(ep.detector);
    if (byKey?.get(ep.key) === ep) byKey.delete(ep.key);
    if (ep.emitted) this.emit(ep, 'closed', t);
    else if (!ep.suppressed) this.stats.silent++;
  }

  private emit(ep: Episode, status: AlertStatus, t: number): void {
    const sev = severityOf(ep.score);
    ep.lastEmitAt = t;
    ep.lastSeverity = sev;
    ep.emittedAccounts = ep.accounts.length;
    ep.emittedMarkets = ep.markets.length;
    ep.pending = false;
    const markets = [...ep.markets].sort();
    const accounts = [...ep.accounts].sort();
    // With several partitions exactly one forwards an alert (its lifecycle runs everywhere it exists).
    if (this.isHome !== undefined && !this.isHome(markets, accounts)) return;
    if (status === 'open') this.stats.opened++;
    else if (status === 'updated') this.stats.updated++;
    else this.stats.closed++;
    let explanation: string;
    try {
      explanation = ep.detector.explain(ep);
    } catch (err) {
      this.explainErrors++;
      explanation = `${ep.typology} suspected (explanation failed: ${(err as Error).message})`;
    }
    const a: Alert = {
      id: ep.id,
      typology: ep.typology,
      ...(ep.variant !== undefined ? { variant: ep.variant } : {}),
      detector: ep.detector.name,
      markets,
      accounts,
      score: Math.round(ep.score * 10) / 10,
      severity: sev,
      startTime: ep.startTime,
      endTime: ep.endTime,
      detectedAt: ep.detectedAt,
      updatedAt: t,
      evidence: {
        orderIds: [...ep.orderIds],
        tradeIds: [...ep.tradeIds],
        orderCount: ep.orderCount,
        tradeCount: ep.tradeCount,
        features: ep.features.map((f) => ({ ...f })),
      },
      explanation,
      status,
    };
    if (ep.book !== undefined) a.evidence.book = ep.book;
    this.sink(a);
  }
}
