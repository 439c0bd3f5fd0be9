// A secret a run passes to the scenario it starts with AsyncScenario: as a parameter built from it, and in a variable
// computed from it that the start copies. The started run uses the values as passed, and what it keeps and shows (its
// stored record, `show`, the console's run page, `test --from-run`) has them masked, as the starting run's has.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCliAsync } from '../cli/cli.helper.js';
import { AUTH, startTestServer, waitFor } from './server-helpers.js';

/** Distinctive, so that any copy of it is found, as it is and upper-cased. */
const TOKEN = 'kestrel-passed-on-93c1';
const ENV = 'OKTELL_TEST_PASSED_TOKEN';

const HOOK = `variables:
  tok: { type: string, env: ${ENV} }
  hdr: string
start: build
blocks:
  build:
    kind: Variable
    set: { hdr: '"Bearer " + Upper([tok])' }
    exits: { next: start }
  start:
    kind: AsyncScenario
    scenario: Child
    params: { 1: '"tok=" + [tok]', 2: '"plain"' }
    exits: { next: ok }
  ok:
    kind: ReturnValue
    values: { 1: '"queued"' }
`;

/** Uses what it was passed: returns it, and a piece cut from the copied variable. */
const CHILD = `variables:
  hdr: string
  piece: string
start: cut
blocks:
  cut:
    kind: Variable
    set: { piece: 'SubStr([hdr], 7, 12)' }
    exits: { next: answer }
  answer:
    kind: ReturnValue
    values: { 1: '[hdr]', 2: 'InputParameter(1)', 3: '[piece]', 4: 'InputParameter(2)', 5: 'Len([hdr])' }
`;

const leaks = (text: string) => [TOKEN, TOKEN.toUpperCase(), TOKEN.toUpperCase().slice(0, 12)].filter((t) => text.includes(t));

describe('a secret passed on by an async start', () => {
  it('is masked in the started run’s record, `show`, the console and `test --from-run`, and used as passed', { timeout: 90_000 }, async () => {
    // The scenarios are loaded from the server's own environment: this process's.
    const t = await startTestServer({ smtp: false, extraScenarios: { 'HTTP404.yaml': HOOK, 'Child.yaml': CHILD }, env: { [ENV]: TOKEN } });
    try {
      const hook = await fetch(`${t.server.url}/pass-it-on`, { method: 'POST', headers: { authorization: AUTH }, body: '{}' });
      assert.equal(hook.status, 200);
      assert.equal(await hook.text(), 'queued');
      const hookRun = hook.headers.get('x-oktell-run-id')!;
      const job = await waitFor('the started job to succeed', async () => {
        const j = (await t.server.store.listJobs({ parentRunId: hookRun })).items[0];
        return j?.status === 'succeeded' ? j : undefined;
      });
      const child = (await t.server.store.getRun(job.lastRunId!))!;

      // The run used the values as passed: a length of the real header, and a plain parameter as it is.
      const upper = `Bearer ${TOKEN.toUpperCase()}`;
      assert.deepEqual(child.returnValues, { 1: '***', 2: '***', 3: '***', 4: 'plain', 5: upper.length });
      assert.deepEqual(child.params, { 1: '***', 2: 'plain' });
      assert.deepEqual(leaks(JSON.stringify(child)), [], JSON.stringify(child));
      // The starting run's own record, as before: the header masked whole (computed from the secret), the token too.
      assert.deepEqual(leaks(JSON.stringify(await t.server.store.getRun(hookRun))), []);

      const page = await (await fetch(`${t.server.url}/-/console/runs/${child.id}`, { headers: { authorization: AUTH } })).text();
      assert.match(page, /plain/);
      assert.deepEqual(leaks(page), [], 'the console page of the started run');

      const env = { [ENV]: TOKEN };
      const show = await runCliAsync(['show', child.id, '--data-dir', t.dataDir], { env });
      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stdout, /plain/);
      assert.deepEqual(leaks(show.stdout), [], show.stdout);

      const out = join(t.scenariosDir, 'tests', 'child.test.yaml');
      const made = await runCliAsync(['test', '--from-run', child.id, '--out', out, '--scenarios', t.scenariosDir, '--data-dir', t.dataDir], { env, timeoutMs: 60_000 });
      assert.equal(made.code === 0 || made.code === 1, true, made.stdout + made.stderr);
      const written = readFileSync(out, 'utf8');
      assert.match(written, /plain/);
      assert.deepEqual(leaks(written), [], written);
    } finally {
      await t.cleanup();
    }
  });
});
