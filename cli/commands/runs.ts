// `oktell-emu runs`, `show` and `replay`: look at recorded runs and send failed or dead jobs back to the queue.
import pc from 'picocolors';
import { endNotCounted, RUN_STATUSES, type JobRecord, type JobState, type JobStatus, type RunRecord, type RunStatus, type RunSummary, type Store } from '../../server/store/store.port.js';
import { jobRunTrigger } from '../../server/run-record.js';
import { dataDirArg, oneOf, storeSettings, shellWord, UsageError } from '../config.js';
import { cutOffNote, noServerNote } from '../server-file.js';
import { isoInZone } from '../../server/tasks/schedule.js';
import { quotedUnknownZone, recordedZone } from '../testing/from-run.js';
import { withStore } from '../store.js';
import { CLAIMED_STATE, cancelRequestNote, cancelRequestText, deadRunIds, inProgressRun, listedStatus, wasCancelled } from '../../server/run-status.js';
import { taskOriginText, withTaskOrigins, type TaskOrigin } from '../task-origin.js';
import { someOf } from '../../engine/suggest.js';
import { closest, formatRunError, RUN_ERROR_CODES, type BpiumCallRecord } from '../../engine/index.js';
import { dbCallsOf } from '../../server/console/db-calls.js';
import { httpCallsOf } from '../../server/console/http-calls.js';
import { effectsInOrder } from '../../server/console/effect-order.js';
import { bpiumCallNote } from '../../server/console/call-notes.js';
import { dbCallLine, httpCallLine, printNote, printWarning, shownValue, terminalText } from '../format.js';
import { storedChanged, storedReturnValues } from '../../server/stored-values.js';
import { isTraceNotKeptStep, traceNotKeptNotes, traceNotKeptOf, traceNotKeptText } from '../../server/trace-setting.js';
import { fitColumns, padEndColumns, padStartColumns } from '../text-width.js';
import { REFUSED_BEFORE_SENDING, refusedBeforeSending, runOutcomeText } from '../../server/run-outcome.js';
import { startedJobs } from '../../server/started-jobs.js';
import { catchAllJobNamed } from '../../server/store/dead-letter.js';
import { checkWherePath, DEFAULT_SCAN, MAX_SCAN, parseWhere, scanForRuns, type FieldMatch, type RunSearch } from '../../server/run-search.js';
import { deliveryKeyAsked, deliveryNotFoundWhy, findDeliveries, type DeliveryAsked } from '../../server/delivery-lookup.js';

