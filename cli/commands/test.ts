// `oktell-emu test [files or folders…]`: runs the cases of scenario test files (`tests/*.test.yaml`) and reports
// each one; exit 0 when all pass, 1 when one fails, 2 on a usage error or an invalid test file.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import pc from 'picocolors';
import { watchFolders, type FolderWatch } from '../../adapters/folder-watch.js';
import { formatIssue, listScenarioFiles, scenarioFileNamed, SCENARIO_ERROR_CODES, scenarioNameOf, scenarioVersion, type ScenarioIssue, type ScenarioLibrary, type Value } from '../../engine/index.js';
import { reachable } from '../scenario-reach.js';
import { dataDirArg, loadLibrary, oneOf, scenariosDir, storeSettings, UsageError, type ServerSettings } from '../config.js';
import { configuredRunSettings } from '../../server/config.js';
import { envSetting } from '../../engine/env.js';
import { refuseSqliteBesidePostgres, withStore } from '../store.js';
import { caseFromRun, caseToWrite, paramsToFiles, quotedUnknownZone, ranVersionWarnings, recordedNote, RecordedRunError, type RecordedZone } from '../testing/from-run.js';
import { appendCase } from '../testing/write-case.js';
import { untilStopped } from '../watch-stop.js';
import { readServerFile } from '../server-file.js';
import { issueText, printNote, printWarning, terminalText } from '../format.js';
import { caseReport, inFileOrder, jsonReport, junitReport, summaryLine, textReport, type CaseReport, type NotRun } from '../testing/report.js';
import type { Observed } from '../testing/expectations.js';
import { CaseSetupError, LibraryCache, runCase, type CaseDefaults, type CaseOutcome } from '../testing/run-case.js';
import { DEFAULT_TEST_TIME_ZONE, libraryProblems, loadTestFile, TEST_FILE_SUFFIXES, unknownScenarios, type TestCase, type TestFile } from '../testing/test-file.js';
import { refreshed, rewriteExpectations } from '../testing/update.js';
import { fileInFolder } from '../../server/scenario-host.js';

export interface TestOpts {
  scenarios?: string;
  json?: boolean;
  reporter: string;
  filter?: string;
  update?: boolean;
  watch?: boolean;
  fromRun?: string;
  name?: string;
  out?: string;
  dataDir?: string;
  config?: string;
  againstRuns?: boolean;
  scenario?: string;
  since?: string;
  status?: string;
  limit?: string;
}

/** The options once the scenarios folder is found (the flag, else as `serve` finds it): every step uses that one. */
interface FolderOpts extends TestOpts {
  scenarios: string;
}

/** Cases run this many at a time: enough to overlap template and file reads, few enough to keep output steady. */
export const PARALLEL = 4;

export async function testAction(paths: string[], given: TestOpts): Promise<void> {
  // The folder `serve` reads (-s, OKTELL_SCENARIOS, `scenarios:` of the configuration file, ./scenarios), found once:
  // its tests/ are run, a case from --from-run is written there, and a test file outside a tests/ folder runs its
  // scenarios.
  const opts: FolderOpts = { ...given, scenarios: scenariosDir(given.scenarios, process.env, given.config) };
  oneOf('--reporter', opts.reporter, ['text', 'junit']);
  // Two formats for one standard output: one of them would be dropped without a word.
  if (opts.json && opts.reporter !== 'text') throw new UsageError(`--json and --reporter ${opts.reporter} both choose the output: give one`);
  if (opts.againstRuns) {
    if (opts.fromRun) throw new UsageError('--against-runs and --from-run both choose the runs: give one');
    if (paths.length) throw new UsageError(`--against-runs replays recorded runs, not test files: it takes no paths (${paths[0]})`);
    const other = ([['--watch', opts.watch], ['--update', opts.update], ['--filter', opts.filter], ['--name', opts.name], ['--out', opts.out], ['--reporter junit', opts.reporter !== 'text']] as const).find(([, given]) => given);
    if (other) throw new UsageError(`--against-runs writes nothing and prints its own report: it does not go with ${other[0]}`);
    process.exitCode = await (await import('./test-against.js')).againstRuns(opts, process.stdout);
    return;
  }
  const runOption = ([['--scenario', opts.scenario], ['--since', opts.since], ['--status', opts.status], ['--limit', opts.limit]] as const).find(([, v]) => v !== undefined);
  if (runOption) throw new UsageError(`${runOption[0]} goes with --against-runs (it selects the recorded runs to replay)`);
  if (opts.fromRun) {
    if (paths.length || opts.watch || opts.update) throw new UsageError('--from-run writes one case: it takes no paths, --watch or --update');
    process.exitCode = await fromRun(opts.fromRun, opts, process.stdout);
    return;
  }
  if (opts.name || opts.out) throw new UsageError('--name and --out go with --from-run');
  if (opts.watch && (opts.update || opts.json || opts.reporter !== 'text')) throw new UsageError('--watch prints for people: it does not go with --update, --json or --reporter junit');
  if (opts.watch) await watchTests(paths, opts, process.stdout);
  else process.exitCode = await runTests(paths, opts, process.stdout);
}


