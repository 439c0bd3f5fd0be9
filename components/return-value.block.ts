// ReturnValue (Возвращаемое значение N): sets the scenario's numbered return values (service variables).
import { z } from 'zod';
import type { BlockDefinition, CompiledExpression } from '../engine/index.js';
import { expr } from './common.js';

const schema = z.strictObject({
  values: z.record(z.string().regex(/^[1-9]\d?$/, 'return value numbers are 1..99'), expr),
});

type Config = { slots: number[]; exprs: CompiledExpression[] };

export const returnValueBlock: BlockDefinition<z.infer<typeof schema>, Config> = {
  kind: 'ReturnValue',
  oktellName: 'Возвращаемое значение',
  description: 'Sets return values (Возвращаемое значение N). For the HTTP404 hook: 1 = response body, 2 = status code, 3 = content type.',
  exits: ['next'],
  schema,
  example: `ack:
  kind: ReturnValue
  values:               # number: expression
    2: 200
    1: '"OK"'`,
  compile(raw, cx) {
    const slots: number[] = [];
    const exprs: CompiledExpression[] = [];
    for (const [n, source] of Object.entries(raw.values)) {
      slots.push(Number(n));
      exprs.push(cx.expression(['values', n], source));
    }
    return { slots, exprs };
  },
  run(config, rt) {
    for (let i = 0; i < config.slots.length; i++) rt.setReturnValue(config.slots[i]!, rt.evaluate(config.exprs[i]!));
    return 'next';
  },
};
