// `oktell-emu tasks` and `tasks run NAME`: the service tasks of the configuration with their last and next due
// times, read from the server's store; and a manual start (a normal job, marked manual, that the server runs).
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import pc from 'picocolors';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import type { Store } from '../../server/store/store.port.js';
import { scenarioNamesIn } from '../../server/scenario-host.js';
import { scenarioProblems, unknownScenarios, unreadParameters, type ServiceTaskError } from '../../server/tasks/definitions.js';
import { lastRunState, skippingRun, TaskScheduler, type ParamErrors, type TaskLastRun, type TaskStatus } from '../../server/tasks/scheduler.js';
import { dataDirArg, loadLibrary, replayCommandFor, storeSettings, unreadableDataDir, UsageError, type ServerSettings } from '../config.js';
import { databaseDialects } from '../../adapters/db/settings.js';
import { closest, scenarioNameOf, type ScenarioIssue } from '../../engine/index.js';
import { noServerNote, readFolderServer, readServerFile, type FolderServer } from '../server-file.js';
import { printNote, terminalText } from '../format.js';
import { jobAttempts, makeDataFolder, refuseSqliteBesidePostgres, withStore } from '../store.js';

export interface TaskFlags {
  config?: string;
  dataDir?: string;
  scenarios?: string;
  json?: boolean;
}

/**
 * The configuration's tasks and the store they are claimed in: the server's, opened as `runs` opens it (`withStore`).
 * The listing goes on without the data folder. When there is no store yet, the listing reads an empty store in
 * memory — every task "never run" — rather than creating a file; `tasks run` creates the store there (and the folder,
 * 0700, when missing), for the server to find the job when it starts with that folder. `writes` (for `tasks run`)
 * refuses what cannot be queued before anything is created. The data folder's `serve.json` is read once, here, and
 * `fn` gets it with the rest.
 */
async function withTasks<T>(
  o: TaskFlags,
  writes: false | ((config: ServerSettings) => Promise<void>),
  fn: (tasks: TaskScheduler, store: Store, config: ServerSettings, server: FolderServer) => Promise<T>,
  onTaskProblems?: (e: ServiceTaskError) => void,
): Promise<T> {
  // Never opens the scenarios' databases (the server runs the tasks): their passwords are not needed here.
  const config = storeSettings(o, process.env, onTaskProblems);
  const server = readFolderServer(config.dataDir);
  const quiet = { info() {}, warn() {}, error() {}, debug() {} };
  const withScheduler = (store: Store) => fn(new TaskScheduler({ store, tasks: () => config.serviceTasks, logger: quiet, substrBase: config.substrBase }), store, config, server);
  const inMemory = async () => {
    const store = await openSqliteStore({ file: ':memory:' });
    try {
      return await withScheduler(store);
    } finally {
      await store.close();
    }
  };
  // Before anything else, so that what is said is the store the server uses, not a task name checked against the wrong one.
  if (config.store.kind === 'sqlite') refuseSqliteBesidePostgres(config.dataDir, undefined, server);
  // The schedule needs no store: a listing before the server ever ran with its data folder still shows it, with the
  // last runs unknown and a note (a typo in --data-dir shows there too).
  if (config.store.kind === 'sqlite') {
    const denied = unreadableDataDir(config.dataDir);
    if (denied) throw denied;
  }
  if (!writes && config.store.kind === 'sqlite' && !existsSync(config.dataDir)) {
    printNote(`no data folder ${config.dataDir} yet: every task is listed as never run (start the server with it, or check --data-dir)`);
    return inMemory();
  }
  if (writes) await writes(config);
  // `tasks run` makes a missing folder, as a live `run` and `serve` do: the job waits there for the server.
  if (writes && config.store.kind === 'sqlite') makeDataFolder(config.dataDir);
  return withStore(o, withScheduler, writes ? undefined : inMemory, config, server);
}

