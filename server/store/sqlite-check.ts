// The start-up check of the SQLite store: SQLite's quick_check, bounded in time, so the server refuses to start on a
// damaged file (acknowledged webhooks in it would be lost or sent twice) with a message that says what to do, and a
// warning when the write-ahead log is missing after an unclean stop (the commits it held are gone).
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LoggerPort } from '../../engine/ports.js';
import type { CheckAnswer } from './sqlite-check.worker.js';

/** How long the start-up check may take by default before the server starts without its answer. */
export const DEFAULT_STORE_CHECK_MS = 10_000;

/** The store file is damaged: the server does not start on it. The message is meant for the operator as it is. */
export class DamagedStoreError extends Error {
  override name = 'DamagedStoreError';
}

/** Codes that mean the file itself is broken (not locked, not missing, not a permission problem). */
const DAMAGE = /^SQLITE_(CORRUPT|NOTADB)/;

/**
 * Warns when the store's write-ahead log was lost after an unclean stop. To be called before any connection, even a
 * read-only one, opens the file: opening creates a -wal beside a -shm, and a last connection's close removes both, so
 * afterwards nothing tells of the loss.
 */
export function warnLostWal(file: string, logger: LoggerPort): void {
  // A clean stop checkpoints and removes both -wal and -shm; an unclean one leaves both. A -shm without its -wal means
  // the log was deleted (or lost) after an unclean stop: the commits it held, acknowledged webhooks among them, are gone.
  if (existsSync(file) && existsSync(`${file}-shm`) && !existsSync(`${file}-wal`)) {
    logger.warn(
      { file },
      `the store's write-ahead log ${basename(file)}-wal is missing after an unclean stop: whatever was committed to it since the last checkpoint (acknowledged webhooks, finished jobs) is lost, and jobs may run again; restore the file from a backup if you have one, or check the outbox and runs for what is missing`,
    );
  }
}

/**
 * Checks the store file before it is opened. Throws `DamagedStoreError` when SQLite finds it damaged; when the
 * check cannot finish in `timeoutMs` (a very large file, a slow disk) or cannot run for another reason (the file is
 * locked), logs that and returns, since opening the store will report a real problem anyway. `timeoutMs` 0 skips it.
 *
 * @example
 *   await checkSqliteStore(join(dataDir, 'oktell.sqlite'), { timeoutMs: 10_000, logger });
 */
export async function checkSqliteStore(file: string, opts: { timeoutMs?: number; logger: LoggerPort }): Promise<void> {
  if (!existsSync(file)) return; // a new store
  const timeoutMs = opts.timeoutMs ?? DEFAULT_STORE_CHECK_MS;
  if (timeoutMs <= 0) return;
  const answer = await quickCheck(file, timeoutMs);
  if (answer === 'timeout') {
    opts.logger.warn({ file, timeoutMs }, `the store's integrity check (quick_check) did not finish in ${timeoutMs} ms; starting without it (OKTELL_STORE_CHECK_MS raises the limit)`);
    return;
  }
  if (answer.ok) return;
  if (!DAMAGE.test(answer.code)) {
    opts.logger.warn({ file, code: answer.code, error: answer.details[0] }, "could not check the store's integrity; starting without the check");
    return;
  }
  throw new DamagedStoreError(damageMessage(file, answer.details));
}

function damageMessage(file: string, details: string[]): string {
  const name = basename(file);
  return [
    `the store ${file} is damaged, so the server does not start on it (SQLite: ${details.slice(0, 3).join('; ')}${details.length > 3 ? '; …' : ''}).`,
    'What to do, with the server stopped:',
    `  1. keep a copy of ${name} and of any ${name}-wal and ${name}-shm beside it;`,
    `  2. recover what can be read: sqlite3 ${name} ".recover" | sqlite3 ${name}.recovered, then replace ${name} with ${name}.recovered (and remove the old -wal and -shm);`,
    `  3. or, to start with an empty store, move ${name} (and its -wal and -shm) away: its inbox, queued jobs and runs are then not used.`,
  ].join('\n');
}

function quickCheck(file: string, timeoutMs: number): Promise<CheckAnswer | 'timeout'> {
  return new Promise((resolve) => {
    const worker = new Worker(new URL('./sqlite-check.worker.js', import.meta.url), { workerData: { file } });
    const timer = setTimeout(() => {
      resolve('timeout');
      void worker.terminate();
    }, timeoutMs);
    worker.once('message', (m: CheckAnswer) => {
      clearTimeout(timer);
      resolve(m);
    });
    worker.once('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, code: 'ERROR', details: [e.message] });
    });
  });
}
