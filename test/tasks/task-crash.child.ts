// Child process for the service-task crash test: one scheduler tick on a SQLite file, killed with SIGKILL either just
// before the due time is claimed (the process knew the run was due but enqueued nothing) or just after the claim
// committed. Run as `node task-crash.child.js <db file> before|after`; without arguments it exits.
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import type { Store } from '../../server/store/store.port.js';
import { parseServiceTasks } from '../../server/tasks/definitions.js';
import { TaskScheduler } from '../../server/tasks/scheduler.js';

export const CRASH_TASKS = 'serviceTasks:\n  - { name: poll, scenario: Poll, every: 1m }\n';
export const T0 = Date.parse('2026-01-01T00:01:30Z');

async function main(file: string, when: string): Promise<void> {
  let now = T0;
  const clock = { now: () => now };
  const store = await openSqliteStore({ file, clock });
  const dying: Store = Object.create(store) as Store;
  dying.claimTaskDue = async (input) => {
    if (when === 'before') process.kill(process.pid, 'SIGKILL');
    const r = await store.claimTaskDue(input);
    process.kill(process.pid, 'SIGKILL');
    return r;
  };
  const quiet = { info() {}, warn() {}, error() {}, debug() {} };
  const scheduler = new TaskScheduler({ store: dying, tasks: () => parseServiceTasks('c.yaml', CRASH_TASKS, 'UTC'), clock, logger: quiet });
  now = T0 + 35_000; // 00:02:05: the 00:02 due time is on time
  await scheduler.tick();
}

const [file, when] = process.argv.slice(2);
if (file && when) {
  main(file, when).catch((err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
}
