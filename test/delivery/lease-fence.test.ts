// The fence before each effect of an attempt (server/delivery/lease-fence.ts): an attempt held up past its lease, whose
// job another pool took over meanwhile, does not send its letter when it goes on; one whose lease is only near its
// end renews it first and sends its letter once. Real parts: smtp-server on loopback, the SMTP mailer, the worker
// pools and the store (SQLite, and PostgreSQL when reachable). The hold-up is a letter whose send does not return
// until the test lets it, and the time that passes meanwhile is a jump of the clocks the store and the first pool
// read; test/delivery/lease-fence-stall.test.ts stops a real process instead.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createSmtpMailer } from '../../adapters/mail/smtp.adapter.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary, randomIds, systemClock, type LoggerPort, type MailerPort, type RunResult, type ScenarioLibrary } from '../../engine/index.js';
import { createWorkerPool, type WorkerPool } from '../../server/delivery/pool.js';
import { deliveryStoreOf, type DeliveryStore } from '../../server/delivery/store-link.js';
import type { Store } from '../../server/store/store.port.js';
import { tempDir } from '../helpers.js';
import { capturingLogger } from '../server/server-helpers.js';
import { startSmtpServer, type TestSmtpServer } from '../mail/smtp-server.helper.js';
import { storeKinds, type StoreKind } from '../store/store-kinds.helper.js';
import { ONE_LETTER, subjectsOf, TWO_LETTERS } from './lease-fence.helper.js';
import { runCliAsync } from '../cli/cli.helper.js';

/** Long enough that no heartbeat runs during a test (it renews every third of the lease): only the fence renews. */
const LEASE_MS = 60_000;

const until = async (what: string, ok: () => boolean, ms = 15_000) => {
  for (let i = 0; i < ms / 20 && !ok(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(ok(), what);
};

type Attempt = { outcome: string; result: RunResult };

interface Rig {
  store: Store;
  /** The folder holding the scenarios and, with SQLite, the store's file (oktell.sqlite: a data folder the CLI reads). */
  dir: string;
  server: TestSmtpServer;
  /** Added to the store's clock and to the lease clock of pools made with `skewed`: time that passed in a stall. */
  skew: { ms: number };
  /** The lease renewals each pool asked for, with the letters the server had received at that moment. */
  renewals: Array<{ pool: string; ids: string[]; lettersBefore: number }>;
  /** Renewals of pool A refused (as if they never left a stalled process) while this is set. */
  renewalsCut: { on: boolean };
  /** The answers of pool A's renewals, to wait for. */
  answered: Array<Promise<unknown>>;
  pool(name: string, o: { skewed?: boolean; leaseMs?: number; afterFirstLetter?: () => Promise<void> | void; logger?: LoggerPort }): { pool: WorkerPool; attempts: Attempt[] };
  close(): Promise<void>;
}

const STORES = await storeKinds('fence', 'oktell.sqlite');

async function rig(kind: StoreKind): Promise<Rig> {
  const t = tempDir();
  writeFileSync(join(t.dir, 'TwoLetters.yaml'), TWO_LETTERS);
  // One letter, then the end: an attempt held up after it has no effect left to fence, so it completes.
  writeFileSync(join(t.dir, 'OneLetter.yaml'), ONE_LETTER);
  const lib: ScenarioLibrary = await loadScenarioLibrary(t.dir, { registry: defaultRegistry });
  assert.deepEqual(lib.issues, []);
  const server = await startSmtpServer();
  const skew = { ms: 0 };
  const { store, drop } = await kind.open(t.dir, { clock: { now: () => Date.now() + skew.ms } });
  const renewals: Rig['renewals'] = [];
  const renewalsCut = { on: false };
  const answered: Array<Promise<unknown>> = [];
  const made: Array<{ pool: WorkerPool; close(): Promise<void> }> = [];
  return {
    store,
    dir: t.dir,
    server,
    skew,
    renewals,
    renewalsCut,
    answered,
    pool(name, o) {
      const base = deliveryStoreOf(store);
      const spied: DeliveryStore = {
        ...base,
        heartbeat: (ids, worker, leaseMs) => {
          if (name === 'A' && renewalsCut.on) return Promise.reject(new Error('stalled'));
          renewals.push({ pool: name, ids, lettersBefore: server.counts.data });
          const answer = base.heartbeat(ids, worker, leaseMs);
          if (name === 'A') answered.push(answer.catch(() => undefined));
          return answer;
        },
      };
      const smtp = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 } });
      let sent = 0;
      // The letter is delivered; the attempt then stays held up in the mailer until the test lets it go on.
      const mailer: MailerPort = {
        ...smtp,
        async send(message, sendOpts) {
          const receipt = await smtp.send(message, sendOpts);
          if (++sent === 1) await o.afterFirstLetter?.();
          return receipt;
        },
      };
      const attempts: Attempt[] = [];
      const pool = createWorkerPool({
        store: spied,
        host: { library: () => lib, libraryWithVersion: () => lib },
        ports: { clock: systemClock, ids: randomIds, mailer },
        concurrency: 1,
        timeZone: 'UTC',
        pollMs: 50,
        leaseMs: o.leaseMs ?? LEASE_MS,
        ...(o.skewed ? { leaseClock: () => performance.now() + skew.ms } : {}),
        onAttempt: (_job, result, outcome) => void attempts.push({ outcome, result }),
        ...(o.logger ? { logger: o.logger } : {}),
      });
      made.push({ pool, close: () => smtp.close() });
      return { pool, attempts };
    },
    async close() {
      for (const m of made) await m.pool.stop(2000);
      for (const m of made) await m.close();
      await server.close();
      await store.close();
      await drop();
      t.cleanup();
    },
  };
}

