// HTTP Basic authentication for scenario paths and the Web-API, compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

export interface OktellUser {
  login: string;
  password: string;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

// The users' own digests, made once per user object instead of on every request.
const known = new WeakMap<OktellUser, { login: Buffer; password: Buffer }>();
function userDigests(u: OktellUser): { login: Buffer; password: Buffer } {
  let d = known.get(u);
  if (!d) known.set(u, (d = { login: digest(u.login), password: digest(u.password) }));
  return d;
}

/**
 * Checks an `Authorization: Basic …` header against the users. Every user is compared (no early exit on the login)
 * over fixed-length digests, so timing tells nothing about which part was wrong.
 */
export function checkBasicAuth(header: string | undefined, users: readonly OktellUser[]): string | undefined {
  if (!header || !/^basic /i.test(header)) return undefined;
  let decoded: string;
  try {
    decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const login = digest(decoded.slice(0, colon));
  const password = digest(decoded.slice(colon + 1));
  let matched: string | undefined;
  for (const u of users) {
    const known = userDigests(u);
    const loginOk = timingSafeEqual(login, known.login);
    const passwordOk = timingSafeEqual(password, known.password);
    if (loginOk && passwordOk && matched === undefined) matched = u.login;
  }
  return matched;
}

/** Parses `OKTELL_USERS`: `user:password` pairs separated by commas (a password may contain ':'). */
export function parseUsers(spec: string): OktellUser[] {
  return spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((pair) => {
      const i = pair.indexOf(':');
      if (i <= 0 || i === pair.length - 1) throw new Error(`OKTELL_USERS: "${pair.slice(0, Math.max(0, i)) || pair.slice(0, 20)}…" is not user:password`);
      return { login: pair.slice(0, i), password: pair.slice(i + 1) };
    });
}

export const BASIC_CHALLENGE_HEADER = 'WWW-Authenticate';
export const basicChallenge = (realm = 'Oktell') => `Basic realm="${realm}", charset="UTF-8"`;
export const UNAUTHORIZED_TEXT = '401 Unauthorized: valid Oktell credentials are required\n';

/** Express middleware: 401 with a Basic challenge unless the request carries valid credentials. */
export function basicAuth(users: () => readonly OktellUser[], realm = 'Oktell') {
  return (req: Request, res: Response, next: NextFunction) => {
    const login = checkBasicAuth(req.headers.authorization, users());
    if (login === undefined) {
      res.status(401).set(BASIC_CHALLENGE_HEADER, basicChallenge(realm)).type('text/plain').send(UNAUTHORIZED_TEXT);
      return;
    }
    res.locals.user = login;
    next();
  };
}
