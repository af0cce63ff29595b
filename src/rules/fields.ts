import { EVENT_TYPES, ExchangeEvent } from '../events/schema.js';

/**
 * The names a rule may read. Event fields are every field of the canonical event schema; a field an
 * event type does not have reads as null. Virtual fields are derived per event.
 */
export const EVENT_FIELDS: ReadonlySet<string> = new Set(ExchangeEvent.options.flatMap((o) => Object.keys(o.shape)));

/** Virtual fields: name → JS expression over the event `e` (compiled inline). */
export const VIRTUAL_FIELDS: Record<string, { js: string; doc: string }> = {
  account: { js: '(e.accountId ?? e.takerAccountId ?? e.fromAccountId ?? null)', doc: 'the acting account: accountId, else the taker of a trade, else the sender of a transfer' },
  notional: { js: 'rt.mul(e.price, e.size)', doc: 'price × size (null when either is missing)' },
  hour: { js: '((e.ts / 3600000 | 0) % 24)', doc: 'UTC hour of the event time, 0–23' },
};

export const KNOWN_FIELDS: string[] = [...new Set([...EVENT_FIELDS, ...Object.keys(VIRTUAL_FIELDS)])].sort();
export { EVENT_TYPES };

/** Fields of an Alert that `alerts(… where …)` may test. */
export const ALERT_FIELDS: ReadonlySet<string> = new Set(['typology', 'variant', 'detector', 'severity', 'score', 'status', 'startTime', 'endTime', 'detectedAt', 'updatedAt']);

/** Every account an event names (for Decision.accounts). */
export function accountsOf(e: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const f of ['accountId', 'takerAccountId', 'makerAccountId', 'fromAccountId', 'toAccountId']) {
    const v = e[f];
    if (typeof v === 'string' && !out.includes(v)) out.push(v);
  }
  return out;
}

/** Plain (non-aggregate) functions: name → [min args, max args, runtime helper]. */
export const FUNCTIONS: Record<string, { args: number; helper: string; doc: string }> = {
  abs: { args: 1, helper: 'abs', doc: 'absolute value' },
  lower: { args: 1, helper: 'lower', doc: 'lower-case string' },
  upper: { args: 1, helper: 'upper', doc: 'upper-case string' },
  length: { args: 1, helper: 'length', doc: 'length of a string' },
};
export const SPECIAL_FUNCTIONS = ['count', 'sum', 'avg', 'min', 'max', 'distinct', 'quantile', 'alerts', 'feature', 'list'];
