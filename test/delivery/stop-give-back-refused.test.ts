// A graceful stop on SQLite whose give-back of a running job the store refuses (a full disk, say): the job is still
// this process's alone (no other process claims from a SQLite file), so its attempt goes on and may finish before the
// process exits, as before the stop fenced attempts. Fenced for good, it failed at its next effect with R_LEASE_LOST
// saying the job was given back (it was not), and that failure was then recorded as a counted attempt.
// Real parts: a SQLite store file (its give-back refused as the store refuses a write), the Bpium emulator over HTTP
// (the read the attempt is cut in, held up), smtp-server on loopback as the sink.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunResult } from '../../engine/index.js';
import type { DeliveryStore } from '../../server/delivery/store-link.js';
import { diskFull, givingBackPool, READ_THEN_MAIL, sqliteStopRig, until } from './pool.helper.js';

/** How long the read is held up: past the stop's grace period. */
const READ_DELAY_MS = 2000;

describe('a graceful stop on SQLite whose give-back the store refuses', { timeout: 60_000 }, () => {
  it('the running attempt is not fenced: it sends its letter and completes, its attempt counted once', async () => {
    const rig = await sqliteStopRig('oktell-give-back-refused-', { 'ReadThenMail.yaml': READ_THEN_MAIL });
    const { store, smtp, emu } = rig;
    // The store refuses the give-back as it refuses any write on a full disk: nothing of it is written.
    const refusing: DeliveryStore = { ...rig.real, releaseJobs: async () => Promise.reject(diskFull()) };
    const attempts: Array<{ outcome: string; result: RunResult }> = [];
    const pool = givingBackPool(refusing, rig.lib, rig.ports, { onAttempt: (_job, result, outcome) => void attempts.push({ outcome, result }) });
    try {
      emu.injectFaults({ delayMs: READ_DELAY_MS, times: 1, method: 'GET', pathPrefix: '/api/v1/catalogs/3' });
      const [id] = await store.enqueueJobs([{ scenario: 'ReadThenMail', params: {} }]);
      pool.start();
      await until('the job is running', async () => (await store.getJob(id!))?.status === 'running');
      await new Promise((r) => setTimeout(r, 300));
      const report = await pool.stop(200);
      assert.deepEqual(report, { unfinished: 1, unrecorded: [], leased: 1 }, 'not given back: still leased to this process');
      await until('the cut attempt ended', () => attempts.length === 1, READ_DELAY_MS + 5000);
      const [a] = attempts;
      assert.equal(a!.result.error?.message, undefined, 'not stopped by a fence: the job was never given back');
      assert.equal(a!.outcome, 'succeeded');
      assert.equal(smtp.letters.length, 1, 'its letter sent, once');
      const job = await store.getJob(id!);
      assert.deepEqual([job?.status, job?.attempts], ['succeeded', 1]);
    } finally {
      await rig.close(pool);
    }
  });
});
