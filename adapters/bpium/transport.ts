// One Bpium HTTP call with everything around it: Basic→cookie auth, deadline, retries with backoff, limiter, errors.
import { setMaxListeners } from 'node:events';
import { EffectError } from '../../engine/errors.js';
import type { JsonValue } from '../../engine/values.js';
import type { LoggerPort, OutageLogPort } from '../../engine/ports.js';
import { AnswerTooLarge, ExchangeTimeout, HttpExchanger, NoFreeConnection, waitedBeforeFailing, type RawAnswer } from '../http/exchange.js';
import { SlidingWindowLimiter, sleep } from './rate-limiter.js';
import { backoffDelay, failedBeforeSending, networkErrorCode, parseRetryAfter, type RetryOptions } from './retry.js';

/** One HTTP attempt, as reported to `onCall` (never carries credentials or cookies). */
export interface BpiumCallRecord {
  method: string;
  /** Path under the API base with its query string, e.g. `/catalogs/11/records?limit=100&offset=0`. */
  path: string;
  status?: number;
  /** 1-based number of this HTTP attempt within the call. */
  attempt: number;
  ms: number;
  /** `basic` or `cookie`: how this attempt authenticated. */
  auth: 'basic' | 'cookie';
  error?: string;
}

/**
 * When a failed attempt may be repeated: `always` for reads and idempotent writes (GET, PATCH, DELETE);
 * `not-processed` for POST, which is repeated only when Bpium surely did nothing (429, connection refused).
 */
export type RetryMode = 'always' | 'not-processed';

export interface TransportOptions {
  baseUrl: string;
  login: string;
  password: string;
  timeoutMs: number;
  /** Bytes of one answer at most; a longer one fails the call as BPIUM_TOO_LARGE as soon as it is passed. */
  maxResponseBytes: number;
  retry: RetryOptions;
  limiter?: SlidingWindowLimiter;
  logger?: LoggerPort;
  /** Told when Bpium answers again after an outage (an answer that is not a 429 or a retryable 5xx). */
  outages?: OutageLogPort;
  onCall?: (call: BpiumCallRecord) => void;
}

export interface CallRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  body?: JsonValue;
  timeoutMs?: number;
  /** Observer of each attempt of this call (the run's trace shows retries). */
  onAttempt?: (a: { attempt: number; status?: number; error?: string; ms: number }) => void;
  retryMode: RetryMode;
  /** DELETE: a 404 that follows a failed attempt means the earlier attempt already deleted it; answer 404 quietly. */
  notFoundAfterRetryOk?: boolean;
}

export interface CallResponse {
  status: number;
  body: JsonValue | undefined;
  attempts: number;
}

const SESSION_COOKIES = ['connect.sid', 'sid'];

/** Maps a final answer that is not a success to a stable code. */
function codeForStatus(status: number): string {
  switch (status) {
    case 400: return 'BPIUM_BAD_REQUEST';
    case 401: return 'BPIUM_UNAUTHORIZED';
    case 402: case 426: return 'BPIUM_LICENSE';
    case 403: return 'BPIUM_FORBIDDEN';
    case 404: return 'BPIUM_NOT_FOUND';
    case 429: return 'BPIUM_RATE_LIMITED';
    case 501: return 'BPIUM_NOT_IMPLEMENTED';
    default: return status >= 500 ? 'BPIUM_SERVER_ERROR' : 'BPIUM_HTTP_ERROR';
  }
}

/**
 * What to fix when Bpium's answer refuses every call alike, not this one (EffectError `details.setting`: the run fails
 * and its job waits as a dead letter, instead of the block's error exit); undefined for an answer about this call.
 * 403 is among them: the API's user lacks a right (the article's flow reads the Users catalog), which no retry and no
 * other record changes.
 */
export function bpiumSettingFix(status: number): string | undefined {
  if (status === 401) return 'Bpium refused the login: check BPIUM_LOGIN and BPIUM_PASSWORD (a user of this Bpium, with API access)';
  if (status === 403) return 'the Bpium user of BPIUM_LOGIN has no right to this catalog or record: give it the right in Bpium';
  if (status === 402 || status === 426) return "Bpium's licence refuses API calls: check the account's plan";
  if (status >= 300 && status < 400) return 'BPIUM_URL must name the address Bpium answers on without a redirect';
  return undefined;
}

