// `cancel --status queued` on PostgreSQL reads the queued jobs' last errors (to keep a cut-off attempt's suspicion,
// afterCut) and then cancels, two statements in one READ COMMITTED transaction. A job another instance gives back
// between them (a graceful stop: STOPPED, its letter perhaps out) is seen by the second statement but not by the
// first: it was cancelled with the bare cancel error, so its replay sent that letter again unmarked. The race is made
// here deterministic: the first statement, patched, gives the job back itself in a data-modifying WITH, which that
// statement does not see and the next one does, as a commit of another instance in between would be.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lastAttemptCut } from '../../server/run-record.js';
import { PG_SQL } from '../../server/store/postgres.sql.js';
import { openPostgresStore } from '../../server/store/postgres.store.js';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from './postgres.helper.js';

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
});
