// Runs queued jobs: claims them from the store under a lease, runs the scenario, and completes, retries or
// dead-letters each one. Effects already done in an earlier attempt are skipped through the effect journal.
import { CATCH_ALL_LINE, inCatchAllLine } from '../store/dead-letter.js';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { threadId } from 'node:worker_threads';
import { RUN_ERROR_CODES, runScenario, VERSIONS_KEY, type LoggerPort, type OutageLogPort, type RunResult, type Value } from '../../engine/index.js';
import type { SharedPorts } from '../../adapters/ports.js';
import type { ScenarioHost } from '../scenario-host.js';
import { enqueueingStarter, jobSecretCarriers, jobVariables, maskCarriers } from '../starters.js';
import { CUT_BY_STOP, jobRunTrigger, lastAttemptCut, runWrite } from '../run-record.js';
import { taskNameOf } from '../tasks/scheduler.js';
import type { JobLease, JobRecord, JournalEntry } from '../store/store.port.js';
import type { DeliveryStore } from './store-link.js';
import { attemptJournal, isEffectOutcome } from './attempt-journal.js';
import { repeatingFailureLog } from './failure-log.js';
import { taskFailureLog } from './task-failures.js';
import { leaseClock, leaseFence, type LeaseClock, type LeaseHold } from './lease-fence.js';
import { within } from '../within.js';
import type { TraceKept } from '../trace-setting.js';

/** Jobs the pool keeps running during a burst of requests: enough to make progress, few enough to stay out of the way. */
const BURST_JOBS = 2;
const BURST_QUIET_MS = 100;
/**
 * Most jobs one claim takes even when fewer slots are free (never more than the pool's workers could run): the rest
 * wait in memory under the same lease (renewed by the heartbeat) and start as slots free up. A claim is a write transaction; during a burst, when two jobs run at a
 * time, claiming one job per finished job made claims a fifth of the store's work.
 */
const CLAIM_AHEAD = 16;
/** Waits before each try of writing an attempt's outcome when the store refuses it (about 5 s in all). */
const OUTCOME_RETRY_MS = [0, 100, 400, 1500, 3000];
/**
 * After those, the outcome is tried again this often for as long as the pool runs: the attempt has made its effects
 * (a letter), and an outcome given up on runs the job again, letter included, once its lease expires. While the job
 * stays in `active` the heartbeat keeps its lease and this pool never runs it a second time, so a store that comes
 * back (space freed, quota raised, PostgreSQL back) records the end instead.
 */
const OUTCOME_RETRY_LATER_MS = 5000;
/**
 * During a stop, an outcome the store refused is tried again this often until the grace period ends: the stop waits
 * for it as it waits for running jobs, since an end given up on makes the next start repeat the attempt's effects.
 */
const OUTCOME_RETRY_STOPPING_MS = 250;
/**
 * After the grace period, how long a stop waits for the store to take back the jobs it cuts short (`releaseOnStop`):
 * a store that does not answer at all (PostgreSQL behind a network partition) must not hold the stop for ever.
 */
const STOP_GIVE_BACK_MS = 1000;

export interface WorkerPoolOptions {
  /** Claims, leases, outcomes, new jobs and the effect journal: the store itself, or its proxy in the delivery thread. */
  store: DeliveryStore;
  host: Pick<ScenarioHost, 'library' | 'libraryWithVersion'>;
  /** Ports shared by every run (Bpium, mailer, clock, ids…); the async starter and the journal are made per job. */
  ports: SharedPorts;
  concurrency: number;
  timeZone: string;
  /** Effects one run may make (RunLimits.maxEffects); the engine's default when absent. */
  maxEffects?: number;
  /** Bytes one stored run record may take (run-budget.ts); the default when absent. */
  runRecordBytes?: number;
  /** Which runs' records keep their trace (OKTELL_TRACE; trace-setting.ts); absent: all. */
  traceKept?: TraceKept;
  leaseMs?: number;
  /** The clock lease ages are measured on (lease-fence.ts); tests move it forward. */
  leaseClock?: LeaseClock;
  /** How often to look for due jobs when nothing woke the pool (retries come due by time). */
  pollMs?: number;
  logger?: LoggerPort;
  /**
   * Where an attempt that failed on an outage (`RunResult.failedOn`) is said instead of `logger`, which folds the
   * repeats (server/log-folding.ts); without it, each is logged on its own.
   */
  outages?: OutageLogPort;
  /**
   * Requests the server is answering right now. The acknowledgements and the workers share one event loop: while a
   * burst is in flight (at least `burstInFlight` requests) the pool runs at most two jobs, so
   * webhooks are acknowledged first; the durable queue keeps the rest, and the pool catches up once the burst ends.
   */
  inFlight?: () => number;
  /** In-flight requests that count as a burst (default 4; 0 never holds the workers back). */
  burstInFlight?: number;
  /** Called after each finished attempt (metrics, tests). */
  onAttempt?: (job: JobRecord, result: RunResult, outcome: string) => void;
  /**
   * At `stop`, jobs still running when the grace period ends go back to the queue with their attempt given back, so
   * restarts do not use up a job's attempts. Marked STOPPED, such a job runs again (at the next start, or at once on
   * another instance sharing the store) consulting its journal, so what the cut attempt journaled is not repeated.
   * The cut attempts still run in this process until it exits, but their fence refuses every effect from the moment
   * before the give-back is sent (`LeaseHold.lost`), so none starts once another process may claim the job (one
   * already past its fence then, a letter being sent, is not cut off: the fence is a check, not a lock).
   */
  releaseOnStop?: boolean;
  /** Other processes claim jobs from the same store (PostgreSQL): what the log says of jobs left or given back. */
  sharedStore?: boolean;
}

