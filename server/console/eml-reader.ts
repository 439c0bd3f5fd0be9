// Reads the text and HTML bodies out of an .eml file of the local outbox (MIME multipart, quoted-printable, base64).
import { join } from 'node:path';
import { openRegularFile, withPinnedFolder } from '../../adapters/private-file.js';
import { decodeHeaderWords, headerFields } from '../../adapters/mail/header-reader.js';

/** An attached file: its name (decoded), type and decoded size. */
export interface LetterAttachment {
  filename: string;
  contentType: string;
  bytes: number;
}

export interface LetterBodies {
  headers: Array<[string, string]>;
  text?: string;
  html?: string;
  /** Parts sent as files (Content-Disposition: attachment, or a named part that is not the text or HTML body). */
  attachments?: LetterAttachment[];
}

/** Letters bigger than this are not opened in the console. */
export const MAX_LETTER_BYTES = 10 * 1024 * 1024;

interface Part {
  headers: Map<string, string>;
  body: Buffer;
}

function splitHeaders(raw: Buffer): Part {
  let end = raw.indexOf('\r\n\r\n');
  let sep = 4;
  const lf = raw.indexOf('\n\n');
  if (end === -1 || (lf !== -1 && lf < end)) {
    end = lf;
    sep = 2;
  }
  if (end === -1) return { headers: new Map(), body: raw };
  return { headers: headerFields(raw.subarray(0, end).toString('latin1')), body: raw.subarray(end + sep) };
}

/** `text/html; charset="utf-8"` → { type: 'text/html', params: { charset: 'utf-8' } }. */
export function parseContentType(value: string | undefined): { type: string; params: Record<string, string> } {
  const [type = 'text/plain', ...rest] = (value ?? 'text/plain').split(';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const i = p.indexOf('=');
    if (i > 0) params[p.slice(0, i).trim().toLowerCase()] = p.slice(i + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return { type: type.trim().toLowerCase(), params };
}

function decodeQuotedPrintable(body: Buffer): Buffer {
  const s = body.toString('latin1').replace(/=\r?\n/g, '');
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const hex = ch === '=' ? s.slice(i + 1, i + 3) : '';
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      out.push(parseInt(hex, 16));
      i += 2;
    } else out.push(ch.charCodeAt(0) & 0xff);
  }
  return Buffer.from(out);
}

function decodedBytes(part: Part): Buffer {
  const cte = (part.headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  return cte === 'base64' ? Buffer.from(part.body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64') : cte === 'quoted-printable' ? decodeQuotedPrintable(part.body) : part.body;
}

function decodeBody(part: Part): string {
  const bytes = decodedBytes(part);
  const charset = parseContentType(part.headers.get('content-type')).params.charset ?? 'utf-8';
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

/** `filename*=utf-8''%D0%9E…` (RFC 2231), `filename="=?UTF-8?B?…?="` (RFC 2047) or a plain name. */
function partFilename(part: Part): string | undefined {
  const disposition = parseContentType(part.headers.get('content-disposition'));
  const type = parseContentType(part.headers.get('content-type'));
  const extended = disposition.params['filename*'] ?? type.params['name*'];
  if (extended) {
    const m = /^([^']*)'[^']*'(.*)$/.exec(extended);
    if (!m) return extended;
    try {
      return new TextDecoder(m[1] || 'utf-8').decode(Uint8Array.from(unescapeBytes(m[2]!)));
    } catch {
      return extended;
    }
  }
  const plain = disposition.params.filename ?? type.params.name;
  return plain === undefined ? undefined : decodeHeaderWords(Buffer.from(plain, 'latin1').toString('utf8'));
}

/** The bytes of a %-encoded RFC 2231 value. */
function unescapeBytes(v: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < v.length; i++) {
    if (v[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(v.slice(i + 1, i + 3))) {
      out.push(parseInt(v.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(v.charCodeAt(i) & 0xff);
  }
  return out;
}

function walk(part: Part, found: { text?: string; html?: string; attachments: LetterAttachment[] }, depth: number): void {
  const { type, params } = parseContentType(part.headers.get('content-type'));
  if (type.startsWith('multipart/') && params.boundary && depth < 8) {
    const marker = `--${params.boundary}`;
    const text = part.body.toString('latin1');
    const pieces = text.split(marker).slice(1);
    for (const piece of pieces) {
      if (piece.startsWith('--')) break;
      walk(splitHeaders(Buffer.from(piece.replace(/^\r?\n/, '').replace(/\r?\n$/, ''), 'latin1')), found, depth + 1);
    }
    return;
  }
  const disposition = (part.headers.get('content-disposition') ?? '').toLowerCase();
  const filename = partFilename(part);
  const body = (type === 'text/plain' && found.text === undefined) || (type === 'text/html' && found.html === undefined);
  if (disposition.startsWith('attachment') || (filename !== undefined && !body) || (!body && !type.startsWith('text/'))) {
    found.attachments.push({ filename: filename ?? '(no name)', contentType: type, bytes: decodedBytes(part).length });
    return;
  }
  if (type === 'text/plain' && found.text === undefined) found.text = decodeBody(part);
  else if (type === 'text/html' && found.html === undefined) found.html = decodeBody(part);
}

/** Parses a whole message: its top-level headers (still encoded) and its first text and HTML bodies. */
export function parseLetter(raw: Buffer): LetterBodies {
  const top = splitHeaders(raw);
  const found: { text?: string; html?: string; attachments: LetterAttachment[] } = { attachments: [] };
  walk(top, found, 0);
  return { headers: [...top.headers], ...found };
}

/**
 * Reads and parses the letter `file`, opened as `via` (the same file through a pinned folder, `readLetterIn`). As root
 * a symbolic link in its place is not followed: a `RefusedLinkError` says so.
 */
export async function readLetter(file: string, via: string = file): Promise<LetterBodies> {
  // Only a regular file is read (a named pipe would wait for a writer forever).
  const { handle, size } = await openRegularFile(via, file, { what: 'the letter', fix: 'put the letter file itself there (or give the path of the file the link points to)' });
  const tooBig = (bytes: number): LetterBodies => ({ headers: [], text: `(the letter is ${bytes} bytes, too big to show here; open ${file})` });
  let raw: Buffer;
  try {
    // Its size first: a huge (or sparse) file put in the outbox is not read into memory to be refused after, and one
    // past 2 GiB, which a read cannot hold, gets the same note rather than a read error.
    if (size > MAX_LETTER_BYTES) return tooBig(size);
    raw = await handle.readFile();
  } finally {
    await handle.close();
  }
  // Grown since the stat (a writer still at it): refused all the same.
  if (raw.length > MAX_LETTER_BYTES) return tooBig(raw.length);
  return parseLetter(raw);
}

/** The letter `name` of the outbox folder `dir`, read with the folder pinned (as root a link in its place is refused). */
export async function readLetterIn(dir: string, name: string): Promise<LetterBodies> {
  return withPinnedFolder(dir, 'the outbox', (folder) => readLetter(join(dir, name), join(folder, name)));
}
