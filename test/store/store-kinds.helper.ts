// The two stores a test runs the same way against: SQLite in the test's folder, and PostgreSQL in a schema of its own
// (skipped, with the reason, when no PostgreSQL is reachable). Each `open` gives the store and what drops it after.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openPostgresStore, type PostgresStoreOptions } from '../../server/store/postgres.store.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import type { Store } from '../../server/store/store.port.js';
import { dropSchema, querySchema, randomSchemaName, testPostgres, urlWithSchema } from './postgres.helper.js';

/** Options both stores take alike. */
export type SharedStoreOptions = Pick<PostgresStoreOptions, 'clock' | 'backoff' | 'defaultMaxAttempts' | 'catchAll'>;

export interface StoreKind {
  name: string;
  skip?: string;
  open(dir: string, options?: SharedStoreOptions): Promise<{ store: Store; drop(): Promise<void>; exec: RawStatement }>;
}

/**
 * One statement run on the store's own tables from a connection of the test's (SQLite's `?` or PostgreSQL's `$1`
 * placeholders, as `kind.name` says), as another process (an older build) would write them.
 */
export type RawStatement = (sql: string, values?: unknown[]) => Promise<void>;

/** SQLite (`file` in the folder given to `open`) and PostgreSQL (a fresh schema named from `schemaPrefix`, 4 connections). */
export async function storeKinds(schemaPrefix: string, file = 'q.db'): Promise<StoreKind[]> {
  const pg = await testPostgres();
  return [
    {
      name: 'SQLite',
      open: async (dir, options) => ({
        store: await openSqliteStore({ file: join(dir, file), ...options }),
        drop: async () => undefined,
        exec: async (sql, values = []) => {
          const db = new Database(join(dir, file));
          try {
            db.prepare(sql).run(...values);
          } finally {
            db.close();
          }
        },
      }),
    },
    {
      name: 'PostgreSQL',
      ...(pg.skip ? { skip: pg.skip } : {}),
      open: async (_dir, options) => {
        const schema = randomSchemaName(schemaPrefix);
        return {
          store: await openPostgresStore({ url: urlWithSchema(pg.url!, schema), poolSize: 4, ...options }),
          drop: () => dropSchema(pg.url!, schema),
          exec: async (sql, values = []) => void (await querySchema(pg.url!, schema, sql, values)),
        };
      },
    },
  ];
}
