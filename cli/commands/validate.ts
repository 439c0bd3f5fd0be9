// `oktell-emu validate [paths…]`: checks scenario files and prints every problem as file:line:col code message.
import { stat } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import pc from 'picocolors';
import { createScenarioLoadCache, isScenarioFileName, listScenarioFiles, scenarioNameOf, SCENARIO_EXTENSIONS, type DeferredCheck, type Scenario, type ScenarioIssue, type ScenarioLibrary, type ScenarioLoadCache } from '../../engine/index.js';
import { databaseDialects, fromCwd, missingDatabaseFiles } from '../../adapters/db/settings.js';
import { checkStatementsPrepare, type UncheckedStatements } from '../../adapters/db/prepare-check.js';
import { webRequestAttempts } from '../../adapters/web/client.js';
import { scenarioEnvNames, unknownEnvWarnings } from '../../server/env-names.js';
import { deadLetterScenarioWarning, hookStatusWarnings, hookWriteWarnings, scenarioWarnings, sharedStoreDatabaseWarnings } from '../../server/startup-warnings.js';
import { existingDataDir, loadLibrary, scenariosDir, serverSettings, UsageError } from '../config.js';
import { watchValidation } from './validate-watch.js';
import { issueText, terminalText } from '../format.js';

/** Scenario folders to validate, each with the files to check (undefined: every scenario of the folder). */
export type ValidationGroups = Map<string, string[] | undefined>;

/**
 * What loading the files of each folder gave, kept between validations (`--watch`), so that a save parses only the
 * files that changed, as the server's reload does. Two per folder when files are named: one for them, one for the
 * rest of the folder, each load keeping only the files it was given.
 */
export class ValidationCaches {
  private readonly caches = new Map<string, ScenarioLoadCache>();
  of(dir: string, part: 'checked' | 'rest'): ScenarioLoadCache {
    const key = `${dir}\u0000${part}`;
    let c = this.caches.get(key);
    if (!c) this.caches.set(key, (c = createScenarioLoadCache()));
    return c;
  }
}

export interface Validation {
  issues: ScenarioIssue[];
  /** Scenario files checked. */
  count: number;
  /** Connections whose DbQuery statements could not be prepared (the database is down…), or one block's statement, and why. */
  unchecked: UncheckedStatements[];
  /** Checks of blocks that wait for the problems reported with them to be fixed. */
  deferred: DeferredCheck[];
  /**
   * What `serve` would warn about in the hook scenario, when the folder holds it: a status no answer may have, a write
   * made while the webhook waits; with a PostgreSQL store configured, a scenario's connection that is SQLite (each
   * instance's own); and variables that take their value from an environment variable that is not set here or a file
   * that cannot be read, or that are secrets written in the file. Not problems: the files are valid, and the exit code
   * does not count them.
   */
  warnings: string[];
}

export async function validateAction(paths: string[], opts: { scenarios?: string; config?: string; json?: boolean; watch?: boolean; dataDir?: string }): Promise<void> {
  if (opts.watch && opts.json) throw new UsageError('--watch prints for people; use --json without --watch');
  const groups = await groupByFolder(paths.length ? paths : [scenariosDir(opts.scenarios, process.env, opts.config)], opts.scenarios);
  // A data folder named on the command line must exist: a typo would otherwise check against an empty database.
  if (opts.dataDir !== undefined) existingDataDir(resolve(opts.dataDir));
  const caches = opts.watch ? new ValidationCaches() : undefined;
  const result = await validate(groups, opts.dataDir, opts.config, loadLibrary, caches);
  // A folder with no scenario file checks nothing: "0 scenario file(s) valid" with exit 0 would pass a CI step whose
  // path is wrong (a renamed folder, a checkout without it). --watch waits for the first file instead.
  if (result.count === 0 && result.issues.length === 0 && !opts.watch) {
    const where = [...groups.keys()].map((d) => relative(process.cwd(), d) || '.').join(', ');
    throw new UsageError(`no scenario files (${SCENARIO_EXTENSIONS.map((e) => `*${e}`).join(', ')}) in ${where}: nothing was checked; name the scenarios folder (--scenarios, OKTELL_SCENARIOS, scenarios: of the configuration file) or the files`);
  }
  if (opts.json) {
    const extra = {
      ...(result.unchecked.length ? { unchecked: result.unchecked } : {}),
      ...(result.deferred.length ? { deferred: result.deferred } : {}),
      ...(result.warnings.length ? { warnings: result.warnings } : {}),
    };
    process.stdout.write(`${JSON.stringify({ valid: result.issues.length === 0, scenarios: result.count, issues: result.issues, ...extra }, null, 2)}\n`);
  } else {
    for (const i of result.issues) process.stdout.write(`${issueText(i)}\n`);
    for (const u of result.unchecked) process.stderr.write(`${terminalText(uncheckedNote(u), true)}\n`);
    for (const w of result.warnings) process.stdout.write(`${pc.yellow('warning:')} ${terminalText(w, true)}\n`);
    if (result.deferred.length) process.stdout.write(`${terminalText(deferredNote(result.deferred), true)}\n`);
    process.stdout.write(`${summary(result)}\n`);
  }
  process.exitCode = result.issues.length ? 1 : 0;
  if (opts.watch) await watchValidation(groups, result, process.stdout, opts.dataDir, opts.config, caches);
}


