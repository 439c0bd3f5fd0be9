// Two instances on one store whose schedules for a task differ (here the server's time zone: one runs with
// OKTELL_TZ=Europe/Moscow, the other in UTC) each claim their own due times, so the task runs twice a day. Nothing can
// tell which is right; each instance says so in its log when it finds a claim that is not one of its due times.
// A clock moved by the test, on one SQLite store shared by the two schedulers.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { parseServiceTasks, type ServiceTask } from '../../server/tasks/definitions.js';
import { TaskScheduler } from '../../server/tasks/scheduler.js';
import { tempDir } from '../helpers.js';
import { ManualClock } from '../store/store.contract.js';

function tasks(yaml: string, zone: string): ServiceTask[] {
  return parseServiceTasks('oktell.config.yaml', `serviceTasks:\n${yaml}`, zone);
}

function recorder(): { warnings: string[]; logger: { info(): void; warn(o: unknown, m?: string): void; error(): void; debug(): void } } {
  const warnings: string[] = [];
  return { warnings, logger: { info() {}, warn: (o: unknown, m?: string) => void warnings.push(typeof o === 'string' ? o : String(m)), error() {}, debug() {} } };
}

const DAILY = '  - { name: report, scenario: R, cron: "0 9 * * *" }\n';

describe('instances sharing a store with different schedules for a task', () => {
  const tmp = tempDir('oktell-task-mismatch-');
  after(() => tmp.cleanup());

  it('an instance whose zone differs runs the task at its own 09:00; each instance warns about the other\'s claim', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T05:00:00Z'));
    const store = await openSqliteStore({ file: join(tmp.dir, 'zones.sqlite'), clock });
    const msk = recorder();
    const utc = recorder();
    const a = new TaskScheduler({ store, tasks: () => tasks(DAILY, 'Europe/Moscow'), clock, logger: msk.logger });
    const b = new TaskScheduler({ store, tasks: () => tasks(DAILY, 'UTC'), clock, logger: utc.logger });
    await a.tick();
    await b.tick();
    clock.advance(60 * 60_000 + 500); // 06:00:00.5Z, 09:00 in Moscow
    await a.tick();
    await b.tick();
    clock.advance(15_000); // the claim is older than the time an edit takes to reach every instance
    await a.tick();
    await b.tick();
    assert.deepEqual(msk.warnings, []);
    assert.equal(utc.warnings.length, 1, utc.warnings.join('\n'));
    assert.match(utc.warnings[0]!, /service task report: another instance on this store claimed 2026-01-01T06:00:00Z \(due\), which is not a due time of this instance's schedule \(0 9 \* \* \* in UTC; next here 2026-01-01T09:00:00Z, 2026-01-02T09:00:00Z\)/);
    assert.match(utc.warnings[0]!, /OKTELL_TZ/);
    clock.advance(3 * 60 * 60_000); // 09:00:15.5Z: the UTC instance claims its own 09:00
    await b.tick();
    await a.tick();
    clock.advance(15_000);
    await a.tick();
    assert.equal(msk.warnings.length, 1, msk.warnings.join('\n'));
    assert.match(msk.warnings[0]!, /claimed 2026-01-01T12:00:00\+03:00 \(due\), which is not a due time of this instance's schedule \(0 9 \* \* \* in Europe\/Moscow/);
    // What the warning is about: two runs for one day.
    const jobs = (await store.listJobs({ task: 'report', limit: 10 })).items;
    assert.equal(jobs.length, 2);
    await store.close();
  });

  it('instances that agree say nothing; nor does an edit of the schedule reloaded by one instance a moment before the other', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T08:59:00Z'));
    const store = await openSqliteStore({ file: join(tmp.dir, 'agree.sqlite'), clock });
    const ra = recorder();
    const rb = recorder();
    let listA = tasks(DAILY, 'UTC');
    let listB = tasks(DAILY, 'UTC');
    const a = new TaskScheduler({ store, tasks: () => listA, clock, logger: ra.logger });
    const b = new TaskScheduler({ store, tasks: () => listB, clock, logger: rb.logger });
    await a.tick();
    await b.tick();
    clock.advance(60_500); // 09:00:00.5: a claims, b finds it claimed
    await a.tick();
    await b.tick();
    clock.advance(60 * 60_000 - 1_000); // 09:59:59.5: each ticks every second; one tick stands for them here
    await a.tick();
    await b.tick();
    clock.advance(1_000); // 10:00:00.5
    // The file is edited to a task due every second: a reloads it and claims 10:00:01 before b has reloaded.
    const edited = '  - { name: report, scenario: R, cron: "* * * * * *" }\n';
    listA = tasks(edited, 'UTC');
    await a.tick();
    clock.advance(1_000);
    await a.tick();
    await b.tick(); // b still has the daily schedule and finds 10:00:01 claimed
    listB = tasks(edited, 'UTC');
    for (let i = 0; i < 20; i++) {
      clock.advance(1_000);
      await a.tick();
      await b.tick();
    }
    assert.deepEqual(ra.warnings, []);
    assert.deepEqual(rb.warnings, []);
    await store.close();
  });

  it('an edit to a finer schedule while serving takes effect from the edit (the tick before it): no catch-up run, no burst of the last minute\'s due times', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T08:59:00Z'));
    const store = await openSqliteStore({ file: join(tmp.dir, 'edit.sqlite'), clock });
    const r = recorder();
    let list = tasks(DAILY, 'UTC');
    const s = new TaskScheduler({ store, tasks: () => list, clock, logger: r.logger });
    await s.tick();
    clock.advance(60_500); // 09:00:00.5
    await s.tick();
    clock.advance(60 * 60_000 - 1_000); // 09:59:59.5: the scheduler ticks every second; one tick stands for them here
    await s.tick();
    clock.advance(1_000); // 10:00:00.5: the file now says every 10 s
    list = tasks('  - { name: report, scenario: R, every: 10s }\n', 'UTC');
    await s.tick();
    for (let i = 0; i < 25; i++) {
      clock.advance(1_000);
      await s.tick();
    }
    const jobs = (await store.listJobs({ task: 'report', limit: 1000 })).items.map((j) => j.trigger as { dueAt: string; kind: string });
    assert.deepEqual(
      jobs.map((j) => `${j.kind} ${j.dueAt}`).sort(),
      // 10:00:00 came since the last tick before the edit was loaded: still taken, as an on-time due time is.
      ['due 2026-01-01T09:00:00Z', 'due 2026-01-01T10:00:00Z', 'due 2026-01-01T10:00:10Z', 'due 2026-01-01T10:00:20Z'],
    );
    assert.deepEqual(r.warnings, []);
    assert.equal(s.counters.get('report')!.missed, 0);
    await store.close();
  });
});
