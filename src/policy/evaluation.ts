import type { EventLabel, TruthGroup } from './labels.js';

/**
 * How a policy's decisions score against ground truth, shared by backtest, tuning and shadow.
 *
 * A decision is a hit when its event is labelled positive. Analysts work alerts, not decisions: the
 * non-allow decisions of one key (the account, else the market, else the event) less than `gapMs`
 * apart form one alert, so a rule that fires on every order of a stuffing burst costs one alert.
 * An alert is a hit when any of its decisions is; an episode (truth group) is caught when any
 * decision hits it. Precision is per alert (and per decision), recall per episode.
 */
export interface Scorecard {
  decisions: number;
  hitDecisions: number;
  alerts: number;
  hitAlerts: number;
  groups: number;
  groupsCaught: number;
  /** hitAlerts / alerts (null without alerts) */
  precision: number | null;
  /** hitDecisions / decisions */
  decisionPrecision: number | null;
  /** groupsCaught / groups (null without ground truth) */
  recall: number | null;
  f1: number | null;
  days: number;
  decisionsPerDay: number;
  alertsPerDay: number;
}

interface OpenAlert {
  last: number;
  hit: boolean;
}

/** Streams decisions (in event-time order per key) into alerts and counts hits. */
export class AlertScorer {
  private readonly open = new Map<string, OpenAlert>();
  decisions = 0;
  hitDecisions = 0;
  alerts = 0;
  hitAlerts = 0;
  readonly caught = new Set<string>();
  readonly caughtByTypology = new Map<string, Set<string>>();

  constructor(private readonly gapMs = 600_000) {}

  /** Returns true when the decision opened a new alert. */
  add(key: string, ts: number, label: EventLabel): boolean {
    this.decisions++;
    if (label.positive) {
      this.hitDecisions++;
      for (const g of label.groups) this.caught.add(g);
    }
    let a = this.open.get(key);
    let opened = false;
    if (!a || ts - a.last > this.gapMs) {
      a = { last: ts, hit: false };
      this.open.set(key, a);
      this.alerts++;
      opened = true;
    }
    a.last = ts;
    if (label.positive && !a.hit) {
      a.hit = true;
      this.hitAlerts++;
    }
    return opened;
  }

  scorecard(groups: readonly TruthGroup[], spanMs: number): Scorecard {
    const caught = groups.filter((g) => this.caught.has(g.id)).length;
    return scorecard(this.decisions, this.hitDecisions, this.alerts, this.hitAlerts, groups.length, caught, spanMs);
  }
}

export function scorecard(decisions: number, hitDecisions: number, alerts: number, hitAlerts: number, groups: number, groupsCaught: number, spanMs: number): Scorecard {
  const days = Math.max(spanMs, 1) / 86_400_000;
  const precision = alerts > 0 ? hitAlerts / alerts : null;
  const recall = groups > 0 ? groupsCaught / groups : null;
  const f1 = precision === null || recall === null ? null : precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return {
    decisions,
    hitDecisions,
    alerts,
    hitAlerts,
    groups,
    groupsCaught,
    precision,
    decisionPrecision: decisions > 0 ? hitDecisions / decisions : null,
    recall,
    f1,
    days,
    decisionsPerDay: decisions / days,
    alertsPerDay: alerts / days,
  };
}

/** The key decisions group into alerts by. */
export function alertKey(d: { account?: string; market?: string; eventId: string }): string {
  return d.account ?? (d.market !== undefined ? `market:${d.market}` : `event:${d.eventId}`);
}
