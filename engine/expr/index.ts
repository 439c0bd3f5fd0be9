// Public surface of the Oktell expression language: parse once at load time, evaluate many times at run time.
import type { Value } from '../values.js';
import type { Node } from './ast.js';
import { compileTree, failedNode } from './compile.js';
import type { EvalContext } from './context.js';
import { parseToTree } from './parser.js';
import { ALL_FUNCTIONS } from './registry.js';
import { ExpressionRuntimeError } from './runtime-error.js';
import { syntaxError, type ExpressionSyntaxError } from './syntax-error.js';

export type { EvalContext } from './context.js';
export type { ExpressionSyntaxError } from './syntax-error.js';
export { ExpressionRuntimeError } from './runtime-error.js';

/** An expression parsed and compiled once; `evaluate` runs the compiled closures against a context. */
export interface CompiledExpression {
  readonly source: string;
  /** Where the expression is written in its scenario file (set by the loader), so a run-time error can point at it. */
  readonly at?: { file: string; line: number; col: number };
  /**
   * Where character `offset` of the source is in the scenario file (set by the loader): a run-time error's
   * {@link ExpressionRuntimeError.span} is placed with it, only when an error is reported.
   */
  readonly locate?: (offset: number) => { file: string; line: number; col: number };
  /** Every `[variable]` referenced (trimmed, unique, in order of appearance). */
  readonly variables: readonly string[];
  /** Canonical names of the functions used (unique, in order of appearance). */
  readonly functions: readonly string[];
  /**
   * The variables whose text may be carried into the value (`"Bearer " + Upper([token])`, `SubStr([token], 0, 8)`),
   * as against those it only summarises (`Len([token])`, `IsEmpty([token])`, a comparison, the condition of `If`):
   * a text computed from a secret variable is masked in the run's record like the secret itself (secrets.ts).
   */
  readonly carries?: readonly string[];
  /** Those of `carries` carried changed (cased, cut, escaped), not only joined as they are with `+`. */
  readonly changes?: readonly string[];
  /** The texts written in the expression itself: a value equal to one (`IfEmpty([token], "none")`) carries nothing. */
  readonly literalTexts?: readonly string[];
  /**
   * The text literal the value begins with on every run, when the expression is one (`"crm.example.ru/" + [path]`:
   * the leftmost operand of a chain of `+` is a text, so `+` joins and the value starts with it); its span in
   * `source` includes the quotes.
   */
  readonly leadingText?: { readonly value: string; readonly start: number; readonly end: number };
  /** No variables, no InputParameter, no Now/Today: the value is the same on every run. */
  readonly constant: boolean;
  /** Computes the value; throws {@link ExpressionRuntimeError} when a value does not fit an operator or function. */
  evaluate(ctx: EvalContext): Value;
}

/**
 * Parses and compiles an Oktell expression. Never throws: problems come back as a positioned syntax error.
 * @example
 * const r = parseExpression('"Новая задача: " + [taskName]');
 * if (r.ok) r.expr.evaluate(ctx); // "Новая задача: …"
 */
export function parseExpression(source: string): { ok: true; expr: CompiledExpression } | { ok: false; error: ExpressionSyntaxError } {
  try {
    const parsed = parseToTree(source);
    if (!parsed.ok) return parsed;
    return { ok: true, expr: build(source, parsed.tree) };
  } catch (e) {
    // A bug or an exhausted stack must not take the loader down: report it where the loader can show it.
    return { ok: false, error: syntaxError(`internal error while parsing the expression: ${(e as Error)?.message ?? String(e)}`, 0, source.length, 'please report this expression') };
  }
}

