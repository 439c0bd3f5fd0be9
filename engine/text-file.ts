// A text file's bytes as text, for the files a user writes (scenarios, test files, templates, the configuration file):
// UTF-8, with or without a byte-order mark. A file a Windows editor saved otherwise — as UTF-16 (Notepad's "Unicode"),
// or in the Cyrillic "ANSI" code page windows-1251 or the DOS one, cp866 — is said as such, at the first byte that is
// not UTF-8, instead of being read with every Cyrillic letter turned into U+FFFD.
import { isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';

export type TextFileRead =
  | { ok: true; text: string }
  /** Where the file stops being UTF-8 (line and column as an editor counts them), what it is, and how to fix it. */
  | { ok: false; line: number; col: number; message: string; hint: string };

export const SAVE_AS_UTF8 =
  'save it as UTF-8 in your editor (Notepad: "Save as", Encoding UTF-8; Notepad++: Encoding, Convert to UTF-8; VS Code: the encoding in the status bar, "Save with Encoding", UTF-8)';

/** The first byte of `b` at which it stops being UTF-8 (a well-formed sequence is skipped whole). */
function firstBadByte(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    if (n > 0) {
      // The second byte's range narrows after E0, ED, F0 and F4 (no overlong forms, surrogates or code points past U+10FFFF).
      const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
      const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
      for (let k = 1; k <= n; k++) {
        const d = b[i + k];
        if (d === undefined || d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i;
      }
    }
    i += n + 1;
  }
  return -1;
}

/**
 * Which Cyrillic code page the bytes above 0x7F look like: in windows-1251 the lower-case letters are E0–FF and the
 * capitals C0–DF; in cp866 (DOS) а–п are A0–AF, р–я E0–EF and the capitals 80–9F. Text is mostly lower-case.
 */
function codePageGuess(b: Uint8Array): string {
  let cp1251 = 0;
  let cp866 = 0;
  for (const c of b) {
    if (c >= 0xa0 && c <= 0xaf) cp866++;
    else if (c >= 0xc0 && c <= 0xdf) cp1251++;
    else if (c >= 0xf0) cp1251++;
    else if (c >= 0x80 && c <= 0x9f) cp866++;
  }
  return cp866 > cp1251 ? 'cp866 (DOS, "OEM 866")' : 'windows-1251 ("ANSI", "Cyrillic (Windows)")';
}

/** Line and column of byte `at` of `b`, lines ending in LF, CR LF or CR alone; a UTF-8 BOM at the start not counted. */
function placeOf(b: Uint8Array, at: number): { line: number; col: number } {
  let line = 1;
  let start = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  for (let i = start; i < at; i++) {
    if (b[i] === 0x0a || (b[i] === 0x0d && b[i + 1] !== 0x0a)) {
      line++;
      start = i + 1;
    }
  }
  return { line, col: Buffer.from(b.buffer, b.byteOffset + start, at - start).toString('utf8').length + 1 };
}

/** `bytes` as UTF-8 text (a leading BOM kept: callers count columns past it), or why they are not UTF-8. */
export function decodeTextFile(bytes: Buffer): TextFileRead {
  if (isUtf8(bytes)) return { ok: true, text: bytes.toString('utf8') };
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    const order = bytes[0] === 0xff ? 'LE' : 'BE';
    return { ok: false, line: 1, col: 1, message: `the file is saved as UTF-16 ${order} (Notepad's "Unicode${order === 'BE' ? ' big endian' : ''}"), not as UTF-8`, hint: SAVE_AS_UTF8 };
  }
  const at = firstBadByte(bytes);
  const { line, col } = placeOf(bytes, at);
  const byte = `0x${bytes[at]!.toString(16).toUpperCase().padStart(2, '0')}`;
  return {
    ok: false,
    line,
    col,
    message: `the file is not UTF-8: the byte ${byte} at line ${line}, column ${col} is not UTF-8 text; it looks saved as ${codePageGuess(bytes)}`,
    hint: SAVE_AS_UTF8,
  };
}

