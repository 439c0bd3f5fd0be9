// A variable whose declaration has a problem is still declared: its one real problem is reported, and reading or
// setting it is not reported again as an unknown variable with a hint to declare it a second time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioText } from '../../engine/index.js';

const load = (text: string, timeZone?: string) => {
  const r = loadScenarioText('V.yaml', text, { registry: defaultRegistry, ...(timeZone ? { timeZone } : {}) });
  return r.ok ? [] : r.issues.map((i) => [i.code, i.line, i.col, i.message, i.hint]);
};

describe('one mistake in a variable declaration is one problem', () => {
  it('a bad initial value, a misspelt type and a lost-digits initial: one problem each, no "unknown variable"', () => {
    const issues = load(`variables:
  num: { type: number, initial: "abc" }
  dt: { type: datetime, initial: "32.01.2024" }
  weird: strng
  id: { type: string, initial: +79001234567 }
blocks:
  a:
    kind: Variable
    set:
      num: '[num] + 1'
      dt: 'Now()'
      weird: '[weird] + [id]'
`);
    assert.deepEqual(issues.map((i) => [i[0], i[1], i[2]]), [
      ['E_INVALID_VARIABLE', 2, 33],
      ['E_INVALID_VARIABLE', 3, 34],
      ['E_INVALID_VARIABLE', 4, 10],
      ['E_INVALID_VARIABLE', 5, 32],
    ]);
    assert.equal(issues[0]![3], 'initial value of "num": cannot convert text "abc" to a number');
    assert.equal(issues[2]![4], 'did you mean weird: string? types: string, number, datetime, json');
  });
  it('the variable with a bad initial keeps its type: a constant its type cannot hold is still refused at the assignment', () => {
    const issues = load(`variables:\n  num: { type: number, initial: "abc" }\nblocks:\n  a:\n    kind: Variable\n    set:\n      num: '"zero"'\n`);
    assert.deepEqual(issues.map((i) => i[0]), ['E_INVALID_VARIABLE', 'E_INVALID_PROPERTY']);
  });
  it('a variable that is really not declared is still reported', () => {
    const issues = load(`variables:\n  num: { type: number, initial: "abc" }\nblocks:\n  a:\n    kind: Variable\n    set:\n      num: '[nmu] + 1'\n`);
    assert.deepEqual(issues.map((i) => [i[0], i[4]]), [['E_INVALID_VARIABLE', 'give a value of type number'], ['E_UNKNOWN_VARIABLE', 'did you mean [num]?']]);
  });
});
