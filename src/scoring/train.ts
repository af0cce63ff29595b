/**
 * Training entry points shared by the CLI, cross-validation and the benchmark: parameter validation,
 * GBDT (with optional early stopping on a seeded stratified hold-out) or scorecard, optional calibration,
 * and the monotone-constraint check after GBDT training.
 */
import { z } from 'zod';
import { fitIsotonic, fitPlatt, type CalibratorJSON } from './calibration.js';
import { stratifiedFolds, subset, type Dataset } from './data.js';
import { verifyMonotone, type MonotoneReport } from './gbdt/monotone.js';
import { DEFAULT_GBDT_PARAMS, trainGbdt, type GbdtParams } from './gbdt/train.js';
import { evaluate } from './metrics.js';
import { ScoringModel, type ModelJSON } from './model.js';
import { ScoringRng } from './rng.js';
import { DEFAULT_SCORECARD_PARAMS, trainScorecard, type ScorecardParams } from './scorecard/scorecard.js';

const trend = z.enum(['auto', 'ascending', 'descending', 'peak', 'valley']);
const binningSchema = z.strictObject({
  trend: trend.optional(),
  maxBins: z.number().int().min(1).max(50).optional(),
  preBins: z.number().int().min(2).max(255).optional(),
  minBinShare: z.number().min(0).max(0.5).optional(),
  smoothing: z.number().min(0).optional(),
  specialValues: z.array(z.number()).optional(),
});

export const gbdtParamsSchema = z.strictObject({
  objective: z.enum(['binary', 'regression']).optional(),
  nTrees: z.number().int().min(1).max(100000).optional(),
  learningRate: z.number().positive().max(1).optional(),
  maxLeaves: z.number().int().min(2).max(4096).optional(),
  maxDepth: z.number().int().min(0).max(64).optional(),
  minDataInLeaf: z.number().int().min(1).optional(),
  minChildWeight: z.number().min(0).optional(),
  lambda: z.number().min(0).optional(),
  minSplitGain: z.number().min(0).optional(),
  maxBins: z.number().int().min(2).max(255).optional(),
  subsample: z.number().positive().max(1).optional(),
  colsample: z.number().positive().max(1).optional(),
  seed: z.number().int().optional(),
  monotone: z.record(z.string(), z.union([z.literal(1), z.literal(-1)])).optional(),
  earlyStoppingRounds: z.number().int().min(0).optional(),
  validFraction: z.number().positive().max(0.5).optional(),
  maxCatOneHot: z.number().int().min(1).optional(),
  maxCatThreshold: z.number().int().min(1).optional(),
  catL2: z.number().min(0).optional(),
  catSmooth: z.number().min(0).optional(),
  minDataPerGroup: z.number().int().min(1).optional(),
  catOrdinal: z.boolean().optional(),
});

export const scorecardParamsSchema = z.strictObject({
  binning: binningSchema.optional(),
  perFeature: z.record(z.string(), binningSchema).optional(),
  minIV: z.number().min(0).optional(),
  lambda: z.number().min(0).optional(),
  dropWrongSign: z.boolean().optional(),
  points0: z.number().optional(),
  odds0: z.number().positive().optional(),
  pdo: z.number().positive().optional(),
});

export type ModelKind = 'gbdt' | 'scorecard';

export interface TrainOptions {
  model: ModelKind;
  params?: Record<string, unknown>;
  /** Monotone constraints by feature (GBDT). */
  monotone?: Record<string, 1 | -1>;
  calibrate?: 'platt' | 'isotonic';
}

export interface TrainOutput {
  json: ModelJSON;
  /** Predictions on the full training data. */
  trainPredictions: Float64Array;
  metrics: Record<string, unknown>;
  params: Record<string, unknown>;
  monotone?: MonotoneReport;
}

function describeZod(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ');
}

export function parseParams(kind: ModelKind, params: Record<string, unknown> = {}): Record<string, unknown> {
  const r = (kind === 'gbdt' ? gbdtParamsSchema : scorecardParamsSchema).safeParse(params);
  if (!r.success) throw new Error(`invalid ${kind} parameters: ${describeZod(r.error)}`);
  return r.data as Record<string, unknown>;
}

