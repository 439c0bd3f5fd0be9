// `oktell-emu run <Scenario> -p N=value …`: runs a scenario (for real, or --dry-run) and shows what it did.
import { mkdtempSync, rmSync } from 'node:fs';
import { makePrivateFolder } from '../../adapters/private-file.js';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import {
  attachChildResults,
  RUN_ERROR_CODES,
  createInProcessStarter,
  startedRunInputs,
  formatRunError,
  fixedClock,
  formatIssue,
  listScenarioFiles,
  readBodyFile,
  type TextFileRead,
  runScenario,
  type ClockPort,
  type EnginePorts,
  scenarioNameOf,
  type RunResult,
  type ScenarioLibrary,
  type Value,
} from '../../engine/index.js';
import { createFixtureBpium, type BpiumFixtureFile } from '../../adapters/fixtures/bpium-fixtures.adapter.js';
import { checkBpiumFixtureFile, checkHttpFixtureFile, type FixtureFileCheck } from '../testing/test-file.js';
import type { HttpFixture } from '../../adapters/fixtures/http-fixtures.adapter.js';
import { buildPorts } from '../../adapters/ports.js';
import { plainAuthWarning } from '../../adapters/mail/plain-auth-warning.js';
import { parseDateText } from '../../engine/expr/date-time.js';
import { closest, someOf } from '../../engine/suggest.js';
import { clipText } from '../../engine/cut-text.js';
import { timeZoneProblem } from '../../server/config.js';
import { runWrite } from '../../server/run-record.js';
import { sortableIds } from '../../server/store/sortable-id.js';
import { applyMigrations, MigrationError, migrationFailureText, scratchMigrated } from '../../adapters/db/migrations.js';
import { databaseDialects, fromCwd, missingDatabaseFiles, type DatabaseSettings } from '../../adapters/db/settings.js';
import { dataDir, dataDirArg, loadLibrary, scenarioTarget, serverSettings, storeSettings, shellWord, UnavailableError, UsageError, type ServerSettings } from '../config.js';
import { readServerFile } from '../server-file.js';
import { DEMO_LOGIN, DEMO_PASSWORD } from '../../bpium-emulator/index.js';
import { printNote, printRun, terminalText } from '../format.js';
import { reachable } from '../scenario-reach.js';
import { makeDataFolder, refuseSqliteBesidePostgres, withStore } from '../store.js';
import { fileInFolder } from '../../server/scenario-host.js';

export interface RunOpts {
  param: string[];
  dryRun?: boolean;
  json?: boolean;
  scenarios?: string;
  config?: string;
  bpiumFixtures?: string;
  httpFixtures?: string;
  dataDir?: string;
  trace?: boolean;
  now?: string;
  tz?: string;
}

export async function runAction(name: string, opts: RunOpts): Promise<void> {
  // Parsed once: a file given as -p N=@file may be a pipe that can be read only once.
  const params = parseParams(opts.param);
  const { result, ending, tz } = await runFromCli(name, params, opts);
  const recorded = opts.dryRun ? undefined : await recordLiveRun(result, params, tz, opts.dataDir, opts.config);
  if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    // Dates in the run's zone: --tz when given, else the configured one, as the run itself used it.
    printRun(result, process.stdout, 0, tz);
    if (recorded) process.stderr.write(`recorded in ${recorded}: npx oktell-emu show ${result.runId}${dataDirArg(dataDir(opts.dataDir))}\n`);
  }
  // A CI script reads the exit code only: a started run that failed (run inline here) fails the command too, and
  // one line on stderr names it, beside the complete --json or trace on stdout.
  const failed = failedRuns(result);
  if (failed.length) process.stderr.write(`${failureLine(failed)}\n`);
  if (!opts.json) {
    // The storm guard trips deep in the nested output: said once at the end, where it is seen.
    const storm = stoppedStarts(result);
    if (storm) printNote(`${storm} started run(s) stopped with ${RUN_ERROR_CODES.ASYNC_LIMIT}: the scenarios start each other without end`);
    if (ending) printNote(ending);
  }
  process.exitCode = failed.length ? 1 : 0;
}



/**
 * Parses `N=value`, `N=@file`, `N=@@literal`. A parameter given twice is refused rather than one of the values kept
 * silently (easy to do when editing a long command line from the shell's history).
 */