/** How `validate` loads scenario files (loadLibrary; a test counts the files it is given). */
export type LibraryLoader = typeof loadLibrary;

/**
 * Validates every group once; files are checked with the other scenarios of their folder, DbQuery statements against
 * the databases of the data folder `dataDir` (else the configured one). Each scenario file is loaded once.
 */
export async function validate(groups: ValidationGroups, dataDir?: string, config?: string, load: LibraryLoader = loadLibrary, caches?: ValidationCaches): Promise<Validation> {
  const issues: ScenarioIssue[] = [];
  const unchecked: Validation['unchecked'] = [];
  const deferred: DeferredCheck[] = [];
  // The configuration as the server would load it (the files and OKTELL_* settings), read once for the connections to
  // prepare statements on and the hook scenario to warn about. A setting `run` and `serve` refuse is refused here too,
  // in their words (a UsageError, exit 2), rather than skipping the checks that need it and answering "valid"; no
  // configuration file at all is the defaults, as for them.
  const configured = serverSettings({ dataDir, config });
  const settings = configured.databases;
  const hook = { scenario: configured.hook.scenario, statusSlot: configured.hook.returns.status };
  // Attempts of one WebRequest in all, as the server's client takes them (WEB_REQUEST_ATTEMPTS, checked with the settings above).
  const webAttempts = webRequestAttempts(process.env);
  const warnings: string[] = [];
  const envRead = [...configured.fileEnvNames];
  let count = 0;
  for (const [dir, files] of groups) {
    // As `run` and `serve` refuse it: a mistyped SQLite path of a connection other than main.
    const missing = missingDatabaseFiles(resolve(dir, 'db'), settings, configured.configFile && fromCwd(configured.configFile));
    if (missing.length) throw new UsageError(missing.join('\n'));
    const { library } = await load(dir, files, configured.timeZone, databaseDialects(settings), caches?.of(dir, 'checked'));
    const found = [...library.issues];
    deferred.push(...(library.deferred ?? []));
    // Where a connection can be reached, its statements must prepare there too (reported at the block's line), also
    // in files with other problems, so that they come in the same list.
    const prepared = await checkStatementsPrepare(library, settings, dir);
    found.push(...prepared.issues);
    unchecked.push(...prepared.skipped);
    deferred.push(...prepared.deferred);
    issues.push(...found.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col));
    // Files named as in the problems above (from the working folder), not from the scenarios folder as the server's log does.
    warnings.push(...hookStatusWarnings(hook.scenario, library, hook.statusSlot, (file) => file), ...hookWriteWarnings(hook.scenario, library, (file) => file));
    // As `serve` says it: the dead-letter catch-all configured but not loaded. Only for the whole scenarios folder: a file
    // checked alone is loaded without the others, and another folder is not where the server looks for it, so in either
    // case the catch-all would look missing when it is not.
    const deadLetter = files || resolve(dir) !== resolve(configured.scenariosDir) ? undefined : deadLetterScenarioWarning(configured.deadLetter, library, (file) => file);
    if (deadLetter) warnings.push(deadLetter);
    // What `serve` says too, from the same function: variables, a POST a retry may repeat, a Bpium entry of request text.
    warnings.push(...scenarioWarnings(library, webAttempts, (file) => file));
    // As `serve` says it: a scenario's SQLite database would be each instance's own under the configured PostgreSQL store.
    warnings.push(...sharedStoreDatabaseWarnings(configured.store, configured.databases, library));
    // The `env:` names of the whole folder, as `serve` loads it: a file checked alone must not make a variable that
    // another scenario of its folder reads look unread. The files checked are not loaded again for it.
    const rest = (files: string[]) => load(dir, files, configured.timeZone, databaseDialects(settings), caches?.of(dir, 'rest')).then((l) => l.library);
    envRead.push(...scenarioEnvNames(files ? await folderScenarios(dir, files, library, rest) : library));
    count += files?.length ?? (await listScenarioFiles(dir)).length;
  }
  // As `serve` says at its start: a variable of a prefix the product owns that nothing reads (`OKTELL_PROT`), in the
  // environment validate runs in (as the `env:` of a variable is checked in it).
  warnings.push(...unknownEnvWarnings(process.env, envRead).map((w) => w.message));
  return { issues, count, unchecked, deferred: deferred.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line), warnings };
}

