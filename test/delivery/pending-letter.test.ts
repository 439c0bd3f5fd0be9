// A letter written whole whose SMTP server stays silent, and an attempt cut off in that wait: by a graceful stop that
// gives the job back, or by a lease that runs out (a killed or stalled instance), on SQLite and on PostgreSQL. The
// wait is marked in the effect journal, so the job run again does not send the letter a second time: it becomes a
// dead letter naming the letter, unless SMTP_UNKNOWN_OUTCOME=retry. Real parts: smtp-server on loopback, the worker
// pool, the SMTP mailer and the store.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { createSmtpMailer, type SmtpMailerOptions } from '../../adapters/mail/smtp.adapter.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary, randomIds, systemClock, type JsonValue, type RunResult, type ScenarioLibrary } from '../../engine/index.js';
import { createWorkerPool, type WorkerPool } from '../../server/delivery/pool.js';
import { deliveryStoreOf, type DeliveryStore } from '../../server/delivery/store-link.js';
import type { Store } from '../../server/store/store.port.js';
import { tempDir } from '../helpers.js';
import { smtpError, startSmtpServer, type TestSmtpServer } from '../mail/smtp-server.helper.js';
import { storeKinds, type StoreKind } from '../store/store-kinds.helper.js';
import { TWO_LETTERS } from './lease-fence.helper.js';

const FIRST = 'TwoLetters:first#1';
const SECOND = 'TwoLetters:second#1';
/** Marks are kept beside the outcome, under their own key (an older build reads only the step's own key). */
const SECOND_MARK = 'TwoLetters:second#1/mark';
/** The mark is written after this much silence; the letters the tests call fast are answered at once. */
const MARK_MS = 50;

