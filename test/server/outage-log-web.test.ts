// The log of a WebRequest host's outage, folded (server/log-folding.ts): a local HTTP service answers 503 to every
// request while three jobs use up their attempts (each attempt sends the request WEB_REQUEST_ATTEMPTS times), then
// answers again for a fourth. The outage is named by the request's origin, never its path or query (a token).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import { assertFoldedOutage } from './outage-log.helper.js';
import { AUTH, capturingLogger, startTestServer, waitFor } from './server-helpers.js';

const JOBS = 3;
const ATTEMPTS = 3;
const IN_BLOCK = 2;

describe('the log of a WebRequest outage', () => {
  for (const thread of ['off', 'on']) it(`has the first failure in full, summaries that add up, each dead letter, and the recovery once (delivery thread ${thread})`, { timeout: 120_000 }, async () => {
    let down = true;
    const hits = { failed: 0, answered: 0 };
    const service = createServer((_req, res) => {
      if (down) {
        hits.failed++;
        res.writeHead(503).end('busy');
      } else {
        hits.answered++;
        res.end('ok');
      }
    });
    await new Promise<void>((r) => service.listen(0, '127.0.0.1', () => r()));
    const port = (service.address() as { port: number }).port;
    const origin = `http://127.0.0.1:${port}`;
    const scenario = `variables: { body: string }
start: call
blocks:
  call: { kind: WebRequest, url: '"${origin}/notify?token=tern-secret-41"', responseBody: body, exits: { success: done } }
  done: { kind: ReturnValue, values: { 1: '[body]' } }
`;
    const log = capturingLogger();
    const t = await startTestServer({
      logger: log.logger,
      extraScenarios: { 'Notify.yaml': scenario },
      env: { OKTELL_LOG_REPEATS_MS: '1000', WEB_REQUEST_ATTEMPTS: String(IN_BLOCK), OKTELL_DELIVERY_THREAD: thread },
      config: `workers: { baseDelayMs: 50, maxDelayMs: 200, maxAttempts: ${ATTEMPTS} }\n`,
    });
    try {
      const start = async () => assert.equal((await fetch(`${t.server.url}/execsvcscriptplain?name=Notify&async=1`, { headers: { authorization: AUTH } })).status, 200);
      for (let i = 0; i < JOBS; i++) await start();
      const dead = await waitFor('every job a dead letter', async () => {
        const items = (await t.server.store.listJobs({ status: 'dead' })).items;
        return items.length === JOBS ? items : undefined;
      }, 90_000);
      down = false;
      await start();
      await waitFor('the job after the outage', async () => (await t.server.store.listJobs({ status: 'succeeded' })).items.length === 1, 30_000);
      await t.server.close(2000);

      assert.equal(hits.failed, JOBS * ATTEMPTS * IN_BLOCK);
      assertFoldedOutage(log.lines, { scenario: 'Notify', target: origin, kind: 'HTTP 503', jobs: JOBS, attempts: ATTEMPTS, deadJobIds: dead.map((j) => j.id) });
      // The outage's name never carries the path or the query.
      assert.ok(!log.lines.some((l) => /notify|tern-secret/.test(String(l.obj.outage ?? ''))), JSON.stringify(log.lines.map((l) => l.obj.outage).filter(Boolean)));
    } finally {
      await t.cleanup();
      service.close();
    }
  });
});
