// The hook's two routes answer alike: most requests are answered on node:http (hook-listener.ts), a compressed body
// goes through express; both run the same hook. Compared here header by header on a real listening server, with the
// letters each webhook starts.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { signBpiumBody } from '../../adapters/bpium/signature.js';
import { loadServerConfig } from '../../server/config.js';
import { AUTH, parsedLetters, startTestServer, taskWebhook, waitFor, type TestServer } from './server-helpers.js';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(url: string, o: { method?: string; path?: string; headers?: Record<string, string>; body?: Buffer }): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${o.path ?? '/Bpium/NewTask'}`, { method: o.method ?? 'POST', headers: { authorization: AUTH, ...o.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

/** What a client that sends `Expect: 100-continue` sees: whether it was told to go on, then the answer. */
interface ContinueSeen {
  continued: boolean;
  status: number;
  body: string;
}

/**
 * Sends the headers with `Expect: 100-continue` and the body only after `100 Continue`; a final answer that comes
 * first is taken as it is (the body is never sent).
 */
function sendExpecting(url: string, o: { path: string; headers: Record<string, string>; body: Buffer }): Promise<ContinueSeen> {
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = request(`${url}${o.path}`, { method: 'POST', headers: { 'content-length': String(o.body.length), ...o.headers, expect: '100-continue' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ continued, status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') });
        if (!continued) req.destroy();
      });
    });
    req.on('continue', () => {
      continued = true;
      req.end(o.body);
    });
    req.on('error', (e) => (continued ? reject(e) : undefined));
    req.flushHeaders();
  });
}

/** The headers both routes must agree on (the rest — date, run id, connection — differ by nature). */
const shape = (r: Raw) => ({
  status: r.status,
  type: r.headers['content-type'],
  length: r.headers['content-length'],
  cache: r.headers['cache-control'],
  sniff: r.headers['x-content-type-options'],
  runId: typeof r.headers['x-oktell-run-id'] === 'string',
  body: r.body,
});

describe('the hook on node:http and through express', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => {
    await t.cleanup();
  });

  it('a plain and a gzip-compressed webhook get the same answer, and each starts its letter', async () => {
    const plainBody = taskWebhook({ name: 'plain one', responsible: ['1'], sequenceId: 71001 });
    const zippedBody = taskWebhook({ name: 'zipped one', responsible: ['1'], sequenceId: 71002 });
    const signed = (b: string) => ({ 'content-type': 'application/json', 'x-hook-signature': signBpiumBody(t.secret, b) });
    const plain = await send(t.server.url, { headers: signed(plainBody), body: Buffer.from(plainBody) });
    const zipped = await send(t.server.url, { headers: { ...signed(zippedBody), 'content-encoding': 'gzip' }, body: gzipSync(zippedBody) });
    assert.equal(plain.status, 200, plain.body);
    assert.deepEqual(shape(zipped), shape(plain));
    assert.equal(plain.headers['cache-control'], 'no-store');
    await waitFor('both letters', () => (t.smtp!.letters.length >= 2 ? true : undefined));
    const subjects = (await parsedLetters(t.smtp!)).map((l) => l.subject ?? '');
    assert.ok(subjects.some((s) => s.endsWith('plain one')), subjects.join(' | '));
    assert.ok(subjects.some((s) => s.endsWith('zipped one')), subjects.join(' | '));
  });

  it('refusals read the same on both routes: no credentials, a bad signature, a cross-site browser', async () => {
    const body = taskWebhook({ name: 'refused', responsible: ['1'], sequenceId: 71003 });
    const cases: Array<{ name: string; headers: Record<string, string>; status: number }> = [
      { name: 'no credentials', headers: { authorization: '' }, status: 401 },
      { name: 'bad signature', headers: { 'content-type': 'application/json', 'x-hook-signature': 'sha256=00' }, status: 401 },
      { name: 'cross-site', headers: { 'sec-fetch-site': 'cross-site' }, status: 403 },
    ];
    for (const c of cases) {
      const fast = await send(t.server.url, { headers: c.headers, body: Buffer.from(body) });
      const viaExpress = await send(t.server.url, { headers: { ...c.headers, 'content-encoding': 'gzip' }, body: gzipSync(body) });
      assert.equal(fast.status, c.status, `${c.name}: ${fast.body}`);
      assert.deepEqual({ ...shape(viaExpress), runId: false }, { ...shape(fast), runId: false }, c.name);
      assert.equal(fast.headers['www-authenticate'], viaExpress.headers['www-authenticate'], c.name);
    }
  });

  it('a body that is not in its declared content coding gets 400 naming the coding, not zlib’s message', async () => {
    const body = Buffer.from(taskWebhook({ name: 'not compressed', responsible: ['1'], sequenceId: 71004 }));
    const truncated = gzipSync(body).subarray(0, 20);
    for (const [coding, sent] of [['gzip', body], ['gzip', truncated], ['deflate', body], ['br', body]] as const) {
      const r = await send(t.server.url, { headers: { 'content-type': 'application/json', 'content-encoding': coding }, body: sent });
      assert.equal(r.status, 400, coding);
      assert.equal(r.body, `400 Bad Request: the body is not valid ${coding} (Content-Encoding: ${coding})\n`);
    }
  });

  it('a fragment in the address does not take a signed route out of its secret', async () => {
    const body = taskWebhook({ name: 'fragment', responsible: ['1'], sequenceId: 71004 });
    const r = await send(t.server.url, { path: '/Bpium/NewTask#anything', headers: { 'content-type': 'application/json' }, body: Buffer.from(body) });
    assert.equal(r.status, 401, r.body);
    assert.match(r.body, /X-Hook-Signature/);
  });

  it('HEAD runs nothing: 405 with Allow and the length of its text, no body, nothing stored or started, on both routes', async () => {
    const runs = async () => (await t.server.store.listRuns({ limit: 1000 })).items.length;
    const inbox = async () => (await t.server.store.counts()).inbox.total;
    const [runsBefore, inboxBefore] = [await runs(), await inbox()];
    // /Bpium/TaskChat is unsigned: a GET there runs HTTP404, which starts BpiumTaskChat; a HEAD must not.
    const head = await send(t.server.url, { method: 'HEAD', path: '/Bpium/TaskChat' });
    const viaExpress = await send(t.server.url, { method: 'HEAD', path: '/Bpium/TaskChat', headers: { 'content-encoding': 'gzip' } });
    const expected = `405 Method Not Allowed: HEAD does not run the hook scenario HTTP404 (its effects would happen for an answer without a body); send the webhook with POST or GET, and probe the server with GET or HEAD /-/health\n`;
    assert.equal(head.status, 405);
    assert.equal(head.body, '');
    assert.equal(head.headers.allow, 'GET, POST, PUT, PATCH, DELETE, OPTIONS');
    assert.equal(head.headers['content-length'], String(Buffer.byteLength(expected)));
    assert.equal(head.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(head.headers['x-oktell-run-id'], undefined);
    assert.deepEqual(shape(viaExpress), shape(head));
    assert.equal(viaExpress.headers.allow, head.headers.allow);
    // A signed path too: the HEAD is refused for its method, before the signature is asked for.
    assert.equal((await send(t.server.url, { method: 'HEAD', path: '/Bpium/NewTask' })).status, 405);
    // Without credentials the login is checked first, as for any request.
    assert.equal((await send(t.server.url, { method: 'HEAD', path: '/Bpium/TaskChat', headers: { authorization: '' } })).status, 401);
    assert.equal(await runs(), runsBefore, 'no run, no job');
    assert.equal(await inbox(), inboxBefore, 'nothing stored');
    // The same address by GET runs HTTP404 (and its job) as before.
    const get = await send(t.server.url, { method: 'GET', path: '/Bpium/TaskChat' });
    assert.equal(get.status, 200);
    assert.equal(typeof get.headers['x-oktell-run-id'], 'string');
    await waitFor('the GET’s job run', async () => ((await runs()) >= runsBefore + 2 ? true : undefined));
  });

  it('hook: { head: run } in the configuration runs HTTP404 for a HEAD as for a GET: its headers and run, no body', async () => {
    const own = await startTestServer({ config: 'hook:\n  head: run\n' });
    try {
      const runs = async () => (await own.server.store.listRuns({ limit: 1000 })).items.length;
      const head = await send(own.server.url, { method: 'HEAD', path: '/Bpium/TaskChat' });
      assert.equal(head.status, 200);
      assert.equal(head.body, '');
      assert.equal(head.headers.allow, undefined);
      assert.equal(typeof head.headers['x-oktell-run-id'], 'string');
      const run = await own.server.store.getRun(String(head.headers['x-oktell-run-id']));
      assert.equal((run?.params as Record<string, unknown> | undefined)?.['3'], 'HEAD', 'the scenario sees the method as input parameter 3');
      await waitFor('the HEAD’s job run', async () => ((await runs()) >= 2 ? true : undefined));
    } finally {
      await own.cleanup();
    }
  });

  it('OKTELL_HOOK_HEAD takes refuse or run (any case), wins over the file, and refuses anything else', () => {
    const read = (env: Record<string, string>) => loadServerConfig({}, env).hook.head;
    assert.equal(read({}), 'refuse');
    assert.equal(read({ OKTELL_HOOK_HEAD: ' Run ' }), 'run');
    assert.throws(() => read({ OKTELL_HOOK_HEAD: 'allow' }), /OKTELL_HOOK_HEAD="allow" must be refuse .* or run/);
  });

  it('Expect: 100-continue: a request refused before its body gets the refusal without 100 Continue; one that will be read gets 100 first', async () => {
    const body = taskWebhook({ name: 'after continue', responsible: ['1'], sequenceId: 71101 });
    const signed = { 'content-type': 'application/json', 'x-hook-signature': signBpiumBody(t.secret, body) };
    const big = Buffer.alloc(t.server.config.bodyLimitBytes - 1, 0x20);
    const badAuth = `Basic ${Buffer.from('bpium:wrong').toString('base64')}`;
    const cases: Array<[string, { path: string; headers: Record<string, string>; body: Buffer }, boolean, number]> = [
      ['hook, no credentials, a large body', { path: '/Bpium/NewTask', headers: { 'content-type': 'application/json' }, body: big }, false, 401],
      ['hook, wrong password', { path: '/Bpium/NewTask', headers: { ...signed, authorization: badAuth }, body: Buffer.from(body) }, false, 401],
      ['hook, Content-Length over the limit', { path: '/Bpium/NewTask', headers: { ...signed, authorization: AUTH, 'content-length': String(t.server.config.bodyLimitBytes + 1) }, body: Buffer.alloc(0) }, false, 413],
      ['hook, a cross-site browser', { path: '/Bpium/NewTask', headers: { ...signed, authorization: AUTH, 'sec-fetch-site': 'cross-site', 'content-type': 'text/plain' }, body: Buffer.from(body) }, false, 403],
      ['hook, good credentials', { path: '/Bpium/NewTask', headers: { ...signed, authorization: AUTH }, body: Buffer.from(body) }, true, 200],
      ['hook through express (gzip), no credentials', { path: '/Bpium/NewTask', headers: { ...signed, 'content-encoding': 'gzip' }, body: gzipSync(body) }, false, 401],
      ['hook through express (gzip), good credentials', { path: '/Bpium/NewTask', headers: { ...signed, authorization: AUTH, 'content-encoding': 'gzip' }, body: gzipSync(body) }, true, 200],
      ['Web-API, no credentials', { path: '/execsvcscriptplain', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from('name=HTTP404') }, false, 401],
      ['Web-API, good credentials', { path: '/execsvcscriptplain', headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from('name=HTTP404') }, true, 200],
      ['console, no credentials', { path: '/-/console/', headers: {}, body: Buffer.from('x') }, false, 401],
      // Only GET and HEAD of /-/health need no credentials: a POST there is refused before its body like any other.
      ['POST /-/health, no credentials', { path: '/-/health', headers: {}, body: Buffer.from('x') }, false, 401],
    ];
    for (const [what, request, continued, status] of cases) {
      const seen = await sendExpecting(t.server.url, request);
      assert.equal(seen.status, status, `${what}: ${seen.body}`);
      assert.equal(seen.continued, continued, `${what}: 100 Continue ${continued ? 'expected' : 'sent before the refusal'}`);
    }
  });

  it('the server’s own routes never reach the hook, whatever the case of their address', async () => {
    const health = await send(t.server.url, { method: 'GET', path: '/-/health' });
    assert.equal(health.status, 200);
    assert.equal(JSON.parse(health.body).status, 'ok');
    const api = await send(t.server.url, { method: 'GET', path: '/ExecSvcScriptPlain?name=Nope' });
    assert.equal(api.status, 404);
    assert.match(api.body, /unknown service scenario "Nope"/);
  });
});

describe('the hook route’s details', () => {
  it('sends every answer as UTF-8, looking up a bare extension as express does', async () => {
    const { utf8Type } = await import('../../server/hook-listener.js');
    assert.equal(utf8Type('json'), 'application/json; charset=utf-8');
    assert.equal(utf8Type('html'), 'text/html; charset=utf-8');
    assert.equal(utf8Type('text/html; charset=windows-1251'), 'text/html; charset=utf-8');
    assert.equal(utf8Type('application/xml'), 'application/xml; charset=utf-8');
    assert.equal(utf8Type('not a type'), 'text/plain; charset=utf-8');
  });
});
