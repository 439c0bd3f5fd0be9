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
