// The behaviour every Store must have, as a suite any implementation runs (SQLite now, PostgreSQL later).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BackoffPolicy } from '../../server/store/backoff.js';
import { StoreUnavailableError } from '../../server/store/store.errors.js';
import { inProgressRun } from '../../server/run-status.js';
import { previousAttemptCut } from '../../server/delivery/pool.js';
import type { InboxEntryInput, NewJob, RunWrite, Store } from '../../server/store/store.port.js';

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(private t = Date.UTC(2025, 0, 15, 9, 0, 0)) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** What the suite asks of the store it is given: use this clock, this backoff policy, this default of attempts. */
export interface StoreTestContext {
  clock: ManualClock;
  backoff: BackoffPolicy;
  defaultMaxAttempts: number;
  /** The zone of the instance (the store's `timeZone` option), which the runs it writes for lost attempts name. */
  timeZone: string;
}

/** The instance's zone in these tests: not the zone of any run the tests record themselves. */
const INSTANCE_ZONE = 'Asia/Yakutsk';

export interface StoreUnderTest {
  store: Store;
  cleanup(): Promise<void>;
  /** Opens the same database again after `store.close()` (for the crash-recovery case); omit if impossible. */
  reopen?(): Promise<Store>;
  /** Runs one SQL statement on the same database with a connection of its own, as another program (an older server) would. */
  rawSql(sql: string): Promise<void>;
}

const BACKOFF: BackoffPolicy = { initialMs: 1000, factor: 2, maxMs: 60_000, jitter: 0 };
const T = { timeout: 20_000 };

function inbox(over: Partial<InboxEntryInput> = {}, clock?: ManualClock): InboxEntryInput {
  return {
    receivedAt: clock?.now() ?? Date.UTC(2025, 0, 15),
    method: 'POST',
    path: '/hook/bpium?token=***',
    hookId: 'bpium',
    headers: 'content-type: application/json\nx-signature: ***',
    body: Buffer.from('{"eventType":"record.updated"}'),
    remoteAddress: '127.0.0.1',
    signature: 'valid',
    dedupKey: null,
    ...over,
  };
}

function job(over: Partial<NewJob> = {}): NewJob {
  return { scenario: 'SendLetter', params: { recordId: '42' }, variables: { who: 'x' }, ...over };
}

function run(id: string, over: Partial<RunWrite> = {}): RunWrite {
  return {
    id,
    scenario: 'Hook',
    version: 'v1hash',
    trigger: 'http',
    status: 'completed',
    startedAt: Date.UTC(2025, 0, 15, 9),
    finishedAt: Date.UTC(2025, 0, 15, 9) + 12,
    params: { a: 1 },
    returnValues: { status: 200 },
    trace: [{ step: 1, block: 'start', changed: { a: 1 } }],
    bpiumCalls: [],
    mails: [],
    ...over,
  };
}

/**
 * Registers the contract tests for one Store implementation. `makeStore` gets a fresh, empty store for each test
 * and must wire the given clock, backoff policy, default max attempts and time zone into it.
 */
