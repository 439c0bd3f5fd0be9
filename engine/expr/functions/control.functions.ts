// Control and context functions: If (lazy), IfEmpty, IsEmpty and Oktell's «Входной параметр N».
import { QUOTED_CHARS, quotedText } from '../syntax-error.js';
import { toBoolean, type Value } from '../../values.js';
import type { Evaluator } from '../context.js';
import { ExpressionRuntimeError } from '../runtime-error.js';
import { defineFunction, literal, num, type FunctionDef } from './function-def.js';

/**
 * null, blank text, and the text `null`: a json variable that received nothing (a Parser query without a match, an
 * absent JSON value) holds JSON null, and a check for emptiness must see it as empty.
 */
function isEmpty(v: Value): boolean {
  if (v === null) return true;
  if (typeof v !== 'string') return false;
  const t = v.trim();
  return t === '' || t === 'null';
}

export const CONTROL_FUNCTIONS: FunctionDef[] = [
  defineFunction({
    name: 'If', signature: 'If(condition, then, else)', minArgs: 3, maxArgs: 3,
    description: 'then when the condition is true, else otherwise; only the chosen branch is evaluated.',
    compile: (args: readonly Evaluator[]): Evaluator => {
      const [cond, yes, no] = args as [Evaluator, Evaluator, Evaluator];
      return (ctx) => (toBoolean(cond(ctx)) ? yes(ctx) : no(ctx));
    },
    call: (_ctx, c, a, b) => (toBoolean(c!) ? a! : b!),
  }),
  defineFunction({
    name: 'IfEmpty', signature: 'IfEmpty(value, fallback)', minArgs: 2, maxArgs: 2,
    description: 'The value, or the fallback when the value is empty (see IsEmpty); the fallback is evaluated only then.',
    compile: (args: readonly Evaluator[]): Evaluator => {
      const [value, fallback] = args as [Evaluator, Evaluator];
      return (ctx) => {
        const v = value(ctx);
        return isEmpty(v) ? fallback(ctx) : v;
      };
    },
    call: (_ctx, v, f) => (isEmpty(v!) ? f! : v!),
  }),
  defineFunction({
    name: 'IsEmpty', signature: 'IsEmpty(value)', minArgs: 1, maxArgs: 1,
    description: 'true for null, for text that is empty or only spaces, and for JSON null (the text null, what an empty json variable holds); numbers and dates are never empty.',
    call: (_ctx, v) => isEmpty(v!),
  }),
  defineFunction({
    name: 'InputParameter', aliases: ['ВходнойПараметр', 'Входной параметр'], signature: 'InputParameter(n)',
    minArgs: 1, maxArgs: 1, volatile: true,
    description: 'Start parameter n of the run (Oktell «Входной параметр N»; n from 1); a parameter not passed is empty text.',
    check: (args) => {
      const n = literal(args[0]);
      return n !== undefined && (typeof n !== 'number' || !Number.isInteger(n) || n < 1)
        ? { arg: 0, message: `InputParameter: the parameter number must be a whole number from 1, got ${typeof n === 'string' && n.length > QUOTED_CHARS ? quotedText(n) : JSON.stringify(n)}`, hint: 'e.g. InputParameter(2) for startparam2' }
        : undefined;
    },
    call: (ctx, n) => {
      const i = num(n!, 'InputParameter');
      if (!Number.isInteger(i) || i < 1) throw new ExpressionRuntimeError('InputParameter', `the parameter number must be a whole number from 1, got ${i}`);
      return ctx.inputParameter(i);
    },
  }),
];