/** The server's start check of the tasks' scenarios, against the scenarios folder it would load. */
async function scenarioCheck(config: ServerSettings): Promise<{ errors: string[]; warnings: string[]; folder: string }> {
  // Run from elsewhere than the server's folder (an admin's machine, another working folder), there is nothing to
  // check against: said, not taken for "every scenario is missing".
  if (!existsSync(config.scenariosDir)) return { errors: [], warnings: [uncheckedNote(config)], folder: config.scenariosDir };
  const found = scenarioProblems(config.serviceTasks, await scenarioNamesIn(config.scenariosDir));
  // A parameter a task gives that its scenario never reads, as the server warns at its start.
  const { library } = await loadLibrary(config.scenariosDir, undefined, config.timeZone, databaseDialects(config.databases));
  return { ...found, warnings: [...found.warnings, ...unreadParameters(config.serviceTasks, library, config.substrBase)], folder: config.scenariosDir };
}

/** An unknown task, or one whose scenario is not in the scenarios folder (it would fail every attempt): refused, in the server's words. */
async function refuseUnqueueable(config: ServerSettings, name: string): Promise<void> {
  const task = config.serviceTasks.find((t) => t.name === name);
  if (!task) {
    const names = config.serviceTasks.map((t) => t.name);
    const guess = closest(name, names);
    const known = names.length ? `the tasks are ${names.join(', ')}` : 'it has no serviceTasks';
    throw new UsageError(`no service task named "${name}" in the configuration${guess ? `: did you mean "${guess}"?` : ''} (${known})`);
  }
  if (!existsSync(config.scenariosDir)) printNote(uncheckedNote(config));
  else {
    const [missing] = unknownScenarios([task], await scenarioNamesIn(config.scenariosDir));
    if (missing) throw new UsageError(`${missing}; nothing queued`);
  }
}

/**
 * The tasks' scenarios whose file is there but does not load now (the server keeps running the last good version it
 * loaded): each with the first problem of its own file, else the first of the folder (a template or a scenario it
 * starts). Empty without a scenarios folder here.
 */
async function invalidScenarios(config: ServerSettings, names: readonly string[]): Promise<Map<string, ScenarioIssue>> {
  const found = new Map<string, ScenarioIssue>();
  if (!names.length || !existsSync(config.scenariosDir)) return found;
  const onDisk = await scenarioNamesIn(config.scenariosDir);
  if (!names.some((n) => onDisk.has(n))) return found;
  const { library } = await loadLibrary(config.scenariosDir, undefined, config.timeZone, databaseDialects(config.databases));
  for (const name of names) {
    if (library.scenarios.has(name) || !onDisk.has(name)) continue;
    const own = library.issues.filter((i) => scenarioNameOf(i.file) === name);
    const first = own[0] ?? library.issues[0];
    if (first) found.set(name, first);
  }
  return found;
}

/** One line for an invalid scenario: where its first problem is, and what the server runs instead. */
function invalidLine(scenario: string, issue: ScenarioIssue): string {
  return `scenario ${scenario} is invalid on disk: ${issue.file}:${issue.line}:${issue.col} ${issue.code} ${issue.message}; the server runs the last good version it loaded (none, and the run fails, if it started while the file was broken)`;
}

function uncheckedNote(config: ServerSettings): string {
  return `the tasks' scenarios are not checked: no scenarios folder ${config.scenariosDir} here (give --scenarios, or OKTELL_SCENARIOS, the server's folder)`;
}

/** One line per parameter that could not be computed: `parameter 2 failed, passed empty: ToDate: …`. */
function paramErrorLines(errors: ParamErrors, prefix: string): string {
  return Object.entries(errors)
    .map(([n, why]) => `${prefix}parameter ${n} failed, passed empty: ${terminalText(why)}\n`)
    .join('');
}

/**
 * The state of a task's last run as a person reads it: a queued job that already failed is "retrying", with its
 * attempts, last error and next attempt; a dead or failed one with its attempts and last error.
 */
function lastRunText(r: TaskLastRun): string {
  const error = r.lastErrorCode ? `, last error ${r.lastErrorCode}` : '';
  const tries = `${r.attempts}/${r.maxAttempts}`;
  switch (lastRunState(r)) {
    case 'retrying':
      return `${pc.yellow('retrying')} (attempt ${tries}${error}), next ${r.nextAttemptAt}`;
    case 'running-again':
      return `${pc.yellow('running')} (attempt ${tries}${error})`;
    case 'dead':
      return `${pc.red('dead')} after ${tries} attempts${error ? ` (${error.slice(2)})` : ''}`;
    case 'failed':
      return `${pc.red('failed')} (${error ? `${error.slice(2)}, ` : ''}not retryable)`;
    case 'other':
      return r.status;
  }
}

