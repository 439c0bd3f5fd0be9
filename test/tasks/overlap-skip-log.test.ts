// `overlap: skip` folds its log: one line when skipping starts, naming the run it waits for, and one when the task runs
// again, with how many due times were skipped, the first and the last (before: a line per skipped due time, hundreds
// for a run retried for hours). The listing (status(), as `oktell-emu tasks` and GET /-/tasks show it) is unchanged.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { parseServiceTasks } from '../../server/tasks/definitions.js';
import { TaskScheduler } from '../../server/tasks/scheduler.js';
import { tempDir } from '../helpers.js';
import { ManualClock } from '../store/store.contract.js';

const MIN = 60_000;
const SLOW = 'serviceTasks:\n  - { name: slow, scenario: Slow, every: 1m, overlap: skip, timeZone: UTC }\n';

/** A store at 00:00:30 on a manual clock, and a logger per name keeping the lines about task slow (but "run enqueued"). */
async function skipRig(file: string) {
  const clock = new ManualClock(Date.parse('2026-01-01T00:00:30Z'));
  const store = await openSqliteStore({ file, clock });
  const lines: Record<string, string[]> = {};
  const logger = (who = 'a') => {
    const kept: string[] = (lines[who] = []);
    const say = (_o: unknown, m: string) => void (m.startsWith('service task slow:') && !m.endsWith('run enqueued') && kept.push(m));
    return { debug() {}, error() {}, info: say, warn: say };
  };
  return { clock, store, lines, logger, slow: parseServiceTasks('oktell.config.yaml', SLOW, 'UTC') };
}

/**
 * Ticks `s` from 00:00:30 to 00:01 (the run of 00:01 enqueued), claims that run so that it is going, then ticks one
 * more minute `skipped` times: each of those due times is skipped. Gives the running job.
 */
async function runSkipping(r: { clock: ManualClock; store: Awaited<ReturnType<typeof openSqliteStore>> }, s: TaskScheduler, skipped: number) {
  await s.tick();
  r.clock.advance(MIN);
  await s.tick(); // 00:01 enqueued
  const [running] = await r.store.claimJobs('w', 1, MIN * 10);
  assert.ok(running, 'the run of 00:01 was enqueued');
  for (let i = 0; i < skipped; i++) {
    r.clock.advance(MIN);
    await s.tick();
  }
  return running;
}

