// Rows of the SQLite tables and their mapping to the store's records; JSON columns are text, times epoch ms.
import type { ScannedRun } from '../run-search.js';
import type { JsonValue } from '../../engine/values.js';
import { InvalidCursorError, StoreUsageError } from './store.errors.js';
import type {
  JobState,
  DeliveryOriginal,
  InboxEntry,
  JobRecord,
  JobStatus,
  JournalEntry,
  NewJob,
  Page,
  RunRecord,
  RunStatus,
  RunSummary,
  RunTrigger,
  RunWrite,
  SignatureCheck,
} from './store.port.js';
import { END_NOT_COUNTED, RUN_TRIGGERS } from './store.port.js';
import { takeText } from './json-memo.js';
import { outcomeLetters, type RunOutcomeSource } from '../run-outcome.js';
import { cancelRequestOf } from './cancel-request.js';

/** Serialises a value for a JSON column; `undefined` becomes null. Refuses what JSON cannot hold (cycles, BigInt). */
export function toJson(value: unknown, what: string): string {
  const measured = takeText(value);
  if (measured !== undefined) return measured;
  try {
    return JSON.stringify(value ?? null);
  } catch (err) {
    throw new StoreUsageError(`${what} is not JSON-serialisable: ${(err as Error).message}`);
  }
}

/** Journal entries as (step key, outcome text), serialised before a transaction (both stores). */
export function journalRows(effects: readonly JournalEntry[] | undefined): Array<[string, string]> {
  return (effects ?? []).map((e) => [e.stepKey, toJson(e.outcome, 'effect outcome')]);
}

export function fromJson(text: string | null): JsonValue {
  return text === null ? null : (JSON.parse(text) as JsonValue);
}

export interface InboxRow {
  id: number;
  received_at: number;
  method: string;
  path: string;
  hook_id: string | null;
  headers: string;
  body: Buffer;
  remote_address: string | null;
  signature: SignatureCheck;
  dedup_key: string | null;
  duplicate_of: number | null;
  duplicates: number;
  run_id: string | null;
  response_status: number | null;
  response_body: string | null;
}

/** The columns `findOriginal` reads: what a resend needs of its original, never its body. */
export type OriginalRow = Pick<InboxRow, 'id' | 'response_status' | 'response_body' | 'run_id'>;

/** A delivery look-up waiting to be made together with the others of its turn (the stores' findByDedupKey). */
export interface DedupLookup {
  key: string;
  resolve: (original: DeliveryOriginal | undefined) => void;
  reject: (err: unknown) => void;
}

export function originalFromRow(r: OriginalRow): DeliveryOriginal {
  return { id: r.id, responseStatus: r.response_status, responseBody: r.response_body, runId: r.run_id };
}

export function inboxFromRow(r: InboxRow): InboxEntry {
  return {
    id: r.id,
    receivedAt: r.received_at,
    method: r.method,
    path: r.path,
    hookId: r.hook_id,
    headers: r.headers,
    body: r.body,
    remoteAddress: r.remote_address,
    signature: r.signature,
    dedupKey: r.dedup_key,
    duplicateOf: r.duplicate_of,
    duplicates: r.duplicates,
    runId: r.run_id,
    responseStatus: r.response_status,
    responseBody: r.response_body,
  };
}

/** Rows of `answeredStatuses` (ids as numbers or PostgreSQL's bigint text) as a map, the unanswered left out. */
/**
 * The end of the range of keys that begin with `prefix`, in code point order (SQLite's BINARY, PostgreSQL's C
 * collation): the prefix and U+10FFFF, which no key holds. Callers still check each key begins with the prefix.
 */
export function keyRangeEnd(prefix: string): string {
  return `${prefix}\u{10FFFF}`;
}

export function answeredMap(rows: ReadonlyArray<{ id: string | number; status: number | null }>): Map<number, number> {
  return new Map(rows.flatMap((r) => (r.status === null ? [] : [[Number(r.id), Number(r.status)] as [number, number]])));
}

