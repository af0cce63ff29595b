import type { ExchangeEvent } from '../events/schema.js';
import type { Operator } from '../pipeline/types.js';
import type { Alert } from '../surveillance/alert.js';
import type { Plan, Program, Runtime } from './compile.js';
import { accountsOf } from './fields.js';
import { explainDecision } from './explain.js';
import { OUTCOMES, OUTCOME_RANK, type Decision, type EngineOptions, type FiredRule, type ListEntry, type Outcome, type RuleInfo } from './types.js';

/** What an engine needs from its compiled policy. */
export interface EngineSpec {
  name: string;
  rules: RuleInfo[];
  thresholds: Partial<Record<Exclude<Outcome, 'allow'>, number>>;
  lists: Record<string, ListEntry[]>;
  plan: Plan;
}

/**
 * Evaluates a compiled policy on each event: updates the rolling aggregates (the event itself
 * included), runs every rule, and turns the fired ones into a Decision: the most severe outcome of
 * the fired rules and of the score thresholds, the total score, the tags, and a trace of every
 * condition. An Operator, so it drops into replay and demo pipelines.
 */
export class RuleEngine implements Operator {
  readonly policy: string;
  readonly version?: number;
  /** decisions made so far, by outcome */
  readonly counts: Record<Outcome, number> = { allow: 0, review: 0, limit: 0, hold: 0, block: 0 };
  private readonly program: Program;
  private readonly rt: Runtime;
  private readonly rules: RuleInfo[];
  private readonly ranks: Int32Array;
  /** thresholds, most severe first */
  private readonly thresholds: [Outcome, number][];
  private readonly zeroRank: number;
  private readonly onDecision?: (d: Decision) => void;
  private readonly emitAllow: boolean;

  constructor(spec: EngineSpec, opts: EngineOptions = {}) {
    this.policy = spec.name;
    if (opts.version !== undefined) this.version = opts.version;
    this.rules = spec.rules;
    this.ranks = Int32Array.from(spec.rules.map((r) => OUTCOME_RANK[r.outcome]));
    this.thresholds = OUTCOMES.filter((o) => o !== 'allow' && spec.thresholds[o] !== undefined)
      .map((o) => [o, spec.thresholds[o as Exclude<Outcome, 'allow'>]!] as [Outcome, number])
      .reverse();
    this.zeroRank = this.thresholdRank(0);
    this.onDecision = opts.onDecision;
    this.emitAllow = opts.emitAllow ?? false;
    const lists = new Map<string, Map<string, number>>();
    for (const [name, entries] of Object.entries(spec.lists)) lists.set(name, toListState(entries));
    const { program, rt } = spec.plan.instantiate({ features: opts.features, maxKeys: opts.maxKeysPerAggregate, lists });
    this.program = program;
    this.rt = rt;
  }

  onEvent(e: ExchangeEvent): void {
    const n = this.program.run(e);
    if (n === 0 && this.zeroRank === 0) {
      this.counts.allow++;
      if (this.emitAllow && this.onDecision) this.onDecision(this.decide(e, 0));
      return;
    }
    const d = this.decide(e, n);
    this.counts[d.outcome]++;
    if (this.onDecision && (this.emitAllow || d.outcome !== 'allow')) this.onDecision(d);
  }

  /** onEvent, and the decision whatever its outcome. */
  evaluate(e: ExchangeEvent): Decision {
    const n = this.program.run(e);
    const d = this.decide(e, n);
    this.counts[d.outcome]++;
    if (this.onDecision && (this.emitAllow || d.outcome !== 'allow')) this.onDecision(d);
    return d;
  }

  /** Feeds alerts(…) aggregates: each alert counts once (its first transition that matches the filter), at its updatedAt. */
  onAlert(a: Alert): void {
    this.program.alert(a);
  }

  /** Replaces a list's entries (expiry in event time, ms). */
  setList(name: string, entries: ListEntry[]): void {
    const l = this.list(name);
    l.clear();
    for (const [k, v] of toListState(entries)) l.set(k, v);
  }
  addToList(name: string, value: string, expiresAt?: number): void {
    this.list(name).set(value, expiresAt ?? Infinity);
  }
  removeFromList(name: string, value: string): boolean {
    return this.list(name).delete(value);
  }

  /** Number of live keys across all aggregate groups (memory check). */
  get aggregateKeys(): number {
    let n = 0;
    for (const g of this.rt.groups) n += g.size;
    return n;
  }

  private list(name: string): Map<string, number> {
    let l = this.rt.lists.get(name);
    if (!l) {
      // lists no rule uses can still be kept (a later version may use them)
      l = new Map();
      this.rt.lists.set(name, l);
    }
    return l;
  }

  private thresholdRank(score: number): number {
    for (const [o, th] of this.thresholds) if (score >= th) return OUTCOME_RANK[o];
    return 0;
  }

  private decide(e: ExchangeEvent, n: number): Decision {
    let score = 0;
    let rank = 0;
    const fired: FiredRule[] = [];
    const tags: string[] = [];
    const fi = this.rt.fired;
    for (let i = 0; i < n; i++) {
      const r = fi[i];
      const info = this.rules[r];
      score += info.score;
      if (this.ranks[r] > rank) rank = this.ranks[r];
      for (const t of info.tags) if (!tags.includes(t)) tags.push(t);
      fired.push({ rule: info.name, outcome: info.outcome, score: info.score, tags: info.tags, conditions: this.program.explain[r](e) });
    }
    const thRank = this.thresholdRank(score);
    let byThreshold: [Outcome, number] | undefined;
    if (thRank > rank) {
      rank = thRank;
      byThreshold = this.thresholds.find(([o]) => OUTCOME_RANK[o] === thRank);
    }
    const outcome = OUTCOMES[rank];
    const rec = e as Record<string, unknown>;
    const accounts = accountsOf(rec);
    const d: Decision = {
      id: `${this.policy}:v${this.version ?? 0}:${e.id}`,
      eventId: e.id,
      ts: e.ts,
      type: e.type,
      ...(accounts.length ? { account: accounts[0] } : {}),
      accounts,
      ...(typeof rec.market === 'string' ? { market: rec.market } : {}),
      outcome,
      score,
      tags,
      policy: this.policy,
      ...(this.version !== undefined ? { version: this.version } : {}),
      fired,
      explanation: '',
    };
    d.explanation = explainDecision(d, byThreshold);
    return d;
  }
}

function toListState(entries: ListEntry[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const en of entries) m.set(en.value, en.expiresAt ?? Infinity);
  return m;
}
