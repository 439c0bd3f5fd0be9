// A graceful stop while the store refuses writes (trial s33, finding 1): a job whose letter went out but whose end
// the store has not taken yet is unfinished. The stop keeps trying to record it within its grace period, so a store
// that comes back in time means one letter; one that does not is reported by the stop, naming the job.
// The store's refusal is real: another connection holds the SQLite file's write lock (BEGIN EXCLUSIVE), as a backup
// or a sqlite3 shell would, taken the moment the SMTP server has the letter and before it answers.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { RunningServer } from '../../server/serve.js';
import { capturingLogger, postWebhook, startTestServer, taskWebhook, waitFor } from '../server/server-helpers.js';

/** A server whose store gets locked by another connection as soon as the SMTP server has received the first letter. */
async function serverLockedAtFirstLetter() {
  const log = capturingLogger();
  let blocker: Database.Database | undefined;
  const t = await startTestServer({
    logger: log.logger,
    smtp: {
      afterData: (n) => {
        if (n === 1) blocker!.exec('BEGIN EXCLUSIVE');
        return 'answer';
      },
    },
  });
  blocker = new Database(join(t.dataDir, 'oktell.sqlite'));
  const res = await postWebhook(t.server.url, taskWebhook({ name: 'письмо при остановке', responsible: ['2'] }), t.secret);
  assert.equal(res.status, 200);
  // The letter is sent and answered 250; the end of its job is refused by the locked store.
  const refused = await waitFor('the end of the job to be refused', () => log.lines.find((l) => /cannot record the end of a job yet/.test(l.msg ?? '')), 20_000);
  assert.equal(t.smtp!.letters.length, 1);
  return { t, log, blocker, jobId: refused.obj.jobId as string };
}

describe('a stop while the store refuses writes', () => {
  it('the store comes back within the grace period: the end is recorded during the stop, and the restarted server sends no second letter', { timeout: 60_000 }, async () => {
    const { t, log, blocker, jobId } = await serverLockedAtFirstLetter();
    let restarted: RunningServer | undefined;
    try {
      const closing = t.server.close(8000);
      await new Promise((r) => setTimeout(r, 1500));
      blocker.exec('ROLLBACK');
      const report = await closing;
      assert.deepEqual(report, { unfinished: 0, unrecorded: 0, effects: 0, letters: 0 });
      assert.ok(log.lines.some((l) => l.obj.jobId === jobId && /recorded after all during the stop/.test(l.msg ?? '')), 'the stop recorded the end');
      restarted = await t.restart();
      const store = restarted.store;
      const job = await waitFor('the job to be done', async () => {
        const j = await store.getJob(jobId);
        return j && j.status !== 'queued' && j.status !== 'running' ? j : undefined;
      }, 20_000);
      assert.equal(job.status, 'succeeded');
      // Long enough for a requeued job to have run again (pollMs 50).
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(t.smtp!.letters.length, 1, 'one letter, not sent again after the restart');
    } finally {
      blocker.close();
      await restarted?.close(2000);
      await t.cleanup();
    }
  });

  it('the store stays locked past the grace period: the stop counts the job as unfinished and says its letter will be sent again, naming it', { timeout: 60_000 }, async () => {
    const { t, log, blocker, jobId } = await serverLockedAtFirstLetter();
    try {
      const started = Date.now();
      const report = await t.server.close(2500);
      const tookMs = Date.now() - started;
      assert.deepEqual(report, { unfinished: 1, unrecorded: 1, effects: 1, letters: 1 });
      assert.ok(tookMs >= 2400, `the stop waited its grace period for the store (${tookMs} ms)`);
      const named = log.lines.find((l) => l.level === 'error' && Array.isArray(l.obj.jobs));
      assert.ok(named, 'a line names the jobs');
      assert.deepEqual(named.obj.jobs, [jobId]);
      assert.match(named.msg!, /1 job\(s\) made effects \(1 letter\(s\) sent\) whose end the store did not record before the grace period ended .*made again \(letters sent twice\)/);
      const stopped = log.lines.find((l) => /^stopped/.test(l.msg ?? ''));
      assert.ok(stopped);
      assert.equal(stopped.level, 'error');
      assert.match(stopped.msg!, /^stopped, not cleanly.*1 job\(s\) made effects/);
      assert.deepEqual([stopped.obj.unfinished, stopped.obj.unrecorded, stopped.obj.letters], [1, 1, 1]);
    } finally {
      blocker.exec('ROLLBACK');
      blocker.close();
      await t.cleanup();
    }
  });
});
