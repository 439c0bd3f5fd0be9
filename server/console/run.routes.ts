// Console pages of runs and jobs: the self-updating runs list (and its JSON), one run with its path and effects,
// the jobs list with dead letters, and replay.
import type { NextFunction, Request, Response, Router } from 'express';
import { relative } from 'node:path';
import { clipText, closest, RUN_ERROR_CODES, type ScenarioLibrary, type Value } from '../../engine/index.js';
import { caseFromRun, caseToWrite, inlineParams, ranVersionWarnings, recordedNote, recordedZone, RecordedRunError } from '../../cli/testing/from-run.js';
import { testFileText } from '../../cli/testing/write-case.js';
import { JOB_STATUSES, RUN_STATUSES, RUN_TRIGGERS, type JobRecord, type JobStatus, type ListRunsQuery, type RunStatus, type RunSummary, type RunTrigger, type Store } from '../store/store.port.js';
import { jobSecretCarriers, jobVariables, maskCarriers } from '../starters.js';
import { storedReturnValues } from '../stored-values.js';
import { runOutcomeParts, type OutcomePart, type RunOutcomeSource } from '../run-outcome.js';
import { cancelledError, cancelRequestNote, cancelRequestText, deadRunIds, inProgressRun, listedCounts, listedStatus, notCancellable, wasCancelled, type ListedRunStatus } from '../run-status.js';
import type { ConsoleContext } from './console.router.js';
import { LETTER_CSP } from './console-security.js';
import { consoleBase, formatDuration, shortJobId, timeFormatter } from './console-views.js';
import { errorLocation, ID_PATTERN, runView } from './run-view.js';
import { problemFiles } from './scenario-pages.js';
import { dbCallsOf } from './db-calls.js';
import { taskNameOf } from '../tasks/scheduler.js';

/** How long the live list reuses the counts above it. */
const COUNTS_FRESH_MS = 10_000;
import { httpCallsOf } from './http-calls.js';
import { startedJobs } from '../started-jobs.js';
import { catchAllJobNamed } from '../store/dead-letter.js';
import { looksLikeSortableId } from '../store/sortable-id.js';
import { scanForRuns } from '../run-search.js';
import { deliveryKeyAsked, deliveryNotFoundWhy, findDeliveries } from '../delivery-lookup.js';

const TRIGGERS: readonly RunTrigger[] = RUN_TRIGGERS;
const REPLAYABLE: ReadonlySet<JobStatus> = new Set(['failed', 'dead']);

export interface RunFilters {
  status?: RunStatus;
  scenario?: string;
  trigger?: RunTrigger;
  job?: string;
  cursor?: string;
  /** Filter values that are not values of their filter: ignored, and said on the page. */
  ignored?: string[];
}

/**
 * Reads the filters of the runs list from the query string; invalid values are ignored and listed in `ignored`. A
 * scenario must be one of `scenarios` (the loaded ones, as the form offers them): a misspelt or removed one would
 * otherwise filter the list down to nothing while the form says "any".
 */
export function runFilters(q: Request['query'], scenarios: readonly string[]): RunFilters {
  const str = (v: unknown, max: number) => (typeof v === 'string' && v !== '' && v.length <= max ? v : undefined);
  const given = (v: unknown) => (typeof v === 'string' ? v.slice(0, 40) : '');
  const f: RunFilters = {};
  const ignored: string[] = [];
  const status = str(q.status, 20);
  if (status && (RUN_STATUSES as readonly string[]).includes(status)) f.status = status as RunStatus;
  else if (typeof q.status === 'string' && q.status !== '') ignored.push(`status "${given(q.status)}" (one of ${RUN_STATUSES.join(', ')}, or dead)`);
  const trigger = str(q.trigger, 20);
  if (trigger && (TRIGGERS as readonly string[]).includes(trigger)) f.trigger = trigger as RunTrigger;
  else if (typeof q.trigger === 'string' && q.trigger !== '') ignored.push(`trigger "${given(q.trigger)}" (one of ${TRIGGERS.join(', ')})`);
  const scenario = str(q.scenario, 200);
  if (scenario && scenarios.includes(scenario)) f.scenario = scenario;
  else if (typeof q.scenario === 'string' && q.scenario !== '') {
    const guess = closest(q.scenario, scenarios);
    ignored.push(`scenario "${given(q.scenario)}" (no such scenario is loaded${guess ? `; did you mean ${guess}?` : ''})`);
  }
  const job = str(q.job, 80);
  if (job && ID_PATTERN.test(job)) f.job = job;
  else if (typeof q.job === 'string' && q.job !== '') ignored.push(`job "${given(q.job)}" (not a job id)`);
  if (ignored.length) f.ignored = ignored;
  const cursor = str(q.cursor, 400);
  if (cursor) f.cursor = cursor;
  return f;
}

/** One listed run: a recorded run, or a job's attempt running now (`inProgress`, no run id yet). */
type ListedRun = RunSummary & { listed: ListedRunStatus; inProgress?: true };

/**
 * One page of runs, newest first, with the status each is listed with (the CLI's `runs` marks the same dead runs).
 * The store cannot filter by trigger, so that filter thins each page. On the first page of one job's runs, or of the
 * running ones, a job whose attempt runs now comes first (its run is recorded when the attempt ends).
 */
async function listRuns(ctx: ConsoleContext, f: RunFilters): Promise<{ items: ListedRun[]; nextCursor: string | null }> {
  const q: ListRunsQuery = { limit: 50, cursor: f.cursor ?? null };
  if (f.status) q.status = f.status;
  if (f.scenario) q.scenario = f.scenario;
  if (f.job) q.jobId = f.job;
  const page = await ctx.d.store.listRuns(q);
  const dead = await deadRunIds(ctx.d.store, page.items);
  const items: ListedRun[] = page.items.map((r) => ({ ...r, listed: listedStatus(r, dead) }));
  const running = f.cursor || (f.status && f.status !== 'running') || (!f.job && f.status !== 'running') ? [] : await runningJobs(ctx, f);
  const now = running.filter((j) => !items.some((r) => r.jobId === j.jobId && r.attempt === j.attempt)).map((r) => ({ ...r, listed: 'running' as const, inProgress: true as const }));
  const all = [...now, ...items];
  return { items: f.trigger ? all.filter((r) => r.trigger === f.trigger) : all, nextCursor: page.nextCursor };
}

/** The attempts running now of the job filtered on, or of every running job (scenario filter applied). */
async function runningJobs(ctx: ConsoleContext, f: RunFilters): Promise<RunSummary[]> {
  if (f.job) {
    const job = await ctx.d.store.getJob(f.job);
    return job?.status === 'running' ? [inProgressRun(job)] : [];
  }
  const jobs = await ctx.d.store.listJobs({ status: 'running', limit: 50, ...(f.scenario ? { scenario: f.scenario } : {}) });
  return jobs.items.map(inProgressRun);
}