export function parseParams(specs: string[]): Record<string, Value> {
  const out: Record<string, Value> = {};
  const given = new Map<string, string>();
  for (const spec of specs) {
    const m = /^(\d{1,2})=([\s\S]*)$/.exec(spec);
    if (!m || Number(m[1]) < 1) throw new UsageError(`-p ${spec}: expected N=value with N from 1, e.g. -p 1=/Bpium/NewTask or -p 4=@body.json`);
    // `01` and `1` are the same parameter.
    const n = String(Number(m[1]));
    const before = given.get(n);
    if (before !== undefined) throw new UsageError(`parameter ${n} is given twice (-p ${shortened(before)} and -p ${shortened(spec)}): give each parameter once`);
    given.set(n, spec);
    const raw = m[2]!;
    if (raw.startsWith('@@')) out[n] = raw.slice(1);
    else if (raw === '@-') {
      // Standard input, as `webhook send … -` takes a body: `cat body.json | oktell-emu run … -p 4=@-`. It can be read once.
      if ([...given.values()].filter((s) => s.endsWith('=@-')).length > 1) throw new UsageError(`-p ${n}=@-: standard input can be read by one parameter only`);
      out[n] = bodyText(`-p ${n}=@-`, 'standard input', readBodyFile(0));
    } else if (raw.startsWith('@')) {
      let read: TextFileRead;
      try {
        read = readBodyFile(resolve(raw.slice(1)));
      } catch (e) {
        // E_FILE, as docs/cli.md gives a file the command needs that cannot be read (exit 2 all the same).
        throw new UsageError(`-p ${n}=${raw}: cannot read ${raw.slice(1)}: ${(e as Error).message}`, 'E_FILE');
      }
      out[n] = bodyText(`-p ${n}=${raw}`, raw.slice(1), read);
    } else out[n] = raw;
  }
  return out;
}

/**
 * The text of a body read for `-p N=@file` (or `@-`), or a usage error at its first byte that is not UTF-8, naming the
 * code page it looks like: read as UTF-8, a body saved in windows-1251 would reach the run as "�����" unsaid.
 */
function bodyText(flag: string, shown: string, read: TextFileRead): string {
  if (read.ok) return read.text;
  const hint = shown === 'standard input' ? `${read.hint}; or convert it as you pipe it: iconv -f windows-1251 -t utf-8 body.json | oktell-emu run …` : read.hint;
  throw new UsageError(`${flag}: ${shown}:${read.line}:${read.col}: ${read.message}: a parameter is text, and read as UTF-8 its letters would be U+FFFD (�); ${hint}`);
}

/** A command-line value as quoted back in a message: a long JSON body is cut. */
function shortened(text: string): string {
  return text.length > 40 ? `${clipText(text, 39)}…` : text;
}

/**
 * A fixture file of `run`, checked as a test file's fixture: a YAML mistake or a wrong form (a misspelt key, a
 * failure that is no status, a `match` whose method is misspelt) is a usage error listing each problem at its
 * file:line:col with the fix.
 */
function readFixtures<T>(flag: string, file: string, check: (path: string) => FixtureFileCheck<T>): T {
  const r = check(resolve(file));
  if (r.ok) return r.fixture;
  throw new UsageError(`${flag} ${file}: ${r.issues.length} problem(s) in the fixture file, nothing was run:\n${r.issues.map(formatIssue).join('\n')}`, 'E_INVALID_FIXTURE', { issues: r.issues });
}

/**
 * The folder and the scenario to run: `run X` runs X of the scenarios folder, `run path/to/X.yaml` X of that file's
 * folder (as `graph` takes them). A path with a different --scenarios folder, or a path without .yaml, is refused
 * with what was meant, rather than read as an unknown name.
 */
export function runTarget(arg: string, scenarios: string | undefined, config?: string): { dir: string; name: string } {
  const { dir, name, file } = scenarioTarget(arg, scenarios, config);
  if (file && scenarios !== undefined && resolve(scenarios) !== dir) {
    throw new UsageError(`${arg} is not in the --scenarios folder ${resolve(scenarios)}: give the scenario's name with --scenarios (run ${name} --scenarios ${dir}), or its path alone`);
  }
  if (!file && /[\\/]/.test(arg)) {
    throw new UsageError(`"${arg}" is not a scenario name: give the name (the file name without .yaml, e.g. run ${basename(arg)} --scenarios ${dirname(resolve(arg))}) or the path to the .yaml file`);
  }
  return { dir, name };
}

