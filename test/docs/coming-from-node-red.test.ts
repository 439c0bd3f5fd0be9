// docs/coming-from-node-red.md: its files (```yaml / ```sql blocks whose first line is "# file: …" or "-- file: …") are
// written into an empty folder and its commands run there as the page says: validate, test, the two dry runs against
// a real shop API on loopback, and serve, where the webhook's letter reaches a real SMTP server and the service task
// writes its row into the real SQLite file.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { simpleParser } from 'mailparser';
import { startServer } from '../../server/serve.js';
import { runCli, runCliAsync } from '../cli/cli.helper.js';
import { repoPath, tempDir } from '../helpers.js';
import { startSmtpServer } from '../mail/smtp-server.helper.js';
import { AUTH, USER, waitFor } from '../server/server-helpers.js';

const doc = readFileSync(repoPath('docs', 'coming-from-node-red.md'), 'utf8');
const files = [...doc.matchAll(/```(?:yaml|sql)\n(?:# |-- )file: (\S+)\n([\s\S]*?)```/g)].map((m) => [m[1]!, m[2]!] as const);

/** A shop API: GET /orders/<id> answers the order as JSON. */
async function startShop(): Promise<{ url: string; server: Server; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const m = /^\/orders\/([^/?]+)$/.exec(req.url ?? '');
    if (!m) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ id: m[1], customer: 'Anna', email: 'anna@example.com', total: 1500.5 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server, requests };
}

function writeFiles(dir: string): void {
  for (const [name, body] of files) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), body);
  }
}

describe('docs/coming-from-node-red.md', () => {
  it('has the files of the examples (and the dead-letter catch-all)', () => {
    assert.deepEqual(files.map(([n]) => n).sort(), ['oktell.config.yaml', 'scenarios/DeadLetter.yaml', 'scenarios/HTTP404.yaml', 'scenarios/OrderMail.yaml', 'scenarios/PollShop.yaml', 'scenarios/db/main/001-samples.sql', 'scenarios/tests/order-mail.test.yaml', 'scenarios/tests/poll-shop.test.yaml']);
  });

  it('validate, test and the dry runs print what the page says', async () => {
    const tmp = tempDir('oktell-node-red-');
    const shop = await startShop();
    try {
      writeFiles(tmp.dir);
      const validate = runCli(['validate'], { cwd: tmp.dir, unset: ['SHOP_URL'] });
      assert.equal(validate.code, 0, validate.stdout + validate.stderr);
      assert.match(validate.stdout, /✓ 4 scenario file\(s\) valid/);
      assert.equal(validate.stderr, '', 'no warning: SHOP_URL has an initial');
      const test = runCli(['test'], { cwd: tmp.dir });
      assert.equal(test.code, 0, test.stdout + test.stderr);
      assert.match(test.stdout, /7 passed, 0 failed/);
      const order = await runCliAsync(['run', 'OrderMail', '-p', '1={"orderId":"A-1"}', '--dry-run', '--json'], { cwd: tmp.dir, env: { SHOP_URL: shop.url } });
      assert.equal(order.code, 0, order.stdout + order.stderr);
      const o = JSON.parse(order.stdout) as { mails: Array<{ to: string[]; subject: string; text: string; status: string }> };
      assert.deepEqual(o.mails.map((m) => [m.to, m.subject, m.text, m.status]), [[['anna@example.com'], 'Order A-1', 'Dear Anna, your order A-1 totals 1500.5.', 'dry-run']]);
      assert.deepEqual(shop.requests, ['GET /orders/A-1'], 'the dry run sends the GET');
      const poll = await runCliAsync(['run', 'PollShop', '-p', '1=2026-12-07T10:00:00Z', '--dry-run', '--json'], { cwd: tmp.dir, env: { SHOP_URL: shop.url } });
      assert.equal(poll.code, 0, poll.stdout + poll.stderr);
      const p = JSON.parse(poll.stdout) as { returnValues: Record<string, unknown>; dbCalls: Array<{ rolledBack: boolean }> };
      assert.equal(p.returnValues['1'], 'written 1');
      assert.deepEqual(p.dbCalls.map((c) => c.rolledBack), [true], 'the INSERT is rolled back');
    } finally {
      shop.server.close();
      tmp.cleanup();
    }
  });

  it('served: the webhook is answered "queued", its letter reaches the SMTP server, and the task writes its row', async () => {
    const tmp = tempDir('oktell-node-red-');
    const shop = await startShop();
    const smtp = await startSmtpServer();
    try {
      writeFiles(tmp.dir);
      const dataDir = join(tmp.dir, 'var');
      // Scenarios read env: from the process's environment, as the CLI's serve does.
      process.env.SHOP_URL = shop.url;
      const server = await startServer({
        port: 0, host: '127.0.0.1', dataDir, scenarios: join(tmp.dir, 'scenarios'), config: join(tmp.dir, 'oktell.config.yaml'), bpiumEmulatorPort: 0, watch: false, pollMs: 50,
        env: { OKTELL_USERS: `${USER.login}:${USER.password}`, OKTELL_LOG_LEVEL: 'silent', SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, SHOP_URL: shop.url },
      });
      try {
        assert.deepEqual(server.warnings, []);
        const res = await fetch(`${server.url}/hooks/order`, { method: 'POST', headers: { Authorization: AUTH, 'Content-Type': 'application/json' }, body: '{"orderId":"A-1"}' });
        assert.equal(res.status, 200);
        assert.equal(await res.text(), 'queued');
        await waitFor('the letter', () => smtp.letters.length >= 1);
        const letter = await simpleParser(smtp.letters[0]!.raw);
        assert.equal(letter.subject, 'Order A-1', letter.text);
        assert.equal(letter.text?.trim(), 'Dear Anna, your order A-1 totals 1500.5.');
        const other = await fetch(`${server.url}/elsewhere`, { method: 'POST', headers: { Authorization: AUTH }, body: '{}' });
        assert.equal(other.status, 404);
        // The service task, started by hand as `oktell-emu tasks run poll-shop` would: its row lands in main.sqlite.
        const run = await fetch(`${server.url}/-/tasks/poll-shop/run`, { method: 'POST', headers: { Authorization: AUTH } });
        assert.ok(run.ok, `${run.status} ${await run.text()}`);
        const rows = await waitFor('the row', () => {
          const db = new Database(join(dataDir, 'main.sqlite'), { readonly: true });
          try {
            const r = db.prepare('SELECT order_id, total FROM samples').all();
            return r.length ? r : undefined;
          } finally {
            db.close();
          }
        });
        assert.deepEqual(rows, [{ order_id: 'A-1', total: 1500.5 }]);
      } finally {
        await server.close(2000);
      }
    } finally {
      delete process.env.SHOP_URL;
      await smtp.close();
      shop.server.close();
      tmp.cleanup();
    }
  });
});
