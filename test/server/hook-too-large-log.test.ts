// A webhook refused for its size is lost (nothing is stored, Bpium never resends): the server says so in a warning
// naming the setting, whether the body came plain or compressed, not only in a request line at info level.
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, beforeEach, describe, it } from 'node:test';
import { signBpiumBody } from '../../adapters/bpium/signature.js';
import { AUTH, capturingLogger, startTestServer, taskWebhook, type TestServer } from './server-helpers.js';

describe('a webhook over the body limit', () => {
  const log = capturingLogger();
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ smtp: false, logger: log.logger, env: { SMTP_URL: '', OKTELL_BODY_LIMIT: '64kb' } });
  });
  after(async () => t.cleanup());
  beforeEach(() => {
    log.lines.length = 0;
  });

  const body = taskWebhook({ name: 'Задача с длинным описанием', description: 'д'.repeat(70_000), responsible: ['2'] });
  const warnings = () => log.lines.filter((l) => l.level === 'warn' && /^webhook refused with 413/.test(l.msg ?? ''));

  for (const [name, gzip] of [['plain', false], ['gzip-compressed', true]] as const) {
    it(`is answered 413 and logged as a warning naming OKTELL_BODY_LIMIT and the path (${name} body)`, async () => {
      const raw = gzip ? gzipSync(body) : Buffer.from(body);
      const res = await fetch(`${t.server.url}/Bpium/NewTask?token=abc`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: AUTH, 'x-hook-signature': signBpiumBody(t.secret, body), ...(gzip ? { 'content-encoding': 'gzip' } : {}) },
        body: raw,
      });
      assert.equal(res.status, 413);
      assert.equal(await res.text(), '413 Payload Too Large: the limit is 65536 bytes\n');
      const [w, ...more] = warnings();
      assert.equal(more.length, 0, JSON.stringify(log.lines));
      assert.match(w!.msg!, /over the limit of 65536 bytes \(OKTELL_BODY_LIMIT, bodyLimit: in the configuration file\); nothing of it was stored, so it is lost unless its sender sends it again \(Bpium never does; a provider that retries gets 413 each time\): raise the limit/);
      assert.deepEqual({ path: w!.obj.path, login: w!.obj.login, limit: w!.obj.limit }, { path: '/Bpium/NewTask', login: 'bpium', limit: 65536 });
      assert.equal((await t.server.store.listRuns({})).items.length, 0, 'nothing ran');
    });
  }

  it('a webhook under the limit logs no such warning', async () => {
    const res = await fetch(`${t.server.url}/Bpium/NewTask`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: AUTH, 'x-hook-signature': signBpiumBody(t.secret, 'x') },
      body: 'x',
    });
    assert.equal(res.status, 200);
    assert.deepEqual(warnings(), []);
  });
});
