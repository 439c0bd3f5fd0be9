// The dead-letter catch-all's own attempt budget, its on/off switch asked at each giving up, and what the store tells
// its caller of the catch-alls it starts on the paths that bury a job by themselves (an expired lease, recovery at the
// start), on both stores: SQLite in a real file, PostgreSQL in a schema of its own when one is reachable.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { BackoffPolicy } from '../../server/store/backoff.js';
import type { BuriedJob, DeadLetterCatchAll } from '../../server/store/dead-letter.js';
import type { FailJobResult, Store } from '../../server/store/store.port.js';
import { ManualClock } from './store.contract.js';
import { storeKinds } from './store-kinds.helper.js';

const BACKOFF: BackoffPolicy = { initialMs: 1000, factor: 2, maxMs: 60_000, jitter: 0 };
const T = { timeout: 30_000 };
const dir = mkdtempSync(join(tmpdir(), 'oktell-catch-all-budget-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Claims the job and fails its attempt as retryable until the store gives it up; the attempts it took. */
async function failUntilGivenUp(store: Store, clock: ManualClock, id: string): Promise<{ result: FailJobResult; attempts: number }> {
  for (let attempts = 1; ; attempts++) {
    const claimed = await store.claimJobs('w1', 50, 30_000);
    await store.releaseJobs(claimed.filter((j) => j.id !== id).map((j) => j.id), 'w1');
    assert.ok(claimed.some((j) => j.id === id), 'the job is claimed again');
    const r = await store.failJob(id, 'w1', { retryable: true, error: { code: 'R_TRANSIENT', message: 'smtp down' } });
    assert.equal(r.accepted, true);
    if (r.accepted && r.status !== 'queued') return { result: r, attempts };
    clock.advance(120_000);
  }
}

const catchAllOf = (r: FailJobResult) => (r as { catchAllJob?: string }).catchAllJob;

for (const kind of await storeKinds('cabudget')) {
  describe(`the dead-letter catch-all's budget and switch (${kind.name})`, { ...(kind.skip ? { skip: kind.skip } : {}) }, () => {
    const open = async (catchAll: DeadLetterCatchAll) => {
      const clock = new ManualClock();
      const s = await kind.open(mkdtempSync(join(dir, 's-')), { clock, backoff: BACKOFF, defaultMaxAttempts: 6, catchAll });
      return { ...s, clock };
    };

    it('the catch-all job gets its own attempts (maxAttempts), and is given up on after them, not after a job\'s', T, async () => {
      const { store, drop, clock } = await open({ scenario: 'DeadLetter', maxAttempts: 2 });
      try {
        const [id] = await store.enqueueJobs([{ scenario: 'ShopOrder', params: {} }]);
        const dead = await failUntilGivenUp(store, clock, id!);
        assert.equal(dead.attempts, 6, 'an ordinary job keeps the store default');
        const catchAllId = catchAllOf(dead.result)!;
        assert.equal((await store.getJob(catchAllId))?.maxAttempts, 2, 'stored with the catch-all its own budget');
        const own = await failUntilGivenUp(store, clock, catchAllId);
        assert.equal(own.attempts, 2);
        assert.equal(own.result.accepted && own.result.status, 'dead');
        // Its replay keeps the budget: a catch-all replayed while the alert path is still broken is dead as soon.
        assert.deepEqual(await store.requeue({ ids: [catchAllId] }), [catchAllId]);
        assert.equal((await store.getJob(catchAllId))?.maxAttempts, 2);
      } finally {
        await store.close();
        await drop();
      }
    });

    it('the switch is asked at each giving up: off starts none and skips none, on again starts one', T, async () => {
      let on = false;
      const { store, drop, clock } = await open({ scenario: 'DeadLetter', maxAttempts: 2, on: () => on });
      try {
        const [a, b] = await store.enqueueJobs([{ scenario: 'A', params: {}, maxAttempts: 1 }, { scenario: 'B', params: {}, maxAttempts: 1 }]);
        const first = await failUntilGivenUp(store, clock, a!);
        assert.equal(catchAllOf(first.result), undefined);
        assert.equal((first.result as { catchAllSkipped?: true }).catchAllSkipped, undefined, 'off is not a skip of the catch-all line');
        on = true;
        const second = await failUntilGivenUp(store, clock, b!);
        assert.ok(catchAllOf(second.result), 'on: the catch-all is queued');
        assert.deepEqual((await store.listJobs({ scenario: 'DeadLetter', limit: 10 })).items.map((j) => j.id), [catchAllOf(second.result)]);
      } finally {
        await store.close();
        await drop();
      }
    });

    it('a claim that buries an expired last attempt tells onBuried, after its commit, of the catch-all it queued', T, async () => {
      const told: BuriedJob[][] = [];
      const { store, drop, clock } = await open({ scenario: 'DeadLetter', maxAttempts: 1, onBuried: (jobs) => told.push(jobs) });
      try {
        const [id] = await store.enqueueJobs([{ scenario: 'ShopOrder', params: {}, maxAttempts: 1 }]);
        assert.equal((await store.claimJobs('gone', 1, 10_000))[0]?.id, id);
        clock.advance(20_000);
        const claimed = await store.claimJobs('w2', 5, 10_000);
        assert.equal(told.length, 1);
        const [b] = told[0]!;
        assert.equal(b?.jobId, id);
        assert.equal(b?.scenario, 'ShopOrder');
        assert.ok(b?.catchAllJob);
        assert.equal((await store.getJob(b.catchAllJob))?.scenario, 'DeadLetter', 'the job named is the catch-all, committed');
        assert.deepEqual(claimed.map((j) => j.id), [b.catchAllJob], 'the claim itself answers the jobs it claimed, as before');
        // The catch-all's own lease lost at its last attempt: told as skipped.
        clock.advance(20_000);
        await store.claimJobs('w3', 5, 10_000);
        assert.deepEqual(told[1], [{ jobId: b.catchAllJob, scenario: 'DeadLetter', catchAllSkipped: true }]);
        assert.equal(told.length, 2, 'a claim that buries nothing tells nothing');
      } finally {
        await store.close();
        await drop();
      }
    });

    it('a claim whose onBuried throws still answers the jobs it claimed: they and the catch-all are committed', T, async () => {
      const { store, drop, clock } = await open({
        scenario: 'DeadLetter',
        onBuried: () => {
          throw new Error('the logger failed');
        },
      });
      try {
        const [id] = await store.enqueueJobs([{ scenario: 'ShopOrder', params: {}, maxAttempts: 1 }]);
        assert.equal((await store.claimJobs('gone', 1, 10_000))[0]?.id, id);
        clock.advance(20_000);
        const claimed = await store.claimJobs('w2', 5, 10_000);
        assert.equal((await store.getJob(id!))?.status, 'dead');
        assert.deepEqual(claimed.map((j) => [j.scenario, j.trigger]), [['DeadLetter', { deadLetterOf: id }]], 'the catch-all claimed by this worker, which will run it');
      } finally {
        await store.close();
        await drop();
      }
    });

    it('recoverOrphans answers the catch-alls it queued for jobs the stopped process left at their last attempt', T, async () => {
      const { store, drop } = await open({ scenario: 'DeadLetter' });
      try {
        const [last, more] = await store.enqueueJobs([{ scenario: 'ShopOrder', params: {}, maxAttempts: 1 }, { scenario: 'Other', params: {}, maxAttempts: 3 }]);
        await store.claimJobs('previous-process', 2, 60_000);
        const r = await store.recoverOrphans();
        assert.equal(r.dead, 1);
        assert.equal(r.requeued, 1);
        assert.equal(r.catchAlls?.length, 1);
        const [c] = r.catchAlls!;
        assert.equal(c?.jobId, last);
        assert.equal(c?.scenario, 'ShopOrder');
        assert.equal((await store.getJob(c!.catchAllJob!))?.scenario, 'DeadLetter');
        assert.ok(!r.catchAlls!.some((x) => x.jobId === more), 'a job requeued is not given up on');
      } finally {
        await store.close();
        await drop();
      }
    });
  });
}
