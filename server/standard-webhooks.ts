// Webhooks signed by the Standard Webhooks scheme (standardwebhooks.com; Svix and the providers that send through it):
// headers `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<Base64 HMAC-SHA256>` of
// `<id>.<timestamp>.<raw body>`, several space-separated), under a secret written `whsec_<Base64 key>`. A path whose
// configured secret has that form is checked by this scheme instead of Bpium's X-Hook-Signature (docs/configuration.md,
// "Webhook signatures"); its deliveries are deduplicated by `webhook-id`.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The prefix that marks a secret of the Standard Webhooks scheme. */
export const STANDARD_SECRET_PREFIX = 'whsec_';

/** How far a timestamp may be from the server's clock, either way, when no freshness window is configured (the scheme's 5 minutes). */
export const STANDARD_TOLERANCE_MS = 5 * 60_000;

/** Whether a configured webhook secret selects the Standard Webhooks scheme. */
export const isStandardSecret = (secret: string): boolean => secret.startsWith(STANDARD_SECRET_PREFIX);

/**
 * Why a configured `whsec_` secret cannot be used (its key is not Base64, or is empty), or undefined when it can.
 * Checked at start, so a secret pasted with a character missing stops the server instead of refusing every webhook.
 */
export function standardSecretProblem(secret: string): string | undefined {
  const key = secret.slice(STANDARD_SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || key.replace(/=+$/, '').length % 4 === 1) {
    return `a secret that starts with ${STANDARD_SECRET_PREFIX} (the Standard Webhooks scheme) must go on with the key in Base64, as the provider shows it (letters, digits, + and /, = at the end), and this one does not: copy it again whole; a Bpium secret must not start with whsec_`;
  }
  return undefined;
}

/** The signed request's parts the check reads. */
export interface StandardSigned {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
  body: Buffer;
}

/** A refusal: `why` goes into the 401 and the log, `stored` into the inbox entry. */
export interface StandardRefusal {
  why: string;
  stored: string;
}

/** The `v1` signature of a message under a `whsec_` secret, as a provider sends it (for tests and senders). */
export function signStandardWebhook(secret: string, id: string, timestamp: string, body: Buffer | string): string {
  return `v1,${hmac(secret, id, timestamp, body).toString('base64')}`;
}

function hmac(secret: string, id: string, timestamp: string, body: Buffer | string): Buffer {
  const key = Buffer.from(secret.slice(STANDARD_SECRET_PREFIX.length), 'base64');
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

/**
 * Checks a Standard Webhooks request: the three headers present, a `v1` signature among those sent that matches
 * (compared in constant time), and the timestamp within `toleranceMs` of `now`, either way. Undefined when it passes.
 * The signature is checked before the timestamp, so an unsigned request learns nothing of the window.
 */
export function checkStandardWebhook(secret: string, req: StandardSigned, now: number, toleranceMs: number): StandardRefusal | undefined {
  const missing = (['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const).filter((_, i) => !([req.id, req.timestamp, req.signature][i] ?? '').trim());
  if (missing.length) return { why: `the Standard Webhooks header(s) ${missing.join(', ')} are missing`, stored: 'invalid signature' };
  const id = req.id!.trim();
  const timestamp = req.timestamp!.trim();
  const expected = hmac(secret, id, timestamp, req.body);
  const matches = req.signature!.trim().split(/\s+/).some((entry) => {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') return false;
    const given = Buffer.from(entry.slice(comma + 1), 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) return { why: 'webhook-signature does not match (no v1 signature of webhook-id, webhook-timestamp and the body under this path\'s secret)', stored: 'invalid signature' };
  const limit = `the limit is ${toleranceMs / 60_000} minute(s)`;
  if (!/^\d{1,12}$/.test(timestamp)) return { why: `webhook-timestamp is not Unix seconds and ${limit}`, stored: 'no timestamp' };
  const skewMs = now - Number(timestamp) * 1000;
  if (Math.abs(skewMs) <= toleranceMs) return undefined;
  const minutes = Math.round(Math.abs(skewMs) / 60_000);
  return { why: `webhook-timestamp is ${skewMs > 0 ? `${minutes} minute(s) old` : `${minutes} minute(s) in the future`}; ${limit}`, stored: 'stale timestamp' };
}

/** Message ids longer than this (once encoded) are named by their hash in a dedup key. */
const ID_KEY_LIMIT = 128;
/** Routes longer than this are named by their hash, as in Bpium's keys. */
const ROUTE_KEY_LIMIT = 200;

/**
 * The dedup key of a verified Standard Webhooks delivery: `webhook:<webhook-id>@<route>`. The provider sends the same
 * id with every retry of a message, and the signature covers it, so only the holder of the secret can claim one. The
 * id is URI-encoded (it holds no `@` or `#` then) and hashed when long.
 */
export function standardDeliveryKey(id: string, route: string): string {
  const encoded = encodeURIComponent(id.trim());
  const idPart = encoded.length <= ID_KEY_LIMIT ? encoded : `sha256:${sha256(id.trim())}`;
  const routePart = route.length <= ROUTE_KEY_LIMIT ? route : `sha256:${sha256(route)}`;
  return `webhook:${idPart}@${routePart}`;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
