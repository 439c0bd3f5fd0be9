// The status a run is listed with, shared by `oktell-emu runs` and the console's runs list so both say the same:
// the last run of a dead-lettered job is "dead", not "failed" (nothing will retry it; only a replay will).
import type { JobRecord, JobState, RunStatus, RunSummary, StoreCounts } from './store/store.port.js';
import { jobRunTrigger } from './run-record.js';
import { RUN_ERROR_CODES } from '../engine/index.js';
import { hostname } from 'node:os';
import { pidRunning } from './data-lock.js';

/** A run's status in a list: the stored status, or `dead` for the run that made its job a dead letter. */
export type ListedRunStatus = RunStatus | 'dead';

/** The jobs a store can look up by id, in one query (the part of `Store` this needs). */
export interface JobLookup {
  jobStates(ids: readonly string[]): Promise<Map<string, JobState>>;
}

/**
 * The ids of the runs among `runs` that are the last run of a dead job. Only failed runs with a job can be, so only
 * their jobs are read, in one query.
 */
export async function deadRunIds(store: JobLookup, runs: readonly Pick<RunSummary, 'id' | 'jobId' | 'status'>[], states?: ReadonlyMap<string, JobState>): Promise<Set<string>> {
  const jobs = states ?? (await store.jobStates([...new Set(runs.flatMap((r) => (r.status === 'failed' && r.jobId ? [r.jobId] : [])))]));
  const dead = new Set<string>();
  for (const r of runs) {
    const job = r.jobId ? jobs.get(r.jobId) : undefined;
    if (r.status === 'failed' && job?.status === 'dead' && job.lastRunId === r.id) dead.add(r.id);
  }
  return dead;
}

/** The status to show for `run`, given the ids `deadRunIds` found. */
export function listedStatus(run: Pick<RunSummary, 'id' | 'status'>, dead: ReadonlySet<string>): ListedRunStatus {
  return dead.has(run.id) ? 'dead' : run.status;
}

/** The counts above a runs list, in the same words as its rows. */
export interface ListedCounts {
  /** Runs running now, with the jobs whose attempt is running (a job's run is recorded when its attempt ends). */
  running: number;
  completed: number;
  /** Failed runs that are not the last run of a dead letter: those are counted under `dead` instead. */
  failed: number;
  queued: number;
  /** Dead letters (dead jobs), each with its last run. */
  dead: number;
}

/**
 * The store's counts in the list's vocabulary. Every dead job's last attempt is a failed run, so the failed runs
 * minus the dead jobs are the failed runs still listed as "failed" (never below zero: retention may have removed a
 * dead job's run before the job).
 */
export function listedCounts(c: StoreCounts): ListedCounts {
  return {
    running: c.runs.running + c.jobs.running,
    completed: c.runs.completed,
    failed: Math.max(0, c.runs.failed - c.jobs.dead),
    queued: c.jobs.queued,
    dead: c.jobs.dead,
  };
}

/**
 * A job whose attempt is running now, as a run summary: its run is recorded only when the attempt ends, so lists
 * show this in its place. `id` is empty (there is no run yet).
 */
export function inProgressRun(j: JobRecord): RunSummary {
  // The attempt began when it was claimed (claimedAt); a job claimed before the store recorded claims has only its
  // last update, which a lease renewal also moves.
  return {
    id: '',
    jobId: j.id,
    inboxId: j.inboxId,
    parentRunId: j.parentRunId,
    scenario: j.scenario,
    version: j.pinnedVersion ?? '',
    trigger: jobRunTrigger(j),
    status: 'running',
    attempt: j.attempts,
    workerId: j.leaseOwner,
    startedAt: j.claimedAt ?? j.updatedAt,
    finishedAt: null,
    durationMs: null,
    error: null,
  };
}

/**
 * The error a job cancelled by an operator keeps as its last one (R_CANCELLED), which `runs`, `show` and the console
 * show; `by` says how and who (`oktell-emu cancel, ops@host`, `the console, login ops`).
 */
export function cancelledError(by: string, now = new Date()): { code: string; message: string } {
  return { code: RUN_ERROR_CODES.CANCELLED, message: `cancelled by an operator (${by}, ${now.toISOString()})` };
}

/** `cancel requested by <who> at <ISO time>`, of a job whose cancel was requested while it ran (store/cancel-request.ts). */
export function cancelRequestText(job: Pick<JobRecord, 'cancelRequest'>): string {
  const r = job.cancelRequest;
  return r ? `cancel requested by ${r.by} at ${new Date(r.at).toISOString()}` : '';
}

/**
 * What a cancel requested while the job ran came to, for `show`, `runs` and the console: pending while it runs (its
 * attempt stops at its next block boundary); too late for an attempt that succeeded first. Empty otherwise (a dead
 * letter R_CANCELLED says it itself).
 */
export function cancelRequestNote(job: Pick<JobRecord, 'cancelRequest' | 'status' | 'lastError'>): string {
  if (!job.cancelRequest) return '';
  if (job.status === 'running') return `${cancelRequestText(job)}: its attempt stops at its next block boundary, then the job is a dead letter (R_CANCELLED)`;
  if (job.status === 'succeeded') return `${cancelRequestText(job)}, too late: the attempt had succeeded before it stopped`;
  if (job.status === 'failed' || (job.status === 'dead' && !wasCancelled(job))) return `${cancelRequestText(job)}, too late: the attempt had been given up before it stopped`;
  return '';
}

