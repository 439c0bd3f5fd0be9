// The Bpium client against what sits in front of a real Bpium: a byte order mark, another charset, a single sign-on
// proxy that redirects an expired session to its login page, a proxy's error page, a server with its own page size.
// Each peer is a small node:http server on a port the OS picks.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EffectError } from '../../engine/errors.js';
import { createBpiumClient, type BpiumCallRecord, type BpiumClientOptions } from '../../adapters/bpium/client.js';

const servers: Array<{ close(): void; closeAllConnections(): void }> = [];
after(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

async function peer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function client(url: string, opts: Partial<BpiumClientOptions> = {}) {
  return createBpiumClient({ url, login: 'api@example.com', password: 'secret', timeoutMs: 5000, retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 }, rateLimit: false, ...opts });
}

const RECORD = { id: '2', title: 'Иван Петров', values: { '1': 'Иван Петров', '2': 'ivan.petrov@example.com' } };

/** Windows-1251 bytes of a text of ASCII and Russian letters (А-я, Ё, ё). */
function cp1251(text: string): Buffer {
  return Buffer.from([...text].map((ch) => {
    const code = ch.codePointAt(0)!;
    if (code < 0x80) return code;
    if (code >= 0x410 && code <= 0x44f) return code - 0x410 + 0xc0;
    if (code === 0x401) return 0xa8;
    if (code === 0x451) return 0xb8;
    throw new Error(`not in the test's windows-1251 table: ${ch}`);
  }));
}

test('JSON that begins with a UTF-8 byte order mark (a proxy, IIS) is read, not refused as "not JSON"', { timeout: 10_000 }, async () => {
  const url = await peer((_req, res) => {
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(RECORD))]));
  });
  const bpium = client(url);
  const user = await bpium.getRecord('3', '2');
  assert.equal(user.values['1'], 'Иван Петров');
  bpium.close();
});

test('an answer in the charset its Content-Type names (windows-1251) is decoded by it: Cyrillic stays readable', { timeout: 10_000 }, async () => {
  const url = await peer((_req, res) => {
    res.setHeader('content-type', 'application/json; charset=windows-1251');
    res.end(cp1251(JSON.stringify(RECORD)));
  });
  const bpium = client(url);
  const user = await bpium.getRecord('3', '2');
  assert.equal(user.title, 'Иван Петров');
  assert.equal(user.values['1'], 'Иван Петров');
  bpium.close();
});

test('UTF-8 under another charset label (ISO-8859-1, a framework\'s default) is read as UTF-8, not turned into mojibake', { timeout: 10_000 }, async () => {
  const url = await peer((_req, res) => {
    res.setHeader('content-type', 'application/json; charset=ISO-8859-1');
    res.end(Buffer.from(JSON.stringify(RECORD), 'utf8'));
  });
  const bpium = client(url);
  const user = await bpium.getRecord('3', '2');
  assert.equal(user.title, 'Иван Петров');
  bpium.close();
});

test('an answer in UTF-16 under its label is read in it', { timeout: 10_000 }, async () => {
  const url = await peer((_req, res) => {
    res.setHeader('content-type', 'application/json; charset=utf-16le');
    res.end(Buffer.from(JSON.stringify(RECORD), 'utf16le'));
  });
  const bpium = client(url);
  assert.equal((await bpium.getRecord('3', '2')).title, 'Иван Петров');
  bpium.close();
});

test('bytes that are not UTF-8, with no charset named, fail the call instead of passing on U+FFFD in place of the letters', { timeout: 10_000 }, async () => {
  let requests = 0;
  const url = await peer((_req, res) => {
    requests++;
    res.setHeader('content-type', 'application/json');
    res.end(cp1251(JSON.stringify(RECORD)));
  });
  const bpium = client(url);
  await assert.rejects(bpium.getRecord('3', '2'), (err: unknown) =>
    err instanceof EffectError && err.kind === 'permanent' && err.details.code === 'BPIUM_INVALID_RESPONSE' && /not UTF-8 and its Content-Type names no charset/.test(err.message)
    // A setting (the run fails, its job waits for replay), not the block's error exit: the proxy answers every call so.
    && err.details.setting === true && /; a setting: .*BPIUM_URL.*name the charset/.test(err.message));
  assert.equal(requests, 1);
  bpium.close();
});