/**
 * The variables a job's run started with, as its record shows them: a value that carries a secret of the run that
 * started the job is the mask.
 */
function initialVariables(job: JobRecord): Record<string, Value> {
  const stored = job.variables as Record<string, unknown> | null;
  return maskCarriers(jobVariables((job.params ?? {}) as Record<string, Value>, stored), jobSecretCarriers(stored)?.variables);
}

/** A stored run error as the pages show it; with `scenariosDir`, its location too (named inside that folder). */
function errorOf(v: unknown, scenariosDir?: string): { code: string; message: string; block?: string; scenario?: string; retryable?: boolean; location?: string } | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const e = v as Record<string, unknown>;
  return {
    code: String(e.code ?? 'error'),
    message: String(e.message ?? ''),
    ...(typeof e.block === 'string' ? { block: e.block } : {}),
    ...(typeof e.scenario === 'string' ? { scenario: e.scenario } : {}),
    ...(typeof e.retryable === 'boolean' ? { retryable: e.retryable } : {}),
    ...(scenariosDir && errorLocation(e, scenariosDir) ? { location: errorLocation(e, scenariosDir) } : {}),
  };
}

/**
 * The zone a run page shows the dates of the run's values in, and what it says of it, as `oktell-emu show` does: the
 * zone the run's record names, when this server knows it (then nothing is said when it is the server's own); the
 * server's otherwise, naming the unknown zone (the store's text: cut, quoted as JSON so control characters show, and
 * escaped by the page), so that a store edited by hand or written with a newer time zone database does not fail the
 * page.
 */
export function runZoneOf(run: { timeZone?: string }, serverZone: string): { timeZone: string; note?: string; unknown?: true } {
  const recorded = recordedZone(run, serverZone);
  if (recorded.unknown !== undefined) {
    return { timeZone: serverZone, unknown: true, note: `its record names the time zone ${JSON.stringify(clipText(recorded.unknown, 80))}, which this server does not know: the dates of its values are in ${serverZone}` };
  }
  if (recorded.timeZone !== serverZone) return { timeZone: recorded.timeZone, note: `ran in ${recorded.timeZone}: the dates of its values are in that zone` };
  return { timeZone: serverZone };
}

function filterQuery(f: RunFilters, extra: Record<string, string> = {}): string {
  const p = new URLSearchParams();
  for (const k of ['status', 'scenario', 'trigger', 'job'] as const) if (f[k]) p.set(k, f[k]!);
  for (const [k, v] of Object.entries(extra)) p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : '';
}

