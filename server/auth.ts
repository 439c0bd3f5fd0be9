// HTTP Basic authentication for scenario paths and the Web-API, compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { LoggerPort } from '../engine/ports.js';
import { loggedTarget, printable, targetFields, type LoggedTarget } from './log-target.js';
import { closeUnreadBody } from './request-body.js';

/**
 * What a login may use: `hook` (webhooks to any other path), `api` (the Web-API and /-/tasks), `console` (the web
 * console, its actions included), `view` (the web console read-only: every page, no replay, run now or dry run). A
 * webhook sender's login is kept in a third party's settings, so it should have `hook` alone: with `api` it could
 * start any scenario with parameters of its choosing, including those a signed hook route protects.
 */
export type Right = 'hook' | 'api' | 'console' | 'view';
export const RIGHTS: readonly Right[] = ['hook', 'api', 'console', 'view'];
/** The rights of a login given none: all but `view`, which `console` includes. */
const DEFAULT_RIGHTS: readonly Right[] = ['hook', 'api', 'console'];

export interface OktellUser {
  login: string;
  password: string;
  /** What the login may use; absent = hook, api and console (configurations written before rights existed keep working). */
  rights?: readonly Right[];
}

/** A user's rights: the ones given, or hook, api and console when none are. */
export function rightsOf(u: OktellUser): readonly Right[] {
  return u.rights ?? DEFAULT_RIGHTS;
}

/** Whether the login has `right`; `console` (the console with its actions) includes `view` (the console read-only). */
export function hasRight(u: OktellUser, right: Right): boolean {
  const rights = rightsOf(u);
  return rights.includes(right) || (right === 'view' && rights.includes('console'));
}

/** What each right opens, for refusals. */
const RIGHT_PLACE: Record<Right, string> = { hook: 'send webhooks', api: 'use the Web-API', console: 'change anything in the console', view: 'use the console' };

/** The 403 answer's text for a login without the right a route needs. */
export function forbiddenText(user: OktellUser, right: Right): string {
  return `403 Forbidden: login ${user.login} may not ${RIGHT_PLACE[right]} (its rights: ${rightsOf(user).join(', ')})\n`;
}

/** The first user that may send webhooks (the embedded emulator and `webhook send` post with it), else the first. */
export function hookUser<U extends OktellUser>(users: readonly U[]): U | undefined {
  return users.find((u) => hasRight(u, 'hook')) ?? users[0];
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

// The users' own digests of `login:password`, made once per user object instead of on every request.
const known = new WeakMap<OktellUser, Buffer>();
function userDigest(u: OktellUser): Buffer {
  let d = known.get(u);
  if (!d) known.set(u, (d = digest(`${u.login}:${u.password}`)));
  return d;
}

/**
 * Checks an `Authorization: Basic …` header against the users. The decoded `login:password` is hashed once and
 * compared with every user's digest (no early exit), over fixed-length digests, so timing tells nothing about which
 * user or which part was wrong. A login cannot contain ':' (Basic authentication splits at the first one, and so
 * does `parseUsers`), so comparing the whole pair is the same as comparing login and password.
 */
export function checkBasicAuth(header: string | undefined, users: readonly OktellUser[]): string | undefined {
  return authenticate(header, users)?.login;
}

/** The user whose credentials the header carries (see checkBasicAuth), or undefined. */
export function authenticate(header: string | undefined, users: readonly OktellUser[]): OktellUser | undefined {
  if (!header || !/^basic /i.test(header)) return undefined;
  let decoded: string;
  try {
    decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  } catch {
    return undefined;
  }
  if (decoded.indexOf(':') <= 0) return undefined;
  const sent = digest(decoded);
  let matched: OktellUser | undefined;
  for (const u of users) {
    if (timingSafeEqual(sent, userDigest(u)) && matched === undefined) matched = u;
  }
  return matched;
}

/**
 * Parses `OKTELL_USERS`: `user:password` pairs separated by commas (a password may contain ':', not ','), each login
 * optionally followed by its rights in brackets, `bpium[hook]:secret` or `ops[api+console]:other`. An entry that is
 * not a pair is named by its position, never by its text: after a comma inside a password, that text is the rest of
 * the password, and the message goes to the log.
 */
export function parseUsers(spec: string): OktellUser[] {
  const entries = spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  return entries.map((pair, n) => {
    const user = userPair(pair);
    const where = `OKTELL_USERS: entry ${n + 1} of ${entries.length}`;
    if (!user) {
      throw new Error(
        `${where} is not login:password (entries are separated by commas, so a password cannot contain one there; give such a user under users: in the config file)`,
      );
    }
    const m = /^([^[\]]+)\[([^\]]*)\]$/.exec(user.login);
    if (!m) return user;
    const rights = parseRights(m[2]!.split('+'), `${where} (login ${m[1]})`);
    return { login: m[1]!, password: user.password, rights };
  });
}

