export { Policy, Product, Band, HardRule, Pricing, Limit, RuleOp, parsePolicy, policyJsonSchema, type PolicyInput } from './policy.js';
export { Decider, modelVersion, money, type Decision, type ProductDecision, type AppliedRule, type ModelVersion, type Lookup } from './decide.js';
export { RescoreOperator, type ScoreChange, type ScoreState, type Trigger, type TriggerKind, type RescoreOptions, type ProductTerms } from './rescore.js';
export { EXAMPLE_POLICY } from './default-policy.js';
