/**
 * The mining data set: one row per labelled event, one column per candidate feature (a rule
 * expression, evaluated exactly as the rule engine evaluates it). Missing values are NaN: in the
 * rule language a comparison with null is false, and the learner honours that.
 */
export interface MiningDataset {
  /** Feature expressions in the rule language, e.g. `count(by account over 1m where type == "order.cancelled")`. */
  features: string[];
  /** Column-major values, NaN for null. */
  columns: Float64Array[];
  labels: Uint8Array;
  /** How many events each row stands for (negatives are subsampled). */
  weights: Float64Array;
  /** The ground-truth group (episode id) of a positive row, '' for negatives. */
  groups: string[];
}

export function rowCount(ds: MiningDataset): number {
  return ds.labels.length;
}

/** Builds a data set from rows of named values (null for missing). */
export function datasetFromRows(features: string[], rows: { values: (number | null)[]; label: boolean; weight?: number; group?: string }[]): MiningDataset {
  const n = rows.length;
  const columns = features.map(() => new Float64Array(n));
  const labels = new Uint8Array(n);
  const weights = new Float64Array(n);
  const groups: string[] = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    for (let f = 0; f < features.length; f++) {
      const v = r.values[f];
      columns[f][i] = v === null || v === undefined || !Number.isFinite(v) ? NaN : v;
    }
    labels[i] = r.label ? 1 : 0;
    weights[i] = r.weight ?? 1;
    groups[i] = r.label ? (r.group ?? `row${i}`) : '';
  }
  return { features, columns, labels, weights, groups };
}
