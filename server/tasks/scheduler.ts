// The scheduler of service tasks: at each due time of a task it enqueues one job in the durable queue. Exactly once
// per due time: the store claims the key (task, due time) in the transaction that inserts the job, so a second
// instance on the same PostgreSQL, or this one after a restart, finds the key taken and starts nothing.
import type { EvalContext } from '../../engine/expr/index.js';
import type { LoggerPort } from '../../engine/ports.js';
import { toText } from '../../engine/values.js';
import { repeatingFailureLog, type FailureLog } from '../delivery/failure-log.js';
import { StoreUnavailableError } from '../store/store.errors.js';
import type { JobRecord, JobStatus, NewJob, Store, TaskDueKind, TaskDueRecord } from '../store/store.port.js';
import type { ServiceTask } from './definitions.js';
import { isoInZone, nextDueTimes } from './schedule.js';

type SchedulerStore = Pick<Store, 'claimTaskDue' | 'lastTaskDues' | 'getJob' | 'enqueueJobs' | 'listJobs' | 'latestScheduledJob'>;

export interface SchedulerOptions {
  store: SchedulerStore;
  /** The tasks as configured now (read at every tick, so a reloaded configuration takes effect). */
  tasks: () => readonly ServiceTask[];
  clock?: { now(): number };
  logger: LoggerPort;
  /** How often to look for due times (default 1 s). */
  tickMs?: number;
  /**
   * A due time older than this when first seen counts as missed (the process was stopped or stalled), not due: so a
   * long stop yields one catch-up run, never one run per missed time. Default 60 s.
   */
  lateAfterMs?: number;
  /** The position SubStr calls the first character in the tasks' parameter expressions (`substrBase`), as in runs. */
  substrBase?: 0 | 1;
}

/** Counters per task since this process started, for /-/metrics. */
export interface TaskCounters {
  due: number;
  started: number;
  skipped: number;
  missed: number;
}

export interface TaskStatus {
  name: string;
  scenario: string;
  schedule: string;
  timeZone: string;
  enabled: boolean;
  missed: ServiceTask['missed'];
  overlap: ServiceTask['overlap'];
  /** The next three due times (ISO 8601 in the task's zone); empty for a disabled task. */
  next: string[];
  last: (Omit<TaskDueRecord, 'dueAt' | 'createdAt'> & { dueAt: string; jobStatus: JobStatus | null }) | null;
  /**
   * The newest run of the task, manual ones included, whatever scenario it ran, with the parameters that could not
   * be computed for it (passed empty), when there were any.
   */
  lastRun: TaskLastRun | null;
  /**
   * With `overlap: skip`, the run that makes due times be skipped now: the task's latest scheduled run (due or
   * catch-up), still queued, waiting for a retry, or running. A run that waits for its next attempt counts as still
   * queued, so with the default attempts a run that keeps failing skips the due times for hours.
   */
  skippingFor?: TaskBlockingRun;
}

/** The run that an `overlap: skip` task waits for: its due time, state and attempts (as TaskLastRun's). */
export interface TaskBlockingRun {
  jobId: string;
  /** The due time the run is for (ISO in the task's zone). */
  dueAt: string;
  status: JobStatus;
  attempts: number;
  maxAttempts: number;
  /** When it waits for its next attempt (ISO in the task's zone). */
  nextAttemptAt?: string;
}

/**
 * A task's newest run (its job). `attempts` (started so far) of `maxAttempts`; `nextAttemptAt` (ISO in the task's
 * zone) when the job failed and waits to be tried again (status `queued`); `lastErrorCode`, the code of its last
 * failure (kept after a later success); `lastRunId`, its latest recorded run.
 */
export interface TaskLastRun {
  jobId: string;
  kind: string;
  /**
   * The due time the run is for (its parameter 1 unless params: sets it; ISO in the task's zone), for a due or
   * catch-up run: a catch-up is queued at the start, hours after the due time it covers.
   */
  dueAt?: string;
  status: JobStatus;
  createdAt: string;
  finishedAt: string | null;
  paramErrors?: ParamErrors;
  attempts: number;
  maxAttempts: number;
  nextAttemptAt?: string;
  lastErrorCode?: string;
  lastRunId: string | null;
}

/**
 * What a task's last run means beyond its status, as `oktell-emu tasks` and the console's Tasks page tell it: a queued
 * job that already failed is `retrying` (attempt n/max, last error, next attempt), a running one past its first
 * attempt `running-again`; a dead or failed one names its attempts, last error and how to replay it.
 */
export type LastRunState = 'retrying' | 'running-again' | 'dead' | 'failed' | 'other';

