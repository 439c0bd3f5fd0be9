// The Lows the phone trial left (operator trial 59): an accidental tap cancelled a queued job (Cancel and Replay now
// ask first, with a page that names the job), the other links of a row and the header's "How to sign out" were 15-21 px
// high on a touch screen, a button's name read out a whole 26-character job id, the 401 page chosen by the Accept
// header did not say it varies with it, and a 256 KB dry-run field was shown whole on a phone. Debian's Chromium
// through playwright-core with a phone's viewport and touch, and at 1280×800 with a mouse; real HTTP for the 401.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumMissing, csrfToken, dryRunWebhook, get, readUserJob, useConsoleBrowser, USER } from './console-helpers.js';

const TOMORROW = () => Date.now() + 86_400_000;

/** A phone as Playwright's device list describes one: 390×844 CSS px, pixel ratio 3, mobile, touch. */
function phone(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ httpCredentials: { username: USER.login, password: USER.password }, viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true });
}

/** A desktop browser with a mouse at 1280×800. */
function desktop(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ httpCredentials: { username: USER.login, password: USER.password }, viewport: { width: 1280, height: 800 } });
}

/** The id and text of the focused element. */
const focused = (page: Page) => page.evaluate('[document.activeElement.id, document.activeElement.textContent]') as Promise<[string, string]>;

