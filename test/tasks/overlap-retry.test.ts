// overlap: skip and a run that waits for a retry: the due times are skipped meanwhile, and the listing says so (the
// scheduler's status, and `oktell-emu tasks` as the real binary on the same SQLite store), naming the run and when
// it is tried next, also in a process that did not start it.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { latestScheduledJobSql } from '../../server/store/page.sql.js';
import { openPostgresStore } from '../../server/store/postgres.store.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import type { Store } from '../../server/store/store.port.js';
import { parseServiceTasks } from '../../server/tasks/definitions.js';
import { TaskScheduler } from '../../server/tasks/scheduler.js';
import { runCli } from '../cli/cli.helper.js';
import { repoPath, tempDir } from '../helpers.js';
import { ManualClock } from '../store/store.contract.js';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';

const silent = { info() {}, warn() {}, error() {}, debug() {} };
const MIN = 60_000;

/**
 * From 16:00:30: the task's 16:01 run is queued, claimed and failed with a retry 30 minutes away, and the scheduler's
 * 16:02 tick skips its due time for it (the latest due time then has no job).
 */
async function waitingForRetry(store: Store, clock: ManualClock) {
  const list = parseServiceTasks('oktell.config.yaml', CONFIG, 'UTC');
  const s = new TaskScheduler({ store, tasks: () => list, clock, logger: silent });
  await s.tick();
  clock.advance(MIN);
  await s.tick(); // 16:01 enqueued
  const [job] = await store.claimJobs('w', 1, 10 * MIN);
  const failed = await store.failJob(job!.id, 'w', { retryable: true, error: { code: 'R_EFFECT_RETRYABLE', message: 'POST timed out' }, retryAt: clock.now() + 30 * MIN });
  assert.equal(failed.accepted && failed.status, 'queued');
  clock.advance(MIN);
  await s.tick();
  return { s, job: job!, list };
}
const CONFIG = 'serviceTasks:\n  - { name: sweep, scenario: DailyReport, every: 1m, timeZone: UTC, overlap: skip }\n';

describe('overlap: skip while a run waits for a retry', () => {
  it('skips the due times, and the status and `tasks` name the run, its next attempt and why', async () => {
    const tmp = tempDir('oktell-overlap-retry-');
    try {
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), CONFIG);
      mkdirSync(join(tmp.dir, 'var'));
      const clock = new ManualClock(Date.parse('2026-01-01T16:00:30Z'));
      const store = await openSqliteStore({ file: join(tmp.dir, 'var', 'oktell.sqlite'), clock });
      const { s, job, list } = await waitingForRetry(store, clock); // 16:01's run waits for its retry; 16:02 skipped
      clock.advance(MIN);
      await s.tick(); // 16:03 skipped
      assert.deepEqual(s.counters.get('sweep'), { due: 3, started: 1, skipped: 2, missed: 0 });
      const expected = { jobId: job.id, dueAt: '2026-01-01T16:01:00Z', status: 'queued', attempts: 1, maxAttempts: job.maxAttempts, nextAttemptAt: '2026-01-01T16:31:30Z' };
      assert.deepEqual((await s.status())[0]!.skippingFor, expected);
      // Another process (the CLI) knows only the store, whose latest due time is a skipped one, with no job.
      assert.deepEqual((await new TaskScheduler({ store, tasks: () => list, clock, logger: silent }).status())[0]!.skippingFor, expected);
      // A restarted server (a new scheduler on the same store, nothing in memory) keeps skipping: its store's latest due
      // time is a skipped one, with no job, and the run of 16:01 still waits for its retry.
      const restarted = new TaskScheduler({ store, tasks: () => list, clock, logger: silent });
      clock.advance(MIN);
      await restarted.tick(); // 16:04
      assert.deepEqual(restarted.counters.get('sweep'), { due: 1, started: 0, skipped: 1, missed: 0 });
      assert.deepEqual((await store.listJobs({ task: 'sweep' })).items.map((j) => j.id), [job.id], 'no second run enqueued');
      assert.deepEqual((await restarted.status())[0]!.skippingFor, expected);
      await store.close();

      const out = runCli(['tasks'], { cwd: tmp.dir, env: { OKTELL_SCENARIOS: repoPath('scenarios'), NO_COLOR: '1' }, unset: ['OKTELL_DATA_DIR'] });
      assert.equal(out.code, 0, out.stderr);
      assert.match(
        out.stdout,
        new RegExp(`\\n  skipping due times \\(overlap: skip\\): the run of 2026-01-01T16:01:00Z waits for attempt 2/${job.maxAttempts} at 2026-01-01T16:31:30Z, job ${job.id}; due times are skipped until it succeeds or runs out of attempts\\n  next: `),
      );
      const json = JSON.parse(runCli(['tasks', '--json'], { cwd: tmp.dir, env: { OKTELL_SCENARIOS: repoPath('scenarios') }, unset: ['OKTELL_DATA_DIR'] }).stdout) as { tasks: Array<{ skippingFor?: unknown }> };
      assert.deepEqual(json.tasks[0]!.skippingFor, expected);
    } finally {
      tmp.cleanup();
    }
  });
});

