// The bidirectional control characters (Unicode's Bidi_Control): invisible characters that change the order in which
// the text around them is drawn. In text from a webhook (a letter's display name, a Bpium field) they can make a line
// read as something else: `invoice\u202Efdp.exe` is drawn "invoicexe.pdf". The CLI writes them out as `\u202e`, the
// console shows each as a visible `U+202E` token (server/console/bidi-text.ts, console.js).

/**
 * The embeddings, overrides and their pop (U+202A–U+202E) and the isolates (U+2066–U+2069), as a regular expression
 * character range: each can show the rest of a line reordered.
 */
export const BIDI_FORMATTING_RANGE = '\\u202a-\\u202e\\u2066-\\u2069';

/**
 * BIDI_FORMATTING_RANGE and the marks: LEFT-TO-RIGHT MARK U+200E, RIGHT-TO-LEFT MARK U+200F, ARABIC LETTER MARK
 * U+061C (invisible letters of a direction: `1\u200F00` is drawn "001"). Every Bidi_Control character.
 */
export const BIDI_CONTROL_RANGE = `\\u061c\\u200e\\u200f${BIDI_FORMATTING_RANGE}`;

/** The Unicode names of the Bidi_Control characters, for a token's tooltip. */
export const BIDI_CONTROL_NAMES: Readonly<Record<string, string>> = {
  '\u061c': 'ARABIC LETTER MARK',
  '\u200e': 'LEFT-TO-RIGHT MARK',
  '\u200f': 'RIGHT-TO-LEFT MARK',
  '\u202a': 'LEFT-TO-RIGHT EMBEDDING',
  '\u202b': 'RIGHT-TO-LEFT EMBEDDING',
  '\u202c': 'POP DIRECTIONAL FORMATTING',
  '\u202d': 'LEFT-TO-RIGHT OVERRIDE',
  '\u202e': 'RIGHT-TO-LEFT OVERRIDE',
  '\u2066': 'LEFT-TO-RIGHT ISOLATE',
  '\u2067': 'RIGHT-TO-LEFT ISOLATE',
  '\u2068': 'FIRST STRONG ISOLATE',
  '\u2069': 'POP DIRECTIONAL ISOLATE',
};

/** `U+202E` for U+202E. */
export function codePointLabel(c: string): string {
  return `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}
