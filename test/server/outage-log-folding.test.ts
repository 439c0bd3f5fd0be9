// The log of an SMTP outage, folded (server/log-folding.ts), through a real server: its SMTP port refuses connections
// while five webhooks' jobs use up their attempts, then an SMTP server starts on that port and a sixth webhook's letter
// goes out. In a soak, a 3-minute outage wrote 8,000 lines per instance (each failed attempt of each job: the letter's
// line and the job's). Now the log has the first failure in full, summaries of the repeats, a line for each dead
// letter with its job, and one line when SMTP answers again; the counts add up to the failed tries the metrics count.
// Both with the delivery on the server's thread and on its own (its failures cross to the main thread's outage log).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freePort, startSmtpServer, type TestSmtpServer } from '../mail/smtp-server.helper.js';
import { capturingLogger, postWebhook, startTestServer, taskWebhook, waitFor, type CapturedLine } from './server-helpers.js';

const JOBS = 5;
const ATTEMPTS = 3;

for (const thread of [false, true]) {
  describe(`the log of an SMTP outage (delivery ${thread ? 'on its own thread' : 'on the server thread'})`, () => {
    it('has the first failure in full, summaries that add up, each dead letter, and the recovery once', { timeout: 120_000 }, async () => {
      const log = capturingLogger();
      const port = await freePort();
      const t = await startTestServer({
        smtp: false,
        smtpPort: port,
        logger: log.logger,
        // The smallest window: summaries may come during the outage or not; the counts must add up either way.
        env: { OKTELL_LOG_REPEATS_MS: '1000' },
        config: `workers: { baseDelayMs: 50, maxDelayMs: 200, maxAttempts: ${ATTEMPTS}, thread: ${thread} }\n`,
      });
      let smtp: TestSmtpServer | undefined;
      try {
        for (let i = 0; i < JOBS; i++) {
          const res = await postWebhook(t.server.url, taskWebhook({ name: `outage ${i}`, responsible: ['2'], recordId: String(900 + i), sequenceId: 100 + i }), t.secret);
          assert.equal(res.status, 200);
        }
        const dead = await waitFor('every job a dead letter', async () => {
          const items = (await t.server.store.listJobs({ status: 'dead' })).items;
          return items.length === JOBS ? items : undefined;
        }, 90_000);
        // SMTP comes back on the same port; the next letter goes out.
        smtp = await startSmtpServer({ port });
        const res = await postWebhook(t.server.url, taskWebhook({ name: 'after the outage', responsible: ['2'], recordId: '999', sequenceId: 999 }), t.secret);
        assert.equal(res.status, 200);
        await waitFor('the letter after the outage', () => smtp!.letters.length === 1, 30_000);
        await waitFor('the recovery said', () => log.lines.some((l) => /reachable again/.test(l.msg ?? '')));
        const failedTries = t.server.metrics.letters.failed;
        await t.server.close(2000);

        const loud = log.lines.filter((l) => l.level !== 'debug');
        const shown = JSON.stringify(loud.map((l) => `${l.level} ${l.msg}`), null, 1);
        const target = `SMTP smtp://127.0.0.1:${port}`;
        const said = (re: RegExp) => loud.filter((l) => re.test(l.msg ?? ''));

        // Every attempt failed on its letter: the metric counts each try once.
        assert.equal(failedTries, JOBS * ATTEMPTS, shown);

        // The first failure in full: the letter's line (its cause, and that the repeats are summed up), then the job's
        // (its attempt, and that it will be retried).
        const letters = said(/^letter not sent/);
        assert.equal(letters.length, 1, shown);
        assert.equal(letters[0]!.level, 'warn');
        assert.match(letters[0]!.msg!, new RegExp(`^letter not sent: .*127\\.0\\.0\\.1:${port}.*; ${target.replace(/[/.]/g, '\\$&')} is failing \\(\\w+\\): further failures of this kind are summed up every 1 s until it answers again$`), shown);
        const retried = said(/failed \(will retry\)/);
        assert.equal(retried.length, 1, shown);
        assert.equal(retried[0]!.obj.attempt, 1);

        // Each dead letter on its own line, with its job: all five, findable by id.
        const deadLines = said(/failed \(dead letter\)/);
        assert.deepEqual(deadLines.map((l) => l.level), Array(JOBS).fill('error'), shown);
        assert.deepEqual(deadLines.map((l) => l.obj.jobId).sort(), dead.map((j) => j.id).sort());

        // The summaries count the repeats: with the first failure, every attempt and letter; the dead letters too.
        const summaries = said(/still failing/);
        const sum = (key: string, lines: CapturedLine[]) => lines.reduce((n, l) => n + Number(l.obj[key]), 0);
        for (const s of summaries) assert.equal(s.obj.outage, target, shown);
        assert.equal(sum('attempts', summaries) + 1, JOBS * ATTEMPTS, shown);
        assert.equal(sum('letters', summaries) + 1, JOBS * ATTEMPTS, shown);
        assert.equal(sum('givenUp', summaries), JOBS, shown);

        // SMTP answering again, said once, with the outage's totals.
        const recovery = said(/reachable again/);
        assert.equal(recovery.length, 1, shown);
        assert.equal(recovery[0]!.level, 'info');
        assert.match(recovery[0]!.msg!, new RegExp(`^${target.replace(/[/.]/g, '\\$&')} reachable again after [\\d.]+ s; ${JOBS * ATTEMPTS} attempt\\(s\\) failed meanwhile \\(${JOBS} job\\(s\\) given up as dead letters\\), ${JOBS * ATTEMPTS} letter\\(s\\) not sent$`), shown);
        assert.deepEqual([recovery[0]!.obj.attempts, recovery[0]!.obj.letters, recovery[0]!.obj.givenUp], [JOBS * ATTEMPTS, JOBS * ATTEMPTS, JOBS]);
        // Nothing left to sum up at the stop: the outage ended before it.
        assert.equal(said(/said at the stop/).length, 0, shown);
        // The repeats are still in the log at debug level, each with its job.
        assert.equal(log.lines.filter((l) => l.level === 'debug' && /failed \(will retry\)/.test(l.msg ?? '')).length, JOBS * (ATTEMPTS - 1) - 1);
      } finally {
        await t.cleanup();
        await smtp?.close();
      }
    });
  });
}
