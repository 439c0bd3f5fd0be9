// Trial s30, finding 1, in a test: an instance stopped with SIGSTOP in the middle of a job, for longer than its lease,
// while another instance takes the job over and finishes it. When it is continued (SIGCONT), its timers fire late
// and its attempt goes on where it was; the fence before the next letter finds the lease lost and the letter is
// not sent a second time. Real parts: a child process running a worker pool on PostgreSQL, smtp-server on loopback,
// a second pool in this process on the same schema.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { createSmtpMailer } from '../../adapters/mail/smtp.adapter.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary, type RunResult } from '../../engine/index.js';
import { openPostgresStore } from '../../server/store/postgres.store.js';
import { tempDir } from '../helpers.js';
import { startSmtpServer } from '../mail/smtp-server.helper.js';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { subjectsOf, TWO_LETTERS } from './lease-fence.helper.js';
import { mailPool } from './pool.helper.js';

/** The shortest lease the server accepts: the takeover comes 3 s after the stop at most. */
const LEASE_MS = 3000;
const CHILD = fileURLToPath(new URL('./lease-fence-stall.child.js', import.meta.url));

const until = async (what: string, ok: () => boolean, ms = 20_000) => {
  for (let i = 0; i < ms / 20 && !ok(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(ok(), what);
};

const pg = await testPostgres();

describe('an instance stopped (SIGSTOP) past its lease in the middle of a job', { timeout: 60_000, ...(pg.skip ? { skip: pg.skip } : {}) }, () => {
  it('does not send the letters of the job another instance took over once it is continued', async () => {
    const t = tempDir();
    writeFileSync(join(t.dir, 'TwoLetters.yaml'), TWO_LETTERS);
    const schema = randomSchemaName('stall');
    const url = urlWithSchema(pg.url!, schema);
    const store = await openPostgresStore({ url, poolSize: 4 });
    let child: ChildProcess | undefined;
    let stopped = false;
    // The child is stopped the moment its first letter has arrived, before the server answers it: it is stalled in
    // the middle of that letter, with its job's lease running.
    const server = await startSmtpServer({
      data: (n) => {
        if (n === 1 && child?.pid) stopped = child.kill('SIGSTOP');
        return undefined;
      },
    });
    const lib = await loadScenarioLibrary(t.dir, { registry: defaultRegistry });
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 } });
    const taken: Array<{ outcome: string; result: RunResult }> = [];
    const b = mailPool(store, lib, mailer, {
      leaseMs: LEASE_MS,
      onAttempt: (_job, result, outcome) => void taken.push({ outcome, result }),
    });
    let out = '';
    let err = '';
    try {
      const [id] = await store.enqueueJobs([{ scenario: 'TwoLetters', params: {} }]);
      child = spawn(process.execPath, [CHILD], {
        env: { ...process.env, FENCE_SCENARIOS: t.dir, FENCE_STORE_URL: url, FENCE_SMTP_PORT: String(server.port), FENCE_LEASE_MS: String(LEASE_MS) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
      await until('the child claimed the job and was stopped in the middle of its first letter', () => stopped);
      assert.equal(server.counts.data, 1);

      // The other instance takes the job over once the lease has expired, and finishes it.
      b.start();
      await until('the job was taken over and finished by the other instance', () => taken.length === 1);
      assert.equal(taken[0]!.outcome, 'succeeded');
      assert.equal((await store.getJob(id!))?.status, 'succeeded');
      assert.deepEqual(await subjectsOf(server), { первое: 2, второе: 1 });

      child.kill('SIGCONT');
      await until(`the stalled attempt ended after SIGCONT (child log: ${err})`, () => out.includes('\n'));
      assert.equal(await exited, 0, err);
      // The first letter went out twice: it was sent before the stall and its journal entry was never written (the
      // case docs/scaling.md describes). The second letter, sent after the takeover, is not doubled.
      assert.deepEqual(await subjectsOf(server), { первое: 2, второе: 1 }, `the stalled instance sent a letter after it was continued (child log: ${err})`);
      const attempt = JSON.parse(out.trim()) as { outcome: string; code: string | null; mails: string[][] };
      assert.deepEqual(attempt, { outcome: 'lease-lost', code: 'R_LEASE_LOST', mails: [['первое', 'sent']] });
      assert.match(err, /run TwoLetters failed before its next effect: its lease had expired and another worker took the job over/);
    } finally {
      if (child && child.exitCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
      }
      await b.stop(1000);
      await mailer.close();
      await server.close();
      await store.close();
      await dropSchema(pg.url!, schema);
      t.cleanup();
    }
  });
});
