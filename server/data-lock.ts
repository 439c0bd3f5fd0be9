// One server per data folder with the SQLite store: the store is built for a single process (at start it requeues
// every job left `running`), so a second server on the same folder would take over jobs the first is still running.
//
// The lock is an SQLite file, `serve.lock`, held in an open transaction for the server's lifetime. SQLite takes it
// with an operating-system file lock, so two servers starting at the same moment cannot both get it, and the kernel
// drops it when the process ends in any way (SIGKILL, a crash): there is never a stale lock to clean up, and a reused
// pid in an old `serve.json` cannot keep a server from starting.
//
// A server with the SQLite store holds it EXCLUSIVE: the folder is its alone. A server with the PostgreSQL store holds
// it SHARED (an open read transaction): several such instances may share a folder, but none starts on the folder of a
// live SQLite server, and no SQLite server starts on the folder of a live PostgreSQL one; either would overwrite the
// other's `serve.json` (and a SQLite one would remove its `store.json`).
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { freeSpaceHint } from '../cli/shell-word.js';
import { createPrivateFile } from '../adapters/private-file.js';
import { ConfigError } from './config.js';
import { diskRoom, START_AGAIN, StoreOpenError } from './store/store-open.js';

export const DATA_LOCK_FILE = 'serve.lock';

/** Another live server holds the data folder; the message names it (from its `serve.json`) and what to do. */
export class DataFolderInUseError extends ConfigError {
  override name = 'DataFolderInUseError';
}

export interface DataFolderLock {
  release(): void;
}

/** Who holds the folder, as far as its `serve.json` tells (it is written once that server listens). */
export interface Holder {
  pid: number;
  url: string;
  /** The holder's store, when its `serve.json` names it (an older server's does not: SQLite then). */
  store?: { kind: string };
}

/** How a server holds its data folder: its store's kind. */
export type LockMode = 'sqlite' | 'postgres';

/**
 * Takes the data folder for this process, or throws DataFolderInUseError when a server holds it that this one cannot
 * share it with: any server, for a server with the SQLite store (`mode` sqlite); a SQLite server, for one with the
 * PostgreSQL store. `holder` reads the address of that server (undefined while it is still starting).
 *
 * @example
 *   const lock = lockDataFolder('/var/lib/oktell', () => readServerFile('/var/lib/oktell'), 'sqlite');
 *   // … serve …
 *   lock.release();
 */
export function lockDataFolder(dataDir: string, holder: () => Holder | undefined, mode: LockMode = 'sqlite'): DataFolderLock {
  const file = join(dataDir, DATA_LOCK_FILE);
  // timeout 0: a held lock is an answer at once, not a wait.
  let db: Database.Database;
  try {
    // Private like every file of the data folder (its -journal follows the mode), whatever the umask.
    createPrivateFile(file);
    db = new Database(file, { timeout: 0 });
  } catch (e) {
    // A folder the server cannot write to (permissions, a read-only disk): said as the setting's problem, in one line.
    throw new ConfigError(`cannot use the data folder ${dataDir} (${(e as Error).message}): give the server a folder it can write to (--data-dir, OKTELL_DATA_DIR or dataDir: of the configuration file)`);
  }
  try {
    if (mode === 'sqlite') db.exec('BEGIN EXCLUSIVE');
    else holdShared(db);
  } catch (e) {
    db.close();
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'SQLITE_BUSY') throw lockRefusal(e as Error, code, dataDir);
    if (code !== 'SQLITE_BUSY') throw e;
    // Held, but a shared read gets in: the holders are servers with the PostgreSQL store (the one that wrote
    // serve.json may have stopped and removed it while another of them still runs).
    throw new DataFolderInUseError(inUseMessage(dataDir, holder(), mode, mode === 'sqlite' && !dataFolderHeld(dataDir)));
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      db.close();
    },
  };
}

/**
 * Why the lock could not be taken other than another server holding it: taking it writes a few bytes (the lock file's
 * journal), so a full disk or a failing one refuses it before the store is even opened. Said in one line naming the
 * folder and what to do (exit 1, as for a store that cannot be opened), not as the driver's stack trace. Other codes
 * are passed on as they are.
 */
