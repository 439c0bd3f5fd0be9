// Whether another process has the SQLite store open right now, asked of SQLite's own file locks.
//
// Every build since 2026-12-02 holds its data folder with serve.lock (data-lock.ts), which names the server. The
// builds before it keep no serve.lock: while one of them runs on a folder, nothing there says so, and a newer build
// opening the store would migrate it under that server (whose build then refuses to start on it again) and, for a
// server, put back in the queue the jobs that server is running, which would then be delivered twice. What such a
// server does hold is the store file itself, open in WAL mode: a connection that asks for the file's exclusive lock
// (EXCLUSIVE locking mode, then a write transaction, rolled back) is refused at once (SQLITE_BUSY) while any other
// connection has it open, and gets it otherwise.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';

/** How many looks, and the wait between them: a short command of another build (a cron's `runs`) ends meanwhile. */
const LOOKS = 3;
const WAIT_MS = 400;

/**
 * True when another connection, of any process, has `file` open through all of a few looks over about a second;
 * false when the file is free, missing, or cannot be asked (what cannot be read this way is said by the open itself).
 * The look takes the file for an instant and changes nothing in it.
 *
 * @example
 *   if (sqliteFileInUse('/var/lib/oktell/oktell.sqlite')) throw new Error('a server of an older build runs there');
 */
export function sqliteFileInUse(file: string, looks = LOOKS, waitMs = WAIT_MS): boolean {
  for (let i = 0; i < looks; i++) {
    if (i > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, waitMs);
    if (!existsSync(file)) return false;
    let db: Database.Database;
    try {
      db = new Database(file, { timeout: 0, fileMustExist: true });
    } catch {
      return false;
    }
    try {
      // First an ordinary read, so that the connection uses the WAL's shared memory as every other one does and its
      // close leaves the -wal and -shm as a clean close leaves them (removed). A connection in EXCLUSIVE mode from its
      // first read never uses that memory and, closing, removed the -wal but left the -shm: the start-up check then
      // took the pair for a write-ahead log lost after an unclean stop.
      db.prepare('SELECT count(*) FROM sqlite_master').get();
      // Then the file's exclusive lock, which every other open connection's shared lock refuses.
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('BEGIN IMMEDIATE');
      db.exec('ROLLBACK');
      return false;
    } catch (e) {
      if ((e as { code?: string }).code !== 'SQLITE_BUSY') return false;
    } finally {
      db.close();
    }
  }
  return true;
}
