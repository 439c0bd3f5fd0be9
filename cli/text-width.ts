// How many terminal columns a text takes, for the CLI's tables (`outbox`, `runs`): a CJK character or an emoji takes
// two, a combining mark or a zero-width joiner none, one grapheme (an emoji family joined by ZWJ, a flag, a letter
// with its accents) as much as its widest part. Code points would misalign the columns after such text. No package
// of the dependencies does this (string-width is only a dev tool's dependency here), so the ranges are written out:
// East Asian Wide and Fullwidth (Unicode's EastAsianWidth.txt, W and F) and emoji presented as emoji.

const SEGMENTER = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** East Asian Wide (W) and Fullwidth (F) ranges outside the emoji, which EMOJI_WIDE covers. */
const WIDE: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f], // Hangul Jamo initial consonants
  [0x2e80, 0x303e], // CJK radicals, Kangxi, ideographic description, CJK symbols and punctuation
  [0x3041, 0x33ff], // Hiragana, Katakana, Bopomofo, Hangul compatibility Jamo, Kanbun, CJK strokes, enclosed and compatibility
  [0x3400, 0x4dbf], // CJK extension A
  [0x4e00, 0x9fff], // CJK unified ideographs
  [0xa000, 0xa4cf], // Yi
  [0xa960, 0xa97f], // Hangul Jamo extended A
  [0xac00, 0xd7a3], // Hangul syllables
  [0xf900, 0xfaff], // CJK compatibility ideographs
  [0xfe10, 0xfe19], // vertical forms
  [0xfe30, 0xfe6f], // CJK compatibility forms, small form variants
  [0xff00, 0xff60], // fullwidth forms
  [0xffe0, 0xffe6], // fullwidth signs
  [0x16fe0, 0x16fe4],
  [0x17000, 0x18cff], // Tangut
  [0x1b000, 0x1b2ff], // Kana supplement and extensions, Nushu
  [0x1f200, 0x1f251], // enclosed ideographic supplement
  [0x20000, 0x2fffd], // CJK extensions B–F, compatibility supplement
  [0x30000, 0x3fffd], // CJK extension G and later
];

/** A code point drawn as an emoji by default (😀, ⌚), or a regional indicator (half of a flag). */
const EMOJI_WIDE = /^[\p{Emoji_Presentation}\p{Regional_Indicator}]/u;
/** Takes no column of its own: a combining or enclosing mark, a format character (ZWJ, ZWNJ, soft hyphen, BOM), a control. */
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}\p{Cc}]/u;

function isWide(cp: number): boolean {
  for (const [from, to] of WIDE) {
    if (cp < from) return false;
    if (cp <= to) return true;
  }
  return false;
}

/** The columns of one grapheme: 0, 1 or 2. */
function graphemeWidth(g: string): number {
  const first = g.codePointAt(0)!;
  // An emoji presentation selector (❤️, and a keycap 1️⃣ whose base is ASCII) asks for an emoji, two columns; a text
  // one (U+FE0E) for one column.
  if (g.length > 1 && g.includes('\ufe0f')) return 2;
  if (first < 0x7f) return first >= 0x20 ? 1 : 0; // ASCII, the common case (a control is escaped before printing)
  if (g.includes('\ufe0e')) return 1;
  const base = String.fromCodePoint(first);
  if (EMOJI_WIDE.test(base) || isWide(first)) return 2;
  if (ZERO_WIDTH.test(base)) return 0;
  if (first >= 0x1160 && first <= 0x11ff) return 0; // Hangul medial vowels and final consonants join the syllable
  return 1;
}

/** The terminal columns `text` takes (one line, its control characters already escaped). */
export function displayWidth(text: string): number {
  // Plain ASCII, most of what is printed, needs no segmenting.
  if (/^[\x20-\x7e]*$/.test(text)) return text.length;
  let width = 0;
  for (const { segment } of SEGMENTER.segment(text)) width += graphemeWidth(segment);
  return width;
}

/** `text` padded with spaces at its end to `width` columns (as String.padEnd does with code units). */
export function padEndColumns(text: string, width: number): string {
  const w = displayWidth(text);
  return w >= width ? text : text + ' '.repeat(width - w);
}

/** `text` padded with spaces at its start to `width` columns. */
export function padStartColumns(text: string, width: number): string {
  const w = displayWidth(text);
  return w >= width ? text : ' '.repeat(width - w) + text;
}

/**
 * `text` in exactly `width` columns: padded when it is narrower, else cut between graphemes and ended with `…`
 * (an emoji or a CJK character that would pass the last column is left out, and a space fills its place).
 */
export function fitColumns(text: string, width: number): string {
  if (displayWidth(text) <= width) return padEndColumns(text, width);
  let out = '';
  let used = 0;
  for (const { segment } of SEGMENTER.segment(text)) {
    const w = graphemeWidth(segment);
    if (used + w > width - 1) break;
    out += segment;
    used += w;
  }
  return `${out}…${' '.repeat(width - 1 - used)}`;
}