export interface WorkerPool {
  /** Starts claiming jobs; resolves once the pool runs (a delivery thread has loaded its scenarios). */
  start(): void | Promise<void>;
  /** Something was enqueued: look now instead of at the next poll. */
  wake(): void;
  /**
   * Room for `count` new jobs right now, with nothing older waiting in the queue: the caller stores them already
   * claimed under the returned lease and hands them over with `take`, so they need no claim. Undefined when the
   * pool is full, has a backlog, or runs on another thread: store the jobs queued and `wake()` the pool.
   */
  reserve?(count: number): JobReservation | undefined;
  /**
   * Stops claiming; waits up to `graceMs` for running jobs and the ends being recorded. Jobs still running then go
   * back to the queue uncounted (`releaseOnStop`, waiting at most STOP_GIVE_BACK_MS more for the store), or keep their
   * lease and are recovered on the next start or by another instance. A store that does not answer never holds it longer.
   */
  stop(graceMs?: number): Promise<PoolStopReport>;
  readonly running: number;
}

/**
 * What a stop left undone. `unfinished`: jobs still running or with their end not recorded when the grace period
 * ended (these included). `unrecorded`: those of them whose attempt ended but whose end the store has not recorded
 * (it refused it until the end of the grace period, or had not answered by then): they run again, and the effects each
 * counts (its attempt's effects not in the journal) are made again; one that counts none repeats nothing.
 */
export interface PoolStopReport {
  unfinished: number;
  unrecorded: UnrecordedEnd[];
  /**
   * Of the `unfinished` jobs whose attempt was still running (not those in `unrecorded`), those still leased to this
   * process after the stop: not given back (no `releaseOnStop`, or the store refused or did not answer the give-back).
   * Another instance takes them only when their lease expires. The jobs of `unrecorded` keep their lease too.
   */
  leased: number;
  /** Of those running attempts, the jobs the give-back found leased to another instance already (taken over). */
  takenOver?: number;
}

/** A job whose attempt ended but whose end (outcome, run record, journal entries) the store did not take. */
export interface UnrecordedEnd {
  jobId: string;
  /** Effects of the attempt not in the journal: the next attempt makes them again. */
  effects: number;
  /** Letters sent among them. */
  letters: number;
}

export interface JobReservation {
  readonly lease: JobLease;
  /** The jobs the store wrote under the lease start now; the rest of the reservation is released. Call once. */
  take(jobs: readonly JobRecord[]): void;
}

/**
 * The same, for an attempt whose every effect was in the journal when it was given back (none in flight, the entries
 * waiting written): the next attempt replays them and has nothing to suspect of repeating.
 */
const CUT_BY_STOP_JOURNALED = { ...CUT_BY_STOP, message: `${CUT_BY_STOP.message}; every effect it made is in the journal`, journaled: true };

