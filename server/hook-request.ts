// Pure pieces of the HTTP404 hook: request → input parameters, return values → response, the Bpium delivery key.
import { createHash } from 'node:crypto';
import { cutTextParts, answerValues, toText, type RunResult, type Value } from '../engine/index.js';
import type { ServerConfig } from './config.js';
import { peekJsonText } from './json-peek.js';
import { answerHeaders, type AnswerHeaders } from './answer-headers.js';
import { decodeQueryPart, isSecretHeader, maskQueryText, maskUserinfo } from '../adapters/web/redact.js';

/** Headers whose values never reach a scenario, a log or the store: the server has checked them already. */
export const REDACTED_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-hook-signature']);

/**
 * Whether a header is named like a credential the server does not check (`X-Api-Key`, `X-Auth-Token`,
 * `…-Secret`, `…-Password`): the scenario sees its value (it may be the sender's only proof of identity), the store,
 * the console, `show` and the logs see `[redacted]`. The rule is WebRequest's, keys that grant nothing left out: an
 * Idempotency-Key (it tells two resends apart, for a person reading a run) or a Sec-WebSocket-Key is kept.
 */
export function isStoredRedactedHeader(name: string, value?: string): boolean {
  return isSecretHeader(name, value);
}

/** The request headers twice: as the scenario gets them (parameter 2), and as they are stored and shown. */
export interface HookHeaders {
  /** Only the headers the server checked redacted (REDACTED_HEADERS). */
  scenario: string;
  /** Credential-named headers redacted too; the same string as `scenario` when the request has none. */
  stored: string;
  /** The headers redacted in `stored` only, name and value as sent. */
  credentials: Array<{ name: string; value: string }>;
}

/** `Name: value` lines joined by CRLF, in the order received, with secrets replaced by `[redacted]` (see HookHeaders). */
export function hookHeaders(rawHeaders: readonly string[]): HookHeaders {
  const scenario: string[] = [];
  const credentials: HookHeaders['credentials'] = [];
  let stored: string[] | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const checked = REDACTED_HEADERS.has(name.toLowerCase());
    const line = `${name}: ${checked ? '[redacted]' : rawHeaders[i + 1]!.replace(/[\r\n]+/g, ' ')}`;
    const credential = !checked && isStoredRedactedHeader(name, rawHeaders[i + 1]!);
    if (credential) credentials.push({ name, value: rawHeaders[i + 1]! });
    if (credential && !stored) stored = scenario.slice();
    scenario.push(line);
    stored?.push(credential ? `${name}: [redacted]` : line);
  }
  const text = scenario.join('\r\n');
  return { scenario: text, stored: stored ? stored.join('\r\n') : text, credentials };
}

/** The headers as the scenario gets them (see HookHeaders). */
export const headersText = (rawHeaders: readonly string[]): string => hookHeaders(rawHeaders).scenario;

/** Credential values at least this long are also found inside any trace text (shorter ones would hit other text). */
const SEARCHED_VALUE_CHARS = 8;

/**
 * A function that redacts the credential-named headers' values in a text of the run's trace: the `Name: value` lines
 * of a variable set to the headers parameter (whole, or cut for the trace), and any value long enough to be told
 * apart (a Condition's note quoting the key it compared, a variable holding the key alone).
 */
export function credentialRedactor(headers: HookHeaders): (text: string) => string {
  if (headers.credentials.length === 0) return (text) => text;
  const names = [...new Set(headers.credentials.map((c) => c.name.replace(/[^\w-]/g, (ch) => `\\${ch}`)))].join('|');
  const line = new RegExp(`(^|\r\n)(${names}): [^\r\n]*`, 'g');
  const values = headers.credentials.map((c) => c.value.trim()).filter((v) => v.length >= SEARCHED_VALUE_CHARS);
  return (text) => {
    const cut = cutTextParts(text);
    const start = cut ? cut.start : text;
    let redacted = start.replace(line, '$1$2: [redacted]');
    for (const value of values) if (redacted.includes(value)) redacted = redacted.split(value).join('[redacted]');
    return redacted === start ? text : cut ? redacted + text.slice(start.length) : redacted;
  };
}

