// Schedules of service tasks: a cron expression (5 fields, or 6 with seconds first) read in a time zone, or a fixed
// interval (`every: 5m`). The fields are checked here, with messages that name the field; the due times of a cron
// expression are computed by croner, so every instance computes the same next due time after a moment.
import { Cron } from 'croner';
import { isTimeZone, suggestedZone } from '../../engine/suggest.js';

/** Milliseconds since the Unix epoch. */
export type Ms = number;

export interface Schedule {
  /** The first due time strictly after `after`, or undefined when there is none within five years. */
  next(after: Ms): Ms | undefined;
  /** How the schedule was written, for listings. */
  readonly text: string;
}

export class ScheduleError extends Error {
  override name = 'ScheduleError';
}

// ----- intervals --------------------------------------------------------------------------------------------------

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `5m`, `1h30m`, `1d` → milliseconds; at least one second. */
export function parseInterval(text: string): number {
  const t = text.trim().toLowerCase();
  if (/^\d+$/.test(t)) throw new ScheduleError(`"${text}" has no unit: write ${t}s for seconds (${Number(t) % 60 === 0 && t !== '0' ? `or ${Number(t) / 60}m, ` : ''}units ms, s, m, h, d)`);
  const words = intervalInWords(t);
  if (words) throw new ScheduleError(`"${text}" is not an interval: write ${words}`);
  // `every: "@every 5m"`, Go's cron spelling kept when moving it from cron:.
  const go = /^@every\s+(\S.*)$/.exec(t);
  if (go) throw new ScheduleError(`"${text}" is not an interval: write ${intervalFix(go[1]!)}`);
  if (!/^(\d+\s*(ms|s|m|h|d)\s*)+$/.test(t)) {
    // The reverse of `cron: "every minute"`: a cron expression given to every:.
    if (/^@[a-z]+$/.test(t) || /^([\d*,/?a-z-]+\s+){4,5}[\d*,/?a-z-]+$/.test(t)) throw new ScheduleError(`"${text}" is not an interval but looks like a cron expression: write cron: "${text.trim()}" in place of every:`);
    throw new ScheduleError(`"${text}" is not an interval (e.g. 30s, 5m, 1h30m, 1d)`);
  }
  let ms = 0;
  for (const m of t.matchAll(/(\d+)\s*(ms|s|m|h|d)/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  if (ms < 1000) throw new ScheduleError(`"${text}" is shorter than one second`);
  return ms;
}

/** `every minute`, `5 minutes`, `2 hours` → the interval as `every:` takes it (`1m`, `5m`, `2h`); else undefined. */
export function intervalInWords(text: string): string | undefined {
  const m = /^(?:every\s+)?(\d+)?\s*(sec(?:ond)?|min(?:ute)?|hour|day)s?$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = { sec: 's', second: 's', min: 'm', minute: 'm', hour: 'h', day: 'd' }[m[2]!.toLowerCase()]!;
  return `${m[1] ?? '1'}${unit}`;
}

/**
 * The interval to write for `text` (`@every 10 minutes` → `10m`): `text` when every: takes it, its short form when
 * it is in words; else an example with why `text` is refused, so the hint never gives a value that fails in turn.
 */
function intervalFix(text: string): string {
  const t = text.trim();
  const v = intervalInWords(t) ?? t;
  try {
    parseInterval(v);
    return v;
  } catch (e) {
    return `an interval such as 5m or 1h30m (${(e as Error).message})`;
  }
}

/**
 * Due at every multiple of the interval since the epoch (UTC), so every instance and every restart agree on the due
 * times without sharing any state: `every: 5m` is due at :00, :05, :10...; `every: 1d` at midnight UTC (use cron for a
 * local hour).
 */
export function intervalSchedule(text: string): Schedule {
  const ms = parseInterval(text);
  return { text: `every ${text.trim()}`, next: (after) => Math.floor(after / ms) * ms + ms };
}

// ----- cron -------------------------------------------------------------------------------------------------------

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MACROS: Record<string, string> = { '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0', '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *' };

interface Field {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** Index of the first name (1 for months, 0 for days). */
  nameBase?: number;
}

const FIELDS: Field[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 },
  // 7 is Sunday too, as in most crons.
  { name: 'day of week', min: 0, max: 7, names: DAYS, nameBase: 0 },
];

/** One parsed field: the allowed values, and whether it was `*` (or `?`). */
interface Allowed {
  set: boolean[];
  any: boolean;
}

function parseField(text: string, f: Field): Allowed {
  const set = new Array<boolean>(f.max + 1).fill(false);
  const value = (v: string): number => {
    const named = f.names?.indexOf(v.toLowerCase()) ?? -1;
    if (named >= 0) return named + f.nameBase!;
    if (!/^\d+$/.test(v)) throw new ScheduleError(`${f.name}: "${v}" is not a number${f.names ? ` or a name (${f.names.slice(0, 3).join(', ')}...)` : ''}`);
    const n = Number(v);
    if (n < f.min || n > f.max) throw new ScheduleError(`${f.name}: ${n} is outside ${f.min}-${f.max}`);
    return n;
  };
  const any = text === '*' || text === '?';
  for (const part of text.split(',')) {
    const m = /^([^/]+)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new ScheduleError(`${f.name}: "${part}" is not a value, range (a-b) or step (*/n)`);
    const step = m[2] === undefined ? 1 : Number(m[2]);
    if (step < 1) throw new ScheduleError(`${f.name}: the step in "${part}" must be at least 1`);
    let lo: number;
    let hi: number;
    if (m[1] === '*' || m[1] === '?') [lo, hi] = [f.min, f.max];
    else if (m[1]!.includes('-')) {
      const [a, b, extra] = m[1]!.split('-');
      if (extra !== undefined || !a || !b) throw new ScheduleError(`${f.name}: "${part}" is not a range (a-b)`);
      [lo, hi] = [value(a), value(b)];
      if (lo > hi) throw new ScheduleError(`${f.name}: the range "${m[1]}" runs backwards`);
    } else {
      lo = value(m[1]!);
      hi = m[2] === undefined ? lo : f.max;
    }
    for (let v = lo; v <= hi; v += step) set[v] = true;
  }
  return { set, any };
}

/** Throws ScheduleError for a zone the runtime does not know. */
export function checkTimeZone(zone: string): void {
  if (isTimeZone(zone)) return;
  const guess = suggestedZone(zone);
  throw new ScheduleError(`"${zone}" is not a time zone (${guess !== undefined ? `did you mean ${guess}?` : 'e.g. Europe/Moscow, UTC'})`);
}

const FIVE_YEARS: Ms = 5 * 366 * 86_400_000;

/**
 * A cron expression read in `zone`. Day of month and day of week, when both are restricted, match either (as in
 * Vixie cron). Across daylight-saving changes, for an expression with a fixed hour: a wall time skipped when clocks
 * go forward is due at the first instant after the change, and a wall time that happens twice when clocks go back is
 * due once, the first time. Expressions with `*` for the hour follow real time (each real occurrence is due).
 */
export function cronSchedule(expression: string, zone: string): Schedule {
  const text = expression.trim();
  const expanded = MACROS[text.toLowerCase()] ?? text;
  const words = intervalInWords(text);
  if (words) throw new ScheduleError(`"${text}" is not a cron expression: for a task due every ${words}, write every: ${words} in place of cron:`);
  // `@every 5m` (Go's cron, some schedulers) is an interval: say which key takes it.
  const every = /^@every\s+(\S.*)$/i.exec(text);
  if (every) throw new ScheduleError(`"${text}" is an interval, not a cron expression: write every: ${intervalFix(every[1]!)} in place of cron:`);
  const parts = expanded.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) throw new ScheduleError(`"${text}" has ${parts.length} field(s); a cron expression has 5 (minute hour day month weekday) or 6 (seconds first)`);
  const withSeconds = parts.length === 6;
  // Each field is checked here first, so a mistake is reported at its field with the allowed range; the due times
  // come from croner, a well-kept cron library: day of month and day of week matched as in Vixie cron (either), and
  // its daylight-saving rules (a time skipped by a forward change runs right after it, a time that happens twice runs
  // once) for expressions whose seconds, minutes and hours are not wildcards or steps.
  const allowed = (withSeconds ? FIELDS : FIELDS.slice(1)).map((f, i) => parseField(parts[i]!, f));
  checkTimeZone(zone);
  const cron = new Cron(withSeconds ? expanded : `0 ${expanded}`, { timezone: zone, paused: true, domAndDow: false, fixedTimeRule: 'no-wildcard' });
  // Every field can be right and the whole still match no date (30 February): croner then has no next run. Such a
  // task would be accepted and never start, so it is a mistake of the schedule like a field out of range.
  const [dayOfMonth, month, dayOfWeek] = allowed.slice(withSeconds ? 3 : 2);
  const first = cron.nextRun(new Date());
  if (!first || first.getTime() - Date.now() > FIVE_YEARS) throw new ScheduleError(`"${text}" is never due: ${neverDueReason(dayOfMonth!, month!, dayOfWeek!)}`);
  return {
    text,
    next(after: Ms): Ms | undefined {
      const next = cron.nextRun(new Date(after));
      return next && next.getTime() - after <= FIVE_YEARS ? next.getTime() : undefined;
    },
  };
}

