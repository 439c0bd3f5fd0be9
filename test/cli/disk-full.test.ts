// The commands on a disk that is full (trial 64): `serve` whose data folder is on it, `runs` on a store there with no
// server running, `backup` to it. Each says so in one line naming the place and what to do (free space there), exit 1,
// no stack trace, and leaves no half-written file. A real full disk is a small tmpfs filled up, so these tests run as
// root where mount works and are skipped elsewhere (the store's own refusals are tested without root through
// SQLite's page limit: test/store/sqlite.store.test.ts, test/delivery/*).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { runCli } from './cli.helper.js';
import { tempDir } from '../helpers.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';

/**
 * A 512 KiB tmpfs (with room for `inodes` files, when given), or why there is none here (not root, no mount in this
 * container).
 */
function smallDisk(inodes?: number): { dir: string; fill(): void; fillInodes(): void; cleanup(): void } | string {
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs';
  const tmp = tempDir('oktell-disk-full-');
  const dir = join(tmp.dir, 'disk');
  mkdirSync(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=512k${inodes ? `,nr_inodes=${inodes}` : ''}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    tmp.cleanup();
    return `cannot mount a tmpfs here: ${(e as Error).message.split('\n')[0]}`;
  }
  return {
    dir,
    // Fills what is left with a file of its own, as another program's log would.
    fill() {
      const chunk = Buffer.alloc(4096);
      for (let i = 0; ; i++) {
        try {
          writeFileSync(join(dir, 'ballast'), chunk, { flag: 'a' });
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') return;
          throw e;
        }
      }
    },
    // Takes every inode left with empty files: blocks stay free, so df -h shows room.
    fillInodes() {
      mkdirSync(join(dir, 'many'));
      for (let i = 0; ; i++) {
        try {
          writeFileSync(join(dir, 'many', String(i)), '');
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') return;
          throw e;
        }
      }
    },
    cleanup() {
      execFileSync('umount', [dir]);
      tmp.cleanup();
    },
  };
}

function withSmallDisk(t: TestContext, inodes?: number): ReturnType<typeof smallDisk> & object | undefined {
  const disk = smallDisk(inodes);
  if (typeof disk === 'string') {
    t.skip(disk);
    return undefined;
  }
  return disk;
}

const noStack = (stderr: string) => assert.doesNotMatch(stderr, /\n\s+at |SqliteError|Node\.js v/, `no stack trace:\n${stderr}`);

