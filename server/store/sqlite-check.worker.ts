// Runs SQLite's quick_check on a store file off the main thread, so the start-up check can be given up on when it
// takes too long (a native call cannot be interrupted, a thread can be left behind). Answers one message.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export type CheckAnswer = { ok: true } | { ok: false; code: string; details: string[] };

const { file } = workerData as { file: string };
let db: Database.Database | undefined;
let answer: CheckAnswer;
try {
  db = new Database(file, { fileMustExist: true, timeout: 2000 });
  // At most 20 problems: enough to tell what is wrong, bounded however damaged the file is.
  const rows = db.pragma('quick_check(20)') as Array<{ quick_check: string }>;
  const lines = rows.map((r) => String(r.quick_check));
  answer = lines.length === 1 && lines[0] === 'ok' ? { ok: true } : { ok: false, code: 'SQLITE_CORRUPT', details: lines };
} catch (e) {
  const err = e as { code?: unknown; message?: unknown };
  answer = { ok: false, code: typeof err.code === 'string' ? err.code : 'ERROR', details: [String(err.message ?? e)] };
} finally {
  try {
    db?.close();
  } catch {
    // Closing a damaged file may fail too; the answer is what matters.
  }
}
parentPort!.postMessage(answer);
