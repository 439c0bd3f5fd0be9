// What review s25 found in the answers and records of the hook and the Web-API, each kept fixed: browser navigations
// from other programs refused (S19), scenario HTML sandboxed (S18), no 1xx final answers (S6), credential headers
// redacted where stored, not from the hook scenario (S4, F4), refused logins logged without a password or terminal
// escapes (S3, S11), a bounded charset cache (S13), one dedup scope for the secret of every path (S10), a budget for
// bodies held at once (S7).
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { signBpiumBody } from '../../adapters/bpium/signature.js';
import { budgetFor } from '../../server/body-budget.js';
import { ConfigError, loadServerConfig } from '../../server/config.js';
import { cachedDecoders, DECODER_CACHE_LIMIT, decodeBody } from '../../server/hook-request.js';
import { chromiumMissing, consoleContext, useConsoleBrowser } from '../console/console-helpers.js';
import { AUTH, USER, capturingLogger, postWebhook, startTestServer, taskWebhook, type TestServer } from './server-helpers.js';
import { startCli } from '../cli/cli.helper.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { join } from 'node:path';

/** A hook scenario that answers an HTML page with the address in it (unescaped) and the status the body names. */
const HTML_ECHO = `variables: { address: string, body: string }
start: s
blocks:
  s:
    kind: Variable
    set:
      address: InputParameter(1)
      body: InputParameter(4)
    exits: { next: r }
  r:
    kind: ReturnValue
    values: { 1: '"<html><head><title>echo</title></head><body><h1>Hello " + UrlDecode([address]) + "</h1></body></html>"', 2: '[body]', 3: '"text/html"' }
`;

const ECHO = `variables: { a: string }
start: s
blocks:
  s:
    kind: InputParameter
    params: { a: 1 }
    exits: { next: r }
  r:
    kind: ReturnValue
    values: { 1: '"echo " + [a]' }
`;

describe('scenario answers in a browser and on the wire', () => {
  const log = capturingLogger();
  // The server for every test here; Chromium (and a fresh logged-in context per browser test) when it is installed.
  const s = useConsoleBrowser({ scenarios: { 'HTTP404.yaml': HTML_ECHO, 'Echo.yaml': ECHO }, logger: log.logger, serverWithoutBrowser: true });

  it('hook and Web-API answers carry a sandboxing CSP, nosniff and no framing (S18)', async () => {
    for (const path of ['/hi', '/execsvcscriptplain?name=Echo&startparam1=x', '/execsvcscript?name=Echo']) {
      const res = await fetch(`${s.t.server.url}${path}`, { headers: { authorization: AUTH } });
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('content-security-policy'), "sandbox; default-src 'none'; frame-ancestors 'none'", path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
    }
    const html = await fetch(`${s.t.server.url}/hi`, { headers: { authorization: AUTH } });
    assert.match(html.headers.get('content-type')!, /^text\/html/, 'the scenario still chooses its content type');
    assert.match(await html.text(), /<h1>Hello \/hi<\/h1>/);
  });

  it('HTML a scenario returns with request data runs no script on the console\'s origin (S18, Chromium)', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const context = await consoleContext(s.browser);
    try {
      const page = await context.newPage();
      await page.goto(`${s.t.server.url}/-/console/runs`);
      const payload = `<script>document.title = 'stolen ' + document.cookie</script>`;
      // A same-origin navigation (a link on one of the server's pages), which the hook serves.
      const answered = page.waitForResponse((r) => r.url().includes('/hi'));
      await page.evaluate(`location.href = ${JSON.stringify(`/hi?n=${encodeURIComponent(payload)}`)}`);
      const res = await answered;
      assert.equal(res.status(), 200);
      await page.waitForURL(/\/hi\?n=/);
      await page.waitForLoadState('load');
      assert.equal(await page.locator('h1').count(), 1, 'the page is shown');
      assert.equal(await page.title(), 'echo', 'its injected script never ran');
    } finally {
      await context.close();
    }
  });

  it('a link opened from a mail client (Sec-Fetch-Site: none) runs nothing, with the console\'s login cached (S19, Chromium)', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const before = (await s.t.server.store.listRuns({ scenario: 'Echo', limit: 1000 })).items.length;
    const context = await consoleContext(s.browser);
    try {
      const page = await context.newPage();
      await page.goto(`${s.t.server.url}/-/console/runs`);
      const res = (await page.goto(`${s.t.server.url}/execsvcscriptplain?name=Echo&startparam1=via-link`))!;
      assert.equal((await res.request().allHeaders())['sec-fetch-site'], 'none');
      assert.equal(res.status(), 403);
      assert.match(await res.text(), /Sec-Fetch-Site is "none"/);
      const hook = (await page.goto(`${s.t.server.url}/hi?via=link`))!;
      assert.equal(hook.status(), 403);
    } finally {
      await context.close();
    }
    assert.equal((await s.t.server.store.listRuns({ scenario: 'Echo', limit: 1000 })).items.length, before, 'no run');
    // A program (no Sec-Fetch headers) still calls it.
    assert.equal(await (await fetch(`${s.t.server.url}/execsvcscriptplain?name=Echo&startparam1=curl`, { headers: { authorization: AUTH } })).text(), 'echo curl');
  });

  it('a scenario status of 100 or 101 becomes a 500 that says why, and is logged (S6)', async () => {
    for (const status of ['100', '101', '199']) {
      const res = await fetch(`${s.t.server.url}/s`, { method: 'POST', body: status, headers: { authorization: AUTH } });
      assert.equal(res.status, 500, status);
      assert.match(await res.text(), new RegExp(`set return value 2 to "${status}", not an HTTP status for an answer \\(200–599\\)`));
    }
    assert.equal((await fetch(`${s.t.server.url}/s`, { method: 'POST', body: '201', headers: { authorization: AUTH } })).status, 201);
    assert.ok(log.lines.some((l) => l.level === 'warn' && /^hook answer replaced by 500: scenario HTTP404 set return value 2 to "101"/.test(l.msg ?? '')));
  });
});

