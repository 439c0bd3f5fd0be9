// Writes a checked letter as one MIME message (RFC 5322 headers, RFC 2047 encoded words, base64 UTF-8 bodies) in a
// single pass into one buffer: the SMTP client sends it with one write. Only what these letters need: text and/or
// HTML, no attachments. 7-bit clean, so any SMTP server takes it without 8BITMIME or SMTPUTF8.
import { randomBytes } from 'node:crypto';
import { domainToASCII } from 'node:url';
import type { MailMessage } from '../../engine/ports.js';
import { REFERENCE_HEADER } from './compose.js';

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
/** Boundaries: a random part per process and a counter, unique per letter without drawing random bytes for each. */
const BOUNDARY_PREFIX = `--oktell-${randomBytes(9).toString('base64url')}-`;
let boundaryCount = 0;
/** Bytes of UTF-8 per encoded word: 45 bytes become 60 base64 characters, a word stays under 76. */
const WORD_BYTES = 45;
/**
 * RFC 2047: a header line holding an encoded word is at most 76 characters. `=?UTF-8?B?` and `?=` take 12 of them, and a
 * continuation line's leading space one.
 */
const ENCODED_LINE = 76;
/** Splits header text into grapheme clusters, so that an encoded word ends between whole characters as people see them. */
const graphemes = new Intl.Segmenter('und', { granularity: 'grapheme' });

/**
 * RFC 2047 encoded words for text that is not plain printable ASCII, split between characters, folded. `lead` is how
 * many characters stand before the text on its first line (`Subject: ` is 9): the first word is shorter, so that
 * line too stays within 76 characters.
 */
export function encodeHeaderText(text: string, lead = 0): string {
  if (PRINTABLE_ASCII.test(text) && !/=\?/.test(text)) return foldPlain(text, lead);
  const words: string[] = [];
  let chunk = '';
  let bytes = 0;
  let limit = Math.min(WORD_BYTES, Math.max(4, Math.floor((ENCODED_LINE - lead - 12) / 4) * 3));
  const add = (piece: string, n: number) => {
    if (bytes + n > limit && chunk) {
      words.push(chunk);
      chunk = '';
      bytes = 0;
      limit = WORD_BYTES;
    }
    chunk += piece;
    bytes += n;
  };
  // Whole user-perceived characters (a letter with its combining accents, an emoji with its skin tone or the rest of
  // its ZWJ family, a flag's two halves, a Hangul syllable written as jamo) stay in one encoded word: a reader that
  // shows each word apart, or a search that reads them one by one, then never meets half of one. Only a cluster too
  // long for any word (dozens of stacked accents) is split, between its code points.
  for (const segment of MAY_JOIN.test(text) ? clustersOf(text) : text) {
    const n = Buffer.byteLength(segment, 'utf8');
    // A cluster fits a word of its own if it fits WORD_BYTES; the first word may be shorter (see `limit`).
    if (n <= (chunk ? WORD_BYTES : limit)) add(segment, n);
    else for (const ch of segment) add(ch, Buffer.byteLength(ch, 'utf8'));
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join('\r\n ');
}

/**
 * The characters that may join the one before or after them into one grapheme cluster (UAX #29): extending marks and
 * joiners, spacing marks, regional indicators, emoji modifiers, prepended marks (the Brahmic ones of U+11000–U+11FFF
 * whole), Hangul jamo and the Kirat Rai vowels that join as they do, CR LF. A text with none of them is a cluster per
 * code point, so it is split as such without the segmenter, which costs several times the rest of the encoding: a
 * subject in Cyrillic, Chinese or Hebrew without accents has none. test/mail/mime-scripts.test.ts checks, for code
 * points across Unicode, that those this leaves out stand alone as clusters.
 */
export const MAY_JOIN =
  /[\p{Grapheme_Extend}\p{Mc}\p{Regional_Indicator}\p{Emoji_Modifier}\u0600-\u0605\u06dd\u070f\u0890\u0891\u08e2\u0d4e\u0e33\u0eb3\u200d\u1100-\u11ff\ua960-\ua97f\ud7b0-\ud7ff\u{11000}-\u{11fff}\u{16d63}\u{16d67}-\u{16d6a}\r\n]/u;

/**
 * Code units of text given to the segmenter at once. Node 20's Intl.Segmenter costs, per cluster, time in proportion to
 * the length of the whole text (a 100 KB display name took a minute, a 1 MB one hours): it is given windows of this
 * size instead, linear overall.
 */
const SEGMENT_WINDOW = 512;

/**
 * The grapheme clusters of text, in order. Each window's last cluster may run on past the window, so it is taken from
 * the next one, which starts there; a window that is a single cluster (one longer than any encoded word, split
 * between code points anyway) is taken whole, never cutting a surrogate pair.
 */
function* clustersOf(text: string): Generator<string> {
  for (let start = 0; start < text.length; ) {
    let end = Math.min(text.length, start + SEGMENT_WINDOW);
    if (end < text.length && /[\ud800-\udbff]/.test(text[end - 1]!)) end++;
    const segments = [...graphemes.segment(text.slice(start, end))];
    const take = end < text.length && segments.length > 1 ? segments.length - 1 : segments.length;
    for (let i = 0; i < take; i++) {
      const { segment } = segments[i]!;
      start += segment.length;
      yield segment;
    }
  }
}

/** RFC 5322's recommended line length, header name included. */
const FOLDED_LINE = 78;

/**
 * Plain printable ASCII header text folded as RFC 5322 asks: a line break before a run of spaces, so that no line
 * passes 78 characters where the text has a space to break at. Unfolding (taking out each line break) gives the text
 * back unchanged, spaces and all; a word longer than a line stays whole.
 */
function foldPlain(text: string, lead: number): string {
  if (lead + text.length <= FOLDED_LINE) return text;
  // Pieces: the text up to the first space before a word, then each such space with what follows up to the next. A
  // break goes before a piece: before the last space of a run, the others staying at the end of the line, so a reader
  // that unfolds by turning the break and the space after it into one space (as some do) gets the same text too. No
  // line is spaces alone.
  const pieces = text.split(/(?= [^ ])/);
  let out = pieces[0]!;
  let length = lead + out.length;
  for (let i = 1; i < pieces.length; i++) {
    const piece = pieces[i]!;
    if (length + piece.length > FOLDED_LINE) {
      out += `\r\n${piece}`;
      length = piece.length;
    } else {
      out += piece;
      length += piece.length;
    }
  }
  return out;
}

/** An address with an internationalised domain written in ASCII (punycode), as SMTP and headers need it. */
export function asciiAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0 || PRINTABLE_ASCII.test(address.slice(at + 1))) return address;
  const domain = domainToASCII(address.slice(at + 1));
  return domain ? `${address.slice(0, at)}@${domain}` : address;
}

