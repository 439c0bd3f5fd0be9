// A graceful stop (SIGTERM) of one of two `serve` instances on one PostgreSQL, while it runs a job that cannot finish
// within the grace period: the job is given back to the queue at the end of the grace period, so the other instance
// finishes it within seconds instead of when the lease (a minute here) expires, and its letter goes out once.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { signBpiumBody } from '../../adapters/bpium/signature.js';
import { startBpiumEmulator } from '../../bpium-emulator/emulator.js';
import { repoPath, tempDir } from '../helpers.js';
import { startSmtpServer } from '../mail/smtp-server.helper.js';
import { AUTH, taskWebhook, USER, waitFor } from '../server/server-helpers.js';
import { dropSchema, querySchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { startInstance, waitHealthy, type Instance } from './scale-helpers.js';

/** The default lease: without the give-back, the other instance would wait this long for the job. */
const LEASE_MS = 60_000;
/** serve's grace period at a stop. */
const GRACE_MS = 10_000;

describe('a graceful stop of one of two instances sharing one PostgreSQL', () => {
  it('SIGTERM during a job longer than the grace period: the other instance finishes it within seconds, not after the lease; one letter', { timeout: 120_000 }, async (t) => {
    const pgAvailable = await testPostgres();
    if (pgAvailable.skip !== undefined) return t.skip(pgAvailable.skip);
    const schema = randomSchemaName('stopback');
    const tmp = tempDir('oktell-stop-gives-back-');
    const scenarios = join(tmp.dir, 'scenarios');
    cpSync(repoPath('scenarios'), scenarios, { recursive: true });
    // The read of the employee waits up to a minute here (the shipped 10 s would fail it within the grace period).
    const newTask = join(scenarios, 'BpiumNewTask.yaml');
    const shipped = readFileSync(newTask, 'utf8');
    assert.ok(shipped.includes('    timeout: 10\n'));
    writeFileSync(newTask, shipped.replace('    timeout: 10\n', '    timeout: 60\n'));
    const smtp = await startSmtpServer();
    const bpium = await startBpiumEmulator({ port: 0, dataDir: join(tmp.dir, 'bpium') });
    // A's read of the employee is held up well past the grace period (a slow Bpium): its job cannot finish in time.
    bpium.injectFaults({ delayMs: 3 * GRACE_MS, times: 1, method: 'GET', pathPrefix: '/api/v1/catalogs/3' });
    const secret = randomBytes(16).toString('hex');
    const env = {
      store: urlWithSchema(pgAvailable.url, schema),
      smtpPort: smtp.port,
      bpium: { url: bpium.url, login: bpium.login, password: bpium.password },
      webhookSecret: secret,
      users: `${USER.login}:${USER.password}`,
      leaseMs: LEASE_MS,
      workers: 1,
    };
    const instances: Instance[] = [];
    const jobs = () => querySchema<{ id: string; status: string; attempts: number; lease_owner: string | null }>(pgAvailable.url, schema, 'SELECT id, status, attempts, lease_owner FROM jobs');
    try {
      const a = startInstance('A', join(tmp.dir, 'a'), scenarios, env);
      instances.push(a);
      await waitHealthy(a);
      const body = taskWebhook({ name: 'долгая', responsible: ['2'], sequenceId: 70_001 });
      const res = await fetch(`${a.url}/Bpium/NewTask`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: AUTH, 'x-hook-signature': signBpiumBody(secret, body) }, body });
      assert.equal(res.status, 200);
      // A runs the job (its worker ids begin with host:pid) and waits for the held-up read.
      const pid = a.proc.pid!;
      await waitFor('A runs the job', async () => (await jobs()).some((j) => j.status === 'running' && new RegExp(`:${pid}[:/]`).test(j.lease_owner ?? '')), 20_000);
      const b = startInstance('B', join(tmp.dir, 'b'), scenarios, env);
      instances.push(b);
      await waitHealthy(b);
      assert.equal((await jobs()).length, 1);
      assert.equal(smtp.letters.length, 0);

      const stoppedAt = Date.now();
      a.proc.kill('SIGTERM');
      // Done by B, letter sent: the job's last run is B's (A's cut attempt, if it ended before A exited, is kept as
      // not counted; its outcome is refused).
      const lastRun = async () =>
        (await querySchema<{ worker_id: string; status: string; job_status: string; attempts: number }>(
          pgAvailable.url,
          schema,
          'SELECT r.worker_id, r.status, j.status AS job_status, j.attempts FROM jobs j JOIN runs r ON r.id = j.last_run_id',
        ))[0];
      const byB = new RegExp(`:${b.proc.pid}[:/]`);
      await waitFor('B finished the job A gave back and sent its letter', async () => smtp.letters.length > 0 && byB.test((await lastRun())?.worker_id ?? ''), GRACE_MS + 15_000).catch(() => undefined);
      const took = Date.now() - stoppedAt;
      const run = await lastRun();
      assert.equal(smtp.letters.length, 1, `the letter went out, once: ${a.stdout()}\n${b.stdout()}`);
      assert.equal((await simpleParser(smtp.letters[0]!.raw)).subject, 'Новая задача: долгая');
      assert.match(run?.worker_id ?? '', byB, `B ran the job (A ${pid}, B ${b.proc.pid})`);
      assert.deepEqual([run!.status, run!.job_status], ['completed', 'succeeded']);
      assert.ok(took < GRACE_MS + 6000, `finished ${took} ms after the SIGTERM: within seconds of the grace period's end, not after A's ${LEASE_MS / 1000} s lease`);
      assert.equal(run!.attempts, 1, "A's cut attempt is not counted: B's is the job's one attempt");
      await a.exited;
      assert.equal(a.proc.exitCode, 0, a.stderr());
      assert.match(a.stdout(), /"msg":"1 job\(s\) still running at shutdown; given back to the queue, which another instance takes over at once"/, a.stdout());
      // Nothing more comes from A (it exited with its read still held up), nor a second copy from B.
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(smtp.letters.length, 1, 'one letter at the sink');
    } finally {
      await Promise.all(instances.map((i) => i.stop()));
      await bpium.close();
      await smtp.close();
      await dropSchema(pgAvailable.url!, schema).catch(() => undefined);
      tmp.cleanup();
    }
  });
});
