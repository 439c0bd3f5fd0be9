// Bidirectional control characters in webhook data are drawn as visible tokens, not obeyed, and values inside the
// console's own words are isolated: a right-to-left override (U+202E) in a letter's display name and in a return value
// must not show the rest of the runs list's outcome ("…; value 2: tail") reversed, on the live list (console.js), the
// page as served, the jobs list, the run page and the outbox; a Hebrew name is isolated, its letters left as they are.
// A real server and Chromium: what is drawn is measured (where each character of a word lands on the screen).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { AUTH, chromiumMissing, get, postWebhook, startConsoleServer, taskWebhook, useConsoleBrowser, waitFor, type ConsoleServer } from './console-helpers.js';
import { MAX_BIDI_TOKENS, showBidiControls } from '../../server/console/bidi-text.js';

/** Sends a letter to `<name> <ivan@example.com>` with `name` in its subject too, and returns `name` and "tail". */
const SPOOF_YAML = `variables:
  name: string
start: begin
blocks:
  begin:
    kind: Start
    param: name
    exits: { next: letter }
  letter:
    kind: SendMail
    to: '[name] + " <ivan@example.com>"'
    subject: '"Re " + [name] + " ok"'
    text: '"hello"'
    exits: { success: done }
  done: { kind: ReturnValue, values: { 1: '[name]', 2: '"tail"' } }
`;

const RLO = '\u202E';
/** Drawn with the override obeyed, the rest of its line reads backwards ("…; value 2: tail" as "liat :2 eulav ;…"). */
const SPOOF = `abc${RLO}def`;
const HEBREW = 'שלום';

/**
 * Whether `word` (its last occurrence in the element's text) is drawn left to right: its first character's box is to
 * the left of its last one's. A live U+202E before it draws it right to left.
 */
function leftToRight(loc: Locator, word: string): Promise<boolean> {
  return loc.evaluate((el: unknown, w: string) => {
    const root = el as { ownerDocument: { createTreeWalker(n: unknown, what: number): { nextNode(): { nodeValue: string | null } | null }; createRange(): { setStart(n: unknown, i: number): void; setEnd(n: unknown, i: number): void; getBoundingClientRect(): { left: number } } } };
    const doc = root.ownerDocument;
    const walker = doc.createTreeWalker(root, 4 /* NodeFilter.SHOW_TEXT */);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const at = (n.nodeValue ?? '').lastIndexOf(w);
      if (at < 0) continue;
      const r = doc.createRange();
      const x = (i: number) => {
        r.setStart(n, i);
        r.setEnd(n, i + 1);
        return r.getBoundingClientRect().left;
      };
      return x(at) < x(at + w.length - 1);
    }
    throw new Error(`no text "${w}" in the element`);
  }, word);
}

/** What an element shows: `word` after the value reads left to right, no live override, one `U+202E` token or more. */
async function assertDefused(loc: Locator, word: string, where: string): Promise<void> {
  // First what a reader sees: with the override obeyed, the word reads backwards.
  assert.equal(await leftToRight(loc, word), true, `${where}: "${word}" after the value is drawn left to right`);
  const text = (await loc.innerText()) ?? '';
  assert.ok(!text.includes(RLO), `${where}: no live U+202E is drawn: ${JSON.stringify(text)}`);
  const tokens = await loc.locator('.bidi-char').allInnerTexts();
  assert.ok(tokens.length >= 1 && tokens.every((t) => t === 'U+202E'), `${where}: the override is shown as a U+202E token (${JSON.stringify(tokens)})`);
}

async function startJob(base: string, name: string): Promise<string> {
  const res = await fetch(`${base}/execsvcscript?name=Spoof&async=1&startparam1=${encodeURIComponent(name)}`, { headers: { authorization: AUTH } });
  const jobId = res.headers.get('x-oktell-run-id');
  assert.ok(res.status === 200 && jobId, `the Web-API started Spoof: ${res.status} ${await res.text()}`);
  return jobId;
}