describe('the commands on a full disk', () => {
  it('serve on a data folder whose disk is full: one line naming the folder and what to do, exit 1', { timeout: 60_000 }, (t) => {
    const disk = withSmallDisk(t);
    if (!disk) return;
    try {
      const data = join(disk.dir, 'var');
      mkdirSync(data, { mode: 0o700 });
      disk.fill();
      // No generated login or webhook secret to write: the first write of the start is the data folder's lock.
      const r = runCli(['serve', '--port', '0', '--host', '127.0.0.1', '--bpium-emulator-port', '0', '--data-dir', data], { env: { OKTELL_USERS: 'ops:pw', BPIUM_WEBHOOK_SECRET: 'disk-full-secret' } });
      assert.equal(r.code, 1, r.stderr);
      noStack(r.stderr);
      assert.equal(
        r.stderr.trim(),
        `oktell-emu: cannot lock the data folder ${data} (${join(data, 'serve.lock')}): database or disk is full (SQLITE_FULL): the disk holding ${data} is full: free space there (df -h ${data} for room, df -i ${data} for files) and start again; nothing stored is lost`,
      );
    } finally {
      disk.cleanup();
    }
  });

  it('serve on a data folder whose disk has no inodes left: one line naming that and df -i, not a read-only folder, exit 1', { timeout: 60_000 }, (t) => {
    const disk = withSmallDisk(t, 64);
    if (!disk) return;
    try {
      const data = join(disk.dir, 'var');
      mkdirSync(data, { mode: 0o700 });
      // The lock file of an earlier start is there; taking the lock writes its journal, a new file.
      writeFileSync(join(data, 'serve.lock'), '', { mode: 0o600 });
      disk.fillInodes();
      const r = runCli(['serve', '--port', '0', '--host', '127.0.0.1', '--bpium-emulator-port', '0', '--data-dir', data], { env: { OKTELL_USERS: 'ops:pw', BPIUM_WEBHOOK_SECRET: 'disk-full-secret' } });
      assert.equal(r.code, 1, r.stderr);
      noStack(r.stderr);
      assert.match(
        r.stderr.trim(),
        new RegExp(`^oktell-emu: cannot lock the data folder ${data} \\(${join(data, 'serve.lock')}\\): .* \\(SQLITE_[A-Z_]+\\): the disk holding ${data} has no room for another file \\(no inodes left\\): free space there \\(df -h ${data} for room, df -i ${data} for files\\) and start again; nothing stored is lost$`),
      );
    } finally {
      disk.cleanup();
    }
  });

  it('serve on a new data folder on a full disk: the generated login cannot be written, said in one line; no temporary file is left', { timeout: 60_000 }, (t) => {
    const disk = withSmallDisk(t);
    if (!disk) return;
    try {
      disk.fill();
      const data = join(disk.dir, 'fresh');
      const r = runCli(['serve', '--port', '0', '--host', '127.0.0.1', '--bpium-emulator-port', '0', '--data-dir', data], { unset: ['OKTELL_USERS'] });
      assert.equal(r.code, 1, r.stderr);
      noStack(r.stderr);
      assert.equal(r.stderr.trim(), `oktell-emu: cannot write ${join(data, 'server-user.json')}: no space left on the device (ENOSPC): free space there (df -h ${data} for room, df -i ${data} for files) and try again`);
      assert.deepEqual(readdirSync(data), [], 'nothing half written is left in the data folder');
    } finally {
      disk.cleanup();
    }
  });

  it('runs on a store whose disk is full, no server running: one line, exit 1', { timeout: 60_000 }, async (t) => {
    const disk = withSmallDisk(t);
    if (!disk) return;
    try {
      const data = join(disk.dir, 'var');
      mkdirSync(data, { mode: 0o700 });
      const store = await openSqliteStore({ file: join(data, 'oktell.sqlite') });
      await store.close();
      disk.fill();
      const file = join(data, 'oktell.sqlite');
      const r = runCli(['runs', '--data-dir', data]);
      assert.equal(r.code, 1, r.stderr);
      noStack(r.stderr);
      assert.match(r.stderr.trim(), new RegExp(`^oktell-emu: cannot open the store ${file}: disk I/O error \\(SQLITE_IOERR_SHMSIZE\\): the disk holding ${data} is full: free space there \\(df -h ${data} for room, df -i ${data} for files\\) and run the command again; nothing stored is lost$`));
    } finally {
      disk.cleanup();
    }
  });

  it('runs on a store whose disk has no inodes left (room for blocks, none for files): one line naming that and df -i, not a read-only file', { timeout: 60_000 }, async (t) => {
    const disk = withSmallDisk(t, 64);
    if (!disk) return;
    try {
      const data = join(disk.dir, 'var');
      mkdirSync(data, { mode: 0o700 });
      const store = await openSqliteStore({ file: join(data, 'oktell.sqlite') });
      await store.close();
      disk.fillInodes();
      const file = join(data, 'oktell.sqlite');
      const r = runCli(['runs', '--data-dir', data]);
      assert.equal(r.code, 1, r.stderr);
      noStack(r.stderr);
      assert.match(r.stderr.trim(), new RegExp(`^oktell-emu: cannot open the store ${file}: .* \\(SQLITE_[A-Z_]+\\): the disk holding ${data} has no room for another file \\(no inodes left\\): free space there \\(df -h ${data} for room, df -i ${data} for files\\) and run the command again; nothing stored is lost$`));
    } finally {
      disk.cleanup();
    }
  });

  it('cancel on a store whose disk is full while a server holds it open: one line naming the data folder (quoted in the df commands), exit 1, the job still queued', { timeout: 60_000 }, async (t) => {
    const disk = withSmallDisk(t);
    if (!disk) return;
    try {
      // A space in its name: the df commands quote it, so that they paste as they are (as the server's line does).
      const data = join(disk.dir, 'oktell data');
      mkdirSync(data, { mode: 0o700 });
      // Held open as a running server holds it: its -shm is there, so the command opens the store and only its write fails.
      const store = await openSqliteStore({ file: join(data, 'oktell.sqlite') });
      try {
        const [id] = await store.enqueueJobs([{ scenario: 'Echo', params: {} }]);
        disk.fill();
        const r = runCli(['cancel', id!, '--data-dir', data]);
        assert.equal(r.code, 1, r.stderr);
        noStack(r.stderr);
        assert.equal(r.stderr.trim(), `oktell-emu: the store refuses the write (full): database unavailable (SQLITE_FULL): database or disk is full: the disk holding the data folder ${data} is full (or the store is at OKTELL_STORE_MAX_PAGES): free space there (df -h '${data}' for room, df -i '${data}' for files) and run the command again; nothing of it was stored`);
        assert.equal((await store.getJob(id!))?.status, 'queued');
      } finally {
        await store.close();
      }
    } finally {
      disk.cleanup();
    }
  });

  it('backup to a full disk: one line naming the copy and what to do, exit 1, no file left there', { timeout: 60_000 }, async (t) => {
    const disk = withSmallDisk(t);
    if (!disk) return;
    const tmp = tempDir('oktell-disk-full-store-');
    try {
      const data = join(tmp.dir, 'var');
      mkdirSync(data, { mode: 0o700 });
      const store = await openSqliteStore({ file: join(data, 'oktell.sqlite') });
      // About 1 MiB of webhooks: more than the disk's 512 KiB.
      for (let i = 0; i < 100; i++) {
        await store.recordRequest({ inbox: { receivedAt: Date.now(), method: 'POST', path: '/hook', headers: '', body: Buffer.alloc(10_000, i % 256), signature: 'absent', dedupKey: `k${i}` } });
      }
      await store.close();
      const target = join(disk.dir, 'copy.sqlite');
      const r = runCli(['backup', target, '--data-dir', data]);
      assert.equal(r.code, 1, r.stderr);
      noStack(r.stderr);
      assert.equal(r.stderr.trim(), `oktell-emu: cannot write the copy ${target}: database or disk is full (SQLITE_FULL): the disk holding ${disk.dir} is full: free space there (df -h ${disk.dir} for room, df -i ${disk.dir} for files) or back up to another disk; no copy was kept`);
      assert.deepEqual(readdirSync(disk.dir), [], 'no copy, no partial file');
    } finally {
      disk.cleanup();
      rmSync(tmp.dir, { recursive: true, force: true });
    }
  });
});
