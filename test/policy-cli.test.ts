import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyRegistry } from '../src/policy/index.js';
import { MIGRATIONS_DIR, openStore, queryRows } from '../src/store/index.js';
import { cli } from './helpers/cli.js';
import { createTestDatabase } from './store-helpers.js';

const V1 = `rule big_withdrawal "Large withdrawal"
  when type == "withdrawal" and amount > 10000
  then hold score 80 tags aml
`;
const V2 = `name: payments
description: withdrawals and login bursts
thresholds:
  review: 40
rules: |
  rule big_withdrawal "Large withdrawal"
    when type == "withdrawal" and amount > 25000
    then hold score 80 tags aml
  rule many_logins "Login burst"
    when type == "login" and count(by account over 1h) > 20
    then review score 30 tags ato
`;
const BAD = `name: payments
rules: |
  rule ok
    when amount > 5
    then review
  rule broken
    when amount >> 5
    then hold
`;

/** Runs the CLI expecting failure; returns exit code and stderr. */
async function fails(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await cli(args);
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
  throw new Error(`riskloop ${args.join(' ')} succeeded, expected it to fail`);
}

/** JSON.parse that shows the text when it is not JSON. */
function parse(text: string): any {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${(err as Error).message} in:\n${text.slice(0, 400)}`);
  }
}

/** Moves a version to shadow through the library on the same store (backtest and shadow are the analysis commands). */
async function toShadow(target: { dataDir?: string; url?: string }, version: number, approver?: string): Promise<void> {
  const store = await openStore({ url: '', ...target });
  try {
    const reg = new PolicyRegistry(store);
    await reg.attachBacktest('payments', version, { f1: 0.8 }, 'alice');
    await reg.startShadow('payments', version, 'alice', 'watch it');
    if (approver) await reg.approve('payments', version, approver);
  } finally {
    await store.close();
  }
}

// PGlite starts in seconds of CPU per process, so the embedded store gets a short tour and the
// full command-line flow runs against PostgreSQL (the same registry code on the same schema).
describe('riskloop policy --store (embedded PGlite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rl-policy-cli-'));
  const store = join(dir, 'store');
  const S = ['--store', store];
  writeFileSync(join(dir, 'payments.rules'), V1);

  it('creates, promotes under four eyes and shows the trail, with the store persisting between processes', async () => {
    expect((await cli(['policy', 'create', join(dir, 'payments.rules'), '--author', 'alice', '--reason', 'first cut', ...S])).stdout).toMatch(/^created payments v1 \(draft\) by alice, sha256 [0-9a-f]{12}\n$/);
    await toShadow({ dataDir: store }, 1, 'bob');
    const s = await openStore({ dataDir: store, url: '' });
    try {
      const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
      expect(await queryRows(s.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`)).toEqual([{ n: journal.entries.length }]);
    } finally {
      await s.close();
    }
    // bob approved, so bob cannot be the one who promotes
    expect(await fails(['policy', ...S, 'promote', 'payments', '1', '--by', 'bob'])).toEqual({ code: 1, stderr: 'riskloop: promotion of v1 needs an approval by someone other than bob and alice (approved only by bob)\n' });
    const text = (await cli(['policy', 'history', 'payments', ...S])).stdout;
    expect(text.split('\n').filter((l) => /^\S+Z /.test(l)).map((l) => l.split(/ {2}/).slice(1, 3).join(' '))).toEqual(['alice create v1 → draft', 'alice backtest v1 draft → backtested', 'alice shadow v1 backtested → shadow', 'bob approve v1']);
    expect(text).toContain('    +++ payments v1\n    @@ -0,0 +1,3 @@\n    +rule big_withdrawal "Large withdrawal"');
  }, 300_000); // a new PGlite data directory costs CPU-seconds of initdb; minutes of wall time on a crowded machine
});

