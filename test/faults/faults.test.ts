// Faults the real world brings, on the real server: Bpium answering 429 and 500 in bursts, a full store, a delivery
// repeated concurrently. (SIGKILL under load and SMTP down-then-up are in test/server/durability.test.ts; a locked
// store in test/server/operations.test.ts.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsedLetters, postWebhook, startTestServer, taskWebhook, waitFor } from '../server/server-helpers.js';

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
