// Lows of the expression review: where a run-time error of an operator points, number literals in exponent form,
// `[a].5`, columns after YAML escapes, and the cost of finding where a failed expression failed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { fixedClock, loadScenarioText, randomIds, runScenario, type EnginePorts, type Scenario, type ScenarioLibrary } from '../../engine/index.js';
import { ExpressionRuntimeError, parseExpression } from '../../engine/expr/index.js';
import type { Value } from '../../engine/values.js';
import { createContext, run, runtimeError, MOSCOW } from './fixed-context.js';
import type { EvalContext } from '../../engine/expr/index.js';

const ports: EnginePorts = { clock: fixedClock(new Date('2026-12-01T09:00:00Z')), ids: randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) } };

/** Runs a scenario whose block `b` sets `n` to `value` (as written in YAML, from column 10 of line 14); its error. */
async function runFailure(value: string) {
  const text = `variables:\n  p: string\n  n: number\n  z: number\nstart: a\nblocks:\n  a:\n    kind: Variable\n    set: { p: '"abc"' }\n    exits: { next: b }\n  b:\n    kind: Variable\n    set:\n      n: ${value}\n`;
  const loaded = loadScenarioText('Lows.yaml', text, { registry: defaultRegistry });
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.issues));
  const scenario = (loaded as { scenario: Scenario }).scenario;
  const lib: ScenarioLibrary = { dir: '.', scenarios: new Map([[scenario.name, scenario]]), issues: [] };
  const r = await runScenario(lib, scenario.name, { dryRun: true, timeZone: 'UTC', ports });
  assert.equal(r.status, 'failed');
  const e = r.status === 'failed' ? r.error : undefined!;
  /** The text the error's line:col points at, to its line's end. */
  const at = text.split('\n')[e.line! - 1]!.slice(e.col! - 1);
  return { message: e.message, line: e.line, col: e.col, at };
}

describe('a run-time error of a binary operator points at the operator, not at its left operand', () => {
  const rows: Array<[source: string, vars: Record<string, Value>, message: RegExp, offset: number, length: number]> = [
    ['[a] - "x"', { a: 5 }, /^operator -: cannot convert text "x" to a number/, 4, 1],
    ['"x" * 2', {}, /^operator \*: cannot convert text "x" to a number/, 4, 1],
    ['[a] / [z]', { a: 5, z: 0 }, /^operator \/: division by zero/, 4, 1],
    ['1 + [a] / [z]', { a: 5, z: 0 }, /^operator \/: division by zero/, 8, 1],
    ['([a] + 1) * "x"', { a: 5 }, /^operator \*: cannot convert text "x" to a number/, 10, 1],
    ['[z] ^ -1 + 1', { z: 0 }, /^operator \^: division by zero/, 4, 1],
    ['[a] -\n  "x"', { a: 5 }, /^operator -: cannot convert text "x" to a number/, 4, 1],
    ['[d] + [d]', { d: new Date('2024-03-15T00:00:00Z') }, /^operator \+: cannot add two dates/, 4, 1],
  ];
  for (const [source, vars, message, offset, length] of rows) {
    it(JSON.stringify(source), () => {
      const e = runtimeError(source, vars);
      assert.match(e.message, message);
      assert.deepEqual(e.span, { offset, length });
    });
  }

  it('a failing call still points at the call', () => {
    assert.deepEqual(runtimeError('1 + Num("x") - 1').span, { offset: 4, length: 8 });
  });

  it('in a scenario, file:line:col is the operator', async () => {
    // line 14 is `      n: '[n] - [p]'`: the value starts at column 10, its "-" is at column 15.
    const one = await runFailure(`'[n] - [p]'`);
    assert.match(one.message, /operator -: cannot convert text "abc" to a number/);
    assert.deepEqual([one.line, one.col, one.at], [14, 15, `- [p]'`]);
    const several = await runFailure('|-\n        [n] +\n        1 / [z]');
    assert.match(several.message, /operator \/: division by zero/);
    assert.deepEqual([several.line, several.col, several.at], [16, 11, '/ [z]']);
  });
});