describe('riskloop policy --db (PostgreSQL)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rl-policy-pg-'));
  writeFileSync(join(dir, 'payments.rules'), V1);
  writeFileSync(join(dir, 'payments-v2.yaml'), V2);
  writeFileSync(join(dir, 'bad.yaml'), BAD);
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let S: string[];
  beforeAll(async () => {
    db = await createTestDatabase('policy_cli');
    S = ['--db', db.url];
  }, 300_000);
  afterAll(async () => db?.drop());

  it('creates drafts, refusing duplicates and rules that do not compile', async () => {
    expect((await cli(['policy', 'create', join(dir, 'payments.rules'), '--author', 'alice', '--reason', 'first cut', ...S])).stdout).toMatch(/^created payments v1 \(draft\) by alice, sha256 [0-9a-f]{12}\n$/);
    const dup = await fails(['policy', ...S, 'create', join(dir, 'payments.rules'), '--author', 'bob']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/payments: identical content is already v1/);
    const bad = await fails(['policy', 'create', join(dir, 'bad.yaml'), '--author', 'alice', ...S]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('payments: the rules do not compile, nothing was stored');
    expect(bad.stderr).toMatch(/bad\.yaml:7:\d+: .*\[rule broken\]/);
  }, 300_000);

  it('four eyes on the command line: clear refusals, then approval and promotion', async () => {
    await toShadow({ url: db.url }, 1);
    const self = await fails(['policy', 'approve', 'payments', '1', '--by', 'alice', ...S]);
    expect(self.stderr).toContain('alice wrote payments v1 and cannot approve it');
    const early = await fails(['policy', 'promote', 'payments', 'v1', '--by', 'alice', ...S]);
    expect(early).toEqual({ code: 1, stderr: 'riskloop: promotion of v1 needs an approval by someone other than alice (no approvals yet)\n' });
    expect((await cli(['policy', 'approve', 'payments', '1', '--by', 'bob', '--reason', 'reviewed', ...S])).stdout).toBe('bob approved payments v1 (shadow); approvals: bob\n');
    expect((await cli(['policy', 'promote', 'payments', '1', '--by', 'carol', '--reason', 'go live', ...S])).stdout).toBe('payments v1 is active; approved by bob\n');
  }, 300_000);

  it('a second version goes live, rollback restores the first in one step, and the trail shows it all', async () => {
    expect((await cli(['policy', 'create', join(dir, 'payments-v2.yaml'), '--author', 'alice', '--json', ...S])).stdout).toMatch(/"version": 2,\n\s+"state": "draft"/);
    await toShadow({ url: db.url }, 2, 'bob');
    expect((await cli(['policy', 'promote', 'payments', '2', '--by', 'carol', '--reason', 'add ATO rule', ...S])).stdout).toBe('payments v2 is active (v1 retired); approved by bob\n');
    expect((await cli(['policy', 'rollback', 'payments', '--to', '1', '--by', 'carol', '--reason', 'v2 floods the queue', ...S])).stdout).toBe('payments rolled back to v1 (v2 retired)\n');

    const list = parse((await cli(['policy', 'list', '--json'], { env: { RISKLOOP_DATABASE_URL: db.url } })).stdout);
    expect(list).toEqual([{ policy: 'payments', versions: 2, latest: 2, active: 1, shadows: [] }]);
    const shown = parse((await cli(['policy', 'show', 'payments', '--version', '2', '--json', ...S])).stdout);
    expect(shown).toMatchObject({ policy: 'payments', version: 2, state: 'retired', author: 'alice', latest: 2, approvals: [{ approver: 'bob' }], backtests: [{ actor: 'alice' }] });
    expect(shown.doc).toMatchObject({ name: 'payments', thresholds: { review: 40 } });

    const h = parse((await cli(['policy', 'history', 'payments', '--json', ...S])).stdout) as { action: string; actor: string; version: number; reason: string | null; diff: string | null }[];
    expect(h.map((e) => `${e.actor} ${e.action} v${e.version}`)).toEqual([
      'alice create v1', 'alice backtest v1', 'alice shadow v1', 'bob approve v1', 'carol promote v1',
      'alice create v2', 'alice backtest v2', 'alice shadow v2', 'bob approve v2', 'carol promote v2', 'carol rollback v1',
    ]);
    const rollback = h[h.length - 1];
    expect(rollback.reason).toBe('v2 floods the queue');
    expect(rollback.diff).toContain('--- payments v2\n+++ payments v1\n');
    expect(rollback.diff).toContain('-  when type == "withdrawal" and amount > 25000\n+  when type == "withdrawal" and amount > 10000');

    const text = (await cli(['policy', 'history', 'payments', ...S])).stdout;
    expect(text).toMatch(/^\S+Z {2}carol {2}rollback v1 retired → active {2}"v2 floods the queue"$/m);
    expect(text).toContain('    -rule many_logins "Login burst"');
  }, 300_000);

  it('names what is missing and rejects bad arguments', async () => {
    expect(await fails(['policy', 'history', 'nope', ...S])).toEqual({ code: 1, stderr: 'riskloop: no policy named nope\n' });
    expect((await fails(['policy', 'rollback', 'payments', '--to', 'latest', '--by', 'x', ...S])).stderr).toContain('--to must be a version number such as 3 or v3, got "latest"');
    expect((await fails(['policy', 'promote', 'payments', '1', ...S])).stderr).toMatch(/required option '--by <name>' not specified/);
    expect((await fails(['policy', 'list', '--db', 'mysql://x/y'])).stderr).toContain('--db: "mysql://x/y" is not a postgres:// URL');
  }, 300_000);
});