/**
 * A Bpium behind a single sign-on proxy: Basic gets the record and a session cookie; a request with the cookie gets
 * `expired()` (the session ended), a redirect to the login page or that page itself.
 */
async function ssoPeer(expired: (res: ServerResponse) => void): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const url = await peer((req, res) => {
    const cookie = req.headers.cookie !== undefined;
    seen.push(cookie ? 'cookie' : req.headers.authorization?.startsWith('Basic ') ? 'basic' : 'none');
    if (cookie) return expired(res);
    res.setHeader('set-cookie', `connect.sid=s${seen.length}; Path=/; HttpOnly`);
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(RECORD));
  });
  return { url, seen };
}

const redirectToLogin = (res: ServerResponse) => {
  res.statusCode = 302;
  res.setHeader('location', '/auth/login?next=%2Fapi%2Fv1');
  res.end();
};
const loginPage = (res: ServerResponse) => {
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end('<!doctype html><html><head><title>Вход в Bpium</title></head><body><form action="/auth/login"></form></body></html>');
};

test('a redirect to the login page on the session cookie is an expired session: one new login with Basic, then the answer', { timeout: 10_000 }, async () => {
  const { url, seen } = await ssoPeer(redirectToLogin);
  const calls: BpiumCallRecord[] = [];
  const bpium = client(url, { onCall: (c) => calls.push(c) });
  await bpium.getRecord('3', '2');
  const again = await bpium.getRecord('3', '2');
  assert.equal(again.values['2'], 'ivan.petrov@example.com');
  assert.deepEqual(calls.map((c) => [c.auth, c.status]), [['basic', 200], ['cookie', 302], ['basic', 200]]);
  assert.deepEqual(seen, ['basic', 'cookie', 'basic']);
  bpium.close();
});

test('the login page itself (200, HTML) on the session cookie: one new login with Basic, then the answer', { timeout: 10_000 }, async () => {
  const { url, seen } = await ssoPeer(loginPage);
  const bpium = client(url);
  await bpium.getRecord('3', '2');
  const again = await bpium.getRecord('3', '2');
  assert.equal(again.title, 'Иван Петров');
  assert.deepEqual(seen, ['basic', 'cookie', 'basic']);
  bpium.close();
});

test('a POST that meets a web page (200) on the session cookie is not sent again, and the next call logs in with Basic: a client that only POSTs is not stuck on the page', { timeout: 10_000 }, async () => {
  const posts: string[] = [];
  const url = await peer((req, res) => {
    const cookie = req.headers.cookie !== undefined;
    if (req.method === 'POST') posts.push(cookie ? 'cookie' : 'basic');
    if (cookie) return loginPage(res);
    res.setHeader('set-cookie', 'connect.sid=s1; Path=/; HttpOnly');
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(RECORD));
  });
  const bpium = client(url);
  await bpium.getRecord('3', '2'); // Basic, and a session cookie
  await assert.rejects(bpium.createRecord('11', { '2': 'Задача' }), (err: unknown) => err instanceof EffectError && err.kind === 'unknown');
  // The page may come after the POST was passed on: it is not sent again.
  assert.deepEqual(posts, ['cookie'], 'the POST went once');
  assert.deepEqual(await bpium.createRecord('11', { '2': 'Задача' }), { id: '2' });
  assert.deepEqual(posts, ['cookie', 'basic'], 'the failed POST was not sent again; the next one went with Basic');
  bpium.close();
});

test('a server that ignores offset (the same page again) ends the list at the repeat, not at the record cap', { timeout: 10_000 }, async () => {
  const page = Array.from({ length: 100 }, (_, i) => ({ id: String(i + 1), title: `Задача ${i + 1}`, values: {} }));
  let requests = 0;
  const url = await peer((_req, res) => {
    requests++;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(page));
  });
  const bpium = client(url);
  const found = await bpium.findRecords({ catalogId: '11' });
  assert.deepEqual(found.map((r) => r.id), page.map((r) => r.id));
  assert.equal(requests, 2);
  bpium.close();
});