export interface JobRow {
  id: string;
  scenario: string;
  params: string;
  variables: string;
  parent_run_id: string | null;
  parent_block: string | null;
  trigger: string;
  inbox_id: number | null;
  priority: number;
  attempts: number;
  max_attempts: number;
  next_run_at: number;
  status: JobStatus;
  lease_owner: string | null;
  lease_expires_at: number | null;
  /** Absent from a row built in memory before its insert. */
  claimed_at?: number | null;
  /** Absent from a row built in memory before its insert (and in a store before migration 10). */
  cancel_request?: string | null;
  last_error: string | null;
  last_run_id: string | null;
  pinned_version: string | null;
  replay_count: number;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

/** The columns `jobStates` reads. */
export interface JobStateRow {
  id: string;
  status: JobStatus;
  last_run_id: string | null;
  attempts: number | string;
  max_attempts: number | string;
  next_run_at: number | string;
}

/** `jobStates`' answer, by job id (PostgreSQL may give a BIGINT as text). */
export function jobStateMap(rows: readonly JobStateRow[]): Map<string, JobState> {
  return new Map(rows.map((r) => [r.id, { id: r.id, status: r.status, lastRunId: r.last_run_id, attempts: Number(r.attempts), maxAttempts: Number(r.max_attempts), nextRunAt: Number(r.next_run_at) }]));
}

export function jobFromRow(r: JobRow): JobRecord {
  return {
    id: r.id,
    scenario: r.scenario,
    params: fromJson(r.params),
    variables: fromJson(r.variables),
    parentRunId: r.parent_run_id,
    parentBlock: r.parent_block,
    trigger: fromJson(r.trigger),
    inboxId: r.inbox_id,
    priority: r.priority,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    nextRunAt: r.next_run_at,
    status: r.status,
    leaseOwner: r.lease_owner,
    leaseExpiresAt: r.lease_expires_at,
    claimedAt: r.claimed_at ?? null,
    cancelRequest: cancelRequestOf(r.cancel_request, r.replay_count),
    lastError: fromJson(r.last_error),
    lastRunId: r.last_run_id,
    pinnedVersion: r.pinned_version,
    replayCount: r.replay_count,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
  };
}

/** Named parameters of a job insert, everything but the times (filled in inside the transaction). */
export interface JobParams {
  id: string;
  scenario: string;
  params: string;
  variables: string;
  parent_run_id: string | null;
  parent_block: string | null;
  trigger: string;
  inbox_id: number | null;
  priority: number;
  max_attempts: number;
  run_at: number | null;
  pinned_version: string | null;
}

export function jobParams(j: NewJob, id: string, defaultMaxAttempts: number): JobParams {
  if (typeof j.scenario !== 'string' || j.scenario === '') throw new StoreUsageError('a job needs a scenario name');
  const maxAttempts = j.maxAttempts ?? defaultMaxAttempts;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new StoreUsageError(`maxAttempts must be a positive integer, got ${maxAttempts}`);
  return {
    id,
    scenario: j.scenario,
    params: toJson(j.params, 'job params'),
    variables: toJson(j.variables ?? {}, 'job variables'),
    parent_run_id: j.parentRunId ?? null,
    parent_block: j.parentBlock ?? null,
    trigger: toJson(j.trigger ?? null, 'job trigger'),
    inbox_id: j.inboxId ?? null,
    priority: Math.trunc(j.priority ?? 0),
    max_attempts: maxAttempts,
    run_at: j.runAt ?? null,
    pinned_version: j.pinnedVersion ?? null,
  };
}

export interface RunRow {
  id: string;
  job_id: string | null;
  inbox_id: number | null;
  parent_run_id: string | null;
  scenario: string;
  version: string;
  trigger: RunTrigger;
  status: RunStatus;
  attempt: number;
  worker_id: string | null;
  started_at: number;
  finished_at: number | null;
  duration_ms: number | null;
  params: string | null;
  return_values: string | null;
  error: string | null;
  trace: string | null;
  bpium_calls: string | null;
  mails: string | null;
  /** Absent from the rows of a summary; NULL for a run of a build from before the column. */
  time_zone?: string | null;
}

/**
 * Whether a run holds an effect that may repeat one of a cut-off attempt (`mayRepeat` in its letters, Bpium calls or
 * trace steps: pool.ts, interpreter.ts). Only a job's run can (whatever its attempt number: a job given back at a stop
 * has its attempt given back too, so its next run is attempt 1 again); the others are not searched. Computed for the
 * rows of the page only. The same SQL for SQLite and PostgreSQL (TEXT columns holding JSON.stringify's output).
 */
const MAY_REPEAT_SQL = `CASE WHEN job_id IS NOT NULL
    AND (mails LIKE '%"mayRepeat":true%' OR bpium_calls LIKE '%"mayRepeat":true%' OR trace LIKE '%"mayRepeat":true%') THEN 1 ELSE 0 END AS may_repeat`;

/** The columns a run summary reads (no trace, calls, mails: only whether they hold a candidate repeat). */
export const RUN_SUMMARY_COLUMNS = `id, job_id, inbox_id, parent_run_id, scenario, version, trigger, status, attempt, worker_id, started_at, finished_at, duration_ms, error, ${MAY_REPEAT_SQL}`;

export function runSummaryFromRow(r: Omit<RunRow, 'params' | 'return_values' | 'trace' | 'bpium_calls' | 'mails'> & { may_repeat?: number | null }): RunSummary {
  return {
    id: r.id,
    jobId: r.job_id,
    inboxId: r.inbox_id,
    parentRunId: r.parent_run_id,
    scenario: r.scenario,
    version: r.version,
    trigger: r.trigger,
    status: r.status,
    attempt: r.attempt,
    workerId: r.worker_id,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    durationMs: r.duration_ms,
    error: fromJson(r.error),
    ...(Number(r.may_repeat) === 1 ? { mayRepeat: true } : {}),
  };
}

export function runFromRow(r: RunRow): RunRecord {
  const run: RunRecord = {
    ...runSummaryFromRow(r),
    params: fromJson(r.params),
    returnValues: fromJson(r.return_values),
    trace: fromJson(r.trace),
    bpiumCalls: fromJson(r.bpium_calls),
    mails: fromJson(r.mails),
    ...(r.time_zone ? { timeZone: r.time_zone } : {}),
  };
  return recordMayRepeat(run) ? { ...run, mayRepeat: true } : run;
}

/** Whether a run's letters, Bpium calls or trace steps (their effect) hold a candidate repeat (`mayRepeat`). */
export function recordMayRepeat(r: Pick<RunRecord, 'mails' | 'bpiumCalls' | 'trace'>): boolean {
  const marked = (list: JsonValue, inner?: string) =>
    Array.isArray(list) && list.some((x) => x !== null && typeof x === 'object' && !Array.isArray(x) && marks(inner ? x[inner] : x));
  const marks = (x: JsonValue | undefined) => x !== null && typeof x === 'object' && !Array.isArray(x) && x.mayRepeat === true;
  return marked(r.mails) || marked(r.bpiumCalls) || marked(r.trace, 'effect');
}

const TRIGGERS: ReadonlySet<string> = new Set(RUN_TRIGGERS);
const RUN_STATUS_SET: ReadonlySet<string> = new Set(['running', 'completed', 'failed']);

/** A completed run whose job's end the store refused (lease lost), marked so its record does not read as the job's end. */
export function notCountedRun(r: RunWrite): RunWrite {
  if (r.status !== 'completed') return r;
  return {
    ...r,
    error: {
      code: END_NOT_COUNTED,
      message: "the attempt completed, but its end was not accepted: the job was no longer this worker's (its lease expired and another worker took it over, or the server's stop gave it back to the queue), so this run does not count (the job's outcome is that of its next attempt, which may repeat what this one did)",
      retryable: false,
    },
  };
}

/**
 * `runParams(notCountedRun(r))` from `runParams(r)`: the row of a run whose end was not accepted. Made only when an
 * end is refused, from the row already made, so the run's values are not serialised a second time for every letter.
 */
export function notCountedRow(row: RunRow): RunRow {
  if (row.status !== 'completed') return row;
  return { ...row, error: NOT_COUNTED_ERROR_TEXT ?? (NOT_COUNTED_ERROR_TEXT = JSON.stringify(notCountedRun({ status: 'completed' } as RunWrite).error)) };
}
let NOT_COUNTED_ERROR_TEXT: string | undefined;

export function runParams(r: RunWrite): RunRow {
  if (typeof r.id !== 'string' || r.id === '') throw new StoreUsageError('a run needs an id');
  if (!TRIGGERS.has(r.trigger)) throw new StoreUsageError(`unknown run trigger '${r.trigger}'`);
  if (!RUN_STATUS_SET.has(r.status)) throw new StoreUsageError(`unknown run status '${r.status}'`);
  const finished = r.finishedAt ?? null;
  return {
    id: r.id,
    job_id: r.jobId ?? null,
    inbox_id: r.inboxId ?? null,
    parent_run_id: r.parentRunId ?? null,
    scenario: r.scenario,
    version: r.version,
    trigger: r.trigger,
    status: r.status,
    attempt: r.attempt ?? 1,
    worker_id: r.workerId ?? null,
    started_at: r.startedAt,
    finished_at: finished,
    duration_ms: r.durationMs ?? (finished !== null ? finished - r.startedAt : null),
    params: r.params === undefined ? null : toJson(r.params, 'run params'),
    return_values: r.returnValues === undefined ? null : toJson(r.returnValues, 'run return values'),
    error: r.error === undefined ? null : toJson(r.error, 'run error'),
    trace: r.trace === undefined ? null : toJson(r.trace, 'run trace'),
    bpium_calls: r.bpiumCalls === undefined ? null : toJson(r.bpiumCalls, 'run Bpium calls'),
    mails: r.mails === undefined ? null : toJson(r.mails, 'run mails'),
    time_zone: r.timeZone ?? null,
  };
}

/** Opaque page cursor: the sort key of the last item, base64url JSON. */
export function encodeCursor(time: number, id: string): string {
  return Buffer.from(JSON.stringify([time, id])).toString('base64url');
}

export function decodeCursor(cursor: string): { time: number; id: string } {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'string') return { time: v[0], id: v[1] };
  } catch {
    // fall through
  }
  throw new InvalidCursorError();
}

