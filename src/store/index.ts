export { openStore, queryRows, isPostgresUrl, pgErrorOf, errorText, DEFAULT_STORE_DIR, DATABASE_URL_ENV, MIGRATIONS_DIR, type Store, type StoreDb, type StoreOptions, type StoreSchema } from './open.js';
export * as storeSchema from './schema.js';
export { POLICY_STATES } from './schema.js';
