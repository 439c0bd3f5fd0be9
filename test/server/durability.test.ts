// Nothing acknowledged is lost: not when the process is killed with SIGKILL, not when SMTP is down for a while.
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, startSilentServer, startSmtpServer } from '../mail/smtp-server.helper.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { repoPath, tempDir } from '../helpers.js';
import { runCliAsync } from '../cli/cli.helper.js';
import { AUTH, capturingLogger, parsedLetters, postWebhook, serveUrl, startChild, startTestServer, taskWebhook, waitFor } from './server-helpers.js';

describe('durability', () => {
  it('SIGKILL in the middle of a stream of webhooks: after a restart every acknowledged webhook gets its letter', { timeout: 90_000 }, async (t) => {
    const tmp = tempDir('oktell-kill-');
    const smtp = await startSmtpServer();
    const dataDir = join(tmp.dir, 'var');
    const scenarios = join(tmp.dir, 'scenarios');
    cpSync(repoPath('scenarios'), scenarios, { recursive: true });
    let { proc: child, output } = startChild(dataDir, scenarios, smtp.port);
    try {
      // The restart below need not keep the port: each start picks a free one, and the webhooks go where it says.
      let url = await serveUrl(child, dataDir, output);
      const secret = readFileSync(join(dataDir, 'bpium-webhook-secret'), 'utf8').trim();
      const total = 300;
      const killAt = 100;
      const acked = new Set<string>();
      const send = async (from: number, to: number, onEach?: (i: number) => void) => {
        let next = from;
        const worker = async () => {
          while (next < to) {
            const i = next++;
            onEach?.(i);
            const name = `task-${String(i).padStart(4, '0')}`;
            try {
              const res = await postWebhook(url, taskWebhook({ name, responsible: ['2'], sequenceId: 10_000 + i }), secret);
              if (res.status === 200) acked.add(name);
            } catch {
              /* the connection was cut by the kill: not acknowledged */
            }
          }
        };
        await Promise.all(Array.from({ length: 8 }, worker));
      };
      const exited = new Promise((r) => child.once('exit', r));
      // Phase 1: a stream, killed with SIGKILL while requests and jobs are in flight.
      await send(0, total / 2, (i) => i === killAt && child.kill('SIGKILL'));
      await exited;
      assert.equal(child.signalCode, 'SIGKILL');
      // Phase 2: restart on the same data folder; the stream goes on.
      ({ proc: child, output } = startChild(dataDir, scenarios, smtp.port));
      url = await serveUrl(child, dataDir, output);
      await send(total / 2, total);
      assert.ok(acked.size > total / 2, `most webhooks were acknowledged (${acked.size})`);
      const counts = new Map<string, number>();
      await waitFor(
        'a letter for every acknowledged webhook',
        async () => {
          counts.clear();
          for (const m of await parsedLetters(smtp)) {
            const name = m.subject!.replace('Новая задача: ', '');
            counts.set(name, (counts.get(name) ?? 0) + 1);
          }
          return [...acked].every((n) => counts.has(n));
        },
        60_000,
      ).catch(() => undefined);
      const missing = [...acked].filter((n) => !counts.has(n));
      const duplicates = [...counts].filter(([, n]) => n > 1).length;
      t.diagnostic(`acknowledged ${acked.size} of ${total}; letters for ${counts.size} tasks; duplicates (cut off mid-send): ${duplicates}; missing: ${missing.length}`);
      assert.deepEqual(missing, [], 'no acknowledged webhook vanished');
      assert.ok(duplicates <= 10, `few duplicates (${duplicates})`);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
      await smtp.close();
      tmp.cleanup();
    }
  });

  it('SIGKILL after a letter went out but before its journal entry: the retry after the restart marks the letter it sends again, logs its Message-ID and counts it', { timeout: 90_000 }, async () => {
    let child: ChildProcess | undefined;
    // The first letter is received whole, then the server is killed before the SMTP server answers it: the attempt
    // never learns it was sent, so its journal holds nothing for it.
    const smtp = await startSmtpServer({ afterData: (n) => (n === 1 ? (child?.kill('SIGKILL'), 'silent') : 'answer') });
    const tmp = tempDir();
    const dataDir = join(tmp.dir, 'var');
    const scenarios = join(tmp.dir, 'scenarios');
    cpSync(repoPath('scenarios'), scenarios, { recursive: true });
    // No pending mark before the kill: the letter is sent again, as after a crash right after an answered letter.
    const env = { SMTP_PENDING_MARK_MS: '600000' };
    let log = '';
    // Each start picks its own port (see startChild): the restart listens where serve.json then says.
    let url = '';
    const start = async () => {
      const started = startChild(dataDir, scenarios, smtp.port, env, (text) => (log += text));
      child = started.proc;
      url = await serveUrl(child, dataDir, started.output);
      return child;
    };
    try {
      let running = await start();
      const secret = readFileSync(join(dataDir, 'bpium-webhook-secret'), 'utf8').trim();
      const exited = new Promise((r) => running.once('exit', r));
      assert.equal((await postWebhook(url, taskWebhook({ name: 'убитый посреди письма', responsible: ['2'] }), secret)).status, 200);
      await exited;
      assert.equal(running.signalCode, 'SIGKILL');
      running = await start();
      await waitFor('the letter again', () => smtp.letters.length === 2, 30_000);
      const metric = await waitFor('the metric', async () => {
        const text = await (await fetch(`${url}/-/metrics`, { headers: { authorization: AUTH } })).text();
        return /^oktell_effects_maybe_repeated_total 1$/m.test(text) && text;
      });
      assert.ok(metric);
      const ids = (await parsedLetters(smtp)).map((m) => m.messageId);
      assert.equal(ids[0], ids[1], 'both copies carry one Message-ID');
      // Where operators look: `runs`, `show` and the console's run page. The commands run without blocking this
      // process, whose idle connections to the server would otherwise be closed under its next request.
      const listed = await runCliAsync(['runs', '--json', '--data-dir', dataDir]);
      assert.equal(listed.code, 0, listed.stderr);
      const rows = JSON.parse(listed.stdout) as Array<{ id: string; status: string; scenario: string; attempt: number; mayRepeat?: boolean }>;
      assert.deepEqual(
        rows.filter((r) => r.scenario === 'BpiumNewTask').map((r) => [r.status, r.attempt, r.mayRepeat]),
        [['completed', 2, true], ['failed', 1, undefined]],
        'the retry is marked; the lost attempt (PROCESS_STOPPED) is not',
      );
      const retryId = rows.find((r) => r.scenario === 'BpiumNewTask' && r.status === 'completed')!.id;
      const text = await runCliAsync(['runs', '--data-dir', dataDir]);
      assert.match(text.stdout.split('\n').find((l) => l.includes(retryId)) ?? '', / may repeat · letter sent to ivan\.petrov@example\.com; notified 1 of 1$/, 'marked, then its outcome');
      const shown = await runCliAsync(['show', retryId, '--data-dir', dataDir]);
      assert.equal(shown.code, 0, shown.stderr);
      assert.ok(shown.stdout.includes(`mail sent to ivan.petrov@example.com · Новая задача: убитый посреди письма may repeat · Message-ID ${ids[0]}`), shown.stdout);
      assert.match(shown.stdout, /may repeat an earlier attempt of this job was cut off/);
      const page = await (await fetch(`${url}/-/console/runs/${retryId}`, { headers: { authorization: AUTH } })).text();
      assert.match(page, /id="may-repeat"/);
      assert.ok(page.includes(`Message-ID <code>${ids[0]!.replace('<', '&lt;').replace('>', '&gt;')}</code>`), 'the page names the Message-ID');
      // The console's runs list marks the same run as `runs` does, and only that one.
      const list = await (await fetch(`${url}/-/console/runs`, { headers: { authorization: AUTH } })).text();
      const marked = [...list.matchAll(/<tr data-id="([^"]+)"[^>]*>(?:(?!<\/tr>)[\s\S])*?>may repeat<\/span>/g)].map((m) => m[1]);
      assert.deepEqual(marked, [retryId]);
      running.kill('SIGTERM');
      await new Promise((r) => running.once('exit', r));
      const store = await openSqliteStore({ file: join(dataDir, 'oktell.sqlite') });
      try {
        const runs = (await store.listRuns({ scenario: 'BpiumNewTask' })).items;
        const done = runs.find((r) => r.status === 'completed');
        assert.ok(done, 'the retry completed');
        const run = await store.getRun(done.id);
        const mails = run!.mails as Array<{ status: string; messageId: string; mayRepeat?: boolean }>;
        assert.deepEqual(mails.map((m) => [m.status, m.messageId, m.mayRepeat]), [['sent', ids[0], true]]);
      } finally {
        await store.close();
      }
      const warnings = log
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { level: number; msg?: string; jobId?: string; letters?: Array<{ block: string; messageId: string }> })
        .filter((l) => /may repeat it/.test(l.msg ?? ''));
      assert.equal(warnings.length, 1, `one warning names the candidate letter:\n${log}`);
      const warning = warnings[0]!;
      assert.equal(warning.level, 40, 'a warning');
      assert.ok(warning.msg!.includes(ids[0]!), `the warning names the Message-ID ${ids[0]}: ${warning.msg}`);
      assert.ok(warning.msg!.includes(`letter ${ids[0]} of "notify"`), warning.msg);
      assert.ok(warning.msg!.includes(`(recipients and subjects: npx oktell-emu show ${retryId})`), warning.msg);
      assert.doesNotMatch(warning.msg!, /ivan\.petrov|убитый/, 'no recipient or subject in the log');
      assert.match(warning.msg!, /\(BpiumNewTask\)/);
      assert.deepEqual(warning.letters, [{ block: 'notify', messageId: ids[0] }], 'the letter by its block and Message-ID, no recipient');
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child!.once('exit', r));
      }
      await smtp.close();
      tmp.cleanup();
    }
  });

  it('SMTP down for a while, then back: every letter is delivered after retries', { timeout: 60_000 }, async () => {
    const smtpPort = await freePort();
    const t = await startTestServer({ smtp: false, smtpPort, config: 'workers: { baseDelayMs: 100, maxDelayMs: 400, maxAttempts: 50 }\n' });
    let smtp: Awaited<ReturnType<typeof startSmtpServer>> | undefined;
    try {
      for (const i of [1, 2, 3]) {
        const res = await postWebhook(t.server.url, taskWebhook({ name: `при отказе SMTP ${i}`, responsible: ['2'] }), t.secret);
        assert.equal(res.status, 200);
      }
      await waitFor('failed attempts', async () => {
        const runs = await t.server.store.listRuns({ status: 'failed', scenario: 'BpiumNewTask' });
        return runs.items.length >= 3;
      });
      const failed = (await t.server.store.listRuns({ status: 'failed', scenario: 'BpiumNewTask' })).items[0]!;
      assert.equal((failed.error as { retryable: boolean }).retryable, true);
      assert.match(JSON.stringify(failed.error), /ECONNREFUSED/);
      smtp = await startSmtpServer({ port: smtpPort });
      await waitFor('three letters', () => smtp!.letters.length >= 3, 20_000);
      const subjects = (await parsedLetters(smtp)).map((m) => m.subject).sort();
      assert.deepEqual(subjects, [1, 2, 3].map((i) => `Новая задача: при отказе SMTP ${i}`));
    } finally {
      await t.cleanup();
      await smtp?.close();
    }
  });

  it('SMTP down for good: jobs become dead letters with the reason, and a replay delivers them once SMTP is back', { timeout: 60_000 }, async () => {
    const smtpPort = await freePort();
    const t = await startTestServer({ smtp: false, smtpPort, config: 'workers: { baseDelayMs: 50, maxDelayMs: 100, maxAttempts: 2 }\n' });
    let smtp: Awaited<ReturnType<typeof startSmtpServer>> | undefined;
    try {
      const res = await postWebhook(t.server.url, taskWebhook({ name: 'мёртвое письмо', responsible: ['3'] }), t.secret);
      assert.equal(res.status, 200);
      const dead = await waitFor('a dead letter', async () => (await t.server.store.listJobs({ status: 'dead' })).items[0]);
      assert.equal(dead.attempts, 2);
      assert.match(JSON.stringify(dead.lastError), /ECONNREFUSED|refused/i);
      smtp = await startSmtpServer({ port: smtpPort });
      const r = spawnSync(process.execPath, [repoPath('bin', 'oktell-emu.js'), 'replay', '--status', 'dead', '--data-dir', t.dataDir, '--json'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), [dead.id]);
      await waitFor('the replayed letter', () => smtp!.letters.length === 1, 20_000);
      assert.deepEqual(smtp.letters[0]!.rcptTo, ['maria.smirnova@example.org']);
      const job = await waitFor('the job to succeed', async () => ((await t.server.store.getJob(dead.id))?.status === 'succeeded' ? true : undefined));
      assert.ok(job);
    } finally {
      await t.cleanup();
      await smtp?.close();
    }
  });

  it('a refused SMTP login is a server fault: the job is retried, dead-lettered, counted as failed, and replay sends it once the login works', { timeout: 60_000 }, async () => {
    const login = { user: 'robot', pass: 'the-right-one' };
    const smtp = await startSmtpServer({ auth: login });
    login.pass = 'changed-on-the-server';
    const t = await startTestServer({
      smtp: false,
      env: { SMTP_URL: `smtp://robot:the-right-one@127.0.0.1:${smtp.port}` },
      config: 'workers: { baseDelayMs: 50, maxDelayMs: 100, maxAttempts: 2 }\n',
    });
    const metric = async (outcome: string) => {
      const text = await (await fetch(`${t.server.url}/-/metrics`, { headers: { authorization: AUTH } })).text();
      return Number(new RegExp(`^oktell_letters_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
    };
    try {
      const res = await postWebhook(t.server.url, taskWebhook({ name: 'пароль сменили', responsible: ['3'] }), t.secret);
      assert.equal(res.status, 200);
      // Not the SendMail error exit ("completed, notified 0 of 1"): the run fails, the job is retried, then dead.
      const dead = await waitFor('a dead letter', async () => (await t.server.store.listJobs({ status: 'dead' })).items[0], 20_000);
      assert.equal(dead.attempts, 2);
      assert.match(JSON.stringify(dead.lastError), /refused the login.*535/);
      assert.ok(!JSON.stringify(dead.lastError).includes('the-right-one'));
      assert.equal((await t.server.store.listRuns({ status: 'completed', scenario: 'BpiumNewTask' })).items.length, 0);
      assert.equal(await metric('failed'), 2);
      assert.equal(await metric('sent'), 0);
      login.pass = 'the-right-one';
      const r = spawnSync(process.execPath, [repoPath('bin', 'oktell-emu.js'), 'replay', '--status', 'dead', '--data-dir', t.dataDir, '--json'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      await waitFor('the replayed letter', () => smtp.letters.length === 1, 20_000);
      assert.equal(smtp.letters[0]!.user, 'robot');
      await waitFor('the sent letter counted', async () => (await metric('sent')) === 1);
    } finally {
      await t.cleanup();
      await smtp.close();
    }
  });

  it('a graceful stop does not use up the attempt of a job still running: restarts never dead-letter it, and it is delivered', { timeout: 60_000 }, async () => {
    const silent = await startSilentServer(); // SMTP that never answers: the job is still running at each stop
    const smtp = await startSmtpServer();
    const config = 'workers: { baseDelayMs: 50, maxDelayMs: 100, maxAttempts: 2 }\n';
    const t = await startTestServer({ smtp: false, smtpPort: silent.port, config });
    let server = t.server;
    try {
      const res = await postWebhook(server.url, taskWebhook({ name: 'три перезапуска', responsible: ['3'] }), t.secret);
      assert.equal(res.status, 200);
      for (let stop = 1; stop <= 3; stop++) {
        const running = await waitFor('the job to run', async () => (await server.store.listJobs({ status: 'running' })).items[0]);
        await server.close(200);
        const store = await openSqliteStore({ file: join(t.dataDir, 'oktell.sqlite') });
        const job = await store.getJob(running.id);
        await store.close();
        assert.deepEqual({ status: job?.status, attempts: job?.attempts }, { status: 'queued', attempts: 0 }, `after stop ${stop}, the cut attempt is given back`);
        // With a reason on record, so the next attempt consults the journal for what the cut one already did.
        assert.equal((job?.lastError as { code?: string } | null)?.code, 'STOPPED');
        server = await t.restart(stop < 3 ? silent.port : smtp.port);
      }
      await waitFor('the letter', () => smtp.letters.length === 1, 20_000);
      const done = await waitFor('the job to succeed', async () => (await server.store.listJobs({ status: 'succeeded', scenario: 'BpiumNewTask' })).items[0]);
      assert.equal(done.attempts, 1);
    } finally {
      await server.close(200);
      await t.cleanup();
      await smtp.close();
      await silent.close();
    }
  });

  it('a retried run does not send again the letters that already went out', { timeout: 60_000 }, async () => {
    // Two responsibles: the first letter is accepted, the second refused with 451 until SMTP "recovers".
    let refuse = true;
    const log = capturingLogger();
    const t = await startTestServer({
      logger: log.logger,
      smtp: { rcpt: (address) => (refuse && address.startsWith('maria') ? Object.assign(new Error('try later'), { responseCode: 451 }) : undefined) },
      config: 'workers: { baseDelayMs: 100, maxDelayMs: 300, maxAttempts: 50 }\n',
    });
    try {
      const res = await postWebhook(t.server.url, taskWebhook({ name: 'два ответственных', responsible: ['2', '3'] }), t.secret);
      assert.equal(res.status, 200);
      await waitFor('a failed attempt', async () => (await t.server.store.listRuns({ status: 'failed', scenario: 'BpiumNewTask' })).items.length >= 1);
      refuse = false;
      await waitFor('both letters', () => t.smtp!.letters.length === 2, 20_000);
      await new Promise((r) => setTimeout(r, 300));
      const to = t.smtp!.letters.map((l) => l.rcptTo[0]).sort();
      assert.deepEqual(to, ['ivan.petrov@example.com', 'maria.smirnova@example.org'], 'Ivan got exactly one letter');
      // A retry after a recorded failure lost nothing: none of its letters is a candidate repeat.
      const completed = await waitFor('the completed run', async () => (await t.server.store.listRuns({ status: 'completed', scenario: 'BpiumNewTask' })).items[0]);
      const mails = (await t.server.store.getRun(completed.id))!.mails as Array<{ subject: string; status: string; mayRepeat?: boolean }>;
      assert.deepEqual(mails.map((m) => [m.status, m.mayRepeat]), [['replayed', undefined], ['sent', undefined]]);
      const metrics = await (await fetch(`${t.server.url}/-/metrics`, { headers: { authorization: AUTH } })).text();
      assert.match(metrics, /^oktell_effects_maybe_repeated_total 0$/m);
      assert.ok(!log.lines.some((l) => /may repeat it/.test(l.msg ?? '')), 'no warning of a repeat');
    } finally {
      await t.cleanup();
    }
  });
});
