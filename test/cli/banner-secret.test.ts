// The start banner says where the webhook secret of the embedded Bpium emulator's hook path comes from, without the
// secret; a caller refused for a bad signature learns neither the secret nor where it is kept.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { startServeProcess } from './cli-process.js';

describe('serve banner: the signed line and the generated secret', () => {
  it('names the file of the secret generated for the embedded emulator, never the secret; the 401 names neither', async () => {
    const tmp = tempDir('oktell-banner-secret-');
    const data = join(tmp.dir, 'var');
    const serve = await startServeProcess({ dataDir: data, env: { OKTELL_USERS: 'ops:pw', BPIUM_WEBHOOK_SECRET: '' } });
    try {
      const file = join(data, 'bpium-webhook-secret');
      const secret = readFileSync(file, 'utf8').trim();
      const signed = serve.stderr().split('\n').find((l) => l.startsWith('  signed '));
      assert.ok(signed, serve.stderr());
      assert.equal(signed, `  signed     /Bpium/NewTask (X-Hook-Signature required; npx oktell-emu webhook send signs; the secret of /Bpium/NewTask was generated for the embedded Bpium emulator and is kept in ${file} (webhookSecrets or BPIUM_WEBHOOK_SECRET to choose your own))`);
      assert.ok(!serve.stderr().includes(secret), 'the secret is not printed');

      const res = await fetch(`${serve.url}/Bpium/NewTask`, { method: 'POST', headers: { Authorization: `Basic ${Buffer.from('ops:pw').toString('base64')}`, 'Content-Type': 'application/json' }, body: '{}' });
      assert.equal(res.status, 401);
      const body = await res.text();
      assert.match(body, /X-Hook-Signature/);
      assert.ok(!body.includes(secret) && !body.includes('bpium-webhook-secret') && !body.includes(data), body);
    } finally {
      await serve.stop();
      tmp.cleanup();
    }
  });

  it('a configured secret is not said to be generated', async () => {
    const tmp = tempDir('oktell-banner-secret-');
    const serve = await startServeProcess({ dataDir: join(tmp.dir, 'var'), env: { OKTELL_USERS: 'ops:pw', BPIUM_WEBHOOK_SECRET: 'configured-secret-123' } });
    try {
      const signed = serve.stderr().split('\n').find((l) => l.startsWith('  signed '));
      assert.equal(signed, '  signed     every path (X-Hook-Signature required; npx oktell-emu webhook send signs)');
    } finally {
      await serve.stop();
      tmp.cleanup();
    }
  });
});
