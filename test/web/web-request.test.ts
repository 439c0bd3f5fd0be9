// The WebRequest block against a real HTTP server on 127.0.0.1: methods, bodies, query encoding, headers, auth, every
// exit and retry rule, redirects, the answer cap, the host allow-list, the journal replay, dry runs and the effect cap.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, LookupFunction } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createWebClient, headersForRedirect, isLinkLocal, refusalBeforeSending, type WebClient, type WebClientOptions } from '../../adapters/web/client.js';
import { HostRefused, isLinkLocalAddress, refusingLinkLocal } from '../../adapters/web/link-local.js';
import { httpCallNote } from '../../server/console/call-notes.js';
import { httpCallLine } from '../../cli/format.js';
import { httpCallsOf } from '../../server/console/http-calls.js';
import { defaultRegistry } from '../../components/registry.js';
import {
  createInProcessStarter,
  loadScenarioLibrary,
  loadScenarioText,
  randomIds,
  runScenario,
  systemClock,
  type EffectJournalPort,
  type JsonValue,
  type RunOptions,
  type RunResult,
} from '../../engine/index.js';
import { repoPath, tempDir } from '../helpers.js';

/** What the test server saw of one request. */
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

type Handler = (req: IncomingMessage, res: ServerResponse, seen: Seen) => void;

