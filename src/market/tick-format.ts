import { DECIMAL_RE, scaleOf } from '../events/decimal.js';

const CHUNK_BITS = 10;
const CHUNK = 1 << CHUNK_BITS;
/** Values below this are cached in one flat array (small prices, most sizes). */
const FLAT = 1 << 16;

/**
 * A decimal grid such as a tick size (0.01) or a lot size (0.00001): converts between integer
 * multiples of the step and exact decimal strings. Formatting is integer arithmetic plus a
 * bounded cache in chunks of consecutive values (prices cluster, so a chunk serves many lookups
 * with one small-integer map probe and good locality), because the same price levels and sizes
 * are printed millions of times.
 */
export class DecimalGrid {
  /** Digits after the point in the step. */
  readonly scale: number;
  /** The step in units of 10^-scale (0.05 -> 5 at scale 2). */
  readonly unit: number;
  private readonly pow: number;
  private flat: (string | undefined)[] | null = null;
  private readonly chunks = new Map<number, (string | undefined)[]>();
  private lastChunkId = -1;
  private lastChunk: (string | undefined)[] = [];
  private readonly maxChunks: number;

  constructor(
    readonly step: string,
    maxCache = 1 << 18,
  ) {
    this.maxChunks = Math.max(1, maxCache >> CHUNK_BITS);
    if (!DECIMAL_RE.test(step) || step.startsWith('-')) throw new Error(`invalid step ${JSON.stringify(step)}`);
    this.scale = scaleOf(step);
    this.pow = 10 ** this.scale;
    this.unit = Number(step.replace('.', ''));
    if (!(this.unit > 0)) throw new Error(`step must be positive: ${step}`);
  }

  /** n steps as a canonical decimal string (no trailing zeros). */
  format(n: number): string {
    if (n >= 0 && n < FLAT && (n | 0) === n) {
      let flat = this.flat;
      if (flat === null) this.flat = flat = new Array<string | undefined>(FLAT).fill(undefined);
      let s = flat[n];
      if (s === undefined) flat[n] = s = this.formatUncached(n);
      return s;
    }
    if (n < 0 || n > 0x3fffffff || n !== Math.floor(n)) return this.formatUncached(n);
    const id = n >> CHUNK_BITS;
    let chunk = this.lastChunk;
    if (id !== this.lastChunkId) {
      let c = this.chunks.get(id);
      if (c === undefined) {
        if (this.chunks.size >= this.maxChunks) return this.formatUncached(n);
        c = new Array<string | undefined>(CHUNK).fill(undefined);
        this.chunks.set(id, c);
      }
      this.lastChunkId = id;
      this.lastChunk = chunk = c;
    }
    const i = n & (CHUNK - 1);
    let s = chunk[i];
    if (s === undefined) chunk[i] = s = this.formatUncached(n);
    return s;
  }

  formatUncached(n: number): string {
    const neg = n < 0;
    const v = (neg ? -n : n) * this.unit;
    if (!Number.isSafeInteger(v)) throw new Error(`value out of range: ${n} steps of ${this.step}`);
    let out: string;
    if (this.scale === 0) out = String(v);
    else {
      const int = Math.floor(v / this.pow);
      const frac = v - int * this.pow;
      if (frac === 0) out = String(int);
      else {
        let f = String(frac).padStart(this.scale, '0');
        let end = f.length;
        while (f.charCodeAt(end - 1) === 48) end--;
        f = f.slice(0, end);
        out = `${int}.${f}`;
      }
    }
    return neg && out !== '0' ? `-${out}` : out;
  }

  /** A decimal string as a whole number of steps, or NaN if it is not on the grid. */
  parse(s: string): number {
    if (!DECIMAL_RE.test(s)) return NaN;
    const neg = s.startsWith('-');
    const body = neg ? s.slice(1) : s;
    const dot = body.indexOf('.');
    const int = dot < 0 ? body : body.slice(0, dot);
    let frac = dot < 0 ? '' : body.slice(dot + 1);
    if (frac.length > this.scale) {
      if (/[^0]/.test(frac.slice(this.scale))) return NaN;
      frac = frac.slice(0, this.scale);
    }
    const scaled = Number(int + frac.padEnd(this.scale, '0'));
    if (!Number.isSafeInteger(scaled) || scaled % this.unit !== 0) return NaN;
    const n = scaled / this.unit;
    return neg ? -n : n;
  }

  /** The nearest grid multiple of a float (for simulated quantities). */
  nearest(x: number): number {
    return Math.round((x * this.pow) / this.unit);
  }

  /** Value of n steps as a float (statistics only). */
  toNumber(n: number): number {
    return (n * this.unit) / this.pow;
  }
}
