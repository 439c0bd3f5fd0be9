// The durable store of the emulated Oktell web server: inbox of webhook requests, job queue, run records, effect journal.
// An async interface so a SQLite file (one process) and, later, PostgreSQL (several processes) can both implement it.
import type { PauseInput, ScenarioPause } from './scenario-pause.js';
import type { RunOutcomeSource } from '../run-outcome.js';
import type { EffectJournalPort } from '../../engine/ports.js';
import type { JsonValue } from '../../engine/values.js';
import type { ScannedRun } from '../run-search.js';
import type { BuriedJob } from './dead-letter.js';
import type { CancelRequest } from './cancel-request.js';

/** Milliseconds since the Unix epoch. Every time in the store is one of these. */
export type EpochMs = number;

/** The time source of a store; tests pass a manual clock, production `Date.now`. */
export interface StoreClock {
  now(): EpochMs;
}

// ---------------------------------------------------------------------------------------------------------------
// Inbox

/** Outcome of checking a request's signature: checked and good, checked and bad, or no signature to check. */
export type SignatureCheck = 'valid' | 'invalid' | 'absent';

/** One request to the webhook hook, as received. Header values must already be redacted by the caller. */
export interface InboxEntryInput {
  receivedAt: EpochMs;
  method: string;
  /** Path with the query string, e.g. `/hook/bpium?x=1`. */
  path: string;
  /** Which hook (scenario endpoint) answered the request, if known. */
  hookId?: string | null;
  /** Headers as text, secrets already masked (one `name: value` per line is the suggested form). */
  headers: string;
  /** The raw body bytes, exactly as received. */
  body: Uint8Array;
  remoteAddress?: string | null;
  signature: SignatureCheck;
  /**
   * Identifies a delivery for deduplication (e.g. `bpium:<hookId>:<sequenceId>`), or null when the request has none.
   * A second request with the same key is recorded as a duplicate of the first and starts no jobs.
   */
  dedupKey: string | null;
  /** The answer the server gives, kept so a duplicate delivery can be answered the same way. */
  response?: { status: number; body?: string | null } | null;
}

/** A stored inbox entry. */
export interface InboxEntry extends Omit<InboxEntryInput, 'response' | 'body'> {
  id: number;
  body: Buffer;
  hookId: string | null;
  remoteAddress: string | null;
  /** For a duplicate, the id of the first entry with the same dedup key; null for an original. */
  duplicateOf: number | null;
  /** How many duplicates of this entry arrived later (0 for a duplicate itself). */
  duplicates: number;
  /** The run of the hook scenario that answered this request, when one was recorded with it. */
  runId: string | null;
  responseStatus: number | null;
  responseBody: string | null;
}

// ---------------------------------------------------------------------------------------------------------------
// Jobs

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'dead';
export const JOB_STATUSES: readonly JobStatus[] = ['queued', 'running', 'succeeded', 'failed', 'dead'];

/** An asynchronous scenario start to be run by a worker. */
export interface NewJob {
  /** A stable id chosen by the caller (it is what `AsyncStarterPort.start` returns); generated when absent. */
  id?: string;
  scenario: string;
  /** Input parameters; any JSON-serialisable value (Dates become ISO strings). */
  params: unknown;
  /** Variables copied from the starting run. */
  variables?: unknown;
  parentRunId?: string | null;
  parentBlock?: string | null;
  /** Who started it and how (free-form JSON: hook id, block, request id...). */
  trigger?: unknown;
  /** Filled in by `recordRequest` with the entry it belongs to. */
  inboxId?: number | null;
  /** Higher runs first. Default 0. */
  priority?: number;
  /** Default: the store's `defaultMaxAttempts`. */
  maxAttempts?: number;
  /** Not before this time. Default: now. */
  runAt?: EpochMs;
  /** Run this scenario version (hash) instead of the current one. */
  pinnedVersion?: string | null;
}

/** How `enqueueJobs` treats a store quota (SQLite's `maxPageCount`; PostgreSQL has none). */
export interface EnqueueOptions {
  /**
   * The jobs are started by a job that is running (an AsyncScenario block inside it): not refused near the quota, so
   * the running job can still finish and record its outcome. Any other start is new work from outside (Web-API, a
   * service task, the CLI) and is refused, as a hook request, once only the room kept for pending jobs is left.
   */
  byRunningJob?: boolean;
}

