// WebRequest (Запрос к WEB-сервису): calls any HTTP service through the WebRequestPort; the answer goes into variables.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  AnsweredWebFailure,
  EffectError,
  RunFailure,
  RUN_ERROR_CODES as R,
  jsonText,
  toText,
  type BlockDefinition,
  textLiteral,
  yamlSingleQuoted,
  type BlockRuntime,
  type CompileContext,
  type CompiledExpression,
  type JsonValue,
  type Value,
  type WebAnswer,
  type WebAttempt,
  type WebRequestSpec,
} from '../engine/index.js';
import { absoluteUserinfo, maskBody, maskHeaders, maskUrl, quotedUrlText } from '../adapters/web/redact.js';
import { checkOutputVariable, expr, constantText, isKnown, NOTHING, varName } from './common.js';
import { cookieHeader, keepCookies } from './web-cookies.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
type Method = (typeof METHODS)[number];
/** Methods that only read: a dry run performs them, so the run sees real data. */
const SAFE: ReadonlySet<Method> = new Set(['GET', 'HEAD', 'OPTIONS']);
/** An HTTP header name (RFC 9110 token). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the client sets itself; a scenario setting them could smuggle a second request. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'te', 'trailer', 'expect', 'keep-alive']);

/** A JSON body: expressions, nested objects of them. */
type JsonShape = string | number | boolean | { [key: string]: JsonShape };
const jsonShape: z.ZodType<JsonShape> = z.lazy(() => z.union([expr, z.record(z.string(), jsonShape)]));

const schema = z.strictObject({
  method: z.enum(METHODS).default('GET'),
  url: expr,
  /** name → expression; names and values are percent-encoded and appended to the URL. */
  query: z.record(z.string(), expr).optional(),
  headers: z.record(z.string(), expr).optional(),
  json: z.record(z.string(), jsonShape).optional(),
  form: z.record(z.string(), expr).optional(),
  body: expr.optional(),
  contentType: z.string().optional(),
  auth: z.union([z.strictObject({ user: expr, password: expr }), z.strictObject({ bearer: expr })]).optional(),
  /** Seconds per attempt. */
  timeout: z.number().positive().max(600).optional(),
  maxRedirects: z.number().int().min(0).max(20).optional(),
  idempotencyKey: z.boolean().optional(),
  /** Send the cookies services set earlier in this run, and keep the ones this answer sets. */
  cookies: z.boolean().optional(),
  status: varName.optional(),
  responseBody: varName.optional(),
  responseHeaders: varName.optional(),
  errorCode: varName.optional(),
});

type Raw = z.infer<typeof schema>;
type CompiledShape = CompiledExpression | { [key: string]: CompiledShape };
interface Config {
  method: Method;
  url: CompiledExpression;
  query: Array<[string, CompiledExpression]>;
  headers: Array<[string, CompiledExpression]>;
  json?: CompiledShape;
  form?: Array<[string, CompiledExpression]>;
  body?: CompiledExpression;
  contentType?: string;
  auth?: { user: CompiledExpression; password: CompiledExpression } | { bearer: CompiledExpression };
  timeoutMs: number;
  maxRedirects: number;
  idempotencyKey: boolean;
  cookies: boolean;
  status?: string;
  responseBody?: string;
  responseHeaders?: string;
  errorCode?: string;
}

