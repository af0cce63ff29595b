/**
 * L2-regularised logistic regression by iteratively reweighted least squares (Newton's method), with an
 * unpenalised intercept. Dense and small (scorecards have tens of features): each step solves the
 * (p+1)×(p+1) normal equations by Cholesky.
 */
export interface LogisticFit {
  intercept: number;
  coef: number[];
  iterations: number;
  converged: boolean;
  /** Mean log-loss on the training data. */
  logLoss: number;
}

/** Solves A x = b in place for symmetric positive-definite A (row-major, n×n); throws when A is not SPD. */
export function choleskySolve(A: Float64Array, b: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) {
        if (!(s > 0)) throw new Error('logistic regression: the Hessian is not positive definite (collinear features? raise lambda)');
        L[i * n + i] = Math.sqrt(s);
      } else L[i * n + j] = s / L[j * n + j];
    }
  }
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * z[k];
    z[i] = s / L[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * x[k];
    x[i] = s / L[i * n + i];
  }
  return x;
}

/** Fits P(y = 1) = σ(b0 + Σ b_j x_j); `columns` are the predictors (column-major). */
export function fitLogistic(columns: Float64Array[], y: Float64Array, lambda = 1e-3, maxIter = 100, tol = 1e-10): LogisticFit {
  const p = columns.length;
  const n = y.length;
  const d = p + 1;
  const beta = new Float64Array(d);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i];
  mean = Math.min(1 - 1e-9, Math.max(1e-9, mean / n));
  beta[0] = Math.log(mean / (1 - mean));
  const eta = new Float64Array(n);
  let converged = false;
  let it = 0;
  const x = (j: number, i: number) => (j === 0 ? 1 : columns[j - 1][i]);
  for (; it < maxIter; it++) {
    for (let i = 0; i < n; i++) {
      let e = beta[0];
      for (let j = 0; j < p; j++) e += beta[j + 1] * columns[j][i];
      eta[i] = e;
    }
    const H = new Float64Array(d * d);
    const g = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const q = 1 / (1 + Math.exp(-eta[i]));
      const w = Math.max(q * (1 - q), 1e-12);
      const r = q - y[i];
      for (let a = 0; a < d; a++) {
        const xa = x(a, i);
        g[a] += r * xa;
        const wa = w * xa;
        for (let b = 0; b <= a; b++) H[a * d + b] += wa * x(b, i);
      }
    }
    for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) H[b * d + a] = H[a * d + b];
    for (let a = 1; a < d; a++) {
      H[a * d + a] += lambda * n;
      g[a] += lambda * n * beta[a];
    }
    const step = choleskySolve(H, g, d);
    let change = 0;
    for (let a = 0; a < d; a++) {
      beta[a] -= step[a];
      change = Math.max(change, Math.abs(step[a]));
    }
    if (change < tol) {
      converged = true;
      it++;
      break;
    }
  }
  let ll = 0;
  for (let i = 0; i < n; i++) {
    let e = beta[0];
    for (let j = 0; j < p; j++) e += beta[j + 1] * columns[j][i];
    ll += (e > 0 ? e + Math.log1p(Math.exp(-e)) : Math.log1p(Math.exp(e))) - y[i] * e;
  }
  return { intercept: beta[0], coef: [...beta.subarray(1)], iterations: it, converged, logLoss: ll / n };
}