describe("the phone trial's Lows", () => {
  const s = useConsoleBrowser({});

  it('Cancel and Replay ask first, naming the job: the question leads the title and has the focus; No changes nothing', { timeout: 90_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const failed = await readUserJob(s.t, '5'); // employee 5 is not in the emulator: the run fails for good
    const [queued] = await s.t.server.store.enqueueJobs([{ scenario: 'ReadUser', params: { 1: '7' }, runAt: TOMORROW() }]);
    const ctx = await phone(s.browser);
    try {
      const page = await ctx.newPage();
      await page.goto(`${s.t.base}/jobs?status=queued`);
      await Promise.all([page.waitForURL(/\/cancel$/), page.locator(`tr[data-id="${queued}"] button`, { hasText: 'Cancel' }).tap()]);
      assert.match(await page.title(), new RegExp(`^Cancel job …${queued!.slice(-6)}\\? · Oktell console$`));
      const [id, text] = await focused(page);
      assert.equal(id, 'confirm-question');
      assert.match(text, new RegExp(`^Take job ${queued} of ReadUser out of the queue\\?`));
      assert.equal((await s.t.server.store.getJob(queued!))!.status, 'queued', 'the first tap changes nothing');
      // No: back to the list, the job still queued.
      await Promise.all([page.waitForURL(/\/jobs\?status=queued$/), page.locator('#keep').tap()]);
      assert.equal((await s.t.server.store.getJob(queued!))!.status, 'queued');

      await page.goto(`${s.t.base}/jobs?status=failed`);
      await Promise.all([page.waitForURL(/\/replay$/), page.locator(`tr[data-id="${failed.jobId}"] button`, { hasText: 'Replay' }).tap()]);
      assert.match(await page.title(), new RegExp(`^Replay job …${failed.jobId.slice(-6)}\\? · `));
      assert.equal((await focused(page))[0], 'confirm-question');
      assert.equal((await s.t.server.store.getJob(failed.jobId))!.replayCount, 0, 'asking replays nothing');
      // Yes: done, and the page after it is as before (the result leads the title, its notice has the focus).
      await Promise.all([page.waitForURL(/replayed=1/), page.locator('#confirm').tap()]);
      assert.equal((await s.t.server.store.getJob(failed.jobId))!.replayCount, 1);
      assert.match(await page.title(), /^Job back in the queue · /);
      assert.equal((await focused(page))[0], 'action-result');
    } finally {
      await ctx.close();
    }
  });

  // The HTML console's own forms only: the confirm page posts back to the address the button posted to, with the form
  // token and confirm=1; a job that is no longer replayable is refused at the first step (409), as at the second.
  it("a run page's Replay asks with a way back to the run; a stale one is refused at once", { timeout: 60_000 }, async () => {
    const failed = await readUserJob(s.t, '6');
    const csrf = await csrfToken(s.t.base);
    const post = (fields: Record<string, string>) =>
      fetch(`${s.t.base}/runs/${failed.runId}/replay`, {
        method: 'POST',
        redirect: 'manual',
        headers: { authorization: `Basic ${Buffer.from(`${USER.login}:${USER.password}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
        body: new URLSearchParams(fields).toString(),
      });
    const ask = await post({ csrf });
    assert.equal(ask.status, 200);
    const html = await ask.text();
    assert.match(html, new RegExp(`<form method="post" action="/-/console/runs/${failed.runId}/replay" class="confirm-form">`));
    assert.match(html, new RegExp(`<a class="button" id="keep" href="/-/console/runs/${failed.runId}">No, go back</a>`));
    assert.equal((await post({ confirm: '1' })).status, 403, 'the confirming form needs the token too');
    assert.equal((await s.t.server.store.getJob(failed.jobId))!.replayCount, 0);
    const done = await post({ csrf, confirm: '1' });
    assert.equal(done.status, 303);
    assert.equal((await s.t.server.store.getJob(failed.jobId))!.replayCount, 1);
    const stale = await post({ csrf });
    assert.equal(stale.status, 409);
    assert.match(await stale.text(), /<h1>Already replayed<\/h1>/);
  });

  it('the links of a row and the header\'s "How to sign out" are 44 px targets on a touch phone; at 1280 px they keep their size', { timeout: 90_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    await readUserJob(s.t, '8');
    await s.t.server.store.enqueueJobs([{ scenario: 'ReadUser', params: { 1: '9' }, runAt: TOMORROW() }]);
    /** Every visible link of the lists' rows and of the header's login corner, with its size. */
    const links = (page: Page) =>
      page.evaluate(`[...document.querySelectorAll('table.grid td a, header .who a')].filter((a) => a.getClientRects().length)
        .map((a) => { const r = a.getBoundingClientRect(); return [a.textContent.trim(), r.width, r.height]; })`) as Promise<Array<[string, number, number]>>;
    const ctx = await phone(s.browser);
    try {
      const page = await ctx.newPage();
      for (const path of ['/runs', '/jobs']) {
        await page.goto(`${s.t.base}${path}`);
        const found = await links(page);
        assert.ok(found.some(([t]) => t === 'How to sign out') && found.some(([t]) => t === (path === '/jobs' ? 'definition' : 'ReadUser')) && found.length > 5, `${path}: ${JSON.stringify(found)}`);
        for (const [text, width, height] of found) assert.ok(height >= 44 && width >= 44, `${path}: "${text}" is ${Math.round(width)}×${Math.round(height)} px, under 44×44`);
        assert.ok(((await page.evaluate('document.documentElement.scrollWidth')) as number) <= 390, `${path} is no wider than the phone`);
      }
    } finally {
      await ctx.close();
    }
    const wide = await desktop(s.browser);
    try {
      const page = await wide.newPage();
      for (const path of ['/runs', '/jobs']) {
        await page.goto(`${s.t.base}${path}`);
        // With a mouse the lists keep their compact rows and the header its one line.
        for (const [text, , height] of await links(page)) assert.ok(height < 30, `${path} at 1280 px: "${text}" is ${Math.round(height)} px high`);
        assert.equal(await page.evaluate('document.querySelector("header.top").getBoundingClientRect().height'), 52);
        assert.ok(((await page.evaluate('document.documentElement.scrollWidth')) as number) <= 1280);
      }
    } finally {
      await wide.close();
    }
  });

  it("a button's name is short; the whole job id is its description (Chromium's accessibility tree)", { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const failed = await readUserJob(s.t, '10');
    const [queued] = await s.t.server.store.enqueueJobs([{ scenario: 'ReadUser', params: { 1: '11' }, runAt: TOMORROW() }]);
    const ctx = await desktop(s.browser);
    try {
      const page = await ctx.newPage();
      await page.goto(`${s.t.base}/jobs`);
      const cdp = await ctx.newCDPSession(page);
      await cdp.send('Accessibility.enable');
      const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: Array<{ ignored: boolean; role?: { value: string }; name?: { value: string }; description?: { value: string } }> };
      const controls = nodes.filter((n) => !n.ignored && (n.role?.value === 'button' || n.role?.value === 'link'));
      const named = (name: string) => controls.filter((n) => n.name?.value === name);
      for (const [name, id] of [[`Replay job …${failed.jobId.slice(-6)}`, failed.jobId], [`Cancel job …${queued!.slice(-6)}`, queued!], [`all runs of job …${queued!.slice(-6)}`, queued!]] as const) {
        const [node] = named(name);
        assert.ok(node, `a control named "${name}": ${JSON.stringify(controls.map((n) => n.name?.value))}`);
        assert.equal(node.description?.value, `ReadUser, job ${id}`);
      }
      for (const n of controls) assert.ok(!/[0-9a-z]{26}/.test(n.name?.value ?? ''), `"${n.name?.value}" reads out a whole job id`);
      assert.equal(await page.getByRole('button', { name: `Cancel job …${queued!.slice(-6)}`, exact: true }).count(), 1);
    } finally {
      await ctx.close();
    }
  });

  // The console's 401 is a page for a browser (Accept: text/html) and text for a script: a cache must keep them apart.
  it('the 401, page or text, says it varies with Accept', { timeout: 30_000 }, async () => {
    for (const [accept, type] of [['text/html,application/xhtml+xml,*/*;q=0.8', /^text\/html/], ['*/*', /^text\/plain/]] as const) {
      const res = await get(`${s.t.base}/runs`, { accept });
      await res.text();
      assert.equal(res.status, 401);
      assert.match(res.headers.get('content-type') ?? '', type);
      assert.ok((res.headers.get('vary') ?? '').split(/\s*,\s*/).some((v) => v.toLowerCase() === 'accept'), `${accept}: Vary is "${res.headers.get('vary')}"`);
    }
  });

  // Chromium takes 12-25 s to lay out this page (the 256 KB body is in the form's field too): a longer wait for it.
  it('a 256 KB dry-run field is cut for display, saying how much is shown, and "Show all" opens the rest', { timeout: 240_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const body = `{"payload":"${'й'.repeat(256 * 1024 - 14)}"}`;
    assert.equal(body.length, 262_144);
    const url = await dryRunWebhook(s.t, await csrfToken(s.t.base), body);
    const ctx = await phone(s.browser);
    try {
      const page = await ctx.newPage();
      page.setDefaultTimeout(100_000);
      await page.goto(url, { timeout: 100_000 });
      // The body as the scenario got it (parameter 4), under "Parameters given to HTTP404".
      await page.locator('.dry-result summary', { hasText: 'Parameters given to HTTP404' }).tap();
      const note = page.locator('.dry-result .kv .cut-note').filter({ visible: true }).first();
      assert.equal(await note.textContent(), 'shown 5,000 of 262,144 characters');
      // Shown whole, the body made the page about 140,000 px long on the phone.
      const tall = (await page.evaluate('document.documentElement.scrollHeight')) as number;
      assert.ok(tall < 15_000, `the page is ${tall} px long`);
      const dd = page.locator('.dry-result .kv dd', { has: page.locator('.cut-note') }).filter({ visible: true }).first();
      const all = dd.locator('summary', { hasText: 'Show all 262,144 characters' });
      await all.tap();
      assert.ok(await dd.locator('.whole').isVisible(), 'opened');
      assert.equal(((await dd.locator('.whole').textContent()) ?? '').length, 262_144, 'the whole value is there');
      assert.equal(await dd.locator('.cut-value').isVisible(), false, 'and the cut one is no longer shown above it');
    } finally {
      await ctx.close();
    }
  });
});
