// One server per data folder with the SQLite store: the store is built for a single process (at start it requeues
// every job left `running`), so a second server on the same folder would take over jobs the first is still running.
//
// The lock is an SQLite file, `serve.lock`, held in an open EXCLUSIVE transaction for the server's lifetime. SQLite
// takes it with an operating-system file lock, so two servers starting at the same moment cannot both get it, and
// the kernel drops it when the process ends in any way (SIGKILL, a crash): there is never a stale lock to clean up,
// and a reused pid in an old `serve.json` cannot keep a server from starting.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { createPrivateFile } from '../adapters/private-file.js';
import { ConfigError } from './config.js';

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
}

/**
 * Takes the data folder for this process, or throws DataFolderInUseError when another server holds it.
 * `holder` reads the address of that server (undefined while it is still starting).
 *
 * @example
 *   const lock = lockDataFolder('/var/lib/oktell', () => readServerFile('/var/lib/oktell'));
 *   // … serve …
 *   lock.release();
 */
export function lockDataFolder(dataDir: string, holder: () => Holder | undefined): DataFolderLock {
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
    db.exec('BEGIN EXCLUSIVE');
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code !== 'SQLITE_BUSY') throw e;
    const h = holder();
    const who = h ? `the server with pid ${h.pid} (${h.url})` : 'another server (still starting)';
    throw new DataFolderInUseError(
      `the data folder ${dataDir} is in use by ${who}: its SQLite store serves one process. Stop that server first, or give this one another data folder (--data-dir or OKTELL_DATA_DIR); several instances share work only through the PostgreSQL store (OKTELL_STORE)`,
    );
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
 * Whether a live server holds the data folder's lock now, without taking it for longer than the look: false when the
 * folder has no lock file (no server with the SQLite store ever ran there) or nobody holds it (the server is gone,
 * whatever an old `serve.json` says).
 */
export function dataFolderHeld(dataDir: string): boolean {
  let db: Database.Database;
  try {
    db = new Database(join(dataDir, DATA_LOCK_FILE), { timeout: 0, fileMustExist: true });
  } catch {
    return false;
  }
  try {
    db.exec('BEGIN EXCLUSIVE');
    db.exec('ROLLBACK');
    return false;
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_BUSY') return true;
    throw e;
  } finally {
    db.close();
  }
}
