// /-/metrics counts the Bpium calls by outcome (operator trial of 2026-12-05: Bpium answering errors or down showed
// nowhere but in dead letters). Real server with its delivery thread, the embedded Bpium emulator (its injected faults
// stand for a Bpium that refuses or is down), real SMTP on loopback; the page is read over HTTP.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AUTH, postWebhook, startTestServer, taskWebhook, waitFor, type TestServer } from './server-helpers.js';

const USERS = '/api/v1/catalogs/3/records';

/** A find whose filtersJson is not JSON: the block refuses it before any request. */
const BAD_FILTER = `variables: { answer: json, code: string }
start: f
blocks:
  f: { kind: Bpium, method: findRecord, catalog: 3, filtersJson: '"{not json"', answer: answer, errorCode: code, exits: { success: ok, error: bad } }
  ok: { kind: ReturnValue, values: { 1: '"ok"' } }
  bad: { kind: ReturnValue, values: { 1: '"error " + [code]' } }
`;

async function bpiumCalls(t: TestServer): Promise<Record<string, number>> {
  const res = await fetch(`${t.server.url}/-/metrics`, { headers: { authorization: AUTH } });
  assert.equal(res.status, 200);
  const page = await res.text();
  assert.match(page, /^# TYPE oktell_bpium_calls_total counter$/m);
  const out: Record<string, number> = {};
  for (const m of page.matchAll(/^oktell_bpium_calls_total\{outcome="(\w+)"\} (\d+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

describe('oktell_bpium_calls_total', { timeout: 120_000 }, () => {
  it('counts answered calls, a record Bpium lacks, error answers and calls that got no answer', async () => {
    const t = await startTestServer({ config: 'workers: { baseDelayMs: 50, maxDelayMs: 100, maxAttempts: 2 }\n', extraScenarios: { 'BadFilter.yaml': BAD_FILTER } });
    try {
      assert.deepEqual(await bpiumCalls(t), { ok: 0, not_found: 0, error: 0, failed: 0 });

      // Two employees Bpium has, one it lacks (404: the error exit, the others still notified).
      assert.equal((await postWebhook(t.server.url, taskWebhook({ name: 'Три', responsible: ['2', '3', '999'] }), t.secret)).status, 200);
      await waitFor('the two letters', () => t.smtp!.letters.length === 2, 20_000);
      await waitFor('the calls counted', async () => (await bpiumCalls(t)).not_found === 1);
      assert.deepEqual(await bpiumCalls(t), { ok: 2, not_found: 1, error: 0, failed: 0 });

      // A refused login: an error answer, the job a dead letter at once.
      // (Every try refused: the client tries the login once more before it gives up.)
      t.server.emulator!.injectFaults({ status: 401, times: 1000, pathPrefix: USERS });
      assert.equal((await postWebhook(t.server.url, taskWebhook({ name: 'Вход', responsible: ['3'] }), t.secret)).status, 200);
      await waitFor('the refusal counted', async () => (await bpiumCalls(t)).error === 1, 20_000);
      t.server.emulator!.clearFaults();

      // Bpium down (500 to every try): each of the job's two attempts counts one call that got no answer.
      t.server.emulator!.injectFaults({ status: 500, times: 1000, pathPrefix: USERS });
      assert.equal((await postWebhook(t.server.url, taskWebhook({ name: 'Сбой', responsible: ['2'] }), t.secret)).status, 200);
      await waitFor('both attempts counted', async () => (await bpiumCalls(t)).failed === 2, 30_000);
      assert.deepEqual(await bpiumCalls(t), { ok: 2, not_found: 1, error: 1, failed: 2 });
      assert.equal(t.smtp!.letters.length, 2);

      // The scenario's own mistake (filtersJson that is not JSON) takes the error exit with no request: not Bpium's error.
      t.server.emulator!.clearFaults();
      const res = await fetch(`${t.server.url}/execsvcscriptplain?name=BadFilter`, { headers: { authorization: AUTH } });
      assert.equal(await res.text(), 'error BPIUM_BAD_JSON');
      assert.deepEqual(await bpiumCalls(t), { ok: 2, not_found: 1, error: 1, failed: 2 });
    } finally {
      await t.cleanup();
    }
  });
});
