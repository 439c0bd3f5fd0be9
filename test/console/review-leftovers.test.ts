// Smaller findings of the s25 console review (U19), over plain HTTP: the outbox page says whether SMTP is in use and
// through which server (never its password); a trace past the shown steps points to `oktell-emu show`; the scenario
// name of a job leads to its last run (a dead letter's failure) and the definition has its own link.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freePort } from '../mail/smtp-server.helper.js';
import { get, loopScenarioYaml, readUserJob, runPageOf, startConsoleServer } from './console-helpers.js';

/** 600 turns of a loop: 1201 steps, past the 1000 a run page shows. */
const LONG_LOOP_YAML = loopScenarioYaml(600);

describe('console review leftovers (U19)', () => {
  it('with SMTP_URL set, the outbox page names the SMTP server in use and not its password', { timeout: 30_000 }, async () => {
    const port = await freePort();
    const t = await startConsoleServer({}, { SMTP_URL: `smtp://mailer:Pa55-w0rd@127.0.0.1:${port}` });
    try {
      const html = await (await get(`${t.base}/outbox`)).text();
      assert.match(html, new RegExp(`<p class="notice mail-way" id="mail-way">SMTP is in use: letters are sent through <code>smtp://mailer:\\*\\*\\*@127\\.0\\.0\\.1:${port} `));
      assert.ok(!html.includes('Pa55-w0rd'), 'the password is not on the page');
      assert.ok(!html.includes('No SMTP server is configured'));
    } finally {
      await t.cleanup();
    }
  });

  it('without SMTP_URL, the outbox page says letters are stored, not sent', { timeout: 30_000 }, async () => {
    const t = await startConsoleServer();
    try {
      const html = await (await get(`${t.base}/outbox`)).text();
      assert.match(html, /id="mail-way">No SMTP server is configured \(<code>SMTP_URL<\/code> unset\): letters are not sent, they are stored as \.eml files in <code>[^<]+outbox<\/code>\./);
      assert.ok(!html.includes('SMTP is in use'));
    } finally {
      await t.cleanup();
    }
  });

  it('a trace longer than the page shows says once that variables stop at step 300, and points to `oktell-emu show` for the rest', { timeout: 60_000 }, async () => {
    const t = await startConsoleServer({ 'LongLoop.yaml': LONG_LOOP_YAML }, { OKTELL_RUN_RECORD_BUDGET: '4mb' });
    try {
      // The record is kept whole (a budget large enough): what is cut here is the page's, not the store's.
      const { runId, html } = await runPageOf(t, 'LongLoop');
      assert.equal(html.match(/first 300 steps/g)?.length, 1);
      assert.equal(html.match(/<li id="step-/g)?.length, 1000);
      assert.match(html, new RegExp(`<p class="muted hidden-steps">201 more steps are not shown: <code>npx oktell-emu show ${runId}</code> prints the whole trace\\.`));
    } finally {
      await t.cleanup();
    }
  });

  it('on the jobs list (the dead letters tab is the same table) the scenario name leads to the last run, with a separate link to the definition', { timeout: 60_000 }, async () => {
    const t = await startConsoleServer();
    try {
      const failed = await readUserJob(t, '66');
      assert.equal(failed.status, 'failed');
      for (const status of ['', '?status=failed']) {
        const html = await (await get(`${t.base}/jobs${status}`)).text();
        const row = new RegExp(`<tr data-id="${failed.jobId}">[\\s\\S]*?</tr>`).exec(html)?.[0] ?? '';
        assert.match(row, new RegExp(`<a class="to-run" href="/-/console/runs/${failed.runId}">ReadUser</a>`), `jobs${status}`);
        assert.match(row, /<a class="def small" href="\/-\/console\/scenarios\/ReadUser" aria-label="definition of ReadUser">definition<\/a>/);
        assert.match(row, new RegExp(`<a href="/-/console/runs\\?job=${failed.jobId}" aria-describedby="job-${failed.jobId}">all runs<span class="sr-only"> of job …${failed.jobId.slice(-6)}</span></a>`));
      }
    } finally {
      await t.cleanup();
    }
  });
});
