// Text functions: length, search, slicing (0-based positions), replacing, case, trimming, conversions.
import { toNumber } from '../../values.js';
import { ExpressionRuntimeError } from '../runtime-error.js';
import { defineFunction, int, text, type FunctionDef } from './function-def.js';

const MAX_PAD = 100_000;

/** Whether position `i` of `t` falls between the two halves of a surrogate pair (an emoji such as 😀). */
function insidePair(t: string, i: number): boolean {
  if (i <= 0 || i >= t.length) return false;
  const before = t.charCodeAt(i - 1);
  const at = t.charCodeAt(i);
  return before >= 0xd800 && before <= 0xdbff && at >= 0xdc00 && at <= 0xdfff;
}

/**
 * `t.slice(from, to)`, positions counted in UTF-16 code units (as Length counts), but never cutting an emoji in half:
 * a pair a bound falls inside is left out whole, so the part is never longer than asked. A lone half would be sent
 * as U+FFFD (or "\ud83d" in JSON), and UrlEncode refuses it.
 */
function slicePairs(t: string, from: number, to = t.length): string {
  const a = insidePair(t, from) ? from + 1 : from;
  const b = insidePair(t, to) ? to - 1 : to;
  return b <= a ? '' : t.slice(a, b);
}

export const TEXT_FUNCTIONS: FunctionDef[] = [
  defineFunction({
    name: 'Length', aliases: ['Len'], signature: 'Length(text)', minArgs: 1, maxArgs: 1,
    description: 'Number of characters in the text.',
    call: (ctx, s) => text(s!, ctx).length,
  }),
  defineFunction({
    name: 'Contains', signature: 'Contains(text, part)', minArgs: 2, maxArgs: 2,
    description: 'true when the text contains the part (case-sensitive; an empty part is always contained).',
    call: (ctx, s, part) => text(s!, ctx).includes(text(part!, ctx)),
  }),
  defineFunction({
    name: 'StartsWith', signature: 'StartsWith(text, prefix)', minArgs: 2, maxArgs: 2,
    description: 'true when the text starts with the prefix (case-sensitive).',
    call: (ctx, s, p) => text(s!, ctx).startsWith(text(p!, ctx)),
  }),
  defineFunction({
    name: 'EndsWith', signature: 'EndsWith(text, suffix)', minArgs: 2, maxArgs: 2,
    description: 'true when the text ends with the suffix (case-sensitive).',
    call: (ctx, s, p) => text(s!, ctx).endsWith(text(p!, ctx)),
  }),
  defineFunction({
    name: 'SubStr', aliases: ['Substring'], signature: 'SubStr(text, start, length?)', minArgs: 2, maxArgs: 3,
    description: 'Part of the text from position start (0 = first character, or 1 with substrBase 1), length characters or to the end; out-of-range positions are clamped.',
    call: (ctx, s, start, length) => {
      const t = text(s!, ctx);
      const from = Math.max(0, int(start!, 'SubStr') - (ctx.substrBase ?? 0));
      if (length === undefined) return slicePairs(t, from);
      const n = int(length, 'SubStr');
      return n <= 0 ? '' : slicePairs(t, from, Math.min(t.length, from + n));
    },
  }),
  defineFunction({
    name: 'Left', signature: 'Left(text, count)', minArgs: 2, maxArgs: 2,
    description: 'The first count characters (the whole text when it is shorter).',
    call: (ctx, s, count) => {
      const n = int(count!, 'Left');
      const t = text(s!, ctx);
      return n <= 0 ? '' : slicePairs(t, 0, Math.min(t.length, n));
    },
  }),
  defineFunction({
    name: 'Right', signature: 'Right(text, count)', minArgs: 2, maxArgs: 2,
    description: 'The last count characters (the whole text when it is shorter).',
    call: (ctx, s, count) => {
      const n = int(count!, 'Right');
      const t = text(s!, ctx);
      return n <= 0 ? '' : slicePairs(t, Math.max(0, t.length - n));
    },
  }),
  defineFunction({
    name: 'IndexOf', signature: 'IndexOf(text, part, from?)', minArgs: 2, maxArgs: 3,
    description: 'Position (0-based) of the first occurrence of part at or after from; -1 when absent.',
    call: (ctx, s, part, from) => text(s!, ctx).indexOf(text(part!, ctx), from === undefined ? 0 : Math.max(0, int(from, 'IndexOf'))),
  }),
  defineFunction({
    name: 'Replace', signature: 'Replace(text, find, replacement)', minArgs: 3, maxArgs: 3,
    description: 'The text with every occurrence of find replaced (literal text, case-sensitive; an empty find changes nothing).',
    call: (ctx, s, find, repl) => {
      const t = text(s!, ctx);
      const f = text(find!, ctx);
      return f === '' ? t : t.split(f).join(text(repl!, ctx));
    },
  }),
  defineFunction({
    name: 'Upper', aliases: ['ToUpper'], signature: 'Upper(text)', minArgs: 1, maxArgs: 1,
    description: 'The text in upper case.',
    call: (ctx, s) => text(s!, ctx).toUpperCase(),
  }),
  defineFunction({
    name: 'Lower', aliases: ['ToLower'], signature: 'Lower(text)', minArgs: 1, maxArgs: 1,
    description: 'The text in lower case.',
    call: (ctx, s) => text(s!, ctx).toLowerCase(),
  }),
  defineFunction({
    name: 'Trim', signature: 'Trim(text)', minArgs: 1, maxArgs: 1,
    description: 'The text without spaces (and other white space) at both ends.',
    call: (ctx, s) => text(s!, ctx).trim(),
  }),
  defineFunction({
    name: 'PadLeft', signature: 'PadLeft(text, length, fill?)', minArgs: 2, maxArgs: 3,
    description: 'The text padded on the left with fill (default a space) up to length characters.',
    call: (ctx, s, length, fill) => {
      const n = int(length!, 'PadLeft');
      if (n > MAX_PAD) throw new ExpressionRuntimeError('PadLeft', `length ${n} is too large (at most ${MAX_PAD})`);
      const f = fill === undefined ? ' ' : text(fill, ctx);
      if (f === '') throw new ExpressionRuntimeError('PadLeft', 'the fill text is empty');
      const t = text(s!, ctx);
      const padded = t.padStart(n, f);
      // A fill of emoji cut to the length asked ends in the first half of one: that half is left out (one short).
      const padEnd = padded.length - t.length;
      const last = padEnd > 0 ? padded.charCodeAt(padEnd - 1) : 0;
      return last >= 0xd800 && last <= 0xdbff ? padded.slice(0, padEnd - 1) + t : padded;
    },
  }),
  defineFunction({
    name: 'Digits', signature: 'Digits(text)', minArgs: 1, maxArgs: 1,
    description: 'Only the digits 0–9 of the text (e.g. to normalise a phone number).',
    call: (ctx, s) => text(s!, ctx).replace(/[^0-9]/g, ''),
  }),
  defineFunction({
    name: 'Str', aliases: ['ToString'], signature: 'Str(value)', minArgs: 1, maxArgs: 1,
    description: 'The value as text (numbers without float noise, dates as dd.MM.yyyy HH:mm:ss).',
    call: (ctx, v) => text(v!, ctx),
  }),
  defineFunction({
    name: 'Num', aliases: ['ToNumber'], signature: 'Num(value)', minArgs: 1, maxArgs: 1,
    description: 'The value as a number: numeric text with a dot or comma; empty text is 0; other text is an error.',
    call: (_ctx, v) => toNumber(v!, 'Num'),
  }),
];
