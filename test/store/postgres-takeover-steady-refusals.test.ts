// The takeover grace after a refused write (postgres-takeover-after-outage) must not hold up the jobs of an instance
// that really died, for as long as the store keeps refusing a write now and then: a webhook refused every few seconds
// (a maintenance script that locks the inbox for a moment, a connection slot missing now and then) while every other
// write, the claims included, commits. Before, each such refusal opened another half lease in which no expired lease
// was taken over, so with refusals closer together than that the dead instance's job was never run again.
// Now the grace counts only the time the store was refusing since the lease expired: a job whose holder last renewed
// before a refusal waits half a lease of working database after its expiry, and no more.
// Real parts: the test PostgreSQL, two stores on one schema, a second session holding a lock on the inbox table.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { takeoverDue } from '../../server/store/postgres.store.js';
import { StoreUnavailableError } from '../../server/store/store.errors.js';
import { inboxOf as inbox, testPostgres, withTwoInstances } from './postgres.helper.js';

const avail = await testPostgres();
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('claims while the store refuses a write now and then', { skip: avail.skip }, () => {
  it('take over the lease of an instance that died once half a lease of working database has passed since it expired', { timeout: 60_000 }, async () => {
    await withTwoInstances(avail.url!, 'steady', async ({ a, b, other, schema }) => {
      const [id] = await a.enqueueJobs([{ scenario: 'Letter', params: {} }]);
      // A claims the job with a 500 ms lease and dies: it never renews it.
      assert.deepEqual((await a.claimJobs('instance-a:1', 1, 500)).map((j) => j.id), [id]);

      // B's claims use a 1000 ms lease (grace: 500 ms). Before each, one webhook of B is refused (the inbox locked for a
      // moment) and the next write commits, as B's next poll would: each claim comes 250 ms after a refusal.
      let refusals = 0;
      let taken: Array<[string, number]> = [];
      for (let round = 0; round < 12 && taken.length === 0; round++) {
        await other.query('BEGIN');
        await other.query(`LOCK TABLE ${schema}.inbox IN ACCESS EXCLUSIVE MODE`);
        const refused = await b.recordRequest({ inbox: inbox(`r-${round}`) }).then(() => 'stored', (e: unknown) => e);
        await other.query('COMMIT');
        assert.ok(refused instanceof StoreUnavailableError && refused.reason === 'busy', String(refused));
        refusals++;
        await b.swapSharedSetting('probe', String(round));
        await pause(250);
        taken = (await b.claimJobs('instance-b:1', 1, 1000)).map((j) => [j.id, j.attempts]);
      }
      assert.deepEqual(taken, [[id, 2]], `the dead instance's job is taken over despite ${refusals} refusals, each 250 ms before a claim`);
    });
  });
});

describe('takeoverDue: when a claim may take over an expired lease, by the refusal spells of its store', () => {
  const lease = 60_000;
  const grace = lease / 2;
  it('at once when no write was refused since the holder last renewed', () => {
    assert.equal(takeoverDue([], 0, lease, lease, grace), true);
    assert.equal(takeoverDue([{ start: -5000, end: -4000 }], 0, lease, lease, grace), true);
  });
  it('a spell longer than the lease: not at its end, but half a lease of working database after it', () => {
    // Renewed at 0, the database refuses from 10 s to 100 s; the lease expired at 60 s, within the spell.
    const spells = [{ start: 10_000, end: 100_000 }];
    assert.equal(takeoverDue([{ start: 10_000 }], 0, lease, 100_000, grace), false, 'still refusing');
    assert.equal(takeoverDue(spells, 0, lease, 100_001, grace), false, 'just after the spell');
    assert.equal(takeoverDue(spells, 0, lease, 100_000 + grace - 1, grace), false);
    assert.equal(takeoverDue(spells, 0, lease, 100_000 + grace, grace), true);
  });
  it('a spell that ended before the lease expired: half a lease after the expiry', () => {
    const spells = [{ start: 10_000, end: 50_000 }];
    assert.equal(takeoverDue(spells, 0, lease, lease + grace - 1, grace), false);
    assert.equal(takeoverDue(spells, 0, lease, lease + grace, grace), true);
  });
  it('refusals now and then (a moment every 3 s) hold a dead holder\'s job up by about half a lease, not for ever', () => {
    const spells = Array.from({ length: 200 }, (_, i) => ({ start: i * 3000, end: i * 3000 + 5 }));
    assert.equal(takeoverDue(spells, 0, lease, lease + grace - 1, grace), false);
    assert.equal(takeoverDue(spells, 0, lease, lease + grace + 60, grace), true);
    assert.equal(takeoverDue(spells, 0, lease, 500_000, grace), true);
  });
  it('a spell the holder renewed after does not count', () => {
    assert.equal(takeoverDue([{ start: 10_000, end: 20_000 }], 25_000, 25_000 + lease, 25_000 + lease, grace), true);
  });
});