describe('a number in exponent form is written out with the digits written, as Number() reads them', () => {
  function syntaxErrorOf(source: string) {
    const r = parseExpression(source);
    assert.ok(!r.ok, `expected a syntax error in ${source}`);
    return r.error;
  }
  // Each fix was written from the nearest binary number (0.000000149999999999999993212 for 1.5e-7) or not at all.
  const rows: Array<[written: string, plain: string]> = [
    ['1.5e-7', '0.00000015'],
    ['0.1e-6', '0.0000001'],
    ['3.3e-9', '0.0000000033'],
    ['1.1e-10', '0.00000000011'],
    ['1.2345678901234567e-7', '0.00000012345678901234567'],
    ['12.5e-1', '1.25'],
    ['1.50e1', '15'],
    ['2.5e20', '250000000000000000000'],
    ['1E3', '1000'],
  ];
  for (const [written, plain] of rows) {
    it(written, () => {
      const e = syntaxErrorOf(`[n] * ${written}`);
      assert.equal(e.message, `exponent form ${written} is not written in expressions`);
      assert.equal(e.hint, `write the number in full: ${plain} (or Num("${written}") to read the text)`);
      assert.equal(e.fix, `[n] * ${plain}`);
      assert.deepEqual([e.offset, e.length], [6, written.length]);
      assert.equal(Number(plain), Number(written));
      assert.equal(run(plain), Number(written));
    });
  }

  it('a minus in front stays in the fix', () => {
    assert.equal(syntaxErrorOf('-1.5e-7').fix, '-0.00000015');
  });

  it('one whose plain digits are an integer a number cannot hold is not offered in digits that differ from it', () => {
    // Was "write the number in full: 12345678901234567168", the double's digits, not the ones written.
    const e = syntaxErrorOf('1.2345678901234567891e19');
    assert.equal(e.hint, 'the number cannot be written in plain digits here; as text read by Num: Num("1.2345678901234567891e19")');
    assert.equal(e.fix, undefined);
  });
});

describe('a "." right after a value ([a].5) says what was read and what to write', () => {
  function syntaxErrorOf(source: string) {
    const r = parseExpression(source);
    assert.ok(!r.ok, `expected a syntax error in ${source}`);
    return r.error;
  }
  // Was 'a number starts with a digit: ".5"', hint "write 0.5", fix "[a]0.5" (itself an error), or "unexpected character".
  const rows: Array<[source: string, message: string, hint: string, offset: number, length: number]> = [
    ['[a].5', '".5" right after the value [a]: expressions read no part of a value with "."',
      'to multiply, write [a] * 0.5; to read item 5 of JSON text, write JsonGet([a], "5")', 3, 2],
    ['[a] .25 + 1', '".25" right after the value [a]: expressions read no part of a value with "."',
      'to multiply, write [a] * 0.25; to read item 25 of JSON text, write JsonGet([a], "25")', 4, 3],
    ['Len([s]).5', '".5" right after the value Len([s]): expressions read no part of a value with "."',
      'to multiply, write Len([s]) * 0.5; to read item 5 of JSON text, write JsonGet(Len([s]), "5")', 8, 2],
    ['1 + ([a] + 1).5', '".5" right after the value ([a] + 1): expressions read no part of a value with "."',
      'to multiply, write ([a] + 1) * 0.5; to read item 5 of JSON text, write JsonGet(([a] + 1), "5")', 13, 2],
    ['[body].payload.id', '".payload.id" right after the value [body]: expressions read no part of a value with "."',
      'to read "payload.id" of JSON text, write JsonGet([body], "payload.id")', 6, 11],
    // A key with a hyphen is read whole (was cut at the hyphen: JsonGet([body], "user")).
    ['[body].user-name', '".user-name" right after the value [body]: expressions read no part of a value with "."',
      'to read "user-name" of JSON text, write JsonGet([body], "user-name")', 6, 10],
    ['[body].order.ship-to.city - 1', '".order.ship-to.city" right after the value [body]: expressions read no part of a value with "."',
      'to read "order.ship-to.city" of JSON text, write JsonGet([body], "order.ship-to.city")', 6, 19],
    ['[a].5-1', '".5" right after the value [a]: expressions read no part of a value with "."',
      'to multiply, write [a] * 0.5; to read item 5 of JSON text, write JsonGet([a], "5")', 3, 2],
  ];
  for (const [source, message, hint, offset, length] of rows) {
    it(source, () => {
      const e = syntaxErrorOf(source);
      assert.equal(e.message, message);
      assert.equal(e.hint, hint);
      assert.deepEqual([e.offset, e.length], [offset, length]);
      assert.equal(e.fix, undefined);
    });
  }

  it('.5 where a value is expected keeps its own hint and fix', () => {
    for (const [source, fix] of [['[a] * .5', '[a] * 0.5'], ['Max([a], .5)', 'Max([a], 0.5)'], ['.5', '0.5']] as const) {
      const e = syntaxErrorOf(source);
      assert.equal(e.message, 'a number starts with a digit: ".5"');
      assert.equal(e.fix, fix);
    }
  });
});

