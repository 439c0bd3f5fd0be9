// The store's side of a cancel requested for a running job (store/cancel-request.ts), on SQLite and PostgreSQL: only a
// running job takes a request, once; only the worker that holds it reads it; the attempt's end decides the job — a
// stop for the request, or a failure that would be retried, makes it a dead letter R_CANCELLED naming who asked (no
// dead-letter catch-all, as for a queued job cancelled); a success stays a success with the request kept (too late); a
// failure for good keeps its own error; replay empties the request.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { storeKinds } from './store-kinds.helper.js';
import type { Store } from '../../server/store/store.port.js';

const W = 'host:1:w1';
const kinds = await storeKinds('cancelreq');
const tmp = tempDir('oktell-cancel-request-');
after(() => tmp.cleanup());

const stopped = { code: 'R_CANCELLED', message: 'stopped before block "second": cancel requested by ops', retryable: false };
const transient = { code: 'R_EFFECT_TRANSIENT', message: 'SMTP 451', retryable: true };

async function running(store: Store): Promise<string> {
  const [id] = await store.enqueueJobs([{ scenario: 'Letters', params: {}, maxAttempts: 4 }]);
  const claimed = await store.claimJobs(W, 10, 60_000);
  assert.ok(claimed.some((j) => j.id === id));
  return id!;
}

