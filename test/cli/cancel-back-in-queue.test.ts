// `oktell-emu cancel <job>` of a running job whose attempt ends, and sends the job back to the queue for a retry,
// between the command's read and its request: the command takes the job out of the queue (exit 0, a dead letter
// R_CANCELLED), as the console's Cancel does (test/console/cancel-back-in-queue), rather than exit 1 saying it changed
// meanwhile. A real CLI process on PostgreSQL; the row is held locked from the test's own connection so that the
// attempt's end lands exactly between the command's read and its update, whatever the machine's speed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import pg from 'pg';
import { openPostgresStore } from '../../server/store/postgres.store.js';
import { repoPath } from '../helpers.js';
import { attemptBackToQueueAndCommit, cancelWaitingAtLockedJob } from '../store/held-job.helper.js';
import { dropSchema, querySchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';

describe('cancel of a running job that went back to the queue meanwhile (PostgreSQL)', () => {
  it('takes it out of the queue: exit 0, a dead letter R_CANCELLED naming oktell-emu cancel, no request left', { timeout: 60_000 }, async (t) => {
    const pgAvailable = await testPostgres();
    if (pgAvailable.skip !== undefined) return t.skip(pgAvailable.skip);
    const url = pgAvailable.url;
    const schema = randomSchemaName('clicbq');
    const store = urlWithSchema(url, schema);
    const c = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    try {
      // A job due in an hour, then made running by hand: an attempt of a server whose lease is far from running out.
      const s = await openPostgresStore({ url: store, poolSize: 1 });
      const [id] = await s.enqueueJobs([{ scenario: 'BpiumNewTask', params: {}, maxAttempts: 4, runAt: Date.now() + 3_600_000 }]);
      await s.close();
      const later = Date.now() + 3_600_000;
      await querySchema(url, schema, `UPDATE jobs SET status = 'running', attempts = 1, lease_owner = 'other:1:w1', lease_expires_at = $2, claimed_at = $3 WHERE id = $1`, [id, later, Date.now()]);

      await c.connect();
      await c.query('BEGIN');
      await c.query('SELECT id FROM jobs WHERE id = $1 FOR UPDATE', [id]);
      const me = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      // The command reads the job running and waits at its request's update.
      const answer = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, [repoPath('bin', 'oktell-emu.js'), 'cancel', id!], { env: { ...process.env, OKTELL_STORE: store, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        p.on('close', (code) => resolve({ code, stdout, stderr }));
      });
      await cancelWaitingAtLockedJob(c, me, 'the command');
      // Meanwhile the attempt fails and the job waits for its retry (as failJob leaves it).
      await attemptBackToQueueAndCommit(c, id!, later);
      const r = await answer;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.match(r.stdout, new RegExp(`^cancelled 1 queued job\\(s\\): ${id}\\nthey are dead letters now \\(R_CANCELLED\\)`));
      const [row] = await querySchema<{ status: string; code: string; message: string; cancel_request: string | null }>(url, schema,
        `SELECT status, last_error::json ->> 'code' AS code, last_error::json ->> 'message' AS message, cancel_request FROM jobs WHERE id = $1`, [id]);
      assert.equal(row!.status, 'dead');
      assert.equal(row!.code, 'R_CANCELLED');
      assert.match(row!.message, /^cancelled by an operator \(oktell-emu cancel, /);
      assert.equal(row!.cancel_request, null, 'taken out of the queue, not left with a request');
    } finally {
      await c.end().catch(() => undefined);
      await dropSchema(url, schema).catch(() => undefined);
    }
  });
});
