// oktell_job_attempts_total through a real server (operator trial 51): the attempts of jobs by what became of the job,
// so that one alert sees deliveries failing whatever failed (before, only letters and Bpium calls were counted, and
// oktell_run_duration_seconds{status="failed"} mixed the webhooks' own runs in). A refused SMTP login fails every
// attempt: 2 retries, then a dead letter; the replay after the fix succeeds. With the delivery workers in the
// server's thread and in their own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { startSmtpServer } from '../mail/smtp-server.helper.js';
import { repoPath } from '../helpers.js';
import { AUTH, postWebhook, startTestServer, taskWebhook, waitFor } from './server-helpers.js';

const value = (text: string, metric: string) => new RegExp(`^${metric.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1];

for (const thread of [false, true]) {
  describe(`oktell_job_attempts_total (delivery ${thread ? 'in its own thread' : 'in the server thread'})`, () => {
    it('counts 2 retries and 1 dead for a job whose 3 attempts fail, then 1 succeeded for its replay', { timeout: 60_000 }, async () => {
      const login = { user: 'robot', pass: 'the-right-one' };
      const smtp = await startSmtpServer({ auth: login });
      login.pass = 'changed-on-the-server';
      const t = await startTestServer({
        smtp: false,
        env: { SMTP_URL: `smtp://robot:the-right-one@127.0.0.1:${smtp.port}` },
        config: `workers: { baseDelayMs: 50, maxDelayMs: 100, maxAttempts: 3, thread: ${thread} }\n`,
      });
      const page = async () => (await fetch(`${t.server.url}/-/metrics`, { headers: { authorization: AUTH } })).text();
      try {
        const first = await page();
        assert.match(first, /^# TYPE oktell_job_attempts_total counter$/m);
        for (const outcome of ['succeeded', 'retry', 'dead', 'failed']) assert.equal(value(first, `oktell_job_attempts_total{outcome="${outcome}"}`), '0', `${outcome} is there from the start`);

        const res = await postWebhook(t.server.url, taskWebhook({ name: 'три попытки', responsible: ['3'] }), t.secret);
        assert.equal(res.status, 200);
        const text = await waitFor('the dead letter counted', async () => {
          const p = await page();
          return value(p, 'oktell_job_attempts_total{outcome="dead"}') === '1' ? p : undefined;
        }, 30_000);
        assert.equal(value(text, 'oktell_job_attempts_total{outcome="retry"}'), '2');
        assert.equal(value(text, 'oktell_job_attempts_total{outcome="succeeded"}'), '0', "the webhook's own run is no job's attempt");

        login.pass = 'the-right-one';
        const r = spawnSync(process.execPath, [repoPath('bin', 'oktell-emu.js'), 'replay', '--status', 'dead', '--data-dir', t.dataDir, '--json'], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        const after = await waitFor('the replay counted', async () => {
          const p = await page();
          return value(p, 'oktell_job_attempts_total{outcome="succeeded"}') === '1' ? p : undefined;
        }, 20_000);
        assert.equal(value(after, 'oktell_job_attempts_total{outcome="dead"}'), '1', 'a counter: the replay does not take it back');
        assert.equal(value(after, 'oktell_job_attempts_total{outcome="retry"}'), '2');
      } finally {
        await t.cleanup();
        await smtp.close();
      }
    });
  });
}
