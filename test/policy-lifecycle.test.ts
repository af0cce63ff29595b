import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyLifecycleError, PolicyRegistry } from '../src/policy/index.js';
import { RuleCompileError, type Decision, type PolicyDoc } from '../src/rules/index.js';
import { pgErrorOf, type Store } from '../src/store/index.js';
import { BACKENDS, openTestStore, testClock } from './store-helpers.js';

const BIG = `rule big_withdrawal "Large withdrawal"
  when type == "withdrawal" and amount > 10000
  then hold score 80 tags aml
`;
const LOGINS = `
rule many_logins "Login burst"
  when type == "login" and count(by account over 1h) > 20
  then review score 30 tags ato
`;
const doc = (name: string, rules: string, thresholds?: PolicyDoc['thresholds']): PolicyDoc => ({ name, rules, ...(thresholds ? { thresholds } : {}) });

async function refusal(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a refusal, the call succeeded');
}

function decision(policy: string, version: number | undefined, eventId: string, ts: number, outcome: Decision['outcome'], score: number): Decision {
  return { id: `${policy}:v${version}:${eventId}`, eventId, ts, type: 'withdrawal', account: 'acc-1', accounts: ['acc-1'], outcome, score, tags: [], policy, version, fired: [], explanation: `${outcome} with score ${score}` };
}

/** Moves a fresh version to shadow (draft → backtested → shadow). */
async function toShadow(reg: PolicyRegistry, d: PolicyDoc, author: string) {
  const v = await reg.createVersion({ doc: d, author, reason: 'test' });
  await reg.attachBacktest(v.policy, v.version, { precision: 0.9 }, author);
  return reg.startShadow(v.policy, v.version, author);
}

