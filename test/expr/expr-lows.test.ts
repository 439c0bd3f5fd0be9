// Lows left by the expression trial (notes/trial-56-expr.md): syntax errors that echoed unbounded scenario text, a
// run-time error inside a multi-line value placed at the value's start, and 0 ^ -1 called "too large".
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { fixedClock, loadScenarioText, randomIds, runScenario, type EnginePorts, type Scenario, type ScenarioLibrary } from '../../engine/index.js';
import { ExpressionRuntimeError, parseExpression } from '../../engine/expr/index.js';
import { createContext, run } from './fixed-context.js';

function syntaxErrorOf(source: string) {
  const r = parseExpression(source);
  assert.ok(!r.ok, `expected a syntax error in ${source.slice(0, 80)}`);
  return r.error;
}

/** Every text a syntax error gives to be read (message, hint), together: what an author sees. */
const said = (e: { message: string; hint?: string }) => `${e.message}\n${e.hint ?? ''}`;

describe('syntax errors quote at most the start of a long text, with its length', () => {
  const long = 'x'.repeat(100_000);
  const cases: Array<[string, string]> = [
    ['an unknown function', `${long}(1)`],
    ['a phone-like chain of digit groups', `8-${'800-'.repeat(50_000)}1`],
    ['a date-like chain inside an expression', `[a] + 1-${'800-'.repeat(50_000)}1`],
    ['unquoted text', `foo ${long}`],
    ['unquoted text after a value', `1 ${long}`],
    ['text quoted only up to a "-"', `"a"-${long}`],
    ['a number in exponent form', `1${'0'.repeat(100_000)}e5`],
    ['a number without its leading 0', `.${'5'.repeat(100_000)}`],
    ['a string where an operator was expected', `1 "${long}"`],
    ['a word where "," or ")" was expected', `Max(1 ${long})`],
    ['a bad JsonGet path', `JsonGet("{}", "${'$'.repeat(100_000)}[")`],
    ['an operator typed the way of another language', `${long} => 1`],
  ];
  for (const [what, source] of cases) {
    it(what, () => {
      const e = syntaxErrorOf(source);
      assert.ok(said(e).length < 700, `${said(e).length} characters: ${said(e).slice(0, 200)}`);
      assert.match(said(e), /… ?"?\)?.*\(\d{5,6} characters\)/);
    });
  }

  it('short messages stay as they were', () => {
    assert.equal(syntaxErrorOf('Foo(1)').message, 'unknown function "Foo"');
    assert.equal(syntaxErrorOf('8-800-555-35-35').message, '8-800-555-35-35 is read as a subtraction, 8 - 800 - 555 - 35 - 35 = -1417; digits joined by "-" are most often a phone number or a date');
    assert.equal(syntaxErrorOf('hello world').hint, 'put text in quotes: "hello world"');
  });

  it('a long value in a scenario: the loader names the expression by its start and length, and its hint is short', () => {
    const value = `foo ${'x'.repeat(100_000)}`;
    const loaded = loadScenarioText('Long.yaml', `start: s\nblocks:\n  s:\n    kind: ReturnValue\n    values: { 1: ${value} }\n`, { registry: defaultRegistry });
    assert.ok(!loaded.ok);
    const issue = loaded.issues.find((i) => i.code === 'E_INVALID_EXPRESSION');
    assert.ok(issue, JSON.stringify(loaded.issues).slice(0, 500));
    assert.ok(issue.message.length < 700 && (issue.hint ?? '').length < 700, `${issue.message.length} + ${(issue.hint ?? '').length} characters`);
    assert.match(issue.message, /in expression "foo x+…" \(100004 characters\)$/);
    assert.equal(issue.line, 5);
  });
});

describe('0 ^ -1', () => {
  it('is a division by zero, not a result too large', () => {
    for (const source of ['0 ^ -1', '[z] ^ -2.5']) {
      let failure: unknown;
      try {
        run(source, createContext({ z: 0 }));
      } catch (e) {
        failure = e;
      }
      assert.ok(failure instanceof ExpressionRuntimeError, String(failure));
      assert.match(failure.message, /^operator \^: division by zero \(0 to a negative power, -(1|2\.5)\)/);
    }
    assert.match(String((() => { try { run('10 ^ 400', createContext({})); } catch (e) { return (e as Error).message; } })()), /the result is too large/);
    assert.equal(run('0 ^ 0', createContext({})), 1);
  });
});

describe('a run-time error inside a value of several lines', () => {
  const ports: EnginePorts = { clock: fixedClock(new Date('2026-12-01T09:00:00Z')), ids: randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) } };
  async function failure(text: string) {
    const loaded = loadScenarioText('Multi.yaml', text, { registry: defaultRegistry });
    assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.issues));
    const scenario = (loaded as { scenario: Scenario }).scenario;
    const lib: ScenarioLibrary = { dir: '.', scenarios: new Map([[scenario.name, scenario]]), issues: [] };
    const r = await runScenario(lib, scenario.name, { dryRun: true, timeZone: 'UTC', ports });
    assert.equal(r.status, 'failed');
    return r.status === 'failed' ? r.error : undefined!;
  }
  const head = `variables:\n  p: string\n  n: number\nstart: a\nblocks:\n  a:\n    kind: Variable\n    set: { p: '"abc"' }\n    exits: { next: b }\n  b:\n    kind: Variable\n    set:\n      n: `;

  it('points at the failing call in a |- value (not at the |)', async () => {
    // line 14 is `        1 +`, line 15 `        Num([p])`: the call starts at column 9 of line 15.
    const e = await failure(`${head}|-\n        1 +\n        Num([p])\n`);
    assert.match(e.message, /Num: cannot convert text "abc"/);
    assert.deepEqual([e.line, e.col], [15, 9]);
  });

  it('a |- value that fails as a whole: at its first line, not at the |', async () => {
    const e = await failure(`${head}|-\n        Num([p])\n`);
    assert.deepEqual([e.line, e.col], [14, 9]);
  });

  it('points at the failing call in a >- value too, after folded lines', async () => {
    const e = await failure(`${head}>-\n        Length([p]) +\n        2 * Num([p])\n`);
    assert.deepEqual([e.line, e.col], [15, 13]);
  });

  it('a value on one line: at the call inside it', async () => {
    const e = await failure(`${head}'1 + Num([p])'\n`);
    assert.deepEqual([e.line, e.col], [13, 15]);
  });
});

