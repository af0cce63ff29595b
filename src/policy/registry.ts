import { createHash } from 'node:crypto';
import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { compilePolicy, PolicyDocSchema, type Decision, type PolicyDoc } from '../rules/index.js';
import { errorText, pgErrorOf, type Store, type StoreDb } from '../store/open.js';
import { policyApprovals, policyBacktests, policyShadowDecisions, policyShadowReports, policyVersions } from '../store/schema.js';
import { appendAudit, readHistory, type AuditEntry, type NewAuditEntry } from './audit.js';
import { diffPolicies } from './diff.js';
import { nextState, otherThan, PolicyLifecycleError, type PolicyState } from './lifecycle.js';

export interface Approval {
  approver: string;
  reason: string | null;
  at: Date;
}

/** One immutable version of a policy and where it is in its lifecycle. */
export interface PolicyVersion {
  policy: string;
  version: number;
  state: PolicyState;
  doc: PolicyDoc;
  /** sha256 of the canonical JSON of the document */
  contentHash: string;
  author: string;
  reason: string | null;
  createdAt: Date;
  backtestedAt: Date | null;
  shadowAt: Date | null;
  /** the last time it became active (null: never active) */
  activatedAt: Date | null;
  retiredAt: Date | null;
  approvals: Approval[];
}

export interface PolicySummary {
  policy: string;
  versions: number;
  latest: number;
  active: number | null;
  shadows: number[];
}

export interface StoredReport<R> {
  id: number;
  policy: string;
  version: number;
  actor: string;
  at: Date;
  report: R;
}

/** A phantom decision of a shadow version beside what the active version decided on the same event. */
export interface ShadowDecisionInput {
  candidate: Decision;
  /** the active version's decision (null/undefined: no active version, which counts as allow) */
  active?: Decision | null;
}

export interface StoredShadowDecision {
  policy: string;
  version: number;
  activeVersion: number | null;
  eventId: string;
  ts: number;
  account: string | null;
  candidateOutcome: string;
  candidateScore: number;
  activeOutcome: string | null;
  activeScore: number | null;
  agree: boolean;
  candidate: Decision;
  active: Decision | null;
}

export interface ShadowComparison {
  policy: string;
  version: number;
  total: number;
  agree: number;
  disagree: number;
  /** event-time span of the recorded decisions (ms); null when none */
  firstTs: number | null;
  lastTs: number | null;
  /** counts per (candidate outcome, active outcome) pair; active null = no active version */
  pairs: { candidate: string; active: string | null; count: number }[];
}

export interface RegistryOptions {
  /** wall clock for audit timestamps (operations metadata); tests inject a fixed one */
  clock?: () => Date;
}

type Tx = Parameters<Parameters<StoreDb['transaction']>[0]>[0];
type Exec = StoreDb | Tx;
type VersionRow = typeof policyVersions.$inferSelect;

/** JSON with object keys sorted, so equal documents hash equally whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(canonicalJson).join(',') + ']';
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return '{' + Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => JSON.stringify(k) + ':' + canonicalJson(o[k])).join(',') + '}';
  }
  return JSON.stringify(v);
}

export function contentHash(doc: PolicyDoc): string {
  return createHash('sha256').update(canonicalJson(doc)).digest('hex');
}

const label = (policy: string, version: number) => `${policy} v${version}`;

/**
 * Policies and their versions on a store: immutable content-hashed versions, the lifecycle
 * (draft → backtested → shadow → active → retired), four-eyes promotion, one-step rollback, and the
 * append-only audit trail. Every change runs in one transaction under a per-policy lock.
 */
export class PolicyRegistry {
  private readonly db: StoreDb;
  private readonly clock: () => Date;

  constructor(store: Store | StoreDb, opts: RegistryOptions = {}) {
    this.db = 'db' in store && 'close' in store ? store.db : (store as StoreDb);
    this.clock = opts.clock ?? (() => new Date());
  }

