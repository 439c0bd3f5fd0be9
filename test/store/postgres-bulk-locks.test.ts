// Bulk statements on PostgreSQL run at once from several processes: `cancel --status queued`, `replay --status queued`
// (hastenJobs) and the workers' claims, each store its own connections as separate instances have. cancelJobs locked
// the queued jobs with a last error in one statement and the others in the next, and hastenJobs in whatever order its
// plan met them: each could hold a row the other waited for, and PostgreSQL aborted one with a deadlock (40P01) after
// deadlock_timeout (1 s). The batcher runs such a batch again, so the calls end well, but the store counts the
// transaction that failed (stats().failedTransactions): that count must stay 0, and every round must end in a
// consistent state.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openPostgresStore, type PostgresStore } from '../../server/store/postgres.store.js';
import { dropSchema, querySchema, randomSchemaName, testPostgres, urlWithSchema } from './postgres.helper.js';

const pg = await testPostgres();

const ROUNDS = 12;
const JOBS = 300;
const CANCELLED = { code: 'R_CANCELLED', message: 'cancelled by the test' };

describe('PostgreSQL: bulk cancel, replay --status queued and claims at once', { timeout: 120_000, ...(pg.skip ? { skip: pg.skip } : {}) }, () => {
  it('never deadlock, and every job ends cancelled or claimed, not both', async () => {
    const schema = randomSchemaName('bulklock');
    const url = urlWithSchema(pg.url!, schema);
    const stores: PostgresStore[] = [];
    try {
      for (let i = 0; i < 3; i++) stores.push(await openPostgresStore({ url, poolSize: 2 }));
      const [canceller, replayer, claimer] = stores as [PostgresStore, PostgresStore, PostgresStore];
      for (let round = 0; round < ROUNDS; round++) {
        const now = Date.now();
        const prefix = `r${String(round).padStart(2, '0')}_`;
        // Half due now (claimable), half waiting for a later retry (what replay --status queued makes due).
        const ids = await canceller.enqueueJobs(
          Array.from({ length: JOBS }, (_, i) => ({ id: `${prefix}${String(i).padStart(4, '0')}`, scenario: 'S', params: {}, runAt: i % 2 ? now + 3_600_000 : now - 1000 })),
        );
        // A third with a cut-off attempt's last error (cancelled with afterCut), a third with another error.
        await querySchema(pg.url!, schema, `UPDATE jobs SET last_error = CASE WHEN right(id, 4)::int % 3 = 0 THEN '{"code":"STOPPED","message":"stopped"}'
          ELSE '{"code":"E_HTTP","message":"503"}' END WHERE id LIKE $1 AND right(id, 4)::int % 3 <> 2`, [`${prefix}%`]);
        const calls = [
          () => canceller.cancelJobs({ status: 'queued' }, CANCELLED),
          () => replayer.hastenJobs({ status: 'queued' }),
          () => claimer.claimJobs('worker', 100, 60_000).then((jobs) => jobs.map((j) => j.id)),
        ];
        // Each round another one is asked first.
        const order = [0, 1, 2].map((k) => (k + round) % 3);
        const started = new Array<Promise<string[]>>(3);
        for (const k of order) started[k] = calls[k]!();
        const settled = await Promise.allSettled(started);
        for (const s of settled) assert.equal(s.status, 'fulfilled', `round ${round}: ${s.status === 'rejected' ? String(s.reason) : ''}`);
        const [cancelled, hastened, claimed] = settled.map((s) => (s as PromiseFulfilledResult<string[]>).value) as [string[], string[], string[]];
        // Every job was queued: the cancel took each one the claim did not, and no job was taken by both.
        assert.equal(cancelled.filter((id) => claimed.includes(id)).length, 0, `round ${round}: cancelled and claimed`);
        assert.deepEqual([...cancelled, ...claimed].sort(), [...ids].sort(), `round ${round}: cancelled ${cancelled.length} + claimed ${claimed.length}`);
        assert.ok(hastened.every((id) => ids.includes(id)), `round ${round}: hastened a job of another round`);
        const rows = await querySchema<{ id: string; status: string; last_error: string | null }>(pg.url!, schema, 'SELECT id, status, last_error FROM jobs WHERE id LIKE $1', [`${prefix}%`]);
        assert.equal(rows.length, JOBS);
        for (const r of rows) {
          if (claimed.includes(r.id)) {
            assert.equal(r.status, 'running', r.id);
            continue;
          }
          const cutOff = Number(r.id.slice(-4)) % 3 === 0;
          assert.equal(r.status, 'dead', r.id);
          // A job whose last attempt was cut off keeps saying so; the others get the cancel's error alone.
          assert.deepEqual(JSON.parse(r.last_error!), cutOff ? { ...CANCELLED, afterCut: true } : CANCELLED, r.id);
        }
      }
      const failed = stores.map((s) => s.stats().failedTransactions);
      assert.deepEqual(failed, [0, 0, 0], `transactions rolled back for a deadlock (canceller, replayer, claimer): ${failed.join(', ')}`);
    } finally {
      for (const s of stores) await s.close();
      await dropSchema(pg.url!, schema);
    }
  });
});
