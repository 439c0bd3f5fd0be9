// The console's Cancel of a running job whose attempt ends, and sends the job back to the queue for a retry, between
// the console's read and its request (the confirm page was open while the attempt ran): the Cancel confirmed takes the
// job out of the queue (303, a dead letter R_CANCELLED), rather than a 409 saying the request was not recorded. A real
// `serve` on PostgreSQL; the row is held locked from the test's own connection so that the attempt's end lands exactly
// between the console's read and its update, whatever the machine's speed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { startBpiumEmulator } from '../../bpium-emulator/emulator.js';
import { openPostgresStore } from '../../server/store/postgres.store.js';
import { repoPath, tempDir } from '../helpers.js';
import { startSmtpServer } from '../mail/smtp-server.helper.js';
import { AUTH, USER } from '../server/server-helpers.js';
import { attemptBackToQueueAndCommit, cancelWaitingAtLockedJob } from '../store/held-job.helper.js';
import { dropSchema, querySchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { startInstance, waitHealthy, type Instance } from '../scale/scale-helpers.js';

describe('console Cancel of a running job that went back to the queue meanwhile (PostgreSQL)', () => {
  it('takes it out of the queue as confirmed: 303 to the dead letters, R_CANCELLED naming the login', { timeout: 60_000 }, async (t) => {
    const pgAvailable = await testPostgres();
    if (pgAvailable.skip !== undefined) return t.skip(pgAvailable.skip);
    const url = pgAvailable.url;
    const schema = randomSchemaName('cancelbq');
    const tmp = tempDir('oktell-cancel-bq-');
    const smtp = await startSmtpServer();
    const bpium = await startBpiumEmulator({ port: 0, dataDir: join(tmp.dir, 'bpium') });
    const store = urlWithSchema(url, schema);
    let instance: Instance | undefined;
    const c = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    try {
      instance = startInstance('A', join(tmp.dir, 'a'), repoPath('scenarios'), {
        store, smtpPort: smtp.port, bpium: { url: bpium.url, login: bpium.login, password: bpium.password },
        webhookSecret: randomBytes(16).toString('hex'), users: `${USER.login}:${USER.password}`,
      });
      await waitHealthy(instance);
      // A job due in an hour (no worker takes it), then made running by hand: an attempt of another instance whose
      // lease is far from running out (so that nobody takes it over).
      const s = await openPostgresStore({ url: store, poolSize: 1 });
      const [id] = await s.enqueueJobs([{ scenario: 'BpiumNewTask', params: {}, maxAttempts: 4, runAt: Date.now() + 3_600_000 }]);
      await s.close();
      const later = Date.now() + 3_600_000;
      await querySchema(url, schema, `UPDATE jobs SET status = 'running', attempts = 1, lease_owner = 'other:1:w1', lease_expires_at = $2, claimed_at = $3 WHERE id = $1`, [id, later, Date.now()]);

      const html = await (await fetch(`${instance.url}/-/console/dry-run`, { headers: { authorization: AUTH } })).text();
      const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
      await c.connect();
      await c.query('BEGIN');
      await c.query('SELECT id FROM jobs WHERE id = $1 FOR UPDATE', [id]);
      const me = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      // The confirmed Cancel, as the confirm page posts it: it reads the job running and waits at its request's update.
      const answer = fetch(`${instance.url}/-/console/jobs/${id}/cancel`, {
        method: 'POST',
        redirect: 'manual',
        headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded', origin: instance.url, 'sec-fetch-site': 'same-origin' },
        body: new URLSearchParams({ csrf, confirm: '1' }).toString(),
      });
      await cancelWaitingAtLockedJob(c, me, 'the console');
      // Meanwhile the attempt fails and the job waits for its retry (as failJob leaves it).
      await attemptBackToQueueAndCommit(c, id!, later);
      const res = await answer;
      const text = await res.text();
      assert.equal(res.status, 303, text);
      assert.equal(res.headers.get('location'), `/-/console/jobs?status=dead&cancelled=${id}`);
      const [row] = await querySchema<{ status: string; code: string; message: string; cancel_request: string | null }>(url, schema,
        `SELECT status, last_error::json ->> 'code' AS code, last_error::json ->> 'message' AS message, cancel_request FROM jobs WHERE id = $1`, [id]);
      assert.equal(row!.status, 'dead');
      assert.equal(row!.code, 'R_CANCELLED');
      assert.match(row!.message, new RegExp(`^cancelled by an operator \\(the console, login ${USER.login}, `));
      assert.equal(row!.cancel_request, null, 'taken out of the queue, not left with a request');
      const page = await (await fetch(`${instance.url}${res.headers.get('location')}`, { headers: { authorization: AUTH } })).text();
      assert.match(page, new RegExp(`Job ${id} is out of the queue: it is a dead letter now \\(R_CANCELLED\\)`));
    } finally {
      await c.end().catch(() => undefined);
      await instance?.stop();
      await bpium.close();
      await smtp.close();
      await dropSchema(url, schema).catch(() => undefined);
      tmp.cleanup();
    }
  });
});