export function createWorkerPool(opts: WorkerPoolOptions): WorkerPool {
  // host:pid[/tN]:random: /tN names the delivery thread a job ran on (none: the main thread).
  const workerId = `${hostname()}:${process.pid}${threadId ? `/t${threadId}` : ''}:${randomUUID().slice(0, 8)}`;
  const leaseMs = opts.leaseMs ?? 60_000;
  const clock = opts.leaseClock ?? leaseClock();
  const pollMs = opts.pollMs ?? 500;
  const active = new Map<string, Promise<void>>();
  let stopping = false;
  /** The stop's grace period is over: an outcome the store still refuses is given up on. */
  let graceOver = false;
  /** Waits of outcomes the store refused, cut short by `stop` (tried again at once) and at the end of its grace period. */
  const stopWaits = new Set<() => void>();
  /** Jobs whose attempt ended but whose end the store has refused so far (kept when given up on during a stop). */
  const unrecorded = new Map<string, UnrecordedEnd>();
  /**
   * Jobs whose attempt ended and whose end is being written or waits to be tried again: no longer running. One still
   * here when a stop's grace period ends is as unrecorded as one the store refused, whether the store refused its end
   * or never answered (a write to PostgreSQL behind a network partition that drops packets hangs).
   */
  const ending = new Map<string, UnrecordedEnd>();
  /**
   * A spell of ends the store refuses for an outage (a full disk, a quota, PostgreSQL down): every busy worker meets
   * it at once, so it is logged once, not per job — the first refused end (`warn`), the first end still refused after
   * the quick retries (`error`), and one line when the last waiting end is recorded — instead of five lines with the
   * store's stack for each of up to `concurrency` jobs. Once per reason the store gives (`full`, `busy`, `io`, …):
   * one end that stays refused keeps the spell going, and a refusal of another kind meanwhile (the disk failing while
   * a quota holds one end back) is news, not a repeat. `waiting`: the jobs whose end waits on the store now;
   * `warned`, `stuckLogged`: the reasons logged so far in the spell; `stuck`: how many ends passed the quick retries;
   * `recorded`: stuck ends recorded since the spell began.
   */
  const refusedEnds = { waiting: new Set<string>(), warned: new Set<string>(), stuckLogged: new Set<string>(), stuck: 0, recorded: 0, last: undefined as { jobId: string; runId: string; outcome: string } | undefined };
  let started = false;
  let timer: NodeJS.Timeout | undefined;
  let claiming = false;
  let again = false;
  const burstAt = opts.burstInFlight ?? 4;
  const burstConcurrency = Math.min(opts.concurrency, BURST_JOBS);
  /** Jobs the pool may run at once now: fewer while a burst of requests is being acknowledged. */
  // A burst ends only after BURST_QUIET_MS without one: a momentary lull between requests must not let every worker
  // loose in the middle of it.
  let burstSeenAt = -Infinity;
  const capacity = () => {
    if (!opts.inFlight || burstAt <= 0) return opts.concurrency;
    const now = performance.now();
    if (opts.inFlight() >= burstAt) burstSeenAt = now;
    return now - burstSeenAt < BURST_QUIET_MS ? burstConcurrency : opts.concurrency;
  };
  let held = false;
  // A store that refuses claims (full, read-only) refuses every poll: one line per minute, not two a second.
  const claimFailures = repeatingFailureLog(opts.logger, { failing: 'cannot claim jobs; will try again', recovered: 'jobs can be claimed again' });
  // The renewals of a store that refuses them (a lock held on jobs, a full disk, the database down) fail every third
  // of the lease for as long as it does: one line per minute, not one with its stack every 20 s.
  const heartbeatFailures = repeatingFailureLog(opts.logger, {
    failing: 'heartbeat failed: the leases of the jobs this instance holds cannot be renewed; will try again (they stay its own until they expire)',
    recovered: 'heartbeat: the leases of held jobs are renewed again',
  });
  // A service task's runs that fail the same way at every due time: counted, not logged one by one.
  const taskFailures = taskFailureLog(opts.logger);
  /** Slots promised to jobs being stored right now (`reserve`). */
  let reserved = 0;
  /**
   * Whether due jobs may be waiting in the store: set when something was queued instead of handed over, cleared when
   * a claim comes back with room to spare. While it is set, new jobs queue behind the older ones, and each finished
   * job makes the pool claim again; while it is clear, a finished job costs no claim.
   */
  let backlog = true;
  /** The claim sent to the store and not yet answered: a stop waits for it, to give its jobs back. */
  let claimInFlight: Promise<unknown> | undefined;
  /** Gives-back sent to the store and not yet answered (`release`). */
  const releasing = new Set<Promise<void>>();
  /** Jobs claimed ahead (`CLAIM_AHEAD`), leased to this pool, waiting for a free slot. */
  const claimedAhead: JobRecord[] = [];
  /**
   * The lease of each job this pool holds, claimed ahead or running: when its claim or last renewal was sent, and
   * whether a renewal found it lost. A running attempt checks its hold before each effect (lease-fence.ts).
   */
  const holds = new Map<string, LeaseHold>();
  const newHold = (since: number): LeaseHold => ({ since, lost: false });
  // Never more jobs held (running, promised, claimed ahead) than the pool has workers: on PostgreSQL the jobs of an
  // instance that dies wait for their leases to expire, so an instance must not take more than it could be running.
  const claimLimit = (free: number) => Math.max(free, Math.min(CLAIM_AHEAD, opts.concurrency - active.size - reserved));

  const heartbeat = setInterval(() => {
    // The holds themselves, not their ids: a job that ends and is claimed again meanwhile has a new hold, which this
    // renewal's answer must not touch.
    const leased = [...holds];
    if (!leased.length) {
      // A spell whose jobs all ended before a renewal went through ends here, or the next outage would open with a
      // summary of this one.
      heartbeatFailures.ended('heartbeat: no lease left to renew');
      return;
    }
    const t0 = clock();
    opts.store.heartbeat(leased.map(([id]) => id), workerId, leaseMs).then(
      (renewed) => {
        const kept = new Set(renewed);
        for (const [id, hold] of leased) {
          if (kept.has(id)) hold.since = Math.max(hold.since, t0);
          else hold.lost = true;
        }
        // A job claimed ahead whose lease this pool lost belongs to whoever took it over: it must not run here too.
        // A running one stops before its next effect (its attempt's fence).
        dropAhead((j) => holds.get(j.id)?.lost === true, 'its lease was lost while it waited');
        heartbeatFailures.succeeded();
        // With the renewal, the cancels requested for the jobs still held (an operator's `cancel`, on any instance).
        const still = leased.filter(([id, hold]) => kept.has(id) && !hold.cancel?.signal.aborted);
        if (still.length) void lookForCancels(still);
      },
      (e: unknown) => heartbeatFailures.failed(e),
    );
  }, Math.max(1000, leaseMs / 3));
  heartbeat.unref();

  /**
   * Asks the store for the cancels requested for `leased` and stops each attempt concerned before its next block (its
   * hold's AbortController). A job claimed ahead, not started yet, is started as usual: it stops before its first block.
   * A store that does not answer is asked again at the next renewal.
   */
  async function lookForCancels(leased: ReadonlyArray<[string, LeaseHold]>): Promise<void> {
    let requests: Awaited<ReturnType<DeliveryStore['cancelRequests']>>;
    try {
      requests = await opts.store.cancelRequests(leased.map(([id]) => id), workerId);
    } catch (e) {
      opts.logger?.debug({ err: e }, 'cannot read the cancels requested for the jobs held; asking again at the next renewal');
      return;
    }
    for (const r of requests) {
      const hold = leased.find(([id]) => id === r.id)?.[1];
      if (!hold) continue;
      hold.cancel ??= new AbortController();
      if (hold.cancel.signal.aborted) continue;
      opts.logger?.info({ jobId: r.id, by: r.by, at: new Date(r.at).toISOString() }, `job ${r.id}: cancel requested by ${r.by}; its attempt stops before its next block`);
      hold.cancel.abort(cancelReason(r));
    }
  }

  /**
   * The stop's give-back of `ids`, their attempts fenced (`fenced`): those whose journal holds every effect they made
   * are given back saying so, so that their next attempt does not suspect its effects of repeating theirs; the rest
   * (an effect in flight, the journal's write refused, or not answered within the give-back's wait) as cut off.
   * Resolves the ids the store gave back (still leased to this pool), and each group of ids whose give-back the store
   * refused, with its error.
   */
  async function giveBack(ids: string[], fenced: ReadonlyArray<[string, LeaseHold]>): Promise<{ released: string[]; refused: Array<{ ids: string[]; err: unknown }> }> {
    const complete = new Set<string>();
    await within(
      Promise.all(fenced.map(async ([id, hold]) => {
        if ((await hold.journalComplete?.()) === true) complete.add(id);
      })),
      // A quarter of the give-back's wait: the statements that give the jobs back keep the rest of it.
      STOP_GIVE_BACK_MS / 4,
    );
    // Read once the wait is over: an answer that comes later does not count.
    const journaled = ids.filter((id) => complete.has(id));
    const cut = ids.filter((id) => !journaled.includes(id));
    const groups = [
      { ids: journaled, error: CUT_BY_STOP_JOURNALED },
      { ids: cut, error: CUT_BY_STOP },
    ].filter((g) => g.ids.length > 0);
    const answers = await Promise.allSettled(groups.map((g) => opts.store.releaseJobs(g.ids, workerId, g.error)));
    const released: string[] = [];
    const refused: Array<{ ids: string[]; err: unknown }> = [];
    answers.forEach((a, i) => {
      if (a.status === 'fulfilled') released.push(...a.value);
      else refused.push({ ids: groups[i]!.ids, err: a.reason });
    });
    return { released, refused };
  }

  /** Removes jobs claimed ahead that match, without running them. */
  function dropAhead(match: (j: JobRecord) => boolean, why: string): JobRecord[] {
    const dropped: JobRecord[] = [];
    for (let i = claimedAhead.length - 1; i >= 0; i--) {
      if (!match(claimedAhead[i]!)) continue;
      const [job] = claimedAhead.splice(i, 1);
      holds.delete(job!.id);
      dropped.push(job!);
    }
    if (dropped.length) opts.logger?.warn({ jobs: dropped.map((j) => j.id) }, `jobs claimed ahead not run here: ${why}`);
    return dropped;
  }

  /**
   * Gives jobs claimed but never started back to the queue (best effort: if it fails, their leases expire). A stop
   * waits for the gives-back in flight, so that none is cut off by the store closing after it.
   */
  function release(jobs: readonly JobRecord[]): Promise<void> {
    if (!jobs.length) return Promise.resolve();
    const p = opts.store
      .releaseJobs(jobs.map((j) => j.id), workerId)
      .then(
        () => undefined,
        (e: unknown) => opts.logger?.warn({ err: e }, 'cannot give claimed jobs back; they run again when their leases expire'),
      )
      .finally(() => releasing.delete(p));
    releasing.add(p);
    return p;
  }

  /** The next job claimed ahead whose lease still has a third of its time left (the others go back to the queue). */
  function nextAhead(): JobRecord | undefined {
    const now = clock();
    void release(dropAhead((j) => (holds.get(j.id)?.since ?? -Infinity) + leaseMs - now < leaseMs / 3, 'its lease is about to run out'));
    return claimedAhead.shift();
  }

  async function fill() {
    if (stopping || !started) return;
    if (claiming) {
      again = true;
      return;
    }
    claiming = true;
    try {
      do {
        again = false;
        const cap = capacity();
        held = cap < opts.concurrency;
        let free = cap - active.size - reserved;
        for (let job = free > 0 ? nextAhead() : undefined; job; job = free > 0 ? nextAhead() : undefined) {
          launch(job);
          free--;
        }
        // Claims have a fixed cost (a write transaction): while jobs are running, wait until a few slots are free.
        if (free <= 0 || (active.size > 0 && free < Math.max(1, Math.floor(cap / 4)))) break;
        const limit = claimLimit(free);
        let jobs: JobRecord[];
        const claimedAt = clock();
        // A claim answered after the pool began to stop: its jobs go back to the queue before the stop ends (on
        // PostgreSQL, left leased, they would wait for their leases to expire).
        const claim = opts.store.claimJobs(workerId, limit, leaseMs).then(async (got) => (stopping ? void (await release(got)) : got));
        claimInFlight = claim.catch(() => undefined);
        try {
          const got = await claim;
          claimFailures.succeeded();
          if (!got) break;
          jobs = got;
        } catch (e) {
          claimFailures.failed(e);
          break;
        } finally {
          claimInFlight = undefined;
        }
        for (const job of jobs) {
          if (holds.has(job.id)) continue;
          holds.set(job.id, newHold(claimedAt));
          if (free-- > 0) launch(job);
          else claimedAhead.push(job);
        }
        backlog = jobs.length === limit;
        if (backlog) again = true;
      } while (again && !stopping);
    } finally {
      claiming = false;
    }
    schedule();
  }

  function schedule() {
    clearTimeout(timer);
    // Held back by a burst: look again soon, so the backlog starts draining as soon as the burst ends. A poll also
    // stands for jobs that came due by time (retries): until a claim comes back short, new jobs queue behind them.
    if (!stopping)
      timer = setTimeout(() => {
        if (!held) backlog = true;
        void fill();
      }, held ? Math.min(pollMs, 20) : pollMs);
  }

  /** Runs a job this pool holds (its hold in `holds`, set at the claim or by `take`). */
  function launch(job: JobRecord) {
    const hold = holds.get(job.id);
    if (active.has(job.id) || !hold) return;
    const p = runJob(job, hold).finally(() => {
      active.delete(job.id);
      if (holds.get(job.id) === hold) holds.delete(job.id);
      if (backlog || claimedAhead.length > 0) void fill();
    });
    active.set(job.id, p);
  }

  async function runJob(job: JobRecord, hold: LeaseHold) {
    // Let the I/O already waiting (requests to acknowledge) run before this job's first blocks.
    await new Promise<void>((r) => setImmediate(r));
    const params = (job.params ?? {}) as Record<string, Value>;
    const host = opts.host;
    const library = job.pinnedVersion ? host.libraryWithVersion(job.scenario, job.pinnedVersion) : host.library();
    // A service task's job carries its task in the trigger: its runs say `task`, not `async`.
    const trigger = jobRunTrigger(job);
    // Its scheduled and manual runs, not a replay (an operator's own, watched as it runs).
    const task = trigger === 'task' ? taskNameOf(job.trigger) : undefined;
    // After a failure of the task, its next run's block warning is debug: its end says whether it repeats the last.
    const engineLogger = task !== undefined && taskFailures.failing(task) && opts.ports.logger ? quietWarnings(opts.ports.logger) : opts.ports.logger;
    let result: RunResult;
    // A first attempt has nothing journaled, so its look-ups are skipped; a job with an error on record (an attempt cut
    // by a graceful stop is given back uncounted, with one) may have made effects already, so it looks them up.
    const fence = leaseFence(hold, { leaseMs, clock, renew: async () => (await opts.store.heartbeat([job.id], workerId, leaseMs)).includes(job.id) });
    const afterLostAttempt = previousAttemptCut(job);
    const carriesSecret = jobSecretCarriers(job.variables as Record<string, unknown> | null);
    const journal = attemptJournal(opts.store, !(job.attempts <= 1 && job.replayCount === 0 && job.lastError == null), fence, { afterLostAttempt });
    hold.journalComplete = journal.complete;
    // A cancel requested before the claim (its worker gone, the job taken over or given back): stops before the first block.
    hold.cancel ??= new AbortController();
    if (job.cancelRequest && !hold.cancel.signal.aborted) hold.cancel.abort(cancelReason(job.cancelRequest));
    if (!library) {
      result = failedResult(job, `version ${job.pinnedVersion} of ${job.scenario} is not loaded in this process; replay without --pinned`);
    } else {
      result = await runScenario(library, job.scenario, {
        params,
        variables: jobVariables(params, job.variables as Record<string, unknown> | null),
        ...(carriesSecret ? { carriesSecret } : {}),
        journalKey: job.id,
        // A pending letter an earlier attempt left is not sent again, unless an operator has replayed the job since.
        journalEpoch: job.replayCount,
        timeZone: opts.timeZone,
        signal: hold.cancel.signal,
        ...(opts.maxEffects ? { limits: { maxEffects: opts.maxEffects } } : {}),
        // The attempt's end below says why the run failed, with the attempt and what becomes of the job.
        failureLogged: true,
        ports: {
          ...opts.ports,
          ...(engineLogger ? { logger: engineLogger } : {}),
          journal: journal.port,
          // The jobs the dead-letter catch-all starts are in its line: given up on, they start no catch-all either.
          asyncStarter: enqueueingStarter(opts.ports.ids, opts.store, { parentJob: job.id, ...(inCatchAllLine(job.trigger) ? { [CATCH_ALL_LINE]: true } : {}) }, () => wake(), { byRunningJob: true }),
        },
      });
    }
    const run = runWrite(result, { trigger, params: maskCarriers(params, carriesSecret?.params), jobId: job.id, inboxId: job.inboxId, parentRunId: job.parentRunId, attempt: job.attempts, workerId, timeZone: opts.timeZone, ...(opts.runRecordBytes ? { budgetBytes: opts.runRecordBytes } : {}), ...(opts.traceKept ? { traceKept: opts.traceKept } : {}) });
    const effects = journal.take();
    // The answers of reads ride along for a retry, but they are no effect that could repeat.
    const made = effects.filter((e) => !journal.readKeys.has(e.stepKey));
    const end: UnrecordedEnd = { jobId: job.id, effects: effectsAmong(made), letters: lettersAmong(result, made) };
    // An attempt after a cut-off one that fails having journaled no effect cannot vouch for the cut attempt's last
    // effect either: its error says so (`afterCut`), so the next attempt still marks what it makes as `may repeat`.
    // A pending mark left and withdrawn (a slow letter then refused 451) is no effect made.
    const passOnCut = afterLostAttempt && !made.some((e) => isEffectOutcome(e.stepKey)) && journal.port.mayRepeat?.() === true;
    ending.set(job.id, end);
    // Fenced by a stop that gives the job back: its end goes after the give-back, which waits for the journal's write
    // first; sent before it, the end would find the job still leased here and be recorded as a counted attempt.
    if (hold.givingBack) await hold.givingBack;
    let outcome = 'store-error';
    // The outcome carries the journal entries of the attempt: it is tried again (the job stays in `active`, so the
    // heartbeat keeps its lease) until it is written or the grace period of a stop ends; only then is the attempt left
    // to run again.
    let stuck = false;
    let catchAll: { catchAllJob?: string; catchAllSkipped?: true } = {};
    // Dead for the cancel an operator requested while it ran: who asked and when (logged as that, not as a failure).
    let cancelled: { by: string; at: number } | undefined;
    for (let n = 0; ; n++) {
      const waitMs = OUTCOME_RETRY_MS[n] ?? OUTCOME_RETRY_LATER_MS;
      if (waitMs) await outcomeRetryWait(waitMs);
      try {
        if (result.status === 'completed') {
          const r = await opts.store.completeJob(job.id, workerId, { run, effects });
          outcome = r.accepted ? 'succeeded' : 'lease-lost';
        } else {
          // An effect whose outcome is unknown (a letter the SMTP server may hold): retrying could repeat it. An effect
          // refused for a wrong setting: retrying cannot help until someone fixes it, then replays.
          const code = result.error.code;
          const retryable = code === RUN_ERROR_CODES.EFFECT_UNKNOWN || code === RUN_ERROR_CODES.EFFECT_SETTING ? 'dead-letter' : result.error.retryable;
          const r = await opts.store.failJob(job.id, workerId, { run, effects, retryable, error: passOnCut ? { ...result.error, afterCut: true } : result.error });
          outcome = r.accepted ? r.status : 'lease-lost';
          if (r.accepted && r.status !== 'queued') catchAll = { ...(r.catchAllJob ? { catchAllJob: r.catchAllJob } : {}), ...(r.catchAllSkipped ? { catchAllSkipped: r.catchAllSkipped } : {}) };
          cancelled = r.accepted && r.status === 'dead' ? r.cancelled : undefined;
        }
        unrecorded.delete(job.id);
        const wasWaiting = refusedEnds.waiting.delete(job.id);
        if (stuck && wasWaiting) {
          refusedEnds.recorded++;
          refusedEnds.last = { jobId: job.id, runId: result.runId, outcome };
        }
        // A stuck end was waiting on the store (both are set together, below): endRefusedSpell says it is recorded.
        if ((stopping && n > 0) || graceOver) {
          opts.logger?.warn({ jobId: job.id, runId: result.runId, outcome }, `the end of the job is recorded after all during the stop: what its attempt did is not repeated`);
        }
        if (wasWaiting && refusedEnds.waiting.size === 0) endRefusedSpell();
        break;
      } catch (e) {
        unrecorded.set(job.id, end);
        const gone = graceOver || (e as { reason?: unknown }).reason === 'closed';
        // Only a store that cannot write for now (full, busy, down) is waited for; any other error (a record it
        // refuses) would be refused again every time, holding the worker for ever.
        const outage = (e as { name?: unknown }).name === 'StoreUnavailableError';
        const lastQuickTry = n === OUTCOME_RETRY_MS.length - 1;
        if (gone || (!outage && lastQuickTry)) {
          // Given up on during a stop, the job stays in `unrecorded` for the stop's report.
          if (!stopping) unrecorded.delete(job.id);
          if (refusedEnds.waiting.delete(job.id) && refusedEnds.waiting.size === 0) endRefusedSpell();
          opts.logger?.error({ err: e, jobId: job.id, runId: result.runId }, 'cannot record the end of a job; it runs again at the next start or when its lease expires, and may repeat what this attempt did');
          break;
        }
        if (outage) {
          // The store's own words and reason, without its stack: the cause is outside (the disk, the database).
          const reason = String((e as { reason?: unknown }).reason);
          const why = { error: (e as Error).message, reason, jobId: job.id, runId: result.runId };
          refusedEnds.waiting.add(job.id);
          if (lastQuickTry) {
            stuck = true;
            refusedEnds.stuck++;
            if (!refusedEnds.stuckLogged.has(reason)) {
              refusedEnds.stuckLogged.add(reason);
              opts.logger?.error({ ...why, waiting: refusedEnds.waiting.size }, `cannot record the end of a job; trying again every ${OUTCOME_RETRY_LATER_MS / 1000} s while the server runs, so that what it did is not repeated (${refusedEnds.waiting.size} job end(s) wait on the store now; the others that pass their first retries meanwhile are not logged one by one, and one line says when all are recorded)`);
            } else opts.logger?.debug(why, 'cannot record the end of a job; trying again every few seconds');
          } else if (!refusedEnds.warned.has(reason)) {
            refusedEnds.warned.add(reason);
            opts.logger?.warn(why, 'cannot record the end of a job yet; trying again (ends of other jobs the store refuses meanwhile are not logged one by one)');
          } else if (n === 0) opts.logger?.debug(why, 'cannot record the end of a job yet; trying again');
        } else if (!stuck) {
          // Not an outage, and not its last quick try (that one is given up on above).
          opts.logger?.warn({ err: e, jobId: job.id, runId: result.runId }, 'cannot record the end of a job yet; trying again');
        }
      }
    }
    ending.delete(job.id);
    // A lost lease means another worker took the job over: what this attempt did (a letter) may be done again.
    // Given back by this pool's own stop, the lease was lost on purpose: its effects are journaled with the refused
    // outcome, so the next attempt replays them instead of repeating them.
    if (outcome === 'lease-lost' && hold.givenBack) outcome = 'given-back';
    // A job failed for good (not retryable: R_SCENARIO_CHANGED, a scenario error, a refused address) is a dead letter
    // as much as a dead one: nothing retries it and it waits for a replay, so it is an ERROR too.
    const usual = task === undefined || outcome === 'lease-lost' || outcome === 'given-back' || outcome === 'store-error' || taskFailures.ended(task, result.status === 'failed' ? result.error : undefined);
    // Letters the run took to SendMail's error exit (refused by the mail server, or before it): nothing retries them.
    let refused = 0;
    for (const m of result.mails) if (m.status === 'failed') refused++;
    // A job an operator cancelled while it ran is what was asked for: a warning that says by whom, not an ERROR.
    const level = cancelled ? 'warn' : !usual ? 'debug' : outcome === 'dead' || outcome === 'failed' ? 'error' : outcome === 'lease-lost' || result.status !== 'completed' || refused > 0 ? 'warn' : 'info';
    const fenced = result.error?.code === RUN_ERROR_CODES.LEASE_LOST;
    const note =
      outcome === 'queued' ? ' (will retry)'
      : cancelled ? ` (cancelled by ${cancelled.by}, requested at ${new Date(cancelled.at).toISOString()}: ${result.error?.code === RUN_ERROR_CODES.CANCELLED ? 'its attempt stopped at a block boundary' : 'its attempt failed before it stopped, and is not retried'}; a dead letter R_CANCELLED, which replay brings back)`
      : outcome === 'dead' ? ' (dead letter)'
      : outcome === 'failed' ? ' (failed for good: not retried, it waits for a replay)'
      : outcome === 'lease-lost' && fenced ? ' before its next effect: its lease had expired and another worker took the job over; the effect was left to it'
      : outcome === 'lease-lost' ? ' but its lease had expired: another worker took the job over, and may repeat what this attempt did'
      : outcome === 'given-back' ? ` after the stop gave the job back to the queue: ${opts.sharedStore ? 'another instance runs it' : 'the next start runs it again'}, replaying what this attempt journaled`
      : '';
    const line = {
      level,
      obj: { runId: result.runId, jobId: job.id, ...(job.parentRunId ? { parentRunId: job.parentRunId } : {}), scenario: job.scenario, attempt: job.attempts, status: result.status, outcome, ms: result.durationMs, ...(refused ? { lettersRefused: refused } : {}), ...(result.error ? { code: result.error.code, error: result.error.message } : {}), ...(cancelled ? { cancelledBy: cancelled.by } : {}) },
      msg: `run ${job.scenario} ${result.status}${note}${refused && result.status === 'completed' ? `, ${refused === 1 ? 'a letter' : `${refused} letters`} refused (not sent, not retried: npx oktell-emu show ${result.runId})` : ''}`,
    } as const;
    // An attempt that failed on an outage (SMTP, Bpium) goes to the outage log, which folds its repeats.
    if (result.failedOn && opts.outages && usual && !cancelled && (outcome === 'queued' || outcome === 'dead' || outcome === 'failed')) {
      opts.outages.attemptFailed(result.failedOn, line, { id: job.id, givenUp: outcome !== 'queued' });
    } else opts.logger?.[level](line.obj, line.msg);
    if (result.mayRepeat?.length) warnMayRepeat(opts.logger, job, result);
    if (catchAll.catchAllJob) {
      opts.logger?.info({ jobId: job.id, catchAllJob: catchAll.catchAllJob, scenario: job.scenario }, `dead letter: the dead-letter catch-all was queued as job ${catchAll.catchAllJob} for job ${job.id} (${job.scenario})`);
      wake();
    } else if (catchAll.catchAllSkipped) {
      opts.logger?.warn({ jobId: job.id, scenario: job.scenario, runId: result.runId }, `job ${job.id} of the dead-letter catch-all's own line (${job.scenario}) was given up on: no catch-all is started for it, which could loop; it stays ${outcome}: npx oktell-emu show ${result.runId}, then npx oktell-emu replay ${job.id}`);
    }
    opts.onAttempt?.(job, result, outcome);
  }

  /** The last end that waited on the store is recorded: one line for the spell's stuck ends, then a new spell may begin. */
  function endRefusedSpell(): void {
    const { recorded, stuck, last } = refusedEnds;
    refusedEnds.warned.clear();
    refusedEnds.stuckLogged.clear();
    Object.assign(refusedEnds, { stuck: 0, recorded: 0, last: undefined });
    if (stopping || stuck === 0) return;
    if (recorded === 1 && stuck === 1 && last) {
      opts.logger?.warn(last, 'the end of the job is recorded after all: what its attempt did is not repeated');
      return;
    }
    const lost = stuck - recorded;
    opts.logger?.warn({ recorded, ...(lost ? { notRecorded: lost } : {}) }, `the ends of ${recorded} job(s) the store refused are recorded after all: what their attempts did is not repeated${lost ? `; ${lost} could not be recorded (logged as errors above)` : ''}`);
  }

  /**
   * Resolves after `ms`, cut short when the pool begins to stop (the end is tried again at once); during a stop, after
   * at most OUTCOME_RETRY_STOPPING_MS, and at once when the stop's grace period is over.
   */
  function outcomeRetryWait(ms: number): Promise<void> {
    if (graceOver) return Promise.resolve();
    if (stopping) ms = Math.min(ms, OUTCOME_RETRY_STOPPING_MS);
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        stopWaits.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      stopWaits.add(done);
    });
  }

  function wake() {
    backlog = true;
    if (started && !stopping) void fill();
  }

  function reserve(count: number): JobReservation | undefined {
    if (!started || stopping || backlog || claimedAhead.length > 0 || count < 1) return undefined;
    if (active.size + reserved + count > capacity()) return undefined;
    reserved += count;
    // The caller writes the jobs under the lease after this: their lease runs at least leaseMs from now.
    const since = clock();
    let taken = false;
    return {
      lease: { worker: workerId, leaseMs },
      take(jobs) {
        if (taken) return;
        taken = true;
        reserved -= count;
        // Stored after the pool began to stop: back to the queue for the next start or another instance.
        if (stopping) return void release(jobs);
        for (const job of jobs) {
          if (holds.has(job.id)) continue;
          holds.set(job.id, newHold(since));
          launch(job);
        }
        if (jobs.length < count && backlog) void fill();
      },
    };
  }

  return {
    start() {
      started = true;
      void fill();
    },
    wake,
    reserve,
    async stop(graceMs = 10_000) {
      stopping = true;
      clearTimeout(timer);
      for (const cut of [...stopWaits]) cut();
      let timedOut = false;
      // Kept alive by its timer (cleared when the stop ends): a stop waiting for a store that does not answer is still
      // under way, and must end with its report.
      let graceTimer: NodeJS.Timeout | undefined;
      const graceEnd = new Promise<void>((r) => (graceTimer = setTimeout(() => ((timedOut = true), r()), graceMs)));
      // Jobs claimed ahead never started: they go back to the queue, their attempt not counted (a give-back the
      // store does not answer within the grace period is left: their leases expire).
      const ahead = claimedAhead.splice(0);
      for (const j of ahead) holds.delete(j.id);
      void release(ahead);
      // Jobs whose end the store refuses are still in `active`: the grace period is theirs too, to record it. So is a
      // claim still in flight, whose jobs go back to the queue, and every give-back not yet answered.
      await Promise.race([Promise.allSettled([...active.values(), claimInFlight, ...releasing]), graceEnd]);
      graceOver = true;
      for (const cut of [...stopWaits]) cut();
      clearInterval(heartbeat);
      const unfinished = timedOut ? [...active.keys()] : [];
      // An attempt that ended but whose end the store has not answered yet: unrecorded, as when it refused it.
      for (const id of unfinished) {
        const end = ending.get(id);
        if (end && !unrecorded.has(id)) unrecorded.set(id, end);
      }
      // Cut short by a stop, not failed: the attempt is not counted (else each restart during a slow SMTP uses one).
      // Only attempts still running: one that has ended, its end still on its way to the store, made its effects and
      // carries their journal entries with that end; given back, another instance could claim the job before the end
      // arrives (and then be refused) and make its letters again. It keeps its lease, as a crash would leave it.
      const toGive = unfinished.filter((id) => !ending.has(id));
      let released: string[] = [];
      let takenOver = 0;
      if (toGive.length && opts.releaseOnStop) {
        // Fenced first: from here on, none of these attempts makes an effect (lease-fence.ts), before another instance
        // can claim the job. What they made already is in the journal, or waits in memory for their end, which the
        // store still takes as a refused outcome (journal entries included) if it comes before the process exits.
        const fenced: Array<[string, LeaseHold]> = [];
        for (const id of toGive) {
          const hold = holds.get(id);
          // One a renewal already found lost was taken over, not given back: its fence says so.
          if (hold && !hold.lost) {
            Object.assign(hold, { lost: true, givenBack: true });
            fenced.push([id, hold]);
          }
        }
        // Only jobs still leased to this pool, in one statement: one another instance took over is left alone.
        const resumed = opts.sharedStore ? 'they may stay under this instance\'s lease (if it was not written after all), and another instance then takes them over when it expires (their attempt counts)' : 'their attempt counts, and they resume at the next start';
        const given = giveBack(toGive, fenced).then(({ released: ids, refused }) => {
          released = ids;
          const unanswered = new Set(refused.flatMap((r) => r.ids));
          // One no longer leased to this pool (another instance took it over) was not given back by it.
          // Its fence then says so, and its end is a lost lease, not a give-back.
          for (const id of toGive) {
            if (ids.includes(id) || unanswered.has(id)) continue;
            takenOver++;
            for (const [fencedId, hold] of fenced) if (fencedId === id) delete hold.givenBack;
          }
          for (const r of refused) {
            // Refused, nothing of them given back. No other process claims from this store (SQLite): the jobs are
            // still this process's alone, so their attempts go on (and may finish before it exits) instead of failing
            // at their next effect as given back, which they were not (that failure would be recorded as a counted
            // attempt). With a shared store a refusal may hide a give-back that was made: they stay fenced.
            if (!opts.sharedStore) {
              for (const [id, hold] of fenced) {
                if (!r.ids.includes(id)) continue;
                hold.lost = false;
                delete hold.givenBack;
              }
            }
            opts.logger?.warn({ err: r.err }, `cannot give unfinished jobs back; ${resumed}`);
          }
        });
        for (const [, hold] of fenced) hold.givingBack = given;
        const answered = await within(given, STOP_GIVE_BACK_MS);
        if (!answered) opts.logger?.warn({ jobs: toGive }, `the store did not answer the give-back of the unfinished jobs within ${STOP_GIVE_BACK_MS / 1000} s; ${resumed}`);
      }
      // Gives-back started during the grace period (a hand-off stored after the stop began) are waited for too.
      if (!timedOut) await Promise.race([Promise.allSettled([claimInFlight, ...releasing]), graceEnd]);
      clearTimeout(graceTimer);
      taskFailures.flush();
      // An end given up on before the grace period ended (its job no longer running) is unfinished too.
      const ends = [...unrecorded.values()];
      const count = new Set([...unfinished, ...ends.map((u) => u.jobId)]).size;
      // Of the attempts still running, those left under this pool's lease: not given back (no releaseOnStop, or the
      // store refused or did not answer) and not taken over by another instance.
      return { unfinished: count, unrecorded: ends, leased: toGive.length - released.length - takenOver, ...(takenOver ? { takenOver } : {}) };
    },
    get running() {
      return active.size;
    },
  };
}