/** Whether a job is a dead letter made by an operator's cancel (`oktell-emu cancel` or the console): R_CANCELLED. */
export function wasCancelled(job: Pick<JobRecord, 'status' | 'lastError'>): boolean {
  return job.status === 'dead' && (job.lastError as { code?: unknown } | null)?.code === RUN_ERROR_CODES.CANCELLED;
}

/**
 * What a `running` job is: claimed by a worker, whose attempt is under way or, claimed ahead during a burst
 * (delivery/pool.ts, CLAIM_AHEAD), waits in that worker's memory for a free slot. The store records both alike (the
 * claim is the attempt's start), so lists and refusals say both rather than "running" alone.
 */
export const CLAIMED_STATE = 'claimed by a worker: its attempt is under way, or, claimed ahead during a burst, it waits for a free slot of that worker';

/**
 * What to do instead of cancelling a claimed (`running`) job, with `cancelCommand` the command that cancels it once
 * it is queued again: only a queued job is cancelled, and a claimed one is queued again when its attempt fails and
 * waits for a retry, or when the server stops (a job claimed ahead is given back to the queue uncounted).
 */
export function whenCancellable(cancelCommand: string, job?: Pick<JobRecord, 'leaseOwner' | 'leaseExpiresAt'>, o: { sqlite?: boolean; now?: number; servingPid?: number } = {}): string {
  const gone = job && goneWorker(job, o.now ?? Date.now(), o.sqlite === true, o.servingPid);
  if (gone) {
    // No server to stop: telling the operator to stop one (another instance, say) would cut off other jobs for nothing.
    return `${gone}, so there is no server to stop for it: a server takes the job over (another instance at its next claim once the lease has run out, or the next start of a server on this store) and runs it again, or makes it a dead letter if it has no attempt left. Cancel works once the job is back in the queue: if that attempt fails and waits for a retry, cancel it then (${cancelCommand})`;
  }
  return `Cancel works once the job is back in the queue: if its attempt fails and waits for a retry, cancel it then (${cancelCommand}); to stop it now, stop the server (a job claimed ahead goes back to the queue, where it can be cancelled before the next start; an attempt under way is cut off and resumed at the next start)`;
}

/** goneWorker, for `cancel` of a running job: why its worker is known to be gone, or undefined when it may still run. */
export function goneWorkerOf(job: Pick<JobRecord, 'leaseOwner' | 'leaseExpiresAt'>, o: { sqlite?: boolean; now?: number; servingPid?: number } = {}): string | undefined {
  return goneWorker(job, o.now ?? Date.now(), o.sqlite === true, o.servingPid);
}

/**
 * Why a claimed job's worker is known to be gone, or undefined when it may still run: its lease ran out unrenewed (a
 * live worker renews it every third of the lease), or, with a SQLite store (whose servers run on this machine), its
 * worker id (`host:pid…`, delivery/pool.ts) names a process of this machine that is not running, and not the server
 * that holds the data folder now (`servingPid`: a server in another pid namespace, e.g. a container that shares the
 * host name, is not seen by kill here). With PostgreSQL a
 * worker's host name may be another machine's too (cloned machines called alike), so only the lease tells there.
 */
function goneWorker(job: Pick<JobRecord, 'leaseOwner' | 'leaseExpiresAt'>, now: number, sqlite: boolean, servingPid?: number): string | undefined {
  const owner = job.leaseOwner ?? 'unknown';
  if (job.leaseExpiresAt !== null && job.leaseExpiresAt <= now) {
    return `Its worker (${owner}) stopped renewing its claim, whose lease ran out at ${new Date(job.leaseExpiresAt).toISOString()}: its server was stopped or killed (or hangs)`;
  }
  const m = /^(.*):(\d+)(?:\/t\d+)?:[^:]*$/.exec(job.leaseOwner ?? '');
  if (!sqlite || !m || m[1] !== hostname()) return undefined;
  const pid = Number(m[2]);
  // The live server that holds the SQLite store's data folder (its lock) has this pid in its serve.json: it runs, as
  // its own pid namespace counts (a container sharing the host name, with the folder mounted), whatever kill says here.
  if (pid === servingPid || pidRunning(pid)) return undefined;
  const until = job.leaseExpiresAt !== null ? `; its lease runs out at ${new Date(job.leaseExpiresAt).toISOString()}` : '';
  return `Its worker (${owner}) was process ${pid} of this machine, which is not running any more: its server was stopped or killed${until}`;
}

/**
 * Why a job that is not queued is not cancelled, after its id and scenario (`job 01J… (BpiumNewTask) <this>`): only a
 * queued job is. A claimed one cannot be stopped safely from outside: its worker may start it (or be halfway through
 * sending its letter) at any moment, without another look at the store.
 */
export function notCancellable(job: Pick<JobRecord, 'status' | 'lastError' | 'attempts' | 'maxAttempts'>): string {
  if (job.status === 'running') return `is ${CLAIMED_STATE} (attempt ${job.attempts}/${job.maxAttempts}); a claimed job cannot be cancelled safely from outside (its worker may start it at any moment, and an attempt under way may be halfway through sending a letter)`;
  const state = job.status === 'dead' ? (wasCancelled(job) ? 'was cancelled already' : 'is a dead letter already') : job.status === 'failed' ? 'failed for good' : job.status === 'succeeded' ? 'succeeded' : `is ${job.status}`;
  return `${state}: nothing to cancel (only queued jobs are cancelled)`;
}
