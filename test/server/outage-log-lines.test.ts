// The log during an outage (soak trial 47): each failed attempt of a job wrote five warnings that said the same thing
// (two "SMTP attempt failed, retrying", "letter not sent", the engine's line for the failed run and the job's line),
// so a 45 s SMTP outage at 25 webhooks/s wrote about 5,500 lines. Now an attempt says it twice, once for the letter
// and once for the job, with what becomes of it; the retries and the engine's line are at debug. A real server whose
// SMTP port refuses connections, the embedded Bpium emulator, the shipped scenarios. With the repeats of an outage not
// folded (OKTELL_LOG_REPEATS_MS=0): outage-log-folding.test.ts has them folded.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freePort } from '../mail/smtp-server.helper.js';
import { capturingLogger, postWebhook, startTestServer, taskWebhook, waitFor } from './server-helpers.js';

describe('the log of a job whose letters cannot be sent', () => {
  it('says each failed attempt twice (the letter, the job), not five times', { timeout: 60_000 }, async () => {
    const log = capturingLogger();
    const t = await startTestServer({ smtp: false, smtpPort: await freePort(), logger: log.logger, env: { OKTELL_LOG_REPEATS_MS: '0' }, config: 'workers: { baseDelayMs: 50, maxDelayMs: 100, maxAttempts: 2 }\n' });
    try {
      const res = await postWebhook(t.server.url, taskWebhook({ name: 'Отказ', responsible: ['2'] }), t.secret);
      assert.equal(res.status, 200);
      const dead = await waitFor('a dead letter', async () => (await t.server.store.listJobs({ status: 'dead' })).items[0]);
      const loud = log.lines.filter((l) => l.level === 'warn' || l.level === 'error');
      const shown = JSON.stringify(loud.map((l) => `${l.level} ${l.msg}`), null, 1);
      assert.equal(loud.filter((l) => /SMTP attempt failed/.test(l.msg ?? '')).length, 0, shown);
      // The letter's line, once per attempt (a failure that may pass: warn; the job's line says when it is dead).
      assert.deepEqual(loud.filter((l) => /^letter not sent/.test(l.msg ?? '')).map((l) => l.level), ['warn', 'warn'], shown);
      // The job's line, once per attempt, naming the job; no other line carries the failure.
      const failure = loud.filter((l) => /gave up after \d+ tries within this run/.test(`${l.msg ?? ''} ${String(l.obj.error ?? '')}`) && !/^letter not sent/.test(l.msg ?? ''));
      assert.deepEqual(failure.map((l) => l.obj.jobId), [dead.id, dead.id], shown);
      // The engine's own line for each failed run is still there, at debug.
      assert.equal(log.lines.filter((l) => l.level === 'debug' && l.obj.block === 'notify' && l.obj.jobId === undefined).length, 2);
    } finally {
      await t.cleanup();
    }
  });
});
