// Long texts cut for a trace or a run record: the beginning and a note with the whole length.
//
// Two V8 facts shape this. A text built by `acc = acc + "x"` in a loop is a rope that shares every earlier version,
// so keeping 5,000 versions costs little; but reading any character of a rope (slice, charCodeAt, Buffer.write…)
// first flattens it into its own full copy, and `slice` then returns a view that keeps that copy alive. So a cut must
// (1) be a fresh small string that refers to nothing, and (2) be made at most a bounded number of times per run,
// since each one may copy the whole text.

/** Characters of a text kept in a trace step or a run record; the rest is counted, not kept. */
export const TRACE_TEXT_CHARS = 256;

/**
 * Characters of long texts a run may read to cut them for its trace (each cut may copy the whole text, see above).
 * Past it, a long value is kept as its length only. 32 M characters is some tens of milliseconds of copying.
 */
export const TRACE_CUT_BUDGET = 32_000_000;

const CUT_NOTE_START = '… [cut: ';
const CUT_NOTE = /… \[cut: (\d+) characters in all\]$/;

/** A text cut to `max` characters, with a note saying how long it was; a new string that keeps nothing of `text`. */
export function cutText(text: string, max = TRACE_TEXT_CHARS): string {
  if (text.length <= max) return text;
  // Cut already (the trace cuts its values as the run goes, the run record then cuts every value it keeps): cutting
  // the cut text again would report the length of the cut text, not of the value.
  // Cut again shorter (a letter's text cut to what is left of a run's budget), it still says the length of the value.
  const parts = cutTextParts(text);
  if (parts && parts.start.length <= max) return text;
  const whole = parts ? parts.length : text.length;
  if (max <= 0) return lengthOnly(whole);
  // Not between the two halves of a surrogate pair: a lone half would become U+FFFD.
  return independent(`${clipText(parts ? parts.start : text, max)}${CUT_NOTE_START}${whole} characters in all]`);
}

/**
 * The first `max` UTF-16 code units of a text, one fewer when the cut would fall between the two halves of a surrogate
 * pair (an emoji): a lone half is printed as U+FFFD. For the short cuts of displays (`…` added by the caller).
 */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

const GRAPHEMES = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * The text before `at`, moved back to the start of the character a reader sees (grapheme cluster) that `at` falls in:
 * an emoji family joined by ZWJ, a flag, a keycap or a letter with its combining accent is kept whole or left out.
 * Only a window around the cut is segmented, so a long text costs no more than a short one.
 */
export function clipWhole(text: string, at: number): string {
  if (at >= text.length) return text;
  if (at <= 0) return '';
  const from = Math.max(0, at - 64);
  const around = GRAPHEMES.segment(text.slice(from, Math.min(text.length, at + 64))).containing(at - from);
  return text.slice(0, around && around.index + from < at ? around.index + from : at);
}

/**
 * nunjucks' `truncate` filter (up to `length` characters, at the last space before it unless `killwords`, then `end`),
 * except that it never cuts an emoji or an accented letter in two as nunjucks' own does (`clipWhole`), and never at a
 * space with nothing but spaces before it (nunjucks' own then leaves `end` alone).
 */
export function truncateWords(text: string, length = 255, killwords = false, end = '...'): string {
  if (text.length <= length) return text;
  let at = length;
  if (!killwords) {
    const space = text.lastIndexOf(' ', length);
    // Only a space with a word before it: one that only spaces come before (a name typed with a space in front,
    // then one long word) would cut the whole text away and leave `end` alone; that text is cut at `length`.
    if (space !== -1 && text.slice(0, space).trim() !== '') at = space;
  }
  return clipWhole(text, at) + end;
}

/** A long text kept as its length only (a run past its cut budget). */
export function lengthOnly(length: number): string {
  return `${CUT_NOTE_START}${length} characters in all]`;
}

/** For a text `cutText` or `lengthOnly` made: its beginning and the length of the whole; undefined for any other text. */
export function cutTextParts(text: string): { start: string; length: number } | undefined {
  const m = CUT_NOTE.exec(text);
  return m ? { start: text.slice(0, m.index), length: Number(m[1]) } : undefined;
}

/**
 * Cuts long texts for one run, reading at most `budget` characters of them in all; past it, `lengthOnly`. Other
 * values are returned as they are.
 */
export function traceCutter(max = TRACE_TEXT_CHARS, budget = TRACE_CUT_BUDGET): <T>(v: T) => T {
  let left = budget;
  return <T>(v: T): T => {
    if (typeof v !== 'string' || v.length <= max) return v;
    if (left < v.length) return lengthOnly(v.length) as T;
    left -= v.length;
    return cutText(v, max) as T;
  };
}

/** A copy of `s` in a string of its own (a slice of a long text would keep the whole text alive). */
function independent(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}