export function runRoutes(router: Router, ctx: ConsoleContext): void {
  const time = timeFormatter(ctx.d.config.timeZone);
  /** A listed run; `answers` (from hookAnswers) give a hook run the status its caller was answered with. */
  const rowOf = (base: string, r: ListedRun | RunSummary, answers?: ReadonlyMap<number, number>, outcomes?: ReadonlyMap<string, RunOutcomeSource>) => ({
    // A job's attempt running now has no run yet: null, as `runs --json` gives it, not an empty id.
    id: r.id === '' ? null : r.id,
    jobId: r.jobId,
    href: r.id ? `${base}/runs/${encodeURIComponent(r.id)}` : `${base}/jobs?status=running`,
    scenario: r.scenario,
    status: 'listed' in r ? r.listed : r.status,
    trigger: r.trigger,
    attempt: r.attempt,
    started: time(r.startedAt),
    duration: r.status === 'running' ? ('inProgress' in r ? `claimed ${time(r.startedAt).slice(11)}: running, or waiting for a free worker slot` : 'running') : formatDuration(r.durationMs),
    // A job's run says which job and which attempt: attempts of different jobs interleave in the list (an outage's
    // dead letters), as `oktell-emu runs` prints "job <id> #<attempt>" on each line.
    jobShort: r.jobId ? shortJobId(r.jobId) : null,
    error: clipText(errorOf(r.error)?.message ?? '', 160),
    // What the run did (its letters, its return values), as `oktell-emu runs` ends its line: a completed run that sent
    // a letter and one that ignored its webhook look alike otherwise.
    ...outcomeFields(outcomePartsOf(r.id, outcomes, r.trigger === 'http' ? String(ctx.d.config.hook.returns.status) : undefined)),
    // Only a hook run answered a caller (a job it queued may carry the same inbox entry).
    answer: r.trigger === 'http' && r.inboxId !== null ? (answers?.get(r.inboxId) ?? null) : null,
    // The store's mark (both stores give it with the list): an effect of the run may repeat one of a cut-off attempt,
    // as `oktell-emu runs` says "may repeat"; the run's page says which.
    ...(r.mayRepeat ? { mayRepeat: true as const } : {}),
  });
  const answersOf = hookAnswers(ctx.d.store);
  const scenarioNames = () => [...ctx.d.host.library().scenarios.keys()].sort();
  /** The filters of a request, with a job id that names no job said so (its runs would just be "none"). */
  const filtersOf = async (req: Request) => {
    const f = runFilters(req.query, scenarioNames());
    if (f.job && !(await ctx.d.store.getJob(f.job))) {
      f.ignored = [...(f.ignored ?? []), `job "${f.job}" (no such job: it may have been removed with its runs after the retention period)`];
      delete f.job;
    }
    return f;
  };
  // The counts read every retained run and inbox row. The live list asks every 2 s from each open tab, so its answer
  // reuses counts made in the last COUNTS_FRESH_MS (shared by all tabs): on SQLite they are read on the thread that
  // acknowledges webhooks. The page itself always counts anew.
  let lastCounts: { at: number; counts: Promise<ReturnType<typeof listedCounts>> } | undefined;
  const countsOf = async (reuse = false) => {
    const now = Date.now();
    if (!reuse || !lastCounts || now - lastCounts.at > COUNTS_FRESH_MS) {
      const counts = ctx.d.store.counts().then(listedCounts);
      lastCounts = { at: now, counts };
      counts.catch(() => {
        if (lastCounts?.counts === counts) lastCounts = undefined;
      });
    }
    return lastCounts.counts;
  };

  router.get('/runs', async (req, res, next) => {
    try {
      // Dead letters are jobs, listed on their own page (as `runs --status dead` lists their last runs).
      if (req.query.status === 'dead') return res.redirect(303, `${consoleBase(res)}/jobs?status=dead`);
      const f = await filtersOf(req);
      const [page, counts] = await Promise.all([listRuns(ctx, f), countsOf()]);
      const [answers, outcomes] = await Promise.all([answersOf(page.items), outcomesOf(ctx.d.store, page.items.map((r) => r.id))]);
      ctx.render(res, 'runs.njk', {
        title: f.job ? `Runs of job ${f.job}` : 'Runs',
        nav: 'runs',
        filters: f,
        statuses: RUN_STATUSES,
        triggers: TRIGGERS,
        scenarios: scenarioNames(),
        rows: page.items.map((r) => rowOf(consoleBase(res), r, answers, outcomes)),
        counts,
        live: !f.cursor,
        jsonUrl: `${consoleBase(res)}/runs.json${filterQuery(f)}`,
        olderUrl: page.nextCursor ? `${consoleBase(res)}/runs${filterQuery(f, { cursor: page.nextCursor })}` : undefined,
        newestUrl: f.cursor ? `${consoleBase(res)}/runs${filterQuery(f)}` : undefined,
        ...(await jobNotices(ctx.d.store, f.job, req.query)),
        problemFiles: problemFiles(ctx.d.host.library()),
      });
    } catch (e) {
      next(e);
    }
  });

  // What the live list redraws from: the rows, the counts above them, and the time of this answer.
  router.get('/runs.json', async (req, res, next) => {
    try {
      const f = await filtersOf(req);
      const [page, counts] = await Promise.all([listRuns(ctx, f), countsOf(true)]);
      const [answers, outcomes] = await Promise.all([answersOf(page.items), outcomesOf(ctx.d.store, page.items.map((r) => r.id))]);
      res.json({ items: page.items.map((r) => rowOf(consoleBase(res), r, answers, outcomes)), nextCursor: page.nextCursor, counts, at: time(Date.now()) });
    } catch (e) {
      next(e);
    }
  });

  // The Find box of the runs page: a run id, a job id, or a Bpium delivery key (`bpium:<hook id>:<sequenceId>`, the
  // route optional), as `show` takes them; any other text is searched for in the newest runs (runs --grep). One delivery goes to its run; several are listed; none is said, with why.
  /** How many of the newest runs the Find box's text search reads, and how many it lists. */
  const CONSOLE_SCAN = 10_000;
  const CONSOLE_FOUND = 100;
  router.get('/runs/find', async (req, res, next) => {
    try {
      const text = typeof req.query.id === 'string' ? req.query.id.trim() : '';
      const base = consoleBase(res);
      const asked = deliveryKeyAsked(text);
      if (!text) return res.redirect(303, `${base}/runs`);
      if (!asked) {
        // A run id or a job id goes to its run, as before; any other text is looked for in what the newest runs
        // carried (their recorded parameters and return values, secrets masked: run-search.ts), within a bound.
        const known = ID_PATTERN.test(text) && ((await ctx.d.store.getRun(text)) || (await ctx.d.store.getJob(text)));
        if (known) return res.redirect(303, `${base}/runs/${encodeURIComponent(text)}`);
        const scan = await scanForRuns(ctx.d.store, {}, { text }, { scan: CONSOLE_SCAN, limit: CONSOLE_FOUND });
        const found = scan.found;
        // A run or job id the store no longer has (pruned after the retention, or mistyped) is not text a run carried:
        // it is said as before the text search, not as "no run carried this text".
        if (!found.length && looksLikeSortableId(text)) return ctx.notFound(res, 'There is no such run or job (runs older than the retention period are removed), and no recorded run carried this text.');
        return ctx.render(res, 'runs-found.njk', {
          title: `Runs that carried “${text}”`,
          nav: 'runs',
          text,
          scanned: scan.read,
          cutAt: scan.unread && scan.oldestReadAt !== undefined ? time(scan.oldestReadAt) : undefined,
          full: scan.stoppedBy === 'limit',
          rows: found.map((r) => ({ url: `${base}/runs/${encodeURIComponent(r.id)}`, id: r.id, scenario: r.scenario, status: r.status, trigger: r.trigger, started: time(r.startedAt) })),
        });
      }
      const { entries, more } = await findDeliveries(ctx.d.store, asked, 20);
      if (entries.length === 0) return ctx.notFound(res, `No delivery ${asked.asked} is in the inbox: ${deliveryNotFoundWhy(asked)}`);
      if (entries.length === 1 && entries[0]!.runId) return res.redirect(303, `${base}/runs/${encodeURIComponent(entries[0]!.runId)}`);
      ctx.render(res, 'deliveries.njk', {
        title: `Deliveries ${asked.asked}`,
        nav: 'runs',
        more,
        rows: entries.map((e) => ({ key: e.dedupKey ?? '', inboxId: e.id, received: time(e.receivedAt), request: `${e.method} ${e.path}`, status: e.responseStatus, duplicates: e.duplicates, runUrl: e.runId ? `${base}/runs/${encodeURIComponent(e.runId)}` : undefined })),
      });
    } catch (e) {
      next(e);
    }
  });

  router.get('/runs/:id', async (req, res, next) => {
    try {
      const id = req.params.id;
      // A Bpium delivery key in the address (`/runs/bpium:1:4711`): found as the Find box finds it.
      if (deliveryKeyAsked(id)) return res.redirect(303, `${consoleBase(res)}/runs/find?${new URLSearchParams({ id })}`);
      const run = ID_PATTERN.test(id) ? await ctx.d.store.getRun(id) : undefined;
      if (!run) {
        // A job id (the Web-API's asynchronous `runid`, a dead letter's id): its last run, or its runs so far.
        const asJob = ID_PATTERN.test(id) ? await ctx.d.store.getJob(id) : undefined;
        if (asJob) return res.redirect(303, asJob.lastRunId ? `${consoleBase(res)}/runs/${encodeURIComponent(asJob.lastRunId)}` : `${consoleBase(res)}/runs?${new URLSearchParams({ job: asJob.id })}`);
        return ctx.notFound(res, 'There is no such run (runs older than the retention period are removed).');
      }
      const [job, attempts] = run.jobId ? await Promise.all([ctx.d.store.getJob(run.jobId), ctx.d.store.listRuns({ jobId: run.jobId, limit: 20 })]) : [undefined, undefined];
      // The status the runs list gives this run and the job's other attempts (the same rule): the last run of a dead
      // letter is "dead" here too, its header saying that it failed.
      const dead = job ? await deadRunIds(ctx.d.store, [run, ...(attempts?.items ?? [])], new Map([[job.id, job]])) : new Set<string>();
      const host = ctx.d.host;
      const scenario = host.libraryWithVersion(run.scenario, run.version)?.scenarios.get(run.scenario) ?? host.library().scenarios.get(run.scenario);
      const error = errorOf(run.error, host.library().dir);
      const trace = Array.isArray(run.trace) ? run.trace : [];
      const last = trace[trace.length - 1] as { exit?: string; block?: string; scenario?: string } | undefined;
      const failedBlock = last?.exit === 'failed' && last.scenario === run.scenario ? last.block : undefined;
      const view = runView({ scenarioName: run.scenario, trace, scenario, versionRan: run.version, ...(failedBlock ? { failedBlock } : {}), ...(job ? { initial: initialVariables(job) } : {}) });
      const { duplicate, answered } = await answerOf(ctx, run);
      // A duplicate delivery's hook run ran again, but the jobs its AsyncScenario blocks made were not queued.
      if (duplicate) for (const s of view.steps) if (s.kind === 'AsyncScenario') s.notes = [...(s.notes ?? []), `not queued: duplicate of inbox entry ${duplicate.inboxId}`];
      // The jobs this run queued (its AsyncScenario blocks): the way forward from a webhook to the letter it caused.
      const started = (await startedJobs(ctx.d.store, run, 20)).map((j) => ({ id: j.id, scenario: j.scenario, block: j.parentBlock, status: j.status, lastRunId: j.lastRunId }));
      ctx.render(res, 'run.njk', {
        title: `Run of ${run.scenario}`,
        nav: 'runs',
        run: { ...run, error, listed: listedStatus(run, dead) },
        runZone: runZoneOf(run, ctx.d.config.timeZone),
        retryNote: error?.block ? retryNote(error.retryable === true, job, time, error.code, job !== undefined && job.lastRunId !== run.id) : undefined,
        // A dead letter names the dead-letter catch-all the store started for it, as `show` does.
        job: job ? { id: job.id, status: job.status, attempts: job.attempts, maxAttempts: job.maxAttempts, replayCount: job.replayCount, nextRunAt: job.nextRunAt, catchAllJob: catchAllJobNamed(job), cancelRequested: cancelRequestNote(job) } : undefined,
        replayable: !!job && REPLAYABLE.has(job.status),
        attempts: attempts?.items.filter((a) => a.id !== run.id).map((a) => rowOf(consoleBase(res), { ...a, listed: listedStatus(a, dead) })) ?? [],
        params: objectEntries(run.params),
        returnValues: objectEntries(storedReturnValues(run.returnValues, trace)),
        mails: arrayOf(run.mails),
        bpiumCalls: arrayOf(run.bpiumCalls),
        dbCalls: dbCallsOf(run, trace),
        httpCalls: httpCallsOf(run, trace),
        view,
        duplicate,
        answered,
        started,
        // The run's own scenario only (its async runs are compared in the file itself): no need to rebuild the case.
        asTestWarnings: run.status === 'running' ? [] : loadedVersionWarnings(run.id, [{ scenario: run.scenario, version: run.version }], host.library()),
      });
    } catch (e) {
      next(e);
    }
  });

  router.get('/runs/:id/mails/:n/html', async (req, res, next) => {
    try {
      const run = ID_PATTERN.test(req.params.id) ? await ctx.d.store.getRun(req.params.id) : undefined;
      const mail = run && /^\d{1,4}$/.test(req.params.n) ? (arrayOf(run.mails)[Number(req.params.n)] as { html?: unknown } | undefined) : undefined;
      if (!mail || typeof mail.html !== 'string') return ctx.notFound(res, 'This letter has no HTML part.');
      sendLetterHtml(res, mail.html);
    } catch (e) {
      next(e);
    }
  });

  // The run as a scenario test file: the case `oktell-emu test --from-run` writes (caseToWrite, the same code), with
  // the variables the server took from its environment pinned as the server read them (secrets only named), and its
  // parameters inline (the download is one file).
  router.get('/runs/:id/test.yaml', async (req, res, next) => {
    try {
      const id = req.params.id;
      if (!ID_PATTERN.test(id) || !(await ctx.d.store.getRun(id))) return ctx.notFound(res, 'There is no such run.');
      const recorded = await caseFromRun(ctx.d.store, id, { timeZone: ctx.d.config.timeZone });
      const library = ctx.d.host.library();
      const { testCase, setting } = caseToWrite(recorded, library, library.dir, 'the server');
      testCase.params = inlineParams(testCase.params as Record<string, Value>);
      const warnings = loadedVersionWarnings(id, recorded.ran, library);
      res.attachment(`${String(recorded.case.scenario)}-${id}.test.yaml`);
      res.type('application/yaml; charset=utf-8').send(testFileText(testCase, recordedNote(id, recorded.unrecorded, recorded.dbUnrecorded, recorded.cutValues, recorded.notReplayed, [], setting), warnings));
    } catch (e) {
      if (e instanceof RecordedRunError) return ctx.render(res, 'error.njk', { title: 'No test yet', message: e.message, nav: 'runs' }, 409);
      next(e);
    }
  });

  router.post('/runs/:id/replay', ctx.form, ctx.sameOrigin, async (req, res, next) => {
    try {
      const id = String(req.params.id);
      const run = ID_PATTERN.test(id) ? await ctx.d.store.getRun(id) : undefined;
      if (!run) return ctx.notFound(res, 'There is no such run.');
      if (!run.jobId) return ctx.render(res, 'error.njk', { title: 'Cannot replay', message: 'This run answered a request directly (it is not a queued job), so there is nothing to replay; send the request again instead.', nav: 'runs' }, 409);
      await replay(ctx, res, run.jobId, confirmStep(req, res, `/runs/${encodeURIComponent(id)}/replay`, `/runs/${encodeURIComponent(id)}`));
    } catch (e) {
      next(e);
    }
  });

  router.get('/jobs', async (req, res, next) => {
    try {
      const status = typeof req.query.status === 'string' && (JOB_STATUSES as readonly string[]).includes(req.query.status) ? (req.query.status as JobStatus) : undefined;
      // As on the runs list: a status that is not one is named, not silently taken for "all".
      const ignored = !status && typeof req.query.status === 'string' && req.query.status !== '' ? `status "${req.query.status.slice(0, 40)}" (one of ${JOB_STATUSES.join(', ')})` : undefined;
      const cursor = typeof req.query.cursor === 'string' && req.query.cursor.length <= 400 ? req.query.cursor : null;
      const [page, counts] = await Promise.all([ctx.d.store.listJobs({ ...(status ? { status } : {}), limit: 50, cursor }), ctx.d.store.counts()]);
      ctx.render(res, 'jobs.njk', {
        title: status === 'dead' ? 'Dead letters' : 'Jobs',
        nav: 'jobs',
        status,
        ignored,
        ...(await cancelledNotice(ctx.d.store, req.query.cancelled, req.query.already === '1')),
        ...(await cancelRequestedNotice(ctx.d.store, req.query.cancelRequested)),
        statuses: JOB_STATUSES,
        counts,
        jobs: await jobRows(ctx.d.store, page.items, time),
        delivery: await deliveryStates(ctx, time),
        ...pauseNotice(req.query),
        problemFiles: problemFiles(ctx.d.host.library()),
        olderUrl: page.nextCursor ? `${consoleBase(res)}/jobs?${new URLSearchParams({ ...(status ? { status } : {}), cursor: page.nextCursor })}` : undefined,
      });
    } catch (e) {
      next(e);
    }
  });

  router.post('/jobs/:id/replay', ctx.form, ctx.sameOrigin, async (req, res, next) => {
    try {
      const id = String(req.params.id);
      if (!ID_PATTERN.test(id)) return ctx.notFound(res, 'There is no such job.');
      await replay(ctx, res, id, confirmStep(req, res, `/jobs/${id}/replay`));
    } catch (e) {
      next(e);
    }
  });

  // Pause and Resume of a scenario's delivery (store/scenario-pause.ts), as `oktell-emu pause` and `resume`. Each path a
  // literal, so that test/console/read-only finds it among the state-changing routes.
  const pauseRoute = (what: 'pause' | 'resume') => async (req: Request, res: Response, next: NextFunction) => {
    try {
      await pauseOrResume(ctx, req, res, String(req.params.name), what);
    } catch (e) {
      next(e);
    }
  };
  router.post('/scenarios/:name/pause', ctx.form, ctx.sameOrigin, pauseRoute('pause'));
  router.post('/scenarios/:name/resume', ctx.form, ctx.sameOrigin, pauseRoute('resume'));

  router.post('/jobs/:id/cancel', ctx.form, ctx.sameOrigin, async (req, res, next) => {
    try {
      const id = String(req.params.id);
      if (!ID_PATTERN.test(id)) return ctx.notFound(res, 'There is no such job.');
      await cancel(ctx, res, id, confirmStep(req, res, `/jobs/${id}/cancel`));
    } catch (e) {
      next(e);
    }
  });
}

