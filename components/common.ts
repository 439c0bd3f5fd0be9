// Schema pieces shared by block definitions.
import { z } from 'zod';
import { expressionSchema, variableNameSchema } from '../engine/index.js';

/** An expression property: text is an Oktell expression, a number or boolean a constant. */
export const expr = expressionSchema(z.union([z.string(), z.number(), z.boolean()]));

/** A variable name (declared under `variables:`). */
export const varName = variableNameSchema(z.string().min(1));

/** A field id or name → expression map, in file order. */
export const exprMap = z.record(z.string(), expr);