function build(source: string, tree: Node): CompiledExpression {
  const variables = new Set<string>();
  const functions = new Set<string>();
  const literalTexts = new Set<string>();
  let volatile = false;
  const visit = (n: Node): void => {
    switch (n.type) {
      case 'variable': variables.add(n.name); break;
      case 'unary': visit(n.operand); break;
      case 'binary': visit(n.left); visit(n.right); break;
      case 'call':
        functions.add(n.def.name);
        if (n.def.volatile) volatile = true;
        n.args.forEach(visit);
        break;
      case 'literal': if (typeof n.value === 'string') literalTexts.add(n.value); break;
    }
  };
  visit(tree);
  const root = compileTree(tree).fn;
  const carried = new Map<string, boolean>();
  carriedBy(tree, carried);
  return {
    source,
    variables: [...variables],
    functions: [...functions],
    carries: [...carried.keys()],
    changes: [...carried].filter(([, changed]) => changed).map(([name]) => name),
    literalTexts: [...literalTexts],
    ...leadingTextOf(tree),
    constant: variables.size === 0 && !volatile,
    evaluate(ctx: EvalContext): Value {
      try {
        return root(ctx);
      } catch (e) {
        const span = failingSpan(tree, e);
        const error = asRuntimeError(e, source);
        if (span && error instanceof ExpressionRuntimeError && !error.span) error.span = span;
        throw error;
      }
    },
  };
}

/**
 * The text literals written in `source`, each with its span (quotes included) and whether text put in its place that
 * joins parts with `+` needs parentheses there: under `-`, `*`, `/`, `^` or a unary operator, which bind more tightly
 * than `+`. Empty when the source does not parse.
 */
export function textLiteralsOf(source: string): Array<{ value: string; start: number; end: number; tight: boolean }> {
  const parsed = parseToTree(source);
  if (!parsed.ok) return [];
  const out: Array<{ value: string; start: number; end: number; tight: boolean }> = [];
  const visit = (n: Node, tight: boolean): void => {
    switch (n.type) {
      case 'literal': if (typeof n.value === 'string') out.push({ value: n.value, start: n.start, end: n.end, tight }); break;
      case 'unary': visit(n.operand, true); break;
      case 'binary': {
        const loose = n.op === '+' || n.op === '=' || n.op === '<>' || n.op === '<' || n.op === '>' || n.op === '<=' || n.op === '>=' || n.op === 'and' || n.op === 'or';
        visit(n.left, !loose);
        visit(n.right, !loose);
        break;
      }
      case 'call': n.args.forEach((a) => visit(a, false)); break;
    }
  };
  visit(parsed.tree, false);
  return out.sort((a, b) => a.start - b.start);
}

/**
 * `text` as a text literal of the expression language, which has no escapes: in "…", else '…', else «…», whichever
 * quotes the text does not contain; undefined when it contains all three closing quotes.
 */
export function textLiteral(text: string): string | undefined {
  if (!text.includes('"')) return `"${text}"`;
  if (!text.includes("'")) return `'${text}'`;
  if (!text.includes('»')) return `«${text}»`;
  return undefined;
}

/** The text literal at the far left of a chain of `+` (or the whole expression): the value starts with it. */
function leadingTextOf(tree: Node): { leadingText?: CompiledExpression['leadingText'] } {
  let n = tree;
  while (n.type === 'binary' && n.op === '+') n = n.left;
  return n.type === 'literal' && typeof n.value === 'string' ? { leadingText: { value: n.value, start: n.start, end: n.end } } : {};
}

/**
 * Functions whose value tells something about a text without carrying it (a length, a position, yes or no), and, for
 * the others that do not carry every argument, the arguments they carry. Every other function is taken to carry all
 * of its arguments: when unsure, a value is masked rather than shown.
 */
const CARRIED_ARGS: ReadonlyMap<string, readonly number[]> = new Map([
  ['IsEmpty', []], ['Length', []], ['Contains', []], ['StartsWith', []], ['EndsWith', []], ['IndexOf', []],
  ['JsonCount', []], ['DateDiff', []], ['If', [1, 2]], ['IfEmpty', [0, 1]],
]);

