// Faults the real world brings, on the real server: Bpium answering 429 and 500 in bursts, a full store, a delivery
// repeated concurrently. (SIGKILL under load and SMTP down-then-up are in test/server/durability.test.ts; a locked
// store in test/server/operations.test.ts.)
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { runCliAsync } from '../cli/cli.helper.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { AUTH, capturingLogger, parsedLetters, postWebhook, startTestServer, taskWebhook, waitFor } from '../server/server-helpers.js';
import { ECHO_DUE } from '../tasks/task-scenarios.js';

const subjectsOf = async (t: Awaited<ReturnType<typeof startTestServer>>) => (await parsedLetters(t.smtp!)).map((m) => m.subject!.replace('Новая задача: ', ''));

describe('faults', () => {
  it('Bpium answering 429 and 500 in bursts during a stream of webhooks: every letter still arrives, once', { timeout: 60_000 }, async () => {
    const t = await startTestServer({ config: 'workers: { baseDelayMs: 50, maxDelayMs: 200, maxAttempts: 50 }\n', env: { BPIUM_RETRY_ATTEMPTS: '2' } });
    try {
      const emu = t.server.emulator!;
      const names: string[] = [];
      for (let i = 0; i < 24; i++) {
        // Every sixth webhook, a new burst: Bpium refuses the next reads with 429 (Retry-After: 0) or 500.
        if (i % 6 === 0) emu.injectFaults(i % 12 === 0 ? { status: 429, times: 6, retryAfter: '0' } : { status: 500, times: 6 });
        const name = `сбой Bpium ${i}`;
        names.push(name);
        const res = await postWebhook(t.server.url, taskWebhook({ name, responsible: [i % 2 ? '2' : '3'], sequenceId: 50_000 + i }), t.secret);
        assert.equal(res.status, 200, 'a fault behind the queue never changes the acknowledgement');
      }
      await waitFor('a letter for every webhook', async () => (await subjectsOf(t)).length >= names.length, 40_000);
      await new Promise((r) => setTimeout(r, 300));
      const subjects = await subjectsOf(t);
      assert.deepEqual([...subjects].sort(), [...names].sort(), 'each task got exactly one letter');
      const refused = emu.requests().filter((r) => r.status === 429 || r.status === 500);
      assert.ok(refused.some((r) => r.status === 429) && refused.some((r) => r.status === 500), `the faults were met (${refused.length} refused reads)`);
      const failed = (await t.server.store.listRuns({ status: 'failed', scenario: 'BpiumNewTask' })).items;
      assert.ok(failed.length > 0, 'some attempts failed and were retried');
      assert.ok(failed.every((r) => (r.error as { retryable: boolean }).retryable), 'Bpium 429/500 count as retryable');
    } finally {
      await t.cleanup();
    }
  });

  it('a full store (OKTELL_STORE_MAX_PAGES quota) answers 503 with Retry-After, and every acknowledged webhook is stored with its job', { timeout: 60_000 }, async () => {
    const t = await startTestServer({ smtp: false, env: { OKTELL_STORE_MAX_PAGES: '90' } });
    try {
      const acked: string[] = [];
      let refused: Response | undefined;
      const padding = 'x'.repeat(12_000);
      for (let i = 0; i < 200 && !refused; i++) {
        const res = await postWebhook(t.server.url, taskWebhook({ name: `квота ${i}`, description: padding, responsible: ['2'], sequenceId: 70_000 + i }), t.secret);
        if (res.status === 200) acked.push(res.headers.get('x-oktell-run-id')!);
        else if (res.status === 503) refused = res;
        else assert.fail(`unexpected status ${res.status}: ${await res.text()}`);
      }
      assert.ok(refused, 'the quota was reached');
      assert.ok(acked.length >= 2, `some webhooks fitted before the quota (${acked.length})`);
      assert.equal(refused.headers.get('retry-after'), '30');
      assert.match(await refused.text(), /^503 Service Unavailable/);
      // Still full: the next one of the same size is refused too, and the server is up.
      const again = await postWebhook(t.server.url, taskWebhook({ name: 'после квоты', description: padding, responsible: ['2'], sequenceId: 79_999 }), t.secret);
      assert.equal(again.status, 503);
      // The server is up, and its health says why webhooks are refused.
      const health = await fetch(`${t.server.url}/-/health`);
      assert.equal(health.status, 503);
      assert.match(JSON.stringify(await health.json()), /the store refuses writes \(full\)/);
      // Nothing acknowledged was lost: each 200 has its hook run, its inbox entry and exactly one job.
      for (const runId of acked) {
        const run = await t.server.store.getRun(runId);
        assert.ok(run, `run ${runId} of an acknowledged webhook is stored`);
        assert.equal(run.status, 'completed');
        const entry = await t.server.store.getInboxEntry(run.inboxId!);
        assert.equal(entry?.responseStatus, 200);
      }
      const counts = await t.server.store.counts();
      const jobs = Object.values(counts.jobs).reduce((a, b) => a + b, 0);
      assert.equal(jobs, acked.length, 'one job per acknowledged webhook, none for the refused ones');
    } finally {
      await t.cleanup();
    }
  });

  it('at the store quota, the webhooks already acknowledged are still delivered: new ones are refused before the last pages', { timeout: 60_000 }, async () => {
    const t = await startTestServer({ env: { OKTELL_STORE_MAX_PAGES: '160' } });
    try {
      const acked: string[] = [];
      let refused = 0;
      // Five at a time, as Bpium sends them: jobs queue up behind the acknowledgements, as in a burst.
      for (let round = 0; round < 80 && refused === 0; round++) {
        const names = Array.from({ length: 5 }, (_, i) => `запас ${round}.${i}`);
        const answers = await Promise.all(names.map((name, i) => postWebhook(t.server.url, taskWebhook({ name, responsible: ['2'], sequenceId: 60_000 + round * 5 + i }), t.secret)));
        answers.forEach((res, i) => {
          if (res.status === 200) acked.push(names[i]!);
          else if (res.status === 503) refused++;
          else assert.fail(`unexpected status ${res.status}`);
        });
      }
      assert.ok(refused > 0, 'the quota was reached');
      assert.ok(acked.length >= 5, `some webhooks fitted before the quota (${acked.length})`);
      // Every acknowledged webhook gets its letter and its job ends succeeded: claims and outcomes still fit.
      await waitFor('a letter for every acknowledged webhook', async () => (await subjectsOf(t)).length >= acked.length, 30_000);
      const jobs = await waitFor('every job to succeed', async () => {
        const c = (await t.server.store.counts()).jobs;
        return c.succeeded === acked.length ? c : undefined;
      }, 20_000);
      assert.deepEqual({ queued: jobs.queued, running: jobs.running, failed: jobs.failed, dead: jobs.dead }, { queued: 0, running: 0, failed: 0, dead: 0 });
      assert.deepEqual((await subjectsOf(t)).sort(), [...acked].sort(), 'one letter per acknowledged webhook, none twice');
    } finally {
      await t.cleanup();
    }
  });

  it('at the store quota, webhooks with long task texts are delivered too: the room kept covers the run records of their jobs', { timeout: 90_000 }, async () => {
    // A Bpium task with a long description makes a run record (letter text, parameters, trace) of about 30 KB; the room
    // kept per pending job was 16 KiB, so a flood filled the quota to the last page: jobs could not record their
    // end (their letters would go out again) and the jobs still queued could not be claimed.
    const { lines, logger } = capturingLogger();
    const t = await startTestServer({ env: { OKTELL_STORE_MAX_PAGES: '1500' }, logger });
    const description = 'Подробное описание задачи. '.repeat(300);
    try {
      const acked: string[] = [];
      let refused = 0;
      for (let round = 0; round < 100 && refused < 20; round++) {
        const names = Array.from({ length: 10 }, (_, i) => `длинная ${round}.${i}`);
        const answers = await Promise.all(names.map((name, i) => postWebhook(t.server.url, taskWebhook({ name, description, responsible: ['2'], sequenceId: 70_000 + round * 10 + i }), t.secret)));
        answers.forEach((res, i) => {
          if (res.status === 200) acked.push(names[i]!);
          else if (res.status === 503) refused++;
          else assert.fail(`unexpected status ${res.status}`);
        });
      }
      assert.ok(refused > 0, 'the quota was reached');
      assert.ok(acked.length >= 10, `some webhooks fitted before the quota (${acked.length})`);
      const jobs = await waitFor('every job to succeed', async () => {
        const c = (await t.server.store.counts()).jobs;
        return c.succeeded === acked.length ? c : undefined;
      }, 60_000).catch(async (e: Error) => assert.fail(`${e.message}: ${JSON.stringify((await t.server.store.counts()).jobs)} of ${acked.length} acknowledged`));
      assert.deepEqual({ queued: jobs.queued, running: jobs.running, failed: jobs.failed, dead: jobs.dead }, { queued: 0, running: 0, failed: 0, dead: 0 });
      assert.deepEqual((await subjectsOf(t)).sort(), [...acked].sort(), 'one letter per acknowledged webhook, none twice');
      assert.deepEqual(lines.filter((l) => /cannot (record the end of a job|claim jobs)/.test(l.msg ?? '')).map((l) => l.msg), [], 'claims and outcomes always fitted');
    } finally {
      await t.cleanup();
    }
  });

  it('a store already at its quota with jobs left running: the start is refused naming OKTELL_STORE_MAX_PAGES and what to do', { timeout: 30_000 }, async () => {
    // Under a supervisor (Restart=always) it would otherwise restart in a loop saying only "the store refuses the write (full)".
    const start = startTestServer({
      smtp: false,
      env: { OKTELL_STORE_MAX_PAGES: '16' },
      before: async (dataDir) => {
        const store = await openSqliteStore({ file: join(dataDir, 'oktell.sqlite') });
        await store.enqueueJobs([{ scenario: 'BpiumNewTask', params: { 1: 'длинная задача '.repeat(300) } }]);
        assert.equal((await store.claimJobs('killed-process', 1, 60_000)).length, 1);
        await store.close();
      },
    });
    await assert.rejects(start, (e: Error) => {
      assert.equal(e.name, 'StoreUnavailableError');
      assert.match(e.message, /the jobs left running by the previous process cannot be requeued, so the server does not start: the store is at its quota \(OKTELL_STORE_MAX_PAGES=16\)\. Start it with a higher quota/);
      return true;
    });
  });

  it('near the store quota, new runs from outside are refused as webhooks are (Web-API async, tasks run, a due service task), while a running job still starts its child', { timeout: 90_000 }, async () => {
    // A gate the running job waits on (its WebRequest), so that it starts its child only once the store is near the quota.
    let open: () => void = () => undefined;
    const opened = new Promise<void>((r) => (open = r));
    let gateCalls = 0;
    const gate = createServer((_req, res) => {
      gateCalls++;
      void opened.then(() => res.end('open'));
    });
    await new Promise<void>((r) => gate.listen(0, '127.0.0.1', r));
    const parent = `start: wait
blocks:
  wait:
    kind: WebRequest
    method: GET
    url: '"http://127.0.0.1:${(gate.address() as AddressInfo).port}/gate"'
    timeout: 60
    exits: { success: child, error: child, timeout: child }
  child:
    kind: AsyncScenario
    scenario: Tick
    exits: { next: rv }
  rv:
    kind: ReturnValue
    values: { 1: '"started"' }
`;
    const disabled = 'serviceTasks:\n  - { name: tick, scenario: Tick, cron: "* * * * * *", enabled: false }\n';
    const log = capturingLogger();
    const t = await startTestServer({ watch: true, logger: log.logger, extraScenarios: { 'Tick.yaml': ECHO_DUE, 'Parent.yaml': parent }, config: disabled, env: { OKTELL_STORE_MAX_PAGES: '160' } });
    try {
      const webApi = (name: string) => fetch(`${t.server.url}/execsvcscript?name=${name}&async=1`, { headers: { authorization: AUTH } });
      const started = await webApi('Parent');
      assert.equal(started.status, 200, 'with room, a Web-API start is queued');
      const parentJob = started.headers.get('x-oktell-run-id')!;
      await waitFor('the parent job waiting at the gate', () => gateCalls > 0);

      // Webhooks until the hook refuses, and still refuses once the jobs they queued are delivered (only the parent,
      // held at the gate, stays pending): from then on nothing changes the room left.
      let seq = 80_000;
      const post = () => postWebhook(t.server.url, taskWebhook({ name: `запас ${seq}`, responsible: ['2'], sequenceId: seq++ }), t.secret);
      let settledRefusal = false;
      // Near the quota a round takes one webhook (refused, then accepted once the last is delivered): filling the
      // last pages takes about 20 rounds here, so the cap leaves ample room (each round is a few milliseconds).
      for (let round = 0; round < 200 && !settledRefusal; round++) {
        for (let i = 0; i < 300; i++) {
          const res = await post();
          if (res.status === 503) break;
          assert.equal(res.status, 200, `unexpected status ${res.status}`);
        }
        await waitFor('the acknowledged jobs delivered', async () => {
          const c = (await t.server.store.counts()).jobs;
          return c.queued + c.running === 1;
        }, 30_000);
        settledRefusal = (await post()).status === 503;
      }
      assert.ok(settledRefusal, 'the hook refuses new webhooks near the quota');
      const jobsNow = async () => Object.values((await t.server.store.counts()).jobs).reduce((a, b) => a + b, 0);
      const before = await jobsNow();

      // The Web-API's async start: the hook's 503 and Retry-After, in the Web-API's own answer; nothing queued.
      const refused = await webApi('Tick');
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.get('retry-after'), '30');
      assert.match(await refused.text(), /the store cannot take new runs right now/);
      // A start by hand, over HTTP and from the CLI (which opens the store with the server's quota).
      const manual = await fetch(`${t.server.url}/-/tasks/tick/run`, { method: 'POST', headers: { authorization: AUTH } });
      assert.equal(manual.status, 503);
      assert.equal(manual.headers.get('retry-after'), '30');
      const cli = await runCliAsync(['tasks', 'run', 'tick', '--config', t.server.config.configFile!, '--data-dir', t.dataDir], { env: { OKTELL_STORE_MAX_PAGES: '160', OKTELL_SCENARIOS: t.scenariosDir } });
      assert.equal(cli.code, 1, cli.stderr);
      assert.match(cli.stderr, /the store refuses the write \(full\): the store is near its quota/);

      // The task enabled: its due times are refused each second, said once (not once a tick), and nothing is queued.
      writeFileSync(t.server.config.configFile!, disabled.replace('enabled: false', 'enabled: true'));
      const refusalLines = () => log.lines.filter((l) => l.level === 'warn' && l.msg?.startsWith('service task tick: the store is near its quota'));
      await waitFor('the scheduler to meet the quota', () => refusalLines().length > 0);
      await new Promise((r) => setTimeout(r, 3500));
      assert.equal(refusalLines().length, 1, 'one warning for a run of refusals');
      assert.deepEqual(log.lines.filter((l) => l.msg?.includes('a tick failed')), [], 'a refusal is not a failed tick');
      assert.equal(await jobsNow(), before, 'nothing was queued by the refused starts');

      // The running job goes on: its AsyncScenario start uses the room kept for it, and the job succeeds.
      open();
      const done = await waitFor('the parent job to end', async () => {
        const j = await t.server.store.getJob(parentJob);
        return j && (j.status === 'succeeded' || j.status === 'failed' || j.status === 'dead' || j.lastError) ? j : undefined;
      }, 30_000);
      assert.equal(done.status, 'succeeded', JSON.stringify(done.lastError));
      const children = (await t.server.store.listJobs({ scenario: 'Tick' })).items.filter((j) => (j.trigger as { parentJob?: string }).parentJob === parentJob);
      assert.equal(children.length, 1, 'the child of the running job was queued');
    } finally {
      open();
      await t.cleanup();
      await new Promise((r) => gate.close(r));
    }
  });

  it('the same delivery five times at once: all acknowledged, one job, one letter', { timeout: 30_000 }, async () => {
    const t = await startTestServer();
    try {
      const body = taskWebhook({ name: 'пять раз сразу', responsible: ['2'], sequenceId: 90_001 });
      const before = await t.server.store.counts();
      const responses = await Promise.all(Array.from({ length: 5 }, () => postWebhook(t.server.url, body, t.secret)));
      assert.deepEqual(responses.map((r) => r.status), [200, 200, 200, 200, 200]);
      const marked = responses.filter((r) => r.headers.get('x-oktell-duplicate-of'));
      assert.equal(marked.length, 4, 'four are recognised as repeats of the first');
      assert.equal(new Set(marked.map((r) => r.headers.get('x-oktell-duplicate-of'))).size, 1, 'all point at the same first delivery');
      await waitFor('the letter', () => t.smtp!.letters.length >= 1);
      await new Promise((r) => setTimeout(r, 400));
      const after = await t.server.store.counts();
      const jobs = (c: typeof after) => Object.values(c.jobs).reduce((a, b) => a + b, 0);
      assert.equal(jobs(after) - jobs(before), 1);
      assert.equal(after.inbox.duplicates - before.inbox.duplicates, 4);
      assert.equal(t.smtp!.letters.length, 1);
    } finally {
      await t.cleanup();
    }
  });
});
