// `cancel` of a running job, through the real binary, against a real `serve` process: the job's run waits on a
// WebRequest to a local service that holds its answer, so the job is running when it is cancelled. The cancel is
// recorded as a request (exit 0); the worker sees it with its next lease renewal; the block under way (the request)
// finishes, and the run stops before its next block, the letter after it never sent; the job is a dead letter R_CANCELLED
// naming who cancelled it, and `replay` brings it back, its first letter (journaled) not sent again. SQLite file, and
// PostgreSQL when reachable.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { repoPath, tempDir } from '../helpers.js';
import { startSmtpServer } from '../mail/smtp-server.helper.js';
import { AUTH, USER, waitFor } from './server-helpers.js';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { startInstance, waitHealthy, type Instance } from '../scale/scale-helpers.js';

const SCENARIO = `variables: { url: string, answer: string }
blocks:
  begin: { kind: Start, param: url, exits: { next: first } }
  first:
    kind: SendMail
    to: '"desk@shop.example"'
    subject: '"first"'
    text: '"before the slow request"'
    exits: { success: ask, error: ask }
  # Held by the test while it runs its CLI commands (several seconds each on a loaded machine): a timeout far longer
  # than that, so that the request is answered by the test, never given up by the block first (10 s by default).
  ask: { kind: WebRequest, url: '[url]', timeout: 80, responseBody: answer, exits: { success: second } }
  second:
    kind: SendMail
    to: '"desk@shop.example"'
    subject: '"second"'
    text: '"after it: " + [answer]'
    exits: { success: done, error: done }
  done: { kind: ReturnValue, values: { 1: '[answer]' } }
`;