export const webRequestBlock: BlockDefinition<Raw, Config> = {
  kind: 'WebRequest',
  oktellName: 'Запрос к WEB-сервису',
  description:
    'Calls an HTTP(S) service: method, url, query, headers, a JSON, form or raw body, Basic or bearer auth. The status, body and headers go into variables. Exits success (2xx) / error (refused: 4xx) / timeout (no answer, 5xx, after retries).',
  exits: ['success', 'error', 'timeout'],
  effect: true,
  // A GET that fails changes nothing: the scenario takes its exit and the sender sees the answer it chose.
  writes: (c) => (SAFE.has(c.method) ? undefined : `sends a ${c.method} request`),
  schema,
  example: `sendSms:
  kind: WebRequest
  method: POST
  url: '[smsGateway] + "/api/messages"'
  headers: { Accept: '"application/json"' }
  auth: { bearer: '[smsToken]' }
  json: { to: '[phone]', text: '"Новая задача: " + [taskName]' }
  timeout: 10                   # seconds, per attempt
  idempotencyKey: true          # the same Idempotency-Key on every retry
  # cookies: true               # keep the cookies services set, for the later requests of the run
  status: smsStatus
  responseBody: smsAnswer       # JSON text, ready for the Parser
  errorCode: smsError           # HTTP status, or HTTP_TIMEOUT, HTTP_NETWORK …
  exits: { success: done, error: refused, timeout: later }`,
  compile(raw, cx) {
    const bodies = (['json', 'form', 'body'] as const).filter((k) => raw[k] !== undefined);
    if (bodies.length > 1) cx.issue([bodies[1]!], 'E_INVALID_PROPERTY', `"${bodies.join('" and "')}" are alternatives: give one body`);
    // A method left out as wrong (FETCH) is unknown here, not the default GET: nothing is said about its body.
    if (bodies.length > 0 && (raw.method === 'GET' || raw.method === 'HEAD') && isKnown(cx, 'method')) {
      cx.issue([bodies[0]!], 'E_INVALID_PROPERTY', `a ${raw.method} request has no body`, 'put the values in "query", or use method: POST');
    }
    if (raw.contentType !== undefined) {
      if (raw.body === undefined && isKnown(cx, 'body')) cx.issue(['contentType'], 'E_INVALID_PROPERTY', '"contentType" goes with "body" ("json" and "form" set their own)');
      if (/[\r\n]/.test(raw.contentType)) cx.issue(['contentType'], 'E_INVALID_PROPERTY', '"contentType" must be one line');
    }
    if (raw.idempotencyKey && raw.method !== 'POST' && raw.method !== 'PATCH' && isKnown(cx, 'method')) {
      cx.issue(['idempotencyKey'], 'E_INVALID_PROPERTY', `"idempotencyKey" is for POST and PATCH; ${raw.method} is idempotent already`);
    }
    for (const name of Object.keys(raw.headers ?? {})) {
      const lower = name.toLowerCase();
      if (!TOKEN.test(name)) cx.issue(['headers', name], 'E_INVALID_PROPERTY', `"${name}" is not a valid header name`, 'letters, digits and - only, e.g. X-Request-Id');
      else if (RESERVED_HEADERS.has(lower)) cx.issue(['headers', name], 'E_INVALID_PROPERTY', `the "${name}" header is set by the client, not by the scenario`);
      else if (lower === 'authorization' && raw.auth) cx.issue(['headers', name], 'E_INVALID_PROPERTY', '"auth" and an Authorization header are alternatives: give one');
      else if (lower === 'cookie' && raw.cookies) cx.issue(['headers', name], 'E_INVALID_PROPERTY', '"cookies: true" and a Cookie header are alternatives: give one');
    }
    // The answer is stored after the request was sent: a variable that cannot hold it would fail the run after the fact.
    if (raw.status) checkOutputVariable(cx, 'status', raw.status, 'number');
    if (raw.responseBody) checkOutputVariable(cx, 'responseBody', raw.responseBody, 'body');
    if (raw.responseHeaders) checkOutputVariable(cx, 'responseHeaders', raw.responseHeaders, 'json');
    if (raw.errorCode) checkOutputVariable(cx, 'errorCode', raw.errorCode, 'text');
    const pairs = (obj: Record<string, unknown> | undefined, key: string) =>
      Object.entries(obj ?? {}).map(([k, v]): [string, CompiledExpression] => [k, cx.expression([key, k], v)]);
    const shape = (v: JsonShape, path: string[]): CompiledShape =>
      typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x, [...path, k])])) : cx.expression(path, v);
    const c: Config = {
      method: raw.method,
      url: cx.expression(['url'], raw.url),
      query: pairs(raw.query, 'query'),
      headers: pairs(raw.headers, 'headers'),
      timeoutMs: (raw.timeout ?? 10) * 1000,
      maxRedirects: raw.maxRedirects ?? 0,
      idempotencyKey: raw.idempotencyKey === true,
      cookies: raw.cookies === true,
    };
    if (c.url.constant) checkConstantUrl(cx, c.url);
    else checkUrlStart(cx, c.url);
    if (raw.json) c.json = shape(raw.json, ['json']);
    if (raw.form) c.form = pairs(raw.form, 'form');
    if (raw.body !== undefined) c.body = cx.expression(['body'], raw.body);
    if (raw.contentType !== undefined) c.contentType = raw.contentType;
    if (raw.auth) {
      c.auth = 'bearer' in raw.auth
        ? { bearer: cx.expression(['auth', 'bearer'], raw.auth.bearer) }
        : { user: cx.expression(['auth', 'user'], raw.auth.user), password: cx.expression(['auth', 'password'], raw.auth.password) };
    }
    for (const k of ['status', 'responseBody', 'responseHeaders', 'errorCode'] as const) if (raw[k]) c[k] = raw[k];
    return c;
  },
  async run(c, rt) {
    let spec: WebRequestSpec;
    const seen: { url?: string; fragment?: boolean } = {};
    try {
      spec = buildRequest(c, rt, seen);
    } catch (e) {
      if (!(e instanceof EffectError)) throw e;
      // Refused before anything was sent (a bad URL or header): the reason goes in the trace and in the run's web
      // requests, not only the bare code in errorCode.
      rt.traceEffect({ failure: e.kind, error: e.message });
      rt.traceNote(e.message);
      rt.recordHttpCall({ method: c.method, url: seen.url ?? '(invalid URL)', outcome: 'error', performed: false, error: e.message });
      return failed(c, rt, e, c.method, undefined);
    }
    const shownUrl = maskUrl(spec.url);
    const request = { method: spec.method, url: shownUrl, headers: maskHeaders(spec.headers), ...(spec.body ? { body: excerpt(maskBody(spec.body.toString('utf8'), spec.headers['content-type'])) } : {}) };
    if (rt.dryRun) {
      // The client's checks that need no network (allow-list, link-local address) decide a dry run as they decide
      // the live one below: a request the live run refuses is refused here too, whatever its method.
      const refused = rt.web?.refusal?.(spec);
      if (refused) return refusedBeforeSending(c, rt, refused, request, shownUrl);
      if (!SAFE.has(c.method)) return dryRun(c, rt, spec, request, shownUrl);
    }
    const web = rt.web;
    if (!web) throw new RunFailure(R.ADAPTER_MISSING, 'no web client is configured for WebRequest blocks');
    const attempts: WebAttempt[] = [];
    const started = Date.now();
    let answer: ReadAnswer;
    let replayed = false;
    try {
      const made = await rt.effect(
        async () => {
          // Asked inside the effect: a request this job sent before (its answer journaled) is replayed, not refused,
          // if the settings changed since.
          const refused = web.refusal?.(spec);
          if (refused) throw new NotSent(refused);
          let got: ReadAnswer;
          try {
            got = await web.send(spec, { onAttempt: (a) => attempts.push(a) });
          } catch (e) {
            // An answer too large to read is an answer all the same (a POST was acted on): journaled like any other, so
            // a retried job does not send the request again and takes the same exit with the same variables.
            if (!(e instanceof AnsweredWebFailure && (e.details.code === TOO_LARGE || e.details.code === BAD_ENCODING))) throw e;
            // `tooLarge` names every answer whose body could not be read (the field journaled by earlier builds);
            // `unreadable` the code when it is not HTTP_TOO_LARGE.
            got = { ...e.answer, tooLarge: e.message, ...(e.details.code === BAD_ENCODING ? { unreadable: BAD_ENCODING } : {}) };
          }
          // A refusal that fails the run is no effect made (the service did not act): left out of the journal, so
          // that a retry or a replay (the scenario or the service fixed) sends the request again instead of meeting
          // the same 400.
          if (refusalEndsRun(got, spec.url.href, rt)) throw new Refused(got);
          return asJson(got);
        },
        // Such a refusal journaled by an earlier build is not replayed either. Its URL may be an old one (the
        // scenario fixed since): with redirects not followed, none can have been, whatever URL it names.
        { made: (outcome) => !refusalEndsRun(outcome, c.maxRedirects === 0 ? undefined : spec.url.href, rt) },
      );
      answer = made.value as unknown as ReadAnswer;
      replayed = made.replayed;
    } catch (e) {
      if (e instanceof Refused) answer = e.answer;
      else {
        if (e instanceof NotSent) return refusedBeforeSending(c, rt, e.refusal, request, shownUrl);
        if (!(e instanceof EffectError)) throw e;
        // A 5xx, 408 or 429 that outlasted the retries still came with a status, headers and a body: the scenario gets
        // them, as it gets a 404's, before it takes its exit.
        if (e instanceof AnsweredWebFailure) setAnswer(c, rt, e.answer);
        const got = e instanceof AnsweredWebFailure ? answerForTrace(e.answer) : {};
        rt.traceEffect({ request, failure: e.kind, status: e.details.status ?? null, attempts: attempts.map(attemptJson), ...(e.details.fixture ? { fixture: true } : {}), ...(e.details.notSent ? { notSent: true } : {}), error: e.message, ...got });
        return failed(c, rt, e, c.method, { url: shownUrl, ms: Date.now() - started });
      }
    }
    // Out of the try: the exit a refusal takes may fail the run, and that failure is not the request's (the record and
    // the trace of a replayed answer stay those of a replay).
    const ok = answer.status >= 200 && answer.status < 300 && answer.tooLarge === undefined;
    // A fixture's answer is made up here: nothing went out, so the request was not performed.
    const fixture = answer.fixture === true;
    // A 3xx that came back as the answer: why it was not followed, which "302 error" alone does not say.
    const unfollowed = ok ? undefined : redirectNotFollowed(answer, c.maxRedirects);
    if (unfollowed) rt.traceNote(unfollowed);
    if (typeof answer.note === 'string') rt.traceNote(answer.note);
    rt.recordHttpCall({
      method: c.method,
      url: shownUrl,
      status: answer.status,
      outcome: replayed ? 'replayed' : ok ? 'ok' : 'error',
      performed: !replayed && !fixture,
      ...(fixture ? { fixture: true as const } : {}),
      ...(replayed ? {} : { attempts: answer.attempts, ms: Date.now() - started }),
      ...(answer.tooLarge !== undefined ? { error: answer.tooLarge } : unfollowed ? { error: unfollowed } : {}),
    });
    const traced = answer.tooLarge !== undefined ? { failure: 'permanent', tooLarge: true, error: answer.tooLarge } : answerForTrace(answer);
    rt.traceEffect({ request, status: answer.status, attempts: attempts.map(attemptJson), ...(replayed ? { replayed: true } : {}), ...(fixture ? { fixture: true } : {}), ...traced });
    if (ok) return answered(c, rt, answer);
    setAnswer(c, rt, answer);
    if (answer.tooLarge !== undefined) {
      return failed(c, rt, new EffectError('permanent', answer.tooLarge, { status: answer.status, code: answer.unreadable ?? TOO_LARGE }), c.method, undefined);
    }
    const refusal = new EffectError('permanent', `${c.method} ${shownUrl}: HTTP ${answer.status}${unfollowed ? ` (${unfollowed})` : ''}${answer.body ? `: ${excerpt(answer.body, 200)}` : ''}`, { status: answer.status });
    return failed(c, rt, refusal, c.method, undefined);
  },
};

