// Turns a syntax tree into nested closures once, folding constant parts, so evaluation never re-reads the source.
import { toBoolean, type Value } from '../values.js';
import type { Node } from './ast.js';
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
 * The operation each error thrown by a compiled expression came from (the innermost one that threw it), noted as the
 * error leaves it: a failed evaluation knows its place without being evaluated again. Taken with {@link failedNode}.
 */
const FAILED = new WeakMap<object, Node>();

/** The node whose operation threw `e` (once: the note is removed, an error object thrown again is noted anew). */
export function failedNode(e: unknown): Node | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const node = FAILED.get(e);
  FAILED.delete(e);
  return node;
}

/**
 * Compiles `node`, folding its constant parts. Each operation (operator, call) that is not folded notes itself as the
 * place of an error it throws that no operation inside it noted (see {@link failedNode}): in its own closure, so an
 * evaluation that does not fail makes no call more for it.
 */
export function compileTree(node: Node): Compiled {
  const c = compileNode(node);
  if (!c.pure || node.type === 'literal') return c;
  try {
    const value = c.fn(FOLD_CTX);
    return { fn: () => value, pure: true };
  } catch {
    // Fails when run (e.g. 1 / 0) or needs the time zone: leave it to run time, where the error is attributed.
    return { fn: c.fn, pure: false };
  }
}

/** `e`, noted as thrown by `node` unless an operation inside it noted it first. */
function noted(e: unknown, node: Node): unknown {
  if (typeof e === 'object' && e !== null && !FAILED.has(e)) FAILED.set(e, node);
  return e;
}

/** `fn`, noting `node` as the place of an error it throws that no operation inside it noted. */
function noting(fn: Evaluator, node: Node): Evaluator {
  return (ctx) => {
    try {
      return fn(ctx);
    } catch (e) {
      throw noted(e, node);
    }
  };
}

function compileNode(node: Node): Compiled {
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
      const a = compileTree(node.operand);
      const f = a.fn;
      const fn: Evaluator = node.op === '-'
        ? (ctx) => { try { return negate(f(ctx)); } catch (e) { throw noted(e, node); } }
        : (ctx) => { try { return !toBoolean(f(ctx)); } catch (e) { throw noted(e, node); } };
      return { fn, pure: a.pure };
    }
    case 'binary': {
      const l = compileTree(node.left);
      const r = compileTree(node.right);
      return { fn: binary(node, l.fn, r.fn), pure: l.pure && r.pure };
    }
    case 'call': {
      const args = node.args.map((a) => compileTree(a));
      const fns = args.map((a) => a.fn);
      const pure = !node.def.volatile && args.every((a) => a.pure);
      if (node.def.compile) return { fn: noting(node.def.compile(fns), node), pure };
      return { fn: callWith(node.def.call, fns, node), pure };
    }
  }
}

/** Each closure notes its node on an error (from the operator or an operand no operation inside noted). */
function binary(node: Node & { type: 'binary' }, l: Evaluator, r: Evaluator): Evaluator {
  const n = node;
  switch (node.op) {
    case '+': return (ctx) => { try { return add(l(ctx), r(ctx), ctx); } catch (e) { throw noted(e, n); } };
    case '-': return (ctx) => { try { return subtract(l(ctx), r(ctx), ctx); } catch (e) { throw noted(e, n); } };
    case '*': return (ctx) => { try { return multiply(l(ctx), r(ctx)); } catch (e) { throw noted(e, n); } };
    case '/': return (ctx) => { try { return divide(l(ctx), r(ctx)); } catch (e) { throw noted(e, n); } };
    case '^': return (ctx) => { try { return power(l(ctx), r(ctx)); } catch (e) { throw noted(e, n); } };
    case '=': return (ctx) => { try { return equalValues(l(ctx), r(ctx), ctx); } catch (e) { throw noted(e, n); } };
    case '<>': return (ctx) => { try { return !equalValues(l(ctx), r(ctx), ctx); } catch (e) { throw noted(e, n); } };
    case '<': return (ctx) => { try { return compareValues(l(ctx), r(ctx), ctx) < 0; } catch (e) { throw noted(e, n); } };
    case '>': return (ctx) => { try { return compareValues(l(ctx), r(ctx), ctx) > 0; } catch (e) { throw noted(e, n); } };
    case '<=': return (ctx) => { try { return compareValues(l(ctx), r(ctx), ctx) <= 0; } catch (e) { throw noted(e, n); } };
    case '>=': return (ctx) => { try { return compareValues(l(ctx), r(ctx), ctx) >= 0; } catch (e) { throw noted(e, n); } };
    case 'and': return (ctx) => { try { return toBoolean(l(ctx)) && toBoolean(r(ctx)); } catch (e) { throw noted(e, n); } };
    case 'or': return (ctx) => { try { return toBoolean(l(ctx)) || toBoolean(r(ctx)); } catch (e) { throw noted(e, n); } };
  }
}

type Call = (ctx: EvalContext, ...args: Value[]) => Value;

/** A closure per arity, so common calls allocate no argument array; each notes `node` on an error. */
function callWith(call: Call, fns: readonly Evaluator[], node: Node): Evaluator {
  const [a, b, c, d] = fns;
  switch (fns.length) {
    case 0: return (ctx) => { try { return call(ctx); } catch (e) { throw noted(e, node); } };
    case 1: return (ctx) => { try { return call(ctx, a!(ctx)); } catch (e) { throw noted(e, node); } };
    case 2: return (ctx) => { try { return call(ctx, a!(ctx), b!(ctx)); } catch (e) { throw noted(e, node); } };
    case 3: return (ctx) => { try { return call(ctx, a!(ctx), b!(ctx), c!(ctx)); } catch (e) { throw noted(e, node); } };
    case 4: return (ctx) => { try { return call(ctx, a!(ctx), b!(ctx), c!(ctx), d!(ctx)); } catch (e) { throw noted(e, node); } };
    default: return (ctx) => { try { return call(ctx, ...fns.map((f) => f(ctx))); } catch (e) { throw noted(e, node); } };
  }
}
