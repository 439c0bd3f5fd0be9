// What an operator reads after an outage, from the shell: `runs` says what became of the job of each failed attempt
// (retried and delivered later, failed for good and waiting for a replay, dead, waiting for its retry), in the text
// and as `jobStatus` in --json; `replay --status` takes --since and --scenario, so "replay only last night's Letters
// dead letters" is one command; and a bulk replay that finds nothing of its status counts the jobs of the other one
// and gives the command that replays them. SQLite, and PostgreSQL when reachable (helper: job-fates.helper.ts).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { outage, postgresKind, sqliteKind, statusesNow } from './job-fates.helper.js';

for (const make of [sqliteKind, postgresKind]) {
  const kind = make();
  describe(`runs and replay say what became of each job (${kind.name})`, { timeout: 120_000, ...(kind.skip ? { skip: kind.skip } : {}) }, () => {
    after(() => kind.cleanup());

    it('marks each failed attempt with its job\'s fate, replays by time and scenario, and points from one status to the other', async () => {
      const { ids, runs, cut } = await outage(kind);

      // runs --status failed: each attempt says what became of its job.
      const failed = kind.cli(['runs', '--status', 'failed']);
      assert.equal(failed.code, 0, failed.stderr);
      const line = (run: string) => failed.stdout.split('\n').find((l) => l.includes(run)) ?? assert.fail(`no line for ${run} in\n${failed.stdout}`);
      assert.match(line(runs.A1!), /\sfailed\s.* R_EFFECT_TRANSIENT → succeeded later$/);
      assert.match(line(runs.B1!), / R_EFFECT_TRANSIENT → retried, failed for good later$/);
      assert.match(line(runs.B2!), /\sfailed\s.* R_SCENARIO_CHANGED → failed for good, waits for a replay$/);
      assert.match(line(runs.C1!), /\sdead\s.* R_EFFECT_TRANSIENT$/, 'a dead letter\'s last run says dead in its status');
      assert.match(line(runs.D1!), / R_EFFECT_TRANSIENT → retry at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      const json = JSON.parse(kind.cli(['runs', '--json']).stdout) as Array<{ id: string; jobStatus?: string; fate?: unknown }>;
      const status = Object.fromEntries(json.map((r) => [r.id, r.jobStatus]));
      assert.deepEqual(
        [runs.A1, runs.A2, runs.B1, runs.B2, runs.C1, runs.D1, runs.F1].map((r) => status[r!]),
        ['succeeded', 'succeeded', 'failed', 'failed', 'dead', 'queued', 'dead'],
      );
      assert.ok(json.every((r) => !('fate' in r)), 'the text form\'s mark is not in --json');

      // replay --status dead with --since and --scenario: only last night's Letters dead letter.
      const since = new Date(cut).toISOString();
      const one = kind.cli(['replay', '--status', 'dead', '--since', since, '--scenario', 'Letters']);
      assert.equal(one.code, 0, one.stderr);
      assert.equal(one.stdout, `requeued 1 job(s): ${ids.G}\n`);
      const other = kind.cli(['replay', '--status', 'dead', '--since', since]);
      assert.equal(other.stdout, `requeued 1 job(s): ${ids.F}\n`);
      const noneSince = kind.cli(['replay', '--status', 'dead', '--since', since]);
      assert.equal(noneSince.code, 0, noneSince.stderr);
      assert.equal(noneSince.stdout, `nothing to replay: no dead job matching --since ${since} (nor any failed one)\n`);
      assert.equal(kind.cli(['replay', '--status', 'dead']).stdout, `requeued 1 job(s): ${ids.C}\n`);
      // Only B waits now, failed for good: --status dead says so and gives the command.
      const wrong = kind.cli(['replay', '--status', 'dead']);
      assert.equal(wrong.code, 0, wrong.stderr);
      assert.equal(wrong.stdout, `nothing to replay: no dead job; 1 failed job(s) wait for a replay (failed for good, not retried): npx oktell-emu replay --status failed${kind.dirFlag}\n`);
      const bare = kind.cli(['replay', '--since', '2h']);
      assert.equal(bare.code, 2);
      assert.match(bare.stderr, /--since goes with --status/);

      assert.deepEqual(await statusesNow(kind, ['B', 'C', 'F', 'G'].map((k) => ids[k]!)), ['failed', 'queued', 'queued', 'queued']);
    });
  });
}