const until = async (what: string, ok: () => boolean, ms = 15_000) => {
  for (let i = 0; i < ms / 20 && !ok(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(ok(), what);
};

const isMark = (v: JsonValue) => v !== null && typeof v === 'object' && !Array.isArray(v) && '$effect' in v;

type Attempt = { outcome: string; result: RunResult };

interface Rig {
  store: Store;
  server: TestSmtpServer;
  /** Every journal write the pools made, in order. */
  writes: Array<{ stepKey: string; outcome: JsonValue }>;
  /** A pool on the store with its own SMTP mailer; closed at the end of the test. */
  pool(opts: { mailer?: Partial<SmtpMailerOptions>; releaseOnStop?: boolean; leaseMs?: number }): { pool: WorkerPool; attempts: Attempt[] };
  close(): Promise<void>;
}

const STORES = await storeKinds('pending');

async function rig(
  kind: StoreKind,
  afterData: (n: number) => 'answer' | 'silent',
  replyDelayMs: (n: number) => number = () => 0,
  refuse: (n: number) => Error | undefined = () => undefined,
): Promise<Rig> {
  const t = tempDir();
  writeFileSync(join(t.dir, 'TwoLetters.yaml'), TWO_LETTERS);
  const lib: ScenarioLibrary = await loadScenarioLibrary(t.dir, { registry: defaultRegistry });
  assert.deepEqual(lib.issues, []);
  const server = await startSmtpServer({ afterData, dataReplyDelayMs: replyDelayMs, data: refuse });
  const { store, drop } = await kind.open(t.dir);
  const writes: Rig['writes'] = [];
  const base = deliveryStoreOf(store);
  const spied: DeliveryStore = {
    ...base,
    putEffect: (runKey, stepKey, outcome) => {
      writes.push({ stepKey, outcome });
      return base.putEffect(runKey, stepKey, outcome);
    },
    putEffectGroup: (entries) => {
      for (const { stepKey, outcome } of entries) writes.push({ stepKey, outcome });
      return base.putEffectGroup(entries);
    },
  };
  const made: Array<{ pool: WorkerPool; close(): Promise<void> }> = [];
  return {
    store,
    server,
    writes,
    pool(o) {
      const mailer = createSmtpMailer({
        url: `smtp://127.0.0.1:${server.port}`,
        from: 'robot@example.com',
        retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 },
        pendingMarkMs: MARK_MS,
        socketTimeoutMs: 1000,
        // Longer than the tests take to cut the attempt off: it is cut off while it still waits.
        dataTimeoutMs: 4000,
        ...o.mailer,
      });
      const attempts: Attempt[] = [];
      const pool = createWorkerPool({
        store: spied,
        host: { library: () => lib, libraryWithVersion: () => lib },
        ports: { clock: systemClock, ids: randomIds, mailer },
        concurrency: 1,
        timeZone: 'UTC',
        pollMs: 50,
        ...(o.leaseMs ? { leaseMs: o.leaseMs } : {}),
        ...(o.releaseOnStop ? { releaseOnStop: true } : {}),
        onAttempt: (_job, result, outcome) => void attempts.push({ outcome, result }),
      });
      made.push({ pool, close: () => mailer.close() });
      return { pool, attempts };
    },
    async close() {
      for (const m of made) await m.pool.stop(100);
      // A cut-off attempt ends once its wait for the silent server does (dataTimeoutMs): before the store closes.
      await until('the cut-off attempts ended', () => made.every((m) => m.pool.running === 0));
      for (const m of made) await m.close();
      await server.close();
      await store.close();
      await drop();
      t.cleanup();
    },
  };
}

/** Starts the job on a first pool and cuts its attempt off while the second letter waits for its reply, marked. */
async function cutOffDuringTheWait(r: Rig, how: 'stop-gives-back' | 'lease-runs-out'): Promise<string> {
  const [id] = await r.store.enqueueJobs([{ scenario: 'TwoLetters', params: {} }]);
  const a = r.pool(how === 'stop-gives-back' ? { releaseOnStop: true } : { leaseMs: 1000 });
  a.pool.start();
  await until('the second letter is marked pending in the journal', () => r.writes.some((w) => w.stepKey === SECOND_MARK && isMark(w.outcome)));
  assert.equal(r.server.counts.data, 2, 'both letters reached the server; the second is not answered');
  // Stopped with the letter still waiting: given back to the queue, or (as for a killed instance) left under a lease
  // that nobody renews any more.
  const { unfinished } = await a.pool.stop(50);
  assert.equal(unfinished, 1);
  // An instance of an older build sharing the store reads only the step's own key: it finds no outcome there (so it
  // sends the letter again, as it always did) instead of taking the mark for one and skipping the letter.
  assert.equal(await r.store.effects.get(id!, SECOND), undefined);
  return id!;
}

/** The Message-ID of the n-th letter the server received (from 0). */
async function messageIdOf(r: Rig, n: number): Promise<string> {
  return (await simpleParser(r.server.letters[n]!.raw)).messageId!;
}

for (const kind of STORES) {
  describe(`a letter left waiting for its reply when its attempt is cut off (${kind.name})`, { timeout: 90_000, ...(kind.skip ? { skip: kind.skip } : {}) }, () => {
    const cuts = ['stop-gives-back', 'lease-runs-out'] as const;
    for (const how of cuts) {
      it(`is not sent again when the job runs again (${how}): the job is a dead letter naming it; a replay sends it`, async () => {
        const r = await rig(kind, (n) => (n === 2 ? 'silent' : 'answer'));
        try {
          const id = await cutOffDuringTheWait(r, how);
          const b = r.pool({});
          b.pool.start();
          await until('the job ran again', () => b.attempts.length === 1);
          assert.equal(b.attempts[0]!.outcome, 'dead');
          const { result } = b.attempts[0]!;
          assert.equal(result.error?.code, 'R_EFFECT_UNKNOWN');
          assert.equal(result.error?.block, 'second');
          assert.deepEqual(result.mails.map((m) => [m.subject, m.status]), [['первое', 'replayed'], ['второе', 'unknown']]);
          assert.equal(r.server.counts.data, 2, 'the second letter reached the server once');
          const dead = await r.store.getJob(id);
          assert.equal(dead?.status, 'dead');
          const reason = JSON.stringify(dead?.lastError);
          assert.match(reason, /may have been delivered; check the mailbox before replaying the job/);
          assert.ok(reason.includes(`Message-ID ${await messageIdOf(r, 1)}`), `the reason names the letter: ${reason}`);

          // The operator found no such letter in the mailbox: the replay sends it.
          assert.deepEqual(await r.store.requeue({ ids: [id] }), [id]);
          b.pool.wake();
          await until('the replay ended', () => b.attempts.length === 2);
          assert.equal(b.attempts[1]!.outcome, 'succeeded');
          assert.deepEqual(b.attempts[1]!.result.mails.map((m) => [m.subject, m.status]), [['первое', 'replayed'], ['второе', 'sent']]);
          assert.equal(r.server.counts.data, 3);
          assert.equal((await simpleParser(r.server.letters[2]!.raw)).subject, 'второе');
          // The copy the replay sent is the same letter by its id, as the dead letter's reason says it is looked for.
          assert.equal(await messageIdOf(r, 2), await messageIdOf(r, 1), 'the replay keeps the Message-ID the reason named');
        } finally {
          await r.close();
        }
      });
    }

    it('is sent again when the job runs again with SMTP_UNKNOWN_OUTCOME=retry', async () => {
      const r = await rig(kind, (n) => (n === 2 ? 'silent' : 'answer'));
      try {
        const id = await cutOffDuringTheWait(r, 'lease-runs-out');
        const b = r.pool({ mailer: { unknownOutcome: 'retry' } });
        b.pool.start();
        await until('the job ran again', () => b.attempts.length === 1);
        assert.equal(b.attempts[0]!.outcome, 'succeeded');
        assert.deepEqual(b.attempts[0]!.result.mails.map((m) => [m.subject, m.status]), [['первое', 'replayed'], ['второе', 'sent']]);
        assert.equal(r.server.counts.data, 3, 'the second letter was sent again');
        assert.equal((await r.store.getJob(id))?.status, 'succeeded');
      } finally {
        await r.close();
      }
    });

    it('a letter refused after its mark (451) is sent again by the job\'s retry: the refusal withdraws the mark', async () => {
      const r = await rig(kind, () => 'answer', (n) => (n === 2 ? 600 : 0), (n) => (n === 2 ? smtpError(451, 'greylisted, try again later') : undefined));
      try {
        const [id] = await r.store.enqueueJobs([{ scenario: 'TwoLetters', params: {} }]);
        const a = r.pool({});
        a.pool.start();
        await until('the first attempt ended', () => a.attempts.length === 1);
        assert.equal(a.attempts[0]!.outcome, 'queued', 'a refusal is retried as before');
        assert.ok(r.writes.some((w) => w.stepKey === SECOND_MARK && isMark(w.outcome)), 'the letter was marked while it waited');
        // The failed attempt's end carried the withdrawal of the mark.
        assert.deepEqual(await r.store.effects.get(id!, SECOND_MARK), { $effect: 'not-made' });
        await until('the retry ended', () => a.attempts.length === 2);
        assert.equal(a.attempts[1]!.outcome, 'succeeded');
        assert.deepEqual(a.attempts[1]!.result.mails.map((m) => [m.subject, m.status]), [['первое', 'replayed'], ['второе', 'sent']]);
        assert.equal(r.server.counts.data, 3, 'the refused letter was sent again, once');
      } finally {
        await r.close();
      }
    });

    it('a letter answered at once writes no pending mark; one answered late has its mark superseded by its outcome', async () => {
      // The first letter is answered at once, the second after a pause well past the mark's delay.
      const r = await rig(kind, () => 'answer', (n) => (n === 2 ? 600 : 0));
      try {
        const [id] = await r.store.enqueueJobs([{ scenario: 'TwoLetters', params: {} }]);
        const a = r.pool({});
        a.pool.start();
        await until('the job ended', () => a.attempts.length === 1);
        assert.equal(a.attempts[0]!.outcome, 'succeeded');
        assert.equal(r.server.counts.data, 2);
        assert.deepEqual(
          r.writes.map((w) => [w.stepKey, isMark(w.outcome) ? 'mark' : 'outcome']),
          [
            // The fast letter: its outcome only, written before the next letter went out, as before, with the
            // record of the scenario version it was sent with (journal-versions.ts), once per job.
            ['$versions', 'outcome'],
            [FIRST, 'outcome'],
            // The slow one: marked while it waited, then its outcome beside the mark at once.
            [SECOND_MARK, 'mark'],
            [SECOND, 'outcome'],
          ],
        );
        const first = (await r.store.effects.get(id!, FIRST)) as { messageId?: string };
        assert.equal(first.messageId, await messageIdOf(r, 0), 'the fast letter has its outcome in the journal, no mark');
        const second = (await r.store.effects.get(id!, SECOND)) as { messageId?: string };
        assert.ok(!isMark(second as JsonValue), 'the outcome is at the step\'s own key, where an older build reads it');
        assert.equal(second.messageId, await messageIdOf(r, 1));
      } finally {
        await r.close();
      }
    });
  });
}
