// startServer({ env }): the environment given is the one the scenarios' `env:` variables are read from, as every
// other setting of the server is, not the process's. A test or an embedder injects a value there without touching
// process.env; a variable only the process has is not seen. Real server, real requests.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AUTH, startTestServer } from './server-helpers.js';

const NAME = 'OKTELL_TEST_INJECTED_VALUE';
const ONLY_PROCESS = 'OKTELL_TEST_PROCESS_ONLY_VALUE';
const HOOK = `variables:
  injected: { type: string, env: ${NAME} }
  processOnly: { type: string, env: ${ONLY_PROCESS}, initial: "not given" }
start: r
blocks:
  r:
    kind: ReturnValue
    values: { 1: '[injected] + " / " + [processOnly]', 2: 200 }
`;

describe('startServer({ env }) is the environment scenarios read', () => {
  it("a scenario's env: variable takes the value given to startServer, not the process's", { timeout: 60_000 }, async () => {
    assert.equal(process.env[NAME], undefined);
    process.env[ONLY_PROCESS] = 'from process.env';
    const t = await startTestServer({ smtp: false, extraScenarios: { 'HTTP404.yaml': HOOK }, env: { [NAME]: 'injected by the test' } });
    try {
      const hook = await fetch(`${t.server.url}/anything`, { headers: { authorization: AUTH } });
      assert.equal(hook.status, 200);
      assert.equal(await hook.text(), 'injected by the test / not given');
      assert.deepEqual(t.server.host.issues(), []);
    } finally {
      delete process.env[ONLY_PROCESS];
      await t.cleanup();
    }
  });
});