/** The command that replays a dead or failed last run, as `show` prints it; undefined for the others. */
function replayCommand(r: TaskLastRun | null, config: ServerSettings): string | undefined {
  if (!r) return undefined;
  const state = lastRunState(r);
  return state === 'dead' || state === 'failed' ? replayCommandFor(r.jobId, config) : undefined;
}

/** A task left out for its problems: its name and each problem at its file:line:col. */
function rejectedLine(r: { name: string; problems: readonly string[] }): string {
  return `${pc.bold(terminalText(r.name))}  ${pc.red('invalid')}: the server does not start with it\n${r.problems.map((p) => `  ${pc.red('!')} ${terminalText(p, true)}`).join('\n')}`;
}

function line(t: TaskStatus, config: ServerSettings, invalid: ScenarioIssue | undefined): string {
  const r = t.lastRun;
  // A catch-up run is queued at the start, long after the due time it covers: that due time is what it is for.
  const queued = r?.kind === 'catch-up' && r.dueAt ? `for ${r.dueAt}, queued` : 'queued';
  const last = r ? `${lastRunText(r)}, ${r.kind} run ${queued} ${r.createdAt}${r.finishedAt ? `, finished ${r.finishedAt}` : ''}, job ${r.jobId}` : pc.dim('never run');
  const replay = replayCommand(r, config);
  const again = replay ? `\n    ${r!.status === 'dead' ? 'nothing retries it; replay it' : 'replay it once fixed'}: ${replay}` : '';
  const errors = r?.paramErrors ? `\n${paramErrorLines(r.paramErrors, `    ${pc.yellow('!')} `).trimEnd()}` : '';
  const next = t.enabled ? t.next.join(', ') : pc.dim('disabled');
  const broken = invalid ? `\n  ${pc.yellow('!')} ${terminalText(invalidLine(t.scenario, invalid), true)}` : '';
  // The scenario's name as the configuration gives it (a YAML "\u202e" is such a character): escaped as every line is.
  return `${pc.bold(terminalText(t.name))}  ${terminalText(t.scenario)}  ${terminalText(t.schedule)}  ${t.timeZone}${broken}\n  last run: ${last}${again}${errors}${skippingLine(t)}\n  next: ${next}`;
}

/**
 * With `overlap: skip`, a run that failed and waits for (or is in) another attempt skips every due time meanwhile,
 * for hours with the default attempts: said on its own line, with the run and when it is tried next. A first attempt
 * that is merely running or queued is the ordinary overlap, not said.
 */
function skippingLine(t: TaskStatus): string {
  const w = skippingRun(t);
  if (!w) return '';
  const state = w.state === 'retrying' ? `waits for attempt ${w.attempts + 1}/${w.maxAttempts} at ${w.nextAttemptAt}` : `is running again (attempt ${w.attempts}/${w.maxAttempts})`;
  return `\n  ${pc.yellow('skipping due times')} (overlap: skip): the run of ${w.dueAt} ${state}, job ${w.jobId}; due times are skipped until it succeeds or runs out of attempts`;
}