/**
 * The request's address twice: as the scenario gets it (parameter 1, as sent), and as it is stored and shown (the
 * inbox, the run record, the console, `show`, `test --from-run`): the values of query parameters named like
 * credentials (`?token=…`, `?password=…`, `?api_key=…`; the rule of redact.ts) replaced by `***`, and so is the
 * `user:password` of an absolute-form or scheme-relative target (`http://***@host/path`, `//***@host/path`).
 */
export interface HookAddress {
  scenario: string;
  stored: string;
  /** The masked values, as sent (percent-encoded) and decoded, for finding them in the run's trace. */
  credentials: string[];
}

export function hookAddress(url: string): HookAddress {
  const credentials = new Set<string>();
  const secret = (raw: string) => {
    credentials.add(raw);
    credentials.add(decodeQueryPart(raw));
  };
  // An absolute-form target (`POST http://user:pw@host/path HTTP/1.1`, as a client sends to a proxy) or a
  // scheme-relative one (`//user:pw@host/path`) may carry a login and password before its host: they become `***`, as
  // WebRequest's recorded URLs show them (maskUrl); a `/` or a `?` left unencoded in the password does not end them
  // (absoluteUserinfo).
  const target = maskUserinfo(url, secret);
  const stored = maskQueryText(target, secret);
  return { scenario: url, stored, credentials: [...credentials].filter((c) => c !== '') };
}


/**
 * A function that masks the address's credentials in a text of the run's trace: the whole address wherever it
 * appears (a variable set to parameter 1), and any credential value long enough to be told apart from other text.
 */
export function addressRedactor(address: HookAddress): (text: string) => string {
  if (address.credentials.length === 0) return (text) => text;
  const values = address.credentials.filter((v) => v.length >= SEARCHED_VALUE_CHARS).sort((a, b) => b.length - a.length);
  return (text) => {
    const cut = cutTextParts(text);
    const start = cut ? cut.start : text;
    let masked = start.split(address.scenario).join(address.stored);
    for (const value of values) if (masked.includes(value)) masked = masked.split(value).join('***');
    return masked === start ? text : cut ? masked + text.slice(start.length) : masked;
  };
}

/**
 * Decoders by charset label as clients send it. Bounded: the labels are the client's text, so an unbounded cache
 * would keep every distinct one forever. The WHATWG encoding labels are about 220, all short; a longer label is no
 * encoding at all (decoded as UTF-8 without being looked up), and past the bound a label is looked up each time.
 */
const DECODERS = new Map<string, InstanceType<typeof TextDecoder>>();
export const DECODER_CACHE_LIMIT = 256;
const LONGEST_CHARSET_LABEL = 40;
const UTF8 = new TextDecoder('utf-8');

/** The charset label a Content-Type declares, lower-case; undefined when it declares none. */
function charsetLabel(contentType: string | undefined): string | undefined {
  return /charset\s*=\s*"?([\w.:-]+)"?/i.exec(contentType ?? '')?.[1]?.toLowerCase();
}

/** The decoder of a label, UTF-8's for a label that names no encoding TextDecoder knows (see unknownCharset). */
function decoderOf(charset: string): InstanceType<typeof TextDecoder> {
  if (charset.length > LONGEST_CHARSET_LABEL) return UTF8;
  let decoder = DECODERS.get(charset);
  if (!decoder) {
    try {
      decoder = new TextDecoder(charset);
    } catch {
      decoder = UTF8;
    }
    if (DECODERS.size < DECODER_CACHE_LIMIT) DECODERS.set(charset, decoder);
  }
  return decoder;
}

/**
 * The body as text, decoded by the charset the request declares (UTF-8 by default; invalid bytes become U+FFFD). A
 * label that names no encoding the server knows (`charset=x-unknown-cs`) is decoded as UTF-8 too: unknownCharset says
 * so, for the log and the run record.
 */