/**
 * `Name <addr>` or `addr`, as the message checks left it, written as a header address with the name encoded. `lead`:
 * the characters before it on its line (`To: ` is 4); an encoded name's last line that ` <addr>,` would take past 76
 * characters gets the address on a line of its own.
 */
export function encodeAddress(entry: string, lead = 0): string {
  // The address is in the last `<…>` (it holds no `<`); a quoted name before it may hold any character, U+2028 and
  // `<` included. Found by index, not a regular expression: one with `\s*` around a lazy name took seconds on a name
  // of many thousand spaces, and `.` stops at U+2028, which left such a name raw (8-bit, not encoded) in the header.
  const trimmed = entry.trim();
  const open = trimmed.lastIndexOf('<');
  if (open < 0 || !trimmed.endsWith('>') || trimmed.indexOf('>', open) !== trimmed.length - 1) return asciiAddress(trimmed);
  const m = ['', trimmed.slice(0, open).trim(), asciiAddress(trimmed.slice(open + 1, -1))] as const;
  const name = m[1].replace(/^"([^]*)"$/, '$1').replace(/\\([^])/g, '$1');
  if (!name) return `<${m[2]}>`;
  // A name that holds `=?` is encoded too, as a subject is: written as it is, even quoted, a reader (mailparser,
  // among others) decodes `=?UTF-8?B?…?=` in it, and shows a name the scenario never gave (`<boss@example.com>`).
  if (!PRINTABLE_ASCII.test(name) || name.includes('=?')) {
    const encoded = encodeHeaderText(name, lead);
    const lines = encoded.split('\r\n');
    const last = lines.length === 1 ? lead + encoded.length : lines[lines.length - 1]!.length;
    return `${encoded}${last + 4 + m[2].length > ENCODED_LINE ? '\r\n ' : ' '}<${m[2]}>`;
  }
  // A name with specials is a quoted string; backslash and quote escaped inside it.
  const shown = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+$/.test(name) ? name : `"${name.replace(/(["\\])/g, '\\$1')}"`;
  return `${shown} <${m[2]}>`;
}

function base64Lines(text: string): string {
  const b64 = Buffer.from(text, 'utf8').toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join('\r\n');
}

function part(type: 'plain' | 'html', body: string): string {
  return `Content-Type: text/${type}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${base64Lines(body)}\r\n`;
}

/**
 * The whole message, CRLF line ends, ready for SMTP DATA (before dot-stuffing) or an .eml file. Bcc recipients are
 * not written: they belong to the envelope only.
 */
export function composeMime(safe: MailMessage, defaultFrom: string, messageId: string, date: Date = new Date()): Buffer {
  // The first address follows `To: `, each further one a continuation line's space.
  const addresses = (list: string[]) => list.map((a, i) => encodeAddress(a, i === 0 ? 4 : 1)).join(',\r\n ');
  const head: string[] = [`From: ${encodeAddress(safe.from ?? defaultFrom, 6)}`];
  if (safe.to.length) head.push(`To: ${addresses(safe.to)}`);
  if (safe.cc.length) head.push(`Cc: ${addresses(safe.cc)}`);
  head.push(`Subject: ${encodeHeaderText(safe.subject, 'Subject: '.length)}`, `Message-ID: ${messageId}`, `Date: ${date.toUTCString().replace(/GMT$/, '+0000')}`, 'MIME-Version: 1.0', 'X-Mailer: oktell-emulator');
  if (safe.reference) head.push(`${REFERENCE_HEADER}: ${encodeHeaderText(safe.reference, REFERENCE_HEADER.length + 2)}`);
  const text = safe.text;
  const html = safe.html;
  let body: string;
  if (text !== undefined && html !== undefined) {
    const boundary = `${BOUNDARY_PREFIX}${(++boundaryCount).toString(36)}`;
    head.push(`Content-Type: multipart/alternative; boundary="${boundary}"`);
    body = `\r\n--${boundary}\r\n${part('plain', text)}--${boundary}\r\n${part('html', html)}--${boundary}--\r\n`;
  } else {
    const [type, content] = html !== undefined ? (['html', html] as const) : (['plain', text ?? ''] as const);
    const p = part(type, content);
    const split = p.indexOf('\r\n\r\n');
    head.push(p.slice(0, split));
    body = p.slice(split + 2);
  }
  return Buffer.from(`${head.join('\r\n')}\r\n${body}`, 'utf8');
}
