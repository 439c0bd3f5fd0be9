// `oktell-emu replay` of jobs whose WebRequest the service refused (trial: a replayed 400 was recorded as a request
// made, and the replay could never succeed). A refusal (a 4xx: the service did not act on the request) is not an
// effect made: it is not journaled, and a replay sends the request again, so the job can succeed once the scenario or
// the service is fixed; a refusal journaled by an earlier build is sent again too. What the journal does hold (a 2xx,
// a redirect not followed) is still replayed without sending, and recorded as replayed, not performed, even when its
// exit is not wired and the run fails there. Real parts: the worker pool, the WebRequest client against an HTTP server
// on loopback counting the requests it gets, the SQLite store file, and the compiled CLI's `replay` and `show`.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createWebClient } from '../../adapters/web/client.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary, randomIds, systemClock, type HttpCallRecord, type MailerPort } from '../../engine/index.js';
import type { BackoffPolicy } from '../../server/store/backoff.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import type { JobStatus, Store } from '../../server/store/store.port.js';
import { mailPool } from '../delivery/pool.helper.js';
import { tempDir } from '../helpers.js';
import { runCli, type CliResult } from './cli.helper.js';

/** One POST whose error exit is not wired: a refusal fails the job for good (R_EFFECT_PERMANENT). */
const FLAKY = (url: string) => `start: post
blocks:
  post:
    kind: WebRequest
    method: POST
    url: '"${url}"'
    idempotencyKey: true
    exits: { success: done }
  done:
    kind: ReturnValue
    values: { 1: '"sent"' }
`;

/** A POST the service makes (201), then one it refuses the first time (400): the first is journaled. */
const MADE = (base: string) => `start: post
blocks:
  post:
    kind: WebRequest
    method: POST
    url: '"${base}/made"'
    idempotencyKey: true
    exits: { success: later }
  later:
    kind: WebRequest
    method: POST
    url: '"${base}/later"'
    idempotencyKey: true
    exits: { success: done }
  done:
    kind: ReturnValue
    values: { 1: '"both"' }
`;

/** Retries come due at once. */
const QUICK: BackoffPolicy = { initialMs: 20, factor: 1, maxMs: 20, jitter: 0 };
const noMail: MailerPort = { send: async () => assert.fail('no letter here') } as unknown as MailerPort;

interface Service {
  server: Server;
  base: string;
  /** Requests received, by path. */
  count: Record<string, number>;
}

