// Edge cases found by the expression trial (notes/trial-56-expr.md): number literals, emoji in text functions,
// time-zone offsets, dates out of range, rounding of large numbers and the cost of long expressions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExpressionRuntimeError, parseExpression } from '../../engine/expr/index.js';
import type { Value } from '../../engine/values.js';
import { createContext, run } from './fixed-context.js';

function syntaxErrorOf(source: string) {
  const r = parseExpression(source);
  assert.ok(!r.ok, `expected a syntax error in ${source.slice(0, 80)}`);
  return r.error;
}

function runtimeErrorOf(source: string): ExpressionRuntimeError {
  try {
    run(source, createContext({ d: new Date('2024-03-15T06:30:00Z') }));
  } catch (e) {
    assert.ok(e instanceof ExpressionRuntimeError, `expected ExpressionRuntimeError, got ${String(e)}`);
    return e;
  }
  assert.fail(`expected ${source} to fail`);
}

describe('number literals', () => {
  it('refuses exponent form as such, with the number written out as the fix (not `1 + "e3"`)', () => {
    const e = syntaxErrorOf('[n] * 1e3');
    assert.equal(e.message, 'exponent form 1e3 is not written in expressions');
    assert.deepEqual([e.offset, e.length], [6, 3]);
    assert.match(e.hint ?? '', /write the number in full: 1000/);
    assert.equal(e.fix, '[n] * 1000');
    assert.equal(syntaxErrorOf('2.5E-3').fix, '0.0025');
    assert.equal(syntaxErrorOf('1e-400').fix, undefined);
  });

  it('refuses a literal too large for a number instead of making it Infinity', () => {
    const e = syntaxErrorOf('1' + '0'.repeat(400));
    assert.match(e.message, /is too large \(401 characters\)/);
  });

  it('refuses an integer literal a number cannot hold exactly, with the quoted text as the fix', () => {
    const e = syntaxErrorOf('[id] = 12345678901234567890');
    assert.match(e.message, /12345678901234567890 has more digits than a number holds exactly: it would be 12345678901234567168/);
    assert.deepEqual([e.offset, e.length], [7, 20]);
    assert.equal(e.fix, '[id] = "12345678901234567890"');
    assert.equal(syntaxErrorOf('9007199254740993').offset, 0);
  });

  it('keeps integer literals that are held exactly, however long', () => {
    assert.equal(run('9007199254740992'), 2 ** 53);
    assert.equal(run('100000000000000000000'), 1e20);
    assert.equal(run('1.123456789012345678901234567890'), 1.1234567890123457);
  });

  it('says how to write .5 and the decimal comma 1,5', () => {
    const dot = syntaxErrorOf('[n] + .25');
    assert.equal(dot.message, 'a number starts with a digit: ".25"');
    assert.equal(dot.fix, '[n] + 0.25');
    const comma = syntaxErrorOf('[n] * 1,5');
    assert.equal(comma.offset, 7);
    assert.match(comma.hint ?? '', /a decimal is written with a dot: 1\.5/);
    assert.equal(comma.fix, '[n] * 1.5');
    assert.equal(run('Max(1,5)'), 5);
  });
});

describe('long expressions', () => {
  it('finds digit groups in linear time: 100,000 numbers are refused in well under a second, not many seconds', () => {
    const source = Array(100_000).fill('1').join(' and ');
    const t0 = performance.now();
    const e = syntaxErrorOf(source);
    const ms = performance.now() - t0;
    assert.match(e.message, /too long/);
    assert.ok(ms < 2500, `took ${ms.toFixed(0)} ms`);
  });

  it('bounds the arguments of one call instead of failing with an internal error (stack overflow)', () => {
    const e = syntaxErrorOf(`Max(${Array(1_000_000).fill('1').join(',')})`);
    assert.equal(e.message, 'Max has more than 500 arguments');
    assert.equal(e.offset, 'Max('.length + 500 * 2);
    assert.equal(run(`Max(${Array(500).fill('1').join(',')}, 2)`.replace('Max(1,', 'Max(')), 2);
  });
});

describe('emoji (surrogate pairs) in text functions', () => {
  const cases: Array<[string, Value]> = [
    ['SubStr("😀x", 1)', 'x'],
    ['SubStr("😀x", 0, 1)', ''],
    ['SubStr("😀x", 0, 2)', '😀'],
    ['SubStr("a😀x", 2, 2)', 'x'],
    ['Left("😀x", 1)', ''],
    ['Left("x😀y", 2)', 'x'],
    ['Right("x😀", 1)', ''],
    ['Right("x😀", 2)', '😀'],
    ['PadLeft("7", 2, "😀")', '7'],
    ['PadLeft("7", 3, "😀")', '😀7'],
    ['UrlEncode(Left("😀😀", 3))', '%F0%9F%98%80'],
    ['Left("Привет", 3)', 'При'],
    ['Length("😀")', 2],
  ];
  for (const [source, expected] of cases) {
    it(`${source} is ${JSON.stringify(expected)}: an emoji is kept whole or left out, never cut in half`, () => {
      assert.equal(run(source), expected);
    });
  }
});

describe('dates', () => {
  it('refuses an ISO offset that is no zone (+99:99, +05:60) and reads the real ones', () => {
    assert.match(runtimeErrorOf('ToDate("2024-03-15T09:30:00+99:99")').message, /cannot read text "2024-03-15T09:30:00\+99:99" as a date/);
    assert.match(runtimeErrorOf('ToDate("2024-03-15T09:30:00+05:60")').message, /cannot read text/);
    assert.deepEqual(run('ToDate("2024-03-15T09:30:00+14:00")'), new Date('2024-03-14T19:30:00Z'));
    assert.deepEqual(run('ToDate("2024-03-15T09:30:00-1200")'), new Date('2024-03-15T21:30:00Z'));
  });

  it('says a date pushed past the range of dates is out of range (not "Invalid time value")', () => {
    assert.match(runtimeErrorOf('AddDays([d], 100000000)').message, /^AddDays: the resulting date is out of range/);
    assert.match(runtimeErrorOf('[d] + 99999999').message, /^operator \+: the resulting date is out of range/);
  });
});

describe('Round of large numbers', () => {
  it('gives a number with no fraction at that scale back as it is', () => {
    assert.equal(run('Round(Num("1e300"), 15)'), 1e300);
    assert.equal(run('Round(100000000000000000000, 2)'), 1e20);
    assert.equal(run('Round(Num("1.5e300"))'), 1.5e300);
    assert.equal(run('Round(4503599627370495.5)'), 4503599627370496);
    assert.equal(run('Round(1.005, 2)'), 1.01);
  });
});