export function decodeBody(raw: Buffer, contentType: string | undefined): string {
  if (raw.length === 0) return '';
  return decoderOf(charsetLabel(contentType) ?? 'utf-8').decode(raw);
}

/**
 * The charset label of a body decoded as UTF-8 only because the server does not know it (cut to 40 characters), or
 * undefined: no body, no charset declared, or one the server decodes (any WHATWG label: `windows-1251`, `cp1251`,
 * `koi8-r`, `utf-8`…). Labels that WHATWG maps to its "replacement" encoding (`iso-2022-kr`) count as unknown.
 */
export function unknownCharset(raw: Buffer, contentType: string | undefined): string | undefined {
  if (raw.length === 0) return undefined;
  const charset = charsetLabel(contentType);
  if (charset === undefined || charset === 'utf-8' || charset === 'utf8') return undefined;
  return decoderOf(charset) === UTF8 ? charset.slice(0, LONGEST_CHARSET_LABEL) : undefined;
}

/** How many charset labels have a cached decoder (for tests: the cache is bounded). */
export const cachedDecoders = (): number => DECODERS.size;

/** Input parameters of the hook scenario, by the configured mapping (default 1 address, 2 headers, 3 method, 4 body). */
export function hookParams(
  map: ServerConfig['hook']['params'],
  req: { url: string; /** The headers as `headersText` writes them. */ headers: string; method: string; body: Buffer; contentType: string | undefined },
  signature: 'valid' | 'absent',
): Record<string, Value> {
  return {
    [map.address]: req.url,
    [map.headers]: req.headers,
    [map.method]: req.method,
    [map.body]: decodeBody(req.body, req.contentType),
    // Where the other parameters leave room: whether X-Hook-Signature was checked ("valid") or not required ("absent").
    ...(![map.address, map.headers, map.method, map.body].includes(5) ? { 5: signature } : {}),
  };
}

/** Routes longer than this are named by their hash in a dedup key, so the key stays small enough to index. */
const ROUTE_KEY_LIMIT = 200;

/**
 * The Bpium delivery key for deduplication, `bpium:<hook id>:<sequenceId>@<route>`, or null when the body has none.
 * The route (the hook path, or the configured secret path that protects it) is part of the key, so a delivery to one
 * route never answers for another; on a route without a secret the sender's login is added (see `fromSender`). The sequenceId is compared as the digits sent (leading zeros dropped): JSON
 * numbers past 2^53 would collide as floats. Read without building the document, so any size and depth is safe.
 */
export function bpiumDeliveryKey(raw: Buffer, route: string): string | null {
  if (raw.length === 0 || raw[0] !== 0x7b /* { */) return null;
  const text = raw.toString('utf8');
  const id = peekJsonText(text, ['hook', 'id']);
  const seq = peekJsonText(text, ['hook', 'sequenceId']);
  if (id === undefined || seq === undefined || !/^[\w$-]{1,64}$/.test(id) || !/^\d{1,64}$/.test(seq)) return null;
  return `bpium:${id}:${seq.replace(/^0+(?=\d)/, '')}@${routeKey(route)}`;
}

/** The same delivery's key on another route: the key with its route part replaced (hook id and sequenceId hold no `@`). */
export function onRoute(key: string, route: string): string {
  return `${key.slice(0, key.indexOf('@'))}@${routeKey(route)}`;
}

/** Logins longer than this (once encoded) are named by their hash in a dedup key. */
const SENDER_KEY_LIMIT = 64;

/**
 * The key of a delivery on a route without a secret: `<key>#<login>`, so one sender's deliveries never answer for
 * another's (nothing proves the hook id and sequenceId are Bpium's there; any login with `hook` may send them). The
 * login is URI-encoded, so it holds no `#`, and a path never does (the fragment is not part of it): the key has one.
 */
export function fromSender(key: string, login: string): string {
  const sender = encodeURIComponent(login);
  return `${key}#${sender.length <= SENDER_KEY_LIMIT ? sender : `sha256:${createHash('sha256').update(login).digest('hex')}`}`;
}

