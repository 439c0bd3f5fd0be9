// The console in a real browser (Debian's Chromium through playwright-core): a scenario's blocks on its diagram, a
// run's path highlighted, a failed run replayed until it succeeds, a dry run from the form, the outbox, a phone screen.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { chromiumMissing, consoleContext, postWebhook, readUserJob, taskWebhook, useConsoleBrowser, waitFor } from './console-helpers.js';

async function attributes(page: Page, selector: string, name: string): Promise<string[]> {
  const out: string[] = [];
  for (const el of await page.locator(selector).all()) out.push((await el.getAttribute(name)) ?? '');
  return out;
}

describe('web console in a browser', () => {
  const s = useConsoleBrowser();

  it('a scenario page draws every block with its title and kind, and labels the exits', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const page = await s.context.newPage();
    await page.goto(`${s.t.base}/scenarios`);
    await page.click('a[data-scenario="BpiumNewTask"]');
    await page.waitForURL(/\/scenarios\/BpiumNewTask$/);
    const scenario = s.t.server.host.library().scenarios.get('BpiumNewTask')!;
    const drawn = await attributes(page, 'svg.diagram g.node', 'data-block');
    assert.deepEqual(new Set(drawn), new Set(scenario.blocks.keys()));
    const getUser = page.locator('svg.diagram g.node[data-block="getUser"]');
    assert.equal(await getUser.locator('text.title').textContent(), 'Получить e-mailсотрудника');
    assert.equal(await getUser.locator('text.sub').textContent(), 'Bpium · getUser');
    const labels = await page.locator('svg.diagram .edge-label text').allTextContents();
    for (const exit of ['true', 'false', 'success', 'error']) assert.ok(labels.includes(exit), `exit ${exit} is labelled`);
    assert.ok(await page.locator('svg.diagram').isVisible());
    // A block links to its line in the YAML beside the diagram.
    await page.locator('svg.diagram g.node[data-block="getUser"]').click();
    assert.match(page.url(), new RegExp(`#L${scenario.blocks.get('getUser')!.loc.line}$`));
    assert.equal(await page.locator(`tr#L${scenario.blocks.get('getUser')!.loc.line}`).getAttribute('data-block'), 'getUser');
    await page.close();
  });

  it('a run page highlights exactly the blocks the run went through', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const res = await postWebhook(s.t.server.url, taskWebhook({ name: 'Сверить остатки', responsible: ['2', '9'] }), s.t.secret);
    assert.equal(res.status, 200);
    const summary = await waitFor('the BpiumNewTask run', async () => (await s.t.server.store.listRuns({ scenario: 'BpiumNewTask', status: 'completed' })).items[0]);
    const run = (await s.t.server.store.getRun(summary.id))!;
    const page = await s.context.newPage();
    await page.goto(`${s.t.base}/runs`);
    await page.click(`tr[data-id="${run.id}"] a.badge`);
    await page.waitForURL(new RegExp(`/runs/${run.id}$`));
    const traceBlocks = new Set((run.trace as Array<{ block: string }>).map((s) => s.block));
    const highlighted = new Set(await attributes(page, 'svg.diagram g.node.st-visited, svg.diagram g.node.st-failed', 'data-block'));
    assert.deepEqual(highlighted, traceBlocks);
    assert.ok(highlighted.has('unknownUser'), 'employee 9 does not exist, so the error branch ran');
    assert.ok(!highlighted.has('malformed'));
    const taken = await attributes(page, 'svg.diagram path.edge.taken', 'data-exit');
    assert.ok(taken.includes('error') && taken.includes('true') && taken.includes('false'));
    // Variables after a step, accumulated from the trace.
    await page.locator('#step-8 summary').click(); // getUser: begin, parseWebhook, isNewTask, isTaskCatalog, readTask, hasMore, pickUser come first
    assert.match((await page.locator('#step-8 table.vars').textContent()) ?? '', /userEmail\s*ivan\.petrov@example\.com/);
    assert.match((await page.locator('.mails').textContent()) ?? '', /ivan\.petrov@example\.com/);
    assert.equal(await page.locator('#replay').count(), 0, 'a succeeded run has no replay button');
    await page.close();
  });

  it('a failed run is replayed from its page and the new attempt succeeds', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const failed = await readUserJob(s.t, '5');
    assert.equal(failed.status, 'failed', 'employee 5 does not exist in Bpium yet');
    const page = await s.context.newPage();
    await page.goto(`${s.t.base}/runs/${failed.runId}`);
    assert.match((await page.locator('.run-error').textContent()) ?? '', /404/);
    assert.deepEqual(await attributes(page, 'svg.diagram g.node.st-failed', 'data-block'), ['getUser']);
    // Fix the data the way an operator would: create the employee in Bpium (the emulator's REST API).
    const emu = s.t.server.emulator!;
    const created = await fetch(`${emu.url}/catalogs/3/records`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${emu.login}:${emu.password}`).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ values: { '1': 'Анна Соколова', '2': 'anna.sokolova@example.com' } }),
    });
    assert.equal(((await created.json()) as { id: string }).id, '5');
    await page.click('#replay');
    // Replay asks first, naming the job; "No" leads back to this run.
    await page.waitForURL(new RegExp(`/runs/${failed.runId}/replay$`));
    assert.equal(await page.locator('h1').textContent(), `Replay job …${failed.jobId.slice(-6)}?`);
    assert.equal(await page.locator('#keep').getAttribute('href'), `/-/console/runs/${failed.runId}`);
    await page.click('#confirm');
    await page.waitForURL(new RegExp(`/runs\\?job=${failed.jobId}&replayed=1$`));
    // The list updates itself: the new attempt appears without a reload.
    await page.locator('tr[data-status="completed"]').waitFor({ timeout: 15_000 });
    assert.equal((await s.t.server.store.getJob(failed.jobId))!.status, 'succeeded');
    assert.equal(await page.locator('tr[data-status="completed"] td.c-trigger').textContent(), 'replay');
    // The letter of the replayed run is in the outbox, HTML shown sandboxed.
    await page.goto(`${s.t.base}/outbox`);
    await page.getByText('Проверка связи, Анна Соколова').click();
    assert.match((await page.locator('pre.letter-text').textContent()) ?? '', /Здравствуйте! Это проверка\./);
    const frame = page.frameLocator('iframe.letter-frame');
    assert.equal(await frame.locator('b').textContent(), 'Анна Соколова');
    assert.equal(await page.locator('iframe.letter-frame').getAttribute('sandbox'), '');
    await page.close();
  });

  it('a dry run from the form shows the result and trace and leaves no trace in the store', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const runsBefore = (await s.t.server.store.listRuns({ limit: 1000 })).items.length;
    const page = await s.context.newPage();
    await page.goto(`${s.t.base}/dry-run`);
    await page.selectOption('#scenario', 'ReadUser');
    await page.check('input[name="mode"][value="params"]');
    await page.fill('input[name="p1"]', '3');
    await page.click('#run-dry');
    await page.waitForURL(/\/dry-run\/[0-9a-f-]{36}#result$/);
    const result = page.locator('.dry-result');
    assert.match((await result.locator('.result-head').first().textContent()) ?? '', /ReadUser\s*completed/);
    assert.match((await result.locator('.returns .kv').first().textContent()) ?? '', /sent to maria\.smirnova@example\.org/);
    assert.match((await result.locator('.mails').textContent()) ?? '', /dry-run[\s\S]*Проверка связи, Мария Смирнова/);
    assert.deepEqual(new Set(await attributes(page, 'svg.diagram g.node.st-visited', 'data-block')), new Set(['begin', 'getUser', 'letter', 'answer']));
    assert.equal(await page.locator('.steps > li').count(), 4);
    assert.equal((await s.t.server.store.listRuns({ limit: 1000 })).items.length, runsBefore, 'a dry run records no run');
    await page.close();
  });

  it('on a phone-width screen the pages fit the width and the diagram scrolls inside its panel', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const phone = await consoleContext(s.browser, 390, 844);
    try {
      const page = await phone.newPage();
      for (const path of ['/runs', '/scenarios', '/scenarios/BpiumNewTask', '/jobs', '/outbox', '/dry-run']) {
        await page.goto(`${s.t.base}${path}`);
        const width = (await page.evaluate('document.documentElement.scrollWidth')) as number;
        assert.ok(width <= 390, `${path} is ${width} px wide`);
      }
      await page.goto(`${s.t.base}/scenarios/BpiumNewTask`);
      const box = await page.locator('svg.diagram').boundingBox();
      assert.ok(box && box.width > 390, 'the diagram keeps a readable size');
    } finally {
      await phone.close();
    }
  });
});
