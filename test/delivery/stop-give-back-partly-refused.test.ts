// A graceful stop gives its running jobs back in two statements: those whose journal holds all their attempt made
// (journaled), and the rest (an effect in flight). The store may refuse one and take the other. The jobs it took are
// given back: their attempts must stay fenced, and the stop's report must count them as given back. Before, any
// refusal was taken for the whole give-back: on SQLite every attempt was let go on, so one whose job was already back
// in the queue sent its letter (outside the journal the job was given back as holding everything).
// Real parts: a SQLite store file (the give-back of the jobs with an effect in flight refused as a full disk refuses
// a write), the Bpium emulator over HTTP (the read one attempt is cut in, held up), smtp-server on loopback (the other
// attempt's letter, its reply held up).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunResult } from '../../engine/index.js';
import type { DeliveryStore } from '../../server/delivery/store-link.js';
import { diskFull, givingBackPool, READ_THEN_MAIL, sqliteStopRig, until } from './pool.helper.js';

/** How long the read and the first letter's reply are held up: past the stop's grace period. */
const HELD_MS = 2000;

const MAIL = `start: mail
blocks:
  mail:
    kind: SendMail
    to: '"petr@example.com"'
    subject: '"сразу"'
    text: '"t"'
    exits: { success: sent }
  sent:
    kind: ReturnValue
    values: { 1: '"sent"' }
`;

describe('a graceful stop whose give-back the store takes in part', { timeout: 60_000 }, () => {
  it('the jobs given back stay fenced and are reported given back; only those refused go on', async () => {
    const rig = await sqliteStopRig('oktell-give-back-partly-', { 'ReadThenMail.yaml': READ_THEN_MAIL, 'Mail.yaml': MAIL }, { dataReplyDelayMs: (n) => (n === 1 ? HELD_MS : 0) });
    const { store, smtp, emu, real } = rig;
    // The give-back of the jobs not journaled whole is refused; the other statement is taken.
    const partly: DeliveryStore = {
      ...real,
      releaseJobs: async (ids, worker, error) =>
        (error as { journaled?: boolean } | undefined)?.journaled === true
          ? real.releaseJobs(ids, worker, error)
          : Promise.reject(diskFull()),
    };
    const attempts: Array<{ jobId: string; outcome: string; result: RunResult }> = [];
    const pool = givingBackPool(partly, rig.lib, rig.ports, { concurrency: 2, onAttempt: (job, result, outcome) => void attempts.push({ jobId: job.id, outcome, result }) });
    try {
      emu.injectFaults({ delayMs: HELD_MS, times: 1, method: 'GET', pathPrefix: '/api/v1/catalogs/3' });
      const [reading, mailing] = await store.enqueueJobs([
        { scenario: 'ReadThenMail', params: {} },
        { scenario: 'Mail', params: {} },
      ]);
      pool.start();
      await until('the letter is at the sink, its reply held', () => smtp.letters.length === 1);
      await until('the other job is running', async () => (await store.getJob(reading!))?.status === 'running');
      await new Promise((r) => setTimeout(r, 300));
      const report = await pool.stop(200);
      assert.deepEqual(report, { unfinished: 2, unrecorded: [], leased: 1 }, 'one given back, one left leased (its give-back refused)');
      await until('both attempts ended', () => attempts.length === 2, HELD_MS + 5000);

      const back = await store.getJob(reading!);
      assert.deepEqual([back?.status, back?.attempts, (back?.lastError as { journaled?: boolean } | null)?.journaled], ['queued', 0, true], 'given back, journaled whole');
      const cut = attempts.find((a) => a.jobId === reading)!;
      assert.equal(cut.outcome, 'given-back');
      assert.equal(cut.result.error?.block, 'mail', 'its letter refused by the fence: the job is back in the queue');

      // The refused one is this process's still: its letter's reply comes, and it completes, counted once.
      const done = await store.getJob(mailing!);
      assert.deepEqual([done?.status, done?.attempts], ['succeeded', 1]);
      assert.equal(smtp.letters.length, 1, 'only the letter of the job not given back was sent');
    } finally {
      await rig.close(pool);
    }
  });
});
