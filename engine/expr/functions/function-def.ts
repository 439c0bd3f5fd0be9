// The contract of one expression function, and helpers that convert arguments with messages naming the function.
import { toDate, toNumber, toText, type Value } from '../../values.js';
import type { Node } from '../ast.js';
import type { EvalContext, Evaluator } from '../context.js';
import { ExpressionRuntimeError } from '../runtime-error.js';

/** A problem with a literal argument, found at parse time (e.g. a bad JsonGet path or date format). */
export interface ArgProblem {
  /** 0-based index of the argument. */
  arg: number;
  message: string;
  hint: string;
}

export interface FunctionDef {
  /** Canonical name, as listed and reported in `CompiledExpression.functions`. */
  name: string;
  /** Other accepted spellings (all names are case-insensitive). */
  aliases: string[];
  /** e.g. `SubStr(text, start, length?)`: shown in hints when the argument count is wrong. */
  signature: string;
  description: string;
  minArgs: number;
  maxArgs: number;
  /** Result depends on the run (clock, input parameters): the expression is not constant. */
  volatile?: boolean;
  /** Checks literal arguments at parse time. */
  check?: (args: readonly Node[]) => ArgProblem | undefined;
  /**
   * Compiles the call from its compiled arguments, for functions that must not evaluate every argument
   * (If evaluates only the branch it takes). When absent, every argument is evaluated and passed to `call`.
   */
  compile?: (args: readonly Evaluator[]) => Evaluator;
  /** Computes the result from evaluated arguments; optional arguments not given are `undefined`. */
  call: (ctx: EvalContext, ...args: Value[]) => Value;
}

/** Declares a function; `aliases` default to none. */
export function defineFunction(def: Omit<FunctionDef, 'aliases'> & { aliases?: string[] }): FunctionDef {
  return { aliases: [], ...def };
}

/** Argument as text (dates in the run's time zone). */
export function text(v: Value, ctx: EvalContext): string {
  if (typeof v === 'string') return v;
  // Only dates need the zone; not reading it otherwise lets constant parts fold at load time.
  return toText(v, v instanceof Date ? ctx.timeZone : 'UTC');
}

/** Argument as a number; non-numeric text fails with the function's name. */
export function num(v: Value, fn: string): number {
  return typeof v === 'number' ? v : toNumber(v, fn);
}

/** Argument as an integer (fractions truncated toward zero). */
export function int(v: Value, fn: string): number {
  return Math.trunc(num(v, fn));
}

/** Argument as a date (date text is read in the run's time zone). */
export function date(v: Value, ctx: EvalContext, fn: string): Date {
  return v instanceof Date ? v : toDate(v, ctx.timeZone, fn);
}

/** A numeric result, refused when it is not a finite number (e.g. Sqrt(-1), 10 ^ 400). */
export function finite(n: number, fn: string, why: string): number {
  if (Number.isFinite(n)) return n;
  throw new ExpressionRuntimeError(fn, why);
}

/** The value of a literal argument node, or undefined when the argument is computed at run time. */
export function literal(node: Node | undefined): Value | undefined {
  if (!node) return undefined;
  if (node.type === 'literal') return node.value;
  if (node.type === 'unary' && node.op === '-' && node.operand.type === 'literal' && typeof node.operand.value === 'number') {
    return -node.operand.value;
  }
  return undefined;
}
