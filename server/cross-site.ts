// Browsers resend cached Basic credentials to any page that asks, so a request a browser made for another site must
// not run a scenario. Servers that send webhooks or call the Web-API send neither Sec-Fetch-Site nor Origin.
import type { NextFunction, Request, Response } from 'express';

/**
 * Why a request looks like a browser's cross-site request, or undefined when it may proceed: `Sec-Fetch-Site` other
 * than `same-origin` (and `none`, a typed address or bookmark, where `allowTyped`), or an `Origin` other than this
 * server's own (`null` included).
 */
export function crossSiteReason(req: Request, opts: { allowTyped?: boolean } = {}): string | undefined {
  return crossSiteOf((name) => req.get(name), req.protocol, opts);
}

/** `crossSiteReason` over any request: its headers by lower-case name and the protocol it came by. */
export function crossSiteOf(header: (name: string) => string | undefined, protocol: string, opts: { allowTyped?: boolean } = {}): string | undefined {
  const site = header('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && !(opts.allowTyped && site === 'none')) return `Sec-Fetch-Site is "${site.slice(0, 40)}"`;
  const origin = header('origin');
  if (origin !== undefined) {
    const own = `${protocol}://${header('host') ?? ''}`;
    if (origin.toLowerCase() !== own.toLowerCase()) return `Origin ${origin.slice(0, 100)} is not this server`;
  }
  return undefined;
}

/** The 403 answer's text for a cross-site request. */
export function crossSiteRefusal(reason: string): string {
  return `403 Forbidden: a browser request from another site (${reason.replace(/[^\x20-\x7e]/g, '?')})\n`;
}

/** Express middleware for the Web-API and the hook: 403 for a browser's request made by another site. */
export function refuseCrossSite(req: Request, res: Response, next: NextFunction): void {
  const reason = crossSiteReason(req, { allowTyped: true });
  if (reason) {
    res.status(403).type('text/plain').send(crossSiteRefusal(reason));
    return;
  }
  next();
}

/** Headers of every answer that carries run results or metrics. */
export const NO_STORE_HEADERS = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' } as const;

/** Express middleware: answers that carry run results or metrics are never cached nor content-sniffed. */
export function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.set(NO_STORE_HEADERS);
  next();
}
