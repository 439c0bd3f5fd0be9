// A Standard Webhooks sender's message found by its webhook-id, as Bpium's deliveries are by their key: `oktell-emu
// show webhook:<id>` and the console's Find box go from the id in the sender's log to the inbox entry and its run. A
// real server with a whsec_ secret on its path, a real signed request, the real CLI on the server's data folder.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deliveryKeyAsked } from '../../server/delivery-lookup.js';
import { signStandardWebhook } from '../../server/standard-webhooks.js';
import { runCliAsync } from '../cli/cli.helper.js';
import { AUTH, startTestServer, THANKS_HTTP404, type TestServer } from './server-helpers.js';

const SECRET = `whsec_${Buffer.from('a forms provider signing key, 32 b').toString('base64')}`;

describe('a Standard Webhooks key as show and the console take it', () => {
  const cases: [string, string | undefined][] = [
    ['webhook:msg_1', 'webhook:msg_1@'],
    ['webhook:msg_1@/forms', 'webhook:msg_1@/forms'],
    // As the request log line names it (URI-encoded) or as the sender's log does: the same key.
    ['webhook:a%40b%23c@/forms', 'webhook:a%40b%23c@/forms'],
    ['webhook:50%off@/forms', 'webhook:50%25off@/forms'],
    ['webhook:', undefined],
    ['webhook:@/forms', undefined],
    ['webhooks:msg_1', undefined],
  ];
  for (const [asked, prefix] of cases) {
    it(`${asked} → ${prefix ?? 'not a key'}`, () => {
      assert.equal(deliveryKeyAsked(asked)?.prefix, prefix);
    });
  }
});

describe('show webhook:<id> on a real server', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({
      smtp: false,
      config: `webhookSecrets:\n  /forms: ${SECRET}\n`,
      extraScenarios: {
        'HTTP404.yaml': THANKS_HTTP404,
      },
    });
  });
  after(async () => {
    await t?.cleanup();
  });

  it('finds the message by its id: the CLI shows its inbox entry and run, the console goes to the run', { timeout: 60_000 }, async () => {
    const body = JSON.stringify({ form: 'contact', name: 'Anna' });
    const ts = String(Math.floor(Date.now() / 1000));
    const sent = await fetch(`${t.server.url}/forms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: AUTH, 'webhook-id': 'msg_2Lh9', 'webhook-timestamp': ts, 'webhook-signature': signStandardWebhook(SECRET, 'msg_2Lh9', ts, body) },
      body,
    });
    assert.equal(sent.status, 200);
    assert.equal(await sent.text(), 'thanks');
    const runId = sent.headers.get('x-oktell-run-id');
    assert.match(runId ?? '', /^[0-9a-z]{26}$/);

    const shown = await runCliAsync(['show', 'webhook:msg_2Lh9', '--data-dir', t.dataDir], { env: { NO_COLOR: '1' } });
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^delivery webhook:msg_2Lh9@\/forms · inbox entry \d+ · received .* · POST \/forms · answered 200/);
    assert.ok(shown.stdout.includes(runId!), shown.stdout);
    const none = await runCliAsync(['show', 'webhook:msg_other', '--data-dir', t.dataDir], { env: { NO_COLOR: '1' } });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no delivery webhook:msg_other in the inbox: .*grep the log for delivery=webhook:msg_other@\n/);

    const get = (path: string) => fetch(`${t.server.url}/-/console${path}`, { redirect: 'manual', headers: { authorization: AUTH } });
    const found = await get(`/runs/find?${new URLSearchParams({ id: 'webhook:msg_2Lh9@/forms' })}`);
    assert.equal(found.status, 303, await found.text());
    assert.equal(found.headers.get('location'), `/-/console/runs/${runId}`);
  });
});
