// A return value made from a secret variable: the caller waiting for the scenario's answer (the hook's HTTP
// response, the Web-API's returnvalue) gets it as the scenario set it, while everything a run keeps or shows has
// the secret masked: the stored run record, the console's run page, the log, and `run --dry-run` (its text and --json).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { answerValues, fixedClock, loadScenarioText, randomIds, runScenario, type ScenarioLibrary } from '../../engine/index.js';
import { performDryRun } from '../../server/console/dry-run.js';
import { hookResponse } from '../../server/hook-request.js';
import { runCli } from '../cli/cli.helper.js';
import { tempDir } from '../helpers.js';
import { AUTH, capturingLogger, startTestServer, waitFor } from './server-helpers.js';

/** Distinctive, so that any copy of it is found. */
const TOKEN = 'OKAPI-RETURNED-5e21d7';
const ENV = 'OKTELL_TEST_RETURNED_TOKEN';

/** Returns the token in a text (1), the token itself (4), and a number from the environment (2 = the HTTP status, 3 is left). */
const RETURNS = `variables:
  tok: { type: string, env: ${ENV} }
  code: { type: number, env: ${ENV}_CODE }
start: r
blocks:
  r:
    kind: ReturnValue
    values: { 1: '"token " + [tok]', 2: '[code]', 4: '[tok]' }
`;

function returnsLibrary(code: string): ScenarioLibrary {
  const loaded = loadScenarioText('scenarios/Returns.yaml', RETURNS, { registry: defaultRegistry, env: { [ENV]: TOKEN, [`${ENV}_CODE`]: code } });
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.issues));
  return { dir: 'scenarios', scenarios: new Map([['Returns', loaded.scenario]]), issues: [] };
}

const clock = fixedClock(new Date('2026-12-01T09:00:00Z'));

async function runReturns(code: string) {
  const r = await runScenario(returnsLibrary(code), 'Returns', { dryRun: true, ports: { clock, ids: randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) } } });
  assert.equal(r.status, 'completed', JSON.stringify(r.error));
  return r;
}

describe('a return value holding a secret', () => {
  it('is *** in the run result (return values, trace) and as set in the answer', async () => {
    const r = await runReturns('20468');
    assert.deepEqual(r.returnValues, { 1: 'token ***', 2: '***', 4: '***' });
    assert.deepEqual(r.trace[0]!.changed, { 'Return value 1': 'token ***', 'Return value 2': '***', 'Return value 4': '***' });
    const whole = JSON.stringify(r);
    assert.ok(!whole.includes(TOKEN) && !whole.includes('20468'), whole);
    assert.ok(!JSON.stringify(structuredClone(r)).includes(TOKEN), 'a copy for another thread leaves the answer out');
    // The answer: the values as set, also from a copy made by spreading the result.
    assert.deepEqual(answerValues(r), { 1: `token ${TOKEN}`, 2: 20468, 4: TOKEN });
    const copy = { ...r, trace: [] };
    assert.deepEqual(answerValues(copy), answerValues(r));
  });

  it('makes the hook response from the values as set; a status refused is named masked', async () => {
    const map = { body: 1, status: 2, contentType: 3 };
    assert.deepEqual(hookResponse(await runReturns('201'), map, 'UTC'), { status: 201, contentType: 'text/plain; charset=utf-8', body: `token ${TOKEN}` });
    // 20468 is no HTTP status: the answer is a 500 whose reason (also logged) does not quote the secret number.
    const refused = hookResponse(await runReturns('20468'), map, 'UTC');
    assert.equal(refused.status, 500);
    assert.match(refused.problem!, /set return value 2 to "\*\*\*", not an HTTP status/);
    assert.ok(!refused.body.includes('20468'), refused.body);
  });

  it("is *** in the console's dry run", async () => {
    const r = await performDryRun(returnsLibrary('20468'), 'Returns', {}, { clock, ids: randomIds }, 'UTC');
    assert.deepEqual(r.returnValues, { 1: 'token ***', 2: '***', 4: '***' });
  });

  it('run --dry-run prints it masked, as text and as --json', () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'Returns.yaml'), RETURNS);
      const env = { [ENV]: TOKEN, [`${ENV}_CODE`]: '20468' };
      const text = runCli(['run', 'Returns', '--scenarios', tmp.dir, '--dry-run'], { env });
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /return values 1="token \*\*\*" 2="\*\*\*" 4="\*\*\*"/);
      assert.ok(!/OKAPI|20468/.test(text.stdout + text.stderr), text.stdout);
      const json = runCli(['run', 'Returns', '--scenarios', tmp.dir, '--dry-run', '--json'], { env });
      assert.equal(json.code, 0, json.stderr);
      assert.deepEqual((JSON.parse(json.stdout) as { returnValues: unknown }).returnValues, { 1: 'token ***', 2: '***', 4: '***' });
      assert.ok(!/OKAPI|20468/.test(json.stdout), json.stdout);
    } finally {
      tmp.cleanup();
    }
  });

  it('is answered in clear by the hook and the Web-API, and kept masked in the store, the console and the log', { timeout: 60_000 }, async () => {
    // The scenarios read their env: variables from the server's environment: the one startServer is given.
    const log = capturingLogger();
    const t = await startTestServer({ smtp: false, logger: log.logger, extraScenarios: { 'HTTP404.yaml': RETURNS, 'Returns.yaml': RETURNS }, env: { [ENV]: TOKEN, [`${ENV}_CODE`]: '200' } });
    try {
      const hook = await fetch(`${t.server.url}/secret-answer`, { headers: { authorization: AUTH } });
      assert.equal(hook.status, 200);
      assert.equal(await hook.text(), `token ${TOKEN}`);
      const hookRun = hook.headers.get('x-oktell-run-id')!;

      const plain = await fetch(`${t.server.url}/execsvcscriptplain?name=Returns`, { headers: { authorization: AUTH } });
      assert.equal(await plain.text(), `token ${TOKEN}`);
      const xml = await fetch(`${t.server.url}/execsvcscript?name=Returns`, { headers: { authorization: AUTH } });
      assert.match(await xml.text(), new RegExp(`<!\\[CDATA\\[token ${TOKEN}\\]\\]>`));
      const webApiRun = plain.headers.get('x-oktell-run-id')!;

      for (const id of [hookRun, webApiRun]) {
        const stored = await waitFor(`the record of run ${id}`, () => t.server.store.getRun(id));
        // 200 is shorter than a masked value (4 characters): a status, not taken for the secret.
        assert.deepEqual(stored.returnValues, { 1: 'token ***', 2: 200, 4: '***' });
        assert.ok(!JSON.stringify(stored).includes(TOKEN), JSON.stringify(stored));
        const page = await (await fetch(`${t.server.url}/-/console/runs/${id}`, { headers: { authorization: AUTH } })).text();
        assert.match(page, /token \*\*\*/);
        assert.ok(!page.includes(TOKEN), `the console page of run ${id} shows no token`);
      }
      assert.ok(!JSON.stringify(log.lines).includes(TOKEN), 'the log holds no token');
    } finally {
      await t.cleanup();
    }
  });
});
