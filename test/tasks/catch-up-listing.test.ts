// `oktell-emu tasks` lists a catch-up run by the due time it covers: it is queued at the start after a stop, hours
// after that due time, and the listing gave only when it was queued. Through the real binary, on a store where a
// scheduler with a clock the test moves made the catch-up run.
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
const CONFIG = 'serviceTasks:\n  - { name: report, scenario: DailyReport, every: 1h, timeZone: UTC }\n';

describe('oktell-emu tasks: a catch-up run', () => {
  it('is listed with the due time it covers and when it was queued', async () => {
    const tmp = tempDir('oktell-catch-up-list-');
    try {
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), CONFIG);
      mkdirSync(join(tmp.dir, 'var'));
      const clock = new ManualClock(Date.parse('2026-01-01T00:00:30Z'));
      const list = parseServiceTasks('oktell.config.yaml', CONFIG, 'UTC');
      const store = await openSqliteStore({ file: join(tmp.dir, 'var', 'oktell.sqlite'), clock });
      const first = new TaskScheduler({ store, tasks: () => list, clock, logger: silent });
      await first.tick();
      clock.advance(3_600_000);
      await first.tick(); // 01:00 due
      // Stopped from 01:00:30 to 04:30: 02:00, 03:00 and 04:00 are missed, one catch-up run for 04:00, queued at 04:30.
      clock.advance(3.5 * 3_600_000 - 30_000);
      await new TaskScheduler({ store, tasks: () => list, clock, logger: silent }).tick();
      const job = (await store.listJobs({ limit: 10 })).items.find((j) => (j.trigger as { kind: string }).kind === 'catch-up');
      assert.deepEqual(job?.trigger, { task: 'report', dueAt: '2026-01-01T04:00:00Z', kind: 'catch-up' });
      await store.close();

      const env = { OKTELL_SCENARIOS: repoPath('scenarios') };
      const out = runCli(['tasks'], { cwd: tmp.dir, env, unset: ['OKTELL_DATA_DIR', 'OKTELL_TZ'] });
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, new RegExp(`\\n {2}last run: queued, catch-up run for 2026-01-01T04:00:00Z, queued 2026-01-01T04:30:00Z, job ${job!.id}\\n`));
      const json = runCli(['tasks', '--json'], { cwd: tmp.dir, env, unset: ['OKTELL_DATA_DIR', 'OKTELL_TZ'] });
      assert.equal(json.code, 0, json.stderr);
      const lastRun = (JSON.parse(json.stdout) as { tasks: Array<{ lastRun: { kind: string; dueAt?: string; createdAt: string } }> }).tasks[0]!.lastRun;
      assert.deepEqual({ kind: lastRun.kind, dueAt: lastRun.dueAt, createdAt: lastRun.createdAt }, { kind: 'catch-up', dueAt: '2026-01-01T04:00:00Z', createdAt: '2026-01-01T04:30:00Z' });
    } finally {
      tmp.cleanup();
    }
  });
});
