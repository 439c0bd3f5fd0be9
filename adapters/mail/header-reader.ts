// Reads just the header block of an .eml file and decodes RFC 2047 encoded words, so listing an outbox stays cheap.
import { angleAddress, splitAddressList } from '../../engine/mail-address.js';
import { openRegularFile } from '../private-file.js';

const CHUNK = 16 * 1024;
const MAX_HEADER_BYTES = 1024 * 1024;

function headerEnd(buf: Buffer): number {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf === -1) return lf;
  if (lf === -1) return crlf;
  return Math.min(crlf, lf);
}

/**
 * Reads the headers of a message file (up to the first empty line, at most 1 MiB) into a map of lower-case header
 * name to its unfolded, still encoded value. Only the first occurrence of each header is kept. The file is opened by
 * `openRegularFile` of private-file.ts: as root a symbolic link in its place is refused (the open's ELOOP), and
 * anything but a regular file is refused (a named pipe in a letter's place would hold the read, and the page, forever).
 * `via`: the same file through a pinned folder, when `file` is not opened itself.
 */
export async function readHeaderBlock(file: string, via: string = file): Promise<Map<string, string>> {
  const { handle } = await openRegularFile(via, file);
  let data = Buffer.alloc(0);
  try {
    for (;;) {
      const chunk = Buffer.alloc(CHUNK);
      const { bytesRead } = await handle.read(chunk, 0, CHUNK, data.length);
      if (bytesRead === 0) break;
      data = Buffer.concat([data, chunk.subarray(0, bytesRead)]);
      const end = headerEnd(data);
      if (end !== -1) {
        data = data.subarray(0, end);
        break;
      }
      if (data.length >= MAX_HEADER_BYTES) break;
    }
  } finally {
    await handle.close();
  }
  return headerFields(data.toString('utf8'));
}

/**
 * The fields of a message's header block (`text`, already decoded to text), unfolded: lower-case name → value, the
 * first of a repeated name kept; a line without a name before a colon is skipped. Values stay encoded (`=?utf-8?…`).
 */
export function headerFields(text: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of text.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return headers;
}

const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;

function wordBytes(encoding: string, payload: string): Buffer {
  if (encoding.toUpperCase() === 'B') return Buffer.from(payload, 'base64');
  const bytes: number[] = [];
  for (let i = 0; i < payload.length; i++) {
    const ch = payload[i]!;
    if (ch === '_') bytes.push(0x20);
    else if (ch === '=' && /^[0-9A-Fa-f]{2}$/.test(payload.slice(i + 1, i + 3))) {
      bytes.push(parseInt(payload.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(ch.charCodeAt(0) & 0xff);
  }
  return Buffer.from(bytes);
}

function decodeBytes(charset: string, bytes: Buffer): string {
  // RFC 2231 allows a language after '*': utf-8*ru.
  const name = charset.split('*')[0]!.toLowerCase();
  try {
    return new TextDecoder(name).decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

/**
 * Decodes `=?UTF-8?B?...?=` and `=?UTF-8?Q?...?=` words in a header value. Whitespace between two encoded words is
 * dropped (RFC 2047 §6.2), and adjacent words in one charset are joined before decoding, so a multi-byte character
 * split across two words comes out whole.
 *
 * @example decodeHeaderWords('=?UTF-8?B?0J/RgNC40LLQtdGC?=')  // 'Привет'
 */
export function decodeHeaderWords(value: string): string {
  let out = '';
  let pending: { charset: string; bytes: Buffer[] } | null = null;
  let last = 0;
  const flush = () => {
    if (pending) out += decodeBytes(pending.charset, Buffer.concat(pending.bytes));
    pending = null;
  };
  for (const m of value.matchAll(ENCODED_WORD)) {
    const between = value.slice(last, m.index);
    const charset = m[1]!.toLowerCase();
    const bytes = wordBytes(m[2]!, m[3]!);
    const p = pending as { charset: string; bytes: Buffer[] } | null;
    const gapIsSpace = /^\s*$/.test(between);
    if (p && gapIsSpace && p.charset === charset) {
      p.bytes.push(bytes);
    } else {
      flush();
      // Whitespace that only separates two encoded words is not part of the text.
      if (!(p && gapIsSpace)) out += between;
      pending = { charset, bytes: [bytes] };
    }
    last = m.index + m[0].length;
  }
  flush();
  return out + value.slice(last);
}

/** Splits an address header on the commas between its mailboxes (not those in a quoted name or in angle brackets). */
function splitMailboxes(value: string): string[] | null {
  const { parts, open } = splitAddressList(value, ',');
  return open ? null : parts.map((p) => p.trim()).filter((p) => p !== '');
}

/** A display name shown as it must be written to mean one mailbox: quoted when it holds a comma, a quote, `<`… */
function shownName(name: string): string {
  return /^[^"(),:;<>@[\]\\]*$/.test(name) && name === name.trim() ? name : `"${name.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/**
 * An address header (From, To, Cc, Reply-To, Bcc) decoded for a person to read, each mailbox as it would be written:
 * a display name decoded from encoded words is quoted again when it holds a comma, a quote or an angle bracket, so
 * `=?UTF-8?Q?=D0=98=D0=B2=D0=B0=D0=BD=2C_=22=D0=92=D0=B0=D0=BD=D1=8F=22?= <ivan@example.com>` reads
 * `"Иван, \"Ваня\"" <ivan@example.com>` — one recipient — and not `Иван, "Ваня" <ivan@example.com>`, which reads as
 * two. A header of another form (a group, a comment) is decoded as text.
 */
export function decodeAddressHeader(value: string): string {
  const parts = splitMailboxes(value);
  if (!parts) return decodeHeaderWords(value);
  const shown: string[] = [];
  for (const part of parts) {
    const angle = angleAddress(part);
    if (!angle) {
      if (/[\s"<>(]/.test(part)) return decodeHeaderWords(value);
      shown.push(part);
      continue;
    }
    const rawName = angle.name.trim();
    const address = angle.address.trim();
    const name = /^".*"$/s.test(rawName) ? decodeHeaderWords(rawName.slice(1, -1).replace(/\\(.)/g, '$1')) : decodeHeaderWords(rawName);
    shown.push(name ? `${shownName(name)} <${address}>` : `<${address}>`);
  }
  return shown.join(', ');
}
