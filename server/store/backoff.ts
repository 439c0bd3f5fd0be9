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

/**
 * The nominal retry schedule of a job that keeps failing as retryable: the delay before each attempt after the first
 * (jitter left out, which only shortens them), the time from the first attempt to the last (`windowMs`), and that
 * time at its shortest, every delay shortened by the whole jitter (`shortestWindowMs`). An outage shorter than the
 * shortest window is always ridden out; after the last attempt the job is a dead letter.
 */
export function retrySchedule(maxAttempts: number, policy: BackoffPolicy): { delaysMs: number[]; windowMs: number; shortestWindowMs: number } {
  const delaysMs = Array.from({ length: Math.max(0, maxAttempts - 1) }, (_, i) => backoffDelay(i + 1, { ...policy, jitter: 0 }));
  const windowMs = delaysMs.reduce((a, b) => a + b, 0);
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  return { delaysMs, windowMs, shortestWindowMs: Math.round(windowMs * (1 - jitter)) };
}

/**
 * What each attempt itself may spend before it fails, which the schedule above does not count: a SendMail's own tries
 * of the SMTP server (with their timeouts), Bpium's and WebRequest's retries inside one attempt. It depends on the
 * scenario (how many such blocks, their `timeout`s, loops), so it is named, not added up.
 */
export const ATTEMPT_TIME_TEXT = "the time the attempts themselves take (a SendMail's own SMTP tries, Bpium and WebRequest retries)";

/**
 * What the schedule means for an operator, one line: `16 attempts, waiting about 4 h 18 min in all between them (at
 * least 3 h 0 min with the jitter) plus the time the attempts themselves take (…), then a dead letter`. The start
 * log says it, so nobody has to add the delays up. Only the waits are a number: the first→last span is longer by what
 * the attempts take (operator trial L7: 4 attempts "over about 12 s" spanned 16 s, SendMail's SMTP tries included).
 */
export function retryWindowText(maxAttempts: number, policy: BackoffPolicy): string {
  const { windowMs, shortestWindowMs } = retrySchedule(maxAttempts, policy);
  if (maxAttempts <= 1) return '1 attempt, no retry: a job that fails as retryable is a dead letter at once';
  const jittered = shortestWindowMs < windowMs ? ` (at least ${spanText(shortestWindowMs)} with the jitter)` : '';
  return `${waitsText(maxAttempts, windowMs)}${jittered} plus ${ATTEMPT_TIME_TEXT}, then a dead letter`;
}

/**
 * The same, short, for a second schedule on the same line (the dead-letter catch-all's jobs): `5 attempts, waiting
 * about 2 min in all between them, then a dead letter` (the jitter and the attempts' own time are said by the first).
 */
export function retryWindowShortText(maxAttempts: number, policy: BackoffPolicy): string {
  if (maxAttempts <= 1) return '1 attempt, no retry';
  return `${waitsText(maxAttempts, retrySchedule(maxAttempts, policy).windowMs)}, then a dead letter`;
}

/** `16 attempts, waiting about 4 h 18 min in all between them`: the waits of the schedule, and that they are only the waits. */
function waitsText(maxAttempts: number, windowMs: number): string {
  return `${maxAttempts} attempts, waiting about ${spanText(windowMs)} in all between them`;
}

/** `0.7 s`, `16 min 33 s`, `4 h 18 min`: a span of time as an operator reads it. */
export function spanText(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
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

/**
 * The start warning when the retention (`OKTELL_RETENTION_DAYS`) is shorter than the retry window of the settings: a
 * job still queued or running keeps its webhook's inbox entry and its runs past the retention (see `prune`), but once
 * it ends they are already older than the retention and go at the next prune, and a resend of that webhook is no
 * longer a duplicate. Undefined when the retention is at least the window's waits; the attempts' own time is said to
 * come on top, as the start log says it, but not counted (it depends on the scenarios; with a retention in days, it
 * is seldom what decides).
 */
export function retentionWarning(retentionMs: number, maxAttempts: number, policy: BackoffPolicy): string | undefined {
  const { windowMs } = retrySchedule(maxAttempts, policy);
  if (retentionMs >= windowMs) return undefined;
  const days = (ms: number) => String(Number((ms / 86_400_000).toPrecision(6)));
  const atLeast = Math.ceil((windowMs / 86_400_000) * 10) / 10;
  return (
    `the retention (OKTELL_RETENTION_DAYS or retentionDays: ${days(retentionMs)} days, about ${spanText(retentionMs)}) is shorter than the retry window ` +
    `(${waitsText(maxAttempts, windowMs)}, plus the time the attempts themselves take): a job still retrying keeps its webhook's inbox entry and its runs, but once it ends ` +
    `(delivered or a dead letter) they are older than the retention and go at the next hourly prune, so the history of an outage goes as it ends and ` +
    `a resend of such a webhook runs again; set OKTELL_RETENTION_DAYS to at least ${atLeast}, or shorten the retries (OKTELL_MAX_ATTEMPTS, OKTELL_RETRY_MAX_DELAY_MS)`
  );
}
