// Standard Webhooks (whsec_ secret) on a real server, at its edges: the signature is of the raw body bytes (not
// UTF-8 text, a BOM kept), a forged request cannot claim a webhook-id, signatures of another length or version are
// refused without an error, the timestamp must be whole Unix seconds, and neither the secret nor a signature reaches
// the log or the inbox.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadServerConfig } from '../../server/config.js';
import { tempDir } from '../helpers.js';
import { AUTH, capturingLogger, startTestServer, type TestServer } from './server-helpers.js';

const KEY = Buffer.from('another provider key of 32 bytes');
const SECRET = `whsec_${KEY.toString('base64')}`;

/** The v1 signature, computed here from the scheme's definition over the bytes as sent. */
const sign = (id: string, timestamp: string, body: Buffer): string =>
  `v1,${createHmac('sha256', KEY).update(Buffer.concat([Buffer.from(`${id}.${timestamp}.`), body])).digest('base64')}`;
const now = (): string => String(Math.floor(Date.now() / 1000));

describe('Standard Webhooks edges on a real server', () => {
  let t: TestServer;
  const log = capturingLogger();

  before(async () => {
    t = await startTestServer({
      smtp: false,
      logger: log.logger,
      config: `webhookSecrets:\n  /pay/events: ${SECRET}\n`,
      extraScenarios: {
        'HTTP404.yaml': `start: ok
blocks:
  ok:
    kind: ReturnValue
    values: { 1: '"ran " + InputParameter(5)', 2: 200 }
`,
      },
    });
  });
  after(async () => {
    await t?.cleanup();
  });

  const post = (body: Buffer, headers: Record<string, string>) =>
    fetch(`${t.server.url}/pay/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: AUTH, ...headers }, body });
  const signed = (id: string, timestamp: string, body: Buffer, signature = sign(id, timestamp, body)) => ({ 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature });

  it('checks the signature over the raw bytes: a BOM and bytes that are not UTF-8 pass as sent', async () => {
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]);
    const latin = Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xe9, 0xff, 0xfe, 0x22, 0x7d]);
    for (const [id, body] of [['msg_bom', bom], ['msg_latin', latin]] as const) {
      const res = await post(body, signed(id, now(), body));
      assert.equal(res.status, 200, id);
      assert.equal(await res.text(), 'ran valid');
    }
    const reencoded = Buffer.from(latin.toString('utf8'));
    const res = await post(reencoded, signed('msg_reenc', now(), latin));
    assert.equal(res.status, 401, 'the body as UTF-8 text is not what was signed');
  });

  it('a forged request cannot claim a webhook-id: the genuine one with that id runs afterwards', async () => {
    const body = Buffer.from('{"type":"x"}');
    const forged = await post(body, signed('msg_claim', now(), body, `v1,${Buffer.alloc(32).toString('base64')}`));
    assert.equal(forged.status, 401);
    const stale = await post(body, signed('msg_claim', String(Number(now()) - 3600), body));
    assert.equal(stale.status, 401, 'signed but too old: refused, and claims nothing either');
    const genuine = await post(body, signed('msg_claim', now(), body));
    assert.equal(genuine.status, 200);
    assert.equal(genuine.headers.get('x-oktell-duplicate-of'), null);
    assert.equal(await genuine.text(), 'ran valid');
  });

  it('signatures of another length, version or form are refused with 401, and a valid one beside them passes', async () => {
    const body = Buffer.from('{"v":1}');
    const ts = now();
    const good = sign('msg_versions', ts, body);
    const digest = good.slice(3);
    for (const bad of ['v1,', 'v1,AAAA', `v1,${'A'.repeat(4000)}`, `v1a,${digest}`, `v2,${digest}`, digest, `v1${digest}`, `V1,${digest}`, ',,,']) {
      const res = await post(body, signed('msg_versions', ts, body, bad));
      assert.equal(res.status, 401, bad.slice(0, 20));
      assert.match(await res.text(), /^401 Unauthorized: webhook-signature does not match/);
    }
    const res = await post(body, signed('msg_versions', ts, body, `v1,AAAA v1a,${digest}  ${good}`));
    assert.equal(res.status, 200);
  });

  it('the timestamp must be whole Unix seconds: a float, a negative, milliseconds or a far one are refused even when signed', async () => {
    const body = Buffer.from('{"t":1}');
    const s = Number(now());
    const cases: [string, RegExp][] = [
      [`${s}.5`, /not Unix seconds/],
      [`-${s}`, /not Unix seconds/],
      [String(s * 1000), /not Unix seconds/],
      ['999999999999', /minute\(s\) in the future/],
      ['0', /minute\(s\) old/],
      [`+${s}`, /not Unix seconds/],
      [`${s}e0`, /not Unix seconds/],
    ];
    for (const [ts, why] of cases) {
      const res = await post(body, signed(`msg_ts_${ts}`, ts, body));
      assert.equal(res.status, 401, ts);
      assert.match(await res.text(), why, ts);
    }
    const padded = `0${s}`;
    const ok = await post(body, signed('msg_ts_padded', padded, body));
    assert.equal(ok.status, 200, 'a leading zero is still the same second');
  });

  it('a webhook-id with @, # or 10 KB keys its own route only, and a long one is hashed', async () => {
    const body = Buffer.from('{"k":1}');
    for (const id of ['a@/other', 'b#x@y', 'x'.repeat(10_000)]) {
      const first = await post(body, signed(id, now(), body));
      assert.equal(first.status, 200, id.slice(0, 10));
      const again = await post(body, signed(id, now(), body));
      assert.match(again.headers.get('x-oktell-duplicate-of') ?? '', /^\d+$/, id.slice(0, 10));
    }
    assert.ok(await t.server.store.findByDedupKey('webhook:a%40%2Fother@/pay/events'));
    assert.ok(await t.server.store.findByDedupKey('webhook:b%23x%40y@/pay/events'));
  });

  it('neither the secret nor a signature reaches the log or the inbox', async () => {
    const body = Buffer.from('{"s":1}');
    const bad = `v1,${Buffer.from('not the right mac but 32 bytes!!').toString('base64')}`;
    const res = await post(body, signed('msg_logged', now(), body, bad));
    assert.equal(res.status, 401);
    const good = sign('msg_logged2', now(), body);
    assert.equal((await post(body, signed('msg_logged2', now(), body, good))).status, 200);
    const secretParts = [SECRET, KEY.toString('base64'), bad.slice(3), good.slice(3)];
    const logged = JSON.stringify(log.lines);
    for (const part of secretParts) assert.ok(!logged.includes(part), `log holds ${part.slice(0, 8)}…`);
    assert.ok(log.lines.some((l) => /webhook refused: webhook-signature does not match/.test(l.msg ?? '')));
    for (let id = 1; ; id++) {
      const entry = await t.server.store.getInboxEntry(id);
      if (entry === undefined) break;
      const stored = JSON.stringify(entry);
      for (const part of secretParts) assert.ok(!stored.includes(part), `inbox entry ${id} holds ${part.slice(0, 8)}…`);
    }
  });
});

describe('a whsec_ secret read from a file that is not Base64', () => {
  it('stops the start naming the file it was read from, and never quotes it', () => {
    const tmp = tempDir('oktell-sw-file-');
    try {
      const bad = 'whsec_pasted*half!';
      writeFileSync(join(tmp.dir, 'pay.secret'), `${bad}\n`);
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'webhookSecrets:\n  /pay/events: { file: ./pay.secret }\n');
      const refused = (env: Record<string, string>, message: RegExp) =>
        assert.throws(() => loadServerConfig({}, env, tmp.dir), (e: Error) => {
          assert.ok(e instanceof ConfigError, String(e));
          assert.match(e.message, message);
          assert.ok(!e.message.includes('pasted'), e.message);
          return true;
        });
      const file = join(tmp.dir, 'pay.secret').replace(/[.\\/]/g, '\\$&');
      refused({}, new RegExp(`^oktell\\.config\\.yaml:2:\\d+: webhookSecrets: /pay/events \\(the secret read from ${file}\\): a secret that starts with whsec_`));
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'port: 0\n');
      refused({ BPIUM_WEBHOOK_SECRET_FILE: './pay.secret' }, new RegExp(`^BPIUM_WEBHOOK_SECRET_FILE \\(${file}\\): a secret that starts with whsec_`));
    } finally {
      tmp.cleanup();
    }
  });
});
