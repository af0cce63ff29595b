import type { MinedCondition, MinedRule } from './learner.js';

/** Renders mined rules in the rule language, laid out the way an analyst writes them. */

/** A number literal the rule language reads: no exponent, no trailing noise. */
export function numberLiteral(x: number): string {
  if (Number.isInteger(x)) return String(x);
  const s = String(Number(x.toPrecision(12)));
  if (!/e/i.test(s)) return s;
  return x.toFixed(20).replace(/0+$/, '').replace(/\.$/, '');
}

export function conditionText(c: MinedCondition): string {
  // Counts are never negative: `<= 0` reads better as `== 0`.
  if (c.op === '<=' && c.threshold === 0 && /^(count|distinct)\(/.test(c.feature) && !/\)\s*[-+*/]/.test(c.feature)) return `${c.feature} == 0`;
  return `${c.feature} ${c.op} ${numberLiteral(c.threshold)}`;
}

export interface RenderOptions {
  name: string;
  description?: string;
  /** Event types the rule applies to (the mining population). */
  eventTypes?: string[];
  outcome?: 'review' | 'limit' | 'hold' | 'block';
  score?: number;
  tags?: string[];
}

const quote = (s: string) => JSON.stringify(s);

export function typeCondition(types: readonly string[]): string | null {
  if (types.length === 0) return null;
  return types.length === 1 ? `type == ${quote(types[0])}` : `type in [${types.map(quote).join(', ')}]`;
}

export function renderRule(rule: MinedRule, opts: RenderOptions): string {
  const conds = [typeCondition(opts.eventTypes ?? []), ...rule.conditions.map(conditionText)].filter((c): c is string => c !== null);
  const when = conds.map((c, i) => (i === 0 ? `  when ${c}` : `       and ${c}`)).join('\n');
  const tags = opts.tags?.length ? ` tags ${opts.tags.map((t) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(t) ? t : quote(t))).join(', ')}` : '';
  const desc = opts.description !== undefined ? ` ${quote(opts.description)}` : '';
  return `rule ${opts.name}${desc}\n${when}\n  then ${opts.outcome ?? 'review'} score ${numberLiteral(opts.score ?? 50)}${tags}\n`;
}

/** "precision 0.93, recall 0.71, 3 of 4 episodes" — how a mined rule did on its mining data. */
export function metricsSummary(r: MinedRule): string {
  const m = r.metrics;
  return `precision ${m.precision.toFixed(2)}, recall ${m.recall.toFixed(2)}, ${m.groupsHit} of ${m.groups} episodes`;
}
