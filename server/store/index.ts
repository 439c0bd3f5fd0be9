// Public surface of the durable store: the port, its SQLite implementation, the errors and the retry helpers.
export * from './store.port.js';
export { StoreUnavailableError, StoreUsageError, classifySqliteError, type StoreUnavailableReason } from './store.errors.js';
export { backoffDelay, decideRetry, DEFAULT_BACKOFF, type BackoffPolicy, type RetryDecision } from './backoff.js';
export { newSortableId } from './sortable-id.js';
export { openSqliteStore, SqliteStore, type SqliteStoreOptions } from './sqlite.store.js';
export { MIGRATIONS, SchemaTooNewError, applyMigrations, type Migration } from './sqlite.migrations.js';
