// Security of the web console: strict response headers, CSRF tokens bound to the login and its password, and same-origin checks on POSTs.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { crossSiteReason } from '../cross-site.js';

/** The policy of every console page: own scripts and styles only, no inline code, framing only of own letter views. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/**
 * The policy of a letter's HTML shown inside the console: a sandboxed opaque origin, no scripts, no remote images or
 * fonts (a letter must not call home when an operator reads it), inline styles allowed since letters rely on them.
 */
export const LETTER_CSP = ["default-src 'none'", "style-src 'unsafe-inline'", 'img-src data:', 'sandbox', "frame-ancestors 'self'", "base-uri 'none'", "form-action 'none'"].join('; ');

/** Express middleware: the console's security headers on every response (letter views override the CSP). */
export function consoleHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set({
    'Content-Security-Policy': CONSOLE_CSP,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'same-origin',
    'Cache-Control': 'no-store',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  });
  next();
}

/** The login a CSRF token is made for: its name and its password (the token changes when the password does). */
export interface CsrfLogin {
  login: string;
  password: string;
}

/**
 * CSRF tokens: an HMAC, with a server secret, of the Basic-auth login and a hash of its password. Browsers resend
 * Basic credentials to any page that posts to the console, so a POST must also prove it came from a console form (the
 * hidden token field). A new password gives the login new tokens: the old ones stop working with the old password.
 *
 * @example
 * const csrf = createCsrf(secret);
 * const token = csrf.tokenFor({ login: 'admin', password: 'pw' }); // put in <input type="hidden" name="csrf">
 * csrf.verify({ login: 'admin', password: 'pw' }, token) // true
 */
export function createCsrf(secret: string) {
  const tokenFor = (user: CsrfLogin) => {
    // The password enters as its hash, so the HMAC input never holds it in clear.
    const passwordHash = createHash('sha256').update(`${user.login}:${user.password}`, 'utf8').digest('hex');
    return createHmac('sha256', secret).update(`oktell-console-csrf\0${user.login}\0${passwordHash}`, 'utf8').digest('base64url');
  };
  return {
    tokenFor,
    verify(user: CsrfLogin | undefined, token: unknown): boolean {
      if (!user || typeof token !== 'string' || token.length === 0 || token.length > 200) return false;
      const expected = Buffer.from(tokenFor(user), 'utf8');
      const given = Buffer.from(token, 'utf8');
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}
export type Csrf = ReturnType<typeof createCsrf>;

/**
 * Express middleware for POSTs: refuses (403) a request from another site (Sec-Fetch-Site / Origin) or without the
 * login's CSRF token in the `csrf` form field. Runs after body parsing and Basic auth (`res.locals.oktellUser`).
 */
export function requireSameOrigin(csrf: Csrf) {
  return (req: Request, res: Response, next: NextFunction) => {
    const reason = crossSiteReason(req);
    const user = res.locals.oktellUser as CsrfLogin | undefined;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const refusal = reason ?? (csrf.verify(user, body.csrf) ? undefined : 'the form token is missing or wrong (reload the page and try again)');
    if (refusal) {
      res.status(403).type('text/plain').send(`403 Forbidden: ${refusal}\n`);
      return;
    }
    next();
  };
}
