import { z } from 'zod';
import { Ajv, type ValidateFunction } from 'ajv';
import { ExchangeEvent, EVENT_TYPES } from './schema.js';
import { compileCheck, type CompiledCheck } from './compiled.js';

export type ParseResult = { ok: true; event: ExchangeEvent } | { ok: false; reason: string; type?: string };

const KNOWN = new Set<string>(EVENT_TYPES);

/**
 * The hot path: each event type's JSON Schema (exported from the zod schema, so one source of
 * truth) compiled into straight-line checks (compiled.ts); ajv only for a type the compiler cannot
 * read exactly. zod is consulted to word the reason for a reject.
 */
interface Fast {
  check: CompiledCheck;
  /** Whether the type has nested objects, which a check changes in place (defaults, unknown keys). */
  nested: boolean;
}
const FAST: Record<string, Fast> = Object.create(null) as Record<string, Fast>;

function fastValidator(type: string): Fast {
  let v = FAST[type];
  if (v === undefined) {
    const option = ExchangeEvent.options.find((o) => o.shape.type.value === type)!;
    const schema = z.toJSONSchema(option, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    const nested = JSON.stringify(schema.properties).includes('"properties"');
    let check: Fast['check'];
    try {
      check = compileCheck(schema);
    } catch {
      const ajv = new Ajv({ useDefaults: true, removeAdditional: 'all', strict: false, allErrors: false });
      const fn: ValidateFunction = ajv.compile(schema);
      check = (o) => (fn(o) ? 2 : 0);
    }
    v = FAST[type] = { check, nested };
  }
  return v;
}

/** Validates one decoded object against the canonical schema, with a reason a person can act on. */
export function parseEvent(value: unknown): ParseResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'not a JSON object' };
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') return { ok: false, reason: 'missing field "type"' };
  if (!KNOWN.has(type)) return { ok: false, reason: `unknown event type "${type}"`, type };
  // Validate a copy so defaults/removals never touch the caller's object (nested ones included).
  const fast = fastValidator(type);
  let candidate: Record<string, unknown> | undefined;
  try {
    candidate = fast.nested ? structuredClone(value as Record<string, unknown>) : { ...(value as Record<string, unknown>) };
  } catch {
    candidate = undefined; // not cloneable (e.g. holds a function): zod judges it
  }
  if (candidate !== undefined && fast.check(candidate)) return { ok: true, event: candidate as ExchangeEvent };
  const r = ExchangeEvent.safeParse(value);
  if (r.success) return { ok: true, event: r.data }; // only if the two ever disagree; zod is the reference
  return { ok: false, reason: formatIssues(r.error), type };
}

/**
 * The fast path of parseEvent for an object nobody else holds (e.g. fresh from JSON.parse): it is
 * validated in place (defaults filled, unknown fields removed), without parseEvent's defensive copy.
 * Returns undefined if it does not pass; the object may then have been changed, so word the reason
 * with parseEvent on a fresh parse of the source.
 */
export function acceptOwnedEvent(value: unknown): ExchangeEvent | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') return undefined;
  const fast = checkFor(type);
  return fast !== undefined && fast.check(value as Record<string, unknown>) ? (value as ExchangeEvent) : undefined;
}

/**
 * acceptOwnedEvent's verdict: 0 rejected, 1 accepted as it was (so its source text is the event's
 * exact JSON), 2 accepted after defaults were filled or unknown fields dropped.
 */
export function checkOwnedEvent(value: unknown): 0 | 1 | 2 {
  if (typeof value !== 'object' || value === null) return 0;
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') return 0;
  const fast = checkFor(type);
  return fast === undefined ? 0 : fast.check(value as Record<string, unknown>);
}

/**
 * The type's validator without hashing the type string (a fresh, uninterned string from JSON.parse
 * on every line): a switch on its length, then one comparison per type of that length.
 */
const checkFor: (type: string) => Fast | undefined = (() => {
  const byLength = new Map<number, string[]>();
  for (const t of EVENT_TYPES) byLength.set(t.length, [...(byLength.get(t.length) ?? []), t]);
  const cases = [...byLength].map(([len, ts]) => `case ${len}: ${ts.map((t) => `if (t === ${JSON.stringify(t)}) return get(${JSON.stringify(t)});`).join(' ')} return undefined;`);
  const src = `return function checkFor(t) { switch (t.length) { ${cases.join('\n')} default: return undefined; } };`;
  const cache: Record<string, Fast> = Object.create(null) as Record<string, Fast>;
  const get = (t: string): Fast => cache[t] ?? (cache[t] = fastValidator(t));
  return new Function('get', src)(get) as (type: string) => Fast | undefined;
})();

export function formatIssues(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `field ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/** The JSON Schema of the canonical event, for docs/ and for other languages. */
export function eventJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ExchangeEvent, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
}
