// Retry policy of the Bpium client: which failures are retried, exponential backoff with jitter, Retry-After.
import { NoFreeConnection } from '../http/exchange.js';

export interface RetryOptions {
  /** Total HTTP attempts for one call, the first included (1 = no retries). */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 3, baseDelayMs: 250, maxDelayMs: 4000 };

/**
 * Reads a Retry-After header: delta seconds (`"2"`) or an HTTP date. Returns milliseconds to wait (>= 0),
 * or undefined when absent or unreadable.
 * @example parseRetryAfter('2', Date.now()) // → 2000
 */
export function parseRetryAfter(header: string | null | undefined, nowMs: number): number | undefined {
  if (header === null || header === undefined) return undefined;
  const text = header.trim();
  if (text === '') return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** "Equal jitter" backoff before retry number `retry` (1-based): half the capped exponential, plus a random half. */
export function backoffDelay(retry: number, opts: RetryOptions, random: () => number = Math.random): number {
  const exp = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** Network error codes meaning the request never reached the server, so even a POST may be sent again. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

/** The system error code under a fetch failure (`TypeError: fetch failed` → cause.code), if any. */
export function networkErrorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^(E[A-Z_]+|UND_ERR_[A-Z_]+)$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * True when a network failure happened before any byte of the request reached Bpium: the connection was refused, the
 * name did not resolve, or no connection of the client's pool came free in time (NoFreeConnection).
 */
export function failedBeforeSending(err: unknown): boolean {
  if (err instanceof NoFreeConnection) return true;
  const code = networkErrorCode(err);
  return code !== undefined && NOT_SENT_CODES.has(code);
}
