// Operator semantics: Oktell's + rule, arithmetic on text, dates and booleans, comparisons and short-circuit logic.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseExpression } from '../../engine/expr/index.js';
import type { Value } from '../../engine/values.js';
import { createContext, run } from './fixed-context.js';

const ctx = createContext({
  n: 5, five: '5', price: '3,5', s: 'abc', t: true, nul: null, empty: '',
  d: new Date('2024-03-15T06:30:00Z'), d2: new Date('2024-03-16T18:30:00Z'),
});

function table(title: string, cases: Array<[string, Value]>) {
  describe(title, () => {
    for (const [source, expected] of cases) {
      it(`${source} → ${expected instanceof Date ? expected.toISOString() : JSON.stringify(expected)}`, () => {
        assert.deepEqual(run(source, ctx), expected);
      });
    }
  });
}

table('the + rule: numbers add until text appears, then everything joins as text', [
  ['2 + 3', 5],
  ['2 + 3 + [s]', '5abc'],
  ['[s] + 2 + 3', 'abc23'],
  ['"2" + "3" + [s]', '23abc'],
  ['[n] + 1', 6],
  ['[five] + 1', '51'],
  ['[n] + [five]', '55'],
  ['[n] + [price]', '53,5'],
  ['[n] + Num([price])', 8.5],
  ['1.5 + 1.5', 3],
  ['[s] + 0.1 + 0.2', 'abc0.10.2'],
  ['[s] + (0.1 + 0.2)', 'abc0.3'],
  ['[s] + [t]', 'abctrue'],
  ['[t] + 1', 2],
  ['[t] + [t]', 2],
  ['[nul] + 1', 1],
  ['[nul] + [s]', 'abc'],
  ['[nul] + [nul]', 0],
  ['[empty] + 1', '1'],
  ['"Дата: " + [d]', 'Дата: 15.03.2024 09:30:00'],
  ['[d] + ""', '15.03.2024 09:30:00'],
  ['[d] + 1', new Date('2024-03-16T06:30:00Z')],
  ['1 + [d]', new Date('2024-03-16T06:30:00Z')],
  ['[d] + 0.25', new Date('2024-03-15T12:30:00Z')],
  ['[d] + "1"', '15.03.2024 09:30:001'],
]);

table('arithmetic converts numeric text and handles dates', [
  ['[five] - 1', 4],
  ['[price] * 2', 7],
  ['"10" / "4"', 2.5],
  ['[five] ^ 2', 25],
  ['-[five]', -5],
  ['[t] * 3', 3],
  ['[d] - 1', new Date('2024-03-14T06:30:00Z')],
  ['[d] - "1"', new Date('2024-03-14T06:30:00Z')],
  ['[d2] - [d]', 1.5],
  ['[d] - [d2]', -1.5],
  // Date text on either side of a date is read as a date, as comparisons read it; numeric text stays days.
  ['[d] - "14.03.2024 09:30"', 1],
  ['[d2] - "2024-03-15T06:30:00Z"', 1.5],
  ['"16.03.2024 21:30" - [d]', 1.5],
  ['[d] - "0,5"', new Date('2024-03-14T18:30:00Z')],
]);

table('comparisons', [
  ['[n] = 5', true],
  ['[n] = [five]', true],
  ['[five] = 5', true],
  ['[n] = "5.0"', true],
  ['[n] = "5,0"', true],
  ['[n] > "10"', false],
  ['"9" > "10"', true],
  ['9 > "10"', false],
  ['[n] = "пять"', false],
  ['[n] < "пять"', true],
  ['0 = ""', false],
  ['[nul] = ""', true],
  ['[nul] = [nul]', true],
  ['"abc" = "abc"', true],
  ['"abc" = "ABC"', false],
  ['"a" < "b"', true],
  ['"Я" > "А"', true],
  // ё and Ё sort in the Russian alphabet, after е and Е, not by code (after я, before А).
  ['"ёлка" < "яблоко"', true],
  ['"ёж" > "ель"', true],
  ['"ёж" < "жук"', true],
  ['"Ёлка" > "Алла"', true],
  ['"Ёлка" < "Жанна"', true],
  ['"Ёлка" > "Ель"', true],
  ['"Ё" < "а"', true],
  ['"ё" = "е"', false],
  ['"b" >= "b"', true],
  ['[t] = true', true],
  ['[t] = 1', true],
  ['[t] = "true"', true],
  ['false < true', true],
  ['[d] < [d2]', true],
  ['[d] = "15.03.2024 09:30"', true],
  ['[d] = "2024-03-15T06:30:00Z"', true],
  ['[d] < "16.03.2024"', true],
  ['[d] = "not a date"', false],
  ['0.1 + 0.2 = 0.3', true],
  ['0.1 + 0.2 > 0.3', false],
  ['1 = 1.000000001', false],
  ['1000000 = 1000000.0000000001', true],
  ['[n] <> 5', false],
  ['[n] != 4', true],
]);

table('logic', [
  ['true and false', false],
  ['true or false', true],
  ['not false', true],
  ['not not true', true],
  ['1 and "x"', true],
  ['"" or 0', false],
  ['not [empty]', true],
  ['![n]', false],
]);

describe('and / or evaluate their right side only when needed', () => {
  for (const [source, expected] of [['false and 1 / 0 = 1', false], ['true or 1 / 0 = 1', true], ['[n] > 1 or Num("x") = 1', true]] as const) {
    it(`${source} → ${expected} without evaluating the right side`, () => assert.equal(run(source, ctx), expected));
  }
  it('reads variables of the untaken If branch not at all', () => {
    const reads: string[] = [];
    const counting = { ...createContext(), getVariable: (name: string) => { reads.push(name); return name === 'cond' ? 0 : 'v'; } };
    const r = parseExpression('If([cond], [then], [else])');
    assert.ok(r.ok);
    assert.equal(r.expr.evaluate(counting), 'v');
    assert.deepEqual(reads, ['cond', 'else']);
  });
});