/**
 * What the caller of a run that answered a request was told (`answered`), and for the hook run of a re-delivered
 * webhook the inbox entry of the first delivery and the run that answered it (`duplicate`). The server answered a
 * duplicate as it answered the first delivery and started nothing, which the run page must say in words.
 */
async function answerOf(ctx: ConsoleContext, run: RunSummary): Promise<{ answered?: string; duplicate?: { inboxId: number; runId: string | null } }> {
  // The job of an async=1 call: its caller was answered when it was queued, not by this run.
  if (run.trigger === 'webapi' && run.jobId) return {};
  if (run.trigger === 'webapi') {
    // The Web-API answers 200 once the scenario exists and starts; the run's end is told by startresult, unless the
    // caller's timeout came first (startresult 2), which the run record does not keep.
    return { answered: `HTTP 200 · startresult ${run.status === 'failed' ? 1 : 0}, or 2 if the caller's timeout ended first` };
  }
  if (run.trigger !== 'http' || run.inboxId === null) return {};
  const entry = await ctx.d.store.getInboxEntry(run.inboxId);
  if (!entry) return {};
  // A duplicate was answered as the first delivery was.
  const original = entry.duplicateOf === null ? undefined : await ctx.d.store.getInboxEntry(entry.duplicateOf);
  const status = original?.responseStatus ?? entry.responseStatus;
  return {
    ...(status !== null ? { answered: `HTTP ${status}` } : {}),
    ...(entry.duplicateOf !== null ? { duplicate: { inboxId: entry.duplicateOf, runId: original?.runId ?? null } } : {}),
  };
}

