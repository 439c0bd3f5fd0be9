// The main thread's young generation is held at its cap: a child process churns through objects that survive a few
// collections (as a burst of requests does) with and without the cap, and reports how big V8 let the young
// generation grow.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { youngGrowthFactor } from '../../server/heap.js';
import { repoPath } from '../helpers.js';

const churn = (capMb: number | undefined) => `
  import { getHeapSpaceStatistics } from 'node:v8';
  ${capMb ? `const { capYoungGeneration } = await import(${JSON.stringify(pathToFileURL(repoPath('dist', 'server', 'heap.js')).href)}); capYoungGeneration(${capMb});` : ''}
  let keep = [];
  let largest = 0;
  // Small turns of the event loop, as a server's: the check runs between them.
  for (let turn = 0; turn < 1600; turn++) {
    for (let i = 0; i < 5000; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 20000) keep = []; }
    await new Promise((r) => setImmediate(r));
    largest = Math.max(largest, getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);
  }
  process.stdout.write(String(largest / 1048576));
`;

function largestYoungMb(capMb: number | undefined): number {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', churn(capMb)], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout);
}

describe('the young generation cap (OKTELL_HEAP=compact)', () => {
  // The cap is applied after each collection, so a burst that makes V8 grow it twice between two checks may pass it
  // by one doubling; it never grows on from there.
  it('stops the young generation at its cap (one doubling past it at worst) where V8 alone grows it to its maximum', () => {
    const free = largestYoungMb(undefined);
    const capped = largestYoungMb(4);
    assert.ok(free >= 32, `without the cap V8 grows it to ${free} MiB`);
    assert.ok(capped <= 8, `with a 4 MiB cap it reached ${capped} MiB`);
  });
});

describe('youngGrowthFactor: the young generation grows only while a doubling stays within the cap', () => {
  const MiB = 1024 * 1024;
  it('doubles from the halves of the cap and stops at the cap', () => {
    assert.deepEqual([1, 2, 4, 8, 16, 32].map((mb) => youngGrowthFactor(mb * MiB, 16 * MiB)), [2, 2, 2, 2, 1, 1]);
  });
  it('does not double a young generation that V8 shrank to a size off the halves (12 MiB would become 24 MiB)', () => {
    // Regrowing from 1.5 MiB: 3, 6, 12 MiB, and there it stays.
    assert.deepEqual([1.5, 3, 6, 12, 14, 8.25].map((mb) => youngGrowthFactor(mb * MiB, 16 * MiB)), [2, 2, 2, 1, 1, 1]);
  });
});
