// Expression syntax: literals, variables, quotes, keywords, function names, precedence and what parsing reports.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseExpression } from '../../engine/expr/index.js';
import type { Value } from '../../engine/values.js';
import { createContext, run } from './fixed-context.js';

const ctx = createContext({
  a: 7, s: 'xyz', 'переменная_строка_1': 'abc', 'переменная_число_1': 41, 'переменная_число_2': 3, 'переменная_число_3': 100,
  'переменная_строка': 'Привет', 'Имя клиента': 'Пётр', x2_y: 'ok',
}, { params: { 2: 'второй', 4: '7xxx' } });

function expectValue(cases: Array<[string, Value]>) {
  for (const [source, expected] of cases) {
    it(`${source} evaluates to ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(run(source, ctx), expected);
    });
  }
}

describe('the verbatim examples of Oktell\'s «Выражения» page', () => {
  expectValue([
    ['[переменная_число_1] + 1', 42],
    ['2 ^ [переменная_число_2] * ( Log10 ( [переменная_число_3] ) + 2 )', 32],
    ['Sin ( Len ( [переменная_строка_1] ) )', Math.sin(3)],
    ['[переменная_строка_1] + [переменная_строка_1]', 'abcabc'],
    ['«Кусок текста» + [переменная_строка_1]', 'Кусок текстаabc'],
    ['2 + 3 + [переменная_строка_1]', '5abc'],
    ['«2» + «3» + [переменная_строка_1]', '23abc'],
    ['SubStr ( [переменная_строка], 1, Length ( [переменная_строка] ) - 1 )', 'ривет'],
    ["If ( num([a]) > 5, 'больше', 'меньше')", 'больше'],
  ]);
  it('refuses the unquoted-text example and suggests quoting it', () => {
    const r = parseExpression('Кусок текста + [ переменная_строка_1]');
    assert.ok(!r.ok);
    assert.equal(r.error.offset, 0);
    assert.equal(r.error.length, 'Кусок текста'.length);
    assert.match(r.error.hint ?? '', /"Кусок текста"/);
  });
});

describe('literals', () => {
  expectValue([
    ['"double"', 'double'],
    ["'single'", 'single'],
    ['«ёлочки»', 'ёлочки'],
    ['\'He said "yes"\'', 'He said "yes"'],
    ['"It\'s"', "It's"],
    ['«"quoted" and \'single\'»', '"quoted" and \'single\''],
    ['""', ''],
    ['12', 12],
    ['3.5', 3.5],
    ['-1', -1],
    ['- 1', -1],
    ['--1', 1],
    ['true', true],
    ['FALSE', false],
    ['True and not False', true],
  ]);
});

describe('variables', () => {
  expectValue([
    ['[Имя клиента]', 'Пётр'],
    ['[ Имя клиента ]', 'Пётр'],
    ['[\tИмя клиента  ]', 'Пётр'],
    ['[x2_y]', 'ok'],
    ['[not declared]', null],
  ]);
  it('lists every referenced variable once, trimmed, in order of appearance', () => {
    const r = parseExpression('[b] + [ a ] + [b] + [Имя клиента] + [a]');
    assert.ok(r.ok);
    assert.deepEqual(r.expr.variables, ['b', 'a', 'Имя клиента']);
  });
});

describe('function names', () => {
  expectValue([
    ['num("5")', 5],
    ['Num("5")', 5],
    ['NUM("5")', 5],
    ['len("abc") + LENGTH("ab")', 5],
    ['InputParameter(2)', 'второй'],
    ['inputparameter(4)', '7xxx'],
    ['ВходнойПараметр(2)', 'второй'],
    ['Входной параметр(2)', 'второй'],
    ['входной   Параметр (2)', 'второй'],
    ['Входной параметр(3)', ''],
  ]);
  it('reports canonical names of the functions used, once each', () => {
    const r = parseExpression('len([a]) + Length([b]) + входной параметр(2) + ВходнойПараметр(3) + SUBSTR("a", 0)');
    assert.ok(r.ok);
    assert.deepEqual(r.expr.functions, ['Length', 'InputParameter', 'SubStr']);
  });
});

describe('constant expressions', () => {
  const cases: Array<[string, boolean]> = [
    ['1 + 2', true],
    ['"a" + Upper("b")', true],
    ['ToDate("01.01.2024")', true],
    ['[a] + 1', false],
    ['InputParameter(2)', false],
    ['Now()', false],
    ['Today()', false],
    ['If(true, 1, Now())', false],
  ];
  for (const [source, constant] of cases) {
    it(`${source} is ${constant ? '' : 'not '}constant`, () => {
      const r = parseExpression(source);
      assert.ok(r.ok);
      assert.equal(r.expr.constant, constant);
      assert.equal(r.expr.source, source);
    });
  }
});

describe('precedence and associativity', () => {
  expectValue([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['2 * 3 ^ 2', 18],
    ['2 ^ 3 ^ 2', 512],
    ['-2 ^ 2', 4],
    ['2 ^ -1', 0.5],
    ['- [a] ^ 2', 49],
    ['10 - 4 - 3', 3],
    ['100 / 10 / 5', 2],
    ['1 + 2 = 3', true],
    ['1 + 2 > 2 * 2', false],
    ['not 1 = 2', true],
    ['! 1 = 2', true],
    ['true or false and false', true],
    ['(true or false) and false', false],
    ['not true or true', true],
    ['not (true or true)', false],
    ['1 = not 0', true],
    ['false = not [a]', true],
    ['not [a] = 7', false],
    ['1 < 2 and 2 < 3', true],
    ['1 < 2 && 3 < 2 || 5 = 5', true],
    ['1 <> 2', true],
    ['1 != 1', false],
    ['2 == 2', true],
    ['3 >= 3 AND 3 <= 3', true],
    ['"a" + 1 + 2', 'a12'],
    ['"a" + (1 + 2)', 'a3'],
    ['1 + 2 + "a" + 1 + 2', '3a12'],
  ]);
});
