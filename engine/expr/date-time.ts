// Dates in a named time zone: wall-clock fields, the default Russian text form, format tokens and parsing.
import { quotedText } from './syntax-error.js';
import { ExpressionRuntimeError, quoteForMessage } from './runtime-error.js';
import { timeZoneGuess } from '../suggest.js';

/** Wall-clock fields of an instant in some zone. `month` is 1–12. */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/**
 * Offsets per zone at the starts of 15-minute buckets of UTC time, each computed once. Nearly every offset change
 * falls on a quarter hour, so a bucket whose start and end (the next bucket's start) have one offset has it
 * throughout; one whose two differ holds a change off the quarter hour (America/St_Johns changed at 00:01 local until
 * 2011, Pacific/Kiritimati at 10:40 UTC in 1979, every zone's change from local mean time) and is computed at the
 * instant asked for, never cached. Caching the offset of whatever instant of a bucket came first would give it to the
 * whole bucket: the minutes after such a change would be read and shown an hour off.
 */
const edgesByZone = new Map<string, Map<number, number>>();
const BUCKET_MS = 15 * 60 * 1000;
/**
 * Bucket starts kept per zone (a full zone's cache, measured: about 120 KB); past it the zone's cache starts afresh,
 * so a server that reads dates in every zone holds at most some 50 MB.
 */
const BUCKETS_KEPT = 4096;
/** The farthest instant a Date holds, in milliseconds either side of 1970 (100,000,000 days). */
const MAX_DATE_MS = 8.64e15;

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
        era: 'short',
      });
    } catch {
      throw new ExpressionRuntimeError('time zone', `unknown time zone ${quoteForMessage(timeZone)} (${timeZoneGuess(timeZone)}use an IANA name such as "Europe/Moscow")`);
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** Milliseconds to add to a UTC instant to get the wall clock of `timeZone`. */
export function zoneOffsetMs(utcMs: number, timeZone: string): number {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return 0;
  // Past the range of a date (AddDays([d], 1e8)) there is no wall clock: the result is an invalid date, which the
  // callers report as out of range, not the formatter's RangeError "Invalid time value".
  if (!(Math.abs(utcMs) <= MAX_DATE_MS)) return 0;
  const bucket = Math.floor(utcMs / BUCKET_MS);
  const start = edgeOffset(bucket, timeZone);
  return start === edgeOffset(bucket + 1, timeZone) ? start : offsetAt(utcMs, timeZone);
}

/**
 * The offset at the start of a 15-minute bucket (cached): of an instant within 15 minutes before `utcMs`, which is
 * all `instantOf` needs of the offsets a day either side of a wall time.
 */
function nearOffsetMs(utcMs: number, timeZone: string): number {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return 0;
  if (!(Math.abs(utcMs) <= MAX_DATE_MS)) return 0;
  return edgeOffset(Math.floor(utcMs / BUCKET_MS), timeZone);
}

function edgeOffset(bucket: number, timeZone: string): number {
  let cache = edgesByZone.get(timeZone);
  const cached = cache?.get(bucket);
  if (cached !== undefined) return cached;
  // MAX_DATE_MS is a whole number of buckets: only the bucket just past the last date's is clamped.
  const offset = offsetAt(Math.min(bucket * BUCKET_MS, MAX_DATE_MS), timeZone);
  if (!cache || cache.size >= BUCKETS_KEPT) edgesByZone.set(timeZone, (cache = new Map()));
  cache.set(bucket, offset);
  return offset;
}

/** The offset at one instant, from the zone's formatter (no cache). */
function offsetAt(utcMs: number, timeZone: string): number {
  const f = formatterFor(timeZone);
  const whole = Math.floor(utcMs / 1000) * 1000;
  let year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0, bc = false;
  for (const p of f.formatToParts(new Date(whole))) {
    switch (p.type) {
      case 'year': year = Number(p.value); break;
      case 'month': month = Number(p.value); break;
      case 'day': day = Number(p.value); break;
      case 'hour': hour = Number(p.value); break;
      case 'minute': minute = Number(p.value); break;
      case 'second': second = Number(p.value); break;
      case 'era': bc = p.value.startsWith('B'); break;
      default: break;
    }
  }
  const wall = utcFromFields(bc ? 1 - year : year, month, day, hour, minute, second, 0);
  return wall - whole;
}

/** Date.UTC without its two-digit-year quirk (years 0–99 stay as written). */
function utcFromFields(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  return d.getTime();
}

/** The wall clock of `date` in `timeZone`. */
export function wallTimeOf(date: Date, timeZone: string): WallTime {
  const ms = date.getTime();
  const s = new Date(ms + zoneOffsetMs(ms, timeZone));
  return {
    year: s.getUTCFullYear(),
    month: s.getUTCMonth() + 1,
    day: s.getUTCDate(),
    hour: s.getUTCHours(),
    minute: s.getUTCMinutes(),
    second: s.getUTCSeconds(),
    ms: s.getUTCMilliseconds(),
  };
}

const DAY_MS = 86_400_000;

/**
 * The instant at which the wall clock of `timeZone` shows `w`. Where a daylight-saving change makes that ambiguous,
 * the same rule in every zone, east or west of UTC (as service tasks' schedules and most date libraries' "compatible"
 * choice): a wall time that happens twice (clocks go back) is its **earlier** occurrence; one that never happens
 * (skipped when clocks go forward) is read with the offset before the change, so it lands as far past the change as
 * it was past the time the clocks jumped from (02:30 in a skipped 02:00–03:00 is 03:30).
 *
 * The offsets a day before and a day after the wall time (read as if UTC) bound those it can have: no zone changes
 * its offset twice within two days. They agree on all but the days of a change: one offset, one instant.
 */
export function instantOf(w: WallTime, timeZone: string): Date {
  const local = utcFromFields(w.year, w.month, w.day, w.hour, w.minute, w.second, w.ms);
  const before = nearOffsetMs(local - DAY_MS, timeZone);
  const after = nearOffsetMs(local + DAY_MS, timeZone);
  if (before === after) return new Date(local - before);
  // A change near: each offset gives a candidate, which is real when the zone has that offset at that instant.
  const withBefore = local - before;
  const withAfter = local - after;
  const beforeReal = zoneOffsetMs(withBefore, timeZone) === before;
  const afterReal = zoneOffsetMs(withAfter, timeZone) === after;
  if (beforeReal && afterReal) return new Date(Math.min(withBefore, withAfter));
  if (afterReal) return new Date(withAfter);
  // Real with the offset before the change, or in the gap the change skipped: the offset before it either way.
  return new Date(withBefore);
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));
const pad3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n));
const pad4 = (n: number): string => (n >= 1000 ? String(n) : n >= 0 ? `000${n}`.slice(-4) : String(n));