/** How many answered statuses of hook runs the runs list keeps in memory (a few pages of the busiest list). */
const HOOK_ANSWERS_KEPT = 2000;

/**
 * The HTTP status each hook run of a list page answered its caller with, by inbox entry id. A stored status never
 * changes and an inbox id is never reused (AUTOINCREMENT in SQLite, an identity in PostgreSQL), so each is read once
 * and kept: the live list asks for the same page every 2 s from every open tab. The statuses of a page are read in one
 * query that leaves the bodies where they are (a page of 5 MB webhooks would otherwise read 250 MB). Entries with no
 * status yet are asked again next time.
 */
function hookAnswers(store: Store): (runs: ReadonlyArray<Pick<RunSummary, 'trigger' | 'inboxId'>>) => Promise<Map<number, number>> {
  const known = new Map<number, number>();
  return async (runs) => {
    const ids = [...new Set(runs.filter((r) => r.trigger === 'http' && r.inboxId !== null).map((r) => r.inboxId!))];
    const missing = ids.filter((id) => !known.has(id));
    if (missing.length > 0) {
      for (const [id, status] of await store.answeredStatuses(missing)) {
        if (known.size >= HOOK_ANSWERS_KEPT) known.delete(known.keys().next().value!);
        known.set(id, status);
      }
    }
    return new Map(ids.filter((id) => known.has(id)).map((id) => [id, known.get(id)!]));
  };
}

/**
 * What became of a failed run's error, from its job's state now: a retryable error is retried only while the job has
 * attempts left, so a dead letter's run must not promise "a later attempt may succeed". An effect of unknown outcome
 * is not retried, yet nothing need change: it may have been made, so it is checked before a replay.
 */
export function retryNote(retryable: boolean, job: Pick<JobRecord, 'status' | 'nextRunAt'> | undefined, time: (ms: unknown) => string, code?: unknown, earlier = false): string {
  if (code === RUN_ERROR_CODES.EFFECT_UNKNOWN) return 'not retried: it may have been done (a letter delivered) with no answer to say so; check, then Replay does it again';
  if (code === RUN_ERROR_CODES.EFFECT_SETTING) return 'not retried: a setting is wrong (the message says which); fix it, restart, then Replay sends it';
  if (!retryable) return 'not retryable: the scenario or the data must change';
  if (!job) return 'retryable: the caller may send the request again';
  switch (job.status) {
    case 'dead':
      // An earlier attempt (not the job's last run) was retried: only the last one made the job a dead letter.
      if (earlier) return 'retryable: the job tried it again; its last attempt failed too, so it is a dead letter, and only Replay tries it again';
      return 'retryable, but the job ran out of attempts: it is a dead letter, and only Replay tries it again';
    case 'failed':
      // An earlier attempt of a job that a later one stopped for good (a failure not retried): this one was retried.
      if (earlier) return 'retryable: the job tried it again; a later attempt failed for good (not retryable), and only Replay tries it again';
      return 'retryable, but the job is failed: only Replay tries it again';
    case 'queued':
      return `retryable: the job is tried again at ${time(job.nextRunAt)}`;
    case 'running':
      return 'retryable: the job is being tried again now';
    case 'succeeded':
      return 'retryable: a later attempt of the job succeeded';
    default:
      return `retryable, but the job is ${job.status}: only Replay tries it again`;
  }
}

