// Rights per login (review s25, S17 + S9): a webhook sender's login, kept in a third party's settings, may be given
// the hook alone, so it can neither start scenarios through the Web-API (bypassing a signed route's signature with a
// forged body) nor read the console.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseUsers } from '../../server/auth.js';
import { ConfigError, loadServerConfig } from '../../server/config.js';
import { tempDir } from '../helpers.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUTH, capturingLogger, postWebhook, startTestServer, taskWebhook, waitFor, type TestServer } from './server-helpers.js';

const OPS_AUTH = `Basic ${Buffer.from('ops:0ther').toString('base64')}`;
const API_AUTH = `Basic ${Buffer.from('erp:1c-pass').toString('base64')}`;

describe('user rights, parsing', () => {
  it('OKTELL_USERS takes rights in brackets after the login; none given means all', () => {
    assert.deepEqual(parseUsers('bpium[hook]:s3cret:pass,ops:0ther,erp[api+console]:x'), [
      { login: 'bpium', password: 's3cret:pass', rights: ['hook'] },
      { login: 'ops', password: '0ther' },
      { login: 'erp', password: 'x', rights: ['api', 'console'] },
    ]);
    assert.throws(() => parseUsers('bpium[hook+admin]:x'), /entry 1 of 1 \(login bpium\): "admin" is not a right; the rights are hook, api, console/);
    assert.throws(() => parseUsers('bpium[]:x'), /no rights given/);
  });

  it('users: in the config file take rights:, checked against the known names', () => {
    const tmp = tempDir('oktell-rights-');
    try {
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'users:\n  - { login: bpium, password: s, rights: [hook] }\n  - { login: ops, password: o }\n');
      const c = loadServerConfig({}, {}, tmp.dir);
      assert.deepEqual(c.users, [{ login: 'bpium', password: 's', rights: ['hook'] }, { login: 'ops', password: 'o' }]);
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'users:\n  - { login: bpium, password: s, rights: [hooks] }\n');
      assert.throws(() => loadServerConfig({}, {}, tmp.dir), (e: unknown) => e instanceof ConfigError && /hook/.test(e.message));
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'port: 4055\n');
      assert.throws(() => loadServerConfig({}, { OKTELL_USERS: 'bpium[nope]:s' }, tmp.dir), (e: unknown) => e instanceof ConfigError && /"nope" is not a right/.test(e.message));
    } finally {
      tmp.cleanup();
    }
  });
});

describe('user rights on a real server', () => {
  let t: TestServer;
  const log = capturingLogger();
  before(async () => {
    t = await startTestServer({ logger: log.logger, env: { OKTELL_USERS: 'bpium[hook]:s3cret:pass,ops:0ther,erp[api]:1c-pass' } });
  });
  after(async () => t?.cleanup());

  it('a hook-only login cannot start the signed route\'s scenario through the Web-API with a forged body (S17)', async () => {
    const forged = taskWebhook({ name: 'FORGED: wire 10000 RUB', responsible: ['2'], sequenceId: 777 });
    for (const path of ['/execsvcscriptplain', '/execsvcscript']) {
      const res = await fetch(`${t.server.url}${path}?name=BpiumNewTask&startparam1=${encodeURIComponent(forged)}`, { headers: { authorization: AUTH } });
      assert.equal(res.status, 403, path);
      assert.match(await res.text(), /^403 Forbidden: login bpium may not use the Web-API \(its rights: hook\)/);
    }
    const viaHook = await fetch(`${t.server.url}/execsvcscriptplain?name=HTTP404&startparam1=/Bpium/NewTask&startparam4=${encodeURIComponent(forged)}`, { headers: { authorization: AUTH } });
    assert.equal(viaHook.status, 403);
    // Unsigned to the hook: the signature is still required.
    assert.equal((await postWebhook(t.server.url, forged, undefined)).status, 401);
    assert.equal((await t.server.store.listRuns({ scenario: 'BpiumNewTask' })).items.length, 0, 'nothing ran');
    assert.ok(log.lines.some((l) => l.level === 'warn' && l.msg === 'login lacks the right' && l.obj.login === 'bpium' && l.obj.right === 'api'));
  });

  it('the same login sends signed webhooks, which run as before', async () => {
    const res = await postWebhook(t.server.url, taskWebhook({ name: 'Подписанная', responsible: ['2'], sequenceId: 778 }), t.secret);
    assert.equal(res.status, 200);
    await waitFor('the BpiumNewTask run', async () => (await t.server.store.listRuns({ scenario: 'BpiumNewTask', status: 'completed' })).items[0]);
  });

  it('the console and /-/tasks are refused to a hook-only login; metrics need only a valid login (S9)', async () => {
    const console_ = await fetch(`${t.server.url}/-/console/runs`, { headers: { authorization: AUTH } });
    assert.equal(console_.status, 403);
    assert.match(await console_.text(), /may not use the console/);
    assert.equal((await fetch(`${t.server.url}/-/tasks`, { headers: { authorization: AUTH } })).status, 403);
    assert.equal((await fetch(`${t.server.url}/-/metrics`, { headers: { authorization: AUTH } })).status, 200);
  });

  it('a login with no rights given keeps them all; an api-only login cannot send webhooks', async () => {
    assert.equal((await fetch(`${t.server.url}/-/console/runs`, { headers: { authorization: OPS_AUTH } })).status, 200);
    assert.equal((await fetch(`${t.server.url}/execsvcscriptplain?name=HTTP404&startparam1=/nothing`, { headers: { authorization: OPS_AUTH } })).status, 200);
    assert.equal((await fetch(`${t.server.url}/nothing`, { headers: { authorization: OPS_AUTH } })).status, 404, 'the hook scenario answered');
    assert.equal((await fetch(`${t.server.url}/execsvcscriptplain?name=HTTP404&startparam1=/nothing`, { headers: { authorization: API_AUTH } })).status, 200);
    const hook = await fetch(`${t.server.url}/nothing`, { method: 'POST', body: '{}', headers: { authorization: API_AUTH } });
    assert.equal(hook.status, 403);
    assert.match(await hook.text(), /login erp may not send webhooks \(its rights: api\)/);
    // The express route of the hook (a compressed body) says the same.
    const gz = await fetch(`${t.server.url}/nothing`, { method: 'POST', body: new Uint8Array([0x1f, 0x8b]), headers: { authorization: API_AUTH, 'content-encoding': 'gzip' } });
    assert.equal(gz.status, 403);
  });

  it('no start-up warning about rights once some user has them: the others keep every right on purpose', () => {
    assert.equal(log.lines.filter((l) => /have every right/.test(l.msg ?? '')).length, 0);
  });
});