describe.each(BACKENDS)('policy lifecycle on %s', (backend) => {
  let store: Store;
  let close: () => Promise<void>;
  let reg: PolicyRegistry;

  beforeAll(async () => {
    ({ store, close } = await openTestStore(backend, 'lifecycle'));
    reg = new PolicyRegistry(store, { clock: testClock() });
  }, 240_000); // PGlite's start-up is CPU-bound: minutes of wall time on a crowded machine
  afterAll(async () => close?.());

  it('creates immutable, numbered, content-hashed drafts and refuses identical content', async () => {
    const v1 = await reg.createVersion({ doc: doc('payments', BIG, { review: 40, hold: 70 }), author: 'alice', reason: 'first cut' });
    expect(v1).toMatchObject({ policy: 'payments', version: 1, state: 'draft', author: 'alice', reason: 'first cut', approvals: [] });
    expect(v1.contentHash).toMatch(/^[0-9a-f]{64}$/);
    const v2 = await reg.createVersion({ doc: doc('payments', BIG + LOGINS, { review: 40, hold: 70 }), author: 'alice' });
    expect(v2.version).toBe(2);
    // Same content, keys in another order: still a duplicate of v1.
    const dup = await refusal(reg.createVersion({ doc: { thresholds: { hold: 70, review: 40 }, rules: BIG, name: 'payments' }, author: 'bob' }));
    expect(dup).toBeInstanceOf(PolicyLifecycleError);
    expect(dup.message).toMatch(/identical content is already v1/);
    expect((await reg.versions('payments')).map((v) => v.version)).toEqual([1, 2]);
  });

  it('validates every document by compiling it: a bad rule is refused with its line and column', async () => {
    const bad = `rule ok\n  when amount > 5\n  then review\nrule broken\n  when amount >> 5\n  then hold\n`;
    const err = await refusal(reg.createVersion({ doc: doc('broken', bad), author: 'alice' }));
    expect(err).toBeInstanceOf(RuleCompileError);
    const d = (err as RuleCompileError).diagnostics[0];
    expect(d.line).toBe(5);
    expect(d.column).toBeGreaterThan(1);
    expect(err.message).toMatch(/5:\d+/);
    const invalid = await refusal(reg.createVersion({ doc: { name: 'has space', rules: BIG } as PolicyDoc, author: 'alice' }));
    expect(invalid.message).toMatch(/policy document is invalid: name/);
    expect(await reg.versions('broken')).toEqual([]);
    expect(await reg.history('broken')).toEqual([]);
  });

  it('refuses illegal transitions with a clear error', async () => {
    const v = await reg.createVersion({ doc: doc('transitions', BIG), author: 'alice' });
    const cases: [() => Promise<unknown>, RegExp][] = [
      [() => reg.startShadow('transitions', v.version, 'alice'), /cannot start shadowing transitions v1: it is draft, and that needs a backtested version/],
      [() => reg.approve('transitions', v.version, 'bob'), /cannot approve transitions v1: it is draft/],
      [() => reg.promote('transitions', v.version, 'bob'), /cannot promote transitions v1: it is draft, and that needs a version in shadow/],
      [() => reg.rollback('transitions', v.version, 'bob'), /it was never active/],
      [() => reg.promote('transitions', 9, 'bob'), /transitions has no v9 \(latest is v1\)/],
      [() => reg.promote('nope', 1, 'bob'), /no policy named nope/],
      [() => reg.attachBacktest('transitions', v.version, {}, ' '), /actor is required/],
    ];
    for (const [p, msg] of cases) {
      const err = await refusal(p());
      expect(err).toBeInstanceOf(PolicyLifecycleError);
      expect(err.message).toMatch(msg);
    }
    expect((await reg.attachBacktest('transitions', 1, { days: 3 }, 'alice')).state).toBe('backtested');
    await expect(reg.promote('transitions', 1, 'bob')).rejects.toThrow(/it is backtested/);
    expect((await reg.retire('transitions', 1, 'alice', 'superseded')).state).toBe('retired');
    await expect(reg.retire('transitions', 1, 'alice')).rejects.toThrow(/it is retired/);
    await expect(reg.startShadow('transitions', 1, 'alice')).rejects.toThrow(/it is retired/);
  });

  it('four eyes: the approver is neither the author nor the one who promotes', async () => {
    const v = await toShadow(reg, doc('fourEyes', BIG), 'alice');
    await expect(reg.approve('fourEyes', v.version, 'alice')).rejects.toThrow(/alice wrote fourEyes v1 and cannot approve it/);
    await expect(reg.promote('fourEyes', v.version, 'alice')).rejects.toThrow('promotion of v1 needs an approval by someone other than alice (no approvals yet)');
    await reg.approve('fourEyes', v.version, 'bob', 'looks right');
    await expect(reg.approve('fourEyes', v.version, 'bob')).rejects.toThrow(/bob already approved/);
    // bob approved, so bob may not also be the one who promotes.
    const e = await refusal(reg.promote('fourEyes', v.version, 'bob'));
    expect((e as PolicyLifecycleError).code).toBe('four_eyes');
    expect(e.message).toBe('promotion of v1 needs an approval by someone other than bob and alice (approved only by bob)');
    const active = await reg.promote('fourEyes', v.version, 'carol', 'go live');
    expect(active).toMatchObject({ state: 'active', approvals: [{ approver: 'bob', reason: 'looks right' }] });
    expect(active.activatedAt).toBeInstanceOf(Date);
    // the author may promote once someone else approved
    const v2 = await toShadow(reg, doc('fourEyes', BIG + LOGINS), 'alice');
    await reg.approve('fourEyes', v2.version, 'dave');
    expect((await reg.promote('fourEyes', v2.version, 'alice')).state).toBe('active');
  });

  it('keeps exactly one active version: promotion retires the previous one, and the database refuses a second', async () => {
    const v1 = await toShadow(reg, doc('single', BIG), 'alice');
    await reg.approve('single', 1, 'bob');
    await reg.promote('single', v1.version, 'carol');
    const v2 = await toShadow(reg, doc('single', BIG + LOGINS), 'alice');
    await reg.approve('single', v2.version, 'bob');
    await reg.promote('single', v2.version, 'carol');
    const states = (await reg.versions('single')).map((v) => [v.version, v.state]);
    expect(states).toEqual([[1, 'retired'], [2, 'active']]);
    expect((await reg.active('single'))?.version).toBe(2);
    // Bypass the registry: the partial unique index still refuses a second active version.
    const err = await refusal(store.db.execute(sql`update policy_versions set state = 'active' where policy = 'single' and version = 1`));
    expect(pgErrorOf(err)).toMatchObject({ code: '23505', constraint: 'policy_versions_one_active' });
  });

  it('rolls back to any earlier active version in one step, with the diff in the audit trail', async () => {
    for (const [i, rules] of [BIG, BIG + LOGINS, BIG.replace('10000', '25000') + LOGINS].entries()) {
      const v = await toShadow(reg, doc('rb', rules, { hold: 70 + i }), 'alice');
      await reg.approve('rb', v.version, 'bob');
      await reg.promote('rb', v.version, 'carol');
    }
    expect((await reg.active('rb'))?.version).toBe(3);
    const back = await reg.rollback('rb', 1, 'carol', 'v3 floods the queue');
    expect(back).toMatchObject({ version: 1, state: 'active' });
    expect((await reg.versions('rb')).map((v) => v.state)).toEqual(['active', 'retired', 'retired']);
    await expect(reg.rollback('rb', 1, 'carol')).rejects.toThrow(/already active/);
    const last = (await reg.history('rb')).at(-1)!;
    expect(last).toMatchObject({ action: 'rollback', version: 1, actor: 'carol', reason: 'v3 floods the queue', fromState: 'retired', toState: 'active', detail: { previousActive: 3 } });
    expect(last.diff).toContain('--- rb v3\n+++ rb v1\n');
    expect(last.diff).toContain('-  when type == "withdrawal" and amount > 25000');
    expect(last.diff).toContain('+  when type == "withdrawal" and amount > 10000');
    expect(last.diff).toContain('-rule many_logins "Login burst"');
    expect(last.diff).toContain('-  hold >= 72\n+  hold >= 70');
    // and forward again to v3, which was active before
    expect((await reg.rollback('rb', 3, 'carol')).state).toBe('active');
    // retiring the active one leaves none
    await reg.retire('rb', 3, 'carol', 'policy withdrawn');
    expect(await reg.active('rb')).toBeUndefined();
  });

  it('versions are immutable in the database too', async () => {
    await reg.createVersion({ doc: doc('immutable', BIG), author: 'alice' });
    const upd = await refusal(store.db.execute(sql`update policy_versions set doc = '{"name":"immutable","rules":""}'::jsonb where policy = 'immutable'`));
    expect(pgErrorOf(upd)?.message).toMatch(/policy versions are immutable: the content of immutable v1 cannot change/);
    const auth = await refusal(store.db.execute(sql`update policy_versions set author = 'mallory' where policy = 'immutable'`));
    expect(pgErrorOf(auth)?.message).toMatch(/immutable/);
    const del = await refusal(store.db.execute(sql`delete from policy_versions where policy = 'immutable'`));
    expect(pgErrorOf(del)?.message).toMatch(/DELETE of immutable v1 refused/);
    expect((await reg.get('immutable', 1))?.doc.rules).toBe(BIG);
  });

  it('the audit log is append-only, enforced by the database', async () => {
    const before = await reg.history('payments');
    expect(before.length).toBeGreaterThan(0);
    for (const stmt of [sql`update policy_audit set actor = 'mallory'`, sql`delete from policy_audit where policy = 'payments'`, sql`truncate policy_audit`, sql`delete from policy_approvals`]) {
      const err = await refusal(store.db.execute(stmt));
      expect(pgErrorOf(err)?.message).toMatch(/is append-only: (UPDATE|DELETE|TRUNCATE) refused/);
    }
    expect(await reg.history('payments')).toEqual(before);
  });

  it('history says who, what, when, why and the diff, in order', async () => {
    const clock = testClock(Date.UTC(2026, 2, 1, 12, 0, 0), 1000);
    const r = new PolicyRegistry(store, { clock });
    await r.createVersion({ doc: doc('hist', BIG, { review: 40 }), author: 'alice', reason: 'initial' });
    await r.attachBacktest('hist', 1, { f1: 0.8 }, 'alice');
    await r.startShadow('hist', 1, 'alice', 'watch it');
    await r.approve('hist', 1, 'bob', 'ok');
    await r.promote('hist', 1, 'carol', 'ship');
    await r.createVersion({ doc: doc('hist', BIG + LOGINS, { review: 45 }), author: 'alice', reason: 'add ATO' });
    const h = await r.history('hist');
    expect(h.map((e) => [e.action, e.actor, e.version, e.fromState, e.toState, e.reason])).toEqual([
      ['create', 'alice', 1, null, 'draft', 'initial'],
      ['backtest', 'alice', 1, 'draft', 'backtested', null],
      ['shadow', 'alice', 1, 'backtested', 'shadow', 'watch it'],
      ['approve', 'bob', 1, 'shadow', 'shadow', 'ok'],
      ['promote', 'carol', 1, 'shadow', 'active', 'ship'],
      ['create', 'alice', 2, null, 'draft', 'add ATO'],
    ]);
    expect(h.map((e) => e.at.toISOString())).toEqual(['12:00:00', '12:00:01', '12:00:02', '12:00:03', '12:00:04', '12:00:05'].map((t) => `2026-03-01T${t}.000Z`));
    expect(h[0].diff).toMatch(/^--- \/dev\/null\n\+\+\+ hist v1\n@@ -0,0 \+1,\d+ @@\n\+rule big_withdrawal/);
    expect(h[4].detail).toMatchObject({ previousActive: null, approvedBy: ['bob'] });
    expect(h[4].diff).toBeNull(); // nothing was active: the create entry already shows the whole text
    expect(h[5].diff).toContain('--- hist v1\n+++ hist v2\n');
    expect(h[5].diff).toContain('+rule many_logins "Login burst"');
    expect(h[5].diff).toContain('-  review >= 40\n+  review >= 45');
    // an approver sees what would change against the live version
    await r.attachBacktest('hist', 2, { f1: 0.9 }, 'alice');
    await r.approve('hist', 2, 'bob');
    const approval = (await r.history('hist')).at(-1)!;
    expect(approval).toMatchObject({ action: 'approve', version: 2, actor: 'bob' });
    expect(approval.diff).toContain('--- hist v1\n+++ hist v2\n');
  });

  it('stores backtest reports on versions as JSON with typed accessors', async () => {
    const v = await reg.createVersion({ doc: doc('reports', BIG), author: 'alice' });
    type Report = { perDay: { day: string; decisions: number }[]; f1: number; note: string | null };
    const report: Report = { perDay: [{ day: '2024-08-08', decisions: 12 }], f1: 0.625, note: null };
    const after = await reg.attachBacktest<Report>('reports', v.version, report, 'alice');
    expect(after.state).toBe('backtested');
    await reg.attachBacktest<Report>('reports', v.version, { ...report, f1: 0.7 }, 'bob');
    const all = await reg.backtests<Report>('reports', v.version);
    expect(all.map((b) => [b.actor, b.report.f1])).toEqual([['alice', 0.625], ['bob', 0.7]]);
    expect(all[0].report).toEqual(report);
    expect((await reg.latestBacktest<Report>('reports', v.version))?.report.f1).toBe(0.7);
    expect((await reg.get('reports', 1))?.state).toBe('backtested');
  });

  it('records shadow decisions beside the active ones and compares them', async () => {
    const a = await toShadow(reg, doc('shadowed', BIG), 'alice');
    await reg.approve('shadowed', a.version, 'bob');
    await reg.promote('shadowed', a.version, 'carol');
    const c = await toShadow(reg, doc('shadowed', BIG + LOGINS), 'alice');
    expect((await reg.shadows('shadowed')).map((v) => v.version)).toEqual([2]);
    const T = Date.UTC(2024, 7, 8);
    const records = [
      { candidate: decision('shadowed', 2, 'e1', T + 1, 'hold', 80), active: decision('shadowed', 1, 'e1', T + 1, 'hold', 80) },
      { candidate: decision('shadowed', 2, 'e2', T + 2, 'review', 30), active: decision('shadowed', 1, 'e2', T + 2, 'allow', 0) },
      { candidate: decision('shadowed', 2, 'e3', T + 3, 'review', 30), active: null },
      { candidate: decision('shadowed', 2, 'e4', T + 4, 'allow', 0), active: decision('shadowed', 1, 'e4', T + 4, 'allow', 0) },
    ];
    expect(await reg.recordShadowDecisions('shadowed', c.version, records)).toBe(4);
    expect(await reg.recordShadowDecisions('shadowed', c.version, records.slice(0, 2))).toBe(0); // idempotent per event
    const cmp = await reg.shadowComparison('shadowed', c.version);
    expect(cmp).toMatchObject({ total: 4, agree: 2, disagree: 2, firstTs: T + 1, lastTs: T + 4 });
    expect(cmp.pairs).toEqual([
      { candidate: 'allow', active: 'allow', count: 1 },
      { candidate: 'hold', active: 'hold', count: 1 },
      { candidate: 'review', active: 'allow', count: 1 },
      { candidate: 'review', active: null, count: 1 },
    ]);
    const diffs = await reg.shadowDecisions('shadowed', c.version, { disagreements: true });
    expect(diffs.map((d) => [d.eventId, d.candidateOutcome, d.activeOutcome, d.activeVersion])).toEqual([['e2', 'review', 'allow', 1], ['e3', 'review', null, null]]);
    expect(diffs[0].candidate.explanation).toBe('review with score 30');
    await expect(reg.recordShadowDecisions('shadowed', 1, records)).rejects.toThrow(/shadowed v1: it is active, not in shadow/);
    const stored = await reg.attachShadowReport('shadowed', c.version, { comparison: cmp }, 'alice');
    expect((await reg.shadowReports<{ comparison: typeof cmp }>('shadowed', c.version))[0]).toMatchObject({ id: stored.id, report: { comparison: { total: 4 } } });
  });

  it('serialises concurrent changes to one policy and lists every policy', async () => {
    const made = await Promise.all([1, 2, 3].map((i) => reg.createVersion({ doc: doc('concurrent', BIG.replace('10000', String(10000 * i))), author: 'alice' })));
    expect(made.map((v) => v.version).sort()).toEqual([1, 2, 3]);
    const list = await reg.list();
    expect(list.find((p) => p.policy === 'concurrent')).toEqual({ policy: 'concurrent', versions: 3, latest: 3, active: null, shadows: [] });
    expect(list.find((p) => p.policy === 'shadowed')).toEqual({ policy: 'shadowed', versions: 2, latest: 2, active: 1, shadows: [2] });
    expect(list.map((p) => p.policy)).toEqual([...list.map((p) => p.policy)].sort());
  });
});
