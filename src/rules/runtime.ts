/**
 * The helpers compiled rules call. They define the value semantics of the language in one place:
 * numbers and numeric (decimal) strings compare numerically; null (a missing field) makes every
 * comparison false and every arithmetic result null; nothing here throws on data.
 */
export type Value = number | string | boolean | null;

/** A number from a number or a numeric string; null otherwise (or when not finite). */
export function num(v: unknown): number | null {
  if (typeof v === 'number') return v === v && v !== Infinity && v !== -Infinity ? v : null;
  if (typeof v === 'string') {
    if (v.length === 0) return null;
    const n = +v;
    return n === n && n !== Infinity && n !== -Infinity ? n : null;
  }
  return null;
}

/** Equality: identical values, or equal as numbers (so "10.50" == 10.5); null equals nothing. */
export function eq(a: unknown, b: unknown): boolean {
  if (a === null || b === null || a === undefined || b === undefined) return false;
  if (a === b) return true;
  const x = num(a);
  if (x === null) return false;
  const y = num(b);
  return y !== null && x === y;
}

export function ne(a: unknown, b: unknown): boolean {
  if (a === null || b === null || a === undefined || b === undefined) return false;
  return !eq(a, b);
}

export function lt(a: unknown, b: unknown): boolean {
  const x = num(a);
  const y = num(b);
  if (x !== null && y !== null) return x < y;
  return typeof a === 'string' && typeof b === 'string' && x === null && y === null && a < b;
}
export function le(a: unknown, b: unknown): boolean {
  const x = num(a);
  const y = num(b);
  if (x !== null && y !== null) return x <= y;
  return typeof a === 'string' && typeof b === 'string' && x === null && y === null && a <= b;
}
export function gt(a: unknown, b: unknown): boolean {
  return lt(b, a);
}
export function ge(a: unknown, b: unknown): boolean {
  return le(b, a);
}

export function compare(op: string, a: unknown, b: unknown): boolean {
  switch (op) {
    case '==':
      return eq(a, b);
    case '!=':
      return ne(a, b);
    case '<':
      return lt(a, b);
    case '<=':
      return le(a, b);
    case '>':
      return gt(a, b);
    case '>=':
      return ge(a, b);
    default:
      return false;
  }
}

function fin(v: number): number | null {
  return v === v && v !== Infinity && v !== -Infinity ? v : null;
}
export function add(a: unknown, b: unknown): number | null {
  const x = num(a);
  const y = num(b);
  return x === null || y === null ? null : fin(x + y);
}
export function sub(a: unknown, b: unknown): number | null {
  const x = num(a);
  const y = num(b);
  return x === null || y === null ? null : fin(x - y);
}
export function mul(a: unknown, b: unknown): number | null {
  const x = num(a);
  const y = num(b);
  return x === null || y === null ? null : fin(x * y);
}
/** Division; null when dividing by zero. */
export function div(a: unknown, b: unknown): number | null {
  const x = num(a);
  const y = num(b);
  return x === null || y === null || y === 0 ? null : fin(x / y);
}
export function neg(a: unknown): number | null {
  const x = num(a);
  return x === null ? null : -x;
}

/** Membership in a literal set (strings as written, numbers by value). */
export function inSet(v: unknown, strings: ReadonlySet<unknown>, numbers: ReadonlySet<number>): boolean {
  if (v === null || v === undefined) return false;
  if (strings.has(v)) return true;
  if (numbers.size === 0) return false;
  const n = num(v);
  return n !== null && numbers.has(n);
}

/** A named allow/deny list: value → event time at which the entry expires (Infinity: never). */
export type ListState = Map<string, number>;

export function inList(v: unknown, list: ListState, t: number): boolean {
  if (v === null || v === undefined) return false;
  const exp = list.get(typeof v === 'string' ? v : String(v));
  return exp !== undefined && t < exp;
}

export function strop(op: string, a: unknown, b: unknown): boolean {
  if (a === null || b === null || a === undefined || b === undefined) return false;
  const s = typeof a === 'string' ? a : String(a);
  const p = typeof b === 'string' ? b : String(b);
  return op === 'contains' ? s.includes(p) : op === 'startsWith' ? s.startsWith(p) : s.endsWith(p);
}

export function abs(a: unknown): number | null {
  const x = num(a);
  return x === null ? null : Math.abs(x);
}
export function lower(a: unknown): string | null {
  return typeof a === 'string' ? a.toLowerCase() : null;
}
export function upper(a: unknown): string | null {
  return typeof a === 'string' ? a.toUpperCase() : null;
}
export function length(a: unknown): number | null {
  return typeof a === 'string' || Array.isArray(a) ? a.length : null;
}
/** A rule condition holds only when it is exactly true. */
export function truthy(v: unknown): boolean {
  return v === true;
}
/** A feature value: numbers as they are, booleans as 1/0, numeric strings as numbers, else null. */
export function featureValue(v: unknown): number | null {
  if (typeof v === 'boolean') return v ? 1 : 0;
  return num(v);
}
/** NaN (an empty window) reads as null. */
export function nn(v: number): number | null {
  return v === v ? v : null;
}
