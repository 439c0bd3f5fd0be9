// The runs list says which job and which attempt each job's run is (console trial L6: two dead letters of a mail
// outage gave six BpiumNewTask rows, attempts 1–3 each, mixed by time, with nothing to tell their jobs apart), on a
// phone as on a desk, drawn alike by the page and by the live list; and a dead letter's last run has one status on
// the list and on its page (trial L3: the list said dead, the page failed).
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { before, describe, it } from 'node:test';
import type { JobRecord, RunSummary } from '../../server/store/store.port.js';
import { chromiumMissing, consoleContext, get, postWebhook, taskWebhook, textOf, useConsoleBrowser, waitFor } from './console-helpers.js';

/** A port in 46000–46999 that nothing listens on: the SMTP server of the outage. */
async function closedPort(): Promise<number> {
  for (;;) {
    const port = 46000 + Math.floor(Math.random() * 1000);
    const s = createServer();
    const ok = await new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) {
      await new Promise<void>((resolve) => s.close(() => resolve()));
      return port;
    }
  }
}

const smtpPort = await closedPort();

/** The `<tr>` of run `id` on a runs page. */
function rowHtml(page: string, id: string): string {
  const row = new RegExp(`<tr data-id="${id}" data-status="[a-z]+">[\\s\\S]*?</tr>`).exec(page)?.[0];
  assert.ok(row, `the list has a row for run ${id}`);
  return row;
}

