// The one error an expression throws while it runs: a stable code, the operation that failed and why.

/**
 * Thrown by a compiled expression (and by the value conversions in `engine/values.ts`) when a value does not fit
 * what an operator or function needs, e.g. `Num("abc")` or a division by zero. The message names the operation:
 * `Num: cannot convert text "abc" to a number`.
 */
export class ExpressionRuntimeError extends Error {
  override name = 'ExpressionRuntimeError';
  readonly code = 'R_EXPRESSION' as const;
  /** Source text of the expression that failed, filled in when the error leaves `evaluate`. */
  expression: string | undefined;

  /** What went wrong, without the operation; on one line (oneLine). */
  readonly reason: string;

  constructor(
    /** Function or operator that failed (`Num`, `operator /`); empty for a plain conversion. */
    readonly operation: string,
    /** What went wrong, without the operation. */
    reason: string,
    /** How to fix it, when the cause is known well enough to say: ends the message, after the expression. */
    readonly fix?: string,
  ) {
    const said = oneLine(reason);
    super(`${operation ? `${operation}: ${said}` : said}${fix ? `; ${fix}` : ''}`);
    this.reason = said;
  }

  /**
   * Where the failing operation (a call, an operator) starts in the expression's source and how long it is, when it
   * could be found: the loader turns it into the line and column inside a value of several lines.
   */
  span: { offset: number; length: number } | undefined;

  /** Where in the scenario file the failing value was written (the `set:` entry, the property), when known. */
  at: { file: string; line: number; col: number } | undefined;

  /**
   * Names what was being computed (`variable b (number)`, `parameter 2 → b`) and where it is written, once: with ten
   * assignments in a block, "cannot convert text "abc"" alone is a hunt.
   */
  place(subject: string | undefined, at: { file: string; line: number; col: number } | undefined): this {
    if (at && !this.at) this.at = at;
    if (subject && !this.message.startsWith(`${subject}: `)) this.message = `${subject}: ${this.message}`;
    return this;
  }

  /** Adds the expression's source to the message, once. */
  attachExpression(source: string): this {
    if (this.expression === undefined) {
      this.expression = source;
      const shown = ` (in expression ${quoteForMessage(source, 80)})`;
      const tail = this.fix ? `; ${this.fix}` : '';
      this.message = tail && this.message.endsWith(tail) ? `${this.message.slice(0, -tail.length)}${shown}${tail}` : this.message + shown;
    }
    return this;
  }
}

/**
 * `text` with its line breaks and other control characters written as escapes (`\n`, `\r`, `\t`, `\u2028`), as a
 * quoted value shows them (quoteForMessage): a part of a value a reason holds unquoted (the stretch of the text V8's
 * JSON error shows, `Unexpected token 'a', "ab\ncd" is not valid JSON`; a key of a path) no longer breaks the
 * message, which a log or the console shows as one line, in two.
 */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u2028\u2029]/g, (c) => CONTROL_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const CONTROL_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

/** Characters of a value an error message quotes at most (quoteForMessage), before `…`. */
export const MESSAGE_QUOTE_CHARS = 40;

/** A value quoted for an error message, shortened so a huge JSON body does not flood the log. */
export function quoteForMessage(text: string, max = MESSAGE_QUOTE_CHARS): string {
  const short = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(short);
}
