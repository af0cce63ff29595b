import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as schema from './schema.js';

export type StoreSchema = typeof schema;
/** The Drizzle database, the same type on both backends. */
export type StoreDb = PgDatabase<PgQueryResultHKT, StoreSchema>;

export interface StoreOptions {
  /** postgres://… for PostgreSQL; defaults to env RISKLOOP_DATABASE_URL ('' ignores the environment). */
  url?: string;
  /** PGlite data directory (default `.riskloop/store`); `memory://` keeps everything in memory. */
  dataDir?: string;
}

export interface Store {
  readonly kind: 'pglite' | 'postgres';
  /** The data directory or the URL without its password. */
  readonly location: string;
  readonly db: StoreDb;
  close(): Promise<void>;
}

export const DEFAULT_STORE_DIR = '.riskloop/store';
export const DATABASE_URL_ENV = 'RISKLOOP_DATABASE_URL';

/** drizzle/ sits two levels above this module both in src/store and in dist/store. */
export const MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../drizzle');
const MIGRATIONS_TABLE = { migrationsSchema: 'drizzle', migrationsTable: '__drizzle_migrations' };
// Serialises concurrent migrations from several processes on one PostgreSQL database.
const MIGRATION_LOCK = 0x7269736b; // "risk"

export function isPostgresUrl(url: string | undefined): url is string {
  return !!url && /^postgres(ql)?:\/\//i.test(url);
}

/** Opens the store and applies any pending migrations. PGlite unless a postgres:// URL is given. */
export async function openStore(opts: StoreOptions = {}): Promise<Store> {
  if (!existsSync(join(MIGRATIONS_DIR, 'meta', '_journal.json'))) {
    throw new Error(`store migrations not found at ${MIGRATIONS_DIR}`);
  }
  const url = opts.url ?? process.env[DATABASE_URL_ENV];
  if (url !== undefined && url !== '' && !isPostgresUrl(url)) {
    throw new Error(`--db: "${redact(url)}" is not a postgres:// URL`);
  }
  return isPostgresUrl(url) ? openPostgres(url) : openPglite(opts.dataDir ?? DEFAULT_STORE_DIR);
}

async function openPglite(dataDir: string): Promise<Store> {
  const memory = dataDir === 'memory://' || dataDir === '';
  if (!memory) mkdirSync(dataDir, { recursive: true });
  let client: PGlite;
  try {
    client = memory ? new PGlite() : new PGlite(dataDir);
    await client.waitReady;
  } catch (err) {
    throw new Error(`cannot open the store at ${dataDir}: ${(err as Error).message}`);
  }
  const db = drizzlePglite({ client, schema });
  try {
    await migratePglite(db, { migrationsFolder: MIGRATIONS_DIR, ...MIGRATIONS_TABLE });
  } catch (err) {
    await client.close();
    throw new Error(`cannot migrate the store at ${dataDir}: ${errorText(err)}`);
  }
  return {
    kind: 'pglite',
    location: memory ? 'memory://' : resolve(dataDir),
    db: db as unknown as StoreDb,
    close: () => client.close(),
  };
}

async function openPostgres(url: string): Promise<Store> {
  // Migrate on one dedicated connection that holds an advisory lock, then serve from a pool.
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`cannot connect to ${redact(url)}: ${errorText(err)}`);
  }
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await migratePg(drizzlePg({ client, schema }), { migrationsFolder: MIGRATIONS_DIR, ...MIGRATIONS_TABLE });
  } catch (err) {
    throw new Error(`cannot migrate ${redact(url)}: ${errorText(err)}`);
  } finally {
    await client.end().catch(() => undefined);
  }
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // An idle connection dropped by the server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  const db = drizzlePg({ client: pool, schema });
  return { kind: 'postgres', location: redact(url), db: db as unknown as StoreDb, close: () => pool.end() };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

/** Raw SQL for the rare query the schema does not cover; the row shape is the caller's promise. */
export async function queryRows<T = Record<string, unknown>>(db: StoreDb, query: SQL): Promise<T[]> {
  return ((await db.execute(query)) as unknown as { rows: T[] }).rows;
}

/** The PostgreSQL error under Drizzle's wrapper, if any. */
export function pgErrorOf(err: unknown): { code?: string; constraint?: string; message: string } | undefined {
  for (let e: any = err; e; e = e.cause) {
    if (typeof e === 'object' && typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) {
      return { code: e.code, constraint: e.constraint, message: e.message };
    }
  }
  return undefined;
}

/** The innermost useful message (the database's own, not Drizzle's "Failed query" wrapper). */
export function errorText(err: unknown): string {
  return pgErrorOf(err)?.message ?? (err instanceof Error ? err.message : String(err));
}
