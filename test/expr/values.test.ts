// Value conversions of engine/values.ts: to text, number, truth value, and into typed variables.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExpressionRuntimeError } from '../../engine/expr/index.js';
import { coerceToType, numberToText, toBoolean, toNumber, toText, type Value, type VarType } from '../../engine/values.js';

const TZ = 'Europe/Moscow';
const D = new Date('2024-03-15T06:30:05.500Z');

describe('toText', () => {
  const cases: Array<[Value, string]> = [
    ['text', 'text'], ['', ''], [42, '42'], [-0, '0'], [3.5, '3.5'], [0.1 + 0.2, '0.3'], [1 / 3, '0.333333333333333'],
    [1e21, '1e+21'], [123456789012345678, '1.23456789012346e+17'], [Number.MAX_SAFE_INTEGER, '9007199254740991'], [-(2 ** 60), '-1.15292150460685e+18'],
    [0.0000001, '0.0000001'], [-2.5e-8, '-0.000000025'], [123456789.123, '123456789.123'],
    [true, 'true'], [false, 'false'], [null, ''], [D, '15.03.2024 09:30:05'],
  ];
  for (const [v, expected] of cases) {
    it(`turns ${v instanceof Date ? v.toISOString() : JSON.stringify(v)} into ${JSON.stringify(expected)}`, () => {
      assert.equal(toText(v, TZ), expected);
    });
  }
  it('prints dates in the given zone', () => {
    assert.equal(toText(D, 'UTC'), '15.03.2024 06:30:05');
    assert.equal(toText(D, 'Asia/Vladivostok'), '15.03.2024 16:30:05');
  });
  it('keeps numberToText consistent with toText', () => {
    assert.equal(numberToText(2.675), toText(2.675, TZ));
  });
});

describe('toNumber', () => {
  const ok: Array<[Value, number]> = [
    [7, 7], ['7', 7], [' 7 ', 7], ['-7.5', -7.5], ['3,5', 3.5], ['+2', 2], ['.5', 0.5], ['1e3', 1000], ['', 0], ['  ', 0],
    [null, 0], [true, 1], [false, 0],
  ];
  for (const [v, expected] of ok) {
    it(`converts ${JSON.stringify(v)} to ${expected}`, () => assert.equal(toNumber(v), expected));
  }
  const bad: Value[] = ['abc', '1 000', '1,000.5', '0x10', 'Infinity', '12abc', '1e400', D];
  for (const v of bad) {
    it(`refuses ${v instanceof Date ? 'a date' : JSON.stringify(v)} with an ExpressionRuntimeError`, () => {
      assert.throws(() => toNumber(v, 'Num'), (e: unknown) => e instanceof ExpressionRuntimeError && e.message.startsWith('Num: cannot convert'));
    });
  }
});

describe('toBoolean', () => {
  const cases: Array<[Value, boolean]> = [
    [true, true], [false, false], [1, true], [0, false], [-1, true], [null, false], ['', false], ['  ', false],
    ['0', false], ['0.0', false], ['false', false], ['FALSE', false], [' false ', false], ['true', true], ['no', true],
    ['1', true], ['x', true], [D, true],
  ];
  for (const [v, expected] of cases) {
    it(`reads ${v instanceof Date ? 'a date' : JSON.stringify(v)} as ${expected}`, () => assert.equal(toBoolean(v), expected));
  }
});

describe('coerceToType (assignment to a typed variable)', () => {
  const ok: Array<[VarType, Value, Value]> = [
    ['number', 5, 5], ['number', '5', 5], ['number', '3,5', 3.5], ['number', ' -2.25 ', -2.25], ['number', '', 0],
    ['number', null, 0], ['number', true, 1],
    ['string', 'x', 'x'], ['string', 5, '5'], ['string', D, '15.03.2024 09:30:05'], ['string', null, ''], ['string', false, 'false'],
    ['datetime', D, D], ['datetime', null, null], ['datetime', '', null], ['datetime', '15.03.2024 09:30:05', new Date('2024-03-15T06:30:05Z')],
    ['datetime', '2024-03-15T06:30:05Z', new Date('2024-03-15T06:30:05Z')], ['datetime', '15.03.2024', new Date('2024-03-14T21:00:00Z')],
    ['json', '{"a": [1, 2]}', '{"a": [1, 2]}'], ['json', '"text"', '"text"'], ['json', '42', '42'], ['json', '', 'null'],
    ['json', null, 'null'], ['json', 1.5, '1.5'], ['json', true, 'true'], ['json', D, '"2024-03-15T06:30:05.500Z"'],
  ];
  for (const [type, v, expected] of ok) {
    it(`stores ${v instanceof Date ? 'a date' : JSON.stringify(v)} in a ${type} variable as ${expected instanceof Date ? expected.toISOString() : JSON.stringify(expected)}`, () => {
      assert.deepEqual(coerceToType(v, type, TZ), expected);
    });
  }
  const bad: Array<[VarType, Value, RegExp]> = [
    ['number', 'abc', /cannot convert text "abc" to a number/],
    ['number', D, /cannot convert the date 15\.03\.2024 09:30:05 to a number/],
    ['number', Infinity, /cannot store Infinity/],
    ['datetime', 'завтра', /cannot read text "завтра" as a date/],
    ['datetime', '31.02.2024', /cannot read text/],
    ['datetime', 5, /cannot convert the number 5 to a date/],
    ['json', '{a: 1}', /is not valid JSON/],
    ['json', 'plain text', /is not valid JSON/],
  ];
  for (const [type, v, message] of bad) {
    it(`refuses ${v instanceof Date ? 'a date' : JSON.stringify(v)} for a ${type} variable`, () => {
      assert.throws(() => coerceToType(v, type, TZ), (e: unknown) => e instanceof ExpressionRuntimeError && message.test(e.message));
    });
  }
});