/** `dd.MM.yyyy HH:mm:ss` in `timeZone`: how dates turn into text everywhere (Oktell's Russian display form). */
export function formatDefault(date: Date, timeZone: string): string {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new ExpressionRuntimeError('date', 'invalid date');
  const s = new Date(ms + zoneOffsetMs(ms, timeZone));
  return `${pad2(s.getUTCDate())}.${pad2(s.getUTCMonth() + 1)}.${pad4(s.getUTCFullYear())} ${pad2(s.getUTCHours())}:${pad2(s.getUTCMinutes())}:${pad2(s.getUTCSeconds())}`;
}

// ---- format strings -------------------------------------------------------------------------------------------

type Field = 'yyyy' | 'yy' | 'MM' | 'M' | 'dd' | 'd' | 'HH' | 'H' | 'mm' | 'm' | 'ss' | 's' | 'fff' | 'ff' | 'f';
export type FormatPart = { field: Field } | { literal: string };
export type FormatCheck = { ok: true; parts: FormatPart[] } | { ok: false; message: string; hint: string };

const FIELDS = new Set<string>(['yyyy', 'yy', 'MM', 'M', 'dd', 'd', 'HH', 'H', 'mm', 'm', 'ss', 's', 'fff', 'ff', 'f']);
const TOKEN_LETTERS = new Set(['y', 'M', 'd', 'H', 'h', 'm', 's', 'f']);
export const FORMAT_TOKENS_HINT = 'tokens: yyyy yy MM M dd d HH H mm m ss s fff; other characters are copied as they are';
const formatCache = new Map<string, FormatCheck>();