export function lastRunState(r: Pick<TaskLastRun, 'status' | 'attempts' | 'nextAttemptAt'>): LastRunState {
  if (r.status === 'queued' && r.nextAttemptAt) return 'retrying';
  if (r.status === 'running' && r.attempts > 1) return 'running-again';
  if (r.status === 'dead' || r.status === 'failed') return r.status;
  return 'other';
}

/**
 * The run an `overlap: skip` task's due times are skipped for, when that is worth saying, as `oktell-emu tasks` and the
 * console's Tasks page say it: one that failed and waits for its next attempt (`retrying`, with `nextAttemptAt`), or
 * runs again (`running-again`); a first attempt merely queued or running is the ordinary overlap (undefined).
 */
export type SkippingRun = TaskBlockingRun & { state: 'retrying' | 'running-again' };

export function skippingRun(t: Pick<TaskStatus, 'skippingFor'>): SkippingRun | undefined {
  const w = t.skippingFor;
  if (!w || (w.nextAttemptAt === undefined && w.attempts <= 1)) return undefined;
  return { ...w, state: w.nextAttemptAt !== undefined ? 'retrying' : 'running-again' };
}

/** Parameter number → why its expression failed (the run got it empty). */
export type ParamErrors = Record<string, string>;

/** A run started by hand: what `POST /-/tasks/NAME/run` answers and `tasks run --json` prints. */
export interface ManualRun {
  task: string;
  jobId: string;
  paramErrors?: ParamErrors;
}

/**
 * A claim made this soon after this instance took a task's schedule is not compared with it: instances sharing one
 * configuration file reload an edit about a second apart, and one that reloaded first claims by the new schedule.
 */
const SCHEDULE_SETTLE_MS = 10_000;
interface ScheduleSeen {
  key: string;
  since: number;
  /** The last foreign due time seen, so a claim that stays the latest is counted once. */
  seen?: number;
  /** A foreign claim waiting for SCHEDULE_SETTLE_MS to pass before it is said (an edit this instance reloads in between drops it). */
  pending?: TaskDueRecord;
  saidAt?: number;
  unsaid: number;
}
/** At most one warning about a foreign due time per task this often (the others are counted in the next one). */
const FOREIGN_SAY_MS = 10 * 60_000;
/** Most due times one tick enqueues for one task; the rest wait for the next tick. */
const MAX_PER_TICK = 100;
/**
 * How often a disabled task's `paused` mark is renewed: after a crash, at most this much of the time it was disabled
 * may be counted as missed (a stop renews it at once).
 */
const PAUSE_MARK_MS = 30 * 60_000;

/** What a task's failures that repeat at every tick say, failing and once they end (`TaskScheduler.taskFailures`). */
const TASK_FAILURES = {
  // Refused runs: near the store quota.
  refused: (task: string) => ({
    failing: `service task ${task}: the store is near its quota (OKTELL_STORE_MAX_PAGES), the run is not enqueued; tried again at every tick`,
    recovered: `service task ${task}: runs are enqueued again`,
  }),
  // A disabled task's `paused` mark the store refuses.
  pauseMark: (task: string) => ({ failing: `service task ${task}: cannot record that the task is disabled; trying again`, recovered: `service task ${task}: its disabled mark is recorded again` }),
};