export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Checks a page size (default 50, at most 1000). */
export function pageLimit(limit: number | undefined): number {
  const n = limit ?? 50;
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new StoreUsageError(`page limit must be 1..1000, got ${limit}`);
  return n;
}

/** A page from `limit + 1` fetched rows: the extra row only says whether a next page exists. */
export function page<T>(items: T[], limit: number, cursorOf: (last: T) => string): Page<T> {
  if (items.length <= limit) return { items, nextCursor: null };
  const kept = items.slice(0, limit);
  return { items: kept, nextCursor: cursorOf(kept[kept.length - 1]!) };
}

/** Rows of `runOutcomes` (return values and the letters' recipients and status as JSON text) as a map by run id. */
export function runOutcomeMap(rows: ReadonlyArray<{ id: string; return_values: string | null; letters: string | null }>): Map<string, RunOutcomeSource> {
  return new Map(rows.map((r) => [r.id, { returnValues: fromJson(r.return_values), letters: outcomeLetters(fromJson(r.letters)) }]));
}

/**
 * The rows of a page of a search's scan (Store.scanRuns, both stores): `scan` runs at most, whether more were left
 * unread, and the cursor of the next page.
 */
export function scannedRuns(rows: Array<Omit<RunRow, 'trace' | 'bpium_calls' | 'mails'> & { may_repeat?: number | null }>, scan: number): { runs: ScannedRun[]; cut: boolean; next?: string } {
  const runs = rows.slice(0, scan).map((r) => ({ ...runSummaryFromRow(r), paramsText: r.params, returnText: r.return_values }));
  const last = runs.at(-1);
  const cut = rows.length > scan;
  return { runs, cut, ...(cut && last ? { next: encodeCursor(last.startedAt, last.id) } : {}) };
}
