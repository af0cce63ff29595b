/**
 * Repeated stratified k-fold cross-validation (seeded), e.g. 5×2: five repetitions of a stratified
 * 2-fold split. Each test fold reports AUC, KS and the cost-matrix cost per applicant at a threshold
 * chosen on the training fold only: the cost-minimising cut over out-of-fold predictions of an inner
 * stratified k-fold on the training fold (in-sample predictions of a GBDT are too confident to pick a
 * threshold from).
 */
import { stratifiedFolds, subset, type Dataset } from './data.js';
import { auc, cost, costOptimalThreshold, GERMAN_COSTS, ks, type CostMatrix } from './metrics.js';
import { ScoringModel } from './model.js';
import { ScoringRng } from './rng.js';
import { trainModel, type ModelKind, type TrainOptions } from './train.js';

export interface CvOptions {
  folds: number;
  repeats: number;
  seed: number;
  models: ModelKind[];
  params?: Partial<Record<ModelKind, Record<string, unknown>>>;
  monotone?: Record<string, 1 | -1>;
  costs?: CostMatrix;
  /** Inner folds for choosing the threshold on each training fold. */
  innerFolds?: number;
  onFold?: (done: number, total: number) => void;
}

export interface FoldResult {
  repeat: number;
  fold: number;
  auc: number;
  ks: number;
  threshold: number;
  /** Cost per applicant on the test fold. */
  cost: number;
}

export interface ModelCv {
  model: ModelKind;
  folds: FoldResult[];
  mean: { auc: number; ks: number; cost: number };
  sd: { auc: number; ks: number; cost: number };
}

function predictAll(model: ScoringModel, ds: Dataset): Float64Array {
  return model.predictDataset(ds);
}

function fit(kind: ModelKind, ds: Dataset, o: CvOptions): ScoringModel {
  const opts: TrainOptions = { model: kind, params: o.params?.[kind], monotone: kind === 'gbdt' ? o.monotone : undefined };
  return new ScoringModel(trainModel(ds, opts).json);
}

/** Out-of-fold predictions of `kind` on `ds` (inner CV), for choosing a threshold. */
function outOfFold(kind: ModelKind, ds: Dataset, k: number, seed: number, o: CvOptions): Float64Array {
  const folds = stratifiedFolds(ds.target!, k, new ScoringRng(seed));
  const oof = new Float64Array(ds.nRows);
  for (let f = 0; f < k; f++) {
    const tr: number[] = [];
    const te: number[] = [];
    for (let i = 0; i < ds.nRows; i++) (folds[i] === f ? te : tr).push(i);
    const m = fit(kind, subset(ds, tr), o);
    const p = predictAll(m, subset(ds, te));
    te.forEach((r, i) => (oof[r] = p[i]));
  }
  return oof;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
};

export function crossValidate(ds: Dataset, o: CvOptions): ModelCv[] {
  if (!ds.target) throw new Error('cross-validation needs a target');
  const costs = o.costs ?? GERMAN_COSTS;
  const inner = o.innerFolds ?? 3;
  const results = new Map<ModelKind, FoldResult[]>(o.models.map((m) => [m, []]));
  const total = o.repeats * o.folds * o.models.length;
  let done = 0;
  for (let rep = 0; rep < o.repeats; rep++) {
    const folds = stratifiedFolds(ds.target, o.folds, new ScoringRng(o.seed + 7919 * rep));
    for (let f = 0; f < o.folds; f++) {
      const tr: number[] = [];
      const te: number[] = [];
      for (let i = 0; i < ds.nRows; i++) (folds[i] === f ? te : tr).push(i);
      const train = subset(ds, tr);
      const test = subset(ds, te);
      for (const kind of o.models) {
        const model = fit(kind, train, o);
        const p = predictAll(model, test);
        const oof = outOfFold(kind, train, inner, o.seed + 104729 * (rep * o.folds + f + 1), o);
        const { threshold } = costOptimalThreshold(train.target!, oof, costs);
        results.get(kind)!.push({ repeat: rep, fold: f, auc: auc(test.target!, p), ks: ks(test.target!, p), threshold, cost: cost(test.target!, p, threshold, costs) / test.nRows });
        o.onFold?.(++done, total);
      }
    }
  }
  return o.models.map((kind) => {
    const fr = results.get(kind)!;
    const pick = (k: 'auc' | 'ks' | 'cost') => fr.map((r) => r[k]);
    return {
      model: kind,
      folds: fr,
      mean: { auc: mean(pick('auc')), ks: mean(pick('ks')), cost: mean(pick('cost')) },
      sd: { auc: sd(pick('auc')), ks: sd(pick('ks')), cost: sd(pick('cost')) },
    };
  });
}
