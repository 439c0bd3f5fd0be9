// docs/coming-from-kestra.md: the files of its example (```yaml / ```sql blocks that begin with "# file: …" or
// "-- file: …") are written into an empty folder, where the page's commands run: validate and test print what it
// says; served, a body with the key in the query is answered 202, one without orderId 400, a wrong key 404; the job
// asks a real HTTP API, reads the customer from the real SQLite file and its letter reaches a real SMTP server; with
// the API down the job is retried and given up on, DeadLetter mails the administrator, and `replay --status dead`
// delivers the order once the API is back; the key is *** in the run's record and the request log; the service task
// writes its count.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { simpleParser } from 'mailparser';
import { startServer } from '../../server/serve.js';
import { runCli } from '../cli/cli.helper.js';
import { repoPath, tempDir } from '../helpers.js';
import { startSmtpServer, type TestSmtpServer } from '../mail/smtp-server.helper.js';
import { AUTH, capturingLogger, USER, waitFor } from '../server/server-helpers.js';

const page = readFileSync(repoPath('docs', 'coming-from-kestra.md'), 'utf8');
const files: Array<readonly [string, string]> = [...page.matchAll(/```(?:yaml|sql)\n(?:# |-- )file: (\S+)\n([\s\S]*?)```/g)].map((m) => [m[1]!, m[2]!] as const);

function writeFiles(dir: string): void {
  for (const [name, body] of files) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), body);
  }
}

/** The order API: GET /orders/<id> answers the order, or 503 while it is down. */
async function startApi(): Promise<{ url: string; server: Server; requests: string[]; down: { on: boolean } }> {
  const requests: string[] = [];
  const down = { on: false };
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (down.on) return void res.writeHead(503).end('down for maintenance');
    const m = /^\/orders\/([^/?]+)$/.exec(req.url ?? '');
    if (!m) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ id: m[1], total: 99.5 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server, requests, down };
}

const KEY = 'doc-test-key-0042';

