// Date functions: the injected clock, formatting and parsing in the run's time zone, arithmetic and differences.
import { quotedText } from '../syntax-error.js';
import type { Node } from '../ast.js';
import { addDaysInZone, compileDateFormat, FORMAT_TOKENS_HINT, formatWithParts, parseDateWithParts, startOfDay, wallDaysBetween } from '../date-time.js';
import { ExpressionRuntimeError, quoteForMessage } from '../runtime-error.js';
import { date, defineFunction, literal, num, text, type ArgProblem, type FunctionDef } from './function-def.js';

const DAY_MS = 86_400_000;
const UNIT_MS: Record<string, number> = {
  days: DAY_MS, day: DAY_MS, d: DAY_MS,
  hours: 3_600_000, hour: 3_600_000, h: 3_600_000,
  minutes: 60_000, minute: 60_000, min: 60_000,
  seconds: 1000, second: 1000, s: 1000, sec: 1000,
  milliseconds: 1, millisecond: 1, ms: 1,
};
const UNITS_HINT = 'units: days, hours, minutes, seconds, milliseconds (or d, h, min, s, ms)';

function formatProblem(args: readonly Node[], index: number, fn: string): ArgProblem | undefined {
  const f = literal(args[index]);
  if (typeof f !== 'string') return undefined;
  const c = compileDateFormat(f);
  return c.ok ? undefined : { arg: index, message: `${fn}: ${c.message}`, hint: c.hint };
}

function shift(name: string, unitMs: number, what: string): FunctionDef {
  return defineFunction({
    name, signature: `${name}(date, ${what})`, minArgs: 2, maxArgs: 2,
    description: `The date plus the given number of ${what} (negative to subtract; fractions allowed).`,
    call: (ctx, d, n) => {
      const base = date(d!, ctx, name);
      const amount = num(n!, name);
      const out = new Date(base.getTime() + amount * unitMs);
      if (Number.isNaN(out.getTime())) throw new ExpressionRuntimeError(name, 'the resulting date is out of range');
      return out;
    },
  });
}

export const DATE_FUNCTIONS: FunctionDef[] = [
  defineFunction({
    name: 'Now', signature: 'Now()', minArgs: 0, maxArgs: 0, volatile: true,
    description: 'The current date and time (from the engine clock).',
    call: (ctx) => ctx.now(),
  }),
  defineFunction({
    name: 'Today', signature: 'Today()', minArgs: 0, maxArgs: 0, volatile: true,
    description: 'Today at 00:00:00 in the run\'s time zone.',
    call: (ctx) => startOfDay(ctx.now(), ctx.timeZone),
  }),
  defineFunction({
    name: 'FormatDate', signature: 'FormatDate(date, format)', minArgs: 2, maxArgs: 2,
    description: `The date as text in the run's time zone; ${FORMAT_TOKENS_HINT}.`,
    check: (args) => formatProblem(args, 1, 'FormatDate'),
    call: (ctx, d, format) => {
      const when = date(d!, ctx, 'FormatDate');
      const c = compileDateFormat(text(format!, ctx));
      if (!c.ok) throw new ExpressionRuntimeError('FormatDate', `${c.message}; ${c.hint}`);
      return formatWithParts(when, c.parts, ctx.timeZone);
    },
  }),
  defineFunction({
    name: 'ToDate', signature: 'ToDate(text, format?)', minArgs: 1, maxArgs: 2,
    description: 'Reads a date from text: dd.MM.yyyy HH:mm:ss, dd.MM.yyyy or ISO 8601 by default, or exactly the given format.',
    check: (args) => formatProblem(args, 1, 'ToDate'),
    call: (ctx, v, format) => {
      if (format === undefined) return date(v!, ctx, 'ToDate');
      if (v instanceof Date) return v;
      const c = compileDateFormat(text(format, ctx));
      if (!c.ok) throw new ExpressionRuntimeError('ToDate', `${c.message}; ${c.hint}`);
      const s = text(v!, ctx);
      const parsed = parseDateWithParts(s, c.parts, ctx.timeZone);
      if (!parsed) throw new ExpressionRuntimeError('ToDate', `cannot read text ${quoteForMessage(s)} as a date in the format ${quoteForMessage(text(format, ctx))}`);
      return parsed;
    },
  }),
  defineFunction({
    name: 'AddDays', signature: 'AddDays(date, days)', minArgs: 2, maxArgs: 2,
    description: 'The date plus whole calendar days at the same wall-clock time (negative to subtract).',
    call: (ctx, d, n) => {
      const out = addDaysInZone(date(d!, ctx, 'AddDays'), num(n!, 'AddDays'), ctx.timeZone);
      if (Number.isNaN(out.getTime())) throw new ExpressionRuntimeError('AddDays', 'the resulting date is out of range');
      return out;
    },
  }),
  shift('AddHours', 3_600_000, 'hours'),
  shift('AddMinutes', 60_000, 'minutes'),
  shift('AddSeconds', 1000, 'seconds'),
  defineFunction({
    name: 'DateDiff', signature: 'DateDiff(unit, from, to)', minArgs: 3, maxArgs: 3,
    description: `Whole units from the first date to the second (negative when to is earlier); days as the calendar counts them (as AddDays), smaller units as the time elapsed; ${UNITS_HINT}.`,
    check: (args) => {
      const u = literal(args[0]);
      return typeof u === 'string' && UNIT_MS[u.trim().toLowerCase()] === undefined
        ? { arg: 0, message: `DateDiff: unknown unit ${quotedText(u)}`, hint: UNITS_HINT }
        : undefined;
    },
    call: (ctx, unit, a, b) => {
      const u = text(unit!, ctx).trim().toLowerCase();
      const ms = UNIT_MS[u];
      if (ms === undefined) throw new ExpressionRuntimeError('DateDiff', `unknown unit ${quoteForMessage(u)}; ${UNITS_HINT}`);
      const from = date(a!, ctx, 'DateDiff');
      const to = date(b!, ctx, 'DateDiff');
      // Days are calendar days at the wall clock (as AddDays counts them); smaller units are the time that elapsed.
      if (ms === DAY_MS) return Math.trunc(wallDaysBetween(from, to, ctx.timeZone)) + 0;
      return Math.trunc((to.getTime() - from.getTime()) / ms) + 0;
    },
  }),
];