/**
 * One pass over the test files: loads, runs, reports; returns the exit code. `folders` collects the folders the pass
 * depended on (the test paths and the scenario folders), for --watch.
 */
export async function runTests(paths: string[], opts: FolderOpts, out: NodeJS.WritableStream, folders = new Set<string>()): Promise<number> {
  const roots = paths.length ? paths : [join(opts.scenarios, 'tests')];
  for (const p of roots) folders.add(resolve(p));
  const misnamed: string[] = [];
  const files = findTestFiles(roots, paths.length === 0, misnamed);
  const libraries = new LibraryCache();
  const loaded: TestFile[] = [];
  const filter = opts.filter?.toLowerCase();
  const matches = (file: TestFile, c: TestCase) => !filter || c.name.toLowerCase().includes(filter) || file.file.toLowerCase().includes(filter);
  // Problems keep only the cases they concern from running: a test file whose form is wrong (mistakes inside inline
  // http: or bpium: fixtures alone stop only the cases using those fixtures), a case with an @file,
  // fixture, clock or time zone that is not right (or using the file's, when that one is not), a case naming a
  // scenario or a variable that is not there, or presetting a variable with a value its type cannot hold. A loaded
  // file's problems are reported together, in the order of the file; the other files and cases still run.
  const issues: ScenarioIssue[] = misnamed.map(misnamedTestFile);
  const blocked = new Set<TestFile['cases'][number]>();
  // Each scenarios folder's load problems, and the scenarios its selected cases can run (theirs and those they start):
  // problems of other files there are not in this pass's way (see folderProblems).
  const folderLibraries = new Map<string, { library: ScenarioLibrary; timeZone: string; reached: Set<string>; invalid: Set<string> }>();
  for (const path of files) {
    const r = loadTestFile(path, defaultScenariosFor(path, opts.scenarios));
    if (!r.ok) {
      issues.push(...r.issues);
      continue;
    }
    const file = r.file;
    folders.add(file.scenariosDir);
    // Loaded in a time zone a case will run in: a blocked case's may be the wrong one.
    const tz = file.cases.find((c) => !c.blocked)?.timeZone ?? DEFAULT_TEST_TIME_ZONE;
    const { library } = await libraries.get(file.scenariosDir, tz);
    // A broken scenario is reported once, not once per test file of its folder.
    const folder = folderLibraries.get(file.scenariosDir) ?? { library, timeZone: tz, reached: new Set<string>(), invalid: new Set<string>() };
    folderLibraries.set(file.scenariosDir, folder);
    for (const c of file.cases) if (matches(file, c)) for (const n of reachable(library.calls ?? new Map(), c.scenario)) folder.reached.add(n);
    // Scenarios whose file is there but did not load are invalid, not unknown.
    const onDisk = library.issues.length ? (await listScenarioFiles(file.scenariosDir)).map(scenarioNameOf) : [];
    const presets = libraryProblems(file, library);
    const invalid = new Set(onDisk.filter((n) => !library.scenarios.has(n)));
    for (const n of invalid) folder.invalid.add(n);
    // Invalid scenarios are not unknown: the cases of one are held back below; a case whose run may start one runs,
    // and fails where it reaches it, as the server's job would.
    const unknown = unknownScenarios(file, [...library.scenarios.keys(), ...invalid]);
    const trees = invalidTrees(file, invalid, (c) => matches(file, c));
    // By line and column within each file, not across them: a fixture file's line 4 is not before the test file's 9.
    issues.push(...inFileOrder([...file.issues, ...unknown, ...trees.issues, ...presets.issues], file.file));
    for (const c of file.cases) if (c.blocked || !library.scenarios.has(c.scenario) || trees.cases.has(c) || presets.cases.has(c.index)) blocked.add(c);
    loaded.push(file);
  }

  // Problems of scenarios no selected case runs are listed as a warning, as `run` counts them "not in this run's way".
  const others: ScenarioIssue[] = [];
  for (const [dir, folder] of folderLibraries) {
    const split = await folderProblems(dir, folder);
    issues.push(...split.inTheWay);
    others.push(...split.others);
  }
  if (others.length && !opts.json) otherProblemsWarning(others, [...folderLibraries.keys()]);

  const selected = loaded.flatMap((file) => file.cases.filter((c) => !blocked.has(c) && matches(file, c)).map((c) => ({ file, c })));
  // The selected cases a problem kept from running: in a JUnit report each is a case of its own, errored with its problems.
  const notRunOf = (isNotRun: (file: TestFile, c: TestCase) => boolean) => casesNotRun(loaded, (file, c) => matches(file, c) && isNotRun(file, c), issues);
  if (selected.length === 0) {
    if (issues.length) return invalid(issues, opts, out, others, notRunOf((_, c) => blocked.has(c)));
    throw new UsageError(filter ? `no case matches --filter ${opts.filter}` : 'no test cases found');
  }

  const defaults = caseDefaults(opts);
  const results = await inParallel(selected, PARALLEL, async ({ file, c }) => {
    const { library, templates } = await libraries.get(file.scenariosDir, c.timeZone);
    try {
      return await runCase(c, library, templates, { ...defaults, invalidScenarios: folderLibraries.get(file.scenariosDir)?.invalid ?? new Set() });
    } catch (e) {
      // A data set or migration the database refuses keeps the case from running, like any other problem.
      if (e instanceof CaseSetupError) return e;
      throw e;
    }
  });
  // A file's data set (or a migration) fails for each case using it: reported once, at its line, with the count.
  const setups = new Map<string, { issue: ScenarioIssue; cases: number }>();
  for (const r of results) {
    if (!(r instanceof CaseSetupError)) continue;
    const key = formatIssue(r.issue);
    const seen = setups.get(key) ?? { issue: r.issue, cases: 0 };
    seen.cases++;
    setups.set(key, seen);
  }
  for (const { issue, cases } of setups.values()) issues.push({ ...issue, message: `${issue.message} (${cases === 1 ? 'its case was' : `${cases} cases were`} not run)` });
  const ran = selected.flatMap((s, i) => { const r = results[i]!; return r instanceof CaseSetupError ? [] : [{ ...s, outcome: r }]; });
  const setupFailed = new Set(selected.filter((_, i) => results[i] instanceof CaseSetupError).map((x) => x.c));
  const notRun = () => notRunOf((_, c) => blocked.has(c) || setupFailed.has(c));
  if (ran.length === 0) return invalid(issues, opts, out, others, notRun());
  if (!opts.json) postgresNotes(ran, defaults.postgresConnections ?? {});
  const reports: CaseReport[] = ran.map(({ file, c, outcome }) => caseReport(file, c.index, outcome.mismatches, outcome.durationMs, outcome.runErrors));
  // Gathered file by file and check by check: listed as a reader goes through each file.
  issues.splice(0, issues.length, ...inFileOrder(issues));
  const reached = ran.some(({ outcome }) => outcome.reachedInvalid);
  const problems = issues.length ? `${issues.length} problem(s) listed above (the cases they concern did not run${reached ? '; a run that reached an invalid scenario failed there' : ''})` : undefined;
  // On stderr for people and CI logs; --json has them in its object.
  if (problems && !opts.json) process.stderr.write(`${issues.map(issueText).join('\n')}\n`);

  if (opts.update) {
    update(ran, opts, out, issues);
    return issues.length ? 2 : 0;
  }
  if (opts.json) out.write(jsonReport(reports, issues, others));
  else if (opts.reporter === 'junit') out.write(junitReport(reports, issues, notRun()));
  else {
    for (const r of reports) out.write(textReport(r));
    const failed = reports.some((r) => r.status === 'failed');
    const line = `${summaryLine(reports)}${problems ? `; ${problems}` : ''}`;
    out.write(`${failed || problems ? pc.red(line) : pc.green(line)}\n`);
  }
  return issues.length ? 2 : reports.some((r) => r.status === 'failed') ? 1 : 0;
}

