// `cancel` of a claimed job requests its cancel (exit 0); when its worker is gone (its server was killed: another
// instance takes the job over when the lease runs out, or the next start does), no worker of it will read the request,
// and the command says the server that takes the job over stops it before its first block. Told by a lease that ran
// out unrenewed, or by a worker id naming a process of this machine that is not running. A worker that may still run
// gets no such note (it reads the request itself). The real binary on a real store (SQLite, and PostgreSQL when reachable).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { lockDataFolder } from '../../server/data-lock.js';
import { enqueue, postgresKind, sqliteKind, withStoreOf, type Kind } from './job-fates.helper.js';

/** The pid of a process that ran and ended. */
async function endedPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

async function claimed(kind: Kind, worker: string, leaseMs: number): Promise<string> {
  return withStoreOf(kind, async (s) => {
    const id = await enqueue(s);
    const got = await s.claimJobs(worker, 10, leaseMs);
    assert.deepEqual(got.map((j) => j.id), [id]);
    return id;
  });
}

/** The note of a worker that is gone; its absence: the worker may still run, and reads the request itself. */
const GONE = /the server that takes the job over \(another instance once the lease has run out, or the next start on this store\) stops it before its first block/;
const REQUESTED = /^cancel requested for running job \S+ \(Letters\): cancel requested by oktell-emu cancel, /;

for (const make of [sqliteKind, postgresKind]) {
  // A store of its own for each case: a server's claim takes over the job of an earlier case whose lease ran out.
  const kinds: Kind[] = [];
  const fresh = () => {
    const k = make();
    kinds.push(k);
    return k;
  };
  const { name, skip } = fresh();
  describe(`cancel of a job whose worker is gone (${name})`, { timeout: 120_000, ...(skip ? { skip } : {}) }, () => {
    after(async () => {
      for (const k of kinds) await k.cleanup();
    });

    it('a lease that ran out: the request is said to wait for the server that takes the job over', async () => {
      const kind = fresh();
      const id = await claimed(kind, 'elsewhere:4242:abcd1234', 1);
      await new Promise((r) => setTimeout(r, 20));
      const r = kind.cli(['cancel', id]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, REQUESTED);
      assert.match(r.stdout, /Its worker \(elsewhere:4242:abcd1234\) stopped renewing its claim, whose lease ran out at \d{4}-\d\d-\d\dT[\d:.]+Z: its server was stopped or killed \(or hangs\): the server that takes the job over/);
      assert.match(r.stdout, GONE);
    });

    // With SQLite every server of the store runs on this machine; with PostgreSQL a host name may be another machine's
    // too (cloned machines called alike), so only the lease tells there.
    it(name === 'SQLite' ? 'a worker of this machine whose process is gone, its lease still running: the same' : 'a worker named as this machine whose pid is not running here, its lease still running: no note (only the lease tells there)', async () => {
      const kind = fresh();
      const pid = await endedPid();
      const worker = `${hostname()}:${pid}:abcd1234`;
      const id = await claimed(kind, worker, 600_000);
      const r = kind.cli(['cancel', id]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, REQUESTED);
      if (name !== 'SQLite') {
        assert.doesNotMatch(r.stdout, GONE);
        return;
      }
      assert.match(r.stdout, new RegExp(`Its worker \\(${worker.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\) was process ${pid} of this machine, which is not running any more: its server was stopped or killed; its lease runs out at \\d{4}-[^:]+:[^:]+:[^:]+Z: the server that takes the job over`));
    });

    // A SQLite server in another pid namespace (a container sharing the host name, with --network host, its data folder
    // mounted): its workers' pid is its namespace's, which kill does not find here. It holds the folder's lock and its
    // serve.json names that pid: it runs, and stopping it is the way to stop the job.
    it('a worker whose pid is the one the live holder of the data folder wrote in serve.json is not gone', { ...(name !== 'SQLite' ? { skip: 'SQLite only' } : {}) }, async () => {
      const kind = fresh();
      const dataDir = kind.dirFlag.replace(/^ --data-dir /, '');
      const pid = await endedPid();
      const worker = `${hostname()}:${pid}:abcd1234`;
      const id = await claimed(kind, worker, 600_000);
      const lock = lockDataFolder(dataDir, () => undefined, 'sqlite');
      try {
        writeFileSync(join(dataDir, 'serve.json'), JSON.stringify({ pid, url: 'http://127.0.0.1:1', signedPaths: [], startedAt: new Date().toISOString(), store: { kind: 'sqlite' } }));
        const r = kind.cli(['cancel', id]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, REQUESTED);
        assert.doesNotMatch(r.stdout, GONE);
      } finally {
        lock.release();
      }
      // Without the holder the same file is a killed server's: the worker is gone (a job with a request already says
      // so; the note is the first cancel's): asked of another job of the same worker.
      const other = await claimed(kind, worker, 600_000);
      const r = kind.cli(['cancel', other]);
      assert.match(r.stdout, GONE);
    });

    it('a worker that may still run (this process; another machine) gets no note: it reads the request itself', async () => {
      const kind = fresh();
      for (const worker of [`${hostname()}:${process.pid}:abcd1234`, 'elsewhere:4242:abcd1234']) {
        const id = await claimed(kind, worker, 600_000);
        const r = kind.cli(['cancel', id]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, REQUESTED, worker);
        assert.doesNotMatch(r.stdout, GONE, worker);
      }
    });
  });
}