/** Rights by name (`hook`, `api`, `console`, `view`), each once; an unknown name is an error that lists the known ones. */
export function parseRights(names: readonly string[], where: string): Right[] {
  const rights: Right[] = [];
  for (const raw of names) {
    const name = raw.trim().toLowerCase();
    if (!name) continue;
    if (!(RIGHTS as readonly string[]).includes(name)) {
      throw new Error(`${where}: "${raw.trim().slice(0, 20)}" is not a right; the rights are ${RIGHTS.join(', ')} (joined with + in OKTELL_USERS, e.g. bpium[hook]:password)`);
    }
    if (!rights.includes(name as Right)) rights.push(name as Right);
  }
  if (!rights.length) throw new Error(`${where}: no rights given; the rights are ${RIGHTS.join(', ')}`);
  return rights;
}

/** One `login:password` (the login holds no ':', the password may), or undefined when the text is not that. */
export function userPair(text: string): OktellUser | undefined {
  const i = text.indexOf(':');
  return i <= 0 || i === text.length - 1 ? undefined : { login: text.slice(0, i), password: text.slice(i + 1) };
}

export const BASIC_CHALLENGE_HEADER = 'WWW-Authenticate';
export const basicChallenge = (realm = 'Oktell') => `Basic realm="${realm}", charset="UTF-8"`;
export const UNAUTHORIZED_TEXT = '401 Unauthorized: valid Oktell credentials are required\n';

/**
 * Logs a refused login as a warning, so that password guessing stands out from traffic. The login tried is named
 * only when it is a configured login: a client that puts the password (or a token) in the user part — `curl -u
 * 'PASSWORD:'`, a password typed into the browser's user field — would otherwise have it logged in clear; an unknown
 * login is logged as its length only. Any text from the request is logged with its control characters escaped, so
 * it cannot drive the operator's terminal. A request with no credentials at all (a browser's first try, before it
 * asks) is not a refused login.
 */
export function logRefusedLogin(logger: LoggerPort, header: string | undefined, where: LoggedTarget & { ip: string | undefined }, users: readonly OktellUser[] = []): void {
  if (!header) return;
  let login = '';
  if (/^basic /i.test(header)) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const tried = decoded.slice(0, Math.max(0, decoded.indexOf(':')));
    login = !tried ? '' : users.some((u) => u.login === tried) ? printable(tried) : `(unknown, ${[...tried].length} chars)`;
  }
  logger.warn({ login, scheme: loggedScheme(header), ...targetFields(where), ip: where.ip }, 'login refused');
}

/**
 * The authentication schemes a refused login's scheme is logged by (the IANA registry's, and NTLM), lower case; a
 * header whose first word is none of them is logged as its length only.
 */
const KNOWN_SCHEMES = new Map(
  ['Basic', 'Bearer', 'Concealed', 'Digest', 'DPoP', 'GNAP', 'HOBA', 'Mutual', 'Negotiate', 'NTLM', 'OAuth', 'PrivateToken', 'SCRAM-SHA-1', 'SCRAM-SHA-256', 'vapid', 'AWS4-HMAC-SHA256'].map((s) => [s.toLowerCase(), s]),
);

/**
 * The scheme of an `Authorization` header for the log: the first word when it is a known scheme, in its usual
 * spelling; anything else as `(other, N chars)`, since a client that sends a bare token or API key (`Authorization:
 * <token>`) would otherwise have its beginning logged.
 */
export function loggedScheme(header: string): string {
  const word = header.trim().split(/\s/)[0]!;
  return KNOWN_SCHEMES.get(word.toLowerCase()) ?? `(other, ${[...word].length} chars)`;
}