/** /fail answers 400, /fulfil and /made 201, /later 400 the first time and 200 after, /moved a 302. */
async function service(): Promise<Service> {
  const count: Record<string, number> = {};
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = req.url!;
      const n = (count[path] = (count[path] ?? 0) + 1);
      if (path === '/fail' || (path === '/later' && n === 1)) res.writeHead(400, { 'content-type': 'text/plain' }).end('bad');
      else if (path === '/moved') res.writeHead(302, { location: '/elsewhere' }).end();
      else res.writeHead(path === '/later' ? 200 : 201, { 'content-type': 'application/json' }).end('{"id":9}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, count };
}

describe('replay of a job whose WebRequest was refused (SQLite)', { timeout: 120_000 }, () => {
  const tmp = tempDir('oktell-replay-web-');
  const data = join(tmp.dir, 'data');
  const scenarios = join(tmp.dir, 'scenarios');
  const file = join(data, 'oktell.sqlite');
  let svc: Service;
  const jobs: Record<'flaky' | 'made' | 'moved', string> = { flaky: '', made: '', moved: '' };
  const cli = (...args: string[]): CliResult => runCli([...args, '--data-dir', data], { cwd: tmp.dir, unset: ['OKTELL_STORE', 'OKTELL_CONFIG', 'OKTELL_DATA_DIR'] });
  const show = (job: string) => {
    const r = cli('show', job, '--json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { status: string; httpCalls?: HttpCallRecord[]; trace: Array<{ block: string; effect?: Record<string, unknown> }> };
  };
  const calls = (job: string) => (show(job).httpCalls ?? []).map((c) => ({ block: c.block, status: c.status, outcome: c.outcome, performed: c.performed, attempts: c.attempts }));

  /** Runs the queued jobs on a worker pool with the scenarios as they are now, until each is done with. */
  async function runJobs(open: (store: Store) => Promise<void> = async () => undefined): Promise<Record<string, JobStatus | undefined>> {
    const lib = await loadScenarioLibrary(scenarios, { registry: defaultRegistry });
    assert.deepEqual(lib.issues, []);
    const store = await openSqliteStore({ file, backoff: QUICK, defaultMaxAttempts: 5 });
    const web = createWebClient({ retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    const pool = mailPool(store, lib, noMail, { ports: { clock: systemClock, ids: randomIds, mailer: noMail, web } });
    try {
      await open(store);
      pool.start();
      const statuses = async () => Object.fromEntries(await Promise.all(Object.entries(jobs).map(async ([k, id]) => [k, (await store.getJob(id))?.status] as const)));
      for (let i = 0; i < 1000; i++) {
        const s = await statuses();
        if (Object.values(s).every((st) => st === 'failed' || st === 'succeeded' || st === 'dead')) return s;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.fail(`the jobs did not end: ${JSON.stringify(await statuses())}`);
    } finally {
      await pool.stop(5_000);
      web.close();
      await store.close();
    }
  }

  before(async () => {
    svc = await service();
    mkdirSync(data, { mode: 0o700 });
    mkdirSync(scenarios);
    writeFileSync(join(scenarios, 'Flaky.yaml'), FLAKY(`${svc.base}/fail`));
    writeFileSync(join(scenarios, 'Made.yaml'), MADE(svc.base));
    writeFileSync(join(scenarios, 'Moved.yaml'), FLAKY(`${svc.base}/moved`));
  });
  after(async () => {
    svc.server.closeAllConnections();
    await new Promise((r) => svc.server.close(r));
    tmp.cleanup();
  });

  it('the first attempts: the refusals fail their jobs for good and are not journaled; the 201 and the 302 are', async () => {
    const ended = await runJobs(async (store) => {
      const [flaky, made, moved] = await store.enqueueJobs([
        { scenario: 'Flaky', params: {} },
        { scenario: 'Made', params: {} },
        { scenario: 'Moved', params: {} },
      ]);
      Object.assign(jobs, { flaky, made, moved });
    });
    assert.deepEqual(ended, { flaky: 'failed', made: 'failed', moved: 'failed' });
    assert.deepEqual(svc.count, { '/fail': 1, '/made': 1, '/later': 1, '/moved': 1 });
    const store = await openSqliteStore({ file });
    try {
      const statusOf = async (job: string, step: string) => ((await store.effects.get(job, step)) as { status?: number } | undefined)?.status;
      assert.equal(await statusOf(jobs.flaky, 'Flaky:post#1'), undefined, 'the 400 is not an effect made');
      assert.equal(await statusOf(jobs.made, 'Made:later#1'), undefined, 'the 400 is not an effect made');
      assert.equal(await statusOf(jobs.made, 'Made:post#1'), 201);
      assert.equal(await statusOf(jobs.moved, 'Moved:post#1'), 302, 'a redirect not followed is kept: a 302 after a POST may say it was done');
      // What the build before this one journaled for the 400: a replay must send it again all the same.
      await store.effects.put(jobs.flaky, 'Flaky:post#1', { status: 400, headers: { 'content-type': 'text/plain' }, body: 'bad', url: `${svc.base}/fail`, attempts: 1 });
    } finally {
      await store.close();
    }
    assert.deepEqual(calls(jobs.flaky), [{ block: 'post', status: 400, outcome: 'error', performed: true, attempts: 1 }]);
  });

  it('a replay sends a refused request again and records it as made now; what the journal holds is replayed, not sent', async () => {
    const r = cli('replay', '--status', 'failed');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^requeued 3 job\(s\)/);
    const ended = await runJobs();
    assert.deepEqual(ended, { flaky: 'failed', made: 'succeeded', moved: 'failed' });
    assert.deepEqual(svc.count, { '/fail': 2, '/made': 1, '/later': 2, '/moved': 1 }, 'the refused requests sent again, the 201 and the 302 not');

    // The refusal met again: a request sent and answered in this run, as the record and the trace say.
    assert.deepEqual(calls(jobs.flaky), [{ block: 'post', status: 400, outcome: 'error', performed: true, attempts: 1 }]);
    assert.equal(show(jobs.flaky).trace[0]!.effect!.replayed, undefined);
    // The 201 replayed from the journal, the request refused before sent again and now answered 200.
    assert.deepEqual(calls(jobs.made), [
      { block: 'post', status: 201, outcome: 'replayed', performed: false, attempts: undefined },
      { block: 'later', status: 200, outcome: 'ok', performed: true, attempts: 1 },
    ]);
    // The 302, replayed, fails the job again (its error exit is not wired): recorded as replayed, not as a request made.
    assert.deepEqual(calls(jobs.moved), [{ block: 'post', status: 302, outcome: 'replayed', performed: false, attempts: undefined }]);
    assert.equal(show(jobs.moved).trace[0]!.effect!.replayed, true);
    const text = cli('show', jobs.moved);
    assert.match(text.stdout, new RegExp(`http POST ${svc.base}/moved → 302 replayed`), text.stdout);
  });

  it('fixed, the replay succeeds: the new URL is sent, not an answer the old one got', async () => {
    writeFileSync(join(scenarios, 'Flaky.yaml'), FLAKY(`${svc.base}/fulfil`));
    const r = cli('replay', jobs.flaky);
    assert.equal(r.code, 0, r.stderr);
    const ended = await runJobs();
    assert.equal(ended.flaky, 'succeeded');
    assert.equal(svc.count['/fulfil'], 1);
    assert.equal(svc.count['/fail'], 2);
    assert.deepEqual(calls(jobs.flaky), [{ block: 'post', status: 201, outcome: 'ok', performed: true, attempts: 1 }]);
    const text = cli('show', jobs.flaky);
    assert.match(text.stdout, new RegExp(`http POST ${svc.base}/fulfil → 201 ok`), text.stdout);
    assert.doesNotMatch(text.stdout, /replay it once fixed/);
  });
});
