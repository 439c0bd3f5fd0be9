// A scenario's PostgreSQL connection lost under a running statement (the database restarted, the network cut): the
// statement fails as retryable, and nothing else happens; before, the pool's client in use had no 'error' listener,
// so the same loss was also an uncaught exception, which ends a server.
// Real parts: a real PostgreSQL reached through a TCP proxy of the test, which the test ends mid-statement.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { createDatabasePort } from '../../adapters/db/index.js';
import { EffectError, parseNamedSql } from '../../engine/index.js';
import { freezableProxy, viaProxy } from '../faults/frozen-proxy.helper.js';
import { waitFor } from '../server/server-helpers.js';
import { testPostgres } from '../store/postgres.helper.js';

const pg_ = await testPostgres();
const SLEEP = 'SELECT pg_sleep(20) AS lost_connection_probe';

describe('a PostgreSQL connection of the scenarios lost under a statement', () => {
  it('fails the statement as retryable, with no uncaught error', { timeout: 60_000, skip: pg_.skip }, async () => {
    const target = new URL(pg_.url!);
    const proxy = await freezableProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const db = createDatabasePort({ crm: { dialect: 'postgres', url: viaProxy(pg_.url!, proxy) } });
    const watcher = new pg.Client({ connectionString: pg_.url! });
    await watcher.connect();
    try {
      const one = await db.query('crm', parseNamedSql('SELECT 1 AS one'), {}, { timeoutMs: 10_000, maxRows: 10 });
      assert.deepEqual(one.rows, [{ one: 1 }]);
      const slow = db.query('crm', parseNamedSql(SLEEP), {}, { timeoutMs: 30_000, maxRows: 10 });
      slow.catch(() => undefined);
      const running = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = '${SLEEP}'`;
      await waitFor('the statement to run', async () => (await watcher.query<{ n: number }>(running)).rows[0]!.n === 1, 20_000);
      await proxy.destroy();
      await assert.rejects(slow, (e: unknown) => e instanceof EffectError && e.retryable);
      // The next statement opens a connection anew (here refused: the proxy is gone), and fails as retryable too.
      await assert.rejects(db.query('crm', parseNamedSql('SELECT 1 AS one'), {}, { timeoutMs: 10_000, maxRows: 10 }), (e: unknown) => e instanceof EffectError && e.retryable);
    } finally {
      await db.close();
      await proxy.destroy().catch(() => undefined);
      await watcher.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = '${SLEEP}'`).catch(() => undefined);
      await watcher.end();
    }
  });
});