export function storeContractTests(name: string, makeStore: (ctx: StoreTestContext) => Promise<StoreUnderTest>): void {
  async function withStore(fn: (store: Store, ctx: StoreTestContext, sut: StoreUnderTest) => Promise<void>): Promise<void> {
    const ctx: StoreTestContext = { clock: new ManualClock(), backoff: BACKOFF, defaultMaxAttempts: 3, timeZone: INSTANCE_ZONE };
    const sut = await makeStore(ctx);
    try {
      await fn(sut.store, ctx, sut);
    } finally {
      await sut.store.close();
      await sut.cleanup();
    }
  }

  async function enqueueOne(store: Store, over: Partial<NewJob> = {}): Promise<string> {
    const [id] = await store.enqueueJobs([job(over)]);
    return id!;
  }

  describe(`${name}: inbox`, () => {
    it('stores a request with its exact body bytes, headers, remote address and signature check', T, async () => {
      await withStore(async (store) => {
        const body = Buffer.from([0x7b, 0xff, 0x00, 0xd0, 0x9f, 0x7d]); // not valid UTF-8 on purpose
        const r = await store.recordRequest({ inbox: inbox({ body, signature: 'absent', response: { status: 200, body: 'ok' } }) });
        assert.equal(r.duplicate, false);
        const e = await store.getInboxEntry(r.inboxId);
        assert.ok(e);
        assert.deepEqual([...e.body], [...body]);
        assert.equal(e.headers, 'content-type: application/json\nx-signature: ***');
        assert.equal(e.path, '/hook/bpium?token=***');
        assert.equal(e.remoteAddress, '127.0.0.1');
        assert.equal(e.signature, 'absent');
        assert.equal(e.responseStatus, 200);
        assert.equal(e.duplicateOf, null);
      });
    });

    const dedupCases: Array<{ title: string; keys: Array<string | null>; duplicates: boolean[] }> = [
      { title: 'the same dedup key twice: the second is a duplicate', keys: ['bpium:h1:7', 'bpium:h1:7'], duplicates: [false, true] },
      { title: 'different dedup keys: no duplicates', keys: ['bpium:h1:7', 'bpium:h1:8'], duplicates: [false, false] },
      { title: 'no dedup key: never a duplicate', keys: [null, null], duplicates: [false, false] },
      { title: 'three deliveries of one key: two duplicates', keys: ['k', 'k', 'k'], duplicates: [false, true, true] },
    ];
    for (const c of dedupCases) {
      it(`recognises deliveries in order — ${c.title}`, T, async () => {
        await withStore(async (store) => {
          const results = [];
          for (const key of c.keys) results.push(await store.recordRequest({ inbox: inbox({ dedupKey: key }), jobs: [job()] }));
          assert.deepEqual(results.map((r) => r.duplicate), c.duplicates);
          const counts = await store.counts();
          assert.equal(counts.inbox.total, c.keys.length, 'every delivery is recorded, duplicates too');
          assert.equal(counts.inbox.duplicates, c.duplicates.filter(Boolean).length);
          assert.equal(counts.jobs.queued, c.duplicates.filter((d) => !d).length, 'a duplicate enqueues nothing');
        });
      });
    }

    // Sent together, two copies are stored in the same grouped commit: the unique key still makes one the original.
    it('recognises two copies of one delivery stored at the same time: one original, one duplicate of it', T, async () => {
      await withStore(async (store) => {
        const [a, b] = await Promise.all([
          store.recordRequest({ inbox: inbox({ dedupKey: 'same-turn', response: { status: 200 } }), run: run('hook-a'), jobs: [job()] }),
          store.recordRequest({ inbox: inbox({ dedupKey: 'same-turn', response: { status: 200 } }), jobs: [job()] }),
        ]);
        assert.deepEqual([a.duplicate, b.duplicate].sort(), [false, true]);
        const [original, copy] = a.duplicate ? [b, a] : [a, b];
        assert.ok(copy.duplicate);
        assert.equal(copy.inboxId, original.inboxId);
        assert.equal((await store.getInboxEntry(copy.duplicateEntryId))?.duplicateOf, original.inboxId);
        const counts = await store.counts();
        assert.equal(counts.inbox.total, 2);
        assert.equal(counts.jobs.queued, 1, 'the copy enqueues nothing');
      });
    });

    it('writes a group of journal entries together, each readable after; an empty group writes nothing', T, async () => {
      await withStore(async (store) => {
        await store.putEffectGroup([]);
        await store.putEffectGroup([
          { runKey: 'job-g', stepKey: 'S:next#1', outcome: { rows: [{ id: 1 }] } },
          { runKey: 'job-g', stepKey: 'S:post#1', outcome: { status: 201 } },
          { runKey: 'job-h', stepKey: 'S:mail#1', outcome: { messageId: '<1@x>' } },
        ]);
        assert.deepEqual(await store.effects.get('job-g', 'S:next#1'), { rows: [{ id: 1 }] });
        assert.deepEqual(await store.effects.get('job-g', 'S:post#1'), { status: 201 });
        assert.deepEqual(await store.effects.get('job-h', 'S:mail#1'), { messageId: '<1@x>' });
        assert.equal(await store.effects.get('job-g', 'S:mail#1'), undefined);
      });
    });

    it('answers a duplicate with the first entry id and its stored answer, and counts it on the original', T, async () => {
      await withStore(async (store) => {
        const first = await store.recordRequest({ inbox: inbox({ dedupKey: 'd1', response: { status: 202, body: '{"ok":1}' } }), run: run('hook-1') });
        const second = await store.recordRequest({ inbox: inbox({ dedupKey: 'd1', response: { status: 500 } }), jobs: [job()] });
        assert.equal(second.duplicate, true);
        assert.ok(second.duplicate);
        assert.equal(second.inboxId, first.inboxId);
        assert.notEqual(second.duplicateEntryId, first.inboxId);
        assert.deepEqual(second.original, { responseStatus: 202, responseBody: '{"ok":1}', runId: 'hook-1' });
        assert.deepEqual(second.jobIds, []);
        assert.equal((await store.getInboxEntry(first.inboxId))?.duplicates, 1);
        assert.equal((await store.getInboxEntry(second.duplicateEntryId))?.duplicateOf, first.inboxId);
        // What a resend needs of its original, and nothing more: not the body, which may be megabytes.
        assert.deepEqual(await store.findByDedupKey('d1'), { id: first.inboxId, responseStatus: 202, responseBody: '{"ok":1}', runId: 'hook-1' });
        assert.equal(await store.findByDedupKey('nope'), undefined);
      });
    });

    it('gives the answered status of many entries at once, a duplicate its original\'s, the unanswered left out', T, async () => {
      await withStore(async (store) => {
        const first = await store.recordRequest({ inbox: inbox({ dedupKey: 'a1', response: { status: 202 } }) });
        const dup = await store.recordRequest({ inbox: inbox({ dedupKey: 'a1', response: { status: 500 } }) });
        assert.ok(dup.duplicate);
        const notFound = await store.recordRequest({ inbox: inbox({ response: { status: 404 } }) });
        const unanswered = await store.recordRequest({ inbox: inbox() });
        const got = await store.answeredStatuses([first.inboxId, dup.duplicateEntryId, notFound.inboxId, unanswered.inboxId, 987654]);
        const byId = (m: Iterable<[number, number]>) => [...m].sort((a, b) => a[0] - b[0]);
        assert.deepEqual(byId(got), byId([[first.inboxId, 202], [dup.duplicateEntryId, 202], [notFound.inboxId, 404]]));
        assert.equal((await store.answeredStatuses([])).size, 0);
      });
    });

    it('recognises a duplicate among concurrent deliveries: exactly one original, its jobs enqueued once', T, async () => {
      await withStore(async (store) => {
        const results = await Promise.all(Array.from({ length: 20 }, () => store.recordRequest({ inbox: inbox({ dedupKey: 'same' }), jobs: [job()] })));
        assert.equal(results.filter((r) => !r.duplicate).length, 1);
        const originalId = results.find((r) => !r.duplicate)!.inboxId;
        assert.ok(results.every((r) => r.inboxId === originalId));
        assert.equal((await store.counts()).jobs.queued, 1);
      });
    });

    it('groups concurrent appends into far fewer transactions than calls, and every one is stored', T, async () => {
      await withStore(async (store) => {
        const before = store.stats();
        const n = 500;
        const results = await Promise.all(
          Array.from({ length: n }, (_, i) => store.recordRequest({ inbox: inbox({ dedupKey: `k${i}`, body: Buffer.from(`{"i":${i}}`) }), jobs: [job({ params: { i } })] })),
        );
        const after = store.stats();
        assert.equal(new Set(results.map((r) => r.inboxId)).size, n);
        assert.equal((await store.counts()).inbox.total, n);
        assert.equal((await store.counts()).jobs.queued, n);
        assert.equal(after.operations - before.operations, n);
        assert.ok(after.transactions - before.transactions < n / 10, `expected grouped commits, got ${after.transactions - before.transactions} transactions for ${n} calls`);
        for (const i of [0, 250, 499]) {
          const e = await store.getInboxEntry(results[i]!.inboxId);
          assert.equal(e?.body.toString(), `{"i":${i}}`);
        }
      });
    });

    it('stores the request, its hook run and its jobs together, linked to the inbox entry', T, async () => {
      await withStore(async (store) => {
        const r = await store.recordRequest({ inbox: inbox(), run: run('hook-run'), jobs: [job({ id: 'job-a' }), job({ id: 'job-b', priority: 5 })] });
        assert.ok(!r.duplicate);
        assert.deepEqual(r.jobIds, ['job-a', 'job-b']);
        assert.equal((await store.getJob('job-a'))?.inboxId, r.inboxId);
        assert.equal((await store.getRun('hook-run'))?.inboxId, r.inboxId);
        assert.equal((await store.getInboxEntry(r.inboxId))?.runId, 'hook-run');
      });
    });

    it('stores nothing of a request when part of it cannot be stored (all or nothing)', T, async () => {
      await withStore(async (store) => {
        await store.enqueueJobs([job({ id: 'taken' })]);
        await assert.rejects(store.recordRequest({ inbox: inbox({ dedupKey: 'x' }), run: run('r-x'), jobs: [job({ id: 'fresh' }), job({ id: 'taken' })] }));
        assert.equal((await store.counts()).inbox.total, 0);
        assert.equal(await store.getJob('fresh'), undefined);
        assert.equal(await store.getRun('r-x'), undefined);
        assert.equal(await store.findByDedupKey('x'), undefined, 'the dedup key is free for the retry');
      });
    });

    it('keeps the good calls of a transaction when one call in it fails', T, async () => {
      await withStore(async (store) => {
        await store.enqueueJobs([job({ id: 'dup' })]);
        const results = await Promise.allSettled([
          store.recordRequest({ inbox: inbox({ dedupKey: 'a' }) }),
          store.enqueueJobs([job({ id: 'dup' })]),
          store.recordRequest({ inbox: inbox({ dedupKey: 'b' }) }),
        ]);
        assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
        assert.equal((await store.counts()).inbox.total, 2);
      });
    });
  });

  describe(`${name}: jobs`, () => {
    it('runs a job through enqueue, claim and complete, storing its run and enqueuing what it started', T, async () => {
      await withStore(async (store, { clock }) => {
        const id = await enqueueOne(store, { parentRunId: 'hook-1', parentBlock: 'b7', trigger: { hook: 'bpium' } });
        const [claimed, ...rest] = await store.claimJobs('w1', 10, 30_000);
        assert.equal(rest.length, 0);
        assert.equal(claimed?.id, id);
        assert.equal(claimed?.status, 'running');
        assert.equal(claimed?.attempts, 1);
        assert.equal(claimed?.leaseOwner, 'w1');
        assert.equal(claimed?.leaseExpiresAt, clock.now() + 30_000);
        assert.deepEqual(claimed?.params, { recordId: '42' });
        assert.deepEqual(claimed?.variables, { who: 'x' });
        assert.equal(claimed?.parentRunId, 'hook-1');
        assert.deepEqual(claimed?.trigger, { hook: 'bpium' });
        assert.deepEqual(await store.claimJobs('w2', 10, 30_000), [], 'a running job is not claimed twice');
        const res = await store.completeJob(id, 'w1', { run: run('attempt-1', { jobId: id, trigger: 'async' }), jobs: [job({ id: 'child' })] });
        assert.deepEqual(res, { accepted: true });
        const done = await store.getJob(id);
        assert.equal(done?.status, 'succeeded');
        assert.equal(done?.leaseOwner, null);
        assert.equal(done?.lastRunId, 'attempt-1');
        assert.equal(done?.finishedAt, clock.now());
        assert.equal((await store.getRun('attempt-1'))?.jobId, id);
        assert.equal((await store.getJob('child'))?.status, 'queued');
      });
    });

    it('claims the highest priority first and nothing before its time', T, async () => {
      await withStore(async (store, { clock }) => {
        await store.enqueueJobs([job({ id: 'low' }), job({ id: 'high', priority: 10 }), job({ id: 'later', priority: 99, runAt: clock.now() + 5000 })]);
        const lease = 3_600_000;
        assert.deepEqual((await store.claimJobs('w', 1, lease)).map((j) => j.id), ['high']);
        assert.deepEqual((await store.claimJobs('w', 5, lease)).map((j) => j.id), ['low']);
        clock.advance(5000);
        assert.deepEqual((await store.claimJobs('w', 5, lease)).map((j) => j.id), ['later']);
      });
    });

    it('retries a retryable failure after exponential backoff and makes it dead after the last attempt', T, async () => {
      await withStore(async (store, { clock }) => {
        const id = await enqueueOne(store, { maxAttempts: 3 });
        // attempt n fails → next run after initial·factor^(n-1) with no jitter; attempt 3 of 3 → dead
        const expected = [
          { attempt: 1, status: 'queued', delay: 1000 },
          { attempt: 2, status: 'queued', delay: 2000 },
          { attempt: 3, status: 'dead', delay: null },
        ];
        for (const step of expected) {
          const [c] = await store.claimJobs('w', 1, 10_000);
          assert.equal(c?.attempts, step.attempt);
          const r = await store.failJob(id, 'w', { retryable: true, error: { code: 'R_EFFECT_TRANSIENT', attempt: step.attempt } });
          assert.equal(r.accepted && r.status, step.status);
          if (step.delay !== null) {
            assert.ok(r.accepted && r.status === 'queued');
            assert.equal(r.nextRunAt, clock.now() + step.delay);
            clock.advance(step.delay - 1);
            assert.deepEqual(await store.claimJobs('w', 1, 10_000), [], 'not before the backoff delay');
            clock.advance(1);
          }
        }
        const dead = await store.getJob(id);
        assert.equal(dead?.status, 'dead');
        assert.deepEqual(dead?.lastError, { code: 'R_EFFECT_TRANSIENT', attempt: 3 });
        assert.deepEqual(await store.claimJobs('w', 1, 10_000), []);
      });
    });

    it('makes a permanent failure `failed` at once, and honours a retry time given by the caller', T, async () => {
      await withStore(async (store, { clock }) => {
        const [a, b] = await store.enqueueJobs([job({ id: 'perm' }), job({ id: 'later' })]);
        await store.claimJobs('w', 2, 10_000);
        assert.deepEqual(await store.failJob(a!, 'w', { retryable: false, error: 'Bpium said 404' }), { accepted: true, status: 'failed' });
        const retryAt = clock.now() + 90_000;
        assert.deepEqual(await store.failJob(b!, 'w', { retryable: true, error: '429', retryAt }), { accepted: true, status: 'queued', nextRunAt: retryAt });
        assert.equal((await store.getJob('perm'))?.status, 'failed');
        assert.equal((await store.getJob('later'))?.nextRunAt, retryAt);
      });
    });

    it('never gives the same job to two concurrent claimers', T, async () => {
      await withStore(async (store) => {
        await store.enqueueJobs(Array.from({ length: 30 }, (_, i) => job({ id: `j${i}` })));
        const [a, b, c] = await Promise.all([store.claimJobs('a', 12, 5000), store.claimJobs('b', 12, 5000), store.claimJobs('c', 12, 5000)]);
        const ids = [...a!, ...b!, ...c!].map((j) => j.id);
        assert.equal(ids.length, 30);
        assert.equal(new Set(ids).size, 30);
      });
    });

    it('lets another worker take a job whose lease expired; the first worker can then neither renew nor complete it', T, async () => {
      await withStore(async (store, { clock }) => {
        const id = await enqueueOne(store);
        await store.claimJobs('slow', 1, 1000);
        clock.advance(999);
        assert.deepEqual(await store.claimJobs('other', 1, 1000), [], 'the lease still holds');
        clock.advance(1);
        const [taken] = await store.claimJobs('other', 1, 1000);
        assert.equal(taken?.id, id);
        assert.equal(taken?.attempts, 2);
        assert.equal(taken?.leaseOwner, 'other');
        assert.deepEqual(await store.heartbeat([id], 'slow', 1000), []);
        assert.deepEqual(await store.completeJob(id, 'slow'), { accepted: false });
        assert.deepEqual(await store.failJob(id, 'slow', { retryable: true, error: 'x' }), { accepted: false });
        assert.deepEqual(await store.completeJob(id, 'other'), { accepted: true });
        // The lost attempt has a run record of its own: it ran on 'slow', and what it did is not known.
        const runs = (await store.listRuns({ jobId: id })).items;
        assert.deepEqual(runs.map((r) => [r.status, r.attempt, r.workerId, (r.error as { code?: string } | null)?.code]), [['failed', 1, 'slow', 'LEASE_EXPIRED']]);
        const lost = await store.getRun(runs[0]!.id);
        assert.match(String((lost?.error as { message?: string }).message), /what the attempt did is not known/);
        assert.equal(lost?.trigger, 'async');
        // It names the instance's zone, as the runs its workers record do (`show` and the console read it in that zone).
        assert.equal(lost?.timeZone, INSTANCE_ZONE);
      });
    });

    it('gives back jobs claimed but never started: queued again, the attempt not counted, only by their owner', T, async () => {
      await withStore(async (store) => {
        const [a, b] = await store.enqueueJobs([job({ id: 'a' }), job({ id: 'b' })]);
        await store.claimJobs('w', 2, 1000);
        assert.deepEqual(await store.releaseJobs([a!, 'nope'], 'other'), [], 'another worker cannot');
        assert.deepEqual(await store.releaseJobs([a!, b!, 'nope'], 'w'), [a, b]);
        const got = await store.getJob(a!);
        assert.equal(got?.status, 'queued');
        assert.equal(got?.attempts, 0);
        assert.equal(got?.leaseOwner, null);
        const again = await store.claimJobs('w2', 2, 1000);
        assert.deepEqual(again.map((j) => [j.id, j.attempts]).sort(), [[a, 1], [b, 1]], 'claimed again as a first attempt');
      });
    });

    it('writes an attempt’s journal entries with a failure and with a lost lease, never with a success', T, async () => {
      await withStore(async (store, { clock }) => {
        const [ok, failing, lost] = await store.enqueueJobs([job({ id: 'ok' }), job({ id: 'failing' }), job({ id: 'lost' })]);
        await store.claimJobs('w', 3, 1000);
        const entries = (tag: string) => [{ stepKey: 'Letter:mail#1', outcome: { messageId: `<${tag}@x>` } }, { stepKey: 'Letter:bpium#1', outcome: null }];
        assert.deepEqual(await store.completeJob(ok!, 'w', { effects: entries('ok') }), { accepted: true });
        assert.equal(await store.effects.get(ok!, 'Letter:mail#1'), undefined, 'a succeeded job is never run again: nothing to keep');
        const failed = await store.failJob(failing!, 'w', { retryable: true, error: 'SMTP 451', effects: entries('f') });
        assert.equal(failed.accepted && failed.status, 'queued');
        assert.deepEqual(await store.effects.get(failing!, 'Letter:mail#1'), { messageId: '<f@x>' }, 'the retry replays the letter');
        assert.equal(await store.effects.get(failing!, 'Letter:bpium#1'), null, 'a stored null is an entry');
        clock.advance(1000);
        await store.claimJobs('other', 1, 1000);
        assert.deepEqual(await store.completeJob(lost!, 'w', { effects: entries('l') }), { accepted: false });
        assert.deepEqual(await store.effects.get(lost!, 'Letter:mail#1'), { messageId: '<l@x>' }, 'the attempt that took the job over replays it');
      });
    });

    it('keeps a lease alive with heartbeats', T, async () => {
      await withStore(async (store, { clock }) => {
        const id = await enqueueOne(store);
        await store.claimJobs('w', 1, 1000);
        clock.advance(800);
        assert.deepEqual(await store.heartbeat([id, 'unknown'], 'w', 1000), [id]);
        clock.advance(800);
        assert.deepEqual(await store.claimJobs('thief', 1, 1000), [], 'the renewed lease still holds');
        assert.equal((await store.getJob(id))?.leaseExpiresAt, clock.now() + 200);
      });
    });

    it('keeps when the attempt was claimed: renewals move updatedAt, not claimedAt, and a lost attempt\'s run starts at its claim', T, async () => {
      await withStore(async (store, { clock }) => {
        const id = await enqueueOne(store);
        assert.equal((await store.getJob(id))?.claimedAt, null, 'not claimed yet');
        const claimedAt = clock.now();
        const [claimed] = await store.claimJobs('w', 1, 1000);
        assert.equal(claimed?.claimedAt, claimedAt);
        clock.advance(800);
        assert.deepEqual(await store.heartbeat([id], 'w', 1000), [id]);
        const renewed = await store.getJob(id);
        assert.deepEqual([renewed?.claimedAt, renewed?.updatedAt], [claimedAt, claimedAt + 800], 'the renewal is not a new start');
        // The worker vanishes: another takes the job over (a new attempt, claimed now), and the lost attempt is
        // recorded from its own claim, not from the last renewal.
        clock.advance(1000);
        const [taken] = await store.claimJobs('w2', 1, 1000);
        assert.equal(taken?.claimedAt, clock.now());
        assert.equal((await store.getJob(id))?.claimedAt, clock.now());
        const [lost] = (await store.listRuns({ jobId: id })).items;
        assert.deepEqual([lost?.attempt, lost?.startedAt, lost?.durationMs], [1, claimedAt, 1800]);
      });
    });

    it('clears claimedAt whenever a job leaves running: retried, released, finished, failed, dead, requeued, orphaned', T, async () => {
      await withStore(async (store, { clock }) => {
        const [retried, released, done, failed, lost] = await store.enqueueJobs(['retried', 'released', 'done', 'failed', 'lost'].map((id) => job({ id, maxAttempts: 1 })));
        await store.enqueueJobs([job({ id: 'again' })]);
        assert.equal((await store.claimJobs('w', 6, 1000)).length, 6);
        const claimedAt = async (id: string) => (await store.getJob(id))?.claimedAt;
        assert.equal(await claimedAt(retried!), clock.now(), 'a claim sets it');
        const r = await store.failJob('again', 'w', { retryable: true, error: 'SMTP 451' });
        assert.equal(r.accepted && r.status, 'queued');
        assert.equal(await claimedAt('again'), null, 'retried');
        assert.deepEqual(await store.releaseJobs([released!], 'w'), [released]);
        assert.equal(await claimedAt(released!), null, 'released');
        assert.deepEqual(await store.completeJob(done!, 'w'), { accepted: true });
        assert.equal(await claimedAt(done!), null, 'succeeded');
        const f = await store.failJob(failed!, 'w', { retryable: true, error: 'SMTP 451' });
        assert.equal(f.accepted && f.status, 'dead', 'the last attempt');
        assert.equal(await claimedAt(failed!), null, 'dead after its last attempt');
        await store.failJob(retried!, 'w', { retryable: false, error: 'bad address' });
        assert.equal((await store.getJob(retried!))?.status, 'failed');
        assert.equal(await claimedAt(retried!), null, 'failed for good');
        clock.advance(1000);
        await store.claimJobs('w2', 1, 1000);
        assert.deepEqual([(await store.getJob(lost!))?.status, await claimedAt(lost!)], ['dead', null], 'buried after its lease expired');
        assert.deepEqual(await store.requeue({ ids: [lost!] }), [lost]);
        assert.equal(await claimedAt(lost!), null, 'requeued');
      });
    });

    it('clears claimedAt of the jobs a stopped server left running', T, async () => {
      await withStore(async (store) => {
        await store.enqueueJobs([job({ id: 'once', maxAttempts: 1 }), job({ id: 'more' })]);
        await store.claimJobs('w', 2, 60_000);
        assert.deepEqual(await store.recoverOrphans(), { requeued: 1, dead: 1, runsFailed: 0 });
        assert.deepEqual([(await store.getJob('once'))?.claimedAt, (await store.getJob('more'))?.claimedAt], [null, null]);
      });
    });

    // During a rolling upgrade an instance still running code from before claim times claims jobs without setting
    // claimed_at. As every way out of running clears it, such a claim leaves it empty, and the attempt's start falls
    // back to its last update: never the claim of an earlier attempt.
    it('an attempt claimed by an older instance (no claimed_at) starts at its claim, not at the previous attempt\'s', T, async () => {
      await withStore(async (store, { clock }, sut) => {
        const id = await enqueueOne(store, { id: 'upgraded' });
        const firstClaim = clock.now();
        await store.claimJobs('new', 1, 1000);
        clock.advance(500);
        const r = await store.failJob(id, 'new', { retryable: true, error: 'SMTP 451' });
        assert.ok(r.accepted && r.status === 'queued');
        clock.advance(r.nextRunAt - clock.now() + 5000);
        const oldClaim = clock.now();
        await sut.rawSql(`UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = 'old', lease_expires_at = ${oldClaim + 1000}, updated_at = ${oldClaim} WHERE id = '${id}'`);
        const running = await store.getJob(id);
        assert.deepEqual([running?.status, running?.claimedAt, running?.updatedAt], ['running', null, oldClaim]);
        assert.equal(inProgressRun(running!).startedAt, oldClaim, 'runs --status running: the old claimer\'s claim');
        assert.notEqual(oldClaim, firstClaim);
        // The old instance vanishes: its lost attempt is recorded from its own claim.
        clock.advance(1000);
        const [taken] = await store.claimJobs('new', 1, 1000);
        assert.equal(taken?.claimedAt, clock.now());
        const lost = (await store.listRuns({ jobId: id })).items.find((x) => x.attempt === 2);
        assert.deepEqual([lost?.status, lost?.startedAt, lost?.durationMs], ['failed', oldClaim, 1000]);
      });
    });

    it('makes a job dead when its lease expires during its last attempt, and fails the abandoned run', T, async () => {
      await withStore(async (store, { clock }) => {
        const id = await enqueueOne(store, { maxAttempts: 1 });
        await store.claimJobs('w', 1, 1000);
        await store.recordRun(run('abandoned', { jobId: id, status: 'running', finishedAt: null, trigger: 'async' }));
        clock.advance(1000);
        assert.deepEqual(await store.claimJobs('w2', 1, 1000), []);
        assert.equal((await store.getJob(id))?.status, 'dead');
        assert.equal((await store.getRun('abandoned'))?.status, 'failed');
        assert.equal((await store.getJob(id))?.lastRunId, 'abandoned', 'the abandoned record is the attempt: no second one');
        assert.equal((await store.listRuns({ jobId: id })).items.length, 1);
      });
    });

    it('records each lost attempt once, when a claim takes its job again, however many claims see its lease expired', T, async () => {
      await withStore(async (store, { clock }) => {
        const ids = await store.enqueueJobs([job({ id: 'x1' }), job({ id: 'x2' }), job({ id: 'x3' })]);
        assert.equal((await store.claimJobs('gone', 3, 1000)).length, 3);
        clock.advance(1000);
        const lostRuns = async () => (await Promise.all(ids.map(async (id) => (await store.listRuns({ jobId: id })).items.length)));
        for (let claim = 1; claim <= 3; claim++) {
          assert.equal((await store.claimJobs(`w${claim}`, 1, 60_000)).length, 1);
          assert.equal((await lostRuns()).reduce((a, b) => a + b, 0), claim, `after claim ${claim}: one record per job taken so far`);
        }
        assert.deepEqual(await lostRuns(), [1, 1, 1]);
      });
    });

    it('gives a dead letter left by an attempt that recorded nothing a failed run record, as its last run', T, async () => {
      await withStore(async (store, { clock }) => {
        const id = await enqueueOne(store, { maxAttempts: 1 });
        await store.claimJobs('w', 1, 1000);
        clock.advance(1000);
        assert.deepEqual(await store.claimJobs('w2', 1, 1000), []);
        const dead = await store.getJob(id);
        assert.equal(dead?.status, 'dead');
        assert.ok(dead?.lastRunId, 'the dead job points at a run');
        const r = await store.getRun(dead!.lastRunId!);
        assert.deepEqual([r?.status, r?.jobId, r?.attempt, r?.workerId, (r?.error as { code?: string } | null)?.code], ['failed', id, 1, 'w', 'LEASE_EXPIRED']);
      });
    });

    it('never takes back or buries a worker\'s own expired lease for that worker: it still holds the attempt (a store outage outlasted the lease)', T, async () => {
      await withStore(async (store, { clock }) => {
        const last = await enqueueOne(store, { maxAttempts: 1 });
        const other = await enqueueOne(store, { maxAttempts: 3 });
        assert.equal((await store.claimJobs('w', 2, 1000)).length, 2);
        clock.advance(5000);
        assert.deepEqual(await store.claimJobs('w', 2, 1000), [], 'its own expired jobs are not claimed again by the same worker');
        assert.deepEqual([(await store.getJob(last))?.status, (await store.getJob(other))?.attempts], ['running', 1], 'nor buried, nor an attempt added');
        // The store is back: the worker records the end it kept trying to write, as the owner of the lease.
        assert.equal((await store.completeJob(last, 'w', { run: run('r-last', { startedAt: clock.now(), finishedAt: clock.now() + 1 }) })).accepted, true);
        assert.equal((await store.getJob(last))?.status, 'succeeded');
        // Another worker (another instance, or this one after a restart) still takes an expired lease over.
        const taken = await store.claimJobs('w2', 2, 1000);
        assert.deepEqual(taken.map((j) => [j.id, j.attempts]), [[other, 2]]);
      });
    });

    it('sends dead and failed jobs back to the queue with attempts reset, noting the replay', T, async () => {
      await withStore(async (store) => {
        await store.enqueueJobs([job({ id: 'd1', maxAttempts: 1 }), job({ id: 'd2', maxAttempts: 1 }), job({ id: 'f1' }), job({ id: 'q1', runAt: Date.UTC(2030, 0, 1) })]);
        await store.claimJobs('w', 3, 1000);
        await store.failJob('d1', 'w', { retryable: true, error: 'x' });
        await store.failJob('d2', 'w', { retryable: true, error: 'x' });
        await store.failJob('f1', 'w', { retryable: false, error: 'x' });
        await store.effects.put('d1', 'mail#1', { messageId: 'm1' });
        assert.deepEqual((await store.requeue({ status: 'dead' }, { pinnedVersion: 'old-hash' })).sort(), ['d1', 'd2']);
        const d1 = await store.getJob('d1');
        assert.equal(d1?.status, 'queued');
        assert.equal(d1?.attempts, 0);
        assert.equal(d1?.replayCount, 1);
        assert.equal(d1?.pinnedVersion, 'old-hash');
        assert.deepEqual(await store.effects.get('d1', 'mail#1'), { messageId: 'm1' }, 'effects are kept by default');
        assert.deepEqual(await store.requeue({ ids: ['f1', 'q1', 'nope'] }, { clearEffects: true }), ['f1'], 'only failed or dead jobs are requeued');
        assert.equal((await store.getJob('f1'))?.status, 'queued');
        await store.requeue({ ids: [] });
        const counts = await store.counts();
        assert.deepEqual(counts.jobs, { queued: 4, running: 0, succeeded: 0, failed: 0, dead: 0 });
      });
    });

    it('names a job given twice to requeue once, and replays it once', T, async () => {
      await withStore(async (store) => {
        await store.enqueueJobs([job({ id: 'r1', maxAttempts: 1 }), job({ id: 'r2', maxAttempts: 1 })]);
        await store.claimJobs('w', 2, 1000);
        await store.failJob('r1', 'w', { retryable: false, error: 'x' });
        await store.failJob('r2', 'w', { retryable: false, error: 'x' });
        assert.deepEqual(await store.requeue({ ids: ['r2', 'r1', 'r2', 'r1'] }), ['r2', 'r1']);
        assert.equal((await store.getJob('r1'))?.replayCount, 1);
        assert.equal((await store.getJob('r2'))?.replayCount, 1);
      });
    });

    it('makes a job queued for later due now, once however often it is named; a running, due or unknown one is left; jobStates reads them', T, async () => {
      await withStore(async (store, { clock }) => {
        const later = clock.now() + 60_000;
        await store.enqueueJobs([job({ id: 'later', runAt: later }), job({ id: 'due' }), job({ id: 'run' }), job({ id: 'later2', runAt: later })]);
        const claimed = await store.claimJobs('w', 1, 1000);
        assert.equal(claimed[0]!.id, 'due');
        assert.deepEqual(await store.hastenJobs({ ids: ['later', 'later', 'due', 'nope'] }), ['later'], 'named twice, made due once; a running or unknown job left');
        const now = clock.now();
        const states = await store.jobStates(['later', 'due', 'later2', 'nope']);
        assert.deepEqual([...states.keys()].sort(), ['due', 'later', 'later2'], 'an unknown id has no state');
        assert.deepEqual(
          Object.fromEntries([...states].map(([id, s]) => [id, [s.status, s.attempts, s.nextRunAt <= now]])),
          { later: ['queued', 0, true], due: ['running', 1, true], later2: ['queued', 0, false] },
        );
        assert.deepEqual(await store.hastenJobs({ status: 'queued' }), ['later2'], 'the bulk form: every queued job not due yet');
        assert.deepEqual(await store.hastenJobs({ ids: [] }), []);
      });
    });

    it('cancels only queued jobs, in one conditional write: a job claimed meanwhile keeps running; they become dead with the error', T, async () => {
      await withStore(async (store, { clock }) => {
        const later = clock.now() + 3_600_000;
        await store.enqueueJobs([job({ id: 'later', runAt: later }), job({ id: 'due' }), job({ id: 'run' }), job({ id: 'other', runAt: later })]);
        const claimed = await store.claimJobs('w', 1, 1000);
        assert.equal(claimed[0]!.id, 'due');
        const error = { code: 'R_CANCELLED', message: 'cancelled by an operator' };
        // 'due' was claimed after a caller listed it as queued: it is not cancelled, nor is an unknown id.
        assert.deepEqual(await store.cancelJobs({ ids: ['later', 'due', 'later', 'nope'] }, error), ['later'], 'named twice, cancelled once; a running or unknown job left');
        const cancelled = (await store.getJob('later'))!;
        assert.deepEqual([cancelled.status, cancelled.leaseOwner, cancelled.lastError, cancelled.finishedAt], ['dead', null, error, clock.now()]);
        assert.equal((await store.getJob('due'))!.status, 'running');
        assert.deepEqual((await store.listJobs({ status: 'dead' })).items.map((j) => j.id), ['later']);
        assert.deepEqual((await store.cancelJobs({ status: 'queued' }, error)).sort(), ['other', 'run'], 'the bulk form: every queued job, none running');
        assert.deepEqual(await store.cancelJobs({ ids: [] }, error), []);
        assert.deepEqual(await store.requeue({ ids: ['later'] }), ['later'], 'a cancelled job is replayed as any dead letter');
        assert.equal((await store.getJob('later'))!.status, 'queued');
      });
    });

    it('a cancelled job whose last attempt was cut off keeps saying so (afterCut): its replay still marks what may repeat', T, async () => {
      await withStore(async (store) => {
        await store.enqueueJobs([job({ id: 'stopped' }), job({ id: 'after' }), job({ id: 'journaled' }), job({ id: 'plain' })]);
        assert.equal((await store.claimJobs('w', 4, 60_000)).length, 4);
        // Given back by a stop with an effect perhaps unjournaled; given back with every effect journaled; an attempt
        // after a cut one that failed before its first effect (pool.ts passOnCut); an ordinary failure.
        assert.deepEqual(await store.releaseJobs(['stopped'], 'w', { code: 'STOPPED', message: 'stopped' }), ['stopped']);
        assert.deepEqual(await store.releaseJobs(['journaled'], 'w', { code: 'STOPPED', message: 'stopped', journaled: true }), ['journaled']);
        assert.equal((await store.failJob('after', 'w', { retryable: true, error: { code: 'R_EFFECT_TRANSIENT', message: 'SMTP 451', afterCut: true } })).accepted, true);
        assert.equal((await store.failJob('plain', 'w', { retryable: true, error: { code: 'R_EFFECT_TRANSIENT', message: 'SMTP 451' } })).accepted, true);
        const error = { code: 'R_CANCELLED', message: 'cancelled by an operator' };
        assert.deepEqual(await store.cancelJobs({ ids: ['stopped'] }, error), ['stopped']);
        assert.deepEqual((await store.cancelJobs({ status: 'queued' }, error)).sort(), ['after', 'journaled', 'plain']);
        const last = async (id: string) => (await store.getJob(id))!.lastError;
        assert.deepEqual(await last('stopped'), { ...error, afterCut: true });
        assert.deepEqual(await last('after'), { ...error, afterCut: true });
        assert.deepEqual(await last('journaled'), error);
        assert.deepEqual(await last('plain'), error);
        for (const id of ['stopped', 'after']) assert.equal(previousAttemptCut({ lastError: await last(id) }), true, id);
      });
    });

    it('lists the queued jobs soonest due first, not newest first; by scenario and by creation time; a running one left out', T, async () => {
      await withStore(async (store, { clock }) => {
        const t0 = clock.now();
        await store.enqueueJobs([job({ id: 'a', scenario: 'S', runAt: t0 + 1000 })]);
        clock.advance(10);
        await store.enqueueJobs([job({ id: 'b', scenario: 'S', runAt: t0 + 60_000 })]);
        clock.advance(10);
        await store.enqueueJobs([job({ id: 'c', scenario: 'Other', runAt: t0 + 500 }), job({ id: 'r', scenario: 'S' })]);
        assert.deepEqual((await store.claimJobs('w', 1, 1000)).map((j) => j.id), ['r']);
        const ids = async (q: Parameters<typeof store.queuedJobs>[0]) => (await store.queuedJobs(q)).map((j) => j.id);
        assert.deepEqual(await ids({ limit: 10 }), ['c', 'a', 'b']);
        assert.deepEqual(await ids({ limit: 1, scenario: 'S' }), ['a'], 'the soonest due of the scenario, though b is newer');
        assert.deepEqual(await ids({ limit: 10, since: t0 + 10 }), ['c', 'b']);
      });
    });

    it('forgets the journalled effects of a replayed job when asked to', T, async () => {
      await withStore(async (store) => {
        const id = await enqueueOne(store);
        await store.claimJobs('w', 1, 1000);
        await store.effects.put(id, 'mail#1', { messageId: 'm1' });
        await store.failJob(id, 'w', { retryable: false, error: 'x' });
        await store.requeue({ ids: [id] }, { clearEffects: true });
        assert.equal(await store.effects.get(id, 'mail#1'), undefined);
      });
    });

    it('lists jobs by status, newest first, page by page', T, async () => {
      await withStore(async (store, { clock }) => {
        for (let i = 0; i < 5; i++) {
          await enqueueOne(store, { id: `j${i}` });
          clock.advance(10);
        }
        await store.claimJobs('w', 1, 1000);
        const p1 = await store.listJobs({ status: 'queued', limit: 2 });
        assert.deepEqual(p1.items.map((j) => j.id), ['j4', 'j3']);
        const p2 = await store.listJobs({ status: 'queued', limit: 2, cursor: p1.nextCursor });
        assert.deepEqual(p2.items.map((j) => j.id), ['j2', 'j1']);
        assert.equal(p2.nextCursor, null);
        assert.deepEqual((await store.listJobs({ status: 'running' })).items.map((j) => j.id), ['j0']);
      });
    });

    it('lists the jobs a run started', T, async () => {
      await withStore(async (store) => {
        await store.enqueueJobs([job({ id: 'c1', parentRunId: 'hook-a' }), job({ id: 'c2', parentRunId: 'hook-b' }), job({ id: 'c3', parentRunId: 'hook-a' }), job({ id: 'c4' })]);
        assert.deepEqual((await store.listJobs({ parentRunId: 'hook-a' })).items.map((j) => j.id).sort(), ['c1', 'c3']);
        assert.deepEqual((await store.listJobs({ parentRunId: 'nobody' })).items, []);
      });
    });

    it('lists the jobs of a service task by the task named in their trigger, whatever their scenario, newest first', T, async () => {
      await withStore(async (store, ctx) => {
        await store.enqueueJobs([job({ id: 't1', scenario: 'Old', trigger: { task: 'report', kind: 'manual' } })]);
        ctx.clock.advance(10);
        await store.enqueueJobs([
          job({ id: 't2', scenario: 'New', trigger: { task: 'other', kind: 'due' } }),
          job({ id: 't3', scenario: 'Old', trigger: { hook: 'bpium' } }),
          job({ id: 't4', scenario: 'Old', trigger: null }),
        ]);
        ctx.clock.advance(10);
        await store.enqueueJobs([job({ id: 't5', scenario: 'New', trigger: { task: 'report', kind: 'due' } })]);
        assert.deepEqual((await store.listJobs({ task: 'report' })).items.map((j) => j.id), ['t5', 't1']);
        assert.deepEqual((await store.listJobs({ task: 'report', limit: 1 })).items.map((j) => j.id), ['t5']);
        assert.deepEqual((await store.listJobs({ task: 'report', scenario: 'Old' })).items.map((j) => j.id), ['t1']);
        assert.deepEqual((await store.listJobs({ task: 'nobody' })).items, []);
      });
    });
  });

  describe(`${name}: crash recovery`, () => {
    it('resumes jobs a killed process left running when reopened, and fails their unfinished runs', T, async (t) => {
      const ctx: StoreTestContext = { clock: new ManualClock(), backoff: BACKOFF, defaultMaxAttempts: 3, timeZone: INSTANCE_ZONE };
      const sut = await makeStore(ctx);
      if (!sut.reopen) {
        await sut.store.close();
        await sut.cleanup();
        t.skip('this store cannot be reopened');
        return;
      }
      let store = sut.store;
      try {
        await store.enqueueJobs([job({ id: 'again' }), job({ id: 'last', maxAttempts: 1 }), job({ id: 'waiting' })]);
        await store.claimJobs('gone', 2, 60_000);
        await store.recordRun(run('half', { jobId: 'again', status: 'running', finishedAt: null, trigger: 'async' }));
        await store.close(); // the worker never completes: as if the process died
        store = await sut.reopen();
        assert.deepEqual(await store.recoverOrphans(), { requeued: 1, dead: 1, runsFailed: 1 });
        const again = await store.getJob('again');
        assert.equal(again?.status, 'queued');
        assert.equal(again?.attempts, 1, 'the interrupted attempt counts');
        assert.equal((await store.getJob('last'))?.status, 'dead');
        assert.equal((await store.getRun('half'))?.status, 'failed');
        assert.equal(again?.lastRunId, 'half');
        // 'last' recorded nothing before the stop: its dead letter gets a record of the lost attempt.
        const lost = await store.getRun((await store.getJob('last'))!.lastRunId!);
        assert.deepEqual([lost?.status, lost?.jobId, lost?.workerId, (lost?.error as { code?: string } | null)?.code, lost?.timeZone], ['failed', 'last', 'gone', 'PROCESS_STOPPED', INSTANCE_ZONE]);
        const ids = (await store.claimJobs('new', 10, 60_000)).map((j) => j.id).sort();
        assert.deepEqual(ids, ['again', 'waiting']);
      } finally {
        await store.close();
        await sut.cleanup();
      }
    });
  });

  describe(`${name}: runs and effects`, () => {
    it('keeps the time zone a run ran in, through each way a run is written; a run written without one reads back without', T, async () => {
      await withStore(async (store) => {
        await store.recordRun(run('zoned', { timeZone: 'Asia/Tokyo' }));
        await store.recordRun(run('unzoned'));
        await store.recordRequest({ inbox: inbox({ dedupKey: 'tz-hook', response: { status: 200 } }), run: run('tz-hook', { timeZone: 'Asia/Yekaterinburg' }) });
        const id = await enqueueOne(store);
        assert.equal((await store.claimJobs('w1', 10, 30_000)).length, 1);
        assert.deepEqual(await store.completeJob(id, 'w1', { run: run('tz-job', { jobId: id, trigger: 'async', timeZone: 'America/New_York' }) }), { accepted: true });
        assert.equal((await store.getRun('zoned'))?.timeZone, 'Asia/Tokyo');
        assert.equal((await store.getRun('tz-hook'))?.timeZone, 'Asia/Yekaterinburg');
        assert.equal((await store.getRun('tz-job'))?.timeZone, 'America/New_York');
        const unzoned = await store.getRun('unzoned');
        assert.ok(unzoned);
        assert.equal('timeZone' in unzoned, false);
        // A running record replaced by its end keeps the zone of the end.
        await store.recordRun(run('zoned', { timeZone: 'Europe/Moscow' }));
        assert.equal((await store.getRun('zoned'))?.timeZone, 'Europe/Moscow');
      });
    });

    it('replaces a running run record with its finished one', T, async () => {
      await withStore(async (store) => {
        await store.recordRun(run('r1', { status: 'running', finishedAt: null, trace: null }));
        assert.equal((await store.getRun('r1'))?.status, 'running');
        await store.recordRun(run('r1', { status: 'failed', error: { code: 'R_DEADLINE', message: 'too slow' } }));
        const r = await store.getRun('r1');
        assert.equal(r?.status, 'failed');
        assert.deepEqual(r?.error, { code: 'R_DEADLINE', message: 'too slow' });
        assert.equal(r?.durationMs, 12);
        assert.deepEqual(r?.trace, [{ step: 1, block: 'start', changed: { a: 1 } }]);
        assert.deepEqual(r?.returnValues, { status: 200 });
        assert.deepEqual(r?.params, { a: 1 });
        assert.equal(r?.version, 'v1hash');
        assert.equal((await store.counts()).runs.failed, 1);
      });
    });

    it('a job run that marks a possible repeat is listed with mayRepeat whatever its attempt (a job given back at a stop runs attempt 1 again)', T, async () => {
      await withStore(async (store) => {
        const mail = (mayRepeat: boolean) => [{ block: 'notify', to: ['a@example.com'], subject: 's', status: 'sent', performed: true, ...(mayRepeat ? { mayRepeat: true } : {}) }];
        await store.recordRun(run('first', { jobId: 'job-m', attempt: 1, trigger: 'async', mails: mail(true), startedAt: 1000, finishedAt: 1005 }));
        await store.recordRun(run('retry', { jobId: 'job-m', attempt: 2, trigger: 'async', mails: mail(true), startedAt: 2000, finishedAt: 2005 }));
        await store.recordRun(run('plain', { jobId: 'job-m', attempt: 3, trigger: 'async', mails: mail(false), startedAt: 3000, finishedAt: 3005 }));
        await store.recordRun(run('hook', { jobId: null, mails: mail(true), startedAt: 4000, finishedAt: 4005 }));
        const listed = (await store.listRuns({})).items.map((r) => [r.id, r.mayRepeat ?? false]);
        assert.deepEqual(listed, [['hook', false], ['plain', false], ['retry', true], ['first', true]]);
      });
    });

    it('gives the outcome sources of many runs at once: return values, and of each letter only its recipients and status', T, async () => {
      await withStore(async (store) => {
        const letter = (to: string[], status: string) => ({ block: 'notify', to, cc: [], bcc: [], subject: 's', text: 'a long letter body', status, performed: status === 'sent' });
        await store.recordRun(run('sent', { returnValues: { 1: 'notified 2 of 2' }, mails: [letter(['a@example.com'], 'sent'), letter(['b@example.com'], 'failed')] }));
        await store.recordRun(run('quiet', { returnValues: {}, mails: [] }));
        // A record written without these parts, and one whose mails are not a list (or hold a non-letter): none read.
        await store.recordRun(run('bare', { returnValues: undefined, mails: undefined }));
        await store.recordRun(run('odd', { mails: { not: 'a list' } }));
        await store.recordRun(run('mixed', { mails: ['text', 5, null, letter(['c@example.com'], 'unknown')] }));
        const got = await store.runOutcomes(['sent', 'quiet', 'bare', 'odd', 'mixed', 'no-such-run', 'sent']);
        assert.deepEqual([...got.keys()].sort(), ['bare', 'mixed', 'odd', 'quiet', 'sent']);
        assert.deepEqual(got.get('sent'), { returnValues: { 1: 'notified 2 of 2' }, letters: [{ to: ['a@example.com'], status: 'sent' }, { to: ['b@example.com'], status: 'failed' }] });
        assert.deepEqual(got.get('quiet'), { returnValues: {}, letters: [] });
        assert.deepEqual(got.get('bare'), { returnValues: null, letters: [] });
        assert.deepEqual(got.get('odd')?.letters, []);
        assert.deepEqual(got.get('mixed')?.letters, [{ to: ['c@example.com'], status: 'unknown' }]);
        assert.equal((await store.runOutcomes([])).size, 0);
      });
    });

    it('gives the outcome of a run whose letter holds a NUL or half of a surrogate pair (PostgreSQL\'s json refuses both)', T, async () => {
      await withStore(async (store) => {
        // Text a webhook can bring into a letter ("\u0000", "\ud83d" in its JSON): valid JSON as JavaScript writes it.
        const letter = (to: string[], subject: string) => ({ block: 'notify', to, cc: [], bcc: [], subject, text: `body ${subject}`, status: 'sent', performed: true });
        await store.recordRun(run('nul', { returnValues: { 1: 'notified' }, mails: [letter(['a@example.com'], 'a\u0000b')] }));
        await store.recordRun(run('half', { returnValues: { 1: 'x\ud83d' }, mails: [letter(['b@example.com'], 'c\ud83dd'), letter(['c\ude00@example.com'], 'e')] }));
        await store.recordRun(run('plain', { returnValues: {}, mails: [letter(['d@example.com'], 'f')] }));
        const got = await store.runOutcomes(['nul', 'half', 'plain']);
        assert.deepEqual(got.get('nul'), { returnValues: { 1: 'notified' }, letters: [{ to: ['a@example.com'], status: 'sent' }] });
        assert.deepEqual(got.get('half'), { returnValues: { 1: 'x\ud83d' }, letters: [{ to: ['b@example.com'], status: 'sent' }, { to: ['c\ude00@example.com'], status: 'sent' }] });
        assert.deepEqual(got.get('plain')?.letters, [{ to: ['d@example.com'], status: 'sent' }]);
      });
    });

    it('filters runs by status, scenario, job and start time, and pages through them without loss', T, async () => {
      await withStore(async (store) => {
        const base = Date.UTC(2025, 0, 15, 9);
        const specs: Array<[string, string, 'completed' | 'failed' | 'running', number]> = [
          ['a', 'Hook', 'completed', 0],
          ['b', 'Hook', 'failed', 1000],
          ['c', 'SendLetter', 'completed', 2000],
          ['d', 'SendLetter', 'failed', 3000],
          ['e', 'SendLetter', 'running', 3000],
          ['f', 'Hook', 'completed', 4000],
        ];
        await Promise.all(specs.map(([id, scenario, status, at]) => store.recordRun(run(id, { scenario, status, startedAt: base + at, finishedAt: status === 'running' ? null : base + at + 5, jobId: scenario === 'SendLetter' ? 'job-x' : null }))));
        const ids = async (q: Parameters<Store['listRuns']>[0]) => (await store.listRuns(q)).items.map((r) => r.id);
        const cases: Array<[string, Parameters<Store['listRuns']>[0], string[]]> = [
          ['everything, newest first', {}, ['f', 'e', 'd', 'c', 'b', 'a']],
          ['failed only', { status: 'failed' }, ['d', 'b']],
          ['one scenario', { scenario: 'Hook' }, ['f', 'b', 'a']],
          ['scenario and status', { scenario: 'SendLetter', status: 'completed' }, ['c']],
          ['attempts of a job', { jobId: 'job-x' }, ['e', 'd', 'c']],
          ['since a time', { since: base + 3000 }, ['f', 'e', 'd']],
        ];
        for (const [title, q, expected] of cases) assert.deepEqual(await ids(q), expected, title);
        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const p: Awaited<ReturnType<Store['listRuns']>> = await store.listRuns({ limit: 4, cursor });
          seen.push(...p.items.map((r) => r.id));
          cursor = p.nextCursor;
        } while (cursor);
        assert.deepEqual(seen, ['f', 'e', 'd', 'c', 'b', 'a']);
        const listed = (await store.listRuns({ limit: 1 })).items[0] as unknown as Record<string, unknown>;
        assert.equal('trace' in listed, false, 'lists leave out the bulky trace');
      });
    });

    it('keeps effect outcomes by job and step key across attempts', T, async () => {
      await withStore(async (store) => {
        assert.equal(await store.effects.get('job-1', 'mail#1'), undefined);
        await store.effects.put('job-1', 'mail#1', { messageId: '<a@b>', transport: 'smtp' });
        await store.effects.put('job-1', 'bpium#2', { id: '17' });
        await store.effects.put('job-2', 'mail#1', null);
        assert.deepEqual(await store.effects.get('job-1', 'mail#1'), { messageId: '<a@b>', transport: 'smtp' });
        assert.deepEqual(await store.effects.get('job-1', 'bpium#2'), { id: '17' });
        assert.equal(await store.effects.get('job-2', 'mail#1'), null, 'a stored null is not a missing entry');
        assert.equal(await store.effects.get('job-2', 'bpium#2'), undefined);
        await store.effects.put('job-1', 'mail#1', { messageId: '<c@d>' });
        assert.deepEqual(await store.effects.get('job-1', 'mail#1'), { messageId: '<c@d>' }, 'the last outcome wins');
      });
    });
  });

  describe(`${name}: operating`, () => {
    it('counts jobs and runs by status, for metrics', T, async () => {
      await withStore(async (store) => {
        await store.enqueueJobs([job({ id: 'a' }), job({ id: 'b' }), job({ id: 'c' })]);
        await store.claimJobs('w', 2, 1000);
        await store.completeJob('a', 'w', { run: run('ra', { trigger: 'async' }) });
        const counts = await store.counts();
        assert.deepEqual(counts.jobs, { queued: 1, running: 1, succeeded: 1, failed: 0, dead: 0 });
        assert.deepEqual(counts.runs, { running: 0, completed: 1, failed: 0 });
        assert.deepEqual(counts.inbox, { total: 0, duplicates: 0 });
        // Every status at once: the bulk (succeeded jobs, completed runs) is counted as the rest of the total.
        await store.enqueueJobs([job({ id: 'd' }), job({ id: 'e' }), job({ id: 'f', maxAttempts: 1 })]);
        const claimed = (await store.claimJobs('w', 4, 1000)).map((j) => j.id).sort();
        assert.deepEqual(claimed, ['c', 'd', 'e', 'f']);
        await store.failJob('c', 'w', { run: run('rc', { trigger: 'async', status: 'failed' }), retryable: false, error: 'refused' });
        await store.failJob('f', 'w', { run: run('rf', { trigger: 'async', status: 'failed' }), retryable: true, error: 'down' });
        await store.completeJob('d', 'w', { run: run('rd', { trigger: 'async' }) });
        await store.recordRequest({ inbox: inbox({ dedupKey: 'k1' }), run: run('rh', {}) });
        await store.recordRequest({ inbox: inbox({ dedupKey: 'k1' }) });
        const all = await store.counts();
        assert.deepEqual(all.jobs, { queued: 0, running: 2, succeeded: 2, failed: 1, dead: 1 });
        assert.deepEqual(all.runs, { running: 0, completed: 3, failed: 2 });
        assert.deepEqual(all.inbox, { total: 2, duplicates: 1 });
      });
    });

    it('says when the queued job due the longest became due, leaving out jobs waiting for a later time and running ones', T, async () => {
      await withStore(async (store, { clock }) => {
        const t0 = clock.now();
        assert.equal(await store.oldestDueAt(t0), undefined, 'an empty queue');
        await store.enqueueJobs([job({ id: 'later', runAt: t0 + 60_000 }), job({ id: 'claimed', runAt: t0 - 9_000, priority: 5 })]);
        assert.equal((await store.claimJobs('w', 1, 60_000))[0]?.id, 'claimed');
        assert.equal(await store.oldestDueAt(t0), undefined, 'a retry due later is not a backlog, nor a running job');
        await store.enqueueJobs([job({ id: 'due', runAt: t0 - 5_000 }), job({ id: 'due-high', runAt: t0 - 2_000, priority: 9 })]);
        assert.equal(await store.oldestDueAt(t0), t0 - 5_000, 'across priorities');
        assert.equal(await store.oldestDueAt(t0 + 60_000), t0 - 5_000);
      });
    });

    it('prunes old inbox entries, finished runs and finished jobs, never queued or running work', T, async () => {
      await withStore(async (store, { clock }) => {
        const day = 86_400_000;
        const old = clock.now();
        await store.recordRequest({ inbox: inbox({ dedupKey: 'old' }, clock), jobs: [job({ id: 'old-done' })] });
        await store.enqueueJobs([job({ id: 'old-running' }), job({ id: 'old-queued', runAt: old + 30 * day })]);
        await store.claimJobs('w', 2, 365 * day);
        await store.completeJob('old-done', 'w', { run: run('old-run', { startedAt: old, finishedAt: old + 1 }) });
        await store.recordRun(run('old-still-running', { startedAt: old, status: 'running', finishedAt: null }));
        await store.effects.put('old-done', 'mail#1', { ok: true });
        await store.effects.put('old-running', 'mail#1', { ok: true });
        clock.advance(8 * day);
        await store.recordRequest({ inbox: inbox({ dedupKey: 'new' }, clock), run: run('new-run', { startedAt: clock.now(), finishedAt: clock.now() + 1 }) });
        const result = await store.prune({ olderThanMs: 7 * day });
        assert.deepEqual(result, { inbox: 1, runs: 1, jobs: 1, effects: 1, deadLetters: 0, deadLetterIds: [] });
        assert.equal(await store.findByDedupKey('old'), undefined, 'the dedup window is the retention');
        assert.ok(await store.findByDedupKey('new'));
        assert.equal(await store.getJob('old-done'), undefined);
        assert.equal((await store.getJob('old-running'))?.status, 'running');
        assert.equal((await store.getJob('old-queued'))?.status, 'queued');
        assert.equal(await store.getRun('old-run'), undefined);
        assert.ok(await store.getRun('old-still-running'));
        assert.ok(await store.getRun('new-run'));
        assert.deepEqual(await store.effects.get('old-running', 'mail#1'), { ok: true });
        assert.deepEqual(await store.prune({ olderThanMs: 7 * day }), { inbox: 0, runs: 0, jobs: 0, effects: 0, deadLetters: 0, deadLetterIds: [] });
      });
    });

    it('keeps the inbox entry (its dedup key), the earlier attempts and the hook run of a job still retrying past the retention, until it ends', T, async () => {
      await withStore(async (store, { clock }) => {
        const day = 86_400_000;
        const t0 = clock.now();
        await store.recordRequest({
          inbox: inbox({ dedupKey: 'retrying' }, clock),
          run: run('hook-run', { trigger: 'http', startedAt: t0, finishedAt: t0 + 1 }),
          jobs: [job({ id: 'retrying', parentRunId: 'hook-run' })],
        });
        await store.claimJobs('w', 1, 365 * day);
        await store.failJob('retrying', 'w', { retryable: true, error: 'smtp down', run: run('attempt-1', { jobId: 'retrying', trigger: 'async', startedAt: t0, finishedAt: t0 + 2, status: 'failed' }) });
        assert.equal((await store.getJob('retrying'))?.status, 'queued');
        clock.advance(8 * day);

        const kept = await store.prune({ olderThanMs: 7 * day });
        assert.deepEqual(kept, { inbox: 0, runs: 0, jobs: 0, effects: 0, deadLetters: 0, deadLetterIds: [] }, 'nothing of a job still queued goes');
        assert.ok(await store.findByDedupKey('retrying'), 'a resend while it retries is still a duplicate');
        assert.ok(await store.getRun('hook-run'));
        assert.ok(await store.getRun('attempt-1'));

        assert.equal((await store.claimJobs('w', 1, 365 * day)).length, 1);
        assert.deepEqual(await store.prune({ olderThanMs: 7 * day }), { inbox: 0, runs: 0, jobs: 0, effects: 0, deadLetters: 0, deadLetterIds: [] }, 'nor of a running one');
        await store.completeJob('retrying', 'w', { run: run('attempt-2', { jobId: 'retrying', trigger: 'async', startedAt: clock.now(), finishedAt: clock.now() + 1 }) });
        const gone = await store.prune({ olderThanMs: 7 * day });
        assert.deepEqual([gone.inbox, gone.runs], [1, 2], 'once delivered, its old entry and runs go as usual');
        assert.equal(await store.findByDedupKey('retrying'), undefined);
        assert.ok(await store.getRun('attempt-2'));
      });
    });

    it('keeps dead letters (failed and dead jobs), their journal and their last run past the retention, until their own retention', T, async () => {
      await withStore(async (store, { clock }) => {
        const day = 86_400_000;
        await store.enqueueJobs([job({ id: 'dead', maxAttempts: 1 }), job({ id: 'failed' }), job({ id: 'done' })]);
        await store.claimJobs('w', 3, 365 * day);
        await store.failJob('dead', 'w', { retryable: true, error: 'smtp down', run: run('dead-run', { startedAt: clock.now(), finishedAt: clock.now() + 1, status: 'failed' }), effects: [{ stepKey: 'mail#1', outcome: { messageId: 'm1' } }] });
        await store.failJob('failed', 'w', { retryable: false, error: 'bad', run: run('failed-run', { startedAt: clock.now(), finishedAt: clock.now() + 1, status: 'failed' }) });
        await store.completeJob('done', 'w', { run: run('done-run', { startedAt: clock.now(), finishedAt: clock.now() + 1 }) });
        clock.advance(40 * day);

        const kept = await store.prune({ olderThanMs: 30 * day });
        assert.deepEqual([kept.jobs, kept.runs, kept.deadLetters], [1, 1, 0], 'only the delivered job and its run go');
        assert.equal((await store.getJob('dead'))?.status, 'dead');
        assert.equal((await store.getJob('failed'))?.status, 'failed');
        assert.ok(await store.getRun('dead-run'), 'the last run of a dead letter is kept with it');
        assert.ok(await store.getRun('failed-run'));
        assert.deepEqual(await store.effects.get('dead', 'mail#1'), { messageId: 'm1' }, 'a replay still does not resend the first letter');

        assert.deepEqual(await store.prune({ olderThanMs: 30 * day, deadLettersOlderThanMs: 60 * day }), { inbox: 0, runs: 0, jobs: 0, effects: 0, deadLetters: 0, deadLetterIds: [] }, 'younger than their own retention');
        const gone = await store.prune({ olderThanMs: 30 * day, deadLettersOlderThanMs: 35 * day });
        assert.deepEqual([gone.deadLetters, [...gone.deadLetterIds].sort(), gone.runs, gone.effects], [2, ['dead', 'failed'], 2, 1]);
        assert.equal(await store.getJob('dead'), undefined);
        assert.equal(await store.getRun('dead-run'), undefined);
      });
    });

    it('commits writes already made when closed, then refuses new ones as unavailable', T, async () => {
      const ctx: StoreTestContext = { clock: new ManualClock(), backoff: BACKOFF, defaultMaxAttempts: 3, timeZone: INSTANCE_ZONE };
      const sut = await makeStore(ctx);
      try {
        const pending = sut.store.recordRequest({ inbox: inbox() });
        await sut.store.close();
        assert.equal((await pending).duplicate, false);
        await assert.rejects(sut.store.recordRequest({ inbox: inbox() }), (e: unknown) => e instanceof StoreUnavailableError && e.reason === 'closed');
        await assert.rejects(sut.store.getRun('x'), StoreUnavailableError);
      } finally {
        await sut.store.close();
        await sut.cleanup();
      }
    });
  });
}