// A run of the schedule waits for its retry, and then more manual runs of the task are queued (`tasks run`, the
// console's Run now) than the look-up once read: the latest due time is a skipped one, with no job, so the run the
// due times wait for is found among the task's jobs by its trigger. It must still be found, and no second scheduled
// run start beside it; the query takes it from an index of the scheduled runs only, in one step.
const pgAvail = await testPostgres();
const MANUAL_RUNS = 25;
const STORES: Array<{ name: string; skip?: string; open(dir: string, clock: ManualClock): Promise<Store>; plan(dir: string): Promise<string>; drop(): Promise<void> }> = [];
{
  STORES.push({
    name: 'SQLite',
    open: (dir, clock) => openSqliteStore({ file: join(dir, 'oktell.sqlite'), clock }),
    async plan(dir) {
      const db = new Database(join(dir, 'oktell.sqlite'), { readonly: true });
      try {
        return (db.prepare(`EXPLAIN QUERY PLAN ${latestScheduledJobSql('sqlite')}`).all('sweep') as Array<{ detail: string }>).map((r) => r.detail).join('\n');
      } finally {
        db.close();
      }
    },
    drop: async () => undefined,
  });
  const schema = randomSchemaName('overlapmanual');
  STORES.push({
    name: 'PostgreSQL',
    ...(pgAvail.skip ? { skip: pgAvail.skip } : {}),
    open: (_dir, clock) => openPostgresStore({ url: urlWithSchema(pgAvail.url!, schema), clock, poolSize: 2 }),
    async plan() {
      // A table this small is cheaper to read whole: with sequential scans off, what the planner does is what it does
      // with a large one.
      const client = new pg.Client({ connectionString: pgAvail.url!, options: `-c search_path=${schema} -c enable_seqscan=off` });
      await client.connect();
      try {
        return (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${latestScheduledJobSql('postgres')}`, ['sweep'])).rows.map((r) => r['QUERY PLAN']).join('\n');
      } finally {
        await client.end();
      }
    },
    drop: () => dropSchema(pgAvail.url!, schema),
  });
}

for (const kind of STORES) {
  describe(`overlap: skip with ${MANUAL_RUNS} manual runs queued after a scheduled run waiting for its retry (${kind.name})`, kind.skip ? { skip: kind.skip } : {}, () => {
    it('the due times are still skipped for the scheduled run, found through its own index', async () => {
      const tmp = tempDir('oktell-overlap-manual-');
      try {
        const clock = new ManualClock(Date.parse('2026-01-01T16:00:30Z'));
        const store = await kind.open(tmp.dir, clock);
        try {
          const { s, job, list } = await waitingForRetry(store, clock); // 16:02 skipped: the latest due time now has no job
          const manual: string[] = [];
          for (let i = 0; i < MANUAL_RUNS; i++) {
            clock.advance(1000);
            manual.push(await s.runNow('sweep'));
          }
          assert.equal(await store.latestScheduledJob('sweep').then((j) => j?.id), job.id);
          assert.equal(await store.latestScheduledJob('nothing'), undefined);
          clock.advance(MIN);
          await s.tick(); // 16:03: skipped again
          assert.deepEqual(s.counters.get('sweep'), { due: 3, started: 1 + MANUAL_RUNS, skipped: 2, missed: 0 });
          const scheduled = (await store.listJobs({ task: 'sweep', limit: 100 })).items.filter((j) => (j.trigger as { kind?: string }).kind !== 'manual');
          assert.deepEqual(scheduled.map((j) => j.id), [job.id], 'no second scheduled run beside the one waiting for its retry');
          // A process that did not start it (a restarted server, the CLI) finds it too.
          const fresh = new TaskScheduler({ store, tasks: () => list, clock, logger: silent });
          assert.equal((await fresh.status())[0]!.skippingFor?.jobId, job.id);
          assert.equal((await fresh.status())[0]!.lastRun?.jobId, manual.at(-1));
        } finally {
          await store.close();
        }
        const plan = await kind.plan(tmp.dir);
        if (kind.name === 'SQLite') {
          assert.match(plan, /^SEARCH jobs USING INDEX jobs_task_scheduled \(/m, plan);
          assert.doesNotMatch(plan, /TEMP B-TREE|^SCAN jobs/m, plan);
        } else {
          assert.match(plan, /Index Scan using jobs_task_scheduled on jobs/, plan);
          assert.doesNotMatch(plan, /Sort|Filter/, plan);
        }
      } finally {
        await kind.drop();
        tmp.cleanup();
      }
    });
  });
}
