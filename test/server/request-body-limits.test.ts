// What trial s32 found in how the express routes read bodies, each kept fixed, against a real listening server:
// a compressed hook request charged the whole body limit to the body budget before a byte arrived (finding 1),
// Web-API query keys past the 1000th dropped silently (5), a form of 1000+ fields refused with the size message (6),
// and a Web-API body that is not a form read to its end and ignored (7). And the console's forms, once read outside
// the budget, now charged to it as the others are; and one login's share of the budget, so a login that stalls
// bodies cannot spend it all and starve the other senders.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { budgetFor } from '../../server/body-budget.js';
import { csrfToken } from '../console/console-helpers.js';
import { AUTH, capturingLogger, echoScenario, startTestServer, USER, type TestServer } from './server-helpers.js';

/** Sends `head` (and `body`) on a raw connection; resolves with everything the server wrote until it closed. */
function exchange(port: number, head: string, body: Buffer | string = '', waitMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`the server did not close the connection within ${waitMs} ms; got ${JSON.stringify(got.slice(0, 300))}`));
    }, waitMs);
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    s.write(head);
    if (body.length) s.write(body);
  });
}

const until = async (ok: () => boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
};

describe('bodies the express routes read (trial s32)', () => {
  let t: TestServer;
  let port: number;
  before(async () => {
    // One login fills the budget of all connections here: its share is the whole budget.
    t = await startTestServer({ smtp: false, env: { SMTP_URL: '', OKTELL_BODY_LIMIT: '1mb', OKTELL_BODY_BUDGET: '2mb', OKTELL_BODY_BUDGET_PER_LOGIN: '2mb' }, extraScenarios: { 'Echo.yaml': echoScenario() } });
    port = Number(new URL(t.server.url).port);
  });
  after(async () => t.cleanup());

  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${t.server.url}${path}`, { ...init, headers: { authorization: AUTH, ...(init.headers as Record<string, string>) } });
    return { status: res.status, text: await res.text(), headers: res.headers };
  };

  it('idle compressed hook requests hold nothing of the body budget: a real webhook is still served, and health and metrics show what is held (finding 1)', { timeout: 30_000 }, async () => {
    const budget = budgetFor(t.server.config);
    const idle: Socket[] = [];
    // Before: each of these took the whole body limit (1 MiB) as soon as its headers arrived, so two spent the budget.
    for (let i = 0; i < 6; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      s.write(`POST /idle HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nContent-Encoding: gzip\r\nContent-Length: 100\r\n\r\n`);
      idle.push(s);
    }
    // And one plain upload that sends 900 KB of its 1 MB and stalls.
    const stalled = connect(port, '127.0.0.1');
    stalled.on('error', () => {});
    stalled.write(`POST /stalled HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nContent-Type: text/plain\r\nContent-Length: 1000000\r\n\r\n${'s'.repeat(900_000)}`);
    await until(() => budget.inUse >= 900_000);
    await new Promise((r) => setTimeout(r, 200));
    try {
      assert.ok(budget.inUse >= 900_000 && budget.inUse < 1_000_000, `the stalled upload's bytes alone are held (${budget.inUse})`);
      const real = await call('/x', { method: 'POST', body: JSON.stringify({ hook: { id: '1' }, payload: 'r'.repeat(600) }) });
      assert.equal(real.status, 404, `a real webhook is served, not refused: ${real.text}`);
      const zipped = await call('/x', { method: 'POST', body: gzipSync('z'.repeat(300_000)), headers: { 'content-encoding': 'gzip' } });
      assert.equal(zipped.status, 404, `a compressed webhook too: ${zipped.text}`);
      const health = (await (await fetch(`${t.server.url}/-/health`)).json()) as Record<string, unknown>;
      assert.equal(health.status, 'ok');
      assert.equal(health.bodyBytesBudget, 2 * 1024 * 1024);
      assert.ok(typeof health.bodyBytesHeld === 'number' && health.bodyBytesHeld >= 900_000 && health.bodyBytesHeld < 1_000_000, `health: ${JSON.stringify(health)}`);
      const metrics = await call('/-/metrics');
      assert.match(metrics.text, /^oktell_body_budget_bytes 2097152$/m);
      assert.match(metrics.text, /^oktell_body_bytes_held (9\d{5})$/m);
    } finally {
      for (const s of [...idle, stalled]) s.destroy();
    }
    await until(() => budget.inUse === 0);
    assert.equal(budget.inUse, 0, 'given back when the connections close');
  });

  it('a compressed body is charged by its inflated bytes as they come: the budget still caps the bodies held at once, and a bomb still gets 413 (finding 1)', { timeout: 30_000 }, async () => {
    const budget = budgetFor(t.server.config);
    const refusedBefore = budget.refused;
    const stalled: Socket[] = [];
    for (let i = 0; i < 2; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      s.write(`POST /stalled HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nContent-Length: 1000000\r\n\r\n${'s'.repeat(800_000)}`);
      stalled.push(s);
    }
    await until(() => budget.inUse >= 1_600_000);
    try {
      // 1.6 MB held of 2 MiB: a compressed body of 600 KB inflated passes the budget as it inflates.
      const zipped = await call('/x', { method: 'POST', body: gzipSync('z'.repeat(600_000)), headers: { 'content-encoding': 'gzip' } });
      assert.equal(zipped.status, 503, zipped.text);
      assert.match(zipped.text, /OKTELL_BODY_BUDGET/);
      assert.equal(zipped.headers.get('retry-after'), '5');
      assert.ok(budget.inUse <= budget.limit, `never past the budget (${budget.inUse})`);
      const plain = await call('/x', { method: 'POST', body: 'p'.repeat(600_000) });
      assert.equal(plain.status, 503, 'a plain one on the hook route as well');
      assert.equal(budget.refused, refusedBefore + 2);
      assert.match((await call('/-/metrics')).text, new RegExp(`^oktell_body_budget_refused_total ${refusedBefore + 2}$`, 'm'));
    } finally {
      for (const s of stalled) s.destroy();
    }
    await until(() => budget.inUse === 0);
    const bomb = await call('/x', { method: 'POST', body: gzipSync(Buffer.alloc(20_000_000)), headers: { 'content-encoding': 'gzip' } });
    assert.equal(bomb.status, 413);
    assert.match(bomb.text, /the limit is 1048576 bytes/);
    await until(() => budget.inUse === 0);
    assert.equal(budget.inUse, 0);
  });

  it('a Web-API query of more than 1000 keys is read whole: a repeated name or a late startparam1 is not dropped (finding 5)', async () => {
    const many = Array.from({ length: 1200 }, (_, i) => `k${i}=1`).join('&');
    const repeated = await call(`/execsvcscriptplain?name=Echo&${many}&startparam1=LATE&name=Other`);
    assert.equal(repeated.status, 400, repeated.text);
    assert.match(repeated.text, /"name" parameter is given 2 times/);
    const late = await call(`/execsvcscriptplain?name=Echo&${many}&startparam1=LATE&startparam2=two`);
    assert.deepEqual([late.status, late.text], [200, 'LATE|two']);
  });

  it('a form of more than 1000 fields gets 413 saying so, not the size limit (finding 6)', async () => {
    const fields = (n: number) => `name=Echo&startparam1=ok&${Array.from({ length: n - 2 }, (_, i) => `k${i}=1`).join('&')}`;
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const over = await call('/execsvcscriptplain', { method: 'POST', body: fields(1001), headers: form });
    assert.equal(over.status, 413);
    // In the Web-API's answer, as its other refusals: the reason as the plain form's body, the start result -1.
    assert.equal(over.text, 'too many form fields (at most 1000)');
    assert.equal(over.headers.get('x-oktell-start-result'), '-1');
    const at = await call('/execsvcscriptplain', { method: 'POST', body: fields(1000), headers: form });
    assert.deepEqual([at.status, at.text], [200, 'ok|']);
  });

  it('a Web-API body it cannot read (413 too large, 400 not valid gzip, 415 an unknown coding) is refused in the Web-API\'s answer, not plain text', { timeout: 30_000 }, async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const cases: Array<[string, RequestInit, number, string]> = [
      ['too large', { method: 'POST', body: `name=Echo&startparam1=${'a'.repeat(1_100_000)}`, headers: form }, 413, 'the body is too large: the limit is 1048576 bytes (OKTELL_BODY_LIMIT)'],
      ['not gzip', { method: 'POST', body: 'name=Echo', headers: { ...form, 'content-encoding': 'gzip' } }, 400, 'the body is not valid gzip (Content-Encoding: gzip)'],
      ['unknown coding', { method: 'POST', body: 'name=Echo', headers: { ...form, 'content-encoding': 'zstd' } }, 415, 'unsupported content encoding "zstd"'],
    ];
    for (const [what, init, status, reason] of cases) {
      const xml = await call('/execsvcscript', init);
      assert.equal(xml.status, status, `${what}: ${xml.text.slice(0, 200)}`);
      assert.match(xml.headers.get('content-type') ?? '', /^application\/xml/, what);
      assert.equal(xml.headers.get('x-oktell-start-result'), '-1', what);
      assert.match(xml.text, /<property_simple key="started" value="0" name="error" \/>\n.*<property_simple key="startresult" value="-1" name="notstarted" \/>/, what);
      assert.ok(xml.text.includes(`<![CDATA[${reason}]]>`), `${what}: ${xml.text}`);
      const plain = await call('/ExecSvcScriptPlain/', init);
      assert.deepEqual([plain.status, plain.headers.get('x-oktell-start-result'), plain.text], [status, '-1', reason], what);
      assert.match(plain.headers.get('content-type') ?? '', /^text\/plain/, what);
    }
    // Elsewhere the same refusals stay plain text.
    const hook = await call('/x', cases[0]![1]);
    assert.deepEqual([hook.status, hook.text, hook.headers.get('x-oktell-start-result')], [413, '413 Payload Too Large: the limit is 1048576 bytes\n', null]);
    for (const [, init, status] of cases.slice(1)) {
      const other = await call('/x', init);
      const coding = (init.headers as Record<string, string>)['content-encoding'];
      const text = status === 400 ? `400 Bad Request: the body is not valid ${coding} (Content-Encoding: ${coding})\n` : `415 unsupported content encoding "${coding}"\n`;
      assert.deepEqual([other.status, other.text, other.headers.get('x-oktell-start-result')], [status, text, null], coding);
    }
  });

  it('a Web-API body that is not a form gets 415 and is not read on: the connection is closed (finding 7)', { timeout: 30_000 }, async () => {
    const head = (type: string, length: string) =>
      `POST /execsvcscriptplain?name=Echo&startparam1=q HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nContent-Type: ${type}\r\n${length}\r\n`;
    // A body declared 300 MB of which 64 KB is sent: refused at once, nothing waited for.
    for (const type of ['text/plain', 'application/octet-stream']) {
      const answer = await exchange(port, head(type, 'Content-Length: 300000000\r\n'), Buffer.alloc(65_536, 0x61));
      assert.match(answer, /^HTTP\/1\.1 415 /, `${type}: ${answer.slice(0, 200)}`);
      assert.match(answer, /X-Oktell-Start-Result: -1/i);
      assert.match(answer, new RegExp(`not as "${type}"`));
    }
    // A chunked one that never ends: refused at its first bytes.
    const chunked = await exchange(port, head('application/octet-stream', 'Transfer-Encoding: chunked\r\n'), '10\r\n0123456789abcdef\r\n');
    assert.match(chunked, /^HTTP\/1\.1 415 /);
    const json = await call('/execsvcscriptplain?name=Echo', { method: 'POST', body: '{"name":"Echo"}', headers: { 'content-type': 'application/json' } });
    assert.equal(json.status, 415);
    assert.match(json.text, /not as JSON/);
    // An empty body of another type has nothing to refuse.
    const empty = await call('/execsvcscriptplain?name=Echo&startparam1=e', { method: 'POST', body: '', headers: { 'content-type': 'text/plain' } });
    assert.deepEqual([empty.status, empty.text], [200, 'e|']);
    const budget = budgetFor(t.server.config);
    await until(() => budget.inUse === 0);
    assert.equal(budget.inUse, 0);
  });
});