test('a record added while the catalog is paged (the next page repeats one record) does not end the list: the rest is read', { timeout: 10_000 }, async () => {
  // Newest first, as a list sorted by date is: a record created after the first page shifts the next page by one.
  let records = [7, 6, 5, 4, 3, 2, 1].map((n) => ({ id: String(n), title: `Задача ${n}`, values: {} }));
  const offsets: string[] = [];
  const url = await peer((req, res) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const offset = Number(q.get('offset') ?? 0);
    offsets.push(String(offset));
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(records.slice(offset, offset + Number(q.get('limit')))));
    if (offsets.length === 1) records = [{ id: '8', title: 'Задача 8', values: {} }, ...records];
  });
  const bpium = client(url, { paging: { pageSize: 3, maxRecords: 100 } });
  const found = await bpium.findRecords({ catalogId: '11' });
  assert.deepEqual(found.map((r) => r.id), ['7', '6', '5', '4', '3', '2', '1'], 'each record once, none after the repeat lost');
  assert.deepEqual(offsets, ['0', '3', '6', '8']);
  bpium.close();
});

test('a redirect to the login page that Basic meets too is the setting error after one new login, never a loop', { timeout: 10_000 }, async () => {
  // The first login works; from then on every request is redirected, Basic ones too (the API account lost its access).
  const seen: string[] = [];
  const url = await peer((req, res) => {
    seen.push(req.headers.cookie !== undefined ? 'cookie' : 'basic');
    if (seen.length > 1) return redirectToLogin(res);
    res.setHeader('set-cookie', 'connect.sid=s1; Path=/');
    res.end(JSON.stringify(RECORD));
  });
  const bpium = client(url);
  await bpium.getRecord('3', '2');
  await assert.rejects(bpium.getRecord('3', '2'), (err: unknown) =>
    err instanceof EffectError && err.details.code === 'BPIUM_REDIRECT' && err.details.setting === true && err.details.attempts === 2);
  assert.deepEqual(seen, ['basic', 'cookie', 'basic']);
  bpium.close();
});

test('a session that ends at every request costs one Basic login per call, not a loop', { timeout: 10_000 }, async () => {
  const { url, seen } = await ssoPeer(loginPage);
  const bpium = client(url);
  for (let i = 0; i < 3; i++) assert.equal((await bpium.getRecord('3', '2')).id, '2');
  assert.deepEqual(seen, ['basic', 'cookie', 'basic', 'cookie', 'basic']);
  bpium.close();
});

test('a page of unclosed tags (a broken proxy, up to BPIUM_MAX_RESPONSE_BYTES) is named in linear time, without holding the thread', { timeout: 60_000 }, async () => {
  // Each of these took the regular expressions time quadratic in its length: 200 KB held the event loop for seconds.
  const pages = ['<'.repeat(200_000), '<script>'.repeat(25_000), `<title>${'<title'.repeat(40_000)}`, `<p>Вход ${'<a'.repeat(100_000)}`];
  for (const page of pages) {
    const url = await peer((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(page);
    });
    const bpium = client(url);
    const started = Date.now();
    await assert.rejects(bpium.getRecord('3', '2'), (err: unknown) =>
      err instanceof EffectError && err.details.code === 'BPIUM_INVALID_RESPONSE' && /the answer is not JSON/.test(err.message) && err.message.length < 600);
    assert.ok(Date.now() - started < 1000, `${page.slice(0, 12)}…: ${Date.now() - started} ms`);
    bpium.close();
  }
});

test('a web page without a title is named by its words, without its tags, scripts and styles', { timeout: 10_000 }, async () => {
  const url = await peer((_req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end('<!doctype html><html><head><style>p { color: red }</style><script>if (a < b) go();</script></head><body><h1>Вход в систему</h1><p>Введите пароль</p></body></html>');
  });
  const bpium = client(url);
  await assert.rejects(bpium.getRecord('3', '2'), (err: unknown) =>
    err instanceof EffectError && /the answer is not JSON: Вход в систему Введите пароль; a setting/.test(err.message));
  bpium.close();
});

