// The console for an operator on the keyboard, with a screen reader, or at 200 % zoom (accessibility trial 48): a
// control reached with Tab or Shift+Tab is not hidden under the sticky header, the menu's focus ring is drawn whole,
// a scenario page's YAML line numbers are not a hundred Tab stops, the Jobs tabs say which is selected, the live
// badge is a status a screen reader hears, no column header is nameless; a run page's headings go down one level at a
// time, its diagram names the block where the run failed, and its letters are read as Russian; a dry run's result
// repeats no id, and its parameter fields are named in full. Chromium, a real server, real runs.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { chromiumMissing, consoleContext, csrfToken, dryRunWebhook, get, postWebhook, readUserJob, taskWebhook, useConsoleBrowser, waitFor } from './console-helpers.js';

// The browser's globals, for the functions page.evaluate runs in the page (the tests compile without the DOM library).
declare const document: any, window: any, Image: any;

/** What Shift+Tab from the page's last control up to the header focuses: each stop's name and whether the sticky header covers any of it. */
async function shiftTabStops(page: Page): Promise<Array<{ name: string; top: number; headerBottom: number }>> {
  await page.evaluate(() => {
    window.scrollTo(0, document.documentElement.scrollHeight);
    const all = document.querySelectorAll('main a[href], main button, main summary, main select, main input, main textarea');
    all[all.length - 1]!.focus();
  });
  const stops: Array<{ name: string; top: number; headerBottom: number }> = [];
  for (let i = 0; i < 300; i++) {
    await page.keyboard.press('Shift+Tab');
    const stop = await page.evaluate(() => {
      const e = document.activeElement;
      if (!e || e === document.body || e.closest('header')) return undefined;
      const box = e.getBoundingClientRect();
      return { name: (e.getAttribute('aria-label') ?? e.textContent ?? '').replace(/\s+/g, ' ').trim().slice(0, 40), top: box.top, headerBottom: document.querySelector('header.top')!.getBoundingClientRect().bottom };
    });
    if (!stop) break;
    stops.push(stop);
  }
  return stops;
}

