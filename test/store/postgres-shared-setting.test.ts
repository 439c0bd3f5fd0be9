// swapSharedSetting, by which each start on a PostgreSQL store records a setting every instance should share (the
// dead-letter catch-all) and learns the one recorded before it: two starts at once on a store that has no value yet
// still see each other's, so one of them can warn that they differ.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { openPostgresStore } from '../../server/store/postgres.store.js';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from './postgres.helper.js';

const pgAt = await testPostgres();
const T = { timeout: 60_000 };

describe('swapSharedSetting on PostgreSQL', { ...(pgAt.skip ? { skip: pgAt.skip } : {}) }, () => {
  it('answers the value recorded before it, and undefined for the first', T, async () => {
    const schema = randomSchemaName('swap');
    const store = await openPostgresStore({ url: urlWithSchema(pgAt.url!, schema) });
    try {
      assert.equal(await store.swapSharedSetting('deadLetterCatchAll', 'DeadLetter, 5 attempts'), undefined);
      assert.equal(await store.swapSharedSetting('deadLetterCatchAll', 'off'), 'DeadLetter, 5 attempts');
      assert.equal(await store.swapSharedSetting('deadLetterCatchAll', 'off'), 'off');
    } finally {
      await store.close();
      await dropSchema(pgAt.url!, schema);
    }
  });

  it('a start recording while another start has inserted the first value, not yet committed, answers that value once it commits', T, async () => {
    const schema = randomSchemaName('swap');
    const store = await openPostgresStore({ url: urlWithSchema(pgAt.url!, schema) });
    const other = new pg.Client({ connectionString: pgAt.url! });
    await other.connect();
    try {
      // The other start: its first value inserted in a transaction still open.
      await other.query(`SET search_path TO "${schema}"`);
      await other.query('BEGIN');
      await other.query("INSERT INTO shared_settings (name, value, created_at) VALUES ('deadLetterCatchAll', 'off', 0)");
      const otherPid = (await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const swapped = store.swapSharedSetting('deadLetterCatchAll', 'DeadLetter, 5 attempts');
      // Commit only once this start's statement waits on the other's row: the two are at once, whatever the timing.
      const watch = new pg.Client({ connectionString: pgAt.url! });
      await watch.connect();
      try {
        for (;;) {
          const waiting = await watch.query('SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [otherPid]);
          if (waiting.rowCount) break;
          await new Promise((r) => setTimeout(r, 20));
        }
      } finally {
        await watch.end();
      }
      await other.query('COMMIT');
      assert.equal(await swapped, 'off', 'the value the other start recorded, so this start can say they differ');
      assert.equal(await store.swapSharedSetting('deadLetterCatchAll', 'DeadLetter, 5 attempts'), 'DeadLetter, 5 attempts', 'and its own is recorded');
    } finally {
      await other.end().catch(() => undefined);
      await store.close();
      await dropSchema(pgAt.url!, schema);
    }
  });

  it('two stores recording different values at once on a store with none: one of them answers the other\'s', T, async () => {
    const schema = randomSchemaName('swap');
    const a = await openPostgresStore({ url: urlWithSchema(pgAt.url!, schema) });
    const b = await openPostgresStore({ url: urlWithSchema(pgAt.url!, schema) });
    try {
      for (let i = 0; i < 5; i++) {
        const [fromA, fromB] = await Promise.all([a.swapSharedSetting(`k${i}`, 'off'), b.swapSharedSetting(`k${i}`, 'DeadLetter, 5 attempts')]);
        // Whichever recorded first answers undefined; the other answers its value.
        const told = fromA === undefined ? [fromA, fromB] : [fromB, fromA];
        const expected = fromA === undefined ? [undefined, 'off'] : [undefined, 'DeadLetter, 5 attempts'];
        assert.deepEqual(told, expected, `round ${i}: ${JSON.stringify([fromA, fromB])}`);
      }
    } finally {
      await a.close();
      await b.close();
      await dropSchema(pgAt.url!, schema);
    }
  });
});
