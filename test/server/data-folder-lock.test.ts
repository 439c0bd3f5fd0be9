// One `serve` per data folder with the SQLite store (review s24, O1): a second one is refused with the first one's pid
// and address, leaves the first one's serve.json in place, and a folder whose server was killed starts again.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startServeProcess } from '../cli/cli-process.js';
import { runCli, startCli, type BackgroundCli } from '../cli/cli.helper.js';
import { tempDir } from '../helpers.js';
import { DataFolderInUseError, lockDataFolder } from '../../server/data-lock.js';

const ENV = { OKTELL_USERS: 'ops:pw' };
const serveArgs = (dataDir: string) => ['serve', '--port', '0', '--host', '127.0.0.1', '--bpium-emulator-port', '0', '--data-dir', dataDir];
/** Resolves once `p` printed its start banner or ended (not a speed check: only a guard against hanging). */
async function bannerOf(p: BackgroundCli): Promise<void> {
  for (let i = 0; i < 600 && p.child.exitCode === null && !/runs, their status/.test(p.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
}
const serverFile = (dataDir: string) => JSON.parse(readFileSync(join(dataDir, 'serve.json'), 'utf8')) as { pid: number; url: string; bpiumEmulator: string };

describe('a data folder with the SQLite store serves one process', () => {
  it('a second serve on a live server’s folder is refused, naming that server, and its serve.json stays', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    const dataDir = join(tmp.dir, 'var');
    const first = await startServeProcess({ dataDir, env: ENV });
    try {
      const held = serverFile(dataDir);
      const second = runCli(serveArgs(dataDir), { env: ENV, timeoutMs: 30_000 });
      assert.equal(second.code, 2, second.stderr);
      assert.match(second.stderr, new RegExp(`^oktell-emu: the data folder .* is in use by the server with pid ${held.pid} \\(${held.url.replace(/\./g, '\\.')}\\)`));
      assert.match(second.stderr, /Stop that server first, or give this one another data folder/);
      assert.doesNotMatch(second.stderr, /\n\s+at /, 'no stack trace');
      assert.deepEqual(serverFile(dataDir), held, 'the live server’s serve.json is untouched');
      assert.equal((await fetch(`${first.url}/-/health`)).status, 200);
    } finally {
      await first.stop();
    }
    tmp.cleanup();
  });

  it('a standalone bpium-emulator on the folder of a server running its embedded emulator is refused, naming the server; once it stops, the emulator starts there', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    const dataDir = join(tmp.dir, 'var');
    const server = await startServeProcess({ dataDir, env: ENV });
    let stopped = false;
    try {
      const held = serverFile(dataDir);
      const r = runCli(['bpium-emulator', '--port', '0', '--data-dir', dataDir], { env: ENV });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(
        r.stderr.trim(),
        `oktell-emu: the data folder ${dataDir} is in use by the server with pid ${held.pid} (${held.url}), whose embedded Bpium emulator (${held.bpiumEmulator}) keeps its data there: use that emulator, stop that server first, or give this one another data folder (--data-dir or OKTELL_DATA_DIR)`,
      );
      assert.equal(r.stdout, '', 'it never listened');
      assert.equal(await server.stop(), 0);
      stopped = true;
      // The lock file stays behind; nobody holds it, so the folder is free.
      const emulator = startCli(['bpium-emulator', '--port', '0', '--data-dir', dataDir], { env: ENV });
      try {
        await emulator.waitFor(/Bpium emulator listening on http:\/\/127\.0\.0\.1:\d+\/api\/v1/);
      } finally {
        emulator.child.kill('SIGTERM');
        await emulator.exited;
      }
    } finally {
      if (!stopped) await server.stop();
      tmp.cleanup();
    }
  });

  it('a data folder the lock cannot be made in is one line naming the folder, exit 2', { timeout: 60_000 }, () => {
    const t = tempDir();
    try {
      // Root may write anywhere, so a directory where the lock file goes stands for a folder it cannot use.
      mkdirSync(join(t.dir, 'serve.lock'));
      const r = runCli(serveArgs(t.dir), { env: ENV });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^oktell-emu: cannot use the data folder \S+ \(unable to open database file\): give the server a folder it can write to/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    } finally {
      t.cleanup();
    }
  });

  it('a folder whose server was killed (a stale serve.json) starts again', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    const dataDir = join(tmp.dir, 'var');
    const first = await startServeProcess({ dataDir, env: ENV });
    process.kill(serverFile(dataDir).pid, 'SIGKILL');
    await first.stop();
    const again = await startServeProcess({ dataDir, env: ENV });
    try {
      assert.equal((await fetch(`${again.url}/-/health`)).status, 200);
    } finally {
      await again.stop();
    }
    tmp.cleanup();
  });

  it('a PostgreSQL server’s serve.json (no lock to check) refuses the emulator by its pid alone, and says how to clear a left-over file', () => {
    const tmp = tempDir();
    try {
      const dataDir = join(tmp.dir, 'var');
      mkdirSync(dataDir);
      // A live pid (this test's own), as a reused pid of a server long gone would be.
      const file = join(dataDir, 'serve.json');
      writeFileSync(file, JSON.stringify({ pid: process.pid, url: 'http://127.0.0.1:4055', bpiumEmulator: 'http://127.0.0.1:4056', signedPaths: [], startedAt: '', store: { kind: 'postgres', url: 'postgres://ops@db/oktell' } }));
      const r = runCli(['bpium-emulator', '--port', '0', '--data-dir', dataDir], { env: ENV });
      assert.equal(r.code, 2, r.stderr);
      assert.ok(r.stderr.trim().endsWith(`(if no such server runs, its serve.json is left over: remove ${file})`), r.stderr);
    } finally {
      tmp.cleanup();
    }
  });

  it('two servers started at the same moment: one runs, the other is refused', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    const dataDir = join(tmp.dir, 'var');
    const a = startCli(serveArgs(dataDir), { env: ENV });
    const b = startCli(serveArgs(dataDir), { env: ENV });
    try {
      // The refused one exits; the other keeps running until it is stopped.
      const refused = await Promise.race([a.exited.then(() => a), b.exited.then(() => b)]);
      const runner = refused === a ? b : a;
      assert.equal((await refused.exited).code, 2, refused.stderr());
      assert.match(refused.stderr(), /^oktell-emu: the data folder .* is in use by (the server with pid \d+|another server \(still starting\))/);
      await bannerOf(runner);
      assert.equal(runner.child.exitCode, null, runner.stderr());
      assert.match(runner.stderr(), /listening on/);
    } finally {
      for (const p of [a, b]) if (p.child.exitCode === null) p.child.kill('SIGTERM');
      await Promise.all([a.exited, b.exited]);
    }
    tmp.cleanup();
  });
});

