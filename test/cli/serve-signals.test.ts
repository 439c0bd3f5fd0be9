// SIGHUP (the terminal or ssh session that ran `npm start` closes) stops the server as SIGTERM does: running jobs
// get their grace period, serve.json is removed, the store is closed cleanly (review s24, O20).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCliAsync, startCli } from './cli.helper.js';
import { repoPath, tempDir } from '../helpers.js';

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

  it('a second Ctrl-C while the server waits for a running job stops it at once: said, exit 130', { timeout: 120_000 }, async () => {
    const tmp = tempDir();
    const dataDir = join(tmp.dir, 'var');
    // An SMTP server that accepts and never greets: the run's SendMail waits on it, so the stop has a job to wait for.
    const sockets: Socket[] = [];
    let connected!: () => void;
    const mailConnected = new Promise<void>((r) => (connected = r));
    const silent = createServer((socket) => (sockets.push(socket), connected()));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const smtpUrl = `smtp://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const serve = startCli(['serve', '--port', '0', '--host', '127.0.0.1', '--bpium-emulator-port', '0', '--data-dir', dataDir], { env: { OKTELL_USERS: 'ops:pw', SMTP_URL: smtpUrl } });
    try {
      // Not a speed check: a guard so a server that never starts fails the test instead of hanging it.
      for (let i = 0; i < 600 && serve.child.exitCode === null && !/runs, their status/.test(serve.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
      const url = /listening on \S*?(http:\/\/\S+)/.exec(serve.stderr())?.[1];
      assert.ok(url, serve.stderr());
      const sent = await runCliAsync(['webhook', 'send', '/Bpium/NewTask', repoPath('test', 'fixtures', 'record-created.json'), '--url', url, '-d', dataDir, '--user', 'ops:pw']);
      assert.equal(sent.code, 0, sent.stdout + sent.stderr);
      await mailConnected;
      serve.child.kill('SIGINT');
      for (let i = 0; i < 600 && !/finishing running jobs/.test(serve.stderr()); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(serve.stderr(), /SIGINT: finishing running jobs, then stopping… \(Ctrl-C again to stop now\)/);
      serve.child.kill('SIGINT');
      const { code, signal } = await serve.exited;
      assert.deepEqual({ code, signal }, { code: 130, signal: null }, serve.stderr());
      assert.match(serve.stderr(), /SIGINT again: stopping now, without waiting for the running jobs/);
    } finally {
      if (serve.child.exitCode === null) serve.child.kill('SIGKILL');
      for (const s of sockets) s.destroy();
      silent.close();
    }
    tmp.cleanup();
  });
});
