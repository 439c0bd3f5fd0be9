// Schema pieces shared by block definitions.
import { z } from 'zod';
import { SCENARIO_ERROR_CODES, expressionSchema, variableNameSchema, type CompileContext } from '../engine/index.js';

/** An expression property: text is an Oktell expression, a number or boolean a constant. */
export const expr = expressionSchema(z.union([z.string(), z.number(), z.boolean()]));

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
 * Checks a variable that receives a reason or an error code (`errorVariable`, `errorCode`): always text (a code like
 * HTTP_TIMEOUT too), so a number, date or json variable could not hold it and the error exit would fail the run
 * while storing it. Refused at load time, at `property`.
 */
export function checkTextVariable(cx: CompileContext, property: string, name: string): void {
  cx.variable([property], name);
  const type = cx.variableType?.(name);
  if (type !== undefined && type !== 'string') {
    cx.issue([property], SCENARIO_ERROR_CODES.INVALID_PROPERTY, `${property} ${name} is a ${type} variable, but it receives text`, `declare ${name}: string`);
  }
}
