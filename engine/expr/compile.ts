// Turns a syntax tree into nested closures once, folding constant parts, so evaluation never re-reads the source.
import { toBoolean, type Value } from '../values.js';
import type { BinaryOperator, Node } from './ast.js';
import type { EvalContext, Evaluator } from './context.js';
import { add, compareValues, divide, equalValues, multiply, negate, power, subtract } from './operators.js';

interface Compiled {
  fn: Evaluator;
  /** No variables and no run-dependent functions below: worth trying to fold. */
  pure: boolean;
}

/** Signals that folding touched the run context (a variable, the clock, the time zone, SubStr's base): keep the closure. */
const NOT_FOLDABLE = Symbol('not foldable');
const FOLD_CTX: EvalContext = {
  getVariable: () => { throw NOT_FOLDABLE; },
  inputParameter: () => { throw NOT_FOLDABLE; },
  now: () => { throw NOT_FOLDABLE; },
  get timeZone(): string { throw NOT_FOLDABLE; },
  // The run's setting, not the scenario's: `SubStr("abc", 1, 1)` folded at load would keep base 0 under substrBase 1.
  get substrBase(): 0 | 1 { throw NOT_FOLDABLE; },
};

/**
 * Compiles `node`. With `failed`, compiles for finding where an evaluation failed (never on a run's own path): nothing
 * is folded, and each operation notes itself in `failed` as the node of an error it throws (the innermost one first).
 */
export function compileTree(node: Node, failed?: WeakMap<object, Node>): Compiled {
  const c = compileNode(node, failed);
  if (failed) return node.type === 'literal' || node.type === 'variable' ? c : { fn: noting(c.fn, node, failed), pure: c.pure };
  if (!c.pure || node.type === 'literal') return c;
  try {
    const value = c.fn(FOLD_CTX);
    return { fn: () => value, pure: true };
  } catch {
    // Fails when run (e.g. 1 / 0) or needs the time zone: leave it to run time, where the error is attributed.
    return { fn: c.fn, pure: false };
  }
}

/** `fn`, noting `node` as the place of an error it throws that no operation inside it noted. */
function noting(fn: Evaluator, node: Node, failed: WeakMap<object, Node>): Evaluator {
  return (ctx) => {
    try {
      return fn(ctx);
    } catch (e) {
      if (typeof e === 'object' && e !== null && !failed.has(e)) failed.set(e, node);
      throw e;
    }
  };
}

function compileNode(node: Node, failed?: WeakMap<object, Node>): Compiled {
  switch (node.type) {
    case 'literal': {
      const v = node.value;
      return { fn: () => v, pure: true };
    }
    case 'variable': {
      const name = node.name;
      return { fn: (ctx) => ctx.getVariable(name) ?? null, pure: false };
    }
    case 'unary': {
      const a = compileTree(node.operand, failed);
      const f = a.fn;
      return { fn: node.op === '-' ? (ctx) => negate(f(ctx)) : (ctx) => !toBoolean(f(ctx)), pure: a.pure };
    }
    case 'binary': {
      const l = compileTree(node.left, failed);
      const r = compileTree(node.right, failed);
      return { fn: binary(node.op, l.fn, r.fn), pure: l.pure && r.pure };
    }
    case 'call': {
      const args = node.args.map((a) => compileTree(a, failed));
      const fns = args.map((a) => a.fn);
      const pure = !node.def.volatile && args.every((a) => a.pure);
      if (node.def.compile) return { fn: node.def.compile(fns), pure };
      return { fn: callWith(node.def.call, fns), pure };
    }
  }
}

function binary(op: BinaryOperator, l: Evaluator, r: Evaluator): Evaluator {
  switch (op) {
    case '+': return (ctx) => add(l(ctx), r(ctx), ctx);
    case '-': return (ctx) => subtract(l(ctx), r(ctx), ctx);
    case '*': return (ctx) => multiply(l(ctx), r(ctx));
    case '/': return (ctx) => divide(l(ctx), r(ctx));
    case '^': return (ctx) => power(l(ctx), r(ctx));
    case '=': return (ctx) => equalValues(l(ctx), r(ctx), ctx);
    case '<>': return (ctx) => !equalValues(l(ctx), r(ctx), ctx);
    case '<': return (ctx) => compareValues(l(ctx), r(ctx), ctx) < 0;
    case '>': return (ctx) => compareValues(l(ctx), r(ctx), ctx) > 0;
    case '<=': return (ctx) => compareValues(l(ctx), r(ctx), ctx) <= 0;
    case '>=': return (ctx) => compareValues(l(ctx), r(ctx), ctx) >= 0;
    case 'and': return (ctx) => toBoolean(l(ctx)) && toBoolean(r(ctx));
    case 'or': return (ctx) => toBoolean(l(ctx)) || toBoolean(r(ctx));
  }
}

type Call = (ctx: EvalContext, ...args: Value[]) => Value;

/** A closure per arity, so common calls allocate no argument array. */
function callWith(call: Call, fns: readonly Evaluator[]): Evaluator {
  const [a, b, c, d] = fns;
  switch (fns.length) {
    case 0: return (ctx) => call(ctx);
    case 1: return (ctx) => call(ctx, a!(ctx));
    case 2: return (ctx) => call(ctx, a!(ctx), b!(ctx));
    case 3: return (ctx) => call(ctx, a!(ctx), b!(ctx), c!(ctx));
    case 4: return (ctx) => call(ctx, a!(ctx), b!(ctx), c!(ctx), d!(ctx));
    default: return (ctx) => call(ctx, ...fns.map((f) => f(ctx)));
  }
}