function lockRefusal(e: Error, code: string, dataDir: string): Error {
  const file = join(dataDir, DATA_LOCK_FILE);
  const again = START_AGAIN;
  const room = code.startsWith('SQLITE_FULL') ? 'blocks' : diskRoom(dataDir);
  if (room === 'blocks') return new StoreOpenError(`cannot lock the data folder ${dataDir} (${file}): ${e.message} (${code}): the disk holding ${dataDir} is full: ${freeSpaceHint(dataDir)} ${again}`, false, { cause: e });
  // A disk out of inodes refuses the lock file's journal as a file SQLite cannot create (SQLITE_CANTOPEN).
  if (room === 'inodes') return new StoreOpenError(`cannot lock the data folder ${dataDir} (${file}): ${e.message} (${code}): the disk holding ${dataDir} has no room for another file (no inodes left): ${freeSpaceHint(dataDir)} ${again}`, false, { cause: e });
  if (code.startsWith('SQLITE_IOERR')) return new StoreOpenError(`cannot lock the data folder ${dataDir} (${file}): ${e.message} (${code}): the disk holding ${dataDir} answered with an I/O error: check it (dmesg), and this user's disk quota there (quota -s; SQLite reports one exceeded this way too), ${again}`, false, { cause: e });
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN')) return new StoreOpenError(`cannot lock the data folder ${dataDir} (${file}): ${e.message} (${code}): the server writes ${DATA_LOCK_FILE} and its -journal in ${dataDir}: check that the folder and the file are writable (chmod, chattr +i, a read-only mount) ${again}`, false, { cause: e });
  return e;
}

/**
 * Takes the lock file's SHARED lock (throws SQLITE_BUSY when a server holds it EXCLUSIVE): a read keeps it until the
 * transaction ends; other readers are let in, a writer is not.
 */
function holdShared(db: Database.Database): void {
  db.exec('BEGIN');
  db.prepare('SELECT count(*) FROM sqlite_master').get();
}

/** Why this server cannot take the folder, naming the server that holds it and what to do. */
function inUseMessage(dataDir: string, h: Holder | undefined, mode: LockMode, sharedByPostgres: boolean): string {
  const who = h ? `the server with pid ${h.pid} (${h.url})` : sharedByPostgres ? 'another server' : 'another server (still starting)';
  const elsewhere = 'give this one another data folder (--data-dir or OKTELL_DATA_DIR)';
  if (mode === 'postgres') {
    return `the data folder ${dataDir} is in use by ${who}, whose SQLite store is there and serves that process alone: this server (PostgreSQL store) would take over its serve.json. Stop that server first, or ${elsewhere}`;
  }
  if (h?.store?.kind === 'postgres' || sharedByPostgres) {
    return `the data folder ${dataDir} is in use by ${who}, which uses the PostgreSQL store: a server with the SQLite store needs the folder to itself. Stop that server first, or ${elsewhere}; to share its work, start this one with the same PostgreSQL store (OKTELL_STORE)`;
  }
  return `the data folder ${dataDir} is in use by ${who}: its SQLite store serves one process. Stop that server first, or ${elsewhere}; several instances share work only through the PostgreSQL store (OKTELL_STORE)`;
}

/**
 * Whether a live server with the SQLite store holds the data folder's lock now, without taking it for longer than the
 * look: false when the folder has no lock file (no server ever ran there), nobody holds it (the server is gone,
 * whatever an old `serve.json` says), or servers with the PostgreSQL store hold it (they hold it shared: a read
 * gets in).
 */
export function dataFolderHeld(dataDir: string): boolean {
  let db: Database.Database;
  try {
    db = new Database(join(dataDir, DATA_LOCK_FILE), { timeout: 0, fileMustExist: true });
  } catch {
    return false;
  }
  try {
    // A read, not BEGIN EXCLUSIVE: the look must not keep a PostgreSQL server that starts meanwhile from its shared hold.
    holdShared(db);
    db.exec('ROLLBACK');
    return false;
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_BUSY') return true;
    throw e;
  } finally {
    db.close();
  }
}

/** Whether a process with this pid runs on this machine, as this process's pid namespace counts (EPERM: it does, as another user). */
export function pidRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
