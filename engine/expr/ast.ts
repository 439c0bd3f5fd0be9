// The syntax tree the parser builds; every node keeps its span in the source for error messages.
import type { Value } from '../values.js';
import type { FunctionDef } from './functions/function-def.js';

export type BinaryOperator = '+' | '-' | '*' | '/' | '^' | '=' | '<>' | '<' | '>' | '<=' | '>=' | 'and' | 'or';

interface Span {
  start: number;
  end: number;
}

export type Node =
  | (Span & { type: 'literal'; value: Value })
  | (Span & { type: 'variable'; name: string })
  | (Span & { type: 'unary'; op: '-' | 'not'; operand: Node })
  /** `opStart`/`opEnd`: the operator as written (`-`, `<>`, `and`, `&&`): a run-time error of the operation points at it. */
  | (Span & { type: 'binary'; op: BinaryOperator; left: Node; right: Node; opStart: number; opEnd: number })
  | (Span & { type: 'call'; def: FunctionDef; args: Node[]; nameEnd: number });
