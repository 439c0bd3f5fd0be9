// The console's "Download as a test" and `oktell-emu test --from-run` make one case of a run (one code path): a
// non-secret variable the scenario takes from the environment is pinned under `variables:` as the server read it,
// so the downloaded case passes where that variable is not set; a secret one and one named like a credential are
// never written, only named in the comment above the case. A real server over HTTP, the download run by the real
// binary, and the binary's --from-run of the same run compared with it.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { runCliAsync } from '../cli/cli.helper.js';
import { get, runPageOf, startConsoleServer } from './console-helpers.js';

const URL_ENV = 'OKTELL_TEST_CONSOLE_RECEIVER_URL';
const TOKEN_ENV = 'OKTELL_TEST_CONSOLE_RECEIVER_TOKEN';
const KEY_ENV = 'OKTELL_TEST_CONSOLE_CRM_KEY';
const URL = 'http://receiver.example.ru/api';
const TOKEN = 's3cr3t-receiver-token';
const KEY = 'crm-key-0f1e2d';
const ENV = { [URL_ENV]: URL, [TOKEN_ENV]: TOKEN, [KEY_ENV]: KEY };

const SWEEP = `variables:
  endpoint: { type: string, env: ${URL_ENV}, initial: "http://127.0.0.1:9/none", secret: false }
  token: { type: string, env: ${TOKEN_ENV} }
  crmApiKey: { type: string, env: ${KEY_ENV}, secret: false }
start: answer
blocks:
  answer:
    kind: ReturnValue
    values: { 1: '[endpoint]' }
`;

describe('console: a run as a test file pins what the server took from its environment', () => {
  let t: Awaited<ReturnType<typeof startConsoleServer>>;
  before(async () => {
    // The server reads its scenarios' variables from its own environment: the one it is started with.
    t = await startConsoleServer({ 'Sweep.yaml': SWEEP }, ENV);
  });
  after(async () => {
    await t?.cleanup();
  });

  it('pins the non-secret variable, names the others without their values, and equals the case --from-run writes', { timeout: 120_000 }, async () => {
    const { runId } = await runPageOf(t, 'Sweep');
    const res = await get(`${t.base}/runs/${runId}/test.yaml`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, new RegExp(`\\n {4}variables: \\{ endpoint: ${URL.replace(/[./]/g, '\\$&')} \\}\\n`));
    assert.ok(!text.includes(TOKEN) && !text.includes(KEY), `no secret value in the file:\n${text}`);
    assert.match(text, new RegExp(`# +Taken from outside the scenario, pinned under variables: as the server read them: endpoint \\(environment variable ${URL_ENV}\\)\\.`));
    assert.match(text, new RegExp(`# +Not written, as they may hold a secret .*: crmApiKey \\(environment variable ${KEY_ENV}\\)`));
    assert.match(text, new RegExp(`# +Secret, so not written: token \\(environment variable ${TOKEN_ENV}\\)`));
    // Sweep has no Bpium block: as --from-run, no empty fake Bpium and no "no Bpium call" to expect.
    assert.doesNotMatch(text, /bpium/i);

    // Run where none of the three is set (a CI job): the pinned address makes it pass.
    writeFileSync(join(t.scenariosDir, 'tests', 'downloaded.test.yaml'), text);
    const unset = ['OKTELL_SCENARIOS', 'OKTELL_DATA_DIR', ...Object.keys(ENV)];
    const ran = await runCliAsync(['test', 'tests/downloaded.test.yaml'], { cwd: t.scenariosDir, unset, timeoutMs: 60_000 });
    assert.match(ran.stdout, /^1 passed, 0 failed$/m, ran.stdout + ran.stderr);

    // The same run through --from-run, where the variables are set as on the server: the same case.
    const written = await runCliAsync(['test', '--from-run', runId, '--data-dir', t.dataDir, '--scenarios', t.scenariosDir], { cwd: dirname(t.dataDir), env: ENV, unset: ['OKTELL_SCENARIOS', 'OKTELL_DATA_DIR'], timeoutMs: 60_000 });
    assert.equal(written.code, 0, written.stdout + written.stderr);
    const fromCli = (parse(readFileSync(join(t.scenariosDir, 'tests', 'recorded.test.yaml'), 'utf8')) as { cases: unknown[] }).cases;
    const downloaded = (parse(text) as { cases: unknown[] }).cases;
    assert.equal(fromCli.length, 1);
    assert.deepEqual(downloaded, fromCli);
  });
});
