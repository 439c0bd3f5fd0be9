// The server's store, opened by the commands that read or queue into it (runs, show, replay, tasks, test --from-run,
// a live run's record), from the same configuration the server reads.
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openSqliteStore, quotaOptions } from '../server/store/sqlite.store.js';
import { pgStoreOpenError, COMMAND_AGAIN, sqliteMigrationUnderServer, sqliteOlderServerInUse, sqliteOpenRefusal, sqliteSchemaRefusal } from '../server/store/store-open.js';
import { sqliteFileInUse } from '../server/store/store-in-use.js';
import { olderStoredSchema } from '../server/store/sqlite.migrations.js';
import { dataFolderHeld } from '../server/data-lock.js';
import type { Store } from '../server/store/store.port.js';
import { StoreUnavailableError } from '../server/store/store.errors.js';
import { existingDataDir, permissionDenied, storeSettings, shellWord, UsageError, type ServerFlags, type ServerSettings } from './config.js';
import { makePrivateFolder } from '../adapters/private-file.js';
import { printNote } from './format.js';
import { folderPostgresStore, readFolderServer, type FolderServer } from './server-file.js';
import { redactPostgresUrl } from '../server/store/postgres.url.js';

/**
 * For the --help of the commands that open the store: where it is, since `--data-dir` alone names only a SQLite one.
 * Said in the option's text, so that it is read where the data folder is.
 */
export { STORE_DATA_DIR_HELP } from './help-texts.js';

/**
 * Refuses (exit 2) to use a SQLite store in a data folder whose server uses PostgreSQL, as its `serve.json` (or, once
 * that server stopped, its `store.json`) says: the shell lacks the server's OKTELL_STORE (a systemd EnvironmentFile,
 * say), and the command would answer from an empty file ("no runs recorded yet", "nothing to replay") or queue a job
 * there that no server ever runs. One line naming the server's store and the command to type instead. `argv`: the
 * command's words, repeated in that line.
 */
export function refuseSqliteBesidePostgres(dataDir: string, argv: readonly string[] = process.argv.slice(2), server: FolderServer = readFolderServer(dataDir)): void {
  const pg = folderPostgresStore(dataDir, server);
  if (!pg) return;
  const words = argv.map(shellWord).join(' ');
  const via = pg.configFile ? `OKTELL_CONFIG=${shellWord(pg.configFile)}` : `OKTELL_STORE=${shellWord(pg.url)}`;
  const password = !pg.configFile && pg.url.includes('***') ? ' (the password in place of ***)' : '';
  const gone = pg.pid === undefined ? 'that server has stopped' : `that server, pid ${pg.pid}, is not running now`;
  const stale = pg.running ? '' : ` (${gone}; if the folder no longer belongs to a PostgreSQL server, remove its ${pg.file})`;
  const named = pg.configFile ? `the PostgreSQL store of ${pg.configFile} (${pg.url})` : `the PostgreSQL store ${pg.url}`;
  throw new UsageError(`the server of ${dataDir} uses ${named}, not a SQLite file in that folder: nothing is read or written there${stale}; give this command the server's store: ${via} npx oktell-emu ${words}${password}`);
}

/**
 * For the commands that write into the data folder (a live `run`, `tasks run`), as `serve` does: a missing folder is
 * made, mode 0700 like the server's, and said on stderr, so a mistyped --data-dir shows in what the command prints.
 * The commands that only read never make it (`existingDataDir`).
 */
export function makeDataFolder(dir: string): void {
  let made: boolean;
  try {
    made = makePrivateFolder(dir);
  } catch (e) {
    throw new UsageError(`the data folder ${dir} cannot be created: ${(e as Error).message}; choose another with --data-dir, OKTELL_DATA_DIR or dataDir: in the config file`);
  }
  if (made) printNote(`made the data folder ${dir} (mode 700)`);
}

/**
 * The store the server uses, from the same configuration (`serverSettings`): PostgreSQL when OKTELL_STORE or the config
 * file's `store:` names one, else the SQLite file in the data folder (--data-dir, OKTELL_DATA_DIR, `dataDir:`), which
 * must exist (exit 2 otherwise). A command that only reads passes `noStore`: when the folder has no store file yet,
 * that is its answer, and no file is created just to be read. Jobs queued through it (`tasks run`) get the attempts
 * the server gives its own (workers.maxAttempts, OKTELL_MAX_ATTEMPTS), not the store's built-in default, and the
 * server's quota (OKTELL_STORE_MAX_PAGES) applies to them as to the server's own starts. A command
 * that has read the configuration already passes it as `config`; `fn` gets it either way. The attempts are the running
 * server's when one runs on the data folder with this store (`jobAttempts`).
 *
 * `server`: the data folder's `serve.json`, when the caller has read it already (else it is read here).
 *
 * PostgreSQL is opened without DDL by every command, those that write (`replay`, `tasks run`, a live run's record)
 * included: a schema that is missing (a mistyped `?schema=`) or older than this build is refused with a
 * `StoreOpenError`, never created or migrated. Several instances share that schema, and an operator's CLI of another
 * build must not change it under them; the servers migrate it as they start.
 */