describe('the WebRequest block over HTTP', () => {
  let server: Server;
  let base: string;
  let seen: Seen[] = [];
  const routes = new Map<string, Handler>();
  let tmp: ReturnType<typeof tempDir>;
  const clients: WebClient[] = [];

  before(async () => {
    tmp = tempDir();
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const s: Seen = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
        seen.push(s);
        const route = routes.get(new URL(req.url!, 'http://x').pathname);
        if (route) route(req, res, s);
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, method: s.method }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const c of clients) c.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    tmp.cleanup();
  });
  beforeEach(() => {
    seen = [];
    routes.clear();
  });

  let n = 0;
  /** A scenario calling one WebRequest block with `props`; each exit returns its name and the variables. */
  async function run(props: string, o: { exits?: string; client?: WebClientOptions; dryRun?: boolean; vars?: Record<string, string>; extra?: Partial<RunOptions> } = {}): Promise<RunResult> {
    const name = `Web${++n}`;
    const exits = o.exits ?? '{ success: ok, error: bad, timeout: slow }';
    // A block for each wired exit that returns the exit's name.
    const ends = Object.entries({ ok: 'success', bad: 'error', slow: 'timeout' })
      .filter(([id]) => exits.includes(`: ${id}`))
      .map(([id, exit]) => `  ${id}: { kind: ReturnValue, values: { 1: '"${exit}"' } }\n`)
      .join('');
    const text = `variables: { base: string, secret: string, value: string, status: number, body: string, headers: string, code: string }
start: call
blocks:
  call:
    kind: WebRequest
${props.replace(/^/gm, '    ')}
    status: status
    responseBody: body
    responseHeaders: headers
    errorCode: code
    exits: ${exits}
${ends}`;
    writeFileSync(join(tmp.dir, `${name}.yaml`), text);
    const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry }, [join(tmp.dir, `${name}.yaml`)]);
    assert.deepEqual(lib.issues, [], text);
    const client = createWebClient({ retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 }, ...o.client });
    clients.push(client);
    return runScenario(lib, name, {
      dryRun: o.dryRun === true,
      variables: { base, secret: 's3cr3t-token', ...o.vars },
      ports: { web: client, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) },
      ...o.extra,
    });
  }
  const exitOf = (r: RunResult) => {
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    return r.returnValues['1'];
  };

  it('GET: query values are encoded, headers and Basic auth are sent, the answer lands in the variables', async () => {
    routes.set('/users', (_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'x-total': '1' }).end('{"name":"Иван"}'));
    const r = await run(`url: '[base] + "/users?fixed=1"'
query: { q: '"a b&c=d/é"', 'ключ': '[value]' }
headers: { X-Request-Id: '"r-1"' }
auth: { user: '"ivan"', password: '[secret]' }`, { vars: { value: '#1?' } });
    assert.equal(exitOf(r), 'success');
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.method, 'GET');
    assert.equal(seen[0]!.url, '/users?fixed=1&q=a%20b%26c%3Dd%2F%C3%A9&%D0%BA%D0%BB%D1%8E%D1%87=%231%3F');
    assert.equal(seen[0]!.headers['x-request-id'], 'r-1');
    assert.equal(seen[0]!.headers.authorization, `Basic ${Buffer.from('ivan:s3cr3t-token').toString('base64')}`);
    assert.equal(r.variables.status, 200);
    assert.equal(r.variables.body, '{"name":"Иван"}');
    assert.equal((JSON.parse(String(r.variables.headers)) as Record<string, string>)['x-total'], '1');
    assert.equal(r.variables.code, '');
    assert.deepEqual(r.httpCalls?.map((c) => [c.method, c.status, c.outcome, c.performed]), [['GET', 200, 'ok', true]]);
    // The password is in no trace nor record.
    assert.ok(!JSON.stringify({ t: r.trace, h: r.httpCalls }).includes(Buffer.from('ivan:s3cr3t-token').toString('base64')));
  });

  it('a fragment ("#…") is neither sent nor recorded, nor kept after a query added to the url; a note says so', async () => {
    // Before, the run's record and trace kept `#frag@host/hook` (in `http://u:7/X#frag@host/hook` the rest of a
    // password of digits) and `#x?token=SECRET` unmasked, after the query the block added too.
    for (const [tail, query, sent, shown] of [
      ['/X#frag@host/hook', '', '/X', '/X'],
      ['/X?a=1#frag@host/hook', `query: { token: '[secret]' }`, '/X?a=1&token=s3cr3t-token', '/X?a=1&token=***'],
      ['/X#x?token=SECRET456', '', '/X', '/X'],
      ['/X#', '', '/X', '/X'],
    ] as const) {
      seen = [];
      const r = await run(`url: '[base] + "${tail}"'${query ? `\n${query}` : ''}`);
      assert.equal(exitOf(r), 'success', tail);
      assert.deepEqual(seen.map((x) => x.url), [sent], tail);
      assert.deepEqual(r.httpCalls?.map((c) => c.url), [`${base}${shown}`], tail);
      const step = r.trace.find((t) => t.block === 'call')!;
      assert.equal((step.effect as { request: { url: string } }).request.url, `${base}${shown}`, tail);
      assert.ok(!JSON.stringify({ t: r.trace, h: r.httpCalls }).includes('SECRET456'), tail);
      assert.match(step.notes?.join(' ') ?? '', new RegExp(`the url has a "#": what follows it \\(a fragment\\) is not sent nor recorded, and the request goes to "${base}${shown.replace(/[?*]/g, '\\$&')}"`), tail);
    }
    // A url without one has no such note.
    const plain = await run(`url: '[base] + "/X"'`);
    assert.equal(plain.trace.find((t) => t.block === 'call')!.notes, undefined);
  });

  it('a message quoting a url or a Location leaves out what follows its "#" (a fragment, which may be a token)', async () => {
    // Before, a refused "." segment quoted the url as written, its fragment with it, and a redirect not followed quoted
    // its Location whole (an OAuth callback's "#access_token=…"): both in the run's web requests, the trace and errors.
    routes.set('/cb', (_q, res) => res.writeHead(302, { location: '/next#access_token=SECRET456' }).end());
    const cases: Array<[string, RegExp]> = [
      [`url: '[base] + "/a/../b#SECRET456"'`, /resolved away and call another address than the one written \("http:\/\/127\.0\.0\.1:\d+\/a\/\.\.\/b"\)/],
      [`url: '[base] + "/a/../b#x?token=SECRET456"'`, /than the one written \("http:\/\/127\.0\.0\.1:\d+\/a\/\.\.\/b"\)/],
      [`url: '[base] + "/cb"'\nmaxRedirects: 0`, /^redirected to "\/next": not followed, as maxRedirects is 0/],
    ];
    for (const [props, message] of cases) {
      const r = await run(props);
      assert.equal(exitOf(r), 'error', props);
      assert.match(String(r.httpCalls?.[0]?.error), message, props);
      // The answer's own headers (responseHeaders) are the service's data, kept as they came: only what is said of it.
      const step = r.trace.find((t) => t.block === 'call')!;
      assert.ok(!JSON.stringify({ h: r.httpCalls, notes: step.notes, effect: step.effect }).includes('SECRET456'), props);
    }
  });

  it('every method, with JSON, form and raw bodies and their content types', async () => {
    const cases: Array<[string, string, string, string]> = [
      ['POST', `json: { to: '"+7 900"', count: 2, nested: { ok: true, when: '[value]' } }`, 'application/json; charset=utf-8', '{"to":"+7 900","count":2,"nested":{"ok":true,"when":"x"}}'],
      ['PUT', `form: { name: '"Иван Петров"', note: '"a&b=c"' }`, 'application/x-www-form-urlencoded', 'name=%D0%98%D0%B2%D0%B0%D0%BD+%D0%9F%D0%B5%D1%82%D1%80%D0%BE%D0%B2&note=a%26b%3Dc'],
      ['PATCH', `body: '"<x>" + [value] + "</x>"'\ncontentType: application/xml`, 'application/xml', '<x>x</x>'],
      ['DELETE', '', '', ''],
      ['HEAD', '', '', ''],
      ['OPTIONS', '', '', ''],
    ];
    for (const [method, body, type, sent] of cases) {
      seen = [];
      const r = await run(`method: ${method}\nurl: '[base] + "/m"'\n${body}`, { vars: { value: 'x' } });
      assert.equal(exitOf(r), 'success', method);
      assert.equal(seen[0]!.method, method);
      assert.equal(seen[0]!.body, sent, method);
      if (type) assert.equal(seen[0]!.headers['content-type'], type, method);
    }
  });

  it('a 404 takes the error exit with the status in errorCode; unwired, the run fails for good', async () => {
    routes.set('/missing', (_req, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('no such thing'));
    const r = await run(`url: '[base] + "/missing"'`);
    assert.equal(exitOf(r), 'error');
    assert.equal(r.variables.code, '404');
    assert.equal(r.variables.status, 404);
    assert.equal(r.variables.body, 'no such thing');
    assert.equal(seen.length, 1, 'a 4xx is not retried');
    const unwired = await run(`url: '[base] + "/missing"'`, { exits: '{ success: ok }' });
    assert.equal(unwired.status, 'failed');
    assert.equal(unwired.error?.code, 'R_EFFECT_PERMANENT');
    assert.equal(unwired.error?.retryable, false);
  });

  it('a 503 twice, then 200: retried inside the block, the attempts in the trace', async () => {
    let calls = 0;
    routes.set('/flaky', (_req, res) => (++calls <= 2 ? res.writeHead(503).end() : res.writeHead(200).end('fine')));
    const r = await run(`url: '[base] + "/flaky"'`);
    assert.equal(exitOf(r), 'success');
    assert.equal(r.variables.body, 'fine');
    const effect = r.trace.find((s) => s.block === 'call')!.effect as { attempts: Array<{ status: number }> };
    assert.deepEqual(effect.attempts.map((a) => a.status), [503, 503, 200]);
    assert.equal(r.httpCalls?.[0]?.attempts, 3);
  });

  it('a 429 with Retry-After: waits as asked, then succeeds', async () => {
    let calls = 0;
    routes.set('/limited', (_req, res) => (++calls === 1 ? res.writeHead(429, { 'retry-after': '1' }).end() : res.writeHead(200).end('ok')));
    const r = await run(`url: '[base] + "/limited"'`);
    assert.equal(exitOf(r), 'success');
    assert.equal(seen.length, 2);
    assert.ok(seen[1]!.at - seen[0]!.at >= 900, `waited ${seen[1]!.at - seen[0]!.at} ms, Retry-After asked 1000`);
  });

  it('a 408 and 5xx that persist: the timeout exit when wired, else the run fails as retryable', async () => {
    routes.set('/down', (_req, res) => res.writeHead(500).end());
    const wired = await run(`url: '[base] + "/down"'`);
    assert.equal(exitOf(wired), 'timeout');
    assert.equal(wired.variables.code, '500');
    assert.equal(seen.length, 3);
    // The service got the requests and answered them: performed, not "not sent".
    assert.deepEqual(wired.httpCalls?.map((c) => [c.status, c.outcome, c.performed, c.attempts]), [[500, 'timeout', true, 3]]);
    routes.set('/down', (_req, res) => res.writeHead(408).end());
    const unwired = await run(`url: '[base] + "/down"'`, { exits: '{ success: ok, error: bad }' });
    assert.equal(unwired.status, 'failed');
    assert.equal(unwired.error?.code, 'R_EFFECT_TRANSIENT');
    assert.equal(unwired.error?.retryable, true);
    assert.equal(unwired.error?.block, 'call');
  });

  it('a 5xx that outlasts the retries: status, headers and body of the last answer are set before the timeout exit', async () => {
    let calls = 0;
    routes.set('/boom', (_req, res) => res.writeHead(500, { 'content-type': 'text/plain', 'x-trace': `t-${++calls}` }).end(`boom ${calls}`));
    const r = await run(`url: '[base] + "/boom"'`);
    assert.equal(exitOf(r), 'timeout');
    assert.equal(r.variables.code, '500');
    assert.equal(r.variables.status, 500);
    assert.equal(r.variables.body, 'boom 3', 'the text of the last answer');
    assert.equal((JSON.parse(String(r.variables.headers)) as Record<string, string>)['x-trace'], 't-3');
    assert.deepEqual(r.httpCalls?.map((c) => [c.status, c.outcome, c.performed, c.attempts]), [[500, 'timeout', true, 3]]);
    // The trace keeps the answer as it keeps a 404's, so --from-run makes a fixture with the same body.
    assert.deepEqual((r.trace[0]!.effect as { answer?: unknown }).answer, { body: 'boom 3', contentType: 'text/plain' });
  });

  it('no answer in time: retried, then the timeout exit with HTTP_TIMEOUT', async () => {
    routes.set('/hang', () => undefined);
    const r = await run(`url: '[base] + "/hang"'\ntimeout: 0.2`, { client: { retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 10 } } });
    assert.equal(exitOf(r), 'timeout');
    assert.equal(r.variables.code, 'HTTP_TIMEOUT');
    assert.equal(seen.length, 2);
    assert.equal(r.httpCalls?.[0]?.outcome, 'timeout');
    assert.equal(r.httpCalls?.[0]?.performed, false);
  });

  it('a network failure (nothing listens): the timeout exit with HTTP_NETWORK', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const r = await run(`url: '"http://127.0.0.1:${port}/x"'`);
    assert.equal(exitOf(r), 'timeout');
    assert.equal(r.variables.code, 'HTTP_NETWORK');
  });

  it('a slow, long body is cut at the cap: the error exit with HTTP_TOO_LARGE', async () => {
    routes.set('/big', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let sent = 0;
      const timer = setInterval(() => {
        if (res.destroyed || sent >= 50) {
          clearInterval(timer);
          res.end();
          return;
        }
        res.write('x'.repeat(100));
        sent++;
      }, 5);
    });
    const r = await run(`url: '[base] + "/big"'`, { client: { maxResponseBytes: 1000 } });
    assert.equal(exitOf(r), 'error');
    assert.equal(r.variables.code, 'HTTP_TOO_LARGE');
    assert.equal(seen.length, 1, 'a body too large is not retried');
  });

  it('a body over the cap that arrives whole in one read takes the error exit too, and the next request still works', async () => {
    // Chunked (no Content-Length), written at once: the whole answer is in the first read, complete before the cap is checked.
    routes.set('/whole', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ items: 'x'.repeat(20_000) }));
    });
    routes.set('/small', (_req, res) => res.writeHead(200).end('fine'));
    for (let i = 0; i < 3; i++) {
      const r = await run(`url: '[base] + "/whole"'`, { client: { maxResponseBytes: 10_240 } });
      assert.equal(exitOf(r), 'error');
      assert.equal(r.variables.code, 'HTTP_TOO_LARGE');
    }
    // Give a stray socket error (the old crash) a turn to surface before the next request.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const after = await run(`url: '[base] + "/small"'`, { client: { maxResponseBytes: 10_240 } });
    assert.equal(exitOf(after), 'success');
    assert.equal(after.variables.body, 'fine');
  });

  it('an answer over the cap: status and headers are set, the body is left empty, and the call shows the server answered', async () => {
    routes.set('/huge', (_req, res) => res.writeHead(200, { 'content-length': '50000', 'x-total': '9' }).end('x'.repeat(50000)));
    const r = await run(`url: '[base] + "/huge"'`, { client: { maxResponseBytes: 1000 } });
    assert.equal(exitOf(r), 'error');
    assert.equal(r.variables.code, 'HTTP_TOO_LARGE');
    assert.equal(r.variables.status, 200);
    assert.equal(r.variables.body, '');
    assert.equal((JSON.parse(String(r.variables.headers)) as Record<string, string>)['x-total'], '9');
    const call = r.httpCalls![0]!;
    assert.deepEqual([call.status, call.outcome, call.performed], [200, 'error', true]);
    assert.equal(httpCallNote(call), '', 'not "no answer": the server answered');
    assert.match(call.error ?? '', /: answered 200, but the body has 50000 bytes, more than the cap of 1000 \(webRequest\.maxResponseBytes/);
    assert.match(httpCallLine(call).replace(/\x1b\[[0-9;]*m/g, ''), /^http GET http:\/\/127\.0\.0\.1:\d+\/huge → 200 error GET .*answered 200, but the body has 50000 bytes/);
    // The console, which reads stored runs from their trace, shows the same.
    assert.deepEqual(httpCallsOf({}, r.trace).map((c) => [c.status, c.outcome, c.performed]), [[200, 'error', true]]);
  });

  it('a HEAD answer is not refused by the size its Content-Length names: it has no body', async () => {
    routes.set('/file', (_req, res) => res.writeHead(200, { 'content-length': '50000', 'content-type': 'application/zip' }).end());
    const r = await run(`url: '[base] + "/file"'\nmethod: HEAD`, { client: { maxResponseBytes: 1000 } });
    assert.equal(exitOf(r), 'success');
    assert.equal(r.variables.status, 200);
    assert.deepEqual(seen.map((s) => s.method), ['HEAD']);
    seen = [];
    routes.set('/file-get', (_req, res) => res.writeHead(200, { 'content-length': '50000' }).end('x'.repeat(50000)));
    const got = await run(`url: '[base] + "/file-get"'`, { client: { maxResponseBytes: 1000 } });
    assert.equal(got.variables.code, 'HTTP_TOO_LARGE', 'a GET of the same size is still refused');
  });

  it('redirects are refused by default (the 3xx is the answer) and followed up to maxRedirects', async () => {
    routes.set('/old', (_req, res) => res.writeHead(302, { location: '/new' }).end());
    routes.set('/new', (_req, res) => res.writeHead(200).end('moved here'));
    const refused = await run(`url: '[base] + "/old"'`);
    assert.equal(exitOf(refused), 'error');
    assert.equal(refused.variables.code, '302');
    assert.deepEqual(seen.map((s) => s.url), ['/old']);
    seen = [];
    const followed = await run(`url: '[base] + "/old"'\nmaxRedirects: 1`);
    assert.equal(exitOf(followed), 'success');
    assert.equal(followed.variables.body, 'moved here');
    assert.deepEqual(seen.map((s) => s.url), ['/old', '/new']);
    seen = [];
    routes.set('/odd', (_req, res) => res.writeHead(302, { location: 'http://[bad' }).end());
    const odd = await run(`url: '[base] + "/odd"'\nmaxRedirects: 1`);
    assert.equal(exitOf(odd), 'error', 'a redirect to something that is not a URL is a refusal, not an outage');
    assert.equal(odd.variables.code, 'HTTP_BAD_URL');
    assert.equal(seen.length, 1);
  });

  it('a redirect to another origin drops the credentials; the same origin keeps them', async () => {
    routes.set('/away', (_req, res) => res.writeHead(302, { location: base.replace('127.0.0.1', 'localhost') + '/landed' }).end());
    routes.set('/near', (_req, res) => res.writeHead(302, { location: '/landed' }).end());
    routes.set('/landed', (_req, res) => res.writeHead(200).end('here'));
    await run(`url: '[base] + "/away"'\nmaxRedirects: 1\nauth: { bearer: '[secret]' }`);
    assert.deepEqual(seen.map((x) => [x.url, x.headers.authorization]), [['/away', 'Bearer s3cr3t-token'], ['/landed', undefined]]);
    seen = [];
    await run(`url: '[base] + "/near"'\nmaxRedirects: 1\nauth: { bearer: '[secret]' }`);
    assert.deepEqual(seen.map((x) => [x.url, x.headers.authorization]), [['/near', 'Bearer s3cr3t-token'], ['/landed', 'Bearer s3cr3t-token']]);
    // The scheme is part of the origin: https → http on the same host would send the token in clear.
    const h = { authorization: 'Bearer t', cookie: 'a=b', accept: '*/*' };
    assert.deepEqual(headersForRedirect(h, new URL('https://api.example.ru/a'), new URL('http://api.example.ru/b')), { accept: '*/*' });
    assert.deepEqual(headersForRedirect(h, new URL('https://api.example.ru/a'), new URL('https://api.example.ru:443/b')), h);
  });

  it('a redirect to another origin drops every header the trace masks as a credential, not only Authorization (review s30 L1)', async () => {
    // A second real server: another port is another origin.
    const other: Seen[] = [];
    const second = createServer((req, res) => {
      other.push({ method: req.method!, url: req.url!, headers: req.headers, body: '', at: Date.now() });
      res.writeHead(200).end('other');
    });
    await new Promise<void>((r) => second.listen(0, '127.0.0.1', r));
    const otherBase = `http://127.0.0.1:${(second.address() as AddressInfo).port}`;
    try {
      routes.set('/to-other', (_req, res) => res.writeHead(302, { location: `${otherBase}/landed` }).end());
      routes.set('/to-self', (_req, res) => res.writeHead(302, { location: '/landed' }).end());
      routes.set('/landed', (_req, res) => res.writeHead(200).end('here'));
      const headers = `headers: { X-Api-Key: '"k-1"', X-Auth-Token: '"t-2"', Api-Key: '"k-3"', X-Client-Secret: '"s-4"', Private-Token: '"t-5"', X-Trace-Id: '"trace-6"', Accept: '"text/plain"' }`;
      const away = await run(`url: '[base] + "/to-other"'\nmaxRedirects: 1\n${headers}`);
      assert.equal(exitOf(away), 'success');
      assert.equal(seen[0]!.headers['x-api-key'], 'k-1', 'the first hop has them all');
      assert.equal(other.length, 1);
      const landed = other[0]!.headers;
      for (const name of ['x-api-key', 'x-auth-token', 'api-key', 'x-client-secret', 'private-token']) assert.equal(landed[name], undefined, name);
      assert.equal(landed['x-trace-id'], 'trace-6', 'other headers still go');
      assert.equal(landed.accept, 'text/plain');
      seen = [];
      await run(`url: '[base] + "/to-self"'\nmaxRedirects: 1\n${headers}`);
      assert.deepEqual(seen.map((x) => [x.url, x.headers['x-api-key'], x.headers['x-client-secret']]), [['/to-self', 'k-1', 's-4'], ['/landed', 'k-1', 's-4']], 'the same origin keeps them');
      // https → http on the same host is another origin too: the key would cross the network in clear.
      const h = { 'x-api-key': 'k', 'x-auth-token': 't', accept: '*/*' };
      assert.deepEqual(headersForRedirect(h, new URL('https://api.example.ru/a'), new URL('http://api.example.ru/b')), { accept: '*/*' });
    } finally {
      second.closeAllConnections();
      await new Promise((r) => second.close(r));
    }
  });

  it('link-local addresses (cloud metadata) are refused without a request, also through a redirect or a decimal form, unless listed', async () => {
    const literals = ['http://169.254.169.254/latest/meta-data/', 'http://2852039166/', 'http://[fe80::1]/',
      // IPv4-mapped IPv6: URL writes the first as the second; the socket would reach 169.254.169.254.
      'http://[::ffff:169.254.169.254]/latest/', 'http://[::ffff:a9fe:a9fe]/latest/'];
    for (const url of literals) {
      // A short deadline: were the address not refused, the attempt would end in a timeout, not a refusal.
      const r = await run(`url: '"${url}"'\ntimeout: 0.5`, { client: { retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } } });
      assert.equal(r.variables.code, 'HTTP_HOST_REFUSED', url);
      assert.match(String(r.variables.error ?? JSON.stringify(r.trace)), /link-local/);
    }
    routes.set('/meta', (_req, res) => res.writeHead(302, { location: 'http://169.254.169.254/latest/' }).end());
    seen = [];
    const via = await run(`url: '[base] + "/meta"'\nmaxRedirects: 1`);
    assert.equal(via.variables.code, 'HTTP_HOST_REFUSED');
    assert.equal(seen.length, 1);
    assert.equal(isLinkLocal('169.254.0.1'), true);
    assert.equal(isLinkLocal('[::ffff:a9fe:a9fe]'), true);
    assert.equal(isLinkLocal('[::ffff:a00:1]'), false);
    assert.equal(isLinkLocal('10.0.0.1'), false);
    // Cloud metadata outside the link-local ranges: AWS over IPv6, Alibaba, and 169.254.169.254 through NAT64.
    for (const host of ['[fd00:ec2::254]', '100.100.100.200', '[64:ff9b::a9fe:a9fe]']) assert.equal(isLinkLocal(host), true, host);
    assert.equal(isLinkLocal('100.100.100.201'), false);
  });

  // Metadata addresses in IPv6, each as a URL names it (URL compresses and turns a dotted tail into hex) and in other
  // textual forms, as a resolver or a hosts file could answer it.
  const REFUSED_IPV6: Array<{ what: string; url: string; forms: string[] }> = [
    { what: "Google Cloud's IPv6 metadata server", url: '[fd20:ce::254]', forms: ['fd20:00ce:0000:0000:0000:0000:0000:0254', 'FD20:CE::254', 'fd20:ce::0.0.2.84', 'fd20:ce::254%eth0'] },
    { what: 'the same, written expanded', url: '[FD20:00CE:0:0:0:0:0:0254]', forms: [] },
    { what: 'IPv4-compatible 169.254.169.254', url: '[::169.254.169.254]', forms: ['::a9fe:a9fe', '0:0:0:0:0:0:169.254.169.254', '0000:0000:0000:0000:0000:0000:a9fe:a9fe'] },
    { what: 'IPv4-compatible, another 169.254 address', url: '[0:0:0:0:0:0:a9fe:1]', forms: [] },
    { what: 'IPv4-translated 169.254.169.254', url: '[::ffff:0:169.254.169.254]', forms: ['0:0:0:0:ffff:0:a9fe:a9fe'] },
    { what: '6to4 of 169.254.169.254', url: '[2002:a9fe:a9fe::1]', forms: ['2002:A9FE:A9FE:0:0:0:0:1', '2002:a9fe:a9fe::169.254.169.254'] },
    { what: '6to4 of another 169.254 address', url: '[2002:a9fe:1:2::]', forms: [] },
    { what: 'local-use NAT64, a /96 prefix', url: '[64:ff9b:1::169.254.169.254]', forms: ['64:ff9b:1::a9fe:a9fe', '64:ff9b:1:0:0:0:a9fe:a9fe', '0064:ff9b:0001:0000:0000:0000:169.254.169.254'] },
    { what: 'local-use NAT64, a /48 prefix', url: '[64:ff9b:1:a9fe:a9:fe00::]', forms: [] },
    { what: 'local-use NAT64, a /56 prefix', url: '[64:ff9b:1:12a9:fe:a9fe::]', forms: [] },
    { what: 'local-use NAT64, a /64 prefix', url: '[64:ff9b:1:1:a9:fea9:fe00:0]', forms: [] },
    { what: 'well-known NAT64 of Alibaba\'s metadata address', url: '[64:ff9b::100.100.100.200]', forms: ['64:ff9b::6464:64c8'] },
  ];
  // Addresses next to those, or ordinary ones in the same forms: none is refused.
  const ALLOWED_IPV6 = ['[2001:db8::1]', '[2606:4700:4700::1111]', '[::1]', '[fd20:ce::253]', '[fd20:ce:1::254]', '[fd00:ec2::1]',
    '[fe7f::1]', '[2002:c000:204::1]', '[2002:a9fd:ffff::1]', '[64:ff9b::808:808]', '[64:ff9b::a9fd:ffff]', '[64:ff9b:1::c000:201]',
    '[64:ff9b:1:1::a9fd:1]', '[::c000:201]', '[::ffff:0:c000:201]', '[2001:db8::a9fe:a9fe]', '[2003:a9fe:a9fe::1]'];

  for (const c of REFUSED_IPV6) {
    it(`a request to ${c.what} (${c.url}) takes error with HTTP_HOST_REFUSED and is not sent`, async () => {
      const r = await run(`url: '"http://${c.url}/computeMetadata/v1/"'\ntimeout: 0.5`, { client: { retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } } });
      assert.equal(exitOf(r), 'error');
      assert.equal(r.variables.code, 'HTTP_HOST_REFUSED');
      const call = r.httpCalls![0]!;
      assert.match(call.error ?? '', /^\[[0-9a-f:]+\] is a link-local address \(cloud metadata services live there\): refused unless/);
      assert.equal(call.attempts, undefined);
      assert.equal(httpCallNote(call), 'not sent');
      for (const form of c.forms) assert.equal(isLinkLocalAddress(form), true, form);
      // A host name that resolves there is refused at connect time.
      for (const form of [c.url.slice(1, -1), ...c.forms]) {
        const lookup = refusingLinkLocal(() => false, ((_h: string, _o: unknown, cb: (...a: unknown[]) => void) => cb(null, [{ address: form, family: 6 }])) as unknown as LookupFunction);
        const refused = await new Promise<unknown>((done) => lookup('meta.test', { all: true }, (err: Error | null) => done(err)));
        assert.ok(refused instanceof HostRefused, form);
      }
    });
  }

  it('ordinary IPv6 addresses, and those next to the metadata ones, are not refused', async () => {
    for (const host of ALLOWED_IPV6) {
      assert.equal(refusalBeforeSending(new URL(`http://${host}/`), undefined), undefined, host);
      assert.equal(isLinkLocalAddress(host.slice(1, -1)), false, host);
    }
  });

  // Host names as a resolver answers them: no real DNS. `metadata.test` stands for metadata.google.internal or a
  // name an /etc/hosts maps to the metadata address.
  const names: Record<string, [string, 4 | 6]> = {
    'svc.test': ['127.0.0.1', 4],
    'metadata.test': ['169.254.169.254', 4],
    'mapped.test': ['::ffff:169.254.169.254', 6],
    'v6.test': ['fe80::1', 6],
  };
  const fakeLookup = ((hostname: string, options: { all?: boolean }, callback: (...a: unknown[]) => void) => {
    const found = names[hostname];
    if (!found) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    if (options.all) callback(null, [{ address: found[0], family: found[1] }]);
    else callback(null, found[0], found[1]);
  }) as unknown as LookupFunction;
  const port = () => new URL(base).port;

  it('a host name that resolves to a link-local address is refused at connect time, for good, naming the host, the address and the setting', async () => {
    for (const [host, address] of [['metadata.test', '169.254.169.254'], ['mapped.test', '::ffff:169.254.169.254'], ['v6.test', 'fe80::1']]) {
      const r = await run(`url: '"http://${host}:${port()}/latest/meta-data/"'\ntimeout: 0.5`, { client: { lookup: fakeLookup } });
      assert.equal(exitOf(r), 'error', host);
      assert.equal(r.variables.code, 'HTTP_HOST_REFUSED', host);
      const call = r.httpCalls![0]!;
      assert.equal(call.error, `${host} resolves to ${address}, a link-local address (cloud metadata services live there): refused unless ${host} is listed in webRequest.allowHosts / WEB_REQUEST_ALLOW_HOSTS`);
      assert.equal(call.outcome, 'error');
      // Refused before connecting: no attempt sent anything, so the request is "not sent", not "no answer" — in the
      // run's record (run, --json) and in what the console and `show` make of a stored trace.
      assert.equal(call.attempts, undefined, host);
      assert.equal(httpCallNote(call), 'not sent', host);
      const fromTrace = httpCallsOf({}, r.trace);
      assert.deepEqual(fromTrace.map((c) => [c.outcome, c.attempts, httpCallNote(c)]), [['error', undefined, 'not sent']], host);
    }
    // Without the exit wired, the run fails for good, not as retryable.
    const unwired = await run(`url: '"http://metadata.test:${port()}/"'`, { client: { lookup: fakeLookup }, exits: '{ success: ok }' });
    assert.equal(unwired.status, 'failed');
    assert.equal(unwired.error?.code, 'R_EFFECT_PERMANENT');
  });

  it('a redirect from an allowed host to a name that resolves to a link-local address is refused; the allowed host works', async () => {
    // `*.test` lets metadata.test pass the list by pattern; only the name itself, listed, lets it resolve there.
    const client = { lookup: fakeLookup, allowHosts: ['svc.test', '*.test'] };
    routes.set('/meta', (_req, res) => res.writeHead(302, { location: `http://metadata.test:${port()}/latest/` }).end());
    const via = await run(`url: '"http://svc.test:${port()}/meta"'\nmaxRedirects: 1\ntimeout: 0.5`, { client });
    assert.equal(exitOf(via), 'error');
    assert.equal(via.variables.code, 'HTTP_HOST_REFUSED');
    assert.deepEqual(seen.map((x) => [x.url, x.headers.host]), [['/meta', `svc.test:${port()}`]]);
    seen = [];
    const ok = await run(`url: '"http://svc.test:${port()}/x"'`, { client });
    assert.equal(exitOf(ok), 'success');
    assert.equal(ok.variables.body, '{"ok":true,"method":"GET"}');
    assert.equal(seen.length, 1);
  });

  it('the connect-time lookup lets a link-local address through only for a name listed exactly', async () => {
    const resolve = (lookup: LookupFunction, host: string, all: boolean) =>
      new Promise<unknown>((done) => lookup(host, { all }, (err: Error | null, address: unknown) => done(err ?? address)));
    const listed = refusingLinkLocal((h) => h === 'metadata.test', fakeLookup);
    assert.equal(await resolve(listed, 'metadata.test', false), '169.254.169.254');
    assert.deepEqual(await resolve(listed, 'metadata.test', true), [{ address: '169.254.169.254', family: 4 }]);
    const refused = await resolve(listed, 'mapped.test', true);
    assert.ok(refused instanceof HostRefused);
    assert.equal(refused.message, 'mapped.test resolves to ::ffff:169.254.169.254, a link-local address (cloud metadata services live there): refused unless mapped.test is listed in webRequest.allowHosts / WEB_REQUEST_ALLOW_HOSTS');
    assert.equal(await resolve(listed, 'svc.test', true) instanceof Error, false);
  });

  it('a host outside the allow-list is refused without a request', async () => {
    const r = await run(`url: '[base] + "/x"'`, { client: { allowHosts: ['sms.example.ru', '*.example.com'] } });
    assert.equal(exitOf(r), 'error');
    assert.equal(r.variables.code, 'HTTP_HOST_REFUSED');
    assert.equal(seen.length, 0);
    const allowed = await run(`url: '[base] + "/x"'`, { client: { allowHosts: ['127.0.0.1'] } });
    assert.equal(exitOf(allowed), 'success');
  });

  it('a line break in a header value is refused, nothing is sent', async () => {
    const r = await run(`url: '[base] + "/x"'\nheaders: { X-Name: '[value]' }`, { vars: { value: 'a\r\nX-Injected: 1' } });
    assert.equal(exitOf(r), 'error');
    assert.equal(r.variables.code, 'HTTP_BAD_HEADER');
    assert.equal(seen.length, 0);
    // Cyrillic cannot travel in a header: refused at once as a mistake, not retried as an outage.
    const cyrillic = await run(`url: '[base] + "/x"'\nheaders: { X-Name: '[value]' }`, { vars: { value: 'Иван' } });
    assert.equal(exitOf(cyrillic), 'error');
    assert.equal(cyrillic.variables.code, 'HTTP_BAD_HEADER');
    assert.equal(seen.length, 0);
  });

  // A request refused before sending says why: the reason is a note of the step (shown by `run`) and the refused
  // request is listed in the run's web requests with the URL as far as it is known (credentials masked).
  const refusals: Array<[string, string, Record<string, string>, string, RegExp, string]> = [
    ['a Cyrillic header value', `url: '[base] + "/x"'\nheaders: { X-Name: '[value]' }`, { value: 'Иван' }, 'HTTP_BAD_HEADER', /header X-Name has characters a header cannot carry/, '/x'],
    // Computed from a variable: a constant URL like these is refused at load already (constant-url.test.ts).
    ['a user and password in the URL', `url: '[value]'`, { value: 'https://user:pw@x.example.ru/api' }, 'HTTP_BAD_URL', /carries a user or password: give them in "auth"/, 'https://***@x.example.ru/api'],
    ['a scheme other than http(s)', `url: '[value]'`, { value: 'ftp://x.example.ru/' }, 'HTTP_BAD_URL', /only http and https URLs can be requested, not ftp:/, 'ftp://x.example.ru/'],
    ['text that is not a URL', `url: '[value]'`, { value: 'crm.example.ru' }, 'HTTP_BAD_URL', /not an absolute URL: "crm\.example\.ru"/, '(invalid URL)'],
    // Each refusal names the part at fault: a port beyond 65535 is no "relative URL".
    ['a port out of range', `url: '[value]'`, { value: 'http://127.0.0.1:99999/' }, 'HTTP_BAD_URL', /^the port 99999 is out of range \(1–65535\): "http:\/\/127\.0\.0\.1:99999\/"$/, '(invalid URL)'],
    ['port 0', `url: '[value]'`, { value: 'http://127.0.0.1:0/x' }, 'HTTP_BAD_URL', /^the port 0 is out of range \(1–65535\)/, 'http://127.0.0.1:0/x'],
    ['a port that is not a number', `url: '[value]'`, { value: 'http://crm.example.ru:80a/' }, 'HTTP_BAD_URL', /^the port "80a" is not a number/, '(invalid URL)'],
    ['a URL without a host', `url: '[value]'`, { value: 'https://' }, 'HTTP_BAD_URL', /^the URL has no host: "https:\/\/"$/, '(invalid URL)'],
    ['a host that cannot be', `url: '[value]'`, { value: 'http://crm example.ru/' }, 'HTTP_BAD_URL', /^the host of "http:\/\/crm example\.ru\/" is not a valid host name or address$/, '(invalid URL)'],
    // Not parsed, so not masked by the URL's rules: the text's own query secrets and user:password are masked.
    // A password with a "/" or "?" left unencoded: neither the message nor the URL shown holds any of it (before, the
    // text was shown whole and "pa" named as a port).
    ['a password with a "/" left unencoded', `url: '[value]'`, { value: 'http://u:pa/ss-S3CRET@x.example.ru/api' }, 'HTTP_BAD_URL', /^the host of "http:\/\/\*\*\*@x\.example\.ru\/api" cannot be read: a "\/", "\?" or "#" comes before its "@" \(a password with one left unencoded\? give the user and password in "auth"\)$/, '(invalid URL)'],
    // A "#" left unencoded: before, "S3CRET" was named as the port that is not a number.
    ['a password with a "#" left unencoded', `url: '[value]'`, { value: 'http://u:S3CRET#x@x.example.ru/api' }, 'HTTP_BAD_URL', /^the host of "http:\/\/\*\*\*@x\.example\.ru\/api" cannot be read/, '(invalid URL)'],
    // A password longer than the 200 characters shown is masked before the text is cut (cut first, it lost its "@").
    ['a long password, port out of range', `url: '[value]'`, { value: `http://u:${'S3CRET'.repeat(40)}@x.example.ru:99999/api` }, 'HTTP_BAD_URL', /^the port 99999 is out of range \(1–65535\): "http:\/\/\*\*\*@x\.example\.ru:99999\/api"$/, '(invalid URL)'],
    ['a password of digits with a "/" left unencoded, port out of range', `url: '[value]'`, { value: 'http://u:99999/S3CRET@x.example.ru/api' }, 'HTTP_BAD_URL', /^the host of "http:\/\/\*\*\*@x\.example\.ru\/api" cannot be read/, '(invalid URL)'],
    ['text that is not a URL, with a token in it', `url: '[value]'`, { value: 'crm.example.ru/api?token=S3CRET&x=1' }, 'HTTP_BAD_URL', /not an absolute URL: "crm\.example\.ru\/api\?token=\*\*\*&x=1"/, '(invalid URL)'],
    // A "?" ends a name: before, "a?token" was read as one name, not a secret's, and the token was shown.
    ['text that is not a URL, with a token after a second "?"', `url: '[value]'`, { value: 'crm.example.ru/api?a?token=S3CRET' }, 'HTTP_BAD_URL', /not an absolute URL: "crm\.example\.ru\/api\?a\?token=\*\*\*"/, '(invalid URL)'],
  ];
  for (const [name, props, vars, code, reason, url] of refusals) {
    it(`${name} is refused before sending, with the reason in the trace and the web requests`, async () => {
      const r = await run(props, { vars });
      assert.equal(exitOf(r), 'error');
      assert.equal(r.variables.code, code);
      assert.equal(seen.length, 0);
      assert.match(r.trace.find((t) => t.block === 'call')!.notes?.join(' ') ?? '', reason);
      assert.equal(r.httpCalls?.length, 1);
      const call = r.httpCalls![0]!;
      assert.ok(call.url.endsWith(url), call.url);
      assert.equal(call.outcome, 'error');
      assert.equal(call.performed, false);
      assert.match(call.error ?? '', reason);
      assert.doesNotMatch(JSON.stringify([r.httpCalls, r.trace]), /S3CRET/, 'no secret of the URL text is kept in the web requests or the trace');
    });
  }

  it('an empty credential sends no Authorization header (not a bare "Bearer"), and the trace says why', async () => {
    routes.set('/send', (_req, res) => res.writeHead(200).end('ok'));
    for (const auth of [`{ bearer: '[value]' }`, `{ user: '[value]', password: '[value]' }`]) {
      seen = [];
      const r = await run(`url: '[base] + "/send"'\nauth: ${auth}`, { vars: { value: '' } });
      assert.equal(exitOf(r), 'success');
      assert.equal(seen[0]!.headers.authorization, undefined, auth);
      assert.match(r.trace.find((t) => t.block === 'call')!.notes?.join(' ') ?? '', /empty: the request carries no Authorization header/);
    }
  });

  it('a bearer token and secret headers and query values are masked in the trace and the record', async () => {
    const r = await run(`method: POST\nurl: '[base] + "/send"'\nquery: { api_key: '[secret]', to: '"1"' }\nheaders: { X-Auth-Token: '[secret]' }\nauth: { bearer: '[secret]' }\njson: { a: 1, login: { password: '[secret]' } }`);
    assert.equal(exitOf(r), 'success');
    assert.equal(seen[0]!.headers.authorization, 'Bearer s3cr3t-token');
    assert.equal(seen[0]!.headers['x-auth-token'], 's3cr3t-token');
    const shown = JSON.stringify({ t: r.trace, h: r.httpCalls });
    assert.ok(!shown.includes('s3cr3t'), shown);
    assert.match(r.httpCalls![0]!.url, /api_key=\*\*\*&to=1/);
    assert.equal(JSON.parse(seen[0]!.body).login.password, 's3cr3t-token', 'sent as it is');
    const form = await run(`method: POST\nurl: '[base] + "/send"'\nform: { user: '"ivan"', Password: '[secret]' }`);
    assert.equal(exitOf(form), 'success');
    assert.equal((form.trace[0]!.effect as { request: { body: string } }).request.body, 'user=ivan&Password=***');
  });

  it('an Idempotency-Key and other keys that grant nothing are shown as sent; API keys, tokens, sessions stay masked', async () => {
    const props = `method: POST\nurl: '[base] + "/send"'\nidempotencyKey: true
query: { dedup_key: '"d-77"', key: '"q-k3y"' }
headers: { X-Idempotency-Key: '"order-5521"', X-Correlation-Key: '"corr-9"', Sec-WebSocket-Key: '"nonce-1"', X-Api-Key: '"api-k3y"', X-Session-Cache-Key: '"sess-k3y"', Idempotency-Key-Secret: '"idem-s3cret"' }
json: { idempotencyKey: '"order-5521"', cache_key: '"c-1"', api_key: '"json-k3y"' }`;
    for (const dryRun of [false, true]) {
      const r = await run(props, { dryRun });
      assert.equal(exitOf(r), 'success');
      const { request } = r.trace[0]!.effect as { request: { url: string; headers: Record<string, string>; body: string } };
      const key = dryRun ? request.headers['idempotency-key'] : seen.at(-1)!.headers['idempotency-key'];
      assert.match(String(key), /^[0-9a-f-]{36}$/);
      assert.equal(request.headers['idempotency-key'], key, `${dryRun}: the Idempotency-Key is shown as sent`);
      assert.equal(request.headers['x-idempotency-key'], 'order-5521');
      assert.equal(request.headers['x-correlation-key'], 'corr-9');
      assert.equal(request.headers['sec-websocket-key'], 'nonce-1');
      for (const masked of ['x-api-key', 'x-session-cache-key', 'idempotency-key-secret']) assert.equal(request.headers[masked], '***', masked);
      assert.match(request.url, /\?dedup_key=d-77&key=\*\*\*$/);
      assert.deepEqual(JSON.parse(request.body), { idempotencyKey: 'order-5521', cache_key: 'c-1', api_key: '***' });
      assert.doesNotMatch(JSON.stringify([r.trace, r.httpCalls]), /k3y|s3cret/);
    }
  });

  it('the URL recorded is the one sent, byte for byte, when a secret query value is masked in it (a space stays %20, not +)', async () => {
    const r = await run(`url: '[base] + "/sms?from=a%20b"'\nquery: { to: '[value]', api_key: '[secret]', note: '"x y"' }`, { vars: { value: '+7 900&1' } });
    assert.equal(exitOf(r), 'success');
    assert.equal(seen[0]!.url, '/sms?from=a%20b&to=%2B7%20900%261&api_key=s3cr3t-token&note=x%20y');
    const recorded = `${base}/sms?from=a%20b&to=%2B7%20900%261&api_key=***&note=x%20y`;
    assert.equal(r.httpCalls![0]!.url, recorded);
    assert.equal((r.trace[0]!.effect as { request: { url: string } }).request.url, recorded);
  });

  it('a retried run replays a POST that succeeded instead of sending it again; Idempotency-Key is stable', async () => {
    const kept = new Map<string, JsonValue>();
    const journal: EffectJournalPort = {
      get: async (run, key) => kept.get(`${run}|${key}`),
      put: async (run, key, value) => void kept.set(`${run}|${key}`, value),
    };
    let fail = true;
    routes.set('/orders', (_req, res) => (fail ? res.writeHead(503).end() : res.writeHead(201).end('{"id":7}')));
    const props = `method: POST\nurl: '[base] + "/orders"'\njson: { item: 1 }\nidempotencyKey: true`;
    // One scenario, three attempts of the same job: a 503 (fails, retryable), then a 201, then a replay.
    const name = `Orders${++n}`;
    writeFileSync(join(tmp.dir, `${name}.yaml`), `variables: { base: string, body: string }
start: call
blocks:
  call:
    kind: WebRequest
${props.replace(/^/gm, '    ')}
    responseBody: body
    exits: { success: after }
  after:
    kind: WebRequest
    url: '[base] + "/after"'
`);
    const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry }, [join(tmp.dir, `${name}.yaml`)]);
    const client = createWebClient({ retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    clients.push(client);
    const attempt = () =>
      runScenario(lib, name, { journalKey: 'job-1', variables: { base }, ports: { web: client, journal, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) } });
    seen = [];
    const a1 = await attempt();
    assert.equal(a1.status, 'failed');
    assert.equal(a1.error?.retryable, true);
    fail = false;
    const a2 = await attempt();
    assert.equal(a2.status, 'completed', JSON.stringify(a2.error));
    const a3 = await attempt();
    assert.equal(a3.status, 'completed');
    assert.equal(a3.variables.body, '{"id":7}', 'the replayed answer');
    const posts = seen.filter((s) => s.method === 'POST');
    assert.equal(posts.length, 2, 'the 503, then the 201; the third attempt replays it');
    assert.match(String(posts[0]!.headers['idempotency-key']), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(posts[0]!.headers['idempotency-key'], posts[1]!.headers['idempotency-key']);
    assert.deepEqual(a3.httpCalls?.map((c) => [c.method, c.outcome, c.performed]), [['POST', 'replayed', false], ['GET', 'replayed', false]]);
    assert.equal(seen.filter((s) => s.method === 'GET').length, 1, 'the GET that followed succeeded once and is replayed too');
  });

  it('a retried run replays a POST whose answer was too large: not sent again, the same variables and exit', async () => {
    const kept = new Map<string, JsonValue>();
    const journal: EffectJournalPort = {
      get: async (run, key) => kept.get(`${run}|${key}`),
      put: async (run, key, value) => void kept.set(`${run}|${key}`, value),
    };
    let afterFails = true;
    routes.set('/export', (_req, res) => res.writeHead(201, { 'content-length': '5000', location: '/exports/5' }).end('x'.repeat(5000)));
    routes.set('/after', (_req, res) => (afterFails ? res.writeHead(503).end() : res.writeHead(200).end('ok')));
    const name = `Export${++n}`;
    // The export's error exit goes on to a request that fails once: the job is retried from the start.
    writeFileSync(join(tmp.dir, `${name}.yaml`), `variables: { base: string, status: number, body: string, headers: string, code: string }
start: call
blocks:
  call:
    kind: WebRequest
    method: POST
    url: '[base] + "/export"'
    json: { all: true }
    status: status
    responseBody: body
    responseHeaders: headers
    errorCode: code
    exits: { success: after, error: after }
  after:
    kind: WebRequest
    url: '[base] + "/after"'
`);
    const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry }, [join(tmp.dir, `${name}.yaml`)]);
    const client = createWebClient({ retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 }, maxResponseBytes: 1000 });
    clients.push(client);
    const attempt = () =>
      runScenario(lib, name, { journalKey: 'job-large', variables: { base }, ports: { web: client, journal, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) } });
    const a1 = await attempt();
    assert.equal(a1.status, 'failed');
    assert.equal(a1.error?.retryable, true);
    afterFails = false;
    const a2 = await attempt();
    assert.equal(a2.status, 'completed', JSON.stringify(a2.error));
    assert.equal(seen.filter((s) => s.method === 'POST').length, 1, 'the POST the service answered is not sent again');
    const shown = (r: RunResult) => [r.variables.status, r.variables.body, (JSON.parse(String(r.variables.headers)) as Record<string, string>).location, r.variables.code, r.trace[0]!.exit];
    assert.deepEqual(shown(a1), [201, '', '/exports/5', 'HTTP_TOO_LARGE', 'error']);
    assert.deepEqual(shown(a2), shown(a1));
    assert.deepEqual(a2.httpCalls?.map((c) => [c.method, c.status, c.outcome, c.performed]), [['POST', 201, 'replayed', false], ['GET', 200, 'ok', true]]);
  });

  // A 4xx is kept out of the journal only when it fails the run (no error exit wired): nothing follows it, so sending
  // it again on a retry or a replay makes nothing twice. Data-driven: what each attempt is answered and does.
  function claimJournal() {
    const kept = new Map<string, JsonValue>();
    const journal: EffectJournalPort = {
      get: async (run, key) => kept.get(`${run}|${key}`),
      put: async (run, key, value) => void kept.set(`${run}|${key}`, value),
    };
    return { kept, journal };
  }
  /** Writes the scenario (a POST `call`, then a GET of /after) and returns one attempt of its job, given the journal. */
  async function claimScenario(name: string, call: string) {
    writeFileSync(join(tmp.dir, `${name}.yaml`), `variables: { base: string, status: number, code: string }
start: call
blocks:
  call:
    kind: WebRequest
    method: POST
${call}
    idempotencyKey: true
    status: status
    errorCode: code
  after:
    kind: WebRequest
    url: '[base] + "/after"'
`);
    const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry }, [join(tmp.dir, `${name}.yaml`)]);
    const client = createWebClient({ retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    clients.push(client);
    // One attempt of the job: the same journal key every time, as a retry or a replay of one job has.
    return (journal: EffectJournalPort) =>
      runScenario(lib, name, { journalKey: `job-${name}`, variables: { base }, ports: { web: client, journal, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) } });
  }

  it('a refusal (4xx) that fails the run is not journaled: the next attempt sends the request again', async () => {
    const { kept, journal } = claimJournal();
    let conflict = true;
    routes.set('/claim', (_req, res) => (conflict ? res.writeHead(409, { 'content-type': 'text/plain' }).end('held by another') : res.writeHead(201).end('{"id":3}')));
    routes.set('/after', (_req, res) => res.writeHead(200).end('ok'));
    const name = `Claim${++n}`;
    const job = await claimScenario(name, `    url: '[base] + "/claim"'
    exits: { success: after }`);
    const attempt = () => job(journal);
    const a1 = await attempt();
    assert.equal(a1.status, 'failed');
    assert.deepEqual([...kept.keys()].filter((k) => k.includes(`${name}:call`)), [], 'nothing journaled: the 409 is no effect made');
    conflict = false;
    const a2 = await attempt();
    assert.equal(a2.status, 'completed', JSON.stringify(a2.error));
    assert.equal(seen.filter((s) => s.method === 'POST').length, 2, 'the refused POST is sent again');
    assert.deepEqual(a2.httpCalls?.map((c) => [c.method, c.status, c.outcome, c.performed]), [['POST', 201, 'ok', true], ['GET', 200, 'ok', true]]);
    // A third attempt replays both answers now journaled.
    const a3 = await attempt();
    assert.equal(a3.status, 'completed');
    assert.equal(seen.length, 3, 'the 409, the 201 and the 200: nothing sent by the third attempt');
    assert.deepEqual(a3.httpCalls?.map((c) => [c.method, c.outcome, c.performed]), [['POST', 'replayed', false], ['GET', 'replayed', false]]);
  });

  it('a refusal the scenario goes on from (error exit wired) is journaled: a retry takes the same path, not both', async () => {
    const { journal } = claimJournal();
    let conflict = true;
    let afterFails = true;
    routes.set('/claim', (_req, res) => (conflict ? res.writeHead(409, { 'content-type': 'text/plain' }).end('held by another') : res.writeHead(201).end('{"id":3}')));
    routes.set('/after', (_req, res) => (afterFails ? res.writeHead(503).end() : res.writeHead(200).end('ok')));
    const name = `Claim${++n}`;
    const job = await claimScenario(name, `    url: '[base] + "/claim"'
    exits: { success: after, error: after }`);
    const attempt = () => job(journal);
    const a1 = await attempt();
    assert.equal(a1.status, 'failed');
    assert.equal(a1.error?.retryable, true);
    assert.deepEqual([a1.variables.status, a1.variables.code, a1.trace[0]!.exit], [409, '409', 'error']);
    conflict = false;
    afterFails = false;
    const a2 = await attempt();
    assert.equal(a2.status, 'completed', JSON.stringify(a2.error));
    assert.equal(seen.filter((s) => s.method === 'POST').length, 1, 'the POST is not sent again: its 409 is replayed');
    assert.deepEqual([a2.variables.status, a2.variables.code, a2.trace[0]!.exit], [409, '409', 'error']);
    assert.deepEqual(a2.httpCalls?.map((c) => [c.method, c.status, c.outcome, c.performed]), [['POST', 409, 'replayed', false], ['GET', 200, 'ok', true]]);
  });

  it('a 4xx met after following a redirect answers the GET, not the POST: journaled, the POST is not sent again', async () => {
    const { journal } = claimJournal();
    routes.set('/order', (_req, res) => res.writeHead(303, { location: '/order/7' }).end());
    routes.set('/order/7', (_req, res) => res.writeHead(404).end('gone'));
    const name = `Order${++n}`;
    const job = await claimScenario(name, `    url: '[base] + "/order"'
    maxRedirects: 2
    exits: { success: after }`);
    const attempt = () => job(journal);
    const a1 = await attempt();
    assert.equal(a1.status, 'failed');
    assert.deepEqual(seen.map((s) => s.method), ['POST', 'GET']);
    const a2 = await attempt();
    assert.equal(a2.status, 'failed');
    assert.deepEqual(seen.map((s) => s.method), ['POST', 'GET'], 'nothing sent again: the POST was acted on');
    assert.deepEqual(a2.httpCalls?.map((c) => [c.method, c.status, c.outcome, c.performed]), [['POST', 404, 'replayed', false]]);
  });

  it('a dry run records a POST without sending it (answered 200, empty), and performs a GET', async () => {
    const post = await run(`method: POST\nurl: '[base] + "/send"'\njson: { text: '"hi"' }`, { dryRun: true });
    assert.equal(exitOf(post), 'success');
    assert.equal(seen.length, 0);
    assert.equal(post.variables.status, 200);
    assert.equal(post.variables.body, '');
    assert.deepEqual(post.httpCalls?.map((c) => [c.method, c.outcome, c.performed]), [['POST', 'dry-run', false]]);
    const get = await run(`url: '[base] + "/read"'`, { dryRun: true });
    assert.equal(exitOf(get), 'success');
    assert.equal(seen.length, 1);
    assert.equal(get.variables.body, '{"ok":true,"method":"GET"}');
  });

  it('cookies: true sends back, within the run, the cookies the service set; another run starts without them', async () => {
    routes.set('/login', (_req, res) => res.writeHead(200, { 'set-cookie': ['sid=abc123; Path=/; HttpOnly', 'lang=ru'] }).end());
    routes.set('/logout', (_req, res) => res.writeHead(200, { 'set-cookie': 'lang=; Max-Age=0' }).end());
    const name = `Cookies${++n}`;
    writeFileSync(join(tmp.dir, `${name}.yaml`), `variables: { base: string }
start: login
blocks:
  login: { kind: WebRequest, method: POST, url: '[base] + "/login"', cookies: true, exits: { success: me } }
  me: { kind: WebRequest, url: '[base] + "/me"', cookies: true, exits: { success: plain } }
  plain: { kind: WebRequest, url: '[base] + "/plain"', exits: { success: logout } }
  logout: { kind: WebRequest, url: '[base] + "/logout"', cookies: true, exits: { success: again } }
  again: { kind: WebRequest, url: '[base] + "/me"', cookies: true }
`);
    const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry }, [join(tmp.dir, `${name}.yaml`)]);
    assert.deepEqual(lib.issues, []);
    const client = createWebClient();
    clients.push(client);
    const go = () => runScenario(lib, name, { variables: { base }, ports: { web: client, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) } });
    const r = await go();
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.deepEqual(seen.map((x) => [x.url, x.headers.cookie]), [['/login', undefined], ['/me', 'sid=abc123; lang=ru'], ['/plain', undefined], ['/logout', 'sid=abc123; lang=ru'], ['/me', 'sid=abc123']]);
    assert.ok(!JSON.stringify(r.trace).includes('abc123'), 'the Cookie header is masked in the trace');
    seen = [];
    await go();
    assert.equal(seen[0]!.headers.cookie, undefined, 'a new run has no cookies');
  });

  it('counts against the per-run cap of effects: the request over the cap is never sent', async () => {
    const name = `Loop${++n}`;
    writeFileSync(join(tmp.dir, `${name}.yaml`), `variables: { base: string }
start: call
blocks:
  call:
    kind: WebRequest
    method: POST
    url: '[base] + "/loop"'
    body: '"x"'
    exits: { success: call }
`);
    const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry }, [join(tmp.dir, `${name}.yaml`)]);
    const client = createWebClient();
    clients.push(client);
    const r = await runScenario(lib, name, { variables: { base }, limits: { maxEffects: 3 }, ports: { web: client, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) } });
    assert.equal(r.status, 'failed');
    assert.equal(r.error?.code, 'R_EFFECT_LIMIT');
    assert.equal(seen.length, 3);
  });
});