for (const kind of kinds) {
  describe(`cancel requests (${kind.name})`, { ...(kind.skip ? { skip: kind.skip } : {}) }, () => {
    it('are taken by running jobs only, once, and read by their worker only', async () => {
      const { store, drop } = await kind.open(tmp.dir, { catchAll: { scenario: 'DeadLetter' } });
      try {
        const [queued] = await store.enqueueJobs([{ scenario: 'Letters', params: {}, runAt: Date.now() + 3_600_000 }]);
        const id = await running(store);
        assert.deepEqual(await store.requestCancel([queued!, id, 'nope', id], 'oktell-emu cancel, ops@host'), [id]);
        assert.deepEqual(await store.requestCancel([id], 'the console, login ops'), [], 'requested already');
        const job = (await store.getJob(id))!;
        assert.equal(job.cancelRequest?.by, 'oktell-emu cancel, ops@host');
        assert.equal((await store.getJob(queued!))!.cancelRequest, null);
        assert.deepEqual((await store.cancelRequests([id], W)).map((r) => [r.id, r.by, r.at]), [[id, 'oktell-emu cancel, ops@host', job.cancelRequest!.at]]);
        assert.deepEqual(await store.cancelRequests([id], 'host:2:other'), [], 'another worker does not hold it');
      } finally {
        await store.close();
        await drop();
      }
    });

    for (const c of [
      { end: 'stops for it', error: stopped, how: 'its running attempt stopped at a block boundary' },
      { end: 'fails as retryable first', error: transient, how: 'its running attempt failed before it stopped, and is not retried' },
    ]) {
      it(`a job whose attempt ${c.end} is a dead letter R_CANCELLED naming who asked, without the catch-all; replay empties the request`, async () => {
        const { store, drop } = await kind.open(tmp.dir, { catchAll: { scenario: 'DeadLetter' } });
        try {
          const id = await running(store);
          await store.requestCancel([id], 'oktell-emu cancel, ops@host');
          const r = await store.failJob(id, W, { retryable: c.error.retryable, error: c.error });
          // The request it buried the job for, so that the worker logs who cancelled it.
          const job = (await store.getJob(id))!;
          assert.deepEqual(r, { accepted: true, status: 'dead', cancelled: { by: 'oktell-emu cancel, ops@host', at: job.cancelRequest!.at } });
          assert.equal(job.status, 'dead');
          const err = job.lastError as { code: string; message: string; attemptError?: { code: string } };
          assert.equal(err.code, 'R_CANCELLED');
          assert.match(err.message, new RegExp(`^cancelled by an operator \\(oktell-emu cancel, ops@host, \\d{4}-[\\d-]+T[\\d:.]+Z\\): ${c.how.replace(/[,]/g, '$&')}$`));
          assert.equal(err.attemptError?.code, c.error === stopped ? undefined : 'R_EFFECT_TRANSIENT');
          assert.deepEqual((await store.listJobs({ scenario: 'DeadLetter' })).items, [], 'no catch-all job');
          assert.deepEqual(await store.requeue({ ids: [id] }), [id]);
          assert.equal((await store.getJob(id))!.cancelRequest, null);
        } finally {
          await store.close();
          await drop();
        }
      });
    }

    it('a request an older build\'s replay left on the job (it does not empty the column) neither stops the replayed job nor blocks a new request', async () => {
      const { store, drop, exec } = await kind.open(tmp.dir);
      try {
        const id = await running(store);
        await store.requestCancel([id], 'oktell-emu cancel, ops@host');
        assert.equal((await store.failJob(id, W, { retryable: false, error: stopped })).accepted, true);
        assert.equal((await store.getJob(id))!.status, 'dead');
        // The replay of a build from before the column (its console during a rolling upgrade on PostgreSQL): the
        // statement of those builds, which knows nothing of cancel_request.
        const [now, jobId] = kind.name === 'SQLite' ? ['?', '?'] : ['$1', '$2'];
        await exec(
          `UPDATE jobs SET status = 'queued', attempts = 0, next_run_at = ${now}, lease_owner = NULL, lease_expires_at = NULL, claimed_at = NULL,
             finished_at = NULL, updated_at = next_run_at, replay_count = replay_count + 1 WHERE id = ${jobId} AND status IN ('failed', 'dead')`,
          [Date.now(), id],
        );
        const replayed = (await store.getJob(id))!;
        assert.deepEqual([replayed.status, replayed.replayCount, replayed.cancelRequest], ['queued', 1, null], 'the request made before the replay is none');
        const [claimed] = (await store.claimJobs(W, 10, 60_000)).filter((j) => j.id === id);
        assert.equal(claimed?.cancelRequest, null, 'the worker that takes the replayed job sees no request: it runs');
        assert.deepEqual(await store.cancelRequests([id], W), [], 'nor at its lease renewals');
        // Its attempt fails as retryable: retried as usual, not buried for the old request.
        assert.equal((await store.failJob(id, W, { retryable: true, error: transient, retryAt: Date.now() })).accepted && (await store.getJob(id))!.status, 'queued');
        await store.claimJobs(W, 10, 60_000);
        // A new request for this attempt is taken (the old one does not count as one), and read by its worker.
        assert.deepEqual(await store.requestCancel([id], 'the console, login ops'), [id]);
        assert.equal((await store.getJob(id))!.cancelRequest?.by, 'the console, login ops');
        assert.deepEqual((await store.cancelRequests([id], W)).map((r) => r.by), ['the console, login ops']);
        assert.deepEqual(await store.requestCancel([id], 'oktell-emu cancel, ops@host'), [], 'requested already');
      } finally {
        await store.close();
        await drop();
      }
    });

    it('a success that came first stays a success (the request kept, too late); a failure for good keeps its own error', async () => {
      const { store, drop } = await kind.open(tmp.dir);
      try {
        const ok = await running(store);
        await store.requestCancel([ok], 'ops');
        assert.deepEqual(await store.completeJob(ok, W), { accepted: true });
        const done = (await store.getJob(ok))!;
        assert.deepEqual([done.status, done.cancelRequest?.by], ['succeeded', 'ops']);
        const bad = await running(store);
        await store.requestCancel([bad], 'ops');
        const r = await store.failJob(bad, W, { retryable: false, error: { code: 'R_SCENARIO', message: 'broken' } });
        assert.deepEqual(r, { accepted: true, status: 'failed' });
        assert.equal(((await store.getJob(bad))!.lastError as { code: string }).code, 'R_SCENARIO');
      } finally {
        await store.close();
        await drop();
      }
    });
  });
}
