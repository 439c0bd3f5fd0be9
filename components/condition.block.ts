// Condition (Сравнение): evaluates a condition and takes the `true` or `false` exit.
import { z } from 'zod';
import { SCENARIO_ERROR_CODES, numberSource, parseExpression, toBoolean, toText, type BlockDefinition, type BlockRuntime, type CompiledExpression, type Value } from '../engine/index.js';
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
  /** The operand form's two sides, evaluated again only to show in the trace what was compared. */
  operands?: { left: CompiledExpression; operator: string; right: CompiledExpression };
  /** The trace note of a visit, made once per block: a visit passes it on without creating a closure of its own. */
  note: (rt: BlockRuntime) => string | undefined;
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
    if ('expression' in raw) return withNote({ condition: cx.expression(['expression'], raw.expression), text: sourceOf(raw.expression).trim() });
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
      return withNote({ condition: left, text });
    }
    // A run-time failure points at the left operand's line (the combined expression is not written anywhere).
    return withNote({ condition: { ...parsed.expr, ...(left.at ? { at: left.at } : {}) }, text, operands: { left, operator: raw.operator, right } });
  },
  run(config, rt) {
    const holds = toBoolean(rt.evaluate(config.condition));
    // Worked out only when the run keeps a trace.
    rt.traceNote(config.note);
    return holds ? 'true' : 'false';
  },
};

function withNote(c: Omit<Config, 'note'>): Config {
  const config = c as Config;
  config.note = (rt) => comparedText(config, rt);
  return config;
}

/** Longest value shown in the note; a JSON body is cut. */
const SHOWN = 60;

/**
 * What the step compared, for the trace (the exit alone does not say why): the operand form's two values
 * (`"7" startsWith 8`), or the values of the variables an expression reads (`[i] = 5, [name] = "Иван"`). Nothing for a
 * condition that reads no variable.
 */
function comparedText(config: Config, rt: BlockRuntime): string | undefined {
  const timeZone = rt.timeZone;
  if (config.operands) {
    const { left, operator, right } = config.operands;
    if (left.constant && right.constant) return undefined;
    // Joined, not concatenated: a trace keeps the note of every step, and `+` would keep it as a tree of pieces.
    return ['compared ', show(rt.evaluate(left), timeZone), ' ', operator, ' ', show(rt.evaluate(right), timeZone)].join('');
  }
  const names = config.condition.variables;
  if (names.length === 0) return undefined;
  const parts = ['with '];
  for (let i = 0; i < names.length; i++) parts.push(i ? ', [' : '[', names[i]!, '] = ', show(rt.get(names[i]!), timeZone));
  return parts.join('');
}

/** A value as the note shows it. */
function show(v: Value, timeZone: string): string {
  // Cut before quoting: a variable may hold a whole webhook body.
  const t = typeof v === 'string' ? JSON.stringify(v.length > SHOWN ? v.slice(0, SHOWN) : v) : v === null ? 'empty' : toText(v, timeZone);
  return t.length > SHOWN ? `${t.slice(0, SHOWN - 1)}…` : t;
}

function sourceOf(v: string | number | boolean): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? numberSource(v) : String(v);
}
