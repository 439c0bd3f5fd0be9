// A job whose attempt sent a letter and then failed waits for its retry while its scenario is edited and reloaded.
// The effect journal finds the letter by its block's id: after an edit that renames that block, the retry must not
// send it again (the job becomes a dead letter, failed with R_SCENARIO_CHANGED, until an operator replays it); after an edit of
// what the blocks say only, the retry runs the edited version and replays the letter from the journal. Real parts:
// smtp-server on loopback, the SMTP mailer, the scenario host reading the folder, the worker pool and the store
// (SQLite, and PostgreSQL when OKTELL_TEST_PG_URL is set).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createSmtpMailer } from '../../adapters/mail/smtp.adapter.js';
import { randomIds, systemClock, type RunResult } from '../../engine/index.js';
import { createWorkerPool, type WorkerPool } from '../../server/delivery/pool.js';
import { deliveryStoreOf } from '../../server/delivery/store-link.js';
import { createScenarioHost, type ScenarioHost } from '../../server/scenario-host.js';
import type { BackoffPolicy } from '../../server/store/backoff.js';
import type { Store } from '../../server/store/store.port.js';
import { tempDir } from '../helpers.js';
import { smtpError, startSmtpServer, type TestSmtpServer } from '../mail/smtp-server.helper.js';
import { storeKinds, type StoreKind } from '../store/store-kinds.helper.js';
import { subjectsOf, TWO_LETTERS } from './lease-fence.helper.js';
import { capturingLogger, type CapturedLine } from '../server/server-helpers.js';

/** Version 1: a letter, then a second letter (which the server refuses for now the first time), then an answer. */
const LETTERS = TWO_LETTERS;

/** The upgrade of the trial: the first letter's block renamed, nothing else. */
const RENAMED = LETTERS.replace('start: first', 'start: firstMail').replace('  first:\n', '  firstMail:\n');
/** An edit of what blocks say only: the first letter's text and the answer. */
const RETEXTED = LETTERS.replace(`text: '"t"'`, `text: '"t, v2"'`).replace(`'"sent"'`, `'"sent v2"'`);

assert.ok(RENAMED.includes('  firstMail:\n') && !RETEXTED.includes(`text: '"t"'\n    exits: { success: second }`), 'the edits change what they mean to');

/** Retries come due at once. */
const QUICK: BackoffPolicy = { initialMs: 20, factor: 1, maxMs: 20, jitter: 0 };

const until = async (what: string, ok: () => boolean, ms = 15_000) => {
  for (let i = 0; i < ms / 20 && !ok(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(ok(), what);
};

const STORES = await storeKinds('scenedit');

type Attempt = { outcome: string; result: RunResult };

interface Rig {
  store: Store;
  server: TestSmtpServer;
  host: ScenarioHost;
  file: string;
  /**
   * A pool on the store and the host, as a (re)started server has; stopped at the end, or as soon as its first attempt
   * ends with `stopAfterFirst` (the retry, due at once, must not run before the edit, however slow the machine).
   */
  pool(stopAfterFirst?: boolean): { pool: WorkerPool; attempts: Attempt[] };
  /** What the pools logged. */
  log: CapturedLine[];
  close(): Promise<void>;
}

async function rig(kind: StoreKind, refused: (n: number) => boolean = (n) => n === 2): Promise<Rig> {
  const t = tempDir();
  const file = join(t.dir, 'Letters.yaml');
  writeFileSync(file, LETTERS);
  const host = await createScenarioHost(t.dir, { timeZone: 'UTC', watch: false });
  assert.deepEqual(host.issues(), []);
  // The second letter is refused for now (451) the first time: the attempt fails after the first letter went.
  const server = await startSmtpServer({ data: (n) => (refused(n) ? smtpError(451, 'try again later') : undefined) });
  const { store, drop } = await kind.open(t.dir, { backoff: QUICK });
  const made: Array<{ pool: WorkerPool; close(): Promise<void> }> = [];
  const { lines: log, logger } = capturingLogger();
  return {
    store,
    server,
    host,
    file,
    log,
    pool(stopAfterFirst = false) {
      const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 } });
      const attempts: Attempt[] = [];
      const pool = createWorkerPool({
        store: deliveryStoreOf(store),
        host,
        ports: { clock: systemClock, ids: randomIds, mailer },
        concurrency: 1,
        timeZone: 'UTC',
        pollMs: 20,
        logger,
        onAttempt: (_job, result, outcome) => {
          attempts.push({ outcome, result });
          if (stopAfterFirst && attempts.length === 1) void pool.stop(1000);
        },
      });
      made.push({ pool, close: () => mailer.close() });
      return { pool, attempts };
    },
    async close() {
      for (const m of made) {
        await m.pool.stop(1000);
        await m.close();
      }
      host.close();
      await server.close();
      await store.close();
      await drop();
      t.cleanup();
    },
  };
}