describe('the runs list names the job and attempt of each job run; a dead letter has one status', () => {
  // A mail outage: every attempt of a letter fails, three attempts make a dead letter.
  const s = useConsoleBrowser({ serverWithoutBrowser: true, env: { SMTP_URL: `smtp://127.0.0.1:${smtpPort}` }, config: 'workers: { baseDelayMs: 50, maxDelayMs: 100, maxAttempts: 3 }\n' });
  let jobs: JobRecord[] = [];
  let runs: RunSummary[] = [];
  /** What Chromium showed in the live list while the attempts came in (before any reload), by run id. */
  const live = new Map<string, string>();

  before(async () => {
    // The live list is opened before the outage, so the job runs arrive through console.js, not the page.
    const page = chromiumMissing ? undefined : await s.context.newPage();
    await page?.goto(`${s.t.base}/runs`);
    for (const name of ['первое письмо', 'второе письмо']) {
      const res = await postWebhook(s.t.server.url, taskWebhook({ name, responsible: ['3'] }), s.t.secret);
      assert.equal(res.status, 200);
    }
    jobs = await waitFor('two dead letters', async () => {
      const dead = (await s.t.server.store.listJobs({ status: 'dead' })).items;
      return dead.length === 2 && dead;
    }, 30_000);
    runs = (await s.t.server.store.listRuns({})).items.filter((r) => r.jobId);
    assert.equal(runs.length, 6, 'three attempts of each job');
    if (page) {
      await waitFor('the live list to draw the eight runs', async () => (await page.locator('tbody tr').count()) === 8);
      for (const r of runs) live.set(r.id, (await page.locator(`tr[data-id="${r.id}"] td.c-scenario`).innerText()).replace(/\s+/g, ' ').trim());
      await page.close();
    }
  });

  it('each job run shows "job …<end of its id> #<attempt>" under its scenario, linked to the job\'s runs; other runs show none', { timeout: 30_000 }, async () => {
    const page = await (await get(`${s.t.base}/runs`)).text();
    const ends = jobs.map((j) => j.id.slice(-6));
    assert.notEqual(ends[0], ends[1], 'the two jobs are told apart');
    for (const r of runs) {
      const row = rowHtml(page, r.id);
      const job = r.jobId!;
      assert.match(row, new RegExp(`<td class="c-scenario"><a href="/-/console/runs/${r.id}">BpiumNewTask</a><div class="job-ref">job <a href="/-/console/runs\\?job=${job}" title="all runs of job ${job}" aria-label="all runs of job ${job}"><code>…${job.slice(-6)}</code></a> #${r.attempt}</div></td>`));
      assert.match(textOf(row), new RegExp(`BpiumNewTask job …${job.slice(-6)} #${r.attempt} `));
    }
    // Attempts 1–3 of each job.
    for (const j of jobs) assert.deepEqual(runs.filter((r) => r.jobId === j.id).map((r) => r.attempt).sort(), [1, 2, 3]);
    // The hook runs that queued them have no job: no line.
    const hooks = (await s.t.server.store.listRuns({})).items.filter((r) => !r.jobId);
    assert.equal(hooks.length, 2);
    for (const r of hooks) assert.doesNotMatch(rowHtml(page, r.id), /job-ref/);
    // No Attempt column any more: the attempt is on the job's line.
    assert.doesNotMatch(page, /<th class="num c-attempt">/);
    // runs.json carries the short id the live list draws.
    const json = (await (await get(`${s.t.base}/runs.json`)).json()) as { items: Array<{ id: string; jobShort: string | null }> };
    for (const r of runs) assert.equal(json.items.find((i) => i.id === r.id)?.jobShort, `…${r.jobId!.slice(-6)}`);
    for (const r of hooks) assert.equal(json.items.find((i) => i.id === r.id)?.jobShort, null);
  });

  it('the live list (console.js) draws the same line as the page', { timeout: 30_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    assert.equal(live.size, 6);
    for (const r of runs) assert.equal(live.get(r.id), `BpiumNewTask job …${r.jobId!.slice(-6)} #${r.attempt}`, `run ${r.id} as the live list drew it`);
    const page = await s.context.newPage();
    try {
      await page.goto(`${s.t.base}/runs`);
      for (const r of runs) {
        const drawn = await page.locator(`tr[data-id="${r.id}"] .job-ref a`).getAttribute('href');
        assert.equal(drawn, `/-/console/runs?job=${r.jobId}`);
      }
      // Following the link lists that job's three attempts.
      await page.locator(`tr[data-id="${runs[0]!.id}"] .job-ref a`).click();
      await page.waitForURL(/\?job=/);
      assert.equal(await page.locator('tbody tr').count(), 3);
    } finally {
      await page.close();
    }
  });

  for (const width of [390, 1280]) {
    it(`at ${width} px the job line is on the screen and the list no wider than it`, { timeout: 30_000 }, async (tc) => {
      if (chromiumMissing) return tc.skip(chromiumMissing);
      const ctx = await consoleContext(s.browser, width, 900);
      try {
        const page = await ctx.newPage();
        await page.goto(`${s.t.base}/runs`);
        const wide = (await page.evaluate('document.documentElement.scrollWidth')) as number;
        assert.ok(wide <= width, `the page is ${wide} px wide on a ${width} px screen`);
        for (const r of runs) {
          const ref = page.locator(`tr[data-id="${r.id}"] .job-ref`);
          assert.ok(await ref.isVisible(), `run ${r.id}'s job line is shown`);
          const box = (await ref.boundingBox())!;
          assert.ok(box.x >= 0 && box.x + box.width <= width, `run ${r.id}'s job line spans x=${box.x}..${box.x + box.width}`);
          assert.equal((await ref.innerText()).trim(), `job …${r.jobId!.slice(-6)} #${r.attempt}`);
          // Under the scenario's name, not beside it.
          const name = (await page.locator(`tr[data-id="${r.id}"] td.c-scenario > a`).boundingBox())!;
          assert.ok(box.y >= name.y + name.height - 1, `the job line (y=${box.y}) is under the scenario (bottom ${name.y + name.height})`);
        }
      } finally {
        await ctx.close();
      }
    });
  }

  it('a dead letter\'s last run is "dead" on the list and on its page, which says it failed; its earlier attempts stay failed', { timeout: 30_000 }, async () => {
    const list = await (await get(`${s.t.base}/runs`)).text();
    for (const j of jobs) {
      const mine = runs.filter((r) => r.jobId === j.id);
      for (const r of mine) {
        const listed = /data-status="([a-z]+)"/.exec(rowHtml(list, r.id))![1];
        assert.equal(listed, r.id === j.lastRunId ? 'dead' : 'failed');
        const html = await (await get(`${s.t.base}/runs/${r.id}`)).text();
        const h1 = /<h1>[\s\S]*?<\/h1>/.exec(html)![0];
        // The page's badge is the list's.
        assert.match(h1, new RegExp(`<span class="badge st-${listed}">${listed}</span>`), `run ${r.id} (attempt ${r.attempt})`);
        if (listed === 'dead') assert.match(h1, /<span class="status-note">failed; its job is dead after 3 of 3 attempts<\/span>/);
        else assert.doesNotMatch(h1, /status-note/);
        // Its list of the job's other attempts badges each as the list does.
        const others = html.slice(html.indexOf('<h2>Other attempts of this job</h2>'));
        for (const o of mine.filter((o) => o.id !== r.id)) {
          const status = o.id === j.lastRunId ? 'dead' : 'failed';
          assert.match(others, new RegExp(`<a href="/-/console/runs/${o.id}">[^<]*</a> <span class="badge st-${status}">${status}</span>`));
        }
      }
    }
    // The status filter reads the stored status: `failed` finds the last runs too, badged as everywhere else.
    const failed = await (await get(`${s.t.base}/runs?status=failed`)).text();
    for (const j of jobs) assert.match(rowHtml(failed, j.lastRunId!), /data-status="dead">\s*<td><a class="badge st-dead"/);
  });
});
