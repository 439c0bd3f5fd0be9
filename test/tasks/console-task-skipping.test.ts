// The console's Tasks page says what `oktell-emu tasks` says of an `overlap: skip` task whose scheduled run failed and
// waits for its retry: its due times are skipped meanwhile, for that run (its due time, a link to its runs) until its
// next attempt, which the line names. The store is one an earlier server left (the run of 09:00 failed, its retry an
// hour away); a real server on it over HTTP, and the real binary's `tasks` on the same folder.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { parseServiceTasks } from '../../server/tasks/definitions.js';
import { TaskScheduler, type TaskBlockingRun } from '../../server/tasks/scheduler.js';
import { runCliAsync } from '../cli/cli.helper.js';
import { ManualClock } from '../store/store.contract.js';
import { AUTH, get, rowOf, startConsoleServer, textOf } from '../console/console-helpers.js';

const silent = { info() {}, warn() {}, error() {}, debug() {} };
const MIN = 60_000;
const TASKS = `serviceTasks:
  - { name: sweep, scenario: ReadUser, cron: "0 9 * * *", timeZone: UTC, overlap: skip, missed: skip, params: { 1: '"77"' } }
  - { name: calm, scenario: ReadUser, cron: "0 9 * * *", timeZone: UTC, overlap: skip, missed: skip, params: { 1: '"78"' } }
`;

type Server = Awaited<ReturnType<typeof startConsoleServer>>;

describe('console Tasks page: overlap: skip while the scheduled run waits for its retry', () => {
  let t: Server;
  let jobId = '';
  let runId = '';
  before(async () => {
    t = await startConsoleServer({}, {}, {
      config: TASKS,
      // What an earlier server left: the 09:00 run of sweep enqueued on schedule, its first attempt failed as
      // retryable, the next one due an hour from now.
      before: async (dataDir) => {
        const clock = new ManualClock(Date.parse('2026-01-01T08:59:30Z'));
        const store = await openSqliteStore({ file: join(dataDir, 'oktell.sqlite'), clock });
        try {
          const list = parseServiceTasks('oktell.config.yaml', TASKS, 'UTC').filter((x) => x.name === 'sweep');
          const s = new TaskScheduler({ store, tasks: () => list, clock, logger: silent });
          await s.tick();
          clock.advance(MIN);
          await s.tick(); // 09:00 enqueued
          const [job] = await store.claimJobs('earlier-server', 1, 10 * MIN);
          assert.ok(job, 'the 09:00 run was enqueued');
          jobId = job.id;
          runId = `run${job.id}`;
          // Recorded a minute ago (a run from January would be past the retention and pruned at the start).
          const startedAt = Date.now() - MIN;
          const failed = await store.failJob(job.id, 'earlier-server', {
            retryable: true,
            error: { code: 'R_EFFECT_RETRYABLE', message: 'Bpium did not answer' },
            retryAt: Date.now() + 60 * MIN,
            run: { id: runId, jobId: job.id, scenario: 'ReadUser', version: 'v1', trigger: 'task', status: 'failed', attempt: 1, startedAt, finishedAt: startedAt + 30, params: {}, returnValues: {}, trace: [], bpiumCalls: [], mails: [], error: { code: 'R_EFFECT_RETRYABLE', message: 'Bpium did not answer' } },
          });
          assert.equal(failed.accepted && failed.status, 'queued');
        } finally {
          await store.close();
        }
      },
    });
  });
  after(async () => t?.cleanup());

  it('names the run the due times are skipped for, links to it, and says when it is tried next, as `tasks` does', { timeout: 90_000 }, async () => {
    // What the server's task listing says (the one function both the page and `tasks` read it from decides).
    const listed = (await (await fetch(`${t.server.url}/-/tasks`, { headers: { authorization: AUTH } })).json()) as { tasks: Array<{ name: string; skippingFor?: TaskBlockingRun }> };
    const w = listed.tasks.find((x) => x.name === 'sweep')!.skippingFor!;
    assert.equal(w.jobId, jobId);
    assert.ok(w.nextAttemptAt, 'the run waits for its next attempt');
    const wall = (iso: string) => iso.slice(0, 19).replace('T', ' ');

    const row = await rowOf(t, 'sweep');
    const skipping = /<div class="skipping">[\s\S]*?<\/div>/.exec(row)?.[0];
    assert.ok(skipping, `the row says the due times are skipped: ${row}`);
    assert.equal(
      textOf(skipping),
      `skipping due times (overlap: skip): the run of 2026-01-01 09:00:00 waits for attempt 2/${w.maxAttempts} at ${wall(w.nextAttemptAt!)}, job ${jobId}; due times are skipped until it succeeds or runs out of attempts`,
    );
    // The run's link leads to its runs, where the failed attempt is.
    const href = /<a class="job-id" href="([^"]+)">/.exec(skipping)?.[1];
    assert.equal(href, `/-/console/runs?job=${jobId}`);
    const runs = await (await get(`${t.server.url}${href}`)).text();
    assert.match(runs, new RegExp(`<tr data-id="${runId}" data-status="failed">`));

    // A task of overlap: skip with nothing to wait for says nothing of it.
    assert.doesNotMatch(await rowOf(t, 'calm'), /skipping/);

    // `oktell-emu tasks` on the same folder says the same of the same run.
    const folder = dirname(t.dataDir);
    const cli = await runCliAsync(['tasks'], { cwd: folder, env: { OKTELL_SCENARIOS: t.scenariosDir, NO_COLOR: '1' }, unset: ['OKTELL_DATA_DIR'], timeoutMs: 60_000 });
    assert.equal(cli.code, 0, cli.stderr);
    assert.ok(
      cli.stdout.includes(`skipping due times (overlap: skip): the run of ${w.dueAt} waits for attempt 2/${w.maxAttempts} at ${w.nextAttemptAt}, job ${jobId}; due times are skipped until it succeeds or runs out of attempts`),
      cli.stdout,
    );
  });
});
