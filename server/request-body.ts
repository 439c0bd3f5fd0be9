// Reading request bodies under the server's body budget: the hook route on node:http (hook-listener.ts) and the
// bodies the express routes take (a compressed hook body, a hook request with an absolute-form address, the Web-API's
// form, the console's forms) go through one reader, receiveBody. Each chunk is charged as it is kept: for a compressed
// body that is the inflated chunk, so a connection that has sent nothing holds nothing, and the bodies held at once
// never pass OKTELL_BODY_BUDGET whatever their sizes were declared to be. The inflated size is capped by the body
// limit (a small gzip bomb is refused with 413 once its inflated bytes pass it).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { parse as parseQueryString } from 'node:querystring';
import type { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { parse as parseContentType } from 'content-type';

/**
 * An error the app's error handler answers: `status` and `type` as body-parser gives them (413 is `entity.too.large`,
 * or `parameters.too.many` for a form), with the `limit` passed for a 413 (the console's forms have a smaller one than
 * OKTELL_BODY_LIMIT, and the answer names the one that applied).
 */
export interface BodyError extends Error {
  status: number;
  type: string;
  limit?: number;
  /** For a refused charset (`charset.unsupported`): what to send instead, for an answer to add. */
  hint?: string;
}

/** The type of the error a body over the server's budget of bodies held at once gets (answered 503). */
export const OVER_BUDGET = 'body.budget';

function bodyError(status: number, type: string, message: string, limit?: number): BodyError {
  return Object.assign(new Error(message), { status, type }, limit === undefined ? {} : { limit });
}

/** Whether the request declares a body: a Content-Length other than 0, or a chunked body (as type-is counts one). */
export function declaresBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const declared = req.headers['content-length'];
  return declared !== undefined && Number(declared) !== 0;
}

/** After a refusal that closes its connection: how long the socket stays open, at most, once the answer is sent. */
export const LINGER_MS = 1000;

/**
 * For an answer given before the request's body was read (a refusal: 401, 403, 429): when the request declares a body
 * and it is not all received, the answer says `Connection: close` and the connection is closed once the answer is
 * sent, rather than kept open while node reads and throws away the rest of the body (which a client without
 * credentials could stream until the request timeout, 60 s, and then reconnect).
 *
 * The close is gentle: node's own (destroySoon) sends the answer and a FIN, then closes the socket at once, and with
 * body bytes still arriving the system answers them with a reset, which can reach a client that is still sending
 * before it has read the answer (fetch then fails with EPIPE instead of giving the 401). So the FIN follows the answer
 * at once, and the socket itself is closed when the client closes its side or LINGER_MS have passed, whichever comes
 * first. Until then node's HTTP parser goes on taking in what the client sends and drops it (it reads the socket's
 * handle directly, so the socket emits no 'data' events and no byte count can end it sooner): time is the bound.
 */
export function closeUnreadBody(req: IncomingMessage, res: ServerResponse): void {
  if (res.headersSent || req.complete || !declaresBody(req)) return;
  res.setHeader('Connection', 'close');
  const socket = req.socket;
  // Node calls destroySoon on a connection whose answer said close, once that answer is written.
  socket.destroySoon = () => lingerClose(socket);
}

function lingerClose(socket: Socket): void {
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.end();
}

/** The decoder of a content coding the server takes, undefined for identity; throws 415 for any other coding. */
function decoderFor(req: IncomingMessage): Transform | undefined {
  const coding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  switch (coding) {
    case 'identity':
      return undefined;
    case 'gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      throw bodyError(415, 'encoding.unsupported', `unsupported content encoding "${coding}"`);
  }
}

/** Why a body was not read to its end (see receiveBody). */
export type BodyRefusal = 'too-large' | 'over-budget' | 'aborted' | 'undecodable';

/** A Content-Length over `limit`: the body is refused before a byte of it is read. */
export function declaredOver(req: IncomingMessage, limit: number): boolean {
  const declared = req.headers['content-length'];
  return declared !== undefined && Number(declared) > limit;
}

/**
 * The one reader of request bodies, for the hook route on node:http and for the express routes. It reads `req` chunk
 * by chunk, through `decoder` when the body has a content coding (every size below is then of inflated bytes),
 * charges each chunk it keeps to the server's body budget (`take(n)`, false when the budget is spent), and calls
 * `done` once: with the body, or with why there is none:
 * - 'too-large': more than `limit` bytes; an uncompressed body that declares a Content-Length over it is refused
 *   before a byte is read, a compressed one once its inflated bytes pass it (a bomb);
 * - 'over-budget': the budget of bodies held at once is spent;
 * - 'aborted': the request was cut off (`cause` is the request's error when that came first);
 * - 'undecodable': the body is not in its content coding (`cause` is zlib's error, with its errno and code).
 * On a refusal the rest of the body is not read here: `req` is paused (the answer closes the connection). Callbacks,
 * not a promise: the hook route calls this for every webhook it acknowledges, and an uncompressed body costs no more
 * than the four listeners it needs. `readBody` is the promise form the express routes use.
 */
