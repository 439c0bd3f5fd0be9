// A graceful stop while a database of the scenarios hangs (a PostgreSQL connection `crm` reached through a TCP proxy
// of the test that freezes: nothing forwarded, nothing closed, as behind a partition that drops packets): closing its
// pool's idle connection is never answered, and the stop must not wait for it. It ends, the store closes and the data
// folder is given up (a second server starts on it), and a warning names the connection, without its password.
// Both ways jobs run: on the main thread (the default) and on a delivery thread, which has its own connections.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testPostgres } from '../store/postgres.helper.js';
import { AUTH, capturingLogger, startTestServer, waitFor, type CapturedLine } from '../server/server-helpers.js';
import { freezableProxy, viaProxy } from './frozen-proxy.helper.js';

const pg = await testPostgres();

/** One statement on `crm`, its row count returned. */
const CRM = `variables: { n: number }
start: q
blocks:
  q:
    kind: DbQuery
    connection: crm
    sql: SELECT 1 AS one
    rowCount: n
    exits: { success: r }
  r:
    kind: ReturnValue
    values: { 1: '[n]' }
`;

const modes: Array<{ name: string; env: Record<string, string>; thread: boolean }> = [
  { name: 'jobs on the main thread', env: {}, thread: false },
  { name: 'jobs on a delivery thread', env: { OKTELL_DELIVERY_THREAD: 'on' }, thread: true },
];

describe("a stop while a scenario's database hangs", () => {
  for (const mode of modes) {
    it(`${mode.name}: the stop ends, the store closes, the data folder is free, and the connection left is named`, { timeout: 60_000, skip: pg.skip }, async () => {
      const target = new URL(pg.url!);
      const proxy = await freezableProxy({ host: target.hostname, port: Number(target.port || 5432) });
      const crmUrl = viaProxy(pg.url!, proxy);
      const secret = `:${new URL(crmUrl).password}@`;
      assert.notEqual(secret, ':@', 'the test URL has a password, so that its absence from the log means something');
      const log = capturingLogger();
      const t = await startTestServer({ smtp: false, logger: log.logger, env: { ...mode.env, OKTELL_DB_CRM: crmUrl }, extraScenarios: { 'Crm.yaml': CRM } });
      let second: Awaited<ReturnType<typeof t.restart>> | undefined;
      try {
        const call = (query: string) =>
          fetch(`${t.server.url}/execsvcscriptplain?name=Crm${query}`, { headers: { authorization: AUTH } }).then(async (res) => ({
            status: res.status,
            text: await res.text(),
            result: res.headers.get('x-oktell-start-result'),
          }));
        // A synchronous run (on the main thread) and a job (where jobs run) while the link works: each pool keeps a
        // connection through the proxy.
        assert.deepEqual(await call(''), { status: 200, text: '1', result: '0' });
        assert.equal((await call('&async=1')).status, 200);
        await waitFor('the job to succeed', async () => (await t.server.store.counts()).jobs.succeeded === 1, 20_000);
        // The link freezes; the next run and job each wait for their statement's answer on that connection, for ever.
        proxy.freeze();
        const cut = call('');
        assert.equal((await call('&async=1')).status, 200);
        await waitFor('the run and the job to wait on the database', async () => t.server.syncRuns.running === 1 && (await t.server.store.counts()).jobs.running === 1, 20_000);

        // The test's timeout is the bound: without one of its own, this stop waited for the database's pool for ever.
        const report = await t.server.close(500);
        const said = log.lines.map((l) => `${l.level} ${l.msg ?? ''}`).join('\n');
        assert.deepEqual(report, { unfinished: 1, unrecorded: 0, effects: 0, letters: 0 }, said);
        assert.deepEqual(await cut, { status: 200, text: '', result: '2' }, 'the run cut at the end of the grace period is answered');

        const where = `"crm" (postgres://${decodeURIComponent(target.username)}@127.0.0.1:${proxy.port}${target.pathname})`;
        const named = (l: CapturedLine, prefix: string) =>
          l.level === 'warn' && (l.msg ?? '').startsWith(`${prefix}not closed cleanly: the database connection(s) ${where} did not finish closing within 1 s after the grace period;`);
        const main = log.lines.find((l) => named(l, ''));
        assert.ok(main, `a warning names the connection left:\n${said}`);
        assert.deepEqual(main.obj.databases, [where]);
        if (mode.thread) assert.ok(log.lines.some((l) => named(l, 'delivery thread: ')), `the delivery thread names its connection left too:\n${said}`);
        assert.ok(!JSON.stringify(log.lines).includes(secret), `no log line holds the password:\n${said}`);

        // The store's last steps came: the queue was counted and the store closed; the job waits for the next start.
        assert.ok(!log.lines.some((l) => /the store did not answer/.test(l.msg ?? '')), said);
        const stopped = log.lines.find((l) => /^stopped/.test(l.msg ?? ''));
        assert.ok(stopped, said);
        assert.equal(stopped.level, 'info');
        assert.equal(typeof stopped.obj.queued, 'number');
        // The data folder was given up: another server starts on it.
        second = await t.restart();
        assert.equal((await fetch(`${second.url}/-/health`)).status, 200);
      } finally {
        await second?.close(500);
        await proxy.destroy();
        await t.cleanup();
      }
    });
  }
});
