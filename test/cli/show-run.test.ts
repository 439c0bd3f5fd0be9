// `show` prints what a run did, as `run` does: its web requests and database statements (kept in its trace), and the
// jobs its AsyncScenario blocks started with the run each ended in, so a webhook's run leads to its letter's run.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { tempDir } from '../helpers.js';
import { postWebhook, startTestServer, taskWebhook, waitFor } from '../server/server-helpers.js';
import { runCli } from './cli-process.js';
import { startCli } from './cli.helper.js';
import { MAIN, SUB } from './main-sub.helper.js';

describe('show: what a run did and started', () => {
  it('an id the store does not have: the hint lists the runs of the same data folder', async () => {
    const tmp = tempDir();
    try {
      const data = join(tmp.dir, 'var');
      mkdirSync(data);
      const store = await openSqliteStore({ file: join(data, 'oktell.sqlite') });
      await store.close();
      const r = runCli(['show', 'nosuch', '--data-dir', data]);
      assert.equal(r.code, 2);
      assert.equal(r.stderr, `oktell-emu: no run nosuch (see: oktell-emu runs --data-dir ${data})\n`);
    } finally {
      tmp.cleanup();
    }
  });

  it('a letter of unknown outcome shows its Message-ID: its own, the one its error quotes (the build of 2026-12-02 kept it only there), or says it was not recorded', async () => {
    const tmp = tempDir();
    try {
      const data = join(tmp.dir, 'var');
      mkdirSync(data);
      const store = await openSqliteStore({ file: join(data, 'oktell.sqlite') });
      const unknown = (over: Record<string, unknown>) => ({ block: 'notify', to: ['ivan.petrov@example.com'], cc: [], bcc: [], subject: 'Новая задача', performed: false, status: 'unknown', ...over });
      const reason = 'SMTP outcome unknown, not retried: the SMTP server 127.0.0.1:2525 gave no reply to the end of the message (ETIMEDOUT): the letter may have been delivered; it is not sent again: check the mailbox before replaying the job';
      const at = Date.now() - 60_000;
      const run = (id: string, mail: Record<string, unknown>) =>
        store.recordRun({ id, jobId: `job-${id}`, scenario: 'BpiumNewTask', version: 'v1', trigger: 'async', status: 'failed', startedAt: at, finishedAt: at + 40, params: {}, returnValues: {}, trace: [], bpiumCalls: [], mails: [mail], error: { code: 'R_EFFECT_UNKNOWN', message: `SendMail "notify": ${reason}` } });
      // As this build records it; as the build of 2026-12-02 did (the Message-ID only in the letter's error); neither.
      await run('new-build', unknown({ messageId: '<new@oktell>', error: `${reason} (Message-ID <new@oktell>)` }));
      await run('old-build', unknown({ error: `${reason} (Message-ID <8c25e5b6.oktell@localhost>)` }));
      await run('no-id', unknown({ error: reason }));
      await store.close();
      const mailLine = (id: string) => {
        const r = runCli(['show', id, '--data-dir', data], { NO_COLOR: '1' });
        assert.equal(r.code, 0, r.stderr);
        return r.stdout.split('\n').find((l) => l.trim().startsWith('mail '));
      };
      assert.equal(mailLine('new-build'), '  mail unknown to ivan.petrov@example.com · Новая задача · Message-ID <new@oktell>');
      assert.equal(mailLine('old-build'), '  mail unknown to ivan.petrov@example.com · Новая задача · Message-ID <8c25e5b6.oktell@localhost>');
      assert.equal(mailLine('no-id'), '  mail unknown to ivan.petrov@example.com · Новая задача · Message-ID not recorded (the build that ran this did not keep it)');
    } finally {
      tmp.cleanup();
    }
  });

  it('the web requests and database statements of a live run, in text and --json', { timeout: 60_000 }, async () => {
    const gateway: Server = createServer((_req, res) => res.writeHead(201, { 'content-type': 'application/json' }).end('{"id":"m-1"}'));
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      const data = join(tmp.dir, 'var');
      mkdirSync(scenarios);
      mkdirSync(data);
      writeFileSync(
        join(scenarios, 'Probe.yaml'),
        `variables: { n: number, code: string }
start: count
blocks:
  count:
    kind: DbQuery
    sql: SELECT 2 AS n
    exits: { success: post }
  post:
    kind: WebRequest
    method: POST
    url: '"http://127.0.0.1:${(gateway.address() as AddressInfo).port}/api/messages"'
    json: { n: '[n]' }
    errorCode: code
    exits: { success: null, error: null }
`,
      );
      const cli = (...args: string[]) => runCli([...args, '--data-dir', data], { OKTELL_DATA_DIR: data });
      // In the background: the gateway answers from this process, which a synchronous spawn would block.
      const live = startCli(['run', 'Probe', '--json', '--scenarios', scenarios, '--data-dir', data], { env: { OKTELL_DATA_DIR: data } });
      assert.equal((await live.exited).code, 0, live.stderr());
      const { runId } = JSON.parse(live.stdout()) as { runId: string };
      const shown = cli('show', runId);
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /^ {2}db main SELECT 2 AS n → ok 1 row\(s\)$/m);
      assert.match(shown.stdout, /^ {2}http POST http:\/\/127\.0\.0\.1:\d+\/api\/messages → 201 ok$/m);
      const json = JSON.parse(cli('show', runId, '--json').stdout) as { httpCalls: Array<{ method: string; status: number; outcome: string }>; dbCalls: Array<{ connection: string; status: string }>; started: unknown[] };
      assert.deepEqual(json.httpCalls.map((c) => [c.method, c.status, c.outcome]), [['POST', 201, 'ok']]);
      assert.deepEqual(json.dbCalls.map((c) => [c.connection, c.status]), [['main', 'ok']]);
      assert.deepEqual(json.started, []);
    } finally {
      await new Promise((r) => gateway.close(r));
      tmp.cleanup();
    }
  });

  it('lists the effects in the order the run made them: db, http, mail, db', { timeout: 60_000 }, async () => {
    const gateway: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      const data = join(tmp.dir, 'var');
      mkdirSync(scenarios);
      mkdirSync(data);
      writeFileSync(
        join(scenarios, 'Order.yaml'),
        `variables: { n: number }
start: first
blocks:
  first:
    kind: DbQuery
    sql: SELECT 1 AS n
    exits: { success: call }
  call:
    kind: WebRequest
    method: GET
    url: '"http://127.0.0.1:${(gateway.address() as AddressInfo).port}/ping"'
    exits: { success: tell, error: null }
  tell:
    kind: SendMail
    to: '"ops@example.com"'
    subject: '"between"'
    text: '"the request and the second statement"'
    exits: { success: second, error: null }
  second:
    kind: DbQuery
    sql: SELECT 2 AS n
    exits: { success: null }
`,
      );
      const live = startCli(['run', 'Order', '--json', '--scenarios', scenarios, '--data-dir', data], { env: { OKTELL_DATA_DIR: data } });
      assert.equal((await live.exited).code, 0, live.stderr());
      const { runId } = JSON.parse(live.stdout()) as { runId: string };
      const shown = runCli(['show', runId, '--data-dir', data], { OKTELL_DATA_DIR: data });
      assert.equal(shown.code, 0, shown.stderr);
      const effects = shown.stdout.split('\n').filter((l) => /^ {2}(db|http|mail|bpium) /.test(l));
      assert.deepEqual(
        effects.map((l) => l.replace(/:\d+\//, ':PORT/')),
        ['  db main SELECT 1 AS n → ok 1 row(s)', '  http GET http://127.0.0.1:PORT/ping → 200 ok', '  mail sent to ops@example.com · between', '  db main SELECT 2 AS n → ok 1 row(s)'],
        shown.stdout,
      );
    } finally {
      await new Promise((r) => gateway.close(r));
      tmp.cleanup();
    }
  });

  it('a letter of a SendMail block that runs again stays at its own step when an earlier run of the block failed before its letter was made', { timeout: 60_000 }, async () => {
    const gateway: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      const data = join(tmp.dir, 'var');
      mkdirSync(scenarios);
      mkdirSync(data);
      // Three rounds of a request and a letter; the first letter has no recipient, so it fails before it is made.
      writeFileSync(
        join(scenarios, 'Rounds.yaml'),
        `variables: { i: number, mailError: string }
start: round
blocks:
  round:
    kind: Variable
    set: { i: '[i] + 1' }
    exits: { next: ping }
  ping:
    kind: WebRequest
    method: GET
    url: '"http://127.0.0.1:${(gateway.address() as AddressInfo).port}/ping?round=" + [i]'
    exits: { success: tell, error: null }
  tell:
    kind: SendMail
    to: 'If([i] = 1, "", "ops" + [i] + "@example.com")'
    subject: '"round " + [i]'
    text: '"round " + [i]'
    errorVariable: mailError
    exits: { success: again, error: again }
  again:
    kind: Condition
    expression: '[i] < 3'
    exits: { true: round, false: null }
`,
      );
      const live = startCli(['run', 'Rounds', '--json', '--scenarios', scenarios, '--data-dir', data], { env: { OKTELL_DATA_DIR: data } });
      assert.equal((await live.exited).code, 0, live.stderr());
      const { runId } = JSON.parse(live.stdout()) as { runId: string };
      // What the run keeps: the first round's letter refused before it was made (failed, no recipient), then two
      // letters (rounds 2 and 3); the first round's step with its failure.
      const json = JSON.parse(runCli(['show', runId, '--json', '--data-dir', data], { OKTELL_DATA_DIR: data }).stdout) as {
        mails: Array<{ block: string; to: string[]; status: string }>;
        trace: Array<{ block: string; exit: string; effect?: { failure?: string; error?: string } }>;
      };
      assert.deepEqual(json.mails.map((m) => [m.block, m.to, m.status]), [['tell', [], 'failed'], ['tell', ['ops2@example.com'], 'sent'], ['tell', ['ops3@example.com'], 'sent']]);
      const tells = json.trace.filter((s) => s.block === 'tell');
      assert.deepEqual(tells.map((s) => [s.exit, s.effect?.failure]), [['error', 'permanent'], ['success', undefined], ['success', undefined]]);
      assert.match(tells[0]!.effect!.error!, /^no recipient/);
      const shown = runCli(['show', runId, '--data-dir', data], { OKTELL_DATA_DIR: data });
      assert.equal(shown.code, 0, shown.stderr);
      const effects = shown.stdout.split('\n').filter((l) => /^ {2}(db|http|mail|bpium) /.test(l));
      assert.deepEqual(
        effects.map((l) => l.replace(/:\d+\//, ':PORT/')),
        [
          '  http GET http://127.0.0.1:PORT/ping?round=1 → 200 ok',
          '  mail refused before sending: no recipient: "to" is empty',
          '  http GET http://127.0.0.1:PORT/ping?round=2 → 200 ok',
          '  mail sent to ops2@example.com · round 2',
          '  http GET http://127.0.0.1:PORT/ping?round=3 → 200 ok',
          '  mail sent to ops3@example.com · round 3',
        ],
        shown.stdout,
      );
    } finally {
      await new Promise((r) => gateway.close(r));
      tmp.cleanup();
    }
  });

  it('a stored run lists both calls of a Bpium step at that step, and a called scenario’s block of the same id at its own', { timeout: 60_000 }, () => {
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      const data = join(tmp.dir, 'var');
      mkdirSync(scenarios);
      mkdirSync(data);
      // Main's `read` gets record 2, then fails on a field name the fixture's catalog does not list (two calls, one
      // step); Main then calls Sub, whose own `read` gets record 3 and leads to a letter.
      writeFileSync(join(scenarios, 'Main.yaml'), MAIN);
      writeFileSync(join(scenarios, 'Sub.yaml'), SUB);
      writeFileSync(join(tmp.dir, 'fx.yaml'), 'catalogs:\n  "3":\n    records:\n      "2": { "1": Иван }\n      "3": { "1": Ольга }\n');
      const cli = (...args: string[]) => runCli([...args, '--data-dir', data], { OKTELL_DATA_DIR: data });
      const live = cli('run', 'Main', '--json', '--scenarios', scenarios, '--bpium-fixtures', join(tmp.dir, 'fx.yaml'));
      assert.equal(live.code, 0, live.stderr);
      const { runId } = JSON.parse(live.stdout) as { runId: string };
      const shown = cli('show', runId);
      assert.equal(shown.code, 0, shown.stderr);
      const effects = shown.stdout.split('\n').filter((l) => /^ {2}(db|http|mail|bpium) /.test(l));
      assert.deepEqual(
        effects,
        ['  bpium getRecord 3/2 → ok (not sent, fixture)', '  bpium getRecord 3/2 → error (not sent, fixture)', '  bpium getRecord 3/3 → ok (not sent, fixture)', '  mail sent to ops@example.com · from Sub: Ольга'],
        shown.stdout,
      );
    } finally {
      tmp.cleanup();
    }
  });

  it('a webhook run lists the job it started and the run that job ended in', { timeout: 60_000 }, async () => {
    const t = await startTestServer();
    try {
      const res = await postWebhook(t.server.url, taskWebhook({ name: 'показать путь', responsible: ['2'] }), t.secret);
      assert.equal(res.status, 200);
      const hookRunId = res.headers.get('x-oktell-run-id')!;
      const job = await waitFor('the letter job', async () => (await t.server.store.listJobs({ status: 'succeeded' })).items[0]);
      const shown = runCli(['show', hookRunId, '--data-dir', t.dataDir]);
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, new RegExp(`^ {2}started BpiumNewTask job ${job.id} succeeded → run ${job.lastRunId} \\(npx oktell-emu show ${job.lastRunId}\\)$`, 'm'));
      const json = JSON.parse(runCli(['show', hookRunId, '--json', '--data-dir', t.dataDir]).stdout) as { started: Array<{ jobId: string; scenario: string; status: string; lastRunId: string }> };
      assert.deepEqual(json.started, [{ jobId: job.id, scenario: 'BpiumNewTask', status: 'succeeded', lastRunId: job.lastRunId }]);
      // A job id shows the job's last run (replay takes job ids, so show does too).
      const byJob = runCli(['show', job.id, '--data-dir', t.dataDir]);
      assert.equal(byJob.code, 0, byJob.stderr);
      assert.match(byJob.stdout, new RegExp(`^BpiumNewTask completed run ${job.lastRunId}`));
    } finally {
      await t.cleanup();
    }
  });

  it('a dead letter left by an attempt whose lease expired is listed by runs --status dead and shown by its job id', { timeout: 60_000 }, async () => {
    const tmp = tempDir();
    try {
      const data = join(tmp.dir, 'var');
      mkdirSync(data);
      let now = Date.parse('2026-12-01T09:00:00Z');
      const store = await openSqliteStore({ file: join(data, 'oktell.sqlite'), clock: { now: () => now } });
      const [jobId] = await store.enqueueJobs([{ scenario: 'BpiumNewTask', params: { 1: '{}' }, maxAttempts: 1 }]);
      await store.claimJobs('vm:1234:a', 1, 1000);
      now += 1000;
      // Another worker's claim finds the lease expired at the last attempt: the job is dead.
      assert.deepEqual(await store.claimJobs('vm:5678:b', 1, 1000), []);
      await store.close();
      const cli = (...args: string[]) => runCli([...args, '--data-dir', data], { OKTELL_DATA_DIR: data });
      const dead = cli('runs', '--status', 'dead');
      assert.equal(dead.code, 0, dead.stderr);
      assert.match(dead.stdout, new RegExp(`dead\\s+BpiumNewTask .* job ${jobId} #1 LEASE_EXPIRED`));
      const shown = cli('show', jobId!);
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /the worker stopped renewing its lease \(worker vm:1234:a, attempt 1\); what the attempt did is not known/);
      assert.match(shown.stdout, new RegExp(`job ${jobId} is dead-lettered`));
      assert.match(shown.stdout, /^ {2}started .* · on vm:1234:a$/m, 'the instance that ran the attempt');
      assert.equal((JSON.parse(cli('runs', '--status', 'dead', '--json').stdout) as Array<{ workerId: string }>)[0]!.workerId, 'vm:1234:a');
    } finally {
      tmp.cleanup();
    }
  });
});
