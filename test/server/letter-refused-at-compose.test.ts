// A letter refused before it is composed (an address from the webhook that the mailer refuses) taken to SendMail's
// error exit: the run completes and nothing retries the letter, so an operator must see it. It wrote no log line and
// was not counted in oktell_letters_refused_total (it left no letter in the run's record, only a trace step). Now the
// run records it as failed with the reason, the metric counts it, and the job's line is a warning naming it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AUTH, capturingLogger, runAsyncJob, startTestServer } from './server-helpers.js';

const notify = `variables: { email: string, problem: string }
start: read
blocks:
  read:
    kind: Variable
    set: { email: InputParameter(1) }
    exits: { next: mail }
  mail:
    kind: SendMail
    to: '[email]'
    subject: '"Проверка"'
    text: '"Текст"'
    errorVariable: problem
    exits: { success: done, error: done }
  done: { kind: Stop }
`;

describe('a letter refused before it is composed', () => {
  it('is recorded as failed, counted as refused, and named on the job line', { timeout: 60_000 }, async () => {
    const { lines, logger } = capturingLogger();
    const t = await startTestServer({ logger, extraScenarios: { 'Notify.yaml': notify } });
    try {
      const run = await runAsyncJob(t, 'Notify', `&startparam1=${encodeURIComponent('ivan@@example')}`);
      assert.equal(run.status, 'completed');
      const mails = run.mails as Array<{ status: string; performed: boolean; to: string[]; error?: string }>;
      assert.deepEqual(mails.map((m) => [m.status, m.performed, m.to, /invalid to address/.test(m.error ?? '')]), [['failed', false, [], true]]);
      const page = await (await fetch(`${t.server.url}/-/metrics`, { headers: { authorization: AUTH } })).text();
      assert.match(page, /^oktell_letters_refused_total 1$/m);
      const line = lines.find((l) => l.obj.runId === run.id && typeof l.msg === 'string' && l.msg.startsWith('run Notify'));
      assert.ok(line, 'the job line');
      assert.equal(line.level, 'warn');
      assert.equal(line.obj.lettersRefused, 1);
      assert.match(line.msg!, /^run Notify completed, a letter refused \(not sent, not retried: npx oktell-emu show \S+\)$/);
      // The console says it was refused before sending (it read "to" and nothing after), and its outcome names no
      // recipient it never had (it read "letter failed to (nobody)").
      const runPage = await (await fetch(`${t.server.url}/-/console/runs/${run.id}`, { headers: { authorization: AUTH } })).text();
      const meta = /<div class="mail-meta">([^<]*)/.exec(runPage)?.[1];
      assert.equal(meta, 'refused before sending (no letter was written: the error says why) · block ');
      assert.match(runPage, /<div class="error-text">invalid to address: address &quot;ivan@@example&quot; has characters not allowed before @</);
      const list = await (await fetch(`${t.server.url}/-/console/runs`, { headers: { authorization: AUTH } })).text();
      const row = new RegExp(`<tr data-id="${run.id}"[^>]*>[\\s\\S]*?</tr>`).exec(list)?.[0] ?? '';
      assert.match(row, /letter refused before sending/);
      assert.doesNotMatch(row, /nobody/);
    } finally {
      await t.cleanup();
    }
  });
});
