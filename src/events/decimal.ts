import { z } from 'zod';

/**
 * Exact decimals travel as strings from input to output; floats are only for statistics.
 * Scaled-integer helpers let the matching engine and books compute exactly.
 */
export const DECIMAL_RE = /^-?(?:0|[1-9]\d*|\d+)(?:\.\d+)?$/;
export const UNSIGNED_RE = /^(?:0|[1-9]\d*|\d+)(?:\.\d+)?$/;

export const decimal = z.string().regex(DECIMAL_RE, 'expected a decimal string like "123.45"');
export const unsignedDecimal = z.string().regex(UNSIGNED_RE, 'expected a non-negative decimal string like "0.015"');
// A pure pattern (no refinement) so the exported JSON Schema says exactly what zod checks.
export const POSITIVE_RE = /^(?=[\d.]*[1-9])(?:0|[1-9]\d*|\d+)(?:\.\d+)?$/;
export const positiveDecimal = z.string().regex(POSITIVE_RE, 'expected a positive decimal string like "0.015"');

/**
 * The three patterns above as character loops (the compiled validators' hot path; the regexes stay
 * the definition, and test/decimal.test.ts checks that both agree).
 */
/** Digits, then optionally "." and digits, from index `from` to the end; one flat loop (called per field). */
function unsignedFrom(s: string, from: number, needNonZero: boolean): boolean {
  const n = s.length;
  let i = from;
  let c = 0;
  let nonZero = false;
  while (i < n && (c = s.charCodeAt(i)) >= 48 && c <= 57) {
    if (c !== 48) nonZero = true;
    i++;
  }
  if (i === from) return false;
  if (i < n) {
    if (c !== 46 /* . */) return false;
    const frac = ++i;
    while (i < n && (c = s.charCodeAt(i)) >= 48 && c <= 57) {
      if (c !== 48) nonZero = true;
      i++;
    }
    if (i < n || i === frac) return false;
  }
  return nonZero || !needNonZero;
}

export function isDecimalString(s: string): boolean {
  return unsignedFrom(s, s.charCodeAt(0) === 45 /* - */ ? 1 : 0, false);
}

export function isUnsignedDecimalString(s: string): boolean {
  return unsignedFrom(s, 0, false);
}

export function isPositiveDecimalString(s: string): boolean {
  return unsignedFrom(s, 0, true);
}

export function isZeroDecimal(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 48 /* 0 */ && c !== 46 /* . */ && c !== 45 /* - */) return false;
  }
  return true;
}

/** Number of digits after the decimal point. */
export function scaleOf(s: string): number {
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

/** Exact decimal string -> bigint scaled by 10^scale (truncation is an error, not silent). */
export function toScaled(s: string, scale: number): bigint {
  if (!DECIMAL_RE.test(s)) throw new Error(`not a decimal: ${JSON.stringify(s)}`);
  const neg = s.startsWith('-');
  const body = neg ? s.slice(1) : s;
  const dot = body.indexOf('.');
  const int = dot < 0 ? body : body.slice(0, dot);
  let frac = dot < 0 ? '' : body.slice(dot + 1);
  if (frac.length > scale) {
    const dropped = frac.slice(scale);
    if (/[^0]/.test(dropped)) throw new Error(`${s} has more than ${scale} decimal places`);
    frac = frac.slice(0, scale);
  }
  const v = BigInt(int + frac.padEnd(scale, '0'));
  return neg ? -v : v;
}

/** bigint scaled by 10^scale -> canonical decimal string (no trailing zeros beyond minScale). */
export function fromScaled(v: bigint, scale: number, minScale = 0): string {
  const neg = v < 0n;
  let digits = (neg ? -v : v).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    let int = digits.slice(0, digits.length - scale);
    let frac = digits.slice(digits.length - scale);
    let end = frac.length;
    while (end > minScale && frac.charCodeAt(end - 1) === 48) end--;
    frac = frac.slice(0, end);
    if (int === '') int = '0';
    digits = frac ? `${int}.${frac}` : int;
  }
  return neg && digits !== '0' ? `-${digits}` : digits;
}

/** Canonical form used for map keys: strips redundant zeros, so "1.50" and "1.5" are the same level. */
export function normalizeDecimal(s: string): string {
  let neg = false;
  let b = s;
  if (b.startsWith('-')) {
    neg = true;
    b = b.slice(1);
  }
  const dot = b.indexOf('.');
  let int = dot < 0 ? b : b.slice(0, dot);
  let frac = dot < 0 ? '' : b.slice(dot + 1);
  let i = 0;
  while (i < int.length - 1 && int.charCodeAt(i) === 48) i++;
  int = int.slice(i);
  let end = frac.length;
  while (end > 0 && frac.charCodeAt(end - 1) === 48) end--;
  frac = frac.slice(0, end);
  const out = frac ? `${int}.${frac}` : int;
  return neg && out !== '0' ? `-${out}` : out;
}

/** Exact comparison of two decimal strings. */
export function compareDecimal(a: string, b: string): number {
  const scale = Math.max(scaleOf(a), scaleOf(b));
  const x = toScaled(a, scale);
  const y = toScaled(b, scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Exact sum of decimal strings, at the larger of the two scales. */
export function addDecimal(a: string, b: string): string {
  const scale = Math.max(scaleOf(a), scaleOf(b));
  return fromScaled(toScaled(a, scale) + toScaled(b, scale), scale, scale);
}

/** Exact difference a - b. */
export function subDecimal(a: string, b: string): string {
  const scale = Math.max(scaleOf(a), scaleOf(b));
  return fromScaled(toScaled(a, scale) - toScaled(b, scale), scale, scale);
}
