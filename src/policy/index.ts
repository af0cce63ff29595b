// The policy lifecycle (store side). The analysis side (backtest, shadow, mining, tuning) adds its exports below.
export { PolicyRegistry, canonicalJson, contentHash, type PolicyVersion, type PolicySummary, type Approval, type StoredReport, type ShadowDecisionInput, type StoredShadowDecision, type ShadowComparison, type RegistryOptions } from './registry.js';
export { PolicyLifecycleError, POLICY_STATES, LIFECYCLE_PATH, TRANSITIONS, nextState, type PolicyState, type LifecycleAction, type PolicyLifecycleErrorCode } from './lifecycle.js';
export { formatHistory, type AuditEntry } from './audit.js';
export { diffPolicies, policyText, unifiedDiff } from './diff.js';
