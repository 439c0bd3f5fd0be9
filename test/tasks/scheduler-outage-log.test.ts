// A store that cannot be reached fails every tick of the service task scheduler (one a second). The log names the
// cause once, in full, then at most one line a minute, and says once when ticks work again: a PostgreSQL outage trial
// (docs/service-tasks.md) found one warning with its stack every second of the outage.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseServiceTasks } from '../../server/tasks/definitions.js';
import { TaskScheduler } from '../../server/tasks/scheduler.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { StoreUnavailableError } from '../../server/store/store.errors.js';
import type { Store } from '../../server/store/store.port.js';
import { tempDir } from '../helpers.js';
import { waitFor } from '../server/server-helpers.js';

/**
 * `real` as the scheduler sees it during an outage: while `isDown()`, the methods named in `refused` are refused as a
 * lost connection is, each refusal told to `onRefused` first.
 */
function storeDuringOutage(real: Store, refused: readonly string[], isDown: () => boolean, onRefused: (method: string) => void): Store {
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && refused.includes(prop) && isDown())
        return async () => {
          onRefused(prop);
          throw new StoreUnavailableError('io', 'database unavailable (ECONNREFUSED): connect ECONNREFUSED 127.0.0.1:5432', 5);
        };
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as Store;
}

/** A logger that keeps its lines (level and message) in `lines`. */
function keptLines(): { lines: Array<{ level: string; msg: string }>; logger: { info(o: unknown, m?: string): void; warn(o: unknown, m?: string): void; error(o: unknown, m?: string): void; debug(): void } } {
  const lines: Array<{ level: string; msg: string }> = [];
  const at = (level: string) => (_o: unknown, msg?: string) => void lines.push({ level, msg: String(msg) });
  return { lines, logger: { info: at('info'), warn: at('warn'), error: at('error'), debug() {} } };
}

describe('the service task scheduler while the store is unreachable', () => {
  it('logs the failing ticks once, not once per tick, and their end once', { timeout: 30_000 }, async () => {
    const tmp = tempDir('oktell-tick-log-');
    const real = await openSqliteStore({ file: join(tmp.dir, 's.sqlite') });
    let down = true;
    let failedTicks = 0;
    // Its reads are refused as a lost connection is.
    const store = storeDuringOutage(real, ['lastTaskDues'], () => down, () => failedTicks++);
    const { lines, logger } = keptLines();
    const tasks = parseServiceTasks('oktell.config.yaml', 'serviceTasks:\n  - { name: tick, scenario: Tick, every: 1h }\n', 'UTC');
    const s = new TaskScheduler({ store, tasks: () => tasks, logger, tickMs: 5 });
    try {
      s.start();
      await waitFor('many failed ticks', () => failedTicks >= 30, 20_000);
      const failing = lines.filter((l) => l.msg.startsWith('service tasks: a tick failed'));
      assert.equal(failing.length, 1, `one line for ${failedTicks} failed ticks: ${JSON.stringify(lines.slice(0, 5))}`);
      assert.equal(failing[0]!.level, 'warn');
      down = false;
      await waitFor('the line saying ticks work again', () => lines.some((l) => l.msg.startsWith('service tasks: ticks work again')), 10_000);
      assert.equal(lines.filter((l) => l.msg.startsWith('service tasks: ticks work again')).length, 1);
      assert.match(lines.find((l) => l.msg.startsWith('service tasks: ticks work again'))!.msg, /after \d+ failure\(s\)/);
    } finally {
      await s.stop();
      await real.close();
      tmp.cleanup();
    }
  });

  it('a disabled task whose paused mark the store refuses is logged once, not at every tick', { timeout: 30_000 }, async () => {
    const tmp = tempDir('oktell-tick-log-');
    const real = await openSqliteStore({ file: join(tmp.dir, 's.sqlite') });
    let down = true;
    let refusedMarks = 0;
    // Down from the start: the first mark of the disabled task is refused, so it is tried again at every tick.
    const store = storeDuringOutage(real, ['claimTaskDue', 'lastTaskDues'], () => down, (method) => {
      if (method === 'claimTaskDue') refusedMarks++;
    });
    const { lines, logger } = keptLines();
    const tasks = parseServiceTasks('oktell.config.yaml', 'serviceTasks:\n  - { name: off, scenario: Tick, every: 1h, enabled: false }\n  - { name: on, scenario: Tick, every: 1h }\n', 'UTC');
    const s = new TaskScheduler({ store, tasks: () => tasks, logger, tickMs: 5 });
    try {
      s.start();
      await waitFor('many refused marks', () => refusedMarks >= 30, 20_000);
      const marks = lines.filter((l) => l.msg.includes('cannot record that the task is disabled'));
      assert.equal(marks.length, 1, `one line for ${refusedMarks} refused marks: ${JSON.stringify(lines.slice(0, 5))}`);
      assert.match(marks[0]!.msg, /service task off/);
      down = false;
      await waitFor('the line saying the mark is recorded again', () => lines.some((l) => l.msg.includes('its disabled mark is recorded again')), 10_000);
    } finally {
      await s.stop();
      await real.close();
      tmp.cleanup();
    }
  });
});