describe('the refusal names what holds the folder', () => {
  it('held shared by PostgreSQL servers whose serve.json is gone: a SQLite server is told they use the PostgreSQL store, not that one is still starting', () => {
    const tmp = tempDir();
    try {
      // Two PostgreSQL servers share the folder; the one that wrote serve.json stopped and removed it.
      const a = lockDataFolder(tmp.dir, () => undefined, 'postgres');
      const b = lockDataFolder(tmp.dir, () => undefined, 'postgres');
      a.release();
      assert.throws(
        () => lockDataFolder(tmp.dir, () => undefined, 'sqlite'),
        (e: unknown) => e instanceof DataFolderInUseError && /is in use by another server, which uses the PostgreSQL store: a server with the SQLite store needs the folder to itself/.test(e.message) && !/still starting/.test(e.message),
      );
      b.release();
      // Nobody holds it now: the SQLite server takes it.
      lockDataFolder(tmp.dir, () => undefined, 'sqlite').release();
    } finally {
      tmp.cleanup();
    }
  });

  it('held by a SQLite server that has not written serve.json yet: "still starting"', () => {
    const tmp = tempDir();
    try {
      const held = lockDataFolder(tmp.dir, () => undefined, 'sqlite');
      assert.throws(() => lockDataFolder(tmp.dir, () => undefined, 'sqlite'), /is in use by another server \(still starting\): its SQLite store serves one process/);
      held.release();
    } finally {
      tmp.cleanup();
    }
  });
});
