// How the CLI prints text it did not write itself (a run's, a letter's, a server's answer, an error quoting stored
// data): kept apart from format.ts so that main can escape an error line without loading the engine.
import { BIDI_CONTROL_RANGE } from '../engine/bidi-controls.js';

/**
 * What terminalText writes as \uXXXX: C0 but tab and line feed, DEL, C1, U+2028/2029 and every bidirectional control
 * character (the marks U+200E, U+200F, U+061C, the embeddings and overrides, the isolates).
 */
const TERMINAL_ESCAPED = new RegExp(`[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\u2028\\u2029${BIDI_CONTROL_RANGE}]`, 'g');

/**
 * Text from a run, a letter or a server's answer (much of it from webhook data) as the CLI prints it: every control
 * character but the tab written as \u00XX — ESC, BEL, CSI and the rest of C0 and C1 — so that such text cannot
 * drive the terminal (clear it, recolour it, set its title, plant a link); so are the bidirectional control
 * characters — the overrides and embeddings (U+202A–202E), the isolates (U+2066–2069) and the marks (U+200E, U+200F,
 * U+061C) — which a terminal that draws bidirectional text would obey, showing the rest of a line reordered
 * (`1\u200F00` drawn "001"), and the Unicode line and paragraph separators (U+2028, U+2029). Line breaks are written
 * as \n, on one line; with `keepLines` (the body of a letter or an answer, a multi-line error) they stay line breaks,
 * CR LF as LF. Every command that prints such text uses this one function, and so does every error line main prints.
 */
export function terminalText(text: string, keepLines = false): string {
  const lines = keepLines ? text.replace(/\r\n/g, '\n') : text.replace(/\r?\n/g, '\\n');
  return lines.replace(TERMINAL_ESCAPED, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
