// The shape of a syntax error in an expression: a stable code, a message, a hint and where in the source it is.
import { clipWhole } from '../cut-text.js';

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

/**
 * Characters of the scenario's own text a syntax error (message or hint) quotes at most: a 100 KB unknown name or
 * unquoted text would otherwise come back whole, two or three times over, in one message.
 */
export const QUOTED_CHARS = 60;

/**
 * Characters of a whole expression (or of its corrected form, to copy) a message shows at most: longer than a quoted
 * word, since an expression of a few lines is common and its fix is only useful whole.
 */
export const EXPRESSION_CHARS = 300;

/** `text` as a message shows it: whole when short, else its first `max` characters, `…` and its length. */
export function shownText(text: string, max = QUOTED_CHARS): string {
  return text.length <= max ? text : `${clipWhole(text, max)}… (${text.length} characters)`;
}

/**
 * `text` in quotes (`"…"` unless `open`/`close` are given): whole when short, else its first QUOTED_CHARS characters
 * and `…` inside the quotes, its length after them.
 */
export function quotedText(text: string, open = '"', close = open): string {
  return text.length <= QUOTED_CHARS ? `${open}${text}${close}` : `${open}${clipWhole(text, QUOTED_CHARS)}…${close} (${text.length} characters)`;
}
