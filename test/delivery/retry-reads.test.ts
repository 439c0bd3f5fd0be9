// A queued job that loops over rows it reads (a service task sending the unsent orders), retried after an outage in
// the middle: the retry must read what its first attempt read, up to where that attempt got, so that the effects the
// journal replays by step (block and visit) meet the rows they were made for. Read live again, the rows the first
// attempt marked are gone from the read, the journal's POST and UPDATE of the first order are replayed for the second,
// and with a branch on the read data the second order is POSTed twice (trial 40). Real parts: the worker pool, the
// SQLite store, a SQLite "main" database file, the WebRequest client against an HTTP server on loopback.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createDatabasePort } from '../../adapters/db/index.js';
import { createBpiumClient } from '../../adapters/bpium/client.js';
import { createWebClient } from '../../adapters/web/client.js';
import { startBpiumEmulator } from '../../bpium-emulator/emulator.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary, randomIds, systemClock, type MailerPort } from '../../engine/index.js';
import type { BackoffPolicy } from '../../server/store/backoff.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { tempDir } from '../helpers.js';
import { mailPool } from './pool.helper.js';

/** Sends each unsent order, big ones to /big, and marks it sent, until none is left. */
const PUSH = (url: string) => `variables:
  id: number
  order_no: string
  amount: number
  found: number
  sent: number
start: next
blocks:
  next:
    kind: DbQuery
    sql: SELECT id, order_no, amount FROM orders WHERE sent_at IS NULL ORDER BY id LIMIT 1
    rowCount: found
    exits: { success: any }
  any:
    kind: Condition
    expression: '[found] > 0'
    exits: { true: big, false: done }
  big:
    kind: Condition
    expression: '[amount] > 100'
    exits: { true: postBig, false: post }
  postBig:
    kind: WebRequest
    method: POST
    url: '"${url}/big"'
    json: { orderNo: '[order_no]' }
    idempotencyKey: true
    exits: { success: mark }
  post:
    kind: WebRequest
    method: POST
    url: '"${url}/orders"'
    json: { orderNo: '[order_no]' }
    idempotencyKey: true
    exits: { success: mark }
  mark:
    kind: DbQuery
    sql: UPDATE orders SET sent_at = 'now' WHERE id = :id
    params: { id: '[id]' }
    exits: { success: count }
  count:
    kind: Variable
    set: { sent: '[sent] + 1', found: 0 }
    exits: { next: next }
  done:
    kind: ReturnValue
    values: { 1: '"sent " + [sent]' }
`;

/** Retries come due at once. */
const QUICK: BackoffPolicy = { initialMs: 20, factor: 1, maxMs: 20, jitter: 0 };
const noMail: MailerPort = { send: async () => assert.fail('no letter here') } as unknown as MailerPort;

/**
 * An HTTP server on loopback that answers 201 to every JSON POST, except the first one whose `name` is `refused`,
 * answered 503 (the first attempt fails there, retryable); `received` lists `<path> <name>` of those it took.
 */
