// A job stored by a request while a worker has room goes straight to that worker, already claimed: it runs without a
// claim, once, and its row says who ran it. With older jobs waiting, new ones queue behind them instead.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary, randomIds, systemClock } from '../../engine/index.js';
import { createWorkerPool } from '../../server/delivery/pool.js';
import { deliveryStoreOf, type DeliveryStore } from '../../server/delivery/store-link.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { StoreUnavailableError, StoreUsageError } from '../../server/store/store.errors.js';
import { tempDir } from '../helpers.js';

const ECHO = `start: rv
blocks:
  rv:
    kind: ReturnValue
    values: { 1: '"done"' }
`;

// One effect (an async start), so an attempt's journal look-ups can be counted.
const STARTER = `start: go
blocks:
  go:
    kind: AsyncScenario
    scenario: Echo
    exits: { next: rv }
  rv:
    kind: ReturnValue
    values: { 1: '"started"' }
`;

const inbox = (n: number) => ({ receivedAt: Date.now(), method: 'POST', path: '/hook', headers: '', body: Buffer.from(`{"n":${n}}`), signature: 'absent' as const, dedupKey: null });

async function setUp(over: { concurrency?: number; inFlight?: () => number; completeJob?: DeliveryStore['completeJob']; claimAnswered?: Promise<void>; logged?: string[]; lookUps?: string[]; pollMs?: number; leaseMs?: number; releaseOnStop?: boolean; releaseJobs?: DeliveryStore['releaseJobs'] } = {}) {
  const t = tempDir();
  writeFileSync(join(t.dir, 'Echo.yaml'), ECHO);
  writeFileSync(join(t.dir, 'Starter.yaml'), STARTER);
  const lib = await loadScenarioLibrary(t.dir, { registry: defaultRegistry });
  assert.deepEqual(lib.issues, []);
  const store = await openSqliteStore({ file: join(t.dir, 'q.db') });
  const claims: number[] = [];
  const real = deliveryStoreOf(store);
  // The real store, with its claims counted.
  const counted: DeliveryStore = {
    ...real,
    claimJobs: async (...a) => {
      const got = await real.claimJobs(...a);
      claims.push(got.length);
      // The store has claimed the jobs; its answer reaches the pool when the test lets it.
      if (over.claimAnswered) await over.claimAnswered;
      return got;
    },
    ...(over.completeJob ? { completeJob: over.completeJob } : {}),
    ...(over.releaseJobs ? { releaseJobs: over.releaseJobs } : {}),
    getEffect: async (...a) => {
      over.lookUps?.push(a[0]);
      return real.getEffect(...a);
    },
  };
  const finished: string[] = [];
  const pool = createWorkerPool({
    store: counted,
    host: { library: () => lib, libraryWithVersion: () => lib },
    ports: { clock: systemClock, ids: randomIds },
    concurrency: over.concurrency ?? 2,
    ...(over.inFlight ? { inFlight: over.inFlight } : {}),
    timeZone: 'UTC',
    pollMs: over.pollMs ?? 60_000,
    ...(over.leaseMs ? { leaseMs: over.leaseMs } : {}),
    ...(over.releaseOnStop ? { releaseOnStop: true } : {}),
    onAttempt: (job, r, outcome) => finished.push(`${job.id}:${outcome}${r.error ? ` ${r.error.message}` : ''}`),
    ...(over.logged ? { logger: logLines(over.logged) } : {}),
  });
  return {
    store, pool, claims, finished,
    async done() {
      await pool.stop(1000);
      await store.close();
      t.cleanup();
    },
  };
}

/** A logger that keeps `level message` lines. */
const logLines = (lines: string[]) => {
  const at = (level: string) => (_fields: unknown, msg?: string) => void lines.push(`${level} ${msg ?? ''}`);
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
};

