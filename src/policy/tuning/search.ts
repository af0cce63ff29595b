import type { EventLabel, TruthGroup } from '../labels.js';
import { AlertScorer, type Scorecard } from '../evaluation.js';
import type { ConditionOp } from '../mining/learner.js';

/**
 * Threshold search for one rule written as a conjunction: numeric comparisons `expr OP number`
 * (the parameters) and everything else (a fixed gate). Each event is a row holding each
 * parameter's left-hand value and whether the gate passed, so a threshold vector is scored
 * without replaying the stream: fired rows become alerts exactly as the backtest groups them.
 */
export interface TuneData {
  /** Per parameter, its left-hand value per event (NaN for null). */
  columns: Float64Array[];
  gate: Uint8Array;
  ts: Float64Array;
  keys: string[];
  labels: EventLabel[];
  groups: TruthGroup[];
  spanMs: number;
}

export interface TuneParameter {
  /** e.g. `stuffing: count(by account over 10s where type == "order.placed") >= 200` */
  name: string;
  op: ConditionOp;
  value: number;
  integer: boolean;
}

export interface TuneObjective {
  /** Alerts per day the team can work (the budget). */
  capacityPerDay?: number;
  /** Alert precision floor. */
  minPrecision?: number;
  /** Alert grouping gap (ms), default 10 min. */
  gapMs?: number;
}

export interface SweepPoint {
  value: number;
  /** `below`: looser than the chosen threshold (more alerts); `above`: stricter. */
  side: 'below' | 'chosen' | 'above';
  feasible: boolean;
  scorecard: Scorecard;
}

export interface ParameterResult {
  name: string;
  op: ConditionOp;
  before: number;
  after: number;
  sweep: SweepPoint[];
}

export interface SearchResult {
  before: Scorecard;
  after: Scorecard;
  feasible: boolean;
  parameters: ParameterResult[];
}

export function scoreThresholds(d: TuneData, ops: readonly ConditionOp[], values: readonly number[], gapMs = 600_000): Scorecard {
  const scorer = new AlertScorer(gapMs);
  const n = d.gate.length;
  const k = ops.length;
  for (let i = 0; i < n; i++) {
    if (!d.gate[i]) continue;
    let ok = true;
    for (let p = 0; p < k && ok; p++) {
      const v = d.columns[p][i];
      const t = values[p];
      const op = ops[p];
      ok = op === '>' ? v > t : op === '>=' ? v >= t : op === '<' ? v < t : v <= t;
    }
    if (ok) scorer.add(d.keys[i], d.ts[i], d.labels[i]);
  }
  return scorer.scorecard(d.groups, d.spanMs);
}

const feasibleUnder = (s: Scorecard, o: TuneObjective) => (o.capacityPerDay === undefined || s.alertsPerDay <= o.capacityPerDay) && (o.minPrecision === undefined || (s.precision ?? 0) >= o.minPrecision);

/** Better: feasible first; then more episodes caught; then fewer alerts; then more hit decisions. */
function better(a: Scorecard, b: Scorecard, o: TuneObjective): boolean {
  const fa = feasibleUnder(a, o);
  const fb = feasibleUnder(b, o);
  if (fa !== fb) return fa;
  if (!fa) return a.alerts < b.alerts;
  if (a.groupsCaught !== b.groupsCaught) return a.groupsCaught > b.groupsCaught;
  if (a.alerts !== b.alerts) return a.alerts < b.alerts;
  return a.hitDecisions > b.hitDecisions;
}

/** Readable candidate thresholds: quantiles of the values the gate lets through, plus the current one. */
function candidates(col: Float64Array, gate: Uint8Array, current: number, integer: boolean, k = 40): number[] {
  const vals: number[] = [];
  for (let i = 0; i < col.length; i++) if (gate[i] && !Number.isNaN(col[i])) vals.push(col[i]);
  vals.sort((a, b) => a - b);
  const out = new Set<number>([current]);
  for (let i = 0; i <= k && vals.length; i++) {
    const v = vals[Math.min(vals.length - 1, Math.floor((i / k) * (vals.length - 1)))];
    out.add(integer ? Math.round(Number(v.toPrecision(2))) : Number(v.toPrecision(2)));
  }
  // Include the upper tail finely: that is where tight thresholds live.
  for (const q of [0.99, 0.995, 0.999]) if (vals.length) out.add(integer ? Math.round(vals[Math.floor(q * (vals.length - 1))]) : Number(vals[Math.floor(q * (vals.length - 1))].toPrecision(2)));
  return [...out].sort((a, b) => a - b);
}

/**
 * Maximises episodes caught subject to the budget (alerts/day ≤ capacity and/or precision ≥ floor)
 * by coordinate ascent over each parameter's candidates, then sweeps each parameter on both sides
 * of the chosen value (below the line: looser, above the line: stricter), the others held.
 */
export function searchThresholds(d: TuneData, params: readonly TuneParameter[], o: TuneObjective): SearchResult {
  const gap = o.gapMs ?? 600_000;
  const ops = params.map((p) => p.op);
  const cur = params.map((p) => p.value);
  const cands = params.map((p, i) => candidates(d.columns[i], d.gate, p.value, p.integer));
  const before = scoreThresholds(d, ops, cur, gap);
  let best = before;
  for (let round = 0; round < 4; round++) {
    let changed = false;
    for (let p = 0; p < params.length; p++) {
      for (const v of cands[p]) {
        if (v === cur[p]) continue;
        const trial = cur.slice();
        trial[p] = v;
        const s = scoreThresholds(d, ops, trial, gap);
        if (better(s, best, o)) {
          best = s;
          cur[p] = v;
          changed = true;
        }
      }
    }
    if (!changed) break;
  }
  const parameters: ParameterResult[] = params.map((p, i) => {
    const looserIsLower = p.op === '>' || p.op === '>=';
    const sweep = cands[i].map((v): SweepPoint => {
      const trial = cur.slice();
      trial[i] = v;
      const s = v === cur[i] ? best : scoreThresholds(d, ops, trial, gap);
      const side = v === cur[i] ? 'chosen' : (v < cur[i]) === looserIsLower ? 'below' : 'above';
      return { value: v, side, feasible: feasibleUnder(s, o), scorecard: s };
    });
    return { name: p.name, op: p.op, before: p.value, after: cur[i], sweep };
  });
  return { before, after: best, feasible: feasibleUnder(best, o), parameters };
}
