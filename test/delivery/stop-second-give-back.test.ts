// Two graceful stops in a row, end to end. The first stop cuts an attempt with a letter in flight: the job goes back
// to the queue as cut off (not journaled), since that letter may have left without its journal entry. The next attempt
// is stopped in turn, in a live read before it has written an effect of its own: its journal holds everything it made
// (nothing), but not the first attempt's maybe-sent letter, so it must not be given back as "journaled whole" either.
// Otherwise the third attempt would take the suspicion as cleared and send that letter again unflagged. Run on
// PostgreSQL and SQLite, with the pool on the main thread and on a delivery thread (workers.thread, as serve starts
// it). Real parts: the store, the Bpium emulator over HTTP (the read held up by an injected delay), smtp-server on
// loopback (the reply to a letter held up), and for the thread mode the delivery thread itself.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createBpiumClient } from '../../adapters/bpium/client.js';
import { createSmtpMailer } from '../../adapters/mail/smtp.adapter.js';
import { startBpiumEmulator } from '../../bpium-emulator/emulator.js';
import { defaultRegistry } from '../../components/registry.js';
import { DEFAULT_MAX_EFFECTS, loadScenarioLibrary, randomIds, systemClock } from '../../engine/index.js';
import { createWorkerPool, type WorkerPool } from '../../server/delivery/pool.js';
import { deliveryStoreOf } from '../../server/delivery/store-link.js';
import { createThreadedWorkerPool } from '../../server/delivery/threaded-pool.js';
import { DEFAULT_RUN_RECORD_BYTES } from '../../server/run-budget.js';
import { openPostgresStore } from '../../server/store/postgres.store.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import type { Store } from '../../server/store/store.port.js';
import { tempDir } from '../helpers.js';
import { startSmtpServer } from '../mail/smtp-server.helper.js';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { until } from './pool.helper.js';

/**
 * A first letter, a read of the employee from Bpium, a second letter. The read's answer is journaled only with an
 * effect after it: an attempt cut in the second letter leaves the read unjournaled, so the next attempt replays the
 * first letter and then reads Bpium live, where a stop can cut it before it has written an effect of its own.
 */
const MAIL_READ_MAIL = `variables:
  email: string
start: first
blocks:
  first:
    kind: SendMail
    to: '"ivan@example.com"'
    subject: '"первое"'
    text: '"t"'
    exits: { success: read }
  read:
    kind: Bpium
    method: getRecord
    catalog: '"3"'
    record: '"2"'
    fields: { email: '"2"' }
    exits: { success: second }
  second:
    kind: SendMail
    to: '"ivan@example.com"'
    subject: '"второе"'
    text: '"t"'
    exits: { success: sent }
  sent:
    kind: ReturnValue
    values: { 1: '"sent"' }
`;

/** How long the held-up answers (the reply to the first attempt's second letter, the second attempt's read) take. */
const HELD_MS = 3000;
/** The stops' grace period: well within HELD_MS. */
const GRACE_MS = 300;
/**
 * Past the test: a letter whose reply is slow is not marked pending in the journal (the mark would make the third
 * attempt refuse the letter as of unknown outcome instead of sending it flagged: another guard, tested elsewhere).
 */
const PENDING_MARK_MS = 30_000;

const pg = await testPostgres();

type Mode = { store: 'postgres' | 'sqlite'; thread: boolean };
const MODES: Mode[] = [
  { store: 'postgres', thread: false },
  { store: 'postgres', thread: true },
  { store: 'sqlite', thread: false },
  { store: 'sqlite', thread: true },
];

