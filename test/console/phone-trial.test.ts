// The console on a phone as the on-call administrator has it (operator trial 59): Chromium with a phone's viewport,
// touch and pixel ratio. A scenario named with one long Cyrillic word (its file's name) made the runs, jobs and
// scenario pages, a run's error location and the filter selects wider than the screen, so the phone zoomed every page
// out and the Cancel button could not be tapped; Replay and Cancel were 25 px high, "all runs" 16 px beside them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Browser, BrowserContext } from 'playwright-core';
import { RUN_ERROR_CODES } from '../../engine/index.js';
import { AUTH, chromiumMissing, postWebhook, READ_USER_YAML, useConsoleBrowser, USER, waitFor } from './console-helpers.js';

const LONG = 'ПроверкаДоставкиУведомленийОЗадачахСотрудникамОтделаПродажЕжедневная';
const TOMORROW = () => Date.now() + 86_400_000;

/** A phone as Playwright's device list describes one: 390×844 CSS px, pixel ratio 3, mobile, touch. */
function phone(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({
    httpCredentials: { username: USER.login, password: USER.password },
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 3,
    isMobile: true,
    hasTouch: true,
  });
}

describe('the console on a phone, with a long Cyrillic scenario name', () => {
  const s = useConsoleBrowser({ scenarios: { [`${LONG}.yaml`]: READ_USER_YAML } });

  /** A job of the long-named scenario for employee 5, whom the Bpium emulator lacks: its run fails for good. */
  async function failedJob(): Promise<{ jobId: string; runId: string }> {
    const res = await fetch(`${s.t.server.url}/execsvcscript?name=${encodeURIComponent(LONG)}&async=1&startparam1=5`, { headers: { authorization: AUTH } });
    const jobId = res.headers.get('x-oktell-run-id');
    assert.ok(res.status === 200 && jobId, `the Web-API started ${LONG}: ${res.status}`);
    const run = await waitFor('the run to end', async () => (await s.t.server.store.listRuns({ jobId })).items.find((r) => r.status !== 'running'));
    assert.equal(run.status, 'failed');
    return { jobId, runId: run.id };
  }

  it('no page is wider than the screen, so the phone does not zoom it out', { timeout: 90_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const { runId } = await failedJob();
    await s.t.server.store.enqueueJobs([{ scenario: LONG, params: { 1: '6' }, runAt: TOMORROW() }]);
    const ctx = await phone(s.browser);
    try {
      const page = await ctx.newPage();
      for (const path of ['/runs', '/jobs', '/jobs?status=queued', '/scenarios', `/scenarios/${encodeURIComponent(LONG)}`, `/runs/${runId}`, '/dry-run']) {
        await page.goto(`${s.t.base}${path}`);
        // A mobile browser widens its layout to the widest content and zooms out: innerWidth is then above 390.
        const { inner, scroll } = (await page.evaluate('({ inner: window.innerWidth, scroll: document.documentElement.scrollWidth })')) as { inner: number; scroll: number };
        assert.equal(inner, 390, `${path}: the layout is ${inner} px wide on a 390 px screen`);
        assert.ok(scroll <= 390, `${path}: the page scrolls sideways (${scroll} px)`);
      }
    } finally {
      await ctx.close();
    }
  });

  // The long name shrinks to break; the badge beside it ("valid", white-space: nowrap) must not shrink with it, or its
  // word spills out of its pill over the name (review of 1c2ddf2: 31 px pill, 42 px word, at 390 and 1280 px).
  it('the badge beside a long scenario name keeps its width', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    for (const ctx of [await phone(s.browser), await s.browser.newContext({ httpCredentials: { username: USER.login, password: USER.password }, viewport: { width: 1280, height: 900 } })]) {
      try {
        const page = await ctx.newPage();
        await page.goto(`${s.t.base}/scenarios`);
        const badge = page.locator('.card', { hasText: LONG }).locator('.card-head .badge');
        const { client, scroll } = (await badge.evaluate((e) => ({ client: e.clientWidth, scroll: e.scrollWidth }))) as { client: number; scroll: number };
        assert.ok(scroll <= client, `the badge is ${client} px wide, its word ${scroll} px (${page.viewportSize()?.width} px window)`);
      } finally {
        await ctx.close();
      }
    }
  });

  it('Replay, Cancel, the status tabs and "all runs" are 44 px targets, and Cancel works with a tap', { timeout: 90_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const { runId } = await failedJob();
    const [queued, other] = await s.t.server.store.enqueueJobs([
      { scenario: 'ReadUser', params: { 1: '7' }, runAt: TOMORROW() },
      { scenario: 'ReadUser', params: { 1: '9' }, runAt: TOMORROW() },
    ]);
    const ctx = await phone(s.browser);
    try {
      const page = await ctx.newPage();
      const big = async (what: string, locator: ReturnType<typeof page.locator>) => {
        const box = await locator.boundingBox();
        assert.ok(box, `${what} is shown`);
        assert.ok(box.width >= 44 && box.height >= 44, `${what} is ${Math.round(box.width)}×${Math.round(box.height)} px, under 44×44`);
      };
      await page.goto(`${s.t.base}/jobs?status=failed`);
      await big('Replay', page.locator('button', { hasText: 'Replay' }).first());
      await big('the tab "queued"', page.locator('nav.tabs a', { hasText: 'queued' }));
      await big('"all runs"', page.locator('td.actions a', { hasText: 'all runs' }).first());
      await page.goto(`${s.t.base}/runs/${runId}`);
      await big('the run page\'s Replay', page.locator('#replay'));

      await page.goto(`${s.t.base}/jobs?status=queued`);
      const stale = await ctx.newPage();
      await stale.goto(`${s.t.base}/jobs?status=queued`);
      const staler = await ctx.newPage();
      await staler.goto(`${s.t.base}/jobs?status=queued`);
      const cancel = page.locator(`tr[data-id="${queued}"] button`, { hasText: 'Cancel' });
      await big('Cancel', cancel);
      // The tap asks first; the page that asks has its own 44 px Yes and No.
      await Promise.all([page.waitForURL(/\/cancel$/), cancel.tap()]);
      await big('Yes', page.locator('#confirm'));
      await big('No', page.locator('#keep'));
      await Promise.all([page.waitForURL(/cancelled=/), page.locator('#confirm').tap()]);
      assert.match((await page.locator('.notice.ok').textContent()) ?? '', new RegExp(`Job ${queued} is out of the queue`));
      assert.equal((await s.t.server.store.getJob(queued!))!.status, 'dead');

      // The same button on the page drawn before (another tab): done already, as the CLI's cancel run twice, and said so.
      await Promise.all([stale.waitForURL(/already=1/), stale.locator(`tr[data-id="${queued}"] button`, { hasText: 'Cancel' }).tap()]);
      assert.match((await stale.locator('.notice.ok').textContent()) ?? '', new RegExp(`Job ${queued} was already cancelled`));
      // A job that left the queue otherwise meanwhile (a dead letter of another cause): refused (409) with why, in red as an error.
      await s.t.server.store.cancelJobs({ ids: [other!] }, { code: RUN_ERROR_CODES.EFFECT_TRANSIENT, message: 'Bpium answered 500 five times' });
      await Promise.all([staler.waitForURL(/\/cancel$/), staler.locator(`tr[data-id="${other}"] button`, { hasText: 'Cancel' }).tap()]);
      assert.equal(await staler.locator('h1').textContent(), 'Cannot cancel');
      // Its mark is the red of a failed run's error (--bad), not the accent blue of a neutral note.
      const [mark, red] = (await staler.evaluate(`[getComputedStyle(document.querySelector('main .notice')).borderLeftColor,
        (() => { const d = document.createElement('i'); d.style.color = 'var(--bad)'; document.body.append(d); return getComputedStyle(d).color; })()]`)) as [string, string];
      assert.equal(mark, red, 'the refusal is marked as an error');
    } finally {
      await ctx.close();
    }
  });

  // The page a button leads to is a new page: a screen reader says its title and reads on from the focus. The result
  // comes first in the title and the notice has the focus, so that it is said without looking for it.
  it('after Cancel or Replay the title begins with what was done and the notice has the focus', { timeout: 90_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const { jobId } = await failedJob();
    const [queued] = await s.t.server.store.enqueueJobs([{ scenario: 'ReadUser', params: { 1: '8' }, runAt: TOMORROW() }]);
    const ctx = await phone(s.browser);
    try {
      const page = await ctx.newPage();
      const focused = () => page.evaluate('[document.activeElement.getAttribute("role"), document.activeElement.textContent]') as Promise<[string | null, string]>;
      await page.goto(`${s.t.base}/jobs?status=queued`);
      await Promise.all([page.waitForURL(/\/cancel$/), page.locator(`tr[data-id="${queued}"] button`, { hasText: 'Cancel' }).tap()]);
      await Promise.all([page.waitForURL(/cancelled=/), page.locator('#confirm').tap()]);
      assert.match(await page.title(), /^Job cancelled · Dead letters · /);
      const [role, text] = await focused();
      assert.equal(role, 'status');
      assert.match(text, new RegExp(`^Job ${queued} is out of the queue`));

      await page.goto(`${s.t.base}/jobs?status=failed`);
      await Promise.all([page.waitForURL(/\/replay$/), page.locator(`tr[data-id="${jobId}"] button`, { hasText: 'Replay' }).tap()]);
      await Promise.all([page.waitForURL(/replayed=1/), page.locator('#confirm').tap()]);
      assert.match(await page.title(), /^Job back in the queue · /);
      const [role2, text2] = await focused();
      assert.equal(role2, 'status');
      assert.match(text2, /^The job is back in the queue/);
    } finally {
      await ctx.close();
    }
  });

  // A login the phone's browser got wrong (or a cancelled prompt): the 401 is a page drawn at the phone's width.
  it('a console page opened without a valid login says how to sign in, at the phone\'s width; a script still gets the text', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const ctx = await s.browser.newContext({ httpCredentials: { username: USER.login, password: 'wrong' }, viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true });
    try {
      const page = await ctx.newPage();
      const res = await page.goto(`${s.t.base}/jobs?status=dead`);
      assert.equal(res?.status(), 401);
      assert.match((await res?.headerValue('www-authenticate')) ?? '', /^Basic /);
      assert.match((await res?.headerValue('content-security-policy')) ?? '', /default-src 'none'/);
      assert.equal(await page.evaluate('window.innerWidth'), 390, 'the page is laid out at the phone\'s width');
      assert.equal(await page.locator('h1').textContent(), 'Sign-in needed');
      assert.match(await page.locator('main').innerText(), /Reload the page to be asked again/);
    } finally {
      await ctx.close();
    }
    const script = await fetch(`${s.t.base}/runs`);
    assert.equal(script.status, 401);
    assert.equal(await script.text(), '401 Unauthorized: valid Oktell credentials are required\n');
  });

  // A webhook's JSON body, indented: on a phone it is shown whole, not cut by a box that scrolls with no scrollbar.
  it('a long JSON body among the input parameters is shown whole on a phone', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const values: Record<string, string> = {};
    for (let i = 1; i <= 40; i++) values[String(i)] = `Поле ${i}: ${'длинноетекстбезпробелов'.repeat(3)}`;
    const body = JSON.stringify({ timestamp: String(Math.floor(Date.now() / 1000)), hook: { id: '1', event: 'record.created', sequenceId: 7 }, payload: { catalogId: '99', recordId: '1', values } });
    const res = await postWebhook(s.t.server.url, body, s.t.secret);
    await res.text();
    const runId = res.headers.get('x-oktell-run-id');
    assert.ok(runId, `the hook ran: ${res.status}`);
    const ctx = await phone(s.browser);
    try {
      const page = await ctx.newPage();
      await page.goto(`${s.t.base}/runs/${runId}`);
      const shown = page.locator('section.panel', { hasText: 'Input parameters' }).locator('dd', { hasText: '"payload"' });
      const { scroll, client, last } = (await shown.evaluate((e) => ({ scroll: e.scrollHeight, client: e.clientHeight, last: e.getBoundingClientRect().right }))) as { scroll: number; client: number; last: number };
      assert.ok(scroll > 360, `the body is long (${scroll} px)`);
      assert.ok(scroll <= client + 1, `the body is shown whole: ${client} px of ${scroll}`);
      assert.ok(last <= 390, 'and within the screen');
    } finally {
      await ctx.close();
    }
  });
});
