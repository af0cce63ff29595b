import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store } from '../src/store/index.js';

/** The real PostgreSQL the tests use (trust auth); override with RISKLOOP_TEST_PG_ADMIN_URL. */
export const PG_ADMIN_URL = process.env.RISKLOOP_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A uniquely named database for one test file; drop() removes it (and its connections). */
export async function createTestDatabase(tag: string): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `riskloop_${tag}_${process.pid}_${randomBytes(4).toString('hex')}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = '/' + name;
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export type Backend = 'pglite' | 'postgres';
export const BACKENDS: Backend[] = ['pglite', 'postgres'];

/** Opens one store per backend for a test file: in-memory PGlite, or a fresh PostgreSQL database. */
export async function openTestStore(backend: Backend, tag: string): Promise<{ store: Store; close(): Promise<void> }> {
  if (backend === 'pglite') {
    const store = await openStore({ dataDir: 'memory://' });
    return { store, close: () => store.close() };
  }
  const db = await createTestDatabase(tag);
  const store = await openStore({ url: db.url });
  return {
    store,
    async close() {
      await store.close();
      await db.drop();
    },
  };
}

/** A fixed, advancing clock: audit timestamps are operations metadata, deterministic in tests. */
export function testClock(start = Date.UTC(2026, 0, 5, 9, 0, 0), stepMs = 60_000): () => Date {
  let t = start - stepMs;
  return () => new Date((t += stepMs));
}