/** A service that holds each request until `release` (or answers at once after `answerAtOnce`). */
async function heldService() {
  const held: ServerResponse[] = [];
  let atOnce = false;
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    received++;
    if (atOnce) res.end('ok');
    else held.push(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow`,
    received: () => received,
    release: () => held.splice(0).forEach((res) => res.end('ok')),
    answerAtOnce: () => (atOnce = true),
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

const pgTest = await testPostgres();

for (const kind of ['SQLite', 'PostgreSQL'] as const) {
  describe(`cancel of a running job (${kind})`, { ...(kind === 'PostgreSQL' && pgTest.skip !== undefined ? { skip: pgTest.skip } : {}) }, () => {
    it('stops its run at the next block boundary: a dead letter R_CANCELLED, no effect cut, replay runs the rest once', { timeout: 90_000 }, async () => {
      const tmp = tempDir('oktell-cancel-running-');
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(scenarios);
      writeFileSync(join(scenarios, 'Slow.yaml'), SCENARIO);
      // The hook scenario every server needs (no webhook is sent here).
      writeFileSync(join(scenarios, 'HTTP404.yaml'), 'blocks: { end: { kind: Stop } }\n');
      const dataDir = join(tmp.dir, 'data');
      mkdirSync(dataDir);
      const schema = randomSchemaName('cancelrun');
      const store = kind === 'PostgreSQL' ? urlWithSchema(pgTest.url!, schema) : '';
      const smtp = await startSmtpServer();
      const service = await heldService();
      const cliEnv = kind === 'PostgreSQL' ? { OKTELL_STORE: store } : { OKTELL_STORE: '' };
      const cli = (...args: string[]) =>
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          const p = spawn(process.execPath, [repoPath('bin', 'oktell-emu.js'), ...args, ...(kind === 'SQLite' ? ['--data-dir', dataDir] : [])], { env: { ...process.env, ...cliEnv, OKTELL_CONFIG: '', NO_COLOR: '1', OKTELL_TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] });
          let stdout = '';
          let stderr = '';
          p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
          p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          p.on('close', (code) => resolve({ code, stdout, stderr }));
        });
      // A lease of 3 s: renewed (and the cancel requests read) every second.
      const server: Instance = startInstance('A', dataDir, scenarios, { store, smtpPort: smtp.port, bpium: { url: '', login: '', password: '' }, webhookSecret: 'x', users: `${USER.login}:${USER.password}`, leaseMs: 3000, workers: 1, logLevel: 'info' });
      try {
        await waitHealthy(server);
        const started = await fetch(`${server.url}/execsvcscriptplain?name=Slow&startparam1=${encodeURIComponent(service.url)}&async=1`, { headers: { authorization: AUTH } });
        assert.equal(started.status, 200, await started.text());
        const jobId = started.headers.get('x-oktell-run-id')!;
        // The first letter is sent, then the run waits on the held request: the job is running.
        await waitFor('the slow request', () => service.received() === 1, 30_000);
        assert.equal(smtp.letters.length, 1);

        const asked = await cli('cancel', jobId);
        assert.equal(asked.code, 0, asked.stderr);
        assert.match(asked.stdout, new RegExp(`^cancel requested for running job ${jobId} \\(Slow\\): cancel requested by oktell-emu cancel, \\S+ at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\nits attempt stops at its next block boundary`));
        // Pending: runs and show say so; a second cancel says it is requested already, exit 0.
        const listed = await cli('runs', '--status', 'running');
        assert.match(listed.stdout, new RegExp(`job ${jobId} #1 .*\\(cancel requested by oktell-emu cancel, \\S+ at [^)]+: it stops at its next block boundary\\)`));
        const shown = await cli('show', jobId);
        assert.match(shown.stderr, /is running and has no run recorded yet; cancel requested by oktell-emu cancel, \S+ at \S+: its attempt stops at its next block boundary/);
        // The console's jobs page says it too, and offers no second Cancel for the job.
        const page = await (await fetch(`${server.url}/-/console/jobs?status=running`, { headers: { authorization: AUTH } })).text();
        assert.match(page, /<div class="small cancel-requested">cancel requested by oktell-emu cancel, \S+ at [^:]+:[^<]*: its attempt stops at its next block boundary, then the job is a dead letter \(R_CANCELLED\)<\/div>/);
        assert.ok(!page.includes(`/jobs/${jobId}/cancel`), 'no second Cancel');
        const twice = await cli('cancel', jobId);
        assert.equal(twice.code, 0, twice.stderr);
        assert.match(twice.stdout, new RegExp(`^job ${jobId} \\(Slow\\) is running with a cancel requested by oktell-emu cancel, .* already: its attempt stops at its next block boundary; nothing changed\n$`));

        // The worker sees the request with a lease renewal (its log says so); only then is the request answered.
        await waitFor('the worker to see the cancel request', () => server.stdout().includes(`job ${jobId}: cancel requested by oktell-emu cancel`), 30_000);
        assert.equal((await cli('runs', '--status', 'dead', '--json')).stdout, '[]\n', 'the block under way is not cut');
        service.release();

        const dead = await waitFor('the job to be a dead letter', async () => {
          const rows = JSON.parse((await cli('runs', '--status', 'dead', '--json')).stdout) as Array<{ id: string; jobId: string; error: { code: string; message: string }; cancelled?: { code: string; message: string } }>;
          return rows.find((r) => r.jobId === jobId);
        }, 30_000);
        assert.equal(dead.cancelled?.code, 'R_CANCELLED');
        assert.match(dead.cancelled!.message, /^cancelled by an operator \(oktell-emu cancel, \S+, \d{4}-[\d-]+T[\d:.]+Z\): its running attempt stopped at a block boundary$/);
        // The run: the WebRequest finished (its answer is in the trace), and it stopped before the second letter.
        assert.equal(dead.error.code, 'R_CANCELLED');
        assert.match(dead.error.message, /^stopped before block "second": cancel requested by oktell-emu cancel, /);
        const run = JSON.parse((await cli('show', dead.id, '--json')).stdout) as { status: string; job: { status: string; attempts: number }; httpCalls: Array<{ status?: number }> };
        assert.deepEqual([run.status, run.job.status, run.job.attempts], ['failed', 'dead', 1]);
        assert.equal(smtp.letters.length, 1, 'no letter after the cancel');
        // The worker logs the end as the operator's stop it is, a warning naming who asked, not as an ERROR dead letter.
        const ends = server.stdout().split('\n').flatMap((l) => { try { return [JSON.parse(l) as { level: number; msg: string; jobId?: string; outcome?: string; cancelledBy?: string }]; } catch { return []; } }).filter((l) => l.jobId === jobId && l.outcome !== undefined);
        assert.equal(ends.length, 1, JSON.stringify(ends));
        assert.equal(ends[0]!.level, 40, JSON.stringify(ends[0]));
        assert.match(ends[0]!.msg, /^run Slow failed \(cancelled by oktell-emu cancel, \S+, requested at \d{4}-[\d-]+T[\d:.]+Z: its attempt stopped at a block boundary; a dead letter R_CANCELLED, which replay brings back\)$/);
        assert.match(ends[0]!.cancelledBy ?? '', /^oktell-emu cancel, /);
        assert.ok(!server.stdout().includes('(dead letter)'), 'no ERROR dead-letter line');

        // replay brings it back: the first letter is in the journal (not sent again), the second goes out once.
        service.answerAtOnce();
        const replayed = await cli('replay', jobId);
        assert.equal(replayed.code, 0, replayed.stderr);
        await waitFor('the replay to succeed', async () => {
          const r = JSON.parse((await cli('show', jobId, '--json')).stdout || '{}') as { job?: { status: string } };
          return r.job?.status === 'succeeded';
        }, 30_000);
        const subjects = (await Promise.all(smtp.letters.map((l) => simpleParser(l.raw)))).map((m) => m.subject);
        assert.deepEqual(subjects, ['first', 'second']);
        const after = JSON.parse((await cli('show', jobId, '--json')).stdout) as { job: { cancelRequest?: unknown } };
        assert.equal(after.job.cancelRequest, undefined, 'the replay cleared the request');
      } catch (e) {
        throw new Error(`${(e as Error).message}\n${server.stdout().slice(-3000)}\n${server.stderr()}`, { cause: e });
      } finally {
        await server.stop();
        service.release();
        await service.close();
        await smtp.close();
        if (kind === 'PostgreSQL') await dropSchema(pgTest.url!, schema).catch(() => undefined);
        tmp.cleanup();
      }
    });
  });
}
