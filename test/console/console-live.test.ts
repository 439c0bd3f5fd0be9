// The live parts of the console in a real browser (Debian's Chromium through playwright-core): the runs list keeps
// keyboard focus and a text selection across its updates and changes nothing when nothing changed, its counts follow
// the rows, its badge says "offline" when the server stops; the dry-run form follows the chosen scenario.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { newSortableId } from '../../server/store/sortable-id.js';
import { AUTH, chromiumMissing, consoleContext, postWebhook, readUserJob, startConsoleServer, taskWebhook, useConsoleBrowser, waitFor } from './console-helpers.js';

/** Resolves after the page has fetched and handled `n` more answers of runs.json. */
async function polls(page: Page, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await page.waitForResponse((r) => r.url().includes('/runs.json'), { timeout: 15_000 });
  // The answer is handled in the same task chain as its body is read: one more turn lets the page apply it.
  await page.evaluate('new Promise((r) => setTimeout(r, 50))');
}

describe('web console live list in a browser', () => {
  const s = useConsoleBrowser();

  async function webhookRun(name: string): Promise<void> {
    const before = (await s.t.server.store.counts()).runs.completed;
    const res = await postWebhook(s.t.server.url, taskWebhook({ name, responsible: ['2'] }), s.t.secret);
    assert.equal(res.status, 200);
    await waitFor('the letter run', async () => (await s.t.server.store.counts()).runs.completed >= before + 2);
  }

  it('keeps the focused link and the selected text while polls change nothing, then while a new run arrives', { timeout: 90_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    await webhookRun('первая задача');
    const page = await s.context.newPage();
    await page.goto(`${s.t.base}/runs`);
    await page.locator('#live').waitFor();
    const rows = await page.locator('table.runs tbody tr').count();
    assert.ok(rows >= 2);
    // Count every change to the rows, focus a run link and select a run's start time, as a keyboard user copying it.
    await page.evaluate(`window.mutations = 0;
      new MutationObserver((list) => (window.mutations += list.length)).observe(document.querySelector('table.runs tbody'), { subtree: true, childList: true, characterData: true, attributes: true });`);
    const focused = page.locator('table.runs tbody tr').nth(0).locator('td.c-scenario > a');
    const href = await focused.getAttribute('href');
    await focused.focus();
    await page.evaluate(`const range = document.createRange();
      range.selectNodeContents(document.querySelectorAll('table.runs tbody tr')[1].querySelector('td.c-time'));
      window.getSelection().removeAllRanges();
      window.getSelection().addRange(range);`);
    const selection = () => page.evaluate('String(window.getSelection())') as Promise<string>;
    const selected = await selection();
    assert.match(selected, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    await polls(page, 2);
    assert.equal(await page.evaluate('window.mutations'), 0, 'nothing changed, so nothing was redrawn');
    assert.equal(await page.evaluate("document.activeElement.getAttribute('href')"), href, 'the focus stayed on the link');
    assert.equal(await selection(), selected, 'the selection stayed');
    // A new run: its rows are inserted above, the focused link is still the same element, and it is announced.
    await page.evaluate('document.activeElement.mark = 1');
    await webhookRun('вторая задача');
    await page.locator('table.runs tbody tr').nth(rows + 1).waitFor({ timeout: 15_000 });
    assert.equal(await page.evaluate('document.activeElement.mark'), 1, 'the same link keeps the focus');
    assert.equal(await selection(), selected);
    // Announced ("1 new run" or "2 new runs": the two runs may arrive in one poll or in two).
    assert.match((await page.locator('#live-news').textContent()) ?? '', /^(1 new run|2 new runs)$/);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate("document.activeElement.closest('table.runs') !== null"), true, 'Tab goes on to the next row, not from the top of the page');
    await page.close();
  });

  it('a hook run that arrives live carries its answer badge; the job run it queued has none', { timeout: 90_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const page = await s.context.newPage();
    await page.goto(`${s.t.base}/runs`);
    await page.locator('#live').waitFor();
    const res = await fetch(`${s.t.server.url}/no/such/hook`, { headers: { authorization: AUTH } });
    assert.equal(res.status, 404);
    const badge = page.locator(`tr[data-id="${res.headers.get('x-oktell-run-id')}"] td.c-answer .badge`);
    await badge.waitFor({ timeout: 15_000 });
    assert.equal(await badge.getAttribute('class'), 'badge http-4xx');
    assert.equal(await badge.getAttribute('title'), 'Answered HTTP 404');
    assert.equal(await badge.textContent(), 'HTTP 404');
    assert.equal(await badge.locator('.sr-only').textContent(), 'HTTP ', 'the word HTTP is for screen readers only');
    await webhookRun('задача со значком');
    const job = page.locator('tr[data-status="completed"]').filter({ has: page.locator('td.c-trigger', { hasText: /^async$/ }) }).first();
    await job.waitFor({ timeout: 15_000 });
    assert.equal(await job.locator('td.c-answer').innerHTML(), '');
    assert.ok((await page.locator('table.runs tbody').innerHTML()).includes('title="Answered HTTP 200"'), 'the webhook run got its 200 badge live');
    // The script draws the badge exactly as the server's page does.
    const cell = page.locator(`tr[data-id="${res.headers.get('x-oktell-run-id')}"] td.c-answer`);
    const drawnLive = await cell.innerHTML();
    await page.reload();
    assert.equal(await cell.innerHTML(), drawnLive);
    await page.close();
  });

  it('a run that may repeat a cut-off attempt arrives live with its "may repeat" mark, drawn as the page draws it', { timeout: 90_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const page = await s.context.newPage();
    await page.goto(`${s.t.base}/runs`);
    await polls(page, 1);
    // The second attempt of a job whose first was cut off: its letter is marked, as the delivery marks it.
    const id = newSortableId();
    const now = Date.now();
    await s.t.server.store.recordRun({
      id, jobId: newSortableId(), attempt: 2, scenario: 'ReadUser', version: 'v1', trigger: 'async', status: 'completed', startedAt: now, finishedAt: now + 30,
      params: {}, returnValues: {}, trace: [], bpiumCalls: [],
      mails: [{ block: 'letter', to: ['ivan.petrov@example.com'], subject: 'Проверка связи', status: 'sent', performed: true, mayRepeat: true }],
    });
    const mark = page.locator(`tr[data-id="${id}"] td .may-repeat`);
    await mark.waitFor({ timeout: 15_000 });
    assert.equal(await mark.textContent(), 'may repeat', 'a word, not a colour only');
    const cell = page.locator(`tr[data-id="${id}"] td`).first();
    const drawnLive = await cell.innerHTML();
    await page.reload();
    assert.equal(await cell.innerHTML(), drawnLive);
    await page.close();
  });

  it('updates the counts above the list with the rows', { timeout: 90_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const page = await s.context.newPage();
    await page.goto(`${s.t.base}/runs`);
    const completed = Number(await page.locator('[data-count="completed"] b').textContent());
    await webhookRun('третья задача');
    await waitFor('the counts to follow', async () => Number(await page.locator('[data-count="completed"] b').textContent()) === completed + 2, 15_000);
    assert.equal(Number(await page.locator('[data-count="completed"] b').textContent()), (await s.t.server.store.counts()).runs.completed);
    await page.close();
  });

  it('the dry-run form switches to input parameters for another scenario, and back to the webhook for the hook scenario', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const page = await s.context.newPage();
    await page.goto(`${s.t.base}/dry-run`);
    const hook = s.t.server.host.library().scenarios.has('HTTP404') ? 'HTTP404' : await page.locator('#scenario').inputValue();
    assert.equal(await page.locator('#scenario').inputValue(), hook);
    assert.ok(await page.locator('input[name="mode"][value="webhook"]').isChecked());
    assert.ok(await page.locator('fieldset.params input[name="p1"]').isDisabled(), 'the unused parameters cannot be typed into');
    await page.selectOption('#scenario', 'BpiumNewTask');
    assert.ok(await page.locator('input[name="mode"][value="params"]').isChecked(), 'another scenario gets input parameters');
    assert.ok(await page.locator('fieldset.webhook textarea[name="body"]').isDisabled());
    assert.ok(await page.locator('fieldset.params input[name="p1"]').isEditable());
    await page.selectOption('#scenario', hook);
    assert.ok(await page.locator('input[name="mode"][value="webhook"]').isChecked());
    await page.close();
  });

  it('an in-page jump lands below the sticky header, on a wide screen and on a phone', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const line = s.t.server.host.library().scenarios.get('BpiumNewTask')!.blocks.get('getUser')!.loc.line;
    for (const [width, height] of [[1280, 900], [390, 844]] as const) {
      const ctx = await consoleContext(s.browser, width, height);
      try {
        const page = await ctx.newPage();
        await page.goto(`${s.t.base}/scenarios/BpiumNewTask#L${line}`);
        const header = (await page.locator('header.top').boundingBox())!;
        const target = (await page.locator(`tr#L${line}`).boundingBox())!;
        assert.ok(target.y >= header.y + header.height, `${width} px: line ${line} at y=${target.y} is under the header (bottom ${header.y + header.height})`);
      } finally {
        await ctx.close();
      }
    }
  });

  it('on a phone the Replay button and the reason of a failure are on the screen', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const failed = await readUserJob(s.t, '88');
    const phone = await consoleContext(s.browser, 390, 844);
    try {
      const page = await phone.newPage();
      await page.goto(`${s.t.base}/jobs?status=failed`);
      const replay = page.locator(`tr[data-id="${failed.jobId}"] button`, { hasText: 'Replay' });
      const box = (await replay.boundingBox())!;
      assert.ok(box.x >= 0 && box.x + box.width <= 390, `Replay spans x=${box.x}..${box.x + box.width}`);
      const error = page.locator(`tr[data-id="${failed.jobId}"] td.c-error`);
      assert.ok(await error.isVisible());
      const errorBox = (await error.boundingBox())!;
      assert.ok(errorBox.x + errorBox.width <= 390);
      await page.goto(`${s.t.base}/runs`);
      const runError = page.locator(`tr[data-id="${failed.runId}"] td.c-error`);
      assert.ok(await runError.isVisible(), 'a failed run says why on a phone too');
      assert.match((await runError.textContent()) ?? '', /404/);
      assert.ok((await page.evaluate('document.documentElement.scrollWidth')) as number <= 390);
    } finally {
      await phone.close();
    }
  });

  it('the live badge says offline when the server stops', { timeout: 90_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const other = await startConsoleServer();
    let stopped = false;
    try {
      const page = await s.context.newPage();
      await page.goto(`${other.base}/runs`);
      await polls(page, 1);
      assert.equal(await page.locator('#live').textContent(), 'live');
      await other.cleanup();
      stopped = true;
      await page.locator('#live.offline').waitFor({ timeout: 15_000 });
      assert.match((await page.locator('#live').textContent()) ?? '', /^offline — last update \d\d:\d\d:\d\d$/);
      await page.close();
    } finally {
      if (!stopped) await other.cleanup();
    }
  });
});
