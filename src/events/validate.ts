import { z } from 'zod';
import { Ajv, type ValidateFunction } from 'ajv';
import { ExchangeEvent, EVENT_TYPES } from './schema.js';

export type ParseResult = { ok: true; event: ExchangeEvent } | { ok: false; reason: string; type?: string };

const KNOWN = new Set<string>(EVENT_TYPES);

/**
 * The hot path compiles each event type's JSON Schema (derived from the zod schema, so one source
 * of truth) into a specialised validator; zod is consulted only to word the reason for a reject.
 */
const FAST = new Map<string, ValidateFunction>();
function fastValidator(type: string): ValidateFunction {
  let v = FAST.get(type);
  if (!v) {
    const option = ExchangeEvent.options.find((o) => o.shape.type.value === type)!;
    const ajv = new Ajv({ useDefaults: true, removeAdditional: 'all', strict: false, allErrors: false });
    v = ajv.compile(z.toJSONSchema(option, { target: 'draft-7', io: 'input', unrepresentable: 'any' }));
    FAST.set(type, v);
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
  // Validate a shallow copy so defaults/removals never touch the caller's object on failure.
  const candidate = { ...(value as Record<string, unknown>) };
  if (fastValidator(type)(candidate)) return { ok: true, event: candidate as ExchangeEvent };
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
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !KNOWN.has(type)) return undefined;
  return fastValidator(type)(value) ? (value as ExchangeEvent) : undefined;
}

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
