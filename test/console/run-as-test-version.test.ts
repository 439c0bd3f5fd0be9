// The console's "Download as a test" says, as `oktell-emu test --from-run` does, when the scenario the server has
// loaded is not at the version the run used: the case's expectation is of the version that ran, so it likely fails.
// Over HTTP: a run, then a second server on the same data folder with the scenario edited.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { scenarioVersion } from '../../engine/index.js';
import { echoScenario, startTestServer, type TestServer } from '../server/server-helpers.js';
import { AUTH, get } from './console-helpers.js';

describe('console: a run as a test file, scenario edited since the run', () => {
  let t: TestServer;
  let runId: string;
  let ranVersion: string;
  const file = () => join(t.scenariosDir, 'Echo.yaml');
  before(async () => {
    t = await startTestServer({ smtp: false, extraScenarios: { 'Echo.yaml': echoScenario() } });
    const res = await fetch(`${t.server.url}/execsvcscript?name=Echo&1=a&2=b`, { headers: { authorization: AUTH } });
    assert.equal(res.status, 200, await res.text());
    runId = res.headers.get('x-oktell-run-id')!;
    ranVersion = scenarioVersion(readFileSync(file(), 'utf8'));
  });
  after(() => t.cleanup());

  it('unchanged: neither the file nor the run page warns', async () => {
    const base = `${t.server.url}/-/console`;
    const text = await (await get(`${base}/runs/${runId}/test.yaml`)).text();
    assert.match(text, /Recorded from run/);
    assert.doesNotMatch(text, /WARNING|at version/);
    const page = await (await get(`${base}/runs/${runId}`)).text();
    assert.match(page, /id="as-test"/);
    assert.doesNotMatch(page, /as-test-warning/);
  });

  it('edited, on a second server of the same data: the file starts with the warning, and the run page shows it', async () => {
    await t.server.close(2000);
    const edited = `${echoScenario()}# edited after the run\n`;
    writeFileSync(file(), edited);
    const second = await t.restart();
    try {
      const base = `${second.url}/-/console`;
      const res = await get(`${base}/runs/${runId}/test.yaml`);
      assert.equal(res.status, 200);
      const text = await res.text();
      const warning = `run ${runId} ran Echo at version ${ranVersion}, but Echo.yaml is version ${scenarioVersion(edited)}: the case tests the scenario of the server's scenarios folder as loaded now, not the one that ran (edited since the run: review the expectation against the scenario as it is now, or record a new run)`;
      // A comment at the top of the file, before `description:` and the case.
      const top = text.slice(0, text.indexOf('description:'));
      assert.ok(top.includes(`# WARNING: ${warning}`), text);
      const page = await (await get(`${base}/runs/${runId}`)).text();
      assert.match(page, /class="warn-text as-test-warning">The test file will warn: run \S+ ran Echo at version [0-9a-f]{12}, but Echo\.yaml is version [0-9a-f]{12}/);
      assert.ok(page.indexOf('as-test-warning') > page.indexOf('id="as-test"'), 'next to the link');
    } finally {
      await second.close(2000);
    }
  });
});