/** A job as stored. */
export interface JobRecord {
  id: string;
  scenario: string;
  params: JsonValue;
  variables: JsonValue;
  parentRunId: string | null;
  parentBlock: string | null;
  trigger: JsonValue;
  inboxId: number | null;
  priority: number;
  /** Attempts started so far (a claim counts as an attempt). */
  attempts: number;
  maxAttempts: number;
  nextRunAt: EpochMs;
  status: JobStatus;
  leaseOwner: string | null;
  leaseExpiresAt: EpochMs | null;
  /**
   * When the last attempt was claimed (its start, for a running job); null before the first claim. Unlike `updatedAt`,
   * which every lease renewal moves. A job already running when the store was upgraded has its last update instead.
   */
  claimedAt: EpochMs | null;
  /**
   * A cancel an operator requested while the job ran (store/cancel-request.ts): its attempt stops at its next block,
   * and a failure makes it a dead letter R_CANCELLED. Kept once the job has ended (a success: the request came too
   * late); a replay clears it. Null when none was requested.
   */
  cancelRequest: CancelRequest | null;
  lastError: JsonValue;
  lastRunId: string | null;
  pinnedVersion: string | null;
  /** How many times an operator sent it back to the queue after it failed or died. */
  replayCount: number;
  createdAt: EpochMs;
  updatedAt: EpochMs;
  finishedAt: EpochMs | null;
}

/** What the worker sends when an attempt ends: the run record, and jobs the run started (enqueued atomically). */
export interface AttemptOutcome {
  run?: RunWrite;
  jobs?: NewJob[];
  /**
   * The attempt's effect-journal entries not yet written (keyed by the job's id). `failJob` writes them with the
   * outcome, so the next attempt replays them; `completeJob` writes them only when the lease was lost (another
   * attempt may still run): a succeeded job is never run again, so its journal would never be read.
   */
  effects?: JournalEntry[];
}

/** One effect's outcome, as the journal keeps it under its step key. */
export interface JournalEntry {
  stepKey: string;
  outcome: JsonValue;
}

export interface FailJobInput extends AttemptOutcome {
  /**
   * false for a permanent failure (the job becomes `failed`); true to retry with backoff until attempts run out;
   * `'dead-letter'` to stop retrying at once and make it `dead` (an effect whose outcome is unknown, see decideRetry).
   */
  retryable: boolean | 'dead-letter';
  error: unknown;
  /** Retry not before this time (e.g. from a Retry-After); default: the store's backoff policy. */
  retryAt?: EpochMs;
}

/** Where a job went after `failJob`. `accepted: false` means the worker no longer held the lease; nothing changed. */
export type FailJobResult =
  | { accepted: true; status: 'queued'; nextRunAt: EpochMs }
  | {
      accepted: true;
      status: 'failed' | 'dead';
      /** The dead-letter catch-all's job, enqueued in the same transaction (a store given a catch-all only). */
      catchAllJob?: string;
      /** The job is the catch-all's own run (or was started by it): no catch-all was started for it, so no loop. */
      catchAllSkipped?: true;
      /**
       * A dead letter R_CANCELLED for the cancel requested while it ran (store/cancel-request.ts): who asked and when,
       * so that the worker logs an operator's stop, not a failure.
       */
      cancelled?: { by: string; at: EpochMs };
    }
  | { accepted: false };

/** What `jobStates` tells of a job: its status now and where its attempts stand, without its parameters. */
export interface JobState {
  id: string;
  status: JobStatus;
  /** The run of its latest attempt (null before one is recorded). */
  lastRunId: string | null;
  attempts: number;
  maxAttempts: number;
  /** When a queued job is due. */
  nextRunAt: EpochMs;
}

export type RequeueSelector = { ids: string[] } | { status: 'dead' | 'failed' };