/**
 * Why a redirect answer (3xx with or without a Location) is the answer rather than followed: maxRedirects is 0, its
 * limit was reached (a loop ends there), the Location is missing or names no http(s) URL (file:, data:, javascript:).
 * A 304 is no redirect: undefined.
 */
function redirectNotFollowed(answer: WebAnswer, maxRedirects: number): string | undefined {
  if (answer.status < 300 || answer.status >= 400 || answer.status === 304) return undefined;
  const raw = answer.headers.location;
  const location = Array.isArray(raw) ? raw[0] : raw;
  if (!location) return `the ${answer.status} has no Location header: there is nowhere to follow it to`;
  let next: URL | undefined;
  try {
    next = new URL(location, answer.url);
  } catch {
    next = undefined;
  }
  const shown = quotedUrlText(location);
  if (!next || (next.protocol !== 'http:' && next.protocol !== 'https:')) return `redirected to ${shown}, not an http or https URL: not followed`;
  if (maxRedirects === 0) return `redirected to ${shown}: not followed, as maxRedirects is 0 (set maxRedirects to follow redirects)`;
  return `redirected to ${shown}: not followed, as maxRedirects: ${maxRedirects} were followed already (a redirect loop?)`;
}

/**
 * An answer as the block keeps it: `tooLarge` when its body could not be read (over the cap, or, with `unreadable`
 * holding HTTP_BAD_ENCODING, in a coding that cannot be decoded); journaled so by earlier builds too.
 */
