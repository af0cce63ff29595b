export { FeatureEngine, FeatureOperator, pointInTimeFeatures, sortInputs, alertInput, type AlertInput, type FeatureInput, type GraphFeatureProvider, type FeatureEngineOptions, type Decision as DecisionTime, type FeatureRow } from './engine.js';
export { FEATURES, type FeatureDef, type FeatureGroup, type FeatureContext } from './definitions.js';
export { AccountState, WINDOWS, type WindowName } from './account.js';
export { AssetPrices, baseAsset } from './market.js';
export { labelledFeatures, type LabelOptions, type LabelledSet } from './training.js';