describe('bidirectional control characters in the console', () => {
  const s = useConsoleBrowser({ scenarios: { 'Spoof.yaml': SPOOF_YAML } });
  const job: Record<'spoof' | 'hebrew', string> = { spoof: '', hebrew: '' };
  const run: Record<'spoof' | 'hebrew', string> = { spoof: '', hebrew: '' };
  /** The runs list, open before the jobs start: their rows are drawn by console.js. */
  let live: Page | undefined;

  before(async () => {
    if (chromiumMissing) return;
    live = await s.context.newPage();
    await live.goto(`${s.t.base}/runs`);
    for (const [k, name] of [['spoof', SPOOF], ['hebrew', HEBREW]] as const) {
      job[k] = await startJob(s.t.server.url, name);
      const r = await waitFor(`the ${k} run to end`, async () => (await s.t.server.store.listRuns({ jobId: job[k] })).items.find((x) => x.status !== 'running'));
      assert.equal(r.status, 'completed', JSON.stringify(r.error));
      run[k] = r.id;
    }
    for (const k of ['spoof', 'hebrew'] as const) {
      const cell = live.locator(`tr[data-id="${run[k]}"] td.c-outcome`);
      await waitFor(`the live list to draw the ${k} run`, async () => (await cell.count()) === 1 && (await cell.innerText()).includes('tail'));
    }
  });

  it('the live list (console.js) shows the override as a token; the words after it read left to right', async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const cell = live!.locator(`tr[data-id="${run.spoof}"] td.c-outcome`);
    await assertDefused(cell, 'tail', 'live outcome');
    await assertDefused(cell, 'value', 'live outcome');
    assert.equal(await cell.locator('.bidi-char').count(), 2, 'one token in the recipient, one in return value 1');
  });

  it('the runs page as served, the jobs list, the run page and the outbox do the same', async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const page = await s.context.newPage();
    try {
      await page.goto(`${s.t.base}/runs`);
      await assertDefused(page.locator(`tr[data-id="${run.spoof}"] td.c-outcome`), 'tail', 'served outcome');
      await page.goto(`${s.t.base}/jobs`);
      await assertDefused(page.locator(`tr[data-id="${job.spoof}"] td.c-outcome`), 'tail', 'jobs outcome');
      await page.goto(`${s.t.base}/runs/${run.spoof}`);
      await assertDefused(page.locator('.mails .mail-meta').first(), 'block', 'run page recipients');
      await assertDefused(page.locator('.mails .mail-head strong').first(), 'ok', 'run page subject');
      await page.goto(`${s.t.base}/outbox`);
      const item = page.locator('.letters li', { hasText: 'U+202E' }).first();
      await assertDefused(item.locator('.subject'), 'ok', 'outbox subject');
      await item.locator('a').click();
      await assertDefused(page.locator('h1'), 'ok', 'letter page subject');
      assert.match(await page.title(), /^Re abcU\+202Edef ok/, 'the tab title writes the override out');
    } finally {
      await page.close();
    }
  });

  it('a Hebrew name is isolated (<bdi>, unicode-bidi: isolate) and drawn right to left, not escaped', async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const page = await s.context.newPage();
    try {
      await page.goto(`${s.t.base}/runs`);
      for (const [p, where] of [[live!, 'live'], [page, 'served']] as const) {
        const cell = p.locator(`tr[data-id="${run.hebrew}"] td.c-outcome`);
        assert.equal(await cell.locator('.bidi-char').count(), 0, `${where}: no token in ordinary Hebrew`);
        const values = cell.locator('bdi');
        assert.deepEqual(await values.allInnerTexts(), [`"${HEBREW}" <ivan@example.com>`, HEBREW, 'tail'], `${where}: each value in a <bdi>`);
        assert.equal(await values.first().evaluate((e: unknown) => (globalThis as unknown as { getComputedStyle(e: unknown): { unicodeBidi: string } }).getComputedStyle(e).unicodeBidi), 'isolate');
        assert.equal(await leftToRight(values.nth(1), HEBREW), false, `${where}: the Hebrew is drawn right to left`);
        assert.equal(await leftToRight(cell, 'tail'), true);
      }
    } finally {
      await page.close();
    }
  });

  it('runs.json gives the outcome whole and in pieces, the values marked', async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const json = (await (await get(`${s.t.base}/runs.json`)).json()) as { items: Array<{ id: string; outcome: string; outcomeParts: Array<[string] | [string, 1]> }> };
    const item = json.items.find((i) => i.id === run.spoof) ?? assert.fail('runs.json lists the run');
    assert.equal(item.outcomeParts.map((p) => p[0]).join(''), item.outcome);
    assert.deepEqual(item.outcomeParts.filter((p) => p[1]).map((p) => p[0]), [`"${SPOOF}" <ivan@example.com>`, SPOOF, 'tail']);
  });
});

