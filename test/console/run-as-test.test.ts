// The console's run page offers the run as a test file: the download, dropped into the tests folder, passes
// through `oktell-emu test`; it needs the console's credentials and holds none.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoPath } from '../helpers.js';
import { get, postWebhook, startConsoleServer, taskWebhook, waitFor } from './console-helpers.js';

describe('console: a run as a test file', () => {
  let t: Awaited<ReturnType<typeof startConsoleServer>>;
  let hookRunId: string;
  before(async () => {
    t = await startConsoleServer();
    const res = await postWebhook(t.server.url, taskWebhook({ name: 'Из консоли', responsible: ['2'] }), t.secret);
    assert.equal(res.status, 200);
    hookRunId = res.headers.get('x-oktell-run-id')!;
    await waitFor('the child run', async () => (await t.server.store.listRuns({ scenario: 'BpiumNewTask' })).items.find((r) => r.status !== 'running'));
  });
  after(() => t.cleanup());

  it('the run page links to the download, which passes as a test', async () => {
    const page = await (await get(`${t.base}/runs/${hookRunId}`)).text();
    assert.match(page, new RegExp(`href="/-/console/runs/${hookRunId}/test\\.yaml" download id="as-test"`));
    const res = await get(`${t.base}/runs/${hookRunId}/test.yaml`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/yaml/);
    assert.match(res.headers.get('content-disposition') ?? '', new RegExp(`attachment; filename="?HTTP404-${hookRunId}\\.test\\.yaml`));
    const text = await res.text();
    assert.match(text, /subject: "?Новая задача: Из консоли/);
    // The webhook body, inline, exactly as received (one line), not re-spaced.
    assert.match(text, /\n {6}4: '\{"timestamp":"\d+","hook":\{/);
    assert.doesNotMatch(text, /indented for reading/);
    // The case is named with the start time the page shows (the server's zone), not UTC.
    const started = /<span>started (\d{4}-\d\d-\d\d \d\d:\d\d):\d\d <span class="zone">[^<]+<\/span><\/span>/.exec(page)?.[1];
    assert.ok(started, 'the run page shows its start');
    assert.match(text, new RegExp(`run ${hookRunId} \\(HTTP404, ${started}\\)`));
    assert.doesNotMatch(text, /authorization|basic |x-hook-signature|\[redacted\]/i, 'no credentials in the file');
    writeFileSync(join(t.scenariosDir, 'tests', 'downloaded.test.yaml'), text);
    // Run without blocking this process: a blocked event loop lets the client's kept-alive socket outlive the server's
    // keep-alive time unnoticed, and the next fetch in this file would be sent on a socket the server has closed.
    const r = await promisify(execFile)(process.execPath, [repoPath('bin', 'oktell-emu.js'), 'test', 'tests/downloaded.test.yaml'], { cwd: t.scenariosDir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    assert.match(r.stdout, /^1 passed, 0 failed$/m, r.stdout + r.stderr);
  });

  it('needs the console credentials, and answers 404 for an unknown run', async () => {
    assert.equal((await get(`${t.base}/runs/${hookRunId}/test.yaml`, {})).status, 401);
    assert.equal((await get(`${t.base}/runs/01m8rzwhgad89ba7a5esk8v6zz/test.yaml`)).status, 404);
  });
});
