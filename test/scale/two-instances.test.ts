// Two server processes on one PostgreSQL: any instance acknowledges any webhook, and one killed mid-stream loses nothing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startBpiumEmulator } from '../../bpium-emulator/emulator.js';
import { repoPath, tempDir } from '../helpers.js';
import { startSmtpServer } from '../mail/smtp-server.helper.js';
import { simpleParser } from 'mailparser';
import { AUTH, taskWebhook, USER, waitFor } from '../server/server-helpers.js';
import { signBpiumBody } from '../../adapters/bpium/signature.js';
import { dropSchema, querySchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { startInstance, waitHealthy, type Instance } from './scale-helpers.js';

const LEASE_MS = 3000;
const WORKERS = 8;

describe('scale-out: two instances sharing one PostgreSQL', () => {
  it('SIGKILL one of two instances mid-stream: every acknowledged webhook gets its letter, once unless cut off mid-send', { timeout: 150_000 }, async (t) => {
    const pgAvailable = await testPostgres();
    if (pgAvailable.skip !== undefined) return t.skip(pgAvailable.skip);
    const schema = randomSchemaName('scale');
    const tmp = tempDir('oktell-scale-');
    const scenarios = join(tmp.dir, 'scenarios');
    cpSync(repoPath('scenarios'), scenarios, { recursive: true });
    const smtp = await startSmtpServer();
    const bpium = await startBpiumEmulator({ port: 0, dataDir: join(tmp.dir, 'bpium') });
    // Reading an employee takes 100 ms, so each instance has jobs in flight when it is killed.
    bpium.injectFaults({ delayMs: 100, times: 1_000_000, method: 'GET', pathPrefix: '/api/v1/catalogs/3' });
    const secret = randomBytes(16).toString('hex');
    const env = {
      store: urlWithSchema(pgAvailable.url, schema),
      smtpPort: smtp.port,
      bpium: { url: bpium.url, login: bpium.login, password: bpium.password },
      webhookSecret: secret,
      users: `${USER.login}:${USER.password}`,
      leaseMs: LEASE_MS,
      workers: WORKERS,
    };
    const instances: Instance[] = [];
    try {
      // Started together: the migrations must cope with two instances creating the schema at once.
      const a = startInstance('A', join(tmp.dir, 'a'), scenarios, env);
      const b = startInstance('B', join(tmp.dir, 'b'), scenarios, env);
      instances.push(a, b);
      await Promise.all([waitHealthy(a), waitHealthy(b)]);

      // Warm-up: webhooks to both until each instance's delivery thread has run a job (either may take any job).
      const workersSoFar = async () => (await querySchema<{ n: number }>(pgAvailable.url, schema, 'SELECT COUNT(DISTINCT worker_id)::int AS n FROM runs WHERE job_id IS NOT NULL'))[0]!.n;
      for (let i = 0; (await workersSoFar()) < 2; i++) {
        assert.ok(i < 200, 'both instances run jobs within the warm-up');
        const body = taskWebhook({ name: `warm-up-${i}`, responsible: ['2'], sequenceId: 40_000 + i });
        const res = await fetch(`${[a, b][i % 2]!.url}/Bpium/NewTask`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: AUTH, 'x-hook-signature': signBpiumBody(secret, body) }, body });
        assert.equal(res.status, 200);
        await new Promise((r) => setTimeout(r, 50));
      }

      const total = 400;
      const killAt = 150;
      const acked = new Set<string>();
      let redelivered = 0;
      const refusals = new Map<string, number>();
      let aKilled = false;
      let heldAtKill = 0;
      const post = (instance: Instance, body: string) =>
        fetch(`${instance.url}/Bpium/NewTask`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: AUTH, 'x-hook-signature': signBpiumBody(secret, body) }, body });
      let next = 0;
      const sender = async () => {
        while (next < total) {
          const i = next++;
          if (i === killAt) {
            // Killed while it holds a job under its lease (its worker ids carry its pid), so B has one to take over:
            // with the burst rule A may run none at a given instant. A job that is `running` at the check may also be
            // in its last milliseconds (its letter sent, its commit on the wire) when the signal lands, so for the
            // kill the employee read is held far longer than the check takes: a job seen running then is still inside
            // that read when A dies. Well under the lease, so no job is taken over from a live instance.
            bpium.clearFaults();
            bpium.injectFaults(
              { delayMs: 1500, times: 40, method: 'GET', pathPrefix: '/api/v1/catalogs/3' },
              { delayMs: 100, times: 1_000_000, method: 'GET', pathPrefix: '/api/v1/catalogs/3' },
            );
            // Jobs that began their read before the change finish it first.
            await new Promise((r) => setTimeout(r, 300));
            const pid = a.proc.pid;
            const held = async () => (await querySchema<{ n: number }>(pgAvailable.url, schema, `SELECT COUNT(*)::int AS n FROM jobs WHERE status = 'running' AND (lease_owner LIKE $1 OR lease_owner LIKE $2)`, [`%:${pid}:%`, `%:${pid}/%`]))[0]!.n > 0;
            await waitFor('A to hold a running job', held, 30_000).catch(() => undefined);
            a.proc.kill('SIGKILL');
            aKilled = true;
            // What A left under its lease, read once it is dead (B takes nothing over before the lease expires), so
            // that a failure below says whether the kill hit a moment with nothing in flight or the takeover failed.
            await a.exited;
            heldAtKill = (await querySchema<{ n: number }>(pgAvailable.url, schema, `SELECT COUNT(*)::int AS n FROM jobs WHERE status = 'running' AND (lease_owner LIKE $1 OR lease_owner LIKE $2)`, [`%:${pid}:%`, `%:${pid}/%`]))[0]!.n;
          }
          const name = `task-${String(i).padStart(4, '0')}`;
          const body = taskWebhook({ name, responsible: ['2'], sequenceId: 50_000 + i });
          // A load balancer's choice: alternate; once A is gone, B gets everything.
          const first = i % 2 === 0 && !aKilled ? a : b;
          let res = await post(first, body).catch(() => undefined);
          if (!res && first === a) {
            // The connection died with A: Bpium (or the balancer) delivers again, to B. A may have stored it already.
            redelivered++;
            res = await post(b, body).catch(() => undefined);
          }
          if (res?.status === 200) acked.add(name);
          const text = await res?.text();
          if (res && res.status !== 200) refusals.set(`${res.status} ${text?.slice(0, 200)}`, (refusals.get(`${res.status} ${text?.slice(0, 200)}`) ?? 0) + 1);
        }
      };
      await Promise.all(Array.from({ length: 8 }, sender));
      await a.exited;
      assert.equal(a.proc.signalCode, 'SIGKILL');

      const counts = new Map<string, number>();
      let parsed = 0;
      const collect = async () => {
        // Each letter is parsed once: the list only grows.
        const fresh = smtp.letters.slice(parsed);
        parsed += fresh.length;
        for (const m of await Promise.all(fresh.map((l) => simpleParser(l.raw)))) {
          const name = (m.subject ?? '').replace('Новая задача: ', '');
          counts.set(name, (counts.get(name) ?? 0) + 1);
        }
        return [...acked].every((n) => counts.has(n));
      };
      await waitFor('a letter for every acknowledged webhook', collect, 90_000).catch(() => undefined);
      // A job cut off after its letter went out sends it again once its lease expires: count after the queue drained.
      const openJobs = async () => (await querySchema<{ n: number }>(pgAvailable.url, schema, `SELECT COUNT(*)::int AS n FROM jobs WHERE status IN ('queued', 'running')`))[0]!.n;
      await waitFor('the queue to drain', async () => (await openJobs()) === 0, 30_000).catch(() => undefined);
      await collect();
      const missing = [...acked].filter((n) => !counts.has(n));
      const duplicated = [...counts].filter(([, n]) => n > 1).map(([name]) => name);

      // SMTP and Bpium never fail here, so a second attempt means the first one's instance died holding the job.
      const [takeover] = await querySchema<{ n: number }>(pgAvailable.url, schema, `SELECT COUNT(*)::int AS n FROM jobs WHERE attempts > 1`);
      const [jobs] = await querySchema<{ succeeded: number; other: number; workers: number }>(
        pgAvailable.url,
        schema,
        `SELECT COUNT(*) FILTER (WHERE status = 'succeeded')::int AS succeeded, COUNT(*) FILTER (WHERE status <> 'succeeded')::int AS other,
           (SELECT COUNT(DISTINCT worker_id)::int FROM runs WHERE job_id IS NOT NULL) AS workers FROM jobs`,
      );
      const [inbox] = await querySchema<{ total: number; duplicates: number }>(pgAvailable.url, schema, 'SELECT COUNT(*)::int AS total, COUNT(duplicate_of)::int AS duplicates FROM inbox');
      t.diagnostic(
        `sent ${total}, acknowledged ${acked.size} (${redelivered} redelivered to B after A died); letters for ${counts.size} tasks; ` +
          `missing ${missing.length}; sent twice ${duplicated.length}; A held ${heldAtKill} at the kill; jobs taken over after lease expiry ${takeover!.n}; ` +
          `jobs succeeded ${jobs!.succeeded}, not succeeded ${jobs!.other}; workers that ran jobs ${jobs!.workers}; inbox ${inbox!.total} (${inbox!.duplicates} duplicate deliveries)`,
      );
      if (refusals.size) t.diagnostic(`refused: ${JSON.stringify([...refusals])}`);
      assert.deepEqual(missing, [], 'no acknowledged webhook lost its letter');
      assert.equal(acked.size, total, 'every webhook was acknowledged, by A or (redelivered) by B');
      assert.ok(heldAtKill >= 1, `A held a running job when it was killed (held ${heldAtKill}): the kill must leave work for B to take over`);
      assert.ok(takeover!.n >= heldAtKill, `B took over every job A held when killed (${heldAtKill}) after their leases expired, not ${takeover!.n}`);
      assert.ok(duplicated.length <= takeover!.n, `only jobs cut off mid-send may send twice (${duplicated.length} > ${takeover!.n})`);
      assert.ok(takeover!.n <= WORKERS, 'A never held more jobs than its workers');
      assert.equal(jobs!.other, 0, 'every job ended up succeeded');
      assert.ok(jobs!.workers >= 2, 'both instances ran jobs');
    } finally {
      await Promise.all(instances.map((i) => i.stop()));
      await bpium.close();
      await smtp.close();
      await dropSchema(pgAvailable.url!, schema).catch(() => undefined);
      tmp.cleanup();
    }
  });
});
