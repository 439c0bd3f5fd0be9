// The console's runs and jobs lists say what each run did, in the words `oktell-emu runs` uses: the BpiumNewTask
// run that sent a letter, one that ignored a record of another catalog and one that got a malformed body are all
// "completed"/"succeeded", and only their outcome (letters, then return values) tells them apart. A real server:
// webhooks through the shipped HTTP404, the jobs run by its workers, the letters into its outbox.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { chromiumMissing, get, postWebhook, taskWebhook, textOf, useConsoleBrowser, waitFor } from './console-helpers.js';

/** The `<tr>` of `id` (a run's or a job's) on a list page. */
function rowHtml(page: string, id: string): string {
  const row = new RegExp(`<tr data-id="${id}"[^>]*>[\\s\\S]*?</tr>`).exec(page)?.[0];
  assert.ok(row, `the list has a row for ${id}`);
  return row;
}

describe('the console lists each run\'s outcome', () => {
  const s = useConsoleBrowser({ serverWithoutBrowser: true });
  const jobOf: Record<'sent' | 'ignored' | 'malformed', string> = { sent: '', ignored: '', malformed: '' };
  const runOf: Record<string, string> = {};

  /** What Chromium's live list (console.js) drew in each new row's outcome cell, before any reload, by run id. */
  const live = new Map<string, string>();

  before(async () => {
    const t = s.t;
    // The live list is open before the webhooks, so the rows arrive through console.js, not the page.
    const page: Page | undefined = chromiumMissing ? undefined : await s.context.newPage();
    await page?.goto(`${t.base}/runs`);
    const bodies = {
      sent: taskWebhook({ name: 'Перезвонить', responsible: ['2'] }),
      // A record of another catalog, its id with markup the page must show as text.
      ignored: JSON.stringify({ hook: { id: '1', event: 'record.created' }, payload: { catalogId: '42<b>', recordId: '7', values: { 4: [{ id: '2' }] } } }),
      malformed: '{"hook": not json',
    };
    for (const k of ['sent', 'ignored', 'malformed'] as const) {
      const res = await postWebhook(t.server.url, bodies[k], t.secret);
      assert.equal(res.status, 200, await res.text());
      const job = await waitFor(`the ${k} job to succeed`, async () => {
        const done = (await t.server.store.listJobs({ status: 'succeeded' })).items.filter((j) => !Object.values(jobOf).includes(j.id));
        return done.length === 1 && done[0];
      }, 20_000);
      jobOf[k] = job.id;
      runOf[k] = job.lastRunId!;
    }
    if (page) {
      for (const id of Object.values(runOf)) {
        const cell = page.locator(`tr[data-id="${id}"] td.c-outcome`);
        await waitFor(`the live list to draw run ${id}'s outcome`, async () => (await cell.count()) === 1 && (await cell.innerText()) !== '');
        live.set(id, await cell.innerText());
      }
      await page.close();
    }
  });

  const OUTCOME = {
    sent: /^letter sent to [^;]+@[^;]+; notified 1 of 1$/,
    ignored: /^ignored a record of catalog 42<b>: only the tasks catalog 11 \(tasksCatalog\) is announced$/,
    malformed: /^malformed webhook: the document is not valid JSON/,
  };

  it('the live list (console.js) draws the same outcomes as the page', async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    for (const k of ['sent', 'ignored', 'malformed'] as const) assert.match(live.get(runOf[k]!) ?? '', OUTCOME[k], `run ${runOf[k]} as the live list drew it`);
  });

  it('runs.json and the runs page give a letter sent, a record ignored and a malformed body distinct outcomes', async () => {
    const json = (await (await get(`${s.t.base}/runs.json`)).json()) as { items: Array<{ id: string; status: string; outcome: string; answer: number | null }> };
    const page = await (await get(`${s.t.base}/runs`)).text();
    assert.match(page, /<th class="c-outcome"[^>]*>Outcome<\/th>/);
    for (const k of ['sent', 'ignored', 'malformed'] as const) {
      const item = json.items.find((i) => i.id === runOf[k]) ?? assert.fail(`runs.json has run ${runOf[k]}`);
      assert.equal(item.status, 'completed');
      assert.match(item.outcome, OUTCOME[k]);
      const cell = /<td class="c-outcome">([\s\S]*?)<\/td>/.exec(rowHtml(page, runOf[k]!))?.[1] ?? assert.fail('an outcome cell');
      assert.match(textOf(cell), OUTCOME[k]);
    }
    // Data is text on the page, never markup.
    assert.match(rowHtml(page, runOf.ignored!), /catalog 42&lt;b&gt;:/);
    // The hook runs that queued them: their status (return value 2) is the Answer column's, not repeated as an
    // outcome; what else they returned would be.
    const hooks = json.items.filter((i) => !Object.values(runOf).includes(i.id));
    assert.deepEqual(hooks.map((h) => [h.answer, h.outcome]), [[200, ''], [200, ''], [200, '']]);
  });

  it('the jobs page gives each job the outcome of its last run', async () => {
    const page = await (await get(`${s.t.base}/jobs`)).text();
    assert.match(page, /<th class="c-outcome"[^>]*>Outcome<\/th>/);
    for (const k of ['sent', 'ignored', 'malformed'] as const) {
      const cell = /<td class="c-outcome">([\s\S]*?)<\/td>/.exec(rowHtml(page, jobOf[k]))?.[1] ?? assert.fail('an outcome cell');
      assert.match(textOf(cell), OUTCOME[k]);
    }
  });
});
