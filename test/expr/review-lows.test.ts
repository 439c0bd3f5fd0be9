// Lows of the expression review: where a run-time error of an operator points, number literals in exponent form,
// `[a].5`, columns after YAML escapes, and the cost of finding where a failed expression failed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { fixedClock, loadScenarioText, randomIds, runScenario, type EnginePorts, type Scenario, type ScenarioLibrary } from '../../engine/index.js';
import { ExpressionRuntimeError } from '../../engine/expr/index.js';
import type { Value } from '../../engine/values.js';
import { createContext, run } from './fixed-context.js';

/** The run-time error `source` throws with `vars`. */
function runtimeError(source: string, vars: Record<string, Value> = {}): ExpressionRuntimeError {
  try {
    run(source, createContext(vars));
  } catch (e) {
    assert.ok(e instanceof ExpressionRuntimeError, String(e));
    return e;
  }
  assert.fail(`expected ${source} to fail`);
}

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
