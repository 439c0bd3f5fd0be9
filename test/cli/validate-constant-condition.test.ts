// Trial 50, mutations 199–201: a Condition whose expression reads nothing and is no yes/no (`1 + 2`, a text) takes
// the same exit on every run: validate warns at the expression. A variable of any type, a comparison of constants
// (`1 = 1`, Oktell's "always") and true/false/0/1 are left alone: every value has a truth (docs/expressions.md).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateFolder } from './cli.helper.js';

/** A scenario whose Condition block `c` (line 4) has `expression` on line 6. */
const condition = (expression: string) => `variables: { address: string, n: number }
start: c
blocks:
  c:
    kind: Condition
    expression: ${expression}
    exits: { true: yes, false: no }
  yes: { kind: ReturnValue, values: { 1: '"yes"' } }
  no: { kind: ReturnValue, values: { 1: '"no"' } }
`;

describe('validate: a Condition that is the same on every run and no yes/no', () => {
  it('warns of arithmetic and of text, at the expression, with the exit always taken', () => {
    const r = validateFolder({ 'Sum.yaml': condition(`'1 + 2'`), 'Word.yaml': condition(`'"address"'`) });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(r.warnings, [
      'warning: Sum.yaml:6:17: Condition block c of Sum: the expression 1 + 2 is 3 on every run (it reads no variable, parameter or clock), not a yes/no, so the block always takes its "true" exit: compare a variable with it, e.g. [count] = 1 + 2',
      'warning: Word.yaml:6:17: Condition block c of Word: the expression "address" is "address" on every run (it reads no variable, parameter or clock), not a yes/no, so the block always takes its "true" exit: compare a variable with it, e.g. [count] = "address"',
    ]);
  });

  it('leaves alone a variable of any type, arithmetic on one, a comparison of constants, true and 1', () => {
    const r = validateFolder({
      'Text.yaml': condition(`'[address]'`),
      'Arith.yaml': condition(`'[n] - 1'`),
      'Always.yaml': condition(`'1 = 1'`),
      'True.yaml': condition('true'),
      'One.yaml': condition('1'),
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(r.warnings, []);
  });
});
