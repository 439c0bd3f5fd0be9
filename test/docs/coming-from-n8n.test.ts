// docs/coming-from-n8n.md: the files of its examples (```yaml / ```sql blocks that begin with "# file: …" or
// "-- file: …", and the ```json block after a "<!-- file: … -->" line) are written into an empty folder, where the
// page's commands run: validate and test print what it says; served, the webhook with the right token is answered 202
// with its JSON, a wrong one 401, the letter reaches a real SMTP server, a mail server that is down makes the job a
// dead letter and DeadLetter's letter reaches the administrator once it is back, and the service task writes its row
// into the real SQLite file.
import assert from 'node:assert/strict';
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
import { AUTH, USER, waitFor } from '../server/server-helpers.js';

const page = readFileSync(repoPath('docs', 'coming-from-n8n.md'), 'utf8');
const files: Array<readonly [string, string]> = [
  ...[...page.matchAll(/```(?:yaml|sql)\n(?:# |-- )file: (\S+)\n([\s\S]*?)```/g)].map((m) => [m[1]!, m[2]!] as const),
  ...[...page.matchAll(/<!-- file: (\S+) -->\n```json\n([\s\S]*?)```/g)].map((m) => [m[1]!, m[2]!] as const),
];

function writeFiles(dir: string): void {
  for (const [name, body] of files) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), body);
  }
}

/** The order API: GET /orders/<id> answers the order, GET /health 200. */
async function startApi(): Promise<{ url: string; server: Server; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.url === '/health') return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
    const m = /^\/orders\/([^/?]+)$/.exec(req.url ?? '');
    if (!m) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ id: m[1], total: 99.5 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server, requests };
}

const TOKEN = 'doc-test-token-42';

