// The headers a hook scenario gives its answer (`hook.returns.headers`): one return value holding `Name: value` lines,
// the form input parameter 2 hands the request's headers in, or a JSON object of them (the form for values built from
// request data: a line break in a value cannot start a header). Checked before any reaches the socket: a name that is
// not a header name, a value with a character a header cannot carry, a header the server sets itself, or a second one of
// a header an answer carries once (`Location`) makes the answer a 500 with the reason, as a status that is not one does (server/hook-request.ts).
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
  // A browser that gets it over HTTPS binds the whole host name (every port and service on it) to HTTPS for max-age:
  // a scenario's answer from an emulator is no place to decide that for the host it runs on.
  'strict-transport-security': "it would bind the emulator's host name, every port and service on it, to HTTPS in browsers for its max-age",
  // The sandbox every scenario answer gets (cross-site.ts): the console shares this origin.
  ...Object.fromEntries(
    Object.keys(SCENARIO_ANSWER_HEADERS).map((h) => [h.toLowerCase(), 'the server sets it on every scenario answer, which shares its origin with the console']),
  ),
};

/**
 * Headers an answer may carry once: a client takes one of two `Location`s (or joins them into a value that is no
 * address), so a second is refused rather than sent. Others (`Set-Cookie`, `Vary`, `Link`, `WWW-Authenticate`…) may
 * repeat, and are sent once per line.
 */
const SINGLE_VALUED = new Set([
  'location',
  'content-location',
  'content-range',
  'content-disposition',
  'etag',
  'last-modified',
  'expires',
  'age',
  'retry-after',
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-max-age',
  'cross-origin-resource-policy',
  'cross-origin-opener-policy',
  'cross-origin-embedder-policy',
]);

/** At most this many header lines, and this many bytes of them: a proxy or client in front refuses more. */
export const ANSWER_HEADERS_MAX = 50;
export const ANSWER_HEADERS_MAX_BYTES = 8192;

export type AnswerHeaders = Record<string, string | string[]>;

/** One header as given, with where it was given (for a reason) and how its name is shown (a quoted line, masked). */
type Given = { name: string; value: string; at: string; shownName: () => string };

/**
 * The headers of `text`, or why they cannot be sent: `slot` and `typeSlot` are the return values' numbers, for the
 * reason. Two forms: `Name: value` lines (LF or CR LF; blank lines skipped), or a JSON object (`{"Location": "…",
 * "Set-Cookie": ["a=1", "b=2"]}`), told apart by a first character `{`. In lines, a line break inside a value written
 * into the text starts a header of its own, so request data needs UrlEncode; in JSON a value is one header whatever it
 * holds, and a line break in it is refused. A name given twice is sent twice (`Set-Cookie`), unless an answer may carry
it once only (`Location`, SINGLE_VALUED): that is refused. The reason names a line
 * or key and its header, never its value (a value may be a token the scenario made); a name it quotes is quoted from
 * `shownText`, the return value as the record shows it (secret values masked), or not at all when the two differ in
 * form.
 */
export function answerHeaders(text: string, slot: number, typeSlot: number, shownText: string = text): { headers: AnswerHeaders } | { problem: string } {
  const where = `return value ${slot} (the answer's headers)`;
  const given = text.trimStart().startsWith('{') ? jsonHeaders(text, shownText, where) : lineHeaders(text, shownText, where);
  if ('problem' in given) return given;
  const headers: AnswerHeaders = {};
  const firstAt = new Map<string, string>();
  let bytes = 0;
  for (const [i, { name, value, at, shownName }] of given.entries()) {
    if (!TOKEN.test(name)) return { problem: `${at}: ${shownName()} is not a header name (letters, digits and !#$%&'*+.^_\`|~- only, no spaces)` };
    const owned = SERVER_OWNED[name.toLowerCase()];
    if (owned) return { problem: `${at}: ${name} may not be set by the scenario: ${owned.replace('{type}', String(typeSlot))}` };
    if (!VALUE.test(value)) return { problem: `${at}: the value of ${name} holds a character a header cannot carry (a line break, a control character, or a letter outside Latin-1 such as Cyrillic: percent-encode it: UrlEncode for a part of an address)` };
    bytes += name.length + value.length + 4;
    if (i >= ANSWER_HEADERS_MAX || bytes > ANSWER_HEADERS_MAX_BYTES) {
      return { problem: `${where} holds more than ${ANSWER_HEADERS_MAX} headers or ${ANSWER_HEADERS_MAX_BYTES} bytes of them` };
    }
    const single = name.toLowerCase();
    const earlier = firstAt.get(single);
    if (earlier !== undefined) return { problem: `${at}: ${name} is given twice (first at ${earlier.slice(where.length + 2)}); an answer may carry it once` };
    if (SINGLE_VALUED.has(single)) firstAt.set(single, at);
    const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
    const before = headers[key];
    headers[key] = before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value];
  }
  return { headers };
}

function lineHeaders(text: string, shownText: string, where: string): Given[] | { problem: string } {
  const lines = text.split(/\r?\n/);
  // A reason quotes a line as the record shows it (secret values `***`), never as set: it is logged and stored.
  const shownLines = shownText.split(/\r?\n/);
  const quoted = (i: number, whole: boolean): string => {
    const line = shownLines.length === lines.length ? shownLines[i] : undefined;
    if (line === undefined) return 'the line';
    const colon = line.indexOf(':');
    return JSON.stringify((colon === -1 || whole ? line.trim() : line.slice(0, colon)).slice(0, 40));
  };
  const out: Given[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const at = `${where}, line ${i + 1}`;
    const colon = line.indexOf(':');
    if (colon === -1) return { problem: `${at}: ${quoted(i, true)} has no ":" (a header line is "Name: value")` };
    out.push({ name: line.slice(0, colon), value: line.slice(colon + 1).trim(), at, shownName: () => quoted(i, false) });
  }
  return out;
}

function jsonHeaders(text: string, shownText: string, where: string): Given[] | { problem: string } {
  const form = `${where} starts with "{", so it is read as a JSON object of headers ({"Location": "…", "Set-Cookie": ["a=1", "b=2"]})`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { problem: `${form}, and it is not JSON: ${(e as Error).message.slice(0, 120)}` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { problem: `${form}, and it is not an object` };
  let shownKeys: string[] | undefined;
  try {
    const shown: unknown = JSON.parse(shownText);
    if (shown && typeof shown === 'object' && !Array.isArray(shown) && Object.keys(shown).length === Object.keys(parsed).length) shownKeys = Object.keys(shown);
  } catch {
    shownKeys = undefined;
  }
  const out: Given[] = [];
  for (const [k, [name, v]] of Object.entries(parsed as Record<string, unknown>).entries()) {
    const shownName = (): string => (shownKeys ? JSON.stringify(shownKeys[k]!.slice(0, 40)) : 'a key');
    const at = `${where}, key ${k + 1}`;
    const values = Array.isArray(v) ? v : [v];
    for (const value of values) {
      if (typeof value !== 'string' && typeof value !== 'number') return { problem: `${at}: the value of ${TOKEN.test(name) ? name : shownName()} is not text or a number (or a list of them)` };
      // A line break in a JSON value is refused below (VALUE), never split: one value, one header.
      out.push({ name, value: String(value).trim(), at, shownName });
    }
  }
  return out;
}
