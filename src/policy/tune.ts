import type { LabelEpisode } from '../events/labels.js';
import type { ExchangeEvent } from '../events/schema.js';
import type { Operator } from '../pipeline/types.js';
import { analyzeRules } from '../rules/compile.js';
import type { Expr, RuleAst } from '../rules/ast.js';
import { createFeatureExtractor, VIRTUAL_FIELDS, type PolicyDoc } from '../rules/index.js';
import { alertKey } from './evaluation.js';
import { streamInput, truthFor, type EventInput, type InputProgress } from './input.js';
import { EventLabeler, type CaseDisposition, type EventLabel } from './labels.js';
import type { ConditionOp } from './mining/learner.js';
import { numberLiteral } from './mining/render.js';
import { searchThresholds, type ParameterResult, type TuneData, type TuneObjective, type TuneParameter } from './tuning/search.js';
import type { Scorecard } from './evaluation.js';

/**
 * Threshold tuning under an alert budget. Each tunable rule is read as a conjunction; its numeric
 * comparisons (`expr >= 40`) are the parameters, the rest is a fixed gate. One pass over the events
 * computes every parameter's left-hand value with the rule engine's feature extractor; the search
 * then maximises episodes caught subject to alerts/day ≤ capacity and/or a precision floor, and
 * sweeps each parameter above and below the chosen line. The tuned policy is the same text with
 * only the numbers changed.
 */
export interface TuneOptions extends TuneObjective {
  policy: PolicyDoc;
  /** Rules to tune (default: every rule with numeric thresholds). */
  rules?: string[];
  input: EventInput;
  labels?: LabelEpisode[];
  dispositions?: CaseDisposition[];
  typologies?: string[];
  surveillance?: boolean;
  onProgress?: (events: number, info?: InputProgress) => void;
}

export interface RuleTuning {
  rule: string;
  before: Scorecard;
  after: Scorecard;
  feasible: boolean;
  parameters: ParameterResult[];
}

export interface TuneResult {
  policy: PolicyDoc;
  objective: TuneObjective;
  rules: RuleTuning[];
  /** Rules left alone, and why. */
  skipped: { rule: string; reason: string }[];
}

interface Param {
  expr: Expr;
  left: string;
  op: ConditionOp;
  value: number;
  /** offsets of the number literal in the rules source */
  start: number;
  end: number;
}

function conjuncts(e: Expr, out: Expr[] = []): Expr[] {
  if (e.kind === 'logic' && e.op === 'and') {
    conjuncts(e.left, out);
    conjuncts(e.right, out);
  } else out.push(e);
  return out;
}

const TUNABLE = new Set(['<', '<=', '>', '>=']);

function parametersOf(r: RuleAst, text: (e: Expr) => string): { params: Param[]; gate: string[] } {
  const params: Param[] = [];
  const gate: string[] = [];
  for (const c of conjuncts(r.when)) {
    if (c.kind === 'cmp' && TUNABLE.has(c.op) && c.right.kind === 'num' && !c.right.duration && c.left.kind !== 'num') {
      params.push({ expr: c, left: text(c.left), op: c.op as ConditionOp, value: c.right.value, start: c.right.span.start, end: c.right.span.end });
    } else gate.push(text(c));
  }
  return { params, gate };
}

const accountOf = new Function('e', `return ${VIRTUAL_FIELDS.account.js};`) as (e: ExchangeEvent) => string | null;

