import type { LabelEpisode } from '../events/labels.js';
import type { ExchangeEvent } from '../events/schema.js';
import type { Operator } from '../pipeline/types.js';
import { compilePolicy, type Decision, type Outcome, type PolicyDoc, type RuleEngine } from '../rules/index.js';
import type { Alert } from '../surveillance/alert.js';
import { AlertScorer, alertKey, type Scorecard } from './evaluation.js';
import { streamInput, truthFor, type EventInput, type InputProgress } from './input.js';
import { EventLabeler, type CaseDisposition, type EventLabel, type TruthGroup } from './labels.js';

/**
 * Backtest: replays an event history through a candidate policy and (optionally) the baseline,
 * side by side, each in its own rule engine exactly as live, and scores both against ground truth
 * (label episodes or case dispositions). Event time only, so the same input gives the same report.
 */
export interface BacktestOptions {
  candidate: PolicyDoc;
  candidateVersion?: number;
  baseline?: PolicyDoc;
  baselineVersion?: number;
  input: EventInput;
  labels?: LabelEpisode[];
  dispositions?: CaseDisposition[];
  /** Only episodes of these typologies count as ground truth (default: all). */
  typologies?: string[];
  /** Alerts one analyst works per day (default 50). */
  analystCapacity?: number;
  /** Run surveillance beside, feeding alerts(...) in both engines. */
  surveillance?: boolean;
  /** Alert grouping gap (ms), default 10 min. */
  alertGapMs?: number;
  /** Examples per diff list (default 5). */
  maxExamples?: number;
  onProgress?: (events: number, info?: InputProgress) => void;
}

export interface DecisionExample {
  eventId: string;
  ts: number;
  type: string;
  account?: string;
  market?: string;
  outcome: Outcome;
  score: number;
  rules: string[];
  explanation: string;
  /** The episodes (or cases) the event belongs to; empty for a false positive. */
  episodes: string[];
  typologies: string[];
}

export interface TypologyRecall {
  typology: string;
  episodes: number;
  caught: number;
  recall: number | null;
}

export interface PolicyRun {
  policy: string;
  version?: number;
  scorecard: Scorecard;
  byTypology: TypologyRecall[];
  byOutcome: Record<Outcome, number>;
  byRule: { rule: string; decisions: number; hits: number }[];
  /** UTC days of event time. */
  perDay: { day: string; decisions: number; alerts: number }[];
  /** Analysts needed to work every alert: alerts per day / capacity. */
  analystDaysPerDay: number;
  withinCapacity: boolean;
}

export interface BacktestDiff {
  /** Episodes the candidate catches and the baseline does not, and the reverse. */
  newHits: number;
  lostHits: number;
  /** Hit decisions only one side made. */
  newHitDecisions: number;
  lostHitDecisions: number;
  /** Non-hit decisions only one side made (new false positives, false positives removed). */
  newFalseDecisions: number;
  removedFalseDecisions: number;
  newHitExamples: DecisionExample[];
  lostHitExamples: DecisionExample[];
  newFalseExamples: DecisionExample[];
}

export interface BacktestReport {
  input: { events: number; deadLetters: number; firstTs: number | null; lastTs: number | null; days: number };
  truth: { groups: number; byTypology: Record<string, number> };
  analystCapacity: number;
  alertGapMs: number;
  candidate: PolicyRun;
  baseline?: PolicyRun;
  diff?: BacktestDiff;
  /** One paragraph: does the candidate beat the baseline, with the numbers. */
  summary: string;
}

const dayOf = (ts: number) => new Date(ts).toISOString().slice(0, 10);

/** Scores one engine's decisions as they happen. */
class RunRecorder {
  readonly scorer: AlertScorer;
  readonly byOutcome: Record<Outcome, number> = { allow: 0, review: 0, limit: 0, hold: 0, block: 0 };
  readonly byRule = new Map<string, { decisions: number; hits: number }>();
  readonly perDay = new Map<string, { decisions: number; alerts: number }>();
  /** First hit decision per group. */
  readonly firstHit = new Map<string, Decision>();
  engine!: RuleEngine;
  constructor(gapMs: number) {
    this.scorer = new AlertScorer(gapMs);
  }

  record(d: Decision, label: EventLabel): void {
    this.byOutcome[d.outcome]++;
    const opened = this.scorer.add(alertKey(d), d.ts, label);
    const day = dayOf(d.ts);
    let pd = this.perDay.get(day);
    if (!pd) this.perDay.set(day, (pd = { decisions: 0, alerts: 0 }));
    pd.decisions++;
    if (opened) pd.alerts++;
    for (const f of d.fired) {
      let r = this.byRule.get(f.rule);
      if (!r) this.byRule.set(f.rule, (r = { decisions: 0, hits: 0 }));
      r.decisions++;
      if (label.positive) r.hits++;
    }
    if (label.positive) for (const g of label.groups) if (!this.firstHit.has(g)) this.firstHit.set(g, d);
  }