export function receiveBody(req: IncomingMessage, decoder: Transform | undefined, limit: number, take: (n: number) => boolean, done: (body: Buffer | BodyRefusal, cause?: Error) => void): void {
  if (!decoder && declaredOver(req, limit)) {
    done('too-large');
    return;
  }
  const stream: Readable = decoder ?? req;
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  const finish = (body: Buffer | BodyRefusal, cause?: Error) => {
    if (settled) return;
    settled = true;
    if (typeof body === 'string') {
      chunks.length = 0;
      if (decoder) {
        req.unpipe(decoder);
        decoder.removeAllListeners('data');
        decoder.on('error', () => {});
        decoder.destroy();
      } else {
        req.removeListener('data', onData);
      }
      // Paused, not drained: the answer closes the connection rather than read a body nobody will use.
      req.pause();
    }
    done(body, cause);
  };
  const onData = (chunk: Buffer) => {
    if (settled) return;
    size += chunk.length;
    if (size > limit) return finish('too-large');
    if (!take(chunk.length)) return finish('over-budget');
    chunks.push(chunk);
  };
  // 'aborted' comes without an argument, 'error' with the request's error: one listener for both.
  const cut = (e?: Error) => finish('aborted', e);
  stream.on('data', onData);
  stream.on('end', () => {
    if (!settled) finish(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
  });
  if (decoder) {
    decoder.on('error', (e) => finish('undecodable', e));
    req.pipe(decoder);
  }
  req.on('aborted', cut);
  req.on('error', cut);
}

/**
 * The body, decoded from its content coding, at most `limit` bytes after decoding, charged to the body budget as
 * it is read (`take`): receiveBody as a promise, for the express routes. Rejects with a BodyError: 413 past the
 * limit, 503 (`OVER_BUDGET`), 415 for an unknown coding, 400 for a body that does not decode (zlib's error, with its
 * errno and code) or a request cut off.
 */
export function readBody(req: IncomingMessage, limit: number, take: (n: number) => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let decoder: Transform | undefined;
    try {
      decoder = decoderFor(req);
    } catch (e) {
      reject(e);
      return;
    }
    receiveBody(req, decoder, limit, take, (body, cause) => (typeof body === 'string' ? reject(refusalError(body, cause, limit)) : resolve(body)));
  });
}

/** The error the app's error handler answers for a refusal of receiveBody. */
function refusalError(refusal: BodyRefusal, cause: Error | undefined, limit: number): BodyError | Error {
  switch (refusal) {
    case 'too-large':
      return bodyError(413, 'entity.too.large', 'request entity too large', limit);
    case 'over-budget':
      return bodyError(503, OVER_BUDGET, 'the budget of request bodies held at once is spent');
    case 'aborted':
      return cause ? Object.assign(cause, { status: 400, type: 'request.aborted' }) : bodyError(400, 'request.aborted', 'request aborted');
    case 'undecodable':
      // zlib's own error (errno, code such as Z_DATA_ERROR): the app answers it "not valid gzip".
      return Object.assign(cause ?? new Error('undecodable body'), { status: 400 });
  }
}

/** Form fields kept at most (as body-parser's `parameterLimit`): more is refused, not cut short. */
export const FORM_FIELD_LIMIT = 1000;

/** The number of `&`-separated fields of a form or query, counted up to `limit + 1`. */
export function fieldCount(text: string, limit: number): number {
  if (text === '') return 0;
  let count = 1;
  for (let i = text.indexOf('&'); i !== -1 && count <= limit; i = text.indexOf('&', i + 1)) count++;
  return count;
}

/** `%XX` escapes as the characters of their byte values (U+0000–U+00FF): each byte stays one character. */
const byteUnescape = (s: string): string => s.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));

/** A form field or query parameter whose bytes are not text in the charset it was read in (see parseForm). */
export interface NotText {
  key: string;
  /** Its first bytes, percent-encoded as sent (`%CF%F0%E8…`), to show the caller what arrived. */
  bytes: string;
}

/** A parsed form or query: its fields (an array for a field given more than once; no prototype) and what was not text. */
export interface ParsedForm {
  fields: Record<string, unknown>;
  notText: NotText[];
  /** The charset the form's Content-Type names (lower case), when it names one: its values were read in it. */
  charset?: string;
}

