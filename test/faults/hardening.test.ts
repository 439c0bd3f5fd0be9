// Findings of the red-team pass (issue 18), each through the real server or the real command: health that tells the
// truth, the cap on effects per run (live and in the console's dry run), JSON nested 100,000 deep, edits while
// serving, outbox pages with hundreds of letters, a damaged store and a lost write-ahead log, bad page cursors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { createOutboxMailer } from '../../adapters/mail/outbox.adapter.js';
import { outboxCommand } from '../../cli/commands/outbox.command.js';
import { startServer } from '../../server/serve.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { repoPath, repoRoot, tempDir } from '../helpers.js';
import { csrfToken, dryRunWebhook, get as consoleGet, startConsoleServer } from '../console/console-helpers.js';
import { AUTH, capturingLogger, parsedLetters, postWebhook, startTestServer, taskWebhook, USER, waitFor } from '../server/server-helpers.js';

/** A real store file with a few hundred jobs in it (many pages), closed cleanly. */
async function filledStore(dir: string): Promise<string> {
  const file = join(dir, 'oktell.sqlite');
  const store = await openSqliteStore({ file });
  await store.enqueueJobs(Array.from({ length: 300 }, (_, i) => ({ scenario: 'BpiumNewTask', params: { '1': `задача ${i} ${'x'.repeat(400)}` } })));
  await store.close();
  return file;
}

/** Overwrites `length` bytes of the file at `offset` with junk. */
function damage(file: string, offset: number, length: number): void {
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(length, 0x5a), 0, length, offset);
  closeSync(fd);
}

/** `oktell-emu serve` as an operator starts it, on the given data folder; it must refuse before listening. */
function serveOn(dataDir: string) {
  const r = spawnSync(process.execPath, [repoPath('bin', 'oktell-emu.js'), 'serve', '--port', '0', '--bpium-emulator-port', '0', '--data-dir', dataDir], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, OKTELL_USERS: `${USER.login}:${USER.password}`, BPIUM_URL: '', SMTP_URL: '', NO_COLOR: '1', OKTELL_LOG_LEVEL: 'silent' },
    timeout: 30_000,
  });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}


interface Health {
  status: string;
  problems?: string[];
}

async function health(url: string): Promise<{ code: number; body: Health }> {
  const res = await fetch(`${url}/-/health`);
  return { code: res.status, body: (await res.json()) as Health };
}

