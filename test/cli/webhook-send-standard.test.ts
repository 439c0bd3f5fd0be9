// `oktell-emu webhook send` to a path whose secret is a Standard Webhooks one (whsec_…), through the real binary
// against a real `serve`: signed by that scheme (webhook-id, -timestamp, -signature), the same file again a duplicate,
// --fresh a new message; the secret is never printed.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli, startServeProcess } from './cli-process.js';

const SECRET = `whsec_${Buffer.from('the cli test provider key, 32 b.').toString('base64')}`;

describe('oktell-emu webhook send, Standard Webhooks', () => {
  it('signs by the scheme on a whsec_ path: 200, the same file again a duplicate, --fresh a new webhook-id', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    const data = join(tmp.dir, 'var');
    const scenarios = join(tmp.dir, 'scenarios');
    mkdirSync(scenarios);
    writeFileSync(join(scenarios, 'HTTP404.yaml'), `start: ok
blocks:
  ok:
    kind: ReturnValue
    values: { 1: '"got " + InputParameter(5)', 2: 200 }
`);
    const config = join(tmp.dir, 'oktell.config.yaml');
    writeFileSync(config, `webhookSecrets:\n  /pay/events: ${SECRET}\n`);
    const body = join(tmp.dir, 'event.json');
    // A byte-order mark, as an editor on Windows saves it: the command leaves it out of what it sends and signs.
    writeFileSync(body, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"type":"payment.succeeded","amount":"5 ₽"}')]));
    const env = { OKTELL_USERS: 'robot:robot-pass-1', OKTELL_LOG_LEVEL: 'warn' };
    const server = await startServeProcess({ dataDir: data, env, args: ['--config', config, '--scenarios', scenarios] });
    const args = ['webhook', 'send', '/pay/events', body, '--config', config, '--data-dir', data];
    try {
      assert.match(server.stderr(), /signed +\/pay\/events \(Standard Webhooks: webhook-id, webhook-timestamp and a v1 webhook-signature required, the timestamp within 5 minute\(s\)/);
      const first = runCli(args, env);
      assert.equal(first.code, 0, first.stderr + first.stdout);
      const id = /\(signed with the secret for \/pay\/events, Standard Webhooks, webhook-id (msg_[0-9a-f]{32})\)\n→ HTTP 200 · run \S+/.exec(first.stdout)?.[1];
      assert.ok(id, first.stdout);
      assert.doesNotMatch(first.stdout, /duplicate/);
      const again = runCli(args, env);
      assert.match(again.stdout, new RegExp(`webhook-id ${id}\\)\\n→ HTTP 200`));
      assert.match(again.stdout, /duplicate: this delivery \(same webhook-id: --fresh sends a new one\) was received before as inbox entry 1/);
      const fresh = runCli([...args, '--fresh', '--json'], env);
      const out = JSON.parse(fresh.stdout) as { status: number; duplicateOf: number | null; webhookId: string; body: string };
      assert.deepEqual([out.status, out.duplicateOf, out.body], [200, null, 'got valid']);
      assert.match(out.webhookId, /^msg_[0-9a-f]{32}$/);
      assert.notEqual(out.webhookId, id);
      const unsigned = runCli([...args, '--no-sign'], env);
      assert.match(unsigned.stdout, /→ HTTP 401/);
      // The hint names the headers this path asks for, not Bpium's.
      assert.match(unsigned.stdout, /it was sent unsigned \(--no-sign\) and the server asks for the Standard Webhooks headers webhook-id, webhook-timestamp and webhook-signature: leave out --no-sign/);
      assert.doesNotMatch(unsigned.stdout, /X-Hook-Signature/);
      // A Bpium secret here for the path the server keeps under Standard Webhooks: signed, refused, and told why.
      const bpiumHere = join(tmp.dir, 'bpium.config.yaml');
      writeFileSync(bpiumHere, 'webhookSecrets:\n  /pay/events: a-bpium-secret\n');
      const crossed = runCli(['webhook', 'send', '/pay/events', body, '--config', bpiumHere, '--data-dir', data], env);
      assert.match(crossed.stdout, /\(signed with the secret for \/pay\/events\)\n→ HTTP 401\n/);
      assert.match(crossed.stdout, /it was signed with X-Hook-Signature \(the secret found here, webhookSecrets: \/pay\/events in .*bpium\.config\.yaml, is a Bpium one\), but the server checks the Standard Webhooks headers webhook-id, webhook-timestamp and webhook-signature on this path: give the whsec_ secret the server has/);
      for (const text of [first.stdout, again.stdout, fresh.stdout, unsigned.stdout, first.stderr, server.stderr()]) {
        assert.ok(!text.includes(SECRET.slice(6)), 'the secret is never printed');
      }
      assert.doesNotMatch(server.stdout(), /signs its webhooks as Bpium does/, 'the emulator\'s own path keeps a Bpium secret');
    } finally {
      assert.equal(await server.stop(), 0);
      tmp.cleanup();
    }
  });

  it('a whsec_ secret on the embedded Bpium emulator\'s path: a warning at start that its webhooks will be refused', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    const data = join(tmp.dir, 'var');
    const env = { OKTELL_USERS: 'robot:robot-pass-1', OKTELL_LOG_LEVEL: 'warn', BPIUM_WEBHOOK_SECRET: SECRET };
    const server = await startServeProcess({ dataDir: data, env });
    try {
      assert.match(server.stdout(), /the secret of \/Bpium\/NewTask is a Standard Webhooks one \(whsec_…\), but the embedded Bpium emulator signs its webhooks as Bpium does \(X-Hook-Signature\): each one will be refused with 401/);
      // Sent from a terminal without the secret: unsigned; the hint names the Standard Webhooks headers and a whsec_ secret.
      const body = join(tmp.dir, 'event.json');
      writeFileSync(body, '{"type":"ping"}');
      const unsigned = runCli(['webhook', 'send', '/Other', body, '--data-dir', data], { OKTELL_USERS: 'robot:robot-pass-1' });
      assert.match(unsigned.stdout, /\(unsigned: no secret is set for this path\)\n→ HTTP 401\n/);
      assert.match(unsigned.stdout, /the server checks the Standard Webhooks headers webhook-id, webhook-timestamp and webhook-signature on every path \(.*serve\.json\), and no secret for it was found here: set the secret the server has: BPIUM_WEBHOOK_SECRET=whsec_… \(or BPIUM_WEBHOOK_SECRET_FILE\) for every path/);
      assert.doesNotMatch(unsigned.stdout, /X-Hook-Signature/);
      assert.ok(!(server.stdout() + server.stderr()).includes(SECRET.slice(6)), 'the secret is never printed');
    } finally {
      assert.equal(await server.stop(), 0);
      tmp.cleanup();
    }
  });
});
