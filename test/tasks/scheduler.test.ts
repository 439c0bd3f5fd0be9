// The scheduler on a real store with a clock the test moves: one job per due time across restarts and instances,
// missed runs after a stop, overlap. The PostgreSQL case runs two instances on one database (skipped without one).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { jobPageSql } from '../../server/store/page.sql.js';
import { PG_MIGRATIONS } from '../../server/store/postgres.migrations.js';
import { applyMigrations, MIGRATIONS } from '../../server/store/sqlite.migrations.js';
import { openPostgresStore } from '../../server/store/postgres.store.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import type { Store } from '../../server/store/store.port.js';
import { parseServiceTasks, type ServiceTask } from '../../server/tasks/definitions.js';
import { missedBetween, TaskScheduler } from '../../server/tasks/scheduler.js';
import { tempDir } from '../helpers.js';
import { CRASH_TASKS, T0 } from './task-crash.child.js';
import { ManualClock } from '../store/store.contract.js';
import { dropSchema, querySchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';

const silent = { info() {}, warn() {}, error() {}, debug() {} };
const MIN = 60_000;

function tasks(yaml: string): ServiceTask[] {
  return parseServiceTasks('oktell.config.yaml', `serviceTasks:\n${yaml}`, 'UTC');
}

async function taskJobs(store: Store): Promise<Array<{ scenario: string; params: unknown; trigger: unknown }>> {
  const page = await store.listJobs({ limit: 1000 });
  return page.items.map((j) => ({ scenario: j.scenario, params: j.params, trigger: j.trigger })).reverse();
}

describe('the service task scheduler (SQLite, a clock moved by the test)', () => {
  const tmp = tempDir('oktell-tasks-');
  after(() => tmp.cleanup());
  let n = 0;
  const open = (clock: ManualClock, name = `s${n++}.sqlite`) => openSqliteStore({ file: join(tmp.dir, name), clock });

  it('enqueues one job per due time with the due time as parameter 1, once even after a restart', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:30Z'));
    const file = `restart.sqlite`;
    const list = tasks(`  - { name: poll, scenario: Poll, every: 1m, params: { 2: '"extra"', 3: 'FormatDate(AddDays(Now(), -1), "yyyy-MM-dd")' } }\n`);
    let store = await open(clock, file);
    let s = new TaskScheduler({ store, tasks: () => list, clock, logger: silent });
    await s.tick();
    clock.advance(MIN);
    await s.tick();
    await s.tick();
    assert.deepEqual(await taskJobs(store), [{ scenario: 'Poll', params: { '1': '2026-01-01T00:01:00Z', '2': 'extra', '3': '2025-12-31' }, trigger: { task: 'poll', dueAt: '2026-01-01T00:01:00Z', kind: 'due' } }]);
    // A restart within the same minute: the new scheduler finds the due time claimed.
    await store.close();
    store = await open(clock, file);
    s = new TaskScheduler({ store, tasks: () => list, clock, logger: silent });
    await s.tick();
    assert.equal((await taskJobs(store)).length, 1);
    clock.advance(MIN);
    await s.tick();
    assert.deepEqual((await taskJobs(store)).map((j) => (j.trigger as { dueAt: string }).dueAt), ['2026-01-01T00:01:00Z', '2026-01-01T00:02:00Z']);
    assert.deepEqual(s.counters.get('poll'), { due: 1, started: 1, skipped: 0, missed: 0 });
    await store.close();
  });

  it('missed: once gives one catch-up run after a 3-hour stop; missed: skip gives none', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:30Z'));
    const list = tasks('  - { name: once, scenario: A, every: 1m }\n  - { name: skip, scenario: B, every: 1m, missed: skip }\n');
    const store = await open(clock);
    const first = new TaskScheduler({ store, tasks: () => list, clock, logger: silent });
    await first.tick();
    clock.advance(MIN);
    await first.tick(); // 00:01 due for both
    clock.advance(3 * 60 * MIN); // stopped for three hours
    const second = new TaskScheduler({ store, tasks: () => list, clock, logger: silent });
    await second.tick();
    const jobs = await taskJobs(store);
    // Jobs made at the same clock time have no set order: compare them sorted.
    assert.deepEqual(
      jobs.map((j) => JSON.stringify(j.trigger)).sort(),
      [
        { task: 'once', dueAt: '2026-01-01T00:01:00Z', kind: 'due' },
        { task: 'once', dueAt: '2026-01-01T03:01:00Z', kind: 'catch-up' },
        { task: 'skip', dueAt: '2026-01-01T00:01:00Z', kind: 'due' },
      ].map((t) => JSON.stringify(t)),
    );
    assert.equal(second.counters.get('once')!.missed, 180);
    assert.equal(second.counters.get('skip')!.missed, 180);
    // The next due time runs normally for both.
    clock.advance(MIN);
    await second.tick();
    assert.equal((await taskJobs(store)).length, 5);
    await store.close();
  });

  it('a week-long stop of a one-second task is not walked second by second', () => {
    const [task] = tasks('  - { name: fast, scenario: F, cron: "* * * * * *" }\n');
    const from = Date.parse('2026-01-01T00:00:00Z');
    const until = from + 7 * 86_400_000;
    assert.deepEqual(missedBetween(task!, from, until), { latest: until - 1000, count: 10_000, atLeast: true });
    assert.deepEqual(missedBetween(task!, from, from + 10_000), { latest: from + 9000, count: 9, atLeast: false });
    const [daily] = tasks('  - { name: daily, scenario: D, cron: "0 9 * * *" }\n');
    assert.deepEqual(missedBetween(daily!, from, from + 3 * 86_400_000), { latest: Date.parse('2026-01-03T09:00:00Z'), count: 3, atLeast: false });
  });

  it('a task enabled again after a while starts from then, with nothing missed', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:30Z'));
    let list = tasks('  - { name: t, scenario: T, every: 1m }\n');
    const store = await open(clock);
    const s = new TaskScheduler({ store, tasks: () => list, clock, logger: silent });
    await s.tick();
    clock.advance(MIN);
    await s.tick(); // 00:01
    list = tasks('  - { name: t, scenario: T, every: 1m, enabled: false }\n');
    clock.advance(60 * MIN);
    await s.tick();
    list = tasks('  - { name: t, scenario: T, every: 1m }\n');
    await s.tick();
    clock.advance(MIN);
    await s.tick();
    assert.deepEqual((await taskJobs(store)).map((j) => (j.trigger as { dueAt: string; kind: string }).kind), ['due', 'due']);
    assert.equal(s.counters.get('t')!.missed, 0);
    await store.close();
  });

  it('a task disabled while the server ran and enabled again while it was stopped: only the stopped time counts as missed', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:30Z'));
    const file = 'paused.sqlite';
    let list = tasks('  - { name: t, scenario: T, every: 1m }\n');
    let store = await open(clock, file);
    let s = new TaskScheduler({ store, tasks: () => list, clock, logger: silent });
    await s.tick();
    clock.advance(MIN);
    await s.tick(); // 00:01 runs
    list = tasks('  - { name: t, scenario: T, every: 1m, enabled: false }\n');
    await s.tick();
    clock.advance(60 * MIN); // an hour disabled, the server running
    await s.tick();
    await s.stop();
    await store.close();
    // Enabled again while stopped; started five minutes after the stop.
    list = tasks('  - { name: t, scenario: T, every: 1m }\n');
    clock.advance(5 * MIN);
    const warnings: string[] = [];
    store = await open(clock, file);
    s = new TaskScheduler({ store, tasks: () => list, clock, logger: { ...silent, warn: (_o: unknown, m: string) => void warnings.push(m) } });
    await s.tick();
    assert.equal(s.counters.get('t')!.missed, 5, 'the five due times of the stop, not the hour it was disabled');
    assert.match(warnings.join('\n'), /service task t: 5 due time\(s\) missed while not running; one catch-up run/);
    assert.deepEqual((await taskJobs(store)).map((j) => (j.trigger as { kind: string }).kind), ['due', 'catch-up']);
    await store.close();
  });

  it('while another instance still has a task disabled, one that has it enabled loses no due time to its paused mark', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:30Z'));
    const enabled = tasks('  - { name: t, scenario: T, every: 1m }\n');
    const disabled = tasks('  - { name: t, scenario: T, every: 1m, enabled: false }\n');
    const store = await open(clock);
    const b = new TaskScheduler({ store, tasks: () => enabled, clock, logger: silent });
    await b.tick();
    clock.advance(30_300); // 00:01:00.300: the disabled instance ticks first and leaves its mark
    const a = new TaskScheduler({ store, tasks: () => disabled, clock, logger: silent });
    await a.tick();
    clock.advance(400);
    await b.tick();
    clock.advance(MIN);
    await b.tick();
    assert.deepEqual((await taskJobs(store)).map((j) => (j.trigger as { dueAt: string }).dueAt), ['2026-01-01T00:01:00Z', '2026-01-01T00:02:00Z']);
    assert.equal(b.counters.get('t')!.missed, 0);
    await store.close();
  });

  it('an instance that joins a running one takes a due time the other had not claimed yet as due, not missed', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:30Z'));
    const list = tasks('  - { name: t, scenario: T, every: 1m }\n');
    const store = await open(clock);
    const a = new TaskScheduler({ store, tasks: () => list, clock, logger: silent });
    await a.tick();
    clock.advance(40_000);
    await a.tick(); // 00:01:10: a claims 00:01
    clock.advance(50_500); // 00:02:00.5: a has not ticked since 00:02 came due
    const b = new TaskScheduler({ store, tasks: () => list, clock, logger: silent });
    await b.tick();
    await a.tick();
    const kinds = (await taskJobs(store)).map((j) => j.trigger as { dueAt: string; kind: string }).sort((x, y) => x.dueAt.localeCompare(y.dueAt));
    assert.deepEqual(kinds, [{ task: 't', dueAt: '2026-01-01T00:01:00Z', kind: 'due' }, { task: 't', dueAt: '2026-01-01T00:02:00Z', kind: 'due' }]);
    assert.equal(b.counters.get('t')!.missed, 0);
    await store.close();
  });

  it('overlap: skip starts nothing while the previous run is queued or running', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:30Z'));
    const list = tasks('  - { name: slow, scenario: Slow, every: 1m, overlap: skip }\n');
    const store = await open(clock);
    const s = new TaskScheduler({ store, tasks: () => list, clock, logger: silent });
    await s.tick();
    clock.advance(MIN);
    await s.tick(); // 00:01 enqueued
    const [running] = await store.claimJobs('w', 1, MIN * 10);
    clock.advance(MIN);
    await s.tick(); // 00:02 skipped: 00:01 is running
    assert.equal((await taskJobs(store)).length, 1);
    assert.deepEqual(s.counters.get('slow'), { due: 2, started: 1, skipped: 1, missed: 0 });
    await store.completeJob(running!.id, 'w');
    clock.advance(MIN);
    await s.tick(); // 00:03 runs
    assert.deepEqual((await taskJobs(store)).map((j) => (j.trigger as { dueAt: string }).dueAt), ['2026-01-01T00:01:00Z', '2026-01-01T00:03:00Z']);
    await store.close();
  });

  for (const resumed of [true, false]) {
    it(`overlap: skip holds for the catch-up after a kill: no catch-up run while the run left unfinished is ${resumed ? 'resumed (queued again)' : 'still marked running, its lease expired'}`, async () => {
      const clock = new ManualClock(Date.parse('2026-01-01T00:00:30Z'));
      const file = `overlap-catch-up-${resumed}.sqlite`;
      const list = tasks('  - { name: slow, scenario: Slow, every: 1m, overlap: skip }\n  - { name: free, scenario: Free, every: 1m }\n');
      let store = await open(clock, file);
      let s = new TaskScheduler({ store, tasks: () => list, clock, logger: silent });
      await s.tick();
      clock.advance(MIN);
      await s.tick(); // 00:01 enqueued for both
      const running = await store.claimJobs('w', 2, MIN);
      assert.equal(running.length, 2);
      // Killed: the scheduler is not stopped and the jobs stay running; the next process opens the file three minutes later.
      await store.close();
      clock.advance(3 * MIN);
      store = await open(clock, file);
      if (resumed) assert.equal((await store.recoverOrphans()).requeued, 2);
      const warnings: string[] = [];
      const infos: string[] = [];
      s = new TaskScheduler({ store, tasks: () => list, clock, logger: { ...silent, warn: (_o: unknown, m: string) => void warnings.push(m), info: (_o: unknown, m: string) => void infos.push(m) } });
      await s.tick();
      const slow = (await taskJobs(store)).filter((j) => (j.trigger as { task: string }).task === 'slow');
      assert.deepEqual(slow.map((j) => j.trigger), [{ task: 'slow', dueAt: '2026-01-01T00:01:00Z', kind: 'due' }], 'no second run of slow while its 00:01 run is unfinished');
      assert.deepEqual(s.counters.get('slow'), { due: 0, started: 0, skipped: 1, missed: 3 });
      // One decision, one line: the skipped catch-up is said with the missed due times, and not again as a skip.
      assert.deepEqual(warnings.filter((w) => w.startsWith('service task slow:')), ['service task slow: 3 due time(s) missed while not running; no catch-up run (due 2026-01-01T00:04:00Z): the previous run is still going (overlap: skip)']);
      assert.deepEqual(infos.filter((m) => m.startsWith('service task slow:')), []);
      // The listing shows the catch-up's due time as skipped and the run it waits for.
      const status = (await s.status()).find((t) => t.name === 'slow')!;
      assert.deepEqual(status.last, { task: 'slow', kind: 'skipped', jobId: null, dueAt: '2026-01-01T00:04:00Z', jobStatus: null });
      assert.equal(status.skippingFor?.jobId, running.find((j) => j.scenario === 'Slow')!.id);
      // overlap: run (the default) still gets its catch-up beside the unfinished run.
      const free = (await taskJobs(store)).filter((j) => (j.trigger as { task: string }).task === 'free');
      assert.deepEqual(free.map((j) => (j.trigger as { kind: string }).kind), ['due', 'catch-up']);
      await store.close();
    });
  }

  it('a task removed and added back before any scrape counts from 0: its counters go at the tick that finds it removed', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:30Z'));
    const poll = tasks('  - { name: poll, scenario: Poll, every: 1m }\n');
    let list = poll;
    const store = await open(clock);
    const s = new TaskScheduler({ store, tasks: () => list, clock, logger: silent });
    const due = () => s.metricLines().filter((l) => l.startsWith('oktell_service_task_due_total'));
    await s.tick();
    clock.advance(MIN);
    await s.tick();
    clock.advance(MIN);
    await s.tick();
    assert.deepEqual(due(), ['oktell_service_task_due_total{task="poll"} 2']);
    // Removed by an edit, a tick, then added back: /-/metrics is not read in between.
    list = [];
    await s.tick();
    list = poll;
    await s.tick();
    assert.deepEqual(due(), ['oktell_service_task_due_total{task="poll"} 0'], 'the task added back counts from 0, as after a restart');
    // Removed and scraped before the next tick: no series, and the scrape is not what drops it.
    list = [];
    assert.deepEqual(due(), []);
    await store.close();
  });

  it('a parameter expression that fails at a due time is passed empty and named on the job; the run still starts', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:30Z'));
    const list = tasks(`  - { name: p, scenario: P, every: 1m, params: { 2: '1 / 0', 3: '"ok"' } }\n`);
    const store = await open(clock);
    const s = new TaskScheduler({ store, tasks: () => list, clock, logger: silent });
    await s.tick();
    clock.advance(MIN);
    await s.tick();
    const [job] = await taskJobs(store);
    assert.deepEqual(job!.params, { '1': '2026-01-01T00:01:00Z', '2': '', '3': 'ok' });
    assert.match((job!.trigger as { paramErrors: Record<string, string> }).paramErrors['2']!, /division by zero/);
    await store.close();
  });

  it('retention prunes old claims but keeps each task\'s latest, where the scheduler resumes', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const store = await open(clock);
    for (const [task, m] of [['a', 1], ['a', 2], ['b', 1]] as const) {
      await store.claimTaskDue({ task, dueAt: Date.parse(`2026-01-01T00:0${m}:00Z`), kind: 'missed', job: null });
    }
    clock.advance(40 * 86_400_000);
    await store.prune({ olderThanMs: 30 * 86_400_000 });
    assert.deepEqual((await store.lastTaskDues(['a', 'b', 'c'])).map((r) => [r.task, new Date(r.dueAt).toISOString()]), [['a', '2026-01-01T00:02:00.000Z'], ['b', '2026-01-01T00:01:00.000Z']]);
    // The pruned 00:01 of a is gone: claiming it again would succeed, which is why the latest must stay.
    assert.equal((await store.claimTaskDue({ task: 'a', dueAt: Date.parse('2026-01-01T00:02:00Z'), kind: 'missed', job: null })).claimed, false);
    assert.equal((await store.claimTaskDue({ task: 'a', dueAt: Date.parse('2026-01-01T00:01:00Z'), kind: 'missed', job: null })).claimed, true);
    await store.close();
  });

  it('a manual start is a normal job, marked manual, outside the schedule', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:30Z'));
    const list = tasks('  - { name: report, scenario: Report, cron: "0 9 * * *", enabled: false }\n');
    const store = await open(clock);
    const s = new TaskScheduler({ store, tasks: () => list, clock, logger: silent });
    const id = await s.runNow('report');
    const job = await store.getJob(id);
    assert.deepEqual({ scenario: job!.scenario, status: job!.status, trigger: job!.trigger }, { scenario: 'Report', status: 'queued', trigger: { task: 'report', dueAt: '2026-01-01T00:00:30Z', kind: 'manual' } });
    await assert.rejects(s.runNow('nope'), /no service task named "nope"/);
    const [status] = await s.status();
    assert.deepEqual({ ...status, next: status!.next.length }, {
      name: 'report',
      scenario: 'Report',
      schedule: '0 9 * * *',
      timeZone: 'UTC',
      enabled: false,
      missed: 'once',
      overlap: 'run',
      next: 0,
      last: null,
      lastRun: { jobId: id, kind: 'manual', status: 'queued', createdAt: '2026-01-01T00:00:30Z', finishedAt: null, attempts: 0, maxAttempts: 5, lastRunId: null },
    });
    await store.close();
  });

  // The run belongs to the task: a change of its `scenario:` keeps it, and other starts of its scenario do not hide it.
  it('a last run is still found after the task\'s scenario changes, and behind many newer jobs of its scenario', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:30Z'));
    let list = tasks('  - { name: report, scenario: Report, cron: "0 9 * * *", enabled: false }\n');
    const store = await open(clock);
    const s = new TaskScheduler({ store, tasks: () => list, clock, logger: silent });
    const id = await s.runNow('report');
    list = tasks('  - { name: report, scenario: Summary, cron: "0 9 * * *", enabled: false }\n');
    for (let i = 0; i < 60; i++) {
      clock.advance(1000);
      await store.enqueueJobs([{ scenario: 'Summary', params: [], trigger: { hook: 'bpium' } }]);
    }
    const [status] = await s.status();
    assert.equal(status!.scenario, 'Summary');
    assert.equal(status!.lastRun?.jobId, id);
    assert.equal(status!.lastRun?.kind, 'manual');
    await store.close();
  });
});

