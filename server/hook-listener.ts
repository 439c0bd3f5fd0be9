// The hook route on node:http. Every request that is not for the server's own routes (/-/…, the Web-API) is a
// webhook for HTTP404, and the most frequent request there is; answering it here skips express's router, its
// request and response wrappers and body-parser, which cost about as much CPU as the rest of the acknowledgement.
// Anything unusual (a compressed body, an absolute-form address) goes to the express app, which answers the same
// way through the same `answerHook`.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { format as formatType, parse as parseType } from 'content-type';
import { lookup as lookupType } from 'mime-types';
import proxyaddr from 'proxy-addr';
import type express from 'express';
import type { AppDeps } from './app.js';
import { authenticate, BASIC_CHALLENGE_HEADER, basicChallenge, checkLogin, forbiddenText, hasRight, logForbidden, throttledText, UNAUTHORIZED_TEXT, unloggedAnswers } from './auth.js';
import { crossSiteOf, crossSiteRefusal, SCENARIO_ANSWER_HEADERS } from './cross-site.js';
import { answerHook, textAnswer, type HookAnswer } from './hook.js';
import { levelEnabled } from './log-format.js';
import { loggedTarget, type LoggedTarget } from './log-target.js';
import { budgetFor, budgetRefusal, holdFor } from './body-budget.js';
import { closeUnreadBody, declaredOver, receiveBody } from './request-body.js';
import { noteServerCut, serverCutReason } from './server-cut.js';

type Trust = (address: string, hop: number) => boolean;

/** Own routes, lower-cased (express matches paths case-insensitively): these always go to express. */
const OWN_PREFIXES = ['/-/', '/execsvcscript'];

/** The server's request listener: the hook here, everything else to `app`. */
export function hookListener(d: AppDeps, app: express.Express): RequestListener {
  const trust = app.get('trust proxy fn') as Trust;
  return (req, res) => {
    const url = req.url ?? '/';
    // While the server stops (it keeps listening during the grace period), every answer closes its connection, so
    // a client's next request opens a new one, to another instance or to this one once it is back.
    if (!d.accepting()) res.setHeader('Connection', 'close');
    if (!takesFastPath(req, url)) {
      (app as unknown as ExpressHandle).handle(req, res, (err) => unrouted(d, req, res, url, trust, err));
      return;
    }
    const path = pathOf(url);
    // What the log lines name the request by: its path and query names, never a query value (log-target.ts).
    const target = loggedTarget(url);
    const method = req.method ?? 'GET';
    let runId: string | undefined;
    let delivery: string | undefined;
    // Worked out when first needed (a refused login, the throttle, the run, a log line), then kept.
    let from: string | undefined;
    const ip = () => (from ??= proxyaddr(req, trust));
    observeRequest(d, method, target, ip, res, () => runId, () => delivery);
    for (const [k, v] of Object.entries(SCENARIO_ANSWER_HEADERS)) res.setHeader(k, v);
    // A refusal here comes before the body is read: one the request declares is not read on (closeUnreadBody).
    const { throttled, user } = checkLogin(req.headers.authorization, d.users(), { ...target, ip: ip() }, d.logger, d.throttle);
    if (throttled !== undefined) {
      closeUnreadBody(req, res);
      unloggedAnswers.add(res);
      writeAnswer(res, textAnswer(429, throttledText(throttled), { 'Retry-After': String(throttled) }), method);
      return;
    }
    if (user === undefined) {
      closeUnreadBody(req, res);
      writeAnswer(res, textAnswer(401, UNAUTHORIZED_TEXT, { [BASIC_CHALLENGE_HEADER]: basicChallenge() }), method);
      return;
    }
    if (!hasRight(user, 'hook')) {
      logForbidden(d.logger, user, 'hook', { ...target, ip: ip() });
      closeUnreadBody(req, res);
      writeAnswer(res, textAnswer(403, forbiddenText(user, 'hook')), method);
      return;
    }
    const header = (name: string) => headerValue(req, name);
    const crossSite = hookCrossSite(req, trust);
    if (crossSite) {
      closeUnreadBody(req, res);
      writeAnswer(res, textAnswer(403, crossSiteRefusal(crossSite)), method);
      return;
    }
    // Charged to the budget of all connections and to this login's share of it (the login is known: auth came first).
    const take = holdFor(budgetFor(d.config), res, user.login).take;
    // The one reader of bodies (request-body.ts), uncompressed here: a declared length over the limit is refused
    // before a byte is read.
    receiveBody(req, undefined, d.config.bodyLimitBytes, take, (body) => {
      if (body === 'aborted' || body === 'undecodable') return;
      // The reader stops at a refusal; the hook drains what the client still sends until its answer closes the
      // connection.
      if (typeof body === 'string') req.resume();
      // A refusal closes the connection gently (closeUnreadBody): the client still sending its body reads the answer
      // instead of a reset (fetch failed with EPIPE on most 413s).
      if (body === 'over-budget') {
        closeUnreadBody(req, res);
        const refusal = budgetRefusal(res);
        d.metrics.response(503);
        d.logger.warn({ ...target, ip: ip(), login: user.login }, refusal.log);
        writeAnswer(res, textAnswer(503, refusal.text, refusal.headers), method);
        return;
      }
      if (body === 'too-large') {
        // Closing the connection spares reading the rest of a body nobody will use.
        closeUnreadBody(req, res);
        d.metrics.response(413);
        logHookTooLarge(d, { ...target, ip: ip(), login: user.login });
        writeAnswer(res, textAnswer(413, refusalText(413, `the limit is ${d.config.bodyLimitBytes} bytes`), { Connection: 'close' }), method);
        return;
      }
      answerHook(d, { method, url, path, rawHeaders: req.rawHeaders, header, ip: ip() ?? null, login: user.login, body, clientGone: () => req.socket.destroyed }).then(
        (a) => {
          runId = a.runId;
          delivery = a.deliveryKey;
          writeAnswer(res, a, method);
        },
        (err: unknown) => {
          d.logger.error({ err, method, ...target }, 'unexpected error');
          if (!res.headersSent) writeAnswer(res, textAnswer(500, '500 Internal Server Error\n'), method);
          else {
            noteServerCut(req.socket, 'an unexpected error broke off the answer');
            res.destroy();
          }
        },
      );
    });
  };
}

