// The server behind a reverse proxy that ends TLS (nginx as docs/configuration.md and docs/scaling.md set it up): the
// proxy talks plain http to the server from loopback, passes `Host $host` (the name without the port) and perhaps no
// X-Forwarded-Proto, while the browser's own requests say `Origin: https://name:port` and `Sec-Fetch-Site:
// same-origin`. nginx itself cannot run here, so its requests are made by hand with the headers it sends.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { signBpiumBody } from '../../adapters/bpium/signature.js';
import { AUTH, csrfToken, startConsoleServer, taskWebhook } from '../console/console-helpers.js';
import { capturingLogger } from './server-helpers.js';

type Server = Awaited<ReturnType<typeof startConsoleServer>>;

/** One request as nginx passes it on: any Host header (fetch would not let us write it), the body given. */
function proxied(url: string, method: string, headers: Record<string, string>, body = ''): Promise<{ status: number; text: string; location?: string; runId?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), location: res.headers.location, runId: res.headers['x-oktell-run-id'] as string | undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('behind a reverse proxy that ends TLS', () => {
  let t: Server;
  before(async () => {
    t = await startConsoleServer({}, { OKTELL_TRUST_PROXY: 'loopback' });
  });
  after(async () => t?.cleanup());

  // What Chromium sends for the console's own form at https://oktell.example:8443/-/console/dry-run, as nginx with
  // `proxy_set_header Host $host` passes it on (no X-Forwarded-Proto: scaling.md's example did not set one).
  const browserThroughProxy = (extra: Record<string, string> = {}) => ({
    host: 'oktell.example',
    origin: 'https://oktell.example:8443',
    'sec-fetch-site': 'same-origin',
    'x-forwarded-for': '203.0.113.7',
    ...extra,
  });

  it("accepts the console's own forms, which the browser marks same-origin, whatever scheme and port the proxy hides", { timeout: 20_000 }, async () => {
    const csrf = await csrfToken(t.base);
    const form = new URLSearchParams({ csrf, scenario: 'ReadUser', mode: 'params', p1: '2' }).toString();
    const headers = { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded' };
    for (const extra of [{}, { 'x-forwarded-proto': 'https' }] as Array<Record<string, string>>) {
      const res = await proxied(`${t.base}/dry-run`, 'POST', { ...headers, ...browserThroughProxy(extra) }, form);
      assert.equal(res.status, 303, `${JSON.stringify(extra)}: ${res.text}`);
      assert.match(res.location ?? '', /^\/-\/console\/dry-run\/[^/]+#result$/, 'a relative Location, which the browser keeps on https and the port');
    }
    // Another site is still refused, through the proxy as directly.
    const foreign = await proxied(`${t.base}/dry-run`, 'POST', { ...headers, ...browserThroughProxy({ origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }) }, form);
    assert.equal(foreign.status, 403);
    // A browser that sends no Sec-Fetch-Site is still held to its Origin.
    const noFetchMetadata = await proxied(`${t.base}/dry-run`, 'POST', { ...headers, host: 'oktell.example', origin: 'https://evil.example' }, form);
    assert.equal(noFetchMetadata.status, 403);
  });

  it('the hook and the Web-API accept a same-origin browser request through the proxy and still refuse other sites', { timeout: 20_000 }, async () => {
    const body = taskWebhook({ name: 'Через прокси', responsible: ['2'], sequenceId: 4901 });
    const hookHeaders = { authorization: AUTH, 'content-type': 'application/json', 'x-hook-signature': signBpiumBody(t.secret, body) };
    const hook = await proxied(`${t.server.url}/Bpium/NewTask`, 'POST', { ...hookHeaders, ...browserThroughProxy() }, body);
    assert.equal(hook.status, 200, hook.text);
    const api = await proxied(`${t.server.url}/execsvcscriptplain?name=ReadUser&startparam1=2&async=1`, 'GET', { authorization: AUTH, ...browserThroughProxy() });
    assert.equal(api.status, 200, api.text);
    const other = await proxied(`${t.server.url}/execsvcscriptplain?name=ReadUser&startparam1=2&async=1`, 'GET', { authorization: AUTH, ...browserThroughProxy({ 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }) });
    assert.equal(other.status, 403);
    const typed = await proxied(`${t.server.url}/execsvcscriptplain?name=ReadUser&startparam1=2&async=1`, 'GET', { authorization: AUTH, ...browserThroughProxy({ 'sec-fetch-site': 'none' }) });
    assert.equal(typed.status, 403);
  });

  it('serves the console under the path prefix a trusted proxy names in X-Forwarded-Prefix', { timeout: 20_000 }, async () => {
    // nginx: location /oktell/ { proxy_pass http://127.0.0.1:4055/; proxy_set_header X-Forwarded-Prefix /oktell; }
    const viaProxy = { authorization: AUTH, host: 'oktell.example', 'x-forwarded-proto': 'https', 'x-forwarded-prefix': '/oktell' };
    const landing = await proxied(`${t.base}/`, 'GET', viaProxy);
    assert.equal(landing.status, 303);
    assert.equal(landing.location, '/oktell/-/console/runs');
    const page = await proxied(`${t.base}/runs`, 'GET', viaProxy);
    assert.equal(page.status, 200);
    const links = [...page.text.matchAll(/(?:href|src|action|data-live)="(\/[^"]*)"/g)].map((m) => m[1]!);
    assert.ok(links.length > 5, `links found: ${links.join(' ')}`);
    assert.deepEqual(links.filter((l) => !l.startsWith('/oktell/-/console/')), [], 'every link stays under the prefix');
    const json = JSON.parse((await proxied(`${t.base}/runs.json`, 'GET', viaProxy)).text) as { items: Array<{ href: string }> };
    assert.ok(json.items.length > 0 && json.items.every((i) => i.href.startsWith('/oktell/-/console/')), 'the live list links under the prefix');
    // The form posts back under the prefix and is sent on to where the result is.
    const csrf = /name="csrf" value="([^"]+)"/.exec((await proxied(`${t.base}/dry-run`, 'GET', viaProxy)).text)![1]!;
    const form = new URLSearchParams({ csrf, scenario: 'ReadUser', mode: 'params', p1: '2' }).toString();
    const posted = await proxied(`${t.base}/dry-run`, 'POST', { ...viaProxy, 'content-type': 'application/x-www-form-urlencoded', origin: 'https://oktell.example', 'sec-fetch-site': 'same-origin' }, form);
    assert.equal(posted.status, 303, posted.text);
    assert.match(posted.location ?? '', /^\/oktell\/-\/console\/dry-run\/[^/]+#result$/);
    // Not a plain path: ignored, never put into a Location.
    for (const bad of ['//evil.example', 'https://evil.example', '/a/../b', '/x"><script>', '/ok?x=1']) {
      assert.equal((await proxied(`${t.base}/`, 'GET', { ...viaProxy, 'x-forwarded-prefix': bad })).location, '/-/console/runs', bad);
    }
  });

  it('says once in the log that a trusted proxy\'s prefix is not a plain path, and nothing for the root', { timeout: 20_000 }, async () => {
    const log = capturingLogger();
    const t2 = await startConsoleServer({}, { OKTELL_TRUST_PROXY: 'loopback' }, { logger: log.logger });
    try {
      // nginx passes a Cyrillic prefix as its UTF-8 bytes, which Node reads as Latin-1 text.
      for (const prefix of ['/', '/a b', Buffer.from('/октелл').toString('latin1'), '/%D0%BE']) {
        const res = await proxied(`${t2.base}/`, 'GET', { authorization: AUTH, 'x-forwarded-prefix': prefix });
        assert.equal(res.location, '/-/console/runs', prefix);
      }
      const said = log.lines.filter((l) => /X-Forwarded-Prefix/.test(l.msg ?? ''));
      assert.equal(said.length, 1, JSON.stringify(said));
      assert.equal(said[0]!.level, 'warn');
      assert.equal(said[0]!.obj.prefix, '/a b');
      assert.match(said[0]!.msg!, /is not a plain path .* so it is ignored and the console's links and redirects go to \/-\/console from the root/);
    } finally {
      await t2.cleanup();
    }
  });

  it('ignores X-Forwarded-Prefix from a client that is not a trusted proxy', { timeout: 20_000 }, async () => {
    // The proxy is elsewhere (10.0.0.0/8): a client on loopback is not it, and cannot move the console's links.
    const t2 = await startConsoleServer({}, { OKTELL_TRUST_PROXY: '10.0.0.0/8' });
    try {
      const res = await proxied(`${t2.base}/`, 'GET', { authorization: AUTH, 'x-forwarded-prefix': '/elsewhere' });
      assert.equal(res.status, 303);
      assert.equal(res.location, '/-/console/runs');
    } finally {
      await t2.cleanup();
    }
  });

  it('takes the client address from the proxy it trusts, and ignores X-Forwarded-For from anyone else', { timeout: 20_000 }, async () => {
    // loopback is trusted: the address nginx appended is the client's, the one the client wrote itself is not.
    const body = taskWebhook({ name: 'Адрес клиента', responsible: ['2'], sequenceId: 4902 });
    const res = await proxied(`${t.server.url}/Bpium/NewTask`, 'POST', { authorization: AUTH, 'content-type': 'application/json', 'x-hook-signature': signBpiumBody(t.secret, body), 'x-forwarded-for': '6.6.6.6, 203.0.113.7' }, body);
    assert.equal(res.status, 200, res.text);
    const run = await t.server.store.getRun(res.runId!);
    const inbox = await t.server.store.getInboxEntry(run!.inboxId!);
    assert.equal(inbox?.remoteAddress, '203.0.113.7');
  });
});
