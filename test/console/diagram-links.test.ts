// On a run's diagram only the blocks the run went through are links, to their first step (operator trial 45: the
// blocks it never reached were Tab stops too, linking to the diagram the focus was already in). A scenario page's
// diagram keeps every block a link to its YAML line.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { get, readUserJob, startConsoleServer } from './console-helpers.js';

/** The `data-block` of each diagram block wrapped in a link, with the link's target. */
function linkedBlocks(html: string): Map<string, string> {
  return new Map([...html.matchAll(/<a href="([^"]*)">\s*<g class="node [^"]*" id="node-[^"]*" data-block="([^"]+)"/g)].map((m) => [m[2]!, m[1]!]));
}

describe('links of a diagram', () => {
  it('a failed run links its two visited blocks to their steps, and not the two it never reached', { timeout: 30_000 }, async () => {
    const t = await startConsoleServer();
    try {
      const { runId, status } = await readUserJob(t, '77');
      assert.equal(status, 'failed');
      const run = await (await get(`${t.base}/runs/${runId}`)).text();
      assert.deepEqual(Object.fromEntries(linkedBlocks(run)), { begin: '#step-1', getUser: '#step-2' });
      assert.match(run, /data-block="letter"/, 'the unvisited blocks are still drawn');
      assert.doesNotMatch(run, /href="#diagram"/);
      const scenario = await (await get(`${t.base}/scenarios/ReadUser`)).text();
      assert.deepEqual([...linkedBlocks(scenario).keys()].sort(), ['answer', 'begin', 'getUser', 'letter']);
    } finally {
      await t.cleanup();
    }
  });
});