  result(doc: PolicyDoc, version: number | undefined, groups: readonly TruthGroup[], spanMs: number, capacity: number): PolicyRun {
    const scorecard = this.scorer.scorecard(groups, spanMs);
    const typ = new Map<string, { episodes: number; caught: number }>();
    for (const g of groups) {
      const t = g.typology ?? 'confirmed';
      let x = typ.get(t);
      if (!x) typ.set(t, (x = { episodes: 0, caught: 0 }));
      x.episodes++;
      if (this.scorer.caught.has(g.id)) x.caught++;
    }
    const analystDaysPerDay = scorecard.alertsPerDay / capacity;
    return {
      policy: doc.name,
      ...(version !== undefined ? { version } : {}),
      scorecard,
      byTypology: [...typ].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([typology, x]) => ({ typology, ...x, recall: x.episodes ? x.caught / x.episodes : null })),
      byOutcome: { ...this.byOutcome },
      byRule: [...this.byRule].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([rule, x]) => ({ rule, ...x })),
      perDay: [...this.perDay].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([day, x]) => ({ day, ...x })),
      analystDaysPerDay,
      withinCapacity: analystDaysPerDay <= 1,
    };
  }
}

export function decisionExample(d: Decision, label: EventLabel): DecisionExample {
  return {
    eventId: d.eventId,
    ts: d.ts,
    type: d.type,
    ...(d.account !== undefined ? { account: d.account } : {}),
    ...(d.market !== undefined ? { market: d.market } : {}),
    outcome: d.outcome,
    score: d.score,
    rules: d.fired.map((f) => f.rule),
    explanation: d.explanation,
    episodes: label.groups,
    typologies: label.typologies,
  };
}

export async function backtestPolicy(opts: BacktestOptions): Promise<BacktestReport> {
  const gap = opts.alertGapMs ?? 600_000;
  const capacity = opts.analystCapacity ?? 50;
  const maxEx = opts.maxExamples ?? 5;
  // Without ground truth a backtest still reports decisions, alerts and cost (precision and recall stay null).
  const episodes = opts.labels || opts.dispositions || 'sim' in opts.input ? await truthFor(opts.input, opts.labels, opts.dispositions) : [];
  const labeler = new EventLabeler(episodes, opts.dispositions ?? [], { typologies: opts.typologies });
  const cand = new RunRecorder(gap);
  const base = opts.baseline ? new RunRecorder(gap) : undefined;
  let cd: Decision | null = null;
  let bd: Decision | null = null;
  cand.engine = compilePolicy(opts.candidate).createEngine({ version: opts.candidateVersion, onDecision: (d) => void (cd = d) });
  if (base) base.engine = compilePolicy(opts.baseline!).createEngine({ version: opts.baselineVersion, onDecision: (d) => void (bd = d) });
  const diff: BacktestDiff = { newHits: 0, lostHits: 0, newHitDecisions: 0, lostHitDecisions: 0, newFalseDecisions: 0, removedFalseDecisions: 0, newHitExamples: [], lostHitExamples: [], newFalseExamples: [] };

  const op: Operator = {
    onEvent(e: ExchangeEvent) {
      cd = null;
      bd = null;
      cand.engine.onEvent(e);
      base?.engine.onEvent(e);
      if (cd === null && bd === null) return;
      const label = labeler.label(e);
      const c = cd as Decision | null;
      const b = bd as Decision | null;
      if (c) cand.record(c, label);
      if (b) base!.record(b, label);
      if (!base || (c !== null) === (b !== null)) return;
      if (c && !b) {
        if (label.positive) diff.newHitDecisions++;
        else {
          diff.newFalseDecisions++;
          if (diff.newFalseExamples.length < maxEx) diff.newFalseExamples.push(decisionExample(c, label));
        }
      } else if (b && !c) {
        if (label.positive) diff.lostHitDecisions++;
        else diff.removedFalseDecisions++;
      }
    },
  };
  const onAlert = (a: Alert) => {
    cand.engine.onAlert(a);
    base?.engine.onAlert(a);
  };
  const res = await streamInput(opts.input, [op], { surveillance: opts.surveillance, onAlert, onProgress: opts.onProgress });
  const spanMs = res.firstTs !== null && res.lastTs !== null ? res.lastTs - res.firstTs : 0;
  const groups = labeler.groups;
  const candidate = cand.result(opts.candidate, opts.candidateVersion, groups, spanMs, capacity);
  const baseline = base?.result(opts.baseline!, opts.baselineVersion, groups, spanMs, capacity);
  if (base) {
    for (const g of groups) {
      const c = cand.firstHit.get(g.id);
      const b = base.firstHit.get(g.id);
      const lbl = (id: string, t?: string): EventLabel => ({ positive: true, groups: [id], typologies: [t ?? 'confirmed'] });
      if (c && !b) {
        diff.newHits++;
        if (diff.newHitExamples.length < maxEx) diff.newHitExamples.push(decisionExample(c, lbl(g.id, g.typology)));
      } else if (b && !c) {
        diff.lostHits++;
        if (diff.lostHitExamples.length < maxEx) diff.lostHitExamples.push(decisionExample(b, lbl(g.id, g.typology)));
      }
    }
  }
  const byTypology: Record<string, number> = {};
  for (const g of groups) byTypology[g.typology ?? 'confirmed'] = (byTypology[g.typology ?? 'confirmed'] ?? 0) + 1;
  const report: BacktestReport = {
    input: { events: res.events, deadLetters: res.deadLetters, firstTs: res.firstTs, lastTs: res.lastTs, days: spanMs / 86_400_000 },
    truth: { groups: groups.length, byTypology },
    analystCapacity: capacity,
    alertGapMs: gap,
    candidate,
    ...(baseline ? { baseline, diff } : {}),
    summary: '',
  };
  report.summary = summarize(report);
  return report;
}

