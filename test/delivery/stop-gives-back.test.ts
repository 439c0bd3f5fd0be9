// A graceful stop on PostgreSQL gives the jobs still running at the end of its grace period back to the queue, so that
// another instance takes them at once instead of when their lease expires; the cut attempt, which runs on in the
// stopping process until it exits, is fenced before the give-back is sent, so it makes no effect once the other
// instance may run the job. Real parts: two worker pools on one PostgreSQL store, the Bpium emulator over HTTP (the
// read the attempt is cut in, held up by an injected delay), smtp-server on loopback as the sink that counts letters.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createBpiumClient } from '../../adapters/bpium/client.js';
import { createSmtpMailer } from '../../adapters/mail/smtp.adapter.js';
import { startBpiumEmulator } from '../../bpium-emulator/emulator.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary, randomIds, RUN_ERROR_CODES, systemClock, type RunResult } from '../../engine/index.js';
import { createWorkerPool, type WorkerPool } from '../../server/delivery/pool.js';
import { deliveryStoreOf } from '../../server/delivery/store-link.js';
import { openPostgresStore } from '../../server/store/postgres.store.js';
import { tempDir } from '../helpers.js';
import { READ_THEN_MAIL, until } from './pool.helper.js';
import { startSmtpServer } from '../mail/smtp-server.helper.js';
import { dropSchema, querySchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';

/** Reads an employee from Bpium (the article's flow), then writes to them. */

/** Longer than any of these tests: a job that waits for its lease to expire is not taken over within them. */
const LEASE_MS = 60_000;
/** How long the first read of the employee is held up: past the stop's grace period, within the test. */
const READ_DELAY_MS = 3000;

const pg = await testPostgres();

/** The job is running and its read has reached the emulator, held up there (the emulator logs a request once answered). */
async function readHeldUp(r: { jobRow(id: string): Promise<{ status: string }> }, id: string): Promise<void> {
  await until('the job is running', async () => (await r.jobRow(id)).status === 'running');
  await new Promise((res) => setTimeout(res, 500));
}

describe('a graceful stop on PostgreSQL gives a job still running back at once, its attempt fenced first', { timeout: 60_000, ...(pg.skip ? { skip: pg.skip } : {}) }, () => {
  async function rig(smtpOpts: Parameters<typeof startSmtpServer>[0] = {}) {
    const t = tempDir('oktell-stop-gives-back-');
    writeFileSync(join(t.dir, 'ReadThenMail.yaml'), READ_THEN_MAIL);
    const lib = await loadScenarioLibrary(t.dir, { registry: defaultRegistry });
    assert.deepEqual(lib.issues, []);
    const schema = randomSchemaName('stopback');
    const store = await openPostgresStore({ url: urlWithSchema(pg.url!, schema), poolSize: 4 });
    const smtp = await startSmtpServer(smtpOpts);
    const emu = await startBpiumEmulator({ port: 0, dataDir: join(t.dir, 'bpium') });
    const closers: Array<() => Promise<void>> = [];
    const pool = () => {
      const bpium = createBpiumClient({ url: emu.url, login: emu.login, password: emu.password, rateLimit: false, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
      const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${smtp.port}`, from: 'robot@example.com', retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 } });
      const attempts: Array<{ outcome: string; result: RunResult }> = [];
      const logged: string[] = [];
      const log = (level: string) => (_o: object, msg?: string) => void logged.push(`${level} ${msg ?? ''}`);
      const p: WorkerPool = createWorkerPool({
        store: deliveryStoreOf(store),
        host: { library: () => lib, libraryWithVersion: () => lib },
        ports: { clock: systemClock, ids: randomIds, mailer, bpium },
        concurrency: 1,
        timeZone: 'UTC',
        pollMs: 50,
        leaseMs: LEASE_MS,
        // As serve sets them up on PostgreSQL (server/delivery/index.ts).
        releaseOnStop: true,
        sharedStore: true,
        logger: { debug: () => undefined, info: log('info'), warn: log('warn'), error: log('error') },
        onAttempt: (_job, result, outcome) => void attempts.push({ outcome, result }),
      });
      closers.push(async () => {
        await p.stop(100);
        await mailer.close();
      });
      return { pool: p, attempts, logged };
    };
    return {
      store,
      smtp,
      emu,
      pool,
      jobRow: async (id: string) =>
        (await querySchema<{ status: string; lease_owner: string | null; lease_expires_at: string | null; attempts: number }>(pg.url!, schema, 'SELECT status, lease_owner, lease_expires_at, attempts FROM jobs WHERE id = $1', [id]))[0]!,
      expireLease: (id: string) => querySchema(pg.url!, schema, 'UPDATE jobs SET lease_expires_at = 0 WHERE id = $1', [id]),
      async close() {
        // The cut attempts end when their held-up read does: before the store closes.
        await new Promise((r) => setTimeout(r, READ_DELAY_MS));
        for (const c of closers) await c();
        await emu.close();
        await smtp.close();
        await store.close();
        await dropSchema(pg.url!, schema);
        t.cleanup();
      },
    };
  }

  /** A job of ReadThenMail run by a first pool of the rig, its read of the employee held up at the emulator. */
  async function runningWithReadHeldUp(r: Awaited<ReturnType<typeof rig>>) {
    r.emu.injectFaults({ delayMs: READ_DELAY_MS, times: 1, method: 'GET', pathPrefix: '/api/v1/catalogs/3' });
    const [id] = await r.store.enqueueJobs([{ scenario: 'ReadThenMail', params: {} }]);
    const a = r.pool();
    a.pool.start();
    await readHeldUp(r, id!);
    return { id: id!, a };
  }

  it('another pool finishes the job within seconds, though the lease would hold it a minute; the stopped one sends nothing after the give-back, and the letter goes out once', async () => {
    const r = await rig();
    try {
      const { id, a } = await runningWithReadHeldUp(r);
      // Stopped while the read is held up: the grace period ends first.
      const report = await a.pool.stop(300);
      assert.deepEqual(report, { unfinished: 1, unrecorded: [], leased: 0 }, 'the job is given back, not left under its lease');
      const back = await r.jobRow(id);
      assert.deepEqual([back.status, back.lease_owner, back.lease_expires_at, back.attempts], ['queued', null, null, 0], 'queued again, no lease, the cut attempt not counted');
      const stopped = (await r.store.getJob(id))!.lastError as { code?: string; journaled?: boolean };
      assert.equal(stopped.code, 'STOPPED', 'the next attempt knows the job was cut off and consults the journal');
      // Cut in a read, with no effect in flight: its journal held everything it had made.
      assert.equal(stopped.journaled, true, 'given back as journaled whole');

      const given = Date.now();
      const b = r.pool();
      b.pool.start();
      await until('the other pool finished the job', async () => (await r.store.getJob(id))?.status === 'succeeded', 5000);
      assert.ok(Date.now() - given < 5000, 'taken over at once, not after the 60 s lease');
      assert.equal(b.attempts[0]!.outcome, 'succeeded');
      assert.deepEqual(b.attempts[0]!.result.mails.map((m) => [m.subject, m.status]), [['после чтения', 'sent']]);
      // Nothing the cut attempt made can be repeated: the letter is not suspected of being a twin, nor logged so.
      assert.deepEqual(b.attempts[0]!.result.mayRepeat ?? [], [], 'no effect flagged may repeat');
      assert.equal(b.attempts[0]!.result.mails[0]!.mayRepeat, undefined);
      assert.ok(!b.logged.some((l) => /may repeat/i.test(l)), b.logged.join('\n'));
      assert.equal((await r.jobRow(id)).attempts, 1, 'one attempt counted: the one that finished');

      // The cut attempt's read comes back after the give-back: its letter is refused by its fence, never sent.
      await until('the cut attempt ended', () => a.attempts.length === 1, READ_DELAY_MS + 5000);
      const cut = a.attempts[0]!;
      assert.equal(cut.outcome, 'given-back');
      assert.equal(cut.result.error?.code, RUN_ERROR_CODES.LEASE_LOST);
      assert.equal(cut.result.error?.block, 'mail');
      assert.match(cut.result.error?.message ?? '', /the server is stopping and gave the job back to the queue/);
      assert.deepEqual(cut.result.mails.filter((m) => m.status === 'sent'), [], 'the stopped pool sent nothing');
      assert.ok(a.logged.some((l) => l.startsWith('warn run ReadThenMail failed after the stop gave the job back to the queue: another instance runs it')), a.logged.join('\n'));
      assert.equal(r.smtp.letters.length, 1, 'one letter at the sink');
      assert.equal((await r.store.getJob(id))?.status, 'succeeded', 'the refused end of the cut attempt changed nothing');
    } finally {
      await r.close();
    }
  });

  it('the give-back leaves alone a job another instance has taken over: only this pool\'s leases are released', async () => {
    const r = await rig();
    try {
      const { id, a } = await runningWithReadHeldUp(r);
      // Its lease runs out (a stall, say) and another instance claims the job while the read is still held up.
      await r.expireLease(id!);
      const [taken] = await r.store.claimJobs('other-instance', 1, LEASE_MS);
      assert.equal(taken?.id, id);
      const before = await r.jobRow(id);
      assert.equal(before.lease_owner, 'other-instance');

      const report = await a.pool.stop(300);
      assert.deepEqual(report, { unfinished: 1, unrecorded: [], leased: 0, takenOver: 1 }, 'nothing given back: the job is not this pool\'s any more (taken over, not left under this pool\'s lease)');
      assert.deepEqual(await r.jobRow(id), before, 'the other instance\'s lease, status and attempts untouched');
      await until('the cut attempt ended', () => a.attempts.length === 1, READ_DELAY_MS + 5000);
      assert.equal(a.attempts[0]!.result.error?.code, RUN_ERROR_CODES.LEASE_LOST);
      assert.equal(r.smtp.letters.length, 0, 'the stopped pool sent nothing');
      assert.deepEqual(await r.jobRow(id), before, 'its refused end did not touch the job either');
    } finally {
      await r.close();
    }
  });
  it('a letter still in flight when the grace period ends: given back as cut off, and the other pool\'s letter is flagged may repeat (it is sent twice)', async () => {
    // The sink records the first letter at once and holds its reply past the grace period: the letter is past its
    // fence when the stop gives the job back, so its journal entry may never reach the store.
    const r = await rig({ dataReplyDelayMs: (n) => (n === 1 ? READ_DELAY_MS : 0) });
    try {
      const [id] = await r.store.enqueueJobs([{ scenario: 'ReadThenMail', params: {} }]);
      const a = r.pool();
      a.pool.start();
      await until('the letter is at the sink, its reply held', () => r.smtp.letters.length === 1);
      const report = await a.pool.stop(300);
      assert.deepEqual(report, { unfinished: 1, unrecorded: [], leased: 0 });
      const stopped = (await r.store.getJob(id!))!.lastError as { code?: string; journaled?: boolean };
      assert.equal(stopped.code, 'STOPPED');
      assert.equal(stopped.journaled, undefined, 'an effect was in flight: not journaled whole');

      const b = r.pool();
      b.pool.start();
      await until('the other pool finished the job', async () => (await r.store.getJob(id!))?.status === 'succeeded', 5000);
      assert.equal(b.attempts[0]!.result.mails[0]!.mayRepeat, true, 'its letter may be a twin of the cut attempt\'s');
      assert.ok(b.logged.some((l) => /may repeat/i.test(l)), b.logged.join('\n'));
      assert.equal(r.smtp.letters.length, 2, 'sent twice, as flagged');
    } finally {
      await r.close();
    }
  });
});