describe('a literal status no answer may have', () => {
  it('is named at start with its place in the file, and answered 500 (S6)', async () => {
    const log = capturingLogger();
    const hook = `start: r\nblocks:\n  r:\n    kind: ReturnValue\n    values: { 1: '"switching"', 2: 101 }\n`;
    const t = await startTestServer({ smtp: false, logger: log.logger, extraScenarios: { 'HTTP404.yaml': hook }, env: { SMTP_URL: '' } });
    try {
      const warning = t.server.warnings.find((w) => w.includes('sets return value 2'));
      assert.ok(warning, t.server.warnings.join('\n'));
      assert.match(warning, /HTTP404\.yaml:5:\d+: block r of the hook scenario HTTP404 sets return value 2 \(the answer's status\) to 101; an answer's status must be 200–599/);
      assert.ok(log.lines.some((l) => l.level === 'warn' && l.msg === warning), 'and logged');
      const res = await fetch(`${t.server.url}/any`, { headers: { authorization: AUTH } });
      assert.equal(res.status, 500);
    } finally {
      await t.cleanup();
    }
  });
});

/** The sender's key, checked by the hook scenario itself: the server knows nothing of X-Api-Key. */
const SENDER_KEY = 'K3y-of-the-1C-sender-7731';

/** A hook that serves only a request with the right X-Api-Key, and says whether it saw the Authorization value (sent as `authorization` by postWebhook). */
const KEY_CHECK = `variables: { headers: string }
start: s
blocks:
  s:
    kind: Variable
    set: { headers: InputParameter(2) }
    exits: { next: check }
  check:
    kind: Condition
    left: '[headers]'
    operator: contains
    right: '"X-Api-Key: ${SENDER_KEY}"'
    exits: { true: ok, false: refuse }
  ok:
    kind: ReturnValue
    values: { 1: '"welcome; Authorization " + If(Contains([headers], "authorization: [redacted]"), "hidden", "seen")', 2: 200 }
  refuse:
    kind: ReturnValue
    values: { 1: '"wrong key"', 2: 403 }
`;

describe('a hook that checks a token header of its own (F4)', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ smtp: false, extraScenarios: { 'HTTP404.yaml': KEY_CHECK }, env: { SMTP_URL: '' } });
  });
  after(async () => t?.cleanup());

  const send = (key: string) =>
    postWebhook(t.server.url, '{}', undefined, '/from-1c', AUTH, { 'X-Api-Key': key, 'X-Auth-Token': 'Tok2-of-the-sender', 'Idempotency-Key': 'order-5521', 'X-Request-Id': 'keep-me' });

  it('parameter 2 has the X-Api-Key value: the right key is served, a wrong one refused; Authorization stays hidden', async () => {
    const ok = await send(SENDER_KEY);
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'welcome; Authorization hidden');
    const wrong = await send('some-other-key-0000');
    assert.equal(wrong.status, 403);
    assert.equal(await wrong.text(), 'wrong key');
  });

  it('the inbox, the stored run (parameters and trace) and show have the credential headers as [redacted]', { timeout: 30_000 }, async () => {
    const res = await send(SENDER_KEY);
    assert.equal(res.status, 200);
    const runId = res.headers.get('x-oktell-run-id')!;
    const run = (await t.server.store.getRun(runId))!;
    const headers = String((run.params as Record<string, unknown>)['2']);
    assert.match(headers, /x-api-key: \[redacted\]/i);
    assert.match(headers, /x-auth-token: \[redacted\]/i);
    assert.match(headers, /authorization: \[redacted\]/i);
    assert.match(headers, /idempotency-key: order-5521/i, 'a retry key is no credential');
    assert.match(headers, /x-request-id: keep-me/i);
    const record = JSON.stringify(run);
    for (const secret of [SENDER_KEY, 'Tok2-of-the-sender']) assert.ok(!record.includes(secret), `${secret} is in the run record: ${record}`);
    const trace = run.trace as Array<{ changed?: Record<string, unknown>; notes?: string[] }>;
    assert.ok(trace.some((s) => String(s.changed?.headers ?? '').includes('X-Api-Key: [redacted]')), 'the variable set from parameter 2 is recorded redacted');
    assert.ok(trace.some((s) => s.notes?.some((n) => n.includes('X-Api-Key: [redacted]'))), 'and so is the key the Condition compared with');
    const inbox = (await t.server.store.getInboxEntry(run.inboxId!))!;
    assert.ok(!inbox.headers.includes(SENDER_KEY) && !inbox.headers.includes('Tok2-of-the-sender'), inbox.headers);
    assert.match(inbox.headers, /x-api-key: \[redacted\]/i);
    assert.match(inbox.headers, /idempotency-key: order-5521/i);
    const shown = startCli(['show', runId, '--data-dir', t.dataDir]);
    const { code } = await shown.exited;
    assert.equal(code, 0, shown.stderr());
    assert.match(shown.stdout(), /\[redacted\]/);
    assert.ok(!shown.stdout().includes(SENDER_KEY), shown.stdout());
  });
});

