import type { ConditionTrace, Decision, Outcome } from './types.js';

const VERB: Record<Outcome, string> = { allow: 'Allowed', review: 'Review', limit: 'Limit', hold: 'Hold', block: 'Block' };

/** One sentence: the outcome, the event, and each fired rule with the values that made it fire. */
export function explainDecision(d: Decision, byThreshold?: [Outcome, number]): string {
  const who = d.account ? ` of account ${d.account}` : '';
  const what = `${d.type} ${d.eventId}${who}${d.market ? ` on ${d.market}` : ''}`;
  if (d.fired.length === 0) {
    if (byThreshold) return `${VERB[d.outcome]} ${what}: score ${fmt(d.score)} reached the ${byThreshold[0]} threshold ${fmt(byThreshold[1])} with no rule fired.`;
    return `${VERB[d.outcome]} ${what}: no rule of policy ${d.policy} fired.`;
  }
  const parts = d.fired.map((f) => {
    // the event type is already in the sentence
    const why = f.conditions.filter((c) => c.passed && !(c.subject === 'type' && c.op === '==')).map(formatCondition);
    return `${f.rule} (${f.outcome}${f.score ? `, +${fmt(f.score)}` : ''})${why.length ? ` because ${why.join(' and ')}` : ''}`;
  });
  const th = byThreshold ? `; score ${fmt(d.score)} reached the ${byThreshold[0]} threshold ${fmt(byThreshold[1])}` : '';
  return `${VERB[d.outcome]} ${what} (score ${fmt(d.score)}): ${parts.join('; ')}${th}.`;
}

/** `amount = 25000 > 10000`, or the text alone when it already is the whole story. */
export function formatCondition(c: ConditionTrace): string {
  if (c.op === '==' && c.threshold === true) return `${c.text} (${fmtValue(c.actual)})`;
  // an equality that held says everything in its own text
  if (c.op === '==' && c.passed) return c.text;
  if ((c.op === 'in' || c.op === 'not in') && typeof c.threshold === 'string') return `${c.subject ?? c.text} = ${fmtValue(c.actual)} ${c.op} ${c.threshold}`;
  const numeric = c.op === '<' || c.op === '<=' || c.op === '>' || c.op === '>=';
  return `${c.subject ?? c.text} = ${fmtValue(c.actual, numeric)} ${c.op} ${fmtValue(c.threshold, numeric)}`;
}

/** A value for a sentence; decimal strings unquoted where they were compared as numbers. */
export function fmtValue(v: unknown, numeric = false): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number') return fmt(v);
  if (typeof v === 'string') return numeric && /^-?\d+(\.\d+)?$/.test(v) ? v : JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => fmtValue(x)).join(', ')}]`;
  return String(v);
}

function fmt(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return String(Number(n.toPrecision(6)));
}