describe('finding the failing call does not read a text that is not JSON twice', () => {
  /** Evaluates `source` with `b` = `body`, counting JSON.parse calls; returns the error thrown and the count. */
  function failWithBody(source: string, body: string): { error: ExpressionRuntimeError; parses: number } {
    const parse = JSON.parse;
    let parses = 0;
    JSON.parse = function counted(this: unknown, ...args: Parameters<typeof JSON.parse>) {
      parses++;
      return parse.apply(this, args) as unknown;
    };
    try {
      run(source, createContext({ b: body }));
    } catch (e) {
      assert.ok(e instanceof ExpressionRuntimeError, String(e));
      return { error: e, parses };
    } finally {
      JSON.parse = parse;
    }
    assert.fail('expected the expression to fail');
  }

  it('a body that is not JSON is parsed once, and the error still points at the call', () => {
    // A webhook body of a megabyte that is not JSON: each parse of it holds the server's one thread.
    const body = `{"id": ${Date.now()}, "text": "${'x'.repeat(1_000_000)}"`;
    const { error, parses } = failWithBody('1 +\nJsonGet([b], "text")', body);
    assert.equal(parses, 1);
    assert.match(error.message, /^JsonGet: text "\{\\"id\\": \d+, \\"text\\": \\"x+…" is not valid JSON \(/);
    assert.match(error.message, /; to take an answer that may not be JSON/);
    assert.deepEqual(error.span, { offset: 4, length: 20 });
  });

  it('the same text read again by another function is named by that function, with the same reason', () => {
    const body = `[1, 2, ${Date.now()}`;
    const first = failWithBody('JsonGet([b], "[0]")', body).error;
    const again = failWithBody('JsonCount([b])', body);
    assert.equal(again.parses, 0);
    assert.equal(again.error.message.replace(/^JsonCount/, 'JsonGet').replace(/ \(in expression .*?\)/, ''), first.message.replace(/ \(in expression .*?\)/, ''));
    // Valid JSON after it is read as before.
    assert.equal(run('JsonCount([b])', createContext({ b: '[1, 2, 3]' })), 3);
  });

  it('a text nested too deeply is refused once too', () => {
    const body = `${'['.repeat(300)}${Date.now()}${']'.repeat(300)}`;
    const { error } = failWithBody('1 +\nJsonCount([b])', body);
    assert.match(error.message, /^JsonCount: text "\[+…" nests arrays and objects deeper than 256 levels/);
    assert.deepEqual(error.span, { offset: 4, length: 14 });
  });
});
