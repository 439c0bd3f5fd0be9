// The SQLite store: the shared contract on a real file, plus what only SQLite shows (disk full, locks, crash, schema).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { applyMigrations, MIGRATIONS, SchemaTooNewError } from '../../server/store/sqlite.migrations.js';
import { openSqliteStore, PAGES_PER_PENDING_JOB, pagesPerPendingJob, QUOTA_MARGIN, type SqliteStoreOptions } from '../../server/store/sqlite.store.js';
import { StoreUnavailableError } from '../../server/store/store.errors.js';
import type { InboxEntryInput } from '../../server/store/store.port.js';
import { storeContractTests } from './store.contract.js';

const T = { timeout: 30_000 };

async function tempDir(): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'oktell-store-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

storeContractTests('SqliteStore', async (ctx) => {
  const { dir, cleanup } = await tempDir();
  const options: SqliteStoreOptions = {
    file: join(dir, 'store.db'),
    clock: ctx.clock,
    backoff: ctx.backoff,
    defaultMaxAttempts: ctx.defaultMaxAttempts,
    timeZone: ctx.timeZone,
  };
  const rawSql = async (sql: string): Promise<void> => {
    const db = new Database(options.file);
    try {
      db.pragma('busy_timeout = 5000');
      db.exec(sql);
    } finally {
      db.close();
    }
  };
  return { store: await openSqliteStore(options), cleanup, reopen: () => openSqliteStore(options), rawSql };
});

function request(i: number, bodyBytes = 100): { inbox: InboxEntryInput } {
  return {
    inbox: {
      receivedAt: Date.now(),
      method: 'POST',
      path: '/hook',
      headers: '',
      body: Buffer.alloc(bodyBytes, i % 256),
      signature: 'absent',
      dedupKey: `k${i}`,
    },
  };
}

