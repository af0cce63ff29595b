import { analyzeRules, planRules, planValues, type Plan } from './compile.js';
import { RuleEngine } from './engine.js';
import { PolicyDocSchema, RuleCompileError, type EngineOptions, type FeatureExtractor, type Outcome, type PolicyDoc, type RuleDiagnostic, type RuleInfo } from './types.js';
import type { ExchangeEvent } from '../events/schema.js';
import type { Alert } from '../surveillance/alert.js';

export interface CompiledPolicy {
  name: string;
  description?: string;
  rules: RuleInfo[];
  thresholds: Partial<Record<Exclude<Outcome, 'allow'>, number>>;
  /** the generated JavaScript (for inspection) */
  readonly code: string;
  /** per-key window sets the rules share (identical aggregates in several rules count once) */
  readonly aggregateGroups: number;
  createEngine(opts?: EngineOptions): RuleEngine;
}

/** Parses and checks a rules source without compiling it. */
export function checkRules(source: string): { ok: boolean; errors: RuleDiagnostic[]; rules: RuleInfo[] } {
  const p = analyzeRules(source);
  return { ok: p.errors.length === 0, errors: p.errors, rules: p.infos };
}

/** Compiles a policy once; each createEngine() gets fresh aggregate state and lists. Throws RuleCompileError. */
export function compilePolicy(doc: PolicyDoc): CompiledPolicy {
  const parsed = PolicyDocSchema.safeParse(doc);
  if (!parsed.success) {
    throw new RuleCompileError(parsed.error.issues.map((i) => ({ message: `policy ${i.path.join('.') || '(root)'}: ${i.message}`, line: 1, column: 1 })), (doc as { name?: string })?.name ?? 'policy');
  }
  const d = parsed.data;
  const p = analyzeRules(d.rules, new Set(Object.keys(d.lists ?? {})));
  if (p.errors.length) throw new RuleCompileError(p.errors, d.name);
  const plan: Plan = planRules(p);
  const thresholds = { ...(d.thresholds ?? {}) };
  const lists = d.lists ?? {};
  return {
    name: d.name,
    ...(d.description !== undefined ? { description: d.description } : {}),
    rules: p.infos,
    thresholds,
    code: plan.source,
    aggregateGroups: p.analyzer.groups.length,
    createEngine: (opts?: EngineOptions) => new RuleEngine({ name: d.name, rules: p.infos, thresholds, lists, plan }, opts),
  };
}

/**
 * Named expressions evaluated with exactly the rule semantics (aggregates include the current
 * event; booleans as 1/0; missing as null). Identical aggregates across expressions share state.
 */
export function createFeatureExtractor(exprs: Record<string, string>, opts: { features?: EngineOptions['features']; maxKeysPerAggregate?: number } = {}): FeatureExtractor {
  const { plan, names, errors } = planValues(exprs);
  if (errors.length) throw new RuleCompileError(errors, 'features');
  const { program, rt } = plan.instantiate({ features: opts.features, maxKeys: opts.maxKeysPerAggregate });
  const out = rt.out;
  return {
    names,
    onEvent(e: ExchangeEvent): Record<string, number | null> {
      program.run(e);
      const r: Record<string, number | null> = {};
      for (let i = 0; i < names.length; i++) r[names[i]] = out[i];
      return r;
    },
    onAlert(a: Alert): void {
      program.alert(a);
    },
  };
}
