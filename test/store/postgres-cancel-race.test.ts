// `cancel --status queued` on PostgreSQL reads the queued jobs' last errors (to keep a cut-off attempt's suspicion,
// afterCut) and then cancels, two statements in one READ COMMITTED transaction. A job another instance gives back
// between them (a graceful stop: STOPPED, its letter perhaps out) is seen by the second statement but not by the
// first: it was cancelled with the bare cancel error, so its replay sent that letter again unmarked. The race is made
// here deterministic: the first statement, patched, gives the job back itself in a data-modifying WITH, which that
// statement does not see and the next one does, as a commit of another instance in between would be.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Pg from 'pg';
import { lastAttemptCut } from '../../server/run-record.js';
import { PG_SQL } from '../../server/store/postgres.sql.js';
import { openPostgresStore } from '../../server/store/postgres.store.js';
import { dropSchema, querySchema, randomSchemaName, testPostgres, urlWithSchema } from './postgres.helper.js';

const pg = await testPostgres();

describe('PostgreSQL: cancel --status queued while another instance gives a job back', { timeout: 30_000, ...(pg.skip ? { skip: pg.skip } : {}) }, () => {
  it('a job given back cut off between the read of last errors and the cancel is not cancelled without afterCut', async () => {
    const schema = randomSchemaName('rev5race');
    const original = PG_SQL.queuedLastErrors;
    (PG_SQL as Record<string, string>).queuedLastErrors = `WITH racer AS (UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL, claimed_at = NULL,
        last_error = '{"code":"STOPPED","message":"the server stopped during this attempt"}' WHERE id = 'racer' AND status = 'running' RETURNING id)
      ${original}`;
    const store = await openPostgresStore({ url: urlWithSchema(pg.url!, schema), poolSize: 2 });
    try {
      await store.enqueueJobs([{ id: 'racer', scenario: 'S', params: {} }]);
      assert.deepEqual((await store.claimJobs('other-instance', 1, 60_000)).map((j) => j.id), ['racer']);
      await store.enqueueJobs([{ id: 'fresh', scenario: 'S', params: {} }, { id: 'cut', scenario: 'S', params: {} }]);
      // 'cut': given back by a stop before the cancel, read by its first statement.
      assert.deepEqual((await store.claimJobs('w', 2, 60_000)).map((j) => j.id).sort(), ['cut', 'fresh']);
      assert.deepEqual(await store.releaseJobs(['fresh'], 'w'), ['fresh']);
      assert.deepEqual(await store.releaseJobs(['cut'], 'w', { code: 'STOPPED', message: 'stopped' }), ['cut']);
      const error = { code: 'R_CANCELLED', message: 'cancelled by an operator' };
      const cancelled = await store.cancelJobs({ status: 'queued' }, error);
      const racer = (await store.getJob('racer'))!;
      assert.equal(lastAttemptCut(racer.lastError), true, `racer: ${JSON.stringify(racer.lastError)} (${racer.status})`);
      assert.equal(cancelled.includes('racer'), racer.status === 'dead', 'the ids returned are the jobs cancelled');
      assert.deepEqual((await store.getJob('cut'))!.lastError, { ...error, afterCut: true });
      assert.deepEqual((await store.getJob('fresh'))!.lastError, error);
      assert.deepEqual(cancelled.filter((id) => id !== 'racer').sort(), ['cut', 'fresh']);
    } finally {
      (PG_SQL as Record<string, string>).queuedLastErrors = original;
      await store.close();
      await dropSchema(pg.url!, schema);
    }
  });

  // cancelJobs locked only the queued jobs that had a last error before its update: a job queued without one could be
  // claimed by another instance meanwhile and given back with an error (a graceful stop), which the update then left
  // queued (its last error unread), so the operator had to run the command again. The cancel now locks every queued
  // job it takes at once (in id order): a claim skips them. Made deterministic by holding the lock of a later job
  // from outside, so the cancel waits in the middle of its locks while the other instance claims.
  it('a job queued when the cancel begins is not claimed and given back meanwhile: it is cancelled', async () => {
    const schema = randomSchemaName('rev5hold');
    const app = `cancel_${schema}`;
    const url = urlWithSchema(pg.url!, schema);
    const canceller = await openPostgresStore({ url, poolSize: 2, applicationName: app });
    const other = await openPostgresStore({ url, poolSize: 2 });
    const holder = new Pg.Client({ connectionString: pg.url!, options: `-c search_path=${schema}` });
    holder.on('error', () => undefined);
    try {
      await canceller.enqueueJobs([{ id: 'a-early', scenario: 'S', params: {} }, { id: 'b-held', scenario: 'S', params: {} }]);
      await querySchema(pg.url!, schema, `UPDATE jobs SET last_error = '{"code":"E_HTTP","message":"503"}' WHERE id = 'b-held'`);
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query(`SELECT id FROM jobs WHERE id = 'b-held' FOR UPDATE`);
      const error = { code: 'R_CANCELLED', message: 'cancelled by an operator' };
      const cancelling = canceller.cancelJobs({ status: 'queued' }, error);
      // Until the cancel waits for b-held's lock.
      for (let waited = 0; ; waited += 20) {
        const r = await holder.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [app]);
        if (r.rowCount) break;
        assert.ok(waited < 10_000, 'the cancel never waited for the held job');
        await new Promise((r) => setTimeout(r, 20));
      }
      // Another instance claims meanwhile and gives back what it got, as a stopping server does.
      const got = (await other.claimJobs('other', 10, 60_000)).map((j) => j.id);
      if (got.length) await other.releaseJobs(got, 'other', { code: 'STOPPED', message: 'the server stopped during this attempt' });
      await holder.query('COMMIT');
      const cancelled = await cancelling;
      const early = (await canceller.getJob('a-early'))!;
      assert.equal(early.status, 'dead', `a-early left ${early.status}: ${JSON.stringify(early.lastError)}`);
      assert.deepEqual(early.lastError, error);
      assert.deepEqual((await canceller.getJob('b-held'))!.lastError, error);
      assert.deepEqual([...cancelled].sort(), ['a-early', 'b-held']);
      assert.deepEqual(got, [], 'the other instance claimed a job the cancel had taken');
    } finally {
      await holder.end().catch(() => undefined);
      await canceller.close();
      await other.close();
      await dropSchema(pg.url!, schema);
    }
  });
});