/** Splits a format such as `dd.MM.yyyy HH:mm` into fields and literal text; rejects runs like `yyy` or `hh`. */
export function compileDateFormat(format: string): FormatCheck {
  const cached = formatCache.get(format);
  if (cached) return cached;
  const parts: FormatPart[] = [];
  let literal = '';
  let result: FormatCheck | undefined;
  for (let i = 0; i < format.length && !result; ) {
    const c = format[i]!;
    if (!TOKEN_LETTERS.has(c)) {
      literal += c;
      i++;
      continue;
    }
    let j = i;
    while (j < format.length && format[j] === c) j++;
    const run = format.slice(i, j);
    if (c === 'h') {
      result = { ok: false, message: `${quotedText(run)} is not a date format token`, hint: 'use HH (or H) for hours on the 24-hour clock' };
    } else if (!FIELDS.has(run)) {
      result = { ok: false, message: `${quotedText(run)} is not a date format token`, hint: FORMAT_TOKENS_HINT };
    } else {
      if (literal) parts.push({ literal });
      literal = '';
      parts.push({ field: run as Field });
    }
    i = j;
  }
  if (literal) parts.push({ literal });
  result ??= { ok: true, parts };
  if (formatCache.size > 500) formatCache.clear();
  formatCache.set(format, result);
  return result;
}

/** Writes `date` with compiled format parts in `timeZone`. */
export function formatWithParts(date: Date, parts: readonly FormatPart[], timeZone: string): string {
  const w = wallTimeOf(date, timeZone);
  let out = '';
  for (const p of parts) {
    if ('literal' in p) {
      out += p.literal;
      continue;
    }
    switch (p.field) {
      case 'yyyy': out += pad4(w.year); break;
      case 'yy': out += pad2(((w.year % 100) + 100) % 100); break;
      case 'MM': out += pad2(w.month); break;
      case 'M': out += String(w.month); break;
      case 'dd': out += pad2(w.day); break;
      case 'd': out += String(w.day); break;
      case 'HH': out += pad2(w.hour); break;
      case 'H': out += String(w.hour); break;
      case 'mm': out += pad2(w.minute); break;
      case 'm': out += String(w.minute); break;
      case 'ss': out += pad2(w.second); break;
      case 's': out += String(w.second); break;
      case 'fff': out += pad3(w.ms); break;
      case 'ff': out += pad2(Math.floor(w.ms / 10)); break;
      case 'f': out += String(Math.floor(w.ms / 100)); break;
    }
  }
  return out;
}

// ---- parsing --------------------------------------------------------------------------------------------------

const RU_DATE = /^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,3}))?)?)?$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeap(year) ? 29 : MONTH_DAYS[month - 1] ?? 0;
}
function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function validWall(w: WallTime): boolean {
  return (
    w.month >= 1 && w.month <= 12 && w.day >= 1 && w.day <= daysInMonth(w.year, w.month) &&
    w.hour <= 23 && w.minute <= 59 && w.second <= 59
  );
}

const msFromFraction = (f: string | undefined): number => (f ? Math.floor(Number(`0.${f}`) * 1000) : 0);

/**
 * Reads a date from text: `dd.MM.yyyy HH:mm:ss` (seconds and the time optional), or ISO 8601 (`2024-03-15`,
 * `2024-03-15T09:30:00`, with an optional `Z` or `+03:00`). Text without a zone is wall time in `timeZone`.
 * Returns undefined when the text is not a date.
 */
export function parseDateText(text: string, timeZone: string): Date | undefined {
  const t = text.trim();
  let m = RU_DATE.exec(t);
  if (m) {
    const w: WallTime = {
      day: Number(m[1]), month: Number(m[2]), year: Number(m[3]),
      hour: Number(m[4] ?? 0), minute: Number(m[5] ?? 0), second: Number(m[6] ?? 0), ms: msFromFraction(m[7]),
    };
    return validWall(w) ? instantOf(w, timeZone) : undefined;
  }
  m = ISO_DATE.exec(t);
  if (m) {
    const w: WallTime = {
      year: Number(m[1]), month: Number(m[2]), day: Number(m[3]),
      hour: Number(m[4] ?? 0), minute: Number(m[5] ?? 0), second: Number(m[6] ?? 0), ms: msFromFraction(m[7]),
    };
    if (!validWall(w)) return undefined;
    const zone = m[8];
    if (zone === undefined) return instantOf(w, timeZone);
    const local = utcFromFields(w.year, w.month, w.day, w.hour, w.minute, w.second, w.ms);
    if (zone.toUpperCase() === 'Z') return new Date(local);
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const hours = Number(digits.slice(0, 2));
    const minutes = Number(digits.slice(2) || 0);
    // Offsets run from -14:00 to +14:00, as .NET's DateTimeOffset takes them (real zones use -12:00 to +14:00): +99:99 is not a zone but a typo.
    if (minutes > 59 || hours * 60 + minutes > 14 * 60) return undefined;
    return new Date(local - sign * (hours * 60 + minutes) * 60000);
  }
  return undefined;
}

