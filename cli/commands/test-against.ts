// `oktell-emu test --against-runs`: the runs the server recorded, replayed against the scenarios as they are now — each
// made into the case `--from-run` would write (caseFromRun + caseToWrite, its parameters inline; with the letters' text
// and HTML and the web requests' bodies expected too, which a written case leaves out), checked and run in
// memory (runCase: a dry run with the recorded answers as fixtures, letters rendered and never sent, fresh SQLite
// databases), nothing written. A run whose case fails would go otherwise now: its first difference is listed, in the
// words of `test`. Exit 0 when every replayed run goes as recorded, 1 when one differs, 2 on bad input.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pc from 'picocolors';
import { formatRunError, listScenarioFiles, scenarioNameOf, type EnginePorts, type ScenarioIssue, type ScenarioLibrary, type Value } from '../../engine/index.js';
import type { RunSummary, Store } from '../../server/store/store.port.js';
import { isoInZone } from '../../server/tasks/schedule.js';
import { dataDirArg, loadLibrary, oneOf, shellWord, UsageError } from '../config.js';
import { issueText as issueLine, terminalText } from '../format.js';
import { reachable } from '../scenario-reach.js';
import { withStore } from '../store.js';
import { caseFromRun, caseToWrite, inlineParams, RecordedRunError, TraceNotKeptRunError, type RecordedCase } from '../testing/from-run.js';
import { TRACE_SETTING } from '../../server/trace-setting.js';
import { caseReport, type CaseReport } from '../testing/report.js';
import { CaseSetupError, LibraryCache, runCase, type CaseDefaults } from '../testing/run-case.js';
import { libraryProblems, loadTestText, unknownScenarios, type TestFile } from '../testing/test-file.js';
import { testFileText } from '../testing/write-case.js';
import { parseSince } from './runs.js';
import { caseDefaults, folderProblems, inParallel, PARALLEL, recordingStore, relativeOrSelf, scenarioFile, serverFolder, unknownZoneNote, zoneWarning, type TestOpts } from './test.js';

/** Runs replayed when --limit is not given: enough for yesterday's webhooks, quick enough to run before each deploy. */
export const DEFAULT_RUN_LIMIT = 100;
/** The statuses a recorded run that has ended has (a running one cannot be replayed yet). */
const ENDED = ['completed', 'failed'] as const;

/** One recorded run in the report. */
export interface ReplayedRun {
  runId: string;
  scenario: string;
  /** When the recorded run started (ISO, UTC). */
  startedAt: string;
  /** How the recorded run ended. */
  recordedStatus: string;
  /** `same`: the run goes now as recorded; `differs`: it would go otherwise; `not-replayable`: see `reason`. */
  result: 'same' | 'differs' | 'not-replayable';
  /** Of a run that could not be replayed: why. */
  reason?: string;
  /** The scenarios of the run whose file in the folder is another version than the one that ran (edited since). */
  edited?: string[];
  /** Of a run that differs: every difference, the first as `test` orders them (the expectation's order). */
  mismatches?: Array<{ place: string; expected: string; actual: string; detail?: string[] }>;
  /** Of a run that differs: the runs of its tree that failed now where the recorded ones did not, with their errors. */
  runErrors?: CaseReport['runErrors'];
  /** What the replay cannot bring about again (a database lock, a time an async run read): a difference may come from it. */
  notReplayed?: string[];
}

export interface AgainstRunsReport {
  /** The scenarios folder replayed against. */
  scenarios: string;
  same: number;
  differ: number;
  notReplayable: number;
  runs: ReplayedRun[];
}

interface Selection {
  scenario?: string;
  since?: number;
  status?: (typeof ENDED)[number];
  limit: number;
}

/** The options checked, before the store is opened: a mistake is said at once, with the option's own words. */
export function runSelection(opts: Pick<TestOpts, 'scenario' | 'since' | 'status' | 'limit'>): Selection {
  const limit = opts.limit === undefined ? DEFAULT_RUN_LIMIT : Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError(`--limit ${opts.limit}: takes a number from 1 to 1000`);
  if (opts.status !== undefined) oneOf('--status', opts.status, ENDED);
  if (opts.scenario !== undefined && opts.scenario.trim() === '') throw new UsageError('--scenario takes a scenario name');
  return {
    limit,
    ...(opts.scenario !== undefined ? { scenario: opts.scenario } : {}),
    ...(opts.since !== undefined ? { since: parseSince(opts.since) } : {}),
    ...(opts.status !== undefined ? { status: opts.status as Selection['status'] } : {}),
  };
}

