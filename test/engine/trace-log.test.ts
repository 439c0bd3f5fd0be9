// The trace's step store (engine/trace-log.ts): whatever the run's length, every kept step comes back with its own
// exit, changes and notes, in the order the steps ran, including right after the store of changes was rewritten to
// drop overwritten steps' values.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TraceLog } from '../../engine/trace-log.js';

/** Runs `n` steps through a log of `limit`; step s changes x to s (and y too on every third step) and notes odd steps. */
function fill(limit: number, n: number) {
  const log = new TraceLog(limit);
  for (let s = 1; s <= n; s++) {
    log.change('x', s);
    if (s % 3 === 0) log.change('y', `y${s}`);
    log.end(s, 'Loop', `b${s % 4}`, 'Variable', s % 2 ? 'next' : 'other', s / 1000, { effect: s % 5 === 0 ? { n: s } : undefined, notes: s % 2 ? [`note ${s}`] : undefined, clock: undefined });
  }
  return log;
}

describe('TraceLog', () => {
  // Around the first rewrite of the changes (past 4,096 changes: step 3,073 here, as a step makes 1⅓ changes), the
  // steps then kept in the ring must still point at their own values.
  for (const limit of [10, 7, 2, 1]) {
    it(`limit ${limit}: 3,060 to 3,090 steps, every kept step is its own`, () => {
      for (let n = 3060; n <= 3090; n++) {
        const log = fill(limit, n);
        const steps = log.steps();
        const head = Math.ceil(limit / 2);
        const tail = limit - head;
        const expected = [...Array.from({ length: head }, (_, i) => i + 1), ...Array.from({ length: tail }, (_, i) => n - tail + 1 + i)];
        assert.deepEqual(steps.map((s) => s.step), expected, `n=${n}`);
        assert.equal(log.truncated, n - limit, `n=${n}`);
        for (const s of steps) {
          const want: Record<string, unknown> = { x: s.step };
          if (s.step % 3 === 0) want.y = `y${s.step}`;
          assert.deepEqual(s.changed, want, `n=${n} step ${s.step}`);
          assert.equal(s.block, `b${s.step % 4}`);
          assert.equal(s.exit, s.step % 2 ? 'next' : 'other');
          assert.equal(s.ms, s.step / 1000);
          assert.deepEqual(s.notes, s.step % 2 ? [`note ${s.step}`] : undefined);
          assert.deepEqual(s.effect, s.step % 5 === 0 ? { n: s.step } : undefined);
        }
      }
    });
  }

  it('a short run keeps every step, in order, with nothing counted as left out', () => {
    const log = fill(10, 6);
    assert.deepEqual(log.steps().map((s) => s.step), [1, 2, 3, 4, 5, 6]);
    assert.equal(log.truncated, 0);
  });

  it('a step with several notes, clock reads and an error keeps them all', () => {
    const log = new TraceLog(10);
    log.end(1, 'S', 'a', 'Parser', 'failed', 0.5, { effect: undefined, notes: ['one', 'two'], clock: ['2026-12-01T00:00:00.000Z'], error: 'boom' });
    assert.deepEqual(log.steps(), [{ step: 1, scenario: 'S', block: 'a', kind: 'Parser', exit: 'failed', ms: 0.5, notes: ['one', 'two'], clock: ['2026-12-01T00:00:00.000Z'], error: 'boom' }]);
  });

  it('a step ended with at most one note (endWithNote) is the same entry as one ended with its details', () => {
    const a = new TraceLog(10);
    const b = new TraceLog(10);
    a.change('x', 1);
    b.change('x', 1);
    a.endWithNote(1, 'S', 'a', 'Variable', 'next', 0.25, undefined);
    b.end(1, 'S', 'a', 'Variable', 'next', 0.25, { effect: undefined, notes: undefined, clock: undefined });
    a.endWithNote(2, 'S', 'c', 'Condition', 'true', 0.5, 'compared 1 < 2');
    b.end(2, 'S', 'c', 'Condition', 'true', 0.5, { effect: undefined, notes: ['compared 1 < 2'], clock: undefined });
    a.change('y', 'z');
    b.change('y', 'z');
    a.endWithNote(3, 'S', 'p', 'Parser', 'next', 1, 'kept');
    b.end(3, 'S', 'p', 'Parser', 'next', 1, { effect: undefined, notes: ['kept'], clock: undefined });
    assert.deepEqual(a.steps(), b.steps());
    assert.deepEqual(JSON.stringify(a.steps()), JSON.stringify(b.steps()));
    assert.deepEqual(a.steps(), [
      { step: 1, scenario: 'S', block: 'a', kind: 'Variable', exit: 'next', ms: 0.25, changed: { x: 1 } },
      { step: 2, scenario: 'S', block: 'c', kind: 'Condition', exit: 'true', ms: 0.5, notes: ['compared 1 < 2'] },
      { step: 3, scenario: 'S', block: 'p', kind: 'Parser', exit: 'next', ms: 1, changed: { y: 'z' }, notes: ['kept'] },
    ]);
  });

  it('with a limit of 0, nothing is kept and every step is counted', () => {
    const log = fill(0, 50);
    assert.deepEqual(log.steps(), []);
    assert.equal(log.truncated, 50);
  });
});
