// The process that runs one SQLite connection's statements (started by sqlite.ts with child_process.fork).
// better-sqlite3 is synchronous and cannot be interrupted, so a statement runs here, away from the server's thread:
// the server waits for the answer with the block's deadline and kills this process when it is over, which really
// stops the statement (SQLite rolls back what it had not committed when the file is next opened).
import Database from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import { createPrivateDatabase } from '../private-file.js';
import { sqlWrites } from '../../engine/sql-params.js';
import { collectRows } from './driver.js';
import type { SqliteAnswer, SqliteRequest } from './sqlite-protocol.js';

let db: Database.Database | undefined;

function send(answer: SqliteAnswer): void {
  process.send?.(answer);
}

function open(path: string, rollsBack: boolean): Database.Database {
  if (db) return db;
  // Its tables hold what scenarios write (employees' addresses, task ids): readable by the owner only.
  createPrivateDatabase(path);
  db = new Database(path);
  // Foreign keys are enforced, as PostgreSQL does: said here rather than left to how better-sqlite3 was built (SQLite's
  // own default is off), and before any transaction, inside which the pragma does nothing. A write a key refuses then
  // fails in a test case's database as it did on the server.
  db.pragma('foreign_keys = ON');
  if (rollsBack) db.exec('BEGIN');
  return db;
}

function errorAnswer(id: number, e: unknown, text?: string): SqliteAnswer {
  const code = typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : 'SQLITE_MISUSE';
  const keys = code === 'SQLITE_CONSTRAINT_FOREIGNKEY' && db && text !== undefined ? foreignKeysOf(db, text) : '';
  return { id, ok: false, code, message: `${(e as Error).message ?? String(e)}${keys}` };
}

/**
 * SQLite's "FOREIGN KEY constraint failed" names no key: the keys of the table the statement writes, its own and those
 * of other tables referring to it, are added (` (foreign keys: orders.customer_id → customers.id)`), so the message
 * says which rows are concerned. Empty when the statement's table is not known or has none.
 */
function foreignKeysOf(conn: Database.Database, text: string): string {
  try {
    const table = sqlWrites(text).tables[0]?.split('.').pop();
    if (!table) return '';
    const keysOf = (t: string) => conn.prepare('SELECT "table" AS parent, "from" AS child, "to" AS key FROM pragma_foreign_key_list(?)').all(t) as Array<{ parent: string; child: string; key: string | null }>;
    const tables = conn.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).pluck().all() as string[];
    const keys: string[] = [];
    for (const t of tables) {
      for (const k of keysOf(t)) {
        if (t.toLowerCase() === table || k.parent.toLowerCase() === table) keys.push(`${t}.${k.child} → ${k.parent}${k.key ? `.${k.key}` : ''}`);
      }
    }
    return keys.length ? ` (foreign keys: ${keys.join(', ')})` : '';
  } catch {
    return '';
  }
}

/** One statement; a dry run's runs in a savepoint so a failed one leaves the earlier ones of the run in place. */
function run(req: Extract<SqliteRequest, { op: 'query' }>): SqliteAnswer {
  let conn: Database.Database;
  try {
    conn = open(req.path, req.rollsBack);
  } catch (e) {
    return errorAnswer(req.id, e);
  }
  conn.pragma(`busy_timeout = ${Math.max(0, Math.round(req.busyMs))}`);
  // Said again before each statement: a scenario's `PRAGMA foreign_keys = OFF` would otherwise hold for every later
  // statement on this connection, other runs' too, until the process is replaced. (Inside a dry run's transaction
  // the pragma changes nothing, either way.)
  if (!conn.inTransaction) conn.pragma('foreign_keys = ON');
  const args = req.bind ? [req.bind] : [];
  if (req.rollsBack) conn.exec('SAVEPOINT oktell_statement');
  try {
    // Integers as BigInt, made numbers again by collectRows when a number holds them exactly, else text: read as numbers,
    // 9007199254740993 came back as 9007199254740992 (an id past 2^53 lost its last digits), as PostgreSQL's bigint does not.
    const stmt = conn.prepare(req.text);
    if (stmt.reader) stmt.safeIntegers(true);
    let answer: SqliteAnswer;
    if (stmt.reader) {
      const columns = stmt.columns().map((c) => c.name);
      // Only maxRows rows are kept; the rest are counted and dropped, so a huge result does not fill the memory.
      const { rows, count } = collectRows(stmt.iterate(...args) as Iterable<Record<string, unknown>>, req.maxRows);
      answer = { id: req.id, ok: true, result: { columns, rows, rowCount: count, truncated: count > rows.length } };
    } else {
      answer = { id: req.id, ok: true, result: { columns: [], rows: [], rowCount: stmt.run(...args).changes, truncated: false } };
    }
    if (req.rollsBack) conn.exec('RELEASE oktell_statement');
    return answer;
  } catch (e) {
    if (req.rollsBack && conn.inTransaction) {
      try {
        conn.exec('ROLLBACK TO oktell_statement; RELEASE oktell_statement');
      } catch {
        /* the transaction is gone already (SQLite rolled it back itself) */
      }
    }
    return errorAnswer(req.id, e, req.text);
  }
}

/** Rolls back a dry run's transaction and closes the file; the process then ends. */
function close(): void {
  if (db?.inTransaction) db.exec('ROLLBACK');
  db?.close();
  db = undefined;
}

process.on('message', (req: SqliteRequest) => {
  if (req.op === 'query') send(run(req));
  else if (req.op === 'close' && req.keep) {
    try {
      close();
      send({ closed: true });
    } catch {
      send({ closed: false });
    }
  } else if (req.op === 'close') {
    try {
      close();
    } finally {
      process.disconnect?.();
    }
  }
});
// The server went away (or closed the connection): nothing is left to answer.
process.on('disconnect', () => {
  close();
  process.exit(0);
});
watchParent();
send({ ready: true });

/**
 * While a statement runs, this thread cannot notice that the server is gone (killed with SIGKILL, so it could not
 * kill this process): a small thread beside it checks once a second and ends the process when the parent changed,
 * so an endless statement does not outlive the server holding the file's lock.
 */
function watchParent(): void {
  const watcher = new Worker(
    `const parent = process.ppid;
     setInterval(() => { if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL'); }, 1000);`,
    { eval: true },
  );
  watcher.unref();
}