describe('showBidiControls', () => {
  it('draws a token in text, writes U+202E in titles and names, keeps textareas, options and scripts as they are', () => {
    const html = `<title>a${RLO}b</title><p title="x${RLO}y" data-id="d${RLO}">t${RLO}u</p><textarea>k${RLO}</textarea><select><option>o${RLO}</option></select><svg><text>s${RLO}</text></svg><p>\u200F\u2066</p>`;
    assert.equal(
      showBidiControls(html),
      `<title>aU+202Eb</title><p title="xU+202Ey" data-id="d${RLO}">t<span class="bidi-char" title="U+202E RIGHT-TO-LEFT OVERRIDE">U+202E</span>u</p><textarea>k${RLO}</textarea><select><option>o${RLO}</option></select><svg><text>sU+202E</text></svg>` +
        '<p><span class="bidi-char" title="U+200F RIGHT-TO-LEFT MARK">U+200F</span><span class="bidi-char" title="U+2066 LEFT-TO-RIGHT ISOLATE">U+2066</span></p>',
    );
    assert.equal(showBidiControls('<p>שלום</p>'), '<p>שלום</p>');
  });

  it('draws MAX_BIDI_TOKENS tokens at most on a page, the rest as plain U+202E text', () => {
    // Before, 256 K of them made a page of 20 MB (about 80 characters of markup for each).
    const html = showBidiControls(`<p>${RLO.repeat(262_144)}</p><p title="${RLO}">${RLO}</p>`);
    assert.ok(!html.includes(RLO));
    assert.equal(html.match(/<span class="bidi-char"/g)?.length, MAX_BIDI_TOKENS);
    assert.equal(html.match(/U\+202E/g)?.length, 262_144 + 2 + MAX_BIDI_TOKENS, 'each character written out once, a token\'s tooltip once more');
    assert.ok(html.length < 262_144 * 6 + 100_000, `${html.length} characters`);
    assert.ok(html.endsWith(`<p title="U+202E">U+202E</p>`), 'past the bound, a character is plain text');
  });
});

describe('a webhook value of 256 K bidirectional control characters on the run page', () => {
  let t: ConsoleServer | undefined;
  after(async () => t?.cleanup());

  it('draws the first ones as tokens and the rest as plain U+202E text: the page stays near its data\'s size', { timeout: 30_000 }, async () => {
    // Before, each of them became an 80-character token: the run page (its values cut as stored) was 1.4 MB where it
    // is 0.23 MB now; showBidiControls alone made 20 MB of a page holding 256 K of them.
    t = await startConsoleServer();
    const description = RLO.repeat(262_144);
    assert.equal((await postWebhook(t.server.url, taskWebhook({ name: 'Bidi flood', description, responsible: ['2'] }), t.secret)).status, 200);
    const run = await waitFor('the run of the webhook', async () => (await t!.server.store.listRuns({ scenario: 'BpiumNewTask' })).items.find((r) => r.status !== 'running'));
    const res = await get(`${t.base}/runs/${run.id}`);
    const html = await res.text();
    assert.equal(res.status, 200);
    const shown = html.match(/U\+202E/g)?.length ?? 0;
    assert.ok(!html.includes(RLO), 'no live U+202E on the page');
    assert.equal(html.match(/<span class="bidi-char"/g)?.length, MAX_BIDI_TOKENS, 'tokens up to the bound');
    // The run page shows the stored values, each cut (STORED_TEXT_CHARS): thousands of the characters still.
    assert.ok(shown > 10_000, `the characters are written out (${shown})`);
    // "U+202E" is 6 characters for each one, plus the bounded tokens' markup and the page itself.
    assert.ok(html.length < shown * 7 + 200_000, `${html.length} characters for ${shown} control characters`);
  });
});
