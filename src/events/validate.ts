import { z } from 'zod';
import { ExchangeEvent, EVENT_TYPES } from './schema.js';

export type ParseResult = { ok: true; event: ExchangeEvent } | { ok: false; reason: string; type?: string };

const KNOWN = new Set<string>(EVENT_TYPES);

/** Validates one decoded object against the canonical schema, with a reason a person can act on. */
export function parseEvent(value: unknown): ParseResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'not a JSON object' };
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') return { ok: false, reason: 'missing field "type"' };
  if (!KNOWN.has(type)) return { ok: false, reason: `unknown event type "${type}"`, type };
  const r = ExchangeEvent.safeParse(value);
  if (r.success) return { ok: true, event: r.data };
  return { ok: false, reason: formatIssues(r.error), type };
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