type ReadAnswer = WebAnswer & { tooLarge?: string; unreadable?: string };

/** The errorCode of an answer over the size cap (the status is in `status`). */
const TOO_LARGE = 'HTTP_TOO_LARGE';
/** The errorCode of an answer whose Content-Encoding could not be decoded (zstd, a broken gzip). */
const BAD_ENCODING = 'HTTP_BAD_ENCODING';

/**
 * A 4xx answer is a refusal: the service says the request is wrong (400, 404, 422…) or not allowed (401, 403), or
 * conflicts with what it holds (409), and so did not act on it (see `refusalEndsRun` for when one is journaled). 408
 * and 429 (asked to try later) never come here: they are outages, retried. A 3xx not followed is not a refusal: a
 * form POST answered 302 or 303 has usually been done.
 */
function isRefusal(status: number | undefined): boolean {
  return status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/**
 * Whether an answer (as sent back, or journaled by `asJson`) is a refusal that is left out of the journal: a 4xx to
 * the request itself (answered at `sentTo`, when given, so no redirect was followed: a 4xx met after a 303 answers the
 * GET that followed a POST the service did act on), read whole (an answer over the cap is kept, as any), on a block
 * whose `error` exit is not wired, so the run fails at this step and nothing follows it. With the exit wired the
 * scenario goes on along it, making other effects: the refusal is then journaled like any answer, so that a retry
 * takes the same path and does not make the effects of both.
 */
function refusalEndsRun(answer: unknown, sentTo: string | undefined, rt: BlockRuntime): boolean {
  if (answer === null || typeof answer !== 'object' || Array.isArray(answer)) return false;
  const a = answer as { status?: unknown; url?: unknown; tooLarge?: unknown };
  const direct = sentTo === undefined || a.url === sentTo;
  return typeof a.status === 'number' && isRefusal(a.status) && direct && a.tooLarge === undefined && !rt.hasExit('error');
}

/** Carries a refused answer out of the effect, so that it is not journaled; the block then handles it as any answer. */
class Refused extends Error {
  override name = 'Refused';
  constructor(readonly answer: ReadAnswer) {
    super(`HTTP ${answer.status}`);
  }
}

/** Carries a refusal out of the effect, so that it is told apart from a failure of a request that was sent. */
class NotSent extends Error {
  override name = 'NotSent';
  constructor(readonly refusal: EffectError) {
    super(refusal.message);
  }
}

/**
 * A request the client refuses before sending anything (HTTP_HOST_REFUSED), live or dry: the same trace, the same
 * record (not sent: no attempt) and the same exit, so a dry run shows what the live run would do.
 */
function refusedBeforeSending(c: Config, rt: BlockRuntime, e: EffectError, request: JsonValue, shownUrl: string): string {
  rt.traceEffect({ request, failure: e.kind, error: e.message });
  rt.traceNote(e.message);
  rt.recordHttpCall({ method: c.method, url: shownUrl, outcome: httpFailureOutcome(e.kind, undefined), performed: false, error: e.message });
  return failed(c, rt, e, c.method, undefined);
}

/**
 * A request a dry run does not send, because it may change the world: answered by a fixture when one matches (which
 * may also fail it, to try the error exits), else by the documented default, 200 with an empty body.
 */
function dryRun(c: Config, rt: BlockRuntime, spec: WebRequestSpec, request: JsonValue, shownUrl: string): string {
  let answer: WebAnswer;
  // No fixture matched: said in the record and the trace, so a 200 nobody wrote is not taken for the service's.
  let byDefault = false;
  try {
    const fixture = rt.web?.dryRunAnswer?.(spec);
    byDefault = fixture === undefined;
    answer = fixture ?? { status: 200, headers: {}, body: '', url: spec.url.href, attempts: 0 };
  } catch (e) {
    if (!(e instanceof EffectError)) throw e;
    const fixture: { fixture?: true } = e.details.fixture ? { fixture: true } : {};
    rt.recordHttpCall({ method: c.method, url: shownUrl, ...(e.details.status ? { status: e.details.status } : {}), outcome: httpFailureOutcome(e.kind, e.details.status), performed: false, ...fixture, error: e.message });
    rt.traceEffect({ request, dryRun: true, failure: e.kind, ...(e.details.status ? { status: e.details.status } : {}), ...fixture, error: e.message });
    // A fixture's 500 is the answer a live 500 leaves after the retries: the same variables.
    if (e instanceof AnsweredWebFailure) setAnswer(c, rt, e.answer);
    return failed(c, rt, e, c.method, undefined);
  }
  const ok = answer.status >= 200 && answer.status < 300;
  const how: { defaultAnswer?: true; fixture?: true } = byDefault ? { defaultAnswer: true } : answer.fixture ? { fixture: true } : {};
  rt.recordHttpCall({ method: c.method, url: shownUrl, status: answer.status, outcome: 'dry-run', performed: false, ...how });
  rt.traceEffect({ request, dryRun: true, status: answer.status, ...how });
  if (ok) return answered(c, rt, answer);
  setAnswer(c, rt, answer);
  return failed(c, rt, new EffectError('permanent', `${c.method} ${shownUrl}: HTTP ${answer.status} (dry run)`, { status: answer.status }), c.method, undefined);
}

/**
 * The URL to request, or an HTTP_BAD_URL refusal; `seen.url` is the URL as it may be shown, once it parses, and
 * `seen.fragment` says it had a fragment, which was taken off.
 */
function requestUrl(urlText: string, seen: { url?: string; fragment?: boolean }): URL {
  // Refused, not cleaned: a parser would drop a tab or line break and read what is around it as one (`.\t.` as `..`).
  const control = /[\u0000-\u001f\u007f]/.exec(urlText);
  if (control) {
    const code = `U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    const name = control[0] === '\t' ? `a tab (${code})` : control[0] === '\n' || control[0] === '\r' ? `a line break (${code})` : `a control character (${code})`;
    throw new EffectError('permanent', `the URL contains ${name} at character ${control.index + 1} (from a value pasted into it?)`, { code: 'HTTP_BAD_URL' });
  }
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    throw new EffectError('permanent', whyNotAUrl(urlText), { code: 'HTTP_BAD_URL' });
  }
  // A fragment (`#…`) is never sent, so it is no part of the request: taken off here, it is neither recorded nor shown
  // as if it had been, nor kept after a query added below. What follows a `#` left unencoded is no part of the path or
  // the query either: in `http://u:7/X#frag@host/hook` or `…/x#?token=…` it may be a password's or a secret's rest.
  if (url.hash || urlText.includes('#')) {
    url.hash = '';
    seen.fragment = true;
  }
  // Shown (secrets masked) with a refusal from here on.
  seen.url = maskUrl(url);
  // A "." or ".." segment is resolved away by the parser (`/clients/../admin` is `/admin`): an id from the data pasted into
  // the path would then choose another address on the service than the one written. No service's URL needs one.
  const dot = dotSegment(urlText);
  if (dot !== undefined) {
    throw new EffectError('permanent', `the path has a ${JSON.stringify(dot)} segment, which would be resolved away and call another address than the one written (${quotedUrlText(urlText)}): a value pasted into the url (an id from the webhook?) may not be "." or ".."`, { code: 'HTTP_BAD_URL' });
  }
  // Port 0 parses, but nothing can be reached there: said now, rather than as a network failure retried three times.
  if (url.port === '0') throw new EffectError('permanent', `the port 0 is out of range (1–65535): ${JSON.stringify(seen.url)}`, { code: 'HTTP_BAD_URL' });
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new EffectError('permanent', `only http and https URLs can be requested, not ${url.protocol}`, { code: 'HTTP_BAD_URL' });
  if (url.username || url.password) throw new EffectError('permanent', 'the URL carries a user or password: give them in "auth" instead', { code: 'HTTP_BAD_URL' });
  return url;
}

/**
 * The first "." or ".." segment of the URL's path, read as the WHATWG parser reads it: tabs and line breaks anywhere
 * are dropped before parsing (`.\t.` is `..`), `%2e` counts as a dot, `\\` as a slash, and any number of slashes,
 * none included, may follow `http:` (`http:/crm.example.ru/a/..` and `http:crm.example.ru/a/..` parse as
 * `http://crm.example.ru/`).
 */
function dotSegment(urlText: string): string | undefined {
  const path = /^[a-z][a-z0-9+.-]*:[/\\]*[^/?#\\]*([^?#]*)/i.exec(urlText.replace(/[\t\n\r]/g, ''))?.[1] ?? '';
  return path.split(/[/\\]/).find((segment) => /^(?:\.|%2e){1,2}$/i.test(segment));
}

/**
 * A url that reads no variable, parameter or clock is the same on every run: one the client refuses (no http://, a
 * user and password in it) is reported at load time, at the url, with the URL to write instead.
 */
function checkConstantUrl(cx: CompileContext, url: CompiledExpression): void {
  const urlText = constantText(url)?.trim();
  if (urlText === undefined) return;
  try {
    requestUrl(urlText, {});
  } catch (e) {
    if (!(e instanceof EffectError)) throw e;
    cx.issue(['url'], 'E_INVALID_PROPERTY', `the url is refused on every run (HTTP_BAD_URL): ${e.message}`, constantUrlHint(urlText));
  }
}

/**
 * A url computed from variables whose value begins with a text written in it (`"crm.example.ru/api/" + [path]`): when
 * that text already settles a refusal (no http:// or https://, another scheme, a user and password), every run is
 * refused, and the load says so at the url, with the text corrected. A text that may still become http:// or
 * https:// (`"http" + [rest]`), or a url that starts with a variable (`[base] + "/x"`), is left to the run.
 */
function checkUrlStart(cx: CompileContext, url: CompiledExpression): void {
  const lead = url.leadingText;
  // The URL is trimmed before it is read: the literal's own leading spaces are no part of it.
  const text = lead?.value.trimStart() ?? '';
  if (!lead || text === '' || /[\u0000-\u001f\u007f]/.test(text)) return;
  const lower = text.toLowerCase();
  if ('http://'.startsWith(lower) || 'https://'.startsWith(lower)) return;
  // Where the URL's text starts in the source: after the literal's opening quote and leading spaces.
  const at = lead.start + 1 + (lead.value.length - text.length);
  // The url line's value with `cut` characters from `from` (in the URL's text) replaced by `insert`.
  const write = (from: number, cut: number, insert: string) => yamlSingleQuoted(url.source.slice(0, at + from) + insert + url.source.slice(at + from + cut));
  const refuse = (why: string, hint: string) => cx.issue(['url'], 'E_INVALID_PROPERTY', `the url is refused on every run (HTTP_BAD_URL): ${why}`, hint);
  const shown = quotedUrlText(text);
  const placeholder = envPlaceholder(text);
  if (placeholder) {
    // The literal's rest keeps the literal's own quotes ('…' or «…» as well as "…"): the text cannot contain them.
    const rest = text.slice(placeholder.written.length);
    const quoted = rest ? ` + ${url.source[lead.start]}${rest}${url.source[lead.end - 1]}` : '';
    const fixed = url.source.slice(0, lead.start) + `[${placeholder.variable}]${quoted}` + url.source.slice(lead.end).replace(/^\s*\+\s*/, ' + ');
    refuse(`it begins with ${shown}, not with http:// or https://`, placeholderHint(placeholder, `url: ${yamlSingleQuoted(fixed)}`));
    return;
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    refuse(`it begins with ${shown}, not with http:// or https://`, `write url: ${write(0, 0, 'https://')} (or http:// for a service without TLS)`);
    return;
  }
  if (scheme !== 'http' && scheme !== 'https') {
    refuse(`only http and https URLs can be requested, not ${scheme}:`, 'a WebRequest calls http:// and https:// URLs only');
    return;
  }
  // http://user:pw@…: the authority (up to the first / ? # or \\) holds a user or a password whatever follows.
  const authority = /^https?:\/\/([^/?#\\]*)/i.exec(text)?.[1] ?? '';
  const userInfo = authority.includes('@') ? authority.slice(0, authority.indexOf('@')) : '';
  if (userInfo !== '' && userInfo !== ':') {
    refuse(
      'the URL carries a user or password: give them in "auth" instead',
      `write the URL without them, url: ${write(text.indexOf('//') + 2, userInfo.length + 1, '')}, and give them as auth: { user: …, password: … }`,
    );
  }
}

/**
 * `${SHOP_URL}`, `{{SHOP_URL}}` or `$SHOP_URL` at the start of a url: how Node-RED, shells and templates write a value
 * from the environment, which nothing replaces here. The name written, and the variable to declare for it.
 */
function envPlaceholder(text: string): { written: string; name: string; variable: string } | undefined {
  const m = /^(?:\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}|\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}|\$([A-Za-z_][A-Za-z0-9_]*))/.exec(text);
  if (!m) return undefined;
  const name = (m[1] ?? m[2] ?? m[3])!.replace(/^env\./, '');
  const words = name.toLowerCase().split(/[_.]+/).filter(Boolean);
  const variable = words.map((w, i) => (i ? w[0]!.toUpperCase() + w.slice(1) : w)).join('') || 'base';
  return { written: m[0], name, variable };
}

function placeholderHint(p: { written: string; name: string; variable: string }, line: string): string {
  return `${p.written} is not replaced by anything here: declare a variable that takes the value from the environment, ${p.variable}: { type: string, env: ${p.name}, secret: false }, and begin the url with it: ${line}`;
}

/** The fix for a constant url the client refuses, as the url line to write when there is one. */
function constantUrlHint(urlText: string): string {
  const placeholder = envPlaceholder(urlText);
  if (placeholder) {
    const rest = urlText.slice(placeholder.written.length);
    const quoted = rest && (textLiteral(rest) ?? JSON.stringify(rest));
    return placeholderHint(placeholder, `url: ${yamlSingleQuoted(quoted ? `[${placeholder.variable}] + ${quoted}` : `[${placeholder.variable}]`)}`);
  }
  const write = (fixed: string) => (fixed.includes('"') ? undefined : yamlSingleQuoted(`"${fixed}"`));
  let url: URL | undefined;
  try {
    url = new URL(urlText);
  } catch {
    // crm.example.ru/api: the scheme left out.
    const https = /^[a-z][a-z0-9+.-]*:/i.test(urlText) ? undefined : `https://${urlText}`;
    if (https && URL.canParse(https) && write(https)) return `write url: ${write(https)} (or http:// for a service without TLS)`;
    return 'correct the URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'a WebRequest calls http:// and https:// URLs only';
  if (url.username || url.password) {
    url.username = '';
    url.password = '';
    const fixed = write(url.href);
    return fixed ? `write the URL without them, url: ${fixed}, and give them as auth: { user: …, password: … }` : 'give the user and password as auth: { user: …, password: … }, not in the URL';
  }
  return 'correct the URL';
}

/** Builds the request from the block's expressions; data is only ever encoded, never parsed as anything but text. */
function buildRequest(c: Config, rt: BlockRuntime, seen: { url?: string; fragment?: boolean }): WebRequestSpec {
  const text = (e: CompiledExpression) => toText(rt.evaluate(e), rt.timeZone);
  const url = requestUrl(text(c.url).trim(), seen);
  if (c.query.length) {
    const extra = c.query.map(([k, e]) => `${encodeURIComponent(k)}=${encodeURIComponent(text(e))}`).join('&');
    url.search = url.search ? `${url.search}&${extra}` : `?${extra}`;
    seen.url = maskUrl(url);
  }
  // What came after the `#` is not quoted: it may be the rest of a password or of a secret.
  if (seen.fragment) rt.traceNote(`the url has a "#": what follows it (a fragment) is not sent nor recorded, and the request goes to ${JSON.stringify(seen.url)} (a "#" in a value pasted into the url? write it %23)`);
  const headers: Record<string, string> = {};
  for (const [name, e] of c.headers) headers[name.toLowerCase()] = headerValue(name, text(e));
  if (c.auth) {
    // An empty credential (a token variable never filled in) sends no Authorization header rather than a bare
    // "Bearer", and says so in the trace: the service's 401 then has its explanation next to it.
    if ('bearer' in c.auth) {
      const token = text(c.auth.bearer);
      if (token) headers.authorization = `Bearer ${headerValue('auth.bearer', token)}`;
      else rt.traceNote('auth.bearer is empty: the request carries no Authorization header');
    } else {
      const user = text(c.auth.user);
      const password = text(c.auth.password);
      if (user || password) headers.authorization = `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
      else rt.traceNote('auth.user and auth.password are empty: the request carries no Authorization header');
    }
  }
  let body: Buffer | undefined;
  if (c.json) {
    body = Buffer.from(JSON.stringify(jsonOf(c.json, rt)), 'utf8');
    headers['content-type'] = 'application/json; charset=utf-8';
  } else if (c.form) {
    body = Buffer.from(c.form.map(([k, e]) => `${formEncode(k)}=${formEncode(text(e))}`).join('&'), 'utf8');
    headers['content-type'] = 'application/x-www-form-urlencoded';
  } else if (c.body) {
    body = Buffer.from(text(c.body), 'utf8');
    headers['content-type'] = c.contentType ?? 'text/plain; charset=utf-8';
  }
  if (c.idempotencyKey) headers['idempotency-key'] = idempotencyKey(rt.effectKey());
  const cookie = c.cookies ? cookieHeader(rt, url.hostname) : undefined;
  if (cookie) headers.cookie = cookie;
  return { method: c.method, url, headers, ...(body ? { body } : {}), timeoutMs: c.timeoutMs, maxRedirects: c.maxRedirects };
}

/**
 * Why text that `new URL` refused is not a URL, in the words of the part at fault: a port beyond 65535 is not a
 * "relative URL". The text did not parse, so the masking of parsed URLs cannot apply: what looks like a secret is
 * masked here.
 */
function whyNotAUrl(text: string): string {
  const shown = quotedUrlText(text);
  if (text === '') return 'the URL is empty';
  const parts = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(text);
  if (!parts) return `not an absolute URL: ${shown} (it must start with http:// or https://)`;
  // A login:password with a "/", "?" or "#" left unencoded: the parser's host and port are the login and part of the
  // password ("u:pa" of http://u:pa/ss@host), which are not named as a port here.
  if (absoluteUserinfo(text) && !parts[1]!.includes('@')) {
    return `the host of ${shown} cannot be read: a "/", "?" or "#" comes before its "@" (a password with one left unencoded? give the user and password in "auth")`;
  }
  const hostAndPort = parts[1]!.replace(/^.*@/, '');
  if (hostAndPort === '') return `the URL has no host: ${shown}`;
  const port = /^(?:\[[^\]]*\]|[^:]*):(.*)$/.exec(hostAndPort)?.[1];
  if (port) {
    if (!/^\d+$/.test(port)) return `the port ${JSON.stringify(port)} is not a number: ${shown}`;
    if (Number(port) < 1 || Number(port) > 65535) return `the port ${port.replace(/^0+(?=\d)/, '')} is out of range (1–65535): ${shown}`;
  }
  return `the host of ${shown} is not a valid host name or address`;
}

/**
 * A header value must stay on its line: CR or LF would start a header (or a request) of the data's choosing. HTTP
 * headers carry Latin-1 only, so Cyrillic text is refused too (with a hint), rather than failing deep in the client
 * as if the network were down.
 */
function headerValue(name: string, value: string): string {
  if (/[\r\n\u0000]/.test(value)) throw new EffectError('permanent', `the value of header ${name} contains a line break`, { code: 'HTTP_BAD_HEADER' });
  if (/[^\t\u0020-\u007e\u0080-\u00ff]/.test(value)) {
    throw new EffectError('permanent', `the value of header ${name} has characters a header cannot carry (Cyrillic, control characters): send such text in the body or the query`, { code: 'HTTP_BAD_HEADER' });
  }
  return value;
}

/** application/x-www-form-urlencoded: as encodeURIComponent, with spaces as "+". */
function formEncode(s: string): string {
  return encodeURIComponent(s).replace(/%20/g, '+');
}

/** A UUID-shaped key derived from the job and the step, so every retry of the job sends the same one. */
function idempotencyKey(stepKey: string): string {
  const h = createHash('sha256').update(stepKey).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** A value for a JSON body: numbers, booleans and null stay so, dates become ISO text, anything else text. */
function jsonOf(shape: CompiledShape, rt: BlockRuntime): JsonValue {
  if (isExpression(shape)) {
    const v: Value = rt.evaluate(shape);
    if (v === null || typeof v === 'number' || typeof v === 'boolean') return v;
    if (v instanceof Date) return v.toISOString();
    return toText(v, rt.timeZone);
  }
  return Object.fromEntries(Object.entries(shape).map(([k, s]) => [k, jsonOf(s, rt)]));
}

function isExpression(s: CompiledShape): s is CompiledExpression {
  return typeof (s as CompiledExpression).evaluate === 'function';
}

function answered(c: Config, rt: BlockRuntime, answer: WebAnswer): string {
  setAnswer(c, rt, answer);
  // Kept from the answer itself, so a replayed answer restores the cookies of a retried run too.
  if (c.cookies) keepCookies(rt, new URL(answer.url).hostname, answer.headers['set-cookie'], rt.clock.now());
  if (c.errorCode) rt.set(c.errorCode, '');
  return 'success';
}

function setAnswer(c: Config, rt: BlockRuntime, answer: WebAnswer) {
  if (c.status) rt.set(c.status, answer.status);
  if (c.responseBody) rt.set(c.responseBody, answer.body);
  if (c.responseHeaders) rt.set(c.responseHeaders, jsonText(answer.headers as JsonValue));
}

/**
 * The outcome shown for a request that failed, from its effect error kind: `error` for a refusal, `network error` for
 * a connection that failed with no answer at all (refused, reset, unknown host), `timeout` for no answer in time or an
 * outage answer (5xx, 408, 429). The last two both take the block's `timeout` exit, but a refused connection is not a
 * timeout, and the person reading why a request failed needs to tell them apart.
 */
export function httpFailureOutcome(kind: string, status: unknown): 'error' | 'network error' | 'timeout' | 'unknown' {
  if (kind === 'permanent') return 'error';
  if (kind === 'unknown') return 'unknown';
  return kind === 'transient' && (status === undefined || status === null) ? 'network error' : 'timeout';
}

/**
 * Records a request that got no answer, sets `errorCode`, and applies the one failure rule of blocks with side
 * effects: a refusal takes `error` (else the run fails for good); an outage (no answer, 5xx, 408, 429 after the
 * retries) takes `timeout` (else the run fails as retryable, to be tried again); an effect of unknown outcome takes no
 * exit (the run fails with R_EFFECT_UNKNOWN).
 */
function failed(c: Config, rt: BlockRuntime, e: EffectError, method: string, noAnswer: { url: string; ms: number } | undefined): string {
  if (noAnswer) {
    rt.recordHttpCall({
      method,
      url: noAnswer.url,
      ...(e.details.status ? { status: e.details.status } : {}),
      outcome: httpFailureOutcome(e.kind, e.details.status),
      // Sent and answered (a 5xx after the retries, say), though not with success; without a status no answer came.
      // A fixture's failure (its 500 or its timeout) was made up: nothing went out.
      performed: e.details.status !== undefined && !e.details.fixture,
      ...(e.details.fixture ? { fixture: true as const } : {}),
      // Every attempt waited for a free connection in vain: nothing went out, as the message says.
      ...(e.details.notSent ? { notSent: true as const } : {}),
      ...(e.details.attempts ? { attempts: e.details.attempts } : {}),
      ms: noAnswer.ms,
      error: e.message,
    });
  }
  if (c.errorCode) rt.set(c.errorCode, errorCodeOf(e));
  // A write the service may have made (its answer unreadable): no exit, which would go on as if it had failed or not
  // been made; the run fails with R_EFFECT_UNKNOWN and is not retried, as a database write whose answer is lost.
  if (e.kind === 'unknown') throw e;
  const exit = e.kind === 'permanent' ? 'error' : 'timeout';
  if (rt.hasExit(exit)) return exit;
  throw e;
}

/**
 * What `errorCode` gets: the status of an answer that was refused or outlasted the retries (`404`, `500`), else the
 * client's code (`HTTP_TIMEOUT`; `HTTP_TOO_LARGE` even though that answer has a status, which `status` holds).
 */
function errorCodeOf(e: EffectError): string | number {
  const { status, code } = e.details;
  if (status !== undefined && (code === undefined || code === 'HTTP_STATUS')) return status;
  return code ?? e.kind;
}

function attemptJson(a: WebAttempt): JsonValue {
  return { attempt: a.attempt, ms: a.ms, ...(a.status !== undefined ? { status: a.status } : {}), ...(a.error ? { error: a.error } : {}) };
}

/** An answer larger than this keeps only its size in the trace. */
const TRACE_ANSWER_LIMIT = 64 * 1024;

/**
 * What the request got, kept in the trace step: a recorded run then carries its answers, which is what
 * `oktell-emu test --from-run` turns into HTTP fixtures (the run record keeps the calls, not their answers).
 */
function answerForTrace(a: WebAnswer): { answer?: JsonValue; answerChars?: number } {
  if (a.body.length > TRACE_ANSWER_LIMIT) return { answerChars: a.body.length };
  const type = a.headers['content-type'];
  return { answer: { body: a.body, ...(typeof type === 'string' ? { contentType: type } : {}) } };
}

/** Text cut for traces and messages. */
function excerpt(text: string, max = 1000): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}

function asJson(a: WebAnswer): JsonValue {
  return a as unknown as JsonValue;
}
