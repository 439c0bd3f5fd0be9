// The runs of a service task that fail the same way at every due time (a parameter the scenario rejects, a table that
// is not there): the first failure is logged in full, the repeats are counted and summed up in one line per interval,
// and a run that ends otherwise says how many failed before it. A task due every few seconds would otherwise write
// a line a run (the job's error) for as long as nobody fixes it.
import type { LoggerPort } from '../../engine/index.js';

export interface TaskFailureLog {
  /** Whether the task's last run failed: the next one's own warning (its block's) is then written at debug level. */
  failing(task: string): boolean;
  /**
   * The end of a run of `task`, with its failure (code and message) if it failed. True when its line is written as
   * usual; false when it repeats the task's last failure and is only counted (its line goes to debug).
   */
  ended(task: string, failure: { code: string; message: string } | undefined): boolean;
  /** At a stop: a line for each task with repeats not yet in one, so a stop between two summaries loses no count. */
  flush(): void;
}

interface Streak {
  code: string;
  message: string;
  /** Failures in a row, the first included. */
  count: number;
  /** Repeats not yet in a line. */
  unsaid: number;
  first: number;
  lastLogged: number;
}

/** Repeats are summed up every `intervalMs` (default ten minutes), at the first repeat after it. */
export function taskFailureLog(logger: LoggerPort | undefined, intervalMs = 600_000, now: () => number = Date.now): TaskFailureLog {
  const streaks = new Map<string, Streak>();
  const summary = (task: string, s: Streak, tail: string) =>
    `service task ${task}: ${s.count} runs in a row failed the same way (${s.code}: ${s.message})${tail}`;
  /** The line of a streak's repeats not yet in one (counted since the last), `then` ending it. */
  const sayRepeats = (task: string, s: Streak, t: number, then: string) => {
    logger?.error({ task, code: s.code, failures: s.count, sinceMs: t - s.first }, summary(task, s, `; ${s.unsaid} more since the last line, each a failed job (oktell-emu runs --status failed); ${then}`));
    s.unsaid = 0;
    s.lastLogged = t;
  };
  return {
    failing: (task) => streaks.has(task),
    ended(task, failure) {
      const s = streaks.get(task);
      const t = now();
      if (failure && s && s.code === failure.code && s.message === failure.message) {
        s.count++;
        s.unsaid++;
        if (t - s.lastLogged >= intervalMs) sayRepeats(task, s, t, 'the lines of the repeats are at debug level');
        return false;
      }
      if (s && s.count > 1) logger?.info({ task, code: s.code, failures: s.count, ms: t - s.first }, summary(task, s, `; this run ${failure ? `failed otherwise (${failure.code})` : 'completed'}`));
      if (failure) streaks.set(task, { code: failure.code, message: failure.message, count: 1, unsaid: 0, first: t, lastLogged: t });
      else streaks.delete(task);
      return true;
    },
    flush() {
      const t = now();
      for (const [task, s] of streaks) if (s.unsaid > 0) sayRepeats(task, s, t, 'said at the stop');
    },
  };
}
