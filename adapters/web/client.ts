// The WebRequest block's HTTP client over kept-alive connections (adapters/http/exchange.ts, as the Bpium transport):
// one attempt at a time with a deadline and a cap on the answer, redirects only when asked, an allow-list of hosts
// checked on every hop, and retries of 5xx/408/429/network failures/timeouts with backoff.
import type { IncomingHttpHeaders } from 'node:http';
import type { LookupFunction } from 'node:net';
import { envSetting, type Env } from '../../engine/env.js';
import { AnsweredWebFailure, EffectError } from '../../engine/errors.js';
import type { LoggerPort, OutageKey, OutageLogPort, WebAnswer, WebAttempt, WebRequestPort, WebRequestSpec } from '../../engine/ports.js';
import { sleep } from '../bpium/rate-limiter.js';
import { AnswerTooLarge, ExchangeTimeout, HttpExchanger, NoFreeConnection, type RawAnswer } from '../http/exchange.js';
import { parseSize } from '../size.js';
import { isTlsFailureCode } from '../tls-failure.js';
import { backoffDelay, networkErrorCode, parseRetryAfter, type RetryOptions } from '../bpium/retry.js';
import { isSecretHeader, maskUrl, quotedUrlText } from './redact.js';
import { ALLOW_SETTING, HostRefused, isLinkLocal, linkLocalRefusal, refusingLinkLocal } from './link-local.js';

export { isLinkLocal } from './link-local.js';

export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
/** A Retry-After longer than this is not waited for inside the block: the run fails as retryable instead. */
export const MAX_RETRY_AFTER_MS = 60_000;
export const DEFAULT_WEB_RETRY: RetryOptions = { attempts: 3, baseDelayMs: 500, maxDelayMs: 8000 };

export interface WebClientOptions {
  /** Host names a request may reach (`api.example.com`, `*.example.com`); undefined or empty: any. */
  allowHosts?: string[];
  maxResponseBytes?: number;
  retry?: RetryOptions;
  logger?: LoggerPort;
  /** How host names are resolved (default: the system's, `dns.lookup`); tests map names to addresses with it. */
  lookup?: LookupFunction;
  /**
   * Told when a host answers (any status but 5xx, 408 and 429), which ends its outage in the folded log
   * (server/log-folding.ts). A request that outlasts its attempts on an outage carries `details.outage` instead.
   */
  outages?: OutageLogPort;
}

export interface WebClient extends WebRequestPort {
  close(): void;
}

/** Statuses retried inside the block: the server is overloaded, down, or asks to come back later. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** True when `host` is allowed by the list: exact names, or `*.example.com` for any name under example.com. */
export function hostAllowed(host: string, allow: readonly string[] | undefined): boolean {
  if (!allow || allow.length === 0) return true;
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return allow.some((pattern) => {
    const p = pattern.toLowerCase();
    return p.startsWith('*.') ? h.endsWith(p.slice(1)) : h === p;
  });
}


