// Two steps of a race the cancel tests stage on PostgreSQL with a row lock held from the test's own connection `c`
// (its transaction open, the job's row locked FOR UPDATE): wait until a command (the CLI's or the console's cancel) is
// blocked at its update of that row, then let the job's attempt fail and go back to the queue meanwhile.
import type pg from 'pg';
import { waitFor } from '../server/server-helpers.js';

/** Waits until a cancel's update (`WITH chosen AS (…`) is blocked by the session `me` that holds the job's row. */
export async function cancelWaitingAtLockedJob(c: pg.Client, me: number, who: string): Promise<void> {
  await waitFor(`${who} waiting at its update of the locked job`, async () => {
    // The statistics snapshot is per transaction: cleared, or a session that blocked later would never show.
    await c.query('SELECT pg_stat_clear_snapshot()');
    const n = await c.query(`SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)) AND query LIKE 'WITH chosen AS (%'`, [me]);
    return n.rows.length > 0;
  }, 20_000);
}

/** The job's attempt fails and it waits for its retry at `nextRunAt` (as failJob leaves it); committed with the lock. */
export async function attemptBackToQueueAndCommit(c: pg.Client, id: string, nextRunAt: number): Promise<void> {
  await c.query(`UPDATE jobs SET status = 'queued', next_run_at = $2, lease_owner = NULL, lease_expires_at = NULL, claimed_at = NULL,
    last_error = '{"code":"R_EFFECT_TRANSIENT","message":"SMTP 451"}' WHERE id = $1`, [id, nextRunAt]);
  await c.query('COMMIT');
}
