// The headers a hook scenario gives its answer (`hook.returns.headers`): one return value holding `Name: value` lines,
// the form input parameter 2 hands the request's headers in. Checked before any reaches the socket: a name that is
// not a header name, a value with a character a header cannot carry, or a header the server sets itself makes the
// answer a 500 with the reason, as a status that is not one does (server/hook-request.ts).
import { SCENARIO_ANSWER_HEADERS } from './cross-site.js';

/** A header name as HTTP allows it (a "token"). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What a header value may hold as Node writes it: tab, visible ASCII and space, and Latin-1's upper half. */
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Headers the server writes itself, or that would make the answer lie about its body or the connection: the body's
 * length and encoding, its media type (return value 3 gives it), the framing, and the ids this server adds.
 */
const SERVER_OWNED: Record<string, string> = {
  'content-length': 'the server counts the body itself',
  'content-type': 'the content type is return value {type}',
  'content-encoding': 'the body is sent as it is, not compressed',
  'transfer-encoding': 'the server frames the body itself',
  connection: 'the server keeps or closes the connection itself',
  'keep-alive': 'the server keeps or closes the connection itself',
  'proxy-connection': 'the server keeps or closes the connection itself',
  upgrade: 'the hook answers HTTP requests only',
  trailer: 'the answer has no trailers',
  te: 'TE is a request header',
  date: 'the server dates the answer itself',
  'x-oktell-run-id': 'the server names the hook run itself',
  'x-oktell-duplicate-of': 'the server names a duplicate delivery itself',
  // The sandbox every scenario answer gets (cross-site.ts): the console shares this origin.
  ...Object.fromEntries(
    Object.keys(SCENARIO_ANSWER_HEADERS).map((h) => [h.toLowerCase(), 'the server sets it on every scenario answer, which shares its origin with the console']),
  ),
};

/** At most this many header lines, and this many bytes of them: a proxy or client in front refuses more. */
export const ANSWER_HEADERS_MAX = 50;
export const ANSWER_HEADERS_MAX_BYTES = 8192;

export type AnswerHeaders = Record<string, string | string[]>;

/**
 * The headers of `text` (`Name: value` lines, LF or CR LF; blank lines skipped), a name given twice sent twice
 * (`Set-Cookie`), or why they cannot be sent: `slot` and `typeSlot` are the return values' numbers, for the reason.
 * The reason names a line and its header, never its value (a value may be a token the scenario made); a line it
 * quotes (one without a colon, a name that is not one) is quoted from `shownText`, the return value as the record
 * shows it (secret values masked), or not at all when the two have not the same lines.
 */
export function answerHeaders(text: string, slot: number, typeSlot: number, shownText: string = text): { headers: AnswerHeaders } | { problem: string } {
  const headers: AnswerHeaders = {};
  const lines = text.split(/\r?\n/);
  // A reason quotes a line as the record shows it (secret values `***`), never as set: it is logged and stored.
  const shownLines = shownText.split(/\r?\n/);
  const shown = (i: number): string | undefined => (shownLines.length === lines.length ? shownLines[i] : undefined);
  const quoted = (i: number, upTo: number): string => {
    const line = shown(i);
    if (line === undefined) return 'the line';
    const colon = line.indexOf(':');
    return JSON.stringify((colon === -1 || upTo === -1 ? line.trim() : line.slice(0, colon)).slice(0, 40));
  };
  let count = 0;
  let bytes = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const at = `return value ${slot} (the answer's headers), line ${i + 1}`;
    const colon = line.indexOf(':');
    const name = colon === -1 ? line.trim() : line.slice(0, colon);
    if (colon === -1) return { problem: `${at}: ${quoted(i, -1)} has no ":" (a header line is "Name: value")` };
    if (!TOKEN.test(name)) return { problem: `${at}: ${quoted(i, colon)} is not a header name (letters, digits and !#$%&'*+.^_\`|~- only, no spaces)` };
    const owned = SERVER_OWNED[name.toLowerCase()];
    if (owned) return { problem: `${at}: ${name} may not be set by the scenario: ${owned.replace('{type}', String(typeSlot))}` };
    const value = line.slice(colon + 1).trim();
    if (!VALUE.test(value)) return { problem: `${at}: the value of ${name} holds a character a header cannot carry (a line break, a control character, or a letter outside Latin-1 such as Cyrillic: percent-encode it: UrlEncode for a part of an address)` };
    count++;
    bytes += name.length + value.length + 4;
    if (count > ANSWER_HEADERS_MAX || bytes > ANSWER_HEADERS_MAX_BYTES) {
      return { problem: `return value ${slot} (the answer's headers) holds more than ${ANSWER_HEADERS_MAX} headers or ${ANSWER_HEADERS_MAX_BYTES} bytes of them` };
    }
    const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
    const before = headers[key];
    headers[key] = before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value];
  }
  return { headers };
}