/** express's `app.handle` (untyped), which takes the final handler in place of its own (finalhandler). */
interface ExpressHandle {
  handle(req: IncomingMessage, res: ServerResponse, done: (err?: unknown) => void): void;
}

/**
 * The end of a request express's router passed on unanswered: one whose target it cannot read as a path (an
 * absolute-form target its URL parser refuses, `POST http://[::1/hook`) is handed to the final handler before any
 * middleware runs, so its own handler answered 404 with an HTML page, and neither the request line nor
 * /-/metrics saw it. It is answered 404 here, in plain text, logged as any request (its path by loggedTarget) and
 * counted as the hook's answers are. An error (none is expected: the app's error handler answers them all) gets a 500.
 */
function unrouted(d: AppDeps, req: IncomingMessage, res: ServerResponse, url: string, trust: Trust, err: unknown): void {
  const method = req.method ?? 'GET';
  const target = loggedTarget(url);
  if (err !== undefined) {
    // Seen by observeRequest already: the router's first middleware ran to have an error to pass on.
    d.logger.error({ err, method, ...target }, 'unexpected error');
    if (res.headersSent) res.destroy();
    else writeAnswer(res, textAnswer(500, '500 Internal Server Error\n'), method);
    return;
  }
  observeRequest(d, method, target, () => proxyaddr(req, trust), res, () => undefined);
  d.metrics.response(404);
  writeAnswer(res, textAnswer(404, '404 Not Found: the request target cannot be read as an address\n'), method);
}

/** The status phrases of the body refusals worded from their reasons (`refusalText`). */
const REFUSAL_PHRASES = { 400: 'Bad Request', 413: 'Payload Too Large' } as const;
export type RefusalStatus = keyof typeof REFUSAL_PHRASES;

/** The plain text of a body refusal, here and in express's error handler: `413 Payload Too Large: <reason>\n`. */
export function refusalText(status: RefusalStatus, reason: string): string {
  return `${status} ${REFUSAL_PHRASES[status]}: ${reason}\n`;
}

/**
 * The warning for a webhook refused for its size. The request line alone says `status=413` at info level, while the
 * webhook is lost: nothing of it is stored, Bpium never sends a refused webhook again (a task with a long description
 * or many files is one such body), and another provider's retries meet the same limit, so the operator is told which
 * setting refused it, without naming Bpium as the only sender.
 */