/**
 * Where a Replay or Cancel of the console stands. The button of a list or a run page asks (its POST carries the form
 * token, no `confirm`): the answer is a page that names the job and the action with a form to confirm it, so that a
 * stray tap on a phone changes nothing. That form's POST (`confirm=1`, the token again) does it. Only the console's
 * HTML forms post here; the Web-API and the CLI have routes and commands of their own, which ask nothing.
 */
interface ConfirmStep {
  confirmed: boolean;
  /** Where the confirming form posts: the address the button posted to. */
  action: string;
  /** The page the button was on, for "No": a run's page, or the tasks page. */
  back?: string;
}

/**
 * The confirm step of a console action posted to `action` (inside the console). `back`: the page to go back to; else
 * the form's `back` field says it (a run id, or `tasks`), else the caller's default.
 */
function confirmStep(req: Request, res: Response, action: string, back?: string): ConfirmStep {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const from = typeof body.back === 'string' ? body.back : '';
  const backPath = back ?? (ID_PATTERN.test(from) ? `/runs/${from}` : from === 'tasks' ? '/tasks' : undefined);
  return { confirmed: body.confirm === '1', action: `${consoleBase(res)}${action}`, ...(backPath ? { back: `${consoleBase(res)}${backPath}` } : {}) };
}

/** The page that asks to confirm a Replay or a Cancel of `job` (200: nothing is done until its form is sent). */
function askToConfirm(ctx: ConsoleContext, res: Response, job: JobRecord, what: 'replay' | 'cancel', step: ConfirmStep): void {
  const time = timeFormatter(ctx.d.config.timeZone);
  const base = consoleBase(res);
  ctx.render(res, 'confirm.njk', {
    title: `${what === 'cancel' ? 'Cancel' : 'Replay'} job ${shortJobId(job.id)}?`,
    nav: step.back?.startsWith(`${base}/runs/`) ? 'runs' : step.back === `${base}/tasks` ? 'tasks' : 'jobs',
    what,
    action: step.action,
    back: step.back ?? `${base}/jobs?${new URLSearchParams({ status: job.status })}`,
    job: jobRow(job, time),
  });
}

/** Sends a failed or dead job back to the queue and shows its runs, where the new attempt appears. */
async function replay(ctx: ConsoleContext, res: Response, jobId: string, step: ConfirmStep): Promise<void> {
  const time = timeFormatter(ctx.d.config.timeZone);
  const job = await ctx.d.store.getJob(jobId);
  if (!job) return ctx.notFound(res, 'There is no such job.');
  if (!REPLAYABLE.has(job.status)) {
    // Most often a page opened before someone (or this user, in another tab) replayed it: say so, and lead to the
    // job's runs, where that replay is, rather than back to the whole list.
    const already = job.replayCount > 0 ? `It was already replayed (${job.replayCount}× so far, last change ${time(job.updatedAt)}): the page you came from was older than that. ` : '';
    return ctx.render(res, 'error.njk', {
      title: already ? 'Already replayed' : 'Cannot replay',
      message: `${already}The job is ${job.status} now; only failed and dead jobs are replayed.`,
      link: { href: `${consoleBase(res)}/runs?${new URLSearchParams({ job: job.id })}`, text: `The runs of job ${job.id}` },
      nav: 'jobs',
    }, 409);
  }
  if (!step.confirmed) return askToConfirm(ctx, res, job, 'replay', step);
  const ids = await ctx.d.store.requeue({ ids: [jobId] });
  if (ids.length) {
    ctx.d.workers.wake();
    ctx.d.logger.info({ jobId, user: res.locals.user }, 'job replayed from the console');
  }
  res.redirect(303, `${consoleBase(res)}/runs?job=${encodeURIComponent(jobId)}&replayed=1`);
}

/**
 * The notices Replay (`?replayed=1`) and a task's Run now (`?started=<task>`) lead to on the runs of their job, said
 * only when that job is such a job: replayed at least once, started by that service task. An address alone (any job,
 * any text in `started`) does not make the console claim either.
 */
async function jobNotices(store: Store, jobId: string | undefined, query: Request['query']): Promise<{ replayed: boolean; startedTask?: string }> {
  const started = typeof query.started === 'string' ? query.started : undefined;
  if (jobId === undefined || (query.replayed !== '1' && started === undefined)) return { replayed: false };
  const job = await store.getJob(jobId);
  return {
    replayed: query.replayed === '1' && job !== undefined && job.replayCount > 0,
    ...(started !== undefined && job && taskNameOf(job.trigger) === started ? { startedTask: started } : {}),
  };
}

/**
 * The id of the job a Cancel just took out of the queue (`?cancelled=`), said only when that job is a cancelled one;
 * with `already` (`&already=1`, a Cancel of a job someone had cancelled first), by whom and when it was cancelled.
 */
async function cancelledNotice(store: Store, id: unknown, already: boolean): Promise<{ cancelled?: string; cancelledBy?: string }> {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) return {};
  const job = await store.getJob(id);
  if (!job || !wasCancelled(job)) return {};
  if (!already) return { cancelled: id };
  const by = (job.lastError as { message?: unknown }).message;
  return { cancelled: id, cancelledBy: typeof by === 'string' && by ? by : 'cancelled' };
}

/** The running job whose cancel a Cancel just requested (`?cancelRequested=`), with the request, while it is pending. */
async function cancelRequestedNotice(store: Store, id: unknown): Promise<{ cancelRequested?: { id: string; note: string } }> {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) return {};
  const job = await store.getJob(id);
  if (!job?.cancelRequest) return {};
  return { cancelRequested: { id, note: cancelRequestNote(job) || cancelRequestText(job) } };
}

/**
 * Takes a queued job out of the queue as `oktell-emu cancel` does: a dead letter with R_CANCELLED, which Replay brings
 * back. Only while it is still queued (one conditional update). A running job (or one a worker claimed since the page
 * was drawn) is not stopped from here: its cancel is requested, and its worker stops the attempt at its next block.
 */