/** Accepts an ISO time or a duration back from now: 30m, 2h, 7d. */
export function parseSince(v: string): number {
  const m = /^(\d+)\s*(s|m|h|d)$/.exec(v.trim());
  if (m) return Date.now() - Number(m[1]) * { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[m[2] as 's'];
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new UsageError(`--since ${v}: expected a time (2026-11-28T10:00) or a duration (30m, 2h, 7d)`);
  return t;
}

export async function runsAction(o: { status?: string; scenario?: string; since?: string; limit?: string; grep?: string; where?: string; scan?: string; json?: boolean; dataDir?: string; config?: string }): Promise<void> {
  const limit = Number(o.limit ?? '50');
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit takes a number from 1 to 1000');
  if (o.status) oneOf('--status', o.status, [...RUN_STATUSES, 'dead', 'queued']);
  const since = o.since ? parseSince(o.since) : undefined;
  const search = runSearchOf(o);
  if (search && (o.status === 'queued' || o.status === 'dead' || o.status === 'running')) throw new UsageError(`--grep and --where search recorded runs: --status ${o.status} lists jobs without a run of their own to search; use --status completed or failed, or none`);
  if (o.status === 'queued') return queuedAction(o, limit, since);
  let scanNote: string | undefined;
  let nothing = 'no runs recorded yet';
  let zone = '';
  let cutOff: string | undefined;
  const rows = await withStore(o, async (store, config) => {
    zone = config.timeZone;
    let matching: RunRow[];
    if (search) {
      const found = await searchRuns(store, o, search, limit, since);
      matching = found.rows;
      scanNote = found.note;
    } else matching = await listMatching(store, o, limit, since);
    const listed = await withTaskOrigins(store, matching);
    // What each recorded run did (its letters, its return values), read for this page in one query.
    const outcomes = await store.runOutcomes(listed.flatMap((r) => (r.id ? [r.id] : [])));
    const found: Array<(typeof listed)[number] & { outcome?: string }> = listed.map((r) => {
      const src = r.id ? outcomes.get(r.id) : undefined;
      return src ? { ...r, outcome: runOutcomeText(src) } : r;
    });
    if (!found.length) nothing = search ? `no run matches ${searchWords(o)}` : await noMatch(store, o);
    // Jobs the store says are running while no server holds the folder: a killed server's, resumed at the next start.
    if (found.some((r) => r.inProgress)) cutOff = cutOffNote(config, dataDirArg(config.dataDir));
    return cutOff ? found.map((r) => (r.inProgress ? { ...r, cutOff: true as const } : r)) : found;
  }, () => [] as Array<RunRow & { task?: TaskOrigin; cutOff?: true; outcome?: string }>);
  if (o.json) {
    // `fate` is the text form's mark; `jobStatus` says the same to a script. A row with no run recorded (a job's attempt
    // still running, a job cancelled before its first run) has the id null: there is no run to `show`, and an empty
    // string would read as an id.
    process.stdout.write(`${JSON.stringify(rows.map(({ fate: _fate, ...r }) => ({ ...r, id: r.id === '' ? null : r.id })))}\n`);
    return;
  }
  if (!rows.length) {
    process.stdout.write(`${terminalText(nothing, true)}\n`);
    if (scanNote) printNote(scanNote);
    return;
  }
  process.stdout.write(`${pc.dim(runColumns('started', 'status', 'scenario', 'trigger', 'duration'))}  run\n`);
  // Times in the server's zone (OKTELL_TZ, timeZone:), as the console and `tasks` show them.
  for (const r of rows) {
    const status = r.dead ? 'dead' : r.status;
    const colour = status === 'completed' ? pc.green : status === 'failed' || status === 'dead' ? pc.red : pc.yellow;
    const started = isoInZone(r.startedAt, zone);
    if (r.inProgress) {
      const requested = r.cancelRequested ? ` ${pc.yellow(`(${terminalText(cancelRequestText({ cancelRequest: r.cancelRequested }))}: it stops at its next block boundary)`)}` : '';
      const note = ('cutOff' in r ? pc.yellow('(cut off: no server is running; the next start resumes it)') : pc.dim('(claimed by a worker: in progress, or claimed ahead and waiting for a free slot; its run is recorded when the attempt ends)')) + requested;
      process.stdout.write(`${runColumns(started, status, terminalText(r.scenario), r.trigger, '', colour)}  job ${r.jobId} #${r.attempt} ${note}\n`);
      continue;
    }
    const duration = r.id ? `${r.durationMs ?? ''} ms` : '';
    // A completed attempt whose end the store refused (its lease lost to a takeover): said so, not as an error code.
    const error = r.cancelled ? ` ${pc.red(RUN_ERROR_CODES.CANCELLED)} ${pc.dim(r.id ? 'cancelled by an operator' : 'cancelled by an operator before its first run')}` : endNotCounted(r) ? ` ${pc.yellow('(lease lost: not counted)')}` : r.error ? ` ${pc.red(terminalText(String((r.error as { code?: string }).code ?? '')))}` : '';
    process.stdout.write(`${runColumns(started, status, terminalText(r.scenario), r.task ? 'task' : r.trigger, duration, endNotCounted(r) ? pc.yellow : colour)}  ${r.id}${r.jobId ? pc.dim(` job ${r.jobId} #${r.attempt}`) : ''}${error}${r.mayRepeat ? ` ${pc.yellow('may repeat')}` : ''}${r.task ? ` ${taskOriginText(r.task)}` : ''}${r.fate ? ` ${fateText(r.fate, zone)}` : ''}${outcomeColumn(r.outcome)}\n`);
  }
  if (cutOff) printNote(cutOff);
  if (scanNote) printNote(scanNote);
}

/** The search `--grep` / `--where` ask for, checked; none without either. */
function runSearchOf(o: { grep?: string; where?: string; scan?: string }): (RunSearch & { scan: number }) | undefined {
  if (o.grep === undefined && o.where === undefined) {
    if (o.scan !== undefined) throw new UsageError('--scan bounds a search: give it with --grep or --where');
    return undefined;
  }
  const scan = Number(o.scan ?? DEFAULT_SCAN);
  if (!Number.isInteger(scan) || scan < 1 || scan > MAX_SCAN) throw new UsageError(`--scan takes a number from 1 to ${MAX_SCAN}`);
  if (o.grep !== undefined && o.grep.trim() === '') throw new UsageError('--grep takes a text to look for (it is not empty)');
  let field: FieldMatch | undefined;
  try {
    if (o.where !== undefined) {
      field = parseWhere(o.where);
      checkWherePath(field);
    }
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return { scan, ...(o.grep !== undefined ? { text: o.grep } : {}), ...(field ? { field } : {}) };
}

/** How the search is written back to the user (`no run matches --grep "…"`). */
function searchWords(o: { grep?: string; where?: string; status?: string; scenario?: string; since?: string }): string {
  return [o.grep !== undefined && `--grep ${shellWord(o.grep)}`, o.where !== undefined && `--where ${shellWord(o.where)}`, o.status && `--status ${o.status}`, o.scenario && `--scenario ${shellWord(o.scenario)}`, o.since && `--since ${o.since}`].filter(Boolean).join(' ');
}

/**
 * `runs --grep` / `--where`: the newest `scan` runs the other filters select are read a page at a time and searched
 * (run-search.ts), until `limit` match; the note says how many were read when more were left unread, and how to
 * reach them.
 */
async function searchRuns(store: Store, o: RunsFilter, s: RunSearch & { scan: number }, limit: number, since: number | undefined): Promise<{ rows: RunRow[]; note?: string }> {
  const scan = await scanForRuns(store, { ...(o.status ? { status: o.status as RunStatus } : {}), ...(o.scenario ? { scenario: o.scenario } : {}), ...(since ? { since } : {}) }, s, { scan: s.scan, limit });
  const items = scan.found;
  const states = await store.jobStates([...new Set(items.flatMap((r) => (r.jobId ? [r.jobId] : [])))]);
  const deadIds = await deadRunIds(store, items, states);
  const rows = items.map((r): RunRow => {
    const job = r.jobId ? states.get(r.jobId) : undefined;
    const dead = listedStatus(r, deadIds) === 'dead';
    const fate = fateOf(r, job, dead);
    return { ...summary(r), ...(dead ? { dead: true as const } : {}), ...(job ? { jobStatus: job.status } : {}), ...(fate ? { fate } : {}) };
  });
  const back = scan.oldestReadAt !== undefined ? `searched the last ${scan.read} run(s)${o.since ? ` since ${o.since}` : ''}, back to ${new Date(scan.oldestReadAt).toISOString()}` : undefined;
  const note = !back || !scan.unread
    ? undefined
    : scan.stoppedBy === 'limit'
      ? `${back}, and stopped at the ${limit} newest match(es); older ones were not searched: -n lists more (up to 1000), --scenario, --status or --since narrow the runs read`
      : `${back}; older ones were not searched: --scan reads more (up to ${MAX_SCAN}), --scenario, --status or --since narrow the runs read`;
  return { rows, ...(note ? { note } : {}) };
}

/** The terminal columns a run's outcome takes at the end of its `runs` line; longer ones are cut with `…`. */
export const OUTCOME_COLUMNS = 60;

/**
 * A run's outcome (run-outcome.ts) at the end of its line, after a dim `·`: escaped (it is webhook data, a return
 * value or a recipient), and cut to OUTCOME_COLUMNS, so a long one does not wrap the list. None when it is empty.
 */
export function outcomeColumn(outcome: string | undefined): string {
  if (!outcome) return '';
  return ` ${pc.dim('·')} ${fitColumns(terminalText(outcome), OUTCOME_COLUMNS).trimEnd()}`;
}

/**
 * What became of the job of a failed attempt, for the end of its line: a failure that was retried and then delivered
 * reads differently from one still waiting, and the last attempt of a job that failed for good (not retried:
 * R_SCENARIO_CHANGED, a scenario error, a refused address) says that it waits for a replay, as `dead` says it of a
 * dead letter's. The earlier attempts of either were retried: `→ retried, failed for good later`, `→ retried, dead later`.
 */
type Fate = { job: JobStatus; last: boolean; nextRunAt: number };

function fateText(f: Fate, zone: string): string {
  if (f.job === 'succeeded') return pc.green('→ succeeded later');
  // Only the job's last attempt stopped it (failed for good, or made it a dead letter); an earlier one was retried
  // (user trial: attempt #1 read `→ dead`, and `→ failed for good` the same way, as if it had stopped the job).
  if (f.job === 'failed') return pc.red(f.last ? '→ failed for good, waits for a replay' : '→ retried, failed for good later');
  if (f.job === 'dead') return pc.red(f.last ? '→ dead' : '→ retried, dead later');
  if (f.job === 'running') return pc.yellow('→ running again');
  // An earlier attempt of a job waiting for its next one: it was retried (the job's last attempt says when next).
  return pc.yellow(f.last ? `→ retry at ${isoInZone(f.nextRunAt, zone)}` : '→ retried');
}

/** The fate of a run's job, for a failed attempt; none for the last run of a dead letter (its status says `dead`). */
function fateOf(r: Pick<RunSummary, 'id' | 'status'>, job: JobState | undefined, dead: boolean): Fate | undefined {
  if (!job || dead || r.status !== 'failed') return undefined;
  return { job: job.status, last: job.lastRunId === r.id, nextRunAt: job.nextRunAt };
}


/**
 * The fixed columns of a `runs` line (and of its header): each padded before it is coloured, so the escape codes of a
 * terminal do not shift the columns after it; padded by terminal columns (a CJK character or an emoji of a scenario
 * name takes two), not code units. `started` is as wide as a time with its offset (2026-12-02T11:11:23+03:00).
 */
export function runColumns(started: string, status: string, scenario: string, trigger: string, duration: string, colour: (s: string) => string = (s) => s): string {
  return `${padEndColumns(started, 25)}  ${colour(padEndColumns(status, 9))}  ${padEndColumns(scenario, 20)}  ${padEndColumns(trigger, 7)}  ${padStartColumns(duration, 11)}`;
}

type RunsFilter = { status?: string; scenario?: string; since?: string };
/** `inProgress`: a job running now, whose run is recorded only when its attempt ends (`id` is then empty). */
type RunRow = ReturnType<typeof summary> & { dead?: true; inProgress?: true; jobStatus?: JobStatus; fate?: Fate; cancelled?: unknown; cancelRequested?: { by: string; at: number } };

/**
 * Jobs running now, as rows: their attempt's run is written when it ends, so `listRuns` cannot show them yet. The
 * start is when the attempt was claimed (not `updatedAt`, which every lease renewal moves).
 */
async function runningJobs(store: Store, o: RunsFilter, limit: number, since: number | undefined): Promise<RunRow[]> {
  const jobs = await store.listJobs({ status: 'running', limit, ...(o.scenario ? { scenario: o.scenario } : {}) });
  return jobs.items
    .filter((j) => !since || (j.claimedAt ?? j.updatedAt) >= since)
    .map((j) => ({ ...summary(inProgressRun(j)), inProgress: true as const, jobStatus: j.status, ...(j.cancelRequest ? { cancelRequested: j.cancelRequest } : {}) }));
}

/** Newest started first, then the greater id, as the store lists runs (started_at DESC, id DESC). */
function newestStarted(a: { startedAt: number; id: string }, b: { startedAt: number; id: string }): number {
  return b.startedAt - a.startedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** The runs the filter selects, newest first; the last run of a dead-lettered job is marked `dead`. */
async function listMatching(store: Store, o: RunsFilter, limit: number, since: number | undefined): Promise<RunRow[]> {
  if (o.status === 'dead') {
    const jobs = await store.listJobs({ status: 'dead', limit, ...(o.scenario ? { scenario: o.scenario } : {}) });
    const runs: RunRow[] = [];
    for (const j of jobs.items) {
      const r = j.lastRunId ? await store.getRun(j.lastRunId) : undefined;
      // A job cancelled by an operator says so (its last run, if any, failed for another reason, which it keeps).
      const cancelled = wasCancelled(j) ? { cancelled: j.lastError } : {};
      if (r && (!since || r.startedAt >= since)) runs.push({ ...summary(r), dead: true, jobStatus: j.status, ...cancelled });
      // One cancelled before its first run has none: listed by itself, at the time it was cancelled.
      else if (!r && !j.lastRunId && (!since || (j.finishedAt ?? j.updatedAt) >= since)) {
        runs.push({ ...summary({ ...inProgressRun(j), status: 'failed', startedAt: j.finishedAt ?? j.updatedAt, error: j.lastError }), dead: true, jobStatus: j.status, ...cancelled });
      }
    }
    // The jobs come newest queued first; the lines show when each one's last run started, so they are put in that order.
    return runs.sort(newestStarted);
  }
  const page = await store.listRuns({ limit, ...(o.status ? { status: o.status as RunStatus } : {}), ...(o.scenario ? { scenario: o.scenario } : {}), ...(since ? { since } : {}) });
  // What became of each run's job, in one query: a failed run whose job then died reads "failed" like an attempt that
  // will be retried, so it is marked as the console does; the other failed attempts say what their job became.
  const states = await store.jobStates([...new Set(page.items.flatMap((r) => (r.jobId ? [r.jobId] : [])))]);
  const withJob = (r: RunSummary): RunRow => {
    const job = r.jobId ? states.get(r.jobId) : undefined;
    const dead = listedStatus(r, deadIds) === 'dead';
    const fate = fateOf(r, job, dead);
    return { ...summary(r), ...(dead ? { dead: true as const } : {}), ...(job ? { jobStatus: job.status } : {}), ...(fate ? { fate } : {}) };
  };
  const deadIds = await deadRunIds(store, page.items, states);
  if (o.status === 'running') {
    const recorded = page.items.map(withJob);
    const jobs = (await runningJobs(store, o, limit, since)).filter((j) => !recorded.some((r) => r.jobId === j.jobId && r.attempt === j.attempt));
    return [...jobs, ...recorded].sort(newestStarted).slice(0, limit);
  }
  return page.items.map(withJob);
}

/** A queued job, as `runs --status queued` lists it: waiting for its first run, a retry, or a replay. */
type QueuedRow = {
  jobId: string;
  scenario: string;
  trigger: string;
  status: 'queued';
  attempts: number;
  maxAttempts: number;
  nextRunAt: number;
  createdAt: number;
  lastRunId: string | null;
  error: unknown;
  replayCount: number;
  waits: 'first run' | 'retry' | 'replay';
};

/** What a queued job waits for: a retry when an attempt of it failed (or was cut off), else its first run or a replay. */
function waitsFor(j: JobRecord): QueuedRow['waits'] {
  if (j.lastError !== null && j.lastError !== undefined && j.attempts > 0) return 'retry';
  if (j.lastError !== null && j.lastError !== undefined && j.replayCount === 0) return 'retry';
  return j.replayCount > 0 ? 'replay' : 'first run';
}

/**
 * `runs --status queued`: the jobs waiting, soonest due first (up to the limit), with their attempts so far, their next attempt's time
 * and the error their last attempt ended with. A job has no run while it waits, so these are jobs, not runs; what
 * server.md asks to check before renaming effect blocks (no job waits for a retry).
 */
async function queuedAction(o: { scenario?: string; since?: string; json?: boolean; dataDir?: string; config?: string }, limit: number, since: number | undefined): Promise<void> {
  let zone = '';
  let total = 0;
  const rows = await withStore(o, async (store, config) => {
    zone = config.timeZone;
    const jobs = await store.queuedJobs({ limit, ...(o.scenario ? { scenario: o.scenario } : {}), ...(since ? { since } : {}) });
    total = (await store.counts()).jobs.queued;
    return jobs.map((j): QueuedRow => ({
        jobId: j.id, scenario: j.scenario, trigger: jobRunTrigger(j), status: 'queued', attempts: j.attempts, maxAttempts: j.maxAttempts,
        nextRunAt: j.nextRunAt, createdAt: j.createdAt, lastRunId: j.lastRunId, error: j.lastError, replayCount: j.replayCount, waits: waitsFor(j),
      }));
  }, () => [] as QueuedRow[]);
  if (o.json) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
    return;
  }
  if (!rows.length) {
    const filter = [o.scenario && `--scenario ${o.scenario}`, o.since && `--since ${o.since}`].filter(Boolean).join(' ');
    process.stdout.write(filter ? `no queued job matches ${filter} (${total} job(s) queued in all)\n` : 'no job is queued: none waits for a first run, a retry or a replay\n');
    return;
  }
  process.stdout.write(`${pc.dim(runColumns('next attempt', 'status', 'scenario', 'trigger', 'attempts'))}  job\n`);
  for (const r of rows) {
    const code = (r.error as { code?: unknown } | null)?.code;
    const why = r.waits === 'retry' ? `retry${code ? ` after ${pc.red(terminalText(String(code)))}` : ''}` : r.waits;
    process.stdout.write(`${runColumns(isoInZone(r.nextRunAt, zone), 'queued', terminalText(r.scenario), r.trigger, `${r.attempts}/${r.maxAttempts} tried`, pc.yellow)}  job ${r.jobId} ${why}\n`);
  }
  // The soonest due are read, so a note says when more wait (with a filter, the count is of all the queued ones).
  if (total > rows.length) printNote(`${rows.length} of ${total} queued job(s) shown, the soonest due${o.scenario || o.since ? ' that match (the count is of all queued)' : ''} (-n takes up to 1000)`);
}

/**
 * Why a filtered list is empty: runs are recorded but none matches (named, so the user does not go looking for
 * another data folder), and a scenario no run was ever recorded for, with the closest recorded name.
 */
async function noMatch(store: Store, o: RunsFilter): Promise<string> {
  const counts = await store.counts();
  const total = Object.values(counts.runs).reduce((a, b) => a + b, 0);
  if (total === 0) return 'no runs recorded yet';
  const filter = [o.status && `--status ${o.status}`, o.scenario && `--scenario ${o.scenario}`, o.since && `--since ${o.since}`].filter(Boolean).join(' ');
  let line = `no run matches ${filter} (${total} run(s) recorded: oktell-emu runs lists the newest)`;
  if (o.scenario && (await store.listRuns({ scenario: o.scenario, limit: 1 })).items.length === 0) {
    const recorded = new Set((await store.listRuns({ limit: 1000 })).items.map((r) => r.scenario));
    const guess = closest(o.scenario, recorded);
    line += `\nno run of scenario "${o.scenario}" is recorded at all${guess ? `: did you mean "${guess}"?` : ` (recorded: ${[...recorded].sort().join(', ')})`}`;
  }
  return line;
}

function summary(r: { id: string; jobId: string | null; scenario: string; version: string; trigger: string; status: string; attempt: number; workerId: string | null; startedAt: number; durationMs: number | null; error: unknown; mayRepeat?: true }) {
  // workerId names the instance (process) that ran a job's attempt: with several instances, which one ran it.
  // mayRepeat: the run made an effect a cut-off attempt before it may have made too (`show` names it).
  return { id: r.id, jobId: r.jobId, scenario: r.scenario, version: r.version, trigger: r.trigger, status: r.status, attempt: r.attempt, workerId: r.workerId, startedAt: r.startedAt, durationMs: r.durationMs, error: r.error, ...(r.mayRepeat ? { mayRepeat: r.mayRepeat } : {}) };
}

export async function showAction(id: string, o: { json?: boolean; dataDir?: string; config?: string }): Promise<void> {
  const delivery = deliveryKeyAsked(id);
  if (delivery) return showDelivery(delivery, o);
  const settings = storeSettings(o);
  const found = await withStore(o, (s) => loadRun(s, id, settings), (folder) => {
    throw new UsageError(`no run ${id}: no runs recorded in ${folder} yet (no oktell.sqlite there)`);
  }, settings);
  await printRun(id, found, o, settings);
}

type LoadedRun = { run: (RunRecord & { task?: TaskOrigin }) | undefined; job: JobRecord | undefined; started: JobRecord[] };

/** A run by its id, or a job's last run by the job's id, with its job and the jobs it started. */
async function loadRun(s: Store, id: string, settings: ReturnType<typeof storeSettings>): Promise<LoadedRun> {
  // `replay` takes job ids (a dead letter's), so `show` does too: the job's last run.
  const asJob = (await s.getRun(id)) ? undefined : await s.getJob(id);
  if (asJob && !asJob.lastRunId) {
    const cut = asJob.status === 'running' ? cutOffNote(settings, dataDirArg(settings.dataDir)) : undefined;
    if (cut) throw new UsageError(`job ${id} (${asJob.scenario}) is recorded as running attempt ${asJob.attempts}, but ${cut}; it has no run recorded yet`);
    if (wasCancelled(asJob)) throw new UsageError(`job ${id} (${asJob.scenario}) is a dead letter, ${(asJob.lastError as { message?: string }).message ?? 'cancelled by an operator'}, before its first run: it has no run recorded (npx oktell-emu replay ${id}${dataDirArg(settings.dataDir)} runs it)`);
    const requested = cancelRequestNote(asJob);
    throw new UsageError(`job ${id} (${asJob.scenario}) is ${asJob.status} and has no run recorded yet${requested ? `; ${requested}` : ''}`);
  }
  const r = await s.getRun(asJob?.lastRunId ?? id);
  const run = r ? (await withTaskOrigins(s, [r]))[0] : undefined;
  return { run, job: run?.jobId ? await s.getJob(run.jobId) : undefined, started: run ? await startedJobsOf(s, run) : [] };
}

/** Prints a loaded run (`show`); `delivery`: the inbox entry it answered, when it was asked for by its key. */
async function printRun(id: string, found: LoadedRun, o: { json?: boolean }, settings: ReturnType<typeof storeSettings>, delivery?: DeliveryShown): Promise<void> {
  const { run, job, started } = found;
  // The hint names the same data folder, so it lists the runs of the store that was searched.
  if (!run) throw new UsageError(`no run ${id} (see: oktell-emu runs${settings.store.kind === 'sqlite' ? dataDirArg(settings.dataDir) : ''})`);
  // The job's state now: whether this failure will be retried, or is dead and waits for a replay.
  const catchAll = job ? catchAllJobOf(job) : undefined;
  const jobState = job ? { status: job.status, attempts: job.attempts, maxAttempts: job.maxAttempts, nextRunAt: job.nextRunAt, lastRunId: job.lastRunId, ...(catchAll ? { catchAllJob: catchAll } : {}), ...(job.cancelRequest ? { cancelRequest: job.cancelRequest } : {}) } : undefined;
  // Web requests and statements are kept in the trace; read back as the console reads them.
  const trace = (run.trace ?? []) as unknown[];
  const calls = { httpCalls: httpCallsOf(run, trace), dbCalls: dbCallsOf(run, trace) };
  const children = started.map((j) => ({ jobId: j.id, scenario: j.scenario, status: j.status, lastRunId: j.lastRunId }));
  if (o.json) process.stdout.write(`${JSON.stringify({ ...(delivery ? { delivery } : {}), ...run, ...calls, started: children, ...(jobState ? { job: jobState } : {}) })}\n`);
  else {
    if (delivery) process.stdout.write(`${deliveryLine(delivery, settings.timeZone)}\n`);
    // The last run of a dead letter is `dead`, as `runs` and the console list it (its record says failed).
    const dead = job ? listedStatus(run, await deadRunIds({ jobStates: async () => new Map([[job.id, job]]) }, [run])) === 'dead' : false;
    printRecord(run, settings.timeZone, dead, [
      // What the run's AsyncScenario blocks started, and how each ended: the way from a webhook to its letter.
      ...children.map((c) => `${pc.bold('started')} ${terminalText(c.scenario)} job ${c.jobId} ${c.status}${c.lastRunId ? ` → run ${c.lastRunId} (npx oktell-emu show ${c.lastRunId})` : ''}`),
    ]);
    if (job) printJobState(run, job, dataDirArg(settings.dataDir), settings.timeZone, job.status === 'running' ? cutOffNote(settings, dataDirArg(settings.dataDir)) : undefined);
  }
}

/** The inbox entry of a delivery found by its key, as `show` names it. */
type DeliveryShown = { key: string; inboxId: number; receivedAt: number; method: string; path: string; responseStatus: number | null; duplicates: number; runId: string | null };

/** How many deliveries one key may name that `show` lists (every route's entry of it; each sender's on a route without a secret). */
const DELIVERIES_LISTED = 20;

function deliveryLine(d: DeliveryShown, zone: string): string {
  const answered = d.responseStatus === null ? 'no answer recorded' : `answered ${d.responseStatus}`;
  const resent = d.duplicates > 0 ? ` · ${d.duplicates} resend(s) answered from it` : '';
  return `${pc.bold('delivery')} ${terminalText(d.key)} · inbox entry ${d.inboxId} · received ${isoInZone(d.receivedAt, zone)} · ${terminalText(`${d.method} ${d.path}`)} · ${answered}${resent}`;
}

/**
 * `show bpium:<hook id>:<sequenceId>[@<route>]`: the inbox entry of that Bpium delivery and the HTTP404 run that
 * answered it, shown as `show <runId>` shows it. Without a route, every route's entry of the delivery; several are
 * listed, one line each. Found through the index of original keys: a delivery refused or failed without starting a
 * job keeps no key (a resend of it runs again), and is found by the key in the server's request log line instead.
 */
async function showDelivery(asked: DeliveryAsked, o: { json?: boolean; dataDir?: string; config?: string }): Promise<void> {
  const settings = storeSettings(o);
  const dirFlag = dataDirArg(settings.dataDir);
  const notFound = (where: string) => new UsageError(`no delivery ${asked.asked} ${where}: ${deliveryNotFoundWhy(asked)}`);
  const found = await withStore(o, async (s) => {
    const { entries, more } = await findDeliveries(s, asked, DELIVERIES_LISTED);
    const shown: DeliveryShown[] = entries.map((e) => ({ key: e.dedupKey ?? '', inboxId: e.id, receivedAt: e.receivedAt, method: e.method, path: e.path, responseStatus: e.responseStatus, duplicates: e.duplicates, runId: e.runId }));
    const one = shown.length === 1 ? shown[0]! : undefined;
    return { shown, more, run: one?.runId ? await loadRun(s, one.runId, settings) : undefined };
  }, (folder) => {
    throw notFound(`recorded in ${folder} (no oktell.sqlite there)`);
  }, settings);
  if (found.shown.length === 0) throw notFound('in the inbox');
  if (found.shown.length === 1) {
    const d = found.shown[0]!;
    if (found.run) return printRun(d.runId!, found.run, o, settings, d);
    if (o.json) process.stdout.write(`${JSON.stringify({ delivery: d })}\n`);
    else process.stdout.write(`${deliveryLine(d, settings.timeZone)}\n  no run of the hook scenario is recorded with it\n`);
    return;
  }
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ deliveries: found.shown, ...(found.more ? { more: true } : {}) })}\n`);
    return;
  }
  const w = (t: string) => process.stdout.write(`${t}\n`);
  w(`${found.shown.length}${found.more ? '+' : ''} deliveries match ${terminalText(asked.asked)}; show one by its whole key or its run:`);
  for (const d of found.shown) w(`${deliveryLine(d, settings.timeZone)}${d.runId ? ` · run ${d.runId} (npx oktell-emu show ${d.runId}${dirFlag})` : ''}`);
  if (found.more) w(`only the first ${DELIVERIES_LISTED} are listed`);
}


/** The jobs a run started (its AsyncScenario blocks), oldest first: those its trace names (started-jobs.ts). */
async function startedJobsOf(store: Store, run: { id: string; trace: unknown }): Promise<JobRecord[]> {
  return (await startedJobs(store, run, 1000)).reverse();
}

/**
 * A recorded run for people; `more` are lines about its effects and children, printed before its error. Values are
 * printed as `run` prints them (dates in the server's zone, numbers without float noise): the dates the record tagged
 * are read back as dates (stored-values.ts).
 */
function printRecord(r: RunRecord & { task?: TaskOrigin }, zone: string, dead: boolean, more: string[] = []) {
  const w = (s: string) => process.stdout.write(`${s}\n`);
  // The dates of its values in the zone the run ran in, when its record names it: as the run wrote them as text (a
  // return value made with Str), not hours off beside them. Its start stays in this command's zone, as `runs` lists it.
  // Checked before it goes into Intl: a store edited by hand (or a server with a newer time zone database) may name
  // a zone this runtime does not know; then this command's, and the line says so.
  const recorded = recordedZone(r, zone);
  const ranIn = recorded.timeZone;
  const values = (v: Record<string, unknown> | undefined) => Object.entries(v ?? {}).map(([k, x]) => `${k}=${shownValue(x, ranIn)}`).join(' ');
  const status = endNotCounted(r) ? pc.yellow(`${r.status} (lease lost: not counted)`) : r.status === 'completed' ? pc.green(r.status) : pc.red(dead ? 'dead' : r.status);
  w(`${pc.bold(terminalText(r.scenario))} ${status} run ${r.id} · ${r.task ? taskOriginText(r.task) : r.trigger} · version ${r.version}${r.jobId ? ` · job ${r.jobId} attempt ${r.attempt}` : ''}`);
  const otherZone = recorded.unknown !== undefined
    ? ` · ${pc.yellow(`its record names the time zone ${quotedUnknownZone(recorded.unknown)}, which this build does not know: the dates of its values are in ${zone}`)}`
    : ranIn !== zone ? ` · ran in ${ranIn}: the dates of its values are in that zone` : '';
  w(`  started ${isoInZone(r.startedAt, zone)} · ${r.durationMs ?? '?'} ms${r.workerId ? ` · on ${r.workerId}` : ''}${otherZone}`);
  const params = r.params && typeof r.params === 'object' && !Array.isArray(r.params) ? values(r.params as Record<string, unknown>) : shownValue(r.params, ranIn);
  if (params) w(`  params ${params}`);
  for (const [n, why] of Object.entries(r.task?.paramErrors ?? {})) w(`  ${pc.yellow('parameter')} ${n} failed, passed empty: ${terminalText(String(why))}`);
  const trace = (Array.isArray(r.trace) ? r.trace : []) as Array<{ step: number; block: string; kind: string; exit: string; changed?: Record<string, unknown>; dates?: string[]; notes?: string[]; error?: string }>;
  // A record stored without its steps (OKTELL_TRACE=failed) says so in their place; the steps it kept are printed.
  const notKept = traceNotKeptOf(trace);
  if (notKept) w(`  ${pc.yellow(terminalText(traceNotKeptText(notKept)))}`);
  if (notKept) for (const n of traceNotKeptNotes(trace)) w(`  ${pc.yellow('note')} ${terminalText(n)}`);
  for (const s of trace) {
    if (isTraceNotKeptStep(s)) continue;
    const changed = storedChanged(s);
    w(`  ${String(s.step).padStart(3)} ${terminalText(String(s.block))} ${pc.dim(s.kind)} → ${s.exit}${changed ? ` ${values(changed)}` : ''}${s.error ? ' ' + pc.red(terminalText(String(s.error))) : ''}`);
    for (const n of s.notes ?? []) w(`      ${pc.yellow('note')} ${terminalText(String(n))}`);
  }
  const returned = values(storedReturnValues(r.returnValues, trace));
  if (returned) w(`  return values ${returned}`);
  for (const line of [...effectLines(r, trace), ...more]) w(`  ${line}`);
  if (r.mayRepeat) {
    w(
      `  ${pc.yellow('may repeat')} an earlier attempt of this job was cut off (killed, stopped, or its lease lost) before it journaled its last effect: what this run marks may have been made twice. Look for the twin of a letter by its Message-ID (the same in both copies).`,
    );
  }
  if (r.error) w(`  ${pc.red('error')} ${terminalText(r.error && typeof r.error === 'object' && 'code' in r.error ? formatRunError(r.error as { code: string; message: string }) : JSON.stringify(r.error), true)}`);
}

type StoredMail = { block?: unknown; to: string[]; subject: string; status: string; messageId?: string; mayRepeat?: boolean; error?: unknown };

/**
 * The Message-ID to look for a letter by in the mailbox: the record's own, else the one its error quotes (the build of
 * 2026-12-02 kept a letter of unknown outcome's Message-ID only there, `… (Message-ID <…>)`), else a note saying it was
 * not recorded. Undefined for a letter nobody needs to look for (neither of unknown outcome nor a possible repeat).
 */
function letterMessageId(m: StoredMail): string | undefined {
  if (m.status !== 'unknown' && !m.mayRepeat) return undefined;
  if (typeof m.messageId === 'string' && m.messageId) return m.messageId;
  const quoted = typeof m.error === 'string' ? /\(Message-ID (<[^<>\s]+>)\)/.exec(m.error)?.[1] : undefined;
  return quoted ?? 'not recorded (the build that ran this did not keep it)';
}

/** The run's effects, one line each, in the order its steps made them (effect-order.ts). */
function effectLines(r: RunRecord, trace: readonly unknown[]): string[] {
  const repeat = pc.yellow('may repeat');
  const mailLine = (m: StoredMail) => {
    const id = letterMessageId(m);
    // A letter refused before it was composed has neither recipients nor subject: its error says why (and quotes the
    // address text it refused).
    if (refusedBeforeSending(m)) return `mail ${REFUSED_BEFORE_SENDING}: ${terminalText(String(m.error ?? ''))}`;
    return `mail ${m.status} to ${terminalText(m.to.join(', '))} · ${terminalText(String(m.subject))}${m.mayRepeat ? ` ${repeat}` : ''}${id !== undefined ? ` · Message-ID ${terminalText(id)}` : ''}`;
  };
  // Marked as `run` and the console mark it: `(not sent, fixture)` for a call a Bpium fixture file answered.
  const bpiumLine = (c: BpiumCallRecord) => {
    const note = bpiumCallNote(c);
    return `bpium ${c.method} ${terminalText(`${c.catalogId}/${c.recordId ?? ''}`)} → ${c.status}${note ? ` (${note})` : ''}${c.mayRepeat ? ` ${repeat}` : ''}`;
  };
  return effectsInOrder(r, trace).map((e) => (e.kind === 'mail' ? mailLine(e.record) : e.kind === 'bpium' ? bpiumLine(e.record) : e.kind === 'db' ? dbCallLine(e.record) : httpCallLine(e.record)));
}

/**
 * After a failed run of a job, what happens to the job: tried again (when), or dead (with the replay command), as
 * the console's Jobs page shows it. Nothing for a run whose job went on normally.
 */
function printJobState(r: RunRecord, job: JobRecord, dataDirFlag: string, zone: string, cutOff?: string): void {
  const w = (s: string) => process.stdout.write(`${s}\n`);
  const replay = `npx oktell-emu replay ${r.id}${dataDirFlag}`;
  const tries = `${job.attempts}/${job.maxAttempts} attempts`;
  const latest = job.lastRunId && job.lastRunId !== r.id ? ` (its latest run: ${job.lastRunId})` : '';
  // A cancel requested while it ran: pending (the attempt stops at its next block), or too late (it succeeded first).
  const requested = cancelRequestNote(job);
  if (requested) w(`  ${pc.yellow('job')} ${job.id}: ${terminalText(requested)}`);
  if (wasCancelled(job)) w(`  ${pc.red('job')} ${job.id} is dead-lettered after ${tries}${latest}: ${terminalText(String((job.lastError as { message?: unknown }).message ?? 'cancelled by an operator'))} (R_CANCELLED); replay it: ${replay}`);
  else if (job.status === 'dead') w(`  ${pc.red('job')} ${job.id} is dead-lettered after ${tries}${latest}: nothing retries it; replay it: ${replay}`);
  else if (r.status !== 'failed') return;
  else if (job.status === 'failed') w(`  ${pc.red('job')} ${job.id} failed for good (the error is not retryable)${latest}; replay it once fixed: ${replay}`);
  else if (job.status === 'queued') w(`  ${pc.yellow('job')} ${job.id} will be tried again at ${isoInZone(job.nextRunAt, zone)} (${tries} so far)`);
  else if (job.status === 'running' && cutOff) w(`  ${pc.yellow('job')} ${job.id} is recorded as running attempt ${job.attempts}/${job.maxAttempts}, but ${cutOff}`);
  else if (job.status === 'running') w(`  ${pc.yellow('job')} ${job.id} is being tried again now (attempt ${job.attempts}/${job.maxAttempts})`);
  else if (job.status === 'succeeded') w(`  ${pc.green('job')} ${job.id} succeeded later${latest}`);
  const catchAll = catchAllJobOf(job);
  if (catchAll) w(`  the dead-letter catch-all was started for it as job ${catchAll}: npx oktell-emu show ${catchAll}${dataDirFlag}`);
}

/** The dead-letter catch-all job the store started when it gave this job up (named in its last error), if any. */
function catchAllJobOf(job: JobRecord): string | undefined {
  const id = catchAllJobNamed(job);
  return id === undefined ? undefined : terminalText(id);
}

export async function replayAction(ids: string[], o: { status?: string; since?: string; scenario?: string; includeUnknown?: boolean; includeChanged?: boolean; includeCancelled?: boolean; pinned?: boolean; dataDir?: string; config?: string; json?: boolean }): Promise<void> {
  if (o.since && !o.status) throw new UsageError('--since goes with --status: it selects the jobs that failed or died at or after that time');
  if (o.scenario && !o.status) throw new UsageError('--scenario goes with --status: it selects the jobs of that scenario');
  if (!ids.length && !o.status) throw new UsageError('name runs to replay, or --status dead');
  if (o.status) oneOf('--status', o.status, ['dead', 'failed', 'queued']);
  if (o.includeUnknown && !o.status) throw new UsageError('--include-unknown goes with --status: a job named by its id is replayed whatever its outcome');
  if (o.includeChanged && !o.status) throw new UsageError('--include-changed goes with --status: a job named by its id is replayed whatever its scenario became');
  if (o.includeCancelled && !o.status) throw new UsageError('--include-cancelled goes with --status: a job named by its id is replayed although it was cancelled');
  const { filter, filterArgs } = jobSelection(o);
  const settings = storeSettings(o);
  if (o.status === 'queued') return hastenAction(o, filter, filterArgs, settings);
  let others = 0;
  // Named jobs queued for a later retry, made due now; and those due already (waiting for a free worker).
  let hastened: string[] = [];
  const dueAlready: JobRecord[] = [];
  const { requeued, left, unknown } = await withStore(o, async (store): Promise<Replayed> => {
    if (o.status) {
      const status = o.status as 'dead' | 'failed';
      const done = await replayByStatus(store, status, { unknown: o.includeUnknown === true, changed: o.includeChanged === true, cancelled: o.includeCancelled === true }, filter);
      // Nothing of this status: the jobs of the other one that wait for a replay are counted, so that a failed job
      // (R_SCENARIO_CHANGED, a scenario error) is not missed by `--status dead`, nor a dead one by `--status failed`.
      if (!done.requeued.length && !leftCount(done.left)) others = (await jobsWithStatus(store, otherStatus(status), filter)).length;
      return done;
    }
    // Every named id is checked first: one that cannot be replayed is said (and nothing is queued), since a
    // script naming it expects it to run again.
    const targets: ReplayTarget[] = [];
    const problems: string[] = [];
    for (const id of ids) {
      const t = await replayTarget(store, id);
      if ('problem' in t) problems.push(t.problem);
      else targets.push(t);
    }
    if (problems.length) throw new UsageError(problems.join('\n'));
    const out: string[] = [];
    for (const t of targets) if (!t.hasten) out.push(...(await store.requeue({ ids: [t.jobId] }, o.pinned && t.version ? { pinnedVersion: t.version } : {})));
    const waiting = targets.filter((t) => t.hasten).map((t) => t.jobId);
    hastened = waiting.length ? await store.hastenJobs({ ids: waiting }) : [];
    dueAlready.push(...targets.filter((t) => t.hasten && !hastened.includes(t.jobId)).map((t) => t.job));
    return { requeued: out, left: NONE_LEFT, unknown: targets.filter((t) => t.unknown && out.includes(t.jobId)).map((t) => t.job) };
  }, (folder) => {
    // Nothing recorded, so nothing to requeue: a store is not created just to find that out.
    if (ids.length) throw new UsageError(`${ids[0]}: no such run or job: no runs recorded in ${folder} yet (no oktell.sqlite there)`);
    return { requeued: [], left: NONE_LEFT, unknown: [] };
  }, settings);
  const leftOut = leftCount(left);
  if (o.json) process.stdout.write(`${JSON.stringify([...requeued, ...hastened])}\n`);
  else if (requeued.length) process.stdout.write(`requeued ${requeued.length} job(s): ${jobIds(requeued)}\n`);
  if (!o.json && hastened.length) process.stdout.write(`${hastenedText(hastened)}\n`);
  if (!o.json) for (const j of dueAlready) process.stdout.write(`job ${j.id} (${terminalText(j.scenario)}) is due already: it runs as soon as a worker is free\n`);
  const dirFlag = settings.store.kind === 'sqlite' ? dataDirArg(settings.dataDir) : '';
  if (!o.json && !requeued.length && !hastened.length && !dueAlready.length) {
    const selected = filterArgs ? ` matching ${filterArgs}` : '';
    if (leftOut) process.stdout.write(`nothing requeued: every ${o.status} job left ${leftOutWhy(left)}\n`);
    else if (!o.status) process.stdout.write('nothing to replay (only failed or dead jobs can be replayed)\n');
    else {
      const other = otherStatus(o.status as 'dead' | 'failed');
      const wait = others
        ? `; ${others} ${other} job(s)${selected} wait for a replay (${other === 'failed' ? 'failed for good, not retried' : 'dead letters'}): npx oktell-emu replay --status ${other}${filterArgs ? ` ${filterArgs}` : ''}${dirFlag}`
        : ` (nor any ${other} one)`;
      process.stdout.write(`nothing to replay: no ${o.status} job${selected}${wait}\n`);
    }
  }
  for (const job of unknown) printWarning(`job ${job.id} (${job.scenario}) ended with an effect of unknown outcome (R_EFFECT_UNKNOWN: ${UNKNOWN_WHAT}): replayed as asked, so it is done again`);
  if (leftOut) {
    // Said on stderr with the exit code 1, so that a script running the bulk form after an incident sees that it
    // did not replay everything, and a person gets the commands to replay each job once it is checked.
    for (const kind of LEFT_OUT_KINDS) if (left[kind].length) process.stderr.write(`${leftOutText(kind, left[kind], o.status!, dirFlag)}\n`);
    process.exitCode = 1;
  }
  const note = requeued.length || hastened.length ? noServerNote(settings, dataDirArg(settings.dataDir)) : undefined;
  if (note) printNote(note);
}

/** The line that says which waiting jobs were made due now. */
function hastenedText(ids: readonly string[]): string {
  return `made ${ids.length} waiting job(s) due now: ${jobIds(ids)} (their attempts so far are kept)`;
}

/** Job ids a replay names in its line; past these, the rest are counted (a replay after an outage may take thousands). */
export const JOB_IDS_SHOWN = 10;

/** The ids of a replay's line: all of a few; of many, the first ones and how many more (`--json` lists every one). */
function jobIds(ids: readonly string[]): string {
  return `${someOf(ids, JOB_IDS_SHOWN)}${ids.length > JOB_IDS_SHOWN ? ' (--json lists every id; npx oktell-emu runs --status queued shows them)' : ''}`;
}

/**
 * `replay --status queued`: the jobs queued for a later attempt (retries waiting out an outage that is over) are made
 * due now, with `--scenario` and `--since` (when the job was created) as `runs --status queued` takes them. Running jobs
 * are never touched.
 */
async function hastenAction(o: { json?: boolean; dataDir?: string; config?: string }, filter: JobFilter, filterArgs: string, settings: ReturnType<typeof storeSettings>): Promise<void> {
  const filtered = filter.since !== undefined || filter.scenario !== undefined;
  const ids = await withStore(o, async (store) => {
    if (!filtered) return store.hastenJobs({ status: 'queued' });
    const chosen = await queuedJobIds(store, filter);
    return chosen.length ? store.hastenJobs({ ids: chosen }) : [];
  }, () => [] as string[], settings);
  if (o.json) process.stdout.write(`${JSON.stringify(ids)}\n`);
  else process.stdout.write(ids.length ? `${hastenedText(ids)}\n` : `nothing to make due: no queued job${filterArgs ? ` matching ${filterArgs}` : ''} waits for a later time\n`);
  const note = ids.length ? noServerNote(settings, dataDirArg(settings.dataDir)) : undefined;
  if (note) printNote(note);
}

/**
 * What the bulk replay requeued, the jobs it left out (of unknown outcome; failed because their scenario changed
 * under them), and the named ones of unknown outcome it replayed.
 */
type Replayed = { requeued: string[]; left: LeftOut; unknown: JobRecord[] };
type LeftOut = Record<keyof typeof LEFT_OUT, JobRecord[]>;
type ReplayTarget = { jobId: string; version: string | undefined; job: JobRecord; unknown: boolean; hasten?: true };

const NONE_LEFT: LeftOut = { unknown: [], changed: [], cancelled: [] };
const leftCount = (left: LeftOut): number => left.unknown.length + left.changed.length + left.cancelled.length;

const UNKNOWN_WHAT = 'a letter the mail server never confirmed, which may have been delivered, a database statement that may have been committed, or a web POST or PATCH whose answer could not be read';

/**
 * `replay --status`: every job with that status, except, unless asked for, those whose last attempt ended with an
 * effect of unknown outcome (R_EFFECT_UNKNOWN) and those that stopped because their scenario's blocks changed since
 * an earlier attempt made effects (R_SCENARIO_CHANGED). Both were parked for a person to decide: doing the first again
 * may duplicate its effect, and a replay of the second on the version loaded now makes again the effects of the
 * renamed blocks. The person checks and replays each by its id. Without any of them, the whole status is requeued in
 * one statement, as before.
 */
async function replayByStatus(store: Store, status: 'dead' | 'failed', include: Record<keyof typeof LEFT_OUT, boolean>, filter: JobFilter = {}): Promise<Replayed> {
  const filtered = filter.since !== undefined || filter.scenario !== undefined;
  if (LEFT_OUT_KINDS.every((k) => include[k]) && !filtered) return { requeued: await store.requeue({ status }), left: NONE_LEFT, unknown: [] };
  const jobs = await jobsWithStatus(store, status, filter);
  const left: LeftOut = { unknown: [], changed: [], cancelled: [] };
  for (const kind of LEFT_OUT_KINDS) if (!include[kind]) left[kind] = jobs.filter((j) => lastErrorCode(j) === LEFT_OUT[kind].code);
  if (!leftCount(left) && !filtered) return { requeued: await store.requeue({ status }), left, unknown: [] };
  const leave = new Set(LEFT_OUT_KINDS.flatMap((k) => left[k]).map((j) => j.id));
  const others = jobs.filter((j) => !leave.has(j.id)).map((j) => j.id);
  // By id: only those still failed or dead are requeued (another replay may have taken some meanwhile).
  return { requeued: others.length ? await store.requeue({ ids: others }) : [], left, unknown: [] };
}

/** `replay --status`'s selection (and `cancel --status`'s): the jobs of a scenario, those that failed or died (queued: were created) at or after a time. */
export type JobFilter = { since?: number; scenario?: string; task?: string };

/** `--scenario` and `--since` as `replay` and `cancel` take them: the filter, and the same options as words for the lines that name it. */
export function jobSelection(o: { since?: string; scenario?: string }): { filter: JobFilter; filterArgs: string } {
  const filter: JobFilter = { ...(o.since ? { since: parseSince(o.since) } : {}), ...(o.scenario ? { scenario: o.scenario } : {}) };
  const filterArgs = [o.scenario && `--scenario ${shellWord(o.scenario)}`, o.since && `--since ${shellWord(o.since)}`].filter(Boolean).join(' ');
  return { filter, filterArgs };
}

/** The queued jobs the filter selects (`since`: created at or after), page by page; all of them without a filter. */
export async function queuedJobIds(store: Store, filter: JobFilter): Promise<string[]> {
  return (await jobsSelected(store, 'queued', filter, (j) => j.createdAt)).map((j) => j.id);
}

/** Every job with the status that the filter selects, page by page; `since` compares when the job ended. */
function jobsWithStatus(store: Store, status: 'dead' | 'failed', filter: JobFilter = {}): Promise<JobRecord[]> {
  return jobsSelected(store, status, filter, (j) => j.finishedAt ?? j.updatedAt);
}

/** The jobs of a status that the filter selects, page by page; `since` is compared with the time `at` reads of a job. */
async function jobsSelected(store: Store, status: 'queued' | 'dead' | 'failed', filter: JobFilter, at: (j: JobRecord) => number): Promise<JobRecord[]> {
  const all: JobRecord[] = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<Store['listJobs']>> = await store.listJobs({ status, limit: 1000, cursor, ...(filter.scenario ? { scenario: filter.scenario } : {}), ...(filter.task ? { task: filter.task } : {}) });
    all.push(...page.items.filter((j) => filter.since === undefined || at(j) >= filter.since));
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

function otherStatus(status: 'dead' | 'failed'): 'dead' | 'failed' {
  return status === 'dead' ? 'failed' : 'dead';
}

/** The code of the error the job's last attempt ended with, if it has one. */
function lastErrorCode(job: JobRecord): unknown {
  const error = job.lastError as { code?: unknown } | null;
  return error?.code;
}

/** Whether the job's last attempt ended with an effect that may have been made (the pool makes such a job dead at once). */
function unknownOutcome(job: JobRecord): boolean {
  return lastErrorCode(job) === RUN_ERROR_CODES.EFFECT_UNKNOWN;
}

/** Why every job of the status that is left was left out, for the line that says nothing was requeued. */
function leftOutWhy(left: LeftOut): string {
  return LEFT_OUT_KINDS.filter((k) => left[k].length).map((k) => LEFT_OUT[k].short).join(' or ');
}

/**
 * Why the bulk replay leaves out jobs of each kind, what to check before replaying one (`dirFlag`: the --data-dir the
 * commands carry), and the flag that takes them all.
 */
const LEFT_OUT = {
  unknown: {
    code: RUN_ERROR_CODES.EFFECT_UNKNOWN,
    short: 'has an effect of unknown outcome',
    why: (dirFlag: string) =>
      `of unknown outcome (R_EFFECT_UNKNOWN: ${UNKNOWN_WHAT}): a replay would do it again. Check each first (npx oktell-emu show <job id>${dirFlag} names the letter and its Message-ID), then replay each one that did not arrive`,
    flag: '--include-unknown',
  },
  changed: {
    code: RUN_ERROR_CODES.SCENARIO_CHANGED,
    short: 'stopped because its scenario changed (R_SCENARIO_CHANGED)',
    why: (dirFlag: string) =>
      `whose scenario changed since an earlier attempt made effects (R_SCENARIO_CHANGED: blocks renamed, added, removed or of another kind): replayed on the version loaded now, they make the effects of the renamed blocks again (a letter sent twice). Check each first (npx oktell-emu show <job id>${dirFlag} names its version then and now), then restore the version it ran and replay it, or replay it as it is`,
    flag: '--include-changed',
  },
  cancelled: {
    code: RUN_ERROR_CODES.CANCELLED,
    short: 'was cancelled by an operator (R_CANCELLED)',
    why: (dirFlag: string) =>
      `cancelled by an operator (R_CANCELLED: taken out of the queue with oktell-emu cancel, say because their mail server or task is gone): a replay after an outage should not bring them back unasked. Check each first (npx oktell-emu show <job id>${dirFlag} says who cancelled it and when), then replay each one still wanted`,
    flag: '--include-cancelled',
  },
} as const;
const LEFT_OUT_KINDS = Object.keys(LEFT_OUT) as Array<keyof typeof LEFT_OUT>;

/** The bulk replay's account of the jobs it left out for one reason: how many, why, and the command that replays each. */
function leftOutText(kind: keyof typeof LEFT_OUT, left: readonly JobRecord[], status: string, dirFlag: string): string {
  return [
    `${pc.yellow('oktell-emu: warning:')} left out ${left.length} ${status} job(s) ${LEFT_OUT[kind].why(dirFlag)}:`,
    ...left.map((j) => `  npx oktell-emu replay ${j.id}${dirFlag}   ${pc.dim(`# ${terminalText(j.scenario)}`)}`),
    `or all of them with: npx oktell-emu replay --status ${status} ${LEFT_OUT[kind].flag}${dirFlag}`,
  ].join('\n');
}

/** The job a named run (or job) id replays, or why it cannot be replayed: what the id is, and what to do instead. */
async function replayTarget(store: Store, id: string): Promise<ReplayTarget | { problem: string }> {
  const run = await store.getRun(id);
  const jobId = run?.jobId ?? ((await store.getJob(id)) ? id : undefined);
  if (!jobId) {
    if (!run) return { problem: `${id}: no such run or job (see: oktell-emu runs)` };
    // A live `oktell-emu run` records its run (trigger cli) and the async runs it followed (trigger async, no job).
    if (run.trigger === 'cli' || run.trigger === 'async') return { problem: `${id}: run of ${run.scenario} recorded by \`oktell-emu run\`, not a queued job: nothing replays it; run the command again` };
    // A hook (or Web-API) run answers a request and is not queued; the jobs it started are what can be replayed.
    const started = await startedJobsOf(store, run);
    const children = started.length
      ? `; the job(s) it started: ${started.map((j) => `${j.id} (${j.scenario}, ${j.status})`).join(', ')}${started.some(replayable) ? ` — npx oktell-emu replay ${started.filter(replayable).map((j) => j.id).join(' ')}` : ''}`
      : '; it started no job';
    const kind = run.trigger === 'http' ? 'webhook' : run.trigger === 'webapi' ? 'Web-API' : run.trigger;
    return { problem: `${id}: the ${kind} run of ${run.scenario} (it answered its request), not a queued job: it is not replayed${children}` };
  }
  const job = await store.getJob(jobId);
  // A run outlives its job when retention pruned the job first (or the store was trimmed by hand).
  if (!job) return { problem: `${id}: its job ${jobId} is no longer stored (pruned by retention): nothing to replay` };
  // A job queued for a later attempt (a retry waiting out an outage) is made due now; a running one is refused, so
  // that no job runs twice at once.
  if (job.status === 'queued') return { jobId, version: run?.version, job, unknown: false, hasten: true };
  if (!replayable(job)) {
    const what = run ? `run ${id}: its job ${jobId}` : `job ${jobId}`;
    const state = job.status === 'succeeded' ? 'succeeded' : `is ${CLAIMED_STATE} (it is not run twice at once)`;
    return { problem: `${what} ${state}: nothing to replay (only failed, dead or queued jobs are replayed)` };
  }
  return { jobId, version: run?.version, job, unknown: unknownOutcome(job) };
}

function replayable(job: JobRecord): boolean {
  return job.status === 'failed' || job.status === 'dead';
}