async function refusingOnce(name: (body: Record<string, unknown>) => string, refused: string): Promise<{ server: Server; url: string; received: string[] }> {
  const received: string[] = [];
  let failing = true;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      const n = name(JSON.parse(body) as Record<string, unknown>);
      const refuse = failing && n === refused;
      if (refuse) failing = false;
      else received.push(`${req.url} ${n}`);
      res.writeHead(refuse ? 503 : 201, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

describe('a retried job that loops over the rows it reads', () => {
  for (const [title, orders] of [
    ['straight loop: each order is POSTed once and marked', [['A-1', 5], ['A-2', 5]]],
    ['a branch on the read data (big orders elsewhere): the second order is not POSTed twice', [['G-1', 500], ['G-2', 5]]],
  ] as const) {
    it(title, async () => {
      const tmp = tempDir('oktell-retry-reads-');
      // The second order's first POST is answered 503: the first attempt fails there, retryable.
      const { server, url, received } = await refusingOnce((b) => String(b.orderNo), orders[1][0]);
      const mainFile = join(tmp.dir, 'main.sqlite');
      const raw = new Database(mainFile);
      raw.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY, order_no TEXT, amount REAL, sent_at TEXT)');
      for (const [no, amount] of orders) raw.prepare('INSERT INTO orders (order_no, amount) VALUES (?, ?)').run(no, amount);
      writeFileSync(join(tmp.dir, 'PushOrders.yaml'), PUSH(url));
      const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry });
      assert.deepEqual(lib.issues, []);
      const store = await openSqliteStore({ file: join(tmp.dir, 'oktell.sqlite'), backoff: QUICK, defaultMaxAttempts: 5 });
      const databases = createDatabasePort({ main: { dialect: 'sqlite', path: mainFile } });
      const web = createWebClient({ retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
      const pool = mailPool(store, lib, noMail, { ports: { clock: systemClock, ids: randomIds, mailer: noMail, databases, web } });
      try {
        const [jobId] = await store.enqueueJobs([{ scenario: 'PushOrders', params: {} }]);
        pool.start();
        const until = async (what: string, ok: () => Promise<boolean>) => {
          for (let i = 0; i < 1000; i++) {
            if (await ok()) return;
            await new Promise((r) => setTimeout(r, 20));
          }
          assert.fail(what);
        };
        await until('the job succeeded', async () => (await store.getJob(jobId!))?.status === 'succeeded');
        const paths = { [orders[0][0]]: orders[0][1] > 100 ? '/big' : '/orders', [orders[1][0]]: orders[1][1] > 100 ? '/big' : '/orders' };
        assert.deepEqual(received, orders.map(([no]) => `${paths[no]} ${no}`), 'each order POSTed once, in order');
        assert.deepEqual(raw.prepare('SELECT order_no, sent_at FROM orders ORDER BY id').all(), orders.map(([no]) => ({ order_no: no, sent_at: 'now' })));
        const job = await store.getJob(jobId!);
        assert.equal(job!.attempts, 2);
        // The retry's record says what it took from the journal: the first order's read, whose POST and UPDATE are
        // replayed with it; the second order's read came after the first attempt's last effect (its POST failed, so
        // nothing was journaled after it) and is read live, as is the last.
        const run = await store.getRun(job!.lastRunId!);
        const steps = run!.trace as Array<{ block: string; changed?: Record<string, unknown>; effect?: { replayed?: boolean } }>;
        const reads = steps.filter((st) => st.block === 'next').map((st) => [st.effect?.replayed === true, st.changed?.order_no ?? null]);
        assert.deepEqual(reads, [[true, orders[0][0]], [false, orders[1][0]], [false, null]]);
      } finally {
        await pool.stop(5_000);
        web.close();
        await databases.close();
        raw.close();
        await new Promise((r) => server.close(r));
        await store.close();
        tmp.cleanup();
      }
    });
  }
});

/** Posts each new task of the article's catalog 11 (status 1, Новая), big ones to /big, and marks it done (3). */
const PUSH_TASKS = (url: string) => `variables:
  task: json
  rid: string
  title: string
  code: string
  sent: number
start: next
blocks:
  next:
    kind: Bpium
    method: findRecord
    catalog: 11
    filtersJson: '«{"5": ["1"]}»'
    answer: task
    fields: { title: 2 }
    errorCode: code
    exits: { success: id, error: done }
  id:
    kind: Variable
    set: { rid: 'JsonGet([task], "$.id")' }
    exits: { next: big }
  big:
    kind: Condition
    expression: '[title] = "big one"'
    exits: { true: postBig, false: post }
  postBig:
    kind: WebRequest
    method: POST
    url: '"${url}/big"'
    json: { title: '[title]' }
    idempotencyKey: true
    exits: { success: mark }
  post:
    kind: WebRequest
    method: POST
    url: '"${url}/tasks"'
    json: { title: '[title]' }
    idempotencyKey: true
    exits: { success: mark }
  mark:
    kind: Bpium
    method: updateRecord
    catalog: 11
    record: '[rid]'
    valuesJson: '«{"5": ["3"]}»'
    exits: { success: count }
  count:
    kind: Variable
    set: { sent: '[sent] + 1' }
    exits: { next: next }
  done:
    kind: ReturnValue
    values: { 1: '"sent " + [sent]' }
`;

describe('a retried job that loops over the Bpium records it reads', () => {
  for (const [title, tasks] of [
    ['straight loop: each task is POSTed once and marked done', ['small one', 'small two']],
    ['a branch on the read data (big tasks elsewhere): the second task is not POSTed twice', ['big one', 'small two']],
  ] as const) {
    it(title, async () => {
      const tmp = tempDir('oktell-retry-bpium-reads-');
      // The second task's first POST is answered 503: the first attempt fails there, retryable.
      const { server, url, received } = await refusingOnce((b) => String(b.title), tasks[1]);
      const emu = await startBpiumEmulator({ port: 0, dataDir: join(tmp.dir, 'bpium') });
      const bpium = createBpiumClient({ url: emu.url, login: emu.login, password: emu.password, rateLimit: false, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
      const ids: string[] = [];
      for (const t of tasks) ids.push((await bpium.createRecord('11', { 2: t, 5: ['1'] }, { timeoutMs: 5000 })).id);
      writeFileSync(join(tmp.dir, 'PushTasks.yaml'), PUSH_TASKS(url));
      const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry });
      assert.deepEqual(lib.issues, []);
      const store = await openSqliteStore({ file: join(tmp.dir, 'oktell.sqlite'), backoff: QUICK, defaultMaxAttempts: 5 });
      const web = createWebClient({ retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
      const pool = mailPool(store, lib, noMail, { ports: { clock: systemClock, ids: randomIds, mailer: noMail, bpium, web } });
      try {
        const [jobId] = await store.enqueueJobs([{ scenario: 'PushTasks', params: {} }]);
        pool.start();
        for (let i = 0; i < 1000 && (await store.getJob(jobId!))?.status !== 'succeeded'; i++) await new Promise((r) => setTimeout(r, 20));
        const job = await store.getJob(jobId!);
        assert.equal(job?.status, 'succeeded');
        assert.equal(job!.attempts, 2);
        assert.deepEqual(received, tasks.map((t) => `${t === 'big one' ? '/big' : '/tasks'} ${t}`), 'each task POSTed once, in order');
        for (const id of ids) assert.deepEqual((await bpium.getRecord('11', id, { timeoutMs: 5000 })).values['5'], ['3'], `task ${id} marked done`);
        // The retry took the first task's read from the journal (its POST and update replayed with it), and read the
        // second task (after the first attempt's last journaled effect) and the empty end live.
        const run = await store.getRun(job!.lastRunId!);
        const calls = run!.bpiumCalls as Array<{ method: string; recordId?: string; status: string; performed: boolean }>;
        assert.deepEqual(
          calls.map((c) => [c.method, c.recordId ?? null, c.status, c.performed]),
          [
            ['findRecord', null, 'replayed', false],
            ['updateRecord', ids[0], 'replayed', false],
            ['findRecord', null, 'ok', true],
            ['updateRecord', ids[1], 'ok', true],
            ['findRecord', null, 'not-found', false],
          ],
        );
      } finally {
        await pool.stop(5_000);
        web.close();
        await emu.close();
        await new Promise((r) => server.close(r));
        await store.close();
        tmp.cleanup();
      }
    });
  }
});