/**
 * The scenarios of folder `dir` as loading it whole gives them (serve's view), when the files `checked` were loaded
 * alone into `loaded`: only the folder's other files are loaded, by `loadRest`. A scenario's compilation, and the
 * check of the names it refers to, depend only on its own file and the names of the folder's files, so each file
 * compiles as it would in the whole folder; a name that two files of the folder share (`X.yaml`, `X.yml`) is, as
 * there, neither's (E_DUPLICATE_SCENARIO). A checked file from outside the folder (--scenarios) is not the folder's:
 * the folder's own file of that name counts, as it does for serve.
 */
async function folderScenarios(dir: string, checked: string[], loaded: ScenarioLibrary, loadRest: (files: string[]) => Promise<ScenarioLibrary>): Promise<Pick<ScenarioLibrary, 'scenarios'>> {
  const all = await listScenarioFiles(dir);
  const mine = new Set(checked);
  const others = all.filter((f) => !mine.has(f));
  const rest = others.length ? await loadRest(others) : undefined;
  const scenarios = new Map<string, Scenario>();
  for (const f of all) {
    const s = (mine.has(f) ? loaded : rest)?.scenarios.get(scenarioNameOf(f));
    // The library names a file as loadScenarioLibrary shows it: from the working folder.
    if (s && s.file === (relative(process.cwd(), f) || f)) scenarios.set(s.name, s);
  }
  return { scenarios };
}

/** The note for statements a connection could not check: all of them, or one block's (a lock, a slow statement). */
function uncheckedNote(u: UncheckedStatements): string {
  if (!u.block) return `note: the statements on connection "${u.connection}" were not prepared: ${u.reason}`;
  const b = u.block;
  return `note: ${b.file}:${b.line}:${b.col} the statement of block ${b.block} was not prepared on connection "${u.connection}": ${u.reason}`;
}

/** One line naming the checks that wait for fixes, so that a clean second run is not mistaken for the last word. */
export function deferredNote(deferred: readonly DeferredCheck[]): string {
  return `note: more checks run once these are fixed: ${deferred.map((d) => `${d.file}:${d.line}:${d.col} block ${d.block} (${d.checks})`).join('; ')}`;
}

/** The last line of a validation: all valid, or how many problems in how many files. */
export function summary(v: Validation): string {
  if (v.issues.length === 0) return `${pc.green('✓')} ${v.count} scenario file(s) valid`;
  return `${pc.red('✗')} ${v.issues.length} problem(s) in ${new Set(v.issues.map((i) => i.file)).size} file(s)`;
}

/**
 * Files are validated together with the other scenarios of their folder, so references between them resolve. A file
 * outside the folder given with --scenarios is validated with that folder instead (its templates, the scenarios it
 * calls, its migrations), as if it were saved there: how a copy being edited elsewhere is checked before it goes in.
 */
async function groupByFolder(paths: string[], scenariosFlag?: string): Promise<ValidationGroups> {
  const home = scenariosFlag === undefined ? undefined : resolve(scenariosFlag);
  if (home !== undefined && !(await stat(home).catch(() => undefined))?.isDirectory()) throw new UsageError(`--scenarios ${scenariosFlag}: no such folder`);
  const groups: ValidationGroups = new Map();
  for (const p of paths) {
    const abs = resolve(p);
    const st = await stat(abs).catch(() => undefined);
    if (!st) throw new UsageError(`${p}: no such file or folder`);
    if (st.isDirectory()) {
      groups.set(abs, undefined);
    } else {
      if (!isScenarioFileName(abs)) throw new UsageError(`${p}: not a scenario file (${SCENARIO_EXTENSIONS.join(', ')})`);
      if (/\.test\.ya?ml$/i.test(abs)) throw new UsageError(`${p} is a test file, not a scenario: run it with \`oktell-emu test ${p}\``);
      const dir = home ?? dirname(abs);
      if (groups.has(dir) && groups.get(dir) === undefined) continue;
      groups.set(dir, [...(groups.get(dir) ?? []), abs]);
    }
  }
  return groups;
}

