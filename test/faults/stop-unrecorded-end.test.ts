// A graceful stop while the store refuses writes (trial s33, finding 1): a job whose letter went out but whose end
// the store has not taken yet is unfinished. The stop keeps trying to record it within its grace period, so a store
// that comes back in time means one letter; one that does not is reported by the stop, naming the job.
// The store's refusal is real: another connection holds the SQLite file's write lock (BEGIN EXCLUSIVE), as a backup
// or a sqlite3 shell would, taken the moment the SMTP server has the letter and before it answers. A job whose attempt
// made no effect (it only read from Bpium) and whose end is refused the same way is neither "still running" nor a
// repeated effect: the stop says its end was not recorded, that it runs again, and that nothing repeats.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { RunningServer } from '../../server/serve.js';
import { AUTH, BPIUM_READ_SCENARIO, capturingLogger, postWebhook, startTestServer, taskWebhook, waitFor } from '../server/server-helpers.js';

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

  it('a job whose end is not recorded but which made no effect: not "still running", said to run again with nothing repeated', { timeout: 60_000 }, async () => {
    // A stand-in Bpium: the record the scenario reads, answered once another connection holds the store's write lock.
    let blocker: Database.Database | undefined;
    let reads = 0;
    const bpium: Server = createServer((req, res) => {
      reads++;
      blocker!.exec('BEGIN EXCLUSIVE');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 2, values: { 2: 'ivan@example.com' } }));
    });
    await new Promise<void>((r) => bpium.listen(0, '127.0.0.1', r));
    const log = capturingLogger();
    const t = await startTestServer({
      logger: log.logger,
      smtp: false,
      extraScenarios: { 'ReadOnly.yaml': BPIUM_READ_SCENARIO },
      env: { BPIUM_URL: `http://127.0.0.1:${(bpium.address() as AddressInfo).port}`, BPIUM_LOGIN: 'api@example.com', BPIUM_PASSWORD: 'x' },
    });
    blocker = new Database(join(t.dataDir, 'oktell.sqlite'));
    try {
      const res = await fetch(`${t.server.url}/execsvcscript?name=ReadOnly&async=1`, { headers: { authorization: AUTH } });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      const jobId = /key="runid" value="([^"]+)"/i.exec(text)?.[1];
      assert.ok(jobId, text);
      const refused = await waitFor('the end of the job to be refused', () => log.lines.find((l) => /cannot record the end of a job yet/.test(l.msg ?? '')), 20_000);
      assert.equal(refused.obj.jobId, jobId);
      assert.equal(reads, 1);

      const report = await t.server.close(2500);
      assert.deepEqual(report, { unfinished: 1, unrecorded: 0, effects: 0, letters: 0 }, 'a clean stop: nothing will be made twice');
      const said = log.lines.map((l) => l.msg ?? '');
      assert.ok(!said.some((m) => /still running/.test(m)), `no job is said to be still running:\n${said.join('\n')}`);
      const notRecorded = log.lines.find((l) => /ends were not recorded/.test(l.msg ?? ''));
      assert.ok(notRecorded, `a line says the end was not recorded:\n${said.join('\n')}`);
      assert.equal(notRecorded.level, 'warn');
      assert.equal(notRecorded.msg, '1 job(s) ended but their ends were not recorded (the store refused the writes or did not answer them until the grace period ended): they will run again (they resume at the next start); no effect of theirs will repeat (the journal holds every effect they made, if any), though the first effect of their next attempt is marked as a possible repeat, as after any cut-off attempt');
      assert.deepEqual(notRecorded.obj.jobs, [jobId]);
      assert.ok(!log.lines.some((l) => /made effects|not cleanly/.test(l.msg ?? '')), 'no effect is said to repeat');
      const stopped = log.lines.find((l) => /^stopped/.test(l.msg ?? ''));
      assert.ok(stopped);
      assert.equal(stopped.level, 'info');
      assert.equal(stopped.obj.unfinished, 1);
    } finally {
      if (blocker.inTransaction) blocker.exec('ROLLBACK');
      blocker.close();
      await t.cleanup();
      await new Promise((r) => bpium.close(r));
    }
  });
});