/**
 * The runs to replay, newest first: with --scenario every ended run of that scenario (also those another run started),
 * else the runs nothing started (a webhook's, a Web-API call's, a service task's), which replay the runs they started
 * with them.
 */
async function selectRuns(store: Store, sel: Selection): Promise<RunSummary[]> {
  const out: RunSummary[] = [];
  let cursor: string | null | undefined;
  do {
    const page = await store.listRuns({ limit: 1000, ...(sel.scenario ? { scenario: sel.scenario } : {}), ...(sel.status ? { status: sel.status } : {}), ...(sel.since !== undefined ? { since: sel.since } : {}), ...(cursor ? { cursor } : {}) });
    for (const r of page.items) {
      if (r.status === 'running' || (!sel.scenario && r.parentRunId)) continue;
      out.push(r);
      if (out.length === sel.limit) return out;
    }
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

type Prepared = { run: RunSummary; edited: string[]; notReplayed: string[]; zone: RecordedCase['zone'] } & ({ file: TestFile; reached: Set<string> } | { reason: string });

export async function againstRuns(opts: TestOpts & { scenarios: string }, out: NodeJS.WritableStream): Promise<number> {
  const sel = runSelection(opts);
  const folder = opts.scenarios;
  if (!existsSync(folder)) throw new UsageError(`no scenarios folder at ${relativeOrSelf(folder)} (give --scenarios the folder with the edited scenarios)`);
  const settings = recordingStore(opts);
  // The server's run settings (effect cap, regex budget, web allow-list), read before anything is replayed.
  const runDefaults = caseDefaults(opts);
  const { library, templates } = await loadLibrary(folder, undefined, settings.timeZone);
  const runsCommand = `oktell-emu runs${settings.store.kind === 'sqlite' ? dataDirArg(settings.dataDir) : ''}`;
  // Scenarios whose file is there but did not load are invalid, not unknown (as `test` tells them apart).
  const onDisk = library.issues.length ? (await listScenarioFiles(folder)).map(scenarioNameOf) : [];
  const invalid = new Set(onDisk.filter((n) => !library.scenarios.has(n)));
  // Each scenario's file read and hashed once, not once for every run that ran it.
  const files = new Map<string, ReturnType<typeof scenarioFile>>();
  const fileOf = (name: string) => (files.has(name) ? files.get(name) : files.set(name, scenarioFile(folder, name)).get(name));
  const ctx: Context = { folder, library, invalid, timeZone: settings.timeZone, runsCommand, fileOf };
  const prepared = await withStore({ dataDir: opts.dataDir, config: opts.config }, async (store) => {
    const runs = await selectRuns(store, sel);
    const made: Prepared[] = [];
    // One at a time: each reads the store, and the store is one connection.
    for (const run of runs) made.push(await prepare(ctx, store, run));
    return made;
  }, undefined, settings);
  if (!prepared.length) {
    const filter = [sel.scenario !== undefined && `--scenario ${shellWord(sel.scenario)}`, opts.since !== undefined && `--since ${shellWord(opts.since)}`, sel.status && `--status ${sel.status}`].filter(Boolean).join(' ');
    throw new UsageError(`no recorded run ${filter ? `matches ${filter}` : 'has ended yet'} (see \`${runsCommand}${filter ? ` ${filter}` : ''}\`; runs older than the retention are pruned)`);
  }

  // The server reads another folder: said, as the point is usually to try an edited copy before deploying it.
  const server = serverFolder(settings);
  if (server && !opts.json && existsSync(server.dir) && relativeOrSelf(server.dir) !== relativeOrSelf(folder)) {
    process.stderr.write(`${pc.dim(`replaying against the scenarios of ${relativeOrSelf(folder)}; ${server.from} reads ${relativeOrSelf(server.dir)}`)}\n`);
  }
  // Each run is replayed in the zone its record names; only runs of older builds, which kept none, take this
  // command's, and for them serve.json's zone is still the only clue.
  const unzoned = prepared.filter((p) => p.zone.from === 'command' && p.zone.unknown === undefined).length;
  const unknown = prepared.flatMap((p) => (p.zone.unknown !== undefined ? [p.zone.unknown] : []));
  if (unknown.length) process.stderr.write(`${pc.yellow('!')} ${unknownZoneNote(`${unknown.length} run(s) name in their record`, unknown, settings.timeZone)}\n`);
  const zone = unzoned ? zoneWarning(settings) : undefined;
  if (zone) process.stderr.write(`${pc.yellow('!')} ${unzoned < prepared.length ? `${unzoned} run(s) recorded by an older build, which kept no time zone: ` : ''}${zone}\n`);
  const otherZones = new Map<string, number>();
  for (const p of prepared) if (p.zone.from === 'run' && p.zone.timeZone !== settings.timeZone) otherZones.set(p.zone.timeZone, (otherZones.get(p.zone.timeZone) ?? 0) + 1);
  if (otherZones.size && !opts.json) {
    const which = [...otherZones].map(([z, n]) => `${n} in ${z}`).join(', ');
    process.stderr.write(`${pc.dim(`replaying ${which} (the time zone each run's record names), not this command's ${settings.timeZone}, so their times come out as they did`)}\n`);
  }

  // Problems of the scenarios the replayed runs reach stop the command, as they stop `test`'s cases (exit 2).
  const reached = new Set<string>();
  for (const p of prepared) if ('reached' in p) for (const n of p.reached) reached.add(n);
  const split = await folderProblems(folder, { library, timeZone: settings.timeZone, reached });
  if (split.inTheWay.length) {
    if (opts.json) out.write(`${JSON.stringify({ status: 'invalid', issues: split.inTheWay })}\n`);
    else process.stderr.write(`${split.inTheWay.map(issueLine).join('\n')}\n${pc.red('✗')} ${split.inTheWay.length} problem(s) in the scenarios the runs reach: no run was replayed\n`);
    return 2;
  }
  const defaults: CaseDefaults = { ...runDefaults, invalidScenarios: invalid };

  // The library and templates of the folder in each run's zone (dates in templates and constants are in it).
  const libraries = new LibraryCache();
  const inZone = (zone: string) => (zone === settings.timeZone ? Promise.resolve({ library, templates }) : libraries.get(folder, zone));
  const results = await inParallel(prepared, PARALLEL, async (p) => {
    const own = await inZone(p.zone.timeZone);
    return replay(p, own.library, own.templates, defaults);
  });
  const report: AgainstRunsReport = {
    scenarios: relativeOrSelf(folder),
    same: results.filter((r) => r.result === 'same').length,
    differ: results.filter((r) => r.result === 'differs').length,
    notReplayable: results.filter((r) => r.result === 'not-replayable').length,
    runs: results,
  };
  if (opts.json) out.write(`${JSON.stringify(report)}\n`);
  else {
    for (const r of results) {
      const line = runLine(r, settings.timeZone);
      if (line) out.write(line);
    }
    const summary = `${results.length} recorded run(s) against ${report.scenarios}: ${report.same} same, ${report.differ} differ, ${report.notReplayable} not replayable`;
    out.write(`${report.differ ? pc.red(summary) : report.notReplayable ? pc.yellow(summary) : pc.green(summary)}\n`);
  }
  if (report.differ) return 1;
  // Nothing could be compared: a job that checks nothing must not pass.
  if (report.same === 0) {
    if (!opts.json) process.stderr.write(`${pc.red('✗')} no run could be replayed\n`);
    return 2;
  }
  return 0;
}

interface Context {
  folder: string;
  library: ScenarioLibrary;
  /** Scenarios whose file is in the folder but does not load. */
  invalid: ReadonlySet<string>;
  timeZone: string;
  runsCommand: string;
  /** `scenarioFile` of the folder, read once a scenario. */
  fileOf(name: string): ReturnType<typeof scenarioFile>;
}

/**
 * A run made into the case `--from-run` would write (its parameters inline, not in files), loaded from that text as
 * `test` loads a test file and checked as it checks one; or why it cannot be replayed: the run is not in the store as
 * a whole, its scenario is not in the folder, or what it read was not all recorded (a Bpium answer, a database read's
 * rows, a record cut at its size budget), so its case would fail for want of a fixture, not because of an edit.
 */
async function prepare(ctx: Context, store: Store, run: RunSummary): Promise<Prepared> {
  const { folder, library } = ctx;
  // Of a run not replayed for want of its record: not counted among those in another zone (the command's, so not).
  const unknownZone: RecordedCase['zone'] = { timeZone: ctx.timeZone, from: 'run' };
  let recorded: RecordedCase;
  try {
    recorded = await caseFromRun(store, run.id, { timeZone: ctx.timeZone, runsCommand: ctx.runsCommand, bodies: true });
  } catch (e) {
    // A run stored without its steps (the server's OKTELL_TRACE=failed): said as a run this cannot replay, with what
    // would make later runs replayable; from-run's wording is of a test to make from another run.
    if (e instanceof TraceNotKeptRunError) {
      const reason = `${e.which} was stored without its trace (${e.setting}: a completed run keeps no steps), so it cannot be replayed: the steps give the replay its path and the answers its Bpium reads got. Runs the server records with ${TRACE_SETTING}=all (the default) can be.`;
      return { run, edited: [], notReplayed: [], zone: unknownZone, reason };
    }
    if (e instanceof RecordedRunError) return { run, edited: [], notReplayed: [], zone: unknownZone, reason: e.message };
    throw e;
  }
  const pending = await unendedStart(store, run.id);
  if (pending) return { run, edited: [], notReplayed: [], zone: recorded.zone, reason: pending };
  const edited = [...new Set(recorded.ran.filter((r) => {
    const now = ctx.fileOf(r.scenario);
    return now && r.version && r.version !== 'unknown' && now.version !== r.version;
  }).map((r) => r.scenario))];
  const base = { run, edited, notReplayed: recorded.notReplayed, zone: recorded.zone };
  const more = (list: string[]) => (list.length > 1 ? ` (and ${list.length - 1} more)` : '');
  if (!ctx.fileOf(run.scenario)) return { ...base, reason: `the scenarios folder ${relativeOrSelf(folder)} has no scenario ${run.scenario}` };
  if (recorded.unrecorded.length) return { ...base, reason: `not all it read was recorded: ${recorded.unrecorded[0]}${more(recorded.unrecorded)}` };
  if (recorded.dbUnrecorded.length) return { ...base, reason: `the rows a database read got were not recorded: ${recorded.dbUnrecorded[0]}${more(recorded.dbUnrecorded)}` };
  const { testCase } = caseToWrite(recorded, library, folder);
  testCase.params = inlineParams(testCase.params as Record<string, Value>);
  // Never written: the path only locates the case's problems and would resolve an @file (inline parameters have none).
  const loaded = loadTestText(testFileText(testCase), join(folder, 'tests', `run-${run.id}.test.yaml`), folder);
  const issues = loaded.ok ? [...loaded.file.issues, ...unknownScenarios(loaded.file, [...library.scenarios.keys(), ...ctx.invalid]), ...libraryProblems(loaded.file, library).issues] : loaded.issues;
  if (!loaded.ok || issues.length || loaded.file.cases[0]!.blocked) return { ...base, reason: issues.length ? issueText(issues[0]!) : 'its case does not load' };
  return { ...base, file: loaded.file, reached: reachable(library.calls ?? new Map(), run.scenario) };
}

/**
 * A run (or one of those it started, and so on) started a job that has no ended run yet — queued, or running now — so
 * the record has not what that job does: its case would expect nothing of it and differ for that alone. Said so, to
 * replay once it has run; undefined when every job the tree started has an ended run. A job the store no longer has
 * (pruned) is not waited for.
 */
async function unendedStart(store: Store, runId: string, depth = 0): Promise<string | undefined> {
  const run = await store.getRun(runId);
  if (!run || !Array.isArray(run.trace) || depth > 20) return undefined;
  for (const step of run.trace as Array<Record<string, unknown>>) {
    const effect = step.effect as { started?: unknown; runId?: unknown } | undefined;
    if (!effect || typeof effect.started !== 'string' || typeof effect.runId !== 'string') continue;
    const job = await store.getJob(effect.runId);
    if (!job) continue;
    // Taken out of the queue before it ran (`cancel`): it runs only if someone replays it, so waiting does not help.
    if (!job.lastRunId && job.status === 'dead') {
      return `the job it started (${effect.started}, job ${job.id}) never ran: it was taken out of the queue (dead${errorCode(job.lastError)}); it becomes replayable only if the job is replayed (\`oktell-emu replay ${job.id}\`) and has run`;
    }
    if (job.status === 'running' || !job.lastRunId) {
      return `the job it started (${effect.started}, job ${job.id}) has not ${job.status === 'running' ? 'ended its attempt' : 'run'} yet (${job.status}): replay it once the job has run`;
    }
    const deeper = await unendedStart(store, job.lastRunId, depth + 1);
    if (deeper) return deeper;
  }
  return undefined;
}

/** `, R_CANCELLED`: the code of a job's last error, when it has one. */
function errorCode(error: unknown): string {
  const code = error && typeof error === 'object' ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? `, ${code}` : '';
}

/** A problem of the run's case in words, without the place in a test file that was never written. */
function issueText(i: ScenarioIssue): string {
  return `${i.code} ${i.message}${i.hint ? ` (${i.hint})` : ''}`;
}

/** The run's case run against the folder's scenarios and compared with what the run did. */
async function replay(p: Prepared, library: ScenarioLibrary, templates: EnginePorts['templates'], defaults: CaseDefaults): Promise<ReplayedRun> {
  const { run } = p;
  const row = {
    runId: run.id,
    scenario: run.scenario,
    startedAt: new Date(run.startedAt).toISOString(),
    recordedStatus: run.status,
    ...(p.edited.length ? { edited: p.edited } : {}),
  };
  if ('reason' in p) return { ...row, result: 'not-replayable', reason: p.reason };
  let outcome;
  try {
    outcome = await runCase(p.file.cases[0]!, library, templates, defaults);
  } catch (e) {
    if (e instanceof CaseSetupError) return { ...row, result: 'not-replayable', reason: issueText(e.issue) };
    throw e;
  }
  if (!outcome.mismatches.length) return { ...row, result: 'same' };
  const report = caseReport(p.file, 0, outcome.mismatches, outcome.durationMs, outcome.runErrors);
  return {
    ...row,
    result: 'differs',
    mismatches: report.failures.map(({ place, expected, actual, detail }) => ({ place, expected, actual, ...(detail ? { detail } : {}) })),
    ...(report.runErrors ? { runErrors: report.runErrors } : {}),
    ...(p.notReplayed.length ? { notReplayed: p.notReplayed } : {}),
  };
}

/** The line of a run that differs or could not be replayed; none for a run that goes as recorded. */
function runLine(r: ReplayedRun, zone: string): string | undefined {
  const title = `${r.runId} ${terminalText(r.scenario)} ${pc.dim(`(${isoInZone(Date.parse(r.startedAt), zone).slice(0, 16).replace('T', ' ')})`)}`;
  if (r.result === 'not-replayable') return `${pc.yellow('-')} ${title}: not replayable: ${terminalText(r.reason ?? '')}\n`;
  if (r.result === 'same') return undefined;
  const [first, ...more] = r.mismatches ?? [];
  const lines: string[] = [];
  if (first) {
    const place = first.place ? `${pc.bold(terminalText(first.place))}: ` : '';
    lines.push(`${pc.red('✗')} ${title}: ${place}expected ${pc.green(terminalText(first.expected))} got ${pc.red(terminalText(first.actual))}${more.length ? pc.dim(` (and ${more.length} more difference(s))`) : ''}`);
    for (const d of first.detail ?? []) lines.push(`      ${terminalText(d)}`);
  }
  for (const e of r.runErrors ?? []) lines.push(`    ${pc.red('error')} ${terminalText(`${e.place ? `in started run ${String(e.scenario)} (${e.place}): ` : ''}${formatRunError(e)}`, true)}`);
  if (r.edited?.length) lines.push(`    ${pc.dim(`edited since the run: ${r.edited.join(', ')}`)}`);
  for (const n of r.notReplayed ?? []) lines.push(`    ${pc.yellow('!')} ${pc.dim(`may come from what cannot be replayed: ${terminalText(n)}`)}`);
  return `${lines.join('\n')}\n`;
}