/**
 * The effects whose journal entries are among `entries`: a step's outcome, its pending mark (`…/mark`) and its note of a
 * possible repeat (`…/repeat`) are one effect, and the record of the scenario versions (VERSIONS_KEY) is none.
 */
function effectsAmong(entries: readonly JournalEntry[]): number {
  return new Set(entries.filter((e) => e.stepKey !== VERSIONS_KEY).map((e) => e.stepKey.replace(/\/(?:mark|repeat)$/, ''))).size;
}

/** Letters the run sent whose journal entries are among `effects` (not in the store). */
function lettersAmong(result: RunResult, effects: readonly JournalEntry[]): number {
  // A step key is `scenario:block#visit`; a letter names its block.
  const blocks = new Set(effects.map((e) => e.stepKey.slice(e.stepKey.indexOf(':') + 1, e.stepKey.lastIndexOf('#'))));
  return result.mails.filter((m) => m.status === 'sent' && blocks.has(m.block)).length;
}

/** The logger with its warnings written at debug level (a run's block failure that repeats the last one). */
function quietWarnings(logger: LoggerPort): LoggerPort {
  return { debug: (o, m) => logger.debug(o, m), info: (o, m) => logger.info(o, m), warn: (o, m) => logger.debug(o, m), error: (o, m) => logger.error(o, m) };
}