describe('records and logs of requests', () => {
  let t: TestServer;
  const log = capturingLogger();
  const SECRET = 'HookSecret7';
  before(async () => {
    // One login fills the budget of all connections in S7: its share is the whole budget.
    t = await startTestServer({ smtp: false, logger: log.logger, env: { SMTP_URL: '', BPIUM_WEBHOOK_SECRET: SECRET, OKTELL_BODY_LIMIT: '1mb', OKTELL_BODY_BUDGET: '2mb', OKTELL_BODY_BUDGET_PER_LOGIN: '2mb' } });
  });
  after(async () => t?.cleanup());

  it('start-up warns when no user has rights and a route is signed: the webhook login is also an administrator (S17)', () => {
    const w = log.lines.find((l) => l.level === 'warn' && /have every right/.test(l.msg ?? ''));
    assert.ok(w, 'warned');
    assert.deepEqual(w.obj.users, [USER.login]);
    assert.match(w.msg!, /a webhook sender's login should have only hook.*bpium\[hook\]:PASSWORD/);
  });

  it('a refused login is logged by name only when it is a configured login, with no control characters (S3, S11)', async () => {
    const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;
    const send = (authorization: string) => fetch(`${t.server.url}/x`, { headers: { authorization } });
    await send(basic('TypedPassword9:'));
    await send(basic(`${USER.login}:wrong`));
    await send(basic('\x1b]0;PWNED\x07\x1b[2J:x'));
    const refused = log.lines.filter((l) => l.msg === 'login refused');
    assert.equal(refused.length, 3);
    assert.ok(!JSON.stringify(log.lines).includes('TypedPassword9'), 'a password typed as the login is never logged');
    assert.equal(refused[0]!.obj.login, '(unknown, 14 chars)');
    assert.equal(refused[1]!.obj.login, USER.login);
    assert.equal(refused[2]!.obj.login, '(unknown, 14 chars)');
    assert.ok(!/[\x00-\x1f\x7f-\x9f]/.test(JSON.stringify(refused.map((l) => l.obj)).replace(/\\u00[0-9a-f]{2}/g, '?')) && !refused.some((l) => /[\x00-\x1f]/.test(String(l.obj.login))));
  });

  it('with the secret of every path, a signed delivery resent to another spelling of the path is a duplicate (S10)', async () => {
    const body = taskWebhook({ name: 'Один раз', responsible: ['2'], sequenceId: 9100 });
    const sig = signBpiumBody(SECRET, body);
    const first = await postWebhook(t.server.url, body, SECRET);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('x-oktell-duplicate-of'), null);
    for (const path of ['/Bpium/NewTask', '/Bpium/NewTask/', '/x/Bpium/NewTask', '/bpium/newtask']) {
      const again = await fetch(`${t.server.url}${path}`, { method: 'POST', body, headers: { authorization: AUTH, 'x-hook-signature': sig, 'content-type': 'application/json' } });
      assert.equal(again.status, 200, path);
      assert.ok(again.headers.get('x-oktell-duplicate-of'), `${path}: a duplicate`);
    }
    assert.equal((await t.server.store.listJobs({ scenario: 'BpiumNewTask', limit: 100 })).items.length, 1, 'one job for one delivery');
  });

  it('a delivery stored under the old key (request path) before the upgrade is still a duplicate on that path (S10)', async () => {
    const body = taskWebhook({ name: 'До обновления', responsible: ['2'], sequenceId: 9200 });
    // What a build before the * keys left in the store: the delivery's key names the request path.
    const old = await startTestServer({
      smtp: false,
      env: { SMTP_URL: '', BPIUM_WEBHOOK_SECRET: SECRET },
      before: async (dataDir) => {
        const store = await openSqliteStore({ file: join(dataDir, 'oktell.sqlite') });
        await store.recordRequest({
          inbox: { receivedAt: Date.now(), method: 'POST', path: '/Bpium/NewTask', headers: '', body: Buffer.from(body), signature: 'valid', dedupKey: 'bpium:1:9200@/Bpium/NewTask', response: { status: 200, body: '' } },
        });
        await store.close();
      },
    });
    try {
      const again = await postWebhook(old.server.url, body, SECRET);
      assert.equal(again.status, 200);
      assert.ok(again.headers.get('x-oktell-duplicate-of'), 'answered as the stored delivery');
      // Answered from the store: HTTP404 did not run, and the original (stored by hand) has no run to name.
      assert.equal(again.headers.get('x-oktell-run-id'), null);
      assert.equal((await old.server.store.listRuns({ scenario: 'HTTP404' })).items.length, 0);
    } finally {
      await old.cleanup();
    }
  });

  it('a store with no key naming a path is not searched for old keys: a new store answers from the * key alone', async () => {
    assert.equal(t.server.store.hasPathDeliveryKeys ? await t.server.store.hasPathDeliveryKeys() : undefined, false, 'this server wrote only * keys');
    // A key naming the path, written after the start (which no server of this build writes under the secret of
    // every path), is not looked for: the start found none, and this server is the store's only writer.
    const body = taskWebhook({ name: 'Только новые ключи', responsible: ['2'], sequenceId: 9300 });
    await t.server.store.recordRequest({
      inbox: { receivedAt: Date.now(), method: 'POST', path: '/Bpium/NewTask', headers: '', body: Buffer.from(body), signature: 'valid', dedupKey: 'bpium:1:9300@/Bpium/NewTask', response: { status: 200, body: '' } },
    });
    const res = await postWebhook(t.server.url, body, SECRET);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-oktell-duplicate-of'), null, 'no look-up under the old key');
  });

  it('bodies held at once past OKTELL_BODY_BUDGET get 503 with Retry-After; the budget is given back (S7)', { timeout: 30_000 }, async () => {
    const { port } = new URL(t.server.url);
    const budget = budgetFor(t.server.config);
    const stalled: Socket[] = [];
    const chunk = 'x'.repeat(800_000);
    for (let i = 0; i < 2; i++) {
      const s = connect(Number(port), '127.0.0.1');
      s.on('error', () => {});
      s.write(`POST /nothing HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nContent-Type: text/plain\r\nContent-Length: 900000\r\n\r\n${chunk}`);
      stalled.push(s);
    }
    const deadline = Date.now() + 10_000;
    while (budget.inUse < 1_600_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(budget.inUse >= 1_600_000, `two bodies held (${budget.inUse})`);
    const third = await fetch(`${t.server.url}/nothing`, { method: 'POST', body: 'y'.repeat(600_000), headers: { authorization: AUTH } });
    assert.equal(third.status, 503);
    assert.equal(third.headers.get('retry-after'), '5');
    assert.match(await third.text(), /OKTELL_BODY_BUDGET/);
    const form = await fetch(`${t.server.url}/execsvcscriptplain`, { method: 'POST', body: `name=HTTP404&startparam1=${'z'.repeat(600_000)}`, headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(form.status, 503, 'the Web-API form counts too');
    // In the Web-API's answer: the reason alone, to the byte, and the start result -1.
    assert.deepEqual([await form.text(), form.headers.get('x-oktell-start-result')], ['the server is receiving too many request bodies at once (OKTELL_BODY_BUDGET); retry later', '-1']);
    for (const s of stalled) s.destroy();
    while (budget.inUse > 0 && Date.now() < deadline + 10_000) await new Promise((r) => setTimeout(r, 20));
    assert.equal(budget.inUse, 0, 'given back when the connections close');
    const again = await postWebhook(t.server.url, 'y'.repeat(600_000), SECRET, '/nothing');
    assert.equal(again.status, 404, `served again: ${await again.text()}`);
  });

  it('OKTELL_BODY_BUDGET below the body limit is a configuration error', () => {
    assert.throws(() => loadServerConfig({}, { OKTELL_BODY_LIMIT: '5mb', OKTELL_BODY_BUDGET: '1mb' }, '/nonexistent'), (e: unknown) => e instanceof ConfigError && /OKTELL_BODY_BUDGET \(1048576 bytes\) is below the body limit/.test(e.message));
    assert.equal(loadServerConfig({}, { OKTELL_BODY_BUDGET: '100mb' }, '/nonexistent').bodyBudgetBytes, 100 * 1024 * 1024);
  });
});

describe('charset decoders', () => {
  it('the cache of decoders stays bounded however many distinct labels clients send (S13)', () => {
    for (let i = 0; i < DECODER_CACHE_LIMIT + 500; i++) assert.equal(decodeBody(Buffer.from('ok'), `text/plain; charset=x-label-${i}`), 'ok');
    assert.ok(decodeBody(Buffer.from('ok'), `text/plain; charset=${'y'.repeat(10_000)}`) === 'ok');
    assert.ok(cachedDecoders() <= DECODER_CACHE_LIMIT, `${cachedDecoders()} cached`);
    assert.equal(decodeBody(Buffer.from([0xcf, 0xf0, 0xe8]), 'text/plain; charset=windows-1251'), 'При', 'past the bound, labels still decode');
  });
});