export function createWebClient(o: WebClientOptions = {}): WebClient {
  // A name resolving to a link-local address is refused at connect time, on every hop, unless listed by name.
  const http = new HttpExchanger(16, { lookup: refusingLinkLocal((host) => listedExactly(host, o.allowHosts), o.lookup) });
  const maxBytes = o.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const retry = o.retry ?? DEFAULT_WEB_RETRY;
  let closed = false;

  /** One exchange with one URL: no redirects, no retries. */
  const exchange = (url: URL, method: string, headers: Record<string, string>, body: Buffer | undefined, timeoutMs: number) =>
    http.exchange(url, { method, headers, ...(body !== undefined ? { body } : {}), timeoutMs, queueWaitMs: timeoutMs, maxBytes, decode: true });

  /** One attempt: the exchange and the redirects it is allowed to follow. */
  async function attempt(spec: WebRequestSpec, progress: Progress): Promise<RawAnswer & { url: URL }> {
    let url = spec.url;
    let method = spec.method;
    let headers = spec.headers;
    let body = spec.body;
    // The block's timeout is for the attempt, redirects included: a chain of slow hops does not get it once per hop.
    // The wait for a free connection (all of the pool's to the host busy) is not the service's time: it moves the deadline.
    let deadline = Date.now() + spec.timeoutMs;
    for (let hop = 0; ; hop++) {
      const refused = refusalBeforeSending(url, o.allowHosts);
      if (refused) throw refused;
      progress.url = url;
      // The first hop has the whole timeout (the clock may have moved a millisecond since the deadline was set, which
      // made a first hop that got no connection say "within 299 ms" of a 300 ms timeout).
      const left = hop === 0 ? spec.timeoutMs : deadline - Date.now();
      const late = () => new ExchangeTimeout(`no answer within ${spec.timeoutMs} ms, the ${hop} redirect(s) followed included`);
      if (left <= 0) throw late();
      let answer: RawAnswer;
      try {
        answer = await exchange(url, method, headers, body, left);
      } catch (e) {
        if (hop === 0 || !(e instanceof ExchangeTimeout)) throw e;
        // A redirect's hop that got no connection was not sent: said so, as of the first hop, not "no answer".
        throw e instanceof NoFreeConnection ? new NoFreeConnection(e.host, e.waitMs, e.maxSockets, `the request to the redirect's target (after ${hop} redirect(s) followed)`) : late();
      }
      deadline += answer.waitedMs ?? 0;
      progress.answeredHops++;
      // Any answer but "try later" says the host is there (a 4xx is about the request): its outage, if any, is over.
      if (!isRetryableStatus(answer.status)) o.outages?.reached(outageTarget(url));
      const location = answer.headers.location;
      if (answer.status < 300 || answer.status >= 400 || answer.status === 304 || !location || hop >= spec.maxRedirects) return { ...answer, url };
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        // Quoted masked (a login:password, a token in its query) and without its fragment, as the block quotes URLs.
        throw new EffectError('permanent', `${url.host} redirects to ${quotedUrlText(location)}, which is not a URL`, { code: 'HTTP_BAD_URL' });
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') return { ...answer, url };
      if (answer.status === 303 || ((answer.status === 301 || answer.status === 302) && method === 'POST')) {
        // As browsers do: the redirected request is a GET without the body.
        method = method === 'HEAD' ? 'HEAD' : 'GET';
        body = undefined;
        headers = withoutHeaders(headers, ['content-type']);
      }
      headers = headersForRedirect(headers, url, next);
      url = next;
    }
  }

  return {
    refusal: (spec) => refusalBeforeSending(spec.url, o.allowHosts),
    async send(spec, opts = {}): Promise<WebAnswer> {
      const label = `${spec.method} ${maskUrl(spec.url)}`;
      // Whether any attempt sent something: one that waited for a free connection in vain (NoFreeConnection) did not.
      let sentAny = false;
      for (let n = 1; ; n++) {
        if (closed) throw new EffectError('transient', 'the web client is closed', { code: 'HTTP_CLOSED', attempts: n - 1 });
        const started = Date.now();
        const report = (a: Omit<WebAttempt, 'attempt' | 'ms'>) => opts.onAttempt?.({ attempt: n, ms: Date.now() - started, ...a });
        let failure: EffectError;
        let wait: number | undefined;
        // This attempt waited for a free connection in vain: it sent nothing.
        let waitedInVain = false;
        const progress: Progress = { answeredHops: 0, url: spec.url };
        try {
          const a = await attempt(spec, progress);
          sentAny = true;
          report({ status: a.status });
          const answer: WebAnswer = { status: a.status, headers: flatHeaders(a.headers), body: decode(a.body, a.headers['content-type']), url: a.url.href, attempts: n, ...(a.note ? { note: a.note } : {}) };
          if (a.undecodable !== undefined && !isRetryableStatus(a.status)) {
            // The service answered (a POST was acted on), but its body cannot be read: passing the compressed bytes on
            // as text would hand the scenario garbage as if it were the answer. Status and headers are kept, as for an
            // answer over the cap. (A 5xx, 408 or 429 that cannot be decoded is retried as usual, its body left empty.)
            throw new AnsweredWebFailure('permanent', `${label}: answered ${a.status}, but ${a.undecodable}`, { status: a.status, code: 'HTTP_BAD_ENCODING', attempts: n }, answer);
          }
          if (!isRetryableStatus(a.status)) return answer;
          // Kept with the failure: if this is the last attempt, the block shows what the service said.
          failure = new AnsweredWebFailure('transient', `${label}: HTTP ${a.status}`, { status: a.status, code: 'HTTP_STATUS', attempts: n }, answer);
          wait = parseRetryAfter(first(a.headers['retry-after']), Date.now());
        } catch (e) {
          // A host refused on the first hop (by the allow-list, or a name that resolved to a link-local address, at
          // connect time) means this attempt sent nothing: it is neither counted nor reported as an attempt, so the
          // request is shown "not sent" (by the run's record and by its trace alike), not "no answer".
          const sentNothing = progress.answeredHops === 0 && (e instanceof HostRefused || (e instanceof EffectError && e.details.code === 'HTTP_HOST_REFUSED'));
          const sent = sentNothing ? n - 1 : n;
          waitedInVain = progress.answeredHops === 0 && e instanceof NoFreeConnection;
          if (!waitedInVain) sentAny = true;
          if (e instanceof AnsweredWebFailure) {
            report({ status: e.answer.status, error: e.details.code ?? e.message });
            throw e;
          }
          if (e instanceof EffectError) {
            if (!sentNothing) report({ error: e.details.code ?? e.message });
            throw new EffectError(e.kind, e.message, { ...e.details, attempts: sent });
          }
          failure = classify(e, label, sent, progress.url, writesOnce(spec));
          if (!sentNothing) report({ ...(failure.details.status !== undefined ? { status: failure.details.status } : {}), error: failure.details.code ?? failure.kind });
          if (!failure.retryable) throw failure;
        }
        const delay = wait ?? backoffDelay(n, retry);
        if (n >= retry.attempts || closed || delay > MAX_RETRY_AFTER_MS) {
          // The host did not answer, or only "try later", through every attempt: an outage, which the job retries.
          if (!closed) failure.details.outage = outageKey(failure, progress.url);
          // No attempt got a connection: the request was not sent, as the message says (not "no answer").
          if (!sentAny) failure.details.notSent = true;
          // The last attempt's "the request was not sent" is about it alone: an earlier one was sent (and cut off or
          // reset), so the service may have acted on it; said, lest the request be sent again by hand.
          else if (waitedInVain) failure.message += ` (an earlier attempt was sent and may have reached the service)`;
          // Attempts left, but the service asks for a longer wait than the block makes: said, or "HTTP 429" after one
          // attempt of three reads as if the retries had been made.
          if (n < retry.attempts && !closed && delay > MAX_RETRY_AFTER_MS) {
            failure.message += ` (Retry-After: ${Math.ceil(delay / 1000)} s, longer than the ${MAX_RETRY_AFTER_MS / 1000} s a WebRequest waits: no more attempts in this run)`;
          }
          throw failure;
        }
        o.logger?.debug({ web: label, attempt: n, status: failure.details.status, error: failure.details.code, delayMs: delay }, 'web request retry');
        await sleep(delay);
      }
    },
    close() {
      closed = true;
      http.close(new Error('the web client is closed'));
    },
  };
}

