// The shape of a syntax error in an expression: a stable code, a message, a hint and where in the source it is.

/** A problem found while parsing an expression; `offset` (0-based) and `length` point at the offending text. */
export interface ExpressionSyntaxError {
  code: 'E_INVALID_EXPRESSION';
  message: string;
  hint?: string;
  offset: number;
  length: number;
  /** The whole expression corrected, when the fix is certain (unquoted text gets its quotes). */
  fix?: string;
  /**
   * The mistake is in a call of a function the language knows, or one close to a known name (`InputParam(4)`, `Now`,
   * `Contains([a])`): the value is meant as an expression, so a hint never offers to quote it as text.
   */
  call?: boolean;
  /**
   * Where the "[" is that this error finds left open (a second "[" met inside a variable name), as an offset: a
   * scenario's problem names it by line and column in the file, which an offset in the expression is not to a reader.
   */
  opened?: number;
}

export function syntaxError(message: string, offset: number, length: number, hint?: string, fix?: string): ExpressionSyntaxError {
  return { code: 'E_INVALID_EXPRESSION', message, ...(hint ? { hint } : {}), offset, length: Math.max(0, length), ...(fix !== undefined ? { fix } : {}) };
}
