import { DECIMAL_RE, scaleOf } from '../events/decimal.js';

/** ZEROS[k] is k zeros (fraction padding). */
const ZEROS = Array.from({ length: 20 }, (_, k) => '0'.repeat(k));

/** Default slots of the format cache (a power of two). */
const SLOTS = 1 << 14;

/**
 * A decimal grid such as a tick size (0.01) or a lot size (0.00001): converts between integer
 * multiples of the step and exact decimal strings. Formatting is integer arithmetic behind a
 * direct-mapped cache (slot = value mod the slot count, 2^14 by default): prices cluster, so nearby
 * levels land in distinct slots and stay cached, while one-off sizes just replace a slot. No
 * allocation on a hit.
 */
export class DecimalGrid {
  /** Digits after the point in the step. */
  readonly scale: number;
  /** The step in units of 10^-scale (0.05 -> 5 at scale 2). */
  readonly unit: number;
  private readonly pow: number;
  /**
   * The format cache, allocated up front (it is hit on every event that carries a price or size):
   * int32 keys in a typed array (a hit compares raw integers and reads one text), texts alongside.
   * Keys start at -1 (no count is negative), so a text slot is read only after it was written.
   */
  private readonly keys: Int32Array;
  private readonly texts: string[];
  private readonly mask: number;

  /**
   * `slots` (a power of two) sizes the cache: values that recur soon (prices near the touch) want
   * many; values that are mostly one-off (order sizes) want few, since every cached text stays
   * alive, and is copied by the scavenger, until its slot is reused.
   */
  constructor(
    readonly step: string,
    slots = SLOTS,
  ) {
    if (!(slots > 0 && (slots & (slots - 1)) === 0)) throw new Error(`cache slots must be a power of two: ${slots}`);
    this.keys = new Int32Array(slots).fill(-1);
    this.texts = new Array<string>(slots).fill('');
    this.mask = slots - 1;
    if (!DECIMAL_RE.test(step) || step.startsWith('-')) throw new Error(`invalid step ${JSON.stringify(step)}`);
    this.scale = scaleOf(step);
    this.pow = 10 ** this.scale;
    this.unit = Number(step.replace('.', ''));
    if (!(this.unit > 0)) throw new Error(`step must be positive: ${step}`);
  }

  /** n steps as a canonical decimal string (no trailing zeros). */
  format(n: number): string {
    if ((n | 0) !== n || n < 0) return this.formatUncached(n);
    const at = n & this.mask;
    if (this.keys[at] === n) return this.texts[at];
    const s = this.formatUncached(n);
    this.keys[at] = n;
    this.texts[at] = s;
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
        // Strip trailing zeros arithmetically, then left-pad with a precomputed run of zeros.
        let f = frac;
        let digits = this.scale;
        while (f % 10 === 0) {
          f /= 10;
          digits--;
        }
        const fs = String(f);
        out = int + '.' + ZEROS[digits - fs.length] + fs;
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

/** LOW4[k] is k as four digits, zero-padded. */
const LOW4 = Array.from({ length: 10_000 }, (_, k) => String(k).padStart(4, '0'));

/**
 * Decimal text of a growing counter with a fixed prefix (event ids 'e123', order and trade ids):
 * the text of everything above the last four digits is kept while it lasts, so each id is one
 * concatenation instead of a number-to-string conversion and a concatenation.
 */
export class CounterText {
  private hi = -1;
  private head = '';
  constructor(readonly prefix = '') {}

  text(n: number): string {
    if (n < 10_000 || (n | 0) !== n) return this.prefix + String(n);
    const hi = (n / 10_000) | 0;
    if (hi !== this.hi) {
      this.hi = hi;
      this.head = this.prefix + String(hi);
    }
    return this.head + LOW4[n - hi * 10_000];
  }
}
