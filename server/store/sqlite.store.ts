// The Store on one SQLite file (better-sqlite3, WAL): for a single server process. Writes go through grouped commits.
import type { RunOutcomeSource } from '../run-outcome.js';
import Database from 'better-sqlite3';
import type { EffectJournalPort } from '../../engine/ports.js';
import type { JsonValue } from '../../engine/values.js';
import { keepingCutOfText, LEASE_LOST, lostAttemptRun, PROCESS_STOPPED } from '../run-record.js';
import { DEFAULT_BACKOFF, decideRetry, type BackoffPolicy } from './backoff.js';
import { newSortableId } from './sortable-id.js';
import { catchAllJob, catchAllOn, errorNamingCatchAll, tellBuried, type BuriedJob, type DeadLetterCatchAll, type GivenUp } from './dead-letter.js';
import { applyMigrations } from './sqlite.migrations.js';
import { buriedByCancel, cancelledWhileRunning, cancelRequestJson, cancelRequestOf, type CancelRequest } from './cancel-request.js';
import type { SchemaMigrated } from './migrated.js';
import {
  encodeCursor,
  fromJson,
  answeredMap,
  jobStateMap,
  type JobStateRow,
  inboxFromRow,
  page,
  pageLimit,
  jobFromRow,
  jobParams,
  journalRows,
  runFromRow,
  runOutcomeMap,
  notCountedRow,
  runParams,
  runSummaryFromRow,
  scannedRuns,
  RUN_SUMMARY_COLUMNS,
  toBuffer,
  toJson,
  type InboxRow,
  type DedupLookup,
  type OriginalRow,
  originalFromRow,
  keyRangeEnd,
  type JobParams,
  type JobRow,
  type RunRow,
} from './sqlite.rows.js';
import { jobPageSql, latestScheduledJobSql, pageSql, queuedJobsSql, runFilters } from './page.sql.js';
import { positionalValues, prepareStatements, type Statements } from './sqlite.statements.js';
import { closedError, StoreUnavailableError, StoreUsageError } from './store.errors.js';
import {
  JOB_STATUSES,
  RUN_STATUSES,
  type AttemptOutcome,
  type EnqueueOptions,
  type FailJobInput,
  type FailJobResult,
  type DeliveryOriginal,
  type InboxEntry,
  type JobLease,
  type JobRecord,
  type JobState,
  type JournalEntry,
  type ListJobsQuery,
  type ListRunsQuery,
  type NewJob,
  type Page,
  type PruneOptions,
  type PruneResult,
  type RecordRequestInput,
  type RecordRequestResult,
  type RecoverResult,
  type RequeueOptions,
  type RequeueSelector,
  type RunSummary,
  type RunRecord,
  type RunWrite,
  type Store,
  type StoreClock,
  type StoreCounts,
  type StoreStats,
  type TaskDueInput,
  type TaskDueRecord,
} from './store.port.js';
import type { ScannedRun } from '../run-search.js';
import { emptyPruneResult, noteDeadLetters, pruneCutoffs } from './prune.js';
import { CHECKPOINT_ANSWER_TIMEOUT_MS, PruneCheckpoints, type CheckpointSummary } from './prune-checkpoints.js';
import { PAUSE_SQL, pauseFromRow, type PauseInput, type PauseRow, type ScenarioPause } from './scenario-pause.js';
import { forSqlite, TASK_SQL, taskDueFromRow, type TaskRunRow } from './task-runs.sql.js';
import { WriteBatcher } from './write-batcher.js';
import { createPrivateFile } from '../../adapters/private-file.js';

export interface SqliteStoreOptions {
  /** Database file (created with mode 0600: it holds webhook bodies), or ':memory:' for throwaway tests. */
  file: string;
  clock?: StoreClock;
  /**
   * `normal` (default): `synchronous=NORMAL`, commits reach the WAL file but are not fsynced: a killed process loses
   * nothing, a power cut or kernel crash may lose the last commits. `full`: fsync per (grouped) commit.
   */
  durability?: 'normal' | 'full';
  /** How long a write waits for a lock held by another connection before failing as `busy`. It blocks the event loop. */
  busyTimeoutMs?: number;
  /** Caps the database size in pages (4 KiB each): a write past it fails as `full`. For tests and hard quotas. */
  maxPageCount?: number;
  /** Under `maxPageCount`, the pages kept per pending job (see `pagesPerPendingJob`). Default `PAGES_PER_PENDING_JOB`. */
  pagesPerPendingJob?: number;
  /**
   * The time zone this instance runs jobs in (the server's OKTELL_TZ, else the configuration's `timeZone`): the run
   * the store writes for an attempt whose worker vanished (its lease expired, or the process was stopped) names it,
   * as the runs its workers record do. Absent: such a run names no zone (read in the reader's own).
   */
  timeZone?: string;
  /** Attempts of a job unless the job says otherwise. Default 5. */
  defaultMaxAttempts?: number;
  backoff?: BackoffPolicy;
  /** Randomness for backoff jitter. */
  random?: () => number;
  /** Most write calls per transaction. Default 2000. */
  maxBatch?: number;
  /** The most index entries a prune window reads (see prune). Default 1,000; tests use a few. */
  pruneMaxWindow?: number;
  /**
   * Who checkpoints the WAL while a prune runs: `thread` (default) a thread of its own (see prune-checkpoints.ts),
   * `commit` the committing writes on the main thread, as at any other time (for measurements).
   */
  pruneCheckpoints?: 'thread' | 'commit';
  /** The checkpoint thread's script, for tests (one that fails). */
  checkpointWorker?: URL;
  /** WAL pages after which a commit checkpoints, and past which a prune waits for its thread's. Default 5,000; tests use a few. */
  walCheckpointPages?: number;
  newId?: () => string;
  /**
   * The dead-letter catch-all: this scenario is enqueued, in the transaction that makes a job dead or failed for good,
   * with what became of it as its input parameters (dead-letter.ts). Absent: none.
   */
  catchAll?: DeadLetterCatchAll;
}

/** The most index entries a prune window reads (see PRUNE_SQL), and the first window's size. */
const PRUNE_MAX_WINDOW = 1000;
const PRUNE_FIRST_WINDOW = 100;
/** How long one prune window may hold the event loop, in ms: the window's size follows the time the last one took. */
export const PRUNE_WINDOW_MS = 10;

/** The last key of a prune window: its age, and its key (and the second part of a two-part key). */
interface PruneCursor {
  at: number;
  key: string | number;
  key2?: string;
}

/**
 * The next window's size from the time the last took: halved (or less) when it held the loop past PRUNE_WINDOW_MS,
 * doubled when it took under half of it, never under 25 rows nor over `max`. The time is the delete's own: a window
 * that waited for the disk or met a busy machine shrinks the next one, and the size grows back as it gets faster.
 */
