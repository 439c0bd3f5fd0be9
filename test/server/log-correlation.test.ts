// One webhook followed through the JSON log of a real `serve` process, by ids alone (operator trial 51): its request
// line's runId (the hook's run) is the parentRunId of its job's end line, whose runId is on the letter's own line. Two
// webhooks are posted at once so that only the ids, not the order of the lines, can tie a letter to its webhook.
// Before, the letter's line named only its Message-ID and the job's line not the run that started it, so a log
// collector could not join them. Every line is JSON with a time, a level and a message, and no line holds a secret.
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startSmtpServer } from '../mail/smtp-server.helper.js';
import { repoPath, tempDir } from '../helpers.js';
import { USER, postWebhook, serveUrl, startChild, taskWebhook, waitFor } from './server-helpers.js';

const SECRET = 'sig-secret-for-the-log-test';

describe('the JSON log follows a webhook to its letter', () => {
  it('ties the request, the job and the letter by ids, and every line is JSON with time, level and msg', { timeout: 60_000 }, async () => {
    const tmp = tempDir('oktell-logids-');
    const smtp = await startSmtpServer();
    const dataDir = join(tmp.dir, 'var');
    const scenarios = join(tmp.dir, 'scenarios');
    cpSync(repoPath('scenarios'), scenarios, { recursive: true });
    let text = '';
    const { proc, output } = startChild(dataDir, scenarios, smtp.port, { OKTELL_LOG_LEVEL: 'info', OKTELL_LOG_FORMAT: 'json', BPIUM_WEBHOOK_SECRET: SECRET }, (t) => (text += t));
    try {
      const url = await serveUrl(proc, dataDir, output);
      const names = ['первая задача', 'вторая задача'];
      const answers = await Promise.all(names.map((name, i) => postWebhook(url, taskWebhook({ name, responsible: [String(2 + i)], sequenceId: 700 + i }), SECRET)));
      for (const a of answers) assert.equal(a.status, 200);
      const hookRuns = answers.map((a) => a.headers.get('x-oktell-run-id'));

      // A job's line comes after its letter's: wait for both of each.
      const lines = await waitFor('both letters sent and both jobs logged', () => {
        const all = text.split('\n').filter((l) => l !== '');
        const parsed = all.map((l) => {
          try {
            return JSON.parse(l) as Record<string, unknown>;
          } catch {
            return assert.fail(`not a JSON line: ${l}`);
          }
        });
        const jobsDone = parsed.filter((l) => typeof l.jobId === 'string' && typeof l.outcome === 'string').length;
        return parsed.filter((l) => l.msg === 'letter sent').length === 2 && jobsDone === 2 ? parsed : undefined;
      }, 30_000);
      for (const l of lines) {
        assert.equal(typeof l.time, 'number', JSON.stringify(l));
        assert.equal(typeof l.level, 'number', JSON.stringify(l));
        assert.equal(typeof l.msg, 'string', JSON.stringify(l));
      }

      const letters = new Set<unknown>();
      for (const hookRun of hookRuns) {
        assert.ok(hookRun, 'the answer names its run');
        const request = lines.find((l) => l.msg === 'request' && l.runId === hookRun);
        assert.ok(request, `the request line of ${hookRun}`);
        assert.equal(request.path, '/Bpium/NewTask');
        const jobEnd = lines.find((l) => typeof l.jobId === 'string' && l.parentRunId === hookRun);
        assert.ok(jobEnd, `a job's line names the webhook's run ${hookRun} as parentRunId:\n${text}`);
        assert.equal(jobEnd.outcome, 'succeeded');
        const letter = lines.find((l) => l.msg === 'letter sent' && l.runId === jobEnd.runId);
        assert.ok(letter, `the letter's line names the job's run ${String(jobEnd.runId)}:\n${text}`);
        letters.add(letter.messageId);
      }
      assert.equal(letters.size, 2, 'each webhook led to its own letter');

      for (const secret of [SECRET, USER.password, Buffer.from(`${USER.login}:${USER.password}`).toString('base64')]) {
        assert.ok(!text.includes(secret), `the log holds no secret (${secret.slice(0, 4)}…)`);
      }
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r(undefined) : proc.once('exit', r)));
      await smtp.close();
      tmp.cleanup();
    }
  });
});