/** A short, credential-free excerpt of Bpium's error body for messages. */
function describeBody(text: string): string {
  if (text === '') return '';
  let shown = text;
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (parsed && typeof parsed === 'object' && typeof parsed.message === 'string') shown = parsed.message;
  } catch {
    // not JSON: show the raw text; of a web page (a proxy's error page), its title, else its words without the tags
    if (looksLikeHtml(text)) {
      const title = pageTitle(text);
      shown = title ? `a web page "${title}"` : pageWords(text);
    }
  }
  shown = shown.replace(/\s+/g, ' ').trim();
  return shown === '' ? '' : `: ${shown.length > 200 ? `${shown.slice(0, 200)}…` : shown}`;
}

/**
 * Of a web page, how much is read for its title or its words: they are near its start, and only 200 characters are
 * shown. The scans below are linear besides (indexOf, no backtracking): a page of unclosed tags from a broken proxy
 * took regular expressions time quadratic in its length (80 KB of "<" held the thread 4 s; 16 MiB are let in).
 */
const PAGE_READ_CHARS = 64 * 1024;

/** The text of a page's <title>, or undefined. */
function pageTitle(html: string): string | undefined {
  const head = html.slice(0, PAGE_READ_CHARS);
  const lower = head.toLowerCase();
  const open = lower.indexOf('<title');
  if (open < 0) return undefined;
  const start = lower.indexOf('>', open);
  if (start < 0) return undefined;
  const end = lower.indexOf('</title', start);
  const title = head.slice(start + 1, end < 0 ? undefined : end);
  return end < 0 || title.includes('<') ? undefined : title.trim() || undefined;
}

/** A page's words without its tags, scripts and styles (an unclosed tag ends it). */
function pageWords(html: string): string {
  const page = html.slice(0, PAGE_READ_CHARS);
  const lower = page.toLowerCase();
  let out = '';
  let at = 0;
  while (at < page.length && out.length < 1000) {
    const lt = page.indexOf('<', at);
    if (lt < 0) {
      out += page.slice(at);
      break;
    }
    out += `${page.slice(at, lt)} `;
    const gt = page.indexOf('>', lt);
    if (gt < 0) break;
    at = gt + 1;
    for (const tag of ['script', 'style']) {
      if (lower.startsWith(`<${tag}`, lt)) {
        const close = lower.indexOf(`</${tag}`, at);
        const closeEnd = close < 0 ? -1 : page.indexOf('>', close);
        at = closeEnd < 0 ? page.length : closeEnd + 1;
      }
    }
  }
  return out;
}

/** Checked UTF-8; a leading byte order mark is dropped (TextDecoder's default), as a proxy or IIS may add one. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
const LOOSE_UTF8 = new TextDecoder('utf-8');

/**
 * The answer's text: checked UTF-8, else in the charset its Content-Type names (a proxy re-encoding to windows-1251).
 * `notUtf8` is set when no charset is named and the bytes are not UTF-8: the text then has U+FFFD in place of them.
 */
export function decodeAnswer(body: Buffer, contentType: string | undefined): { text: string; notUtf8: boolean } {
  const label = /charset\s*=\s*"?([\w.:-]+)/i.exec(contentType ?? '')?.[1];
  let named: InstanceType<typeof TextDecoder> | undefined;
  try {
    named = label && !/^utf-?8$/i.test(label) ? new TextDecoder(label) : undefined;
  } catch {
    // a label TextDecoder does not know: read as UTF-8
  }
  // UTF-16's bytes of ASCII are valid UTF-8 too (with NULs): its label is taken at its word.
  if (named?.encoding.startsWith('utf-16')) return { text: named.decode(body), notUtf8: false };
  // Bytes that are UTF-8 are read so whatever the label (JSON is UTF-8, RFC 8259, and application/json has no charset
  // parameter: a proxy or a framework labelling UTF-8 ISO-8859-1 would otherwise turn Иван into Ð\x98Ð²Ð°Ð½). Text in
  // windows-1251 or KOI8-R is never valid UTF-8 (a Cyrillic letter's byte is not followed by 0x80-0xBF bytes alone).
  try {
    return { text: STRICT_UTF8.decode(body), notUtf8: false };
  } catch {
    if (named) return { text: named.decode(body), notUtf8: false };
    return { text: LOOSE_UTF8.decode(body), notUtf8: true };
  }
}

