// Lows left by the expression trial (notes/trial-56-expr.md): syntax errors that echoed unbounded scenario text, a
// run-time error inside a multi-line value placed at the value's start, and 0 ^ -1 called "too large".
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExpressionRuntimeError } from '../../engine/expr/index.js';
import { createContext, run } from './fixed-context.js';

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

