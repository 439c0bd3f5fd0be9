// A hook body declared in a charset the server does not know (`charset=x-unknown-cs`) is still run (the status is
// the scenario's, as in Oktell), decoded as UTF-8; the server logs a warning once for that label and the hook run's
// record says so on its first step. A known label (windows-1251) decodes with no word of it. The server's own routes
// refuse a form in an unknown charset with 415. Real server, real HTTP.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AUTH, capturingLogger, startTestServer, type TestServer } from './server-helpers.js';

const ECHO_HOOK = `start: r
blocks:
  r:
    kind: ReturnValue
    values: { 1: 'InputParameter(4)', 2: 200 }
`;

/** «Привет» in windows-1251. */
const PRIVET_1251 = Buffer.from([0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2]);

describe('a body in an unknown charset', { timeout: 60_000 }, () => {
  const log = capturingLogger();
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ smtp: false, logger: log.logger, extraScenarios: { 'HTTP404.yaml': ECHO_HOOK }, env: { SMTP_URL: '' } });
  });
  after(() => t.cleanup());

  const post = (path: string, contentType: string, body: Buffer) => fetch(`${t.server.url}${path}`, { method: 'POST', headers: { authorization: AUTH, 'content-type': contentType }, body });
  const warnings = () => log.lines.filter((l) => l.level === 'warn' && /unknown charset/.test(l.msg ?? ''));

  it('on the hook: answered by the scenario, decoded as UTF-8, warned once per label, noted in the run', async () => {
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await post('/crm/lead', 'application/json; charset=x-unknown-cs', PRIVET_1251));
    for (const res of answers) {
      assert.equal(res.status, 200);
      assert.equal(await res.text(), '\ufffd'.repeat(6));
    }
    assert.deepEqual(warnings().map((l) => [l.obj.charset, l.msg]), [['x-unknown-cs', 'hook body in an unknown charset "x-unknown-cs" decoded as UTF-8 (input parameter 4 may hold U+FFFD; the inbox keeps the bytes as sent); logged once for this label']]);
    const run = await t.server.store.getRun(answers[2]!.headers.get('x-oktell-run-id')!);
    assert.ok(run);
    const notes = (run.trace as Array<{ notes?: string[] }>)[0]!.notes ?? [];
    assert.ok(notes.includes('the request\'s body declares charset "x-unknown-cs", which the server does not know: input parameter 4 is the body decoded as UTF-8 (the inbox keeps the bytes as sent)'), JSON.stringify(run.trace));
    // Another unknown label is warned of too.
    assert.equal((await post('/crm/lead', 'text/plain; charset="x-other"', PRIVET_1251)).status, 200);
    assert.deepEqual(warnings().map((l) => l.obj.charset), ['x-unknown-cs', 'x-other']);
  });

  it('on the hook: a known label decodes, with no warning and no note', async () => {
    const before = warnings().length;
    const res = await post('/crm/lead', 'text/plain; charset=windows-1251', PRIVET_1251);
    assert.equal(await res.text(), 'Привет');
    assert.equal(warnings().length, before);
    const run = await t.server.store.getRun(res.headers.get('x-oktell-run-id')!);
    assert.equal(((run!.trace as Array<{ notes?: string[] }>)[0]!.notes ?? []).length, 0);
  });

  it('on the Web-API: a form in an unknown charset is refused with 415, as other bodies it does not take', async () => {
    const res = await post('/execsvcscriptplain?name=RecordNotification', 'application/x-www-form-urlencoded; charset=x-unknown-cs', Buffer.from('startparam1=x'));
    assert.equal(res.status, 415);
    assert.match(await res.text(), /unsupported charset "X-UNKNOWN-CS"/);
  });
});
