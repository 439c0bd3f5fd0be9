// A re-delivered webhook that ran HTTP404 (the resend met a second server racing the first: one resent to the same
// server is answered from the store and has no run) is named a duplicate on its run page, in words, with a link to
// the first delivery's run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chromiumMissing, get, postRacingWebhook, postWebhook, taskWebhook, useConsoleBrowser } from './console-helpers.js';

describe('the duplicate notice in a browser', () => {
  const s = useConsoleBrowser({ serverWithoutBrowser: true });

  it('the run of a re-post says it was a duplicate of the first delivery; the first run says nothing of the kind', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const body = taskWebhook({ name: 'Дважды', responsible: ['2'], sequenceId: 7001 });
    const first = await postWebhook(s.t.server.url, body, s.t.secret);
    const again = await postRacingWebhook(s.t, body, s.t.secret);
    assert.equal(first.status, 200);
    assert.equal(again.status, 200);
    const firstRun = first.headers.get('x-oktell-run-id')!;
    const againRun = again.headers.get('x-oktell-run-id')!;
    assert.notEqual(firstRun, againRun);

    const page = await s.context.newPage();
    await page.goto(`${s.t.base}/runs/${againRun}`);
    const notice = page.locator('#duplicate');
    assert.ok(await notice.isVisible());
    const text = ((await notice.textContent()) ?? '').replace(/\s+/g, ' ');
    assert.match(text, /Duplicate delivery\. This webhook \(the same hook id and sequenceId\) was received before, as inbox entry \d+\. The server answered it as it did then and started nothing again\./);
    await notice.locator('a').click();
    await page.waitForURL(new RegExp(`/runs/${firstRun}$`));
    assert.equal(await page.locator('#duplicate').count(), 0);
    await page.close();
  });

  it('the page as served carries the notice (checked without a browser too)', { timeout: 30_000 }, async () => {
    const body = taskWebhook({ name: 'Снова', responsible: ['2'], sequenceId: 7002 });
    const first = await postWebhook(s.t.server.url, body, s.t.secret);
    const again = await postRacingWebhook(s.t, body, s.t.secret);
    const html = await (await get(`${s.t.base}/runs/${again.headers.get('x-oktell-run-id')}`)).text();
    assert.match(html, /<div class="notice warn duplicate" id="duplicate">\s*<strong>Duplicate delivery\.<\/strong>/);
    assert.ok(html.includes(`/runs/${first.headers.get('x-oktell-run-id')}"`), 'links to the first delivery\'s run');
    const firstHtml = await (await get(`${s.t.base}/runs/${first.headers.get('x-oktell-run-id')}`)).text();
    assert.ok(!firstHtml.includes('id="duplicate"'));
  });
});