/**
 * The refusal of a URL that needs no network to decide: a host outside the allow-list, or a literal link-local address
 * (which never reaches the lookup; IPv4-mapped IPv6 included) not listed by name. Every hop is checked with it, and the
 * WebRequest block asks it before a request, live or dry, so both refuse the same requests.
 */
export function refusalBeforeSending(url: URL, allowHosts: readonly string[] | undefined): EffectError | undefined {
  if (!hostAllowed(url.hostname, allowHosts)) {
    return new EffectError('permanent', `${url.hostname} is not in the hosts web requests may reach (${ALLOW_SETTING})`, { code: 'HTTP_HOST_REFUSED' });
  }
  if (isLinkLocal(url.hostname) && !listedExactly(url.hostname, allowHosts)) {
    const refusal = linkLocalRefusal(url.hostname);
    return new EffectError('permanent', refusal.message, { code: refusal.code });
  }
  return undefined;
}

/**
 * A host as an outage names it: the scheme, host and port of the URL (`https://api.example.com:443`), never its path
 * or query, which may carry a token.
 */
export function outageTarget(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.protocol}//${url.hostname}:${port}`;
}

/** The outage of a request that outlasted its attempts at `url`: its host, and how (`HTTP 503`, `ECONNREFUSED`, `timeout`). */
function outageKey(failure: EffectError, url: URL): OutageKey {
  const { status, cause } = failure.details;
  const kind = status !== undefined ? `HTTP ${status}` : failure.kind === 'timeout' ? 'timeout' : (networkErrorCode(cause) ?? (cause as { code?: string } | undefined)?.code ?? failure.details.code ?? failure.kind);
  return { target: outageTarget(url), kind };
}

