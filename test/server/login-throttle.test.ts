// Basic-auth guessing is throttled (review 35, M5): past OKTELL_LOGIN_FAILURE_LIMIT failed logins within a minute
// from one client address, that address is answered 429 with Retry-After without its password being checked, on the
// hook route and the express routes alike, while another address still logs in; the log keeps one line per failure
// up to the limit and one summary line after. A short password on a server reachable from the network is warned of.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { ConfigError, loadServerConfig } from '../../server/config.js';
import { clientKey, createLoginThrottle, trustAnyProxyWarning } from '../../server/login-throttle.js';
import { tempDir } from '../helpers.js';
import { AUTH, USER, capturingLogger, startTestServer, type TestServer } from './server-helpers.js';

const basic = (login: string, password: string) => `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;

/** A GET (or a POST with `body`) from the loopback address `from` (127.0.0.x), on a connection of its own. */
function call(base: string, path: string, from: string, authorization?: string, body?: string): Promise<{ status: number; text: string; retryAfter: string | undefined }> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method: body === undefined ? 'GET' : 'POST', localAddress: from, agent: false, headers: authorization ? { authorization } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, retryAfter: res.headers['retry-after'] }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('throttling of failed logins (review 35, M5)', () => {
  // Each test has a server of its own, so none depends on the failures another one left in the window.
  let t: TestServer;
  const log = capturingLogger();
  beforeEach(async () => {
    log.lines.length = 0;
    t = await startTestServer({ smtp: false, logger: log.logger, env: { SMTP_URL: '' } });
  });
  afterEach(async () => t.cleanup());

  const refusedFrom = (ip: string) => log.lines.filter((l) => l.msg === 'login refused' && l.obj.ip === ip);
  const summariesFor = (ip: string) => log.lines.filter((l) => l.level === 'warn' && l.obj.ip === ip && /refused with 429 without a check/.test(l.msg ?? ''));

  it('the 11th wrong guess from one address gets 429 with Retry-After, on every route; another address still logs in; the log stays bounded', { timeout: 60_000 }, async () => {
    const attacker = '127.0.0.2';
    const paths = ['/some/hook', '/execsvcscriptplain?name=x', '/-/console/runs', '/-/metrics'];
    // The default limit: 10 failures within a minute, spread over the hook route and the express routes.
    for (let i = 0; i < 10; i++) {
      const r = await call(t.server.url, paths[i % paths.length]!, attacker, basic(USER.login, `wrong-${i}`));
      assert.equal(r.status, 401, `guess ${i + 1}: ${r.text}`);
    }
    for (const path of paths) {
      const r = await call(t.server.url, path, attacker, basic(USER.login, 'wrong-again'));
      assert.equal(r.status, 429, `${path}: ${r.text}`);
      assert.match(r.text, /^429 Too Many Requests: too many failed logins from this address; try again in \d+ s\n$/);
      assert.ok(Number(r.retryAfter) >= 1 && Number(r.retryAfter) <= 60, `Retry-After ${r.retryAfter}`);
    }
    // The password is not checked any more from there: the right one gets 429 too.
    assert.equal((await call(t.server.url, '/-/metrics', attacker, AUTH)).status, 429);
    // A body sent with a throttled request is refused too (the POST route).
    assert.equal((await call(t.server.url, '/some/hook', attacker, basic(USER.login, 'x'), '{"a":1}')).status, 429);
    // Another address, with the right password, is not held up by that one.
    assert.equal((await call(t.server.url, '/-/metrics', '127.0.0.3', AUTH)).status, 200);
    // A success elsewhere did not reset the attacker's count.
    for (let i = 0; i < 40; i++) assert.equal((await call(t.server.url, '/some/hook', attacker, basic(USER.login, `more-${i}`))).status, 429);

    // One line per failure up to the limit, then one summary line (at the first refusal), no request line per refusal.
    assert.equal(refusedFrom(attacker).length, 10);
    const summaries = summariesFor(attacker);
    assert.equal(summaries.length, 1, JSON.stringify(summaries));
    assert.match(summaries[0]!.msg!, /OKTELL_LOGIN_FAILURE_LIMIT/);
    assert.equal(log.lines.filter((l) => l.msg === 'request' && l.obj.ip === attacker && l.obj.status === 429).length, 0);
    assert.ok(log.lines.filter((l) => l.obj.ip === attacker).length <= 21, 'at most 10 refusals, 10 request lines and 1 summary');
    assert.ok(!JSON.stringify(log.lines).includes('wrong-'), 'no password tried is logged');
  });

  it('guesses for one login spread over addresses: an address that failed for it is refused once the login is past the limit, a clean one is still checked', { timeout: 60_000 }, async () => {
    // Ten guesses for the login, one from each of ten addresses: no address is past the limit, the login is.
    for (let i = 1; i <= 10; i++) assert.equal((await call(t.server.url, '/some/hook', `127.0.1.${i}`, basic(USER.login, `spread-${i}`))).status, 401, `127.0.1.${i}`);
    // Each further address gets one checked guess for it, then 429.
    for (const from of ['127.0.0.4', '127.0.0.5', '127.0.0.6']) {
      assert.equal((await call(t.server.url, '/some/hook', from, basic(USER.login, 'spread'))).status, 401, from);
      assert.equal((await call(t.server.url, '/some/hook', from, basic(USER.login, 'spread-2'))).status, 429, `${from}, second guess`);
    }
    // An address that never failed logs in with the right password.
    assert.equal((await call(t.server.url, '/-/metrics', '127.0.0.7', AUTH)).status, 200);
  });

  it('/-/metrics counts the refused logins (401) and the requests throttled (429), on every route, by neither address nor login', { timeout: 60_000 }, async () => {
    const attacker = '127.0.0.2';
    const metric = async (name: string) => {
      const r = await call(t.server.url, '/-/metrics', '127.0.0.9', AUTH);
      assert.equal(r.status, 200, r.text);
      const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(r.text);
      assert.ok(m, `${name} on the page:\n${r.text}`);
      return { value: Number(m[1]), page: r.text };
    };
    const refused0 = (await metric('oktell_logins_refused_total')).value;
    const throttled0 = (await metric('oktell_logins_throttled_total')).value;
    // No Authorization at all (a browser's first try) is answered 401 but is no login tried.
    assert.equal((await call(t.server.url, '/-/console/runs', attacker)).status, 401);
    // Ten wrong guesses (the default limit), a wrong login among them, over the hook route and the express routes.
    const paths = ['/some/hook', '/execsvcscriptplain?name=x', '/-/console/runs', '/-/metrics'];
    for (let i = 0; i < 10; i++) {
      const r = await call(t.server.url, paths[i % paths.length]!, attacker, i === 3 ? basic('nobody', 'x') : basic(USER.login, `wrong-${i}`));
      assert.equal(r.status, 401, `guess ${i + 1}: ${r.text}`);
    }
    // Then three requests refused without a check, one of them asking for 100 Continue (asked twice, counted once).
    for (const path of ['/some/hook', '/-/console/runs']) assert.equal((await call(t.server.url, path, attacker, basic(USER.login, 'again'))).status, 429, path);
    const url = new URL('/some/hook', t.server.url);
    const continued = await new Promise<number>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress: attacker, agent: false, headers: { authorization: basic(USER.login, 'again'), expect: '100-continue', 'content-length': '2' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.on('continue', () => req.end('{}'));
      req.flushHeaders();
    });
    assert.equal(continued, 429);
    const refused = await metric('oktell_logins_refused_total');
    const throttled = await metric('oktell_logins_throttled_total');
    assert.equal(refused.value - refused0, 10);
    assert.equal(throttled.value - throttled0, 3);
    assert.match(throttled.page, /^# TYPE oktell_logins_refused_total counter$/m);
    assert.match(throttled.page, /^# TYPE oktell_logins_throttled_total counter$/m);
    // One series each: no label names the address or the login.
    assert.deepEqual(throttled.page.split('\n').filter((l) => l.startsWith('oktell_logins_')).map((l) => l.split(' ')[0]), ['oktell_logins_refused_total', 'oktell_logins_throttled_total']);
  });
});

describe('a sender that shares its address with a client sending a stale password (review 35, M1)', () => {
  let t: TestServer;
  const OPS = basic('ops', 'ops-password-22');
  before(async () => {
    t = await startTestServer({ smtp: false, env: { SMTP_URL: '', OKTELL_USERS: `${USER.login}:${USER.password},ops:ops-password-22` } });
  });
  after(async () => t.cleanup());

  it('a header that succeeded from the address is still checked there while the address is throttled; a right one never seen from there gets 429', { timeout: 60_000 }, async () => {
    const shared = '127.0.0.8';
    // The right sender has logged in from the shared address before the stale one starts failing.
    assert.equal((await call(t.server.url, '/-/metrics', shared, AUTH)).status, 200);
    for (let i = 0; i < 10; i++) assert.equal((await call(t.server.url, '/some/hook', shared, basic(USER.login, 'the-old-password'))).status, 401, `stale ${i + 1}`);
    assert.equal((await call(t.server.url, '/some/hook', shared, basic(USER.login, 'the-old-password'))).status, 429, 'the stale sender is throttled');
    // The right sender keeps getting through, on the express routes and on the hook (with a body, as a webhook).
    assert.equal((await call(t.server.url, '/-/metrics', shared, AUTH)).status, 200);
    const hook = await call(t.server.url, '/some/hook', shared, AUTH, '{"a":1}');
    // No scenario listens on /some/hook: a 404 says the request got past the login.
    assert.equal(hook.status, 404, `the hook: ${hook.text}`);
    // The throttle still stops guessing: a right password never seen from that address is not checked.
    assert.equal((await call(t.server.url, '/-/metrics', shared, OPS)).status, 429);
    assert.equal((await call(t.server.url, '/some/hook', shared, basic(USER.login, 'a-new-guess'))).status, 429);
    // Elsewhere the other login works.
    assert.equal((await call(t.server.url, '/-/metrics', '127.0.0.9', OPS)).status, 200);
  });
});

describe('the throttle setting and the short-password warning', () => {
  it('the window slides (a refused address may try again a minute after its oldest counted failure) and the table of addresses is capped', () => {
    let now = 0;
    const log = capturingLogger();
    const throttle = createLoginThrottle(3, log.logger, { now: () => now, maxEntries: 100 });
    const users = [{ login: 'a', password: 'a-right-password' }];
    const guess = basic('nobody', 'x');
    try {
      for (let i = 0; i < 3; i++) throttle.failed('10.1.1.1', guess, { path: '/' }, users);
      assert.equal(throttle.refusal('10.1.1.1', guess), 60);
      now = 30_000;
      assert.equal(throttle.refusal('10.1.1.1', guess), 30);
      assert.equal(throttle.refusal('10.1.1.2', guess), undefined, 'another address');
      now = 60_000;
      assert.equal(throttle.refusal('10.1.1.1', guess), undefined, 'the oldest failure left the window');
      // 1000 addresses past the limit: only the last 100 are kept, the first ones are forgotten.
      for (let k = 0; k < 1000; k++) for (let i = 0; i < 3; i++) throttle.failed(`10.2.${k >> 8}.${k & 255}`, guess, { path: '/' }, users);
      assert.equal(throttle.refusal('10.2.0.0', guess), undefined);
      assert.equal(throttle.refusal(`10.2.${999 >> 8}.${999 & 255}`, guess), 60);
    } finally {
      throttle.close();
    }
  });

  it('with the throttle off (limit 0) a refused login is still counted, nothing is throttled', () => {
    const counts = { refused: 0, throttled: 0 };
    const throttle = createLoginThrottle(0, capturingLogger().logger, { counts });
    const users = [{ login: 'a', password: 'a-right-password' }];
    try {
      for (let i = 0; i < 20; i++) {
        throttle.failed('10.1.1.1', basic('a', `wrong-${i}`), { path: '/' }, users);
        assert.equal(throttle.refusal('10.1.1.1', basic('a', 'x')), undefined);
      }
      throttle.failed('10.1.1.1', undefined, { path: '/' }, users);
      assert.deepEqual(counts, { refused: 20, throttled: 0 });
    } finally {
      throttle.close();
    }
  });

  it('an IPv6 client is counted by its /64 and an IPv4-mapped address as the IPv4 one (review 35, M2)', () => {
    assert.equal(clientKey('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(clientKey('::FFFF:192.0.2.7'), '192.0.2.7');
    assert.equal(clientKey('192.0.2.7'), '192.0.2.7');
    assert.equal(clientKey('2001:db8:0:1::17'), '2001:db8:0:1::/64');
    assert.equal(clientKey('2001:0db8:0000:0001:abcd:0:0:9'), '2001:db8:0:1::/64');
    assert.equal(clientKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(clientKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(clientKey('::1'), '0:0:0:0::/64');
    assert.equal(clientKey('64:ff9b::192.0.2.7'), '64:ff9b:0:0::/64');
    assert.equal(clientKey(undefined), '');
    // 100 addresses of one /64 share one count: the limit holds for the prefix, not per address.
    let now = 0;
    const log = capturingLogger();
    const throttle = createLoginThrottle(3, log.logger, { now: () => now });
    const users = [{ login: 'a', password: 'a-right-password' }];
    try {
      for (let i = 1; i <= 3; i++) throttle.failed(`2001:db8:0:1::${i.toString(16)}`, basic('a', `x${i}`), { path: '/' }, users);
      assert.equal(throttle.refusal('2001:db8:0:1::ff', basic('a', 'x')), 60);
      assert.equal(throttle.refusal('2001:db8:0:2::1', basic('a', 'x')), undefined, 'the next /64 is another client');
      for (let i = 1; i <= 3; i++) throttle.failed('::ffff:192.0.2.7', basic('a', `y${i}`), { path: '/' }, users);
      assert.equal(throttle.refusal('192.0.2.7', basic('a', 'y')), 60, 'mapped and plain IPv4 are one client');
    } finally {
      throttle.close();
    }
  });

  it('a login that exists and an invented one are counted alike, so 429 against 401 does not tell which logins exist (review 35, M3)', () => {
    const now = 0;
    const log = capturingLogger();
    const throttle = createLoginThrottle(10, log.logger, { now: () => now });
    const users = [{ login: 'admin', password: 'a-right-password' }];
    // Five wrong guesses each from two addresses, for `login`; then what the first address is answered for it.
    const sequence = (login: string, a: string, b: string) => {
      for (const from of [a, b]) for (let i = 0; i < 5; i++) throttle.failed(from, basic(login, `guess-${i}`), { path: '/' }, users);
      return [throttle.refusal(a, basic(login, 'next')), throttle.refusal('10.9.9.9', basic(login, 'next'))];
    };
    try {
      const real = sequence('admin', '10.0.0.1', '10.0.0.2');
      const invented = sequence('nosuch', '10.0.0.3', '10.0.0.4');
      assert.deepEqual(real, [60, undefined], 'the real login: refused from an address that failed for it, checked from a clean one');
      assert.deepEqual(invented, real, 'the invented login is answered the same');
    } finally {
      throttle.close();
    }
  });

  it('the headers remembered as right are few per address, kept 10 minutes, and dropped when they fail (review 35, M1)', () => {
    let now = 0;
    const log = capturingLogger();
    const throttle = createLoginThrottle(3, log.logger, { now: () => now });
    const users = [{ login: 'a', password: 'a-right-password' }];
    const right = (i: number) => basic('a', `right-${i}`);
    try {
      for (let i = 0; i < 9; i++) throttle.succeeded('10.3.3.3', right(i));
      for (let i = 0; i < 3; i++) throttle.failed('10.3.3.3', basic('a', `stale-${i}`), { path: '/' }, users);
      assert.equal(throttle.refusal('10.3.3.3', right(0)), 60, 'the oldest of 9 is forgotten (8 are kept)');
      assert.equal(throttle.refusal('10.3.3.3', right(8)), undefined);
      // A remembered header that fails (its password changed) is no longer let through.
      throttle.failed('10.3.3.3', right(7), { path: '/' }, users);
      assert.equal(throttle.refusal('10.3.3.3', right(7)), 60);
      // Ten minutes after its last success a header is forgotten; a success renews it.
      now = 9 * 60_000;
      throttle.succeeded('10.3.3.3', right(6));
      now = 9.9 * 60_000;
      for (let i = 0; i < 3; i++) throttle.failed('10.3.3.3', basic('a', `stale-again-${i}`), { path: '/' }, users);
      now = 10 * 60_000 + 1;
      assert.equal(throttle.refusal('10.3.3.3', right(8)) !== undefined, true, 'not renewed: forgotten');
      assert.equal(throttle.refusal('10.3.3.3', right(6)), undefined, 'renewed at 9 minutes');
    } finally {
      throttle.close();
    }
  });

  // A sender's repeated success is noted once a second; a failure in between must not leave it unnoted.
  it('a header that succeeds, fails and succeeds again within a second is let through again while the address is throttled', () => {
    const now = 1_000;
    const throttle = createLoginThrottle(3, capturingLogger().logger, { now: () => now });
    const users = [{ login: 'a', password: 'a-right-password' }];
    const header = basic('a', 'changed-back');
    try {
      throttle.succeeded('10.4.4.4', header);
      throttle.succeeded('10.4.4.4', header);
      throttle.failed('10.4.4.4', header, { path: '/' }, users);
      throttle.succeeded('10.4.4.4', header);
      for (let i = 0; i < 3; i++) throttle.failed('10.4.4.4', basic('a', `guess-${i}`), { path: '/' }, users);
      assert.equal(throttle.refusal('10.4.4.4', basic('a', 'other')), 60, 'the address is throttled');
      assert.equal(throttle.refusal('10.4.4.4', header), undefined, 'its header, right again, is known again');
    } finally {
      throttle.close();
    }
  });

  it('OKTELL_LOGIN_FAILURE_LIMIT and loginFailureLimit: default 10, 0 turns it off, a wrong value is named (the file with line and column)', () => {
    const dir = tempDir('oktell-throttle-');
    try {
      const env = { OKTELL_USERS: 'a:b' };
      assert.equal(loadServerConfig({ config: write(dir.dir, 'port: 1\n') }, env, dir.dir).loginFailureLimit, 10);
      assert.equal(loadServerConfig({ config: write(dir.dir, 'loginFailureLimit: 3\n') }, env, dir.dir).loginFailureLimit, 3);
      assert.equal(loadServerConfig({ config: write(dir.dir, 'loginFailureLimit: 3\n') }, { ...env, OKTELL_LOGIN_FAILURE_LIMIT: '0' }, dir.dir).loginFailureLimit, 0);
      assert.throws(() => loadServerConfig({}, { ...env, OKTELL_LOGIN_FAILURE_LIMIT: 'ten' }, dir.dir), (e: Error) => e instanceof ConfigError && /^OKTELL_LOGIN_FAILURE_LIMIT="ten" must be a whole number, from 0 to 1000$/.test(e.message));
      const file = write(dir.dir, 'port: 1\nloginFailureLimit: -1\n');
      assert.throws(() => loadServerConfig({ config: file }, env, dir.dir), (e: Error) => e instanceof ConfigError && e.message.startsWith(`${file}:2:20: loginFailureLimit:`));
    } finally {
      dir.cleanup();
    }
  });

  it('a password shorter than 12 characters is warned of (log and banner) when the server listens on all interfaces, naming the login, never the password', { timeout: 60_000 }, async () => {
    const log = capturingLogger();
    const t = await startTestServer({ smtp: false, host: '0.0.0.0', logger: log.logger, env: { SMTP_URL: '', OKTELL_USERS: 'bpium[hook]:short-pw1,ops:a-long-enough-password' } });
    try {
      const w = t.server.warnings.find((x) => /shorter than 12 characters/.test(x));
      assert.ok(w, JSON.stringify(t.server.warnings));
      assert.match(w, /^login\(s\) bpium have a password shorter than 12 characters while the server listens on 0\.0\.0\.0 \(all interfaces\)/);
      assert.ok(log.lines.some((l) => l.level === 'warn' && l.msg === w), 'logged as a warning');
      assert.ok(!JSON.stringify(log.lines).includes('short-pw1'), 'the password is in no log line');
    } finally {
      await t.cleanup();
    }
  });

  it('OKTELL_TRUST_PROXY=true with the throttle on is warned of (clients would choose the address they are counted by); a named proxy is not (review 35, M2)', { timeout: 60_000 }, async () => {
    const t = await startTestServer({ smtp: false, env: { SMTP_URL: '', OKTELL_TRUST_PROXY: 'true' } });
    try {
      const w = t.server.warnings.filter((x) => /OKTELL_TRUST_PROXY is true/.test(x));
      assert.equal(w.length, 1, JSON.stringify(t.server.warnings));
      assert.match(w[0]!, /X-Forwarded-For/);
      assert.match(w[0]!, /OKTELL_TRUST_PROXY=loopback/);
    } finally {
      await t.cleanup();
    }
    assert.equal(trustAnyProxyWarning('loopback', 10), undefined);
    assert.equal(trustAnyProxyWarning(1, 10), undefined);
    assert.equal(trustAnyProxyWarning(true, 0), undefined, 'the throttle is off');
  });

  it('on loopback only, a short password is not warned of', { timeout: 60_000 }, async () => {
    const t = await startTestServer({ smtp: false, env: { SMTP_URL: '', OKTELL_USERS: 'bpium:short' } });
    try {
      assert.deepEqual(t.server.warnings.filter((x) => /shorter than 12/.test(x)), []);
    } finally {
      await t.cleanup();
    }
  });
});

function write(dir: string, text: string): string {
  const file = join(dir, `oktell-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, text);
  return file;
}