/** Stratified seeded split: indices of the hold-out (fraction) and the rest. */
export function holdout(y: Float64Array, fraction: number, seed: number): { train: number[]; valid: number[] } {
  const k = Math.max(2, Math.round(1 / fraction));
  const folds = stratifiedFolds(y, k, new ScoringRng(seed ^ 0x5eed));
  const train: number[] = [];
  const valid: number[] = [];
  for (let i = 0; i < y.length; i++) (folds[i] === 0 ? valid : train).push(i);
  return { train, valid };
}

export function trainModel(ds: Dataset, opts: TrainOptions): TrainOutput {
  if (!ds.target) throw new Error('training needs a target column');
  const params = parseParams(opts.model, opts.params);
  let calibration: CalibratorJSON | undefined;
  if (opts.model === 'scorecard') {
    const p = params as Partial<ScorecardParams>;
    const sc = trainScorecard(ds, p);
    const json: ModelJSON = { format: 'riskloop-model', formatVersion: 1, type: 'scorecard', params: { ...DEFAULT_SCORECARD_PARAMS, ...p }, model: sc.toJSON() };
    const margins = Float64Array.from({ length: ds.nRows }, (_, r) => sc.margin(ds.columns.map((c) => c[r])));
    if (opts.calibrate) {
      calibration = (opts.calibrate === 'platt' ? fitPlatt(margins, ds.target) : fitIsotonic(margins, ds.target)).json;
      json.calibration = calibration;
    }
    const pred = new ScoringModel(json).predictDataset(ds);
    const ivs = Object.fromEntries(sc.j.binnings.map((b) => [b.feature, b.iv]));
    return { json, trainPredictions: pred, metrics: { train: summary(ds.target, pred), informationValue: ivs, featuresInModel: sc.j.model.map((f) => f.binning.feature) }, params: json.params };
  }
  const { validFraction, ...rest } = params as Partial<GbdtParams> & { validFraction?: number };
  const p: Partial<GbdtParams> = { ...rest, monotone: { ...(rest.monotone ?? {}), ...(opts.monotone ?? {}) } };
  const seed = p.seed ?? DEFAULT_GBDT_PARAMS.seed;
  let train = ds;
  let valid: Dataset | undefined;
  if ((p.earlyStoppingRounds ?? 0) > 0 || opts.calibrate) {
    const h = holdout(ds.target, validFraction ?? 0.2, seed);
    train = subset(ds, h.train);
    valid = subset(ds, h.valid);
  }
  const result = trainGbdt(train, p, valid);
  const model = result.model;
  const json: ModelJSON = { format: 'riskloop-model', formatVersion: 1, type: 'gbdt', params: { ...result.params, ...(validFraction ? { validFraction } : {}) }, model: model.toJSON() };
  if (opts.calibrate && valid) {
    const vm = Float64Array.from({ length: valid.nRows }, (_, r) => model.margin(valid!.columns.map((c) => c[r])));
    calibration = (opts.calibrate === 'platt' ? fitPlatt(vm, valid.target!) : fitIsotonic(vm, valid.target!)).json;
    json.calibration = calibration;
  }
  let monotone: MonotoneReport | undefined;
  if (Object.keys(p.monotone ?? {}).length) {
    const probes: Float64Array[] = [];
    const step = Math.max(1, Math.floor(ds.nRows / 200));
    for (let r = 0; r < ds.nRows; r += step) probes.push(Float64Array.from(ds.columns, (c) => c[r]));
    monotone = verifyMonotone(model, p.monotone!, { probes });
    if (!monotone.ok) throw new Error(`monotone constraints violated after training: ${JSON.stringify(monotone.violations.slice(0, 3))}`);
  }
  const scoring = new ScoringModel(json);
  const pred = scoring.predictDataset(ds);
  const metrics: Record<string, unknown> = { train: summary(ds.target, pred), trees: model.trees.length, importance: result.importance };
  if (valid) {
    const vp = scoring.predictDataset(valid);
    metrics.valid = { ...summary(valid.target!, vp), bestIteration: result.bestIteration };
  }
  if (monotone) metrics.monotone = { ok: monotone.ok, constraints: monotone.constraints, leafPairsChecked: monotone.leafPairsChecked, probePoints: monotone.probePoints };
  return { json, trainPredictions: pred, metrics, params: json.params, monotone };
}

function summary(y: Float64Array, p: Float64Array): Record<string, number> {
  const e = evaluate(y, p);
  return { n: e.n, positives: e.positives, auc: e.auc, ks: e.ks, gini: e.gini, logLoss: e.logLoss, brier: e.brier };
}