/** A route as keys name it: a long one by its hash, so a key stays short. */
function routeKey(route: string): string {
  return route.length <= ROUTE_KEY_LIMIT ? route : `sha256:${createHash('sha256').update(route).digest('hex')}`;
}

/** Bpium's `timestamp` (Unix seconds, as a string or a number) of a webhook body, or undefined when it has none. */
export function bpiumTimestamp(raw: Buffer): number | undefined {
  if (raw.length === 0 || raw[0] !== 0x7b /* { */) return undefined;
  const t = peekJsonText(raw.toString('utf8'), ['timestamp']);
  return t !== undefined && /^\d{1,12}$/.test(t) ? Number(t) : undefined;
}

export interface HookResponse {
  status: number;
  body: string;
  contentType: string;
  /** The scenario's own headers (`hook.returns.headers`), checked. */
  headers?: AnswerHeaders;
  /** Why the scenario's answer was replaced by a 500 (an invalid status, a header that cannot be sent), for the log. */
  problem?: string;
}

/**
 * The response from the hook run: return value 2 = status, 1 = body, 3 = content type (configurable). No status and
 * no body → 404 as Oktell answers an unknown resource; a body without a status → 200; a failed run → 500 with the run
 * id and nothing of the error's insides.
 */
export function hookResponse(result: RunResult, map: ServerConfig['hook']['returns'], timeZone: string): HookResponse {
  if (result.status === 'failed') {
    return { status: 500, contentType: 'text/plain; charset=utf-8', body: `500 Internal Server Error: scenario ${result.scenario} failed (run ${result.runId})\n` };
  }
  // The answer carries the return values as the scenario set them; the record (and the log) has them masked.
  const rv = answerValues(result);
  const statusValue = rv[String(map.status)];
  const bodyValue = rv[String(map.body)];
  const typeValue = rv[String(map.contentType)];
  const hasStatus = statusValue !== undefined && statusValue !== null && statusValue !== '';
  const hasBody = bodyValue !== undefined && bodyValue !== null;
  if (!hasStatus && !hasBody) return { status: 404, contentType: 'text/plain; charset=utf-8', body: '404 Not Found\n' };
  let status = 200;
  if (hasStatus) {
    const n = Number(typeof statusValue === 'string' ? statusValue.trim() : statusValue);
    // 1xx are interim answers (100 Continue, 101 Switching Protocols): sent as the final answer, with a body, they
    // leave the client waiting or make a proxy treat the connection as upgraded.
    if (!Number.isInteger(n) || n < 200 || n > 599) {
      const shown = result.returnValues[String(map.status)];
      const problem = `scenario ${result.scenario} set return value ${map.status} to ${JSON.stringify(String(shown)).slice(0, 40)}, not an HTTP status for an answer (200–599)`;
      return { status: 500, contentType: 'text/plain; charset=utf-8', body: `500 Internal Server Error: ${problem} (run ${result.runId})\n`, problem };
    }
    status = n;
  }
  const typeText = typeValue === undefined || typeValue === null ? '' : toText(typeValue, timeZone).trim();
  const contentType = typeText && !/[\r\n\0]/.test(typeText) && typeText.length < 200 ? typeText : 'text/plain; charset=utf-8';
  const headersValue = map.headers === undefined ? undefined : rv[String(map.headers)];
  if (headersValue === undefined || headersValue === null) return { status, contentType, body: hasBody ? toText(bodyValue, timeZone) : '' };
  const shownValue = result.returnValues[String(map.headers)];
  const own = answerHeaders(toText(headersValue, timeZone), map.headers!, map.contentType, shownValue === undefined || shownValue === null ? '' : toText(shownValue, timeZone));
  if ('problem' in own) {
    const problem = `scenario ${result.scenario} set ${own.problem}`;
    return { status: 500, contentType: 'text/plain; charset=utf-8', body: `500 Internal Server Error: ${problem} (run ${result.runId})\n`, problem };
  }
  return { status, contentType, body: hasBody ? toText(bodyValue, timeZone) : '', headers: own.headers };
}
