/**
 * Allocation-free decimal-string <-> scaled-integer conversion for the hot path.
 *
 * Exact decimals travel as strings; books and positions compute on integers (ticks, lots) held in
 * JS numbers, exact while below 2^53. `parseDecimal` parses into the module-level `parsed` scratch
 * object (no allocation): the mantissa with trailing fractional zeros removed and its scale, so
 * "61837.63000000" is 6183763 at scale 2.
 */
export const parsed = { mantissa: 0, scale: 0, negative: false };

export const POW10: readonly number[] = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** Parses s into `parsed`; false if s is not a plain decimal or its digits exceed 2^53. */
export function parseDecimal(s: string): boolean {
  const n = s.length;
  let i = 0;
  let neg = false;
  if (n > 0 && s.charCodeAt(0) === 45) {
    neg = true;
    i = 1;
  }
  let m = 0;
  let scale = -1;
  let digits = 0;
  let pendingZeros = 0; // fractional zeros not yet folded into m (they may be trailing)
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (scale >= 0) return false;
      scale = 0;
      continue;
    }
    const d = c - 48;
    if (d < 0 || d > 9) return false;
    digits++;
    if (scale >= 0) {
      scale++;
      if (d === 0) {
        pendingZeros++;
        continue;
      }
      if (pendingZeros > 0) {
        m *= POW10[pendingZeros] ?? 10 ** pendingZeros;
        pendingZeros = 0;
      }
    }
    m = m * 10 + d;
  }
  if (digits === 0) return false;
  if (scale < 0) scale = 0;
  scale -= pendingZeros;
  if (m > Number.MAX_SAFE_INTEGER) return false;
  parsed.mantissa = neg ? -m : m;
  parsed.scale = scale;
  parsed.negative = neg;
  return true;
}

/**
 * A decimal string as a float, identical to `+s` (a plain decimal's digits over a power of ten is one
 * correctly rounded IEEE division, as is the conversion) but several times cheaper on the hot path;
 * anything else (exponents, signs, spaces, > 2^53 digits) goes through `+s`.
 */
export function decimalToFloat(s: string): number {
  if (parseDecimal(s) && parsed.scale < POW10.length) return parsed.mantissa / POW10[parsed.scale];
  return +s;
}

/** Number of significant decimals of s ("1.500" -> 1), or -1 if s is not a decimal. */
export function significantDecimals(s: string): number {
  return parseDecimal(s) ? parsed.scale : -1;
}

/**
 * s as an integer at `scale` (e.g. "1.5" at scale 2 -> 150). NaN if s is not a decimal, needs more
 * decimals than `scale` (it would be rounded), or does not fit exactly in a double.
 */
export function toScaledInt(s: string, scale: number): number {
  if (!parseDecimal(s) || parsed.scale > scale) return NaN;
  const v = parsed.mantissa * POW10[scale - parsed.scale];
  return Number.isSafeInteger(v) ? v : NaN;
}

/** Integer at `scale` -> canonical decimal string (no trailing zeros): 150 at scale 2 -> "1.5". */
export function formatScaled(v: number, scale: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (scale <= 0) return String(v);
  const neg = v < 0;
  let digits = String(neg ? -v : v);
  if (digits.length <= scale) digits = '0'.repeat(scale - digits.length + 1) + digits;
  const int = digits.slice(0, digits.length - scale);
  let frac = digits.slice(digits.length - scale);
  let end = frac.length;
  while (end > 0 && frac.charCodeAt(end - 1) === 48) end--;
  frac = frac.slice(0, end);
  const out = frac ? `${int}.${frac}` : int;
  return neg && out !== '0' ? `-${out}` : out;
}
