// A run's console page lists the jobs it started from the ids its trace names: it no longer reads the jobs table for
// the run's id (no index on the parent run: on a store of 180,000 jobs that read held the server's event loop, and so
// every webhook's acknowledgement, for about 0.5 s at each view of a run page, whether the run was old or new).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ListJobsQuery } from '../../server/store/store.port.js';
import { get, postWebhook, startConsoleServer, taskWebhook, waitFor, type ConsoleServer } from './console-helpers.js';

describe('the run page lists the jobs the run started', { timeout: 60_000 }, () => {
  let t: ConsoleServer;
  before(async () => {
    t = await startConsoleServer();
  });
  after(async () => t.cleanup());

  it('the hook run\'s page names its job and its run without a read of the jobs table by parent run', async () => {
    assert.equal((await postWebhook(t.server.url, taskWebhook({ name: 'Перезвонить', responsible: ['2'] }), t.secret)).status, 200);
    const job = await waitFor('the job to succeed', async () => (await t.server.store.listJobs({ status: 'succeeded' })).items[0]);
    const store = t.server.store;
    const list = store.listJobs.bind(store);
    const scans: ListJobsQuery[] = [];
    store.listJobs = (q?: ListJobsQuery) => {
      if (q?.parentRunId) scans.push(q);
      return list(q);
    };
    try {
      const res = await get(`${t.base}/runs/${job.parentRunId}`);
      assert.equal(res.status, 200);
      const html = await res.text();
      assert.ok(html.includes(job.id) && html.includes(job.lastRunId!), 'the page names the job and its run');
      assert.deepEqual(scans, []);
    } finally {
      store.listJobs = list;
    }
  });
});
