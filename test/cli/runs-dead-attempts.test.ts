// `runs`: the earlier failed attempts of a job that later died end `→ retried, dead later`, not `→ dead` (user trial:
// attempt #1's line read `R_EFFECT_TRANSIENT → dead`, as if it had killed the job); the job's last run is listed
// `dead`; and those of a job a later attempt failed for good end `→ retried, failed for good later`, not `→ failed for
// good`. Written with the store API as the worker pool writes it; SQLite, and PostgreSQL when reachable.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TRANSIENT, attempt, enqueue, postgresKind, sqliteKind } from './job-fates.helper.js';

for (const make of [sqliteKind, postgresKind]) {
  const kind = make();
  describe(`runs: the attempts of a job that died (${kind.name})`, { timeout: 60_000, ...(kind.skip ? { skip: kind.skip } : {}) }, () => {
    after(() => kind.cleanup());

    it('only the last attempt is dead; the two before it say → retried, dead later', async () => {
      const store = await kind.open();
      const runs: string[] = [];
      let job = '';
      try {
        job = await enqueue(store, { maxAttempts: 3 });
        runs.push(await attempt(store, job, { ...TRANSIENT, retryAt: Date.now() }));
        runs.push(await attempt(store, job, { ...TRANSIENT, retryAt: Date.now() }));
        runs.push(await attempt(store, job, TRANSIENT));
        assert.equal((await store.getJob(job))!.status, 'dead');
      } finally {
        await store.close();
      }
      const listed = kind.cli(['runs']);
      assert.equal(listed.code, 0, listed.stderr);
      const line = (run: string) => listed.stdout.split('\n').find((l) => l.includes(run)) ?? assert.fail(`no line for ${run} in\n${listed.stdout}`);
      assert.match(line(runs[0]!), new RegExp(`\\sfailed\\s.* job ${job} #1 R_EFFECT_TRANSIENT → retried, dead later$`));
      assert.match(line(runs[1]!), new RegExp(`\\sfailed\\s.* job ${job} #2 R_EFFECT_TRANSIENT → retried, dead later$`));
      assert.match(line(runs[2]!), new RegExp(`\\sdead\\s.* job ${job} #3 R_EFFECT_TRANSIENT$`));
      assert.equal(listed.stdout.split('\n').filter((l) => l.includes('→ dead')).length, 0, listed.stdout);
      // --status failed lists the two earlier attempts the same way.
      const failed = kind.cli(['runs', '--status', 'failed']);
      assert.equal(failed.code, 0, failed.stderr);
      assert.equal(failed.stdout.split('\n').filter((l) => l.endsWith('→ retried, dead later')).length, 2, failed.stdout);
      assert.doesNotMatch(failed.stdout, /→ dead/);
    });

    it('a job a later attempt failed for good: the attempts before it say → retried, failed for good later', async () => {
      const store = await kind.open();
      const runs: string[] = [];
      let job = '';
      try {
        job = await enqueue(store, { maxAttempts: 4 });
        runs.push(await attempt(store, job, { ...TRANSIENT, retryAt: Date.now() }));
        runs.push(await attempt(store, job, { ...TRANSIENT, retryAt: Date.now() }));
        runs.push(await attempt(store, job, { code: 'R_SCENARIO_CHANGED', retryable: false }));
        assert.equal((await store.getJob(job))!.status, 'failed');
      } finally {
        await store.close();
      }
      for (const args of [['runs'], ['runs', '--status', 'failed']]) {
        const listed = kind.cli(args);
        assert.equal(listed.code, 0, listed.stderr);
        const line = (run: string) => listed.stdout.split('\n').find((l) => l.includes(run)) ?? assert.fail(`no line for ${run} in\n${listed.stdout}`);
        assert.match(line(runs[0]!), new RegExp(`\\sfailed\\s.* job ${job} #1 R_EFFECT_TRANSIENT → retried, failed for good later$`));
        assert.match(line(runs[1]!), new RegExp(`\\sfailed\\s.* job ${job} #2 R_EFFECT_TRANSIENT → retried, failed for good later$`));
        assert.match(line(runs[2]!), new RegExp(`\\sfailed\\s.* job ${job} #3 R_SCENARIO_CHANGED → failed for good, waits for a replay$`));
        // Only the attempt that stopped the job says it failed for good.
        assert.equal(listed.stdout.split('\n').filter((l) => l.includes(job) && / → failed for good/.test(l)).length, 1, listed.stdout);
      }
    });
  });
}
