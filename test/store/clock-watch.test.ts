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
      const at = Number(/^oktell_clock_offset_measured_timestamp_seconds (\d+)$/m.exec(watch.metricLines().join('\n'))?.[1]);
      assert.ok(Math.abs(at - Date.now() / 1000) < 3, `measured just now: ${at}`);
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
  it('a measurement that fails keeps the last offset and the time it was measured, which tells how old it is', async () => {
    const script: Array<number | 'fail'> = [1500, 'fail', 'fail'];
    let i = 0;
    const hold = setInterval(() => {}, 1000);
    const watch = await watchClock({
      measure: async () => {
        const next = script[Math.min(i++, script.length - 1)]!;
        if (next === 'fail') throw new Error('connection refused');
        return { offsetMs: next, roundTripMs: 2 };
      },
      leaseMs: 60_000,
      everyMs: 1000,
      logger: capturingLogger().logger,
    });
    try {
      const first = watch.metricLines().join('\n');
      for (let n = 0; n < 40 && i < 3; n++) await sleep(100);
      await sleep(1100);
      assert.ok(i >= 3, 'the failing measurements ran');
      const later = watch.metricLines().join('\n');
      assert.match(later, /^oktell_clock_offset_seconds 1\.5$/m);
      const stamp = (text: string) => /^oktell_clock_offset_measured_timestamp_seconds (\d+)$/m.exec(text)?.[1];
      assert.ok(stamp(first));
      assert.equal(stamp(later), stamp(first), 'the failed ones did not move it');
    } finally {
      watch.stop();
      clearInterval(hold);
    }
  });
});
