// Webhooks signed by the Standard Webhooks scheme (webhook-id, webhook-timestamp, webhook-signature under a whsec_
// secret), as a payment or forms provider sends them through Svix or its own sender: a path configured with such a
// secret verifies them, refuses replays outside the window, and takes a webhook-id seen before as a duplicate. A real
// server, real signed requests, and a real API on loopback that the job posts each event to.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { signBpiumBody } from '../../adapters/bpium/signature.js';
import { ConfigError, loadServerConfig } from '../../server/config.js';
import { checkStandardWebhook, signStandardWebhook, standardDeliveryKey } from '../../server/standard-webhooks.js';
import { tempDir } from '../helpers.js';
import { AUTH, startTestServer, waitFor, type TestServer } from './server-helpers.js';

/** A secret in the provider's form: whsec_ and the Base64 of the key bytes. */
const SECRET = `whsec_${Buffer.from('a payment provider signing key, 32b').toString('base64')}`;

/** The provider's signature, computed here from the scheme's definition (not by the product's helper). */
function providerSignature(secret: string, id: string, timestamp: string, body: string): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

const now = (): string => String(Math.floor(Date.now() / 1000));

describe('Standard Webhooks, pure parts', () => {
  it('signs as the scheme\'s published example does, and accepts one matching v1 signature among several', () => {
    // The example of the Standard Webhooks specification: its secret, message id, timestamp, payload and signature.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const body = '{"test": 2432232314}';
    const sig = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
    assert.equal(signStandardWebhook(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', body), sig);
    const at = 1614265330 * 1000 + 1000;
    const req = (signature: string) => ({ id: 'msg_p5jXN8AQM9LWM0D4loKWxJek', timestamp: '1614265330', signature, body: Buffer.from(body) });
    assert.equal(checkStandardWebhook(secret, req(sig), at, 300_000), undefined);
    assert.equal(checkStandardWebhook(secret, req(`v1,AAAA v1a,xyz ${sig}`), at, 300_000), undefined, 'a rotated key\'s signature beside it');
    assert.match(checkStandardWebhook(secret, req('v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='), at, 300_000)!.why, /webhook-signature does not match/);
    assert.match(checkStandardWebhook(secret, req(sig), at + 301_000, 300_000)!.why, /^webhook-timestamp is 5 minute\(s\) old; the limit is 5 minute\(s\)$/);
  });

  it('a delivery key names the message id and the route, and holds no @ or # of the id', () => {
    assert.equal(standardDeliveryKey('msg_1', '/pay/events'), 'webhook:msg_1@/pay/events');
    assert.notEqual(standardDeliveryKey('msg_1', '/pay/events'), standardDeliveryKey('msg_1', '/forms'));
    assert.equal(standardDeliveryKey('a@b#c', '/pay/events'), 'webhook:a%40b%23c@/pay/events');
    assert.match(standardDeliveryKey('x'.repeat(500), '/pay/events'), /^webhook:sha256:[0-9a-f]{64}@\/pay\/events$/);
  });

  it('a whsec_ secret that is not Base64 stops the start at its line and column', () => {
    const tmp = tempDir('oktell-sw-config-');
    try {
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'webhookSecrets:\n  /pay/events: whsec_not*base64!\n');
      assert.throws(() => loadServerConfig({}, {}, tmp.dir), (e: Error) => e instanceof ConfigError && /oktell\.config\.yaml:2:16: webhookSecrets: \/pay\/events: a secret that starts with whsec_ \(the Standard Webhooks scheme\)/.test(e.message));
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), `webhookSecrets:\n  /pay/events: ${SECRET}\n`);
      assert.equal(loadServerConfig({}, {}, tmp.dir).webhookSecrets['/pay/events'], SECRET);
      assert.throws(() => loadServerConfig({}, { BPIUM_WEBHOOK_SECRET: 'whsec_' }, tmp.dir), (e: Error) => e instanceof ConfigError && e.message.startsWith('BPIUM_WEBHOOK_SECRET: a secret that starts with whsec_') && !e.message.includes(SECRET));
      assert.doesNotThrow(() => loadServerConfig({}, { BPIUM_WEBHOOK_SECRET: SECRET }, tmp.dir));
    } finally {
      tmp.cleanup();
    }
  });
});

