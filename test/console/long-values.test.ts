// Long values without a space in them do not widen a run page (operator trial 45): a letter's subject on a wide
// screen and on a phone. The page is as wide as the window; the value wraps inside its panel.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import { AUTH, chromiumMissing, consoleContext, useConsoleBrowser } from './console-helpers.js';

/** Sends one letter whose subject is input parameter 1. */
const LONG_SUBJECT_YAML = `variables:
  subject: string
start: begin
blocks:
  begin:
    kind: Start
    param: subject
    exits: { next: letter }
  letter:
    kind: SendMail
    to: '"long.subject@example.com"'
    subject: '[subject]'
    text: '"hello"'
    exits: { success: done }
  done: { kind: ReturnValue, values: { 1: '"sent"' } }
`;

/** The page's width in `context` (its window is `width` px wide). */
async function pageWidth(context: BrowserContext, url: string): Promise<number> {
  const page = await context.newPage();
  try {
    await page.goto(url);
    return (await page.evaluate('document.documentElement.scrollWidth')) as number;
  } finally {
    await page.close();
  }
}

describe('long values on a run page', () => {
  const s = useConsoleBrowser({ scenarios: { 'LongSubject.yaml': LONG_SUBJECT_YAML } });

  it('a letter subject of 400 characters without a space wraps, at 1280 px and at 390 px', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const subject = `Задача${'X'.repeat(400)}`;
    const res = await fetch(`${s.t.server.url}/execsvcscript?name=LongSubject&startparam1=${encodeURIComponent(subject)}`, { headers: { authorization: AUTH } });
    assert.equal(res.status, 200, await res.text());
    const url = `${s.t.base}/runs/${res.headers.get('x-oktell-run-id')}`;
    const page = await s.context.newPage();
    await page.goto(url);
    const shown = (await page.locator('.mails .mail-head strong').textContent()) ?? '';
    assert.ok(shown.startsWith(subject.slice(0, 200)), `the subject is shown: ${shown.slice(0, 40)}…`);
    await page.close();
    // The same letter in the outbox: the list and the letter's page.
    const outbox = await (await fetch(`${s.t.base}/outbox`, { headers: { authorization: AUTH } })).text();
    const letter = /href="(\/-\/console\/outbox\/[^"]+\.eml)"/.exec(outbox)?.[1];
    assert.ok(letter, 'the outbox lists the letter');
    const pages = [url, `${s.t.base}/outbox`, `${s.t.server.url}${letter}`];
    for (const p of pages) assert.ok((await pageWidth(s.context, p)) <= 1280, `${p} is no wider than the 1280 px window`);
    const phone = await consoleContext(s.browser, 390, 844);
    try {
      for (const p of pages) {
        const width = await pageWidth(phone, p);
        assert.ok(width <= 390, `${p} is ${width} px wide on a 390 px phone`);
      }
    } finally {
      await phone.close();
    }
  });

  it('a step note quoting a request path of 600 characters wraps on a 390 px phone', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const path = `/${'a'.repeat(600)}?q=${'b'.repeat(300)}`;
    const res = await fetch(`${s.t.server.url}${path}`, { headers: { authorization: AUTH } });
    assert.equal(res.status, 404, 'HTTP404 answers a path it does not serve with 404');
    const url = `${s.t.base}/runs/${res.headers.get('x-oktell-run-id')}`;
    const phone = await consoleContext(s.browser, 390, 844);
    try {
      const page = await phone.newPage();
      await page.goto(url);
      assert.ok((await page.locator('.step-note').first().textContent())?.includes('a'.repeat(40)), 'a step note quotes the path');
      await page.close();
      const width = await pageWidth(phone, url);
      assert.ok(width <= 390, `the page is ${width} px wide on a 390 px phone`);
    } finally {
      await phone.close();
    }
  });
});