export interface RequeueOptions {
  /** Run the replay on this scenario version instead of the current one. */
  pinnedVersion?: string | null;
  /** Forget the effects journalled for these jobs, so letters are sent and records written again. Default false. */
  clearEffects?: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Service tasks

/**
 * What happened at one due time of a service task: `due` (started on time), `catch-up` (the one run for times missed
 * while no instance ran), `skipped` (overlap: the previous run was still going; no job), `missed` (times missed while
 * no instance ran, passed over by `missed: skip`; no job). `paused` is no due time but a mark the scheduler leaves
 * while a task is disabled (and when it stops with the task disabled), so a later start does not count the disabled
 * time as missed.
 */
export type TaskDueKind = 'due' | 'catch-up' | 'skipped' | 'missed' | 'paused';

export interface TaskDueInput {
  task: string;
  dueAt: EpochMs;
  kind: TaskDueKind;
  /** The run to enqueue; null for a skipped due time. */
  job: NewJob | null;
}

export interface TaskDueRecord {
  task: string;
  dueAt: EpochMs;
  kind: TaskDueKind;
  jobId: string | null;
  createdAt: EpochMs;
}

// ---------------------------------------------------------------------------------------------------------------
// Runs

export type RunStatus = 'running' | 'completed' | 'failed';
export const RUN_STATUSES: readonly RunStatus[] = ['running', 'completed', 'failed'];
/**
 * What started a run: the hook (`http`), the Web-API, an AsyncScenario block's job (`async`), a service task's job
 * (`task`: due, catch-up or manual), the command line, or a replay of a failed or dead job.
 */
/**
 * The error code a completed run is stored with when its job's end was not accepted (the job was no longer its worker's:
 * the lease expired and another worker took it over, or a stop gave it back to the queue): the run happened, but the
 * job's outcome is its next attempt's, so it does not count.
 */
export const END_NOT_COUNTED = 'LEASE_LOST_NOT_COUNTED';

/** Whether a run record is a completed attempt whose end was not accepted (see END_NOT_COUNTED). */
export function endNotCounted(r: { status: string; error?: unknown }): boolean {
  return r.status === 'completed' && (r.error as { code?: unknown } | null | undefined)?.code === END_NOT_COUNTED;
}

export const RUN_TRIGGERS = ['http', 'webapi', 'async', 'task', 'cli', 'replay'] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

/** A run record to write (insert, or replace the record with the same id, e.g. `running` → `completed`). */
export interface RunWrite {
  id: string;
  /** The job this run is an attempt of; null for the hook run itself. */
  jobId?: string | null;
  inboxId?: number | null;
  parentRunId?: string | null;
  scenario: string;
  /** Content hash of the scenario version that ran. */
  version: string;
  trigger: RunTrigger;
  status: RunStatus;
  /** 1-based attempt number of the job. Default 1. */
  attempt?: number;
  workerId?: string | null;
  startedAt: EpochMs;
  finishedAt?: EpochMs | null;
  durationMs?: number | null;
  params?: unknown;
  returnValues?: unknown;
  error?: unknown;
  /** Steps with the variables after each step. */
  trace?: unknown;
  bpiumCalls?: unknown;
  mails?: unknown;
  /** The IANA time zone the run ran in (of Now(), and of dates written as or read from text). */
  timeZone?: string | null;
}

/** A run as listed: everything but the bulky trace, Bpium calls and mails. */
export interface RunSummary {
  id: string;
  jobId: string | null;
  inboxId: number | null;
  parentRunId: string | null;
  scenario: string;
  version: string;
  trigger: RunTrigger;
  status: RunStatus;
  attempt: number;
  workerId: string | null;
  startedAt: EpochMs;
  finishedAt: EpochMs | null;
  durationMs: number | null;
  error: JsonValue;
  /**
   * The run made an effect (a letter…) that may repeat one of an earlier attempt of its job, cut off before it
   * journaled it (its records say which: `mayRepeat` on letters, Bpium calls and trace steps' effects). Absent otherwise.
   */
  mayRepeat?: true;
}

export interface RunRecord extends RunSummary {
  params: JsonValue;
  returnValues: JsonValue;
  trace: JsonValue;
  bpiumCalls: JsonValue;
  mails: JsonValue;
  /** The time zone the run ran in; absent for a run recorded by a build from before 2026-12-07, which kept none. */
  timeZone?: string;
}

export interface ListRunsQuery {
  status?: RunStatus;
  scenario?: string;
  jobId?: string;
  /** Only runs started at or after this time. */
  since?: EpochMs;
  /** Default 50, at most 1000. */
  limit?: number;
  /** From the previous page's `nextCursor`. */
  cursor?: string | null;
}

export interface ListJobsQuery {
  status?: JobStatus;
  scenario?: string;
  /**
   * The jobs a run started (AsyncScenario blocks of a hook or job run). Not indexed (an index would cost every
   * webhook's commit): a read of the jobs table, newest first, to its end. `show`, `replay` and the console's run page
   * read the jobs by the ids the run's trace names instead (`server/started-jobs.ts`) and use this only for a run whose
   * trace may not name them all (not kept, cut).
   */
  parentRunId?: string;
  /**
   * The jobs of the service task of this name (`task` of their trigger: due, catch-up and manual runs), whatever
   * scenario they ran, so a task whose `scenario:` changed keeps its history. Indexed (`jobs_task`): a task that
   * never ran costs one index lookup, not a read of every job.
   */
  task?: string;
  limit?: number;
  cursor?: string | null;
}

/** A page of results, newest first; `nextCursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

// ---------------------------------------------------------------------------------------------------------------
// Requests, counts, maintenance

/** Everything one webhook request leaves behind, written in one transaction before the answer leaves. */
export interface RecordRequestInput {
  inbox: InboxEntryInput;
  /** The hook scenario's run (trigger `http`), if it ran before the answer. */
  run?: RunWrite;
  /** Asynchronous starts made by the hook run. Not enqueued when the request is a duplicate. */
  jobs?: NewJob[];
  /**
   * A worker of this process has room for the jobs now: store them already claimed under its lease (first attempt
   * counted) and return them as `leased`, so the worker runs them without a claim. A store may ignore this (the jobs
   * are then queued and claimed as usual); the caller must treat a missing `leased` that way.
   */
  lease?: JobLease;
}

/** Whose the jobs are and for how long, when they are stored already claimed. */
export interface JobLease {
  worker: string;
  leaseMs: number;
}

export type RecordRequestResult =
  | { duplicate: false; inboxId: number; jobIds: string[]; leased?: JobRecord[] }
  | {
      duplicate: true;
      /** The id of the first entry with this dedup key (the duplicate itself is stored as `duplicateEntryId`). */
      inboxId: number;
      duplicateEntryId: number;
      /** The first entry's stored answer, to answer the duplicate the same way. */
      original: { responseStatus: number | null; responseBody: string | null; runId: string | null };
      jobIds: [];
    };

/** An original delivery, as `findByDedupKey` gives it. */
export interface DeliveryOriginal {
  id: number;
  responseStatus: number | null;
  responseBody: string | null;
  runId: string | null;
}

export interface StoreCounts {
  jobs: Record<JobStatus, number>;
  runs: Record<RunStatus, number>;
  inbox: { total: number; duplicates: number };
}

export interface RecoverResult {
  requeued: number;
  dead: number;
  runsFailed: number;
  /** The jobs made dead (their last attempt cut off) for which a dead-letter catch-all was started or skipped. */
  catchAlls?: BuriedJob[];
}

export interface PruneResult {
  inbox: number;
  runs: number;
  /** Succeeded jobs. */
  jobs: number;
  effects: number;
  /** Dead letters (failed or dead jobs, never delivered) removed under `deadLettersOlderThanMs`. */
  deadLetters: number;
  /** The first `PRUNED_DEAD_LETTER_IDS` of them, for the warning the server logs. */
  deadLetterIds: string[];
  /**
   * SQLite only, and only when it happened: why the prune's checkpoint thread stopped before the prune ended (the
   * store's own connection checkpointed again; nothing is lost), for the warning the server logs.
   */
  checkpointFailure?: string;
}

/** How many ids of pruned dead letters a prune reports (its log line names them). */
export const PRUNED_DEAD_LETTER_IDS = 20;

export interface PruneOptions {
  olderThanMs: number;
  /**
   * Dead letters (failed and dead jobs: acknowledged webhooks never delivered) are kept past `olderThanMs`, with the
   * last run of each, until they are replayed; given this, those finished before now - this are removed too.
   */
  deadLettersOlderThanMs?: number;
}

/** How hard the store is working; the grouped-commit counters show how many calls shared a transaction. */
export interface StoreStats {
  /** Write calls accepted (each recordRequest, claim, complete, put... is one). */
  operations: number;
  /** Transactions committed or attempted for them. */
  transactions: number;
  /** Transactions that failed as a whole (every call in them rejected). */
  failedTransactions: number;
  /** The most calls that shared one transaction. */
  largestBatch: number;
  /** The last transaction the database refused as a whole (disk full, locked, down), when and why. */
  lastRefusal?: { at: EpochMs; reason: string };
  /** When a transaction last committed. */
  lastCommitAt?: EpochMs;
  /**
   * When the oldest write call not settled yet was made (queued, or in a transaction that has not committed): a write
   * waiting on a lock another session holds shows here before the lock timeout refuses it. Only on a store whose
   * writes wait on another process (PostgreSQL); absent when no write is pending.
   */
  oldestWriteSince?: EpochMs;
}

/**
 * The store. Every write resolves only after the transaction holding it has committed; concurrent calls share
 * transactions (grouped commits), so resolve order is not call order across different kinds of calls.
 * Writes reject with `StoreUnavailableError` when the database cannot take them (disk full, locked, read-only).
 */
export interface Store {
  /** Stores a webhook request, its hook run and its jobs atomically. A duplicate dedup key enqueues nothing. */
  recordRequest(input: RecordRequestInput): Promise<RecordRequestResult>;
  /**
   * The original delivery of a dedup key, as its resends need it (to answer them as it was answered without running
   * the hook, and to point at it): never its body or headers, which may be megabytes.
   */
  findByDedupKey(dedupKey: string): Promise<DeliveryOriginal | undefined>;
  /**
   * Whether any original delivery's key names a request path and no sender (`bpium:1:6@/Bpium/NewTask`), as keys of
   * the secret of every path did before they named `*`, and keys of routes without a secret before they named the
   * login (`…@/Bpium/NewTask#bpium`). A store that leaves this out may hold such keys at any time (PostgreSQL: an
   * instance of an older build may still be writing them); SQLite has one server, so what it finds at the start holds.
   */
  hasPathDeliveryKeys?(): Promise<boolean>;
  /**
   * The original deliveries whose dedup key begins with `keyPrefix` (`bpium:12:4711@` for every route's entry of a
   * delivery), oldest first, at most `limit`: their inbox ids and keys. Read through the index of original keys; for
   * an operator looking a delivery up by the key its sender logs (`oktell-emu show bpium:12:4711`).
   */
  deliveriesByKeyPrefix(keyPrefix: string, limit: number): Promise<Array<{ id: number; dedupKey: string }>>;
  getInboxEntry(id: number): Promise<InboxEntry | undefined>;
  /**
   * The HTTP status each of these inbox entries was answered with (a duplicate: its original's), without their bodies:
   * the console's runs list shows it for every hook run of a page. Entries unknown or not answered yet are left out.
   */
  answeredStatuses(ids: readonly number[]): Promise<Map<number, number>>;

