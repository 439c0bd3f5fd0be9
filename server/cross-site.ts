// Browsers resend cached Basic credentials to any page that asks, so a request a browser made for another site must
// not run a scenario. Servers that send webhooks or call the Web-API send neither Sec-Fetch-Site nor Origin.
import type { NextFunction, Request, Response } from 'express';
import { closeUnreadBody } from './request-body.js';

/**
 * Why a request looks like a browser's request made by something other than this server's own pages, or undefined
 * when it may proceed: `Sec-Fetch-Site` other than `same-origin`, or, from a browser that sends no `Sec-Fetch-Site`
 * (an old one, or a plain-http page not on localhost), an `Origin` other than this server's own (`null` included). `Sec-Fetch-Site: none` is refused too: browsers send it for an address typed into the address bar, but
 * also for a link opened from a mail client, a messenger or a PDF — which, with the console open (its Basic login
 * cached), would run a scenario with the parameters of whoever wrote the link.
 */
export function crossSiteReason(req: Request): string | undefined {
  return crossSiteOf((name) => req.get(name), req.protocol);
}

/** `crossSiteReason` over any request: its headers by lower-case name and the protocol it came by. */
export function crossSiteOf(header: (name: string) => string | undefined, protocol: string): string | undefined {
  const site = header('sec-fetch-site');
  if (site === 'none') return 'Sec-Fetch-Site is "none": an address typed into a browser or a link opened from another program; call the Web-API and the hook from a program such as curl, or use the console';
  if (site !== undefined && site !== 'same-origin') return `Sec-Fetch-Site is "${site.slice(0, 40)}"`;
  // The browser itself says the request comes from a page of the address it goes to, and no page can write this
  // header. Its Origin is not compared with the server's own: behind a reverse proxy that ends TLS, or listens on
  // another port, or passes `Host $host` without the port, the server sees http and a Host without the port, while
  // the browser's Origin says https://name:port, and every form of the console would be refused.
  if (site === 'same-origin') return undefined;
  const origin = header('origin');
  if (origin !== undefined) {
    const own = `${protocol}://${header('host') ?? ''}`;
    if (origin.toLowerCase() !== own.toLowerCase()) return `Origin ${origin.slice(0, 100)} is not this server`;
  }
  return undefined;
}

/** The 403 answer's text for a cross-site request. */
export function crossSiteRefusal(reason: string): string {
  return `403 Forbidden: a browser request from another site or program (${reason.replace(/[^\x20-\x7e]/g, '?')})\n`;
}

/** Express middleware for the Web-API and the hook: 403 for a browser's request not made by this server's pages. */
export function refuseCrossSite(req: Request, res: Response, next: NextFunction): void {
  const reason = crossSiteReason(req);
  if (reason) {
    closeUnreadBody(req, res);
    res.status(403).type('text/plain').send(crossSiteRefusal(reason));
    return;
  }
  next();
}

/** Headers of every answer that carries run results or metrics. */
export const NO_STORE_HEADERS = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' } as const;

/**
 * Headers of the hook's and the Web-API's answers, whose body a scenario writes: besides no-store and nosniff, a CSP
 * that puts any HTML a scenario returns (with request data in it, perhaps) in an opaque origin with no scripts, no
 * loads and no framing, so it can never act on the console, which shares this origin. Programs that read these
 * answers (webhook senders, curl, 1C) ignore the CSP; a browser still shows text, JSON and plain HTML.
 */
export const SCENARIO_ANSWER_HEADERS = {
  ...NO_STORE_HEADERS,
  'Content-Security-Policy': "sandbox; default-src 'none'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
} as const;

/** Express middleware: answers that carry run results or metrics are never cached nor content-sniffed. */
export function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.set(NO_STORE_HEADERS);
  next();
}

/** Express middleware for the hook and the Web-API: `noStore` plus the sandboxing CSP (SCENARIO_ANSWER_HEADERS). */
export function scenarioAnswer(_req: Request, res: Response, next: NextFunction): void {
  res.set(SCENARIO_ANSWER_HEADERS);
  next();
}
