/**
 * Seeded pseudo-random numbers for scoring (row/feature sampling, CV folds, probes).
 * sfc32 with a splitmix32 seeding: pure 32-bit integer arithmetic, so a seed reproduces a model
 * byte for byte on every platform. Never Math.random.
 */
const TWO32 = 4294967296;

function splitmix32(state: number): [number, number] {
  const s = (state + 0x9e3779b9) | 0;
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [s, (z ^ (z >>> 16)) >>> 0];
}

export class ScoringRng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = Math.floor(seed) | 0;
    let w: number;
    [s, w] = splitmix32(s);
    this.a = w;
    [s, w] = splitmix32(s ^ (Math.floor(seed / TWO32) | 0));
    this.b = w;
    [s, w] = splitmix32(s);
    this.c = w;
    [, w] = splitmix32(s);
    this.d = w | 1;
    for (let i = 0; i < 16; i++) this.u32();
  }

  u32(): number {
    const a = this.a, b = this.b, c = this.c, d = this.d;
    const t = (((a + b) | 0) + d) | 0;
    this.d = (d + 1) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    this.c = (((c << 21) | (c >>> 11)) + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / TWO32;
  }

  /** Integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.float() * n);
  }

  shuffle<T extends { length: number; [i: number]: any }>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
    return items;
  }

  /** k distinct indices from [0, n), in increasing order. */
  sampleIndices(n: number, k: number): Int32Array {
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    const m = Math.min(k, n);
    for (let i = 0; i < m; i++) {
      const j = i + this.below(n - i);
      const t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
    }
    return idx.slice(0, m).sort();
  }
}