export function logHookTooLarge(d: AppDeps, fields: LoggedTarget & { ip: string | undefined; login: string | undefined }): void {
  const limit = d.config.bodyLimitBytes;
  d.logger.warn(
    { ...fields, limit },
    `webhook refused with 413: its body is over the limit of ${limit} bytes (OKTELL_BODY_LIMIT, bodyLimit: in the configuration file); nothing of it was stored, so it is lost unless its sender sends it again (Bpium never does; a provider that retries gets 413 each time): raise the limit if such bodies are expected`,
  );
}

/**
 * node:http's `checkContinue` handler, for a request that sends `Expect: 100-continue`. Without it node answers
 * `100 Continue` at once, inviting the body before anything is checked. Here a request the server would refuse
 * without reading its body (no valid credentials anywhere but /-/health; on the hook route also a declared
 * Content-Length over the limit or a cross-site browser request) gets its refusal alone, with `Connection: close` so
 * the connection does not wait for a body the client was told nothing about; any other request is told to go on
 * and then handled as usual (`listener`: the hook here, the express routes otherwise).
 */
export function continueChecked(d: AppDeps, app: express.Express, listener: RequestListener): RequestListener {
  const trust = app.get('trust proxy fn') as Trust;
  return (req, res) => {
    if (refusedBeforeBody(d, req, trust)) res.setHeader('Connection', 'close');
    else res.writeContinue();
    listener(req, res);
  };
}

/** Health needs no credentials for GET and HEAD (express matches its path ignoring case and a trailing slash). */
const HEALTH_PATH = /^\/-\/health\/?$/i;

/** Whether the request is answered with a refusal before its body is read (see continueChecked). */
function refusedBeforeBody(d: AppDeps, req: IncomingMessage, trust: Trust): boolean {
  const url = req.url ?? '/';
  if ((req.method === 'GET' || req.method === 'HEAD') && HEALTH_PATH.test(pathOf(url))) return false;
  // A client past its failed logins is refused before its password is checked: a 100 Continue would tell it right.
  if (d.throttle?.refusal(proxyaddr(req, trust), req.headers.authorization, false) !== undefined) return true;
  const user = authenticate(req.headers.authorization, d.users());
  if (user === undefined) return true;
  if (!takesFastPath(req, url)) return false;
  return !hasRight(user, 'hook') || declaredOver(req, d.config.bodyLimitBytes) || hookCrossSite(req, trust) !== undefined;
}

/** Why the hook refuses a browser's request not made by this server's pages (see crossSiteOf), or undefined. */
function hookCrossSite(req: IncomingMessage, trust: Trust) {
  return crossSiteOf((name) => headerValue(req, name), protocolOf(req, trust));
}

