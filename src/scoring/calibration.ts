/**
 * Probability calibration on held-out scores: Platt scaling (a logistic fit of the label on the margin,
 * with Platt's smoothed targets) and isotonic regression (pool-adjacent-violators; piecewise-linear
 * interpolation between block means, flat beyond the ends).
 */
import { fitLogistic } from './scorecard/logistic.js';

export type CalibratorJSON =
  | { kind: 'platt'; a: number; b: number }
  | { kind: 'isotonic'; x: number[]; y: number[] };

export interface Calibrator {
  readonly json: CalibratorJSON;
  /** Calibrated probability from the model's raw margin (logit). */
  apply(margin: number): number;
}

export function logit(p: number): number {
  const q = Math.min(1 - 1e-15, Math.max(1e-15, p));
  return Math.log(q / (1 - q));
}

/** Platt: P = σ(a · margin + b). Targets are (N+ + 1)/(N+ + 2) and 1/(N− + 2) as in Platt (1999). */
export function fitPlatt(margins: ArrayLike<number>, y: ArrayLike<number>): Calibrator {
  let pos = 0;
  for (let i = 0; i < y.length; i++) if (y[i] > 0.5) pos++;
  const neg = y.length - pos;
  const hi = (pos + 1) / (pos + 2);
  const lo = 1 / (neg + 2);
  const t = Float64Array.from({ length: y.length }, (_, i) => (y[i] > 0.5 ? hi : lo));
  const fit = fitLogistic([Float64Array.from(margins)], t, 0);
  return calibratorFromJSON({ kind: 'platt', a: fit.coef[0], b: fit.intercept });
}

/** Isotonic regression of y on the margin (non-decreasing), by pool-adjacent-violators. */
export function fitIsotonic(margins: ArrayLike<number>, y: ArrayLike<number>): Calibrator {
  const idx = Array.from({ length: margins.length }, (_, i) => i).sort((a, b) => margins[a] - margins[b] || a - b);
  // Blocks: [sum y, weight, x-sum] merged while they violate monotonicity.
  const sy: number[] = [];
  const w: number[] = [];
  const sx: number[] = [];
  for (const i of idx) {
    sy.push(y[i]);
    w.push(1);
    sx.push(margins[i]);
    while (sy.length > 1 && sy[sy.length - 2] / w[w.length - 2] >= sy[sy.length - 1] / w[w.length - 1]) {
      const a = sy.pop()!, b = w.pop()!, c = sx.pop()!;
      sy[sy.length - 1] += a;
      w[w.length - 1] += b;
      sx[sx.length - 1] += c;
    }
  }
  return calibratorFromJSON({ kind: 'isotonic', x: sx.map((v, i) => v / w[i]), y: sy.map((v, i) => v / w[i]) });
}

export function calibratorFromJSON(json: CalibratorJSON): Calibrator {
  if (json.kind === 'platt') {
    const { a, b } = json;
    return { json, apply: (m) => 1 / (1 + Math.exp(-(a * m + b))) };
  }
  const { x, y } = json;
  return {
    json,
    apply(m: number): number {
      if (x.length === 0) return 0.5;
      if (m <= x[0]) return y[0];
      if (m >= x[x.length - 1]) return y[y.length - 1];
      let lo = 0;
      let hi = x.length - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (x[mid] <= m) lo = mid;
        else hi = mid;
      }
      const t = (m - x[lo]) / (x[hi] - x[lo]);
      return y[lo] + t * (y[hi] - y[lo]);
    },
  };
}
