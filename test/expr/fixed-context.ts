// A fixed evaluation context for expression tests: a map of variables, input parameters and a stopped clock.
import type { EvalContext } from '../../engine/expr/index.js';
import assert from 'node:assert/strict';
import { ExpressionRuntimeError, parseExpression } from '../../engine/expr/index.js';
import type { Value } from '../../engine/values.js';

export const MOSCOW = 'Europe/Moscow';

export function createContext(
  variables: Record<string, Value> = {},
  opts: { params?: Record<number, Value>; now?: Date; timeZone?: string } = {},
): EvalContext {
  const now = opts.now ?? new Date('2024-03-15T09:30:45.123Z');
  return {
    getVariable: (name) => (Object.hasOwn(variables, name) ? variables[name]! : null),
    inputParameter: (n) => opts.params?.[n] ?? '',
    now: () => now,
    timeZone: opts.timeZone ?? MOSCOW,
  };
}

/** Parses (failing the test on a syntax error) and evaluates. */
export function run(source: string, ctx: EvalContext = createContext()): Value {
  const parsed = parseExpression(source);
  if (!parsed.ok) throw new Error(`unexpected syntax error in ${source}: ${parsed.error.message} at ${parsed.error.offset}`);
  return parsed.expr.evaluate(ctx);
}

/** The run-time error `source` throws with `vars` (failing the test when it throws none, or another kind). */
export function runtimeError(source: string, vars: Record<string, Value> = {}): ExpressionRuntimeError {
  try {
    run(source, createContext(vars));
  } catch (e) {
    assert.ok(e instanceof ExpressionRuntimeError, String(e));
    return e;
  }
  assert.fail(`expected ${source} to fail`);
}
