// A real server with OKTELL_TRACE=failed, on SQLite and on PostgreSQL alike, its jobs on the delivery thread or not: a webhook's HTTP404 run and the
// letter-sending run it starts both complete and are stored without their steps (their Bpium calls, letters and
// return values kept); a failing run keeps its whole trace. The console's run page and `show` say the trace was not
// kept, and `test --from-run` (and the console's download) refuse such a run, naming the setting and the fix.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunRecord } from '../../server/store/store.port.js';
import { traceNotKeptOf, TRACE_NOT_KEPT_KIND } from '../../server/trace-setting.js';
import { startedJobIdsOf } from '../../server/started-jobs.js';
import { runCli } from '../cli/cli-process.js';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { AUTH, postWebhook, startTestServer, taskWebhook, waitFor, type TestServer } from './server-helpers.js';

/** Reads a record Bpium has not got (catalog 3, record 999) with only its success exit wired: the run fails. */
const BROKEN = `variables: { email: string }
start: s
blocks:
  s:
    kind: Bpium
    method: getRecord
    catalog: 3
    record: 999
    fields: { email: 2 }
    exits: { success: r }
  r:
    kind: ReturnValue
    values: { 1: '[email]' }
`;

const NOT_KEPT = /trace not kept \(OKTELL_TRACE=failed\)/;
const REFUSAL = /was stored without its trace \(OKTELL_TRACE=failed: a completed run keeps no steps\), so no test can be made from it.*Set OKTELL_TRACE=all \(the default\) on the server, run the scenario again, and make the test from that run/s;

const pg = await testPostgres();

