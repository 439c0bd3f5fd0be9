// Pruning dead letters on PostgreSQL while an operator replays them (requeue): pruneDeadLetters chose its rows in a
// subquery (status 'failed' or 'dead', read in its snapshot) and deleted by id alone. A row the replay had updated and
// locked was waited for, and once the replay committed, READ COMMITTED re-checked only `id IN (…)` on the new version:
// the job `replay` had just answered as requeued (status queued) was deleted. The prune now locks its rows in the
// subquery, skipping those another transaction holds (a later prune takes them if they are still dead letters then).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Pg from 'pg';
import { openPostgresStore } from '../../server/store/postgres.store.js';
import { dropSchema, querySchema, randomSchemaName, testPostgres, urlWithSchema } from './postgres.helper.js';

const pg = await testPostgres();

describe('PostgreSQL: a prune of dead letters while a replay requeues them', { timeout: 30_000, ...(pg.skip ? { skip: pg.skip } : {}) }, () => {
  it('a dead letter requeued meanwhile is not deleted; the others are', async () => {
    const schema = randomSchemaName('rv1prune');
    const app = `prune_${schema}`;
    const store = await openPostgresStore({ url: urlWithSchema(pg.url!, schema), poolSize: 2, applicationName: app });
    const replay = new Pg.Client({ connectionString: pg.url!, options: `-c search_path=${schema}` });
    replay.on('error', () => undefined);
    try {
      await store.enqueueJobs([{ id: 'replayed', scenario: 'S', params: {} }, { id: 'old', scenario: 'S', params: {} }]);
      await querySchema(pg.url!, schema, `UPDATE jobs SET status = 'dead', finished_at = 1, last_error = '{"code":"E_HTTP","message":"503"}'`);
      // The replay's transaction: 'replayed' requeued (as PG_SQL.requeue does), not committed yet.
      await replay.connect();
      await replay.query('BEGIN');
      const requeued = await replay.query(`UPDATE jobs SET status = 'queued', attempts = 0, finished_at = NULL, replay_count = replay_count + 1 WHERE id = 'replayed' AND status = 'dead' RETURNING id`);
      assert.equal(requeued.rowCount, 1);
      const pruning = store.prune({ olderThanMs: 365 * 86_400_000, deadLettersOlderThanMs: 1000 });
      let pruned: Awaited<typeof pruning> | undefined;
      void pruning.then((r) => (pruned = r), () => undefined);
      // Until the prune is done or waits for the replay's lock.
      for (let waited = 0; pruned === undefined; waited += 20) {
        const r = await replay.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [app]);
        if (r.rowCount) break;
        assert.ok(waited < 10_000, 'the prune neither ended nor waited');
        await new Promise((r) => setTimeout(r, 20));
      }
      await replay.query('COMMIT');
      const result = await pruning;
      const job = await store.getJob('replayed');
      assert.equal(job?.status, 'queued', `the requeued job was ${job ? `left ${job.status}` : 'deleted by the prune'}`);
      assert.deepEqual(result.deadLetterIds, ['old']);
      assert.equal(await store.getJob('old'), undefined);
    } finally {
      await replay.end().catch(() => undefined);
      await store.close();
      await dropSchema(pg.url!, schema);
    }
  });
});