test("a proxy's HTML error page is named by its title in the error, not quoted tag by tag", { timeout: 10_000 }, async () => {
  const url = await peer((_req, res) => {
    res.statusCode = 502;
    res.setHeader('content-type', 'text/html');
    res.end('<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>');
  });
  const bpium = client(url, { retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
  await assert.rejects(bpium.getRecord('3', '2'), (err: unknown) =>
    err instanceof EffectError && err.details.code === 'BPIUM_SERVER_ERROR' && /HTTP 502: a web page "502 Bad Gateway" \(/.test(err.message) && !/<\w/.test(err.message));
  bpium.close();
});

test('a server that gives at most 100 records a page, whatever the limit: findRecords without a limit still gets them all', { timeout: 10_000 }, async () => {
  const all = Array.from({ length: 250 }, (_, i) => ({ id: String(i + 1), title: `Задача ${i + 1}`, values: {} }));
  const url = await peer((req, res) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const limit = Math.min(100, Number(q.get('limit') ?? 100));
    const offset = Number(q.get('offset') ?? 0);
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(all.slice(offset, offset + limit)));
  });
  const calls: BpiumCallRecord[] = [];
  const bpium = client(url, { onCall: (c) => calls.push(c) });
  const found = await bpium.findRecords({ catalogId: '11' });
  assert.deepEqual(found.map((r) => r.id), all.map((r) => r.id));
  // 100 of the 500 asked for: not the end, the next page is asked for; 50 of a 100-record page is the end.
  assert.deepEqual(calls.map((c) => new URLSearchParams(c.path.split('?')[1]).get('offset')), ['0', '100', '200']);
  bpium.close();
});

test('a catalog given by its name is refused before any request, with a hint that the API takes the id', { timeout: 10_000 }, async () => {
  let requests = 0;
  const url = await peer((_req, res) => {
    requests++;
    res.end('[]');
  });
  const bpium = client(url);
  await assert.rejects(bpium.getRecord('Сотрудники', '2'), (err: unknown) =>
    err instanceof EffectError && err.details.code === 'BPIUM_INVALID_ID' && /a catalog is given by its id \(the number in its address in Bpium, e\.g\. "11", or "\$users"\), not by its name/.test(err.message));
  await assert.rejects(bpium.findRecords({ catalogId: 'Задачи' }), (err: unknown) => err instanceof EffectError && /not by its name/.test(err.message));
  assert.equal(requests, 0);
  bpium.close();
});

test("the check of a 404's catalog is part of the call: within the call's deadline, its attempts numbered on in the trace", { timeout: 10_000 }, async () => {
  const held: ServerResponse[] = [];
  let holdCatalog = true;
  const url = await peer((req, res) => {
    if (/\/records\//.test(req.url ?? '')) {
      setTimeout(() => {
        res.statusCode = 404;
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.end('{"message":"record not found"}');
      }, 400);
    } else if (holdCatalog) held.push(res); // the catalog check gets no answer
    else {
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ id: '3', fields: [] }));
    }
  });
  const bpium = client(url);
  const started = Date.now();
  await assert.rejects(bpium.getRecord('3', '2', { timeoutMs: 600 }), (err: unknown) => err instanceof EffectError && err.details.code === 'BPIUM_NOT_FOUND');
  const took = Date.now() - started;
  assert.ok(took < 850, `the call and its check took ${took} ms of a 600 ms deadline`);
  holdCatalog = false;
  const attempts: Array<{ attempt: number; status?: number }> = [];
  await assert.rejects(bpium.getRecord('3', '2', { onAttempt: (a) => attempts.push(a) }), (err: unknown) => err instanceof EffectError && err.details.code === 'BPIUM_NOT_FOUND');
  assert.deepEqual(attempts.map((a) => [a.attempt, a.status]), [[1, 404], [2, 200]]);
  held.forEach((res) => res.destroy());
  bpium.close();
});
