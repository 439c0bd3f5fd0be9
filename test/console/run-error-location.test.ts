// A stored run's error carries the YAML location of the failing block, and the console's run page shows it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { get, readUserJob, startConsoleServer } from './console-helpers.js';

describe('the stored run of a failed job', () => {
  let t: Awaited<ReturnType<typeof startConsoleServer>>;
  let runId: string;
  before(async () => {
    t = await startConsoleServer();
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
  it('shows that location on the run page', { timeout: 10_000 }, async () => {
    const html = await (await get(`${t.base}/runs/${runId}`)).text();
    assert.match(html, /<code class="location">[^<]*ReadUser\.yaml:12:3<\/code>/);
  });
});
