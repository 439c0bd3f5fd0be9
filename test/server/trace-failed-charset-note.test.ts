// Under OKTELL_TRACE=failed a completed hook run's first step is the marker (trace-setting.ts), and the hook's note of a
// body in an unknown charset (hook.ts withCharsetNote) lands on it. The readers skip the marker as a step, so the note
// was stored but shown nowhere: the console's run page and `show` now print it with the words of the marker.
// Real server, real HTTP, the real CLI.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../cli/cli-process.js';
import { AUTH, startTestServer, type TestServer } from './server-helpers.js';

const ECHO_HOOK = `start: r
blocks:
  r:
    kind: ReturnValue
    values: { 1: 'InputParameter(4)', 2: 200 }
`;

const NOTE = 'the request\'s body declares charset "x-unknown-cs", which the server does not know: input parameter 4 is the body decoded as UTF-8 (the inbox keeps the bytes as sent)';

describe('OKTELL_TRACE=failed: the note of a body in an unknown charset is still shown', { timeout: 60_000 }, () => {
  let t: TestServer;
  let runId: string;
  before(async () => {
    t = await startTestServer({ smtp: false, extraScenarios: { 'HTTP404.yaml': ECHO_HOOK }, env: { SMTP_URL: '', OKTELL_TRACE: 'failed' } });
    const res = await fetch(`${t.server.url}/crm/lead`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'application/json; charset=x-unknown-cs' }, body: Buffer.from([0xcf, 0xf0]) });
    assert.equal(res.status, 200);
    runId = res.headers.get('x-oktell-run-id')!;
  });
  after(() => t.cleanup());

  it('the console run page shows it beside "trace not kept"', async () => {
    const html = await (await fetch(`${t.server.url}/-/console/runs/${runId}`, { headers: { authorization: AUTH } })).text();
    assert.match(html, /trace not kept \(OKTELL_TRACE=failed\)/);
    assert.ok(html.includes(NOTE.replace(/'/g, '&#39;').replace(/"/g, '&quot;')), 'the charset note is on the page');
  });

  it('show prints it', () => {
    const shown = runCli(['show', runId, '--data-dir', t.dataDir]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /trace not kept \(OKTELL_TRACE=failed\)/);
    assert.ok(shown.stdout.includes(`note ${NOTE}`), shown.stdout);
  });
});
