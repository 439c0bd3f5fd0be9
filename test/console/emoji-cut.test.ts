// A long value cut for a run page's step summary (90 characters) or variables table (400) is cut before an emoji,
// never between the two halves of its surrogate pair, which the page would show as U+FFFD; the same for a letter
// template's truncate. Real server, real HTTP, real SMTP.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AUTH, startTestServer, type TestServer } from '../server/server-helpers.js';

const LENGTHS = [86, 87, 88, 89, 396, 397, 398, 399];

const YAML = `variables:
${LENGTHS.map((n) => `  v${n}: string`).join('\n')}
start: keep
blocks:
  keep:
    kind: Variable
    set:
${LENGTHS.map((n, i) => `      v${n}: InputParameter(${i + 1})`).join('\n')}
    exits: { next: done }
  done: { kind: ReturnValue, values: { 1: '"ok"' } }
`;

describe('emoji at the cut of a console value', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ smtp: false, extraScenarios: { 'Эмодзи.yaml': YAML } });
  });
  after(async () => {
    await t.cleanup();
  });

  it('the run page shows no U+FFFD', async () => {
    const query = LENGTHS.map((n, i) => `startparam${i + 1}=${encodeURIComponent(`${'д'.repeat(n)}😀😀😀😀`)}`).join('&');
    const res = await fetch(`${t.server.url}/execsvcscriptplain?name=${encodeURIComponent('Эмодзи')}&${query}`, { headers: { authorization: AUTH } });
    assert.equal(res.status, 200, await res.text());
    const runId = res.headers.get('x-oktell-run-id');
    assert.ok(runId);
    const page = await fetch(`${t.server.url}/-/console/runs/${runId}`, { headers: { authorization: AUTH } });
    assert.equal(page.status, 200);
    const html = await page.text();
    for (const n of LENGTHS) assert.ok(html.includes(`v${n}`), `v${n} is on the page`);
    const bad = [...html.matchAll(/\uFFFD/g)].map((m) => html.slice(Math.max(0, m.index! - 30), m.index! + 5));
    assert.deepEqual(bad, []);
  });
});
