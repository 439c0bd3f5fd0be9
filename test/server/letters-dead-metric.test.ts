// /-/metrics through a real server, for a job whose letter fails every attempt (a refused SMTP login), is dead-lettered,
// then replayed once the login works. With the delivery workers in the server's thread and in their own
// (workers.thread).
// - `oktell_letters_total{outcome="failed"}` counts failed tries, one per attempt of the letter's job (a letter tried 3
//   times counts 3), and `oktell_letters_dead_total` counts the letter once, when its job becomes a dead letter; a
//   replay that delivers it does not take it back (a counter), and counts it sent.
// - `oktell_job_attempts_total` (operator trial 51) counts the attempts of jobs by what became of the job, so that one
//   alert sees deliveries failing whatever failed (before, only letters and Bpium calls were counted, and
//   oktell_run_duration_seconds{status="failed"} mixed the webhooks' own runs in): 2 retries, 1 dead, then 1 succeeded
//   for the replay; the webhook's own run is no job's attempt.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { startSmtpServer } from '../mail/smtp-server.helper.js';
import { repoPath } from '../helpers.js';
import { AUTH, postWebhook, startTestServer, taskWebhook, waitFor } from './server-helpers.js';

const value = (text: string, metric: string) => new RegExp(`^${metric.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1];
const attempts = (text: string, outcome: string) => value(text, `oktell_job_attempts_total{outcome="${outcome}"}`);

for (const thread of [false, true]) {
  describe(`oktell_letters_dead_total and oktell_job_attempts_total (delivery ${thread ? 'in its own thread' : 'in the server thread'})`, () => {
    it('a letter its job tried 3 times counts 3 failed tries, 2 retries and 1 dead letter; its replay counts it sent and its attempt succeeded', { timeout: 60_000 }, async () => {
      // A refused SMTP login: every attempt fails, the job is retried, then dead-lettered.
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
        for (const outcome of ['succeeded', 'retry', 'dead', 'failed']) assert.equal(attempts(first, outcome), '0', `${outcome} is there from the start`);

        const res = await postWebhook(t.server.url, taskWebhook({ name: 'три попытки', responsible: ['3'] }), t.secret);
        assert.equal(res.status, 200);
        const dead = await waitFor('a dead letter', async () => (await t.server.store.listJobs({ status: 'dead' })).items[0], 30_000);
        assert.equal(dead.attempts, 3);
        // The pool reports the attempt after recording it: wait for the metrics rather than assume they are there.
        const text = await waitFor('the dead letter counted', async () => {
          const p = await page();
          return value(p, 'oktell_letters_dead_total') === '1' && attempts(p, 'dead') === '1' ? p : undefined;
        }, 30_000);
        assert.equal(value(text, 'oktell_letters_total{outcome="failed"}'), '3', 'one failed try per attempt');
        assert.equal(value(text, 'oktell_letters_total{outcome="sent"}'), '0');
        assert.match(text, /^# TYPE oktell_letters_dead_total counter$/m);
        assert.match(text, /^# HELP oktell_letters_total .*once per attempt/m);
        assert.equal(attempts(text, 'retry'), '2');
        assert.equal(attempts(text, 'succeeded'), '0', "the webhook's own run is no job's attempt");

        login.pass = 'the-right-one';
        const r = spawnSync(process.execPath, [repoPath('bin', 'oktell-emu.js'), 'replay', '--status', 'dead', '--data-dir', t.dataDir, '--json'], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        await waitFor('the replayed letter', () => smtp.letters.length === 1, 20_000);
        const after = await waitFor('the sent letter and the replay counted', async () => {
          const p = await page();
          return value(p, 'oktell_letters_total{outcome="sent"}') === '1' && attempts(p, 'succeeded') === '1' ? p : undefined;
        }, 20_000);
        assert.equal(value(after, 'oktell_letters_dead_total'), '1');
        assert.equal(value(after, 'oktell_letters_total{outcome="failed"}'), '3');
        assert.equal(attempts(after, 'dead'), '1', 'a counter: the replay does not take it back');
        assert.equal(attempts(after, 'retry'), '2');
      } finally {
        await t.cleanup();
        await smtp.close();
      }
    });
  });
}