describe('Standard Webhooks on a real server', () => {
  let api: Server;
  let apiUrl: string;
  const received: { body: string; idempotencyKey: string | undefined }[] = [];
  let t: TestServer;

  before(async () => {
    api = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ body, idempotencyKey: req.headers['idempotency-key'] as string | undefined });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    t = await startTestServer({
      smtp: false,
      env: { MY_API_URL: apiUrl },
      config: `webhookSecrets:\n  /pay/events: ${SECRET}\n`,
      extraScenarios: {
        'HTTP404.yaml': `variables: { address: string, body: string, sig: string }
start: begin
blocks:
  begin:
    kind: Variable
    set: { address: InputParameter(1), body: InputParameter(4), sig: InputParameter(5) }
    exits: { next: isPay }
  isPay:
    kind: Condition
    expression: Contains([address], "/pay/events")
    exits: { true: start }
  start:
    kind: AsyncScenario
    scenario: ProcessEvent
    params: { 1: '[body]' }
    exits: { next: ok }
  ok:
    kind: ReturnValue
    values: { 1: '"accepted " + [sig]', 2: 200 }
`,
        'ProcessEvent.yaml': `variables:
  body: string
  api: { type: string, env: MY_API_URL, secret: false }
start: begin
blocks:
  begin:
    kind: Start
    param: body
    exits: { next: post }
  post:
    kind: WebRequest
    method: POST
    url: '[api] + "/events"'
    body: '[body]'
    contentType: application/json
    idempotencyKey: true
    exits: { success: done }
  done:
    kind: ReturnValue
    values: { 1: '"delivered"' }
`,
      },
    });
  });

  after(async () => {
    await t?.cleanup();
    await new Promise((r) => api.close(r));
  });

  const send = (body: string, headers: Record<string, string>) =>
    fetch(`${t.server.url}/pay/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: AUTH, ...headers }, body });
  const signed = (id: string, timestamp: string, body: string) => ({ 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': providerSignature(SECRET, id, timestamp, body) });

  it('verifies the signature, refuses forgeries and replays outside 5 minutes, and runs a webhook-id once', { timeout: 30_000 }, async () => {
    const body = JSON.stringify({ type: 'payment.succeeded', data: { id: 'pay_1', amount: 500 } });
    const first = await send(body, signed('msg_1', now(), body));
    assert.equal(first.status, 200);
    assert.equal(await first.text(), 'accepted valid', 'the hook scenario sees input parameter 5 "valid"');
    await waitFor('the event at the API', () => received.length === 1);
    assert.equal(received[0]!.body, body);

    // The provider's retry of the same message: the same webhook-id, a new timestamp and signature.
    const retry = await send(body, signed('msg_1', String(Number(now()) + 1), body));
    assert.equal(retry.status, 200);
    assert.equal(await retry.text(), 'accepted valid');
    assert.match(retry.headers.get('x-oktell-duplicate-of') ?? '', /^\d+$/, 'answered as a duplicate');

    const forged = await send(body.replace('500', '5000'), signed('msg_2', now(), body));
    assert.equal(forged.status, 401);
    assert.match(await forged.text(), /^401 Unauthorized: webhook-signature does not match/);
    const old = String(Number(now()) - 600);
    const replayed = await send(body, signed('msg_3', old, body));
    assert.equal(replayed.status, 401);
    assert.equal(await replayed.text(), '401 Unauthorized: webhook-timestamp is 10 minute(s) old; the limit is 5 minute(s)\n');
    const future = await send(body, signed('msg_4', String(Number(now()) + 600), body));
    assert.equal(future.status, 401);
    assert.match(await future.text(), /10 minute\(s\) in the future/);
    const bare = await send(body, {});
    assert.equal(bare.status, 401);
    assert.match(await bare.text(), /the Standard Webhooks header\(s\) webhook-id, webhook-timestamp, webhook-signature are missing/);
    // Bpium's header under the same secret is not this route's scheme.
    const bpium = await send(body, { 'x-hook-signature': signBpiumBody(SECRET, body) });
    assert.equal(bpium.status, 401);

    // Another message with the same body is a delivery of its own.
    const second = await send(body, signed('msg_5', now(), body));
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('x-oktell-duplicate-of'), null);
    await waitFor('the second event at the API', () => received.length === 2);
    await waitFor('both jobs ended', async () => (await t.server.store.counts()).jobs.succeeded === 2);
    const counts = await t.server.store.counts();
    assert.equal(counts.jobs.queued + counts.jobs.running + counts.jobs.failed + counts.jobs.dead, 0, 'the duplicate and the refused requests started no job');
    assert.equal(received.length, 2);
  });
});
