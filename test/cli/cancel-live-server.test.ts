// `cancel` while a server runs on the same SQLite folder: a letter's job waits for its retry (the SMTP server is down);
// the operator's CLI cancels it (the server's store is open the whole time), so no worker tries it again; `runs
// --status dead` lists it with R_CANCELLED; once the SMTP server is back, `replay` brings it back and it runs once:
// one letter delivered, one run more.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freePort, startSmtpServer } from '../mail/smtp-server.helper.js';
import { postWebhook, startTestServer, taskWebhook, waitFor } from '../server/server-helpers.js';
import { runCli } from './cli-process.js';

describe('cancel with a server running on the folder', () => {
  it('cancels a waiting retry into a dead letter; replay brings it back and it runs once', { timeout: 60_000 }, async () => {
    const smtpPort = await freePort();
    let smtp: Awaited<ReturnType<typeof startSmtpServer>> | undefined;
    // Retries an hour apart: after its first attempt fails, the job waits in the queue.
    const t = await startTestServer({ smtp: false, smtpPort, config: 'workers: { baseDelayMs: 3600000, maxDelayMs: 3600000, maxAttempts: 5 }\n' });
    try {
      const res = await postWebhook(t.server.url, taskWebhook({ name: 'отменённое письмо', responsible: ['3'] }), t.secret);
      assert.equal(res.status, 200);
      const waiting = await waitFor('a job waiting for its retry', async () => (await t.server.store.listJobs({ status: 'queued', scenario: 'BpiumNewTask' })).items.find((j) => j.attempts === 1 && j.lastRunId));
      const cli = (...args: string[]) => runCli([...args, '--data-dir', t.dataDir]);

      const cancelled = cli('cancel', waiting.id);
      assert.equal(cancelled.code, 0, cancelled.stderr);
      assert.match(cancelled.stdout, new RegExp(`^cancelled 1 queued job\\(s\\): ${waiting.id}\\n`));
      const dead = (await t.server.store.getJob(waiting.id))!;
      assert.deepEqual([dead.status, dead.attempts, (dead.lastError as { code: string }).code], ['dead', 1, 'R_CANCELLED']);

      const listed = cli('runs', '--status', 'dead');
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, new RegExp(`\\sdead\\s+BpiumNewTask .*${waiting.lastRunId} job ${waiting.id} #1 R_CANCELLED cancelled by an operator`));
      // The server's own view (metrics' dead-letter count reads the same table).
      assert.deepEqual((await t.server.store.listJobs({ status: 'dead' })).items.map((j) => j.id), [waiting.id]);

      smtp = await startSmtpServer({ port: smtpPort });
      const replayed = cli('replay', waiting.id);
      assert.equal(replayed.code, 0, replayed.stderr);
      assert.equal(replayed.stdout, `requeued 1 job(s): ${waiting.id}\n`);
      await waitFor('the replayed job to succeed', async () => ((await t.server.store.getJob(waiting.id))?.status === 'succeeded' ? true : undefined), 20_000);
      assert.equal(smtp.letters.length, 1, 'one letter delivered');
      const runs = (await t.server.store.listRuns({ jobId: waiting.id })).items;
      assert.deepEqual(runs.map((r) => r.status), ['completed', 'failed'], 'one run more: the replay, once');
      const again = cli('cancel', waiting.id);
      assert.equal(again.code, 2, again.stdout);
      assert.match(again.stderr, new RegExp(`job ${waiting.id} \\(BpiumNewTask\\) succeeded: nothing to cancel`));
    } finally {
      await t.cleanup();
      await smtp?.close();
    }
  });
});
