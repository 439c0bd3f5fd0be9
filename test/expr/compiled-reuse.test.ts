// A compiled expression is parsed once and evaluated many times against changing variables, with no re-parse.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseExpression, type EvalContext } from '../../engine/expr/index.js';
import type { Value } from '../../engine/values.js';
import { createContext } from './fixed-context.js';

describe('evaluating one compiled expression many times', () => {
  it('follows the variable on each of 100 000 evaluations of [a] + 1', () => {
    const r = parseExpression('[a] + 1');
    assert.ok(r.ok);
    const vars: Record<string, Value> = { a: 0 };
    const ctx: EvalContext = { ...createContext(), getVariable: (n) => vars[n] ?? null };
    let sum = 0;
    for (let i = 0; i < 100_000; i++) {
      vars.a = i;
      sum += r.expr.evaluate(ctx) as number;
    }
    assert.equal(sum, (99_999 * 100_000) / 2 + 100_000);
  });

  it('switches between adding and joining as the variable changes type', () => {
    const r = parseExpression('[a] + 1');
    assert.ok(r.ok);
    const vars: Record<string, Value> = {};
    const ctx: EvalContext = { ...createContext(), getVariable: (n) => vars[n] ?? null };
    const seen: Value[] = [];
    for (const a of [1, 'x', 2, '', null, true]) {
      vars.a = a;
      seen.push(r.expr.evaluate(ctx));
    }
    assert.deepEqual(seen, [2, 'x1', 3, '1', 1, 2]);
  });

  it('keeps its source, variables and functions, and folds a constant into a single value', () => {
    const r = parseExpression('Upper("a") + Str(2 * 3)');
    assert.ok(r.ok);
    assert.equal(r.expr.constant, true);
    assert.deepEqual(r.expr.variables, []);
    assert.deepEqual(r.expr.functions, ['Upper', 'Str']);
    // A context whose every member throws proves the folded expression reads nothing at run time.
    const untouchable = {
      getVariable: () => { throw new Error('read a variable'); },
      inputParameter: () => { throw new Error('read a parameter'); },
      now: () => { throw new Error('read the clock'); },
      get timeZone(): string { throw new Error('read the time zone'); },
    };
    assert.equal(r.expr.evaluate(untouchable), 'A6');
    assert.equal(r.expr.evaluate(untouchable), 'A6');
  });

  it('does not fold what depends on the time zone', () => {
    const r = parseExpression('Str(ToDate("2024-03-15T00:00:00Z"))');
    assert.ok(r.ok);
    assert.equal(r.expr.evaluate(createContext({}, { timeZone: 'UTC' })), '15.03.2024 00:00:00');
    assert.equal(r.expr.evaluate(createContext({}, { timeZone: 'Europe/Moscow' })), '15.03.2024 03:00:00');
  });

  it('does not fold a constant part that fails: the error surfaces when the expression runs', () => {
    const r = parseExpression('If([ok], 1, 1 / 0)');
    assert.ok(r.ok);
    assert.equal(r.expr.evaluate(createContext({ ok: true })), 1);
    assert.throws(() => r.expr.evaluate(createContext({ ok: false })), /division by zero/);
  });
});