  /**
   * Enqueues jobs outside a request (e.g. a CLI or operator start). Returns their ids. Near a quota it rejects with
   * `StoreUnavailableError` (`full`) unless `options.byRunningJob`.
   */
  enqueueJobs(jobs: NewJob[], options?: EnqueueOptions): Promise<string[]>;
  /**
   * Takes up to `limit` due jobs (queued with `nextRunAt <= now`, or running with an expired lease), highest priority
   * first, marks them running under `workerId` until now + `leaseMs`, and counts the attempt. A job whose lease
   * expired after its last allowed attempt becomes `dead` instead.
   */
  claimJobs(workerId: string, limit: number, leaseMs: number): Promise<JobRecord[]>;
  /** Extends the leases `workerId` still holds; returns the ids extended (a missing id means the lease was lost). */
  heartbeat(jobIds: string[], workerId: string, leaseMs: number): Promise<string[]>;
  /**
   * Gives back jobs `workerId` claimed but never started (a stopping pool's jobs claimed ahead), or cut short by a
   * graceful stop: queued again, due as they were, the claim's attempt not counted. A cut job is given `lastError`
   * (why it was cut), so its next attempt knows an earlier one may have made effects and consults the journal.
   * Returns the ids given back; a job whose lease is no longer this worker's is left alone.
   */
  releaseJobs(jobIds: string[], workerId: string, lastError?: JsonValue): Promise<string[]>;
  /** Marks the job succeeded, writes the run and enqueues the jobs it started, atomically. */
  completeJob(id: string, workerId: string, outcome?: AttemptOutcome): Promise<{ accepted: boolean }>;
  /**
   * Ends an attempt in failure: back to `queued` with a backoff delay while retryable and attempts remain, else
   * `dead` (retryable, attempts exhausted) or `failed` (permanent). Writes the run either way. A store given a
   * dead-letter catch-all enqueues it in the same transaction when the job is given up (see `catchAllJob`); so do
   * `claimJobs` and `recoverOrphans` for the jobs they make dead. `cancelJobs` does not: an operator did it. A job with a
   * cancel request (`requestCancel`) whose attempt stopped for it (R_CANCELLED) or would be retried becomes `dead` with
   * R_CANCELLED naming who asked (cancel-request.ts), without the catch-all, as a queued job cancelled does.
   */
  failJob(id: string, workerId: string, input: FailJobInput): Promise<FailJobResult>;
  /**
   * For a single instance at startup: every job left `running` by a previous process is queued again (or made `dead`
   * when that was its last attempt: a job that keeps killing the process must not loop forever) and runs left
   * `running` are marked failed. Not for several instances sharing a database: there, expired leases do this.
   */
  recoverOrphans(): Promise<RecoverResult>;
  /**
   * Makes queued jobs that wait for a later time due now (their attempts and history unchanged): the retries waiting out
   * an outage that is over run at once. Jobs in other states, a running one above all, are left alone, so no job runs
   * twice at once. Returns the ids changed (a job already due is not among them).
   */
  hastenJobs(selector: { ids: string[] } | { status: 'queued' }): Promise<string[]>;
  /**
   * Takes queued jobs out of the queue as dead letters (status `dead`, `error` as their last error), so that `replay`
   * can bring them back; their attempts and runs are kept. One conditional write on status `queued`: a job a worker
   * claimed meanwhile (running), or in any other state, is left alone. Returns the ids changed, in the order given.
   */
  cancelJobs(selector: { ids: string[] } | { status: 'queued' }, error: unknown): Promise<string[]>;
  /**
   * Records a cancel request (`by`, now) on each running job among `ids` that has none yet: its worker sees it with
   * its next lease renewal (`cancelRequests`) and stops the attempt before its next block; see `failJob`. Returns the
   * ids changed, in the order given; a job not running, or with a request already, is left alone.
   */
  requestCancel(ids: string[], by: string): Promise<string[]>;
  /** The cancel requests on the jobs among `ids` leased to `workerId` (a worker asks with its lease renewals). */
  cancelRequests(ids: string[], workerId: string): Promise<Array<{ id: string } & CancelRequest>>;
  /** Sends failed/dead jobs back to the queue with attempts reset. Jobs in other states are left alone. */
  requeue(selector: RequeueSelector, opts?: RequeueOptions): Promise<string[]>;
  getJob(id: string): Promise<JobRecord | undefined>;
  /**
   * The state of each of these jobs, in one query (a list of runs marks what became of each run's job with it); ids of
   * jobs not stored (pruned, or no job) are left out.
   */
  jobStates(ids: readonly string[]): Promise<Map<string, JobState>>;
  /**
   * Claims one due time of a service task and enqueues its job, in one transaction. The key (task, due time) is
   * unique: when another call (this or another instance, before or after a restart) already claimed it, nothing is
   * written and `claimed` is false. A due time that enqueues a job is refused near a quota, as `enqueueJobs`.
   */
  claimTaskDue(input: TaskDueInput): Promise<{ claimed: boolean; jobId: string | null }>;
  /** The latest claimed due time of each named task that has one. */
  lastTaskDues(tasks: readonly string[]): Promise<TaskDueRecord[]>;
  /**
   * Pauses the delivery of a scenario (store/scenario-pause.ts): from the commit on, no claim of any instance sharing
   * the store takes its queued jobs, which stay queued with their attempts unused; an attempt running finishes. Made
   * again, it replaces the pause's reason and until. Returns the pause in force.
   */
  pauseScenario(input: PauseInput): Promise<ScenarioPause>;
  /** Ends the pause of a scenario: its queued jobs are claimable at once. Returns whether it was paused. */
  resumeScenario(scenario: string): Promise<boolean>;
  /** The pauses in force now, by scenario name, with the queued jobs of each. */
  pausedScenarios(): Promise<ScenarioPause[]>;
  listJobs(query?: ListJobsQuery): Promise<Page<JobRecord>>;
  /**
   * The queued jobs soonest due first (then by id), up to `limit`: what `runs --status queued` shows, so that during an
   * outage the retries due next are the ones listed. `since` keeps the jobs created at or after it.
   */
  queuedJobs(query: { scenario?: string; since?: EpochMs; limit: number }): Promise<JobRecord[]>;
  /**
   * The newest job the schedule of `task` started (trigger kind `due` or `catch-up`), whatever its status, however
   * many manual runs of the task came after it; undefined when there is none.
   */
  latestScheduledJob(task: string): Promise<JobRecord | undefined>;

