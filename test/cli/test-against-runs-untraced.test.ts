// `test --against-runs` on the runs of a server with OKTELL_TRACE=failed: its completed runs are stored without their
// steps, so none can be replayed. Each is listed as not replayable, saying so in words of a replay (not from-run's
// "no test can be made ... make the test from that run"), naming the setting; nothing compared, exit 2. Real server,
// real HTTP, the real CLI.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from './cli-process.js';
import { postWebhook, startTestServer, taskWebhook, waitFor, type TestServer } from '../server/server-helpers.js';

describe('test --against-runs on runs stored without their trace', { timeout: 120_000 }, () => {
  let t: TestServer;
  let hook: string;
  before(async () => {
    t = await startTestServer({ env: { OKTELL_TRACE: 'failed' } });
    const res = await postWebhook(t.server.url, taskWebhook({ name: 'Без трассы', responsible: ['2'] }), t.secret);
    assert.equal(res.status, 200);
    hook = res.headers.get('x-oktell-run-id')!;
    await waitFor('the started job to succeed', async () => ((await t.server.store.listJobs({ status: 'succeeded' })).items.length === 1 ? true : undefined), 20_000);
  });
  after(() => t.cleanup());

  it('lists each run as not replayable because of the setting, in words of a replay; exit 2', () => {
    const r = runCli(['test', '--against-runs', '--scenario', 'HTTP404', '--scenarios', t.scenariosDir, '--data-dir', t.dataDir], { SMTP_URL: `smtp://127.0.0.1:${t.smtp!.port}` });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^- ${hook} HTTP404 \\(.*\\): not replayable: run ${hook} was stored without its trace \\(OKTELL_TRACE=failed: a completed run keeps no steps\\), so it cannot be replayed: the steps give the replay its path and the answers its Bpium reads got\\. Runs the server records with OKTELL_TRACE=all \\(the default\\) can be\\.$`, 'm'));
    assert.doesNotMatch(r.stdout, /make the test from that run|no test can be made/);
    assert.match(r.stdout, /1 recorded run\(s\) against .*: 0 same, 0 differ, 1 not replayable\n$/);
  });
});
