// Finds the PostgreSQL the tests may use (or says why there is none) and gives each test its own throwaway schema.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgresStore, type PostgresStore } from '../../server/store/postgres.store.js';

/** What `.ci/run` creates on the local cluster; `OKTELL_TEST_PG_URL` wins. */
export const LOCAL_TEST_PG_URL = 'postgres://oktell_test:oktell_test@127.0.0.1:5432/oktell_test';

export type PgAvailability = { url: string; skip?: undefined } | { url?: undefined; skip: string };

let probe: Promise<PgAvailability> | undefined;

/**
 * Resolves to a URL that answered `SELECT 1`, or to the reason the PostgreSQL tests are skipped. Tries
 * `OKTELL_TEST_PG_URL`, else the role and database `.ci/run` sets up on the local cluster.
 */
export function testPostgres(): Promise<PgAvailability> {
  probe ??= (async () => {
    const fromEnv = process.env.OKTELL_TEST_PG_URL;
    const url = fromEnv || LOCAL_TEST_PG_URL;
    // A loaded machine (the suite runs two files at once, each maybe starting servers) can take seconds to accept a
    // connection: a set URL gets a longer wait than the local guess, so its tests are not skipped for a slow moment.
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: fromEnv ? 15_000 : 3000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return { url };
    } catch (err) {
      const where = fromEnv ? 'OKTELL_TEST_PG_URL' : `the local test database (${LOCAL_TEST_PG_URL.replace(/:[^:@/]+@/, ':***@')})`;
      return {
        skip: `PostgreSQL not reachable at ${where}: ${(err as Error).message}. Set OKTELL_TEST_PG_URL, or run .ci/run as root to start the local cluster and create the test role and database.`,
      };
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return probe;
}

/** A fresh schema name, unique enough for tests running in parallel. */
export function randomSchemaName(prefix = 't'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** The store URL for `schema` (the store creates the schema on open). */
export function urlWithSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('schema', schema);
  return u.toString();
}

/**
 * A fresh schema (named from `prefix`) with `sql` run in it: its name, the URL whose connections work in it (its
 * search_path in the URL's options, as a scenario's database setting gives it) and a way to drop it.
 */
export async function schemaWith(url: string, prefix: string, sql: string): Promise<{ schema: string; url: string; drop: () => Promise<void> }> {
  const schema = randomSchemaName(prefix);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA ${schema}; SET search_path = ${schema}; ${sql}`);
  } finally {
    await client.end();
  }
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return { schema, url: u.toString(), drop: () => dropSchema(url, schema) };
}

/** Drops a test schema and everything in it. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** Runs SQL in a schema with a connection of its own (to look behind the store's back). */
export async function querySchema<R extends pg.QueryResultRow>(url: string, schema: string, sql: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000, options: `-c search_path=${schema}` });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** An acknowledged webhook's inbox record for the store tests, told apart by its delivery key. */
export const inboxOf = (dedupKey: string) => ({
  receivedAt: Date.now(),
  method: 'POST',
  path: '/Bpium/NewTask',
  hookId: 'hook',
  headers: 'content-type: application/json',
  body: Buffer.from(`{"k":"${dedupKey}"}`),
  remoteAddress: '127.0.0.1',
  signature: 'valid' as const,
  dedupKey,
  response: { status: 200, body: 'ok' },
});

/**
 * Two stores on one fresh schema, as two instances: `a` with the defaults, `b` with a short lock timeout (200 ms) so
 * that a lock `other` (a plain client) holds makes b's writes refused soon; all closed and the schema dropped after.
 */
export async function withTwoInstances(
  url: string,
  prefix: string,
  body: (s: { a: PostgresStore; b: PostgresStore; other: pg.Client; schema: string }) => Promise<void>,
): Promise<void> {
  const schema = randomSchemaName(prefix);
  const schemaUrl = urlWithSchema(url, schema);
  const a = await openPostgresStore({ url: schemaUrl });
  const b = await openPostgresStore({ url: schemaUrl, lockTimeoutMs: 200 });
  const other = new pg.Client({ connectionString: url });
  await other.connect();
  try {
    await body({ a, b, other, schema });
  } finally {
    await other.query('ROLLBACK').catch(() => undefined);
    await other.end().catch(() => undefined);
    await a.close().catch(() => undefined);
    await b.close().catch(() => undefined);
    await dropSchema(url, schema).catch(() => undefined);
  }
}
