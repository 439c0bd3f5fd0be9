// Runtime values of scenario variables and expressions, and Oktell's variable types.

/**
 * A value held by a scenario variable or produced by an expression.
 * Oktell knows numbers, strings and date/times; booleans exist only as the result of comparisons and logic.
 * Structured data (parser results, Bpium answers) travels as JSON text in a `json` variable, the way Oktell passes
 * text from one Parser to the next.
 */
export type Value = string | number | boolean | Date | null;

/** Declared type of a scenario variable. `json` holds JSON text (checked on assignment). */
export type VarType = 'string' | 'number' | 'datetime' | 'json';

export const VAR_TYPES: readonly VarType[] = ['string', 'number', 'datetime', 'json'];

/** Plain JSON, as parsed from request bodies and Bpium answers. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