async function cancel(ctx: ConsoleContext, res: Response, jobId: string, step: ConfirmStep): Promise<void> {
  const job = await ctx.d.store.getJob(jobId);
  if (!job) return ctx.notFound(res, 'There is no such job.');
  const refused = (message: string) =>
    ctx.render(res, 'error.njk', {
      title: 'Cannot cancel',
      message,
      link: { href: `${consoleBase(res)}/runs?${new URLSearchParams({ job: job.id })}`, text: `The runs of job ${job.id}` },
      nav: 'jobs',
    }, 409);
  // Why a job that is not queued is refused; one cancelled already says by whom and when (another console, the CLI).
  const why = (j: JobRecord) => {
    const by = wasCancelled(j) ? (j.lastError as { message?: unknown }).message : undefined;
    return `The job ${notCancellable(j)}.${typeof by === 'string' && by ? ` It was ${by}.` : ''}`;
  };
  // Cancelled already (a second click of the same button, another console, the CLI): that is what was asked, so it is
  // answered as the CLI's `cancel` answers it (exit 0), with the Dead letters page saying so, not as a refusal.
  const alreadyDone = () => res.redirect(303, `${consoleBase(res)}/jobs?${new URLSearchParams({ status: 'dead', cancelled: jobId, already: '1' })}`);
  // A running job: its cancel is requested, as `oktell-emu cancel` requests it; its attempt stops at its next block.
  const requested = () => res.redirect(303, `${consoleBase(res)}/jobs?${new URLSearchParams({ status: 'running', cancelRequested: jobId })}`);
  const requestCancel = async (user: string, tries = 0): Promise<void> => {
    const asked = await ctx.d.store.requestCancel([jobId], `the console, login ${user}`);
    if (asked.length) {
      ctx.d.logger.info({ jobId, user }, 'cancel of a running job requested from the console');
      return requested();
    }
    const now = await ctx.d.store.getJob(jobId);
    if (now?.status === 'running' && now.cancelRequest) return requested();
    if (now && wasCancelled(now)) return alreadyDone();
    // Its attempt failed meanwhile and it waits for a retry: the Cancel confirmed takes it out of the queue, as asked.
    if (now?.status === 'queued' && tries < 2) return cancelQueued(user, tries + 1);
    return refused(`The job's attempt ended while this Cancel was under way: it is ${now?.status ?? 'no longer in the store'} now, and its cancel was not requested. Open the jobs page again to see what became of it.`);
  };
  // Takes the queued job out of the queue; one that moved meanwhile is said from its state now (`tries`: the moves
  // followed so far, between the queue and a worker, so that a job that keeps moving is refused rather than chased).
  const cancelQueued = async (user: string, tries = 0): Promise<void> => {
    const done = await ctx.d.store.cancelJobs({ ids: [jobId] }, cancelledError(`the console, login ${user}`));
    if (done.length) {
      ctx.d.logger.info({ jobId, user }, 'job cancelled from the console');
      return void res.redirect(303, `${consoleBase(res)}/jobs?${new URLSearchParams({ status: 'dead', cancelled: jobId })}`);
    }
    // It left the queue between the read and the update: a second click of the same Cancel, another console or the CLI
    // cancelled it (it is a dead letter, as asked: not "started by a worker"), or a worker claimed it. Said from its
    // state now.
    const now = await ctx.d.store.getJob(jobId);
    if (!now) return refused('The job is no longer in the store (removed by retention or by hand): nothing to cancel.');
    if (wasCancelled(now)) return alreadyDone();
    // Back in the queue already (cancelled and replayed elsewhere, or an attempt that failed at once and waits for a
    // retry): taken out now, as confirmed, unless it keeps moving.
    if (now.status === 'queued' && tries < 2) return cancelQueued(user, tries + 1);
    if (now.status === 'queued') return refused('The job left the queue and came back to it while this Cancel was under way (a worker tried it, or it was cancelled and replayed elsewhere): it was not cancelled. Open the jobs page again and cancel it there if you still mean to.');
    // Claimed by a worker after the page was drawn: its cancel is requested instead, as was confirmed.
    if (now.status === 'running' && tries < 2) return requestCancel(user, tries + 1);
    return refused(`A worker claimed the job after the page was drawn: it was not cancelled. The job ${notCancellable(now)}.`);
  };
  if (wasCancelled(job)) return alreadyDone();
  if (job.status === 'running' && job.cancelRequest) return requested();
  if (job.status !== 'queued' && job.status !== 'running') return refused(why(job));
  if (!step.confirmed) return askToConfirm(ctx, res, job, 'cancel', step);
  const user = String(res.locals.user ?? '');
  if (job.status === 'running') return requestCancel(user);
  return cancelQueued(user);
}

/** The characters of an outcome a list row keeps (the run's page has all of it). */
export const OUTCOME_CHARS = 160;

/** What each of these runs did, in one store read; the ids of runs not yet recorded (a running job's: '') are left out. */
function outcomesOf(store: Store, ids: readonly (string | null)[]): Promise<Map<string, RunOutcomeSource>> {
  return store.runOutcomes(ids.filter((id): id is string => !!id));
}

/**
 * A run's outcome as a list shows it (run-outcome.ts), cut; empty for a run not recorded or one that did nothing said.
 * `leaveOut`: the return value a column of its own shows (a hook run's status, in Answer).
 */
export function outcomeOf(id: string | null, outcomes?: ReadonlyMap<string, RunOutcomeSource>, leaveOut?: string): string {
  return outcomePartsOf(id, outcomes, leaveOut).map((p) => p.text).join('');
}

/**
 * outcomeOf in its pieces (run-outcome.ts): the lists draw each recipient and return value isolated (<bdi>), so that
 * right-to-left letters in one cannot reorder the words around it. Cut as outcomeOf cuts the line.
 */
export function outcomePartsOf(id: string | null, outcomes?: ReadonlyMap<string, RunOutcomeSource>, leaveOut?: string): OutcomePart[] {
  const src = id ? outcomes?.get(id) : undefined;
  const parts = src ? runOutcomeParts(src, leaveOut) : [];
  // Cut with a `…`, as `oktell-emu runs` cuts its column: a cut recipient list must not read as the whole of it.
  if (parts.reduce((n, p) => n + p.text.length, 0) <= OUTCOME_CHARS) return parts;
  const cut: OutcomePart[] = [];
  let room = OUTCOME_CHARS - 1;
  for (const p of parts) {
    const text = clipText(p.text, room);
    if (text) cut.push({ ...p, text });
    room -= p.text.length;
    if (room <= 0) break;
  }
  cut.push({ text: '…' });
  return cut;
}

/** The jobs list's rows, each with the outcome of its job's last run (what a succeeded job did). */
async function jobRows(store: Store, jobs: readonly JobRecord[], time: (ms: unknown) => string) {
  const outcomes = await outcomesOf(store, jobs.map((j) => j.lastRunId));
  return jobs.map((j) => ({ ...jobRow(j, time), ...outcomeFields(outcomePartsOf(j.lastRunId, outcomes)) }));
}

