/**
 * Time-decayed exponentially weighted statistics on event time.
 *
 * Every sample's weight halves each `halfLifeMs` of event time: at time `now` a sample taken at
 * `t` weighs 2^(-(now - t) / halfLife). The mean is the weighted mean and the variance the
 * weighted (population) variance of all samples so far:
 *
 *   W = Σ wᵢ,  mean = Σ wᵢ xᵢ / W,  var = Σ wᵢ (xᵢ - mean)² / W
 *
 * Irregular spacing is handled exactly (this is not the per-sample α recursion, which depends on
 * how often samples arrive). The update is West's weighted incremental algorithm with the old
 * weights decayed first: O(1) per sample, numerically stable, no buffers. Samples older than the
 * newest time are treated as arriving at the newest time. Non-finite values are ignored.
 *
 * Uniform API of the src/stream primitives: `add(t, v)`, `advance(t)`, getters, `reset()`.
 */
export class Ewma {
  readonly halfLifeMs: number;
  private readonly k: number;
  /** Total weight W (decays with time; about the number of samples within ~1.44 half-lives). */
  weight = 0;
  /** Samples seen since the last reset. */
  count = 0;
  private m = 0;
  private s = 0;
  now = -Infinity;

  constructor(halfLifeMs: number) {
    this.halfLifeMs = halfLifeMs;
    this.k = Math.LN2 / halfLifeMs;
  }

  /** Weighted mean, NaN before the first sample. */
  get mean(): number {
    return this.count === 0 ? NaN : this.m;
  }

  /** Weighted population variance, NaN before the first sample. */
  get variance(): number {
    return this.count === 0 ? NaN : this.weight > 0 ? Math.max(0, this.s / this.weight) : 0;
  }

  get std(): number {
    return Math.sqrt(this.variance);
  }

  /** (x - mean) / std; NaN when there is no spread yet. */
  zScore(x: number): number {
    const sd = this.std;
    return sd > 0 ? (x - this.m) / sd : NaN;
  }

  add(t: number, x: number, w = 1): void {
    if (!Number.isFinite(x) || !(w > 0)) return;
    this.advance(t);
    const W = this.weight + w;
    const delta = x - this.m;
    const mNew = this.count === 0 ? x : this.m + (w * delta) / W;
    this.s += w * delta * (x - mNew);
    this.m = mNew;
    this.weight = W;
    this.count++;
  }

  /** Decays the weights to time t (if later). The mean and variance do not change, only the weight. */
  advance(t: number): void {
    if (t > this.now) {
      if (this.now !== -Infinity && this.weight > 0) {
        const d = Math.exp(-(t - this.now) * this.k);
        this.weight *= d;
        this.s *= d;
      }
      this.now = t;
    }
  }

  reset(): void {
    this.weight = this.count = this.m = this.s = 0;
    this.now = -Infinity;
  }
}

/**
 * A time-decayed event rate: each event adds 1 to a counter that halves every `halfLifeMs`.
 * `rate()` is events per second, estimated as counter · ln2 / halfLife (the steady-state value for
 * a constant rate). O(1), no buffers; a cheap message-rate baseline for bursts.
 */
export class EwRate {
  readonly halfLifeMs: number;
  private readonly k: number;
  level = 0;
  now = -Infinity;

  constructor(halfLifeMs: number) {
    this.halfLifeMs = halfLifeMs;
    this.k = Math.LN2 / halfLifeMs;
  }

  add(t: number, n = 1): void {
    this.advance(t);
    this.level += n;
  }

  advance(t: number): void {
    if (t > this.now) {
      if (this.now !== -Infinity && this.level > 0) this.level *= Math.exp(-(t - this.now) * this.k);
      this.now = t;
    }
  }

  /** Events per second at the current time. */
  rate(): number {
    return this.level * this.k * 1000;
  }

  reset(): void {
    this.level = 0;
    this.now = -Infinity;
  }
}