export function nextPruneWindow(n: number, ms: number, max: number): number {
  if (ms > PRUNE_WINDOW_MS) return Math.max(Math.min(25, max), Math.min(Math.floor(n / 2), Math.floor((n * PRUNE_WINDOW_MS) / ms)));
  if (ms < PRUNE_WINDOW_MS / 2) return Math.min(max, n * 2);
  return Math.min(max, n);
}

/** What a delivery look-up (see findByDedupKey) found. */
type LookupResult = { ok: true; row: OriginalRow | undefined } | { ok: false; error: unknown };

/**
 * Room kept under a quota (`maxPageCount`) for the work already accepted, so that new work from outside (hook requests,
 * Web-API starts, service-task runs) is refused while the jobs already queued can still be claimed and record their
 * run and outcome. Without it new work fills the file to the last page and delivery stalls: a job that cannot record
 * its end runs again (its letter too) after a restart.
 * Kept: `PAGES_PER_PENDING_JOB` pages (64 KiB) per queued or running job, plus `QUOTA_MARGIN` of the quota. That is
 * what one attempt of the article's flow can record: a run record keeps up to 16,384 characters of letter text (up to
 * 32 KiB of Cyrillic in UTF-8), 4,096 characters of each parameter (the webhook's body) and 256 of each traced value,
 * plus the job's row and index entries. 16 KiB was the size of a short task's record: a flood of tasks with long
 * descriptions (about 30 KB per record) filled the quota to the last page, and jobs could neither record their end
 * nor be claimed.
 */
export const PAGES_PER_PENDING_JOB = 16;
export const QUOTA_MARGIN = 0.05;

/**
 * The room per pending job for a run-record budget (`OKTELL_RUN_RECORD_BUDGET`): a record may take its budget, plus a
 * quarter for pages it half fills, the job's row and the index entries; never less than `PAGES_PER_PENDING_JOB`. A
 * larger budget needs more room, or the jobs already accepted could not record their end.
 */
export function pagesPerPendingJob(runRecordBytes: number | undefined): number {
  return Math.max(PAGES_PER_PENDING_JOB, Math.ceil(((runRecordBytes ?? 0) * 1.25) / 4096));
}

/** The store options of a configured quota (`OKTELL_STORE_MAX_PAGES`) and run-record budget; none without a quota. */
export function quotaOptions(config: { storeMaxPages?: number; runRecordBytes: number }): Pick<SqliteStoreOptions, 'maxPageCount' | 'pagesPerPendingJob'> {
  return config.storeMaxPages ? { maxPageCount: config.storeMaxPages, pagesPerPendingJob: pagesPerPendingJob(config.runRecordBytes) } : {};
}
const PATH_DELIVERY_KEY_SQL = `SELECT 1 FROM inbox WHERE dedup_key >= 'bpium:' AND dedup_key < 'bpium;' AND duplicate_of IS NULL AND dedup_key NOT LIKE '%@*' AND dedup_key NOT LIKE '%#%' LIMIT 1`;
/** Originals whose key begins with a prefix ($1), through their index: the keys from it to it + U+10FFFF ($2). */
const DELIVERIES_BY_PREFIX_SQL = `SELECT id, dedup_key FROM inbox WHERE dedup_key >= ? AND dedup_key < ? AND duplicate_of IS NULL ORDER BY id LIMIT ?`;
const PENDING_JOBS_SQL = `SELECT COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running')`;
/** How long a count of the pending jobs serves the quota's room check (see `pendingJobs`). */
const PENDING_RECOUNT_MS = 1000;

/** The claim columns of a job stored queued. */
const QUEUED = { status: 'queued', attempts: 0, lease_owner: null, lease_expires_at: null, claimed_at: null };


/** The error a job is buried with when its lease expired during its last attempt. */
const LEASE_LOST_LAST = { code: LEASE_LOST.code, message: `${LEASE_LOST.message} during the last attempt` };

/** Opens (creating if needed) and migrates a SQLite store. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteStore> {
  return new SqliteStore(options);
}

/** WAL pages after which a commit checkpoints (SQLite's default is 1,000). */
export const WAL_CHECKPOINT_PAGES = 5000;

/**
 * The connection's page cache in KiB (`PRAGMA cache_size = -N`): SQLite's own default, 2,000 KiB. better-sqlite3 is
 * built with 16,000 KiB, and under a webhook flood the cache fills as the file grows, so those pages stayed in the
 * process's memory: they were about 15 MiB of the server's peak RSS in the acknowledgement benchmark. The pages a
 * write touches (the B-trees' upper levels and their newest leaves) fit in 2,000 KiB: the server's read calls per
 * acknowledgement did not change, the rest comes from the OS's file cache when read.
 */
export const PAGE_CACHE_KIB = 2000;

export class SqliteStore implements Store {
  readonly file: string;
  readonly effects: EffectJournalPort;
  private readonly db: Database.Database;
  private readonly st: Statements;
  private readonly batcher: WriteBatcher;
  private readonly clock: StoreClock;
  private readonly backoff: BackoffPolicy;
  private readonly random: () => number;
  private readonly defaultMaxAttempts: number;
  /** SqliteStoreOptions.timeZone: named by the runs written for lost attempts. */
  private readonly timeZone: string | undefined;
  private readonly newId: () => string;
  private readonly catchAll: DeadLetterCatchAll | undefined;
  private readonly listCache = new Map<string, Database.Statement>();
  /** The quota in pages (undefined: none), for the room check of new work (`assertRoomForNewWork`). */
  private readonly maxPages: number | undefined;
  private readonly pagesPerJob: number;
  /** What this open did to the schema (the server's start log says it). */
  readonly migrated: SchemaMigrated;
  private closed = false;
  /** The size of the next prune window, its bound, and the windows deleted in so far (see prune). */
  private pruneWindow = PRUNE_FIRST_WINDOW;
  private readonly pruneMaxWindow: number;
  private pruneWindowCount = 0;
  private pruneLongestMs = 0;
  private readonly pruneCheckpoints: 'thread' | 'commit';
  private readonly checkpointWorker: URL | undefined;
  private readonly walCheckpointPages: number;
  /** The checkpoint thread of the prune under way (see prune), and what the last one came to. */
  private checkpoints: PruneCheckpoints | undefined;
  private lastCheckpoints: CheckpointSummary | undefined;
  /** The last count of pending jobs and when (performance.now()), and the jobs queued since (see `pendingJobs`). */
  private pendingCount: { n: number; at: number } | undefined;
  private queuedSinceCount = 0;
  /** Delivery look-ups asked in this turn of the event loop (see findByDedupKey). */
  private lookups: DedupLookup[] | undefined;
  /** The look-ups of one turn in one read transaction. */
  private readonly readTogether: (batch: readonly DedupLookup[]) => LookupResult[];

