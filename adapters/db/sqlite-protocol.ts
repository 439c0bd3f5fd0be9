// The messages between an SQLite connection (sqlite.ts) and the process that runs its statements (sqlite-process.ts).
import type { DbResult } from '../../engine/index.js';

export type SqliteRequest =
  | {
      op: 'query';
      id: number;
      /** The database file, opened on the first statement. */
      path: string;
      /** A dry run: the first statement opens a transaction that `close` rolls back. */
      rollsBack: boolean;
      /** The statement with :name parameters. */
      text: string;
      /** Values by parameter name, or none when the statement has no parameters. */
      bind?: Record<string, string | number | bigint | null>;
      /** How long to wait for another connection's lock (busy_timeout). */
      busyMs: number;
      maxRows: number;
    }
  /** Rolls back a dry run's transaction and closes the file; with `keep` the process then waits for the next one, else it ends. */
  | { op: 'close'; keep?: boolean };

export type SqliteAnswer =
  | { ready: true }
  /** The answer to `close` with `keep`: whether the file was closed (the process is then fit for another). */
  | { closed: boolean }
  | { id: number; ok: true; result: DbResult }
  | { id: number; ok: false; code: string; message: string };
