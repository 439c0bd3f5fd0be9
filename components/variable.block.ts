// Variable (Присвоение): assigns expressions to variables, in order.
import { z } from 'zod';
import { coerceToType, ExpressionRuntimeError, returnValueSlot, SCENARIO_ERROR_CODES as C, type AssignmentPlace, type BlockDefinition, type CompileContext, type CompiledExpression } from '../engine/index.js';
import { exprMap, NOTHING } from './common.js';

// minProperties: the refinement as editors see it (zod writes no refinement into the JSON Schema).
const schema = z.strictObject({ set: exprMap.refine((m) => Object.keys(m).length > 0, 'set at least one variable').meta({ minProperties: 1 }) });

/** What one line of `set:` assigns: a variable, or a return value named as Oktell's service variable. */
type Target = { variable: string } | { returnValue: number };

/** `places[i]`: where line i is written, made once here rather than at every visit of the block. */
type Config = { names: string[]; targets: Target[]; exprs: CompiledExpression[]; places: AssignmentPlace[] };

export const variableBlock: BlockDefinition<z.infer<typeof schema>, Config> = {
  kind: 'Variable',
  oktellName: 'Присвоение',
  description: 'Assigns values to variables, one after another (a later line sees the earlier ones), converting to each variable\'s type.',
  exits: ['next'],
  schema,
  example: `count:
  kind: Variable
  set:                  # variable: expression
    i: '[i] + 1'
    label: '"Задача №" + [i]'
  exits: { next: loop }`,
  compile(raw, cx) {
    const names: string[] = [];
    const targets: Target[] = [];
    const exprs: CompiledExpression[] = [];
    for (const [name, source] of Object.entries(raw.set)) {
      names.push(name);
      // In Oktell the return values are service variables, assigned here like any other (the article's HTTP404 sets
      // «(сл) Возвращаемое значение 2» to 200): such a name is the ReturnValue block's slot, not a variable.
      const slot = returnValueSlot(name);
      if (slot !== undefined) {
        targets.push({ returnValue: slot });
        exprs.push(cx.expression(['set', name], source));
        continue;
      }
      targets.push({ variable: cx.variable(['set', name], name) });
      const expr = cx.expression(['set', name], source, cx.variableType?.(name));
      if (expr.constant) checkConstant(cx, name, expr);
      exprs.push(expr);
    }
    return { names, targets, exprs, places: exprs.map((e) => ({ at: e.at })) };
  },
  run(config, rt) {
    const { names, targets, exprs, places } = config;
    for (let i = 0; i < names.length; i++) {
      let value;
      try {
        value = rt.evaluate(exprs[i]!);
      } catch (e) {
        // Named by the variable being set: a block may set ten, and the expression alone may read several.
        throw e instanceof ExpressionRuntimeError ? e.place(`set ${names[i]!}`, exprs[i]!.at) : e;
      }
      const target = targets[i]!;
      if ('returnValue' in target) rt.setReturnValue(target.returnValue, value);
      else rt.set(target.variable, value, places[i]);
    }
    return 'next';
  },
};

/**
 * A constant that fails, or that the variable's type can never hold (`i: '"zero"'` for a number), would fail every
 * run at this block: it is reported at load time, at the assignment, instead.
 */
function checkConstant(cx: CompileContext, name: string, expr: CompiledExpression): void {
  const type = cx.variableType?.(name);
  if (!type) return;
  let value;
  try {
    value = expr.evaluate(NOTHING);
  } catch (e) {
    if (!(e instanceof ExpressionRuntimeError)) throw e;
    // The expression itself fails (1 / 0): the variable's type has nothing to do with it.
    cx.issue(['set', name], C.INVALID_PROPERTY, `${name} (${type}) is set to ${expr.source}, which fails on every run: ${e.message}`, 'the expression fails whatever it is assigned to: correct the expression');
    return;
  }
  try {
    coerceToType(value, type, NOTHING.timeZone);
  } catch (e) {
    if (!(e instanceof ExpressionRuntimeError)) throw e;
    cx.issue(['set', name], C.INVALID_PROPERTY, `${name} (${type}) is set to ${expr.source}, which fails on every run: ${e.message}`, `assign a ${type} value, or declare ${name} with the type of this value`);
  }
}