describe('the service task scheduler on PostgreSQL: two instances', async () => {
  const pg = await testPostgres();
  it('each due time is enqueued once when two instances tick together', { skip: pg.skip }, async () => {
    const schema = randomSchemaName('tasks');
    const url = urlWithSchema(pg.url!, schema);
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:30Z'));
    const a = await openPostgresStore({ url, clock });
    const b = await openPostgresStore({ url, clock });
    try {
      const list = tasks('  - { name: every-second, scenario: Tick, cron: "* * * * * *" }\n  - { name: minute, scenario: Min, every: 1m }\n');
      const sa = new TaskScheduler({ store: a, tasks: () => list, clock, logger: silent });
      const sb = new TaskScheduler({ store: b, tasks: () => list, clock, logger: silent });
      await Promise.all([sa.tick(), sb.tick()]);
      for (let i = 0; i < 40; i++) {
        clock.advance(2000);
        await Promise.all([sa.tick(), sb.tick()]);
      }
      const jobs = await taskJobs(a);
      const keys = jobs.map((j) => JSON.stringify(j.trigger));
      assert.equal(new Set(keys).size, keys.length, 'no due time twice');
      assert.equal(jobs.filter((j) => j.scenario === 'Tick').length, 80);
      assert.equal(jobs.filter((j) => j.scenario === 'Min').length, 1);
      const started = (s: TaskScheduler) => s.counters.get('every-second')?.started ?? 0;
      assert.equal(started(sa) + started(sb), 80);
    } finally {
      await a.close();
      await b.close();
      await dropSchema(pg.url!, schema);
    }
  });

  it('two instances taking turns: each counts every due time as due, the ones the other claimed first too; started adds up to the runs', { skip: pg.skip }, async () => {
    const schema = randomSchemaName('taskmetrics');
    const url = urlWithSchema(pg.url!, schema);
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:30Z'));
    const a = await openPostgresStore({ url, clock });
    const b = await openPostgresStore({ url, clock });
    try {
      const list = tasks('  - { name: tick, scenario: Tick, every: 10s }\n');
      const sa = new TaskScheduler({ store: a, tasks: () => list, clock, logger: silent });
      const sb = new TaskScheduler({ store: b, tasks: () => list, clock, logger: silent });
      await sa.tick();
      await sb.tick();
      // One after the other, never together: whoever ticks first claims, the other finds the due time taken in the
      // store. Mostly a goes first; every fourth round b does, so each claims some.
      for (let i = 1; i <= 12; i++) {
        clock.advance(10_000);
        const [first, second] = i % 4 === 0 ? [sb, sa] : [sa, sb];
        await first.tick();
        await second.tick();
      }
      assert.equal((await taskJobs(a)).length, 12);
      const ca = sa.counters.get('tick')!;
      const cb = sb.counters.get('tick')!;
      assert.deepEqual({ a: ca.due, b: cb.due }, { a: 12, b: 12 }, 'every due time counted as due by both instances');
      assert.deepEqual({ a: ca.started, b: cb.started }, { a: 9, b: 3 });
      assert.equal(ca.missed + cb.missed, 0);
    } finally {
      await a.close();
      await b.close();
      await dropSchema(pg.url!, schema);
    }
  });

  it('two instances started together after a stop count and log the missed due times once, by the instance that claimed the catch-up (or skip)', { skip: pg.skip }, async () => {
    const schema = randomSchemaName('taskmissed');
    const url = urlWithSchema(pg.url!, schema);
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:30Z'));
    const list = tasks('  - { name: tick, scenario: Tick, every: 10s }\n  - { name: quiet, scenario: Quiet, every: 10s, missed: skip }\n');
    const before = await openPostgresStore({ url, clock });
    const a = await openPostgresStore({ url, clock });
    const b = await openPostgresStore({ url, clock });
    try {
      // Both instances ran the tasks, then both were killed for two minutes.
      const old = new TaskScheduler({ store: before, tasks: () => list, clock, logger: silent });
      await old.tick();
      clock.advance(10_000);
      await old.tick();
      clock.advance(2 * MIN);
      const warned: Record<string, string[]> = { a: [], b: [] };
      const logger = (who: 'a' | 'b') => ({ ...silent, warn: (_o: unknown, msg: string) => void warned[who]!.push(msg) });
      // Started at the same moment: b reads the tasks' last claims before a claims the catch-ups, and claims after.
      let aDone!: () => void;
      const aTicked = new Promise<void>((r) => (aDone = r));
      const bStore = {
        claimTaskDue: b.claimTaskDue.bind(b),
        getJob: b.getJob.bind(b),
        enqueueJobs: b.enqueueJobs.bind(b),
        listJobs: b.listJobs.bind(b),
        latestScheduledJob: b.latestScheduledJob.bind(b),
        lastTaskDues: async (names: string[]) => {
          const read = await b.lastTaskDues(names);
          await aTicked;
          return read;
        },
      };
      const sa = new TaskScheduler({ store: a, tasks: () => list, clock, logger: logger('a') });
      const sb = new TaskScheduler({ store: bStore, tasks: () => list, clock, logger: logger('b') });
      const bTicked = sb.tick();
      await new Promise((r) => setTimeout(r, 100));
      await sa.tick();
      aDone();
      await bTicked;
      const catchUps = (await taskJobs(a)).filter((j) => (j.trigger as { kind: string }).kind === 'catch-up');
      assert.equal(catchUps.length, 1, 'one catch-up run for tick');
      for (const task of ['tick', 'quiet']) {
        assert.deepEqual({ a: sa.counters.get(task)!.missed, b: sb.counters.get(task)!.missed }, { a: 11, b: 0 }, `${task}: the 11 missed due times counted by the instance that claimed them only`);
      }
      assert.deepEqual(warned.a, ['service task tick: 11 due time(s) missed while not running; one catch-up run, for the latest (due 2026-01-01T00:02:30Z)', 'service task quiet: 11 due time(s) missed while not running; skipped (missed: skip; the latest was due 2026-01-01T00:02:30Z)']);
      assert.deepEqual(warned.b, [], 'the instance that found the catch-up claimed says nothing of it');
    } finally {
      await before.close();
      await a.close();
      await b.close();
      await dropSchema(pg.url!, schema);
    }
  });
});

