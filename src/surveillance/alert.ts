import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Typology } from '../events/labels.js';
import type { BookSnapshot as BookSnapshotType } from '../stream/books.js';

/**
 * The alert format: one line of alerts.ndjson per open / update / close transition of an episode,
 * each a complete snapshot of the alert at that moment. All times are event time (ms since the
 * Unix epoch). The zod schema is the source of truth; `alertJsonSchema()` exports it.
 */
export const Severity = z.enum(['low', 'medium', 'high', 'critical']);
export type Severity = z.infer<typeof Severity>;
export const AlertStatus = z.enum(['open', 'updated', 'closed']);
export type AlertStatus = z.infer<typeof AlertStatus>;
export const FeatureOp = z.enum(['>', '>=', '<', '<=', '==', '!=']);
export type FeatureOp = z.infer<typeof FeatureOp>;

export const FeatureCheck = z.object({
  name: z.string().describe('feature name, e.g. deviation_pct'),
  value: z.number().describe('observed value'),
  threshold: z.number().describe('the value it was tested against'),
  op: FeatureOp.describe('test applied: value <op> threshold'),
  passed: z.boolean().describe('whether the test held (the feature supports the alert)'),
  unit: z.string().optional().describe('e.g. %, sigma, ms, x'),
});
export type FeatureCheck = z.infer<typeof FeatureCheck>;

const level = z.union([z.tuple([z.string(), z.string()]), z.tuple([z.string(), z.string(), z.number().int()])]);
export const BookSnapshot = z.object({
  market: z.string(),
  ts: z.number().describe('event time of the book data'),
  source: z.enum(['l3', 'l2', 'bbo', 'none']).describe('l3: per-order book from order events; l2: depth feed; bbo: top of book'),
  reliable: z.boolean(),
  bids: z.array(level).describe('best first: [price, size] or [price, size, orders]'),
  asks: z.array(level),
  mid: z.number().optional(),
  spread: z.number().optional(),
  lastTrade: z.string().optional(),
});

export const Evidence = z.object({
  orderIds: z.array(z.string()).describe('orders involved (the first maxEvidenceIds)'),
  tradeIds: z.array(z.string()).describe('trades involved (the first maxEvidenceIds)'),
  orderCount: z.number().int().nonnegative().describe('orders involved in total'),
  tradeCount: z.number().int().nonnegative().describe('trades involved in total'),
  book: BookSnapshot.optional().describe('the book around the strongest observation'),
  features: z.array(FeatureCheck).describe('the strongest observation: each feature against its threshold'),
});

export const Alert = z.object({
  id: z.string().describe('deterministic: hash of typology/variant, markets, accounts and the episode start event id'),
  typology: Typology,
  variant: z.string().optional(),
  detector: z.string().describe('detector module that raised it'),
  markets: z.array(z.string()),
  accounts: z.array(z.string()),
  score: z.number().min(0).max(100),
  severity: Severity,
  startTime: z.number().int().describe('event time of the first observation of the episode'),
  endTime: z.number().int().describe('event time of the last observation'),
  detectedAt: z.number().int().describe('event time of the event that first raised the alert'),
  updatedAt: z.number().int().describe('event time of this transition'),
  evidence: Evidence,
  explanation: z.string().describe('one sentence an analyst understands'),
  status: AlertStatus,
});
export type Alert = z.infer<typeof Alert>;

// The books module builds snapshots without zod; keep the two in step at compile time.
const _bookCompat: z.input<typeof BookSnapshot> = {} as BookSnapshotType;
void _bookCompat;

/** Severity from a 0–100 score: < 40 low, < 60 medium, < 80 high, else critical. */
export function severityOf(score: number): Severity {
  return score < 40 ? 'low' : score < 60 ? 'medium' : score < 80 ? 'high' : 'critical';
}

export const SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };
const STATUS_RANK: Record<AlertStatus, number> = { open: 0, updated: 1, closed: 2 };

/** The deterministic alert id: the same inputs give the same id on every replay and worker count. */
export function alertId(typology: string, variant: string | undefined, markets: readonly string[], accounts: readonly string[], startEventId: string): string {
  const h = createHash('sha256');
  h.update(`${typology}/${variant ?? ''}\n${[...markets].sort().join(',')}\n${[...accounts].sort().join(',')}\n${startEventId}`);
  return `al_${h.digest('hex').slice(0, 24)}`;
}

/** Canonical order: by start time, typology, id; then transition order. */
export function compareAlerts(a: Alert, b: Alert): number {
  return a.startTime - b.startTime || cmp(a.typology, b.typology) || cmp(a.id, b.id) || a.updatedAt - b.updatedAt || STATUS_RANK[a.status] - STATUS_RANK[b.status];
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Final state per alert id (the last transition wins), sorted canonically. */
export function finalAlerts(transitions: Iterable<Alert>): Alert[] {
  const byId = new Map<string, Alert>();
  for (const a of transitions) {
    const prev = byId.get(a.id);
    if (prev === undefined || a.updatedAt > prev.updatedAt || (a.updatedAt === prev.updatedAt && STATUS_RANK[a.status] >= STATUS_RANK[prev.status])) byId.set(a.id, a);
  }
  return [...byId.values()].sort(compareAlerts);
}

export function alertJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(Alert, { target: 'draft-2020-12' }) as Record<string, unknown>;
}

/** Receives alert transitions (open, updated, closed) — not one alert per event. */
export interface AlertSink {
  onAlert(a: Alert): void;
  finish?(): void | Promise<void>;
}
