// SQLite connections (better-sqlite3): one file per connection, opened on first use. The driver is synchronous, so
// the block's timeout is how long a statement waits for another connection's lock (busy_timeout).
import Database from 'better-sqlite3';
import { createPrivateDatabase } from '../private-file.js';
import { EffectError, distinctNames, renderNamedSql, type DbResult, type DbValue } from '../../engine/index.js';
import { collectRows, type DbDriver } from './driver.js';

/** Codes that mean "try again later"; SQLITE_BUSY/LOCKED after the whole wait is the block's timeout. */
const TRANSIENT = /^SQLITE_(IOERR|CANTOPEN|FULL|NOMEM|PROTOCOL)/;
const LOCK = /^SQLITE_(BUSY|LOCKED)/;

/**
 * `rollsBack`: a dry run's connection. The first statement opens a transaction that `close` rolls back; each
 * statement runs in a savepoint so a failed one leaves the earlier ones of the run in place.
 */
export function sqliteDriver(path: string, rollsBack: boolean): DbDriver {
  let db: Database.Database | undefined;
  const open = (): Database.Database => {
    if (db) return db;
    try {
      // Its tables hold what scenarios write (employees' addresses, task ids): readable by the owner only.
      createPrivateDatabase(path);
      db = new Database(path);
    } catch (e) {
      throw classify(e);
    }
    if (rollsBack) db.exec('BEGIN');
    return db;
  };
  return {
    async query(statement, params, opts): Promise<DbResult> {
      const conn = open();
      conn.pragma(`busy_timeout = ${Math.max(0, Math.round(opts.timeoutMs))}`);
      const names = distinctNames(statement);
      const bind = Object.fromEntries(names.map((n) => [n, bindable(params[n] ?? null)]));
      const args = names.length ? [bind] : [];
      if (rollsBack) conn.exec('SAVEPOINT oktell_statement');
      try {
        const stmt = conn.prepare(renderNamedSql(statement, (n) => `:${n}`));
        let result: DbResult;
        if (stmt.reader) {
          const columns = stmt.columns().map((c) => c.name);
          const { rows, count } = collectRows(stmt.iterate(...args) as Iterable<Record<string, unknown>>, opts.maxRows);
          result = { columns, rows, rowCount: count, truncated: count > rows.length };
        } else {
          result = { columns: [], rows: [], rowCount: stmt.run(...args).changes, truncated: false };
        }
        if (rollsBack) conn.exec('RELEASE oktell_statement');
        return result;
      } catch (e) {
        if (rollsBack && conn.inTransaction) {
          try {
            conn.exec('ROLLBACK TO oktell_statement; RELEASE oktell_statement');
          } catch {
            /* the transaction is gone already (SQLite rolled it back itself) */
          }
        }
        throw classify(e);
      }
    },
    async close() {
      if (!db) return;
      if (db.inTransaction) db.exec('ROLLBACK');
      db.close();
      db = undefined;
    },
  };
}

/** SQLite binds numbers, text, blobs and NULL: booleans become 1/0 and dates ISO 8601 text (UTC). */
function bindable(v: DbValue): string | number | null {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.toISOString();
  return v;
}

function classify(e: unknown): EffectError {
  const code = typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : 'SQLITE_MISUSE';
  const message = `SQLite: ${(e as Error).message}`;
  if (LOCK.test(code)) return new EffectError('timeout', `${message} (waited for another connection's lock until the timeout)`, { code, cause: e });
  if (TRANSIENT.test(code)) return new EffectError('transient', message, { code, cause: e });
  return new EffectError('permanent', message, { code, cause: e });
}