describe('SqliteStore: the quota\'s room for pending jobs', () => {
  /** What the room check must hold before each new request: pages in use plus the room per pending job plus the margin. */
  function roomLeft(file: string, maxPages: number): number {
    const db = new Database(file, { readonly: true });
    try {
      const used = Number(db.pragma('page_count', { simple: true })) - Number(db.pragma('freelist_count', { simple: true }));
      const pending = (db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running')`).get() as { n: number }).n;
      return maxPages - (used + pending * PAGES_PER_PENDING_JOB + Math.ceil(maxPages * QUOTA_MARGIN));
    } finally {
      db.close();
    }
  }
  const withJob = (i: number) => ({ ...request(i), jobs: [{ id: `j${i}`, scenario: 'S', params: {}, maxAttempts: 1 }] });

  it('keeps room per pending job for the run-record budget: more for a larger budget, never below the default', () => {
    assert.equal(pagesPerPendingJob(undefined), PAGES_PER_PENDING_JOB);
    assert.equal(pagesPerPendingJob(16 * 1024), PAGES_PER_PENDING_JOB);
    assert.equal(pagesPerPendingJob(64 * 1024), 20);
    assert.equal(pagesPerPendingJob(256 * 1024), 80, 'the docs\' example: four times the default budget');
  });

  it('never takes a request the exact count would refuse, for jobs queued between two counts (inserted or requeued)', T, async () => {
    const { dir, cleanup } = await tempDir();
    const file = join(dir, 's.db');
    const maxPages = 1000;
    const store = await openSqliteStore({ file, maxPageCount: maxPages });
    try {
      // Jobs queued in a burst, all within the second one count of pending jobs serves.
      let accepted = 0;
      for (let i = 0; i < 400; i++) {
        const left = roomLeft(file, maxPages);
        try {
          await store.recordRequest(withJob(i));
          assert.ok(left > 0, `request ${i} taken with ${left} page(s) of room left by the exact count`);
          accepted++;
        } catch (err) {
          assert.ok(err instanceof StoreUnavailableError && err.reason === 'full', String(err));
          break;
        }
      }
      assert.ok(accepted > 10 && accepted < 400, `the burst was refused at the quota (${accepted} taken)`);
      // The same jobs dead and requeued at once: the next request is judged with them pending again.
      const claimed = await store.claimJobs('w', accepted, 60_000);
      for (const j of claimed) await store.failJob(j.id, 'w', { retryable: true, error: 'x' });
      // A count made while they are dead (past the recount interval), then the requeue within the next one.
      await new Promise((r) => setTimeout(r, 1100));
      await store.recordRequest(request(999));
      const requeued = await store.requeue({ status: 'dead' });
      assert.equal(requeued.length, accepted);
      const left = roomLeft(file, maxPages);
      const next = await store.recordRequest(withJob(1000)).then(() => 'taken', (err: unknown) => (err instanceof StoreUnavailableError ? 'refused' : String(err)));
      assert.equal(next, left > 0 ? 'taken' : 'refused', `room left by the exact count: ${left}`);
      assert.equal(next, 'refused', 'the requeued jobs fill the room again');
    } finally {
      await store.close();
      await cleanup();
    }
  });
});

describe('SqliteStore: when the database cannot take writes', () => {
  it('rejects appends with StoreUnavailableError (full) once the disk is full, and keeps what was stored', T, async () => {
    const { dir, cleanup } = await tempDir();
    const store = await openSqliteStore({ file: join(dir, 's.db'), maxPageCount: 48 });
    try {
      const stored: number[] = [];
      let failure: unknown;
      for (let i = 0; i < 500 && !failure; i++) {
        try {
          stored.push((await store.recordRequest(request(i, 8000))).inboxId);
        } catch (err) {
          failure = err;
        }
      }
      assert.ok(failure instanceof StoreUnavailableError, `expected StoreUnavailableError, got ${String(failure)}`);
      assert.equal(failure.reason, 'full');
      assert.ok(failure.retryAfterSeconds > 0);
      assert.ok(stored.length > 0, 'some requests fit before the disk filled up');
      assert.equal((await store.counts()).inbox.total, stored.length, 'reads still work and nothing half-written remains');
      // A small write still fails while the disk stays full, and the error is the same kind.
      await assert.rejects(store.recordRequest(request(9999, 8000)), StoreUnavailableError);
    } finally {
      await store.close();
      await cleanup();
    }
  });

  it('rejects appends with StoreUnavailableError (busy) while another connection holds the write lock, and recovers', T, async () => {
    const { dir, cleanup } = await tempDir();
    const file = join(dir, 's.db');
    const store = await openSqliteStore({ file, busyTimeoutMs: 50 });
    const other = new Database(file);
    try {
      await store.recordRequest(request(1));
      other.exec('BEGIN IMMEDIATE');
      other.exec("INSERT INTO effects (run_key, step_key, outcome, recorded_at) VALUES ('x', 'y', 'null', 0)");
      const started = Date.now();
      await assert.rejects(store.recordRequest(request(2)), (e: unknown) => e instanceof StoreUnavailableError && e.reason === 'busy' && e.retryAfterSeconds >= 1);
      assert.ok(Date.now() - started >= 40, 'it waited for the busy timeout first');
      assert.equal((await store.counts()).inbox.total, 1, 'readers are not blocked by the writer in WAL mode');
      other.exec('COMMIT');
      const r = await store.recordRequest(request(2));
      assert.equal(r.duplicate, false, 'the same request succeeds once the lock is gone');
      assert.equal((await store.counts()).inbox.total, 2);
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
      await store.close();
      await cleanup();
    }
  });
});

describe('SqliteStore: schema and settings', () => {
  it('opens in WAL mode with synchronous=NORMAL by default, FULL when asked, and a 2,000 KiB page cache (not the driver\'s 16,000)', T, async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const cases = [
        { durability: undefined, synchronous: 1 },
        { durability: 'full' as const, synchronous: 2 },
      ];
      for (const c of cases) {
        const store = await openSqliteStore({ file: join(dir, `${c.durability ?? 'default'}.db`), durability: c.durability, busyTimeoutMs: 250 });
        assert.deepEqual(store.settings(), { journalMode: 'wal', synchronous: c.synchronous, busyTimeoutMs: 250, walAutocheckpoint: 5000, cacheSize: -2000 });
        await store.close();
      }
    } finally {
      await cleanup();
    }
  });

  it('applies each numbered migration once and records it', T, async () => {
    const { dir, cleanup } = await tempDir();
    const file = join(dir, 's.db');
    try {
      await (await openSqliteStore({ file })).close();
      await (await openSqliteStore({ file })).close();
      const db = new Database(file);
      const rows = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all() as Array<{ version: number }>;
      assert.deepEqual(rows.map((r) => r.version), MIGRATIONS.map((m) => m.version));
      assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS[MIGRATIONS.length - 1]!.version);
      db.close();
    } finally {
      await cleanup();
    }
  });

  it('migration 3 keeps the runs of an older file, with their indexes, and takes the trigger task', T, async () => {
    const { dir, cleanup } = await tempDir();
    const file = join(dir, 's.db');
    try {
      const old = new Database(file);
      applyMigrations(old, MIGRATIONS.filter((m) => m.version <= 2));
      old.prepare(`INSERT INTO runs (id, scenario, version, trigger, status, started_at, trace) VALUES ('r-old', 'Hook', 'v', 'http', 'completed', 1, '[]')`).run();
      old.close();
      const store = await openSqliteStore({ file });
      try {
        assert.equal((await store.getRun('r-old'))?.trigger, 'http');
        const started = Date.UTC(2026, 0, 1);
        await store.recordRun({ id: 'r-task', scenario: 'Report', version: 'v', trigger: 'task', status: 'completed', startedAt: started, finishedAt: started + 1, durationMs: 1 });
        const page = await store.listRuns({ limit: 10 });
        assert.deepEqual(page.items.map((r) => [r.id, r.trigger]), [['r-task', 'task'], ['r-old', 'http']]);
      } finally {
        await store.close();
      }
      const db = new Database(file, { readonly: true });
      const indexes = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as Array<{ name: string }>).map((r) => r.name);
      db.close();
      assert.deepEqual(indexes, ['runs_job', 'runs_scenario', 'runs_started', 'runs_status']);
    } finally {
      await cleanup();
    }
  });

  it('migration 4 gives a job running in an older file its last update as claim time, and the others none', T, async () => {
    const { dir, cleanup } = await tempDir();
    const file = join(dir, 's.db');
    try {
      const old = new Database(file);
      applyMigrations(old, MIGRATIONS.filter((m) => m.version <= 3));
      const insert = old.prepare(`INSERT INTO jobs (id, scenario, params, variables, trigger, max_attempts, next_run_at, status, attempts, lease_owner,
          lease_expires_at, created_at, updated_at) VALUES (?, 'S', '{}', '{}', '{}', 3, 1, ?, ?, ?, ?, 1, ?)`);
      insert.run('running', 'running', 1, 'w', 9_000, 5_000);
      insert.run('queued', 'queued', 0, null, null, 2_000);
      old.close();
      const store = await openSqliteStore({ file });
      try {
        assert.equal((await store.getJob('running'))?.claimedAt, 5_000);
        assert.equal((await store.getJob('queued'))?.claimedAt, null);
      } finally {
        await store.close();
      }
    } finally {
      await cleanup();
    }
  });

  it('refuses to open a database written by a newer schema', T, async () => {
    const { dir, cleanup } = await tempDir();
    const file = join(dir, 's.db');
    try {
      await (await openSqliteStore({ file })).close();
      const db = new Database(file);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, ?, 0)').run('from the future');
      db.close();
      await assert.rejects(openSqliteStore({ file }), SchemaTooNewError);
    } finally {
      await cleanup();
    }
  });
});

