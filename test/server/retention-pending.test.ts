// A retention shorter than the retry window (operator trial L6): the start says so, and the prune leaves a job that
// is still to be delivered its webhook's inbox entry (so a resend is still a duplicate), its hook run and its attempts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freePort } from '../mail/smtp-server.helper.js';
import { capturingLogger, postWebhook, startTestServer, taskWebhook, waitFor } from './server-helpers.js';

describe('retention shorter than the retries', () => {
  it('warns at start, and the prune keeps what a job still queued for a retry needs', { timeout: 60_000 }, async () => {
    const smtpPort = await freePort(); // nothing listens: every letter fails as retryable
    const first = capturingLogger();
    // 0.00002 days is 1.7 s; 3 attempts 10 min then 30 min apart.
    const env = { OKTELL_RETENTION_DAYS: '0.00002', OKTELL_MAX_ATTEMPTS: '3', OKTELL_RETRY_BASE_DELAY_MS: '600000' };
    const t = await startTestServer({ smtp: false, smtpPort, env, logger: first.logger });
    let server = t.server;
    try {
      const warning = first.lines.find((l) => l.level === 'warn' && l.msg?.startsWith('the retention'));
      assert.ok(warning, 'a start warning about the retention');
      assert.match(warning.msg!, /OKTELL_RETENTION_DAYS or retentionDays: 0\.00002 days, about 1\.7 s\) is shorter than the retry window \(3 attempts, waiting about 40 min in all between them, plus the time the attempts themselves take\)/);
      assert.match(warning.msg!, /set OKTELL_RETENTION_DAYS to at least 0\.1, or shorten the retries/);
      assert.ok(server.warnings.includes(warning.msg!), 'the banner shows it too');

      const body = taskWebhook({ name: 'ждёт SMTP', responsible: ['2'] });
      assert.equal((await postWebhook(server.url, body, t.secret)).status, 200);
      // A request refused for its signature: an inbox entry with no job, which the prune takes.
      assert.equal((await postWebhook(server.url, body, 'wrong-secret')).status, 401);
      const job = await waitFor('the first attempt to fail and the job to wait for its retry', async () => {
        const j = (await server.store.listJobs({ status: 'queued', scenario: 'BpiumNewTask' })).items[0];
        return j && j.attempts === 1 ? j : undefined;
      });
      await server.close(2000);
      await new Promise((r) => setTimeout(r, 2000)); // past the retention

      const again = capturingLogger();
      server = await t.restart(smtpPort, again.logger);
      const pruned = await waitFor('the start prune', () => again.lines.find((l) => l.msg === 'retention: old entries removed'));
      assert.deepEqual(pruned.obj.pruned, { inbox: 1, runs: 0, jobs: 0, effects: 0, outboxLetters: 0 }, 'only the refused request');

      const resend = await postWebhook(server.url, body, t.secret);
      assert.equal(resend.status, 200);
      assert.ok(resend.headers.get('x-oktell-duplicate-of'), 'a resend while the job waits for its retry is still a duplicate');
      const runs = (await server.store.listRuns({})).items;
      assert.deepEqual(runs.map((r) => `${r.trigger} ${r.status}`).sort(), ['async failed', 'http completed'], 'the hook run and the failed attempt are kept');
      assert.equal((await server.store.getJob(job.id))?.status, 'queued');
    } finally {
      await server.close(2000);
      await t.cleanup();
    }
  });
});
