// Credit and risk scoring: data, GBDT, scorecards, calibration, metrics, imports, artifacts, CV.
export * from './data.js';
export * from './metrics.js';
export * from './calibration.js';
export { ScoringRng } from './rng.js';
export { Tree, Ensemble, DT_CATEGORICAL, DT_DEFAULT_LEFT, DT_STRICT, MISSING_NAN, MISSING_NONE, MISSING_ZERO, type TreeJSON, type EnsembleJSON, type Objective } from './gbdt/tree.js';
export { trainGbdt, GbdtTrainer, DEFAULT_GBDT_PARAMS, type GbdtParams, type TrainResult } from './gbdt/train.js';
export { TreeExplainer, bruteForceShap, type ShapResult } from './gbdt/shap.js';
export { verifyMonotone, type MonotoneReport, type MonotoneViolation } from './gbdt/monotone.js';
export { binFeature, binIndex, optimalGroups, DEFAULT_BINNING, type Bin, type BinningParams, type FeatureBins, type Trend } from './scorecard/binning.js';
export { fitLogistic, type LogisticFit } from './scorecard/logistic.js';
export { Scorecard, trainScorecard, DEFAULT_SCORECARD_PARAMS, type ScorecardParams, type ScorecardJSON, type ReasonCode } from './scorecard/scorecard.js';
export { importXgboostJson, importXgboostFile, parseBaseScore } from './import/xgboost.js';
export { importLightgbmText, importLightgbmFile } from './import/lightgbm.js';
export { ScoringModel, type ModelJSON, type ModelType, type Explanation, type Reason } from './model.js';
export * from './model-artifact.js';
export { trainModel, parseParams, type TrainOptions, type TrainOutput, type ModelKind } from './train.js';
export { crossValidate, type CvOptions, type ModelCv, type FoldResult } from './cv.js';
