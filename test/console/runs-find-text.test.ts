// The runs page's Find box also finds runs by a text they carried (user trial: "what happened to the webhook for
// ivan@example.com?" could be asked only by run id, job id or delivery key): a real server, a real webhook whose body
// holds HTML, the console's page listing the run with everything escaped.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCliAsync } from '../cli/cli.helper.js';
import { newSortableId } from '../../server/store/sortable-id.js';
import { AUTH, startTestServer, THANKS_HTTP404, type TestServer } from '../server/server-helpers.js';

describe('console Find: a text the runs carried', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({
      smtp: false,
      extraScenarios: {
        'HTTP404.yaml': THANKS_HTTP404,
      },
    });
  });
  after(async () => {
    await t?.cleanup();
  });
  const get = (path: string) => fetch(`${t.server.url}/-/console${path}`, { redirect: 'manual', headers: { authorization: AUTH } });

  it('lists the run that carried it, case-insensitive, with the request data escaped', { timeout: 60_000 }, async () => {
    const body = JSON.stringify({ email: 'IVAN@example.com', name: '<script>alert("Иван")</script>' });
    const sent = await fetch(`${t.server.url}/forms/new`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: AUTH }, body });
    assert.equal(sent.status, 200, await sent.text());
    const runId = sent.headers.get('x-oktell-run-id') ?? assert.fail('no run id');
    const other = await fetch(`${t.server.url}/forms/new`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: AUTH }, body: '{"email":"olga@example.com"}' });
    assert.equal(other.status, 200);
    const otherId = other.headers.get('x-oktell-run-id')!;

    for (const text of ['ivan@example.com', 'иван', '<SCRIPT>alert(']) {
      const page = await get(`/runs/find?${new URLSearchParams({ id: text })}`);
      const html = await page.text();
      assert.equal(page.status, 200, html);
      assert.ok(html.includes(`href="/-/console/runs/${runId}"`), html);
      assert.ok(!html.includes(otherId), html);
      assert.ok(!/<script>alert/i.test(html), html);
    }
    const html = await (await get(`/runs/find?${new URLSearchParams({ id: '<script>alert(' })}`)).text();
    assert.ok(html.includes('carried “&lt;script&gt;alert(”'), html);

    const none = await get(`/runs/find?${new URLSearchParams({ id: 'nobody@example.com' })}`);
    const noneHtml = await none.text();
    assert.equal(none.status, 200);
    assert.match(noneHtml, /No run carried this text\./);
    // The CLI on the server's data folder: the body's JSON field (the hook run's input parameter 4, kept as text).
    const where = await runCliAsync(['runs', '--where', 'email=IVAN@example.com', '--json', '--data-dir', t.dataDir], { env: { NO_COLOR: '1' } });
    assert.equal(where.code, 0, where.stderr);
    assert.deepEqual((JSON.parse(where.stdout) as Array<{ id: string }>).map((r) => r.id), [runId]);
    // A run id still goes to its run.
    const byId = await get(`/runs/find?${new URLSearchParams({ id: runId })}`);
    assert.equal(byId.status, 303);
    assert.equal(byId.headers.get('location'), `/-/console/runs/${runId}`);
    // A run id the store no longer has (pruned, or mistyped) is said as before, with the retention, not as a text no
    // run carried.
    const gone = newSortableId(Date.now() - 90 * 86_400_000);
    const goneAnswer = await get(`/runs/find?${new URLSearchParams({ id: gone })}`);
    const goneHtml = await goneAnswer.text();
    assert.equal(goneAnswer.status, 404, goneHtml);
    assert.match(goneHtml, /There is no such run or job \(runs older than the retention period are removed\)/);
  });
});
