// A compiled expression for a YAML constant (a number or boolean written directly as a property value).
import type { CompiledExpression } from './expr/index.js';
import type { Value } from './values.js';

export function constantExpression(value: Value): CompiledExpression {
  return {
    source: value === null ? '' : String(value),
    variables: [],
    functions: [],
    constant: true,
    evaluate: () => value,
  };
}