const FATAL_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LENIENT_UTF8 = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * The encodings a decoder knows in which the bytes of `&`, `=`, `%` and `+` can be part of a character: UTF-16 (`&` is
 * 0x26 0x00, and U+2600 is 0x00 0x26) and ISO-2022-JP (after ESC $ B a character is two bytes 0x21–0x7E: う is
 * 0x24 0x26). A form is split into fields and its escapes read byte by byte before its values are decoded (escapes
 * are bytes of the charset, so it cannot be decoded first), and a form in one of these would be cut inside its
 * characters: such a form is refused. Every other multi-byte charset a decoder knows (Shift_JIS, EUC-JP, GBK,
 * GB18030, Big5, EUC-KR) keeps those bytes for ASCII alone: their characters' bytes are 0x80 and above, or 0x30 and
 * above after a first byte of 0x80 and above.
 */
const ASCII_INCOMPATIBLE = new Set(['utf-16le', 'utf-16be', 'iso-2022-jp', 'replacement']);

/**
 * How a form's bytes become text in a charset label, or undefined for a label it cannot be read in: one TextDecoder
 * does not know, or an encoding in which `&`, `=` and `%` are not always their ASCII bytes (ASCII_INCOMPATIBLE).
 * ISO-8859-1 is byte for byte, as before (TextDecoder would read it as windows-1252). UTF-8 is checked: `ok` is false
 * for bytes that are not UTF-8 (percent-escapes of windows-1251 text), whose text has U+FFFD.
 */
export function formCharset(label: string): ((bytes: Buffer) => { text: string; ok: boolean }) | undefined {
  if (label === 'iso-8859-1' || label === 'latin1') return (bytes) => ({ text: bytes.toString('latin1'), ok: true });
  const decoder = knownDecoder(label);
  if (!decoder) return undefined;
  if (decoder.encoding === 'utf-8') {
    return (bytes) => {
      try {
        return { text: FATAL_UTF8.decode(bytes), ok: true };
      } catch {
        return { text: LENIENT_UTF8.decode(bytes), ok: false };
      }
    };
  }
  if (ASCII_INCOMPATIBLE.has(decoder.encoding)) return undefined;
  return (bytes) => ({ text: decoder.decode(bytes), ok: true });
}

function knownDecoder(label: string): InstanceType<typeof TextDecoder> | undefined {
  try {
    return new TextDecoder(label.slice(0, 40), { ignoreBOM: true });
  } catch {
    return undefined;
  }
}

/** Whether a charset label names an encoding a decoder knows but a form cannot be read in (ASCII_INCOMPATIBLE). */
export function asciiIncompatible(label: string): boolean {
  const decoder = knownDecoder(label);
  return decoder !== undefined && ASCII_INCOMPATIBLE.has(decoder.encoding);
}

/**
 * UTF-8 first, and for a value whose bytes are not UTF-8 the charset `fallback` (a label formCharset reads, checked
 * by the configuration): the Web-API's values that name no charset when OKTELL_WEBAPI_FALLBACK_CHARSET is set.
 * Without a fallback, plain checked UTF-8. Cyrillic in windows-1251 is almost never valid UTF-8 (its letters are
 * bytes 0xC0–0xFF, which UTF-8 never puts one after another), so the two rarely meet.
 */
export function utf8Else(fallback: string | undefined): (bytes: Buffer) => { text: string; ok: boolean } {
  const other = fallback === undefined ? undefined : formCharset(fallback);
  if (!other) return UTF8_FORM;
  return (bytes) => {
    const d = UTF8_FORM(bytes);
    return d.ok ? d : other(bytes);
  };
}

/** Checked UTF-8, made once: the query and the form of every Web-API call are read with it. */
const UTF8_FORM = formCharset('utf-8')!;

/** Whether a charset label (any a browser knows: `utf8`, `unicode-1-1-utf-8`…) names UTF-8. The label must be known. */
export function isUtf8Label(label: string): boolean {
  return new TextDecoder(label.slice(0, 40)).encoding === 'utf-8';
}