/**
 * Whether the job's previous attempt was cut off (its lease expired, the server was killed or stopped while it ran)
 * with no end recorded: the entry of the last effect it made may be missing from the journal, so this attempt may make
 * that effect again. The store records such a loss as the job's last error when it takes the job over.
 */
export function previousAttemptCut(job: Pick<JobRecord, 'lastError'>): boolean {
  return lastAttemptCut(job.lastError);
}

/**
 * One warning for a run whose effects may repeat those of the cut-off attempt before it: each letter by its block and
 * Message-ID (the same for every attempt of the step, so the twin can be found in the mailbox), the other effects by
 * block. Recipients and subjects are personal data: the log leaves them to the run record (`show <runId>`).
 */
function warnMayRepeat(logger: LoggerPort | undefined, job: JobRecord, result: RunResult): void {
  const letters = result.mails.filter((m) => m.mayRepeat).map((m) => ({ block: m.block, messageId: m.messageId ?? null }));
  const lettered = new Set(letters.map((l) => l.block));
  const others = result.mayRepeat!.filter((e) => e.kind !== 'SendMail' || !lettered.has(e.block)).map((e) => ({ scenario: e.scenario, block: e.block, kind: e.kind }));
  const named = [
    ...letters.map((l) => `letter ${l.messageId ?? '(no Message-ID)'} of "${l.block}"`),
    ...others.map((e) => `${e.kind} "${e.block}" of ${e.scenario}`),
  ];
  logger?.warn(
    { runId: result.runId, jobId: job.id, scenario: job.scenario, attempt: job.attempts, mayRepeat: result.mayRepeat!.length, letters, effects: others },
    `job ${job.id} (${job.scenario}): an earlier attempt was cut off before it journaled its last effect; this attempt made ${named.length === 1 ? 'an effect that' : `${named.length} effects that`} may repeat it: ${named.join('; ')} (recipients and subjects: npx oktell-emu show ${result.runId})`,
  );
}

/** Why a run stops for a cancel request, as its R_CANCELLED error says after `stopped before block "…": `. */
function cancelReason(r: { by: string; at: number }): string {
  return `cancel requested by ${r.by} at ${new Date(r.at).toISOString()}`;
}

function failedResult(job: JobRecord, message: string): RunResult {
  return {
    runId: randomUUID(),
    scenario: job.scenario,
    version: job.pinnedVersion ?? 'unknown',
    status: 'failed',
    error: { code: RUN_ERROR_CODES.UNKNOWN_SCENARIO, message, retryable: false },
    returnValues: {},
    variables: {},
    mails: [],
    bpiumCalls: [],
    asyncStarted: [],
    trace: [],
    steps: 0,
    startedAt: new Date().toISOString(),
    durationMs: 0,
  };
}