/** How far an attempt got: the hops answered, and the URL of the latest hop (a redirect's target). */
interface Progress {
  answeredHops: number;
  url: URL;
}

/**
 * A request that a service must not get twice when its answer is lost: a POST or PATCH without an Idempotency-Key
 * (with one, the service can recognise a repeat; PUT and DELETE are idempotent by HTTP's rules).
 */
function writesOnce(spec: WebRequestSpec): boolean {
  return (spec.method === 'POST' || spec.method === 'PATCH') && !Object.keys(spec.headers).some((name) => name.toLowerCase() === 'idempotency-key');
}

/**
 * Turns a failed exchange into the EffectError the block understands. `writesOnce`: the request is a POST or PATCH that
 * must not be repeated (see writesOnce), so an answer that came but cannot be read leaves its outcome unknown.
 */
function classify(e: unknown, label: string, attempts: number, url: URL, writesOnce = false): EffectError {
  if (e instanceof ExchangeTimeout) return new EffectError('timeout', `${label}: ${e.message}`, { code: 'HTTP_TIMEOUT', attempts });
  if (e instanceof AnswerTooLarge) {
    // The service answered (and, for a POST, acted): its status and headers are kept, the body is not, since a cut
    // body (half a JSON document) could pass for a whole one.
    const answer: WebAnswer = { status: e.status, headers: flatHeaders(e.headers), body: '', url: url.href, attempts };
    return new AnsweredWebFailure('permanent', `${label}: answered ${e.status}, but ${e.message} (webRequest.maxResponseBytes / WEB_REQUEST_MAX_RESPONSE_BYTES)`, { status: e.status, code: 'HTTP_TOO_LARGE', attempts }, answer);
  }
  // A name that resolved to a link-local address: a setting, which no retry changes.
  if (e instanceof HostRefused) return new EffectError('permanent', e.message, { code: e.code, attempts });
  const code = networkErrorCode(e) ?? (e as { code?: string }).code;
  if (isTlsFailureCode(code)) {
    // A certificate that does not verify will not verify on the next attempt either: the operator must act.
    return new EffectError('permanent', `${label}: TLS failure ${code}${tlsReason(e)}: ${tlsHint(code!, url)}`, { code: 'HTTP_TLS', attempts, cause: e });
  }
  const message = (e as Error | undefined)?.message ?? '';
  if (code === 'EPROTO' && url.protocol === 'https:' && /wrong version number|packet length too long|http request/i.test(message)) {
    // An https:// URL at a port that answers plain HTTP: no retry makes it speak TLS.
    return new EffectError('permanent', `${label}: TLS failure: ${url.host} does not answer in TLS (EPROTO: wrong version number): is it a plain http:// service? Write http:// in the url, or the port the service serves https on`, { code: 'HTTP_TLS', attempts, cause: e });
  }
  if (code?.startsWith('HPE_')) {
    // Something answered, so the request reached the port, and the service may have acted on it before its answer
    // went wrong (headers over 16 KiB, a Content-Length given twice): a POST sent again could be made twice. As a
    // database write whose connection is lost, it is of unknown outcome: not retried, the run fails (R_EFFECT_UNKNOWN)
    // and a job waits as a dead letter for someone to check. A read, or a write with an Idempotency-Key, is retried.
    if (writesOnce) {
      return new EffectError('unknown', `${label}: the answer is not valid HTTP (${code}): ${parserHint(code)}; the service may have acted on the ${label.slice(0, label.indexOf(' '))}, so it is not sent again (idempotencyKey: true would let it be retried)`, { code: 'HTTP_NETWORK', attempts, cause: e });
    }
    return new EffectError('transient', `${label}: the answer is not valid HTTP (${code}): ${parserHint(code)}`, { code: 'HTTP_NETWORK', attempts, cause: e });
  }
  return new EffectError('transient', `${label}: ${code ?? (message || 'network error')}`, { code: 'HTTP_NETWORK', attempts, cause: e });
}

