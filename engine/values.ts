// Runtime values of scenario variables and expressions, and Oktell's variable types.
import { formatDefault, parseDateText } from './expr/date-time.js';
import { ExpressionRuntimeError, quoteForMessage } from './expr/runtime-error.js';
import { JsonTooDeepError, parseJsonWithinDepth } from './json-depth.js';

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

// ---- Conversions (used by expressions and by assignments to typed variables) ---------------------------------
// Rules in one place (also in docs/expressions.md): numbers print without float noise, dates print as
// `dd.MM.yyyy HH:mm:ss` in the run's time zone, booleans as "true"/"false", null as ''.


const NUMERIC_TEXT = /^\s*[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?\s*$/;
const DATE_FORMS = 'dd.MM.yyyy HH:mm:ss, dd.MM.yyyy or ISO 8601 such as 2024-03-15T09:30:00';

/** The number written in `text` ("12", "-3.5", "3,5", " 7 "), or NaN when the text is not exactly a number. */
export function numberFromText(text: string): number {
  if (!NUMERIC_TEXT.test(text)) return NaN;
  const n = Number(text.indexOf(',') >= 0 ? text.replace(',', '.') : text);
  return Number.isFinite(n) ? n : NaN;
}

/**
 * A number as text: integers as they are, fractions rounded to 15 significant digits (0.1 + 0.2 → "0.3"). An integer
 * beyond 2^53 is not held exactly, so its last digits would be invented: it prints with 15 significant digits in
 * exponent form (123456789012345678 → "1.23456789012346e+17").
 */
export function numberToText(n: number): string {
  if (Number.isSafeInteger(n)) return String(n);
  if (Number.isInteger(n)) return n.toPrecision(15).replace(/\.?0+e/, 'e');
  if (!Number.isFinite(n)) return String(n);
  const rounded = Number(n.toPrecision(15));
  const s = String(rounded);
  if (s.indexOf('e-') < 0) return s;
  // Tiny fractions: plain decimal notation rather than 1e-7.
  const digits = Math.min(100, Number(s.slice(s.indexOf('e-') + 2)) + 15);
  return rounded.toFixed(digits).replace(/\.?0+$/, '');
}

/**
 * A value as text: strings unchanged, numbers via {@link numberToText}, booleans "true"/"false", null '',
 * dates as `dd.MM.yyyy HH:mm:ss` in `timeZone`.
 * @example toText(new Date('2024-03-15T06:30:00Z'), 'Europe/Moscow') // "15.03.2024 09:30:00"
 */
export function toText(v: Value, timeZone: string): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
      return numberToText(v);
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      return v === null ? '' : formatDefault(v, timeZone);
  }
}

/**
 * A value as a number. Numeric text converts (comma or dot decimals, surrounding spaces ignored); empty text and
 * null count as 0; true/false are 1/0. Other text and dates throw {@link ExpressionRuntimeError}, whose message is
 * prefixed with `operation` (e.g. "Num") when given.
 */
export function toNumber(v: Value, operation = ''): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const n = numberFromText(v);
    if (n === n) return n;
    if (v.trim() === '') return 0;
    throw new ExpressionRuntimeError(operation, `cannot convert text ${quoteForMessage(v)} to a number`);
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === null) return 0;
  throw new ExpressionRuntimeError(operation, 'cannot convert a date to a number (DateDiff measures time between dates)');
}

/**
 * A value as a truth value: false for false, 0, null, empty (or blank) text, and the texts "0" and "false" (any case);
 * true for everything else, including every date.
 */
export function toBoolean(v: Value): boolean {
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'number':
      return v !== 0 && v === v;
    case 'string': {
      if (v === '' || v === '0' || v === 'false') return false;
      const t = v.trim();
      if (t === '' || t.toLowerCase() === 'false') return false;
      const n = numberFromText(t);
      return n !== 0;
    }
    default:
      return v !== null;
  }
}

/** A value as a date: dates unchanged, text read as `dd.MM.yyyy[ HH:mm[:ss]]` or ISO 8601 (wall time in `timeZone`). */
export function toDate(v: Value, timeZone: string, operation = ''): Date {
  if (v instanceof Date) return v;
  if (typeof v === 'string') {
    const d = parseDateText(v, timeZone);
    if (d) return d;
    throw new ExpressionRuntimeError(operation, `cannot read text ${quoteForMessage(v)} as a date (expected ${DATE_FORMS})`);
  }
  throw new ExpressionRuntimeError(operation, `expected a date, got ${v === null ? 'an empty value' : `the ${typeof v} ${String(v)}`}`);
}

/**
 * Converts a value for storage in a variable of the declared type; throws {@link ExpressionRuntimeError} when it
 * cannot. `number`: numbers, numeric text ("3,5" too), booleans (1/0); empty text and null become 0.
 * `string`: {@link toText}. `datetime`: dates, date text (see {@link toDate}); empty text and null become null.
 * `json`: JSON text is checked and kept as written; empty text and null become "null"; numbers and booleans become
 * their JSON text; a date becomes an ISO 8601 JSON string.
 */
export function coerceToType(v: Value, type: VarType, timeZone: string): Value {
  switch (type) {
    case 'number': {
      if (typeof v === 'number') {
        if (Number.isFinite(v)) return v;
        throw new ExpressionRuntimeError('', `cannot store ${String(v)} in a number variable`);
      }
      if (v instanceof Date) throw new ExpressionRuntimeError('', `cannot convert the date ${formatDefault(v, timeZone)} to a number`);
      return toNumber(v);
    }
    case 'string':
      return toText(v, timeZone);
    case 'datetime': {
      if (v === null || v instanceof Date) return v;
      if (typeof v === 'string') return v.trim() === '' ? null : toDate(v, timeZone);
      throw new ExpressionRuntimeError('', `cannot convert the ${typeof v} ${String(v)} to a date`);
    }
    case 'json': {
      if (typeof v === 'string') {
        if (v.trim() === '') return 'null';
        try {
          parseJsonWithinDepth(v);
        } catch (e) {
          if (e instanceof JsonTooDeepError) throw new ExpressionRuntimeError('', `text ${quoteForMessage(v)} ${e.message}`);
          throw new ExpressionRuntimeError('', `text ${quoteForMessage(v)} is not valid JSON (${(e as Error).message})`);
        }
        return v;
      }
      if (v === null) return 'null';
      if (typeof v === 'number') return Number.isFinite(v) ? numberToText(v) : 'null';
      if (typeof v === 'boolean') return v ? 'true' : 'false';
      return JSON.stringify(v.toISOString());
    }
  }
}
