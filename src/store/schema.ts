/**
 * The riskloop store schema, as code: one source of truth for PGlite and PostgreSQL.
 * drizzle-kit generates the SQL migrations in drizzle/ from this file (`npx drizzle-kit generate`);
 * the guards (append-only and immutability triggers) live in a hand-written migration there.
 * Self-contained on purpose: drizzle-kit loads it on its own.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  doublePrecision,
  foreignKey,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  timestamp,
  unique,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

export const POLICY_STATES = ['draft', 'backtested', 'shadow', 'active', 'retired'] as const;
export const policyState = pgEnum('policy_state', POLICY_STATES);

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** One immutable version of a policy: its document never changes, only its lifecycle state moves. */
export const policyVersions = pgTable(
  'policy_versions',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    policy: text('policy').notNull(),
    version: integer('version').notNull(),
    state: policyState('state').notNull().default('draft'),
    doc: jsonb('doc').$type<Record<string, unknown>>().notNull(),
    contentHash: text('content_hash').notNull(),
    author: text('author').notNull(),
    reason: text('reason'),
    createdAt: at('created_at').notNull(),
    backtestedAt: at('backtested_at'),
    shadowAt: at('shadow_at'),
    activatedAt: at('activated_at'),
    retiredAt: at('retired_at'),
  },
  (t) => [
    unique('policy_versions_policy_version').on(t.policy, t.version),
    unique('policy_versions_policy_content').on(t.policy, t.contentHash),
    // Exactly one active version per policy, whatever the application does.
    uniqueIndex('policy_versions_one_active').on(t.policy).where(sql`${t.state} = 'active'`),
  ],
);

const versionRef = (t: { policy: any; version: any }, name: string) =>
  foreignKey({ name, columns: [t.policy, t.version], foreignColumns: [policyVersions.policy, policyVersions.version] });

/** Four-eyes approvals of a version (append-only). */
export const policyApprovals = pgTable(
  'policy_approvals',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    policy: text('policy').notNull(),
    version: integer('version').notNull(),
    approver: text('approver').notNull(),
    reason: text('reason'),
    at: at('at').notNull(),
  },
  (t) => [unique('policy_approvals_once').on(t.policy, t.version, t.approver), versionRef(t, 'policy_approvals_version_fk')],
);

/** The audit trail of every lifecycle change (append-only, enforced by a trigger). */
export const policyAudit = pgTable(
  'policy_audit',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    at: at('at').notNull(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    policy: text('policy').notNull(),
    version: integer('version'),
    fromState: text('from_state'),
    toState: text('to_state'),
    reason: text('reason'),
    diff: text('diff'),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
  },
  (t) => [index('policy_audit_policy').on(t.policy, t.id)],
);

/** A report attached to a policy version (append-only): one shape for backtests and shadow runs. */
function versionReportTable<N extends string>(name: N) {
  return pgTable(
    name,
    {
      id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
      policy: text('policy').notNull(),
      version: integer('version').notNull(),
      report: jsonb('report').$type<unknown>().notNull(),
      actor: text('actor').notNull(),
      at: at('at').notNull(),
    },
    (t) => [index(`${name}_version`).on(t.policy, t.version), versionRef(t, `${name}_version_fk`)],
  );
}

/** Backtest reports attached to versions (produced by the backtester; append-only). */
export const policyBacktests = versionReportTable('policy_backtests');

/** Phantom decisions of a shadow version beside the active one's decision on the same event. */
export const policyShadowDecisions = pgTable(
  'policy_shadow_decisions',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    policy: text('policy').notNull(),
    version: integer('version').notNull(),
    activeVersion: integer('active_version'),
    eventId: text('event_id').notNull(),
    ts: bigint('ts', { mode: 'number' }).notNull(),
    account: text('account'),
    candidateOutcome: text('candidate_outcome').notNull(),
    candidateScore: doublePrecision('candidate_score').notNull(),
    activeOutcome: text('active_outcome'),
    activeScore: doublePrecision('active_score'),
    agree: boolean('agree').notNull(),
    candidate: jsonb('candidate').$type<unknown>().notNull(),
    active: jsonb('active').$type<unknown>(),
    recordedAt: at('recorded_at').notNull(),
  },
  (t) => [
    unique('policy_shadow_decisions_event').on(t.policy, t.version, t.eventId),
    index('policy_shadow_decisions_ts').on(t.policy, t.version, t.ts),
    versionRef(t, 'policy_shadow_decisions_version_fk'),
  ],
);

/** Shadow comparison reports (summaries over a run) attached to versions. */
export const policyShadowReports = versionReportTable('policy_shadow_reports');