/** Logs a login refused for lacking the right a route needs (with the login: it is a configured one). */
export function logForbidden(logger: LoggerPort, user: OktellUser, right: Right, where: LoggedTarget & { ip: string | undefined }): void {
  logger.warn({ login: printable(user.login), right, ...targetFields(where), ip: where.ip }, 'login lacks the right');
}

export { printable };

/** What basicAuth needs besides the users to refuse guessing: see login-throttle.ts. */
export interface GuessThrottle {
  /** Seconds to wait when the client is refused without a check, else undefined; `count` false: only asks. */
  refusal(ip: string | undefined, header: string | undefined, count?: boolean): number | undefined;
  /** A login that succeeded: its header is still checked from that address while the address is throttled. */
  succeeded(ip: string | undefined, header: string | undefined): void;
  /** A refused login: counted and logged. */
  failed(ip: string | undefined, header: string | undefined, where: LoggedTarget, users: readonly OktellUser[]): void;
}

/** What a request's credentials came to: refused by the throttle (wait so many seconds), refused, or this login. */
export type LoginCheck = { throttled: number; user?: undefined } | { throttled?: undefined; user: OktellUser | undefined };

/**
 * The login a request's Authorization header makes, the throttle of failed logins consulted first (past its limit,
 * no check at all) and told the outcome; a refused login is logged (by the throttle, which bounds its lines, when there
 * is one). The express routes (basicAuth) and the hook's own listener both decide so.
 */
export function checkLogin(header: string | undefined, users: readonly OktellUser[], where: LoggedTarget & { ip: string | undefined }, logger?: LoggerPort, throttle?: GuessThrottle): LoginCheck {
  const throttled = throttle?.refusal(where.ip, header);
  if (throttled !== undefined) return { throttled };
  const user = authenticate(header, users);
  if (user === undefined) {
    if (throttle) throttle.failed(where.ip, header, targetFields(where), users);
    else if (logger) logRefusedLogin(logger, header, where, users);
  } else {
    throttle?.succeeded(where.ip, header);
  }
  return { user };
}

/** The 429 answer's text for a client refused by the throttle of failed logins. */
export function throttledText(retryAfterS: number): string {
  return `429 Too Many Requests: too many failed logins from this address; try again in ${retryAfterS} s\n`;
}

/**
 * Express middleware: 401 with a Basic challenge unless the request carries valid credentials (a refusal is logged);
 * 403 when the login lacks `right` (when one is given); with a `throttle`, 429 with Retry-After, before any check, for
 * a client past its failed logins. A refusal closes the connection when the request's body is not read (see
 * closeUnreadBody).
 */
export function basicAuth(
  users: () => readonly OktellUser[],
  realm = 'Oktell',
  logger?: LoggerPort,
  right?: Right,
  throttle?: GuessThrottle,
  /** The 401 as a page, for a browser opening one (the console's): `send` answers it instead of the text. */
  page401?: { wanted: (req: Request) => boolean; send: (res: Response) => void },
) {
  return (req: Request, res: Response, next: NextFunction) => {
    const target = loggedTarget(req.originalUrl);
    const { throttled, user } = checkLogin(req.headers.authorization, users(), { ...target, ip: req.ip }, logger, throttle);
    if (throttled !== undefined) {
      closeUnreadBody(req, res);
      unloggedAnswers.add(res);
      res.status(429).set('Retry-After', String(throttled)).type('text/plain').send(throttledText(throttled));
      return;
    }
    if (user === undefined) {
      closeUnreadBody(req, res);
      res.status(401).set(BASIC_CHALLENGE_HEADER, basicChallenge(realm));
      // The page or the text is chosen by the Accept header: a cache (a proxy's, the browser's) must not give a script
      // the page or a browser the text it stored for the other.
      if (page401) res.vary('Accept');
      if (page401?.wanted(req)) page401.send(res);
      else res.type('text/plain').send(UNAUTHORIZED_TEXT);
      return;
    }
    if (right && !hasRight(user, right)) {
      if (logger) logForbidden(logger, user, right, { ...target, ip: req.ip });
      closeUnreadBody(req, res);
      res.status(403).type('text/plain').send(forbiddenText(user, right));
      return;
    }
    res.locals.user = user.login;
    // The console asks it whether the login may act or only look.
    res.locals.oktellUser = user;
    next();
  };
}

/** Answers that write no `request` log line: requests refused by the throttle, which its summary line counts instead. */
export const unloggedAnswers = new WeakSet<object>();
