// Secrets never reach the log, the console, /-/metrics, the run records or a refusal's text: a token in the query
// (`?token=…`), a Basic password, a login:password in an absolute-form request target. The server is a real one, its
// log the JSON lines pino writes (redaction included); each request below makes one of the server's log lines.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { signBpiumBody } from '../../adapters/bpium/signature.js';
import { hookAddress } from '../../server/hook-request.js';
import { loggedTarget, type LoggedTarget } from '../../server/log-target.js';
import { createLogger } from '../../server/serve.js';
import { AUTH, startTestServer, taskWebhook, USER, waitFor, type TestServer } from './server-helpers.js';

const TOKEN = 'SECRET123';
const PASSWORD = 'pw-SECRET456';
const basic = (login: string, password: string) => `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;
/** Every form a secret could take in a text: as sent, and the Basic header's base64 of each login:password sent. */
/** A bare token sent base64 with its padding (`?U0VDUkVUMTIzNA==`): the `=` must not make it read as a name. */
const B64_TOKEN = Buffer.from('SECRET1234').toString('base64');
const SECRETS = [TOKEN, B64_TOKEN.replace(/=+$/, ''), PASSWORD, basic(USER.login, PASSWORD).slice(6), basic(PASSWORD, '').slice(6), basic('viewer', 'l00k-pass').slice(6), 'l00k-pass', USER.password, 'x-SECRET789'];

function leaks(text: string): string[] {
  return SECRETS.filter((s) => text.includes(s));
}

/** One raw HTTP/1.1 request (for a target fetch would not send: absolute-form with a login:password). */
function rawRequest(port: number, head: string, body = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(`${head}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => (answer += c));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('secrets in request targets and credentials are kept out of logs, pages, metrics and records', () => {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(chunk.toString('utf8'));
      done();
    },
  });
  const logText = () => out.join('');
  const lines = () =>
    logText()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const env = { OKTELL_USERS: `${USER.login}:${USER.password},viewer[view]:l00k-pass`, OKTELL_BODY_LIMIT: '1kb', OKTELL_LOG_LEVEL: 'debug', OKTELL_LOG_FORMAT: 'json', SMTP_URL: '' };
  const answers: string[] = [];
  let t: TestServer;
  let port: number;
  const send = async (path: string, init: RequestInit = {}): Promise<Response> => {
    const res = await fetch(`${t.server.url}${path}`, init);
    answers.push(`${res.status} ${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${await res.clone().text()}`);
    return res;
  };

  /** Every inbox entry stored so far (ids count up from 1). */
  const allInbox = async () => {
    const entries = [];
    for (let id = 1; id <= 100; id++) {
      const e = await t.server.store.getInboxEntry(id);
      if (e) entries.push(e);
    }
    return entries;
  };

  before(async () => {
    t = await startTestServer({ smtp: false, env, logger: createLogger(env, 'UTC', stream) });
    port = Number(new URL(t.server.url).port);
  });
  after(async () => t.cleanup());

  it('a webhook refused with 413 (plain and gzip) logs its path and query keys, not the token', async () => {
    const body = taskWebhook({ name: 'big', description: 'd'.repeat(4000), responsible: ['2'] });
    for (const gzip of [false, true]) {
      out.length = 0;
      const res = await send(`/Bpium/NewTask?token=${TOKEN}&id=7`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: AUTH, 'x-hook-signature': signBpiumBody(t.secret, body), ...(gzip ? { 'content-encoding': 'gzip' } : {}) },
        body: gzip ? gzipSync(body) : body,
      });
      assert.equal(res.status, 413);
      const w = lines().find((l) => /^webhook refused with 413/.test(String(l.msg)));
      assert.ok(w, logText());
      assert.equal(w.path, '/Bpium/NewTask');
      assert.deepEqual(w.query, ['token', 'id']);
      assert.deepEqual(leaks(logText()), [], logText());
    }
  });

  it('a bad signature, a wrong password, a password in the login field and a bare token are logged without them', async () => {
    out.length = 0;
    assert.equal((await send(`/Bpium/NewTask?token=${TOKEN}`, { method: 'POST', headers: { authorization: AUTH, 'x-hook-signature': 'sha256=00' }, body: '{}' })).status, 401);
    assert.equal((await send(`/hook?token=${TOKEN}`, { method: 'POST', headers: { authorization: basic(USER.login, PASSWORD) }, body: 'x' })).status, 401);
    assert.equal((await send(`/hook?key=${TOKEN}`, { method: 'POST', headers: { authorization: basic(PASSWORD, '') }, body: 'x' })).status, 401);
    assert.equal((await send(`/-/metrics?sig=${TOKEN}`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 401);
    assert.equal((await send(`/-/console/runs?password=${TOKEN}`, { headers: { authorization: `${TOKEN}` } })).status, 401);
    const refused = lines().filter((l) => l.msg === 'login refused' || /^webhook refused/.test(String(l.msg)));
    assert.equal(refused.length, 5, logText());
    assert.deepEqual(
      refused.map((l) => [l.path, l.query]),
      [
        ['/Bpium/NewTask', ['token']],
        ['/hook', ['token']],
        ['/hook', ['key']],
        ['/-/metrics', ['sig']],
        ['/-/console/runs', ['password']],
      ],
    );
    assert.deepEqual(leaks(logText()), [], logText());
  });

  it('request lines, a read-only login refused, own routes and the Web-API keep the path and drop query values', async () => {
    out.length = 0;
    const viewer = basic('viewer', 'l00k-pass');
    assert.equal((await send(`/-/health?token=${TOKEN}`)).status, 200);
    assert.equal((await send(`/-/metrics?token=${TOKEN}`, { headers: { authorization: AUTH } })).status, 200);
    assert.equal((await send(`/-/nothing?token=${TOKEN}`, { headers: { authorization: AUTH } })).status, 404);
    assert.equal((await send(`/-/console/runs?token=${TOKEN}`, { headers: { authorization: AUTH } })).status, 200);
    assert.equal((await send(`/-/console/nothing?token=${TOKEN}`, { headers: { authorization: AUTH } })).status, 404);
    assert.equal((await send(`/-/console/runs/x/replay?token=${TOKEN}`, { method: 'POST', headers: { authorization: viewer } })).status, 403);
    assert.equal((await send(`/hook?token=${TOKEN}`, { method: 'POST', headers: { authorization: viewer }, body: 'x' })).status, 403);
    await send(`/execsvcscriptplain?name=NoSuch&token=${TOKEN}&startparam1=x`, { headers: { authorization: AUTH } });
    await send(`/execsvcscript?name=NoSuch&password=${TOKEN}`, { headers: { authorization: AUTH } });
    await send(`/-/health?${B64_TOKEN}&id=7`);
    const requests = lines().filter((l) => l.msg === 'request');
    assert.ok(requests.some((l) => l.path === '/-/console/runs' && JSON.stringify(l.query) === '["token"]'), logText());
    assert.ok(requests.some((l) => l.path === '/execsvcscriptplain' && JSON.stringify(l.query) === '["name","token","startparam1"]'), logText());
    assert.ok(requests.some((l) => l.path === '/-/health' && JSON.stringify(l.query) === '["(16 chars)","id"]'), logText());
    assert.ok(lines().some((l) => l.msg === 'login lacks the right' && l.path === '/hook'), logText());
    assert.deepEqual(leaks(logText()), [], logText());
  });

  /**
   * Sends `target` as an absolute-form request line and checks that it is logged by its path alone and that no secret
   * reaches the log, the inbox, the run record or the run's console page; gives the inbox entry it made.
   */
  const sendAbsolute = async (target: string) => {
    out.length = 0;
    const answer = await rawRequest(port, [`POST ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, `Authorization: ${AUTH}`, 'Content-Type: text/plain'].join('\r\n'), 'hello');
    assert.match(answer, /^HTTP\/1\.1 404/);
    const line = await waitFor('the request line', () => lines().find((l) => l.msg === 'request' && l.method === 'POST'));
    assert.equal(line.path, '/hook');
    assert.deepEqual(leaks(logText()), [], logText());
    const inbox = await allInbox();
    assert.deepEqual(leaks(JSON.stringify(inbox)), [], JSON.stringify(inbox));
    const runId = /X-Oktell-Run-Id: (\w+)/i.exec(answer)![1]!;
    const run = await t.server.store.getRun(runId);
    assert.deepEqual(leaks(JSON.stringify(run)), [], JSON.stringify(run));
    const page = await (await fetch(`${t.server.url}/-/console/runs/${runId}`, { headers: { authorization: AUTH } })).text();
    assert.deepEqual(leaks(page), [], page);
    return inbox.at(-1);
  };

  it('an absolute-form target with a login:password is logged, recorded and shown without it', async () => {
    const entry = await sendAbsolute(`http://u:x-SECRET789@127.0.0.1:${port}/hook?token=${TOKEN}`);
    assert.equal(entry?.path, `http://***@127.0.0.1:${port}/hook?token=***`);
  });

  it('an absolute-form target whose password has a "/" left unencoded is logged, recorded and shown without any of it', async () => {
    // A URL parser ends the authority at the first "/": host "u", and the rest of the password in the path.
    const entry = await sendAbsolute(`http://u:${PASSWORD}/x-SECRET789@127.0.0.1:${port}/hook?token=${TOKEN}`);
    assert.equal(entry?.path, `http://***@127.0.0.1:${port}/hook?token=***`);
  });

  it('an absolute-form target express cannot read is answered 404, logged by its path and counted in /-/metrics', async () => {
    const answered404 = async () => {
      const text = await (await fetch(`${t.server.url}/-/metrics`, { headers: { authorization: AUTH } })).text();
      return Number(/^oktell_webhooks_answered_total\{status="404"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    const before = await answered404();
    out.length = 0;
    // "[::1" opens an IPv6 address it never closes: the router's URL parser throws, so no route or middleware runs.
    const answer = await rawRequest(port, [`POST http://[::1/hook?token=${TOKEN} HTTP/1.1`, `Host: 127.0.0.1:${port}`, `Authorization: ${AUTH}`, 'Content-Type: text/plain'].join('\r\n'), 'hello');
    assert.match(answer, /^HTTP\/1\.1 404 Not Found\r\n/);
    assert.equal(await answered404(), before + 1);
    const line = await waitFor('the request line', () => lines().find((l) => l.msg === 'request' && l.method === 'POST'), 2000);
    assert.deepEqual([line.path, line.query, line.status, line.ip], ['/hook', ['token'], 404, '127.0.0.1']);
    assert.deepEqual(leaks(logText()), [], logText());
    // Plain text, as the server's other refusals: not express's HTML page.
    assert.match(answer, /\r\n\r\n404 Not Found: the request target cannot be read as an address\n$/);
  });

  it('an absolute-form target whose password has a "?" left unencoded is logged, recorded and shown without any of it', async () => {
    out.length = 0;
    // A URL parser ends the authority at the "?": host "u", port "pw-SECRET456", and the rest in the query.
    const target = `http://u:${PASSWORD}?x-SECRET789@127.0.0.1:${port}/hook`;
    const answer = await rawRequest(port, [`POST ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, `Authorization: ${AUTH}`, 'Content-Type: text/plain'].join('\r\n'), 'hello');
    assert.match(answer, /^HTTP\/1\.1 404/);
    const line = await waitFor('the request line', () => lines().find((l) => l.msg === 'request' && l.method === 'POST'));
    assert.deepEqual(leaks(logText()), [], logText());
    const inbox = await allInbox();
    assert.deepEqual(leaks(JSON.stringify(inbox)), [], JSON.stringify(inbox));
    assert.equal(inbox.at(-1)?.path, `http://***@127.0.0.1:${port}/hook`);
    assert.equal(line.path, '/hook');
    const runId = /X-Oktell-Run-Id: (\w+)/i.exec(answer)![1]!;
    const run = await t.server.store.getRun(runId);
    assert.deepEqual(leaks(JSON.stringify(run)), [], JSON.stringify(run));
  });

  it('an absolute-form target whose password before an unencoded "?" is all digits is logged, recorded and shown without it', async () => {
    // A URL parser reads "u:4567" as host "u" and port 4567, and the rest of the password as the query "x-SECRET789@…".
    const entry = await sendAbsolute(`http://u:4567?x-SECRET789@127.0.0.1:${port}/hook`);
    assert.equal(entry?.path, `http://***@127.0.0.1:${port}/hook`);
  });

  it('an absolute-form target with an "@" in its query or path after a plain host keeps the host and the "@", and masks the token', async () => {
    // Before, "127.0.0.1:<port>?mail=a" was taken for a login:password: the inbox, the run record and the console
    // showed "http://***@b.example&token=SECRET123" (the token in clear, the host gone), and the log line lost the
    // query's names; an "@" in the path masked the host and the path before it.
    const rows: Array<[string, string, { path: string; query?: string[] }]> = [
      [`http://127.0.0.1:${port}?mail=a@b.example&token=${TOKEN}`, `http://127.0.0.1:${port}?mail=a@b.example&token=***`, { path: '/', query: ['mail', 'token'] }],
      [`http://127.0.0.1:${port}/contacts/a@b.example/hook?token=${TOKEN}`, `http://127.0.0.1:${port}/contacts/a@b.example/hook?token=***`, { path: '/contacts/a@b.example/hook', query: ['token'] }],
    ];
    for (const [target, stored, logged] of rows) {
      out.length = 0;
      const answer = await rawRequest(port, [`POST ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, `Authorization: ${AUTH}`, 'Content-Type: text/plain'].join('\r\n'), 'hello');
      assert.match(answer, /^HTTP\/1\.1 404/);
      const line = await waitFor('the request line', () => lines().find((l) => l.msg === 'request' && l.method === 'POST'));
      assert.deepEqual({ path: line.path, ...(line.query ? { query: line.query } : {}) }, logged, target);
      assert.deepEqual(leaks(logText()), [], logText());
      const inbox = await allInbox();
      assert.equal(inbox.at(-1)?.path, stored);
      const runId = /X-Oktell-Run-Id: (\w+)/i.exec(answer)![1]!;
      const run = await t.server.store.getRun(runId);
      assert.deepEqual(leaks(JSON.stringify(run)), [], JSON.stringify(run));
      assert.ok(JSON.stringify(run).includes(JSON.stringify(stored)), JSON.stringify(run));
      const page = await (await fetch(`${t.server.url}/-/console/runs/${runId}`, { headers: { authorization: AUTH } })).text();
      assert.deepEqual(leaks(page), [], page);
      assert.ok(page.includes(stored.replace(/&/g, '&amp;')), page);
    }
  });

  /**
   * Sends a scheme-relative target (`//user:pw@host/hook`, which the server takes for a path) and checks that neither
   * the log, the inbox, the run record nor the run's console page holds a secret; gives the request line and the
   * inbox entry. `gzip`: the body compressed, so express reads it (the node:http route leaves it to express).
   */
  const sendSchemeRelative = async (target: string, gzip = false) => {
    out.length = 0;
    const body = gzip ? gzipSync('hello').toString('latin1') : 'hello';
    const head = [`POST ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, `Authorization: ${AUTH}`, 'Content-Type: text/plain', ...(gzip ? ['Content-Encoding: gzip'] : [])].join('\r\n');
    const answer = await new Promise<string>((resolve, reject) => {
      const raw = Buffer.from(body, 'latin1');
      // Written, not ended: a client that half-closes reads as gone to express's body reading (the server closes).
      const socket = connect(port, '127.0.0.1', () => socket.write(Buffer.concat([Buffer.from(`${head}\r\nContent-Length: ${raw.length}\r\nConnection: close\r\n\r\n`), raw])));
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (c: string) => (text += c));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    assert.match(answer, /^HTTP\/1\.1 404/);
    const line = await waitFor('the request line', () => lines().find((l) => l.msg === 'request' && l.method === 'POST'));
    assert.deepEqual(leaks(logText()), [], logText());
    const inbox = await allInbox();
    assert.deepEqual(leaks(JSON.stringify(inbox)), [], JSON.stringify(inbox));
    const runId = /X-Oktell-Run-Id: (\w+)/i.exec(answer)?.[1];
    assert.ok(runId, answer);
    const run = await t.server.store.getRun(runId);
    assert.deepEqual(leaks(JSON.stringify(run)), [], JSON.stringify(run));
    const page = await (await fetch(`${t.server.url}/-/console/runs/${runId}`, { headers: { authorization: AUTH } })).text();
    assert.deepEqual(leaks(page), [], page);
    return { line, entry: inbox.at(-1) };
  };

  it('a scheme-relative target with a login:password ("//u:pw@host/hook") is logged, recorded and shown without it', async () => {
    for (const gzip of [false, true]) {
      const plain = await sendSchemeRelative(`//u:${PASSWORD}@127.0.0.1:${port}/hook?token=${TOKEN}`, gzip);
      assert.deepEqual([plain.line.path, plain.line.query], [`//***@127.0.0.1:${port}/hook`, ['token']]);
      assert.equal(plain.entry?.path, `//***@127.0.0.1:${port}/hook?token=***`);
      // A "/" or a "?" left unencoded in the password does not end it here either.
      const slash = await sendSchemeRelative(`//u:${PASSWORD}/x-SECRET789@127.0.0.1:${port}/hook`, gzip);
      assert.equal(slash.line.path, `//***@127.0.0.1:${port}/hook`);
      assert.equal(slash.entry?.path, `//***@127.0.0.1:${port}/hook`);
      const query = await sendSchemeRelative(`//u:${PASSWORD}?x-SECRET789@127.0.0.1:${port}/hook`, gzip);
      assert.equal(query.line.path, `//***@127.0.0.1:${port}/hook`);
      assert.equal(query.entry?.path, `//***@127.0.0.1:${port}/hook`);
      // Nor a "#": Node's parser lets one through before the "@" of a scheme-relative target (not of an absolute one).
      const hash = await sendSchemeRelative(`//u:${PASSWORD}#x-SECRET789@127.0.0.1:${port}/hook`, gzip);
      assert.equal(hash.line.path, `//***@127.0.0.1:${port}/hook`);
      assert.equal(hash.entry?.path, `//***@127.0.0.1:${port}/hook`);
    }
  });

  it('a webhook with a token in its query runs, and its record, the console pages and the metrics hold no secret', async () => {
    const res = await send(`/hook?token=${TOKEN}&id=7`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'text/plain', cookie: `sid=${TOKEN}`, 'x-api-key': TOKEN }, body: 'hello' });
    assert.equal(res.status, 404);
    const runId = res.headers.get('x-oktell-run-id')!;
    const run = await t.server.store.getRun(runId);
    assert.deepEqual(leaks(JSON.stringify(run)), [], JSON.stringify(run));
    const inbox = await allInbox();
    assert.deepEqual(leaks(JSON.stringify(inbox)), [], JSON.stringify(inbox));
    assert.match(JSON.stringify(inbox), /\/hook\?token=\*\*\*&id=7/);
    for (const page of ['/-/console/runs', `/-/console/runs/${runId}`, `/-/console/runs/${runId}/test.yaml`, '/-/console/runs.json', '/-/metrics']) {
      const text = await (await send(page, { headers: { authorization: AUTH } })).text();
      assert.deepEqual(leaks(text), [], `${page}: ${text}`);
    }
    assert.deepEqual(leaks(answers.join('\n')), [], answers.join('\n'));
    assert.deepEqual(leaks(logText()), [], logText());
  });
});

describe('loggedTarget: what a log line names a request target by', () => {
  const cases: Array<[string, LoggedTarget]> = [
    ['/Bpium/NewTask', { path: '/Bpium/NewTask' }],
    ['/Bpium/NewTask?token=SECRET123&id=7', { path: '/Bpium/NewTask', query: ['token', 'id'] }],
    ['/hook?SECRET123', { path: '/hook', query: ['(9 chars)'] }],
    ['/hook?%74oken=SECRET123;sig=x&&', { path: '/hook', query: ['token', 'sig'] }],
    ['/hook?', { path: '/hook' }],
    // A bare token in base64 with its padding: no value after the `=`, so the part is counted, not shown as a name.
    ['/hook?U0VDUkVUMTIz&id=7', { path: '/hook', query: ['(12 chars)', 'id'] }],
    ['/hook?U0VDUkVUMTIzNA==&id=7', { path: '/hook', query: ['(16 chars)', 'id'] }],
    ['/hook?U0VDUkVUMTIzNDU=;debug=', { path: '/hook', query: ['(16 chars)', '(6 chars)'] }],
    ['/hook?a=b=c', { path: '/hook', query: ['a'] }],
    ['/hook#frag?token=SECRET123', { path: '/hook' }],
    ['http://u:pw-SECRET456@host:8080/hook?key=SECRET123', { path: '/hook', query: ['key'] }],
    // A "/" left unencoded in the password: the login:password runs to the last "@" before the query.
    ['http://u:pw/SECRET456@host:8080/hook?key=SECRET123', { path: '/hook', query: ['key'] }],
    ['http://u:p@ss/SECRET456@host/hook?mail=a@b', { path: '/hook', query: ['mail'] }],
    ['https://host?token=SECRET123', { path: '/', query: ['token'] }],
    ['/a\x1b[31m?n\x07=1', { path: '/a\\x1b[31m', query: ['n\\x07'] }],
    [`/hook?${'n'.repeat(50)}=1`, { path: '/hook', query: [`${'n'.repeat(40)}…`] }],
    // Characters, not UTF-16 units: an emoji counts one.
    [`/hook?${'😀'.repeat(3)}`, { path: '/hook', query: ['(3 chars)'] }],
    [`/hook?${'😀'.repeat(40)}=1`, { path: '/hook', query: ['😀'.repeat(40)] }],
    [`/hook?${'😀'.repeat(41)}=1`, { path: '/hook', query: [`${'😀'.repeat(40)}…`] }],
    [`/hook?${Array.from({ length: 23 }, (_, i) => `p${i}=1`).join('&')}`, { path: '/hook', query: [...Array.from({ length: 20 }, (_, i) => `p${i}`), '(+3 more)'] }],
  ];
  for (const [target, expected] of cases) {
    it(JSON.stringify(target), () => {
      assert.deepEqual(loggedTarget(target), expected);
    });
  }
});

describe('hookAddress: an absolute-form target is stored without its login:password', () => {
  it('masks the userinfo and the secret query values, and finds the password in the trace', () => {
    const a = hookAddress('http://u:pw-SECRET456@host/hook?token=SECRET123&id=7');
    assert.equal(a.stored, 'http://***@host/hook?token=***&id=7');
    assert.ok(a.credentials.includes('pw-SECRET456'));
    assert.equal(hookAddress('/hook?id=7').stored, '/hook?id=7');
  });

  it('masks a password with a "/" left unencoded whole: up to the last "@" before the query, not the first "/"', () => {
    const a = hookAddress('http://u:pa/ss-SECRET456@host/hook?mail=a@b&id=7');
    assert.equal(a.stored, 'http://***@host/hook?mail=a@b&id=7');
    assert.ok(a.credentials.includes('pa/ss-SECRET456'), JSON.stringify(a.credentials));
    // An "@" of the path itself after a host that cannot be a login:password (no port, or an IP address) is the
    // path's; after a name and a port it may end a password of digits: too much masked rather than any of one.
    assert.equal(hookAddress('http://host/to/a@b/c').stored, 'http://host/to/a@b/c');
    assert.equal(hookAddress('http://host:8080/to/a@b/c').stored, 'http://***@b/c');
  });

  it('masks a password with a "?" left unencoded whole, and keeps the "@" of a plain host\'s query', () => {
    assert.equal(hookAddress('http://u:pw?SECRET456@host/hook').stored, 'http://***@host/hook');
    assert.equal(hookAddress('http://u:?SECRET456@host/hook').stored, 'http://***@host/hook');
    assert.equal(hookAddress('http://u:pa/ss?SECRET456@host/hook').stored, 'http://***@host/hook');
    assert.ok(hookAddress('http://u:pw?SECRET456@host/hook').credentials.includes('pw?SECRET456'));
    assert.equal(hookAddress('http://host:8080/hook?mail=a@b&id=7').stored, 'http://host:8080/hook?mail=a@b&id=7');
    // A password whose part before the "?" is all digits reads as a port: masked whole too. A host and port followed
    // by a query of parameters (a "=" or "&" before the "@") and no path keeps its "@".
    assert.equal(hookAddress('http://u:1234?SECRET456@host/hook').stored, 'http://***@host/hook');
    assert.ok(hookAddress('http://u:1234?SECRET456@host/hook').credentials.includes('1234?SECRET456'));
    assert.deepEqual(loggedTarget('http://u:1234?SECRET456@host/hook'), { path: '/hook' });
    assert.equal(hookAddress('http://host:8080?mail=a@b').stored, 'http://host:8080?mail=a@b');
    assert.equal(hookAddress('http://host:8080?id=7').stored, 'http://host:8080?id=7');
    // Scheme-relative: the same rule after "//".
    assert.equal(hookAddress('//u:pa/ss?SECRET456@host/hook?key=SECRET123').stored, '//***@host/hook?key=***');
    assert.deepEqual(loggedTarget('//u:1234?SECRET456@host/hook'), { path: '//***@host/hook' });
    // A "#" left unencoded in the password ends it no more than a "?" does, digits before it or not.
    assert.equal(hookAddress('//u:pa#SECRET456@host/hook').stored, '//***@host/hook');
    assert.equal(hookAddress('//u:1234#SECRET456@host/hook').stored, '//***@host/hook');
    assert.equal(hookAddress('http://u:pa#SECRET456@host/hook').stored, 'http://***@host/hook');
    assert.ok(hookAddress('//u:pa#SECRET456@host/hook').credentials.includes('pa#SECRET456'));
    assert.deepEqual(loggedTarget('//u:pa#SECRET456@host/hook'), { path: '//***@host/hook' });
    // A plain host's fragment keeps its "@" when a path comes first.
    assert.equal(hookAddress('http://host:8080/hook#a@b').stored, 'http://host:8080/hook#a@b');
    assert.equal(hookAddress('//host/hook#a@b').stored, '//host/hook#a@b');
    assert.deepEqual(loggedTarget('//host/hook?mail=a@b'), { path: '//host/hook', query: ['mail'] });
    assert.equal(hookAddress('http://[::1]:80/hook?mail=a@b').stored, 'http://[::1]:80/hook?mail=a@b');
    assert.deepEqual(loggedTarget('http://u:pw?SECRET456@host/hook'), { path: '/hook' });
    assert.deepEqual(loggedTarget('http://host/hook?mail=a@b'), { path: '/hook', query: ['mail'] });
    // Linear: a megabyte of "@", "/" and "?" after a scheme is read in well under a second.
    const big = `http://u:${'@/?'.repeat(350_000)}`;
    const started = Date.now();
    hookAddress(big);
    loggedTarget(big);
    hookAddress(big.slice(5));
    loggedTarget(big.slice(5));
    hookAddress(`http://u:1${'?@'.repeat(500_000)}`);
    loggedTarget(`//u:1${'?@'.repeat(500_000)}`);
    loggedTarget(`/hook?${'n'.repeat(1_000_000)}=1`);
    assert.ok(Date.now() - started < 1000, `${Date.now() - started} ms`);
  });

  it('masks a password of digits with a "/" and then a "?" or "#" left unencoded whole, though it reads as a port and a path', () => {
    // A URL parser reads "u:7" as host "u" and port 7, "/X" as the path and "@host/hook" as the query (or fragment):
    // before, "7/X?" (the password's start) was stored and logged as they are.
    assert.equal(hookAddress('http://u:7/X?@host/hook').stored, 'http://***@host/hook');
    assert.equal(hookAddress('http://u:7/X?SECRET456@host/hook?id=7').stored, 'http://***@host/hook?id=7');
    assert.ok(hookAddress('http://u:7/X?SECRET456@host/hook').credentials.includes('7/X?SECRET456'));
    assert.equal(hookAddress('http://u:7/X#SECRET456@host:8080/hook').stored, 'http://***@host:8080/hook');
    assert.equal(hookAddress('//u:7/X?SECRET456@host/hook').stored, '//***@host/hook');
    assert.deepEqual(loggedTarget('http://u:7/X?SECRET456@host/hook'), { path: '/hook' });
    // A query of parameters, and a fragment with no path after its "@", keep their "@" as before.
    assert.equal(hookAddress('http://host:8080/hook?mail=a@b/c').stored, 'http://host:8080/hook?mail=a@b/c');
    assert.equal(hookAddress('http://host:8080/hook?id=7&mail=a@b/c').stored, 'http://host:8080/hook?id=7&mail=a@b/c');
    assert.equal(hookAddress('http://host:8080/hook#a@b').stored, 'http://host:8080/hook#a@b');
    assert.equal(hookAddress('http://host/hook?a@b/c').stored, 'http://host/hook?a@b/c');
    // Linear in the length.
    const started = Date.now();
    hookAddress(`http://u:1/${'a'.repeat(500_000)}?${'@'.repeat(500_000)}`);
    loggedTarget(`http://u:1/${'?@'.repeat(500_000)}`);
    hookAddress(`http://u:1/x?${'b'.repeat(1_000_000)}@`);
    assert.ok(Date.now() - started < 1000, `${Date.now() - started} ms`);
  });
});