describe('overlap: skip in the log', () => {
  const tmp = tempDir('oktell-overlap-log-');
  after(() => tmp.cleanup());

  it('says when skipping starts and, when the task runs again, how many due times it skipped', async () => {
    const { clock, store, logger, lines: all, slow: list } = await skipRig(join(tmp.dir, 'log.sqlite'));
    const s = new TaskScheduler({ store, tasks: () => list, clock, logger: logger() });
    const lines = all.a!;
    const running = await runSkipping({ clock, store }, s, 4); // 00:02 … 00:05 skipped
    assert.deepEqual(lines, [`service task slow: the run of 2026-01-01T00:01:00Z (job ${running.id}, running) is still going; due times are skipped until it ends, from 2026-01-01T00:02:00Z (overlap: skip)`]);
    // What the listing shows is the store's: the last due time skipped, and the run waited for.
    const status = (await s.status())[0]!;
    assert.deepEqual(status.last, { task: 'slow', kind: 'skipped', jobId: null, dueAt: '2026-01-01T00:05:00Z', jobStatus: null });
    assert.equal(status.skippingFor?.jobId, running.id);
    assert.equal(s.counters.get('slow')!.skipped, 4);

    await store.completeJob(running.id, 'w');
    clock.advance(MIN);
    await s.tick(); // 00:06 runs
    assert.deepEqual(lines.slice(1), [`service task slow: runs again; 4 due time(s) skipped (2026-01-01T00:02:00Z … 2026-01-01T00:05:00Z) while the run of 2026-01-01T00:01:00Z (job ${running.id}, running) was going (overlap: skip)`]);
    assert.deepEqual((await s.status())[0]!.last, { task: 'slow', kind: 'due', jobId: (await s.status())[0]!.lastRun!.jobId, dueAt: '2026-01-01T00:06:00Z', jobStatus: 'queued' });
    // A second overlap starts its own count.
    clock.advance(MIN);
    await s.tick(); // 00:07 skipped: 00:06 is queued
    assert.equal(lines.length, 3);
    assert.match(lines[2]!, /^service task slow: the run of 2026-01-01T00:06:00Z \(job \S+, queued\) is still going; due times are skipped until it ends, from 2026-01-01T00:07:00Z/);
    await s.stop();
    assert.match(lines[3]!, /^service task slow: stopping; 1 due time\(s\) skipped \(2026-01-01T00:07:00Z\) while the run of 2026-01-01T00:06:00Z/);
    await store.close();
  });

  it('a task removed or disabled while skipping is summed up then, not at the stop nor by a task added back under its name', async () => {
    const { clock, store, logger, lines: all, slow } = await skipRig(join(tmp.dir, 'removed.sqlite'));
    const off = parseServiceTasks('oktell.config.yaml', 'serviceTasks:\n  - { name: slow, scenario: Slow, every: 1m, overlap: skip, timeZone: UTC, enabled: false }\n', 'UTC');
    let list = slow;
    const s = new TaskScheduler({ store, tasks: () => list, clock, logger: logger() });
    const lines = all.a!;
    const running = await runSkipping({ clock, store }, s, 2); // 00:02, 00:03 skipped
    assert.equal(lines.length, 1);
    list = [];
    clock.advance(MIN);
    await s.tick();
    assert.deepEqual(lines.slice(1), [`service task slow: removed from the configuration; 2 due time(s) skipped (2026-01-01T00:02:00Z … 2026-01-01T00:03:00Z) while the run of 2026-01-01T00:01:00Z (job ${running.id}, running) was going (overlap: skip)`]);
    // Added back, still overlapping: a new streak of its own; disabled, it is summed up at once.
    list = slow;
    clock.advance(MIN);
    await s.tick(); // 00:05 skipped
    assert.match(lines[2]!, /^service task slow: the run of 2026-01-01T00:01:00Z .* is still going; due times are skipped until it ends, from 2026-01-01T00:05:00Z/);
    list = off;
    clock.advance(MIN);
    await s.tick();
    assert.match(lines[3] ?? '', /^service task slow: disabled; 1 due time\(s\) skipped \(2026-01-01T00:05:00Z\) while the run of 2026-01-01T00:01:00Z/);
    await store.completeJob(running.id, 'w');
    list = slow;
    clock.advance(MIN);
    await s.tick();
    await s.stop();
    // Nothing more: no summary of an old streak when it runs again, none at the stop.
    assert.equal(lines.length, 4, lines.join('\n'));
    await store.close();
  });

  it('two instances: the one that skipped says so when the other enqueues the next run, not at its own next run', async () => {
    const { clock, store, logger, lines: all, slow: list } = await skipRig(join(tmp.dir, 'two.sqlite'));
    const a = new TaskScheduler({ store, tasks: () => list, clock, logger: logger('a') });
    const b = new TaskScheduler({ store, tasks: () => list, clock, logger: logger('b') });
    const lines = { a: all.a!, b: all.b! };
    await a.tick();
    await b.tick();
    clock.advance(MIN);
    await a.tick(); // 00:01 enqueued by a
    await b.tick();
    const [running] = await store.claimJobs('w', 1, MIN * 10);
    clock.advance(MIN);
    await a.tick(); // 00:02 skipped by a
    await b.tick();
    assert.equal(lines.a.length, 1);
    await store.completeJob(running!.id, 'w');
    clock.advance(MIN);
    await b.tick(); // 00:03 enqueued by b
    await a.tick();
    assert.deepEqual(lines.a.slice(1), [`service task slow: runs again (enqueued by another instance); 1 due time(s) skipped (2026-01-01T00:02:00Z) while the run of 2026-01-01T00:01:00Z (job ${running!.id}, running) was going (overlap: skip)`]);
    assert.deepEqual(lines.b, []);
    await a.stop();
    await b.stop();
    assert.equal(lines.a.length, 2, lines.a.join('\n'));
    await store.close();
  });
});
