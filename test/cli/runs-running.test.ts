// `runs --status running` on a real server's data folder while a job is in the middle of its attempt (SMTP that never
// answers): the job is listed as in progress, although its run is recorded only when the attempt ends; the console
// counts it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startSilentServer } from '../mail/smtp-server.helper.js';
import { AUTH, postWebhook, startTestServer, taskWebhook, waitFor } from '../server/server-helpers.js';
import { runCli } from './cli-process.js';

describe('runs --status running', () => {
  it('lists a job running now, as /-/metrics counts it, with its attempt', { timeout: 60_000 }, async () => {
    const silent = await startSilentServer();
    const t = await startTestServer({ smtp: false, smtpPort: silent.port });
    try {
      const res = await postWebhook(t.server.url, taskWebhook({ name: 'долгое письмо', responsible: ['3'] }), t.secret);
      assert.equal(res.status, 200);
      const job = await waitFor('the job to run', async () => (await t.server.store.listJobs({ status: 'running' })).items[0]);
      const text = runCli(['runs', '--status', 'running', '--data-dir', t.dataDir]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`running\\s+BpiumNewTask\\s+async\\s+job ${job.id} #1 \\(in progress: its run is recorded when the attempt ends\\)`));
      const rows = JSON.parse(runCli(['runs', '--status', 'running', '--json', '--data-dir', t.dataDir]).stdout) as Array<{ jobId: string; status: string; inProgress?: boolean; attempt: number }>;
      assert.deepEqual(rows.map((r) => [r.jobId, r.status, r.inProgress, r.attempt]), [[job.id, 'running', true, 1]]);
      // The console's runs page counts it as running too.
      const page = await (await fetch(`${t.server.url}/-/console/runs`, { headers: { authorization: AUTH } })).text();
      assert.match(page, /<b>1<\/b> running/);
    } finally {
      await t.cleanup();
      await silent.close();
    }
  });
});
