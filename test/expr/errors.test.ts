// Syntax errors: each points at the offending text (offset and length) with a message and a hint.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExpressionRuntimeError, parseExpression } from '../../engine/expr/index.js';
import { createContext } from './fixed-context.js';

/** [source, offset, length, message pattern] */
const SYNTAX_ERRORS: Array<[string, number, number, RegExp]> = [
  ['', 0, 0, /empty/],
  ['   ', 0, 0, /empty/],
  ['hello', 0, 5, /unquoted text "hello"/],
  ['Кусок текста + [x]', 0, 12, /unquoted text "Кусок текста"/],
  ['[x] + Кусок текста', 6, 12, /unquoted text "Кусок текста"/],
  ['[x] штук', 4, 4, /unquoted text "штук" after a value/],
  ['5 штук', 2, 4, /unquoted text "штук"/],
  ['every-minute', 0, 12, /unquoted text "every-minute"/],
  ['[x] + a-b c', 6, 5, /unquoted text "a-b c"/],
  ['every - 1', 0, 5, /unquoted text "every"/],
  ['[x] + "every"-minute', 6, 14, /^text quoted only up to the "-": "every"-minute$/],
  ['"every" - minute', 10, 6, /^unquoted text "minute"$/],
  ['[]', 0, 2, /empty variable name/],
  ['[  ]', 0, 4, /empty variable name/],
  ['[abc', 0, 4, /unclosed variable/],
  ['[a[b]', 2, 1, /cannot contain "\["/],
  ['[a\\b]', 2, 1, /cannot contain "\\"/],
  ['"abc', 0, 4, /unclosed string/],
  ["'abc", 0, 4, /unclosed string/],
  ['«abc', 0, 4, /unclosed string/],
  ['1 + «abc"', 4, 5, /unclosed string: « without »/],
  ['[a] +', 4, 1, /missing a value after "\+"/],
  ['[a] + * 2', 6, 1, /expected a value, found "\*"/],
  ['(1 + 2', 0, 1, /missing "\)"/],
  ['1 + 2)', 5, 1, /unmatched "\)"/],
  ['()', 0, 2, /empty parentheses/],
  ['1, 2', 1, 1, /unexpected ","/],
  ['1 2', 2, 1, /missing operator before "2"/],
  ['[a] [b]', 4, 3, /missing operator/],
  ['1 < 2 < 3', 6, 1, /cannot be chained/],
  ['Foo(1)', 0, 3, /unknown function "Foo"/],
  ['  Nmu([x])', 2, 3, /unknown function "Nmu"/],
  ['Now', 0, 3, /Now needs parentheses/],
  ['Now(1)', 0, 3, /Now takes 0 arguments, got 1/],
  ['SubStr("a")', 0, 6, /SubStr takes 2 to 3 arguments, got 1/],
  ['SubStr("a", 1, 2, 3)', 0, 6, /SubStr takes 2 to 3 arguments, got 4/],
  ['Min()', 0, 3, /Min takes at least 1 argument/],
  ['Len("a",)', 7, 1, /missing argument after ","/],
  ['Len("a"', 3, 1, /missing "\)" to close Length\(/],
  ['Len("a" "b")', 8, 3, /expected "," or "\)"/],
  ['SubStr([a]; 1)', 10, 1, /unexpected character ";"/],
  ['[a] & [b]', 4, 1, /unexpected character "&"/],
  ['1 % 2', 2, 1, /unexpected character "%"/],
  ['“text”', 0, 1, /unexpected character "“"/],
  ['"a\\"b"', 5, 1, /unclosed string/],
  ['=[a]', 0, 1, /expected a value, found "="/],
  ['and 1', 0, 3, /needs a value before it/],
  ['1.2.3', 3, 1, /unexpected character "."/],
  ['JsonGet([j], "a..b")', 13, 6, /bad path "a\.\.b": empty key between dots/],
  ['JsonGet([j], "a[x]")', 13, 6, /"\[x\]" is not an index/],
  ['JsonCount([j], "a b")', 15, 5, /holds spaces/],
  ['FormatDate(Now(), "hh:mm")', 18, 7, /"hh" is not a date format token/],
  ['ToDate("1", "yyy")', 12, 5, /"yyy" is not a date format token/],
  ['DateDiff("weeks", Now(), Now())', 9, 7, /unknown unit "weeks"/],
  ['InputParameter(0)', 15, 1, /whole number from 1, got 0/],
  ['InputParameter(-1)', 15, 2, /got -1/],
  ['InputParameter(1.5)', 15, 3, /got 1.5/],
  ['InputParameter("2")', 15, 3, /got "2"/],
  ['Round(1, 0.5)', 9, 3, /digits must be a whole number/],
  ['('.repeat(150) + '1' + ')'.repeat(150), 101, 1, /nested too deeply/],
  [Array.from({ length: 600 }, () => '1').join(' + '), 0, 2001, /too long/],
];

describe('syntax errors point at the offending text', () => {
  for (const [source, offset, length, message] of SYNTAX_ERRORS) {
    it(`${JSON.stringify(source.length > 40 ? `${source.slice(0, 40)}…` : source)} fails at ${offset}+${length} with ${message}`, () => {
      const r = parseExpression(source);
      assert.ok(!r.ok, 'expected a syntax error');
      assert.equal(r.error.code, 'E_INVALID_EXPRESSION');
      assert.match(r.error.message, message);
      assert.equal(r.error.offset, offset, `offset (message: ${r.error.message})`);
      assert.equal(r.error.length, length, 'length');
      assert.ok(r.error.hint && r.error.hint.length > 5, 'has a hint');
    });
  }

  it('a text quoted only up to its "-" ("every"-minute, what quoting "every" of every-minute gave) is quoted whole in the hint and fix', () => {
    for (const [source, hint, fix] of [
      ['"every"-minute', 'quote it whole: "every-minute"', '"every-minute"'],
      ["[x] + 'a'-b-c + [x]", 'quote it whole: "a-b-c"', '[x] + "a-b-c" + [x]'],
    ]) {
      const r = parseExpression(source!);
      assert.ok(!r.ok, source);
      assert.deepEqual([r.error.hint, r.error.fix], [hint, fix]);
      assert.ok(parseExpression(fix!).ok, fix);
    }
  });

  it('suggests close function names for a typo', () => {
    const r = parseExpression('Contans([a], "x")');
    assert.ok(!r.ok);
    assert.match(r.error.hint ?? '', /did you mean Contains/);
  });

  it('gives the signature when the argument count is wrong', () => {
    const r = parseExpression('Replace("a", "b")');
    assert.ok(!r.ok);
    assert.equal(r.error.hint, 'signature: Replace(text, find, replacement)');
  });

  it('tells how to put a quote inside a string when one is left open', () => {
    const r = parseExpression('"say "hi""');
    assert.ok(!r.ok);
    assert.equal(r.error.offset, 6);
    assert.match(r.error.hint ?? '', /another kind: '…', "…" or «…»/);
    const escaped = parseExpression('"a\\"b"');
    assert.ok(!escaped.ok);
    assert.match(escaped.error.hint ?? '', /no escapes/);
  });

  it('accepts expressions just under the nesting and length limits', () => {
    assert.ok(parseExpression('('.repeat(90) + '1' + ')'.repeat(90)).ok);
    assert.ok(parseExpression(Array.from({ length: 400 }, () => '[a]').join(' + ')).ok);
  });
});

describe('runtime errors name the operation and the expression', () => {
  const ctx = createContext({ s: 'abc', n: 0 });
  const RUNTIME: Array<[string, RegExp]> = [
    ['Num([s])', /^Num: cannot convert text "abc" to a number \(in expression "Num\(\[s\]\)"\)$/],
    ['[s] * 2', /^operator \*: cannot convert text "abc"/],
    ['-[s]', /^unary -: cannot convert/],
    ['1 / [n]', /^operator \/: division by zero/],
    ['Mod(1, [n])', /^Mod: division by zero/],
    ['10 ^ 400', /^operator \^: the result is too large/],
    ['(-8) ^ 0.5', /^operator \^: the result is not a number/],
    ['Log10([n])', /^Log10: the logarithm needs a number greater than 0/],
    ['Sqrt(-4)', /^Sqrt: cannot take the square root/],
    ['SubStr([s], "x")', /^SubStr: cannot convert text "x"/],
    ['ToDate([s])', /^ToDate: cannot read text "abc" as a date/],
    ['ToDate("2024", "dd.MM.yyyy")', /^ToDate: cannot read text "2024" as a date in the format "dd.MM.yyyy"/],
    ['AddDays([s], 1)', /^AddDays: cannot read text "abc" as a date/],
    ['FormatDate(Now(), [s] + "hh")', /^FormatDate: "hh" is not a date format token/],
    ['DateDiff([s], Now(), Now())', /^DateDiff: unknown unit "abc"/],
    ['JsonGet("{", "a")', /^JsonGet: text "\{" is not valid JSON/],
    ['JsonGet("{}", [s] + "..")', /^JsonGet: bad path "abc\.\."/],
    ['JsonGet(Now(), "a")', /^JsonGet: expected JSON text, got a date/],
    ['InputParameter([n])', /^InputParameter: the parameter number must be a whole number from 1, got 0/],
    ['Now() + Now()', /^operator \+: cannot add two dates/],
    ['Now() * 2', /^operator \*: cannot convert a date to a number/],
    ['PadLeft("a", 1000000)', /^PadLeft: length 1000000 is too large/],
    ['PadLeft("a", 5, "")', /^PadLeft: the fill text is empty/],
    ['UrlEncode("\uD800")', /^UrlEncode: the text holds a broken/],
    ['UrlDecode("%E0%A4%A")', /^UrlDecode: "%A" at character 7 is not a percent escape: % must be followed by two hex digits/],
    ['UrlDecode("100%")', /^UrlDecode: "%" at character 4 is not a percent escape/],
    ['UrlDecode("50% off")', /^UrlDecode: "% o" at character 3 is not a percent escape/],
    ['UrlDecode("ok %D0%B4 %E0%A4 x")', /^UrlDecode: the bytes "%E0%A4" at character 11 are not UTF-8 text/],
    ['UrlDecode("%C8%E2%E0%ED")', /^UrlDecode: the bytes "%C8%E2%E0%ED" at character 1 are not UTF-8 text/],
    ['Round(1, [n] + 20)', /^Round: digits must be from -15 to 15/],
  ];
  for (const [source, message] of RUNTIME) {
    it(`${source} throws ExpressionRuntimeError ${message}`, () => {
      const r = parseExpression(source);
      assert.ok(r.ok, r.ok ? '' : r.error.message);
      assert.throws(() => r.expr.evaluate(ctx), (e: unknown) => {
        assert.ok(e instanceof ExpressionRuntimeError, `got ${String(e)}`);
        assert.equal(e.code, 'R_EXPRESSION');
        assert.match(e.message, message);
        assert.equal(e.expression, source);
        return true;
      });
    });
  }

  it('leaves errors thrown by the context itself untouched', () => {
    class Boom extends Error {}
    const r = parseExpression('[x] + 1');
    assert.ok(r.ok);
    const failing = { ...createContext(), getVariable: () => { throw new Boom('store down'); } };
    assert.throws(() => r.expr.evaluate(failing), Boom);
  });

  it('reports an unknown time zone as an expression error', () => {
    const r = parseExpression('"at " + Now()');
    assert.ok(r.ok);
    assert.throws(() => r.expr.evaluate(createContext({}, { timeZone: 'Mars/Olympus' })), /unknown time zone "Mars\/Olympus"/);
    assert.throws(() => r.expr.evaluate(createContext({}, { timeZone: 'Europe/Moskow' })), /unknown time zone "Europe\/Moskow" \(did you mean Europe\/Moscow\? use an IANA name/);
  });
});
