// Where things are: scenario folder, data folder, time zone — from flags, then the environment, then defaults.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { defaultRegistry } from '../components/registry.js';
import { createTemplateRenderer } from '../adapters/mail/templates.js';
import { isScenarioFileName, loadScenarioLibrary, SCENARIO_EXTENSIONS, scenarioNameOf, type DbDialect, type ScenarioLibrary, type ScenarioLoadCache } from '../engine/index.js';
import { configuredScenariosDir, loadServerConfig, timeZoneProblem } from '../server/config.js';
import { envSetting } from '../engine/env.js';
import { UsageError } from './errors.js';
import { closest } from '../engine/suggest.js';
import type { ServiceTaskError } from '../server/tasks/definitions.js';
export { UnavailableError, UsageError } from './errors.js';

export const DEFAULT_TIME_ZONE = 'Europe/Moscow';

/**
 * The scenarios folder every command reads: the flag, else OKTELL_SCENARIOS, else `scenarios:` of the configuration
 * file (`config`, else OKTELL_CONFIG, else ./oktell.config.yaml when there is one), else ./scenarios — as `serve`. A
 * configuration file that is named but missing, or whose form is wrong, is a usage error.
 */
export function scenariosDir(flag: string | undefined, env = process.env, config?: string): string {
  try {
    return configuredScenariosDir({ ...(flag !== undefined ? { scenarios: flag } : {}), ...(config !== undefined ? { config } : {}) }, env);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function dataDir(flag: string | undefined, env = process.env): string {
  return resolve(flag ?? envSetting(env, 'OKTELL_DATA_DIR') ?? './var');
}

/**
 * The ` --data-dir <dir>` to add to a command line we print, so that it reads the same data folder when run as printed
 * in a new shell; empty for the default folder (./var of the current directory).
 */
export function dataDirArg(dir: string): string {
  if (resolve(dir) === resolve('./var')) return '';
  return ` --data-dir ${shellWord(dir)}`;
}

/**
 * The command that replays job `jobId` from a shell, as `oktell-emu tasks` and the console's Tasks page print it: the
 * data folder is named for a SQLite store (a PostgreSQL one comes from the environment or the configuration).
 */
export function replayCommandFor(jobId: string, settings: { store: { kind: string }; dataDir: string }): string {
  return `npx oktell-emu replay ${jobId}${settings.store.kind === 'sqlite' ? dataDirArg(settings.dataDir) : ''}`;
}

import { shellWord } from './shell-word.js';
export { shellWord };

/**
 * Checks that a data folder the command reads from (or queues into) exists, and returns it. Commands that read or
 * queue never create a data folder (`serve` does, and so does a live `run`, which writes letters and its run
 * record there). A folder missing is most often a typo in --data-dir, and creating it would hide that behind an
 * empty answer ("no runs recorded yet").
 */
export function existingDataDir(dir: string): string {
  let isFolder: boolean;
  try {
    isFolder = statSync(dir).isDirectory();
  } catch (e) {
    const denied = deniedDataDir(dir, e);
    if (denied) throw denied;
    throw new UsageError(`no data folder ${dir}: nothing has been recorded there; start the server with that folder first (npx oktell-emu serve${dataDirArg(dir)}), or check the path (--data-dir, OKTELL_DATA_DIR, dataDir: of the configuration file)`);
  }
  if (!isFolder) throw new UsageError(`the data folder ${dir} is a file, not a folder: check --data-dir (or OKTELL_DATA_DIR, or dataDir: of the configuration file)`);
  const denied = unreadableDataDir(dir);
  if (denied) throw denied;
  return dir;
}

/**
 * A data folder that is there but this user may not read (a server's folder is mode 700, its user's; the command runs
 * from a cron job or a CI runner as another user): the error that says so (E_FILE, exit 2), else undefined for a
 * folder that can be read or is not there. Left to `existsSync`, such a folder, or the store file inside it, looked
 * missing: `runs` answered `no runs recorded yet` and `replay --status dead` `nothing to replay`, with exit 0, so a
 * script run as the wrong user was told all was well; `webhook send` said no user was generated there.
 */
export function unreadableDataDir(dir: string): UsageError | undefined {
  try {
    statSync(dir);
    accessSync(dir, constants.R_OK | constants.X_OK);
    return undefined;
  } catch (e) {
    return deniedDataDir(dir, e);
  }
}

function deniedDataDir(dir: string, e: unknown): UsageError | undefined {
  return permissionDenied(e, dir, `cannot read the data folder ${dir}`, 'folder', 'a folder on its path may not be entered');
}

/**
 * The error for a path this user may not use (`e` is EACCES or EPERM), else undefined: `said`, then the user, whose
 * the folder or file is and its mode (or `unseen` when it cannot be looked at), and to run as the server's user (exit 2,
 * E_FILE). One wording for the data folder and the store file in it.
 */
export function permissionDenied(e: unknown, path: string, said: string, kind: 'folder' | 'file', unseen?: string): UsageError | undefined {
  const code = (e as NodeJS.ErrnoException).code;
  if (code !== 'EACCES' && code !== 'EPERM') return undefined;
  let user = String(process.getuid?.() ?? '');
  try {
    user = userInfo().username;
  } catch {
    // No name for this uid (a container's numeric user): the number says it.
  }
  let whose = unseen;
  try {
    const st = statSync(path);
    whose = `the ${kind} belongs to uid ${st.uid}, mode ${(st.mode & 0o777).toString(8)}`;
  } catch {
    // Not to be looked at (a folder on its path), or gone meanwhile: `unseen`, or the reason alone.
  }
  return new UsageError(
    `${said}: permission denied (${code}) for the user ${user}${whose ? ` (${whose})` : ''}; run the command as the user the server runs as (sudo -u <that user> npx oktell-emu …), or check the path (--data-dir, OKTELL_DATA_DIR, dataDir: of the configuration file)`,
    'E_FILE',
  );
}

/**
 * OKTELL_TZ, else the default zone. An unknown zone is a usage error naming the setting, as `run` and `serve` say it:
 * left to the loader, it would be blamed on every scenario with a datetime initial value.
 */
export function timeZone(env = process.env): string {
  const zone = envSetting(env, 'OKTELL_TZ') ?? DEFAULT_TIME_ZONE;
  const problem = timeZoneProblem(zone, `OKTELL_TZ="${zone}"`);
  if (problem) throw new UsageError(problem);
  return zone;
}

/** Templates live in `<scenarios>/templates`. */
export function templatesDir(scenarios: string): string {
  return join(scenarios, 'templates');
}

/** Loads the scenario library with the default blocks and the folder's templates. */
export async function loadLibrary(
  dir: string,
  files?: string[],
  tz = timeZone(),
  databases?: Readonly<Record<string, DbDialect>>,
  /** The loads kept from an earlier load of these files (`validate --watch`): only files that changed are parsed. */
  cache?: ScenarioLoadCache,
): Promise<{ library: ScenarioLibrary; templates: ReturnType<typeof createTemplateRenderer> }> {
  if (!existsSync(dir)) throw new UsageError(`scenario folder ${dir} does not exist (set --scenarios or OKTELL_SCENARIOS)`);
  const templates = createTemplateRenderer({ dir: templatesDir(dir), timeZone: tz });
  const library = await loadScenarioLibrary(dir, { registry: defaultRegistry, templates, timeZone: tz, ...(databases ? { databases } : {}), ...(cache ? { cache } : {}) }, files);
  return { library, templates };
}

/** Where a command finds the server's configuration: `--config`, else OKTELL_CONFIG, else ./oktell.config.yaml. */
export interface ServerFlags {
  dataDir?: string | undefined;
  config?: string | undefined;
  /** The scenarios folder, for the commands that check against it (`tasks`). */
  scenarios?: string | undefined;
}

/**
 * The configuration as the server would read it here (flags, the environment, oktell.config.yaml), so that commands
 * reading its data find the same data folder, store, databases and allow-list; a mistake in it is a usage error
 * (the service tasks' problems go to `onTaskProblems` instead when it is given: see ConfigFlags).
 */
export type ServerSettings = ReturnType<typeof loadServerConfig>;

export function serverSettings(flags: ServerFlags, env = process.env, onTaskProblems?: (e: ServiceTaskError) => void, deferDatabasePasswords = false): ServerSettings {
  try {
    return loadServerConfig(
      {
        ...(flags.dataDir ? { dataDir: flags.dataDir } : {}),
        ...(flags.config ? { config: flags.config } : {}),
        ...(flags.scenarios ? { scenarios: flags.scenarios } : {}),
        ...(onTaskProblems ? { onTaskProblems } : {}),
        ...(deferDatabasePasswords ? { deferDatabasePasswords } : {}),
      },
      env,
    );
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/**
 * serverSettings for the commands that never open the scenarios' databases (`runs`, `show`, `replay`, `outbox`,
 * `webhook send`, `tasks`, `demo`, a live run's record): an operator's shell rarely has a database's password
 * (passwordEnv, passwordFile) and need not. The store's own password, which they do use, is still required.
 */
export function storeSettings(flags: ServerFlags, env = process.env, onTaskProblems?: (e: ServiceTaskError) => void): ServerSettings {
  return serverSettings(flags, env, onTaskProblems, true);
}

/**
 * What a command's `<scenario>` argument names: a scenario of the scenarios folder by name, or a scenario file by its
 * path (a .yaml/.yml file), whose folder is then the scenarios folder.
 */
export function scenarioTarget(arg: string, scenarios: string | undefined, config?: string): { dir: string; name: string; file?: string } {
  if (!isScenarioFileName(arg)) return { dir: scenariosDir(scenarios, process.env, config), name: arg };
  const file = resolve(arg);
  if (!existsSync(file)) throw new UsageError(`${arg}: no such file`);
  return { dir: dirname(file), name: scenarioNameOf(file), file };
}

/** Refuses an option's value not in `allowed`, naming the closest one when it looks like a typo (`--status faild`). */
export function oneOf(option: string, value: string, allowed: readonly string[]): void {
  if (allowed.includes(value)) return;
  const guess = closest(value, allowed);
  const list = allowed.length > 1 ? `${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]}` : allowed[0];
  throw new UsageError(`${option} ${value}: ${guess !== undefined ? `did you mean ${guess}? ` : ''}it takes ${list}`);
}