describe('columns after an escape of a "…" YAML value are those of the text as written', () => {
  // Each value sets n on line 14 from column 10; `at` is the text the error's line:col points at.
  const rows: Array<[what: string, value: string, line: number, at: string]> = [
    ['\\U0001F600 (two characters of the value, one escape) on one line', '"«\\U0001F600» + Num([p])"', 14, 'Num([p])"'],
    ['\\u0020 (a blank of the value) in a value of two lines', '"«\\u0020a» +\n        Num([p])"', 15, 'Num([p])"'],
    ['\\x20 in a value of two lines', '"«\\x20a» +\n        Num([p])"', 15, 'Num([p])"'],
    ['\\U0001F600 in a value of two lines', '"«\\U0001F600a» +\n        Num([p])"', 15, 'Num([p])"'],
    ['\\u0020 on one line (was right already)', '"«\\u0020» + Num([p])"', 14, 'Num([p])"'],
    ['\\t before an operator', '"«\\t» - [p]"', 14, '- [p]"'],
  ];
  for (const [what, value, line, at] of rows) {
    it(what, async () => {
      const e = await runFailure(value);
      assert.match(e.message, /cannot convert text "abc" to a number/);
      assert.deepEqual([e.line, e.at], [line, at]);
    });
  }

  it('a syntax error after such an escape is placed the same way at load time', () => {
    const text = `start: r\nblocks:\n  r:\n    kind: ReturnValue\n    values: { 1: "«\\U0001F600\\u0020» + foo" }\n`;
    const loaded = loadScenarioText('Esc.yaml', text, { registry: defaultRegistry });
    assert.ok(!loaded.ok);
    const issue = loaded.issues.find((i) => i.code === 'E_INVALID_EXPRESSION');
    assert.ok(issue, JSON.stringify(loaded.issues));
    assert.match(issue.message, /^unquoted text "foo"/);
    assert.equal(text.split('\n')[issue.line! - 1]!.slice(issue.col! - 1), 'foo" }');
  });
});