describe('docs/coming-from-kestra.md', () => {
  it('has the files of the example', () => {
    assert.deepEqual(files.map(([n]) => n).sort(), [
      'oktell.config.yaml',
      'scenarios/CountCustomers.yaml',
      'scenarios/DeadLetter.yaml',
      'scenarios/HTTP404.yaml',
      'scenarios/OrderFlow.yaml',
      'scenarios/db/main/001-customers.sql',
      'scenarios/tests/order-flow.test.yaml',
    ]);
  });

  it('validate and test print what the page says', () => {
    const tmp = tempDir('oktell-kestra-doc-');
    try {
      writeFiles(tmp.dir);
      const validate = runCli(['validate'], { cwd: tmp.dir, env: { HOOK_KEY: KEY } });
      assert.equal(validate.code, 0, validate.stdout + validate.stderr);
      assert.match(validate.stdout, /✓ 4 scenario file\(s\) valid/);
      assert.doesNotMatch(validate.stdout + validate.stderr, /warning/, 'no warning with HOOK_KEY set');
      const unset = runCli(['validate'], { cwd: tmp.dir, unset: ['HOOK_KEY'] });
      assert.match(unset.stdout + unset.stderr, /variable hookKey takes its value from environment variable HOOK_KEY, which is not set/);
      const test = runCli(['test'], { cwd: tmp.dir });
      assert.equal(test.code, 0, test.stdout + test.stderr);
      assert.match(test.stdout, /5 passed, 0 failed/);
    } finally {
      tmp.cleanup();
    }
  });

  it('served: 202, 400, 404; the letter over SMTP; API down → dead letter → DeadLetter mail → replay; the task row', async () => {
    const tmp = tempDir('oktell-kestra-doc-');
    const api = await startApi();
    const smtp: TestSmtpServer = await startSmtpServer();
    const log = capturingLogger();
    try {
      writeFiles(tmp.dir);
      const dataDir = join(tmp.dir, 'var');
      // The customer the letter names, in the file the server's DbQuery opens (the migration makes the table).
      const server = await startServer({
        port: 0, host: '127.0.0.1', dataDir, scenarios: join(tmp.dir, 'scenarios'), config: join(tmp.dir, 'oktell.config.yaml'), bpiumEmulatorPort: 0, watch: false, pollMs: 50,
        logger: log.logger,
        env: {
          OKTELL_USERS: `${USER.login}:${USER.password}`, SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
          HOOK_KEY: KEY, API_URL: api.url, OKTELL_MAX_ATTEMPTS: '3', OKTELL_RETRY_BASE_DELAY_MS: '100', OKTELL_RETRY_MAX_DELAY_MS: '200',
        },
      });
      try {
        assert.deepEqual(server.warnings, []);
        const db = new Database(join(dataDir, 'main.sqlite'));
        try {
          db.prepare("INSERT INTO customers VALUES ('A-1', 'Acme')").run();
        } finally {
          db.close();
        }
        const post = (key: string, body: string) => fetch(`${server.url}/hooks/order-flow?key=${key}`, { method: 'POST', headers: { Authorization: AUTH }, body });
        const ok = await post(KEY, '{"orderId":"A-1"}');
        assert.equal(ok.status, 202);
        assert.deepEqual(await ok.json(), { accepted: true });
        const bad = await post(KEY, '{"id":1}');
        assert.equal(bad.status, 400);
        assert.deepEqual(await bad.json(), { error: 'no match for `$.orderId` (required for orderId)' });
        assert.equal((await post('guessed-key-00', '{"orderId":"A-1"}')).status, 404);
        await waitFor('the letter', () => smtp.letters.length >= 1);
        const letter = await simpleParser(smtp.letters[0]!.raw);
        assert.deepEqual(smtp.letters[0]!.rcptTo, ['sales@example.com']);
        assert.equal(letter.subject, 'Order A-1');
        assert.equal(letter.text?.trim(), 'Order A-1 for Acme totals 99.5.');
        assert.deepEqual(api.requests, ['GET /orders/A-1'], 'the refused webhooks called nothing');

        // The page: a query parameter named key is kept and shown as ***.
        const hookRun = await server.store.getRun(ok.headers.get('x-oktell-run-id')!);
        assert.equal((hookRun!.params as Record<string, string>)['1'], '/hooks/order-flow?key=***');
        const logged = JSON.stringify(log.lines);
        assert.match(logged, /"path":"\/hooks\/order-flow","query":\["key"\]/, 'the request is logged, its query by names');
        assert.ok(!logged.includes(KEY), 'the key is not in the log');

        // The API goes down: the job is tried three times and given up on; DeadLetter mails the administrator.
        api.down.on = true;
        assert.equal((await post(KEY, '{"orderId":"B-2"}')).status, 202);
        const dead = await waitFor('the dead job', async () => (await server.store.listJobs({ status: 'dead', scenario: 'OrderFlow' })).items[0], 30_000);
        assert.equal(dead.attempts, 3);
        await waitFor('the letter to the administrator', () => smtp.letters.length >= 2, 30_000);
        assert.deepEqual(smtp.letters[1]!.rcptTo, ['admin@example.com']);
        const admin = await simpleParser(smtp.letters[1]!.raw);
        assert.equal(admin.subject, 'Gave up on OrderFlow after 3 attempt(s)');
        assert.match(admin.text ?? '', new RegExp(`^Job ${dead.id} failed: R_EFFECT_TRANSIENT: .*HTTP 503.*Run it again: npx oktell-emu replay ${dead.id}`, 's'));

        // Back up: `replay --status dead` runs it again, and sales get the letter.
        api.down.on = false;
        const replay = spawnSync(process.execPath, [repoPath('bin', 'oktell-emu.js'), 'replay', '--status', 'dead', '--data-dir', dataDir], { encoding: 'utf8' });
        assert.equal(replay.status, 0, replay.stdout + replay.stderr);
        assert.match(replay.stdout, new RegExp(`requeued 1 job\\(s\\): ${dead.id}`));
        await waitFor('the replayed letter', () => smtp.letters.length >= 3, 30_000);
        const replayed = await simpleParser(smtp.letters[2]!.raw);
        assert.equal(replayed.text?.trim(), 'Order B-2 for an unknown customer totals 99.5.');

        // The service task, started now as `oktell-emu tasks run count-customers` would: its count lands in main.sqlite.
        const run = await fetch(`${server.url}/-/tasks/count-customers/run`, { method: 'POST', headers: { Authorization: AUTH } });
        assert.ok(run.ok, `${run.status} ${await run.clone().text()}`);
        const { jobId } = (await run.json()) as { jobId: string };
        const job = await waitFor('the task run', async () => {
          const j = await server.store.getJob(jobId);
          return j && j.status !== 'queued' && j.status !== 'running' ? j : undefined;
        });
        assert.equal(job.status, 'succeeded');
        const due = (job.params as Record<string, string>)['1'];
        const read = new Database(join(dataDir, 'main.sqlite'), { readonly: true });
        try {
          assert.deepEqual(read.prepare('SELECT n FROM counts WHERE due_at = ?').all(due), [{ n: 1 }], `due ${due}`);
        } finally {
          read.close();
        }
      } finally {
        await server.close(2000);
      }
    } finally {
      await smtp.close().catch(() => undefined);
      api.server.close();
      tmp.cleanup();
    }
  });
});