describe('SqliteStore: several connections on one file', () => {
  it('never gives the same job to claimers in two store instances', T, async () => {
    const { dir, cleanup } = await tempDir();
    const file = join(dir, 's.db');
    const a = await openSqliteStore({ file, busyTimeoutMs: 5000 });
    const b = await openSqliteStore({ file, busyTimeoutMs: 5000 });
    try {
      await a.enqueueJobs(Array.from({ length: 200 }, (_, i) => ({ id: `j${i}`, scenario: 'S', params: { i } })));
      const claimed: string[] = [];
      const claimer = async (store: typeof a, worker: string) => {
        for (;;) {
          const jobs = await store.claimJobs(worker, 7, 60_000);
          if (jobs.length === 0) return;
          claimed.push(...jobs.map((j) => j.id));
        }
      };
      await Promise.all([claimer(a, 'a1'), claimer(b, 'b1'), claimer(a, 'a2'), claimer(b, 'b2')]);
      assert.equal(claimed.length, 200);
      assert.equal(new Set(claimed).size, 200);
    } finally {
      await a.close();
      await b.close();
      await cleanup();
    }
  });
});

describe('SqliteStore: crash safety', () => {
  it('keeps every request whose append resolved before the process was killed with SIGKILL', T, async () => {
    const { dir, cleanup } = await tempDir();
    const file = join(dir, 'crash.db');
    const child = fileURLToPath(new URL('./crash.child.js', import.meta.url));
    try {
      const proc = spawn(process.execPath, [child, file], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<NodeJS.Signals | number | null>((resolve) => proc.on('exit', (code, signal) => resolve(signal ?? code)));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`child printed too little: ${out.length} bytes; stderr: ${err}`)), 20_000);
        proc.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.split('\n').length > 3000) {
            clearTimeout(timer);
            proc.kill('SIGKILL');
            resolve();
          }
        });
        proc.on('exit', () => reject(new Error(`child exited early: ${err}`)));
      });
      assert.equal(await exited, 'SIGKILL');
      // A line cut off by the kill is not a promise the child saw resolve.
      const lines = out.split('\n').slice(0, -1).map((l) => l.split(' '));
      assert.ok(lines.length >= 3000);
      const store = await openSqliteStore({ file });
      try {
        const counts = await store.counts();
        assert.ok(counts.inbox.total >= lines.length, `${counts.inbox.total} stored, ${lines.length} acknowledged`);
        for (const [inboxId, jobId, i] of lines) {
          const e = await store.getInboxEntry(Number(inboxId));
          assert.equal(e?.path, `/hook/bpium?i=${i}`, `acknowledged request ${i} is in the database`);
          assert.deepEqual((await store.getJob(jobId!))?.params, { i: Number(i) });
        }
      } finally {
        await store.close();
      }
    } finally {
      await cleanup();
    }
  });
});
