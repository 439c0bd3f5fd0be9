// The hook scenario's answer may carry headers of its own (`hook.returns.headers`): a link in a letter that records a
// click and redirects (302 + Location), a cookie, a CORS header. One return value holds `Name: value` lines, as input
// parameter 2 hands the request's in. Before, the answer had no header but its content type, so a redirect could not be
// answered. What cannot be sent (not a name, a line break in a value, a header the server owns) answers 500 with the
// reason, as a status that is not one does, and never reaches the socket; so does a second Location (a header an answer
// carries once) and Strict-Transport-Security.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadServerConfig } from '../../server/config.js';
import { AUTH, capturingLogger, startTestServer, type TestServer } from './server-helpers.js';
import { tempDir } from '../helpers.js';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';

// Status from the address (/redirect → 302), headers from the request's body: the cases below are data.
const HOOK = `variables: { address: string, body: string }
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
    values: { 1: '"answered"', 2: 'If(Contains([address], "/redirect"), 302, 200)', 4: '[body]' }
`;

/** A raw answer: every header line as sent (fetch would fold repeated ones and follow the redirect). */
function post(url: string, path: string, body: string): Promise<{ status: number; raw: string[]; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'text/plain' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        const raw: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) raw.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
        resolve({ status: res.statusCode!, raw, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A server for the describe block, its hook scenario `hook`, its headers from return value 4; its log captured. */
function headersServer(hook: string): { log: ReturnType<typeof capturingLogger>; t: () => TestServer } {
  const log = capturingLogger();
  let t: TestServer | undefined;
  before(async () => {
    t = await startTestServer({ smtp: false, logger: log.logger, extraScenarios: { 'HTTP404.yaml': hook }, config: 'hook:\n  returns: { headers: 4 }\n' });
  });
  after(async () => t?.cleanup());
  return { log, t: () => t! };
}

describe('headers the hook scenario gives its answer', () => {
  const { log, t } = headersServer(HOOK);

  it('a redirect with its Location and two cookies, each line as given', async () => {
    const res = await post(t().server.url, '/redirect/click?id=7', 'Location: https://example.ru/thanks?id=7\r\nSet-Cookie: seen=1; Path=/\n\nSet-Cookie: from=mail\r\nAccess-Control-Allow-Origin: *');
    assert.equal(res.status, 302);
    assert.ok(res.raw.includes('Location: https://example.ru/thanks?id=7'), res.raw.join('\n'));
    assert.deepEqual(res.raw.filter((h) => h.startsWith('Set-Cookie:')), ['Set-Cookie: seen=1; Path=/', 'Set-Cookie: from=mail']);
    assert.ok(res.raw.includes('Access-Control-Allow-Origin: *'));
    assert.equal(res.text, 'answered');
    assert.ok(res.raw.some((h) => /^X-Oktell-Run-Id: /.test(h)), 'the run id as on every answer');
  });

  for (const [why, body, reason] of [
    ['a line break inside a value (header injection)', 'X-A: 1\rInjected: yes', /line 1: the value of X-A holds a character a header cannot carry/],
    ['a line without a colon', 'Location /thanks', /line 1: "Location \/thanks" has no ":"/],
    ['a name with a space', 'X Bad: 1', /"X Bad" is not a header name/],
    ['Cyrillic in a value', 'X-Name: Иван', /outside Latin-1 such as Cyrillic: percent-encode it/],
    ['the body length', 'Content-Length: 5', /Content-Length may not be set by the scenario: the server counts the body itself/],
    ['the content type', 'Content-Type: text/html', /Content-Type may not be set by the scenario: the content type is return value 3/],
    ['the sandbox the console needs', 'X-Frame-Options: SAMEORIGIN', /X-Frame-Options may not be set by the scenario: the server sets it on every scenario answer/],
    ['the run id', 'x-oktell-run-id: forged', /x-oktell-run-id may not be set by the scenario/],
    // A header an answer carries once, given twice: a client would take either (or join them into no address).
    ['two Locations', 'Location: /a\nLocation: /b', /line 2: Location is given twice \(first at line 1\); an answer may carry it once/],
    ['two ETags, named in two cases', 'ETag: "a"\nSet-Cookie: a=1\netag: "b"', /line 3: etag is given twice \(first at line 1\); an answer may carry it once/],
    ['two origins allowed', 'Access-Control-Allow-Origin: https://a.example\nAccess-Control-Allow-Origin: https://b.example', /line 2: Access-Control-Allow-Origin is given twice/],
    ['a JSON list of Locations', '{"Location": ["/a", "/b"]}', /key 1: Location is given twice \(first at key 1\); an answer may carry it once/],
    ['a JSON Location under two spellings', '{"Location": "/a", "location": "/b"}', /key 2: location is given twice \(first at key 1\)/],
    // HSTS from an emulator's answer would bind its host name to HTTPS in the browser for max-age.
    ['HSTS', 'Strict-Transport-Security: max-age=31536000', /Strict-Transport-Security may not be set by the scenario: it would bind the emulator's host name/],
    ['too many', Array.from({ length: 51 }, (_, i) => `X-H${i}: v`).join('\n'), /holds more than 50 headers or 8192 bytes of them/],
    // The JSON form: a value is one header whatever it holds, so a line break in it is refused, never split.
    ['a JSON value with a line break (request data)', JSON.stringify({ Location: '/x?to=a\nSet-Cookie: session=attacker' }), /key 1: the value of Location holds a character a header cannot carry/],
    ['JSON that is not', '{"Location": ', /starts with "\{", so it is read as a JSON object of headers .*, and it is not JSON/],
    ['a JSON value that is an object', '{"X-A": {"b": 1}}', /key 1: the value of X-A is not text or a number/],
    ['a JSON name the server owns', '{"content-length": "5"}', /key 1: content-length may not be set by the scenario/],
  ] as const) {
    it(`${why}: 500 with the reason, nothing of it sent`, async () => {
      const before = log.lines.length;
      const res = await post(t().server.url, '/redirect/x', body);
      assert.equal(res.status, 500);
      assert.match(res.text, /^500 Internal Server Error: scenario HTTP404 set return value 4 \(the answer's headers\)/);
      assert.match(res.text, reason);
      assert.ok(!res.raw.some((h) => /^(Location|Injected|X-A|X-Name|X-H0|ETag|Access-Control-Allow-Origin|Strict-Transport-Security|Set-Cookie):/i.test(h)), res.raw.join('\n'));
      assert.ok(!res.raw.includes('X-Frame-Options: SAMEORIGIN') && !res.raw.includes('x-oktell-run-id: forged'));
      const warned = log.lines.slice(before).find((l) => l.level === 'warn' && /hook answer replaced by 500/.test(l.msg ?? ''));
      assert.ok(warned, 'logged as a warning');
      assert.match(warned!.msg!, reason);
      assert.doesNotMatch(warned!.msg!, /Иван|yes|SAMEORIGIN/, 'the value is not repeated in the log');
    });
  }

  it('the JSON form: a Location and two cookies from one object', async () => {
    const res = await post(t().server.url, '/redirect/json', JSON.stringify({ Location: 'https://example.ru/thanks?id=7', 'Set-Cookie': ['seen=1', 'from=mail'], 'X-Count': 2 }));
    assert.equal(res.status, 302);
    assert.ok(res.raw.includes('Location: https://example.ru/thanks?id=7'), res.raw.join('\n'));
    assert.deepEqual(res.raw.filter((h) => h.startsWith('Set-Cookie:')), ['Set-Cookie: seen=1', 'Set-Cookie: from=mail']);
    assert.ok(res.raw.includes('X-Count: 2'));
  });

  it('headers that may repeat are sent once per line; WWW-Authenticate is the scenario\'s to send', async () => {
    const res = await post(t().server.url, '/plain', 'Vary: Accept\nVary: Origin\nLink: </a>; rel=preload\nLink: </b>; rel=preload\nWWW-Authenticate: Bearer realm="api"');
    assert.equal(res.status, 200);
    assert.deepEqual(res.raw.filter((h) => /^(Vary|Link):/.test(h)), ['Vary: Accept', 'Vary: Origin', 'Link: </a>; rel=preload', 'Link: </b>; rel=preload']);
    assert.ok(res.raw.includes('WWW-Authenticate: Bearer realm="api"'), res.raw.join('\n'));
  });

  it('no headers set: the answer as before', async () => {
    const res = await post(t().server.url, '/plain', '');
    assert.equal(res.status, 200);
    assert.equal(res.text, 'answered');
  });
});

// A header line built from a secret variable, with its colon forgotten: the reason quoted the line as set, so the
// secret went into the log, the 500's body and the inbox. It quotes the line as the record shows it.
// /enc: request data in a header, UrlEncode'd as docs/server.md says, stays one header (a raw line break would start one).
const SECRET_HOOK = `variables: { address: string, body: string, token: { type: string, secret: true } }
start: s
blocks:
  s:
    kind: Variable
    set:
      address: InputParameter(1)
      body: InputParameter(4)
      token: '"tok-3f9a77c1e2d4"'
    exits: { next: r }
  r:
    kind: ReturnValue
    values: { 1: '"answered"', 4: 'If(Contains([address], "/enc"), "Location: /thanks?to=" + UrlEncode([body]), If(Contains([address], "/name"), "X-Api-Key " + [token] + ": 1", "X-Api-Key " + [token]))' }
`;

describe('a header line that holds a secret and cannot be sent', () => {
  const { log, t } = headersServer(SECRET_HOOK);

  it('request data with a line break, UrlEncoded, stays in its own header', async () => {
    const res = await post(t().server.url, '/enc', 'a\nSet-Cookie: session=x');
    assert.equal(res.status, 200);
    assert.ok(res.raw.includes('Location: /thanks?to=a%0ASet-Cookie%3A%20session%3Dx'), res.raw.join('\n'));
    assert.ok(!res.raw.some((h) => /^Set-Cookie:/i.test(h)), res.raw.join('\n'));
  });

  for (const [path, reason] of [
    ['/colon', /line 1: "X-Api-Key \*\*\*" has no ":"/],
    ['/name', /line 1: "X-Api-Key \*\*\*" is not a header name/],
  ] as const) {
    it(`${path}: the reason quotes the line with the secret masked, in the answer and the log`, async () => {
      const before = log.lines.length;
      const res = await post(t().server.url, path, '');
      assert.equal(res.status, 500);
      assert.doesNotMatch(res.text, /tok-3f9a77c1e2d4/);
      assert.match(res.text, reason);
      const warned = log.lines.slice(before).find((l) => l.level === 'warn' && /hook answer replaced by 500/.test(l.msg ?? ''));
      assert.ok(warned, 'logged as a warning');
      assert.doesNotMatch(JSON.stringify(log.lines.slice(before)), /tok-3f9a77c1e2d4/);
    });
  }
});

// A resend answered from the store (the dedup path) does not run HTTP404: the inbox keeps the first answer's status and
// body only (no column for its content type or headers; adding one is a migration), so the resend gets neither. Only a
// delivery answered 2xx or that started a job takes its key, so a 302 + Location is never answered from the store.
const DEDUP_HOOK = `start: r
blocks:
  r:
    kind: ReturnValue
    values: { 1: '"{}"', 2: 'If(Contains(InputParameter(1), "/redirect"), 302, 201)', 3: '"application/json"', 4: '"Location: /tasks/7"' }
`;

describe('a duplicate delivery answered from the store', () => {
  const { t } = headersServer(DEDUP_HOOK);
  const delivery = (seq: number) => JSON.stringify({ hook: { id: '1', sequenceId: seq }, payload: {} });

  it('gets the first answer\'s status and body, as text/plain, without the scenario\'s headers', async () => {
    const first = await post(t().server.url, '/dedup', delivery(7));
    assert.equal(first.status, 201);
    assert.ok(first.raw.includes('Location: /tasks/7') && first.raw.some((h) => h.startsWith('Content-Type: application/json')), first.raw.join('\n'));
    const again = await post(t().server.url, '/dedup', delivery(7));
    assert.equal(again.status, 201);
    assert.equal(again.text, '{}');
    assert.ok(again.raw.some((h) => /^X-Oktell-Duplicate-Of: \d+$/.test(h)), again.raw.join('\n'));
    assert.ok(again.raw.includes('Content-Type: text/plain; charset=utf-8'), again.raw.join('\n'));
    assert.ok(!again.raw.some((h) => /^Location:/i.test(h)), again.raw.join('\n'));
  });

  it('a 302 takes no key: its resend runs again and gets its Location', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await post(t().server.url, '/redirect', delivery(8));
      assert.equal(res.status, 302);
      assert.ok(res.raw.includes('Location: /tasks/7'), res.raw.join('\n'));
      assert.ok(!res.raw.some((h) => /^X-Oktell-Duplicate-Of:/i.test(h)), res.raw.join('\n'));
    }
  });
});

describe('hook.returns in the configuration', () => {
  it('two parts of the answer on one return value stop the start at the setting', () => {
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, 'oktell.config.yaml');
      writeFileSync(file, 'hook:\n  returns:\n    headers: 1\n');
      assert.throws(() => loadServerConfig({ config: file }, {}, tmp.dir), (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /oktell\.config\.yaml:3:14: hook\.returns gives body and headers the same return value 1; give each part of the answer its own number/);
        return true;
      });
      writeFileSync(file, 'hook:\n  returns:\n    headers: 4\n');
      assert.equal(loadServerConfig({ config: file }, {}, tmp.dir).hook.returns.headers, 4);
    } finally {
      tmp.cleanup();
    }
  });
});
