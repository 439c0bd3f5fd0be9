// The run record's values are serialised once: the size budget measures them, the store writes the same texts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runWrite } from '../../server/run-record.js';
import { runParams, toJson } from '../../server/store/sqlite.rows.js';
import { stringifyOnce } from '../../server/store/json-memo.js';
import type { RunResult } from '../../engine/index.js';

/** Counts JSON.stringify calls whose value `is` picks out, while `fn` runs. */
function stringifiesOf(is: (value: unknown) => boolean, fn: () => void): number {
  const original = JSON.stringify;
  let n = 0;
  JSON.stringify = ((value: unknown, ...rest: unknown[]) => {
    if (is(value)) n++;
    return (original as (...a: unknown[]) => string)(value, ...rest);
  }) as typeof JSON.stringify;
  try {
    fn();
  } finally {
    JSON.stringify = original;
  }
  return n;
}

const result = (): RunResult =>
  ({
    runId: 'r1',
    scenario: 'S',
    version: 'v',
    status: 'completed',
    startedAt: new Date(0).toISOString(),
    durationMs: 3,
    returnValues: { 1: 'ok' },
    variables: {},
    trace: [{ step: 1, scenario: 'S', block: 'a', kind: 'Variable', exit: 'next', ms: 0, changed: { x: 'Привет' } }],
    bpiumCalls: [],
    mails: [],
  }) as unknown as RunResult;

describe('run record JSON, made once', () => {
  it('the store writes the trace text the budget measured, without serialising the trace again', () => {
    const r = result();
    let row: ReturnType<typeof runParams> | undefined;
    // The stored trace is a copy of the run's (its values cut), so it is told by its one step.
    const isTrace = (v: unknown) => Array.isArray(v) && (v[0] as { block?: string } | undefined)?.block === 'a';
    const calls = stringifiesOf(isTrace, () => {
      row = runParams(runWrite(r, { trigger: 'http', params: { 1: '/x' } }));
    });
    assert.equal(calls, 1, 'one JSON.stringify of the trace for budget and store together');
    assert.deepEqual(JSON.parse(row!.trace!), r.trace);
    assert.deepEqual(JSON.parse(row!.params!), { 1: '/x' });
  });

  it('hands a text over once: an object changed after it was measured is serialised afresh the next time', () => {
    const value = { a: 1 };
    assert.equal(stringifyOnce(value), '{"a":1}');
    value.a = 2;
    assert.equal(toJson(value, 'v'), '{"a":1}', 'the measured text, as the record was measured');
    assert.equal(toJson(value, 'v'), '{"a":2}', 'taken once; then serialised as it is now');
    assert.equal(toJson(undefined, 'v'), 'null');
  });
});
