// Two instances on one PostgreSQL, and a spell in which the database takes no write (a full disk, a lock, a restart)
// longer than the lease: the instance running a job can neither renew its lease nor record the job's end (its letter
// already sent), and keeps both in memory until the database takes writes again. Trial 65 (a 60 s full disk, the
// default 60 s lease): the other instance's first claim after the disk was freed took 7 such jobs over as expired,
// before their holders recorded their ends, and their letters went out twice. A claim now leaves alone an expired
// lease renewed last before a refusal its store saw, until the database has taken writes for half a lease since the
// lease expired, which gives the holder's end (retried every 5 s) and heartbeat (every third of a lease) the time to
// land; a holder that is really gone is taken over after that.
// Real parts: the test PostgreSQL, two stores on one schema, a second session holding a lock to refuse the writes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StoreUnavailableError } from '../../server/store/store.errors.js';
import { testPostgres, withTwoInstances } from './postgres.helper.js';

const avail = await testPostgres();
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('claims right after the store refused writes', { skip: avail.skip }, () => {
  it('do not take over a lease that expired during the refusal until half a lease has passed; its holder renews it meanwhile', { timeout: 60_000 }, async () => {
    await withTwoInstances(avail.url!, 'takeover', async ({ a, b, other, schema }) => {
      const [id] = await a.enqueueJobs([{ scenario: 'Letter', params: {} }]);
      const held = await a.claimJobs('instance-a:1', 1, 1000);
      assert.deepEqual(held.map((j) => j.id), [id]);

      // The database refuses B's writes (here a lock another session holds on jobs; a full disk alike).
      await other.query('BEGIN');
      await other.query(`LOCK TABLE ${schema}.jobs IN ACCESS EXCLUSIVE MODE`);
      const refused = await b.claimJobs('instance-b:1', 1, 60_000).then(() => 'claimed', (e: unknown) => e);
      assert.ok(refused instanceof StoreUnavailableError, String(refused));
      await other.query('COMMIT');
      // A's lease runs out meanwhile: A could not have renewed it.
      await pause(1100);

      const right = await b.claimJobs('instance-b:1', 1, 60_000);
      assert.deepEqual(right.map((j) => j.id), [], 'the expired lease is left to its holder right after the refusal');
      assert.deepEqual(await a.heartbeat([id!], 'instance-a:1', 1000), [id], 'the holder renews it: the job is still its own');
      assert.equal((await a.getJob(id!))?.attempts, 1);

      // A holder that does not renew is taken over once half of the claim's lease has passed since the refusal.
      await pause(1100);
      const later = await b.claimJobs('instance-b:1', 1, 2000);
      assert.deepEqual(later.map((j) => [j.id, j.attempts]), [[id, 2]]);
    });
  });
});
