// `runs --status dead` lists the dead letters newest first by the time their last run started, the column it shows,
// not in the order their jobs were queued: a job queued early that died late came last, under later times (user
// trial of 2026-12-05, finding 8). And an earlier failed attempt of a job waiting for its next retry ends `→ retried`,
// not `→ queued again`, which the docs give to a replay (finding 4). SQLite, and PostgreSQL when reachable; each
// test on a store of its own (the jobs of job-fates.helper's outage are not touched).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TRANSIENT, attempt, enqueue, postgresKind, sqliteKind } from './job-fates.helper.js';

for (const make of [sqliteKind, postgresKind]) {
  const kind = make();
  describe(`runs: dead letters newest first, earlier attempts retried (${kind.name})`, { timeout: 60_000, ...(kind.skip ? { skip: kind.skip } : {}) }, () => {
    after(() => kind.cleanup());

    it('the earlier failed attempts of a job waiting for its next retry say → retried; its last says when', async () => {
      const store = await kind.open();
      const runs: Record<string, string> = {};
      try {
        const job = await enqueue(store);
        runs.first = await attempt(store, job, { ...TRANSIENT, retryAt: Date.now() });
        runs.second = await attempt(store, job, { ...TRANSIENT, retryAt: Date.now() + 3_600_000 });
      } finally {
        await store.close();
      }
      const failed = kind.cli(['runs', '--status', 'failed']);
      assert.equal(failed.code, 0, failed.stderr);
      const line = (run: string) => failed.stdout.split('\n').find((l) => l.includes(run)) ?? assert.fail(`no line for ${run} in\n${failed.stdout}`);
      assert.match(line(runs.first!), / R_EFFECT_TRANSIENT → retried$/);
      assert.match(line(runs.second!), / R_EFFECT_TRANSIENT → retry at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    });

    it('a job queued first that died last is listed first', async () => {
      const store = await kind.open();
      const runs: Record<string, string> = {};
      try {
        // early: queued first, fails once and waits an hour for its second (last) attempt.
        const early = await enqueue(store, { maxAttempts: 2 });
        runs.early1 = await attempt(store, early, { ...TRANSIENT, retryAt: Date.now() + 3_600_000 });
        // late: queued second, dies at its only attempt.
        const late = await enqueue(store, { maxAttempts: 1 });
        await new Promise((r) => setTimeout(r, 20));
        runs.late = await attempt(store, late, TRANSIENT);
        // early's last attempt, made due now: it dies after late did.
        await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(await store.hastenJobs({ ids: [early] }), [early]);
        runs.early2 = await attempt(store, early, TRANSIENT);
      } finally {
        await store.close();
      }
      const listed = kind.cli(['runs', '--status', 'dead', '--json']);
      assert.equal(listed.code, 0, listed.stderr);
      assert.deepEqual((JSON.parse(listed.stdout) as Array<{ id: string }>).map((r) => r.id), [runs.early2, runs.late]);
      const text = kind.cli(['runs', '--status', 'dead']);
      const at = (id: string) => text.stdout.indexOf(id!);
      assert.ok(at(runs.early2!) >= 0 && at(runs.early2!) < at(runs.late!), text.stdout);
    });
  });
}