const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
const vname = (r: PolicyRun) => `${r.policy}${r.version !== undefined ? ` v${r.version}` : ''}`;

function summarize(r: BacktestReport): string {
  const c = r.candidate.scorecard;
  const line = (p: PolicyRun) =>
    `${vname(p)} catches ${p.scorecard.groupsCaught} of ${p.scorecard.groups} episodes (recall ${pct(p.scorecard.recall)}) with ${p.scorecard.alerts} alerts (precision ${pct(p.scorecard.precision)}, ${p.scorecard.alertsPerDay.toFixed(0)}/day, ${p.analystDaysPerDay.toFixed(2)} analyst-days per day at ${r.analystCapacity} alerts each)`;
  if (!r.baseline || !r.diff) return `${line(r.candidate)}.`;
  const b = r.baseline.scorecard;
  const verdict = (c.f1 ?? 0) > (b.f1 ?? 0) ? 'beats' : (c.f1 ?? 0) === (b.f1 ?? 0) ? 'ties' : 'does not beat';
  return `${line(r.candidate)}; ${line(r.baseline)}. The candidate ${verdict} the baseline on F1 (${c.f1?.toFixed(3) ?? '-'} vs ${b.f1?.toFixed(3) ?? '-'}): ${r.diff.newHits} new episode hits, ${r.diff.lostHits} lost.`;
}

/** Whether the candidate is better: higher F1, or equal F1 with more episodes caught. */
export function candidateBeatsBaseline(r: BacktestReport): boolean {
  if (!r.baseline) return false;
  const c = r.candidate.scorecard;
  const b = r.baseline.scorecard;
  return (c.f1 ?? 0) > (b.f1 ?? 0) || ((c.f1 ?? 0) === (b.f1 ?? 0) && c.groupsCaught > b.groupsCaught);
}

/** A text report for the terminal. */
export function formatBacktest(r: BacktestReport): string {
  const runs = [r.candidate, ...(r.baseline ? [r.baseline] : [])];
  const rows: string[][] = [['', ...runs.map((p, i) => `${i === 0 ? 'candidate' : 'baseline'} ${vname(p)}`)]];
  const add = (name: string, f: (p: PolicyRun) => string) => rows.push([name, ...runs.map(f)]);
  add('decisions', (p) => String(p.scorecard.decisions));
  add('decisions/day', (p) => p.scorecard.decisionsPerDay.toFixed(0));
  add('alerts', (p) => String(p.scorecard.alerts));
  add('alerts/day', (p) => p.scorecard.alertsPerDay.toFixed(1));
  add(`analyst-days/day (${r.analystCapacity}/analyst)`, (p) => p.analystDaysPerDay.toFixed(2));
  add('alert precision', (p) => pct(p.scorecard.precision));
  add('decision precision', (p) => pct(p.scorecard.decisionPrecision));
  add('episodes caught', (p) => `${p.scorecard.groupsCaught}/${p.scorecard.groups}`);
  add('recall', (p) => pct(p.scorecard.recall));
  add('F1', (p) => p.scorecard.f1?.toFixed(3) ?? '-');
  const typs = [...new Set(runs.flatMap((p) => p.byTypology.map((t) => t.typology)))];
  for (const t of typs) add(`  recall ${t}`, (p) => { const x = p.byTypology.find((y) => y.typology === t); return x ? `${x.caught}/${x.episodes}` : '-'; });
  const w = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const out = rows.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '));
  out.push('', `${r.input.events} events over ${(r.input.days * 24).toFixed(2)} h; ${r.truth.groups} ground-truth episodes`);
  if (r.diff) {
    const d = r.diff;
    out.push(`diff: ${d.newHits} new episode hits, ${d.lostHits} lost; hit decisions +${d.newHitDecisions}/-${d.lostHitDecisions}; false decisions +${d.newFalseDecisions}/-${d.removedFalseDecisions}`);
    const ex = (title: string, xs: DecisionExample[]) => {
      if (!xs.length) return;
      out.push(title);
      for (const x of xs) out.push(`  ${new Date(x.ts).toISOString()} ${x.type} ${x.account ?? ''} ${x.outcome} [${x.episodes.join(',') || 'no episode'}] ${x.explanation}`);
    };
    ex('new hits:', d.newHitExamples);
    ex('lost hits:', d.lostHitExamples);
    ex('new false positives:', d.newFalseExamples);
  }
  out.push('', r.summary);
  return out.join('\n');
}