  /** Validates (schema and compile), refuses duplicates, stores the next version as a draft. */
  async createVersion(input: { doc: PolicyDoc; author: string; reason?: string }): Promise<PolicyVersion> {
    const author = actorName(input.author, 'author');
    const parsed = PolicyDocSchema.safeParse(input.doc);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'document'}: ${i.message}`).join('; ');
      throw new PolicyLifecycleError('invalid', `policy document is invalid: ${issues}`);
    }
    const doc = parsed.data;
    compilePolicy(doc); // throws RuleCompileError with line and column
    const hash = contentHash(doc);
    return this.change(doc.name, async (tx, at) => {
      const same = await tx.select({ version: policyVersions.version }).from(policyVersions).where(and(eq(policyVersions.policy, doc.name), eq(policyVersions.contentHash, hash)));
      if (same.length) {
        throw new PolicyLifecycleError('duplicate', `${doc.name}: identical content is already v${same[0].version} (sha256 ${hash.slice(0, 12)}); versions are immutable, nothing to create`);
      }
      const prev = (await tx.select().from(policyVersions).where(eq(policyVersions.policy, doc.name)).orderBy(desc(policyVersions.version)).limit(1))[0];
      const version = (prev?.version ?? 0) + 1;
      const [row] = await tx
        .insert(policyVersions)
        .values({ policy: doc.name, version, state: 'draft', doc, contentHash: hash, author, reason: input.reason ?? null, createdAt: at })
        .returning();
      await this.audit(tx, { at, actor: author, action: 'create', policy: doc.name, version, fromState: null, toState: 'draft', reason: input.reason ?? null, diff: diffPolicies(prev && { label: label(prev.policy, prev.version), doc: prev.doc as PolicyDoc }, { label: label(doc.name, version), doc }), detail: { contentHash: hash, predecessor: prev?.version ?? null } });
      return toVersion(row, []);
    });
  }

  /** Stores a backtest report on a version; a draft becomes backtested. */
  async attachBacktest<R>(policy: string, version: number, report: R, actor: string, reason?: string): Promise<PolicyVersion> {
    const who = actorName(actor, 'actor');
    return this.change(policy, async (tx, at) => {
      const row = await this.mustGet(tx, policy, version);
      const to = nextState('backtest', policy, version, row.state);
      await tx.insert(policyBacktests).values({ policy, version, report: report as unknown, actor: who, at });
      const updated = to !== row.state ? await this.setState(tx, row, to, { backtestedAt: at }) : row;
      await this.audit(tx, { at, actor: who, action: 'backtest', policy, version, fromState: row.state, toState: to, reason: reason ?? null, diff: null, detail: null });
      return this.withApprovals(tx, updated);
    });
  }

  /** A backtested version starts running in shadow beside the active one. */
  async startShadow(policy: string, version: number, actor: string, reason?: string): Promise<PolicyVersion> {
    const who = actorName(actor, 'actor');
    return this.change(policy, async (tx, at) => {
      const row = await this.mustGet(tx, policy, version);
      const to = nextState('shadow', policy, version, row.state);
      const updated = await this.setState(tx, row, to, { shadowAt: at });
      await this.audit(tx, { at, actor: who, action: 'shadow', policy, version, fromState: row.state, toState: to, reason: reason ?? null, diff: await this.diffFromActive(tx, row), detail: null });
      return this.withApprovals(tx, updated);
    });
  }

  /** Four eyes, first pair: the approver must not be the version's author. */
  async approve(policy: string, version: number, approver: string, reason?: string): Promise<PolicyVersion> {
    const who = actorName(approver, 'approver');
    return this.change(policy, async (tx, at) => {
      const row = await this.mustGet(tx, policy, version);
      nextState('approve', policy, version, row.state);
      if (who === row.author) {
        throw new PolicyLifecycleError('four_eyes', `${who} wrote ${label(policy, version)} and cannot approve it: approval needs ${otherThan([row.author])}`);
      }
      const prior = await tx.select().from(policyApprovals).where(and(eq(policyApprovals.policy, policy), eq(policyApprovals.version, version), eq(policyApprovals.approver, who)));
      if (prior.length) throw new PolicyLifecycleError('duplicate', `${who} already approved ${label(policy, version)} at ${prior[0].at.toISOString()}`);
      await tx.insert(policyApprovals).values({ policy, version, approver: who, reason: reason ?? null, at });
      await this.audit(tx, { at, actor: who, action: 'approve', policy, version, fromState: row.state, toState: row.state, reason: reason ?? null, diff: await this.diffFromActive(tx, row), detail: { author: row.author } });
      return this.withApprovals(tx, row);
    });
  }

  /** Four eyes, second pair: needs an approval by someone other than the author and the requester. The previous active version retires. */
  async promote(policy: string, version: number, actor: string, reason?: string): Promise<PolicyVersion> {
    const who = actorName(actor, 'actor');
    return this.change(policy, async (tx, at) => {
      const row = await this.mustGet(tx, policy, version);
      const to = nextState('promote', policy, version, row.state);
      const approvals = await this.approvalsOf(tx, policy, version);
      const valid = approvals.filter((a) => a.approver !== who && a.approver !== row.author);
      if (!valid.length) {
        const had = approvals.length ? ` (approved only by ${approvals.map((a) => a.approver).join(', ')})` : ' (no approvals yet)';
        throw new PolicyLifecycleError('four_eyes', `promotion of v${version} needs an approval by ${otherThan([who, row.author])}${had}`);
      }
      const previous = await this.activeRow(tx, policy);
      if (previous) await this.setState(tx, previous, 'retired', { retiredAt: at });
      const updated = await this.setState(tx, row, to, { activatedAt: at });
      await this.audit(tx, {
        at, actor: who, action: 'promote', policy, version, fromState: row.state, toState: to, reason: reason ?? null,
        // Against nothing the diff would only repeat the create entry's.
        diff: previous ? diffPolicies({ label: label(policy, previous.version), doc: previous.doc as PolicyDoc }, { label: label(policy, version), doc: row.doc as PolicyDoc }) : null,
        detail: { previousActive: previous?.version ?? null, approvedBy: valid.map((a) => a.approver) },
      });
      return toVersion(updated, approvals);
    });
  }

  /** One step back to a version that was active before: it becomes active, the current one retires. */
  async rollback(policy: string, toVersion_: number, actor: string, reason?: string): Promise<PolicyVersion> {
    const who = actorName(actor, 'actor');
    return this.change(policy, async (tx, at) => {
      const row = await this.mustGet(tx, policy, toVersion_);
      const current = await this.activeRow(tx, policy);
      if (current?.version === toVersion_) throw new PolicyLifecycleError('illegal_transition', `cannot roll ${policy} back to v${toVersion_}: it is already active`);
      if (row.activatedAt === null) {
        throw new PolicyLifecycleError('illegal_transition', `cannot roll ${policy} back to v${toVersion_}: it was never active (it is ${row.state}); rollback only restores a version that was active before, use promote for new ones`);
      }
      if (current) await this.setState(tx, current, 'retired', { retiredAt: at });
      const updated = await this.setState(tx, row, 'active', { activatedAt: at });
      await this.audit(tx, {
        at, actor: who, action: 'rollback', policy, version: toVersion_, fromState: row.state, toState: 'active', reason: reason ?? null,
        diff: diffPolicies(current && { label: label(policy, current.version), doc: current.doc as PolicyDoc }, { label: label(policy, toVersion_), doc: row.doc as PolicyDoc }),
        detail: { previousActive: current?.version ?? null },
      });
      return this.withApprovals(tx, updated);
    });
  }

  /** Retires a version; retiring the active one leaves the policy without an active version. */
  async retire(policy: string, version: number, actor: string, reason?: string): Promise<PolicyVersion> {
    const who = actorName(actor, 'actor');
    return this.change(policy, async (tx, at) => {
      const row = await this.mustGet(tx, policy, version);
      const to = nextState('retire', policy, version, row.state);
      const updated = await this.setState(tx, row, to, { retiredAt: at });
      await this.audit(tx, { at, actor: who, action: 'retire', policy, version, fromState: row.state, toState: to, reason: reason ?? null, diff: null, detail: null });
      return this.withApprovals(tx, updated);
    });
  }

  async get(policy: string, version: number): Promise<PolicyVersion | undefined> {
    const row = (await this.db.select().from(policyVersions).where(and(eq(policyVersions.policy, policy), eq(policyVersions.version, version))))[0];
    return row && this.withApprovals(this.db, row);
  }

  /** All versions of a policy, oldest first. */
  async versions(policy: string): Promise<PolicyVersion[]> {
    const rows = await this.db.select().from(policyVersions).where(eq(policyVersions.policy, policy)).orderBy(asc(policyVersions.version));
    const approvals = await this.db.select().from(policyApprovals).where(eq(policyApprovals.policy, policy)).orderBy(asc(policyApprovals.id));
    return rows.map((r) => toVersion(r, approvals.filter((a) => a.version === r.version)));
  }

  async list(): Promise<PolicySummary[]> {
    const rows = await this.db
      .select({
        policy: policyVersions.policy,
        versions: sql<number>`count(*)::int`,
        latest: sql<number>`max(${policyVersions.version})::int`,
        active: sql<number | null>`(max(${policyVersions.version}) filter (where ${policyVersions.state} = 'active'))::int`,
        shadows: sql<number[] | null>`array_agg(${policyVersions.version} order by ${policyVersions.version}) filter (where ${policyVersions.state} = 'shadow')`,
      })
      .from(policyVersions)
      .groupBy(policyVersions.policy)
      .orderBy(asc(policyVersions.policy));
    return rows.map((r) => ({ ...r, shadows: (r.shadows ?? []).map(Number) }));
  }

  async active(policy: string): Promise<PolicyVersion | undefined> {
    const row = await this.activeRow(this.db, policy);
    return row && this.withApprovals(this.db, row);
  }

  async shadows(policy: string): Promise<PolicyVersion[]> {
    return (await this.versions(policy)).filter((v) => v.state === 'shadow');
  }

  /** The audit trail: who, what, when, why and the diff, oldest first. */
  async history(policy: string): Promise<AuditEntry[]> {
    return readHistory(this.db, policy);
  }

  async backtests<R = unknown>(policy: string, version: number): Promise<StoredReport<R>[]> {
    const rows = await this.db.select().from(policyBacktests).where(and(eq(policyBacktests.policy, policy), eq(policyBacktests.version, version))).orderBy(asc(policyBacktests.id));
    return rows.map((r) => ({ ...r, report: r.report as R }));
  }

  async latestBacktest<R = unknown>(policy: string, version: number): Promise<StoredReport<R> | undefined> {
    const all = await this.backtests<R>(policy, version);
    return all[all.length - 1];
  }

  /**
   * Records phantom decisions of a version in shadow, each beside the active decision on the same
   * event. Idempotent per event (a replayed event is not counted twice). Returns how many were new.
   */
  async recordShadowDecisions(policy: string, version: number, records: ShadowDecisionInput[]): Promise<number> {
    const row = await this.mustGet(this.db, policy, version);
    if (row.state !== 'shadow') throw new PolicyLifecycleError('illegal_transition', `cannot record shadow decisions for ${label(policy, version)}: it is ${row.state}, not in shadow`);
    const at = this.clock();
    let inserted = 0;
    for (let i = 0; i < records.length; i += 500) {
      const values = records.slice(i, i + 500).map(({ candidate, active }) => {
        if (candidate.policy !== policy) throw new PolicyLifecycleError('invalid', `shadow decision ${candidate.id} belongs to policy ${candidate.policy}, not ${policy}`);
        const activeOutcome = active?.outcome ?? null;
        return {
          policy, version, activeVersion: active?.version ?? null,
          eventId: candidate.eventId, ts: candidate.ts, account: candidate.account ?? null,
          candidateOutcome: candidate.outcome, candidateScore: candidate.score,
          activeOutcome, activeScore: active?.score ?? null,
          agree: candidate.outcome === (activeOutcome ?? 'allow'),
          candidate: candidate as unknown, active: (active ?? null) as unknown, recordedAt: at,
        };
      });
      const done = await this.db.insert(policyShadowDecisions).values(values).onConflictDoNothing().returning({ id: policyShadowDecisions.id });
      inserted += done.length;
    }
    return inserted;
  }

  /** Recorded shadow decisions in event-time order; `disagreements` keeps only those that differ. */
  async shadowDecisions(policy: string, version: number, opts: { disagreements?: boolean; limit?: number } = {}): Promise<StoredShadowDecision[]> {
    const where = [eq(policyShadowDecisions.policy, policy), eq(policyShadowDecisions.version, version)];
    if (opts.disagreements) where.push(eq(policyShadowDecisions.agree, false));
    const q = this.db.select().from(policyShadowDecisions).where(and(...where)).orderBy(asc(policyShadowDecisions.ts), asc(policyShadowDecisions.id));
    const rows = opts.limit !== undefined ? await q.limit(opts.limit) : await q;
    return rows.map(({ id: _id, recordedAt: _r, ...r }) => ({ ...r, candidate: r.candidate as Decision, active: r.active as Decision | null }));
  }

  /** Agreement between a shadow version and the active one, computed in the database. */
  async shadowComparison(policy: string, version: number): Promise<ShadowComparison> {
    const d = policyShadowDecisions;
    const pairs = await this.db
      .select({ candidate: d.candidateOutcome, active: d.activeOutcome, count: sql<number>`count(*)::int`, first: sql<string | null>`min(${d.ts})`, last: sql<string | null>`max(${d.ts})` })
      .from(d)
      .where(and(eq(d.policy, policy), eq(d.version, version)))
      .groupBy(d.candidateOutcome, d.activeOutcome)
      .orderBy(desc(sql`count(*)`), asc(d.candidateOutcome), asc(d.activeOutcome));
    const total = pairs.reduce((s, p) => s + p.count, 0);
    const agree = pairs.filter((p) => p.candidate === (p.active ?? 'allow')).reduce((s, p) => s + p.count, 0);
    const firsts = pairs.map((p) => Number(p.first));
    const lasts = pairs.map((p) => Number(p.last));
    return {
      policy, version, total, agree, disagree: total - agree,
      firstTs: total ? Math.min(...firsts) : null, lastTs: total ? Math.max(...lasts) : null,
      pairs: pairs.map(({ candidate, active, count }) => ({ candidate, active, count })),
    };
  }

  /** Stores a shadow run's comparison report on the version (audited). */
  async attachShadowReport<R>(policy: string, version: number, report: R, actor: string): Promise<StoredReport<R>> {
    const who = actorName(actor, 'actor');
    return this.change(policy, async (tx, at) => {
      const row = await this.mustGet(tx, policy, version);
      nextState('shadow-report', policy, version, row.state);
      const [stored] = await tx.insert(policyShadowReports).values({ policy, version, report: report as unknown, actor: who, at }).returning();
      await this.audit(tx, { at, actor: who, action: 'shadow-report', policy, version, fromState: row.state, toState: row.state, reason: null, diff: null, detail: { reportId: stored.id } });
      return { ...stored, report: stored.report as R };
    });
  }

  async shadowReports<R = unknown>(policy: string, version: number): Promise<StoredReport<R>[]> {
    const rows = await this.db.select().from(policyShadowReports).where(and(eq(policyShadowReports.policy, policy), eq(policyShadowReports.version, version))).orderBy(asc(policyShadowReports.id));
    return rows.map((r) => ({ ...r, report: r.report as R }));
  }

  // --- internals ---

  /** One transaction under a per-policy advisory lock; database refusals become clear errors. */
  private async change<T>(policy: string, fn: (tx: Tx, at: Date) => Promise<T>): Promise<T> {
    const at = this.clock();
    try {
      return await this.db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${'riskloop.policy:' + policy}))`);
        return fn(tx, at);
      });
    } catch (err) {
      if (err instanceof PolicyLifecycleError) throw err;
      const pgErr = pgErrorOf(err);
      if (pgErr?.constraint === 'policy_versions_one_active') throw new PolicyLifecycleError('conflict', `${policy} already has an active version (only one may be active)`);
      if (pgErr?.constraint === 'policy_versions_policy_content' || pgErr?.constraint === 'policy_versions_policy_version') {
        throw new PolicyLifecycleError('conflict', `${policy}: a concurrent change created the same version; try again`);
      }
      if (pgErr) throw new Error(`store refused the change to ${policy}: ${errorText(err)}`);
      throw err;
    }
  }

  private async mustGet(db: Exec, policy: string, version: number): Promise<VersionRow> {
    if (!Number.isInteger(version) || version < 1) throw new PolicyLifecycleError('invalid', `version must be a positive integer, got ${version}`);
    const row = (await db.select().from(policyVersions).where(and(eq(policyVersions.policy, policy), eq(policyVersions.version, version))))[0];
    if (!row) {
      const any = await db.select({ v: policyVersions.version }).from(policyVersions).where(eq(policyVersions.policy, policy)).orderBy(desc(policyVersions.version)).limit(1);
      throw new PolicyLifecycleError('not_found', any.length ? `${policy} has no v${version} (latest is v${any[0].v})` : `no policy named ${policy}`);
    }
    return row;
  }

  private async activeRow(db: Exec, policy: string): Promise<VersionRow | undefined> {
    return (await db.select().from(policyVersions).where(and(eq(policyVersions.policy, policy), eq(policyVersions.state, 'active'))))[0];
  }

  private async setState(tx: Tx, row: VersionRow, state: PolicyState, stamps: Partial<Pick<VersionRow, 'backtestedAt' | 'shadowAt' | 'activatedAt' | 'retiredAt'>>): Promise<VersionRow> {
    const [updated] = await tx.update(policyVersions).set({ state, ...stamps }).where(eq(policyVersions.id, row.id)).returning();
    return updated;
  }

  private async approvalsOf(db: Exec, policy: string, version: number): Promise<Approval[]> {
    const rows = await db.select().from(policyApprovals).where(and(eq(policyApprovals.policy, policy), eq(policyApprovals.version, version))).orderBy(asc(policyApprovals.id));
    return rows.map(({ approver, reason, at }) => ({ approver, reason, at }));
  }

  private async withApprovals(db: Exec, row: VersionRow): Promise<PolicyVersion> {
    return toVersion(row, await this.approvalsOf(db, row.policy, row.version));
  }

  private async diffFromActive(tx: Tx, row: VersionRow): Promise<string | null> {
    const active = await this.activeRow(tx, row.policy);
    if (!active || active.version === row.version) return null;
    return diffPolicies({ label: label(row.policy, active.version), doc: active.doc as PolicyDoc }, { label: label(row.policy, row.version), doc: row.doc as PolicyDoc });
  }

  private audit(tx: Tx, e: NewAuditEntry): Promise<void> {
    return appendAudit(tx, e);
  }
}

function actorName(name: string, what: string): string {
  const n = (name ?? '').trim();
  if (!n) throw new PolicyLifecycleError('invalid', `${what} is required (who is making this change?)`);
  return n;
}

function toVersion(row: VersionRow, approvals: Approval[]): PolicyVersion {
  const { id: _id, doc, ...rest } = row;
  return { ...rest, doc: doc as PolicyDoc, approvals: approvals.map(({ approver, reason, at }) => ({ approver, reason, at })) };
}