/**
 * What `InputParameter(n)` stands for in CompiledExpression.carries: `[parameter n]` for a number written in the
 * expression, `[parameters]` for one computed (any of them). Variable names cannot contain "[".
 */
export const carriedParameter = (n: number | undefined): string => (n === undefined ? '[parameters]' : `[parameter ${n}]`);

/**
 * Notes in `out` each variable (or input parameter) whose text may be carried into the value of `n`, and whether it
 * is carried changed (`true`: through a function or arithmetic) rather than only joined as it is with `+`, which
 * leaves the text itself in the value.
 */
function carriedBy(n: Node, out: Map<string, boolean>, changed = false): void {
  const note = (name: string) => out.set(name, changed || out.get(name) === true);
  switch (n.type) {
    case 'variable': note(n.name); return;
    case 'literal': return;
    // `not` and the comparisons give yes or no; `+` joins both sides, the rest of arithmetic changes them.
    case 'unary': if (n.op === '-') carriedBy(n.operand, out, true); return;
    case 'binary':
      if (n.op === '+') { carriedBy(n.left, out, changed); carriedBy(n.right, out, changed); }
      else if (n.op === '-' || n.op === '*' || n.op === '/' || n.op === '^') { carriedBy(n.left, out, true); carriedBy(n.right, out, true); }
      return;
    case 'call': {
      if (n.def.name === 'InputParameter') {
        const arg = n.args[0];
        const written = arg?.type === 'literal' ? Number(arg.value) : NaN;
        note(carriedParameter(Number.isInteger(written) ? written : undefined));
        return;
      }
      const carried = CARRIED_ARGS.get(n.def.name);
      // If and IfEmpty pass a value through as it is; any other function changes it.
      const passes = n.def.name === 'If' || n.def.name === 'IfEmpty';
      n.args.forEach((a, i) => { if (!carried || carried.includes(i)) carriedBy(a, out, changed || !passes); });
      return;
    }
  }
}

/**
 * Where in the source the operation that threw `failure` is: each compiled operation notes itself on an error it throws
 * (compile.ts), so the evaluation that failed says where, and nothing is evaluated again (a failed evaluation costs
 * one evaluation, and a failure reached through Now() is placed too). A failure of the whole value (a lone variable or
 * literal, or an error no operation noted) gives no span: the error points at the value's start.
 */
function failingSpan(tree: Node, failure: unknown): { offset: number; length: number } | undefined {
  const node = failedNode(failure);
  if (!node || !(failure instanceof Error) || tree.type === 'literal' || tree.type === 'variable') return undefined;
  // Where a stack ran out says nothing about the expression.
  if (failure instanceof RangeError && /call stack/i.test(failure.message)) return undefined;
  return spanOf(node);
}

/**
 * Where an error of `node`'s own operation is pointed at: a call from its name to its ")"; a binary operator at the
 * operator itself (`[a] - "x"` at its "-", not at [a], where the whole expression starts); anything else whole.
 */
function spanOf(node: Node): { offset: number; length: number } {
  if (node.type === 'binary') return { offset: node.opStart, length: node.opEnd - node.opStart };
  return { offset: node.start, length: node.end - node.start };
}

/** Our own errors get the expression attached; JavaScript's own (a string too long, a stack overflow) are wrapped. */
function asRuntimeError(e: unknown, source: string): unknown {
  if (e instanceof ExpressionRuntimeError) return e.attachExpression(source);
  if (e instanceof RangeError || e instanceof TypeError || e instanceof URIError) {
    return new ExpressionRuntimeError('expression', e.message).attachExpression(source);
  }
  return e;
}

/** Every function with its aliases, signature and a one-line description (for docs and "did you mean"). */
export function listFunctions(): Array<{ name: string; aliases: string[]; signature: string; description: string }> {
  return ALL_FUNCTIONS.map((f) => ({ name: f.name, aliases: [...f.aliases], signature: f.signature, description: f.description }));
}
export { numberSource } from './lexer.js';
