// Why the configured store could not be opened, in one line that names it (password masked): what `serve` and the
// CLI print instead of a driver's stack trace.
import { accessSync, constants, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { freeSpaceHint, noRoomLine } from '../../cli/shell-word.js';
import { PgSchemaNotReadyError, PgSchemaTooNewError } from './postgres.migrations.js';
import { redactPostgresUrl } from './postgres.url.js';
import { SchemaTooNewError } from './sqlite.migrations.js';
import { StoreUnavailableError } from './store.errors.js';

/**
 * `cannot open the store postgres://oktell:***@db:5432/oktell: password authentication failed for user "oktell"`.
 * `usage`: the database answered but its schema is not one this build can use (missing, not migrated yet, newer):
 * a matter of configuration or of builds (exit 2), where the others (nothing answers, the login is refused) are an
 * outage or a wrong secret (exit 1).
 */
export class StoreOpenError extends Error {
  override name = 'StoreOpenError';
  constructor(
    message: string,
    readonly usage: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * What to do when PostgreSQL has no connection slot left (53300): said when the open is refused (here) and when a
 * call of an open store is (the CLI's store-refusal-line.ts), in the same words.
 */
export const NO_CONNECTION_SLOT_HINT =
  "all of PostgreSQL's connections are taken (max_connections): see who holds them (SELECT usename, application_name, count(*) FROM pg_stat_activity GROUP BY 1, 2), end the idle clients or raise max_connections";

/** A name as SQL quotes it: `"oktell"`, a `"` in it doubled. */
const sqlName = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * What to do about a refused connection (53300), by the server's words: PostgreSQL gives that code both when the
 * cluster's max_connections are taken (`sorry, too many clients already`, or the slots left are reserved) and when
 * the role's or the database's own CONNECTION LIMIT is (`too many connections for role "x"`, `… for database "x"`),
 * which raising max_connections does not lift. Words it does not know (a server whose lc_messages is not English)
 * get a hint naming both.
 */
export function noConnectionSlotHint(message: string): string {
  const limited = /too many connections for (role|database) "(.*)"/.exec(message);
  if (limited) {
    const [, what, name] = limited as unknown as [string, 'role' | 'database', string];
    const column = what === 'role' ? 'usename' : 'datname';
    return `the ${what} ${sqlName(name)} has all the connections its CONNECTION LIMIT allows (max_connections is not reached): see who holds them (SELECT ${what === 'role' ? 'datname' : 'usename'}, application_name, count(*) FROM pg_stat_activity WHERE ${column} = '${name.replace(/'/g, "''")}' GROUP BY 1, 2), end the idle clients or raise the limit (ALTER ${what.toUpperCase()} ${sqlName(name)} CONNECTION LIMIT <n>; -1 for none)`;
  }
  if (/too many clients|connection slots are reserved/.test(message)) return NO_CONNECTION_SLOT_HINT;
  return `${NO_CONNECTION_SLOT_HINT}; or, if the role or the database has a CONNECTION LIMIT (SELECT rolconnlimit FROM pg_roles, SELECT datconnlimit FROM pg_database; -1 is none), raise that (ALTER ROLE or ALTER DATABASE … CONNECTION LIMIT <n>)`;
}

/** Hints for the driver's codes that do not say what to check. */
const HINTS: Record<string, string> = {
  ECONNREFUSED: 'nothing accepts connections there: is PostgreSQL running on that host and port?',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name cannot be resolved now',
  ETIMEDOUT: 'no answer in time',
};

/**
 * The error of opening the PostgreSQL store at `url`, as a StoreOpenError naming the URL with its password masked.
 * The driver's messages do not quote the password (masking its text in them would also mask a database or user
 * name that happens to be the same word).
 */
export function pgStoreOpenError(url: string, err: unknown): StoreOpenError {
  const inner = err instanceof StoreUnavailableError && err.cause instanceof Error ? err.cause : err;
  const code = (inner as { code?: unknown } | null)?.code;
  let cause = inner instanceof Error && inner.message ? inner.message : String(inner);
  // The server's words for 53300 (`sorry, too many clients already`, `too many connections for role …`) name no way out.
  const hint = code === '53300' ? noConnectionSlotHint(cause) : typeof code === 'string' && Object.hasOwn(HINTS, code) ? HINTS[code] : undefined;
  if (hint) cause += ` (${hint})`;
  const usage = err instanceof PgSchemaNotReadyError || err instanceof PgSchemaTooNewError;
  return new StoreOpenError(`cannot open the store ${redactPostgresUrl(url)}: ${cause}`, usage, { cause: err });
}

/**
 * A SQLite store migrated by a newer build (the operator went back to an older one): one line naming the file, the
 * two versions and what to do, exit 2 (a matter of builds), instead of the migration's stack trace. Anything else is
 * passed on as it is.
 */
export function sqliteSchemaRefusal(e: unknown, file: string): unknown {
  if (!(e instanceof SchemaTooNewError)) return e;
  return new StoreOpenError(
    `cannot open the store ${file}: a newer build of oktell-emu has migrated it (schema version ${e.current}; this build knows up to ${e.known}), and an older build cannot use it: run that newer build on this data folder, or, to go back to this build, restore the copy of the data folder taken before the upgrade (docs/store.md, "Upgrading"); nothing was changed`,
    true,
    { cause: e },
  );
}

/**
 * For a command of the CLI about to open a SQLite store (which migrates it): refuses when a server holds the data
 * folder and the file is at an older schema version than this build's, since that server is then of an older build,
 * and migrating the file under it would leave a store its build can no longer start on. The server migrates it as it
 * starts; PostgreSQL's CLI waits for that the same way. `pid`: the holder's, from its `serve.json`.
 */
export function sqliteMigrationUnderServer(file: string, stored: number, known: number, dataDir: string, pid: number | undefined): StoreOpenError {
  const who = pid === undefined ? `the server running on ${dataDir}` : `the server running on ${dataDir} (pid ${pid})`;
  return new StoreOpenError(
    `cannot open the store ${file}: it is at schema version ${stored} and this build of oktell-emu reads version ${known}, so ${who} is of an older build; a command does not migrate the store under it (its build could then no longer start on the folder): restart the server with this build first (it migrates the store as it starts), or use the CLI of the server's build; nothing was changed`,
    true,
  );
}

/**
 * A SQLite store at an older schema version that another process has open while no server holds the folder's
 * serve.lock: a server of a build from before 2026-12-02 (which keeps no serve.lock) most likely still runs on the
 * folder. Opening the store would migrate it under that server, so its build could no longer start on the folder;
 * `serve` would also put back in the queue the jobs that server is running, and they would be delivered twice. One
 * line, exit 2; nothing is changed. `serve`: said for a server's start (it names the duplicates) or for a command.
 */
export function sqliteOlderServerInUse(file: string, stored: number, known: number, dataDir: string, serve: boolean): StoreOpenError {
  const harm = serve
    ? 'this server would migrate the store under it (its build could then no longer start on the folder) and put back in the queue the jobs it is running, which would then be delivered twice'
    : 'a command would migrate the store under it (its build could then no longer start on the folder)';
  const todo = serve
    ? 'stop that server first (SIGTERM; its queued jobs wait in the store), then start this build'
    : 'stop that server and start this build\'s server first (it migrates the store as it starts), or use the CLI of the server\'s build';
  return new StoreOpenError(
    `cannot open the store ${file}: it is at schema version ${stored} and this build of oktell-emu reads version ${known}, and another process has the file open, most likely a server of an older build still running on ${dataDir} (builds before 2026-12-02 keep no serve.lock, so it cannot be named; else a sqlite3 shell or a backup holding it): ${harm}; ${todo} (docs/store.md, "Upgrading"); nothing was changed`,
    true,
  );
}

/** SQLite's codes for a file it cannot open or write, or a disk that refuses it, when opening the store. */
const SQLITE_OPEN_FAILURE = /^SQLITE_(CANTOPEN|READONLY|PERM|IOERR|FULL)/;

/** How the server's line ends (a command's says to run the command again: `COMMAND_AGAIN`). */
export const START_AGAIN = 'and start again; nothing stored is lost';
/** The line's end for a command (runs, show, backup, …), which is run again, not started. */
export const COMMAND_AGAIN = 'and run the command again; nothing stored is lost';

/**
 * Why the SQLite store cannot be opened or brought up to date at the start — a read-only mount, a file or folder
 * this user may not write, a full disk — as one line naming the file and what to check (a `StoreOpenError`, which
 * the CLI prints without a stack, exit 1), instead of the driver's stack trace. Anything else is passed on as it is.
 * `again`: how the line ends, `START_AGAIN` for the server, `COMMAND_AGAIN` for the other commands.
 */
export function sqliteOpenRefusal(e: unknown, file: string, again: string = START_AGAIN): unknown {
  if (e instanceof SchemaTooNewError) return sqliteSchemaRefusal(e, file);
  const inner = e instanceof StoreUnavailableError && e.cause instanceof Error ? e.cause : e;
  const code = (inner as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !SQLITE_OPEN_FAILURE.test(code)) return e;
  const cause = inner instanceof Error && inner.message ? inner.message : String(inner);
  return new StoreOpenError(`cannot open the store ${file}: ${cause} (${code}): ${sqliteOpenHint(code, dirname(file), again)}`, false, { cause: e });
}

function sqliteOpenHint(code: string, dir: string, again: string): string {
  if (code.startsWith('SQLITE_FULL')) return `${noRoomLine(dir, undefined)} ${again}`;
  // A full disk also comes as an I/O error: SQLite cannot grow the -shm of a WAL store it opens (SQLITE_IOERR_SHMSIZE);
  // and a disk out of inodes as a file SQLite cannot create (SQLITE_CANTOPEN, its -shm or -wal).
  const room = diskRoom(dir);
  if (room === 'blocks') return `${noRoomLine(dir, undefined)} ${again}`;
  if (room === 'inodes') return `the disk holding ${dir} has no room for another file (no inodes left): ${freeSpaceHint(dir)} ${again}`;
  // SQLite also says a user's disk quota that is exceeded (EDQUOT) as an I/O error, without the errno.
  if (code.startsWith('SQLITE_IOERR')) return `the disk holding ${dir} answered with an I/O error: check it (dmesg), and this user's disk quota there (quota -s; SQLite reports one exceeded this way too), ${again}`;
  try {
    accessSync(dir, constants.W_OK);
  } catch (err) {
    const errno = (err as { code?: unknown }).code;
    if (errno === 'EROFS') return `the data folder ${dir} is on a read-only file system: remount it read-write, or give the server another data folder (--data-dir or OKTELL_DATA_DIR), ${again}`;
    if (errno === 'EACCES' || errno === 'EPERM') return `this user may not write in the data folder ${dir}: give it the folder (chown, chmod u+w) or another data folder (--data-dir or OKTELL_DATA_DIR), ${again}`;
  }
  return `the server writes the file and its -wal and -shm beside it, and creates them in ${dir}: check that none of them is read-only (chmod, chattr +i, a read-only mount) or other than a plain file, ${again}`;
}

/**
 * Whether the file system holding `dir` has run out of blocks for this user or of inodes (files), as statfs tells;
 * undefined when it has both, or when that cannot be told. A quota (EDQUOT) is not seen here: SQLite says it only as
 * an I/O error, and statfs counts the disk, not the user's quota.
 */
export function diskRoom(dir: string): 'blocks' | 'inodes' | undefined {
  try {
    const s = statfsSync(dir);
    if (s.bavail === 0) return 'blocks';
    if (s.files > 0 && s.ffree === 0) return 'inodes';
  } catch {
    // cannot be told
  }
  return undefined;
}