/**
 * The run's time zone (--tz, else `configured`: the server's zone, OKTELL_TZ, else timeZone: of the configuration
 * file, else the default), and with --now the fixed time of its clock.
 */
export function runTime(opts: Pick<RunOpts, 'now' | 'tz' | 'dryRun'>, configured: string): { tz: string; clock?: ClockPort } {
  const tz = opts.tz ?? configured;
  const problem = opts.tz !== undefined ? timeZoneProblem(opts.tz, `--tz "${opts.tz}"`) : undefined;
  if (problem) throw new UsageError(problem);
  if (opts.now === undefined) return { tz };
  // A live run is recorded with its times, and its effects are real: a made-up clock there would mislead `runs`.
  if (!opts.dryRun) throw new UsageError('--now fixes the clock of a dry run only: add --dry-run');
  const at = parseDateText(opts.now, tz);
  if (!at) throw new UsageError(`--now "${opts.now}" is not a date and time: write e.g. 2024-03-15T18:05, "15.03.2024 18:05" or 2024-03-15T15:05Z`);
  return { tz, clock: fixedClock(at) };
}

async function runFromCli(target: string, params: Record<string, Value>, opts: RunOpts): Promise<{ result: RunResult; ending?: string; tz: string }> {
  const { dir, name } = runTarget(target, opts.scenarios, opts.config);
  // The data folder (for the outbox), databases, web-request allow-list and time zone as the server would have them.
  const settings = serverSettings({ dataDir: opts.dataDir, config: opts.config });
  // Checked before the databases are touched: a mistyped option changes nothing. The zone is the server's (OKTELL_TZ,
  // else timeZone: of the configuration file), so a live run recorded beside its runs computed Now() as they do.
  const time = runTime(opts, settings.timeZone);
  // A live run is recorded as what happened: a fixture's made-up answer would be kept as the service's (and `test
  // --from-run` would take it for one).
  if (opts.httpFixtures !== undefined && !opts.dryRun) throw new UsageError('--http-fixtures answers the web requests of a dry run only: add --dry-run');
  // The fake Bpium and web services too: a mistake in their files is said at its line before anything runs, not met
  // halfway through (or, for a misspelt method, never: the fixture would silently match nothing).
  const bpium = opts.bpiumFixtures !== undefined ? readFixtures('--bpium-fixtures', opts.bpiumFixtures, checkBpiumFixtureFile) : undefined;
  const http = opts.httpFixtures !== undefined ? readFixtures('--http-fixtures', opts.httpFixtures, checkHttpFixtureFile) : undefined;
  // The scenario is loaded and checked first: one that is not there (a typo) or cannot run is refused before anything
  // is made, and leaves nothing behind: no data folder, no database made by the migrations, no scratch copy.
  const { library, templates } = await loadLibrary(dir, undefined, time.tz, databaseDialects(settings.databases));
  await refuseInvalid(library, name, settings.databases, time.tz);
  // As `serve` refuses it: a mistyped SQLite path of a connection other than main would become an empty database.
  const missing = missingDatabaseFiles(resolve(dir, 'db'), settings.databases, settings.configFile && fromCwd(settings.configFile));
  if (missing.length) throw new UsageError(missing.join('\n'));
  // A live run writes its record, letters and databases there: the folder is made now, 0700, before any of them.
  // Refused before it sends anything when the folder's server keeps its runs in PostgreSQL: the record would go nowhere.
  if (!opts.dryRun && settings.store.kind === 'sqlite') refuseSqliteBesidePostgres(settings.dataDir);
  if (!opts.dryRun && settings.store.kind === 'sqlite') makeDataFolder(settings.dataDir);
  // A dry run keeps nothing: a database with migrations still to apply (or not created yet) is used through a
  // migrated scratch copy, removed when the run ends.
  const scratch = opts.dryRun ? mkdtempSync(join(tmpdir(), 'oktell-dry-run-db-')) : undefined;
  let databases = settings.databases;
  try {
    // The tables the scenarios expect (scenarios/db/<connection>/*.sql), as the server applies them at start.
    if (scratch) databases = scratchMigrated(resolve(dir, 'db'), settings.databases, scratch);
    else applyMigrations(resolve(dir, 'db'), databases);
  } catch (e) {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    // A database another program holds locked is not a mistake of the call or the scenario: exit 1, try again later.
    if (e instanceof MigrationError && e.busy) throw new UnavailableError(e.message, 'E_DB_LOCKED');
    throw new UsageError(e instanceof MigrationError ? migrationFailureText(e) : (e as Error).message);
  }
  try {
    const result = await runWithDatabases(name, params, opts, { library, templates }, settings, databases, time, { bpium, http });
    const ending = name === settings.hook.scenario ? unansweredHookNote(result, library, settings.hook.returns) : undefined;
    return { result, ...(ending ? { ending } : {}), tz: time.tz };
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

async function runWithDatabases(
  name: string,
  params: Record<string, Value>,
  opts: RunOpts,
  { library, templates }: Awaited<ReturnType<typeof loadLibrary>>,
  settings: ServerSettings,
  databases: DatabaseSettings,
  time: { tz: string; clock?: ClockPort },
  fixtures: { bpium?: BpiumFixtureFile; http?: HttpFixture[] },
): Promise<RunResult> {
  const tz = time.tz;
  // The server's cap: OKTELL_MAX_EFFECTS over the configuration file's maxEffectsPerRun, as serve reads it.
  const maxEffects = settings.maxEffectsPerRun;
  const limits = maxEffects ? { limits: { maxEffects } } : {};
  const built = buildPorts({
    env: process.env,
    dataDir: settings.dataDir,
    templates,
    // The server's ids: a live run is recorded beside its runs, and listings sort them by id the same way.
    ids: sortableIds,
    bpium: fixtures.bpium ? { kind: 'port', port: createFixtureBpium(fixtures.bpium) } : { kind: 'env' },
    ...(fixtures.http ? { httpFixtures: fixtures.http } : {}),
    webRequest: settings.webRequest,
    regexBudgetMs: settings.regexBudgetMs,
    ...(settings.substrBase !== undefined ? { substrBase: settings.substrBase } : {}),
    noMail: opts.dryRun === true,
    databases,
    // A dry run's statements run in a transaction rolled back when it ends (async runs it follows included).
    rollBackDatabases: opts.dryRun === true,
    ...(time.clock ? { clock: time.clock } : {}),
  });
  // A live run sends its letters: a login the mail client will refuse is said before the first letter fails.
  const mailWarning = opts.dryRun === true ? undefined : plainAuthWarning(process.env);
  if (mailWarning) process.stderr.write(`oktell-emu: warning: ${terminalText(mailWarning, true)}\n`);
  const hint = built.ports.bpium ? undefined : runningEmulatorHint(settings.dataDir);
  const ports: EnginePorts = { ...built.ports, ...(hint ? { bpiumHint: hint } : {}), asyncStarter: undefined as never };
  const starter = createInProcessStarter(sortableIds, (req, runId) =>
    runScenario(library, req.scenario, { ...startedRunInputs(req), runId, dryRun: opts.dryRun === true, trace: opts.trace !== false, timeZone: tz, ports, ...limits }),
  );
  ports.asyncStarter = starter;
  try {
    const result = await runScenario(library, name, { params, dryRun: opts.dryRun === true, trace: opts.trace !== false, timeZone: tz, ports, ...limits });
    return attachChildResults(result, await starter.drain());
  } finally {
    await built.close();
  }
}

/**
 * A run of the hook scenario that completed with neither the status nor the body of the answer set: the server
 * answers such a request 404 Not Found (`hookResponse`), which the run's output alone does not show. Said with where
 * the run ended — most often an exit left unwired, such as a Condition's `false` — so the 404 is not a surprise.
 */
function unansweredHookNote(result: RunResult, library: ScenarioLibrary, returns: ServerSettings['hook']['returns']): string | undefined {
  if (result.status !== 'completed') return undefined;
  const set = (n: number) => {
    const v = result.returnValues[String(n)];
    return v !== undefined && v !== null && v !== '';
  };
  // hookResponse: a status that is not empty, or a body that is there (even empty), makes an answer.
  if (set(returns.status) || (result.returnValues[String(returns.body)] !== undefined && result.returnValues[String(returns.body)] !== null)) return undefined;
  const last = result.traceTruncated ? undefined : result.trace.at(-1);
  const block = last ? library.scenarios.get(last.scenario)?.blocks.get(last.block) : undefined;
  const of = last && last.scenario !== result.scenario ? ` of ${last.scenario}` : '';
  const where = !last
    ? 'ended'
    : block && block.def.exits.includes(last.exit) && block.exits[last.exit] === undefined
      ? `ended at the unwired exit "${last.exit}" of block ${last.block}${of}`
      : `ended at block ${last.block}${of} (${last.exit})`;
  return `${result.scenario} ${where} with no status (return value ${returns.status}) or body (return value ${returns.body}) set: the server would answer this request 404 Not Found, as Oktell answers an unknown resource; to answer otherwise, set return value ${returns.status} on that way (a ReturnValue block the exit leads to)`;
}

/** Scenario names a refusal lists one by one; a folder of hundreds gets the first ones and a count. */
const LISTED_NAMES = 10;

/**
 * Stops before running when the scenario, or one it can start (call, jump, async; those it starts in turn too), has
 * problems: those are listed, as `validate` gives them, and structured under --json; the problems of unrelated files
 * of the folder are only counted, since they do not stand in this run's way.
 */
async function refuseInvalid(library: ScenarioLibrary, name: string, databases: DatabaseSettings, tz: string): Promise<void> {
  const onDisk = new Map((await listScenarioFiles(library.dir)).map((f) => [scenarioNameOf(f), f]));
  if (!onDisk.has(name)) {
    const known = [...onDisk.keys()];
    const guess = closest(name, known);
    throw new UsageError(`unknown scenario "${name}" in ${library.dir} (the scenarios folder: --scenarios, else OKTELL_SCENARIOS, else scenarios: of the configuration file, else ./scenarios)${guess !== undefined ? `; did you mean "${guess}"?` : ''}${known.length ? `; its scenarios: ${someOf(known, LISTED_NAMES)}` : ', which has no scenario files'}; or give the path to the file: run path/to/${name}.yaml`);
  }
  const reach = reachable(library.calls ?? new Map(), name);
  if ([...reach].every((n) => library.scenarios.has(n))) return;
  // Loaded again on their own, these files report exactly their problems, those of the templates they use included.
  const files = [...reach].map((n) => onDisk.get(n)).filter((f): f is string => f !== undefined);
  const { library: own } = await loadLibrary(library.dir, files, tz, databaseDialects(databases));
  const issues = own.issues.length ? own.issues : library.issues.filter((i) => reach.has(scenarioNameOf(i.file)));
  const ownFiles = new Set(issues.map((i) => i.file));
  const others = new Set(library.issues.map((i) => i.file).filter((f) => !ownFiles.has(f))).size;
  const started = [...reach].filter((n) => n !== name);
  // An HTTP404 routing to hundreds of scenarios names only those of them with problems.
  // A target that has no file is a problem of the scenario naming it (E_UNKNOWN_SCENARIO), not a scenario it can start.
  const existing = started.filter((n) => onDisk.has(n));
  const broken = existing.filter((n) => !library.scenarios.has(n));
  const scope = !started.length ? name : started.length <= LISTED_NAMES ? `${name} and the scenarios it starts (${started.join(', ')})` : `${name} and the ${existing.length} scenarios it can start (${broken.length ? `with problems: ${broken.join(', ')}` : 'none with problems of its own'})`;
  const folder = fileInFolder(library.dir, process.cwd());
  const note = others ? `\n${others} other file(s) of the folder have problems too, not in this run's way: npx oktell-emu validate --scenarios ${folder}` : '';
  throw new UsageError(`scenario ${name} cannot run: ${issues.length} problem(s) in ${scope}:\n${issues.map(formatIssue).join('\n')}${note}`, 'E_INVALID_SCENARIO', {
    scenario: name,
    issues,
    otherInvalidFiles: others,
  });
}

/**
 * A live run made real effects, so it is kept like the server's runs: in the data folder's store (or the configured
 * PostgreSQL), with trigger `cli`, and each async run it started with trigger `async` under it, so `runs`, `show`
 * and the console find them. A dry run changed nothing and is not recorded. Returns where it went, or undefined when
 * the store could not take it (said on stderr; the run itself stands).
 */
async function recordLiveRun(result: RunResult, params: Record<string, Value>, tz: string, dir: string | undefined, config: string | undefined): Promise<string | undefined> {
  try {
    const settings = storeSettings({ dataDir: dir, config });
    const { store: setting, dataDir: folder } = settings;
    const postgres = setting.kind === 'postgres';
    // The folder was made before the run (runFromCli); made again, quietly, should it have gone meanwhile.
    if (!postgres) makePrivateFolder(folder);
    return await withStore({ dataDir: dir, config }, async (store) => {
      const write = async (r: RunResult, trigger: 'cli' | 'async', p: Record<string, Value>, parentRunId: string | null): Promise<void> => {
        await store.recordRun(runWrite(r, { trigger, params: p, timeZone: tz, parentRunId, budgetBytes: settings.runRecordBytes, traceKept: settings.traceKept }));
        for (const a of r.asyncStarted) if (a.result) await write(a.result, 'async', a.params, r.runId);
      };
      await write(result, 'cli', params, null);
      return postgres ? 'the PostgreSQL store' : join(folder, 'oktell.sqlite');
    }, undefined, settings);
  } catch (e) {
    process.stderr.write(`oktell-emu: the run was not recorded: ${terminalText((e as Error).message, true)}\n`);
    return undefined;
  }
}

/** How many runs under `r` failed because the run followed too many async starts (scenarios starting each other). */
function stoppedStarts(r: RunResult): number {
  return r.asyncStarted.reduce((n, a) => n + (a.result ? (a.result.error?.code === RUN_ERROR_CODES.ASYNC_LIMIT ? 1 : 0) + stoppedStarts(a.result) : 0), 0);
}

/** A failed run of the tree and the run that started it (undefined for the top run). */
interface FailedRun {
  run: RunResult & { status: 'failed' };
  startedBy?: RunResult;
}

/** Every failed run of the tree, the top run first, then the started ones depth-first (the order the trace shows). */
export function failedRuns(r: RunResult, startedBy?: RunResult): FailedRun[] {
  const own: FailedRun[] = r.status === 'failed' ? [{ run: r, ...(startedBy ? { startedBy } : {}) }] : [];
  return [...own, ...r.asyncStarted.flatMap((a) => (a.result ? failedRuns(a.result, r) : []))];
}

/** The one stderr line for a tree with failed runs: the first named with its error, the others counted. */
export function failureLine(failed: readonly FailedRun[]): string {
  const [first, ...rest] = failed;
  const { run, startedBy } = first!;
  const which = startedBy ? `started run ${run.scenario} (run ${run.runId}, started by ${startedBy.scenario})` : `run ${run.scenario} (run ${run.runId})`;
  const more = rest.length ? ` (and ${rest.length} more failed run(s) of this tree: see the output)` : '';
  return `oktell-emu: ${which} failed: ${terminalText(formatRunError(run.error), true)}${more}`;
}

/**
 * With no Bpium configured, how to use the emulator of the server running on this data folder (its `serve.json`), as
 * settings to copy. The password is printed only when it is the emulator's public demo one; a server started with its
 * own BPIUM_PASSWORD did not write it down, and it is not guessed.
 */
export function runningEmulatorHint(dir: string): string | undefined {
  const running = readServerFile(dir);
  if (!running?.bpiumEmulator) return undefined;
  const login = running.bpiumEmulatorLogin;
  // A serve.json of an older server has no login: its emulator took BPIUM_LOGIN, else the demo account.
  const account = login === undefined
    ? `BPIUM_LOGIN and BPIUM_PASSWORD set to its account (${DEMO_LOGIN} / ${DEMO_PASSWORD} unless that server was started with its own)`
    : `BPIUM_LOGIN=${shellWord(login)} BPIUM_PASSWORD=${running.bpiumEmulatorDemoAccount ? DEMO_PASSWORD : "'<the BPIUM_PASSWORD that server was started with>'"}`;
  return `the server running on ${dir} (pid ${running.pid}) has a Bpium emulator at ${running.bpiumEmulator}: to use it, run with BPIUM_URL=${running.bpiumEmulator} ${account}`;
}
