// A graceful stop gives a running job back after writing the journal entries its attempt left waiting (so that the
// job can be given back as journaled whole). That write takes a round trip to the store; meanwhile the attempt, fenced
// already, runs on: it reaches its next effect, is refused by its fence, and ends. Its end must not reach the store
// before the give-back: the job still leased to this pool then, the store took it as a counted, failed attempt (with
// the message that the job was given back), and a job on its last attempt became a dead letter on a mere restart.
// Real parts: a SQLite store file (its journal write held until the attempt's end is sent, or 200 ms), smtp-server on
// loopback as the sink; the run waits in a loop of blocks reading the engine clock, which the test moves on.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createSmtpMailer } from '../../adapters/mail/smtp.adapter.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary, randomIds, type RunResult } from '../../engine/index.js';
import type { PoolStopReport } from '../../server/delivery/pool.js';
import { deliveryStoreOf, type DeliveryStore } from '../../server/delivery/store-link.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { tempDir } from '../helpers.js';
import { givingBackPool, until } from './pool.helper.js';
import { startSmtpServer } from '../mail/smtp-server.helper.js';

/** A letter, then blocks that compute (no effect, no read) until the clock says 2027, then a second letter. */
const MAIL_LOOP_MAIL = `start: first
blocks:
  first:
    kind: SendMail
    to: '"ivan@example.com"'
    subject: '"first"'
    text: '"t"'
    exits: { success: wait }
  wait:
    kind: Condition
    expression: 'FormatDate(Now(), "yyyy") = "2026"'
    exits: { true: wait, false: second }
  second:
    kind: SendMail
    to: '"ivan@example.com"'
    subject: '"second"'
    text: '"t"'
    exits: { success: done }
  done:
    kind: ReturnValue
    values: { 1: '"done"' }
`;

describe('a graceful stop gives back a job whose attempt left journal entries waiting', { timeout: 60_000 }, () => {
  it('the attempt\'s end, refused by its fence meanwhile, does not overtake the give-back: the job is given back uncounted, not failed', async () => {
    const t = tempDir('oktell-give-back-race-');
    writeFileSync(join(t.dir, 'MailLoopMail.yaml'), MAIL_LOOP_MAIL);
    const lib = await loadScenarioLibrary(t.dir, { registry: defaultRegistry });
    assert.deepEqual(lib.issues, []);
    const store = await openSqliteStore({ file: join(t.dir, 'q.db') });
    const smtp = await startSmtpServer();
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${smtp.port}`, from: 'robot@example.com', retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 } });
    const real = deliveryStoreOf(store);
    let stop: Promise<PoolStopReport> | undefined;
    let year = 2026;
    /** Resolves when the attempt's end is sent to the store. */
    let endSent!: () => void;
    const ended = new Promise<void>((r) => (endSent = r));
    const held = (ms: number) => Promise.race([ended, new Promise((r) => setTimeout(r, ms))]);
    const store2: DeliveryStore = {
      ...real,
      // Once the stop began: the write of the waiting entries lets the run go on (the clock moves to 2027), and
      // reaches the store after the attempt's end if that comes within 200 ms (within the quarter second the stop waits for it).
      putEffectGroup: async (entries) => {
        if (stop) {
          year = 2027;
          await held(200);
        }
        return real.putEffectGroup(entries);
      },
      failJob: (...a) => (endSent(), real.failJob(...a)),
      completeJob: (...a) => (endSent(), real.completeJob(...a)),
    };
    const attempts: Array<{ outcome: string; result: RunResult }> = [];
    const pool = givingBackPool(store2, lib, {
      // Read by the loop: once the first letter is at the sink (the loop runs), the pool is stopped.
      clock: {
        now: () => {
          if (!stop && smtp.letters.length === 1) setImmediate(() => (stop ??= pool.stop(1)));
          return new Date(Date.UTC(year, 5, 1));
        },
      },
      ids: randomIds,
      mailer,
    }, { onAttempt: (_job, result, outcome) => void attempts.push({ outcome, result }) });
    try {
      // Its last attempt: counted as failed, it would be a dead letter.
      const [id] = await store.enqueueJobs([{ scenario: 'MailLoopMail', params: {}, maxAttempts: 1 }]);
      pool.start();
      await until('the pool is stopping', () => stop !== undefined);
      const report = await stop!;
      await until('the cut attempt ended', () => attempts.length === 1);
      const job = await store.getJob(id!);
      assert.deepEqual(
        [job?.status, job?.attempts, (job?.lastError as { code?: string } | null)?.code],
        ['queued', 0, 'STOPPED'],
        `given back uncounted, not failed by its refused end: ${JSON.stringify(job?.lastError)}`,
      );
      assert.deepEqual(report, { unfinished: 1, unrecorded: [], leased: 0 }, 'given back by this pool, not taken over');
      assert.equal(attempts[0]!.outcome, 'given-back');
      assert.equal(attempts[0]!.result.error?.block, 'second', 'its second letter refused by the fence');
      assert.equal(smtp.letters.length, 1, 'one letter sent');
      assert.equal((job?.lastError as { journaled?: boolean }).journaled, true, 'its first letter in the journal: given back as journaled whole');
    } finally {
      await pool.stop(100);
      await mailer.close();
      await smtp.close();
      await store.close();
      t.cleanup();
    }
  });
});
