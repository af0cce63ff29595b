// The policy lifecycle (store side). The analysis side (backtest, shadow, mining, tuning) adds its exports below.
export { PolicyRegistry, canonicalJson, contentHash, type PolicyVersion, type PolicySummary, type Approval, type StoredReport, type ShadowDecisionInput, type StoredShadowDecision, type ShadowComparison, type RegistryOptions } from './registry.js';
export { PolicyLifecycleError, POLICY_STATES, LIFECYCLE_PATH, TRANSITIONS, nextState, type PolicyState, type LifecycleAction, type PolicyLifecycleErrorCode } from './lifecycle.js';
export { formatHistory, type AuditEntry } from './audit.js';
export { diffPolicies, policyText, unifiedDiff } from './diff.js';
// Analysis: backtest, shadow, mining, tuning, labels.
export { backtestPolicy, candidateBeatsBaseline, formatBacktest, decisionExample, type BacktestOptions, type BacktestReport, type BacktestDiff, type PolicyRun, type DecisionExample, type TypologyRecall } from './backtest.js';
export { ShadowRunner, runShadow, formatShadowStats, type ShadowRunnerOptions, type ShadowStats, type ShadowVersion, type RunShadowOptions } from './shadow.js';
export { mineRules, policyWithRules, type MineOptions, type MineResult, type MinedCandidate } from './mine.js';
export { tuneThresholds, formatTuning, type TuneOptions, type TuneResult, type RuleTuning } from './tune.js';
export { EventLabeler, CaseDisposition, readDispositionsFile, readTruthFile, type EventLabel, type TruthGroup, type LabelerOptions } from './labels.js';
export { AlertScorer, alertKey, type Scorecard } from './evaluation.js';
export { streamInput, truthFor, type EventInput, type InputProgress, type StreamOptions, type StreamResult } from './input.js';
export { learnRules, coveredRows, ruleMetrics, readableBetween, type MinedRule, type MinedCondition, type RuleMetrics, type LearnerOptions, type ConditionOp } from './mining/learner.js';
export { datasetFromRows, type MiningDataset } from './mining/dataset.js';
export { defaultFeatureCatalogue } from './mining/features.js';
export { renderRule, conditionText, numberLiteral } from './mining/render.js';
export { searchThresholds, scoreThresholds, type TuneData, type TuneParameter, type TuneObjective, type SweepPoint, type ParameterResult, type SearchResult } from './tuning/search.js';
