// Retry delays for failed jobs: exponential growth with jitter, capped. Pure: randomness comes in as an argument.

export interface BackoffPolicy {
  /** Delay before the second attempt, before jitter. */
  initialMs: number;
  /** Growth per attempt. */
  factor: number;
  /** Upper bound of any delay, before jitter. */
  maxMs: number;
  /**
   * Share of the delay that is random, 0..1: the delay is drawn from [d·(1 − jitter), d]. 0 means exact delays;
   * some jitter keeps jobs that failed together (a Bpium outage) from retrying in lockstep.
   */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 2_000, factor: 3, maxMs: 30 * 60_000, jitter: 0.3 };

/**
 * Delay before the next attempt after `attempt` attempts have failed (attempt ≥ 1).
 *
 * @example backoffDelay(1, { initialMs: 1000, factor: 2, maxMs: 60000, jitter: 0 }) // 1000
 *          backoffDelay(3, { initialMs: 1000, factor: 2, maxMs: 60000, jitter: 0 }) // 4000
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(attempt));
  // Math.pow can overflow to Infinity for large n; min() with maxMs keeps it finite.
  const base = Math.min(policy.maxMs, policy.initialMs * Math.pow(policy.factor, n - 1));
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(base * (1 - jitter * r));
}

/** What happens after a failed attempt: retry at a time, or stop as `failed` (permanent) or `dead` (exhausted). */
export type RetryDecision = { retry: true; delayMs: number } | { retry: false; status: 'failed' | 'dead' };

/**
 * Decides the fate of a job whose attempt number `attempt` (1-based) of `maxAttempts` just failed. `'dead-letter'`:
 * a retry could repeat an effect whose outcome is unknown (a letter the SMTP server went silent on), so the job stops
 * at once as `dead`, for someone to check and replay.
 */
export function decideRetry(
  attempt: number,
  maxAttempts: number,
  retryable: boolean | 'dead-letter',
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): RetryDecision {
  if (retryable === 'dead-letter') return { retry: false, status: 'dead' };
  if (!retryable) return { retry: false, status: 'failed' };
  if (attempt >= maxAttempts) return { retry: false, status: 'dead' };
  return { retry: true, delayMs: backoffDelay(attempt, policy, random) };
}