describe('the SMS example of docs/scenario-format.md', () => {
  it('sends the SMS to a gateway on 127.0.0.1 and reads the message id; a refusal takes its branch', async () => {
    const doc = readFileSync(repoPath('docs', 'scenario-format.md'), 'utf8');
    const example = /```yaml\n# file: SmsNotify\.yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(example, 'the page has the SmsNotify example');
    const tmp = tempDir();
    const seen: Array<{ auth?: string; body: string; key?: string }> = [];
    let answer: [number, string] = [201, '{"id":"m-42","status":"queued"}'];
    const gateway = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ auth: req.headers.authorization, body: Buffer.concat(chunks).toString('utf8'), key: req.headers['idempotency-key'] as string });
        res.writeHead(answer[0], { 'content-type': 'application/json' }).end(answer[1]);
      });
    });
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    const client = createWebClient();
    try {
      writeFileSync(join(tmp.dir, 'SmsNotify.yaml'), example);
      const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry });
      assert.deepEqual(lib.issues, []);
      const send = () =>
        runScenario(lib, 'SmsNotify', {
          params: { 1: '+79001234567', 2: 'Новая задача' },
          variables: { smsGateway: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`, smsToken: 'tok-1' },
          ports: { web: client, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) },
        });
      const sent = await send();
      assert.equal(sent.status, 'completed', JSON.stringify(sent.error));
      assert.equal(sent.returnValues['1'], 'sent m-42');
      assert.equal(seen[0]!.auth, 'Bearer tok-1');
      assert.deepEqual(JSON.parse(seen[0]!.body), { to: '+79001234567', text: 'Новая задача' });
      assert.ok(seen[0]!.key);
      answer = [400, '{"error":"bad phone"}'];
      const refused = await send();
      assert.equal(refused.returnValues['1'], 'refused: 400');
    } finally {
      client.close();
      gateway.closeAllConnections();
      await new Promise((r) => gateway.close(r));
      tmp.cleanup();
    }
  });
});