/** The first bytes of a value that is not text, percent-encoded (non-ASCII bytes and `%`), for a refusal to show. */
function shownBytes(bytes: Buffer): string {
  const shown = [...bytes.subarray(0, 12)].map((b) => (b < 0x21 || b > 0x7e || b === 0x25 ? `%${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b))).join('');
  return bytes.length > 12 ? `${shown}…` : shown;
}

/**
 * The fields of a form body or a query string, each byte of `raw` one character (a body read as `latin1`; a query
 * string is ASCII). `%XX` escapes and raw bytes alike are bytes of the charset (`decode`, from formCharset), and `+`
 * is a space, as form encoding has it. A value whose bytes are not text in that charset is listed in `notText` (and
 * holds the text with U+FFFD); a key is decoded leniently.
 */
export function parseForm(raw: string, decode: (bytes: Buffer) => { text: string; ok: boolean }): ParsedForm {
  const parsed = parseQueryString(raw, '&', '=', { maxKeys: 0, decodeURIComponent: byteUnescape });
  const fields: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  const notText: NotText[] = [];
  const asBytes = (s: string) => (/[^\u0000-\u00ff]/.test(s) ? Buffer.from(s, 'utf8') : Buffer.from(s, 'latin1'));
  for (const [rawKey, rawValue] of Object.entries(parsed)) {
    const key = decode(asBytes(rawKey)).text;
    const text = (v: string) => {
      const bytes = asBytes(v);
      const d = decode(bytes);
      if (!d.ok) notText.push({ key, bytes: shownBytes(bytes) });
      return d.text;
    };
    const value = Array.isArray(rawValue) ? rawValue.map(text) : text(rawValue ?? '');
    const before = fields[key];
    // Two raw keys that decode to the same text (`%CF` and `%D0` in UTF-8 both U+FFFD) are one key given twice.
    fields[key] = before === undefined ? value : [...(Array.isArray(before) ? before : [before]), ...(Array.isArray(value) ? value : [value])];
  }
  return { fields, notText };
}

/**
 * A form body (application/x-www-form-urlencoded) read by readBody under the body budget (`take`) and parsed: the
 * Web-API's and the console's forms. The charset its Content-Type names (UTF-8 without one; `windows-1251`,
 * `koi8-r` and the other labels a browser knows, as on the hook) is what its bytes and escapes are read in. A field
 * given more than once is an array of its values (the object has no prototype). Rejects with a BodyError: 415 for a
 * charset it cannot read (`charset.unsupported`, before a byte is read: an unknown label, or UTF-16 and ISO-2022-JP,
 * whose characters can hold the bytes of `&` and `=`, see ASCII_INCOMPATIBLE; its `hint` says what to send), 413 past `limit` bytes or `fieldLimit`
 * fields (`parameters.too.many`: refused, not cut short), 503 past the budget (`OVER_BUDGET`), and readBody's
 * others. The caller decides what a body of another type is. `unlabelled`: how a form that names no charset is read
 * (the Web-API's `utf8Else`); checked UTF-8 without it.
 */
export function readForm(req: IncomingMessage, limit: number, fieldLimit: number, take: (n: number) => boolean, unlabelled?: (bytes: Buffer) => { text: string; ok: boolean }): Promise<ParsedForm> {
  let charset = 'utf-8';
  let named = false;
  try {
    const label = parseContentType(req.headers['content-type'] ?? '').parameters.charset;
    named = label !== undefined;
    charset = (label ?? 'utf-8').toLowerCase();
  } catch {
    // An unparsable Content-Type that still names the form type: read as UTF-8, as body-parser did.
  }
  // A form that names no charset: `unlabelled` when given (the Web-API's fallback), else checked UTF-8.
  const decode = !named && unlabelled ? unlabelled : formCharset(charset);
  if (!decode) {
    const shown = `unsupported charset "${charset.toUpperCase().slice(0, 40)}"`;
    const refusal = asciiIncompatible(charset)
      ? Object.assign(bodyError(415, 'charset.unsupported', `${shown}: the bytes of "&", "=" and "%" can be part of a character in it, so a form in it cannot be split into its fields`), {
          hint: 'send it in UTF-8, windows-1251 or another charset in which "&", "=" and "%" are always their ASCII bytes',
        })
      : Object.assign(bodyError(415, 'charset.unsupported', shown), { hint: 'send it in UTF-8, windows-1251 or another charset a browser knows' });
    return Promise.reject(refusal);
  }
  const utf8 = isUtf8Label(charset);
  return readBody(req, limit, take).then((body) => {
    // A UTF-8 byte order mark before the first field (1C's УстановитьТелоИзСтроки writes one unless told not to) is
    // no part of it: kept, it made the first key "\uFEFFname", and the call was answered that "name" is required.
    const text = (utf8 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? body.subarray(3) : body).toString('latin1');
    if (fieldCount(text, fieldLimit) > fieldLimit) throw bodyError(413, 'parameters.too.many', 'too many form fields', fieldLimit);
    const parsed = parseForm(text, decode);
    return named ? { ...parsed, charset } : parsed;
  });
}
