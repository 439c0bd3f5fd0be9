// watchClock's own rules, with a scripted measurement in place of PostgreSQL (a fake: the real database's clock cannot
// be moved; test/scale/clock-skew runs it against PostgreSQL with the child's clock shifted).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { watchClock, type ClockOffset } from '../../server/store/clock-skew.js';
import { capturingLogger } from '../server/server-helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('watchClock', () => {
  it('warns once when the offset passes a second, stays quiet while it hovers between half a second and a second, and says it is back under half a second', async () => {
    const offsets = [0, 5000, 800, 1200, 900, 300, 300];
    let i = 0;
    const log = capturingLogger();
    const watch = await watchClock({ measure: async () => ({ offsetMs: offsets[Math.min(i++, offsets.length - 1)]!, roundTripMs: 2 }), leaseMs: 60_000, everyMs: 1000, logger: log.logger });
    try {
      // The interval's minimum is a second: wait for the script to run out.
      for (let n = 0; n < 80 && i < offsets.length; n++) await sleep(100);
      const said = log.lines.filter((l) => 'clockOffsetMs' in l.obj).map((l) => `${l.level}:${String(l.obj.clockOffsetMs)}`);
      assert.deepEqual(said, ['warn:5000', 'info:300']);
      assert.match(watch.metricLines().join('\n'), /^oktell_clock_offset_seconds 0\.3$/m);
    } finally {
      watch.stop();
    }
  });

  it('a database that does not answer gets one measurement at a time; the gauge is absent until one succeeds; nothing is said after stop', async () => {
    let calls = 0;
    let answer: ((o: ClockOffset) => void) | undefined;
    const log = capturingLogger();
    const started = Date.now();
    // The watch's timers are unref'd (they never hold a server's process up), so the test holds the loop itself.
    const hold = setInterval(() => {}, 1000);
    const watch = await watchClock({ measure: () => (calls++, new Promise<ClockOffset>((r) => (answer = r))), leaseMs: 60_000, everyMs: 1000, logger: log.logger });
    // The start waits 2 s at most for the first measurement.
    assert.ok(Date.now() - started < 3000);
    assert.deepEqual(watch.metricLines(), []);
    await sleep(2300);
    assert.equal(calls, 1, 'no second measurement while the first is unanswered');
    watch.stop();
    answer!({ offsetMs: 30_000, roundTripMs: 2 });
    await sleep(50);
    clearInterval(hold);
    assert.deepEqual(log.lines.filter((l) => 'clockOffsetMs' in l.obj), [], 'a late answer after stop is not logged');
  });
});
