// Condition (Сравнение): evaluates a condition and takes the `true` or `false` exit.
import { z } from 'zod';
import { SCENARIO_ERROR_CODES, parseExpression, toBoolean, type BlockDefinition, type CompiledExpression } from '../engine/index.js';
import { expr } from './common.js';

const OPERATORS = ['=', '<>', '==', '!=', '>', '<', '>=', '<=', 'contains', 'startsWith', 'endsWith'] as const;

const schema = z.union([
  z.strictObject({ expression: expr }),
  z.strictObject({ left: expr, operator: z.enum(OPERATORS), right: expr }),
]);

type Config = {
  condition: CompiledExpression;
  /** The condition as written, the operand form as `left operator right`: what diagrams show. */
  text: string;
};

export const conditionBlock: BlockDefinition<z.infer<typeof schema>, Config> = {
  kind: 'Condition',
  oktellName: 'Сравнение',
  description: 'Takes the "true" exit when the condition holds, else "false". Either one expression, or left/operator/right like Oktell\'s operand form.',
  exits: ['true', 'false'],
  schema,
  example: `isNewTask:
  kind: Condition
  expression: Contains([address], "/Bpium/NewTask")
  # or, as Oktell's operand form:
  #   left: '[count]'
  #   operator: '>'
  #   right: 0
  exits: { true: startTask, false: notFound }`,
  compile(raw, cx) {
    if ('expression' in raw) return { condition: cx.expression(['expression'], raw.expression), text: sourceOf(raw.expression).trim() };
    const left = cx.expression(['left'], raw.left);
    const right = cx.expression(['right'], raw.right);
    const l = sourceOf(raw.left);
    const r = sourceOf(raw.right);
    const text = `${l} ${raw.operator} ${r}`;
    const combined =
      raw.operator === 'contains' ? `Contains(${l}, ${r})`
      : raw.operator === 'startsWith' ? `StartsWith(${l}, ${r})`
      : raw.operator === 'endsWith' ? `EndsWith(${l}, ${r})`
      : `(${l}) ${raw.operator} (${r})`;
    const parsed = parseExpression(combined);
    if (!parsed.ok) {
      // Both sides compiled on their own, so this only happens when a side already reported its own error.
      if (left.source !== '' && right.source !== '') {
        cx.issue(['operator'], SCENARIO_ERROR_CODES.INVALID_EXPRESSION, `cannot combine the operands: ${parsed.error.message}`, parsed.error.hint);
      }
      return { condition: left, text };
    }
    return { condition: parsed.expr, text };
  },
  run: (config, rt) => (toBoolean(rt.evaluate(config.condition)) ? 'true' : 'false'),
};

function sourceOf(v: string | number | boolean): string {
  return typeof v === 'string' ? v : String(v);
}
