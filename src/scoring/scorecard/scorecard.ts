/**
 * Scorecards: optimal WoE binning → logistic regression on WoE → points by PDO scaling.
 *
 * Scaling: score = offset + factor · ln(odds of good), factor = pdo / ln 2,
 * offset = points0 − factor · ln(odds0): a score of points0 means good:bad odds of odds0, and every pdo
 * points double the odds. With logit P(bad) = b0 + Σ b_j · WoE_j, the points of bin i of feature j are
 * −factor · (b_j · WoE_ji + b0 / k) + offset / k (k features), so a row's points add up to its score.
 *
 * Reason codes (adverse action): the features whose bin costs the most points against the best bin the
 * feature offers.
 */
import { formatValue, type Dataset, type FeatureSpec } from '../data.js';
import { binDatasetFeatures, binIndex, DEFAULT_BINNING, type BinningParams, type FeatureBins } from './binning.js';
import { fitLogistic } from './logistic.js';

export interface ScorecardParams {
  binning: Partial<BinningParams>;
  /** Per-feature binning overrides, e.g. { age: { trend: 'descending' } }. */
  perFeature: Record<string, Partial<BinningParams>>;
  /** Features with IV below this are left out. */
  minIV: number;
  /** L2 strength (per row) of the logistic regression. */
  lambda: number;
  /** Refit without features whose coefficient has the wrong sign (WoE should lower the bad odds). */
  dropWrongSign: boolean;
  points0: number;
  odds0: number;
  pdo: number;
}

export const DEFAULT_SCORECARD_PARAMS: ScorecardParams = {
  binning: {},
  perFeature: {},
  minIV: 0.02,
  lambda: 1e-3,
  dropWrongSign: true,
  points0: 600,
  odds0: 50,
  pdo: 20,
};

export interface ScorecardFeature {
  /** Index in the model's feature list. */
  index: number;
  binning: FeatureBins;
  coef: number;
  /** Points per bin, in bin order. */
  points: number[];
}

export interface ScorecardJSON {
  kind: 'scorecard';
  features: FeatureSpec[];
  intercept: number;
  /** Features in the model (others were binned but left out). */
  model: ScorecardFeature[];
  /** All binnings, for reporting (IV of features left out). */
  binnings: FeatureBins[];
  scaling: { points0: number; odds0: number; pdo: number; factor: number; offset: number };
}

export interface ReasonCode {
  feature: string;
  value: string;
  bin: string;
  points: number;
  maxPoints: number;
  /** Points lost against the best bin of the feature. */
  lost: number;
}

export class Scorecard {
  constructor(readonly j: ScorecardJSON) {}

  static fromJSON(j: ScorecardJSON): Scorecard {
    if (j.kind !== 'scorecard') throw new Error(`not a scorecard: ${j.kind}`);
    return new Scorecard(j);
  }

  toJSON(): ScorecardJSON {
    return this.j;
  }

  get features(): FeatureSpec[] {
    return this.j.features;
  }

  /** logit P(bad) for one row (feature order). */
  margin(row: ArrayLike<number>): number {
    let m = this.j.intercept;
    for (const f of this.j.model) m += f.coef * f.binning.bins[binIndex(f.binning, row[f.index])].woe;
    return m;
  }

  predict(row: ArrayLike<number>): number {
    return 1 / (1 + Math.exp(-this.margin(row)));
  }

  /** Total points (higher = safer). Equals offset − factor · margin. */
  score(row: ArrayLike<number>): number {
    let s = 0;
    for (const f of this.j.model) s += f.points[binIndex(f.binning, row[f.index])];
    return s;
  }

  predictColumns(columns: Float64Array[], nRows: number): Float64Array {
    const out = new Float64Array(nRows);
    const row = new Float64Array(columns.length);
    for (let r = 0; r < nRows; r++) {
      for (let f = 0; f < columns.length; f++) row[f] = columns[f][r];
      out[r] = this.predict(row);
    }
    return out;
  }

  /** Every model feature's points for the row, worst (most points lost) first. */
  reasons(row: ArrayLike<number>): ReasonCode[] {
    const out = this.j.model.map((f) => {
      const b = binIndex(f.binning, row[f.index]);
      const max = Math.max(...f.points);
      return {
        feature: f.binning.feature,
        value: formatValue(this.j.features[f.index], row[f.index]),
        bin: f.binning.bins[b].label,
        points: f.points[b],
        maxPoints: max,
        lost: max - f.points[b],
      };
    });
    return out.sort((a, b) => b.lost - a.lost || a.feature.localeCompare(b.feature));
  }
}

export function trainScorecard(ds: Dataset, params: Partial<ScorecardParams> = {}): Scorecard {
  const p = { ...DEFAULT_SCORECARD_PARAMS, ...params, binning: { ...DEFAULT_BINNING, ...(params.binning ?? {}) } };
  if (!ds.target) throw new Error('scorecard training needs a target');
  const y = ds.target;
  const binnings = binDatasetFeatures(ds, { ...p.binning, perFeature: p.perFeature });
  // WoE columns.
  const woe = binnings.map((fb, f) => {
    const col = new Float64Array(ds.nRows);
    const src = ds.columns[f];
    for (let r = 0; r < ds.nRows; r++) col[r] = fb.bins[binIndex(fb, src[r])].woe;
    return col;
  });
  let chosen = binnings.map((fb, f) => ({ fb, f })).filter(({ fb }) => fb.iv >= p.minIV && fb.bins.filter((b) => b.count > 0).length > 1).map(({ f }) => f);
  if (chosen.length === 0) throw new Error(`no feature has an information value of at least ${p.minIV} (minIV)`);
  let fit = fitLogistic(chosen.map((f) => woe[f]), y, p.lambda);
  // With WoE = ln(%good/%bad), a sound feature has a negative coefficient on logit P(bad).
  while (p.dropWrongSign && chosen.length > 1) {
    let worst = -1;
    fit.coef.forEach((c, i) => {
      if (c > 0 && (worst < 0 || c > fit.coef[worst])) worst = i;
    });
    if (worst < 0) break;
    chosen = chosen.filter((_, i) => i !== worst);
    fit = fitLogistic(chosen.map((f) => woe[f]), y, p.lambda);
  }
  const factor = p.pdo / Math.LN2;
  const offset = p.points0 - factor * Math.log(p.odds0);
  const k = Math.max(1, chosen.length);
  const model: ScorecardFeature[] = chosen.map((f, i) => {
    const coef = fit.coef[i];
    const points = binnings[f].bins.map((b) => -factor * (coef * b.woe + fit.intercept / k) + offset / k);
    return { index: f, binning: binnings[f], coef, points };
  });
  return new Scorecard({
    kind: 'scorecard',
    features: ds.features,
    intercept: fit.intercept,
    model,
    binnings,
    scaling: { points0: p.points0, odds0: p.odds0, pdo: p.pdo, factor, offset },
  });
}