for (const kind of STORES) {
  describe(`the lease fence before an attempt's effects (${kind.name})`, { timeout: 60_000, ...(kind.skip ? { skip: kind.skip } : {}) }, () => {
    it('an attempt held up past its lease does not send its next letter once another pool has taken the job over', async () => {
      const r = await rig(kind);
      try {
        const [id] = await r.store.enqueueJobs([{ scenario: 'TwoLetters', params: {} }]);
        let goOn!: () => void;
        const heldUp = new Promise<void>((resolve) => (goOn = resolve));
        const a = r.pool('A', {
          skewed: true,
          afterFirstLetter: () => {
            // A stall of more than the lease, as seen by the store (whose clock decides expiry) and by pool A.
            r.skew.ms += LEASE_MS + 5000;
            return heldUp;
          },
        });
        a.pool.start();
        await until('the first letter of the first attempt is delivered', () => r.server.counts.data === 1);
        const log = capturingLogger();
        const b = r.pool('B', { logger: log.logger });
        b.pool.start();
        await until('the second pool took the job over and finished it', () => b.attempts.length === 1);
        assert.equal(b.attempts[0]!.outcome, 'succeeded');
        assert.equal(r.server.counts.data, 3, 'the new owner sent both letters (the first again: its journal entry was never written)');
        // The letter sent again is marked as a candidate repeat, in the run record and in one warning; the next is not.
        const taken = b.attempts[0]!.result;
        assert.deepEqual(taken.mails.map((m) => [m.subject, m.mayRepeat]), [['первое', true], ['второе', undefined]]);
        const stored = (await r.store.getRun(taken.runId))!.mails as Array<{ subject: string; messageId: string; mayRepeat?: boolean }>;
        assert.deepEqual(stored.map((m) => [m.subject, m.mayRepeat]), [['первое', true], ['второе', undefined]]);
        // The list (runs, the console) finds it in the stored record: this run only, not the held-up first attempt's.
        const listed = (await r.store.listRuns({ jobId: id! })).items.filter((x) => x.mayRepeat).map((x) => x.id);
        assert.deepEqual(listed, [taken.runId]);
        const warnings = log.lines.filter((l) => /may repeat it/.test(l.msg ?? ''));
        assert.equal(warnings.length, 1);
        assert.equal(warnings[0]!.level, 'warn');
        assert.ok(warnings[0]!.msg!.includes(`letter ${stored[0]!.messageId} of "`), warnings[0]!.msg);
        assert.ok(!warnings[0]!.msg!.includes(stored[0]!.subject), 'no subject in the log');
        assert.ok(!warnings[0]!.msg!.includes(stored[1]!.messageId), 'the second letter is not named');

        goOn();
        await until('the held-up attempt ended', () => a.attempts.length === 1);
        assert.deepEqual(await subjectsOf(r.server), { первое: 2, второе: 1 }, 'no letter from the held-up attempt after the takeover');
        const { outcome, result } = a.attempts[0]!;
        assert.equal(outcome, 'lease-lost');
        assert.equal(result.error?.code, 'R_LEASE_LOST');
        assert.equal(result.error?.block, 'second');
        assert.match(result.error?.message ?? '', /not made: its lease ran out and another worker took the job over/);
        assert.deepEqual(result.mails.map((m) => [m.subject, m.status]), [['первое', 'sent']], 'the second letter is not in its record: not sent');
        // It asked the store once, right before the letter, and was told the lease was gone.
        assert.deepEqual(r.renewals.filter((x) => x.pool === 'A'), [{ pool: 'A', ids: [id!], lettersBefore: 3 }]);
        assert.equal((await r.store.getJob(id!))?.status, 'succeeded');
      } finally {
        await r.close();
      }
    });

    it('an attempt stops before its next letter, without asking the store, once the heartbeat found its job taken over', async () => {
      const r = await rig(kind);
      // The shortest lease the server accepts: the heartbeat renews every second.
      const leaseMs = 3000;
      try {
        const [id] = await r.store.enqueueJobs([{ scenario: 'TwoLetters', params: {} }]);
        let goOn!: () => void;
        const heldUp = new Promise<void>((resolve) => (goOn = resolve));
        const a = r.pool('A', {
          skewed: true,
          leaseMs,
          afterFirstLetter: () => {
            r.renewalsCut.on = true;
            r.skew.ms += leaseMs + 5000;
            return heldUp;
          },
        });
        a.pool.start();
        await until('the first letter of the first attempt is delivered', () => r.server.counts.data === 1);
        const b = r.pool('B', { leaseMs });
        b.pool.start();
        await until('the second pool took the job over and finished it', () => b.attempts.length === 1);
        assert.equal(b.attempts[0]!.outcome, 'succeeded');
        // The stall ends for the heartbeat first: its next renewal comes back without the job.
        r.renewalsCut.on = false;
        const before = r.renewals.filter((x) => x.pool === 'A').length;
        await until('the heartbeat tried to renew the lease', () => r.renewals.filter((x) => x.pool === 'A').length > before);
        await Promise.all(r.answered);
        // Moved back so that the lease looks young again: only what the heartbeat found can stop the letter now.
        r.skew.ms = 0;
        const asked = r.renewals.filter((x) => x.pool === 'A').length;
        goOn();
        await until('the held-up attempt ended', () => a.attempts.length === 1);
        assert.deepEqual(await subjectsOf(r.server), { первое: 2, второе: 1 }, 'no letter from the held-up attempt after the takeover');
        assert.equal(a.attempts[0]!.outcome, 'lease-lost');
        assert.equal(a.attempts[0]!.result.error?.code, 'R_LEASE_LOST');
        assert.match(a.attempts[0]!.result.error?.message ?? '', /the heartbeat could not renew its lease/);
        assert.equal(r.renewals.filter((x) => x.pool === 'A').length, asked, 'the fence made no renewal of its own');
        assert.equal((await r.store.getJob(id!))?.status, 'succeeded');
      } finally {
        await r.close();
      }
    });

    it('an attempt whose lease is near its end renews it before the letter and sends it once', async () => {
      const r = await rig(kind);
      try {
        const [id] = await r.store.enqueueJobs([{ scenario: 'TwoLetters', params: {} }]);
        // The first letter takes most of the lease (as a slow server or a short stall would), but not all of it.
        const a = r.pool('A', { skewed: true, afterFirstLetter: () => void (r.skew.ms += LEASE_MS * 0.8) });
        a.pool.start();
        await until('the attempt ended', () => a.attempts.length === 1);
        assert.equal(a.attempts[0]!.outcome, 'succeeded');
        assert.deepEqual(a.attempts[0]!.result.mails.map((m) => [m.subject, m.status]), [['первое', 'sent'], ['второе', 'sent']]);
        assert.deepEqual(await subjectsOf(r.server), { первое: 1, второе: 1 });
        // One renewal, between the two letters: the second letter went out under a renewed lease.
        assert.deepEqual(r.renewals, [{ pool: 'A', ids: [id!], lettersBefore: 1 }]);
        assert.equal((await r.store.getJob(id!))?.status, 'succeeded');
      } finally {
        await r.close();
      }
    });

    it('an attempt that completes after its job was taken over is recorded as completed but not counted (operator trial L2)', async () => {
      const r = await rig(kind);
      try {
        const [id] = await r.store.enqueueJobs([{ scenario: 'OneLetter', params: {} }]);
        let goOn!: () => void;
        const heldUp = new Promise<void>((resolve) => (goOn = resolve));
        const a = r.pool('A', { skewed: true, afterFirstLetter: () => ((r.skew.ms += LEASE_MS + 5000), heldUp) });
        a.pool.start();
        await until('the letter of the first attempt is delivered', () => r.server.counts.data === 1);
        const b = r.pool('B', {});
        b.pool.start();
        await until('the second pool took the job over and finished it', () => b.attempts.length === 1);
        assert.equal(b.attempts[0]!.outcome, 'succeeded');
        goOn();
        await until('the held-up attempt ended', () => a.attempts.length === 1);
        const { outcome, result } = a.attempts[0]!;
        assert.deepEqual([outcome, result.status], ['lease-lost', 'completed'], 'it completed, and its end was refused');
        const held = (await r.store.getRun(result.runId))!;
        assert.equal(held.status, 'completed');
        assert.equal((held.error as { code?: string } | null)?.code, 'LEASE_LOST_NOT_COUNTED');
        assert.match(String((held.error as { message?: string }).message), /its end was not accepted: the job was no longer this worker's \(its lease expired and another worker took it over, or the server's stop gave it back to the queue\)/);
        const taken = (await r.store.getRun(b.attempts[0]!.result.runId))!;
        assert.deepEqual([taken.status, taken.error], ['completed', null], 'the takeover that counts has no mark');
        assert.equal((await r.store.getJob(id!))?.status, 'succeeded');
        if (kind.name === 'SQLite') {
          const runs = await runCliAsync(['runs', '--data-dir', r.dir]);
          assert.equal(runs.code, 0, runs.stderr);
          assert.match(runs.stdout, new RegExp(`completed .*${result.runId} job ${id} #1 \\(lease lost: not counted\\)`));
          const show = await runCliAsync(['show', result.runId, '--data-dir', r.dir]);
          assert.match(show.stdout, new RegExp(`OneLetter completed \\(lease lost: not counted\\) run ${result.runId}`));
          assert.match(show.stdout, /error .*its end was not accepted/);
        }
      } finally {
        await r.close();
      }
    });

    it('an attempt well inside its lease asks the store nothing before its letters', async () => {
      const r = await rig(kind);
      try {
        await r.store.enqueueJobs([{ scenario: 'TwoLetters', params: {} }]);
        const a = r.pool('A', { skewed: true });
        a.pool.start();
        await until('the attempt ended', () => a.attempts.length === 1);
        assert.equal(a.attempts[0]!.outcome, 'succeeded');
        assert.deepEqual(await subjectsOf(r.server), { первое: 1, второе: 1 });
        assert.deepEqual(r.renewals, [], 'no renewal, no extra statement per letter');
      } finally {
        await r.close();
      }
    });
  });
}