  constructor(o: SqliteStoreOptions) {
    this.file = o.file;
    this.clock = o.clock ?? { now: () => Date.now() };
    this.backoff = o.backoff ?? DEFAULT_BACKOFF;
    this.random = o.random ?? Math.random;
    this.timeZone = o.timeZone;
    this.defaultMaxAttempts = o.defaultMaxAttempts ?? 5;
    this.newId = o.newId ?? (() => newSortableId(this.clock.now()));
    this.catchAll = o.catchAll;
    this.maxPages = o.maxPageCount !== undefined ? Math.trunc(o.maxPageCount) : undefined;
    this.pagesPerJob = o.pagesPerPendingJob ?? PAGES_PER_PENDING_JOB;
    this.pruneMaxWindow = Math.max(1, Math.trunc(o.pruneMaxWindow ?? PRUNE_MAX_WINDOW));
    this.pruneWindow = Math.min(PRUNE_FIRST_WINDOW, this.pruneMaxWindow);
    // A throwaway database in memory has no WAL to checkpoint.
    this.pruneCheckpoints = o.file === ':memory:' ? 'commit' : (o.pruneCheckpoints ?? 'thread');
    this.checkpointWorker = o.checkpointWorker;
    this.walCheckpointPages = Math.max(1, Math.trunc(o.walCheckpointPages ?? WAL_CHECKPOINT_PAGES));
    if (o.file !== ':memory:') createPrivateFile(o.file);
    this.db = new Database(o.file, { timeout: o.busyTimeoutMs ?? 1000 });
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${o.durability === 'full' ? 'FULL' : 'NORMAL'}`);
      // Checkpoints copy the WAL's pages into the database inside a committing write. The same hot pages (the jobs
      // table and its indexes) are rewritten by every webhook, so checkpointing less often copies each of them fewer
      // times: measured under the benchmark's load, 5,000 pages instead of SQLite's 1,000 took commits from about a
      // quarter of the main thread's time to a sixth. The WAL file is cut back to 64 MB after a checkpoint.
      this.db.pragma(`wal_autocheckpoint = ${this.walCheckpointPages}`);
      this.db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
      this.db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
      this.migrated = applyMigrations(this.db, undefined, this.clock.now());
      if (o.maxPageCount !== undefined) this.db.pragma(`max_page_count = ${Math.trunc(o.maxPageCount)}`);
      this.st = prepareStatements(this.db);
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.batcher = new WriteBatcher(this.db, o.maxBatch);
    this.readTogether = this.db.transaction((batch: readonly DedupLookup[]) => this.lookUp(batch));
    this.effects = {
      get: async (runKey, stepKey) => {
        this.assertOpen();
        const row = this.st.getEffect.get(runKey, stepKey) as { outcome: string } | undefined;
        return row ? fromJson(row.outcome) : undefined;
      },
      put: (runKey, stepKey, outcome) => this.putEffectGroup([{ runKey, stepKey, outcome }]),
    };
  }

  // ----- inbox -------------------------------------------------------------------------------------------------

  async recordRequest(input: RecordRequestInput): Promise<RecordRequestResult> {
    this.assertRoomForNewWork();
    const e = input.inbox;
    const entry = {
      received_at: e.receivedAt,
      method: e.method,
      path: e.path,
      hook_id: e.hookId ?? null,
      headers: e.headers,
      body: toBuffer(e.body),
      remote_address: e.remoteAddress ?? null,
      signature: e.signature,
      dedup_key: e.dedupKey,
      duplicate_of: null as number | null,
      run_id: input.run?.id ?? null,
      response_status: e.response?.status ?? null,
      response_body: e.response?.body ?? null,
    };
    const run = input.run ? runParams(input.run) : undefined;
    const jobs = this.prepareJobs(input.jobs ?? []);
    return this.batcher.submit((): RecordRequestResult => {
      const original = e.dedupKey === null ? undefined : (this.st.findOriginal.get(e.dedupKey) as OriginalRow | undefined);
      if (original) {
        const dupId = Number(this.st.insertInbox.run({ ...entry, duplicate_of: original.id }).lastInsertRowid);
        this.st.bumpDuplicates.run(original.id);
        if (run) this.st.upsertRun.run({ ...run, inbox_id: run.inbox_id ?? dupId });
        return {
          duplicate: true,
          inboxId: original.id,
          duplicateEntryId: dupId,
          original: { responseStatus: original.response_status, responseBody: original.response_body, runId: original.run_id },
          jobIds: [],
        };
      }
      const inboxId = Number(this.st.positional.insertInbox.statement.run(positionalValues(this.st.positional.insertInbox, entry)).lastInsertRowid);
      if (run) this.st.positional.upsertRun.statement.run(positionalValues(this.st.positional.upsertRun, run, { inbox_id: run.inbox_id ?? inboxId }));
      // A job due later (runAt) is not handed over: it waits in the queue for its time.
      // Nor is the job of a paused scenario: it waits in the queue for the resume, its attempt unused.
      if (!input.lease || jobs.length === 0 || jobs.some((j) => j.run_at !== null && j.run_at > this.clock.now()) || this.anyPaused(jobs)) {
        return { duplicate: false, inboxId, jobIds: this.insertJobs(jobs, inboxId) };
      }
      const leased = this.insertLeasedJobs(jobs, inboxId, input.lease);
      return { duplicate: false, inboxId, jobIds: leased.map((j) => j.id), leased };
    });
  }

  async putEffectGroup(entries: ReadonlyArray<JournalEntry & { runKey: string }>): Promise<void> {
    if (!entries.length) return;
    const rows = entries.map((e) => [e.runKey, e.stepKey, toJson(e.outcome, 'effect outcome')] as const);
    await this.batcher.submit(() => {
      const now = this.clock.now();
      for (const [runKey, stepKey, text] of rows) this.st.putEffect.run(runKey, stepKey, text, now);
    });
  }

  /**
   * Look-ups asked in one turn of the event loop are made together on the next `setImmediate`, in one read
   * transaction: a statement outside a transaction takes and gives back WAL mode's read locks (system calls on the
   * database and -shm files) each time, which cost more than the look-up itself, and a webhook flood asks one per
   * request. A look-up made later than asked sees every commit made before it was asked, and maybe more, never less.
   */
  findByDedupKey(dedupKey: string): Promise<DeliveryOriginal | undefined> {
    if (this.closed) return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      if (this.lookups === undefined) {
        this.lookups = [];
        setImmediate(() => this.runLookups());
      }
      this.lookups.push({ key: dedupKey, resolve, reject });
    });
  }

  /** Makes the look-ups asked so far (see findByDedupKey); each one's error goes to its caller alone. */
  private runLookups(): void {
    const batch = this.lookups;
    this.lookups = undefined;
    if (batch === undefined || batch.length === 0) return;
    if (!this.db.open) {
      for (const l of batch) l.reject(closedError());
      return;
    }
    let found: LookupResult[];
    try {
      found = batch.length === 1 || this.db.inTransaction ? this.lookUp(batch) : this.readTogether(batch);
    } catch {
      // The read transaction's BEGIN or COMMIT failed: each look-up alone, as they were made before.
      found = this.lookUp(batch);
    }
    batch.forEach((l, i) => {
      const r = found[i]!;
      if (r.ok) l.resolve(r.row ? originalFromRow(r.row) : undefined);
      else l.reject(r.error);
    });
  }

  private lookUp(batch: readonly DedupLookup[]): LookupResult[] {
    return batch.map((l): LookupResult => {
      try {
        return { ok: true, row: this.st.findOriginal.get(l.key) as OriginalRow | undefined };
      } catch (error) {
        return { ok: false, error };
      }
    });
  }

  async hasPathDeliveryKeys(): Promise<boolean> {
    this.assertOpen();
    // Through the index of original keys: the range of Bpium keys, then their ends.
    return this.cached(PATH_DELIVERY_KEY_SQL).get() !== undefined;
  }

  async deliveriesByKeyPrefix(keyPrefix: string, limit: number): Promise<Array<{ id: number; dedupKey: string }>> {
    this.assertOpen();
    if (keyPrefix === '') return [];
    const rows = this.cached(DELIVERIES_BY_PREFIX_SQL).all(keyPrefix, keyRangeEnd(keyPrefix), limit) as Array<{ id: number; dedup_key: string }>;
    return rows.filter((r) => r.dedup_key.startsWith(keyPrefix)).map((r) => ({ id: r.id, dedupKey: r.dedup_key }));
  }

  async getInboxEntry(id: number): Promise<InboxEntry | undefined> {
    this.assertOpen();
    const row = this.st.getInbox.get(id) as InboxRow | undefined;
    return row ? inboxFromRow(row) : undefined;
  }

  async answeredStatuses(ids: readonly number[]): Promise<Map<number, number>> {
    this.assertOpen();
    const safe = ids.filter(Number.isSafeInteger);
    if (safe.length === 0) return new Map();
    const rows = this.st.answeredStatuses.all(JSON.stringify(safe)) as { id: number; status: number | null }[];
    return answeredMap(rows);
  }

  // ----- jobs --------------------------------------------------------------------------------------------------

  async enqueueJobs(jobs: NewJob[], options: EnqueueOptions = {}): Promise<string[]> {
    // A running job's children use the room kept for it; any other start is new work.
    if (!options.byRunningJob) this.assertRoomForNewWork();
    const prepared = this.prepareJobs(jobs);
    return this.batcher.submit(() => this.insertJobs(prepared, null));
  }

  async claimTaskDue(input: TaskDueInput): Promise<{ claimed: boolean; jobId: string | null }> {
    const job = input.job ? this.prepareJobs([input.job])[0]! : null;
    // A due time that starts a run is new work; the marks without a job (skipped, missed, paused) are a few bytes.
    if (job) this.assertRoomForNewWork();
    return this.batcher.submit(() => {
      const r = this.cached(forSqlite(TASK_SQL.claim)).run(input.task, input.dueAt, input.kind, job?.id ?? null, this.clock.now());
      if (r.changes === 0) return { claimed: false, jobId: null };
      if (job) this.insertJobs([job], null);
      return { claimed: true, jobId: job?.id ?? null };
    });
  }

  async lastTaskDues(tasks: readonly string[]): Promise<TaskDueRecord[]> {
    this.assertOpen();
    const latest = this.cached(forSqlite(TASK_SQL.latest));
    return tasks.flatMap((t) => {
      const row = latest.get(t) as TaskRunRow | undefined;
      return row ? [taskDueFromRow(row)] : [];
    });
  }

  async pauseScenario(input: PauseInput): Promise<ScenarioPause> {
    const at = this.clock.now();
    await this.batcher.submit(() => {
      this.cached(forSqlite(PAUSE_SQL.upsert)).run(input.scenario, input.by, at, input.reason ?? null, input.until ?? null);
    });
    const queued = (this.cached(`SELECT COUNT(*) AS n FROM jobs WHERE status = 'queued' AND scenario = ?`).get(input.scenario) as { n: number }).n;
    return { scenario: input.scenario, by: input.by, at, reason: input.reason ?? null, until: input.until ?? null, queued };
  }

  async resumeScenario(scenario: string): Promise<boolean> {
    return this.batcher.submit(() => {
      this.cached(forSqlite(PAUSE_SQL.ended)).run(this.clock.now());
      return this.cached(forSqlite(PAUSE_SQL.remove)).run(scenario).changes > 0;
    });
  }

  async pausedScenarios(): Promise<ScenarioPause[]> {
    this.assertOpen();
    return (this.cached(forSqlite(PAUSE_SQL.active)).all(this.clock.now()) as PauseRow[]).map(pauseFromRow);
  }

  async claimJobs(workerId: string, limit: number, leaseMs: number): Promise<JobRecord[]> {
    if (!Number.isInteger(limit) || limit < 1) throw new StoreUsageError(`claim limit must be a positive integer, got ${limit}`);
    const r = await this.batcher.submit(() => {
      const now = this.clock.now();
      const lease = { worker: workerId, expires: now + leaseMs, now };
      const claimed: JobRow[] = [];
      // Told to the server after the commit (the op may run twice in a batch, so it is its result, not a side effect).
      const buriedJobs: BuriedJob[] = [];
      // Expired leases are rare: one indexed probe decides whether the three statements that handle them run at all.
      if (this.st.anyExpiredLease.get(now, workerId) !== undefined) {
        const lost = toJson({ code: LEASE_LOST.code, message: `${LEASE_LOST.message} during the last attempt` }, 'error');
        // Attempts whose worker vanished: a run record marked running would otherwise say so forever, and an attempt
        // that wrote none gets one (lost), so it and the dead letter it may leave appear in every list.
        // Only for the jobs this claim deals with (buried, or taken again): the others stay expired for the next one,
        // which would otherwise record their lost attempt a second time.
        const expired = new Map((this.st.expiredLeases.all(now, workerId) as JobRow[]).map((r) => [r.id, r]));
        this.st.buryExpired.run({ now, error: lost, worker: workerId });
        const taken = this.st.claimExpired.all({ ...lease, limit, error: lost }) as JobRow[];
        claimed.push(...taken);
        const takenIds = new Set(taken.map((r) => r.id));
        for (const row of expired.values()) {
          const buried = row.attempts >= row.max_attempts;
          if (!buried && !takenIds.has(row.id)) continue;
          const job = jobFromRow(row);
          const { runId } = this.endLostAttempt(job, LEASE_LOST, lost, now);
          if (!buried) continue;
          const started = this.startCatchAll({ job, status: 'dead', error: LEASE_LOST_LAST, errorJson: lost, lastRunId: runId, at: now });
          if (started) buriedJobs.push({ jobId: job.id, scenario: job.scenario, ...started });
        }
      }
      if (claimed.length < limit) claimed.push(...this.claimQueued(lease, limit - claimed.length));
      return { jobs: claimed.map(jobFromRow).sort((a, b) => b.priority - a.priority || a.nextRunAt - b.nextRunAt), buriedJobs };
    });
    if (r.buriedJobs.length > 0) tellBuried(this.catchAll, r.buriedJobs);
    return r.jobs;
  }

  /**
   * Inside the claim's transaction: up to `limit` due queued jobs, in claim order. With no pause, one walk of jobs_due;
   * while a scenario is paused, the head of each other scenario (jobs_queued_scenario) instead, so that the paused
   * backlog is not read on every poll.
   */
  private claimQueued(lease: { worker: string; expires: number; now: number }, limit: number): JobRow[] {
    if (this.st.anyPause.get() === undefined) return this.st.claimQueued.all({ ...lease, limit }) as JobRow[];
    const heads: Array<{ id: string; priority: number; next_run_at: number }> = [];
    for (const { name } of this.st.queuedScenarios.all({ now: lease.now }) as Array<{ name: string }>) {
      heads.push(...(this.st.queuedHead.all({ scenario: name, now: lease.now, limit }) as typeof heads));
    }
    if (heads.length === 0) return [];
    const ids = heads.sort((a, b) => b.priority - a.priority || a.next_run_at - b.next_run_at).slice(0, limit).map((h) => h.id);
    return this.st.claimQueuedIds.all({ ...lease, ids: JSON.stringify(ids) }) as JobRow[];
  }

  async heartbeat(jobIds: string[], workerId: string, leaseMs: number): Promise<string[]> {
    return this.batcher.submit(() => {
      const now = this.clock.now();
      return jobIds.filter((id) => this.st.extendLease.run({ id, worker: workerId, expires: now + leaseMs, now }).changes === 1);
    });
  }

  async releaseJobs(jobIds: string[], workerId: string, lastError?: JsonValue): Promise<string[]> {
    const error = lastError === undefined ? null : toJson(lastError, 'job error');
    return this.batcher.submit(() => {
      const now = this.clock.now();
      return jobIds.filter((id) => this.st.releaseJob.run({ id, worker: workerId, now, error }).changes === 1);
    });
  }

  async completeJob(id: string, workerId: string, outcome: AttemptOutcome = {}): Promise<{ accepted: boolean }> {
    const run = outcome.run ? runParams(outcome.run) : undefined;
    const jobs = this.prepareJobs(outcome.jobs ?? []);
    const effects = journalRows(outcome.effects);
    return this.batcher.submit(() => {
      const now = this.clock.now();
      const accepted = this.st.completeJob.run({ id, worker: workerId, now, run_id: run?.id ?? null }).changes === 1;
      // The run happened whether or not the lease was still ours (marked as not counted when it was not); its children
      // are enqueued only by the owner. Bound by position, as an acknowledgement's run record is.
      if (run) {
        const upsert = this.st.positional.upsertRun;
        upsert.statement.run(positionalValues(upsert, accepted ? run : notCountedRow(run)));
      }
      if (accepted) this.insertJobs(jobs, null);
      else this.putEffects(id, effects, now);
      return { accepted };
    });
  }

  async failJob(id: string, workerId: string, input: FailJobInput): Promise<FailJobResult> {
    const run = input.run ? runParams(input.run) : undefined;
    const jobs = this.prepareJobs(input.jobs ?? []);
    const error = toJson(input.error, 'job error');
    const effects = journalRows(input.effects);
    return this.batcher.submit((): FailJobResult => {
      const now = this.clock.now();
      if (run) this.st.upsertRun.run(run);
      this.putEffects(id, effects, now);
      const job = this.st.ownedJob.get(id, workerId) as Pick<JobRow, 'attempts' | 'max_attempts' | 'cancel_request' | 'replay_count'> | undefined;
      if (!job) return { accepted: false };
      this.insertJobs(jobs, null);
      const decision = decideRetry(job.attempts, job.max_attempts, input.retryable, this.backoff, this.random);
      const base = { id, error, now, run_id: run?.id ?? null };
      const cancel = cancelRequestOf(job.cancel_request, job.replay_count);
      if (buriedByCancel(cancel, decision.retry, input.error)) {
        // Cancelled while it ran: a dead letter R_CANCELLED, as a queued job cancelled is (no catch-all: an operator did it).
        this.st.finishJob.run({ ...base, error: toJson(cancelledWhileRunning(cancel, input.error), 'job error'), status: 'dead' });
        return { accepted: true, status: 'dead', cancelled: { by: cancel.by, at: cancel.at } };
      }
      if (decision.retry) {
        const nextRunAt = input.retryAt ?? now + decision.delayMs;
        this.st.retryJob.run({ ...base, next_run_at: nextRunAt });
        return { accepted: true, status: 'queued', nextRunAt };
      }
      this.st.finishJob.run({ ...base, status: decision.status });
      // Only here, on the path that gives a job up, is the job read again (for the catch-all's parameters).
      const catchAll = catchAllOn(this.catchAll) ? this.startCatchAll({ job: jobFromRow(this.st.getJob.get(id) as JobRow), status: decision.status, error: input.error, errorJson: error, lastRunId: run?.id ?? null, at: now }) : undefined;
      return { accepted: true, status: decision.status, ...catchAll };
    });
  }

  /**
   * Inside the transaction that gave the job up: enqueues the dead-letter catch-all for it, unless there is none or the
   * job is in the catch-all's own line (said by `catchAllSkipped`, so the caller can log it).
   */
  private startCatchAll(g: GivenUp): { catchAllJob?: string; catchAllSkipped?: true } | undefined {
    if (!catchAllOn(this.catchAll)) return undefined;
    const job = catchAllJob(this.catchAll, g, this.newId());
    if (!job) return { catchAllSkipped: true };
    this.insertJobs(this.prepareJobs([job]), null);
    const named = errorNamingCatchAll(g.errorJson, job.id!);
    if (named !== undefined) this.st.setLastError.run({ id: g.job.id, error: named });
    return { catchAllJob: job.id! };
  }

  async recoverOrphans(): Promise<RecoverResult> {
    return this.batcher.submit(() => {
      const now = this.clock.now();
      const error = toJson(PROCESS_STOPPED, 'error');
      let runsFailed = 0;
      const buried: Array<{ job: JobRecord; runId: string }> = [];
      for (const row of this.st.runningJobs.all() as JobRow[]) {
        const job = jobFromRow(row);
        const ended = this.endLostAttempt(job, PROCESS_STOPPED, error, now);
        runsFailed += ended.failed;
        // Made dead by buryOrphans below (its last attempt was the one the stop cut off).
        if (row.attempts >= row.max_attempts) buried.push({ job, runId: ended.runId });
      }
      const dead = this.st.buryOrphans.run({ now, error }).changes;
      const catchAlls: BuriedJob[] = [];
      for (const b of buried) {
        const started = this.startCatchAll({ job: b.job, status: 'dead', error: PROCESS_STOPPED, errorJson: error, lastRunId: b.runId, at: now });
        if (started) catchAlls.push({ jobId: b.job.id, scenario: b.job.scenario, ...started });
      }
      const requeued = this.st.requeueOrphans.run({ now, error }).changes;
      runsFailed += this.st.failRunningRuns.run({ now, error }).changes;
      return { requeued, dead, runsFailed, ...(catchAlls.length ? { catchAlls } : {}) };
    });
  }

  /**
   * Ends the record of an attempt whose worker vanished (inside a write): a run record it left `running` is failed,
   * else a record of the lost attempt is written; either becomes the job's last run. Returns the records failed.
   */
  private endLostAttempt(job: JobRecord, error: { code: string; message: string }, errorJson: string, now: number): { failed: number; runId: string } {
    const failed = this.st.failRunsOfJob.all({ job_id: job.id, error: errorJson, now }) as Array<{ id: string }>;
    const runId = failed.length ? failed[failed.length - 1]!.id : newSortableId(now);
    if (!failed.length) this.st.upsertRun.run(runParams(lostAttemptRun(job, error, runId, now, this.timeZone)));
    this.st.setLastRun.run({ id: job.id, run_id: runId });
    return { failed: failed.length, runId };
  }

  async hastenJobs(selector: { ids: string[] } | { status: 'queued' }): Promise<string[]> {
    return this.batcher.submit(() => {
      const now = this.clock.now();
      if ('ids' in selector) return selector.ids.filter((id) => this.st.hastenOne.run({ id, now }).changes === 1);
      return (this.st.hastenQueued.all({ now }) as Array<{ id: string }>).map((r) => r.id);
    });
  }

  async cancelJobs(selector: { ids: string[] } | { status: 'queued' }, error: unknown): Promise<string[]> {
    const errorJson = toJson(error, 'error');
    // A job whose last attempt was cut off keeps saying so (`afterCut`): a replay's first effects may repeat its last.
    const errorAfter = (lastError: string | null) => {
      const kept = keepingCutOfText(lastError, error);
      return kept === error ? errorJson : toJson(kept, 'error');
    };
    return this.batcher.submit(() => {
      const now = this.clock.now();
      if ('ids' in selector) {
        return [...new Set(selector.ids)].filter((id) => {
          const row = this.st.getJob.get(id) as JobRow | undefined;
          return this.st.cancelOne.run({ id, now, error: errorAfter(row?.last_error ?? null) }).changes === 1;
        });
      }
      const cut: string[] = [];
      for (const r of this.st.queuedLastErrors.all() as Array<{ id: string; last_error: string }>) {
        const e = errorAfter(r.last_error);
        if (e !== errorJson && this.st.cancelOne.run({ id: r.id, now, error: e }).changes === 1) cut.push(r.id);
      }
      return [...cut, ...(this.st.cancelQueued.all({ now, error: errorJson }) as Array<{ id: string }>).map((r) => r.id)];
    });
  }

  async requestCancel(ids: string[], by: string): Promise<string[]> {
    return this.batcher.submit(() => {
      const now = this.clock.now();
      const request = cancelRequestJson(by, now);
      return [...new Set(ids)].filter((id) => this.st.requestCancel.run({ id, request, now }).changes === 1);
    });
  }

  async cancelRequests(ids: string[], workerId: string): Promise<Array<{ id: string } & CancelRequest>> {
    this.assertOpen();
    if (ids.length === 0) return [];
    const rows = this.st.cancelRequests.all({ ids: JSON.stringify(ids), worker: workerId }) as Array<{ id: string; cancel_request: string; replay_count: number }>;
    return rows.flatMap((r) => {
      const req = cancelRequestOf(r.cancel_request, r.replay_count);
      return req ? [{ id: r.id, ...req }] : [];
    });
  }

  async requeue(selector: RequeueSelector, opts: RequeueOptions = {}): Promise<string[]> {
    const pin = opts.pinnedVersion === undefined ? { set_pin: 0, pin: null } : { set_pin: 1, pin: opts.pinnedVersion };
    return this.batcher.submit(() => {
      const now = this.clock.now();
      let ids: string[];
      if ('ids' in selector) {
        ids = selector.ids.filter((id) => this.st.requeueOne.run({ id, now, ...pin }).changes === 1);
      } else {
        if (selector.status !== 'dead' && selector.status !== 'failed') throw new StoreUsageError('only dead or failed jobs can be requeued');
        ids = (this.st.requeueByStatus.all({ status: selector.status, now, ...pin }) as Array<{ id: string }>).map((r) => r.id);
      }
      if (opts.clearEffects) for (const id of ids) this.st.clearEffects.run(id);
      this.queuedSinceCount += ids.length;
      return ids;
    });
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    this.assertOpen();
    const row = this.st.getJob.get(id) as JobRow | undefined;
    return row ? jobFromRow(row) : undefined;
  }

  async jobStates(ids: readonly string[]): Promise<Map<string, JobState>> {
    this.assertOpen();
    if (ids.length === 0) return new Map();
    return jobStateMap(this.st.jobStates.all(JSON.stringify([...new Set(ids)])) as JobStateRow[]);
  }

  async listJobs(q: ListJobsQuery = {}): Promise<Page<JobRecord>> {
    this.assertOpen();
    const limit = pageLimit(q.limit);
    const { sql, args } = jobPageSql('sqlite', q, limit);
    const rows = this.cached(sql).all(...args) as JobRow[];
    return page(rows.map(jobFromRow), limit, (j) => encodeCursor(j.createdAt, j.id));
  }

  async queuedJobs(q: { scenario?: string; since?: number; limit: number }): Promise<JobRecord[]> {
    this.assertOpen();
    const { sql, args } = queuedJobsSql('sqlite', q);
    return (this.cached(sql).all(...args) as JobRow[]).map(jobFromRow);
  }

  async latestScheduledJob(task: string): Promise<JobRecord | undefined> {
    this.assertOpen();
    const row = this.cached(latestScheduledJobSql('sqlite')).get(task) as JobRow | undefined;
    return row ? jobFromRow(row) : undefined;
  }

  // ----- runs --------------------------------------------------------------------------------------------------

  async recordRun(run: RunWrite): Promise<void> {
    const row = runParams(run);
    await this.batcher.submit(() => this.st.upsertRun.run(row));
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    this.assertOpen();
    const row = this.st.getRun.get(id) as RunRow | undefined;
    return row ? runFromRow(row) : undefined;
  }

  async listRuns(q: ListRunsQuery = {}): Promise<Page<RunSummary>> {
    this.assertOpen();
    const limit = pageLimit(q.limit);
    const { sql, args } = pageSql('sqlite', { table: 'runs', columns: RUN_SUMMARY_COLUMNS, time: 'started_at', filters: runFilters(q), cursor: q.cursor, limit });
    const rows = this.cached(sql).all(...args) as RunRow[];
    return page(rows.map(runSummaryFromRow), limit, (r) => encodeCursor(r.startedAt, r.id));
  }

  async scanRuns(q: Omit<ListRunsQuery, 'cursor' | 'limit'> & { scan: number; cursor?: string }): Promise<{ runs: ScannedRun[]; cut: boolean; next?: string }> {
    this.assertOpen();
    const { sql, args } = pageSql('sqlite', { table: 'runs', columns: `${RUN_SUMMARY_COLUMNS}, params, return_values`, time: 'started_at', filters: runFilters(q), cursor: q.cursor ?? null, limit: q.scan });
    const rows = this.cached(sql).all(...args) as Array<RunRow>;
    return scannedRuns(rows, q.scan);
  }

  async runOutcomes(ids: readonly string[]): Promise<Map<string, RunOutcomeSource>> {
    this.assertOpen();
    if (ids.length === 0) return new Map();
    return runOutcomeMap(this.st.runOutcomes.all(JSON.stringify([...new Set(ids)])) as Array<{ id: string; return_values: string | null; letters: string | null }>);
  }

  // ----- operating ---------------------------------------------------------------------------------------------

  async oldestDueAt(now: number): Promise<number | undefined> {
    this.assertOpen();
    if (this.st.anyPause.get() === undefined) return (this.st.oldestDue.get(now) as { at: number | null } | undefined)?.at ?? undefined;
    // While a scenario is paused: each other scenario's oldest due, not a walk past the paused backlog.
    let at: number | undefined;
    for (const { name } of this.st.queuedScenarios.all({ now }) as Array<{ name: string }>) {
      const own = (this.st.oldestDueOf.get({ scenario: name, now }) as { at: number | null } | undefined)?.at ?? undefined;
      if (own !== undefined && (at === undefined || own < at)) at = own;
    }
    return at;
  }

  async counts(): Promise<StoreCounts> {
    this.assertOpen();
    // One read transaction: the totals and the statuses counted from the same snapshot (another process, `replay`,
    // may commit in between otherwise).
    return this.db.transaction((): StoreCounts => {
      const jobs = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as StoreCounts['jobs'];
      let counted = 0;
      for (const r of this.st.countJobs.all() as Array<{ status: keyof typeof jobs; n: number }>) counted += jobs[r.status] = r.n;
      jobs.succeeded = (this.st.countJobsAll.get() as { n: number }).n - counted;
      const runs = Object.fromEntries(RUN_STATUSES.map((s) => [s, 0])) as StoreCounts['runs'];
      counted = 0;
      for (const r of this.st.countRuns.all() as Array<{ status: keyof typeof runs; n: number }>) counted += runs[r.status] = r.n;
      runs.completed = (this.st.countRunsAll.get() as { n: number }).n - counted;
      const inbox = this.st.countInbox.get() as { total: number; duplicates: number };
      return { jobs, runs, inbox: { total: inbox.total, duplicates: inbox.duplicates } };
    })();
  }

  async prune(opts: PruneOptions): Promise<PruneResult> {
    const { cutoff, deadCutoff } = pruneCutoffs(opts, this.clock.now());
    this.assertOpen();
    // While the prune deletes, the WAL is checkpointed by a thread of its own (see prune-checkpoints.ts), started at
    // the first window that finds something to delete: a prune with nothing to do starts none. A second prune started
    // meanwhile starts none either: the first one's thread checkpoints for both until it ends.
    let mine: PruneCheckpoints | undefined;
    const afterCommit = async (deleting: boolean): Promise<void> => {
      if (deleting && !mine && !this.checkpoints && this.pruneCheckpoints === 'thread' && !this.closed) {
        mine = this.checkpoints = new PruneCheckpoints(this.db, this.file, {
          autocheckpointPages: this.walCheckpointPages,
          walLimitPages: this.walCheckpointPages,
          answerTimeoutMs: CHECKPOINT_ANSWER_TIMEOUT_MS,
          holdWrites: (during, atMostMs) => this.batcher.hold(during, atMostMs),
          ...(this.checkpointWorker ? { worker: this.checkpointWorker } : {}),
        });
        // The next window begins once the thread has its connection open (or could not open it): a few tens of ms.
        await mine.started;
      }
      await mine?.afterCommit();
    };
    let result: PruneResult;
    try {
      result = await this.deleteInWindows(cutoff, deadCutoff, afterCommit);
    } finally {
      if (mine) {
        this.lastCheckpoints = await mine.end();
        this.checkpoints = undefined;
      }
    }
    const failure = mine && this.lastCheckpoints?.failure;
    return failure ? { ...result, checkpointFailure: failure } : result;
  }

  private async deleteInWindows(cutoff: number, deadCutoff: number | undefined, afterCommit: (deleting: boolean) => Promise<void>): Promise<PruneResult> {
    const result = emptyPruneResult();
    // In windows of a table's age index (see PRUNE_SQL), each its own grouped write, so webhooks keep being stored
    // between them; the window's size follows the time its delete took (see nextPruneWindow). Dead letters before
    // runs: the last run of one is kept while it is. Jobs before effects: effects are kept while their job is.
    const st = this.st;
    const windows = async <T>(table: { window: Database.Statement; del: (end: PruneCursor, from: PruneCursor) => T }, at: number, done: (deleted: T) => void): Promise<void> => {
      let from: PruneCursor = { at: Number.MIN_SAFE_INTEGER, key: '', key2: '' };
      for (;;) {
        const n = this.pruneWindow;
        const step = await this.batcher.submit(() => {
          const started = performance.now();
          const end = table.window.get({ cutoff: at, n, ...from }) as PruneCursor | undefined;
          const deleted = end === undefined ? undefined : table.del(end, from);
          return { end, deleted, ms: performance.now() - started };
        });
        this.pruneWindowCount++;
        this.pruneLongestMs = Math.max(this.pruneLongestMs, step.ms);
        this.pruneWindow = nextPruneWindow(n, step.ms, this.pruneMaxWindow);
        await afterCommit(step.end !== undefined);
        if (step.end === undefined) return;
        done(step.deleted as T);
        from = step.end;
      }
    };
    const bounds = (end: PruneCursor, from: PruneCursor) => ({ ...from, endAt: end.at, endKey: end.key, endKey2: end.key2 ?? '' });
    const deleting = (window: Database.Statement, del: Database.Statement, at: number) => ({ window, del: (end: PruneCursor, from: PruneCursor) => del.run({ cutoff: at, ...bounds(end, from) }).changes });
    await windows(deleting(st.pruneInboxWindow, st.pruneInbox, cutoff), cutoff, (n) => (result.inbox += n));
    await windows(deleting(st.pruneJobsWindow, st.pruneJobs, cutoff), cutoff, (n) => (result.jobs += n));
    if (deadCutoff !== undefined) {
      const dead = { window: st.pruneJobsWindow, del: (end: PruneCursor, from: PruneCursor) => (st.pruneDeadLetters.all(bounds(end, from)) as Array<{ id: string }>).map((r) => r.id) };
      await windows(dead, deadCutoff, (ids) => noteDeadLetters(result, ids));
    }
    await windows(deleting(st.pruneRunsWindow, st.pruneRuns, cutoff), cutoff, (n) => (result.runs += n));
    await windows(deleting(st.pruneEffectsWindow, st.pruneEffects, cutoff), cutoff, (n) => (result.effects += n));
    await this.batcher.submit(() => this.cached(forSqlite(TASK_SQL.prune)).run(cutoff));
    return result;
  }

  /**
   * The windows prune() has deleted in since the store was opened (each one grouped write), the next one's size and
   * the longest time one took (its statements, without the commit), for tests and measurements.
   */
  pruneStats(): { windows: number; window: number; longestMs: number; checkpoints?: CheckpointSummary } {
    return { windows: this.pruneWindowCount, window: this.pruneWindow, longestMs: this.pruneLongestMs, ...(this.lastCheckpoints ? { checkpoints: this.lastCheckpoints } : {}) };
  }

  /**
   * Under a quota, refuses new work (a hook request, a job started from outside a running job) when the pages in use
   * plus the room kept for the pending jobs (`pagesPerPendingJob`) reach the quota. The pending jobs are counted at most
   * once a second, and in between taken as that count plus the jobs queued since (see `pendingJobs`), never fewer than
   * are pending; a refusal is decided on an exact count. Skipping the count below half the quota let a burst queue more
   * jobs than the other half could finish (65 queued jobs at 80 of 160 pages left 3 of them unable to record their
   * end). Without a quota nothing is read.
   */
  private assertRoomForNewWork(): void {
    if (this.maxPages === undefined) return;
    this.assertOpen();
    const used = Number(this.db.pragma('page_count', { simple: true })) - Number(this.db.pragma('freelist_count', { simple: true }));
    const margin = Math.ceil(this.maxPages * QUOTA_MARGIN);
    if (used + this.pendingJobs() * this.pagesPerJob + margin < this.maxPages) return;
    // The estimate may count jobs finished since the last count: a refusal is made on an exact count.
    const pending = this.pendingJobs(true);
    const kept = pending * this.pagesPerJob + margin;
    if (used + kept < this.maxPages) return;
    throw new StoreUnavailableError(
      'full',
      `the store is near its quota of ${this.maxPages} pages (${used} in use, ${kept} kept for the ${pending} job(s) not finished yet): new requests and runs are refused until they are delivered or room is freed`,
      30,
    );
  }

  /** The connection's effective settings, for health checks and tests (synchronous: 1 NORMAL, 2 FULL). */
  settings(): { journalMode: string; synchronous: number; busyTimeoutMs: number; walAutocheckpoint: number; cacheSize: number } {
    this.assertOpen();
    return {
      journalMode: String(this.db.pragma('journal_mode', { simple: true })),
      synchronous: Number(this.db.pragma('synchronous', { simple: true })),
      busyTimeoutMs: Number(this.db.pragma('busy_timeout', { simple: true })),
      walAutocheckpoint: Number(this.db.pragma('wal_autocheckpoint', { simple: true })),
      cacheSize: Number(this.db.pragma('cache_size', { simple: true })),
    };
  }

  stats(): StoreStats {
    return this.batcher.stats();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.batcher.close();
    // A prune under way stops at its next window; its checkpoint thread closes its connection before this one.
    await this.checkpoints?.end();
    // Look-ups asked before the close are answered, as they were when each was made at once.
    this.runLookups();
    this.db.close();
  }

  // ----- helpers -----------------------------------------------------------------------------------------------

  private prepareJobs(jobs: NewJob[]): JobParams[] {
    return jobs.map((j) => jobParams(j, j.id ?? this.newId(), this.defaultMaxAttempts));
  }

  /** Inside a transaction. */
  private putEffects(jobId: string, effects: Array<[string, string]>, now: number): void {
    for (const [stepKey, text] of effects) this.st.putEffect.run(jobId, stepKey, text, now);
  }

  /**
   * The queued and running jobs, for the quota's room check: counted at most once per `PENDING_RECOUNT_MS` of real
   * time, plus every job this store has queued since (inserted or requeued; counted even when its transaction rolled
   * back). Finished jobs are not subtracted until the next count, so between counts the figure is never below the
   * truth for this process's writes: a backlog of 10,000 jobs is no longer walked through the index for every hook
   * request. Only another process writing the same file (the CLI's `requeue`) can add jobs unseen, for at most the
   * recount interval, within the quota's margin. `recount` forces a count (a refusal is decided on one).
   */
  private pendingJobs(recount = false): number {
    const at = performance.now();
    if (recount || this.pendingCount === undefined || at - this.pendingCount.at >= PENDING_RECOUNT_MS) {
      this.pendingCount = { n: Number((this.cached(PENDING_JOBS_SQL).get() as { n: number }).n), at };
      this.queuedSinceCount = 0;
    }
    return this.pendingCount.n + this.queuedSinceCount;
  }

  /** Inside a transaction. */
  private insertJobs(jobs: JobParams[], inboxId: number | null): string[] {
    this.queuedSinceCount += jobs.length;
    const now = this.clock.now();
    const insert = this.st.positional.insertJob;
    for (const j of jobs) {
      insert.statement.run(positionalValues(insert, j, { ...QUEUED, inbox_id: j.inbox_id ?? inboxId, next_run_at: j.run_at ?? now, now }));
    }
    return jobs.map((j) => j.id);
  }

  /** Inside a transaction: the jobs go in already claimed by `lease.worker` (their first attempt), due now. */
  /** Whether any of these jobs' scenarios is paused now (store/scenario-pause.ts). */
  private anyPaused(jobs: readonly JobParams[]): boolean {
    const paused = this.cached(`SELECT 1 FROM paused_scenarios WHERE scenario = ? AND (until IS NULL OR until > ?)`);
    const now = this.clock.now();
    return jobs.some((j) => paused.get(j.scenario, now) !== undefined);
  }

  private insertLeasedJobs(jobs: JobParams[], inboxId: number | null, lease: JobLease): JobRecord[] {
    this.queuedSinceCount += jobs.length;
    const now = this.clock.now();
    const claim = { status: 'running', attempts: 1, lease_owner: lease.worker, lease_expires_at: now + lease.leaseMs, claimed_at: now };
    return jobs.map((j) => {
      const row = { ...j, ...claim, inbox_id: j.inbox_id ?? inboxId, next_run_at: now, now };
      this.st.positional.insertJob.statement.run(positionalValues(this.st.positional.insertJob, row));
      return jobFromRow({ ...row, last_error: null, last_run_id: null, replay_count: 0, created_at: now, updated_at: now, finished_at: null } as JobRow);
    });
  }

  private cached(sql: string): Database.Statement {
    let s = this.listCache.get(sql);
    if (!s) this.listCache.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }
}
