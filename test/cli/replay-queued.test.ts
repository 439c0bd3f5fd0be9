// `replay` of jobs queued for a later retry, once the outage is over: a named one, or all with `--status queued`, is
// made due now (its attempts kept), counted and named; one due already is said to wait for a worker; a running one is
// refused (exit 2), so that no job runs twice at once. SQLite, and PostgreSQL when reachable (job-fates.helper.ts).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { newSortableId } from '../../server/store/sortable-id.js';
import { outage, postgresKind, sqliteKind, withStoreOf } from './job-fates.helper.js';

for (const make of [sqliteKind, postgresKind]) {
  const kind = make();
  describe(`replay of queued jobs (${kind.name})`, { timeout: 120_000, ...(kind.skip ? { skip: kind.skip } : {}) }, () => {
    after(() => kind.cleanup());

    it('makes a waiting retry due now, says a due one waits for a worker, refuses a running one', async () => {
      const { ids, D } = await outage(kind);
      assert.ok(D.nextRunAt > Date.now() + 600_000, 'D waits for its retry in an hour');

      const due = kind.cli(['replay', ids.E!]);
      assert.equal(due.code, 0, due.stderr);
      assert.equal(due.stdout, `job ${ids.E} (Letters) is due already: it runs as soon as a worker is free\n`);

      // E is claimed by a worker: a replay of it now is refused, and its attempt is left alone.
      const claimed = await withStoreOf(kind, (s) => s.claimJobs('test:2', 10, 600_000));
      assert.deepEqual(claimed.map((j) => j.id), [ids.E]);
      const running = kind.cli(['replay', ids.E!]);
      assert.equal(running.code, 2, running.stdout);
      assert.match(running.stderr, new RegExp(`job ${ids.E} is claimed by a worker: its attempt is under way, or, claimed ahead during a burst, it waits for a free slot of that worker \\(it is not run twice at once\\): nothing to replay`));

      const before = Date.now();
      const one = kind.cli(['replay', ids.D!]);
      assert.equal(one.code, 0, one.stderr);
      assert.equal(one.stdout, `made 1 waiting job(s) due now: ${ids.D} (their attempts so far are kept)\n`);
      const d = await withStoreOf(kind, async (s) => (await s.getJob(ids.D!))!);
      assert.deepEqual([d.status, d.attempts], ['queued', 1]);
      assert.ok(d.nextRunAt >= before - 1000 && d.nextRunAt <= Date.now(), `due now: ${d.nextRunAt}`);

      // E's attempt fails and waits for its retry in an hour; the bulk form makes it due (D, due already, is not counted).
      await withStoreOf(kind, async (s) => {
        const now = Date.now();
        const run = { id: newSortableId(now), jobId: ids.E!, scenario: 'Letters', version: 'aaaaaaaaaaaa', trigger: 'async' as const, status: 'failed' as const, attempt: 1, startedAt: now, error: { code: 'R_EFFECT_TRANSIENT', message: 'x' } };
        assert.equal((await s.failJob(ids.E!, 'test:2', { run, retryable: true, error: run.error, retryAt: now + 3_600_000 })).accepted, true);
      });
      const none = kind.cli(['replay', '--status', 'queued', '--scenario', 'Other']);
      assert.equal(none.stdout, 'nothing to make due: no queued job matching --scenario Other waits for a later time\n');
      const all = kind.cli(['replay', '--status', 'queued', '--json']);
      assert.equal(all.code, 0, all.stderr);
      assert.deepEqual(JSON.parse(all.stdout), [ids.E]);
      const e = await withStoreOf(kind, async (s) => (await s.getJob(ids.E!))!);
      assert.deepEqual([e.status, e.attempts], ['queued', 1]);
      assert.ok(e.nextRunAt <= Date.now());
    });
  });
}