describe('a failed expression is evaluated once: the place of its error is known from that evaluation', () => {
  /** Evaluates `source`, counting the variable and clock reads; the error thrown and the counts. */
  function counted(source: string, vars: Record<string, Value>) {
    const reads = { variables: 0, clock: 0 };
    const ctx: EvalContext = {
      getVariable: (name) => {
        reads.variables++;
        return Object.hasOwn(vars, name) ? vars[name]! : null;
      },
      inputParameter: () => '',
      now: () => {
        reads.clock++;
        return new Date('2024-03-15T09:30:45Z');
      },
      timeZone: MOSCOW,
    };
    const parsed = parseExpression(source);
    assert.ok(parsed.ok);
    try {
      parsed.expr.evaluate(ctx);
    } catch (e) {
      assert.ok(e instanceof ExpressionRuntimeError, String(e));
      return { error: e, reads };
    }
    assert.fail(`expected ${source} to fail`);
  }

  // Each variable read once: the evaluation that found where it failed read every one of them a second time.
  const rows: Array<[source: string, vars: Record<string, Value>, variableReads: number, span: { offset: number; length: number }]> = [
    ['[a] + [b] - [s]', { a: 1, b: 2, s: 'x' }, 3, { offset: 10, length: 1 }],
    ['Upper([s]) + Num([s])', { s: 'x' }, 2, { offset: 13, length: 8 }],
    ['If([a] > 0, [a] / [z], 0)', { a: 1, z: 0 }, 3, { offset: 16, length: 1 }],
    ['Len([s]) * 2 + [s] * 3', { s: 'x' }, 2, { offset: 19, length: 1 }],
  ];
  for (const [source, vars, variableReads, span] of rows) {
    it(source, () => {
      const { error, reads } = counted(source, vars);
      assert.equal(reads.variables, variableReads);
      assert.deepEqual(error.span, span);
    });
  }

  it('a failure reached through Now() is placed too, with the clock read once', () => {
    // Was no span (the clock is not read a second time, so the second evaluation could not fail the same way).
    const { error, reads } = counted('Now() - [s]', { s: 'x' });
    assert.match(error.message, /^operator -: cannot convert text "x" to a number/);
    assert.equal(reads.clock, 1);
    assert.deepEqual(error.span, { offset: 6, length: 1 });
  });

  it('the same expression failing again is placed again', () => {
    const parsed = parseExpression('1 + Num([s])');
    assert.ok(parsed.ok);
    for (let i = 0; i < 2; i++) {
      assert.throws(() => parsed.expr.evaluate(createContext({ s: 'x' })), (e: unknown) => e instanceof ExpressionRuntimeError && e.span?.offset === 4);
    }
  });
});

describe('a file with CR alone between lines (old Mac editors): columns inside a value over several lines', () => {
  // The value of `values: 1:` spreads over two lines; its error, at "foo", is on the second one from column 9.
  const rows: Array<[what: string, value: string]> = [
    ['"…" with an escape', '"«\\u0020a» +\r        foo"'],
    ['"…" without escapes', '"«a» +\r        foo"'],
    ["'…'", "'«a» +\r        foo'"],
    ['|- literal', '|-\r        «a» +\r        foo'],
    ['>- folded', '>-\r        «a» +\r        foo'],
  ];
  for (const [what, value] of rows) {
    it(what, () => {
      const text = `start: r\rblocks:\r  r:\r    kind: ReturnValue\r    values:\r      1: ${value}\r`;
      const loaded = loadScenarioText('Cr.yaml', text, { registry: defaultRegistry });
      assert.ok(!loaded.ok);
      const issue = loaded.issues.find((i) => i.code === 'E_INVALID_EXPRESSION');
      assert.ok(issue, JSON.stringify(loaded.issues));
      assert.match(issue.message, /^unquoted text "foo"/);
      assert.equal(text.split('\r')[issue.line! - 1]!.slice(issue.col! - 1, issue.col! + 2), 'foo', `${issue.line}:${issue.col}`);
    });
  }
});

describe('a literal with more digits than a number holds says the value it would be, not the digits written', () => {
  // JavaScript prints 123456789012345680000 back as written, although the number held is 123456789012345683968:
  // the message said "it would be 123456789012345680000", the digits the user wrote.
  for (const [written, held] of [['123456789012345680000', '123456789012345683968'], ['12345678901234567890', '12345678901234567168']] as const) {
    it(written, () => {
      const r = parseExpression(`[a] + ${written}`);
      assert.equal(r.ok, false);
      assert.match(!r.ok ? r.error.message : '', new RegExp(`${written} has more digits than a number holds exactly: it would be ${held}$`));
    });
  }
});
