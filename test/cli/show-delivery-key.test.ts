// `show bpium:<hook id>:<sequenceId>` finds a webhook by the key of its Bpium delivery (user trial: Bpium's delivery
// log names "delivery 4711 of hook 1", and neither `show` nor the log led from that to the run). Real server, real
// signed webhooks sent by `oktell-emu webhook send`, the real CLI binary; the same on SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { taskWebhook } from '../server/server-helpers.js';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { runCli, startServeProcess } from './cli-process.js';

const pgAvailable = await testPostgres();

/** The stores the suite runs on: a SQLite file in the data folder, and a schema of the test PostgreSQL. */
const STORES: Array<{ name: string; skip: string | false; env: () => { env: Record<string, string>; done: () => Promise<void> } }> = [
  { name: 'SQLite', skip: false, env: () => ({ env: {}, done: async () => undefined }) },
  {
    name: 'PostgreSQL',
    skip: pgAvailable.skip ?? false,
    env: () => {
      const schema = randomSchemaName();
      const url = urlWithSchema(pgAvailable.url!, schema);
      return { env: { OKTELL_STORE: url }, done: () => dropSchema(pgAvailable.url!, schema) };
    },
  },
];

for (const store of STORES) {
  describe(`show by a Bpium delivery key (${store.name})`, { skip: store.skip }, () => {
    it('finds the inbox entry and its run by hook id and sequenceId, with or without the route; the request log line names the key', { timeout: 120_000 }, async () => {
      const tmp = tempDir();
      const data = join(tmp.dir, 'var');
      const body = join(tmp.dir, 'task.json');
      const other = join(tmp.dir, 'other.json');
      writeFileSync(body, taskWebhook({ name: 'Поиск по ключу', responsible: ['2'], sequenceId: 4711 }));
      writeFileSync(other, taskWebhook({ name: 'Другая доставка', responsible: ['2'], sequenceId: 4712 }));
      const { env, done } = store.env();
      const cli = (...args: string[]) => runCli([...args, '--data-dir', data], { ...env, OKTELL_USERS: 'bpium:change-me', NO_COLOR: '1' });
      let runId: string | undefined;
      let openRunId: string | undefined;
      let lostRunId: string | undefined;
      const server = await startServeProcess({ dataDir: data, env: { ...env, OKTELL_USERS: 'bpium:change-me', OKTELL_LOG_LEVEL: 'info', OKTELL_LOG_FORMAT: 'pretty' } });
      try {
        // The same delivery on the signed route (sent twice: Bpium resends what it thinks failed), on a route without a
        // secret (whose key names the login too), and on one HTTP404 answers 404 to (which keeps no key).
        const signed = cli('webhook', 'send', '/Bpium/NewTask', body);
        assert.equal(signed.code, 0, signed.stdout + signed.stderr);
        runId = /→ HTTP 200 · run (\S+)/.exec(signed.stdout)?.[1];
        assert.ok(runId, signed.stdout);
        assert.equal(cli('webhook', 'send', '/Bpium/NewTask', body).code, 0);
        const open = cli('webhook', 'send', '/Bpium/TaskChat', body);
        assert.equal(open.code, 0, open.stdout + open.stderr);
        openRunId = /→ HTTP 200 · run (\S+)/.exec(open.stdout)?.[1];
        assert.ok(openRunId, open.stdout);
        const lost = cli('webhook', 'send', '/nowhere', body);
        assert.equal(lost.code, 1, lost.stdout + lost.stderr);
        lostRunId = /→ HTTP 404 · run (\S+)/.exec(lost.stdout)?.[1];
        assert.ok(lostRunId, lost.stdout);
        assert.equal(cli('webhook', 'send', '/Bpium/NewTask', other).code, 0);

        // With the route: exactly that entry, shown as `show <runId>` shows its run, with the jobs it started.
        const one = cli('show', 'bpium:1:4711@/Bpium/NewTask');
        assert.equal(one.code, 0, one.stderr);
        const byRun = cli('show', runId);
        assert.match(one.stdout, /^delivery bpium:1:4711@\/Bpium\/NewTask · inbox entry \d+ · received \S+ · POST \/Bpium\/NewTask · answered 200 · 1 resend\(s\) answered from it\n/);
        assert.equal(one.stdout.slice(one.stdout.indexOf('\n') + 1), byRun.stdout);
        assert.match(one.stdout, new RegExp(`^HTTP404 completed run ${runId} · http`, 'm'));
        assert.match(one.stdout, /^ {2}started BpiumNewTask job \S+ /m);

        // Leading zeros in the sequenceId and a route without a secret: the entry of the login that sent it.
        const openOne = cli('show', 'bpium:1:04711@/Bpium/TaskChat');
        assert.equal(openOne.code, 0, openOne.stderr);
        assert.match(openOne.stdout, /^delivery bpium:1:4711@\/Bpium\/TaskChat#bpium · inbox entry \d+ /);
        assert.match(openOne.stdout, new RegExp(`^HTTP404 completed run ${openRunId} `, 'm'));

        // Without the route: every route's entry of that delivery, listed; not the other delivery.
        const both = cli('show', 'bpium:1:4711');
        assert.equal(both.code, 0, both.stderr);
        const lines = both.stdout.trimEnd().split('\n');
        assert.equal(lines[0], '2 deliveries match bpium:1:4711; show one by its whole key or its run:');
        assert.equal(lines.length, 3, both.stdout);
        assert.match(lines[1]!, new RegExp(`^delivery bpium:1:4711@/Bpium/NewTask · .* · run ${runId} \\(npx oktell-emu show ${runId} --data-dir `));
        assert.match(lines[2]!, new RegExp(`^delivery bpium:1:4711@/Bpium/TaskChat#bpium · .* · run ${openRunId} `));

        // --json: the run's JSON, with the delivery it answered.
        const json = JSON.parse(cli('show', 'bpium:1:4712', '--json').stdout) as { id: string; delivery: { key: string; responseStatus: number; runId: string } };
        assert.deepEqual([json.delivery.key, json.delivery.responseStatus, json.delivery.runId === json.id], ['bpium:1:4712@/Bpium/NewTask', 200, true]);

        // None: said, with where else to look, and the exit code of `show` of an unknown id.
        const none = cli('show', 'bpium:1:999');
        const unknown = cli('show', 'no-such-run');
        assert.equal(none.code, unknown.code);
        assert.equal(none.code, 2);
        assert.equal(none.stdout, '');
        assert.match(none.stderr, /no delivery bpium:1:999 in the inbox: only a delivery the server acknowledged \(2xx\) or that started jobs keeps its key; .* grep the log for delivery=bpium:1:999@\n/);
        // The delivery HTTP404 answered 404: no key kept, but its request log line names the key and the run.
        const notKept = cli('show', 'bpium:1:4711@/nowhere');
        assert.equal(notKept.code, 2);
        assert.match(notKept.stderr, /no delivery bpium:1:4711@\/nowhere in the inbox: .*grep the log for delivery=bpium:1:4711@\/nowhere\n/);

        // The console: its Find box (and a key in a run's address) goes to the run of one delivery, lists several.
        const get = (path: string) => fetch(`${server.url}/-/console${path}`, { redirect: 'manual', headers: { authorization: `Basic ${Buffer.from('bpium:change-me').toString('base64')}` } });
        const found = await get(`/runs/find?${new URLSearchParams({ id: 'bpium:1:4711@/Bpium/NewTask' })}`);
        assert.equal(found.status, 303, await found.text());
        assert.equal(found.headers.get('location'), `/-/console/runs/${runId}`);
        const inAddress = await get('/runs/bpium:1:4711');
        assert.equal(inAddress.status, 303);
        const listed = await get(inAddress.headers.get('location')!.replace(/^\/-\/console/, ''));
        assert.equal(listed.status, 200);
        const page = await listed.text();
        assert.match(page, /<td>bpium:1:4711@\/Bpium\/NewTask<\/td>/);
        assert.match(page, /<td>bpium:1:4711@\/Bpium\/TaskChat#bpium<\/td>/);
        assert.ok(page.includes(`href="/-/console/runs/${runId}"`) && page.includes(`href="/-/console/runs/${openRunId}"`), page);
        const missing = await get('/runs/find?id=bpium:1:999');
        assert.equal(missing.status, 404);
        assert.match(await missing.text(), /No delivery bpium:1:999 is in the inbox: only a delivery the server acknowledged/);
        const runsPage = await (await get('/runs')).text();
        assert.match(runsPage, /<form class="filters" method="get" action="\/-\/console\/runs\/find">/);
      } finally {
        assert.equal(await server.stop(), 0);
        await done();
        tmp.cleanup();
      }
      // The request log line of each webhook names its delivery key (no password in it).
      const log = server.stdout() + server.stderr();
      const requests = log.split('\n').filter((l) => / request .*POST/.test(l) || /"msg":"request"/.test(l));
      assert.ok(requests.some((l) => l.includes('delivery=bpium:1:4711@/Bpium/NewTask') && l.includes(`runId=${runId}`)), requests.join('\n'));
      assert.ok(requests.some((l) => l.includes('delivery=bpium:1:4711@/Bpium/TaskChat#bpium') && l.includes(`runId=${openRunId}`)), requests.join('\n'));
      assert.ok(requests.some((l) => l.includes('delivery=bpium:1:4711@/nowhere#bpium') && l.includes(`runId=${lostRunId}`) && l.includes('status=404')), requests.join('\n'));
      assert.doesNotMatch(log, /change-me/);
    });
  });
}