/**
 * A run parameter's body read from a file (`-p 4=@body.json`, a test file's `"@webhooks/x.json"`) or from standard
 * input (file descriptor 0), without the byte-order mark a Windows editor puts before a saved body: it is no part of
 * the body (JsonGet and the Parser would refuse the JSON after it), and Bpium and the other senders of webhooks send
 * none. A body that is not UTF-8 (saved in windows-1251 or cp866, or as UTF-16) is refused as a text file is, at its
 * first such byte with the code page it looks like: a parameter is text, and read as UTF-8 each of its Cyrillic letters
 * would be U+FFFD, the run working on "�����" with nothing said. (The bytes the server would turn into U+FFFD, for a
 * body sent without a charset, are written as U+FFFD in a UTF-8 file.) Throws what reading throws.
 */
export function readBodyFile(file: string | number): TextFileRead {
  const read = decodeTextFile(readFileSync(file));
  return read.ok ? { ok: true, text: read.text.replace(/^\uFEFF/, '') } : read;
}

/** Control characters YAML does not allow in a file: all of C0 but tab, LF and CR, and DEL. */
const CONTROL = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]/g;

/**
 * Characters of `text` that no editor shows and that break the file or ride in it unseen: byte-order marks after the
 * first one at the start of the file or at the start of a line (the key after one is not the key it looks like), and
 * control characters (a NUL, which a copy from a binary file brings). One entry per character met, at its first place,
 * with how many more there are. `kind` names the file in the hint ("a scenario file", "a test file").
 */
export function invisibleCharacters(text: string, kind: string): Array<{ offset: number; message: string; hint: string }> {
  const out: Array<{ offset: number; message: string; hint: string }> = [];
  const leading = /^\uFEFF+/.exec(text)?.[0].length ?? 0;
  const boms = [...text.matchAll(/(?:^|\n)(\uFEFF)/g)].map((m) => m.index + m[0].length - 1).filter((i) => i > 0);
  if (leading > 1) {
    out.push({ offset: 1, message: `the file starts with ${leading} byte-order marks (U+FEFF, an invisible character); a file may start with one`, hint: 'remove the extra ones (save the file as UTF-8, with or without a BOM): the first key is read with them in front' });
  } else if (boms.length) {
    const line = text.slice(0, boms[0]).split('\n').length;
    out.push({ offset: boms[0]!, message: `line ${line} starts with a byte-order mark (U+FEFF, an invisible character)${boms.length > 1 ? `, and ${boms.length - 1} more line(s) after it` : ''}`, hint: 'remove it: it comes with text pasted from the start of another file, and the key after it is not read as the key it looks like' });
  }
  const seen = new Map<string, number[]>();
  // Pushed, not copied: a file saved as UTF-16 holds a NUL for every ASCII letter, and copying the list at each one
  // took minutes for a 40 KB file.
  for (const m of text.matchAll(CONTROL)) {
    const places = seen.get(m[0]);
    if (places) places.push(m.index);
    else seen.set(m[0], [m.index]);
  }
  // Saved as UTF-16 (some Windows editors do): a NUL beside every ASCII character. Said as such, and nothing else.
  const nuls = seen.get('\0')?.length ?? 0;
  if (nuls >= 8 && nuls * 3 >= text.length) {
    return [{ offset: seen.get('\0')![0]!, message: 'the file is saved as UTF-16 (a NUL character beside every letter), not as UTF-8', hint: 'save it as UTF-8 in your editor (in VS Code: the encoding in the status bar, "Save with Encoding", UTF-8)' }];
  }
  for (const [c, at] of seen) {
    const code = `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    // Ctrl-Z (U+001A) is the end-of-file mark DOS tools, and some Windows ones still, write after the last line.
    const name = c === '\0' ? `a NUL character (${code})` : c === '\x1A' ? `the control character ${code} (Ctrl-Z, the end-of-file mark of DOS tools)` : `the control character ${code}`;
    out.push({ offset: at[0]!, message: `the file holds ${name}, which editors do not show${at.length > 1 ? ` (here and in ${at.length - 1} more place(s))` : ''}`, hint: `remove it: ${kind} is text, and YAML allows no control characters but tab and line breaks` });
  }
  return out;
}