/**
 * A list row's outcome: `outcome`, its line (as it was before the pieces); `outcomeParts`, the same line in pieces,
 * `[text, 1]` for a value the list isolates, `[text]` for the outcome's own words (runs.njk, jobs.njk, console.js).
 */
function outcomeFields(parts: OutcomePart[]): { outcome: string; outcomeParts: Array<[string] | [string, 1]> } {
  return { outcome: parts.map((p) => p.text).join(''), outcomeParts: parts.map((p) => (p.value ? [p.text, 1] : [p.text])) };
}

export function jobRow(j: JobRecord, time: (ms: unknown) => string) {
  return {
    id: j.id,
    scenario: j.scenario,
    status: j.status,
    attempts: j.attempts,
    maxAttempts: j.maxAttempts,
    replayCount: j.replayCount,
    created: time(j.createdAt),
    updated: time(j.updatedAt),
    next: j.status === 'queued' ? time(j.nextRunAt) : '',
    lastRunId: j.lastRunId,
    error: clipText(errorOf(j.lastError)?.message ?? '', 200),
    // A job that succeeded after failing keeps its last error as history, not as its state.
    errorIsPast: j.status === 'succeeded' && j.lastError != null,
    short: shortJobId(j.id),
    replayable: REPLAYABLE.has(j.status),
    // A running one too: its cancel is requested (its attempt stops at its next block), once.
    cancellable: j.status === 'queued' || (j.status === 'running' && !j.cancelRequest),
    /** A cancel requested while it ran: pending, or too late (cancelRequestNote). */
    cancelRequested: cancelRequestNote(j),
  };
}

/** A letter's HTML with its own sandboxing policy, shown in an iframe of a console page. */
export function sendLetterHtml(res: Response, html: string): void {
  res.set({ 'Content-Security-Policy': LETTER_CSP, 'X-Frame-Options': 'SAMEORIGIN' });
  res.type('text/html; charset=utf-8').send(html);
}

function objectEntries(v: unknown): Array<[string, unknown]> {
  return v && typeof v === 'object' && !Array.isArray(v) ? Object.entries(v) : [];
}

function arrayOf(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/**
 * The warnings `oktell-emu test --from-run` gives when a scenario that ran is not at the version that ran, for the
 * console's download: compared with the scenarios the server has loaded now (the ones the case will be run against
 * when dropped into that folder's tests/).
 */
function loadedVersionWarnings(runId: string, ran: ReadonlyArray<{ scenario: string; version: string }>, library: ScenarioLibrary): string[] {
  const { ownMissing, warnings } = ranVersionWarnings(runId, ran, (name) => {
    const s = library.scenarios.get(name);
    return s && { file: relative(library.dir, s.file) || s.file, version: s.version };
  }, { holder: 'the scenarios the server has loaded', shown: 'the server\'s scenarios folder as loaded now', fix: 'edited since the run: review the expectation against the scenario as it is now, or record a new run' });
  if (ownMissing) warnings.unshift(`run ${runId} ran ${ran[0]!.scenario}, which the scenarios the server has loaded do not include (removed, or failing to load): the case would test nothing until it is back`);
  return warnings;
}

/** Each loaded scenario (and each paused one not loaded), with its pause if it has one: the delivery block of the jobs page. */
async function deliveryStates(ctx: ConsoleContext, time: (ms: number) => string): Promise<Array<{ name: string; pause?: { by: string; at: string; reason: string | null; until: string | null; queued: number } }>> {
  const pauses = new Map((await ctx.d.store.pausedScenarios()).map((p) => [p.scenario, p]));
  const names = [...new Set([...ctx.d.host.names(), ...pauses.keys()])].sort();
  return names.map((name) => {
    const p = pauses.get(name);
    return p ? { name, pause: { by: p.by, at: time(p.at), reason: p.reason, until: p.until === null ? null : time(p.until), queued: p.queued } } : { name };
  });
}

/** The notice after a Pause (`?paused=<name>`) or a Resume (`?resumed=<name>`). */
function pauseNotice(query: Request['query']): { pausedNow?: string; resumedNow?: string; notPaused?: string } {
  const name = (v: unknown) => (typeof v === 'string' && v.length <= 200 ? v : undefined);
  const paused = name(query.paused);
  const resumed = name(query.resumed);
  if (paused) return { pausedNow: paused };
  if (resumed) return query.was === '0' ? { notPaused: resumed } : { resumedNow: resumed };
  return {};
}

/**
 * Pauses or resumes the delivery of `name` after the confirm step, as the CLI does: a name neither loaded nor paused is
 * refused (404); a Resume of a scenario not paused is answered as done (the CLI's exit 0), the notice saying so.
 */
async function pauseOrResume(ctx: ConsoleContext, req: Request, res: Response, name: string, what: 'pause' | 'resume'): Promise<void> {
  const base = consoleBase(res);
  const paused = (await ctx.d.store.pausedScenarios()).find((p) => p.scenario === name);
  if (!ctx.d.host.names().has(name) && !paused) return ctx.notFound(res, 'There is no such scenario.');
  const step = confirmStep(req, res, `/scenarios/${encodeURIComponent(name)}/${what}`, '/jobs?status=queued');
  if (!step.confirmed) {
    return ctx.render(res, 'confirm.njk', {
      title: `${what === 'pause' ? 'Pause' : 'Resume'} ${name}?`,
      nav: 'jobs',
      what,
      scenario: { name, queued: paused?.queued ?? (await ctx.d.store.queuedJobs({ scenario: name, limit: 1000 })).length },
      action: step.action,
      back: step.back ?? `${base}/jobs?status=queued`,
    });
  }
  const user = res.locals.user as string | undefined;
  if (what === 'pause') {
    await ctx.d.store.pauseScenario({ scenario: name, by: `the console, login ${user ?? 'anonymous'}` });
    ctx.d.logger.info({ scenario: name, user }, 'scenario paused from the console');
    return res.redirect(303, `${base}/jobs?${new URLSearchParams({ status: 'queued', paused: name })}`);
  }
  const was = await ctx.d.store.resumeScenario(name);
  if (was) {
    // This instance's workers look now; other instances sharing the store take the jobs at their next poll.
    ctx.d.workers.wake();
    ctx.d.logger.info({ scenario: name, user }, 'scenario resumed from the console');
  }
  res.redirect(303, `${base}/jobs?${new URLSearchParams({ status: 'queued', resumed: name, was: was ? '1' : '0' })}`);
}
