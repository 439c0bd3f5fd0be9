// The start banner says where the webhook secret of the embedded Bpium emulator's hook path comes from, without the
// secret; a caller refused for a bad signature learns neither the secret nor where it is kept. The emulator's password
// is printed only when it is the public demo one: one given in BPIUM_PASSWORD is named, not shown.
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

describe('serve banner: the embedded emulator\'s password', () => {
  it('a BPIUM_PASSWORD is named, not printed, and the emulator takes it', async () => {
    const tmp = tempDir('oktell-banner-secret-');
    const password = 'emulator-pw-7f3kQ';
    const serve = await startServeProcess({ dataDir: join(tmp.dir, 'var'), env: { OKTELL_USERS: 'ops:pw', BPIUM_PASSWORD: password } });
    try {
      const line = serve.stderr().split('\n').find((l) => l.startsWith('  bpium '));
      assert.ok(line, serve.stderr());
      const m = /^  bpium      embedded emulator (http:\/\/127\.0\.0\.1:\d+\/api\/v1) \(login demo@example\.com \/ \(BPIUM_PASSWORD\)\)$/.exec(line);
      assert.ok(m, line);
      assert.ok(!serve.stderr().includes(password) && !serve.stdout().includes(password), 'the password is in neither the banner nor the log');
      // The emulator listens with that password (the banner names the right variable), and refuses the demo one.
      const ask = (pw: string) => fetch(`${m[1]}/catalogs`, { headers: { Authorization: `Basic ${Buffer.from(`demo@example.com:${pw}`).toString('base64')}` } });
      assert.equal((await ask(password)).status, 200);
      assert.equal((await ask('demo')).status, 401);
    } finally {
      await serve.stop();
      tmp.cleanup();
    }
  });

  it('the public demo password is still printed', async () => {
    const tmp = tempDir('oktell-banner-secret-');
    const serve = await startServeProcess({ dataDir: join(tmp.dir, 'var'), env: { OKTELL_USERS: 'ops:pw', BPIUM_PASSWORD: '' } });
    try {
      const line = serve.stderr().split('\n').find((l) => l.startsWith('  bpium '));
      assert.match(line ?? '', /^  bpium      embedded emulator http:\/\/127\.0\.0\.1:\d+\/api\/v1 \(login demo@example\.com \/ demo\)$/);
    } finally {
      await serve.stop();
      tmp.cleanup();
    }
  });
});
