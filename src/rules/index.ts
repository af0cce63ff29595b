export { OUTCOMES, OUTCOME_RANK, Outcome, PolicyDocSchema, ListEntry, RuleCompileError } from './types.js';
export type { PolicyDoc, RuleDiagnostic, RuleInfo, ConditionTrace, FiredRule, Decision, FeatureProvider, EngineOptions, FeatureExtractor } from './types.js';
export { checkRules, compilePolicy, createFeatureExtractor, type CompiledPolicy } from './policy.js';
export { RuleEngine } from './engine.js';
export { loadPolicyFile, policyJsonSchema, rulesOffsetIn } from './load.js';
export { explainDecision, formatCondition } from './explain.js';
export { KNOWN_FIELDS, VIRTUAL_FIELDS, ALERT_FIELDS, FUNCTIONS, accountsOf } from './fields.js';
export { RollingDistinct } from './state.js';
export * as runtime from './runtime.js';