/**
 * The server's cap, regex budget, SubStr base (OKTELL_SUBSTR_BASE over `substrBase`) and web allow-list as `serve`
 * reads them (OKTELL_MAX_EFFECTS, OKTELL_REGEX_BUDGET_MS and WEB_REQUEST_ALLOW_HOSTS over `maxEffectsPerRun`,
 * `regexBudgetMs` and `webRequest.allowHosts` of the configuration file: --config, OKTELL_CONFIG or
 * ./oktell.config.yaml), so a case fails where the server's run would; a case or file can set its own cap.
 */
export function caseDefaults(opts: Pick<TestOpts, 'config'>): CaseDefaults {
  try {
    const { maxEffectsPerRun: maxEffects, regexBudgetMs, substrBase, webRequest: { allowHosts }, postgresConnections } = configuredRunSettings(opts.config !== undefined ? { config: opts.config } : {}, process.env);
    return { ...(maxEffects !== undefined ? { maxEffects } : {}), ...(regexBudgetMs !== undefined ? { regexBudgetMs } : {}), ...(substrBase !== undefined ? { substrBase } : {}), ...(allowHosts?.length ? { allowHosts } : {}), postgresConnections };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/**
 * A scenarios folder's load problems split in two: those of the scenarios the selected cases can run (their own, those
 * they start, and the templates they use: loaded again on their own, as `run` does), which keep cases from running and
 * make the exit code 2; and the others (another scenario, a stray file), which stand in no case's way.
 */
export async function folderProblems(dir: string, folder: { library: ScenarioLibrary; timeZone: string; reached: ReadonlySet<string> }): Promise<{ inTheWay: ScenarioIssue[]; others: ScenarioIssue[] }> {
  const { library, reached } = folder;
  if (!library.issues.length) return { inTheWay: [], others: [] };
  const onDisk = new Map((await listScenarioFiles(dir)).map((f) => [scenarioNameOf(f), f]));
  const broken = [...reached].filter((n) => onDisk.has(n) && !library.scenarios.has(n));
  if (!broken.length) return { inTheWay: [], others: [...library.issues] };
  const { library: own } = await loadLibrary(dir, broken.map((n) => onDisk.get(n)!), folder.timeZone);
  const key = (i: ScenarioIssue) => `${i.file}:${i.line}:${i.col}:${i.code}:${i.message}`;
  const mine = new Set(own.issues.map(key));
  // A reached scenario's own file counts whatever the second load said (its templates' files only through it).
  const inTheWay = (i: ScenarioIssue) => mine.has(key(i)) || reached.has(scenarioNameOf(i.file));
  return { inTheWay: library.issues.filter(inTheWay), others: library.issues.filter((i) => !inTheWay(i)) };
}

/** On stderr: the problems of files no selected case depends on, listed, without counting against the pass. */
function otherProblemsWarning(others: ScenarioIssue[], dirs: string[]): void {
  const folders = dirs.map((d) => fileInFolder(d, process.cwd()));
  const files = new Set(others.map((i) => i.file)).size;
  printWarning(`${files} file(s) of the scenarios folder have problems that no case run here depends on (not in this run's way; npx oktell-emu validate --scenarios ${folders.join(' / ')}):`);
  process.stderr.write(`${inFileOrder(others).map(issueText).join('\n')}\n`);
}

/**
 * A note per connection configured as PostgreSQL on which statements of the cases failed: a case runs it on a fresh
 * SQLite database of its own, so SQL only PostgreSQL takes (or a table only PostgreSQL has) fails there, and the
 * case's failure alone ("database error SQLITE_ERROR") does not say why.
 */
function postgresNotes(ran: Array<{ file: TestFile; c: TestCase; outcome: { observed: Observed } }>, postgres: Readonly<Record<string, string>>): void {
  const failed = new Map<string, { cases: Set<string>; first: string }>();
  const visit = (file: TestFile, c: TestCase, o: Observed) => {
    for (const call of o.dbCalls ?? []) {
      const connection = String(call.connection);
      if (postgres[connection] === undefined || call.status !== 'error') continue;
      const seen = failed.get(connection) ?? { cases: new Set<string>(), first: `${String(call.error ?? '')}` };
      seen.cases.add(`${file.file} › ${c.name}`);
      failed.set(connection, seen);
    }
    for (const a of o.asyncStarted) if (a.result) visit(file, c, a.result);
  };
  for (const { file, c, outcome } of ran) visit(file, c, outcome.observed);
  for (const [connection, { cases, first }] of failed) {
    const which = cases.size === 1 ? `case ${[...cases][0]}` : `${cases.size} cases (the first: ${[...cases][0]})`;
    printNote(`statements on connection "${connection}" failed in ${which}${first ? ` (${first})` : ''}: "${connection}" is PostgreSQL (${postgres[connection]}), but a test case never opens it: it runs every connection on a fresh SQLite database of its own, with the tables of the scenarios' db/${connection}/*.sql and the rows of its db: data set. SQL only PostgreSQL takes (ILIKE, ::casts, now()) fails there: write the statement so SQLite takes it too and give the case its tables and rows, or expect the error exit in the case and try the statement on PostgreSQL with oktell-emu run --dry-run (its changes rolled back)`);
  }
}

/**
 * The selected cases whose own scenario is invalid: they are held back, with one problem per scenario at its first
 * selected case, counting only the selected cases (--filter). A case whose scenario can start an invalid one (call,
 * jump, AsyncScenario, and those in turn) runs: a route that never reaches the broken scenario is tested as the server
 * would run it, and one that does fails there, saying so (see `runCase`); the broken scenario's problems are listed
 * as in this run's way either way.
 */
function invalidTrees(file: TestFile, invalid: ReadonlySet<string>, selected: (c: TestCase) => boolean): { issues: ScenarioIssue[]; cases: Set<TestCase> } {
  const byScenario = new Map<string, TestCase[]>();
  for (const c of file.cases) {
    if (!selected(c) || !invalid.has(c.scenario)) continue;
    byScenario.set(c.scenario, [...(byScenario.get(c.scenario) ?? []), c]);
  }
  const issues = [...byScenario].map(([scenario, cases]): ScenarioIssue => {
    const who = cases.length === 1 ? 'its case' : `the ${cases.length} cases running it`;
    return {
      ...file.source.locate(['cases', cases[0]!.index, 'scenario']),
      code: SCENARIO_ERROR_CODES.INVALID_PROPERTY,
      message: `scenario "${scenario}" is invalid (its problems are listed with its file): ${who} cannot run`,
      hint: 'fix it; `oktell-emu validate` lists the problems (`oktell-emu run` refuses such a scenario the same way)',
    };
  });
  return { issues, cases: new Set([...byScenario.values()].flat()) };
}

/**
 * --watch: a pass now, then another after each change under the folders the last pass used (scenarios, templates,
 * test files, fixtures). Problems that would end a single pass (an invalid file) are printed and the watch goes on.
 */
async function watchTests(paths: string[], opts: FolderOpts, out: NodeJS.WritableStream): Promise<void> {
  let watcher: FolderWatch | undefined;
  let running = Promise.resolve();
  const pass = async (why?: string) => {
    if (why) out.write(`\n${pc.dim(`── ${why}: running again ──`)}\n`);
    const folders = new Set<string>();
    try {
      await runTests(paths, opts, out, folders);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      process.stderr.write(`${pc.red('oktell-emu:')} ${terminalText(e.message, true)}\n`);
    }
    watcher?.close();
    // Each folder on its own (and its subfolders: templates/parts, tests/recorded), so rename-saves are seen too.
    watcher = watchFolders({
      roots: [...new Set([...folders].map((dir) => (statSync(dir, { throwIfNoEntry: false })?.isDirectory() ? dir : dirname(dir))))],
      subfolder: () => true,
      relevant: (file) => !/(~|\.sw[px]|\.tmp\d*)$/.test(file) && !basename(file).startsWith('.#'),
      onChange: (files) => {
        running = running.then(() => pass(`${files[0] ? relativeOrSelf(files[0]) : 'a file'} changed`));
      },
      onError: () => undefined,
    });
    out.write(pc.dim('watching for changes (Ctrl+C to stop)\n'));
  };
  await pass();
  await untilStopped(out, () => watcher?.close(), () => running);
}

export function relativeOrSelf(file: string): string {
  return fileInFolder(file, process.cwd());
}

/** --from-run: writes the case (and its long parameters as files) into the test file, then runs it. */
async function fromRun(runId: string, opts: FolderOpts, out: NodeJS.WritableStream): Promise<number> {
  const file = resolve(opts.out ?? join(opts.scenarios, 'tests', 'recorded.test.yaml'));
  if (!TEST_FILE_SUFFIXES.some((s) => file.endsWith(s))) throw new UsageError(`--out ${opts.out}: a test file name ends with ${TEST_FILE_SUFFIXES.join(' or ')}`);
  const settings = recordingStore(opts);
  try {
    return await writeRecorded(file, runId, opts, out, settings);
  } catch (e) {
    if (e instanceof RecordedRunError) throw new UsageError(e.message);
    throw e;
  }
}

/**
 * The settings of the store the server recorded its runs in (--from-run, --against-runs): read only, so the scenarios'
 * database passwords are not needed; a SQLite store that is not there is a usage error naming where it was looked for.
 */
export function recordingStore(opts: Pick<TestOpts, 'dataDir' | 'config'>): ServerSettings {
  const settings = storeSettings({ dataDir: opts.dataDir, config: opts.config });
  if (settings.store.kind === 'sqlite') refuseSqliteBesidePostgres(settings.dataDir);
  if (settings.store.kind === 'sqlite' && !existsSync(join(settings.dataDir, 'oktell.sqlite'))) {
    throw new UsageError(`no store at ${join(settings.dataDir, 'oktell.sqlite')}: point --data-dir (or OKTELL_DATA_DIR, or dataDir: in the config file) at the server's data folder`);
  }
  return settings;
}

async function writeRecorded(file: string, runId: string, opts: FolderOpts, out: NodeJS.WritableStream, settings: ServerSettings): Promise<number> {
  const recorded = await withStore({ dataDir: opts.dataDir, config: opts.config }, (store) => caseFromRun(store, runId, { ...(opts.name ? { name: opts.name } : {}), timeZone: settings.timeZone, runsCommand: `oktell-emu runs${settings.store.kind === 'sqlite' ? dataDirArg(settings.dataDir) : ''}` }), undefined, settings);
  // The case will run the scenarios of the folder its file is in: said now when they are not the ones that ran.
  const folder = defaultScenariosFor(file, opts.scenarios);
  const folders = folderCheck(runId, recorded.ran, folder, serverFolder(settings));
  if (folders.refusal) throw new UsageError(folders.refusal);
  const zone = recorded.zone.from === 'run' ? undefined : zoneWarning(settings);
  for (const w of [...folders.warnings, zone ?? []].flat()) process.stderr.write(`${pc.yellow('!')} ${terminalText(w, true)}\n`);
  const ranIn = recordedZoneNote(runId, recorded.zone, settings.timeZone);
  if (ranIn) process.stderr.write(recorded.zone.unknown !== undefined ? `${pc.yellow('!')} ${ranIn}\n` : `${pc.dim(ranIn)}\n`);
  // Set outside the scenario where the case is written: pinned, so the case does not depend on where it runs.
  const library = existsSync(folder) ? (await loadLibrary(folder, undefined, recorded.zone.timeZone)).library : undefined;
  const { testCase, setting } = caseToWrite(recorded, library, folder);
  const sources: string[] = [];
  testCase.params = paramsToFiles(testCase.params as Record<string, Value>, runId, (name, text) => {
    mkdirSync(dirname(join(dirname(file), name)), { recursive: true });
    writeFileSync(join(dirname(file), name), text);
  }, sources);
  appendCase(file, testCase, recordedNote(runId, recorded.unrecorded, recorded.dbUnrecorded, recorded.cutValues, recorded.notReplayed, sources, setting));
  const shown = relativeOrSelf(file);
  // With --json or JUnit, standard output is the report alone, for a program to parse: the notices go to stderr.
  const notices = opts.json || opts.reporter !== 'text' ? process.stderr : out;
  const missing = [
    recorded.unrecorded.length ? `${recorded.unrecorded.length} Bpium answer(s)` : '',
    recorded.dbUnrecorded.length ? `the rows of ${recorded.dbUnrecorded.length} database read(s)` : '',
  ].filter(Boolean).join(' and ');
  notices.write(`${pc.green('+')} case "${String(testCase.name)}" written to ${shown}${missing ? pc.yellow(` (${missing} not recorded: see the comment above it)`) : ''}\n`);
  // Named here, not only in the file: the case will likely fail at once, and this says why before its report does.
  for (const what of recorded.notReplayed) notices.write(`${pc.yellow('!')} cannot be replayed: ${what}\n`);
  return runTests([file], { ...opts, filter: String(testCase.name), fromRun: undefined }, out);
}

/**
 * The scenarios folder the server that recorded the runs reads, as far as this command can know it: the one the
 * data folder's `serve.json` names (a running server, or one killed without removing it), else the one of
 * OKTELL_SCENARIOS or of `scenarios:` in the configuration file. Undefined when neither says (the server may have had
 * -s): then only the versions of the scenarios tell.
 */
export function serverFolder(settings: ServerSettings): { dir: string; from: string } | undefined {
  const file = readServerFile(settings.dataDir, () => true);
  if (file?.scenariosDir) return { dir: file.scenariosDir, from: `the server of ${relativeOrSelf(settings.dataDir)} (serve.json)` };
  if (envSetting(process.env, 'OKTELL_SCENARIOS')) return { dir: resolve(settings.scenariosDir), from: 'OKTELL_SCENARIOS' };
  if (settings.configFile && resolve(settings.scenariosDir) !== resolve('scenarios')) return { dir: resolve(settings.scenariosDir), from: `scenarios: of ${relativeOrSelf(settings.configFile)}` };
  return undefined;
}

/**
 * The warning for a case made from the runs of a server that ran in another time zone than this command's (its
 * `serve.json` says, also after the server stopped): every time the runs wrote would differ. Undefined when the zones
 * agree or the file does not say (an older server, a store copied without its data folder).
 */
export function zoneWarning(settings: ServerSettings): string | undefined {
  const zone = readServerFile(settings.dataDir, () => true)?.timeZone;
  if (!zone || zone === settings.timeZone) return undefined;
  return `the server of ${relativeOrSelf(settings.dataDir)} runs in the time zone ${zone} (serve.json), this command in ${settings.timeZone}: the times its runs wrote will differ; run it with OKTELL_TZ=${zone}`;
}

/**
 * Of runs whose record names a zone this runtime does not know (a store edited by hand, or an older time zone
 * database than the server's): replayed in this command's zone instead. `who` starts the sentence.
 */
export function unknownZoneNote(who: string, zones: string[], own: string): string {
  const named = [...new Set(zones)].slice(0, 3).map(quotedUnknownZone).join(', ');
  return `${who} the time zone ${named}, which is not one this build knows (a store edited by hand, or a server with a newer time zone database): replayed in this command's ${own} instead, so the times it wrote may differ; run the command with OKTELL_TZ set to the zone the server ran in`;
}

/**
 * The note for a case made from a run whose record names the zone it ran in, when that is not this command's: the
 * case is written in the run's zone, so its times come out as they did. Undefined otherwise.
 */
export function recordedZoneNote(runId: string, zone: RecordedZone, own: string): string | undefined {
  if (zone.unknown !== undefined) return unknownZoneNote(`run ${runId}'s record names`, [zone.unknown], own);
  if (zone.from !== 'run' || zone.timeZone === own) return undefined;
  return `run ${runId} ran in the time zone ${zone.timeZone} (its record), this command's is ${own}: the case has timeZone: ${zone.timeZone}, so its times come out as they did`;
}

/**
 * Whether the scenarios of `target` (the folder the case's file runs) are the ones that ran: each recorded run keeps
 * the version (content hash) of its scenario, compared with the file of the same name there. The case's own scenario
 * missing from `target` is refused: the case could not run. Another version, a started scenario missing, or a server
 * known to read another folder is a warning naming both folders: the case is written and run, and likely fails.
 */
export function folderCheck(runId: string, ran: ReadonlyArray<{ scenario: string; version: string }>, target: string, server: { dir: string; from: string } | undefined): { refusal?: string; warnings: string[] } {
  const shown = relativeOrSelf(target);
  const other = server && resolve(server.dir) !== resolve(target) ? server : undefined;
  const serverSays = other ? `; ${other.from} reads ${relativeOrSelf(other.dir)}` : '';
  const give = other ? `give --scenarios ${relativeOrSelf(other.dir)}` : 'give --scenarios the folder the server reads';
  const { ownMissing, warnings } = ranVersionWarnings(runId, ran, (scenario) => {
    const onDisk = scenarioFile(target, scenario);
    return onDisk && { file: relativeOrSelf(onDisk.file), version: onDisk.version };
  }, { holder: `the scenarios folder ${shown}`, shown, also: serverSays, fix: `edited since, or another folder: ${give} if so` });
  if (ownMissing) {
    return { refusal: `run ${runId} ran ${ran[0]!.scenario}, which the scenarios folder ${shown} does not have${serverSays}: the case would test nothing; ${give} (or --out a test file under that folder's tests/)`, warnings };
  }
  if (other && !warnings.length) {
    warnings.push(`the case is written for the scenarios of ${shown}, but ${other.from} reads ${relativeOrSelf(other.dir)}; the scenarios that ran are at the versions that ran in ${shown}, but its templates and data may not be the server's (${give} to write the case there)`);
  }
  return { warnings };
}

/** `name`'s file in `dir` and its version (the content hash the loader gives it, which run records keep); undefined when absent. */
export function scenarioFile(dir: string, name: string): { file: string; version: string } | undefined {
  const file = scenarioFileNamed(dir, name);
  return file ? { file, version: scenarioVersion(readFileSync(file, 'utf8')) } : undefined;
}

/**
 * The cases `isNotRun` picks, each with the problems found within its own lines of the test file (its scenario, an
 * @file, a fixture, a variable…). A problem elsewhere — a file-wide setting, a fixture file's own line, a scenario —
 * is no single case's: the case then has none of its own, and the report's error for that file holds it.
 */
function casesNotRun(loaded: TestFile[], isNotRun: (file: TestFile, c: TestCase) => boolean, issues: readonly ScenarioIssue[]): NotRun[] {
  return loaded.flatMap((file) => {
    const starts = file.cases.map((c) => file.source.locate(['cases', c.index]).line);
    return file.cases.flatMap((c, i) => {
      if (!isNotRun(file, c)) return [];
      const end = starts[i + 1] ?? Infinity;
      const own = issues.filter((x) => x.file === file.file && x.line >= starts[i]! && x.line < end);
      return [{ file: file.file, name: c.name, issues: own }];
    });
  });
}

/** Nothing could run: every selected case was kept from running by a problem. */
function invalid(unordered: ScenarioIssue[], opts: TestOpts, out: NodeJS.WritableStream, others: ScenarioIssue[] = [], notRun: NotRun[] = []): number {
  const issues = inFileOrder(unordered);
  if (opts.json) out.write(`${JSON.stringify({ status: 'invalid', issues, ...(others.length ? { warnings: inFileOrder(others) } : {}) })}\n`);
  else if (opts.reporter === 'junit') out.write(junitReport([], issues, notRun));
  if (!opts.json) process.stderr.write(`${issues.map(issueText).join('\n')}\n${pc.red('✗')} ${issues.length} problem(s): no case was run\n`);
  return 2;
}

/** Rewrites the failing cases' expectations, file by file; every case that ran then passes. */
function update(runs: Array<{ file: TestFile; c: TestFile['cases'][number]; outcome: CaseOutcome }>, opts: TestOpts, out: NodeJS.WritableStream, issues: ScenarioIssue[]): void {
  const byFile = new Map<TestFile, Map<number, unknown>>();
  // A case whose run reached an invalid scenario is left as it is: its expectation would record that scenario's
  // failure, which lasts only until its file is fixed.
  const kept = runs.filter(({ outcome }) => outcome.mismatches.length && outcome.reachedInvalid);
  for (const { file, c, outcome } of runs) {
    if (outcome.mismatches.length === 0 || outcome.reachedInvalid) continue;
    const updates = byFile.get(file) ?? new Map<number, unknown>();
    updates.set(c.index, refreshed(c.expect, outcome.observed));
    byFile.set(file, updates);
  }
  const written: Array<{ file: string; cases: string[] }> = [];
  for (const [file, updates] of byFile) {
    writeFileSync(file.path, rewriteExpectations(readFileSync(file.path, 'utf8'), updates));
    written.push({ file: file.file, cases: [...updates.keys()].map((i) => file.cases[i]!.name) });
  }
  const notUpdated = kept.map(({ file, c }) => ({ file: file.file, case: c.name, why: 'its run reached an invalid scenario' }));
  if (opts.json) out.write(`${JSON.stringify({ updated: written, ...(notUpdated.length ? { notUpdated } : {}), ...(issues.length ? { status: 'invalid', issues } : {}) })}\n`);
  else {
    for (const w of written) for (const name of w.cases) out.write(`${pc.yellow('↻')} ${w.file} › ${name} updated\n`);
    for (const { file, c } of kept) out.write(`${pc.red('✗')} ${file.file} › ${c.name} not updated: its run reached an invalid scenario (fix it first)\n`);
    const n = written.reduce((s, w) => s + w.cases.length, 0);
    out.write(`${n} updated, ${runs.length - n} unchanged${issues.length ? `; ${issues.length} problem(s) listed above (the cases they concern did not run${kept.length ? `; ${kept.length} case(s) not updated: their run reached an invalid scenario` : ''})` : ''}\n`);
  }
}

/**
 * Test files under the given paths; a folder is searched through its subfolders. A YAML file met there that holds
 * `cases:` at its top but is not named *.test.yaml (`checkout-test.yaml`, `checkout.tests.yaml`) goes to `misnamed`:
 * its cases would silently not run, and a CI job would pass without them. Fixture files have no `cases:` key.
 */
export function findTestFiles(paths: string[], implicit: boolean, misnamed: string[] = []): string[] {
  const found: string[] = [];
  const isTest = (name: string) => TEST_FILE_SUFFIXES.some((s) => name.toLowerCase().endsWith(s));
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory() && e.name !== 'node_modules' && !e.name.startsWith('.')) walk(join(dir, e.name));
      else if (e.isFile() && isTest(e.name)) found.push(join(dir, e.name));
      else if (e.isFile() && /\.ya?ml$/i.test(e.name) && casesLine(join(dir, e.name)) !== undefined) misnamed.push(join(dir, e.name));
    }
  };
  for (const p of paths) {
    const abs = resolve(p);
    const st = statSync(abs, { throwIfNoEntry: false });
    if (!st) {
      // A pattern the shell did not expand (quoted, or a Windows shell): the command does not expand it either.
      const pattern = /[*?[]/.test(p) ? ' (oktell-emu does not expand patterns such as *: leave them to the shell unquoted, or name the folder, which is searched through its subfolders)' : '';
      throw new UsageError(implicit ? `no tests folder at ${p} (create it, or name test files or folders)` : `${p}: no such file or folder${pattern}`);
    }
    if (st.isDirectory()) walk(abs);
    else if (isTest(basename(abs))) found.push(abs);
    else throw new UsageError(`${p}: not a test file (${TEST_FILE_SUFFIXES.join(', ')})`);
  }
  if (found.length === 0 && misnamed.length === 0) throw new UsageError(`no test files (*${TEST_FILE_SUFFIXES[0]}) in ${paths.join(', ')}`);
  return [...new Set(found)];
}