  /**
   * A secret every server on this store must hold alike (the console's form tokens): the value kept under `name`, or,
   * when there is none yet, `candidate`, kept now. Atomic: of servers starting together the first writer wins and all
   * get its value. Only a store shared by several servers has it (PostgreSQL); a SQLite server keeps its own in its data folder.
   */
  sharedSecret?(name: string, candidate: string): Promise<string>;

  /** Inserts or replaces a run record. */
  recordRun(run: RunWrite): Promise<void>;
  getRun(id: string): Promise<RunRecord | undefined>;
  listRuns(query?: ListRunsQuery): Promise<Page<RunSummary>>;
  /**
   * One page of `scan` runs the filters select, newest first (older than `cursor` when given), with their stored
   * parameters and return values as JSON text (secrets masked, as recorded): what `runs --grep` and the console's Find
   * search, a page at a time (server/run-search.ts). `cut`: more runs match the filters than were read; `next` is the
   * cursor of the page after this one.
   */
  scanRuns(query: Omit<ListRunsQuery, 'cursor' | 'limit'> & { scan: number; cursor?: string }): Promise<{ runs: ScannedRun[]; cut: boolean; next?: string }>;
  /**
   * What these runs did, for the outcome the lists show (run-outcome.ts): each one's return values and, of its letters,
   * only their recipients and status (not their text), in one query. Ids of runs not stored are left out. Read when a
   * list is shown, never on a webhook's path.
   */
  runOutcomes(ids: readonly string[]): Promise<Map<string, RunOutcomeSource>>;

