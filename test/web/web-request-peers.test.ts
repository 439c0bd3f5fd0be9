// The WebRequest block against peers that answer as real third-party APIs sometimes do: compressed bodies (and a
// decompression bomb), a UTF-8 byte order mark, a self-signed certificate, a body that drips, and an id from the data
// that would move the path ("..").
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { createWebClient, type WebClient, type WebClientOptions } from '../../adapters/web/client.js';
import { defaultRegistry } from '../../components/registry.js';
import { createInProcessStarter, loadScenarioLibrary, randomIds, runScenario, systemClock, type RunResult } from '../../engine/index.js';
import { tempDir } from '../helpers.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe('the WebRequest block against peers that behave badly', { timeout: 120_000 }, () => {
  let server: Server;
  let tls: HttpsServer;
  let base: string;
  let tlsBase: string;
  let tmp: ReturnType<typeof tempDir>;
  const routes = new Map<string, Handler>();
  const seenPaths: string[] = [];
  const clients: WebClient[] = [];
  const json = '{"name":"Иван","id":7}';

  before(async () => {
    tmp = tempDir();
    const handle = (req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on('end', () => {
        const path = new URL(req.url!, 'http://x').pathname;
        seenPaths.push(path);
        const route = routes.get(path);
        if (route) route(req, res);
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path }));
      });
    };
    server = createServer(handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // A self-signed certificate for 127.0.0.1, made for this test.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(tmp.dir, 'key.pem'), '-out', join(tmp.dir, 'cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    tls = createHttpsServer({ key: readFileSync(join(tmp.dir, 'key.pem')), cert: readFileSync(join(tmp.dir, 'cert.pem')) }, handle);
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    tlsBase = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;

    routes.set('/gzip', (_q, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync(json)));
    routes.set('/deflate', (_q, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'deflate' }).end(deflateSync(json)));
    // Bare deflate data (RFC 1951) under the name "deflate", as IIS and old PHP send it: browsers and curl read it.
    routes.set('/deflate-raw', (_q, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'deflate' }).end(deflateRawSync(json)));
    routes.set('/br', (_q, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'br' }).end(brotliCompressSync(json)));
    // 20 KiB of gzip that inflates to 20 MiB.
    routes.set('/bomb', (_q, res) => res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' }).end(gzipSync(Buffer.alloc(20 * 1024 * 1024, 'a'))));
    routes.set('/zstd', (_q, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'zstd' }).end(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3])));
    routes.set('/not-gzip', (_q, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(json));
    // Bytes after the gzip data: a stray newline, or text; and the same after a gzip whose checksum is wrong.
    routes.set('/gzip-then-garbage', (_q, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(Buffer.concat([gzipSync(json), Buffer.from('\r\ngarbage after the member')])));
    routes.set('/two-members-then-garbage', (_q, res) => res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' }).end(Buffer.concat([gzipSync('one,'), gzipSync('two'), Buffer.from('\n')])));
    routes.set('/bad-crc-then-garbage', (_q, res) => {
      const g = gzipSync(json);
      g[g.length - 8] = g[g.length - 8]! ^ 0xff;
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(Buffer.concat([g, Buffer.from('garbage')]));
    });
    routes.set('/empty-gzip', (_q, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end());
    routes.set('/bom', (_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json)])));
    routes.set('/drip', (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write('x')), 50);
    });
  });
  after(async () => {
    for (const c of clients) c.close();
    server.closeAllConnections();
    tls.closeAllConnections();
    await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => tls.close(r))]);
    tmp.cleanup();
  });

  let n = 0;
  /** One GET of `url` (an expression), its answer in variables; each exit returns its name. */
  async function get(url: string, o: { client?: WebClientOptions; then?: string; vars?: Record<string, string> } = {}): Promise<RunResult> {
    const text = `variables: { base: string, id: string, status: number, body: string, headers: string, code: string }
start: call
blocks:
  call:
    kind: WebRequest
    url: '${url}'
    timeout: 1
    status: status
    responseBody: body
    responseHeaders: headers
    errorCode: code
    exits: { success: ok, error: bad, timeout: slow }
  ok: { kind: ReturnValue, values: { 1: '"success"', 2: '${o.then ?? '""'}' } }
  bad: { kind: ReturnValue, values: { 1: '"error"' } }
  slow: { kind: ReturnValue, values: { 1: '"timeout"' } }
`;
    return runText(text, { vars: o.vars ?? {}, ...(o.client ? { client: o.client } : {}) });
  }

  /** Writes the scenario `text` as a file of its own, loads it (no problems expected) and runs it against `base`. */
  async function runText(text: string, o: { vars?: Record<string, string>; client?: WebClientOptions } = {}): Promise<RunResult> {
    const name = `Peer${++n}`;
    writeFileSync(join(tmp.dir, `${name}.yaml`), text);
    const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry }, [join(tmp.dir, `${name}.yaml`)]);
    assert.deepEqual(lib.issues, [], text);
    const client = createWebClient({ retry: { attempts: 1, baseDelayMs: 5, maxDelayMs: 20 }, ...o.client });
    clients.push(client);
    return runScenario(lib, name, {
      variables: { base, ...o.vars },
      ports: { web: client, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) },
    });
  }

  for (const coding of ['gzip', 'deflate', 'deflate-raw', 'br']) {
    it(`a body sent with Content-Encoding: ${coding} reaches the scenario decoded, ready for JsonGet`, async () => {
      const r = await get(`[base] + "/${coding}"`, { then: 'JsonGet([body], "$.name")' });
      assert.equal(r.status, 'completed', JSON.stringify(r.error));
      assert.equal(r.returnValues['1'], 'success');
      assert.equal(r.variables.body, json);
      assert.equal(r.returnValues['2'], 'Иван');
    });
  }

  it('a gzip body followed by bytes that are not gzip is read as curl reads it, the trace saying what was left; a broken member still is not', async () => {
    const r = await get('[base] + "/gzip-then-garbage"', { then: 'JsonGet([body], "$.name")' });
    assert.equal(r.returnValues['1'], 'success', JSON.stringify(r.variables));
    assert.equal(r.variables.body, json);
    assert.equal(r.returnValues['2'], 'Иван');
    const length = gzipSync(json).length;
    assert.deepEqual(r.trace.find((t) => t.block === 'call')?.notes, [`the body has bytes after its gzip data (from byte ${length + 1} of the compressed body) that are not gzip: ignored`]);
    const two = await get('[base] + "/two-members-then-garbage"');
    assert.equal(two.returnValues['1'], 'success');
    assert.equal(two.variables.body, 'one,two', 'every whole member before them is read');
    const bad = await get('[base] + "/bad-crc-then-garbage"');
    assert.equal(bad.returnValues['1'], 'error');
    assert.equal(bad.variables.code, 'HTTP_BAD_ENCODING');
    assert.equal(bad.variables.body, '');
  });

  it('a gzip bomb is cut at the cap as it inflates: HTTP_TOO_LARGE, nothing of it kept', async () => {
    const r = await get('[base] + "/bomb"', { client: { maxResponseBytes: 64 * 1024 } });
    assert.equal(r.returnValues['1'], 'error');
    assert.equal(r.variables.code, 'HTTP_TOO_LARGE');
    assert.equal(r.variables.status, 200);
    assert.equal(r.variables.body, '');
    assert.match(String(r.httpCalls?.[0]?.error), /longer than the cap of 65536 bytes once decoded/);
  });

  it('a body in a coding that cannot be read, or not in the one it names, takes error with HTTP_BAD_ENCODING, not garbage', async () => {
    for (const path of ['zstd', 'not-gzip']) {
      const r = await get(`[base] + "/${path}"`);
      assert.equal(r.returnValues['1'], 'error', path);
      assert.equal(r.variables.code, 'HTTP_BAD_ENCODING', path);
      assert.equal(r.variables.status, 200, path);
      assert.equal(r.variables.body, '', path);
      assert.equal(JSON.parse(String(r.variables.headers))['content-encoding'], path === 'zstd' ? 'zstd' : 'gzip');
    }
    const zstd = await get('[base] + "/zstd"');
    assert.match(String(zstd.httpCalls?.[0]?.error), /answered 200, but the body is encoded as "zstd" \(Content-Encoding\), which is not read: only gzip, deflate and br are/);
    const empty = await get('[base] + "/empty-gzip"');
    assert.equal(empty.returnValues['1'], 'success', 'no body at all under gzip is an empty body');
    assert.equal(empty.variables.body, '');
  });

  it('a UTF-8 byte order mark without a charset is dropped, so the JSON reads', async () => {
    const r = await get('[base] + "/bom"', { then: 'JsonGet([body], "$.id")' });
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.equal(r.variables.body, json);
    assert.equal(r.returnValues['2'], 7);
  });

  it('a self-signed certificate: HTTP_TLS with what it means and how to trust the CA (NODE_EXTRA_CA_CERTS)', async () => {
    const r = await get(`"${tlsBase}/x"`);
    assert.equal(r.returnValues['1'], 'error');
    assert.equal(r.variables.code, 'HTTP_TLS');
    const error = String(r.httpCalls?.[0]?.error);
    assert.match(error, /TLS failure DEPTH_ZERO_SELF_SIGNED_CERT \(self-signed certificate\)/);
    assert.match(error, /not signed by an authority this host trusts/);
    assert.match(error, /NODE_EXTRA_CA_CERTS/);
  });

  it('a body that drips past the timeout: the message says the answer came and did not end', async () => {
    const r = await get('[base] + "/drip"');
    assert.equal(r.returnValues['1'], 'timeout');
    assert.equal(r.variables.code, 'HTTP_TIMEOUT');
    assert.match(String(r.httpCalls?.[0]?.error), /the answer \(HTTP 200\) did not end within 1000 ms: its body was still arriving/);
  });

  it('a 429 whose Retry-After is longer than the block waits says so, with attempts left', async () => {
    routes.set('/later', (_q, res) => res.writeHead(429, { 'retry-after': '3600', 'content-type': 'text/plain' }).end('slow down'));
    const r = await get('[base] + "/later"', { client: { retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 } } });
    assert.equal(r.returnValues['1'], 'timeout');
    assert.equal(r.variables.code, '429');
    assert.equal(r.variables.body, 'slow down');
    assert.deepEqual(r.httpCalls?.map((c) => [c.status, c.attempts]), [[429, 1]]);
    assert.match(String(r.httpCalls?.[0]?.error), /HTTP 429 \(Retry-After: 3600 s, longer than the 60 s a WebRequest waits: no more attempts in this run\)$/);
  });

  it('a POST with idempotencyKey sent on to another origin by a 307 keeps its Idempotency-Key (credentials are dropped)', async () => {
    const got: IncomingMessage['headers'][] = [];
    const other = createServer((req, res) => {
      got.push(req.headers);
      req.resume();
      req.on('end', () => res.writeHead(201, { 'content-type': 'application/json' }).end('{"id":1}'));
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    try {
      routes.set('/moved', (_q, res) => res.writeHead(307, { location: `http://127.0.0.1:${(other.address() as AddressInfo).port}/orders` }).end());
      const r = await runText(`variables: { base: string }
start: call
blocks:
  call:
    kind: WebRequest
    method: POST
    url: '[base] + "/moved"'
    headers: { X-Api-Key: '"k-1"' }
    json: { sum: 1 }
    maxRedirects: 1
    idempotencyKey: true
    exits: { success: ok }
  ok: { kind: ReturnValue, values: { 1: '"success"' } }
`);
      assert.equal(r.returnValues['1'], 'success', JSON.stringify(r.error));
      assert.equal(got.length, 1);
      assert.match(String(got[0]!['idempotency-key']), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(got[0]!['x-api-key'], undefined, 'a credential still stays behind');
    } finally {
      other.closeAllConnections();
      await new Promise((r) => other.close(r));
    }
  });

  it('a redirect whose Location does not parse is quoted with its secrets masked and without its fragment', async () => {
    // Before, the Location was quoted as sent (its first 200 characters): the password, the token and the fragment
    // reached the run's web requests, the trace and the error.
    const rows: Array<[string, string]> = [
      ['http://u:pa/ss-S3CRET@x.example.ru/cb?token=T0KEN-S3CRET&id=7#access_token=FR4G-S3CRET', '"http://***@x.example.ru/cb?token=***&id=7"'],
      ['https://x.example.ru:99999/cb?access_token=T0KEN-S3CRET&state=ab', '"https://x.example.ru:99999/cb?access_token=***&state=ab"'],
    ];
    for (const [location, quoted] of rows) {
      routes.set('/bad-location', (_q, res) => res.writeHead(302, { location }).end());
      const r = await runText(`variables: { base: string, code: string }
start: call
blocks:
  call:
    kind: WebRequest
    url: '[base] + "/bad-location"'
    maxRedirects: 2
    errorCode: code
    exits: { success: ok, error: bad }
  ok: { kind: ReturnValue, values: { 1: '"success"' } }
  bad: { kind: ReturnValue, values: { 1: '"error"' } }
`);
      assert.equal(r.returnValues['1'], 'error', location);
      assert.equal(r.variables.code, 'HTTP_BAD_URL');
      const error = String(r.httpCalls?.[0]?.error);
      assert.ok(error.endsWith(`redirects to ${quoted}, which is not a URL`), error);
      const record = JSON.stringify({ httpCalls: r.httpCalls, trace: r.trace, error: r.error });
      assert.ok(record.includes(JSON.stringify(quoted).slice(1, -1)), 'the trace quotes it masked');
      assert.doesNotMatch(record, /S3CRET/);
    }
  });

  it('a redirect that comes back as the answer says why it was not followed', async () => {
    routes.set('/loop', (_q, res) => res.writeHead(302, { location: '/loop' }).end());
    routes.set('/nowhere', (_q, res) => res.writeHead(302).end());
    routes.set('/to-file', (_q, res) => res.writeHead(302, { location: 'file:///etc/passwd' }).end());
    const cases: Array<[string, string, RegExp]> = [
      ['loop', 'maxRedirects: 2', /^redirected to "\/loop": not followed, as maxRedirects: 2 were followed already \(a redirect loop\?\)$/],
      ['nowhere', 'maxRedirects: 2', /^the 302 has no Location header: there is nowhere to follow it to$/],
      ['to-file', 'maxRedirects: 2', /^redirected to "file:\/\/\/etc\/passwd", not an http or https URL: not followed$/],
      ['loop', 'maxRedirects: 0', /^redirected to "\/loop": not followed, as maxRedirects is 0 \(set maxRedirects to follow redirects\)$/],
    ];
    for (const [path, max, why] of cases) {
      seenPaths.length = 0;
      const r = await runText(`variables: { base: string, status: number, code: string }
start: call
blocks:
  call:
    kind: WebRequest
    url: '[base] + "/${path}"'
    ${max}
    status: status
    errorCode: code
    exits: { success: ok, error: bad }
  ok: { kind: ReturnValue, values: { 1: '"success"' } }
  bad: { kind: ReturnValue, values: { 1: '"error"' } }
`);
      assert.equal(r.returnValues['1'], 'error', path);
      assert.equal(r.variables.code, '302', path);
      assert.match(String(r.httpCalls?.[0]?.error), why, `${path} ${max}`);
      assert.ok(JSON.stringify(r.trace).includes(JSON.stringify(String(r.httpCalls?.[0]?.error)).slice(1, -1)), 'the step trace has the note too');
    }
  });

  it('the timeout covers the redirects followed: two hops of 700 ms each do not fit in a timeout of 1 s', async () => {
    routes.set('/slow-hop', (req, res) => {
      const hop = Number(new URL(req.url!, 'http://x').searchParams.get('n') ?? 0);
      setTimeout(() => {
        if (hop < 2) res.writeHead(302, { location: `/slow-hop?n=${hop + 1}` }).end();
        else res.writeHead(200).end('landed');
      }, 700);
    });
    const r = await runText(`variables: { base: string, code: string }
start: call
blocks:
  call:
    kind: WebRequest
    url: '[base] + "/slow-hop"'
    maxRedirects: 5
    timeout: 1
    errorCode: code
    exits: { success: ok, timeout: slow }
  ok: { kind: ReturnValue, values: { 1: '"success"' } }
  slow: { kind: ReturnValue, values: { 1: '"timeout"' } }
`);
    assert.equal(r.returnValues['1'], 'timeout');
    assert.equal(r.variables.code, 'HTTP_TIMEOUT');
    assert.match(String(r.httpCalls?.[0]?.error), /no answer within 1000 ms, the 1 redirect\(s\) followed included$/);
  });

  it('https:// to a plain HTTP port is HTTP_TLS with the likely cause, at once; an answer that is not HTTP says so', async () => {
    const plain = await get(`"${base.replace('http:', 'https:')}/x"`);
    assert.equal(plain.returnValues['1'], 'error');
    assert.equal(plain.variables.code, 'HTTP_TLS');
    assert.equal(plain.httpCalls?.[0]?.attempts, 1, 'not retried');
    assert.match(String(plain.httpCalls?.[0]?.error), /does not answer in TLS \(EPROTO: wrong version number\): is it a plain http:\/\/ service\?/);
    const raw = createNetServer((c) => c.once('data', () => c.end('NOT HTTP AT ALL\r\n\r\n')));
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    try {
      const r = await get(`"http://127.0.0.1:${(raw.address() as AddressInfo).port}/x"`);
      assert.equal(r.returnValues['1'], 'timeout');
      assert.equal(r.variables.code, 'HTTP_NETWORK');
      assert.match(String(r.httpCalls?.[0]?.error), /the answer is not valid HTTP \(HPE_INVALID_CONSTANT\): it does not begin with an HTTP status line: is an HTTP service listening at this port\?$/);
    } finally {
      await new Promise((r) => raw.close(r));
    }
  });

  it('a POST or PATCH whose answer is not valid HTTP is of unknown outcome, sent once; a GET, or a POST with idempotencyKey, is retried', async () => {
    // Reads each request whole, then answers with headers too large for Node (HPE_HEADER_OVERFLOW), or with no HTTP at all.
    let requests = 0;
    let answer = '';
    const raw = createNetServer((c) => {
      let got = '';
      c.on('data', (d) => {
        got += d.toString('latin1');
        const end = got.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: *(\d+)/i.exec(got.slice(0, end))?.[1] ?? 0);
        if (got.length < end + 4 + length) return;
        requests++;
        c.end(answer);
      });
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(raw.address() as AddressInfo).port}/orders`;
    const send = (method: string, more = '') =>
      runText(`variables: { url: string, code: string }
start: call
blocks:
  call:
    kind: WebRequest
    method: ${method}
    url: '[url]'
    timeout: 2
${method === 'GET' ? '' : '    json: { sum: 1 }\n'}${more}    errorCode: code
    exits: { success: ok, error: bad, timeout: slow }
  ok: { kind: ReturnValue, values: { 1: '"success"' } }
  bad: { kind: ReturnValue, values: { 1: '"error"' } }
  slow: { kind: ReturnValue, values: { 1: '"timeout"' } }
`, { vars: { url }, client: { retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 } } });
    try {
      for (const [kind, body, code] of [
        ['headers over 16 KiB', `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`, 'HPE_HEADER_OVERFLOW'],
        ['no HTTP at all', 'NOT HTTP AT ALL\r\n\r\n', 'HPE_INVALID_CONSTANT'],
      ]) {
        answer = body!;
        for (const method of ['POST', 'PATCH']) {
          requests = 0;
          const r = await send(method);
          assert.equal(requests, 1, `${kind}, ${method}: sent once, not again`);
          assert.equal(r.status, 'failed', `${kind}, ${method}: no exit is taken`);
          assert.equal(r.status === 'failed' && r.error.code, 'R_EFFECT_UNKNOWN');
          assert.equal(r.httpCalls?.[0]?.outcome, 'unknown');
          assert.equal(r.httpCalls?.[0]?.attempts, 1);
          assert.match(String(r.httpCalls?.[0]?.error), new RegExp(`the answer is not valid HTTP \\(${code}\\): .*; the service may have acted on the ${method}, so it is not sent again`));
        }
        for (const [method, more] of [['GET', ''], ['POST', '    idempotencyKey: true\n'], ['PUT', '']] as const) {
          requests = 0;
          const r = await send(method, more);
          assert.equal(requests, 3, `${kind}, ${method} ${more.trim()}: retried as an outage`);
          assert.equal(r.returnValues['1'], 'timeout');
          assert.equal(r.httpCalls?.[0]?.outcome, 'network error');
        }
      }
    } finally {
      await new Promise((r) => raw.close(r));
    }
  });

  it('an id from the data that is "." or ".." in the path is refused (HTTP_BAD_URL), not resolved to another address', async () => {
    for (const id of ['..', '.', '%2e%2E', '.%2e']) {
      seenPaths.length = 0;
      const r = await get('[base] + "/clients/" + [id] + "/card"', { vars: { id } });
      assert.equal(r.returnValues['1'], 'error', id);
      assert.equal(r.variables.code, 'HTTP_BAD_URL', id);
      assert.deepEqual(seenPaths, [], `${id}: nothing is sent`);
      assert.match(String(r.httpCalls?.[0]?.error), /the path has a "[.%2eE]+" segment, which would be resolved away/);
    }
    // Dots inside a segment, or in the query, are no dot segments.
    seenPaths.length = 0;
    const ok = await get('[base] + "/clients/" + [id] + "/card?up=.."', { vars: { id: 'v1..2' } });
    assert.equal(ok.returnValues['1'], 'success');
    assert.deepEqual(seenPaths, ['/clients/v1..2/card']);
  });

  it('a dot segment is refused however the URL hides it: a tab inside it, or "http:/" with one slash (or none)', async () => {
    const hostAndPort = base.slice('http://'.length);
    // The parser reads `http:/host/…` and `http:host/…` as `http://host/…`: the ".." after it is resolved away all the same.
    for (const start of [`http:/${hostAndPort}`, `http:${hostAndPort}`, `HTTP:\\${hostAndPort}`]) {
      for (const id of ['..', '%2E.']) {
        seenPaths.length = 0;
        const r = await get('[base] + "/clients/" + [id] + "/card"', { vars: { base: start, id } });
        assert.equal(r.variables.code, 'HTTP_BAD_URL', `${start} ${id}`);
        assert.deepEqual(seenPaths, [], `${start} ${id}: nothing is sent`);
        assert.match(String(r.httpCalls?.[0]?.error), /the path has a "[.%2E]+" segment, which would be resolved away/);
      }
    }
    // A tab or line break inside a segment is dropped by the parser (".\t." is ".."): such a URL is refused, naming it.
    for (const [id, named] of [['.\t.', 'a tab \\(U\\+0009\\)'], ['.\n.', 'a line break \\(U\\+000A\\)'], ['\u0000..', 'a control character \\(U\\+0000\\)']] as const) {
      seenPaths.length = 0;
      const r = await get('[base] + "/clients/" + [id] + "/card"', { vars: { id } });
      assert.equal(r.variables.code, 'HTTP_BAD_URL', JSON.stringify(id));
      assert.deepEqual(seenPaths, [], `${JSON.stringify(id)}: nothing is sent`);
      assert.match(String(r.httpCalls?.[0]?.error), new RegExp(`the URL contains ${named} at character ${base.length + '/clients/'.length + id.search(/[\u0000-\u001f]/) + 1} `));
    }
    // One slash is read, not refused, when the path holds no dot segment.
    seenPaths.length = 0;
    const ok = await get('[base] + "/clients/" + [id] + "/card"', { vars: { base: `http:/${hostAndPort}`, id: 'a.b' } });
    assert.equal(ok.returnValues['1'], 'success');
    assert.deepEqual(seenPaths, ['/clients/a.b/card']);
  });
});
