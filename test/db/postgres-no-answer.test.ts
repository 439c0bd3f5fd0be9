// A PostgreSQL connection of the scenarios that stops answering (a partition that drops packets, a frozen host), or
// is lost while a statement that writes runs. The statement_timeout cannot end a statement whose server is not
// heard: the block's timeout must still end it (before, it waited for ever). And a write whose answer was lost may
// have committed: it must fail as of unknown outcome, not as retryable, or a retried job would insert it twice.
// Real parts: a real PostgreSQL reached through a TCP proxy of the test, which freezes or ends the connection.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createDatabasePort } from '../../adapters/db/index.js';
import { EffectError, parseNamedSql } from '../../engine/index.js';
import { freezableProxy, viaProxy, type FreezableProxy } from '../faults/frozen-proxy.helper.js';
import { waitFor } from '../server/server-helpers.js';
import { testPostgres } from '../store/postgres.helper.js';

const pg_ = await testPostgres();
const TABLE = `no_answer_${process.pid}_${Date.now()}`;

describe('a PostgreSQL connection of the scenarios that stops answering', { skip: pg_.skip }, () => {
  let watcher: pg.Client;
  before(async () => {
    watcher = new pg.Client({ connectionString: pg_.url! });
    await watcher.connect();
    await watcher.query(`CREATE TABLE ${TABLE} (id serial PRIMARY KEY, note text)`);
  });
  after(async () => {
    await watcher.query(`DROP TABLE IF EXISTS ${TABLE}`).catch(() => undefined);
    await watcher.end();
  });

  /** A port on `crm` through a fresh proxy; `use` runs with it, and everything is closed after. */
  async function through(use: (db: ReturnType<typeof createDatabasePort>, proxy: FreezableProxy) => Promise<void>) {
    const target = new URL(pg_.url!);
    const proxy = await freezableProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const db = createDatabasePort({ crm: { dialect: 'postgres', url: viaProxy(pg_.url!, proxy) } });
    try {
      await use(db, proxy);
    } finally {
      await proxy.destroy().catch(() => undefined);
      await db.close();
    }
  }

  const opts = { timeoutMs: 1000, maxRows: 10 };
  const rows = async (note: string) => (await watcher.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${TABLE} WHERE note = $1`, [note])).rows[0]!.n;

  it('a read takes the timeout when no answer comes, with the code DB_NO_ANSWER', { timeout: 30_000 }, async () => {
    await through(async (db, proxy) => {
      assert.deepEqual((await db.query('crm', parseNamedSql('SELECT 1 AS one'), {}, opts)).rows, [{ one: 1 }]);
      proxy.freeze();
      await assert.rejects(db.query('crm', parseNamedSql('SELECT 2 AS two'), {}, opts), (e: unknown) => {
        assert.ok(e instanceof EffectError);
        assert.equal(e.kind, 'timeout');
        assert.equal(e.details.code, 'DB_NO_ANSWER');
        assert.match(e.message, /no answer from the server within the statement's timeout \(1 s\)/);
        return true;
      });
    });
  });

  it('a write whose answer never comes is of unknown outcome, and it did commit', { timeout: 30_000 }, async () => {
    await through(async (db, proxy) => {
      await db.query('crm', parseNamedSql('SELECT 1 AS one'), {}, opts);
      const insert = db.query('crm', parseNamedSql(`INSERT INTO ${TABLE} (note) SELECT :note FROM pg_sleep(0.5)`), { note: 'frozen' }, { timeoutMs: 5000, maxRows: 10 });
      insert.catch(() => undefined);
      await waitFor('the insert to run', async () => (await watcher.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'INSERT INTO ${TABLE}%'`)).rows[0]!.n === 1, 20_000);
      proxy.freeze();
      await assert.rejects(insert, (e: unknown) => {
        assert.ok(e instanceof EffectError);
        assert.equal(e.kind, 'unknown', e.message);
        assert.equal(e.retryable, false);
        assert.match(e.message, /may have been committed; it is not run again/);
        return true;
      });
      assert.equal(await rows('frozen'), 1);
    });
  });

  it('a write whose connection is cut before its answer is of unknown outcome, not retryable', { timeout: 30_000 }, async () => {
    await through(async (db, proxy) => {
      await db.query('crm', parseNamedSql('SELECT 1 AS one'), {}, opts);
      const insert = db.query('crm', parseNamedSql(`INSERT INTO ${TABLE} (note) SELECT :note FROM pg_sleep(1)`), { note: 'cut' }, { timeoutMs: 10_000, maxRows: 10 });
      insert.catch(() => undefined);
      await waitFor('the insert to run', async () => (await watcher.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'INSERT INTO ${TABLE}%'`)).rows[0]!.n === 1, 20_000);
      await proxy.destroy();
      await assert.rejects(insert, (e: unknown) => e instanceof EffectError && e.kind === 'unknown' && !e.retryable);
      // The server ran it to the end: a retry would have made a second row.
      await waitFor('the insert to end', async () => (await watcher.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'INSERT INTO ${TABLE}%'`)).rows[0]!.n === 0, 20_000);
      assert.equal(await rows('cut'), 1);
    });
  });

  it('a read whose connection is cut stays retryable', { timeout: 30_000 }, async () => {
    await through(async (db, proxy) => {
      await db.query('crm', parseNamedSql('SELECT 1 AS one'), {}, opts);
      const read = db.query('crm', parseNamedSql('SELECT pg_sleep(1) AS cut_read_probe'), {}, { timeoutMs: 10_000, maxRows: 10 });
      read.catch(() => undefined);
      await waitFor('the read to run', async () => (await watcher.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'SELECT pg_sleep(1) AS cut_read_probe%'`)).rows[0]!.n === 1, 20_000);
      await proxy.destroy();
      await assert.rejects(read, (e: unknown) => e instanceof EffectError && e.kind === 'transient' && e.retryable);
    });
  });
});