describe('docs/coming-from-n8n.md', () => {
  it('has the files of both examples, the pinned body among them', () => {
    assert.deepEqual(files.map(([n]) => n).sort(), [
      'oktell.config.yaml',
      'scenarios/CheckApi.yaml',
      'scenarios/DeadLetter.yaml',
      'scenarios/HTTP404.yaml',
      'scenarios/OrderReport.yaml',
      'scenarios/db/main/001-checks.sql',
      'scenarios/tests/check-api.test.yaml',
      'scenarios/tests/order.test.yaml',
      'scenarios/tests/pinned/order-a1.json',
    ]);
  });

  it('validate and test print what the page says', () => {
    const tmp = tempDir('oktell-n8n-doc-');
    try {
      writeFiles(tmp.dir);
      const validate = runCli(['validate'], { cwd: tmp.dir, env: { HOOK_TOKEN: TOKEN } });
      assert.equal(validate.code, 0, validate.stdout + validate.stderr);
      assert.match(validate.stdout, /✓ 4 scenario file\(s\) valid/);
      assert.doesNotMatch(validate.stdout + validate.stderr, /warning/, 'no warning with HOOK_TOKEN set');
      const unset = runCli(['validate'], { cwd: tmp.dir, unset: ['HOOK_TOKEN'] });
      assert.match(unset.stdout + unset.stderr, /variable hookToken takes its value from environment variable HOOK_TOKEN, which is not set/, 'the page says validate warns without it');
      const test = runCli(['test'], { cwd: tmp.dir });
      assert.equal(test.code, 0, test.stdout + test.stderr);
      assert.match(test.stdout, /8 passed, 0 failed/);
    } finally {
      tmp.cleanup();
    }
  });

  it('served: 202 with JSON for the token, 401 without, the letter over SMTP, the dead letter mailed to the admin, the task row', async () => {
    const tmp = tempDir('oktell-n8n-doc-');
    const api = await startApi();
    let smtp: TestSmtpServer = await startSmtpServer();
    const smtpPort = smtp.port;
    try {
      writeFiles(tmp.dir);
      const dataDir = join(tmp.dir, 'var');
      const server = await startServer({
        port: 0, host: '127.0.0.1', dataDir, scenarios: join(tmp.dir, 'scenarios'), config: join(tmp.dir, 'oktell.config.yaml'), bpiumEmulatorPort: 0, watch: false, pollMs: 50,
        env: {
          OKTELL_USERS: `${USER.login}:${USER.password}`, OKTELL_LOG_LEVEL: 'silent', SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
          HOOK_TOKEN: TOKEN, API_URL: api.url, OKTELL_MAX_ATTEMPTS: '3', OKTELL_RETRY_BASE_DELAY_MS: '100', OKTELL_RETRY_MAX_DELAY_MS: '200',
        },
      });
      try {
        assert.deepEqual(server.warnings, []);
        const post = (token: string, body: string) =>
          fetch(`${server.url}/hooks/order`, { method: 'POST', headers: { Authorization: AUTH, 'X-Hook-Token': token, 'Content-Type': 'application/json' }, body });
        const ok = await post(TOKEN, '{"orderId":"A-1"}');
        assert.equal(ok.status, 202);
        assert.equal(ok.headers.get('content-type'), 'application/json; charset=utf-8');
        assert.deepEqual(await ok.json(), { accepted: true });
        const bad = await post('guessed-token-1', '{"orderId":"A-1"}');
        assert.equal(bad.status, 401);
        assert.deepEqual(await bad.json(), { error: 'bad token' });
        await waitFor('the letter', () => smtp.letters.length >= 1);
        const letter = await simpleParser(smtp.letters[0]!.raw);
        assert.equal(letter.subject, 'Order A-1');
        assert.equal(letter.text?.trim(), 'Order A-1 totals 99.5.');
        // The page's service task calls GET /health at every whole minute, which a slow run of this test may cross.
        const orders = () => api.requests.filter((r) => r.startsWith('GET /orders/'));
        assert.deepEqual(orders(), ['GET /orders/A-1'], 'the refused webhook called nothing');

        // The mail server goes down: the job is tried three times and given up on; DeadLetter mails once it is back.
        await smtp.close();
        const down = await post(TOKEN, '{"orderId":"B-2"}');
        assert.equal(down.status, 202);
        const dead = await waitFor('the dead job', async () => (await server.store.listJobs({ status: 'dead', scenario: 'OrderReport' })).items[0], 30_000);
        assert.equal(dead.attempts, 3);
        smtp = await startSmtpServer({ port: smtpPort });
        await waitFor('the letter to the administrator', () => smtp.letters.length >= 1, 30_000);
        const admin = await simpleParser(smtp.letters[0]!.raw);
        assert.deepEqual(smtp.letters[0]!.rcptTo, ['admin@example.com']);
        assert.equal(admin.subject, 'Gave up on OrderReport after 3 attempt(s)');
        assert.match(admin.text ?? '', new RegExp(`^Job ${dead.id} failed: R_EFFECT_TRANSIENT: .*SMTP.*Its input: \\{"1":"\\{\\\\"orderId\\\\":\\\\"B-2\\\\"\\}"\\}\\. Run it again: npx oktell-emu replay ${dead.id}`, 's'));

        // The service task, started now as `oktell-emu tasks run check-api` would: its row lands in main.sqlite.
        const run = await fetch(`${server.url}/-/tasks/check-api/run`, { method: 'POST', headers: { Authorization: AUTH } });
        assert.ok(run.ok, `${run.status} ${await run.clone().text()}`);
        const { jobId } = (await run.json()) as { jobId: string };
        const job = await waitFor('the task run', async () => {
          const j = await server.store.getJob(jobId);
          return j && j.status !== 'queued' && j.status !== 'running' ? j : undefined;
        });
        assert.equal(job.status, 'succeeded');
        // Its own row, by its due time: at a whole minute the schedule's run writes one too, which must not stand in.
        const due = (job.params as Record<string, string>)['1'];
        const db = new Database(join(dataDir, 'main.sqlite'), { readonly: true });
        try {
          assert.deepEqual(db.prepare('SELECT status FROM checks WHERE due_at = ?').all(due), [{ status: 200 }], `due ${due}`);
        } finally {
          db.close();
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