describe('hardening (issue 18)', () => {
  it('health: a missing hook scenario and a store refusing writes make /-/health fail, and it recovers', { timeout: 30_000 }, async () => {
    const t = await startTestServer({ smtp: false, watch: true });
    const blocker = new Database(join(t.dataDir, 'oktell.sqlite'));
    try {
      const fine = await health(t.server.url);
      assert.equal(fine.code, 200);
      assert.equal(fine.body.status, 'ok');
      assert.equal(fine.body.problems, undefined);

      blocker.exec('BEGIN EXCLUSIVE');
      const refused = await postWebhook(t.server.url, taskWebhook({ name: 'при блокировке', responsible: ['2'] }), t.secret);
      assert.equal(refused.status, 503);
      const locked = await health(t.server.url);
      assert.equal(locked.code, 503);
      assert.equal(locked.body.status, 'failing');
      assert.match(locked.body.problems!.join('\n'), /the store refuses writes \(busy\)/);
      blocker.exec('ROLLBACK');
      assert.equal((await postWebhook(t.server.url, taskWebhook({ name: 'после блокировки', responsible: ['2'] }), t.secret)).status, 200);
      assert.equal((await health(t.server.url)).code, 200, 'a stored webhook clears the refusal');

      renameSync(join(t.scenariosDir, 'HTTP404.yaml'), join(t.scenariosDir, 'HTTP404.yaml.moved'));
      const missing = await waitFor('health to notice the missing hook scenario', async () => {
        const h = await health(t.server.url);
        return h.code === 503 ? h : undefined;
      });
      assert.equal(missing.body.status, 'failing');
      assert.match(missing.body.problems!.join('\n'), /the hook scenario HTTP404 is missing/);
      renameSync(join(t.scenariosDir, 'HTTP404.yaml.moved'), join(t.scenariosDir, 'HTTP404.yaml'));
      await waitFor('health to be ok again', async () => (await health(t.server.url)).code === 200);
    } finally {
      blocker.close();
      await t.cleanup();
    }
  });

  it('health: a store that takes no write at all (the queue cannot move) fails /-/health without any webhook, and it recovers', { timeout: 30_000 }, async () => {
    const t = await startTestServer({ smtp: false });
    const blocker = new Database(join(t.dataDir, 'oktell.sqlite'));
    try {
      assert.equal((await health(t.server.url)).code, 200);
      blocker.exec('BEGIN EXCLUSIVE');
      // No webhook comes: only the workers' claims meet the lock.
      const stuck = await waitFor('health to see the refused claims', async () => {
        const h = await health(t.server.url);
        return h.code === 503 ? h : undefined;
      }, 15_000);
      assert.equal(stuck.body.status, 'failing');
      assert.match(stuck.body.problems!.join('\n'), /the store refuses every write \(busy\): jobs cannot be claimed or finished/);
      blocker.exec('ROLLBACK');
      await waitFor('a claim to commit and health to be ok again', async () => (await health(t.server.url)).code === 200, 15_000);
    } finally {
      blocker.close();
      await t.cleanup();
    }
  });

  it('fan-out: a webhook listing one employee 200 times stops at the configured cap on effects, failing for good', { timeout: 60_000 }, async () => {
    // maxEffectsPerRun 6: three employees, each a Bpium read and a letter; the seventh effect is never performed.
    const t = await startTestServer({ config: 'maxEffectsPerRun: 6\nworkers: { baseDelayMs: 50, maxDelayMs: 200 }\n' });
    try {
      const res = await postWebhook(t.server.url, taskWebhook({ name: 'рассылка', responsible: Array.from({ length: 200 }, () => '2'), sequenceId: 180_004 }), t.secret);
      assert.equal(res.status, 200);
      const failed = await waitFor('the job to fail', async () => (await t.server.store.listJobs({ status: 'failed' })).items[0], 30_000);
      assert.equal(failed.attempts, 1, 'not retried');
      assert.equal((failed.lastError as { code: string }).code, 'R_EFFECT_LIMIT');
      assert.match((failed.lastError as { message: string }).message, /cap of 6 effects/);
      assert.equal(t.smtp!.letters.length, 3);
      const run = await t.server.store.getRun(failed.lastRunId!);
      assert.equal((run!.bpiumCalls as unknown[]).length, 3);
    } finally {
      await t.cleanup();
    }
  });

  it("fan-out in the console's dry run: it stops at the cap too (OKTELL_MAX_EFFECTS), and says why", { timeout: 30_000 }, async () => {
    const t = await startConsoleServer({}, { OKTELL_MAX_EFFECTS: '4' });
    try {
      const csrf = await csrfToken(t.base);
      const body = taskWebhook({ name: 'сухая рассылка', responsible: Array.from({ length: 500 }, () => '2') });
      const html = await (await consoleGet(await dryRunWebhook(t, csrf, body))).text();
      assert.match(html, /cap of 4 effects/);
      assert.equal((html.match(/ivan\.petrov@example\.com/g) ?? []).length >= 1, true, 'the letters before the cap are shown');
    } finally {
      await t.cleanup();
    }
  });

  it('deep nesting: a webhook whose task description is an array nested 100,000 deep is acknowledged, then refused by the limit without a letter', { timeout: 30_000 }, async () => {
    const t = await startTestServer();
    try {
      const depth = 100_000;
      const body = taskWebhook({ name: 'глубоко', responsible: ['2'], sequenceId: 180_010 }).replace('"3":""', `"3":${'['.repeat(depth)}${']'.repeat(depth)}`);
      assert.ok(body.includes('[[[['), 'the deep part is in the body');
      const res = await postWebhook(t.server.url, body, t.secret);
      assert.equal(res.status, 200);
      const job = await waitFor('the job to succeed', async () => (await t.server.store.listJobs({ status: 'succeeded' })).items[0], 20_000);
      const run = await t.server.store.getRun(job.lastRunId!);
      // The Parser refuses JSON nested deeper than 256 levels before parsing it (review s30, M1): the scenario's error exit.
      assert.match(String(run!.returnValues && (run!.returnValues as Record<string, unknown>)['1']), /^malformed webhook: the document nests arrays and objects deeper than 256 levels/);
      assert.equal(t.smtp!.letters.length, 0);
    } finally {
      await t.cleanup();
    }
  });

  it('edits while serving: a broken template keeps the last good version, and a job whose scenario is gone waits for it', { timeout: 60_000 }, async () => {
    const t = await startTestServer({ watch: true, config: 'workers: { baseDelayMs: 100, maxDelayMs: 300, maxAttempts: 50 }\n' });
    try {
      // 1. A broken template: BpiumNewTask stays (stale, on its last good version) and the letter is still written.
      const text = join(t.scenariosDir, 'templates', 'bpium-new-task.text.njk');
      const good = readFileSync(text, 'utf8');
      appendFileSync(text, '{% if %}broken');
      await waitFor('the broken template to be noticed', () => t.server.host.issues().some((i) => i.code === 'E_INVALID_TEMPLATE'));
      assert.ok(t.server.host.library().scenarios.has('BpiumNewTask'), 'the last good version is kept');
      const first = await postWebhook(t.server.url, taskWebhook({ name: 'шаблон сломан', description: 'описание задачи', responsible: ['2'], sequenceId: 180_020 }), t.secret);
      assert.equal(first.status, 200);
      await waitFor('the letter from the last good template', () => t.smtp!.letters.length >= 1, 20_000);
      const [letter] = await parsedLetters(t.smtp!);
      assert.match(letter!.text ?? '', /описание задачи/);
      assert.doesNotMatch(letter!.text ?? '', /broken/);
      writeFileSync(text, good);
      await waitFor('the template to be fixed', () => t.server.host.issues().length === 0);

      // 2. The scenario file moved away: the acknowledged webhook's job waits (retryable) instead of failing for good.
      const file = join(t.scenariosDir, 'BpiumNewTask.yaml');
      renameSync(file, `${file}.away`);
      await waitFor('BpiumNewTask to be gone', () => !t.server.host.library().scenarios.has('BpiumNewTask'));
      const second = await postWebhook(t.server.url, taskWebhook({ name: 'сценарий убран', responsible: ['3'], sequenceId: 180_021 }), t.secret);
      assert.equal(second.status, 200, 'HTTP404 keeps its last good version although its async target is gone');
      // The job is queued between attempts and running during one: either way it is waiting, not dead.
      const waiting = await waitFor('a retry of the job', async () => {
        const j = (await t.server.store.listJobs({ limit: 50 })).items.find((x) => x.scenario === 'BpiumNewTask' && x.attempts >= 2 && x.lastError !== null && x.status !== 'dead' && x.status !== 'succeeded');
        return j;
      }, 30_000);
      assert.equal((waiting.lastError as { code: string }).code, 'R_UNKNOWN_SCENARIO');
      assert.equal(t.smtp!.letters.length, 1);
      renameSync(`${file}.away`, file);
      await waitFor('the letter once the scenario is back', () => t.smtp!.letters.length >= 2, 30_000);
      const done = await waitFor('the job to succeed', async () => {
        const j = await t.server.store.getJob(waiting.id);
        return j?.status === 'succeeded' ? j : undefined;
      });
      assert.ok(done.attempts >= 2);
      assert.deepEqual(t.smtp!.letters[1]!.rcptTo, ['maria.smirnova@example.org']);
    } finally {
      await t.cleanup();
    }
  });

  it('outbox: pages and lookups open only the files they show, so they answer the same with hundreds of letters', { timeout: 60_000 }, async () => {
    const t = await startTestServer({ smtp: false });
    try {
      const dir = join(t.dataDir, 'outbox');
      let clock = Date.parse('2026-11-01T08:00:00Z');
      const mailer = createOutboxMailer({ dir, from: 'robot@example.com', clock: { now: () => new Date((clock += 1000)) } });
      for (let i = 1; i <= 450; i++) await mailer.send({ to: [`u${i}@example.com`], cc: [], bcc: [], subject: `письмо ${i}`, text: `номер ${i}` });
      // Older "letters" that cannot be read at all (directories named like letters): anything that opens every .eml
      // file fails on them, a page of the newest letters and a lookup by name never touch them.
      for (let i = 0; i < 100; i++) mkdirSync(join(dir, `20000101-000000-000-${String(i).padStart(6, '0')}-0000abcd.eml`));
      const names = readdirSync(dir).sort();
      assert.equal(names.length, 550);
      const get = (path: string) => fetch(`${t.server.url}/-/console${path}`, { headers: { authorization: AUTH } });

      const first = await get('/outbox');
      assert.equal(first.status, 200);
      const html = await first.text();
      assert.match(html, /200 of 550 are listed, newest first/);
      assert.ok(html.indexOf('письмо 450') < html.indexOf('письмо 449'), 'newest first');
      assert.ok(html.includes('письмо 251') && !html.includes('письмо 250<'), 'exactly the newest 200');
      const older = /href="([^"]*outbox\?before=[^"]+)"/.exec(html)?.[1];
      assert.ok(older, 'a link to older letters');
      const second = await (await fetch(`${t.server.url}${older.replaceAll('&amp;', '&')}`, { headers: { authorization: AUTH } })).text();
      assert.ok(second.includes('письмо 250') && second.includes('письмо 51') && !second.includes('письмо 251'), 'the next 200');

      const oldest = names[100]!;
      const one = await get(`/outbox/${oldest}`);
      assert.equal(one.status, 200);
      assert.match(await one.text(), /письмо 1</);
      assert.equal((await get('/outbox/20991231-235959-999-000001-deadbeef.eml')).status, 404, 'a missing letter');

      let out = '';
      await outboxCommand({ env: {}, write: (s) => void (out += s) }).exitOverride().parseAsync(['--data-dir', t.dataDir, '--limit', '3'], { from: 'user' });
      assert.match(out, /письмо 448[\s\S]*письмо 450/);
      assert.match(out, /3 of 550 letters/);
    } finally {
      await t.cleanup();
    }
  });

  it('a damaged store: pages overwritten or a broken header → the server refuses to start, says what to do, no stack', { timeout: 90_000 }, async () => {
    const tmp = tempDir('oktell-damaged-');
    try {
      const pages = join(tmp.dir, 'pages');
      mkdirSync(pages);
      const file = await filledStore(pages);
      damage(file, 4096 * 20, 4096 * 3);
      const a = serveOn(pages);
      assert.equal(a.code, 2, `exit code (stderr: ${a.stderr.slice(0, 500)})`);
      assert.match(a.stderr, /the store .*oktell\.sqlite is damaged, so the server does not start on it/);
      assert.match(a.stderr, /What to do/);
      assert.match(a.stderr, /\.recover/);
      assert.doesNotMatch(a.stderr, /^\s+at /m, 'no stack');

      const header = join(tmp.dir, 'header');
      mkdirSync(header);
      damage(await filledStore(header), 0, 100);
      const b = serveOn(header);
      assert.equal(b.code, 2);
      assert.match(b.stderr, /is damaged.*file is not a database/);
      assert.doesNotMatch(b.stderr, /^\s+at /m, 'no stack');
    } finally {
      tmp.cleanup();
    }
  });

  it('a write-ahead log deleted after an unclean stop is reported at start, and the server starts', { timeout: 60_000 }, async () => {
    const tmp = tempDir('oktell-nowal-');
    try {
      // The files an unclean stop leaves (a connection still open): the database, its -wal and its -shm; copied
      // without the -wal, as if someone deleted it before the restart.
      const live = join(tmp.dir, 'live');
      const data = join(tmp.dir, 'data');
      mkdirSync(live);
      mkdirSync(data);
      const db = new Database(join(live, 'oktell.sqlite'));
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
      assert.ok(existsSync(join(live, 'oktell.sqlite-wal')) && existsSync(join(live, 'oktell.sqlite-shm')));
      copyFileSync(join(live, 'oktell.sqlite'), join(data, 'oktell.sqlite'));
      copyFileSync(join(live, 'oktell.sqlite-shm'), join(data, 'oktell.sqlite-shm'));
      db.close();
      const { lines, logger } = capturingLogger();
      const server = await startServer({ port: 0, host: '127.0.0.1', dataDir: data, scenarios: repoPath('scenarios'), bpiumEmulatorPort: 0, watch: false, logger, env: { OKTELL_USERS: `${USER.login}:${USER.password}` } });
      try {
        const warning = lines.find((l) => l.level === 'warn' && /write-ahead log oktell\.sqlite-wal is missing after an unclean stop/.test(l.msg ?? ''));
        assert.ok(warning, `warned: ${lines.map((l) => l.msg).join(' | ')}`);
        assert.equal((await fetch(`${server.url}/-/health`)).status, 200);
      } finally {
        await server.close(2000);
      }
    } finally {
      tmp.cleanup();
    }
  });

  it('bad page cursors on the runs and jobs lists answer 400, with no error or stack in the log', { timeout: 30_000 }, async () => {
    const { lines, logger } = capturingLogger();
    const t = await startTestServer({ smtp: false, logger });
    try {
      for (const path of ["/-/console/runs.json?cursor='", "/-/console/runs?cursor='", "/-/console/jobs?cursor='", '/-/console/jobs?cursor=eyJhIjoxfQ']) {
        const res = await fetch(`${t.server.url}${path}`, { headers: { authorization: AUTH } });
        assert.equal(res.status, 400, path);
        assert.match(await res.text(), /invalid page cursor/, path);
      }
      const good = await fetch(`${t.server.url}/-/console/runs.json`, { headers: { authorization: AUTH } });
      assert.equal(good.status, 200);
      const errors = lines.filter((l) => l.level === 'error');
      assert.deepEqual(errors.map((l) => l.msg), [], 'nothing logged as an error');
      assert.ok(!lines.some((l) => l.obj.err !== undefined), 'no error (with its stack) in the log');
    } finally {
      await t.cleanup();
    }
  });
});