describe('WebRequest properties are checked when the scenario loads', () => {
  const load = (props: string) =>
    loadScenarioText('Bad.yaml', `variables: { v: string }\nstart: call\nblocks:\n  call:\n    kind: WebRequest\n${props.replace(/^/gm, '    ')}\n`, { registry: defaultRegistry });
  const issues = (props: string) => {
    const r = load(props);
    assert.equal(r.ok, false, props);
    return r.ok ? [] : r.issues.map((i) => `${i.line}:${i.col} ${i.code} ${i.message}`);
  };

  it('a body on a GET, two bodies, a bad or reserved header name, a misplaced idempotencyKey, an unknown method', () => {
    assert.deepEqual(issues(`url: '"http://x"'\njson: { a: 1 }`), ['7:11 E_INVALID_PROPERTY a GET request has no body']);
    assert.deepEqual(issues(`method: POST\nurl: '"http://x"'\njson: { a: 1 }\nbody: '"x"'`), ['9:11 E_INVALID_PROPERTY "json" and "body" are alternatives: give one body']);
    assert.match(issues(`url: '"http://x"'\nheaders: { 'Bad Name': '"x"' }`)[0]!, /^7:28 E_INVALID_PROPERTY "Bad Name" is not a valid header name/);
    assert.match(issues(`url: '"http://x"'\nheaders: { Host: '"x"' }`)[0]!, /E_INVALID_PROPERTY the "Host" header is set by the client/);
    assert.match(issues(`method: PUT\nurl: '"http://x"'\nidempotencyKey: true`)[0]!, /E_INVALID_PROPERTY "idempotencyKey" is for POST and PATCH/);
    assert.match(issues(`method: TRACE\nurl: '"http://x"'`)[0]!, /^6:13 E_INVALID_PROPERTY "method": "TRACE" is not one of "GET", /);
    assert.match(issues(`url: '"http://x"'\nresponseBody: nope`)[0]!, /E_UNKNOWN_VARIABLE/);
  });
});
