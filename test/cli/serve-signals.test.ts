// SIGHUP (the terminal or ssh session that ran `npm start` closes) stops the server as SIGTERM does: running jobs
// get their grace period, serve.json is removed, the store is closed cleanly (review s24, O20).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCliAsync, startCli } from './cli.helper.js';
import { repoPath, tempDir } from '../helpers.js';
import { unwritableFile } from '../../cli/commands/serve.js';
import Database from 'better-sqlite3';
import { startSmtpServer } from '../mail/smtp-server.helper.js';

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

  it('serve.json cannot be written: a warning names the file, the cause and the fix, and the server serves and stops cleanly (trial s33, finding 4)', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    const dataDir = join(tmp.dir, 'var');
    // A directory where serve.json goes: the rename over it fails, as a write on a full disk does.
    mkdirSync(join(dataDir, 'serve.json', 'taken'), { recursive: true });
    const serve = startCli(['serve', '--port', '0', '--host', '127.0.0.1', '--bpium-emulator-port', '0', '--data-dir', dataDir], { env: { OKTELL_USERS: 'ops:pw', NO_COLOR: '1' } });
    try {
      for (let i = 0; i < 600 && serve.child.exitCode === null && !/runs, their status/.test(serve.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(serve.child.exitCode, null, serve.stderr());
      const warning = serve.stderr().split('\n').filter((l) => /cannot write/.test(l));
      assert.equal(warning.length, 1, serve.stderr());
      assert.match(warning[0]!, new RegExp(`warning +cannot write ${join(dataDir, 'serve.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: EISDIR.*the server runs without it, but commands that find this server through it \\(demo, webhook send, tasks run\\) need its address given; check the data folder, and it is written at the next start`));
      assert.doesNotMatch(serve.stderr(), /\bat \S+ \(/, 'no stack');
      assert.deepEqual(readdirSync(dataDir).filter((f) => f.endsWith('.tmp')), [], 'no half-written file left');
      const url = /listening on \S*?(http:\/\/\S+)/.exec(serve.stderr())?.[1];
      assert.equal((await fetch(`${url}/-/health`)).status, 200);
      serve.child.kill('SIGTERM');
      const { code, signal } = await serve.exited;
      assert.deepEqual({ code, signal }, { code: 0, signal: null }, serve.stderr());
    } finally {
      if (serve.child.exitCode === null) serve.child.kill('SIGKILL');
    }
    tmp.cleanup();
  });

  it('a full disk is said in words with its fix (a real ENOSPC, from /dev/full)', () => {
    let enospc: unknown;
    try {
      writeFileSync('/dev/full', 'x');
    } catch (e) {
      enospc = e;
    }
    assert.equal((enospc as NodeJS.ErrnoException).code, 'ENOSPC');
    assert.equal(
      unwritableFile('/srv/oktell/var/serve.json', enospc, false),
      'cannot write /srv/oktell/var/serve.json: no space left on its disk (ENOSPC); the server runs without it, but commands that find this server through it (demo, webhook send, tasks run) need its address given; free space there (df -h for room, df -i for files), and it is written at the next start',
    );
  });

  it('SIGTERM while the store refuses the end of a job whose letter went out: the stop waits its grace period, names the job, exits 143 (trial s33, finding 1)', { timeout: 120_000 }, async () => {
    const tmp = tempDir();
    const dataDir = join(tmp.dir, 'var');
    let blocker: Database.Database | undefined;
    // The store is locked by this process (another connection) the moment the SMTP server has the letter.
    const smtp = await startSmtpServer({ afterData: (n) => (n === 1 && blocker!.exec('BEGIN EXCLUSIVE'), 'answer') });
    const serve = startCli(['serve', '--port', '0', '--host', '127.0.0.1', '--bpium-emulator-port', '0', '--data-dir', dataDir], { env: { OKTELL_USERS: 'ops:pw', SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, NO_COLOR: '1', OKTELL_LOG_FORMAT: 'json' } });
    try {
      for (let i = 0; i < 600 && serve.child.exitCode === null && !/runs, their status/.test(serve.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
      const url = /listening on \S*?(http:\/\/\S+)/.exec(serve.stderr())?.[1];
      assert.ok(url, serve.stderr());
      blocker = new Database(join(dataDir, 'oktell.sqlite'));
      const sent = await runCliAsync(['webhook', 'send', '/Bpium/NewTask', repoPath('test', 'fixtures', 'record-created.json'), '--url', url, '-d', dataDir, '--user', 'ops:pw']);
      assert.equal(sent.code, 0, sent.stdout + sent.stderr);
      for (let i = 0; i < 600 && !/cannot record the end of a job yet/.test(serve.stdout()); i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(smtp.letters.length, 1);
      serve.child.kill('SIGTERM');
      const { code, signal } = await serve.exited;
      assert.deepEqual({ code, signal }, { code: 143, signal: null }, serve.stderr());
      assert.match(serve.stderr(), /SIGTERM: stopped, not cleanly: 1 job\(s\) made effects \(1 letter\(s\)\) the store did not record/);
      const stopped = serve.stdout().split('\n').filter((l) => /"msg":"stopped/.test(l)).map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(stopped.map((l) => [l.level, l.unfinished, l.unrecorded, l.letters]), [[50, 1, 1, 1]]);
    } finally {
      if (serve.child.exitCode === null) serve.child.kill('SIGKILL');
      blocker?.close();
      await smtp.close();
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
