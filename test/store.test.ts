import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, openStore, queryRows } from '../src/store/index.js';
import { ROOT } from './helpers/cli.js';
import { createTestDatabase } from './store-helpers.js';

const run = promisify(execFile);
const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] };

/** Runs `drizzle-kit generate` for `schema` into a copy of drizzle/ and returns its output and the new files. */
async function generateInto(schema: string): Promise<{ out: string; added: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'rl-drizzle-'));
  cpSync(MIGRATIONS_DIR, join(dir, 'drizzle'), { recursive: true });
  const before = new Set(readdirSync(join(dir, 'drizzle')));
  // drizzle-kit wants a relative --out and exits 0 even on errors: the output says what happened.
  const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'node_modules/drizzle-kit/bin.cjs'), 'generate', '--dialect', 'postgresql', '--schema', relative(ROOT, schema), '--out', relative(ROOT, join(dir, 'drizzle'))], {
    cwd: ROOT,
    env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
  });
  return { out: stdout + stderr, added: readdirSync(join(dir, 'drizzle')).filter((f) => !before.has(f)) };
}

describe('store migrations', () => {
  it('the generated migrations in drizzle/ match the schema in src/store/schema.ts', async () => {
    const { out, added } = await generateInto(join(ROOT, 'src/store/schema.ts'));
    expect(out).toMatch(/No schema changes, nothing to migrate/);
    expect(added).toEqual([]);
  });

  it('the check notices a schema that drifted from the migrations', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-schema-'));
    const drifted = readFileSync(join(ROOT, 'src/store/schema.ts'), 'utf8') + `\nexport const drift = pgTable('drift', { id: integer('id').primaryKey() });\n`;
    writeFileSync(join(dir, 'schema.ts'), drifted);
    const { out, added } = await generateInto(join(dir, 'schema.ts'));
    expect(out).toMatch(/Your SQL migration file/);
    expect(added).toHaveLength(1);
  });
});

describe('store on PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    db = await createTestDatabase('store');
  });
  afterAll(async () => db?.drop());

  it('migrates once even when several processes open it at the same time', async () => {
    const stores = await Promise.all([openStore({ url: db.url }), openStore({ url: db.url }), openStore({ url: db.url })]);
    try {
      expect(stores.map((s) => s.kind)).toEqual(['postgres', 'postgres', 'postgres']);
      expect(await queryRows(stores[0].db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`)).toEqual([{ n: journal.entries.length }]);
      const tables = await queryRows<{ table_name: string }>(stores[1].db, sql`select table_name from information_schema.tables where table_schema = 'public' order by 1`);
      expect(tables.map((r) => r.table_name)).toEqual(['policy_approvals', 'policy_audit', 'policy_backtests', 'policy_shadow_decisions', 'policy_shadow_reports', 'policy_versions']);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('RISKLOOP_DATABASE_URL selects PostgreSQL when no URL is given', async () => {
    const saved = process.env.RISKLOOP_DATABASE_URL;
    process.env.RISKLOOP_DATABASE_URL = db.url;
    try {
      const s = await openStore({ dataDir: 'memory://' });
      expect(s.kind).toBe('postgres');
      await s.close();
    } finally {
      if (saved === undefined) delete process.env.RISKLOOP_DATABASE_URL;
      else process.env.RISKLOOP_DATABASE_URL = saved;
    }
  });

  it('says clearly what is wrong with a bad URL or an unreachable server', async () => {
    await expect(openStore({ url: 'mysql://localhost/x' })).rejects.toThrow('--db: "mysql://localhost/x" is not a postgres:// URL');
    await expect(openStore({ url: 'postgres://postgres:secret@127.0.0.1:1/none' })).rejects.toThrow(/^cannot connect to postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/none: .*ECONNREFUSED/);
  });
});
