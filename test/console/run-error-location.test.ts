// A stored run's error carries the YAML location of the failing block, and the console's run page shows it; the
// dry-run page shows the same location and the notes of a step (a Parser query that matched nothing).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../cli/cli.helper.js';
import { AUTH, csrfToken, get, readUserJob, startConsoleServer } from './console-helpers.js';

/**
 * Parses input parameter 1 (nothing matches $.prevPayload.values), then fails in block `compute` at its `set:` entry's
 * expression (line 19, col 15): the body is not a number.
 */
const NOTE_THEN_FAIL_YAML = `variables:
  body: string
  prev: json
  n: number
start: begin
blocks:
  begin:
    kind: Start
    param: body
    exits: { next: parse }
  parse:
    kind: Parser
    mode: json
    document: '[body]'
    extract: { prev: $.prevPayload.values }
    exits: { success: compute }
  compute:
    kind: Variable
    set: { n: 'Num([body])' }
`;

describe('the stored run of a failed job', () => {
  let t: Awaited<ReturnType<typeof startConsoleServer>>;
  let runId: string;
  before(async () => {
    t = await startConsoleServer({ 'NoteThenFail.yaml': NOTE_THEN_FAIL_YAML });
    // Employee 77 does not exist: ReadUser's getUser block (line 12, column 3 of ReadUser.yaml) fails for good.
    runId = (await readUserJob(t, '77')).runId;
  });
  after(async () => t?.cleanup());

  it('keeps the file, line and column of the failing block with its error', { timeout: 10_000 }, async () => {
    const run = await t.server.store.getRun(runId);
    const error = run?.error as { block?: string; file?: string; line?: number; col?: number };
    assert.equal(error.block, 'getUser');
    assert.match(error.file ?? '', /ReadUser\.yaml$/);
    assert.deepEqual([error.line, error.col], [12, 3]);
  });
  it('`oktell-emu show` prints it like a load error', { timeout: 30_000 }, () => {
    const r = runCli(['show', runId, '--data-dir', t.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\s+error \S*ReadUser\.yaml:12:3 R_EFFECT_PERMANENT /m);
  });
  it('shows that location on the run page, named inside the scenarios folder (not from the server\'s working directory)', { timeout: 10_000 }, async () => {
    const html = await (await get(`${t.base}/runs/${runId}`)).text();
    assert.match(html, /<code class="location">ReadUser\.yaml:12:3<\/code>/);
  });
  it('the dry-run page shows the error location and the step note', { timeout: 20_000 }, async () => {
    const csrf = await csrfToken(t.base);
    const res = await fetch(`${t.base}/dry-run`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded', origin: t.server.url },
      body: new URLSearchParams({ csrf, scenario: 'NoteThenFail', mode: 'params', p1: '{"payload":{}}' }).toString(),
      redirect: 'manual',
    });
    assert.equal(res.status, 303);
    const html = await (await get(new URL(res.headers.get('location')!, t.server.url).toString())).text();
    assert.match(html, /<span class="step-note">no match for `\$\.prevPayload\.values`: prev left empty<\/span>/);
    assert.match(html, /<code class="location">NoteThenFail\.yaml:19:15<\/code> <strong>R_EXPRESSION<\/strong>/);
  });
});