/** Runs the job's first attempt (first letter sent, second refused for now), then stops, as for an upgrade. */
async function firstAttempt(r: Rig): Promise<{ id: string; version: string }> {
  const [id] = await r.store.enqueueJobs([{ scenario: 'Letters', params: {} }]);
  const a = r.pool(true);
  a.pool.start();
  await until('the first attempt ended', () => a.attempts.length === 1);
  await a.pool.stop(1000);
  assert.equal(a.attempts[0]!.outcome, 'queued', 'the refused letter is retried');
  assert.equal(a.attempts[0]!.result.error?.code, 'R_EFFECT_TRANSIENT');
  // The server keeps the letters it accepted.
  assert.deepEqual(await subjectsOf(r.server), { первое: 1 });
  return { id: id!, version: a.attempts[0]!.result.version };
}

/** Edits the scenario file and reloads it (what the file watch does on a save). */
async function edit(r: Rig, text: string): Promise<string> {
  writeFileSync(r.file, text);
  await r.host.reload();
  assert.deepEqual(r.host.issues(), []);
  return r.host.library().scenarios.get('Letters')!.version;
}

for (const kind of STORES) {
  describe(`a job waiting for its retry while its scenario is edited (${kind.name})`, { timeout: 60_000, ...(kind.skip ? { skip: kind.skip } : {}) }, () => {
    it('does not send a letter again after an edit renamed its block: a dead letter naming both versions, replayed once restored', async () => {
      const r = await rig(kind);
      try {
        const { id, version: v1 } = await firstAttempt(r);
        const v2 = await edit(r, RENAMED);
        assert.notEqual(v2, v1);
        const b = r.pool();
        b.pool.start();
        await until('the retry ended', () => b.attempts.length === 1);
        const { outcome, result } = b.attempts[0]!;
        assert.equal(outcome, 'failed', 'not retried blind: a dead letter, an operator decides');
        assert.equal(result.error?.code, 'R_SCENARIO_CHANGED');
        assert.match(result.error!.message, new RegExp(`Letters \\(version ${v1} then, ${v2} now\\)`));
        assert.match(result.error!.message, new RegExp(`npx oktell-emu replay ${id}`));
        assert.deepEqual(result.mails, [], 'the retry stopped before its first letter');
        assert.deepEqual(await subjectsOf(r.server), { первое: 1 }, 'the first letter was not sent a second time');
        const job = await r.store.getJob(id);
        assert.equal(job?.status, 'failed');
        assert.match(JSON.stringify(job?.lastError), /R_SCENARIO_CHANGED/);
        // Nothing retries it and it waits for a replay, as a dead job does: logged as an ERROR, saying so.
        const end = r.log.find((l) => l.obj.jobId === id && l.obj.outcome === 'failed');
        assert.deepEqual([end?.level, end?.msg], ['error', 'run Letters failed (failed for good: not retried, it waits for a replay)']);

        // The operator restores the version the letter was sent with and replays the job: it finishes, and the
        // first letter is found in the journal.
        assert.equal(await edit(r, LETTERS), v1);
        assert.deepEqual(await r.store.requeue({ ids: [id] }), [id]);
        b.pool.wake();
        await until('the replay ended', () => b.attempts.length === 2);
        assert.equal(b.attempts[1]!.outcome, 'succeeded');
        assert.deepEqual(b.attempts[1]!.result.mails.map((m) => [m.subject, m.status]), [['первое', 'replayed'], ['второе', 'sent']]);
        assert.deepEqual(await subjectsOf(r.server), { первое: 1, второе: 1 });
      } finally {
        await r.close();
      }
    });

    it('a dead letter replayed after an edit renamed its block stops before the letter (trial 66): the replay after that stop is the decision', async () => {
      const r = await rig(kind);
      try {
        // An outage outlasts the job's attempts: the first letter went, the second did not, and the job is dead.
        const [id] = await r.store.enqueueJobs([{ scenario: 'Letters', params: {}, maxAttempts: 1 }]);
        const a = r.pool();
        a.pool.start();
        await until('the only attempt ended', () => a.attempts.length === 1);
        assert.equal(a.attempts[0]!.outcome, 'dead');
        assert.deepEqual(await subjectsOf(r.server), { первое: 1 });
        // The upgrade renames the first letter's block; the operator replays the dead letters after the outage.
        const v1 = a.attempts[0]!.result.version;
        const v2 = await edit(r, RENAMED);
        assert.deepEqual(await r.store.requeue({ ids: [id!] }), [id]);
        a.pool.wake();
        await until('the replay ended', () => a.attempts.length === 2);
        assert.equal(a.attempts[1]!.result.error?.code, 'R_SCENARIO_CHANGED', 'the replay of a job nobody was told about checks the versions');
        assert.match(a.attempts[1]!.result.error!.message, new RegExp(`Letters \\(version ${v1} then, ${v2} now\\)`));
        assert.equal(a.attempts[1]!.outcome, 'failed');
        assert.deepEqual(await subjectsOf(r.server), { первое: 1 }, 'the first letter was not sent a second time');
        // Told, the operator replays it as it is: the renamed block's letter is made again, as the message said.
        assert.deepEqual(await r.store.requeue({ ids: [id!] }), [id]);
        a.pool.wake();
        await until('the second replay ended', () => a.attempts.length === 3);
        assert.equal(a.attempts[2]!.outcome, 'succeeded', JSON.stringify(a.attempts[2]!.result.error));
        assert.deepEqual(a.attempts[2]!.result.mails.map((m) => [m.subject, m.status]), [['первое', 'sent'], ['второе', 'sent']]);
        assert.deepEqual(await subjectsOf(r.server), { первое: 2, второе: 1 });
      } finally {
        await r.close();
      }
    });

    it('a replay after the stop spends the decision: restored, replayed into the same outage, upgraded again, it stops again (review 66)', async () => {
      let outage = true;
      const r = await rig(kind, (n) => outage && n >= 2);
      try {
        const [id] = await r.store.enqueueJobs([{ scenario: 'Letters', params: {}, maxAttempts: 1 }]);
        const a = r.pool();
        a.pool.start();
        const replay = async (n: number) => {
          assert.deepEqual(await r.store.requeue({ ids: [id!] }), [id]);
          a.pool.wake();
          await until(`attempt ${n} ended`, () => a.attempts.length === n);
          return a.attempts[n - 1]!;
        };
        await until('the only attempt ended', () => a.attempts.length === 1);
        assert.equal(a.attempts[0]!.outcome, 'dead');
        await edit(r, RENAMED);
        assert.equal((await replay(2)).result.error?.code, 'R_SCENARIO_CHANGED');
        // The message's first advice: restore the version, replay. The outage still refuses the second letter.
        await edit(r, LETTERS);
        const third = await replay(3);
        assert.equal(third.outcome, 'dead');
        assert.deepEqual(third.result.mails.map((m) => [m.subject, m.status]), [['первое', 'replayed'], ['второе', 'failed']]);
        // The outage over, the upgrade deployed again, the dead letters replayed: the rename is found again.
        outage = false;
        await edit(r, RENAMED);
        const fourth = await replay(4);
        assert.equal(fourth.result.error?.code, 'R_SCENARIO_CHANGED', JSON.stringify(fourth.result.mails));
        assert.deepEqual(await subjectsOf(r.server), { первое: 1 }, 'the first letter was not sent a second time');
      } finally {
        await r.close();
      }
    });

    it('replays the letter from the journal after an edit of what the blocks say only, and runs the edited version', async () => {
      const r = await rig(kind);
      try {
        const { id, version: v1 } = await firstAttempt(r);
        const v2 = await edit(r, RETEXTED);
        assert.notEqual(v2, v1);
        const b = r.pool();
        b.pool.start();
        await until('the retry ended', () => b.attempts.length === 1);
        const { outcome, result } = b.attempts[0]!;
        assert.equal(outcome, 'succeeded', JSON.stringify(result.error));
        assert.equal(result.version, v2);
        assert.deepEqual(result.returnValues, { 1: 'sent v2' });
        assert.deepEqual(result.mails.map((m) => [m.subject, m.status]), [['первое', 'replayed'], ['второе', 'sent']]);
        assert.deepEqual(await subjectsOf(r.server), { первое: 1, второе: 1 }, 'each letter once');
        assert.equal((await r.store.getJob(id))?.status, 'succeeded');
      } finally {
        await r.close();
      }
    });
  });
}