const FIELD_PATTERN: Record<Field, string> = {
  yyyy: '(\\d{4})', yy: '(\\d{2})', MM: '(\\d{2})', M: '(\\d{1,2})', dd: '(\\d{2})', d: '(\\d{1,2})',
  HH: '(\\d{2})', H: '(\\d{1,2})', mm: '(\\d{2})', m: '(\\d{1,2})', ss: '(\\d{2})', s: '(\\d{1,2})',
  fff: '(\\d{3})', ff: '(\\d{2})', f: '(\\d)',
};
const parseRegexCache = new Map<FormatPart[], { re: RegExp; fields: Field[] }>();

/** Reads a date written exactly in a compiled format (missing fields: 1 January, 00:00:00). */
export function parseDateWithParts(text: string, parts: FormatPart[], timeZone: string): Date | undefined {
  let compiled = parseRegexCache.get(parts);
  if (!compiled) {
    const fields: Field[] = [];
    let src = '^';
    for (const p of parts) {
      if ('literal' in p) src += p.literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      else {
        fields.push(p.field);
        src += FIELD_PATTERN[p.field];
      }
    }
    compiled = { re: new RegExp(`${src}$`), fields };
    if (parseRegexCache.size > 500) parseRegexCache.clear();
    parseRegexCache.set(parts, compiled);
  }
  const m = compiled.re.exec(text.trim());
  if (!m) return undefined;
  const w: WallTime = { year: 2000, month: 1, day: 1, hour: 0, minute: 0, second: 0, ms: 0 };
  compiled.fields.forEach((f, i) => {
    const n = Number(m[i + 1]);
    switch (f) {
      case 'yyyy': w.year = n; break;
      case 'yy': w.year = 2000 + n; break;
      case 'MM': case 'M': w.month = n; break;
      case 'dd': case 'd': w.day = n; break;
      case 'HH': case 'H': w.hour = n; break;
      case 'mm': case 'm': w.minute = n; break;
      case 'ss': case 's': w.second = n; break;
      case 'fff': w.ms = n; break;
      case 'ff': w.ms = n * 10; break;
      case 'f': w.ms = n * 100; break;
    }
  });
  return validWall(w) ? instantOf(w, timeZone) : undefined;
}

/** Adds whole calendar days keeping the wall-clock time in `timeZone` (DST-safe), plus any fraction as elapsed time. */
export function addDaysInZone(date: Date, days: number, timeZone: string): Date {
  const whole = Math.trunc(days);
  const fraction = days - whole;
  let result = date;
  if (whole !== 0) {
    const w = wallTimeOf(date, timeZone);
    const shifted = new Date(0);
    shifted.setUTCFullYear(w.year, w.month - 1, w.day + whole);
    result = instantOf({ ...w, year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() }, timeZone);
  }
  return fraction === 0 ? result : new Date(result.getTime() + fraction * 86_400_000);
}

/**
 * Days from `from` to `to` as the wall clock of `timeZone` counts them (fractions kept): the inverse of
 * `addDaysInZone`, so a day that a daylight-saving change makes 23 or 25 hours long still counts as one.
 */
export function wallDaysBetween(from: Date, to: Date, timeZone: string): number {
  const wall = (d: Date) => d.getTime() + zoneOffsetMs(d.getTime(), timeZone);
  return (wall(to) - wall(from)) / 86_400_000;
}

/** Midnight (00:00:00) of the day `date` falls on in `timeZone`. */
export function startOfDay(date: Date, timeZone: string): Date {
  const w = wallTimeOf(date, timeZone);
  return instantOf({ ...w, hour: 0, minute: 0, second: 0, ms: 0 }, timeZone);
}