export async function tuneThresholds(opts: TuneOptions): Promise<TuneResult> {
  const src = opts.policy.rules;
  const parsed = analyzeRules(src, new Set(Object.keys(opts.policy.lists ?? {})));
  if (parsed.errors.length) throw new Error(`the policy does not compile: ${parsed.errors.map((e) => `${e.line}:${e.column} ${e.message}`).join('; ')}`);
  const text = (e: Expr) => src.slice(e.span.start, e.span.end);
  const skipped: TuneResult['skipped'] = [];
  const wanted = opts.rules ? new Set(opts.rules) : null;
  for (const n of wanted ?? []) if (!parsed.rules.some((r) => r.name === n)) throw new Error(`no rule named "${n}" in policy ${opts.policy.name}`);
  const targets: { rule: RuleAst; params: Param[]; gate: string[] }[] = [];
  for (const r of parsed.rules) {
    if (wanted && !wanted.has(r.name)) continue;
    const { params, gate } = parametersOf(r, text);
    if (params.length === 0) skipped.push({ rule: r.name, reason: 'no numeric threshold at the top level of its condition (only `expr OP number` joined by `and` is tuned)' });
    else targets.push({ rule: r, params, gate });
  }
  const exprs: Record<string, string> = {};
  targets.forEach((t, i) => {
    t.params.forEach((p, j) => (exprs[`r${i}p${j}`] = p.left));
    exprs[`r${i}gate`] = t.gate.length ? t.gate.map((g) => `(${g})`).join(' and ') : 'true';
  });
  const episodes = await truthFor(opts.input, opts.labels, opts.dispositions);
  const labeler = new EventLabeler(episodes, opts.dispositions ?? [], { typologies: opts.typologies });
  const extractor = targets.length ? createFeatureExtractor(exprs) : null;
  const cols = targets.map((t) => t.params.map(() => [] as number[]));
  const ts = targets.map(() => [] as number[]);
  const keys = targets.map(() => [] as string[]);
  const labels = targets.map(() => [] as EventLabel[]);
  const op: Operator = {
    onEvent(e) {
      if (!extractor) return;
      const v = extractor.onEvent(e);
      for (let i = 0; i < targets.length; i++) {
        if (v[`r${i}gate`] !== 1) continue;
        for (let j = 0; j < targets[i].params.length; j++) {
          const x = v[`r${i}p${j}`];
          cols[i][j].push(x === null ? NaN : x);
        }
        ts[i].push(e.ts);
        const acc = accountOf(e);
        keys[i].push(alertKey({ ...(acc !== null ? { account: acc } : {}), ...('market' in e ? { market: e.market } : {}), eventId: e.id }));
        labels[i].push(labeler.label(e));
      }
    },
  };
  const res = await streamInput(opts.input, [op], { surveillance: opts.surveillance, onAlert: (a) => extractor?.onAlert(a), onProgress: opts.onProgress });
  const spanMs = res.firstTs !== null && res.lastTs !== null ? res.lastTs - res.firstTs : 0;
  const objective: TuneObjective = { ...(opts.capacityPerDay !== undefined ? { capacityPerDay: opts.capacityPerDay } : {}), ...(opts.minPrecision !== undefined ? { minPrecision: opts.minPrecision } : {}), gapMs: opts.gapMs ?? 600_000 };
  const results: RuleTuning[] = [];
  const edits: { start: number; end: number; value: number }[] = [];
  targets.forEach((t, i) => {
    const data: TuneData = {
      columns: cols[i].map((c) => Float64Array.from(c)),
      gate: new Uint8Array(ts[i].length).fill(1),
      ts: Float64Array.from(ts[i]),
      keys: keys[i],
      labels: labels[i],
      groups: labeler.groups,
      spanMs,
    };
    const params: TuneParameter[] = t.params.map((p, j) => ({
      name: `${t.rule.name}: ${p.left} ${p.op}`,
      op: p.op,
      value: p.value,
      integer: Number.isInteger(p.value) && data.columns[j].every((x) => Number.isNaN(x) || Number.isInteger(x)),
    }));
    const r = searchThresholds(data, params, objective);
    results.push({ rule: t.rule.name, before: r.before, after: r.after, feasible: r.feasible, parameters: r.parameters });
    r.parameters.forEach((p, j) => {
      if (p.after !== p.before) edits.push({ start: t.params[j].start, end: t.params[j].end, value: p.after });
    });
  });
  let rules = src;
  for (const e of edits.sort((a, b) => b.start - a.start)) rules = rules.slice(0, e.start) + numberLiteral(e.value) + rules.slice(e.end);
  return { policy: { ...opts.policy, rules }, objective, rules: results, skipped };
}

const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);

/** The tuning report: per rule, before/after, then each parameter's sweep around the chosen line. */
export function formatTuning(t: TuneResult): string {
  const out: string[] = [];
  const o = t.objective;
  out.push(`objective: most episodes caught${o.capacityPerDay !== undefined ? `, alerts/day <= ${o.capacityPerDay}` : ''}${o.minPrecision !== undefined ? `, alert precision >= ${o.minPrecision}` : ''}`);
  const sc = (s: Scorecard) => `${s.groupsCaught}/${s.groups} episodes, ${s.alerts} alerts (${s.alertsPerDay.toFixed(1)}/day), precision ${pct(s.precision)}`;
  for (const r of t.rules) {
    out.push('', `rule ${r.rule}${r.feasible ? '' : ' (no setting meets the budget; closest shown)'}`);
    out.push(`  before: ${sc(r.before)}`, `  after:  ${sc(r.after)}`);
    for (const p of r.parameters) {
      out.push(`  ${p.name} ${numberLiteral(p.before)} -> ${numberLiteral(p.after)}`);
      out.push(`    ${'value'.padStart(10)}  ${'side'.padEnd(6)}  ${'alerts/day'.padStart(10)}  ${'precision'.padStart(9)}  episodes`);
      for (const s of p.sweep) out.push(`    ${numberLiteral(s.value).padStart(10)}  ${s.side.padEnd(6)}  ${s.scorecard.alertsPerDay.toFixed(1).padStart(10)}  ${pct(s.scorecard.precision).padStart(9)}  ${s.scorecard.groupsCaught}/${s.scorecard.groups}${s.feasible ? '' : '  over budget'}`);
    }
  }
  for (const s of t.skipped) out.push('', `rule ${s.rule}: not tuned, ${s.reason}`);
  return out.join('\n');
}