  /** The effect journal, keyed by a stable key (the job id) and step key. */
  readonly effects: EffectJournalPort;
  /**
   * Journal entries written together, in one write of the store's (one transaction): the answers of a job's reads
   * with the effect entries after them, so that a crash keeps both or neither.
   */
  putEffectGroup(entries: ReadonlyArray<JournalEntry & { runKey: string }>): Promise<void>;

  counts(): Promise<StoreCounts>;
  /**
   * When the queued job that has been due the longest became due (its `next_run_at`, at most `now`), or undefined when
   * no queued job is due: how long work that could run has waited for a worker (a stuck backlog). One indexed read.
   */
  oldestDueAt(now: number): Promise<number | undefined>;
  /**
   * Deletes inbox entries received, runs finished and succeeded jobs finished before now - `olderThanMs`, and
   * journalled effects recorded before then whose key is no longer a stored job. Never touches queued or running jobs,
   * nor runs still running. Failed and dead jobs (dead letters), their journal and the last run of each are kept until
   * replayed, or until `deadLettersOlderThanMs` when given. Dedup keys go with their inbox entries, so the dedup window
   * equals the retention.
   */
  prune(opts: PruneOptions): Promise<PruneResult>;
  stats(): StoreStats;
  /**
   * One round trip to a store that can fall silent (a database over the network), for `/-/health`: resolves when it
   * answers, rejects when it cannot be reached. Absent on a store in this process (SQLite), which cannot.
   */
  ping?(): Promise<void>;
  /** Commits what is pending, then closes. Later calls reject with `StoreUnavailableError`. */
  close(): Promise<void>;
}
