// Schema pieces and failure routing shared by block definitions.
import { z } from 'zod';
import {
  RunFailure,
  RUN_ERROR_CODES,
  SCENARIO_ERROR_CODES,
  expressionSchema,
  toText,
  variableNameSchema,
  type BlockRuntime,
  type CompiledExpression,
  type CompileContext,
  type EffectError,
  type EvalContext,
  type Value,
  type VarType,
} from '../engine/index.js';

/** An expression property: text is an Oktell expression, a number or boolean a constant. */
export const expr = expressionSchema(z.union([z.string(), z.number(), z.boolean()]));

/**
 * What a constant expression (CompiledExpression.constant) may read while it is checked at load time: nothing (it
 * reads no variable, parameter or clock).
 */
export const NOTHING: EvalContext = {
  getVariable: () => null,
  inputParameter: () => '',
  now: () => new Date(0),
  timeZone: 'UTC',
};

/**
 * The text of a constant expression (one that reads no variable, parameter or clock) as every run will see it, for a
 * check at load time; undefined when the expression itself fails (1 / 0: the run says so, as for any expression) or
 * is not valid (null: reported as such already).
 */
export function constantText(e: CompiledExpression): string | undefined {
  let value: Value;
  try {
    value = e.evaluate(NOTHING);
  } catch {
    return undefined;
  }
  return value === null ? undefined : toText(value, NOTHING.timeZone);
}

/** A variable name (declared under `variables:`). */
export const varName = variableNameSchema(z.string().min(1));

/** A field id or name → expression map, in file order. */
export const exprMap = z.record(z.string(), expr);

/**
 * Whether the values of these properties are known to a check: false when the block failed its schema and one of
 * them (or, for `params.c`, the whole `params`) was left out as wrong (see CompileContext.omitted). A check that
 * would judge a left-out property by its absence or its default says nothing then, instead of a second problem.
 */
export function isKnown(cx: CompileContext, ...properties: string[]): boolean {
  const omitted = cx.omitted;
  if (!omitted) return true;
  return properties.every((p) => !omitted.has(p) && !omitted.has(p.split('.')[0]!));
}

/**
 * What a block stores in an output variable, and the variable types that can hold it on every run. Text codes
 * (errorCode) fit only text; JSON that is always an object or array (headers, rows, a Bpium answer) also a json
 * variable; an answer's body too (a JSON API's body), never a number or a date, since any other body (an error page,
 * an empty answer) would fail the run after the request was sent; a number (status, row count) anything but a date.
 */
const RECEIVES = {
  text: { what: 'text', fits: ['string'], fix: 'string' },
  json: { what: 'JSON text', fits: ['string', 'json'], fix: 'string or json, and take values out of it with a Parser' },
  body: { what: 'the answer\'s text', fits: ['string', 'json'], fix: 'string or json, and take a number or date out of it with a Parser, whose error exit handles an answer that does not fit' },
  number: { what: 'a number', fits: ['number', 'string', 'json'], fix: 'number' },
} as const satisfies Record<string, { what: string; fits: readonly VarType[]; fix: string }>;

/**
 * Checks a variable a block stores its result in (`responseBody`, `rows`, `errorCode` …): it must be declared, and of a
 * type that can hold what it receives. Storing happens after the block's effect (the request was sent, the row
 * written), so a type that cannot hold it would fail the run for good after the fact: refused at load time instead.
 */
export function checkOutputVariable(cx: CompileContext, property: string, name: string, receives: keyof typeof RECEIVES): void {
  cx.variable([property], name);
  checkOutputType(cx, [property], `${property} ${name}`, name, receives);
}

/** The type half of checkOutputVariable, for a variable named elsewhere (a key of `extract`); `subject` opens the message. */
export function checkOutputType(cx: CompileContext, path: readonly (string | number)[], subject: string, name: string, receives: keyof typeof RECEIVES): void {
  const type = cx.variableType?.(name);
  const r = RECEIVES[receives];
  if (type === undefined || (r.fits as readonly VarType[]).includes(type)) return;
  cx.issue(path, SCENARIO_ERROR_CODES.INVALID_PROPERTY, `${subject} is a ${type} variable, but it receives ${r.what}`, `declare ${name}: ${r.fix}`);
}

/**
 * Checks a variable that receives a reason or an error code (`errorVariable`, `errorCode`): always text (a code like
 * HTTP_TIMEOUT too), so a number, date or json variable could not hold it and the error exit would fail the run
 * while storing it. Refused at load time, at `property`.
 */
export function checkTextVariable(cx: CompileContext, property: string, name: string): void {
  checkOutputVariable(cx, property, name, 'text');
}

/**
 * The failure of a run whose effect was refused for a setting (`EffectError.details.setting`: a login, a certificate,
 * an address that refuses every request alike): not the block's `error` exit, which would end the run completed with
 * nothing to replay. The run fails with R_EFFECT_SETTING; a queued job is a dead letter at once, to replay once the
 * setting is fixed. `stopped` says what did not happen, as `label: message; stopped…` (`alone`: for a run that is not a
 * queued job, when it needs other words).
 */
export function settingFailure(label: string, rt: Pick<BlockRuntime, 'queuedJob'>, e: EffectError, stopped: { queued: string; alone?: string }): RunFailure {
  const kept = rt.queuedJob
    ? `${stopped.queued}: its job is a dead letter, to replay once the setting is fixed`
    : `${stopped.alone ?? stopped.queued}, and this run is not a queued job, so no dead letter keeps it: once the setting is fixed, make the request (or run the command) again`;
  return new RunFailure(RUN_ERROR_CODES.EFFECT_SETTING, `${label}: ${e.message}; ${kept}`);
}