// The jobs run in the server's thread, or on the delivery thread (which gets the setting with its start).
for (const [kind, thread] of [['sqlite', 'off'], ['postgres', 'off'], ['sqlite', 'on']] as const) {
  describe(`OKTELL_TRACE=failed on a real server (${kind}, delivery thread ${thread})`, () => {
    const skip = kind === 'postgres' ? pg.skip : undefined;
    let t: TestServer;
    let schema: string | undefined;
    let hook: RunRecord;
    let child: RunRecord;
    let childJobId = '';

    before(async () => {
      if (skip !== undefined) return;
      const env: Record<string, string> = { OKTELL_TRACE: 'failed', OKTELL_DELIVERY_THREAD: thread };
      if (kind === 'postgres') env.OKTELL_STORE = urlWithSchema(pg.url!, (schema = randomSchemaName('trace')));
      t = await startTestServer({ extraScenarios: { 'Broken.yaml': BROKEN }, env });
      const res = await postWebhook(t.server.url, taskWebhook({ name: 'Без трассы', responsible: ['2'] }), t.secret);
      assert.equal(res.status, 200);
      hook = (await t.server.store.getRun(res.headers.get('x-oktell-run-id')!))!;
      const job = await waitFor('the letter job to end', async () => {
        const j = (await t.server.store.listJobs({ parentRunId: hook.id, limit: 5 })).items[0];
        return j && j.status !== 'queued' && j.status !== 'running' ? j : undefined;
      }, 30_000);
      assert.equal(job.status, 'succeeded', JSON.stringify(job.lastError));
      childJobId = job.id;
      child = (await t.server.store.getRun(job.lastRunId!))!;
    });
    after(async () => {
      await t?.cleanup();
      if (schema) await dropSchema(pg.url!, schema);
    });

    for (const which of ['hook', 'child'] as const) {
      it(`the completed ${which === 'hook' ? 'HTTP404' : 'letter-sending'} run is stored without its steps, the rest as ever`, { skip }, () => {
        const run = which === 'hook' ? hook : child;
        assert.equal(run.status, 'completed');
        assert.equal(run.scenario, which === 'hook' ? 'HTTP404' : 'BpiumNewTask');
        assert.deepEqual((run.trace as Array<{ kind: string }>).map((s) => s.kind), [TRACE_NOT_KEPT_KIND], 'only the marker');
        const marker = traceNotKeptOf(run.trace)!;
        assert.equal(marker.setting, 'OKTELL_TRACE=failed');
        assert.ok(marker.steps > 2, `${marker.steps} steps counted`);
        if (which === 'child') {
          assert.equal((run.bpiumCalls as unknown[]).length, 1);
          assert.equal((run.mails as Array<{ to: string[] }>)[0]!.to[0], 'ivan.petrov@example.com');
          assert.deepEqual(run.returnValues, { 1: 'notified 1 of 1' });
        } else {
          assert.ok(Object.keys(run.params as object).length > 0);
          // The job it started is named in the marker, so its started jobs are read by id (started-jobs.ts).
          assert.deepEqual(marker.started, [childJobId]);
          assert.deepEqual(startedJobIdsOf(run.trace), [childJobId]);
        }
        if (which === 'child') assert.deepEqual(marker.started, [], 'the letter-sending run started no job');
      });
    }

    it('a failing run keeps its whole trace', { skip }, async () => {
      await fetch(`${t.server.url}/execsvcscript?name=Broken`, { headers: { authorization: AUTH } });
      const failed = await waitFor('the failed run to be stored', async () => (await t.server.store.listRuns({ scenario: 'Broken', limit: 1 })).items[0], 20_000);
      assert.equal(failed.status, 'failed');
      const trace = (await t.server.store.getRun(failed.id))!.trace as Array<{ block: string; kind: string; exit: string }>;
      assert.equal(traceNotKeptOf(trace), undefined);
      assert.deepEqual(trace.map((s) => [s.block, s.kind]), [['s', 'Bpium']]);
      assert.equal(trace[0]!.exit, 'failed');
    });

    it('the console says the trace was not kept, and will not make a test of the run', { skip }, async () => {
      for (const run of [hook, child]) {
        const html = await (await fetch(`${t.server.url}/-/console/runs/${run.id}`, { headers: { authorization: AUTH } })).text();
        assert.match(html, /<p class="muted trace-not-kept">trace not kept \(OKTELL_TRACE=failed\): the \d+ step\(s\) of this completed run were not stored/);
        assert.doesNotMatch(html, /No steps were recorded|TraceNotKept/);
        // No link to a download that would only answer 409.
        assert.doesNotMatch(html, /id="as-test"/);
      }
      const download = await fetch(`${t.server.url}/-/console/runs/${hook.id}/test.yaml`, { headers: { authorization: AUTH } });
      assert.equal(download.status, 409);
      assert.match((await download.text()).replace(/&#39;|&quot;/g, ''), REFUSAL);
    });

    it('show says the trace was not kept; test --from-run refuses the run, naming the setting and the fix', { skip: skip ?? (kind === 'postgres' ? 'the CLI reads the SQLite folder here' : undefined) }, () => {
      const shown = runCli(['show', child.id, '--data-dir', t.dataDir]);
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /^ {2}trace not kept \(OKTELL_TRACE=failed\): the \d+ step\(s\) of this completed run were not stored; its parameters, return values, Bpium calls, letters, web requests and statements were, though not the order they were made in \(listed by kind\)\. OKTELL_TRACE=all \(the default\) keeps the steps of later runs\.$/m);
      assert.doesNotMatch(shown.stdout, /TraceNotKept/);
      assert.match(shown.stdout, /return values 1="notified 1 of 1"/);
      for (const run of [hook, child]) {
        const made = runCli(['test', '--from-run', run.id, '--scenarios', t.scenariosDir, '--data-dir', t.dataDir, '--out', `${t.scenariosDir}/tests/x.test.yaml`]);
        assert.equal(made.code, 2, made.stdout + made.stderr);
        assert.match(made.stderr, REFUSAL);
        assert.match(made.stderr, new RegExp(`run ${run.id} was stored without its trace`));
      }
      assert.match(runCli(['show', hook.id, '--data-dir', t.dataDir]).stdout, NOT_KEPT);
    });
  });
}
