/**
 * One interface over every model riskloop scores with (its own GBDT, scorecards, imported XGBoost and
 * LightGBM ensembles): probability, raw margin and reason codes with the applicant's values.
 */
import { calibratorFromJSON, type Calibrator, type CalibratorJSON } from './calibration.js';
import { formatValue, type Dataset, type FeatureSpec } from './data.js';
import { TreeExplainer } from './gbdt/shap.js';
import { Ensemble, type EnsembleJSON } from './gbdt/tree.js';
import { Scorecard, type ScorecardJSON } from './scorecard/scorecard.js';

export type ModelType = 'gbdt' | 'scorecard' | 'xgboost' | 'lightgbm';

export interface Reason {
  feature: string;
  /** The applicant's value, readable (category label, number, or "missing"). */
  value: string;
  /** Tree models: the SHAP contribution to the log-odds of bad (positive = riskier). */
  contribution?: number;
  /** Scorecards: the bin, its points, the best points the feature offers, and the points lost. */
  bin?: string;
  points?: number;
  maxPoints?: number;
  lost?: number;
}

export interface Explanation {
  probability: number;
  margin: number;
  /** Tree models: the SHAP base value (expected margin). */
  bias?: number;
  /** Scorecards: total points. */
  score?: number;
  /** Most adverse first. */
  reasons: Reason[];
}

export interface ModelJSON {
  format: 'riskloop-model';
  formatVersion: 1;
  type: ModelType;
  params: Record<string, unknown>;
  model: EnsembleJSON | ScorecardJSON;
  calibration?: CalibratorJSON;
}

export class ScoringModel {
  readonly features: FeatureSpec[];
  private explainer?: TreeExplainer;
  private phi?: Float64Array;
  private readonly calibrator?: Calibrator;
  readonly ensemble?: Ensemble;
  readonly scorecard?: Scorecard;

  constructor(readonly json: ModelJSON) {
    if (json.format !== 'riskloop-model') throw new Error('not a riskloop model (model.json has no format "riskloop-model")');
    if (json.formatVersion !== 1) throw new Error(`model format version ${json.formatVersion} is not supported (1)`);
    if (json.type === 'scorecard') this.scorecard = Scorecard.fromJSON(json.model as ScorecardJSON);
    else this.ensemble = Ensemble.fromJSON(json.model as EnsembleJSON);
    this.features = (this.scorecard ?? this.ensemble)!.features;
    if (json.calibration) this.calibrator = calibratorFromJSON(json.calibration);
  }

  get type(): ModelType {
    return this.json.type;
  }

  margin(row: ArrayLike<number>): number {
    return this.scorecard ? this.scorecard.margin(row) : this.ensemble!.margin(row);
  }

  /** Probability of bad (or the prediction of a regression model). */
  predict(row: ArrayLike<number>): number {
    const m = this.margin(row);
    if (this.calibrator) return this.calibrator.apply(m);
    return this.scorecard ? 1 / (1 + Math.exp(-m)) : this.ensemble!.link(m);
  }

  predictDataset(ds: Dataset): Float64Array {
    const out = new Float64Array(ds.nRows);
    const row = new Float64Array(ds.columns.length);
    for (let r = 0; r < ds.nRows; r++) {
      for (let f = 0; f < ds.columns.length; f++) row[f] = ds.columns[f][r];
      out[r] = this.predict(row);
    }
    return out;
  }

  /** Reason codes: the `top` most adverse features with their values. */
  explain(row: ArrayLike<number>, top = 4): Explanation {
    if (this.scorecard) {
      const probability = this.predict(row);
      const reasons = this.scorecard.reasons(row);
      return {
        probability,
        margin: this.scorecard.margin(row),
        score: this.scorecard.score(row),
        reasons: reasons.filter((r) => r.lost > 1e-9).slice(0, top).map((r) => ({ feature: r.feature, value: r.value, bin: r.bin, points: r.points, maxPoints: r.maxPoints, lost: r.lost })),
      };
    }
    this.explainer ??= new TreeExplainer(this.ensemble!);
    // The contributions stay internal here (only the top reasons leave), so one buffer serves every call.
    this.phi ??= new Float64Array(this.features.length);
    const s = this.explainer.explain(row, this.phi);
    // The explainer's split decisions also give the trees' margin, summed as margin() sums it: no second traversal.
    const probability = this.calibrator ? this.calibrator.apply(s.treeMargin) : this.ensemble!.link(s.treeMargin);
    const reasons = topPositive(s.contributions, top).map((f) => ({ feature: this.features[f].name, value: formatValue(this.features[f], row[f]), contribution: s.contributions[f] }));
    return { probability, margin: s.margin, bias: s.bias, reasons };
  }

  /** All SHAP contributions (tree models). */
  contributions(row: ArrayLike<number>): { bias: number; values: Float64Array } {
    if (!this.ensemble) throw new Error('contributions are for tree models; scorecards explain in points');
    this.explainer ??= new TreeExplainer(this.ensemble);
    const s = this.explainer.explain(row);
    return { bias: s.bias, values: s.contributions };
  }
}

/** Indices of the `k` largest positive values, largest first (ties: lower index first); no full sort. */
function topPositive(v: Float64Array, k: number): number[] {
  const out: number[] = [];
  if (k <= 0) return out;
  for (let f = 0; f < v.length; f++) {
    const x = v[f];
    if (!(x > 0)) continue;
    let i: number;
    if (out.length < k) i = out.push(f) - 1;
    else if (x > v[out[k - 1]]) i = k - 1;
    else continue;
    while (i > 0 && v[out[i - 1]] < x) {
      out[i] = out[i - 1];
      i--;
    }
    out[i] = f;
  }
  return out;
}
