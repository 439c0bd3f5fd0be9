// Oktell operator semantics: + adds numbers or joins text, arithmetic, dates ± days, comparisons, equality.
import { numberFromText, numberToText, toNumber, toText, type Value } from '../values.js';
import type { EvalContext } from './context.js';
import { addDaysInZone, parseDateText, wallDaysBetween } from './date-time.js';
import { ExpressionRuntimeError } from './runtime-error.js';

/** Text of a value; reads the zone only for dates, so constant parts can fold at load time. */
function textOf(v: Value, ctx: EvalContext): string {
  return toText(v, v instanceof Date ? ctx.timeZone : 'UTC');
}

function checked(n: number, op: string): number {
  if (Number.isFinite(n)) return n;
  throw new ExpressionRuntimeError(`operator ${op}`, Number.isNaN(n) ? 'the result is not a number' : 'the result is too large');
}

function shiftDays(d: Date, days: Value, op: string, ctx: EvalContext): Date {
  const out = addDaysInZone(d, toNumber(days, `operator ${op}`), ctx.timeZone);
  if (Number.isNaN(out.getTime())) throw new ExpressionRuntimeError(`operator ${op}`, 'the resulting date is out of range');
  return out;
}

/**
 * `a + b`: numbers add; as soon as either side is text the two are joined as text; a date plus a number adds that
 * many days; true/false and null count as 1/0/0 when added to numbers.
 */
export function add(a: Value, b: Value, ctx: EvalContext): Value {
  if (typeof a === 'number' && typeof b === 'number') return checked(a + b, '+');
  if (typeof a === 'string') return a + (typeof b === 'string' ? b : textOf(b, ctx));
  if (typeof b === 'string') return textOf(a, ctx) + b;
  if (a instanceof Date) {
    if (b instanceof Date) throw new ExpressionRuntimeError('operator +', 'cannot add two dates');
    return shiftDays(a, b, '+', ctx);
  }
  if (b instanceof Date) return shiftDays(b, a, '+', ctx);
  return checked(toNumber(a, 'operator +') + toNumber(b, 'operator +'), '+');
}

/**
 * `a - b`: numbers (numeric text converts); date minus number subtracts days; date minus date gives days, and so
 * does a date with date text on the other side (`[d] - "14.03.2024"`), as comparisons read date text.
 */
export function subtract(a: Value, b: Value, ctx: EvalContext): Value {
  if (typeof a === 'number' && typeof b === 'number') return checked(a - b, '-');
  if (a instanceof Date) {
    const other = b instanceof Date ? b : dateText(b, ctx);
    if (other) return wallDaysBetween(other, a, ctx.timeZone);
    return shiftDays(a, typeof b === 'number' ? -b : -toNumber(b, 'operator -'), '-', ctx);
  }
  if (b instanceof Date) {
    const first = dateText(a, ctx);
    if (first) return wallDaysBetween(b, first, ctx.timeZone);
  }
  return checked(toNumber(a, 'operator -') - toNumber(b, 'operator -'), '-');
}

/** The date a text holds, when it is date text and not a number (`"3"` next to a date is a number of days). */
function dateText(v: Value, ctx: EvalContext): Date | undefined {
  if (typeof v !== 'string' || numberFromText(v) === numberFromText(v)) return undefined;
  return parseDateText(v, ctx.timeZone);
}

export function multiply(a: Value, b: Value): number {
  if (typeof a === 'number' && typeof b === 'number') return checked(a * b, '*');
  return checked(toNumber(a, 'operator *') * toNumber(b, 'operator *'), '*');
}

export function divide(a: Value, b: Value): number {
  const d = typeof b === 'number' ? b : toNumber(b, 'operator /');
  const n = typeof a === 'number' ? a : toNumber(a, 'operator /');
  if (d === 0) throw new ExpressionRuntimeError('operator /', 'division by zero');
  return checked(n / d, '/');
}

export function power(a: Value, b: Value): number {
  const base = toNumber(a, 'operator ^');
  const exponent = toNumber(b, 'operator ^');
  // 0 ^ -1 is 1 / 0: infinite because of a zero divisor, not because the result grew too large.
  if (base === 0 && exponent < 0) throw new ExpressionRuntimeError('operator ^', `division by zero (0 to a negative power, ${numberToText(exponent)})`);
  return checked(base ** exponent, '^');
}

export function negate(a: Value): number {
  return typeof a === 'number' ? -a : -toNumber(a, 'unary -');
}

/** Numbers equal when they agree to about 15 significant digits, so 0.1 + 0.2 = 0.3 as it prints. */
function compareNumbers(a: number, b: number): number {
  if (a === b) return 0;
  if (Math.abs(a - b) <= 4 * Number.EPSILON * Math.max(Math.abs(a), Math.abs(b))) return 0;
  return a < b ? -1 : 1;
}

/**
 * Text order: by character code, except that ё and Ё take their place in the Russian alphabet, right after е and Е
 * (by code ё comes after я and Ё before А, so every ё-name would sort out of place).
 */
function compareTexts(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return textWeight(x) < textWeight(y) ? -1 : 1;
  }
  return a.length < b.length ? -1 : 1;
}

/** A code unit's place in text order: twice its code, ё/Ё one more than twice е/Е (between е and ж, Е and Ж). */
function textWeight(c: number): number {
  if (c === 0x451) return 0x435 * 2 + 1;
  if (c === 0x401) return 0x415 * 2 + 1;
  return c * 2;
}

function compareDateWith(d: Date, other: Value, ctx: EvalContext): number {
  if (other instanceof Date) return compareNumbers(d.getTime(), other.getTime());
  if (typeof other === 'string') {
    const o = parseDateText(other, ctx.timeZone);
    if (o) return compareNumbers(d.getTime(), o.getTime());
  }
  return compareTexts(toText(d, ctx.timeZone), toText(other, ctx.timeZone));
}

/**
 * Orders two values: numbers numerically (also against numeric text), dates chronologically (also against date
 * text), true after false, otherwise as text, case-sensitive, by character code. Returns -1, 0 or 1.
 */
export function compareValues(a: Value, b: Value, ctx: EvalContext): number {
  if (typeof a === 'number') {
    if (typeof b === 'number') return compareNumbers(a, b);
    if (typeof b === 'string') {
      const n = numberFromText(b);
      return n === n ? compareNumbers(a, n) : compareTexts(numberToText(a), b);
    }
    if (typeof b === 'boolean') return compareNumbers(a, b ? 1 : 0);
  } else if (typeof a === 'string') {
    if (typeof b === 'string') return compareTexts(a, b);
    if (typeof b === 'number') return -compareValues(b, a, ctx);
  } else if (typeof a === 'boolean') {
    if (typeof b === 'boolean') return compareNumbers(a ? 1 : 0, b ? 1 : 0);
    if (typeof b === 'number') return compareNumbers(a ? 1 : 0, b);
  }
  if (a instanceof Date) return compareDateWith(a, b, ctx);
  if (b instanceof Date) return -compareDateWith(b, a, ctx);
  return compareTexts(textOf(a, ctx), textOf(b, ctx));
}

export function equalValues(a: Value, b: Value, ctx: EvalContext): boolean {
  if (a === b) return true;
  if (typeof a === 'string' && typeof b === 'string') return false;
  return compareValues(a, b, ctx) === 0;
}
