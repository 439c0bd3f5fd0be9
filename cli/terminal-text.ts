// How the CLI prints text it did not write itself (a run's, a letter's, a server's answer, an error quoting stored
// data): kept apart from format.ts so that main can escape an error line without loading the engine.
import { BIDI_CONTROL_RANGE } from '../engine/bidi-controls.js';

/**
 * What terminalText writes as \uXXXX: C0 but tab and line feed, DEL, C1, U+2028/2029 and every bidirectional control
 * character (the marks U+200E, U+200F, U+061C, the embeddings and overrides, the isolates).
 */
const TERMINAL_ESCAPED_CLASS = `[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\u2028\\u2029${BIDI_CONTROL_RANGE}]`;

/** Whether a text holds any such character: most text printed holds none, and is printed as it is. */
const ANY_ESCAPED = new RegExp(TERMINAL_ESCAPED_CLASS);

/** 1 at the UTF-16 code of each character TERMINAL_ESCAPED_CLASS matches (all are below U+10000); made on first use. */
let escapedCodes: Uint8Array | undefined;

function escapedCodeTable(): Uint8Array {
  if (escapedCodes) return escapedCodes;
  const one = new RegExp(`^${TERMINAL_ESCAPED_CLASS}$`);
  const table = new Uint8Array(0x10000);
  for (let code = 0; code <= 0xffff; code++) if (one.test(String.fromCharCode(code))) table[code] = 1;
  return (escapedCodes = table);
}

const HEX_DIGITS = new Uint8Array([...'0123456789abcdef'].map((c) => c.charCodeAt(0)));

/**
 * `text` with each character of TERMINAL_ESCAPED_CLASS written as `\uXXXX` (lowercase hex), in two passes over its
 * UTF-16 code units (sizing, then writing into one buffer) instead of a replace callback per character: ten million
 * such characters took seconds that way. `first`: the index of the first such character.
 */
function escapeFrom(text: string, first: number): string {
  const escaped = escapedCodeTable();
  let length = text.length;
  let wide = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (escaped[code] === 1) length += 5;
    else if (code > 0xff) wide = true;
  }
  // Text of Latin-1 characters only (an escape is ASCII) is written a byte a character; any other, two bytes.
  const out = wide ? new Uint16Array(length) : Buffer.allocUnsafe(length);
  let o = 0;
  for (let i = 0; i < first; i++) out[o++] = text.charCodeAt(i);
  for (let i = first; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (escaped[code] === 1) {
      out[o++] = 0x5c; // \
      out[o++] = 0x75; // u
      out[o++] = HEX_DIGITS[code >> 12]!;
      out[o++] = HEX_DIGITS[(code >> 8) & 15]!;
      out[o++] = HEX_DIGITS[(code >> 4) & 15]!;
      out[o++] = HEX_DIGITS[code & 15]!;
    } else out[o++] = code;
  }
  return wide ? Buffer.from(out.buffer, out.byteOffset, out.byteLength).toString('utf16le') : (out as Buffer).toString('latin1', 0, length);
}

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
  const first = lines.search(ANY_ESCAPED);
  return first < 0 ? lines : escapeFrom(lines, first);
}
