// A run that answered a request says on its page what the caller was told (U17), and the hook run of a duplicate
// delivery that ran HTTP404 (a resend racing on another server) says at its AsyncScenario step that nothing was queued. The runs list badges the status each hook run
// answered with, and nothing for the other runs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createViews } from '../../server/console/console-views.js';
import { AUTH, get, postRacingWebhook, postWebhook, readUserJob, startConsoleServer, taskWebhook } from './console-helpers.js';

/** The AsyncScenario step of a run page: its `<li>` up to the end of its summary. */
function asyncStep(html: string): string {
  const m = /<li id="step-\d+" class="step">(?:(?!<\/summary>)[\s\S])*?AsyncScenario[\s\S]*?<\/summary>/.exec(html);
  assert.ok(m, 'the page has an AsyncScenario step');
  return m[0];
}

describe('the answer a run gave', () => {
  let t: Awaited<ReturnType<typeof startConsoleServer>>;
  before(async () => {
    t = await startConsoleServer();
  });
  after(async () => t?.cleanup());

  const page = async (runId: string | null) => {
    assert.ok(runId, 'the answer names its run');
    return (await get(`${t.base}/runs/${runId}`)).text();
  };

  it('a request the hook scenario answered 404 says "Answered: HTTP 404" in the run header', { timeout: 20_000 }, async () => {
    const res = await fetch(`${t.server.url}/anything/else`, { headers: { authorization: AUTH } });
    assert.equal(res.status, 404);
    const html = await page(res.headers.get('x-oktell-run-id'));
    assert.match(html, /<span class="answered">Answered: HTTP 404<\/span>/);
  });

  it('a webhook answered 200 says so; its AsyncScenario step carries no duplicate note', { timeout: 20_000 }, async () => {
    const res = await postWebhook(t.server.url, taskWebhook({ name: 'Ответ', responsible: ['2'], sequenceId: 8101 }), t.secret);
    assert.equal(res.status, 200);
    const html = await page(res.headers.get('x-oktell-run-id'));
    assert.match(html, /Answered: HTTP 200</);
    assert.doesNotMatch(asyncStep(html), /not queued/);
  });

  it('a duplicate delivery is answered as the first one, and its AsyncScenario step says it queued nothing', { timeout: 20_000 }, async () => {
    const body = taskWebhook({ name: 'Повтор', responsible: ['2'], sequenceId: 8102 });
    const first = await postWebhook(t.server.url, body, t.secret);
    const again = await postRacingWebhook(t, body, t.secret);
    assert.equal(again.status, 200);
    const inboxId = Number(again.headers.get('x-oktell-duplicate-of'));
    assert.ok(inboxId > 0);
    const html = await page(again.headers.get('x-oktell-run-id'));
    assert.match(html, /Answered: HTTP 200</);
    assert.match(asyncStep(html), new RegExp(`<span class="step-note">not queued: duplicate of inbox entry ${inboxId}</span>`));
    assert.doesNotMatch(asyncStep(await page(first.headers.get('x-oktell-run-id'))), /not queued/);
  });

  it('a synchronous Web-API run names the 200 and the startresult of its end', { timeout: 20_000 }, async () => {
    // Employee 77 is not in Bpium: the run fails, and the caller reads startresult 1.
    const res = await fetch(`${t.server.url}/execsvcscript?name=ReadUser&startparam1=77`, { headers: { authorization: AUTH } });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /key="startresult" value="1"/);
    const html = await page(res.headers.get('x-oktell-run-id'));
    assert.match(html, /Answered: HTTP 200 · startresult 1, or 2 if the caller&#39;s timeout ended first</);
  });

  it('the run of a queued job (its caller was answered when it was queued) names no answer', { timeout: 20_000 }, async () => {
    const job = await readUserJob(t, '1');
    assert.equal(job.status, 'completed');
    const html = await page(job.runId);
    assert.doesNotMatch(html, /Answered:/);
  });

  /** The row of `runId` on the runs list (HTML) and in runs.json. */
  async function listed(runId: string): Promise<{ row: string; answer: unknown }> {
    const html = await (await get(`${t.base}/runs`)).text();
    const m = new RegExp(`<tr data-id="${runId}"[\\s\\S]*?</tr>`).exec(html);
    assert.ok(m, `run ${runId} is listed`);
    const json = (await (await get(`${t.base}/runs.json`)).json()) as { items: Array<{ id: string; answer: unknown }> };
    return { row: m[0], answer: json.items.find((r) => r.id === runId)?.answer };
  }

  it('the runs list badges a hook run with the status it answered, coloured by class; other runs get none', { timeout: 30_000 }, async () => {
    const notFound = await fetch(`${t.server.url}/anything/else`, { headers: { authorization: AUTH } });
    assert.equal(notFound.status, 404);
    const missing = await listed(notFound.headers.get('x-oktell-run-id')!);
    assert.match(missing.row, /<td class="c-answer"><span class="badge http-4xx" title="Answered HTTP 404"><span class="sr-only">HTTP <\/span>404<\/span><\/td>/);
    assert.equal(missing.answer, 404);

    const hook = await postWebhook(t.server.url, taskWebhook({ name: 'Значок', responsible: ['2'], sequenceId: 8103 }), t.secret);
    assert.equal(hook.status, 200);
    const answered = await listed(hook.headers.get('x-oktell-run-id')!);
    assert.match(answered.row, /<td class="c-answer"><span class="badge http-2xx" title="Answered HTTP 200"><span class="sr-only">HTTP <\/span>200<\/span><\/td>/);
    assert.equal(answered.answer, 200);

    // A Web-API run and a queued job's run (the job carries no answer of its own) have an empty cell.
    const webapi = await fetch(`${t.server.url}/execsvcscript?name=ReadUser&startparam1=1`, { headers: { authorization: AUTH } });
    assert.equal(webapi.status, 200);
    const job = await readUserJob(t, '2');
    for (const runId of [webapi.headers.get('x-oktell-run-id')!, job.runId]) {
      const other = await listed(runId);
      assert.match(other.row, /<td class="c-answer"><\/td>/);
      assert.equal(other.answer, null);
    }
  });

  it('the badge is coloured by the class of the status: 2xx, 3xx, 4xx, 5xx', () => {
    const views = createViews('UTC');
    const badge = (status: number | null) => views.renderString('{% import "macros.njk" as m %}{{ m.answerBadge(status) }}', { status });
    assert.equal(badge(503), '<span class="badge http-5xx" title="Answered HTTP 503"><span class="sr-only">HTTP </span>503</span>');
    assert.match(badge(302), /class="badge http-3xx"/);
    assert.match(badge(201), /class="badge http-2xx"/);
    assert.equal(badge(null), '');
  });
});
