// `show` and the console's run page print a stored run's values the way `run` prints the live result: a date in the
// server's zone (OKTELL_TZ) as the scenario's text conversion writes it, a number without float noise, text as text —
// even text that looks like an ISO date, since the record tags the values that were dates (JSON keeps them as text).
// A record written before those tags still displays: its dates as the text they were stored as.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { get, startConsoleServer } from '../console/console-helpers.js';
import { AUTH, waitFor } from '../server/server-helpers.js';
import { startCli } from './cli.helper.js';

/** A date (21:03 UTC is 00:03 the next day in Moscow), 0.1 + 0.2, and a text that reads like an ISO date. */
const VALUES_YAML = `variables: { d: datetime, x: number, t: string }
blocks:
  set:
    kind: Variable
    set: { d: 'ToDate("2026-12-01T21:03:00Z")', x: '0.1 + 0.2', t: '"2026-12-01T21:03:00.000Z"' }
    exits: { next: answer }
  answer:
    kind: ReturnValue
    values: { 1: '[d]', 2: '[x]', 3: '[t]' }
    exits: { next: later }
  later: { kind: AsyncScenario, scenario: Later }
`;

/** Started by Values: its job copies the caller's [d] (as JSON, so as ISO text); the run makes it a date again. */
const LATER_YAML = `variables: { d: datetime }
blocks:
  answer: { kind: ReturnValue, values: { 1: '"done"' } }
`;

const ZONE = { OKTELL_TZ: 'Europe/Moscow' };

/**
 * `oktell-emu …args` in the server's zone, in the background: a synchronous spawn would stop this process (and its
 * server) long enough for a kept-alive connection of the next page fetch to be closed under it.
 */
async function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = startCli(args, { env: ZONE });
  const { code } = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

describe('show and the run page print stored values as run prints them', () => {
  let t: Awaited<ReturnType<typeof startConsoleServer>>;
  let runId: string;
  before(async () => {
    t = await startConsoleServer({ 'Values.yaml': VALUES_YAML, 'Later.yaml': LATER_YAML }, ZONE);
    const res = await fetch(`${t.server.url}/execsvcscript?name=Values`, { headers: { authorization: AUTH } });
    assert.equal(res.status, 200, await res.text());
    runId = await waitFor('the Values run to be recorded', async () => (await t.server.store.listRuns({ scenario: 'Values' })).items[0]?.id);
  });
  after(async () => t?.cleanup());

  it('show: the date in OKTELL_TZ, 0.3, and the ISO-looking text in quotes', { timeout: 30_000 }, async () => {
    const r = await cli('show', runId, '--data-dir', t.dataDir);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.ok(lines.includes('    1 set Variable → next d=02.12.2026 00:03:00 x=0.3 t="2026-12-01T21:03:00.000Z"'), r.stdout);
    assert.ok(lines.includes('  return values 1=02.12.2026 00:03:00 2=0.3 3="2026-12-01T21:03:00.000Z"'), r.stdout);
    assert.doesNotMatch(r.stdout, /0\.30000000000000004|d=2026-12-01|d="2026/);
    // --json keeps the stored values for programs: the ISO instant, the JSON number.
    const json = JSON.parse((await cli('show', runId, '--json', '--data-dir', t.dataDir)).stdout) as { returnValues: Record<string, unknown> };
    assert.deepEqual(json.returnValues, { '1': '2026-12-01T21:03:00.000Z', '2': 0.30000000000000004, '3': '2026-12-01T21:03:00.000Z' });
  });

  it('the run page: the step, the variables after it and the return values', { timeout: 10_000 }, async () => {
    const html = await (await get(`${t.base}/runs/${runId}`)).text();
    assert.match(html, /<code>d<\/code> = <span class="val">02\.12\.2026 00:03:00<\/span>/);
    assert.match(html, /<code>x<\/code> = <span class="val">0\.3<\/span>/);
    assert.match(html, /<code>t<\/code> = <span class="val">2026-12-01T21:03:00\.000Z<\/span>/);
    assert.match(html, /<tr class="just-changed"><th>d<\/th><td>02\.12\.2026 00:03:00<\/td><\/tr>/);
    assert.match(html, /<div><dt>1<\/dt><dd>02\.12\.2026 00:03:00<\/dd><\/div><div><dt>2<\/dt><dd>0\.3<\/dd><\/div>/);
    assert.doesNotMatch(html, /0\.30000000000000004|&quot;2026-12-01T21:03:00\.000Z&quot;/);
  });

  it('the run page of a job: a datetime variable the job copied from its caller is shown as a date', { timeout: 30_000 }, async () => {
    const later = await waitFor('the Later run', async () => (await t.server.store.listRuns({ scenario: 'Later' })).items.find((r) => r.status === 'completed'));
    const html = await (await get(`${t.base}/runs/${later.id}`)).text();
    assert.match(html, /<tr><th>d<\/th><td>02\.12\.2026 00:03:00<\/td><\/tr>/);
  });

  it('a record written before the date tags: numbers without noise, its dates as the text they were stored as', { timeout: 30_000 }, async () => {
    const old = 'old-run-without-tags';
    await t.server.store.recordRun({
      id: old,
      scenario: 'Values',
      version: 'v0',
      trigger: 'webapi',
      status: 'completed',
      startedAt: Date.parse('2026-12-01T21:03:00Z'),
      params: {},
      returnValues: { 1: '2026-12-01T21:03:00.000Z', 2: 0.30000000000000004 },
      trace: [
        { step: 1, scenario: 'Values', block: 'set', kind: 'Variable', exit: 'next', ms: 0.1, changed: { d: '2026-12-01T21:03:00.000Z', x: 0.30000000000000004 } },
        { step: 2, scenario: 'Values', block: 'answer', kind: 'ReturnValue', exit: 'next', ms: 0.1, changed: { 'Return value 1': '2026-12-01T21:03:00.000Z', 'Return value 2': 0.30000000000000004 } },
      ],
    });
    const r = await cli('show', old, '--data-dir', t.dataDir);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.split('\n').includes('  return values 1="2026-12-01T21:03:00.000Z" 2=0.3'), r.stdout);
    const html = await (await get(`${t.base}/runs/${old}`)).text();
    assert.match(html, /<code>x<\/code> = <span class="val">0\.3<\/span>/);
    assert.match(html, /<code>d<\/code> = <span class="val">2026-12-01T21:03:00\.000Z<\/span>/);
  });
});