export class TaskScheduler {
  readonly counters = new Map<string, TaskCounters>();
  private readonly clock: { now(): number };
  private readonly startedAt: number;
  /** Where each task resumes: the last due time handled (claimed here or seen claimed in the store). */
  private readonly cursor = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: SchedulerOptions) {
    this.clock = o.clock ?? { now: () => Date.now() };
    this.startedAt = this.clock.now();
  }

  /** Ticks every `tickMs` until stopped. */
  start(): void {
    // A store that cannot be reached fails every tick (one a second): the first failure in full, then one line a
    // minute, and one line when a tick works again, not a warning with its stack every second of the outage.
    const failures = this.failureLog({ failing: 'service tasks: a tick failed; trying again', recovered: 'service tasks: ticks work again' });
    const loop = () => {
      if (this.stopped) return;
      this.ticking = this.tick()
        .then(
          () => failures.succeeded(),
          (e: unknown) => failures.failed(e),
        )
        .finally(() => {
          if (!this.stopped) (this.timer = setTimeout(loop, this.o.tickMs ?? 1000)).unref();
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    // Skipping that the next run would have summed up is summed up now, so its count is not lost with the process.
    for (const task of [...this.skipping.keys()]) this.skippedUntilNow(task, 'stopping');
    // The disabled time runs up to this stop: a start that finds the task enabled counts as missed only what came after.
    for (const t of this.o.tasks()) if (!t.enabled) await this.markPaused(t.name, true).catch((e: unknown) => this.o.logger.warn({ err: e, task: t.name }, 'cannot record that the task was disabled'));
  }

  /** Enqueues what is due now. Tests call it after moving their clock. */
  async tick(): Promise<void> {
    const all = this.o.tasks();
    this.noteDefinitions(all);
    // A disabled task resumes from when it is enabled again: what came due meanwhile is not "missed". The store keeps
    // a mark of it too (renewed every PAUSE_MARK_MS), for a start after a stop to see.
    for (const t of all) {
      if (t.enabled) this.pausedMarkAt.delete(t.name);
      else {
        // Disabled while skipping: summed up now, not when it is enabled and runs again, days later maybe.
        this.skippedUntilNow(t.name, 'disabled');
        this.cursor.set(t.name, this.clock.now());
        // A mark the store refuses now is tried again at the next tick; the enabled tasks go on meanwhile.
        // Throttled as the tick's own failures are: during an outage it fails at every tick (one a second).
        await this.markPaused(t.name, false).then(
          () => this.taskFailures(t.name, 'pauseMark').succeeded(),
          (e: unknown) => this.taskFailures(t.name, 'pauseMark').failed(e),
        );
      }
    }
    const tasks = all.filter((t) => t.enabled);
    if (tasks.length === 0) return;
    const stored = new Map((await this.o.store.lastTaskDues(tasks.map((t) => t.name))).map((r) => [r.task, r]));
    for (const task of tasks) {
      this.checkClaimedElsewhere(task, stored.get(task.name));
      await this.tickTask(task, stored.get(task.name));
    }
  }

  /** Per task: its schedule and zone as this process has them, since when, and the foreign due times seen. */
  private readonly definitions = new Map<string, ScheduleSeen>();
  /** When tick() last ran: an edit loaded since then counts from that moment. */
  private lastTickAt: number | undefined;

  /**
   * Notes each task's schedule and zone. One that an edit changed while this process runs, or a task added back after
   * it was removed, resumes from now, as a task enabled again does: the due times the new schedule would have had
   * before the edit never came due, so they are neither run (a daily task edited to run every second would otherwise
   * get the last minute's sixty due times at once) nor called missed. At the first tick nothing is reset: the due
   * times missed while no instance ran are the task's `missed:` policy's. (The cursor moves to the previous tick, so
   * a due time between that tick and this one, which may have come before the edit was loaded, is still run.)
   */
  private noteDefinitions(all: readonly ServiceTask[]): void {
    const now = this.clock.now();
    const names = new Set(all.map((t) => t.name));
    for (const name of this.definitions.keys()) if (!names.has(name)) this.definitions.delete(name);
    // A removed task's counters go with it here, where the removal is noticed: one added back counts from 0 again (a
    // counter reset, as a restart), whether or not /-/metrics was read in between.
    for (const name of [...this.counters.keys()]) if (!names.has(name)) this.counters.delete(name);
    // A removed task's skipping is summed up now: not at the next stop, nor by a task added back under its name later.
    for (const name of [...this.skipping.keys()]) if (!names.has(name)) this.skippedUntilNow(name, 'removed from the configuration');
    for (const t of all) {
      const key = `${t.schedule.text}\u0000${t.timeZone}`;
      const d = this.definitions.get(t.name);
      if (d?.key === key) continue;
      this.definitions.set(t.name, { key, since: now, unsaid: 0 });
      // From the previous tick, not from now: the edit came after it, and a due time since then (one the old and the
      // new schedule share, say) is still taken.
      if (this.lastTickAt !== undefined) this.cursor.set(t.name, Math.max(this.cursor.get(t.name) ?? -Infinity, this.lastTickAt));
    }
    this.lastTickAt = now;
  }

  /**
   * Instances sharing a store must agree on each task's schedule and zone: the store claims (task, due time), so two
   * instances with different due times (another cron, `every`, `timeZone`, or the server's zone from OKTELL_TZ) each
   * claim their own and the task runs at both. Nothing can tell which one is right, so this instance warns when the
   * latest claim of a task is a time that is not one of its own due times. Only a claim made while this instance had
   * its current schedule from SCHEDULE_SETTLE_MS before to SCHEDULE_SETTLE_MS after it counts: one made under an
   * earlier schedule, or by an instance that reloaded an edit a moment before this one, is no sign. Said once, then at
   * most once every ten minutes with the count of those not said.
   */
  private checkClaimedElsewhere(task: ServiceTask, stored: TaskDueRecord | undefined): void {
    const now = this.clock.now();
    const d = this.definitions.get(task.name);
    if (!d) return;
    if (stored && stored.kind !== 'paused' && stored.createdAt >= d.since + SCHEDULE_SETTLE_MS && stored.dueAt !== d.seen && task.schedule.next(stored.dueAt - 1) !== stored.dueAt) {
      d.seen = stored.dueAt;
      if (d.pending) d.unsaid++;
      else d.pending = stored;
    }
    const p = d.pending;
    if (!p || now < p.createdAt + SCHEDULE_SETTLE_MS) return;
    d.pending = undefined;
    if (d.saidAt !== undefined && now - d.saidAt < FOREIGN_SAY_MS) {
      d.unsaid++;
      return;
    }
    const more = d.unsaid ? ` (and ${d.unsaid} more such due time(s) since the last line)` : '';
    d.saidAt = now;
    d.unsaid = 0;
    const due = isoInZone(p.dueAt, task.timeZone);
    const next = nextDueTimes(task.schedule, now, 2).map((t) => isoInZone(t, task.timeZone));
    this.o.logger.warn(
      { task: task.name, claimedDueAt: due, kind: p.kind, schedule: task.schedule.text, timeZone: task.timeZone, next },
      `service task ${task.name}: another instance on this store claimed ${due} (${p.kind})${more}, which is not a due time of this instance's schedule (${task.schedule.text} in ${task.timeZone}; next here ${next.join(', ')}): ` +
        'the instances have different schedules or time zones for this task, and each runs it at its own due times, so it runs more often than configured; ' +
        'give every instance the same serviceTasks: entry and the same time zone (timeZone of the task, else timeZone of the configuration or OKTELL_TZ)',
    );
  }

  private async tickTask(task: ServiceTask, stored: TaskDueRecord | undefined): Promise<void> {
    const now = this.clock.now();
    // A task never run before starts from now: there is nothing it could have missed. A paused mark (the task was
    // disabled, here or on another instance) only keeps the disabled time from counting as missed: due times on time
    // are still taken, so an instance that has the task enabled loses none while another still has it disabled.
    const paused = stored?.kind === 'paused' ? stored.dueAt : -Infinity;
    const seenUpTo = this.cursor.get(task.name);
    const claimedUpTo = Math.max(paused === -Infinity ? (stored?.dueAt ?? -Infinity) : -Infinity, seenUpTo ?? (stored ? -Infinity : now));
    const from = Math.max(claimedUpTo, paused);
    this.cursor.set(task.name, claimedUpTo);
    // On time: due since this scheduler started (less two ticks, so an instance joining others does not call what
    // they were about to claim "missed"), and not older than lateAfterMs.
    const onTimeFrom = Math.max(this.startedAt - 2 * (this.o.tickMs ?? 1000), now - (this.o.lateAfterMs ?? 60_000));
    const c = this.count(task.name);
    // Due times another instance claimed on time since this one last looked came due here too: counted as due, as a
    // due time this instance tried to claim and found taken is, so every instance's due_total counts every due time.
    // (A catch-up or missed claim covers due times missed while no instance ran: the instance that claims it counts them.)
    const storedClaim = stored?.kind === 'due' || stored?.kind === 'skipped' ? stored.dueAt : undefined;
    // Another instance enqueued a run since this one last looked: this one's skipping ended there, said now (else it
    // waited for this instance's own next run, skip or stop, hours later when the other wins the claims).
    if ((stored?.kind === 'due' || stored?.kind === 'catch-up') && stored.dueAt > (seenUpTo ?? -Infinity)) this.skippedUntilNow(task.name, 'runs again (enqueued by another instance)');
    if (storedClaim !== undefined) c.due += dueTimesBetween(task, Math.max(seenUpTo ?? -Infinity, onTimeFrom - 1), Math.min(storedClaim, now));
    const { latest: latestMissed, count: missed, atLeast } = missedBetween(task, from, onTimeFrom);
    const onTime: number[] = [];
    for (let t = task.schedule.next(Math.max(claimedUpTo, onTimeFrom - 1)); t !== undefined && t <= now && onTime.length < MAX_PER_TICK; t = task.schedule.next(t)) onTime.push(t);
    try {
      if (latestMissed !== undefined) {
        // The catch-up run obeys `overlap: skip` as an on-time one does: after a restart the run the previous process
        // left unfinished is resumed, and is still queued or running when the catch-up comes due.
        const blocking = task.missed === 'once' ? await this.overlaps(task) : undefined;
        const kind: TaskDueKind = task.missed !== 'once' ? 'missed' : blocking ? 'skipped' : 'catch-up';
        // Counted and said once claimed: a claim the store refuses is tried again at the next tick, and one another
        // instance took first (two instances started together after a stop) is that instance's to count and say.
        // One line for the decision: a catch-up skipped for overlap is said here, with its due time, not by claim() too.
        if (await this.claim(task, latestMissed, kind, { quiet: true, blocking })) {
          c.missed += missed;
          const dueAt = isoInZone(latestMissed, task.timeZone);
          // The due time the catch-up covers (its parameter 1) is said, as `tasks` lists the run by when it was queued.
          const what = kind === 'catch-up' ? `one catch-up run, for the latest (due ${dueAt})` : kind === 'skipped' ? `no catch-up run (due ${dueAt}): the previous run is still going (overlap: skip)` : `skipped (missed: skip; the latest was due ${dueAt})`;
          this.o.logger.warn({ task: task.name, missed, policy: task.missed, dueAt, ...(kind === 'skipped' ? { overlap: task.overlap } : {}) }, `service task ${task.name}: ${atLeast ? 'more than ' : ''}${missed} due time(s) missed while not running; ${what}`);
        }
      }
      for (const t of onTime) {
        const blocking = await this.overlaps(task);
        await this.claim(task, t, blocking ? 'skipped' : 'due', { blocking });
        c.due++;
      }
    } catch (err) {
      // Near the store quota a run is refused as a hook request is (the room left is for the jobs already queued).
      // The due time stays unclaimed and is tried again at every tick; one that waits longer than lateAfterMs counts as
      // missed, so a long refusal ends in the task's missed policy, not in a run per due time.
      if (!(err instanceof StoreUnavailableError && err.reason === 'full')) throw err;
      this.taskFailures(task.name, 'refused').failed(err);
    }
  }

  /**
   * Per task and kind of failure that repeats at every tick (`TASK_FAILURES`): logged once in full, then one line a
   * minute, and once when it ends.
   */
  private readonly taskFailureLogs = new Map<string, FailureLog>();

  private taskFailures(task: string, kind: keyof typeof TASK_FAILURES): FailureLog {
    const key = `${kind} ${task}`;
    let log = this.taskFailureLogs.get(key);
    if (!log) this.taskFailureLogs.set(key, (log = this.failureLog(TASK_FAILURES[kind](task))));
    return log;
  }

  /** A failure that repeats at every tick, logged once in full, then one line a minute, and once when it ends. */
  private failureLog(message: { failing: string; recovered: string }): FailureLog {
    return repeatingFailureLog(this.o.logger, message, 60_000, () => this.clock.now());
  }

  /** When this scheduler last left a `paused` mark for each disabled task. */
  private readonly pausedMarkAt = new Map<string, number>();

  private async markPaused(task: string, always: boolean): Promise<void> {
    const now = this.clock.now();
    if (!always && now - (this.pausedMarkAt.get(task) ?? -Infinity) < PAUSE_MARK_MS) return;
    // At the last millisecond of the second before: never a due time (schedules are whole seconds), never ahead of now.
    await this.o.store.claimTaskDue({ task, dueAt: Math.floor(now / 1000) * 1000 - 1, kind: 'paused', job: null });
    this.pausedMarkAt.set(task, now);
  }

  /**
   * Per `overlap: skip` task, the due times this instance skipped since its last run started, for one line when
   * skipping starts and one when the task runs again (not a line per due time: a run retried for hours skips hundreds).
   */
  private readonly skipping = new Map<string, { first: number; last: number; count: number; zone: string; run: string; jobId?: string }>();

  /**
   * Claims one due time; enqueues its run unless the kind says none. False when another claim had it first. `quiet`:
   * the start of skipping is not logged here (the caller's line says it). `blocking`: the run a skip waits for.
   */
  private async claim(task: ServiceTask, dueAt: number, kind: TaskDueKind, o: { quiet?: boolean; blocking?: JobRecord } = {}): Promise<boolean> {
    const job = kind === 'due' || kind === 'catch-up' ? taskJob(task, dueAt, kind, this.o.substrBase) : null;
    const r = await this.o.store.claimTaskDue({ task: task.name, dueAt, kind, job });
    this.cursor.set(task.name, dueAt);
    if (!r.claimed) {
      // Another instance enqueued the run of this due time: this one's skipping ended too, said now (else it waited
      // for this instance's next run, skip or stop, hours later when the other wins the claims).
      if (kind === 'due' || kind === 'catch-up') this.skippedUntilNow(task.name, 'runs again (enqueued by another instance)');
      return false; // another instance (or an earlier life of this one) handled it
    }
    const c = this.count(task.name);
    if (r.jobId) {
      this.taskFailures(task.name, 'refused').succeeded();
      c.started++;
      const errors = paramErrorsOf(job?.trigger);
      if (errors) this.o.logger.warn({ task: task.name, jobId: r.jobId, paramErrors: errors }, `service task ${task.name}: some parameters could not be computed and are empty`);
      this.skippedUntilNow(task.name, 'runs again');
      this.o.logger.info({ task: task.name, dueAt: isoInZone(dueAt, task.timeZone), jobId: r.jobId, kind }, `service task ${task.name}: run enqueued`);
    } else if (kind === 'skipped') {
      c.skipped++;
      // Skipping for another run than before (the one waited for ended, and a run another instance started is going):
      // the first streak is summed up and a new one starts.
      if (o.blocking && this.skipping.get(task.name)?.jobId !== undefined && this.skipping.get(task.name)?.jobId !== o.blocking.id) this.skippedUntilNow(task.name, 'the run waited for ended');
      const streak = this.skipping.get(task.name);
      if (streak) {
        streak.last = dueAt;
        streak.count++;
      } else {
        const job = o.blocking;
        const runDue = (job?.trigger as { dueAt?: unknown } | null | undefined)?.dueAt;
        const run = job ? `the run of ${typeof runDue === 'string' ? runDue : isoInZone(job.createdAt, task.timeZone)} (job ${job.id}, ${job.status})` : 'the previous run';
        this.skipping.set(task.name, { first: dueAt, last: dueAt, count: 1, zone: task.timeZone, run, ...(job ? { jobId: job.id } : {}) });
        if (!o.quiet) this.o.logger.info({ task: task.name, dueAt: isoInZone(dueAt, task.timeZone), ...(job ? { jobId: job.id } : {}) }, `service task ${task.name}: ${run} is still going; due times are skipped until it ends, from ${isoInZone(dueAt, task.timeZone)} (overlap: skip)`);
      }
    }
    return true;
  }

  /** The one line that ends a task's skipping (`skipping`): how many due times it skipped, the first and the last. */
  private skippedUntilNow(task: string, why: string): void {
    const streak = this.skipping.get(task);
    if (!streak) return;
    this.skipping.delete(task);
    const [first, last] = [isoInZone(streak.first, streak.zone), isoInZone(streak.last, streak.zone)];
    const which = streak.count === 1 ? `(${first})` : `(${first} … ${last})`;
    this.o.logger.info({ task, skipped: streak.count, first, last }, `service task ${task}: ${why}; ${streak.count} due time(s) skipped ${which} while ${streak.run} was going (overlap: skip)`);
  }

  /**
   * With `overlap: skip`: the task's last run when it is still queued or running (else undefined). A run waiting for a retry is queued:
   * it counts, until it succeeds or runs out of attempts.
   */
  private async overlaps(task: ServiceTask): Promise<JobRecord | undefined> {
    if (task.overlap !== 'skip') return undefined;
    const [last] = await this.o.store.lastTaskDues([task.name]);
    const job = await this.scheduledRun(task, last);
    return job?.status === 'queued' || job?.status === 'running' ? job : undefined;
  }

  /**
   * The task's latest scheduled run: the store's latest due record names it (another instance may have started it);
   * where that record has no job (a skipped or paused due time), the newest scheduled job in the store, which a
   * process that did not start it (a restarted server, another instance, the CLI) finds as well as the one that did,
   * however many manual runs (`tasks run`, the console's Run now) were queued after it.
   */
  private async scheduledRun(task: ServiceTask, last: TaskDueRecord | undefined): Promise<JobRecord | undefined> {
    if (last?.jobId) return (await this.o.store.getJob(last.jobId)) ?? undefined;
    return this.o.store.latestScheduledJob(task.name);
  }

  /** For the listing: the run an `overlap: skip` task's due times are skipped for, as overlaps() finds it. */
  private async blockingRun(task: ServiceTask, last: TaskDueRecord | undefined): Promise<TaskBlockingRun | undefined> {
    if (task.overlap !== 'skip') return undefined;
    const job = await this.scheduledRun(task, last);
    if (!job || (job.status !== 'queued' && job.status !== 'running')) return undefined;
    const dueAt = (job.trigger as { dueAt?: unknown } | null)?.dueAt;
    return {
      jobId: job.id,
      dueAt: typeof dueAt === 'string' ? dueAt : isoInZone(job.createdAt, task.timeZone),
      status: job.status,
      attempts: job.attempts,
      maxAttempts: job.maxAttempts,
      ...(job.status === 'queued' && job.attempts > 0 ? { nextAttemptAt: isoInZone(job.nextRunAt, task.timeZone) } : {}),
    };
  }

  has(name: string): boolean {
    return this.o.tasks().some((t) => t.name === name);
  }

  /** Starts the task now, outside its schedule (a normal job, marked manual). Returns the job id. */
  async runNow(name: string): Promise<string> {
    return (await this.startManual(name)).jobId;
  }

  /** As runNow, and says which parameters could not be computed: the run is queued with them empty, as a due one. */
  async startManual(name: string): Promise<ManualRun> {
    const task = this.o.tasks().find((t) => t.name === name);
    if (!task) throw new Error(`no service task named "${name}"`);
    const job = taskJob(task, this.clock.now(), 'manual', this.o.substrBase);
    const [jobId] = await this.o.store.enqueueJobs([job]);
    this.count(name).started++;
    const paramErrors = paramErrorsOf(job.trigger);
    if (paramErrors) this.o.logger.warn({ task: name, jobId, paramErrors }, `service task ${name}: some parameters could not be computed and are empty`);
    return { task: name, jobId: jobId!, ...(paramErrors ? { paramErrors } : {}) };
  }

  async status(): Promise<TaskStatus[]> {
    const tasks = this.o.tasks();
    const last = new Map((await this.o.store.lastTaskDues(tasks.map((t) => t.name))).map((r) => [r.task, r]));
    const now = this.clock.now();
    return Promise.all(
      tasks.map(async (t): Promise<TaskStatus> => {
        const l = last.get(t.name);
        const job = l?.jobId ? await this.o.store.getJob(l.jobId) : undefined;
        // By the task's name, not its scenario: after a change of `scenario:` the runs of the old one are still its
        // runs, and the jobs other starters made of its scenario cannot hide them.
        const [run] = (await this.o.store.listJobs({ task: t.name, limit: 1 })).items;
        const runErrors = run && paramErrorsOf(run.trigger);
        const skippingFor = await this.blockingRun(t, l);
        return {
          name: t.name,
          scenario: t.scenario,
          schedule: t.schedule.text,
          timeZone: t.timeZone,
          enabled: t.enabled,
          missed: t.missed,
          overlap: t.overlap,
          next: t.enabled ? nextDueTimes(t.schedule, now, 3).map((d) => isoInZone(d, t.timeZone)) : [],
          last: l ? { task: l.task, kind: l.kind, jobId: l.jobId, dueAt: isoInZone(l.dueAt, t.timeZone), jobStatus: job?.status ?? null } : null,
          lastRun: run ? lastRunOf(run, t.timeZone, runErrors) : null,
          ...(skippingFor ? { skippingFor } : {}),
        };
      }),
    );
  }

  /**
   * Prometheus lines: due, started, skipped and missed runs per task. A task an edit removed has no series from then on:
   * a scrape before the next tick leaves it out, and that tick drops its counters (noteDefinitions), so one added back
   * under that name counts from 0 again (a counter reset, as a restart). Reading the page changes nothing.
   */
  metricLines(): string[] {
    const names = new Set(this.o.tasks().map((t) => t.name));
    const shown = [...this.counters].filter(([task]) => names.has(task));
    const lines: string[] = [];
    for (const k of ['due', 'started', 'skipped', 'missed'] as const) {
      lines.push(`# HELP oktell_service_task_${k}_total Service task runs ${HELP[k]}.`, `# TYPE oktell_service_task_${k}_total counter`);
      for (const [task, c] of shown) lines.push(`oktell_service_task_${k}_total{task="${task}"} ${c[k]}`);
    }
    return lines;
  }

  private count(task: string): TaskCounters {
    let c = this.counters.get(task);
    if (!c) this.counters.set(task, (c = { due: 0, started: 0, skipped: 0, missed: 0 }));
    return c;
  }
}

const HELP = {
  due: 'that came due while this instance was running',
  started: 'enqueued by this instance (due, catch-up and manual)',
  skipped: 'not started because the previous run was still going (overlap: skip)',
  missed: 'due while no instance was running',
};

/** Due times counted one by one after a stop; past this many, only the latest is looked for. */
const MAX_WALK = 10_000;
/** Where the latest missed due time is looked for when a stop was too long to walk: the last hour, day, month, year. */
const LOOK_BACK = [3_600_000, 86_400_000, 31 * 86_400_000, 366 * 86_400_000];

/**
 * The due times in (from, until): how many, and the latest. A week's stop of a one-second task is not walked
 * second by second: past MAX_WALK the count stops (`atLeast`) and the latest is found from a look-back window.
 */
export function missedBetween(task: ServiceTask, from: number, until: number): { latest: number | undefined; count: number; atLeast: boolean } {
  const next = (t: number) => task.schedule.next(t);
  let latest: number | undefined;
  let count = 0;
  for (let t = next(from); t !== undefined && t < until; t = next(t)) {
    latest = t;
    if (++count >= MAX_WALK) break;
  }
  if (count < MAX_WALK || latest === undefined) return { latest, count, atLeast: false };
  let start = latest;
  for (const back of LOOK_BACK) {
    if (until - back <= latest) break;
    const first = next(until - back);
    if (first !== undefined && first < until) {
      start = until - back;
      break;
    }
  }
  for (let t = next(start); t !== undefined && t < until; t = next(t)) latest = t;
  return { latest, count, atLeast: true };
}

/** How many due times of the task fall in (after, upTo]; at most MAX_PER_TICK, as one tick would claim. */
function dueTimesBetween(task: ServiceTask, after: number, upTo: number): number {
  let n = 0;
  for (let t = task.schedule.next(after); t !== undefined && t <= upTo && n < MAX_PER_TICK; t = task.schedule.next(t)) n++;
  return n;
}

/** A task's newest job as `status` shows it; a queued job with attempts behind it is one being retried. */
function lastRunOf(run: JobRecord, zone: string, paramErrors: ParamErrors | undefined): TaskLastRun {
  const code = (run.lastError as { code?: unknown } | null)?.code;
  const kind = String((run.trigger as { kind?: unknown }).kind);
  const dueAt = (run.trigger as { dueAt?: unknown }).dueAt;
  return {
    jobId: run.id,
    kind,
    ...(kind !== 'manual' && typeof dueAt === 'string' ? { dueAt } : {}),
    status: run.status,
    createdAt: isoInZone(run.createdAt, zone),
    finishedAt: run.finishedAt === null ? null : isoInZone(run.finishedAt, zone),
    ...(paramErrors ? { paramErrors } : {}),
    attempts: run.attempts,
    maxAttempts: run.maxAttempts,
    ...(run.status === 'queued' && run.attempts > 0 ? { nextAttemptAt: isoInZone(run.nextRunAt, zone) } : {}),
    ...(typeof code === 'string' ? { lastErrorCode: code } : {}),
    lastRunId: run.lastRunId,
  };
}

/** The service task a job's trigger names (`taskJob` writes it), or undefined for a job no task started. */
export function taskNameOf(trigger: unknown): string | undefined {
  const task = (trigger as { task?: unknown } | null | undefined)?.task;
  return typeof task === 'string' ? task : undefined;
}

/** The parameters a task's job got empty because they failed (`paramErrors` of its trigger), if any. */
export function paramErrorsOf(trigger: unknown): ParamErrors | undefined {
  const errors = (trigger as { paramErrors?: unknown } | null | undefined)?.paramErrors;
  return errors && typeof errors === 'object' && Object.keys(errors).length ? (errors as ParamErrors) : undefined;
}

/**
 * The job of one run: parameter 1 is the due time (ISO 8601 in the task's zone) unless the task sets it; the task's
 * parameter expressions see the due time as `Now()` and as `InputParameter(1)`.
 */
export function taskJob(task: ServiceTask, dueAt: number, kind: TaskDueKind | 'manual', substrBase: 0 | 1 = 0): NewJob {
  const due = isoInZone(dueAt, task.timeZone);
  const ctx: EvalContext = { getVariable: () => '', inputParameter: (n) => (n === 1 ? due : ''), now: () => new Date(dueAt), timeZone: task.timeZone, substrBase };
  const params: Record<string, string> = { '1': due };
  // A parameter that fails (e.g. a text that is not a date) is passed empty and named in the trigger: the run still
  // starts, and the failure stays visible on its job instead of stopping the task's schedule.
  const paramErrors: Record<string, string> = {};
  for (const [n, e] of Object.entries(task.params)) {
    try {
      params[n] = toText(e.evaluate(ctx), task.timeZone);
    } catch (err) {
      params[n] = '';
      paramErrors[n] = (err as Error).message;
    }
  }
  return { scenario: task.scenario, params, trigger: { task: task.name, dueAt: due, kind, ...(Object.keys(paramErrors).length ? { paramErrors } : {}) } };
}
