import { asc, eq } from 'drizzle-orm';
import { policyAudit } from '../store/schema.js';
import type { StoreDb } from '../store/open.js';
import type { LifecycleAction, PolicyState } from './lifecycle.js';

/** One entry of a policy's audit trail: who did what, when, why, and what changed. */
export interface AuditEntry {
  id: number;
  at: Date;
  actor: string;
  action: LifecycleAction;
  policy: string;
  version: number | null;
  fromState: PolicyState | null;
  toState: PolicyState | null;
  reason: string | null;
  /** unified diff of rules text and thresholds against the predecessor or the previously active version */
  diff: string | null;
  detail: Record<string, unknown> | null;
}

export type NewAuditEntry = Omit<AuditEntry, 'id'>;

type Executor = Pick<StoreDb, 'insert' | 'select'>;

export async function appendAudit(db: Executor, e: NewAuditEntry): Promise<void> {
  await db.insert(policyAudit).values(e);
}

/** The whole trail of a policy, oldest first. */
export async function readHistory(db: Executor, policy: string): Promise<AuditEntry[]> {
  const rows = await db.select().from(policyAudit).where(eq(policyAudit.policy, policy)).orderBy(asc(policyAudit.id));
  return rows.map((r) => ({
    ...r,
    action: r.action as LifecycleAction,
    fromState: r.fromState as PolicyState | null,
    toState: r.toState as PolicyState | null,
  }));
}

/** Human-readable trail, one block per entry (the diff indented under it). */
export function formatHistory(entries: AuditEntry[]): string {
  const out: string[] = [];
  for (const e of entries) {
    const move = e.fromState && e.toState && e.fromState !== e.toState ? ` ${e.fromState} → ${e.toState}` : e.toState && !e.fromState ? ` → ${e.toState}` : '';
    out.push(`${e.at.toISOString()}  ${e.actor}  ${e.action}${e.version !== null ? ` v${e.version}` : ''}${move}${e.reason ? `  "${e.reason}"` : ''}`);
    if (e.diff) for (const line of e.diff.replace(/\n$/, '').split('\n')) out.push('    ' + line);
  }
  return out.join('\n');
}
