// The benchmark's summary table: each target is judged from the numbers, and the smallest-setup row names its settings
// and compares with the default setup measured in the same run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { E2eResult, SmallFootprintResult } from '../../bench/e2e.bench.js';
import { table } from '../../bench/run.js';

const e2e: E2eResult = {
  capacityPerSecond: 511, probeWebhooks: 3807, offeredRate: 410, seconds: 30, acknowledged: 12_300, letters: 12_300,
  sustainedPerSecond: 409, overallPerSecond: 400, p50DelayMs: 490, p99DelayMs: 792, drainSeconds: 1, lettersMissing: 0, duplicateLetters: 0, peakRssMiB: 195.2,
};
const small = (peakRssMiB: number | undefined): SmallFootprintResult => ({
  env: { OKTELL_DELIVERY_THREAD: 'off' }, nodeArgs: ['--max-semi-space-size=2'], peakRssMiB, capacityPerSecond: 320, probeWebhooks: 7000,
});
const row = (text: string, measure: string) => text.split('\n').find((l) => l.startsWith(`| ${measure} |`))?.split(' | ');

describe('benchmark table', () => {
  const cases: Array<{ rss: number | undefined; met: string }> = [
    { rss: 132.5, met: 'yes' }, // 138.9 MB
    { rss: 143, met: 'yes' }, // 149.9 MB: MiB are converted before the 150 MB target
    { rss: 143.1, met: '**no**' }, // 150.05 MB
    { rss: undefined, met: '**no**' }, // not measured (no /proc) is not a pass
  ];
  for (const c of cases) {
    it(`smallest setup at ${c.rss ?? 'unknown'} MiB: target met = ${c.met}`, () => {
      const cells = row(table({ e2e, small: small(c.rss) }), '(d) peak RSS, smallest setup');
      assert.ok(cells, 'the row is present');
      assert.equal(cells[1], `${c.rss ?? '—'} MiB, capacity 320 letters/s`);
      assert.equal(cells[2], '`OKTELL_DELIVERY_THREAD=off node --max-semi-space-size=2`; default setup 195.2 MiB, 511 letters/s');
      assert.equal(cells[4], `${c.met} |`);
    });
  }

  it('judges the default setup by its own peak RSS, and leaves out rows it has no numbers for', () => {
    const text = table({ e2e });
    assert.equal(row(text, '(d) server peak RSS during (a) / (b)')?.[4], '**no** |');
    assert.equal(row(text, '(d) peak RSS, smallest setup'), undefined);
    assert.equal(row(text, '(b) notifications delivered, sustained')?.[4], '**no** |');
    assert.equal(row(table({ e2e: { ...e2e, sustainedPerSecond: 1000 } }), '(b) notifications delivered, sustained')?.[4], 'yes |');
    const delivery = (over: Partial<E2eResult>) => row(table({ e2e: { ...e2e, ...over } }), '(b) webhook → mailbox delay p50 / p99');
    assert.deepEqual(delivery({})?.slice(2), ['12,300 letters for 12,300 acks, 0 missing, 0 sent twice', '—', 'none lost or doubled |']);
    assert.equal(delivery({ lettersMissing: 3 })?.[4], '**letters missing** |');
    assert.equal(delivery({ duplicateLetters: 1 })?.[4], '**letters sent twice** |');
  });
});
