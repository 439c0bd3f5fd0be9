// A lock another session holds on a table of the PostgreSQL store (a `LOCK TABLE jobs` of a maintenance script, a
// long transaction): a write waiting for it fails as `busy` once the store's lock timeout (10 s) has passed, so the
// webhook is answered 503 with Retry-After. Before, only the statement timeout (30 s) ended the wait, and a webhook
// queued behind writes already waiting (the ends of jobs, two write transactions in flight) waited for theirs first:
// in trial 65 a 50 s `LOCK TABLE jobs` kept webhooks unanswered for 50 s, then answered them 200.
// Real parts: the test PostgreSQL, a second session of the test holding the lock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { openPostgresStore } from '../../server/store/postgres.store.js';
import { StoreUnavailableError } from '../../server/store/store.errors.js';
import { dropSchema, inboxOf as inbox, querySchema, randomSchemaName, testPostgres, urlWithSchema } from './postgres.helper.js';

const avail = await testPostgres();

describe('the PostgreSQL store when another session holds a lock on its jobs table', { skip: avail.skip }, () => {
  it('a webhook write waiting for the lock fails as busy (55P03) with Retry-After, stores nothing, and is taken once the lock is gone', { timeout: 90_000 }, async () => {
    const schema = randomSchemaName('lockwait');
    // Default options: the lock timeout under test is the store's own default. The statement timeout is left at its
    // default (30 s) too, so a wait it ended would fail as 57014, not 55P03.
    const store = await openPostgresStore({ url: urlWithSchema(avail.url!, schema) });
    const other = new pg.Client({ connectionString: avail.url! });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(`LOCK TABLE ${schema}.jobs IN ACCESS EXCLUSIVE MODE`);
      const refused = await store
        .recordRequest({ inbox: inbox('locked-1'), jobs: [{ scenario: 'BpiumNewTask', params: ['{}'] }] })
        .then(() => 'stored', (err: unknown) => err);
      assert.ok(refused instanceof StoreUnavailableError, `the write is refused as the store being unavailable, not ${String(refused)}`);
      assert.equal(refused.reason, 'busy');
      assert.equal(refused.retryAfterSeconds, 1);
      assert.match(refused.message, /\(55P03\): canceling statement due to lock timeout/);
      await other.query('COMMIT');

      const rows = await querySchema<{ n: number }>(avail.url!, schema, `SELECT (SELECT COUNT(*) FROM inbox)::int + (SELECT COUNT(*) FROM jobs)::int AS n`);
      assert.equal(rows[0]!.n, 0, 'nothing of the refused write was stored');
      const again = await store.recordRequest({ inbox: inbox('locked-1'), jobs: [{ scenario: 'BpiumNewTask', params: ['{}'] }] });
      assert.equal(again.duplicate, false);
      const [jobs] = await querySchema<{ n: number }>(avail.url!, schema, 'SELECT COUNT(*)::int AS n FROM jobs');
      assert.equal(jobs!.n, 1, 'the resend, once the lock is gone, stores its job once');
    } finally {
      await other.query('ROLLBACK').catch(() => undefined);
      await other.end().catch(() => undefined);
      await store.close().catch(() => undefined);
      await dropSchema(avail.url!, schema).catch(() => undefined);
    }
  });
});
