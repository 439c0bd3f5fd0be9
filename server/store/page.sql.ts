// The SQL of one page of a list (jobs, runs), newest first, for both stores: the filters a query names, the cursor
// of the page before, and one row more than the page holds (it says whether a next page exists).
import { decodeCursor } from './sqlite.rows.js';
import type { ListJobsQuery, ListRunsQuery } from './store.port.js';

export type SqlDialect = 'sqlite' | 'postgres';

/** A condition on one column, left out when its value is undefined. `time` columns are compared as 64-bit numbers. */
export interface PageFilter {
  column: string;
  value: string | number | undefined;
  op?: '=' | '>=';
  time?: boolean;
  /** A condition without arguments put before the comparison when the filter applies (a partial index's own). */
  guard?: string;
}

export interface PageQuery {
  table: string;
  columns: string;
  /** The time column the list is ordered by (then `id`), both descending; an index on the two serves the order. */
  time: string;
  filters: readonly PageFilter[];
  cursor: string | null | undefined;
  limit: number;
}

export function pageSql(dialect: SqlDialect, q: PageQuery): { sql: string; args: unknown[] } {
  const args: unknown[] = [];
  const arg = (v: unknown, cast = '') => (args.push(v), dialect === 'postgres' ? `$${args.length}${cast}` : '?');
  const where = q.filters
    .filter((f) => f.value !== undefined)
    .flatMap((f) => [...(f.guard ? [f.guard] : []), `${f.column} ${f.op ?? '='} ${arg(f.value, f.time ? '::bigint' : '')}`]);
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    // PostgreSQL compares the pair as a row value; SQLite gets the same condition spelt out.
    where.push(
      dialect === 'postgres'
        ? `(${q.time}, id) < (${arg(c.time, '::bigint')}, ${arg(c.id, '::text')})`
        : `(${q.time} < ${arg(c.time)} OR (${q.time} = ${arg(c.time)} AND id < ${arg(c.id)}))`,
    );
  }
  const sql = `SELECT ${q.columns} FROM ${q.table} ${where.length ? `WHERE ${where.join(' AND ')} ` : ''}ORDER BY ${q.time} DESC, id DESC LIMIT ${arg(q.limit + 1)}`;
  return { sql, args };
}

/**
 * The `task` member of a job's trigger (JSON text in both stores), and the condition that selects the rows that can
 * have one: the index `jobs_task` (migration 5 of SQLite, 6 of PostgreSQL) is on this expression over those rows
 * only, and a query uses it only when it names both exactly as the index does. Inside a JSON string every `"` is
 * escaped, so the text `"task"` with its quotes is found only where the key (or a value "task") is: no row with a
 * task is left out, and the other jobs (webhooks, Web-API calls) are never parsed as they are inserted.
 */
export const JOB_TASK = {
  sqlite: { guard: `instr(trigger, '"task"') > 0`, column: `json_extract(trigger, '$.task')` },
  postgres: { guard: `strpos(trigger, '"task"') > 0`, column: `(trigger::json ->> 'task')` },
} as const;

/**
 * A job its task's schedule started (a due or catch-up run, not a manual one): the `kind` member of its trigger. The
 * index `jobs_task_scheduled` (migration 6 of SQLite, 7 of PostgreSQL) holds these jobs only, under the same
 * expression and condition as `jobs_task` plus this one, spelt exactly so: a query that spells it otherwise does not
 * use the index.
 */
export const JOB_SCHEDULED = {
  sqlite: `json_extract(trigger, '$.kind') IN ('due', 'catch-up')`,
  postgres: `(trigger::json ->> 'kind') IN ('due', 'catch-up')`,
} as const;

/**
 * The newest job the schedule of task `$1` (`?` in SQLite) started, however many manual runs came after it: one step
 * into `jobs_task_scheduled`.
 */
export function latestScheduledJobSql(dialect: SqlDialect): string {
  const t = JOB_TASK[dialect];
  return `SELECT * FROM jobs WHERE ${t.guard} AND ${JOB_SCHEDULED[dialect]} AND ${t.column} = ${dialect === 'postgres' ? '$1' : '?'} ORDER BY created_at DESC, id DESC LIMIT 1`;
}

/** The filters of a job list; a task is the `task` member of the job's trigger, looked up in the index `jobs_task`. */
export function jobFilters(q: ListJobsQuery, dialect: SqlDialect): PageFilter[] {
  return [
    { column: 'status', value: q.status },
    { column: 'scenario', value: q.scenario },
    { column: 'parent_run_id', value: q.parentRunId },
    { ...JOB_TASK[dialect], value: q.task },
  ];
}

/** One page of jobs, newest first, as both stores read it. */
export function jobPageSql(dialect: SqlDialect, q: ListJobsQuery, limit: number): { sql: string; args: unknown[] } {
  return pageSql(dialect, { table: 'jobs', columns: '*', time: 'created_at', filters: jobFilters(q, dialect), cursor: q.cursor, limit });
}

/** The queued jobs soonest due first (Store.queuedJobs), as both stores read them: one page, no cursor. */
export function queuedJobsSql(dialect: SqlDialect, q: { scenario?: string; since?: number; limit: number }): { sql: string; args: unknown[] } {
  const args: unknown[] = [];
  const arg = (v: unknown, cast = '') => (args.push(v), dialect === 'postgres' ? `$${args.length}${cast}` : '?');
  const where = [`status = 'queued'`];
  if (q.scenario !== undefined) where.push(`scenario = ${arg(q.scenario)}`);
  if (q.since !== undefined) where.push(`created_at >= ${arg(q.since, '::bigint')}`);
  return { sql: `SELECT * FROM jobs WHERE ${where.join(' AND ')} ORDER BY next_run_at ASC, id ASC LIMIT ${arg(q.limit)}`, args };
}

/** The filters of a run list. */
export function runFilters(q: ListRunsQuery): PageFilter[] {
  return [
    { column: 'status', value: q.status },
    { column: 'scenario', value: q.scenario },
    { column: 'job_id', value: q.jobId },
    { column: 'started_at', op: '>=', value: q.since, time: true },
  ];
}