export async function withStore<T>(
  flags: ServerFlags,
  fn: (store: Store, config: ServerSettings) => Promise<T>,
  noStore?: (folder: string) => T | Promise<T>,
  config: ServerSettings = storeSettings(flags),
  server: FolderServer = readFolderServer(config.dataDir),
): Promise<T> {
  let store: Store;
  const defaultMaxAttempts = jobAttempts(config, server).maxAttempts;
  if (config.store.kind === 'postgres') {
    const url = config.store.url;
    // Only a server creates and migrates the shared schema: see the comment above.
    store = await (await import('../server/store/postgres.store.js')).openPostgresStore({ url, defaultMaxAttempts, migrate: false, timeZone: config.timeZone }).catch((e: unknown) => {
      throw pgStoreOpenError(url, e);
    });
  } else {
    refuseSqliteBesidePostgres(config.dataDir, undefined, server);
    const file = join(existingDataDir(config.dataDir), 'oktell.sqlite');
    if (noStore && !existsSync(file)) return noStore(dirname(file));
    refuseUnusableStoreFile(file);
    refuseMigrationUnderServer(file, config.dataDir, server);
    // With the server's quota, so that `tasks run` is refused near it as the server's own starts are.
    store = await openSqliteStore({ file, defaultMaxAttempts, timeZone: config.timeZone, ...quotaOptions(config) }).catch((e: unknown) => {
      // A full disk (no room for the -shm), a read-only file: one line naming the file and what to do, no stack.
      throw sqliteOpenRefusal(sqliteSchemaRefusal(e, file), file, COMMAND_AGAIN);
    });
  }
  try {
    return await fn(store, config);
  } catch (e) {
    // A SQLite store that refuses a call knows only its file: its data folder is named in the line said of it.
    if (config.store.kind !== 'postgres' && e instanceof StoreUnavailableError) e.dataDir ??= config.dataDir;
    throw e;
  } finally {
    await store.close();
  }
}

/**
 * A store file this user may not read and write (the server's user's, mode 600, in a folder others may enter): the
 * driver's SQLITE_CANTOPEN came out as a stack trace. Said in one line with whose the file is, exit 2.
 */
function refuseUnusableStoreFile(file: string): void {
  try {
    accessSync(file, constants.R_OK | constants.W_OK);
  } catch (e) {
    // Anything but a permission is said by the open that meets it.
    const denied = permissionDenied(e, file, `cannot open the store ${file}`, 'file');
    if (denied) throw denied;
  }
}

/**
 * Opening the SQLite store migrates it. A server of an older build running on the folder (it holds the folder's lock,
 * and the file is at an older schema version than this build's, which a server of this build would have migrated at
 * its start) must not have its file migrated under it by an operator's newer CLI: its build refuses a newer schema, so
 * the next restart of that server (a crash, a supervisor, going back after a failed upgrade) would not start. The
 * command is refused instead (exit 2), as on PostgreSQL; with no server running, the command migrates as before.
 */
function refuseMigrationUnderServer(file: string, dataDir: string, server: FolderServer): void {
  const older = olderStoredSchema(file);
  if (!older) return;
  if (dataFolderHeld(dataDir)) throw sqliteMigrationUnderServer(file, older.stored, older.known, dataDir, server.running?.pid);
  // A server of a build from before 2026-12-02 keeps no serve.lock: it shows only as a process holding the file.
  if (sqliteFileInUse(file)) throw sqliteOlderServerInUse(file, older.stored, older.known, dataDir, false);
}

/**
 * The attempts a job queued by the CLI gets: those of the server running on the data folder, as its `serve.json` says,
 * when that server uses the same store (the SQLite file of the folder, or the same PostgreSQL URL); else this
 * command's own configuration (OKTELL_MAX_ATTEMPTS, workers.maxAttempts, default 16), which is what the operator's
 * shell and the server share when no server runs there (a PostgreSQL store reached from another machine, say).
 * `server` (in the answer): the running server whose setting was taken. `server` (the parameter): the data folder's
 * `serve.json`, when the caller has read it already.
 */
export function jobAttempts(config: ServerSettings, server: FolderServer = readFolderServer(config.dataDir)): { maxAttempts: number; server?: { pid: number } } {
  const own = { maxAttempts: config.workers.maxAttempts };
  const running = server.running;
  if (running?.maxAttempts === undefined) return own;
  const same = config.store.kind === 'sqlite'
    ? (running.store ?? { kind: 'sqlite' }).kind === 'sqlite'
    : running.store?.kind === 'postgres' && running.store.url === redactPostgresUrl(config.store.url);
  return same ? { maxAttempts: running.maxAttempts, server: { pid: running.pid } } : own;
}
