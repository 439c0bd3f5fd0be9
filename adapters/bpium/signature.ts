// Signs and checks Bpium webhook bodies: X-Hook-Signature = Base64(HMAC-MD5(secret, raw body bytes)) (docs/bpium.md, "Webhook signatures").
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Length of a Base64-encoded MD5 digest (16 bytes → 24 characters, two of them `=` padding). */
const SIGNATURE_PATTERN = /^[A-Za-z0-9+/]{22}==$/;

/**
 * Computes the `X-Hook-Signature` value Bpium sends with a webhook whose raw body is `rawBody`.
 * @example signBpiumBody('s3cret', '{"hook":{}}') // → 'q1...==' (24 characters)
 */
export function signBpiumBody(secret: string, rawBody: Buffer | string): string {
  return createHmac('md5', secret).update(rawBody).digest('base64');
}

/**
 * True when `header` is the signature of exactly these body bytes under `secret`. Compares in constant time;
 * a missing, empty or malformed header is simply false (never throws).
 * @example verifyBpiumSignature(secret, req.rawBody, req.get('x-hook-signature'))
 */
export function verifyBpiumSignature(secret: string, rawBody: Buffer, header: string | undefined): boolean {
  if (typeof header !== 'string') return false;
  const given = header.trim();
  if (!SIGNATURE_PATTERN.test(given)) return false;
  const expected = Buffer.from(signBpiumBody(secret, rawBody), 'base64');
  const actual = Buffer.from(given, 'base64');
  if (actual.length !== expected.length) return false;
  return timingSafeEqual(actual, expected);
}
