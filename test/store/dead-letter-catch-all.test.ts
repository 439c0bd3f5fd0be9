// The dead-letter catch-all, on both stores (SQLite in a real file, PostgreSQL in a schema of its own when one is
// reachable): the store that gives a job up (dead, or failed for good) enqueues the configured scenario in the same
// transaction, with numbered input parameters telling what died; a job of the catch-all's own line starts none (no
// loop); a replay that succeeds, an operator's cancel and a store with no catch-all start none. On PostgreSQL, two
// instances finding the same expired lease start it once.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openPostgresStore } from '../../server/store/postgres.store.js';
import type { BackoffPolicy } from '../../server/store/backoff.js';
import type { JobRecord, Store } from '../../server/store/store.port.js';
import { ManualClock } from './store.contract.js';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from './postgres.helper.js';
import { storeKinds } from './store-kinds.helper.js';

const BACKOFF: BackoffPolicy = { initialMs: 1000, factor: 2, maxMs: 60_000, jitter: 0 };
const T = { timeout: 30_000 };
const CATCH_ALL = { scenario: 'DeadLetter' };
const dir = mkdtempSync(join(tmpdir(), 'oktell-catch-all-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function catchAllsOf(store: Store, deadId: string): Promise<JobRecord[]> {
  const all = (await store.listJobs({ scenario: 'DeadLetter', limit: 1000 })).items;
  return all.filter((j) => (j.trigger as { deadLetterOf?: string } | null)?.deadLetterOf === deadId);
}

/** Claims the one due job and fails its attempt as retryable until the store gives it up. */
async function failUntilGivenUp(store: Store, clock: ManualClock, id: string, error: unknown, retryable: boolean | 'dead-letter' = true) {
  for (;;) {
    // Other due jobs (a catch-all queued meanwhile) are given back unstarted.
    const claimed = await store.claimJobs('w1', 50, 30_000);
    const job = claimed.find((j) => j.id === id);
    await store.releaseJobs(claimed.filter((j) => j.id !== id).map((j) => j.id), 'w1');
    assert.ok(job, 'the job is claimed again');
    const runId = `run-${id}-${job!.attempts}`;
    const r = await store.failJob(id, 'w1', { retryable, error, run: { id: runId, jobId: id, scenario: job!.scenario, version: 'v1', trigger: 'webapi', status: 'failed', attempt: job!.attempts, startedAt: clock.now(), finishedAt: clock.now(), error } });
    assert.equal(r.accepted, true);
    if (r.accepted && r.status !== 'queued') return { result: r, lastRunId: runId };
    clock.advance(60_000);
  }
}

for (const kind of await storeKinds('catchall')) {
  describe(`the dead-letter catch-all (${kind.name})`, { ...(kind.skip ? { skip: kind.skip } : {}) }, () => {
    const open = async (withCatchAll = true) => {
      const clock = new ManualClock();
      const s = await kind.open(mkdtempSync(join(dir, 's-')), { clock, backoff: BACKOFF, defaultMaxAttempts: 3, ...(withCatchAll ? { catchAll: CATCH_ALL } : {}) });
      return { ...s, clock };
    };

    it('a job retried until dead starts the catch-all once, in the same write, with the numbered parameters', T, async () => {
      const { store, drop, clock } = await open();
      try {
        const [id] = await store.enqueueJobs([{ scenario: 'ShopOrder', params: { '1': 'order 42', '2': 7 }, trigger: { webapi: '/execsvcscript' } }]);
        const error = { code: 'R_TRANSIENT', message: 'smtp 451 try later', retryable: true };
        const { result, lastRunId } = await failUntilGivenUp(store, clock, id!, error);
        assert.equal(result.status, 'dead');
        const catchAllId = (result as { catchAllJob?: string }).catchAllJob;
        assert.ok(catchAllId, 'failJob names the catch-all job');
        const alls = await catchAllsOf(store, id!);
        assert.deepEqual(alls.map((j) => j.id), [catchAllId], 'exactly one catch-all job');
        const c = alls[0]!;
        assert.equal(c.status, 'queued');
        assert.equal(c.scenario, 'DeadLetter');
        assert.deepEqual(c.params, {
          '1': id,
          '2': 'ShopOrder',
          '3': 'R_TRANSIENT: smtp 451 try later',
          '4': 3,
          '5': JSON.stringify({ '1': 'order 42', '2': 7 }),
          '6': new Date(clock.now()).toISOString(),
          '7': 'dead',
          '8': lastRunId,
        });
        const dead = (await store.getJob(id!))!;
        assert.equal(dead.status, 'dead');
        assert.deepEqual(dead.lastError, { ...error, catchAllJob: catchAllId }, 'its last error names the catch-all (for show)');
      } finally {
        await store.close();
        await drop();
      }
    });

    it('a job failed for good starts it too (status failed), and so does one made dead at once (dead-letter)', T, async () => {
      const { store, drop, clock } = await open();
      try {
        const [a, b] = await store.enqueueJobs([{ scenario: 'A', params: {} }, { scenario: 'B', params: {} }]);
        const failed = await failUntilGivenUp(store, clock, a!, { code: 'R_SCENARIO', message: 'bad' }, false);
        assert.equal(failed.result.status, 'failed');
        assert.equal((await catchAllsOf(store, a!))[0]?.params && ((await catchAllsOf(store, a!))[0]!.params as Record<string, unknown>)['7'], 'failed');
        const dead = await failUntilGivenUp(store, clock, b!, { code: 'R_EFFECT_UNKNOWN', message: 'no reply to the end of the letter' }, 'dead-letter');
        assert.equal(dead.result.status, 'dead');
        const [c] = await catchAllsOf(store, b!);
        assert.equal((c!.params as Record<string, unknown>)['4'], 1, 'dead at its first attempt');
      } finally {
        await store.close();
        await drop();
      }
    });

    it('parameter 5 masks the parameters that carry a secret and is cut, as a run record keeps a parameter (not a second copy of a big body)', T, async () => {
      const { store, drop, clock } = await open();
      try {
        const body = `{"order":"${'x'.repeat(1_000_000)}"}`;
        // As an AsyncScenario start stores a secret passed on as parameter 2 (starters.ts, CARRIES_SECRET).
        const [id] = await store.enqueueJobs([{ scenario: 'Forward', params: { '1': body, '2': 'Bearer s3cr3t-token' }, variables: { '[carries a secret]': { params: ['2'], variables: [] } } }]);
        await failUntilGivenUp(store, clock, id!, { code: 'R_SCENARIO', message: `refused: ${'y'.repeat(100_000)}` }, false);
        const [c] = await catchAllsOf(store, id!);
        const p = c!.params as Record<string, string>;
        assert.ok(!p['5']!.includes('s3cr3t'), 'the secret is not copied into the catch-all job');
        assert.ok(p['5']!.startsWith(`{"1":"{\\"order\\":\\"xxx`), p['5']!.slice(0, 40));
        assert.ok(p['5']!.length < 4200, `parameter 5 is ${p['5']!.length} characters`);
        assert.match(p['5']!, new RegExp(`\\[cut: ${JSON.stringify({ '1': body, '2': '***' }).length} characters in all\\]$`));
        assert.ok(p['3']!.length < 4200, `parameter 3 is ${p['3']!.length} characters`);
        assert.ok(p['3']!.startsWith('R_SCENARIO: refused: yyy'));
        // The dead job keeps its whole parameters, for a replay.
        assert.deepEqual((await store.getJob(id!))!.params, { '1': body, '2': 'Bearer s3cr3t-token' });
      } finally {
        await store.close();
        await drop();
      }
    });

    it('the catch-all given up on itself, or a job it started, starts no other (no loop)', T, async () => {
      const { store, drop, clock } = await open();
      try {
        const [id] = await store.enqueueJobs([{ scenario: 'ShopOrder', params: {} }]);
        const first = await failUntilGivenUp(store, clock, id!, { code: 'R_TRANSIENT', message: 'down' });
        const catchAllId = (first.result as { catchAllJob?: string }).catchAllJob!;
        const own = await failUntilGivenUp(store, clock, catchAllId, { code: 'R_TRANSIENT', message: 'the admin mail server is down too' });
        assert.equal(own.result.status, 'dead');
        assert.equal((own.result as { catchAllSkipped?: true }).catchAllSkipped, true);
        assert.equal((own.result as { catchAllJob?: string }).catchAllJob, undefined);
        assert.deepEqual(await catchAllsOf(store, catchAllId), [], 'no catch-all for the catch-all');
        // A job the catch-all's run started (AsyncScenario) carries catchAllLine, and starts none either.
        const [child] = await store.enqueueJobs([{ scenario: 'Pager', params: {}, trigger: { parentJob: catchAllId, catchAllLine: true } }]);
        const childEnd = await failUntilGivenUp(store, clock, child!, { code: 'R_TRANSIENT', message: 'pager down' });
        assert.equal((childEnd.result as { catchAllSkipped?: true }).catchAllSkipped, true);
        assert.deepEqual((await store.listJobs({ scenario: 'DeadLetter', limit: 100 })).items.map((j) => j.id), [catchAllId], 'one catch-all in all');
      } finally {
        await store.close();
        await drop();
      }
    });

    it('a replay of the dead job that succeeds starts no second catch-all; a cancel starts none', T, async () => {
      const { store, drop, clock } = await open();
      try {
        const [id, waiting] = await store.enqueueJobs([{ scenario: 'ShopOrder', params: {} }, { scenario: 'Later', params: {}, runAt: clock.now() + 3_600_000 }]);
        await failUntilGivenUp(store, clock, id!, { code: 'R_TRANSIENT', message: 'down' });
        assert.equal((await catchAllsOf(store, id!)).length, 1);
        assert.deepEqual(await store.requeue({ ids: [id!] }), [id]);
        const claimed = await store.claimJobs('w1', 10, 30_000);
        const replay = claimed.find((j) => j.id === id);
        assert.ok(replay, 'the replay is claimed');
        assert.deepEqual(await store.completeJob(id!, 'w1', {}), { accepted: true });
        assert.equal((await store.getJob(id!))?.status, 'succeeded');
        assert.equal((await catchAllsOf(store, id!)).length, 1, 'still the one catch-all of its death');
        assert.deepEqual(await store.cancelJobs({ ids: [waiting!] }, { code: 'R_CANCELLED', message: 'cancelled by an operator' }), [waiting]);
        assert.deepEqual(await catchAllsOf(store, waiting!), [], 'an operator cancelled it: nobody needs telling');
      } finally {
        await store.close();
        await drop();
      }
    });

    it('a job whose lease expired at its last attempt is buried with its catch-all, by the claim that finds it', T, async () => {
      const { store, drop, clock } = await open();
      try {
        const [id] = await store.enqueueJobs([{ scenario: 'ShopOrder', params: { '1': 'x' }, maxAttempts: 1 }]);
        const [job] = await store.claimJobs('gone', 1, 10_000);
        assert.equal(job?.id, id);
        clock.advance(20_000);
        await store.claimJobs('w2', 5, 10_000);
        assert.equal((await store.getJob(id!))?.status, 'dead');
        const [c] = await catchAllsOf(store, id!);
        assert.ok(c, 'the catch-all is queued');
        const p = c.params as Record<string, unknown>;
        assert.equal(p['3'], 'LEASE_EXPIRED: the worker stopped renewing its lease during the last attempt');
        assert.equal(p['8'], (await store.getJob(id!))?.lastRunId, 'the lost attempt recorded is its last run');
        assert.equal(((await store.getJob(id!))?.lastError as { catchAllJob?: string }).catchAllJob, c.id);
      } finally {
        await store.close();
        await drop();
      }
    });

    it('a job a stopped process left running at its last attempt is buried by recoverOrphans with its catch-all', T, async () => {
      const { store, drop } = await open();
      try {
        const [id] = await store.enqueueJobs([{ scenario: 'ShopOrder', params: {}, maxAttempts: 1 }]);
        await store.claimJobs('previous-process', 1, 60_000);
        const r = await store.recoverOrphans();
        assert.equal(r.dead, 1);
        const [c] = await catchAllsOf(store, id!);
        assert.equal((c?.params as Record<string, unknown>)['3'], 'PROCESS_STOPPED: the server stopped during this attempt');
        assert.equal(((await store.getJob(id!))?.lastError as { catchAllJob?: string }).catchAllJob, c!.id);
      } finally {
        await store.close();
        await drop();
      }
    });

    it('a store given no catch-all enqueues nothing when a job dies', T, async () => {
      const { store, drop, clock } = await open(false);
      try {
        const [id] = await store.enqueueJobs([{ scenario: 'ShopOrder', params: {} }]);
        const { result } = await failUntilGivenUp(store, clock, id!, { code: 'R_TRANSIENT', message: 'down' });
        assert.equal(result.status, 'dead');
        assert.equal((result as { catchAllJob?: string }).catchAllJob, undefined);
        assert.deepEqual((await store.listJobs({ limit: 100 })).items.map((j) => j.id), [id]);
      } finally {
        await store.close();
        await drop();
      }
    });
  });
}

const pg = await testPostgres();
describe('the dead-letter catch-all on one PostgreSQL schema shared by two instances', { ...(pg.skip ? { skip: pg.skip } : {}) }, () => {
  it('both claiming the same expired last attempt at once: one buries it, one catch-all in all', T, async () => {
    const schema = randomSchemaName('catchall2');
    const url = urlWithSchema(pg.url!, schema);
    const clock = new ManualClock();
    const options = { url, clock, backoff: BACKOFF, defaultMaxAttempts: 1, poolSize: 4, catchAll: CATCH_ALL };
    const a = await openPostgresStore(options);
    const b = await openPostgresStore(options);
    try {
      const ids = await a.enqueueJobs(Array.from({ length: 20 }, (_, i) => ({ scenario: 'ShopOrder', params: { '1': i } })));
      assert.equal((await a.claimJobs('gone', 20, 10_000)).length, 20);
      clock.advance(20_000);
      await Promise.all([a.claimJobs('a', 5, 10_000), b.claimJobs('b', 5, 10_000), a.claimJobs('a', 5, 10_000), b.claimJobs('b', 5, 10_000)]);
      for (const id of ids) assert.equal((await a.getJob(id))?.status, 'dead');
      const alls = (await a.listJobs({ scenario: 'DeadLetter', limit: 1000 })).items;
      const told = alls.map((j) => (j.trigger as { deadLetterOf: string }).deadLetterOf).sort();
      assert.deepEqual(told, [...ids].sort(), 'each dead job told of exactly once');
    } finally {
      await a.close();
      await b.close();
      await dropSchema(pg.url!, schema);
    }
  });
});