/** Whether a 2xx answer's text reads as the API's: empty (no body) or JSON. */
function parsesAsJson(text: string): boolean {
  if (text.trim() === '') return true;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A web page where JSON was expected: a login form, a proxy's page. */
function looksLikeHtml(text: string): boolean {
  return /^\s*</.test(text);
}

function headerText(value: string | string[] | undefined): string | null {
  return value === undefined ? null : Array.isArray(value) ? (value[0] ?? null) : value;
}

/** Performs Bpium calls; holds the session cookie, the kept-alive connections and the close signal. */
export class BpiumTransport {
  private cookie: string | undefined;
  private readonly closer = new AbortController();
  private readonly basic: string;
  private readonly http: HttpExchanger;

  constructor(private readonly opts: TransportOptions) {
    this.basic = `Basic ${Buffer.from(`${opts.login}:${opts.password}`, 'utf8').toString('base64')}`;
    this.http = new HttpExchanger(32);
    // Every call waiting on a backoff or the rate limiter listens to this one signal, so a Bpium outage under load
    // (a server runs 32 jobs at once) holds dozens of listeners for a moment, each removed when its wait ends: no
    // limit, or Node prints a "possible EventTarget memory leak" warning on stderr.
    setMaxListeners(0, this.closer.signal);
  }

  close(): void {
    const reason = new EffectError('permanent', 'the Bpium client is closed', { code: 'BPIUM_CLIENT_CLOSED' });
    this.closer.abort(reason);
    this.http.close(reason);
  }

  get closed(): boolean {
    return this.closer.signal.aborted;
  }

  /**
   * Sends the request, retrying 429/5xx/network failures within the call's deadline (`timeoutMs` covers every
   * attempt and every backoff wait; time spent queued in the rate limiter is not counted).
   */
  async call(req: CallRequest): Promise<CallResponse> {
    if (this.closed) throw this.closer.signal.reason as Error;
    const timeoutMs = req.timeoutMs ?? this.opts.timeoutMs;
    const { retry } = this.opts;
    let deadline = Date.now() + timeoutMs;
    let attempts = 0;
    let failures = 0;
    let authFallbackUsed = false;
    // Whether any attempt sent something: one that waited for a free connection in vain (NoFreeConnection) did not.
    let sentAny = false;
    const label = `${req.method} ${req.path}`;

    for (;;) {
      if (this.opts.limiter) {
        const queuedAt = Date.now();
        await this.opts.limiter.take(this.closer.signal);
        deadline += Date.now() - queuedAt;
      }
      attempts++;
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new EffectError('timeout', `Bpium ${label}: no answer within ${timeoutMs} ms (${this.tried(attempts - 1)})`, {
          code: 'BPIUM_TIMEOUT',
          attempts: attempts - 1,
          outage: this.outage('timeout'),
        });
      }
      const auth: 'basic' | 'cookie' = this.cookie ? 'cookie' : 'basic';
      const started = Date.now();
      const record = (status: number | undefined, error?: string) => {
        const ms = Date.now() - started;
        this.opts.onCall?.({ method: req.method, path: req.path, status, attempt: attempts, ms, auth, ...(error ? { error } : {}) });
        req.onAttempt?.({ attempt: attempts, ms, ...(status !== undefined ? { status } : {}), ...(error ? { error } : {}) });
      };

      let res: RawAnswer;
      let text: string;
      let notUtf8: boolean;
      try {
        const headers: Record<string, string> = { accept: 'application/json' };
        if (req.body !== undefined) headers['content-type'] = 'application/json; charset=utf-8';
        if (this.cookie) headers.cookie = this.cookie;
        else headers.authorization = this.basic;
        const body = req.body === undefined ? undefined : JSON.stringify(req.body);
        // The attempt's time starts once it has a connection: the wait for one of the 32 kept to Bpium (all busy with
        // other calls) is bounded apart, by the call's timeout, and does not count, as the rate limiter's queue.
        res = await this.http.exchange(this.opts.baseUrl + req.path, { method: req.method, headers, ...(body !== undefined ? { body } : {}), timeoutMs: remaining, queueWaitMs: timeoutMs, maxBytes: this.opts.maxResponseBytes });
        sentAny = true;
        deadline += res.waitedMs ?? 0;
        ({ text, notUtf8 } = decodeAnswer(res.body, headerText(res.headers['content-type']) ?? undefined));
      } catch (err) {
        if (this.closed) {
          record(undefined, 'client closed');
          throw this.closer.signal.reason as Error;
        }
        if (err instanceof AnswerTooLarge) {
          record(undefined, 'too large');
          // Permanent: the same request would get the same answer; a wrong BPIUM_URL or a broken proxy is likelier.
          throw new EffectError('permanent', `Bpium ${label}: ${err.message} (BPIUM_MAX_RESPONSE_BYTES; check BPIUM_URL)`, { code: 'BPIUM_TOO_LARGE', attempts, cause: err });
        }
        // No connection came free: nothing was sent, so it may be sent again (a POST too) like a refused connection.
        const notSent = err instanceof NoFreeConnection;
        if (!notSent) sentAny = true;
        if (err instanceof ExchangeTimeout && !notSent) {
          record(undefined, 'timeout');
          throw new EffectError('timeout', `Bpium ${label}: no answer within ${timeoutMs} ms (${this.tried(attempts)})`, {
            code: 'BPIUM_TIMEOUT',
            attempts,
            cause: err,
            outage: this.outage('timeout'),
          });
        }
        // The wait for a connection is kept out of the deadline on failure as on success (a kept-alive connection
        // reset as it is reused, after a long wait, may still be retried within the call's timeout).
        deadline += notSent ? err.waitMs : waitedBeforeFailing(err);
        const code = notSent ? 'not sent: no free connection' : (networkErrorCode(err) ?? 'network error');
        record(undefined, code);
        failures++;
        const canRetry = req.retryMode === 'always' || failedBeforeSending(err);
        const delay = backoffDelay(failures, retry);
        if (canRetry && attempts < retry.attempts && Date.now() + delay < deadline) {
          this.opts.logger?.debug({ bpium: label, attempt: attempts, error: code, delayMs: delay }, 'bpium retry');
          await sleep(delay, this.closer.signal);
          continue;
        }
        if (notSent) {
          // No attempt got a connection: the call is recorded "not sent", as its message says, not "no answer".
          // An earlier attempt that was sent (and reset) may have been acted on: the message says so, as "not sent" is the last one's.
          const earlier = sentAny ? ', though an earlier attempt was sent and may have reached Bpium' : '';
          throw new EffectError('timeout', `Bpium ${label}: ${err.message}${earlier} (${this.tried(attempts)})`, { code: 'BPIUM_TIMEOUT', attempts, cause: err, outage: this.outage('timeout'), ...(sentAny ? {} : { notSent: true }) });
        }
        throw new EffectError('transient', `Bpium ${label}: ${code} (${this.tried(attempts)})`, {
          code: 'BPIUM_NETWORK',
          attempts,
          cause: err,
          outage: this.outage(code),
        });
      }

      record(res.status);
      // 501 and 505 say the server cannot do this request at all: asking again gives the same answer.
      const retryable = res.status === 429 || (res.status >= 500 && res.status !== 501 && res.status !== 505);
      // Any other answer says Bpium is there (a 4xx is about the request, not an outage): an outage, if any, is over.
      if (!retryable) this.opts.outages?.reached(this.target);
      this.captureCookie(res);
      // A 2xx web page to a POST is not taken for a login page: something in front of Bpium may have passed the POST on
      // before serving it, and sending it again could create the record twice (a redirect is never passed on).
      const webPage = res.status >= 200 && res.status < 300 && looksLikeHtml(text);
      const loginPage = (res.status >= 300 && res.status < 400) || (req.method !== 'POST' && webPage);
      if ((res.status === 401 || loginPage) && auth === 'cookie' && !authFallbackUsed) {
        // The session expired or the server restarted: forget the cookie and authenticate again with Basic, once.
        // A single sign-on proxy says so with a redirect to its login page, or that page itself (200 HTML); Basic
        // meeting the same answer is then the setting error below.
        authFallbackUsed = true;
        this.cookie = undefined;
        continue;
      }
      // That POST is not sent again, but its page may well be the session's end all the same: the cookie is forgotten,
      // so the next call logs in with Basic (else a client that only POSTs would meet the same page at every call).
      if (req.method === 'POST' && auth === 'cookie' && webPage) this.cookie = undefined;
      if (res.status === 404 && req.notFoundAfterRetryOk && failures > 0) {
        return { status: 404, body: undefined, attempts };
      }
      if (res.status >= 200 && res.status < 300) {
        // A POST (a create) answered 2xx was taken by what answered, perhaps passed on to Bpium: an answer that cannot
        // be read leaves the record perhaps made, so it is of unknown outcome (not sent again by a retry or a plain
        // replay), not a setting error whose dead letter is replayed into a second record.
        if (req.method === 'POST' && (notUtf8 || !parsesAsJson(text))) {
          throw new EffectError('unknown', `Bpium ${label}: HTTP ${res.status} with an answer that is ${notUtf8 ? 'not UTF-8 and names no charset' : 'not JSON'}${describeBody(text)}: the POST may have been passed on to Bpium and the record created; it is not sent again: look for it in Bpium before replaying the job (what answers at BPIUM_URL is not Bpium's API alone: a web page or a proxy answered)`, {
            code: 'BPIUM_INVALID_RESPONSE',
            attempts,
          });
        }
        if (notUtf8) {
          // Bpium writes UTF-8; other bytes without a charset are a proxy's doing, and reading on would store mojibake.
          // A setting, as a web page where JSON belongs is: the proxy answers every call with letters so, and the
          // block's error exit would skip every employee whose name is not ASCII and end the run completed.
          throw new EffectError('permanent', `Bpium ${label}: the answer is not UTF-8 and its Content-Type names no charset; a setting: what answers at BPIUM_URL re-encodes Bpium's answers (a proxy): have it pass UTF-8 on or name the charset it writes`, {
            code: 'BPIUM_INVALID_RESPONSE',
            attempts,
            setting: true,
          });
        }
        return { status: res.status, body: this.parseBody(label, text, attempts), attempts };
      }
      if (retryable) {
        failures++;
        const canRetry = req.retryMode === 'always' || res.status === 429;
        const hinted = parseRetryAfter(headerText(res.headers['retry-after']), Date.now());
        const delay = hinted ?? backoffDelay(failures, retry);
        if (canRetry && attempts < retry.attempts && Date.now() + delay < deadline) {
          this.opts.logger?.debug({ bpium: label, attempt: attempts, status: res.status, delayMs: delay }, 'bpium retry');
          await sleep(delay, this.closer.signal);
          continue;
        }
        throw new EffectError('transient', `Bpium ${label}: HTTP ${res.status}${describeBody(text)} (${this.tried(attempts)})`, {
          code: codeForStatus(res.status),
          status: res.status,
          attempts,
          outage: this.outage(`HTTP ${res.status}`),
        });
      }
      const hint = res.status >= 300 && res.status < 400 ? ` (redirect to ${headerText(res.headers.location) ?? '?'}; check BPIUM_URL)` : '';
      const setting = bpiumSettingFix(res.status);
      throw new EffectError('permanent', `Bpium ${label}: HTTP ${res.status}${describeBody(text)}${hint}${setting ? `; a setting: ${setting}` : ''}`, {
        code: res.status >= 300 && res.status < 400 ? 'BPIUM_REDIRECT' : codeForStatus(res.status),
        status: res.status,
        attempts,
        ...(setting ? { setting: true } : {}),
      });
    }
  }

  /** Which Bpium, and how many requests went to it: the end of an outage's message (`https://…/api/v1, 3 attempts`). */
  /** Bpium as an outage names it. */
  private get target(): string {
    return `Bpium ${this.opts.baseUrl}`;
  }

  private outage(kind: string): { target: string; kind: string } {
    return { target: this.target, kind };
  }

  private tried(attempts: number): string {
    return `${this.opts.baseUrl}, ${attempts} attempt${attempts === 1 ? '' : 's'}`;
  }

  private captureCookie(res: RawAnswer): void {
    for (const line of res.headers['set-cookie'] ?? []) {
      const pair = line.split(';', 1)[0] ?? '';
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      if (SESSION_COOKIES.includes(name)) this.cookie = `${name}=${pair.slice(eq + 1).trim()}`;
    }
  }

  private parseBody(label: string, text: string, attempts: number): JsonValue | undefined {
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text) as JsonValue;
    } catch (err) {
      // A web page or a proxy's answer where the API's was expected: every call gets it (BPIUM_URL).
      throw new EffectError('permanent', `Bpium ${label}: the answer is not JSON${describeBody(text)}; a setting: BPIUM_URL must name Bpium's address (a web page or a proxy answered)`, {
        code: 'BPIUM_INVALID_RESPONSE',
        attempts,
        cause: err,
        setting: true,
      });
    }
  }
}
