import { isDecimalString, isPositiveDecimalString, isUnsignedDecimalString, DECIMAL_RE, POSITIVE_RE, UNSIGNED_RE } from './decimal.js';

/**
 * A validator compiled from one event type's JSON Schema (itself exported from the zod schema, so zod
 * stays the single source of truth): straight-line checks per field, no per-call allocation. Like
 * zod it fills defaults and drops unknown fields, in place and only once every check has passed.
 * It only says whether (and whether it changed anything): a reject is worded by zod (see validate.ts).
 *
 * It reads the JSON Schema as zod writes it; a keyword it does not know makes compile() throw, so a
 * schema change can never be checked loosely. One reading differs from JSON Schema's letter: an
 * `items` array is a zod tuple, whose length zod checks exactly (the export drops that).
 */
/** 0: rejected; 1: accepted as it was; 2: accepted after filling defaults or dropping unknown fields. */
export type CompiledCheck = (o: Record<string, unknown>) => 0 | 1 | 2;

type Schema = Record<string, unknown>;

const ANNOTATIONS = new Set(['$schema', 'description', 'title', 'examples', 'default']);

/** Known decimal patterns get a character loop instead of a regex (test/decimal.test.ts checks they agree). */
const PATTERN_FNS: [string, string][] = [
  [DECIMAL_RE.source, 'isDec'],
  [UNSIGNED_RE.source, 'isUns'],
  [POSITIVE_RE.source, 'isPos'],
];

class Gen {
  private n = 0;
  readonly consts: unknown[] = [];
  readonly regexes: RegExp[] = [];

  v(prefix = 'v'): string {
    return `${prefix}${this.n++}`;
  }

  konst(x: unknown): string {
    this.consts.push(x);
    return `K[${this.consts.length - 1}]`;
  }

  /** Code that returns false unless `x` (a variable holding a present value) matches `s`. */
  value(s: Schema, x: string): string {
    for (const k of Object.keys(s)) {
      if (!ANNOTATIONS.has(k) && !KNOWN_KEYWORDS.has(k)) throw new Error(`unsupported JSON Schema keyword "${k}"`);
    }
    const out: string[] = [];
    if ('const' in s) {
      out.push(`if (${x} !== ${lit(s.const)}) return 0;`);
    }
    if (Array.isArray(s.enum)) {
      out.push(`if (${(s.enum as unknown[]).map((e) => `${x} !== ${lit(e)}`).join(' && ')}) return 0;`);
    }
    switch (s.type) {
      case undefined:
        if (!('const' in s) && s.enum === undefined && Object.keys(s).some((k) => !ANNOTATIONS.has(k))) throw new Error('a schema without a type');
        break;
      case 'string':
        out.push(`if (typeof ${x} !== 'string') return 0;`);
        if (s.minLength !== undefined) out.push(`if (${x}.length < ${num(s.minLength)}) return 0;`);
        if (s.maxLength !== undefined) out.push(`if (${x}.length > ${num(s.maxLength)}) return 0;`);
        if (s.pattern !== undefined) {
          const known = PATTERN_FNS.find(([src]) => src === s.pattern);
          if (known) out.push(`if (!${known[1]}(${x})) return 0;`);
          else {
            this.regexes.push(new RegExp(s.pattern as string));
            out.push(`if (!R[${this.regexes.length - 1}].test(${x})) return 0;`);
          }
        }
        break;
      case 'number':
      case 'integer':
        out.push(s.type === 'integer' ? `if (typeof ${x} !== 'number' || !Number.isInteger(${x})) return 0;` : `if (typeof ${x} !== 'number' || !Number.isFinite(${x})) return 0;`);
        if (s.minimum !== undefined) out.push(`if (${x} < ${num(s.minimum)}) return 0;`);
        if (s.maximum !== undefined) out.push(`if (${x} > ${num(s.maximum)}) return 0;`);
        if (s.exclusiveMinimum !== undefined) out.push(`if (${x} <= ${num(s.exclusiveMinimum)}) return 0;`);
        if (s.exclusiveMaximum !== undefined) out.push(`if (${x} >= ${num(s.exclusiveMaximum)}) return 0;`);
        break;
      case 'boolean':
        out.push(`if (typeof ${x} !== 'boolean') return 0;`);
        break;
      case 'array': {
        out.push(`if (!Array.isArray(${x})) return 0;`);
        const items = s.items;
        if (Array.isArray(items)) {
          // A zod tuple: exactly these elements.
          out.push(`if (${x}.length !== ${items.length}) return 0;`);
          items.forEach((it: Schema, i) => {
            const e = this.v('e');
            out.push(`{ const ${e} = ${x}[${i}];`, this.value(it, e), '}');
          });
        } else if (items !== undefined) {
          const i = this.v('i');
          const e = this.v('e');
          out.push(`for (let ${i} = 0; ${i} < ${x}.length; ${i}++) { const ${e} = ${x}[${i}];`, this.value(items as Schema, e), '}');
        }
        break;
      }
      case 'object':
        out.push(`if (typeof ${x} !== 'object' || ${x} === null || Array.isArray(${x})) return 0;`);
        out.push(this.object(s, x));
        break;
      default:
        throw new Error(`unsupported JSON Schema type ${JSON.stringify(s.type)}`);
    }
    return out.join('\n');
  }