export async function tasksAction(o: TaskFlags): Promise<void> {
  // A task the server would refuse (a bad cron, a bad zone…) does not hide the others: they are listed, it is named
  // with its problems, and the server's lines follow on stderr with exit 2, as for a missing scenario.
  let refused: ServiceTaskError | undefined;
  const { list, problems, config } = await withTasks(o, false, async (s, _store, config) => ({ list: await s.status(), problems: await scenarioCheck(config), config }), (e) => (refused = e));
  if (refused) {
    const said = new Set(refused.problems);
    // A missing scenario is among the parser's problems when there are others: not said twice.
    problems.errors = [...refused.problems, ...problems.errors.filter((p) => !said.has(p))];
    problems.warnings = problems.warnings.filter((p) => !said.has(p));
  }
  const rejected = refused?.rejected ?? [];
  const invalid = await invalidScenarios(config, [...new Set(list.map((t) => t.scenario))]);
  // The document GET /-/tasks answers, so a script reads either the same way; the CLI adds the command that replays
  // a dead or failed last run (`lastRun.replay`), and the first problem of a scenario file that does not load now
  // (`scenarioInvalid`).
  const withReplay = list.map((t) => {
    const replay = replayCommand(t.lastRun, config);
    const issue = invalid.get(t.scenario);
    return {
      ...t,
      ...(replay ? { lastRun: { ...t.lastRun!, replay } } : {}),
      ...(issue ? { scenarioInvalid: { file: issue.file, line: issue.line, col: issue.col, code: issue.code, message: issue.message } } : {}),
    };
  });
  if (o.json) console.log(JSON.stringify({ tasks: withReplay, ...(rejected.length ? { invalid: rejected } : {}) }, null, 2));
  else if (list.length || rejected.length) console.log([...list.map((t) => line(t, config, invalid.get(t.scenario))), ...rejected.map(rejectedLine)].join('\n'));
  else console.log('no service tasks in the configuration (serviceTasks:)');
  // The listing is where a schedule is checked before a start: what would stop `serve` fails it too (exit 2),
  // said with the server's words, after the list so the schedule is still seen.
  for (const w of problems.warnings) process.stderr.write(`${pc.yellow('oktell-emu: warning:')} ${terminalText(w, true)}\n`);
  if (problems.errors.length) {
    process.stderr.write(`${pc.red('oktell-emu:')} ${terminalText(problems.errors.join('\n'), true)}\nthe server does not start with this configuration (scenarios folder: ${problems.folder})\n`);
    // A server already running with this folder refused the edit whole (a missing scenario alone it takes, with a
    // warning): it runs the tasks it loaded last, on their schedules, not those listed above from the file. Only when
    // it reads this file: a draft checked with --config beside a server on the same folder is no edit it refused.
    const running = refused ? readServerFile(config.dataDir) : undefined;
    const readsThisFile = running !== undefined && (running.configFile === undefined || config.configPath === undefined || running.configFile === resolve(config.configPath));
    if (running && readsThisFile) printNote(`a server is running with ${config.dataDir} (pid ${running.pid}): it refused this edit and keeps the tasks it loaded before it, on their own schedules, not the ones listed above; what it runs: the Tasks page of ${running.url}/-/console/ or GET ${running.url}/-/tasks`);
    process.exitCode = 2;
  }
}


export async function tasksRunAction(name: string, _o: TaskFlags, command: Command): Promise<void> {
    const o = command.optsWithGlobals<TaskFlags>();
    const { run, config, maxAttempts, server } = await withTasks(o, (config) => refuseUnqueueable(config, name), async (s, store, config, server) => {
      const run = await s.startManual(name);
      return { run, config, maxAttempts: (await store.getJob(run.jobId))?.maxAttempts, server };
    });
    if (o.json) console.log(JSON.stringify(run));
    else console.log(`${name}: job ${run.jobId} queued`);
    // Queued all the same: a running server has the last good version; but what is on disk is not what will run.
    const task = config.serviceTasks.find((t) => t.name === name)!;
    const broken = (await invalidScenarios(config, [task.scenario])).get(task.scenario);
    if (broken) process.stderr.write(`${pc.yellow('oktell-emu: warning:')} ${terminalText(`${name}: ${invalidLine(task.scenario, broken)}`, true)}\n`);
    const attempts = attemptsNote(config, maxAttempts, server);
    if (attempts) printNote(attempts);
    // Queued all the same, as the server does for a due run; said here, since nothing else shows it before the run.
    if (run.paramErrors && !o.json) process.stderr.write(paramErrorLines(run.paramErrors, `${pc.yellow('oktell-emu: warning:')} ${name}: `));
    const note = noServerNote(config, dataDirArg(config.dataDir), server);
    if (note) printNote(note);
  }

/**
 * When the job took the attempts of the server running on the folder rather than this command's own setting (the
 * operator's shell without the server's OKTELL_MAX_ATTEMPTS, say): which one it got, and what the other said.
 */
function attemptsNote(config: ServerSettings, maxAttempts: number | undefined, folder: FolderServer): string | undefined {
  const own = config.workers.maxAttempts;
  if (maxAttempts === undefined || maxAttempts === own) return undefined;
  const server = jobAttempts(config, folder).server;
  const whose = server ? `those of the server running on ${config.dataDir} (pid ${server.pid})` : 'not this command\'s setting';
  return `the job gets ${maxAttempts} attempts, ${whose}; this command's own setting (OKTELL_MAX_ATTEMPTS, else workers.maxAttempts of the configuration, else 16) says ${own}`;
}
