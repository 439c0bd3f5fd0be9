// HTTP Basic authentication for scenario paths and the Web-API, compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { LoggerPort } from '../engine/ports.js';

export interface OktellUser {
  login: string;
  password: string;
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
  if (!header || !/^basic /i.test(header)) return undefined;
  let decoded: string;
  try {
    decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  } catch {
    return undefined;
  }
  if (decoded.indexOf(':') <= 0) return undefined;
  const sent = digest(decoded);
  let matched: string | undefined;
  for (const u of users) {
    if (timingSafeEqual(sent, userDigest(u)) && matched === undefined) matched = u.login;
  }
  return matched;
}

/**
 * Parses `OKTELL_USERS`: `user:password` pairs separated by commas (a password may contain ':', not ','). An entry
 * that is not a pair is named by its position, never by its text: after a comma inside a password, that text is
 * the rest of the password, and the message goes to the log.
 */
export function parseUsers(spec: string): OktellUser[] {
  const entries = spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  return entries.map((pair, n) => {
    const user = userPair(pair);
    if (user) return user;
    throw new Error(
      `OKTELL_USERS: entry ${n + 1} of ${entries.length} is not login:password (entries are separated by commas, so a password cannot contain one there; give such a user under users: in the config file)`,
    );
  });
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
 * Logs a refused login as a warning, so that password guessing stands out from traffic: the login tried (cut to 64
 * characters), never the password. A request with no credentials at all (a browser's first try, before it asks)
 * is not a refused login.
 */
export function logRefusedLogin(logger: LoggerPort, header: string | undefined, where: { path: string; ip: string | undefined }): void {
  if (!header) return;
  let login = '';
  if (/^basic /i.test(header)) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    login = decoded.slice(0, Math.max(0, decoded.indexOf(':'))).slice(0, 64);
  }
  logger.warn({ login, scheme: header.split(' ')[0]!.slice(0, 16), path: where.path, ip: where.ip }, 'login refused');
}

/** Express middleware: 401 with a Basic challenge unless the request carries valid credentials (a refusal is logged). */
export function basicAuth(users: () => readonly OktellUser[], realm = 'Oktell', logger?: LoggerPort) {
  return (req: Request, res: Response, next: NextFunction) => {
    const login = checkBasicAuth(req.headers.authorization, users());
    if (login === undefined) {
      if (logger) logRefusedLogin(logger, req.headers.authorization, { path: req.originalUrl.split('?')[0]!, ip: req.ip });
      res.status(401).set(BASIC_CHALLENGE_HEADER, basicChallenge(realm)).type('text/plain').send(UNAUTHORIZED_TEXT);
      return;
    }
    res.locals.user = login;
    next();
  };
}
