// SIGHUP (the terminal or ssh session that ran `npm start` closes) stops the server as SIGTERM does: running jobs
// get their grace period, serve.json is removed, the store is closed cleanly (review s24, O20).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startCli } from './cli.helper.js';
import { tempDir } from '../helpers.js';

describe('serve and signals', () => {
  it('SIGHUP is a graceful stop: exit 0, serve.json removed, no write-ahead log left', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    const dataDir = join(tmp.dir, 'var');
    const serve = startCli(['serve', '--port', '0', '--host', '127.0.0.1', '--bpium-emulator-port', '0', '--data-dir', dataDir], { env: { OKTELL_USERS: 'ops:pw' } });
    try {
      // Not a speed check: a guard so a server that never starts fails the test instead of hanging it.
      for (let i = 0; i < 600 && serve.child.exitCode === null && !/runs, their status/.test(serve.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(existsSync(join(dataDir, 'serve.json')), serve.stderr());
      serve.child.kill('SIGHUP');
      const { code, signal } = await serve.exited;
      assert.deepEqual({ code, signal }, { code: 0, signal: null }, serve.stderr());
      assert.match(serve.stderr(), /SIGHUP: finishing running jobs, then stopping/);
      assert.equal(existsSync(join(dataDir, 'serve.json')), false, 'serve.json removed');
      assert.equal(existsSync(join(dataDir, 'oktell.sqlite-wal')), false, 'the store was closed, not abandoned');
    } finally {
      if (serve.child.exitCode === null) serve.child.kill('SIGKILL');
    }
    tmp.cleanup();
  });
});