  /**
   * One pass over the object's own keys (for-in reads JSON.parse's objects from V8's enum cache, and
   * a switch on interned key strings is a few pointer compares), so absent optional fields cost
   * nothing. Then, everything having passed: required fields counted, unknown keys dropped,
   * defaults filled.
   */
  object(s: Schema, x: string): string {
    if (s.additionalProperties !== undefined && s.additionalProperties !== false) throw new Error('additionalProperties other than false');
    const props = (s.properties ?? {}) as Record<string, Schema>;
    const required = new Set((s.required ?? []) as string[]);
    const names = Object.keys(props);
    for (const k of names) if (k in Object.prototype) throw new Error(`property "${k}" shadows Object.prototype`);
    const req = this.v('req');
    const extra = this.v('extra');
    const key = this.v('k');
    const val = this.v('x');
    const seen = new Map<string, string>();
    const out = [`let ${req} = 0, ${extra} = false;`];
    for (const k of names) if ('default' in props[k]) seen.set(k, this.v('has'));
    if (seen.size > 0) out.push(`let ${[...seen.values()].map((h) => `${h} = false`).join(', ')};`);
    // Dispatch on the key's length, then compare with the few names of that length.
    const byLength = new Map<number, string[]>();
    for (const k of names) byLength.set(k.length, [...(byLength.get(k.length) ?? []), k]);
    out.push(`for (const ${key} in ${x}) {`, `const ${val} = ${x}[${key}];`, `switch (${key}.length) {`);
    const unknown = `if (Object.hasOwn(${x}, ${key})) ${extra} = true;`;
    for (const [len, group] of byLength) {
      out.push(`case ${len}:`);
      for (const k of group) {
        out.push(`if (${key} === ${JSON.stringify(k)}) {`, this.value(props[k], val));
        if (required.has(k)) out.push(`${req}++;`);
        const h = seen.get(k);
        if (h !== undefined) out.push(`${h} = true;`);
        out.push('} else ');
      }
      out.push(`${unknown}`, 'break;');
    }
    // An inherited enumerable key (a polluted prototype) is not the object's own: ignore it.
    out.push(`default: ${unknown}`, '}', '}');
    out.push(`if (${req} !== ${required.size}) return 0;`);
    out.push(`if (${extra}) { strip(${x}, ${this.konst(new Set(names))}); changed = true; }`);
    for (const [k, h] of seen) {
      // Objects and arrays as defaults are copied, so no two events share one.
      const d = props[k].default;
      const expr = typeof d === 'object' && d !== null ? `structuredClone(${this.konst(d)})` : lit(d);
      out.push(`if (!${h}) { ${x}[${JSON.stringify(k)}] = ${expr}; changed = true; }`);
    }
    return out.join('\n');
  }
}

const KNOWN_KEYWORDS = new Set([
  'type', 'const', 'enum', 'minLength', 'maxLength', 'pattern', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum',
  'items', 'properties', 'required', 'additionalProperties',
]);

function lit(x: unknown): string {
  if (x === null || typeof x === 'boolean' || typeof x === 'string' || (typeof x === 'number' && Number.isFinite(x))) return JSON.stringify(x);
  throw new Error(`unsupported literal ${String(x)}`);
}

function num(x: unknown): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error(`expected a number in the schema, got ${String(x)}`);
  return x;
}

function strip(o: Record<string, unknown>, known: Set<string>): void {
  for (const k of Object.keys(o)) if (!known.has(k)) delete o[k];
}

/** Compiles an object schema into a check; throws on anything it cannot check exactly. */
export function compileCheck(schema: Schema): CompiledCheck {
  if (schema.type !== 'object') throw new Error('expected an object schema');
  const g = new Gen();
  const body = g.value(schema, 'o');
  const src = `return function check(o) {\nlet changed = false;\n${body}\nreturn changed ? 2 : 1;\n};`;
  const make = new Function('K', 'R', 'isDec', 'isUns', 'isPos', 'strip', src) as (...a: unknown[]) => CompiledCheck;
  return make(g.consts, g.regexes, isDecimalString, isUnsignedDecimalString, isPositiveDecimalString, strip);
}
