// On a phone a run's diagram is wider than its panel, which scrolls; the page opened with the panel at the diagram's
// left edge, and the shipped BpiumNewTask's path runs down the right side, so the path was off the screen (seen in
// the phone screenshot). The panel now opens scrolled to the run's first block. Real server, Chromium at 390 px.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chromiumMissing, consoleContext, postWebhook, taskWebhook, useConsoleBrowser, waitFor } from './console-helpers.js';

describe("a run's diagram on a phone", () => {
  const s = useConsoleBrowser();

  it('opens scrolled so that the first block of the path is inside the panel', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    assert.equal((await postWebhook(s.t.server.url, taskWebhook({ name: 'Телефон', responsible: ['2'] }), s.t.secret)).status, 200);
    const run = await waitFor('the BpiumNewTask run', async () => (await s.t.server.store.listRuns({ scenario: 'BpiumNewTask', status: 'completed' })).items[0]);
    const ctx = await consoleContext(s.browser, 390, 800);
    try {
      const page = await ctx.newPage();
      await page.goto(`${s.t.base}/runs/${run.id}`);
      const wrap = page.locator('.diagram-wrap').first();
      const sizes = await wrap.evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
      assert.ok(sizes.scroll > sizes.client, `the diagram is wider than its panel at 390 px (${sizes.scroll} > ${sizes.client})`);
      const panel = (await wrap.boundingBox())!;
      const first = (await page.locator('.diagram-wrap .node.st-visited').first().boundingBox())!;
      assert.ok(first.x >= panel.x && first.x + first.width <= panel.x + panel.width, `the first block of the path spans x=${Math.round(first.x)}..${Math.round(first.x + first.width)}, the panel ${Math.round(panel.x)}..${Math.round(panel.x + panel.width)}`);
    } finally {
      await ctx.close();
    }
  });
});
