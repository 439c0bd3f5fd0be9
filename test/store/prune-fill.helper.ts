// Old webhooks written straight into a SQLite store's tables, for the prune's tests and its measurement
// (bench/prune-stall.ts): what a day of traffic leaves, without running a server for it.
import type Database from 'better-sqlite3';

export const DAY = 86_400_000;

/** Webhooks by bulk SQL on the store's own schema: inbox entry, hook run, job, the job's run, an effect. */
export function fill(db: Database.Database, from: number, n: number, at: number, status: 'succeeded' | 'dead' | 'queued'): void {
  const ended = status !== 'queued';
  // Seven webhooks share each time, so windows end between rows of the same age.
  const time = (i: number) => at + Math.floor((i - from) / 7);
  const insertInbox = db.prepare(`INSERT INTO inbox (id, received_at, method, path, hook_id, headers, body, signature, dedup_key, run_id)
    VALUES (?, ?, 'POST', '/hook/bpium', 'bpium', 'content-type: application/json', ?, 'valid', ?, ?)`);
  const insertRun = db.prepare(`INSERT INTO runs (id, job_id, inbox_id, parent_run_id, scenario, version, trigger, status, started_at, finished_at, trace)
    VALUES (?, ?, ?, ?, ?, 'v1', ?, ?, ?, ?, ?)`);
  const insertJob = db.prepare(`INSERT INTO jobs (id, scenario, params, variables, parent_run_id, trigger, inbox_id, max_attempts, next_run_at, status,
      attempts, last_run_id, created_at, updated_at, finished_at) VALUES (?, 'SendLetter', '{}', '{}', ?, 'null', ?, 5, ?, ?, 1, ?, ?, ?, ?)`);
  const insertEffect = db.prepare(`INSERT INTO effects (run_key, step_key, outcome, recorded_at) VALUES (?, 'mail#1', '{"messageId":"m"}', ?)`);
  db.transaction(() => {
    for (let i = from; i < from + n; i++) {
      const t = time(i);
      insertInbox.run(i, t, Buffer.from(`{"recordId":${i}}`), `key-${i}`, `h${i}`);
      insertRun.run(`h${i}`, null, i, null, 'Hook', 'http', 'completed', t, t + 1, JSON.stringify('x'.repeat(500)));
      insertJob.run(`j${i}`, `h${i}`, i, t, status, `a${i}`, t, t + 3, ended ? t + 3 : null);
      insertRun.run(`a${i}`, `j${i}`, null, `h${i}`, 'SendLetter', 'async', status === 'succeeded' ? 'completed' : 'failed', t + 2, t + 3, JSON.stringify('y'.repeat(2000)));
      insertEffect.run(`j${i}`, t + 2);
    }
  })();
}