/** What an error of Node's HTTP parser (an answer that is not HTTP as Node reads it) means, in words. */
function parserHint(code: string): string {
  if (code === 'HPE_HEADER_OVERFLOW') return 'its headers are larger than the 16 KiB Node.js reads (--max-http-header-size)';
  if (code === 'HPE_INVALID_CONSTANT' || code === 'HPE_INVALID_VERSION' || code === 'HPE_INVALID_STATUS') return 'it does not begin with an HTTP status line: is an HTTP service listening at this port?';
  if (code === 'HPE_UNEXPECTED_CONTENT_LENGTH' || code === 'HPE_INVALID_CONTENT_LENGTH') return 'its Content-Length is invalid or given twice';
  if (code === 'HPE_INVALID_CHUNK_SIZE') return 'its chunked body is malformed';
  return 'the service sent something Node.js cannot read as an HTTP answer';
}

/** Node's own words for a TLS failure (`self-signed certificate`), when they say more than its code. */
function tlsReason(e: unknown): string {
  const message = (e as Error | undefined)?.message;
  return message && !/^[A-Z_]+$/.test(message) ? ` (${message})` : '';
}

/** What to do about a certificate that does not verify, by Node's code for why. */
function tlsHint(code: string, url: URL): string {
  if (/^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|UNABLE_TO_VERIFY_LEAF_SIGNATURE)$/.test(code)) {
    return `the certificate of ${url.host} is not signed by an authority this host trusts (self-signed, or by a company's own CA); to trust that CA, start the server (or oktell-emu run) with NODE_EXTRA_CA_CERTS set to its certificate file (PEM), or have the service use a certificate from a public authority; certificates are always verified`;
  }
  if (code === 'CERT_HAS_EXPIRED') return `the certificate of ${url.host} has expired: the service must renew it`;
  if (code === 'CERT_NOT_YET_VALID') return `the certificate of ${url.host} is not valid yet: check this host's clock`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') return `the certificate is not issued for ${url.hostname}: call the service by a name its certificate names`;
  return `check the certificate of ${url.host}; it is a setting, not retried`;
}

/**
 * The headers a redirect from `from` to `to` is sent with. Credentials are for the origin they were written for
 * (scheme, host and port, as browsers and fetch do): an https → http redirect on the same host would send a bearer
 * token in clear. A credential is whatever the trace masks as one (redact.ts: Authorization, Cookie, X-Api-Key,
 * *-Token, *-Key, *secret*…), so an API key in its own header does not follow to a host it was not meant for.
 */
