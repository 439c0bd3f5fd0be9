// The start banner's "Try it" hints follow the configuration (review s24, O8): `demo` only with the embedded Bpium
// emulator, `outbox` only when letters go to the outbox.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startServeProcess } from './cli-process.js';
import { tempDir } from '../helpers.js';

async function banner(env: Record<string, string>): Promise<string> {
  const tmp = tempDir();
  const serve = await startServeProcess({ dataDir: join(tmp.dir, 'var'), env: { OKTELL_USERS: 'ops:pw', ...env } });
  try {
    return serve.stderr();
  } finally {
    await serve.stop();
    tmp.cleanup();
  }
}

describe('the start banner suggests only what works with the configuration', () => {
  it('defaults (embedded emulator, outbox): demo and outbox are suggested', { timeout: 60_000 }, async () => {
    const text = await banner({});
    // The command itself: `npm run demo` is a script of the repository, which an installed package does not have.
    assert.match(text, /\n {2}npx oktell-emu demo --data-dir \S+\n/);
    assert.doesNotMatch(text, /npm run/);
    assert.match(text, /npx oktell-emu outbox --data-dir .*# letters written to the outbox/);
  });

  it('BPIUM_URL and SMTP_URL set: no demo, no outbox; runs says where letters go', { timeout: 60_000 }, async () => {
    // Nothing listens there: the start does not connect to either.
    const text = await banner({ BPIUM_URL: 'http://127.0.0.1:9/', BPIUM_LOGIN: 'a@b.ru', BPIUM_PASSWORD: 'x', SMTP_URL: 'smtp://127.0.0.1:9' });
    assert.doesNotMatch(text, /oktell-emu demo/);
    assert.doesNotMatch(text, /oktell-emu outbox/);
    assert.match(text, /npx oktell-emu runs --data-dir .*letters go over SMTP; show <runId> lists them/);
    assert.match(text, /Try it:\n {2}# post a webhook:\n {2}curl -u 'ops:PASSWORD'/);
  });
});
