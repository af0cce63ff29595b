/** Trade surveillance: engine, detector API, alerts, evaluation. See docs/surveillance.md. */
export { Alert, BookSnapshot as AlertBookSnapshot, Evidence, FeatureCheck, FeatureOp, Severity, AlertStatus, severityOf, alertId, compareAlerts, finalAlerts, alertJsonSchema, type AlertSink } from './alert.js';
export { defineDetector, baseParams, policyFrom, StaticLinks, type Detector, type DetectorDefinition, type DetectorContext, type EpisodePolicy, type AccountLinks } from './detector.js';
export { AlertEmitter, Episode, type EmitterOptions, type EmitterStats } from './emitter.js';
export { AlertFilter, type SuppressionRule } from './filter.js';
export { SurveillanceConfig, parseConfig, loadConfig, loadPlugins, resolveDetectors, stripJsonComments, detectorParamsJsonSchema, type SurveillanceConfigInput } from './config.js';
export { SurveillanceEngine, type SurveillanceOptions, type EngineStats } from './engine.js';
export { PartitionRuntime, type RuntimeStats } from './runtime.js';
export { Partitioner, partitionKey, fnv1a } from './partitioner.js';
export { BUILTIN_DETECTORS, selfTrade, fatFinger } from './detectors/index.js';
export { evaluate, evaluateRuns, alertMatchesLabel, formatEvalTable, readAlertsFile, readLabelsFile, type EvalReport, type EvalOptions, type EvalRun, type TypologyMetrics } from './eval.js';
export { createSurveillance, AlertFileSink, AlertCollector, AlertCounter, formatSurveillanceSummary, surveillanceSummary, type AlertCounts, type SurveillanceSummary } from './run.js';
