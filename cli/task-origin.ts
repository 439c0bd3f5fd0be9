// Which service task started a run. The run's trigger says `task` (`async` for runs recorded before migration 3); the
// task's name, its due time and kind, and the parameters that failed are on the run's job (its trigger), so `runs`
// and `show` read them there.
import type { Store } from '../server/store/store.port.js';
import { paramErrorsOf, taskNameOf, type ParamErrors } from '../server/tasks/scheduler.js';

export interface TaskOrigin {
  /** The task's name. */
  name: string;
  /** due, catch-up or manual. */
  kind: string;
  /** The due time (ISO 8601 in the task's zone); for a manual run, when it was started. */
  dueAt: string;
  paramErrors?: ParamErrors;
}

/** The task a job's trigger names, if it is a task's job. */
export function taskOrigin(trigger: unknown): TaskOrigin | undefined {
  const name = taskNameOf(trigger);
  if (name === undefined) return undefined;
  const t = trigger as { kind?: unknown; dueAt?: unknown };
  const paramErrors = paramErrorsOf(trigger);
  return { name, kind: String(t.kind), dueAt: String(t.dueAt), ...(paramErrors ? { paramErrors } : {}) };
}

/** `task tick (due 2026-06-01T09:00:00+03:00)`, `task tick (manual)`. */
export function taskOriginText(t: TaskOrigin): string {
  return `task ${t.name} (${t.kind === 'manual' ? 'manual' : `${t.kind} ${t.dueAt}`})`;
}

/** Each row with the task that started its job, when one did (jobs read once each: attempts share their job). */
export async function withTaskOrigins<T extends { jobId: string | null }>(store: Pick<Store, 'getJob'>, rows: T[]): Promise<Array<T & { task?: TaskOrigin }>> {
  const byJob = new Map<string, TaskOrigin | undefined>();
  const out: Array<T & { task?: TaskOrigin }> = [];
  for (const r of rows) {
    if (r.jobId && !byJob.has(r.jobId)) byJob.set(r.jobId, taskOrigin((await store.getJob(r.jobId))?.trigger));
    const task = r.jobId ? byJob.get(r.jobId) : undefined;
    out.push(task ? { ...r, task } : r);
  }
  return out;
}