export function headersForRedirect(headers: Record<string, string>, from: URL, to: URL): Record<string, string> {
  if (to.origin === from.origin) return headers;
  // Idempotency-Key is no credential by that rule (it names the request): a POST sent on by a 307 or 308 needs it most,
  // as the service that finally acts on it must recognise a repeat. It carries nothing a host could use elsewhere.
  return Object.fromEntries(Object.entries(headers).filter(([name, value]) => !isSecretHeader(name, value)));
}

/** Whether `host` itself (not a `*.` pattern) is in the allow-list. */
function listedExactly(host: string, allow: readonly string[] | undefined): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return (allow ?? []).some((p) => p.toLowerCase() === h);
}

function withoutHeaders(headers: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !names.includes(k.toLowerCase())));
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function flatHeaders(h: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = v;
  return out;
}

/** Decodes by the Content-Type's charset (windows-1251 is common with Russian services); unknown charsets as UTF-8. */
function decode(body: Buffer, contentType: string | undefined): string {
  const charset = /charset\s*=\s*"?([\w.:-]+)/i.exec(contentType ?? '')?.[1];
  if (charset) {
    try {
      return new TextDecoder(charset).decode(body);
    } catch {
      // an unknown label: fall back to UTF-8
    }
  }
  // TextDecoder, not Buffer#toString: a UTF-8 byte order mark (Windows services, 1C) is dropped, as with charset=utf-8,
  // rather than left at the start of the text, where JsonGet and the Parser take the JSON for invalid.
  return new TextDecoder('utf-8').decode(body);
}

/** Attempts of one WebRequest in all, as the client takes them: WEB_REQUEST_ATTEMPTS, else the default (3). */
export function webRequestAttempts(env: Env): number {
  return webClientOptionsFromEnv(env).retry?.attempts ?? DEFAULT_WEB_RETRY.attempts;
}

/**
 * Settings from the environment: WEB_REQUEST_ALLOW_HOSTS (comma-separated host names, `*.example.com` allowed),
 * WEB_REQUEST_MAX_RESPONSE_BYTES (a size: 1048576, 512kb, 1mb; default 1mb), WEB_REQUEST_ATTEMPTS (total attempts, default 3).
 * @example webClientOptionsFromEnv({ WEB_REQUEST_ALLOW_HOSTS: 'sms.example.ru, *.bpium.ru' })
 */
export function webClientOptionsFromEnv(env: Env): WebClientOptions {
  const options: WebClientOptions = {};
  const hosts = envSetting(env, 'WEB_REQUEST_ALLOW_HOSTS')?.split(',').map((h) => h.trim()).filter((h) => h !== '');
  if (hosts && hosts.length > 0) options.allowHosts = hosts;
  const count = (name: string, min: number): number | undefined => {
    const raw = envSetting(env, name)?.trim();
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number of at least ${min}, got ${JSON.stringify(raw)}`);
    return n;
  };
  // A size as the file's webRequest.maxResponseBytes takes it: 10kb, 1mb, or bytes.
  const rawMax = envSetting(env, 'WEB_REQUEST_MAX_RESPONSE_BYTES')?.trim();
  if (rawMax !== undefined) {
    const max = parseSize(rawMax, 'WEB_REQUEST_MAX_RESPONSE_BYTES');
    if (max < 1) throw new Error(`WEB_REQUEST_MAX_RESPONSE_BYTES must be at least 1 byte, got ${JSON.stringify(rawMax)}`);
    options.maxResponseBytes = max;
  }
  const attempts = count('WEB_REQUEST_ATTEMPTS', 1);
  if (attempts !== undefined) options.retry = { ...DEFAULT_WEB_RETRY, attempts };
  return options;
}