/** The line (1-based) of a top-level `cases:` key in a YAML file; undefined when it has none or cannot be read. */
function casesLine(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const at = text.replace(/^\uFEFF/, '').split(/\r\n?|\n/).findIndex((l) => /^cases\s*:/.test(l));
  return at === -1 ? undefined : at + 1;
}

/** The problem of a file that looks like a test file but is not named as one (see findTestFiles). */
function misnamedTestFile(path: string): ScenarioIssue {
  const shown = relative(process.cwd(), path) || path;
  const name = basename(path).replace(/([.-]tests?)?\.ya?ml$/i, '');
  return {
    file: shown,
    line: casesLine(path) ?? 1,
    col: 1,
    code: SCENARIO_ERROR_CODES.TEST_FILE_NAME,
    message: `this file has cases: but its name does not end in ${TEST_FILE_SUFFIXES.join(' or ')}, so its cases were not run`,
    hint: `rename it to ${name}${TEST_FILE_SUFFIXES[0]}; a fixture or body file next to the tests has no top-level cases: key`,
  };
}

/** A test file inside `<dir>/tests/…` tests the scenarios of `<dir>`; elsewhere, those of `folder` (the scenarios folder). */
export function defaultScenariosFor(testFile: string, folder: string): string {
  const parts = dirname(testFile).split(sep);
  const at = parts.lastIndexOf('tests');
  return at > 0 ? parts.slice(0, at).join(sep) || sep : folder;
}

/** `fn` over `items`, at most `limit` at a time; the results in the items' order. */
export async function inParallel<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
