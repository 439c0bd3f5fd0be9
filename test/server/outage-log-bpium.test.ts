// The log of a Bpium outage, folded (server/log-folding.ts): the embedded Bpium emulator answers 503 to every read of
// the users catalog while three webhooks' jobs use up their attempts (a soak trial: one minute of Bpium down wrote
// 1,600 lines per instance), then answers again for a fourth. Real server, emulator over HTTP, SMTP on loopback.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertFoldedOutage } from './outage-log.helper.js';
import { AUTH, capturingLogger, postWebhook, startTestServer, taskWebhook, waitFor } from './server-helpers.js';

const USERS = '/api/v1/catalogs/3/records';
const JOBS = 3;
const ATTEMPTS = 3;

describe('the log of a Bpium outage', () => {
  it('has the first failure in full, summaries that add up, each dead letter, and the recovery once', { timeout: 120_000 }, async () => {
    const log = capturingLogger();
    const t = await startTestServer({ logger: log.logger, env: { OKTELL_LOG_REPEATS_MS: '1000' }, config: `workers: { baseDelayMs: 50, maxDelayMs: 200, maxAttempts: ${ATTEMPTS} }\n` });
    try {
      t.server.emulator!.injectFaults({ status: 503, times: 100_000, pathPrefix: USERS });
      for (let i = 0; i < JOBS; i++) {
        const res = await postWebhook(t.server.url, taskWebhook({ name: `bpium down ${i}`, responsible: ['2'], recordId: String(800 + i), sequenceId: 200 + i }), t.secret);
        assert.equal(res.status, 200);
      }
      const dead = await waitFor('every job a dead letter', async () => {
        const items = (await t.server.store.listJobs({ status: 'dead' })).items;
        return items.length === JOBS ? items : undefined;
      }, 90_000);
      t.server.emulator!.clearFaults();
      const res = await postWebhook(t.server.url, taskWebhook({ name: 'bpium back', responsible: ['2'], recordId: '899', sequenceId: 299 }), t.secret);
      assert.equal(res.status, 200);
      await waitFor('the letter after the outage', () => t.smtp!.letters.length === 1, 30_000);
      const page = await (await fetch(`${t.server.url}/-/metrics`, { headers: { authorization: AUTH } })).text();
      const failedCalls = Number(/^oktell_bpium_calls_total\{outcome="failed"\} (\d+)$/m.exec(page)?.[1]);
      await t.server.close(2000);

      // One failed call per attempt, as the metric counts them.
      assert.equal(failedCalls, JOBS * ATTEMPTS);
      assertFoldedOutage(log.lines, { scenario: 'BpiumNewTask', target: `Bpium ${t.server.emulator!.url}`, kind: 'HTTP 503', jobs: JOBS, attempts: ATTEMPTS, deadJobIds: dead.map((j) => j.id) });
    } finally {
      await t.cleanup();
    }
  });
});
