// What a synchronous Web-API run does once its caller's timeout passed: by default it goes on to its end; with
// syncTimeout: stop (OKTELL_SYNC_TIMEOUT) it stops before its next block, as Oktell's successor platform stops a
// scenario whose caller stopped waiting. The service the run calls holds its answer until the caller has been
// answered startresult 2, so the order of events does not depend on the machine's speed.
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { AUTH, startTestServer, waitFor } from './server-helpers.js';

const SLOW = `variables: { url: string, answer: string }
blocks:
  begin: { kind: Start, param: url, exits: { next: ask } }
  ask: { kind: WebRequest, url: '[url]', responseBody: answer, exits: { success: after } }
  after: { kind: ReturnValue, values: { 1: '"after " + [answer]' } }
`;

/** A service that answers only when `release` is called. */
async function heldService() {
  const held: ServerResponse[] = [];
  let asked!: () => void;
  const askedOnce = new Promise<void>((r) => (asked = r));
  const server = createServer((_req, res) => {
    held.push(res);
    asked();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow`,
    askedOnce,
    release: () => held.splice(0).forEach((res) => res.end('ok')),
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

for (const c of [
  { setting: 'continue (the default)', env: {}, status: 'completed', ends: 'after ok' },
  { setting: 'stop', env: { OKTELL_SYNC_TIMEOUT: 'stop' }, status: 'failed', ends: undefined },
] as const) {
  describe(`syncTimeout ${c.setting}`, () => {
    it(c.status === 'completed' ? 'the run goes on to its end after its caller was answered startresult 2' : 'the run stops before its next block once its caller was answered startresult 2', { timeout: 60_000 }, async () => {
      const service = await heldService();
      const t = await startTestServer({ env: { OKTELL_SYNC_TIMEOUT: '', ...c.env }, extraScenarios: { 'Slow.yaml': SLOW } });
      try {
        const res = await fetch(`${t.server.url}/execsvcscript?name=Slow&timeout=0.5&startparam1=${encodeURIComponent(service.url)}`, { headers: { authorization: AUTH } });
        assert.equal(res.status, 200);
        assert.match(await res.text(), /<property_simple key="startresult" value="2" name="running" \/>/);
        await service.askedOnce;
        service.release();
        const runId = res.headers.get('x-oktell-run-id')!;
        const run = await waitFor('the run to be recorded', async () => {
          const r = await t.server.store.getRun(runId);
          return r && r.status !== 'running' ? r : undefined;
        });
        assert.equal(run.status, c.status);
        assert.equal((run.returnValues as Record<string, unknown>)['1'], c.ends);
        if (c.status === 'failed') {
          assert.deepEqual((run.error as { code: string }).code, 'R_CANCELLED');
          assert.match((run.error as { message: string }).message, /^stopped before block "after": the caller's timeout of 0\.5 s passed \(OKTELL_SYNC_TIMEOUT=stop\)/);
        }
      } finally {
        service.release();
        await t.cleanup();
        await service.close();
      }
    });
  });
}