const until = async (what: string, ok: () => boolean, ms = 2000) => {
  for (let i = 0; i < ms / 10 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(ok(), what);
};

describe('hand-off of new jobs to a worker with room', () => {
  it('runs a job stored under the worker’s lease without claiming it', async () => {
    const s = await setUp();
    try {
      s.pool.start();
      await until('the first look at the queue', () => s.claims.length === 1);
      assert.deepEqual(s.claims, [0], 'the queue was empty: no backlog any more');
      const reservation = s.pool.reserve!(1);
      assert.ok(reservation, 'room for one job');
      const stored = await s.store.recordRequest({ inbox: inbox(1), jobs: [{ scenario: 'Echo', params: { 1: 'x' } }], lease: reservation.lease });
      assert.equal(stored.duplicate, false);
      const leased = !stored.duplicate ? stored.leased ?? [] : [];
      assert.equal(leased.length, 1);
      assert.equal(leased[0]!.status, 'running');
      assert.equal(leased[0]!.attempts, 1, 'the hand-off counts as the first attempt');
      assert.deepEqual(leased[0]!.params, { 1: 'x' });
      const handed = await s.store.getJob(leased[0]!.id);
      assert.ok(handed?.claimedAt && handed.claimedAt === leased[0]!.claimedAt && handed.claimedAt === handed.createdAt, 'the hand-off is the claim of its first attempt');
      reservation.take(leased);
      await until('the job ran', () => s.finished.length === 1);
      assert.deepEqual(s.finished, [`${leased[0]!.id}:succeeded`]);
      assert.deepEqual(s.claims, [0], 'no claim was made for it');
      const row = await s.store.getJob(leased[0]!.id);
      assert.equal(row?.status, 'succeeded');
      assert.equal(row?.attempts, 1);
      assert.equal(row?.claimedAt, null, 'a job out of running has no claim (review F8)');
    } finally {
      await s.done();
    }
  });

  it('refuses a hand-off while jobs may wait in the queue, and when full', async () => {
    const s = await setUp();
    try {
      assert.equal(s.pool.reserve!(1), undefined, 'not started: the queue has not been looked at');
      s.pool.start();
      await until('the first look at the queue', () => s.claims.length === 1);
      const a = s.pool.reserve!(2);
      assert.ok(a);
      assert.equal(s.pool.reserve!(1), undefined, 'two of two slots are promised');
      a.take([]);
      const b = s.pool.reserve!(1);
      assert.ok(b, 'released: room again');
      b.take([]);
      await s.store.enqueueJobs([{ scenario: 'Echo', params: {} }]);
      s.pool.wake();
      assert.equal(s.pool.reserve!(1), undefined, 'something was queued: new jobs go behind it');
      await until('the queued job ran', () => s.finished.length === 1);
      await until('a claim came back short', () => s.claims.at(-1) === 0 || s.claims.includes(1));
    } finally {
      await s.done();
    }
  });

  it('during a burst of requests one claim takes a batch, and the jobs beyond the two that run wait in memory', async () => {
    const s = await setUp({ concurrency: 32, inFlight: () => 10 });
    try {
      await s.store.enqueueJobs(Array.from({ length: 10 }, (_, i) => ({ scenario: 'Echo', params: { 1: String(i) } })));
      s.pool.start();
      await until('all ten ran', () => s.finished.length === 10);
      assert.ok(s.finished.every((f) => f.endsWith(':succeeded')), s.finished.join(', '));
      assert.deepEqual(s.claims.filter((n) => n > 0), [10], 'one claim for the ten, not one per free slot');
    } finally {
      await s.done();
    }
  });

  it('a stopping pool gives the jobs it claimed ahead back to the queue, their attempt not counted', async () => {
    let finish!: () => void;
    const held = new Promise<void>((r) => (finish = r));
    let store!: Awaited<ReturnType<typeof setUp>>['store'];
    // The outcome of the first jobs waits until the test lets it through: two slots stay busy meanwhile.
    const s = await setUp({ concurrency: 32, inFlight: () => 10, completeJob: async (...a) => (await held, store.completeJob(...a)) });
    store = s.store;
    try {
      const ids = await s.store.enqueueJobs(Array.from({ length: 6 }, (_, i) => ({ scenario: 'Echo', params: { 1: String(i) } })));
      s.pool.start();
      await until('one claim of all six', () => s.claims.includes(6));
      const stopped = s.pool.stop(2000);
      await new Promise((r) => setTimeout(r, 50));
      finish();
      await stopped;
      const jobs = await Promise.all(ids.map((id) => s.store.getJob(id)));
      const byStatus = (st: string) => jobs.filter((j) => j?.status === st);
      assert.equal(byStatus('succeeded').length, 2, 'the two that ran finished');
      assert.equal(byStatus('queued').length, 4, 'the four claimed ahead are queued again');
      assert.ok(byStatus('queued').every((j) => j!.attempts === 0 && j!.leaseOwner === null));
    } finally {
      finish();
      await s.done();
    }
  });

  it('a stop waits for a claim still in flight and gives its jobs back to the queue before it ends', async () => {
    let answer!: () => void;
    const claimAnswered = new Promise<void>((r) => (answer = r));
    const s = await setUp({ claimAnswered, pollMs: 50 });
    try {
      const [id] = await s.store.enqueueJobs([{ scenario: 'Echo', params: {} }]);
      s.pool.start();
      await until('the store claimed the job', () => s.claims.includes(1));
      assert.equal((await s.store.getJob(id!))?.status, 'running', 'claimed in the store, the answer held back');
      const stopped = s.pool.stop(2000);
      setTimeout(answer, 50);
      const report = await stopped;
      // Read as soon as the stop ends, before anything else runs: the server closes the store right after it.
      const job = await s.store.getJob(id!);
      assert.equal(job?.status, 'queued', 'the claimed job is back in the queue when the stop ends');
      assert.equal(job?.attempts, 0, 'its attempt is not counted');
      assert.equal(job?.leaseOwner, null);
      assert.deepEqual(s.finished, [], 'the job did not run');
      assert.deepEqual(report, { unfinished: 0, unrecorded: [], leased: 0 });
    } finally {
      answer();
      await s.done();
    }
  });

  it('a stop while the store does not answer the end of an attempt: the end is reported unrecorded with its effect, and the stop ends without the give-back', { timeout: 30_000 }, async () => {
    // A store that hangs (PostgreSQL behind a network partition): neither the outcome nor the give-back is ever answered.
    const logged: string[] = [];
    let ends = 0;
    // One worker: the async job the attempt starts waits in the queue, out of the way.
    const givenBack: string[] = [];
    const s = await setUp({ concurrency: 1, logged, releaseOnStop: true, completeJob: () => (ends++, new Promise(() => undefined)), releaseJobs: (ids: readonly string[]) => (givenBack.push(...ids), new Promise(() => undefined)) });
    try {
      const [id] = await s.store.enqueueJobs([{ scenario: 'Starter', params: {} }]);
      s.pool.start();
      await until('the end of the attempt sent to the store', () => ends === 1, 10_000);
      // The test's timeout is the bound: the stop must return at all.
      const report = await s.pool.stop(300);
      // Ended, its end (with the journal entries of its effect) still on its way: not given back, so no other process
      // can claim the job before that end arrives; it keeps its lease, reported as an unrecorded end, not as running.
      assert.deepEqual(report, { unfinished: 1, unrecorded: [{ jobId: id, effects: 1, letters: 0 }], leased: 0 }, 'ended, its end unrecorded: not a job still running');
      assert.deepEqual(givenBack, [], 'an attempt that ended is not given back');
      assert.ok(!logged.some((l) => l.includes('give-back')), logged.join('\n'));
    } finally {
      await s.done();
    }
  });

  it('writes an attempt’s outcome again when the store refuses it once', async () => {
    let refusals = 0;
    let store!: Awaited<ReturnType<typeof setUp>>['store'];
    const s = await setUp({
      completeJob: async (...a) => {
        if (refusals++ === 0) throw new Error('database is locked (fault injected by the test)');
        return store.completeJob(...a);
      },
    });
    store = s.store;
    try {
      const [id] = await s.store.enqueueJobs([{ scenario: 'Echo', params: {} }]);
      s.pool.start();
      await until('the job ended', () => s.finished.length === 1);
      assert.deepEqual(s.finished, [`${id}:succeeded`]);
      assert.equal((await s.store.getJob(id!))?.status, 'succeeded');
      assert.equal(refusals, 2);
    } finally {
      await s.done();
    }
  });

  it('keeps writing an attempt’s outcome while the store refuses it for longer than the first retries, instead of running the job again', { timeout: 60_000 }, async () => {
    // A disk that filled up (or a quota reached) for a while: the attempt already made its effects (a letter). Given
    // up on after about 5 s, the job ran again once its lease expired, and the letter went out twice.
    const logged: string[] = [];
    let refuseUntil = Infinity;
    let store!: Awaited<ReturnType<typeof setUp>>['store'];
    const s = await setUp({
      pollMs: 50,
      leaseMs: 3000,
      logged,
      completeJob: async (...a) => {
        if (Date.now() < refuseUntil) throw new StoreUnavailableError('full', 'database or disk is full (fault injected by the test)', 30);
        return store.completeJob(...a);
      },
    });
    store = s.store;
    try {
      const [id] = await s.store.enqueueJobs([{ scenario: 'Echo', params: {} }]);
      // Refused past the first retries and past the lease: the heartbeat keeps the lease, so nobody takes the job.
      refuseUntil = Date.now() + 9000;
      s.pool.start();
      await until('the job ended', () => s.finished.some((f) => f.endsWith(':succeeded')), 30_000);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(s.finished, [`${id}:succeeded`], 'one attempt: the job was not run a second time');
      const job = await s.store.getJob(id!);
      assert.equal(job?.status, 'succeeded');
      assert.equal(job?.attempts, 1);
      assert.ok(logged.includes('warn the end of the job is recorded after all: what its attempt did is not repeated'), logged.join('\n'));
    } finally {
      await s.done();
    }
  });

  it('gives up writing an outcome the store refuses for another reason than an outage (after the first retries), instead of holding the worker for ever', { timeout: 30_000 }, async () => {
    const logged: string[] = [];
    let refusals = 0;
    const s = await setUp({
      logged,
      completeJob: async () => {
        refusals++;
        throw new StoreUsageError('run trace is not JSON-serialisable (fault injected by the test)');
      },
    });
    try {
      const [id] = await s.store.enqueueJobs([{ scenario: 'Echo', params: {} }]);
      s.pool.start();
      await until('the attempt given up', () => s.finished.length === 1, 15_000);
      assert.deepEqual(s.finished, [`${id}:store-error`]);
      assert.equal(refusals, 5, 'the first retries only, not one every 5 s for ever');
      assert.ok(logged.includes('error cannot record the end of a job; it runs again at the next start or when its lease expires, and may repeat what this attempt did'), logged.join('\n'));
    } finally {
      await s.done();
    }
  });

  it('an attempt that finds its lease lost at the end says so as a warning: another worker may repeat it', async () => {
    const logged: string[] = [];
    const s = await setUp({ completeJob: async () => ({ accepted: false }), logged });
    try {
      s.pool.start();
      await s.store.enqueueJobs([{ id: 'taken', scenario: 'Echo', params: {} }]);
      s.pool.wake();
      await until('the attempt ended', () => s.finished.length === 1);
      assert.deepEqual(s.finished, ['taken:lease-lost']);
      assert.ok(logged.includes('warn run Echo completed but its lease had expired: another worker took the job over, and may repeat what this attempt did'), logged.join('\n'));
    } finally {
      await s.done();
    }
  });

  it('a first attempt skips the journal, unless the job has an error on record (an attempt cut by a stop)', async () => {
    const lookUps: string[] = [];
    const s = await setUp({ lookUps });
    try {
      s.pool.start();
      await s.store.enqueueJobs([{ id: 'fresh', scenario: 'Starter', params: {} }]);
      s.pool.wake();
      await until('the fresh job ran', () => s.finished.some((f) => f.startsWith('fresh:')));
      assert.deepEqual(lookUps, [], 'nothing can be journaled before a first attempt');
      // As a graceful stop leaves it: claimed once, given back uncounted, with why.
      await s.store.enqueueJobs([{ id: 'cut', scenario: 'Starter', params: {}, runAt: Date.now() + 60_000 }]);
      assert.deepEqual(await s.store.claimJobs('old', 1, 60_000), []);
      const db = (s.store as unknown as { db: { prepare(sql: string): { run(...a: unknown[]): unknown } } }).db;
      db.prepare(`UPDATE jobs SET status = 'running', attempts = 1, lease_owner = 'old', lease_expires_at = ? WHERE id = 'cut'`).run(Date.now() + 60_000);
      assert.deepEqual(await s.store.releaseJobs(['cut'], 'old', { code: 'STOPPED', message: 'cut' }), ['cut']);
      db.prepare(`UPDATE jobs SET next_run_at = 0 WHERE id = 'cut'`).run();
      s.pool.wake();
      await until('the cut job ran again', () => s.finished.some((f) => f.startsWith('cut:')));
      assert.ok((lookUps as string[]).includes('cut'), 'its journal was consulted');
    } finally {
      await s.done();
    }
  });
});