// A task's last run is its newest job with the task's name in the trigger. That is read through the index jobs_task,
// not by reading the jobs newest first until one matches (all of them, for a task that never ran). The jobs of a store
// written before the index (SQLite schema 4, PostgreSQL 5) are found as well: the migration builds it over them.
describe("the tasks' last runs, read through an index", async () => {
  const pgAvail = await testPostgres();
  const T_OLD = Date.parse('2025-12-31T09:00:00Z');
  /** Jobs an older build left: the task's run under its former scenario, then newer jobs that are no task's. */
  const OLDER_JOBS: Array<[id: string, scenario: string, trigger: unknown, createdAt: number]> = [
    ['old-report', 'Report', { task: 'report', dueAt: '2025-12-31T09:00:00Z', kind: 'due' }, T_OLD],
    ['hook-1', 'Summary', { hook: 'bpium' }, T_OLD + 1000],
    ['webapi-1', 'Summary', { webapi: '/api/"task"' }, T_OLD + 2000],
    ['async-1', 'Summary', { kind: 'task', parentRunId: 'r1' }, T_OLD + 3000],
  ];
  // The texts hold no single quote (the web-API path has a quoted "task", escaped in its JSON string).
  const insertOlder = () =>
    OLDER_JOBS.map(([id, scenario, trigger, at]) => `INSERT INTO jobs (id, scenario, params, variables, trigger, max_attempts, next_run_at, status, created_at, updated_at)
      VALUES ('${id}', '${scenario}', '{}', '{}', '${JSON.stringify(trigger)}', 3, ${at}, 'succeeded', ${at}, ${at})`);

  /** report (now of scenario Summary) ran as Report, daily runs now by hand, fresh never ran: as status() said before. */
  async function assertLastRuns(store: Store, clock: ManualClock): Promise<void> {
    const list = tasks(
      '  - { name: report, scenario: Summary, cron: "0 9 * * *" }\n  - { name: fresh, scenario: Summary, cron: "0 9 * * *" }\n  - { name: daily, scenario: Daily, cron: "0 9 * * *" }\n',
    );
    const s = new TaskScheduler({ store, tasks: () => list, clock, logger: silent });
    const daily = await s.runNow('daily');
    const status = await s.status();
    assert.deepEqual(
      status.map((t) => [t.name, t.lastRun?.jobId ?? null, t.lastRun?.kind ?? null, t.lastRun?.createdAt ?? null]),
      [
        ['report', 'old-report', 'due', '2025-12-31T09:00:00Z'],
        ['fresh', null, null, null],
        ['daily', daily, 'manual', '2026-01-01T00:00:30Z'],
      ],
    );
  }

  it('SQLite: the answers of an older file, and a plan that searches the index jobs_task instead of scanning jobs', async () => {
    const tmp = tempDir('oktell-task-index-');
    try {
      const file = join(tmp.dir, 'older.sqlite');
      const old = new Database(file);
      applyMigrations(old, MIGRATIONS.filter((m) => m.version <= 4));
      for (const sql of insertOlder()) old.exec(sql);
      old.close();
      const clock = new ManualClock(Date.parse('2026-01-01T00:00:30Z'));
      const store = await openSqliteStore({ file, clock });
      try {
        await assertLastRuns(store, clock);
      } finally {
        await store.close();
      }
      const db = new Database(file, { readonly: true });
      try {
        const { sql, args } = jobPageSql('sqlite', { task: 'fresh' }, 1);
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>).map((r) => r.detail);
        assert.ok(plan.some((d) => /^SEARCH jobs USING INDEX jobs_task \(/.test(d)), plan.join('\n'));
        assert.ok(!plan.some((d) => /^SCAN jobs\b/.test(d)), plan.join('\n'));
      } finally {
        db.close();
      }
    } finally {
      tmp.cleanup();
    }
  });

  it('PostgreSQL: the answers of an older schema, and a plan that looks the task up in the index jobs_task', { skip: pgAvail.skip }, async () => {
    const schema = randomSchemaName('taskindex');
    try {
      await querySchema(pgAvail.url!, 'public', `CREATE SCHEMA ${schema}`);
      const older = PG_MIGRATIONS.filter((m) => m.version <= 5);
      await querySchema(pgAvail.url!, schema, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL);
        ${older.map((m) => `${m.sql}; INSERT INTO schema_migrations VALUES (${m.version}, 'v${m.version}', 0);`).join('\n')}
        ${insertOlder().join(';\n')};`);
      const clock = new ManualClock(Date.parse('2026-01-01T00:00:30Z'));
      const store = await openPostgresStore({ url: urlWithSchema(pgAvail.url!, schema), clock, poolSize: 2 });
      try {
        await assertLastRuns(store, clock);
      } finally {
        await store.close();
      }
      // A table this small is cheaper to read whole: with sequential scans off, what the planner can do with the
      // query is what it does on a large table. Without an index on the task it filters while walking another one.
      const client = new pg.Client({ connectionString: pgAvail.url!, options: `-c search_path=${schema} -c enable_seqscan=off` });
      await client.connect();
      try {
        const { sql, args } = jobPageSql('postgres', { task: 'fresh' }, 1);
        const plan = (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, args)).rows.map((r) => r['QUERY PLAN']).join('\n');
        assert.match(plan, /Index Scan using jobs_task on jobs/);
        assert.match(plan, /Index Cond: \(\(\(trigger\)::json ->> 'task'::text\) = /);
      } finally {
        await client.end();
      }
    } finally {
      await dropSchema(pgAvail.url!, schema);
    }
  });
});

describe('a SIGKILL between due and enqueued', () => {
  for (const when of ['before', 'after'] as const) {
    it(`killed ${when} the claim: the due time has exactly one run after the restart`, async () => {
      const tmp = tempDir('oktell-task-crash-');
      try {
        const file = join(tmp.dir, 'crash.sqlite');
        // The task has run before (00:01), so the restart knows where it left off.
        const clock = new ManualClock(T0);
        const seed = await openSqliteStore({ file, clock });
        await seed.claimTaskDue({ task: 'poll', dueAt: Date.parse('2026-01-01T00:01:00Z'), kind: 'due', job: { scenario: 'Poll', params: {} } });
        await seed.close();

        const child = spawn(process.execPath, [fileURLToPath(new URL('./task-crash.child.js', import.meta.url)), file, when], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
        assert.equal(signal, 'SIGKILL', `the child should die by SIGKILL; exit ${code}: ${err}`);

        clock.advance(60_000); // restarted at 00:02:30
        const store = await openSqliteStore({ file, clock });
        const s = new TaskScheduler({ store, tasks: () => parseServiceTasks('c.yaml', CRASH_TASKS, 'UTC'), clock, logger: silent });
        await s.tick();
        await s.tick();
        const runs = (await taskJobs(store)).filter((j) => (j.trigger as { dueAt?: string } | null)?.dueAt === '2026-01-01T00:02:00Z');
        assert.deepEqual(runs.map((j) => (j.trigger as { kind: string }).kind), [when === 'before' ? 'catch-up' : 'due']);
        await store.close();
      } finally {
        tmp.cleanup();
      }
    });
  }
});
