// SQL of the service-task due times (table task_runs), the same for SQLite and PostgreSQL: positional `$n` works in both.
import type { TaskDueKind, TaskDueRecord } from './store.port.js';

export const TASK_SQL = {
  /** $1 task, $2 due time, $3 kind, $4 job id, $5 now. No row changes when the due time is already claimed. */
  claim: `INSERT INTO task_runs (task, due_at, kind, job_id, created_at) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (task, due_at) DO NOTHING`,
  /** The latest row of task $1: one step down the primary key, however many rows the task has. */
  latest: `SELECT task, due_at, kind, job_id, created_at FROM task_runs WHERE task = $1 ORDER BY due_at DESC LIMIT 1`,
  /** Rows older than $1, except each task's latest (it is where the scheduler resumes). */
  prune: `DELETE FROM task_runs WHERE due_at < $1
    AND due_at < (SELECT MAX(l.due_at) FROM task_runs l WHERE l.task = task_runs.task)`,
};

export interface TaskRunRow {
  task: string;
  due_at: number | string;
  kind: string;
  job_id: string | null;
  created_at: number | string;
}

export function taskDueFromRow(r: TaskRunRow): TaskDueRecord {
  return { task: r.task, dueAt: Number(r.due_at), kind: r.kind as TaskDueKind, jobId: r.job_id, createdAt: Number(r.created_at) };
}

/** The same statement with SQLite's `?` (each statement above uses its parameters once, in order). */
export function forSqlite(sql: string): string {
  return sql.replace(/\$\d+/g, '?');
}
