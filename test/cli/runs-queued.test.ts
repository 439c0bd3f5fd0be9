// `runs --status queued` after an outage: the jobs waiting (a first run, a retry), soonest due first, with their
// attempts so far, their next attempt and the error their last attempt ended with — the check server.md asks for
// before an upgrade renames effect blocks ("no job waits for a retry"). SQLite, and PostgreSQL when reachable.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { outage, postgresKind, sqliteKind } from './job-fates.helper.js';

for (const make of [sqliteKind, postgresKind]) {
  const kind = make();
  describe(`runs --status queued (${kind.name})`, { timeout: 120_000, ...(kind.skip ? { skip: kind.skip } : {}) }, () => {
    after(() => kind.cleanup());

    it('lists the jobs waiting, with attempts, next attempt and last error; a filter that matches none says so', async () => {
      const { ids, D } = await outage(kind);
      const queued = kind.cli(['runs', '--status', 'queued']);
      assert.equal(queued.code, 0, queued.stderr);
      const lines = queued.stdout.trimEnd().split('\n');
      assert.match(lines[0]!, /^next attempt\s+status\s+scenario\s+trigger\s+attempts {2}job$/);
      assert.match(lines[1]!, new RegExp(`^\\S+\\s+queued\\s+Letters\\s+async\\s+0/4 tried  job ${ids.E} first run$`));
      assert.match(lines[2]!, new RegExp(`^${new Date(D.nextRunAt).toISOString().slice(0, 19)}Z\\s+queued\\s+Letters\\s+async\\s+1/4 tried  job ${ids.D} retry after R_EFFECT_TRANSIENT$`));
      assert.equal(lines.length, 3);
      const json = JSON.parse(kind.cli(['runs', '--status', 'queued', '--json']).stdout) as Array<{ jobId: string; waits: string; nextRunAt: number; attempts: number; error: { code?: string } | null }>;
      assert.deepEqual(json.map((r) => [r.jobId, r.waits, r.attempts, r.error?.code ?? null]), [[ids.E, 'first run', 0, null], [ids.D, 'retry', 1, 'R_EFFECT_TRANSIENT']]);
      assert.equal(json[1]!.nextRunAt, D.nextRunAt);
      assert.equal(kind.cli(['runs', '--status', 'queued', '--scenario', 'Other']).stdout, 'no queued job matches --scenario Other (2 job(s) queued in all)\n');
      // --since compares when the job was created: E was, after the cut; D before it.
      const later = JSON.parse(kind.cli(['runs', '--status', 'queued', '--since', new Date(D.createdAt + 1).toISOString(), '--json']).stdout) as Array<{ jobId: string }>;
      assert.deepEqual(later.map((r) => r.jobId), [ids.E]);
      // Fewer shown than wait: a note says so, with a filter too (its count is of all the queued jobs).
      const one = kind.cli(['runs', '--status', 'queued', '-n', '1']);
      assert.equal(one.stdout.trimEnd().split('\n').length, 2, one.stdout);
      assert.match(one.stdout + one.stderr, /1 of 2 queued job\(s\) shown, the soonest due \(-n takes up to 1000\)/);
      const filtered = kind.cli(['runs', '--status', 'queued', '--scenario', 'Letters', '-n', '1']);
      assert.match(filtered.stdout + filtered.stderr, /1 of 2 queued job\(s\) shown, the soonest due that match \(the count is of all queued\)/);
    });
  });
}
