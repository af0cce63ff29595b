import { z } from 'zod';
import type { ExchangeEvent } from '../events/schema.js';
import type { Alert } from '../surveillance/alert.js';

/** Outcomes by rising severity; a decision takes the most severe of its fired rules and thresholds. */
export const OUTCOMES = ['allow', 'review', 'limit', 'hold', 'block'] as const;
export const Outcome = z.enum(OUTCOMES);
export type Outcome = z.infer<typeof Outcome>;
export const OUTCOME_RANK: Record<Outcome, number> = { allow: 0, review: 1, limit: 2, hold: 3, block: 4 };

export const ListEntry = z.object({
  value: z.string().min(1),
  expiresAt: z.number().int().nonnegative().optional().describe('event time (ms) after which the entry no longer matches'),
});
export type ListEntry = z.infer<typeof ListEntry>;

/** What a policy version holds. */
export const PolicyDocSchema = z
  .object({
    name: z.string().min(1).max(128).regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "-" and "." only'),
    description: z.string().max(2000).optional(),
    rules: z.string().describe('rules source text (see docs/rules.md)'),
    thresholds: z
      .object({ review: z.number().optional(), limit: z.number().optional(), hold: z.number().optional(), block: z.number().optional() })
      .strict()
      .optional()
      .describe('total score >= threshold means at least that outcome'),
    lists: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/), z.array(ListEntry)).optional().describe('allow/deny lists, expiry in event time (ms)'),
  })
  .strict();
export type PolicyDoc = z.infer<typeof PolicyDocSchema>;

export interface RuleDiagnostic {
  message: string;
  /** 1-based */
  line: number;
  /** 1-based */
  column: number;
  /** the rule (or feature) the error is in, when known */
  rule?: string;
}

/** A compiled rule, as the tools around the engine see it. */
export interface RuleInfo {
  name: string;
  description?: string;
  outcome: Outcome;
  score: number;
  tags: string[];
  /** 1-based position of the `rule` keyword */
  line: number;
  column: number;
  /** the `when` condition as written (whitespace collapsed) */
  condition: string;
  /** event fields the rule reads (directly or through aggregates) */
  fields: string[];
  /** canonical text of each aggregate the rule uses */
  aggregates: string[];
  lists: string[];
  features: string[];
}

export class RuleCompileError extends Error {
  readonly diagnostics: RuleDiagnostic[];
  constructor(diagnostics: RuleDiagnostic[], source = 'rules') {
    super(`${source}: ${diagnostics.length} error${diagnostics.length === 1 ? '' : 's'}\n` + diagnostics.map((d) => `  ${d.line}:${d.column}: ${d.message}${d.rule ? ` (rule ${d.rule})` : ''}`).join('\n'));
    this.name = 'RuleCompileError';
    this.diagnostics = diagnostics;
  }
}

export interface ConditionTrace {
  /** the comparison as written */
  text: string;
  /** the operand that was tested, as written (e.g. `distinct(deviceId by account over 1d)`) */
  subject?: string;
  /** the value the event had (left-hand side) */
  actual: unknown;
  op: string;
  /** what it was tested against (right-hand side) */
  threshold: unknown;
  passed: boolean;
}

export interface FiredRule {
  rule: string;
  outcome: Outcome;
  score: number;
  tags: string[];
  conditions: ConditionTrace[];
}

export interface Decision {
  /** deterministic: `${policy}:v${version}:${eventId}` */
  id: string;
  eventId: string;
  ts: number;
  type: string;
  account?: string;
  accounts: string[];
  market?: string;
  outcome: Outcome;
  score: number;
  tags: string[];
  policy: string;
  version?: number;
  fired: FiredRule[];
  /** one sentence */
  explanation: string;
}

/** Plug-in numeric features (graph, models), keyed by account, read at event time. */
export interface FeatureProvider {
  feature(name: string, account: string, ts: number): number | null;
}

export interface EngineOptions {
  version?: number;
  onDecision?: (d: Decision) => void;
  /** also call onDecision for allow decisions (default false) */
  emitAllow?: boolean;
  features?: FeatureProvider;
  /** Idle keys are dropped after their longest window; this caps keys per aggregate (default 1,000,000). */
  maxKeysPerAggregate?: number;
}

export interface FeatureExtractor {
  /** Updates the aggregates with the event and returns each feature's value (booleans as 1/0). */
  onEvent(e: ExchangeEvent): Record<string, number | null>;
  onAlert(a: Alert): void;
  /** names in the order given */
  readonly names: string[];
}
