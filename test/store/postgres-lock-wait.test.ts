// A lock another session holds on a table of the PostgreSQL store (a `LOCK TABLE jobs` of a maintenance script, a
// long transaction): a write waiting for it fails as `busy` once the store's lock timeout (10 s) has passed, so the
// webhook is answered 503 with Retry-After. Before, only the statement timeout (30 s) ended the wait, and a webhook
// queued behind writes already waiting (the ends of jobs, two write transactions in flight) waited for theirs first:
// in trial 65 a 50 s `LOCK TABLE jobs` kept webhooks unanswered for 50 s, then answered them 200.
// While a write waits for such a lock, `/-/health` says so once it has waited HEALTH_WRITE_WAIT_MS (5 s): before, it
// answered 200 "ok" for the first 10 s (its SELECT 1 takes no lock), until the lock timeout refused the write.
// But one write waiting on a lock of one row while the store's other transactions commit webhooks is no outage: every
// instance on the store would see it and a load balancer drain them all (review 66 found that with a job's row locked
// FOR UPDATE): /-/health stays 200 while something commits.
// Real parts: the test PostgreSQL, a second session of the test holding the lock, a real server over HTTP.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { HEALTH_WRITE_WAIT_MS } from '../../server/app.js';
import { openPostgresStore } from '../../server/store/postgres.store.js';
import { StoreUnavailableError } from '../../server/store/store.errors.js';
import { postWebhook, startTestServer, taskWebhook, waitFor } from '../server/server-helpers.js';
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

  it('/-/health answers 503 naming the write that waits, before the lock timeout refuses it, and 200 once the lock is gone', { timeout: 90_000 }, async () => {
    const schema = randomSchemaName('lockhealth');
    const t = await startTestServer({ smtp: false, env: { OKTELL_STORE: urlWithSchema(avail.url!, schema) } });
    const other = new pg.Client({ connectionString: avail.url! });
    await other.connect();
    const health = async () => {
      const res = await fetch(`${t.server.url}/-/health`);
      return { status: res.status, body: (await res.json()) as { status: string; problems?: string[] } };
    };
    try {
      const before = await health();
      assert.equal(before.status, 200, JSON.stringify(before.body));

      await other.query('BEGIN');
      await other.query(`LOCK TABLE ${schema}.jobs IN ACCESS EXCLUSIVE MODE`);
      let answered: number | undefined;
      const webhook = postWebhook(t.server.url, taskWebhook({ name: 'под замком', responsible: ['3'] }), t.secret).then((r) => {
        answered = r.status;
        return r;
      });
      // The first 503 /-/health gives: the waiting write, not (after the lock timeout) the write refused.
      const failing = await waitFor('/-/health to answer 503', async () => {
        const h = await health();
        return h.status === 503 ? h : undefined;
      }, 30_000);
      assert.equal(failing.body.status, 'failing');
      const waited = failing.body.problems?.find((p) => p.startsWith('a write to the store has waited'));
      assert.ok(waited, JSON.stringify(failing.body.problems));
      assert.match(waited, /^a write to the store has waited (\d+) s \(another session holding a lock on the store's tables, or the database slow\): webhooks wait behind it, and are answered 503 if it fails$/);
      assert.ok(Number(/waited (\d+) s/.exec(waited)![1]) * 1000 >= HEALTH_WRITE_WAIT_MS, waited);
      assert.ok(!failing.body.problems!.some((p) => /refuses/.test(p)), `nothing was refused yet: ${JSON.stringify(failing.body.problems)}`);
      assert.equal(answered, undefined, 'the webhook still waits for the lock');

      await other.query('COMMIT');
      assert.equal((await webhook).status, 200);
      await waitFor('/-/health to answer 200 once the lock is gone', async () => (await health()).status === 200, 15_000);
    } finally {
      await other.query('ROLLBACK').catch(() => undefined);
      await other.end().catch(() => undefined);
      await t.cleanup();
      await dropSchema(avail.url!, schema).catch(() => undefined);
    }
  });

  it('/-/health stays 200 while one write waits on a locked row and webhooks commit beside it', { timeout: 90_000 }, async () => {
    const schema = randomSchemaName('rowlock');
    const t = await startTestServer({ smtp: false, env: { OKTELL_STORE: urlWithSchema(avail.url!, schema) } });
    const other = new pg.Client({ connectionString: avail.url! });
    await other.connect();
    try {
      // A job due in an hour, its row locked by another session; the server's cancel of it waits for that lock.
      const [id] = await t.server.store.enqueueJobs([{ scenario: 'BpiumNewTask', params: ['{}'], runAt: Date.now() + 3_600_000 }]);
      await other.query('BEGIN');
      await other.query(`SELECT id FROM ${schema}.jobs WHERE id = $1 FOR UPDATE`, [id]);
      const waiting = t.server.store.cancelJobs({ ids: [id!] }, { code: 'R_CANCELLED', message: 'test' }).then(() => 'done', (e: unknown) => e);
      const started = Date.now();
      const statuses: number[] = [];
      let n = 0;
      // Webhooks commit beside it, one every 0.5 s, while /-/health is asked past HEALTH_WRITE_WAIT_MS of the wait.
      while (Date.now() - started < HEALTH_WRITE_WAIT_MS + 3_000) {
        const res = await postWebhook(t.server.url, taskWebhook({ name: `рядом ${n++}`, responsible: ['3'] }), t.secret);
        assert.equal(res.status, 200, 'webhooks are taken while the row is locked');
        const since = t.server.store.stats().oldestWriteSince;
        if (since !== undefined && Date.now() - since > HEALTH_WRITE_WAIT_MS + 200) {
          // The cancel has waited past the threshold (not yet refused by the lock timeout): health is asked now.
          const h = await fetch(`${t.server.url}/-/health`);
          statuses.push(h.status);
          assert.equal(h.status, 200, JSON.stringify(await h.json()));
        }
        await new Promise((r) => setTimeout(r, 500));
      }
      assert.ok(statuses.length >= 1, 'health was asked while the write had waited past the threshold');
      await other.query('COMMIT');
      await waiting;
    } finally {
      await other.query('ROLLBACK').catch(() => undefined);
      await other.end().catch(() => undefined);
      await t.cleanup();
      await dropSchema(avail.url!, schema).catch(() => undefined);
    }
  });
});