/** The path of a request's address: up to a query or a fragment (as express's `req.path`). */
export function pathOf(url: string): string {
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

function takesFastPath(req: IncomingMessage, url: string): boolean {
  if (url.charCodeAt(0) !== 47 /* / */) return false;
  const lower = url.toLowerCase();
  if (OWN_PREFIXES.some((p) => lower.startsWith(p))) return false;
  const encoding = req.headers['content-encoding'];
  return encoding === undefined || encoding.toLowerCase() === 'identity';
}

/** One header's value as express's `req.get` gives it (a repeated header joined by commas). */
function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** http or https, from the socket or, behind a trusted proxy, from X-Forwarded-Proto (as express's `req.protocol`). */
function protocolOf(req: IncomingMessage, trust: Trust): string {
  const own = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  if (!trust(req.socket.remoteAddress ?? '', 0)) return own;
  const forwarded = headerValue(req, 'x-forwarded-proto') ?? own;
  const comma = forwarded.indexOf(',');
  return (comma === -1 ? forwarded : forwarded.slice(0, comma)).trim();
}

/**
 * Writes an answer as express's `res.send` does for a string: the media type with `charset=utf-8`, Content-Length,
 * no body for HEAD, and no body nor body headers for 204 and 304.
 */
export function writeAnswer(res: ServerResponse, a: Omit<HookAnswer, 'runId'>, method: string): void {
  res.statusCode = a.status;
  for (const [k, v] of Object.entries(a.headers)) res.setHeader(k, v);
  if (a.status === 204 || a.status === 304) {
    res.end();
    return;
  }
  const body = Buffer.from(a.body, 'utf8');
  res.setHeader('Content-Type', utf8Type(a.contentType));
  res.setHeader('Content-Length', body.length);
  res.end(method === 'HEAD' ? undefined : body);
}

const typeCache = new Map<string, string>();

/**
 * The media type with its charset set to utf-8, as express's `res.type` + `res.send` make it: a bare extension such as
 * `json` or `html` is looked up; a type that does not parse becomes text/plain.
 */
export function utf8Type(type: string): string {
  let out = typeCache.get(type);
  if (out === undefined) {
    try {
      const parsed = parseType(type.includes('/') ? type : lookupType(type) || 'text/plain');
      out = formatType({ type: parsed.type, parameters: { ...parsed.parameters, charset: 'utf-8' } });
    } catch {
      out = 'text/plain; charset=utf-8';
    }
    if (typeCache.size < 100) typeCache.set(type, out);
  }
  return out;
}

const PROBES = new Set(['/-/health', '/-/metrics']);

/** The last status each probe path answered, per server (its metrics object). */
const probeStatuses = new WeakMap<object, Map<string, number>>();

/**
 * A probe's answer at info when it differs from the one before (the first failure, a failure of another kind, the
 * first success after failures), else at debug: a probe every few seconds during an outage writes one line, not one
 * per probe. A first answer that succeeds is debug.
 */
function probeLevel(server: object, path: string, status: number): 'debug' | 'info' {
  let seen = probeStatuses.get(server);
  if (seen === undefined) probeStatuses.set(server, (seen = new Map()));
  const before = seen.get(path) ?? 200;
  seen.set(path, status);
  return status === before || (status < 400 && before < 400) ? 'debug' : 'info';
}

/**
 * Counts the request in flight until it ends and writes its log line (method, path and the query's names as
 * loggedTarget gives them, status, duration, client address, the hook run's id, and a webhook's Bpium delivery key as
 * `delivery`, so that the delivery a sender's log names is found by a search of this log).
 */
export function observeRequest(d: Pick<AppDeps, 'metrics' | 'logger'>, method: string, target: LoggedTarget, ip: () => string | undefined, res: ServerResponse, runId: () => string | undefined, deliveryKey: () => string | undefined = () => undefined): void {
  const t0 = performance.now();
  d.metrics.inFlight++;
  let counted = true;
  const settled = () => {
    if (counted) d.metrics.inFlight--;
    counted = false;
  };
  // Kept now: the socket is the one the request came on, whoever closes it.
  const socket = res.socket;
  res.on('close', () => {
    settled();
    // The connection closed before the whole answer was sent: no 'finish', so without this line the request would
    // leave no trace in the log. Most often the client closed it (a caller's own timeout during a synchronous Web-API
    // run, a hook sender giving up); the run it started is not stopped by it: the line names the run, which `show`
    // follows. When the server cut it (a body that did not arrive within the request timeout, answered 408; a stop's
    // deadline), the line says so and why, not that the client ended it.
    if (res.writableFinished || unloggedAnswers.has(res) || !levelEnabled(d.logger, 'info')) return;
    const id = runId();
    const key = deliveryKey();
    const line = { method, ...target, ms: Math.round((performance.now() - t0) * 100) / 100, ip: ip(), ...(id ? { runId: id } : {}), ...(key ? { delivery: key } : {}) };
    const cutBy = serverCutReason(socket);
    if (cutBy !== undefined) d.logger.info({ ...line, cutByServer: cutBy }, `request cut off by the server before its answer was sent (${cutBy})`);
    else d.logger.info({ ...line, clientGone: true }, 'request ended by the client before its answer was sent');
  });
  res.on('finish', () => {
    settled();
    // A request the throttle of failed logins refused is counted in its summary line instead (login-throttle.ts).
    if (unloggedAnswers.has(res)) return;
    // Probes (a load balancer's health check every few seconds, a metrics scrape) are debug but when their answer
    // changes: at info they would bury the traffic, and failing ones the outage an operator reads the log for. A line
    // that would not be written is not made (the client's address included).
    const level = PROBES.has(target.path) ? probeLevel(d.metrics, target.path, res.statusCode) : 'info';
    if (!levelEnabled(d.logger, level)) return;
    const id = runId();
    const key = deliveryKey();
    d.logger[level]({ method, ...target, status: res.statusCode, ms: Math.round((performance.now() - t0) * 100) / 100, ip: ip(), ...(id ? { runId: id } : {}), ...(key ? { delivery: key } : {}) }, 'request');
  });
}