describe('the console with the keyboard, a screen reader and at 200 % zoom', () => {
  const s = useConsoleBrowser({ config: 'serviceTasks:\n  - { name: daily-report, scenario: DailyReport, cron: "0 9 * * *", timeZone: UTC }\n' });
  let runId = '';
  let failedRunId = '';

  before(async () => {
    if (chromiumMissing) return;
    for (const name of ['Сверить остатки', 'Обзвонить клиентов', 'Подготовить отчёт']) {
      assert.equal((await postWebhook(s.t.server.url, taskWebhook({ name, responsible: ['2', '3'] }), s.t.secret)).status, 200);
    }
    const done = await waitFor('three BpiumNewTask runs', async () => {
      const items = (await s.t.server.store.listRuns({ scenario: 'BpiumNewTask', status: 'completed' })).items;
      return items.length >= 3 && items;
    });
    runId = done[0]!.id;
    const failed = await readUserJob(s.t, '77');
    assert.equal(failed.status, 'failed');
    failedRunId = failed.runId;
  });

  it('at 200 % zoom (640×450) Shift+Tab never leaves the focused control under the sticky header', { timeout: 90_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const ctx = await consoleContext(s.browser, 640, 450);
    try {
      for (const path of ['/runs', `/runs/${runId}`, '/scenarios/BpiumNewTask']) {
        const page = await ctx.newPage();
        await page.goto(`${s.t.base}${path}`);
        const stops = await shiftTabStops(page);
        assert.ok(stops.length > 8, `${path}: ${stops.length} stops`);
        const covered = stops.filter((st) => st.top < st.headerBottom - 0.5);
        assert.deepEqual(covered.map((st) => `${st.name} at y=${Math.round(st.top)} (header bottom ${Math.round(st.headerBottom)})`), [], `${path}: focus under the header`);
        await page.close();
      }
    } finally {
      await ctx.close();
    }
  });

  it('a focused menu link has its focus ring drawn on all four sides, not cut by the scrolling menu', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const page = await s.context.newPage();
    await page.goto(`${s.t.base}/runs`);
    const links = page.locator('header.top nav a');
    assert.equal(await links.count(), 6);
    // Tab from the page's start: the skip link, the brand, then the menu (focus-visible, as for a keyboard user).
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    for (let i = 0; i < 6; i++) {
      const link = links.nth(i);
      // The link's box, rounded inwards: its edges are the ring's pixels when the ring is drawn inside the link.
      const box = (await link.boundingBox())!;
      const [x, y] = [Math.ceil(box.x), Math.ceil(box.y)];
      const clip = { x, y, width: Math.floor(box.x + box.width) - x, height: Math.floor(box.y + box.height) - y };
      const plain = await page.screenshot({ clip });
      await page.keyboard.press('Tab');
      assert.equal(await link.evaluate((a: unknown) => a === document.activeElement), true, `Tab reaches menu item ${i + 1}`);
      const focused = await page.screenshot({ clip });
      const rows = await page.evaluate(
        async ([a, b]) => {
          const decode = async (b64: string) => {
            const img = new Image();
            img.src = `data:image/png;base64,${b64}`;
            await img.decode();
            const c = document.createElement('canvas');
            c.width = img.width;
            c.height = img.height;
            const g = c.getContext('2d')!;
            g.drawImage(img, 0, 0);
            return g.getImageData(0, 0, c.width, c.height);
          };
          const [p, f] = [await decode(a!), await decode(b!)];
          // Of each edge (top row, bottom row, left column, right column), the share of pixels the focus changed.
          const changed = (xs: number[], ys: number[]) => {
            let n = 0;
            let all = 0;
            for (const y of ys) for (const x of xs) {
              const o = (y * p.width + x) * 4;
              all++;
              if (Math.abs(p.data[o]! - f.data[o]!) + Math.abs(p.data[o + 1]! - f.data[o + 1]!) + Math.abs(p.data[o + 2]! - f.data[o + 2]!) > 60) n++;
            }
            return n / all;
          };
          const range = (n: number) => [...Array(n).keys()];
          return { top: changed(range(p.width), [0]), bottom: changed(range(p.width), [p.height - 1]), left: changed([0], range(p.height)), right: changed([p.width - 1], range(p.height)) };
        },
        [plain.toString('base64'), focused.toString('base64')],
      );
      for (const [edge, share] of Object.entries(rows)) assert.ok(share > 0.5, `menu item ${i + 1}: the ring shows on ${Math.round(share * 100)} % of its ${edge} edge`);
    }
    await page.close();
  });

  it('a scenario page: its YAML line numbers are links a screen reader names, not Tab stops', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const page = await s.context.newPage();
    await page.goto(`${s.t.base}/scenarios/BpiumNewTask`);
    const lines = await page.locator('.yaml tr[id^="L"]').count();
    assert.ok(lines > 100, `${lines} lines`);
    assert.equal(await page.getByRole('link', { name: 'line 12', exact: true }).count(), 1, 'a line number is a link named "line 12"');
    const names: string[] = [];
    for (let i = 0; i < 200; i++) {
      await page.keyboard.press('Tab');
      const name = await page.evaluate(() => (document.activeElement === document.body ? null : ((document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent ?? '') as string).trim()));
      if (name === null) break;
      names.push(name);
    }
    assert.deepEqual(names.filter((n) => /^(line )?\d+$/.test(n)), [], 'no line number is a Tab stop');
    // The skip link, the header, the page's links and buttons, a link per block of the diagram: the whole page in few stops.
    assert.ok(names.length < 40, `${names.length} Tab stops: ${names.join(' | ')}`);
    assert.ok(names.some((n) => n.startsWith('getUser · Bpium')), 'the diagram\'s blocks still lead to their lines');
    await page.close();
  });

  it('the scenario list: each card\'s link is named by the scenario alone, the whole card still opens it, and its focus ring surrounds the card', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const page = await s.context.newPage();
    await page.goto(`${s.t.base}/scenarios`);
    // Before: one link per card, named by all its text ("BpiumNewTask valid Sends an e-mail … version …").
    const links = await page.getByRole('link').evaluateAll((all: any[]) => all.map((a) => a.textContent.replace(/\s+/g, ' ').trim()));
    assert.ok(links.includes('BpiumNewTask'), links.join(' | '));
    assert.deepEqual(links.filter((l: string) => l.startsWith('BpiumNewTask')), ['BpiumNewTask'], 'no link reads the whole card');
    const card = page.locator('.scenario-card', { has: page.locator('a[data-scenario="BpiumNewTask"]') });
    // A click on the card's text (its file name and version) lands on the link stretched over it.
    const meta = (await card.locator('.meta').boundingBox())!;
    await page.mouse.click(meta.x + 5, meta.y + meta.height / 2);
    await page.waitForURL(/\/scenarios\/BpiumNewTask$/);
    await page.goBack();
    await page.locator('a[data-scenario="BpiumNewTask"]').focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    const ring = await page.evaluate(() => {
      const a = document.activeElement;
      const box = a.closest('.card').getBoundingClientRect();
      const after = window.getComputedStyle(a, '::after');
      return { name: a.textContent.trim(), style: after.outlineStyle, width: after.outlineWidth, cardWidth: Math.round(box.width), afterWidth: Math.round(parseFloat(after.width)) };
    });
    assert.equal(ring.name, 'BpiumNewTask');
    assert.equal(ring.style, 'solid');
    assert.equal(ring.width, '2px');
    assert.ok(Math.abs(ring.afterWidth - ring.cardWidth) <= 2, `the ring is drawn around the card (${ring.afterWidth} px wide; the card ${ring.cardWidth} px)`);
    await page.close();
  });

  it('the accessibility tree: named menus, the selected Jobs tab, the live badge as a status, no nameless column header', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const page = await s.context.newPage();
    await page.goto(`${s.t.base}/jobs?status=failed`);
    const tree = await page.ariaSnapshot();
    assert.match(tree, /- navigation "Console":/);
    assert.match(tree, /- navigation "Jobs by status":/);
    const tabs = page.getByRole('navigation', { name: 'Jobs by status' });
    assert.deepEqual(await tabs.locator('[aria-current="page"]').allTextContents(), ['failed 1'], 'the selected tab says so, not by its colour only');
    assert.equal(await page.getByRole('navigation', { name: 'Console' }).locator('[aria-current="page"]').textContent(), 'Jobs');
    assert.equal(await page.getByRole('columnheader', { name: 'Actions', exact: true }).count(), 1);
    assert.doesNotMatch(tree, /- columnheader\s*$/m, 'every column header has a name');

    await page.goto(`${s.t.base}/tasks`);
    assert.equal(await page.getByRole('columnheader', { name: 'Actions', exact: true }).count(), 1);
    assert.doesNotMatch(await page.ariaSnapshot(), /- columnheader\s*$/m);

    await page.goto(`${s.t.base}/runs`);
    const status = page.getByRole('status');
    await waitFor('the live badge to show', async () => (await status.isVisible()) || undefined);
    assert.equal(await status.textContent(), 'live', 'a screen reader hears "live" turn to "offline" when the updates stop');
    assert.equal(await page.getByRole('heading', { level: 1 }).getAttribute('aria-labelledby'), 'page-title');
    assert.equal(await page.getByRole('heading', { level: 1, name: 'Runs', exact: true }).count(), 1, 'the heading is named "Runs", not "Runs live"');
    await page.close();
  });
  it('a run page: headings one level at a time, the failed block named so, the steps\' triangles not read, letters in Russian', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    for (const id of [runId, failedRunId]) {
      const html = await (await get(`${s.t.base}/runs/${id}`)).text();
      const levels = [...html.matchAll(/<h([1-6])\b/g)].map((m) => Number(m[1]));
      assert.ok(levels.includes(3), 'the steps have headings inside');
      const jumps = levels.flatMap((l, i) => (i > 0 && l > levels[i - 1]! + 1 ? [`h${levels[i - 1]} → h${l}`] : []));
      assert.deepEqual(jumps, [], `run ${id}: a heading level skipped`);
    }
    const run = await (await get(`${s.t.base}/runs/${runId}`)).text();
    assert.match(run, /<strong lang="ru">Новая задача: /, 'a letter\'s subject is marked Russian');
    assert.match(run, /<pre class="letter-text" lang="ru">Здравствуйте/, 'and its text');

    const page = await s.context.newPage();
    await page.goto(`${s.t.base}/runs/${failedRunId}`);
    const diagram = page.getByRole('group', { name: 'Flowchart of ReadUser' });
    assert.equal(await diagram.getByRole('link', { name: 'getUser · Bpium · steps 2 · failed here' }).count(), 1, 'the failed block is named so, not only red');
    assert.equal(await diagram.getByRole('link', { name: 'begin · Start · steps 1', exact: true }).count(), 1);
    // A block the run never reached is told so in words, not only by its grey; the exit labels are not read as a run of words.
    const tree = await diagram.ariaSnapshot();
    assert.match(tree, /· not reached/, tree);
    assert.doesNotMatch(tree, /\b(success|error|timeout)\b/, 'no exit label read without its arrow');
    const steps = await page.locator('ol.steps').ariaSnapshot();
    assert.match(steps, /Прочитать сотрудника/);
    assert.doesNotMatch(steps, /[▸▾]/, 'the open/closed triangle is drawn, not read');
    await page.close();
  });
  it('a dry run: the result with a nested start repeats no id; the parameter fields are "Input parameter n"', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const url = await dryRunWebhook(s.t, await csrfToken(s.t.base), JSON.stringify(JSON.parse(taskWebhook({ name: 'Проверка', responsible: ['3'] }))));
    const html = await (await get(url)).text();
    assert.match(html, /Started asynchronously: BpiumNewTask/, 'the webhook\'s start is followed in place');
    assert.equal((html.match(/<svg class="diagram/g) ?? []).length, 2, 'two diagrams');
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!);
    assert.deepEqual(ids.filter((id, i) => ids.indexOf(id) !== i), [], 'no id twice');
    assert.match(html, /marker-end="url\(#child1-arrow(-taken)?\)"/, 'the nested diagram draws with its own markers');

    const page = await s.context.newPage();
    await page.goto(`${s.t.base}/dry-run?scenario=ReadUser`);
    for (const n of [1, 8]) assert.equal(await page.getByRole('textbox', { name: `Input parameter ${n}`, exact: true }).count(), 1);
    await page.close();
  });
});