async function rig(mode: Mode) {
  const t = tempDir('oktell-second-stop-');
  const scenariosDir = join(t.dir, 'scenarios');
  mkdirSync(scenariosDir);
  writeFileSync(join(scenariosDir, 'MailReadMail.yaml'), MAIL_READ_MAIL);
  const lib = await loadScenarioLibrary(scenariosDir, { registry: defaultRegistry });
  assert.deepEqual(lib.issues, []);
  const schema = randomSchemaName('secondstop');
  const store: Store = mode.store === 'postgres' ? await openPostgresStore({ url: urlWithSchema(pg.url!, schema), poolSize: 4 }) : await openSqliteStore({ file: join(t.dir, 'q.db') });
  // The first attempt's second letter (the sink's second) is recorded at once, its reply held past the grace period.
  const smtp = await startSmtpServer({ dataReplyDelayMs: (n) => (n === 2 ? HELD_MS : 0) });
  const emu = await startBpiumEmulator({ port: 0, dataDir: join(t.dir, 'bpium') });
  const bpiumOptions = { url: emu.url, login: emu.login, password: emu.password, rateLimit: false as const, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } };
  const common = { concurrency: 1, timeZone: 'UTC', pollMs: 50, leaseMs: 60_000, releaseOnStop: true, sharedStore: mode.store === 'postgres' } as const;
  const closers: Array<() => Promise<void>> = [];

  /** A pool as serve sets it up (server/delivery/index.ts), on the main thread or on a delivery thread. */
  const pool = async () => {
    const logged: string[] = [];
    const log = (level: string) => (_o: object, msg?: string) => void logged.push(`${level} ${msg ?? ''}`);
    const logger = { debug: () => undefined, info: log('info'), warn: log('warn'), error: log('error') };
    let p: WorkerPool;
    if (mode.thread) {
      p = createThreadedWorkerPool({
        store: deliveryStoreOf(store),
        logger,
        init: {
          ...common,
          env: { SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, MAIL_FROM: 'robot@example.com', SMTP_PENDING_MARK_MS: String(PENDING_MARK_MS) },
          scenariosDir,
          dataDir: join(t.dir, 'var'),
          inFlightCell: new Int32Array(new SharedArrayBuffer(4)),
          logLevels: ['info', 'warn', 'error'],
          bpium: { kind: 'client', options: bpiumOptions },
          databases: {},
          webRequest: {},
          regexBudgetMs: 1000,
          maxEffects: DEFAULT_MAX_EFFECTS,
          runRecordBytes: DEFAULT_RUN_RECORD_BYTES,
        },
      });
      closers.push(async () => void (await p.stop(100)));
    } else {
      const bpium = createBpiumClient(bpiumOptions);
      const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${smtp.port}`, from: 'robot@example.com', pendingMarkMs: PENDING_MARK_MS, retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 } });
      p = createWorkerPool({
        ...common,
        store: deliveryStoreOf(store),
        host: { library: () => lib, libraryWithVersion: () => lib },
        ports: { clock: systemClock, ids: randomIds, mailer, bpium },
        logger,
      });
      closers.push(async () => {
        await p.stop(100);
        await mailer.close();
      });
    }
    await p.start();
    return { pool: p, logged };
  };

  return {
    store,
    smtp,
    emu,
    pool,
    async close() {
      // The cut attempts on the main thread end when their held-up answers come: before the store closes.
      if (!mode.thread) await new Promise((r) => setTimeout(r, HELD_MS + 500));
      for (const c of closers) await c();
      await emu.close();
      await smtp.close();
      await store.close();
      if (mode.store === 'postgres') await dropSchema(pg.url!, schema);
      t.cleanup();
    },
  };
}

for (const mode of MODES) {
  const name = `${mode.store === 'postgres' ? 'PostgreSQL' : 'SQLite'}, delivery ${mode.thread ? 'on its own thread' : 'on the main thread'}`;
  const skip = mode.store === 'postgres' && pg.skip ? { skip: pg.skip } : {};
  describe(`a second graceful stop before the next attempt wrote an effect keeps the cut attempt's suspicion (${name})`, { timeout: 60_000, ...skip }, () => {
    it('the second attempt is given back as cut off, not journaled whole; the third flags the letter the first may have sent', async () => {
      const r = await rig(mode);
      try {
        const [id] = await r.store.enqueueJobs([{ scenario: 'MailReadMail', params: {} }]);
        const job = async () => (await r.store.getJob(id!))!;

        // Attempt 1: its second letter is at the sink, the reply held; the stop gives the job back with it in flight.
        const a = await r.pool();
        await until('the second letter is at the sink, its reply held', () => r.smtp.letters.length === 2);
        assert.deepEqual(await a.pool.stop(GRACE_MS), { unfinished: 1, unrecorded: [], leased: 0 });
        const first = (await job()).lastError as { code?: string; journaled?: boolean };
        assert.deepEqual([(await job()).status, first.code, first.journaled], ['queued', 'STOPPED', undefined], 'a letter was in flight: given back as cut off');

        // Attempt 2: replays the first letter, then reads Bpium live; the read is held up and a stop cuts it there,
        // before it has written an effect of its own.
        r.emu.injectFaults({ delayMs: HELD_MS, times: 1, method: 'GET', pathPrefix: '/api/v1/catalogs/3' });
        const b = await r.pool();
        await until('the second attempt runs', async () => (await job()).status === 'running');
        await new Promise((res) => setTimeout(res, 500));
        assert.deepEqual(await b.pool.stop(GRACE_MS), { unfinished: 1, unrecorded: [], leased: 0 }, 'still in its read when the grace period ended');
        assert.equal(r.smtp.letters.length, 2, 'the second attempt sent nothing (its first letter replayed)');
        const second = await job();
        const secondError = second.lastError as { code?: string; journaled?: boolean };
        assert.deepEqual([second.status, second.attempts, secondError.code], ['queued', 0, 'STOPPED']);
        // Its own journal lacks nothing, but the first attempt's second letter may be missing from it.
        assert.equal(secondError.journaled, undefined, 'not given back as journaled whole: the first attempt\'s letter may have been sent');

        // Attempt 3: replays the first letter, reads, sends the second letter flagged as a possible twin.
        const c = await r.pool();
        await until('the third attempt finished the job', async () => (await job()).status === 'succeeded', 10_000);
        const done = await job();
        const run = (await r.store.getRun(done.lastRunId!))!;
        const mails = run.mails as Array<{ subject: string; status: string; mayRepeat?: boolean }>;
        assert.deepEqual(mails.map((m) => [m.subject, m.status, m.mayRepeat]), [['первое', 'replayed', undefined], ['второе', 'sent', true]], 'the second letter may repeat the first attempt\'s');
        assert.equal(run.mayRepeat, true, 'runs and the console list it as a possible repeat');
        await until('the may-repeat warning reached the logger', () => c.logged.some((l) => /^warn job .*may repeat it: letter <[^>]+> of "second"/.test(l)), 5000);
        assert.equal(r.smtp.letters.length, 3, 'the second letter went out twice, as flagged; the first once');
        assert.equal(done.attempts, 1, 'the two cut attempts are not counted');
      } finally {
        await r.close();
      }
    });
  });
}
