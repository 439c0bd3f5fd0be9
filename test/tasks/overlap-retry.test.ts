// overlap: skip and a run that waits for a retry: the due times are skipped meanwhile, and the listing says so (the
// scheduler's status, and `oktell-emu tasks` as the real binary on the same SQLite store), naming the run and when
// it is tried next, also in a process that did not start it.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { parseServiceTasks } from '../../server/tasks/definitions.js';
import { TaskScheduler } from '../../server/tasks/scheduler.js';
import { runCli } from '../cli/cli.helper.js';
import { repoPath, tempDir } from '../helpers.js';
import { ManualClock } from '../store/store.contract.js';

const silent = { info() {}, warn() {}, error() {}, debug() {} };
const MIN = 60_000;
const CONFIG = 'serviceTasks:\n  - { name: sweep, scenario: DailyReport, every: 1m, timeZone: UTC, overlap: skip }\n';

describe('overlap: skip while a run waits for a retry', () => {
  it('skips the due times, and the status and `tasks` name the run, its next attempt and why', async () => {
    const tmp = tempDir('oktell-overlap-retry-');
    try {
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), CONFIG);
      mkdirSync(join(tmp.dir, 'var'));
      const clock = new ManualClock(Date.parse('2026-01-01T16:00:30Z'));
      const store = await openSqliteStore({ file: join(tmp.dir, 'var', 'oktell.sqlite'), clock });
      const list = parseServiceTasks('oktell.config.yaml', CONFIG, 'UTC');
      const s = new TaskScheduler({ store, tasks: () => list, clock, logger: silent });
      await s.tick();
      clock.advance(MIN);
      await s.tick(); // 16:01 enqueued
      const [job] = await store.claimJobs('w', 1, 10 * MIN);
      const failed = await store.failJob(job!.id, 'w', { retryable: true, error: { code: 'R_EFFECT_RETRYABLE', message: 'POST timed out' }, retryAt: clock.now() + 30 * MIN });
      assert.equal(failed.accepted && failed.status, 'queued');
      clock.advance(MIN);
      await s.tick(); // 16:02 skipped: 16:01 waits for its retry
      clock.advance(MIN);
      await s.tick(); // 16:03 skipped
      assert.deepEqual(s.counters.get('sweep'), { due: 3, started: 1, skipped: 2, missed: 0 });
      const expected = { jobId: job!.id, dueAt: '2026-01-01T16:01:00Z', status: 'queued', attempts: 1, maxAttempts: job!.maxAttempts, nextAttemptAt: '2026-01-01T16:31:30Z' };
      assert.deepEqual((await s.status())[0]!.skippingFor, expected);
      // Another process (the CLI) knows only the store, whose latest due time is a skipped one, with no job.
      assert.deepEqual((await new TaskScheduler({ store, tasks: () => list, clock, logger: silent }).status())[0]!.skippingFor, expected);
      // A restarted server (a new scheduler on the same store, nothing in memory) keeps skipping: its store's latest due
      // time is a skipped one, with no job, and the run of 16:01 still waits for its retry.
      const restarted = new TaskScheduler({ store, tasks: () => list, clock, logger: silent });
      clock.advance(MIN);
      await restarted.tick(); // 16:04
      assert.deepEqual(restarted.counters.get('sweep'), { due: 1, started: 0, skipped: 1, missed: 0 });
      assert.deepEqual((await store.listJobs({ task: 'sweep' })).items.map((j) => j.id), [job!.id], 'no second run enqueued');
      assert.deepEqual((await restarted.status())[0]!.skippingFor, expected);
      await store.close();

      const out = runCli(['tasks'], { cwd: tmp.dir, env: { OKTELL_SCENARIOS: repoPath('scenarios'), NO_COLOR: '1' }, unset: ['OKTELL_DATA_DIR'] });
      assert.equal(out.code, 0, out.stderr);
      assert.match(
        out.stdout,
        new RegExp(`\\n  skipping due times \\(overlap: skip\\): the run of 2026-01-01T16:01:00Z waits for attempt 2/${job!.maxAttempts} at 2026-01-01T16:31:30Z, job ${job!.id}; due times are skipped until it succeeds or runs out of attempts\\n  next: `),
      );
      const json = JSON.parse(runCli(['tasks', '--json'], { cwd: tmp.dir, env: { OKTELL_SCENARIOS: repoPath('scenarios') }, unset: ['OKTELL_DATA_DIR'] }).stdout) as { tasks: Array<{ skippingFor?: unknown }> };
      assert.deepEqual(json.tasks[0]!.skippingFor, expected);
    } finally {
      tmp.cleanup();
    }
  });
});