const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
/** The most days each month can have (February: 29, in a leap year). */
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Why a cron expression whose fields are each right matches no date: the usual cause, a day of month that none of its
 * months has (with any day of the week, which would otherwise match too), is named; anything else is said plainly.
 */
function neverDueReason(dayOfMonth: Allowed, month: Allowed, dayOfWeek: Allowed): string {
  const firstDay = dayOfMonth.set.indexOf(true);
  const months = month.set.map((on, m) => (on && m >= 1 ? m : -1)).filter((m) => m >= 1);
  if (dayOfWeek.any && firstDay > 0 && months.every((m) => MONTH_DAYS[m - 1]! < firstDay)) {
    const names = months.map((m) => MONTH_NAMES[m - 1]!);
    const list = names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`;
    return `${list} ${names.length === 1 ? 'has' : 'have'} no ${ordinal(firstDay)}`;
  }
  return 'no date matches it in the next five years';
}

function ordinal(n: number): string {
  const suffix = n % 10 === 1 && n !== 11 ? 'st' : n % 10 === 2 && n !== 12 ? 'nd' : n % 10 === 3 && n !== 13 ? 'rd' : 'th';
  return `${n}${suffix}`;
}

/** The next `n` due times after `after` (fewer when the schedule ends). */
export function nextDueTimes(s: Schedule, after: Ms, n: number): Ms[] {
  const out: Ms[] = [];
  let t: Ms | undefined = after;
  while (out.length < n && (t = s.next(t)) !== undefined) out.push(t);
  return out;
}

/** `2026-03-08T09:00:00+03:00`: the wall time in the zone and its offset. */
export function isoInZone(t: number, zone: string): string {
  const p: Record<string, string> = {};
  for (const x of isoFormatter(zone).formatToParts(t)) p[x.type] = x.value;
  const offset = (p.timeZoneName ?? 'GMT').replace('GMT', '') || '+00:00';
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}${offset === '+00:00' ? 'Z' : offset}`;
}

/**
 * One formatter per zone, made once: building an ICU formatter costs far more than using one, and readable log lines
 * format a time per request. Zones come from configuration, so the map stays small.
 */
const isoFormatters = new Map<string, Intl.DateTimeFormat>();
function isoFormatter(zone: string): Intl.DateTimeFormat {
  let f = isoFormatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'longOffset' });
    isoFormatters.set(zone, f);
  }
  return f;
}