describe('the console\'s forms under the body budget', () => {
  let t: TestServer;
  let port: number;
  let console_: string;
  let csrf: string;
  const log = capturingLogger();
  before(async () => {
    // A body limit above the console's 2 MiB cap, to see that cap kept; a budget of one such body.
    t = await startTestServer({ smtp: false, logger: log.logger, env: { SMTP_URL: '', OKTELL_BODY_LIMIT: '3mb', OKTELL_BODY_BUDGET: '3mb' }, extraScenarios: { 'Echo.yaml': echoScenario() } });
    port = Number(new URL(t.server.url).port);
    console_ = `${t.server.url}/-/console`;
    csrf = await csrfToken(console_);
  });
  after(async () => t.cleanup());

  const formHead = (path: string, length: number) =>
    `POST /-/console${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${AUTH}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${length}\r\n\r\n`;
  const health = async () => (await (await fetch(`${t.server.url}/-/health`)).json()) as Record<string, unknown>;

  it('a slow console form holds its bytes in the budget, and a second one that would pass it gets 503 with Retry-After, closed, logged and counted', { timeout: 30_000 }, async () => {
    const budget = budgetFor(t.server.config);
    const refusedBefore = budget.refused;
    // A dry-run form of 2 000 000 bytes of which 1 500 000 are sent, then nothing: held from its first chunk.
    const slow = connect(port, '127.0.0.1');
    slow.on('error', () => {});
    const start = `csrf=${csrf}&scenario=Echo&mode=params&p1=`;
    slow.write(formHead('/dry-run', 2_000_000) + start + 's'.repeat(1_500_000 - start.length));
    await until(() => budget.inUse >= 1_500_000);
    try {
      // Before: the console's form parser kept these bytes outside the budget, which stayed at 0.
      assert.ok(budget.inUse >= 1_500_000 && budget.inUse < 2_000_000, `the slow console form's bytes are held (${budget.inUse})`);
      const held = await health();
      assert.ok(typeof held.bodyBytesHeld === 'number' && held.bodyBytesHeld >= 1_500_000, `health: ${JSON.stringify(held)}`);
      assert.equal(held.status, 'ok');
      // 1.5 MB held of 3 MiB: a replay form of 1.7 MB would pass it (another console route, the same reader).
      const second = `csrf=${csrf}&pad=${'r'.repeat(1_700_000)}`;
      const answer = await exchange(port, formHead('/jobs/01m8wtxkp4674btrxzrtjp4rrp/replay', second.length), second);
      assert.match(answer, /^HTTP\/1\.1 503 /, answer.slice(0, 300));
      assert.match(answer, /^Retry-After: 5\r$/im);
      assert.match(answer, /^Connection: close\r$/im);
      assert.match(answer, /the server is receiving too many request bodies at once \(OKTELL_BODY_BUDGET\); retry later/);
      // The whole plain-text body, to the byte (a console route: express's error handler answers it).
      assert.ok(answer.endsWith('\r\n\r\n503 Service Unavailable: the server is receiving too many request bodies at once (OKTELL_BODY_BUDGET); retry later\n'), answer.slice(-300));
      assert.ok(budget.inUse <= budget.limit, `never past the budget (${budget.inUse})`);
      assert.equal(budget.refused, refusedBefore + 1);
      const metrics = await (await fetch(`${t.server.url}/-/metrics`, { headers: { authorization: AUTH } })).text();
      assert.match(metrics, new RegExp(`^oktell_body_budget_refused_total ${refusedBefore + 1}$`, 'm'));
      const warned = log.lines.filter((l) => l.level === 'warn' && /budget for request bodies held at once is spent/.test(l.msg ?? ''));
      assert.deepEqual(
        warned.map((l) => l.obj.path),
        ['/-/console/jobs/01m8wtxkp4674btrxzrtjp4rrp/replay'],
      );
    } finally {
      slow.destroy();
    }
    await until(() => budget.inUse === 0);
    assert.equal(budget.inUse, 0, 'given back when the slow form\'s connection closes');
    assert.equal((await health()).bodyBytesHeld, 0);
  });

  it('a console form within the budget is read and served, and gives its bytes back; the 2 MiB cap and 100 fields of a form stay (413 naming them), and a body that is not a form is not read (403, closed)', { timeout: 30_000 }, async () => {
    const budget = budgetFor(t.server.config);
    const post = (body: string) =>
      fetch(`${console_}/dry-run`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded' }, body, redirect: 'manual' });
    const value = `ok ${'v'.repeat(1_000_000)}`;
    const served = await post(new URLSearchParams({ csrf, scenario: 'Echo', mode: 'params', p1: value, p2: 'два' }).toString());
    assert.equal(served.status, 303, await served.text());
    const page = await (await fetch(new URL(served.headers.get('location')!, t.server.url), { headers: { authorization: AUTH } })).text();
    assert.ok(page.includes(`ok vvvv`) && page.includes('|два'), 'the form was parsed: the run got both parameters');
    await until(() => budget.inUse === 0);
    assert.equal(budget.inUse, 0);
    // Over 2 MiB but under OKTELL_BODY_LIMIT (3 MiB): still refused, and the answer names the console's cap.
    const over = await post(`csrf=${csrf}&pad=${'o'.repeat(2_200_000)}`);
    assert.equal(over.status, 413);
    assert.equal(await over.text(), '413 Payload Too Large: the limit is 2097152 bytes\n');
    // More than the form's 100 fields: refused, and the answer names that number (not the Web-API's 1000).
    const fields = await post(`csrf=${csrf}&${Array.from({ length: 100 }, (_, i) => `f${i}=1`).join('&')}`);
    assert.equal(fields.status, 413);
    assert.equal(await fields.text(), '413 Payload Too Large: too many form fields (at most 100)\n');
    // A body that is not a form is not read: a declared 300 MB of which 64 KB is sent gets 403 at once, closed.
    const plain = await exchange(port, formHead('/dry-run', 300_000_000).replace('application/x-www-form-urlencoded', 'text/plain'), Buffer.alloc(65_536, 0x61));
    assert.match(plain, /^HTTP\/1\.1 403 /, plain.slice(0, 200));
    assert.match(plain, /form token is missing/);
    await until(() => budget.inUse === 0);
    assert.equal(budget.inUse, 0);
  });

  it('a cross-site console POST is refused before its body is read: 403 at once, closed, nothing held', { timeout: 30_000 }, async () => {
    const budget = budgetFor(t.server.config);
    // A form a foreign page posts with the browser's cached login: 1 MB of a declared 2 MB sent, then nothing. Read, it
    // would hold its megabyte in the budget and have its answer only when the rest came.
    const head = formHead('/dry-run', 2_000_000).replace('\r\n\r\n', '\r\nOrigin: https://evil.example\r\nSec-Fetch-Site: cross-site\r\n\r\n');
    const start = `csrf=${csrf}&scenario=Echo&mode=params&p1=`;
    let peak = 0;
    const watch = setInterval(() => (peak = Math.max(peak, budget.inUse)), 5);
    try {
      const answer = await exchange(port, head, start + 'x'.repeat(1_000_000 - start.length));
      assert.match(answer, /^HTTP\/1\.1 403 /, answer.slice(0, 300));
      assert.match(answer, /^Connection: close\r$/im);
      assert.match(answer, /Sec-Fetch-Site is "cross-site"/);
    } finally {
      clearInterval(watch);
    }
    assert.equal(peak, 0, 'no byte of the refused form was held');
  });
});

describe('one login\'s share of the body budget (OKTELL_BODY_BUDGET_PER_LOGIN)', () => {
  let t: TestServer;
  let port: number;
  const log = capturingLogger();
  const OTHER = `Basic ${Buffer.from('other:0ther-pass').toString('base64')}`;
  before(async () => {
    // A budget of 4 MiB and the default share: half of it, 2 MiB (two bodies of the 1 MiB limit).
    t = await startTestServer({
      smtp: false,
      logger: log.logger,
      env: { SMTP_URL: '', OKTELL_USERS: `${USER.login}:${USER.password},other:0ther-pass`, OKTELL_BODY_LIMIT: '1mb', OKTELL_BODY_BUDGET: '4mb' },
      extraScenarios: { 'Echo.yaml': echoScenario() },
    });
    port = Number(new URL(t.server.url).port);
  });
  after(async () => t.cleanup());

  const call = async (auth: string, path: string, init: RequestInit = {}) => {
    const res = await fetch(`${t.server.url}${path}`, { ...init, headers: { authorization: auth, ...(init.headers as Record<string, string>) } });
    return { status: res.status, text: await res.text(), headers: res.headers };
  };
  const form = (p1: string) => ({ method: 'POST', body: `name=Echo&startparam1=${p1}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const metric = async (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec((await call(AUTH, '/-/metrics')).text)?.[1]);

  /** An upload of a declared 1 000 000 bytes that sends 950 000 and stalls; `answer` is what the server wrote back. */
  function stall(auth: string) {
    const s = connect(port, '127.0.0.1');
    const got = { answer: '' };
    s.on('data', (d) => (got.answer += d.toString('latin1')));
    s.on('error', () => {});
    s.write(`POST /stalled HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Type: text/plain\r\nContent-Length: 1000000\r\n\r\n${'s'.repeat(950_000)}`);
    return { socket: s, got };
  }

  it('a login that stalls bodies up to its share gets 503 naming the share, while another login is still served; the shares come back as the connections close', { timeout: 60_000 }, async () => {
    const budget = budgetFor(t.server.config);
    assert.equal(budget.limit, 4 * 1024 * 1024);
    const stalled: Array<ReturnType<typeof stall>> = [];
    try {
      // Login A (bpium) tries to hold five nearly whole bodies, 4.75 MB, more than the whole budget, one after the
      // other. Before: the first four were held (3.8 MB of 4 MiB) and every other sender was refused.
      for (let i = 0; i < 5; i++) {
        const before = budget.inUse;
        const s = stall(AUTH);
        stalled.push(s);
        await until(() => budget.inUse >= before + 950_000 || s.got.answer !== '');
      }
      const refused = stalled.filter((s) => s.got.answer !== '');
      assert.equal(refused.length, 3, 'two bodies fill the share of 2 MiB, the next three are refused');
      for (const s of refused) {
        assert.match(s.got.answer, /^HTTP\/1\.1 503 /);
        assert.match(s.got.answer, /^Retry-After: 5\r$/im);
        assert.match(s.got.answer, /this login is sending too many request bodies at once, more than its share of the server's budget \(OKTELL_BODY_BUDGET_PER_LOGIN\); retry later/);
      }
      await until(() => budget.inUse === 1_900_000);
      assert.equal(budget.inUse, 1_900_000, 'login A holds its two stalled bodies and no more');

      // A's next request, on the hook route and on the Web-API (express): 503, naming the share.
      const hookA = await call(AUTH, '/x', { method: 'POST', body: 'a'.repeat(500_000) });
      assert.equal(hookA.status, 503, hookA.text);
      assert.equal(hookA.headers.get('retry-after'), '5');
      assert.match(hookA.text, /OKTELL_BODY_BUDGET_PER_LOGIN/);
      const apiA = await call(AUTH, '/execsvcscriptplain', form('a'.repeat(500_000)));
      assert.equal(apiA.status, 503, apiA.text);
      assert.match(apiA.text, /OKTELL_BODY_BUDGET_PER_LOGIN/);
      // In the Web-API's answer: the reason as the plain form's body, without the status, and the start result -1.
      assert.match(apiA.text, /^this login is sending too many request bodies at once/);
      assert.equal(apiA.text, "this login is sending too many request bodies at once, more than its share of the server's budget (OKTELL_BODY_BUDGET_PER_LOGIN); retry later");
      assert.equal(hookA.text, "503 Service Unavailable: this login is sending too many request bodies at once, more than its share of the server's budget (OKTELL_BODY_BUDGET_PER_LOGIN); retry later\n");
      assert.equal(apiA.headers.get('x-oktell-start-result'), '-1');

      // Login B sends as large a body as A was refused: served. Before: 3.8 MB held, B's 500 KB passed the budget.
      const apiB = await call(OTHER, '/execsvcscriptplain', form(`b${'b'.repeat(499_999)}`));
      assert.equal(apiB.status, 200, apiB.text.slice(0, 200));
      assert.equal(apiB.text, `b${'b'.repeat(499_999)}|`);
      const hookB = await call(OTHER, '/x', { method: 'POST', body: JSON.stringify({ hook: { id: '1' }, payload: 'b'.repeat(500_000) }) });
      assert.equal(hookB.status, 404, `B's webhook is served (the hook scenario answers 404 for this path), not refused: ${hookB.text.slice(0, 200)}`);

      // Counted apart from the budget of all connections, and logged with the login (no password).
      assert.equal(budget.refusedPerLogin, 5);
      assert.equal(budget.refused, 0, 'the budget of all connections refused nothing');
      assert.equal(await metric('oktell_body_budget_login_refused_total'), 5);
      assert.equal(await metric('oktell_body_budget_refused_total'), 0);
      assert.equal(await metric('oktell_body_budget_per_login_bytes'), 2 * 1024 * 1024);
      const health = (await (await fetch(`${t.server.url}/-/health`)).json()) as Record<string, unknown>;
      assert.equal(health.bodyBytesPerLogin, 2 * 1024 * 1024);
      const warned = log.lines.filter((l) => l.level === 'warn' && /share of request bodies one login may hold at once is spent \(OKTELL_BODY_BUDGET_PER_LOGIN\)/.test(l.msg ?? ''));
      assert.equal(warned.length, 5);
      assert.deepEqual([...new Set(warned.map((l) => l.obj.login))], [USER.login]);
      assert.ok(!JSON.stringify(warned).includes(USER.password), 'no password in the log');
    } finally {
      for (const s of stalled) s.socket.destroy();
    }
    // Given back as the connections close: nothing held, no login left in the map, and A is served again.
    await until(() => budget.inUse === 0 && budget.loginsHolding === 0);
    assert.equal(budget.inUse, 0);
    assert.equal(budget.heldBy(USER.login), 0);
    assert.equal(budget.loginsHolding, 0, 'a login holding nothing has no entry');
    const again = await call(AUTH, '/execsvcscriptplain', form('again'));
    assert.deepEqual([again.status, again.text], [200, 'again|']);
    await until(() => budget.loginsHolding === 0);
    assert.equal(budget.loginsHolding, 0);
  });

  it('a request without valid credentials is refused before its body is read: nothing charged to any login', { timeout: 30_000 }, async () => {
    const budget = budgetFor(t.server.config);
    let peak = 0;
    const watch = setInterval(() => (peak = Math.max(peak, budget.inUse)), 5);
    try {
      const bad = `Basic ${Buffer.from(`${USER.login}:wrong`).toString('base64')}`;
      for (const path of ['/x', '/execsvcscriptplain?name=Echo']) {
        const answer = await exchange(port, `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${bad}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000000\r\n\r\n`, 'p'.repeat(900_000));
        assert.match(answer, /^HTTP\/1\.1 401 /, `${path}: ${answer.slice(0, 200)}`);
      }
    } finally {
      clearInterval(watch);
    }
    assert.equal(peak, 0, 'no byte of a refused body was held');
    assert.equal(budget.loginsHolding, 0);
  });
});
