// Variable (Присвоение): assigns expressions to variables, in order.
import { z } from 'zod';
import type { BlockDefinition, CompiledExpression } from '../engine/index.js';
import { exprMap } from './common.js';

const schema = z.strictObject({ set: exprMap.refine((m) => Object.keys(m).length > 0, 'set at least one variable') });

type Config = { names: string[]; exprs: CompiledExpression[] };

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
    const exprs: CompiledExpression[] = [];
    for (const [name, source] of Object.entries(raw.set)) {
      names.push(cx.variable(['set', name], name));
      exprs.push(cx.expression(['set', name], source));
    }
    return { names, exprs };
  },
  run(config, rt) {
    const { names, exprs } = config;
    for (let i = 0; i < names.length; i++) rt.set(names[i]!, rt.evaluate(exprs[i]!));
    return 'next';
  },
};
