// The Web requests and Bpium calls tables of a run page fit their half-width panel at 1280 px (U9): a long URL,
// record id and error wrap inside their cells instead of being cut at the panel's edge.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { freePort } from '../mail/smtp-server.helper.js';
import { AUTH, chromiumMissing, readUserJob, useConsoleBrowser } from './console-helpers.js';

/** Posts to the URL in input parameter 1; with no timeout exit, a refused connection fails the run. */
const POST_TO_YAML = `variables:
  code: string
start: send
blocks:
  send:
    kind: WebRequest
    method: POST
    url: InputParameter(1)
    body: '"hello"'
    errorCode: code
    exits: { error: done }
  done: { kind: ReturnValue, values: { 1: '[code]' } }
`;

/** The widths of a table and of the box it scrolls in, as laid out. */
function widths(page: Page, selector: string): Promise<{ table: number; box: number; scroll: number }> {
  return page.evaluate(`(() => {
    const table = document.querySelector(${JSON.stringify(selector)});
    const box = table.parentElement;
    return { table: table.scrollWidth, box: box.clientWidth, scroll: box.scrollWidth };
  })()`) as Promise<{ table: number; box: number; scroll: number }>;
}

describe('call tables of a run page at 1280 px', () => {
  const s = useConsoleBrowser({ scenarios: { 'PostTo.yaml': POST_TO_YAML }, env: { WEB_REQUEST_ATTEMPTS: '1' } });

  it('a web request with a long URL and its error fit the Web requests panel', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const url = `http://127.0.0.1:${await freePort()}/api/v1/${'segment-'.repeat(14)}messages?reference=${'0123456789abcdef'.repeat(6)}`;
    const res = await fetch(`${s.t.server.url}/execsvcscript?name=PostTo&startparam1=${encodeURIComponent(url)}`, { headers: { authorization: AUTH } });
    assert.equal(res.status, 200);
    const runId = res.headers.get('x-oktell-run-id')!;
    const page = await s.context.newPage();
    await page.goto(`${s.t.base}/runs/${runId}`);
    const table = page.locator('table.http-calls');
    assert.ok((await table.textContent())?.includes(url.slice(0, 60)), 'the URL is in the table');
    assert.match((await table.locator('.error-text').textContent()) ?? '', /ECONNREFUSED/);
    const w = await widths(page, 'table.http-calls');
    assert.ok(w.scroll <= w.box, `the table needs ${w.scroll} px in a ${w.box} px panel`);
    assert.ok(w.table <= w.box, `the table is ${w.table} px wide in a ${w.box} px panel`);
    await page.close();
  });

  it('a Bpium call with a long record id fits the Bpium calls panel', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const failed = await readUserJob(s.t, `9${'0'.repeat(120)}`);
    assert.equal(failed.status, 'failed');
    const page = await s.context.newPage();
    await page.goto(`${s.t.base}/runs/${failed.runId}`);
    assert.equal(await page.locator('table.bpium-calls tbody tr').count(), 1);
    const w = await widths(page, 'table.bpium-calls');
    assert.ok(w.scroll <= w.box, `the table needs ${w.scroll} px in a ${w.box} px panel`);
    await page.close();
  });
});
