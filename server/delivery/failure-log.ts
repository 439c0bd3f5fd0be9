// Logs a failure that repeats on every poll (the store refusing claims) without flooding: the first one in full,
// then one line per interval without the stack, and one line when it stops.
import type { LoggerPort } from '../../engine/index.js';

export interface FailureLog {
  /** The operation failed again. */
  failed(err: unknown): void;
  /** The operation worked: ends a run of failures (logged when there was one). */
  succeeded(): void;
  /**
   * Nothing is left to try (the heartbeat's jobs all ended): ends a run of failures with `why` (logged when there was
   * one), so the next failure, maybe days later, opens a spell of its own with a full first line.
   */
  ended(why: string): void;
}

/** Repeats of a failure are summarised every `intervalMs` (default one minute). */
export function repeatingFailureLog(
  logger: LoggerPort | undefined,
  message: { failing: string; recovered: string },
  intervalMs = 60_000,
  now: () => number = Date.now,
): FailureLog {
  let first = 0;
  let lastLogged = 0;
  let count = 0;
  let since = 0;
  return {
    failed(err) {
      count++;
      const t = now();
      if (count === 1) {
        first = lastLogged = t;
        since = 0;
        // The store saying it cannot take the call (full, busy, down) is told by its reason and message: its stack is
        // the store's own code, the same every time, and says nothing about the cause.
        // (By its name: one that crossed from the delivery thread is no longer an instance of the class.)
        logger?.warn(causeOf(err, true), message.failing);
        return;
      }
      since++;
      if (t - lastLogged < intervalMs) return;
      lastLogged = t;
      logger?.warn({ ...causeOf(err), failures: count, sinceMs: t - first }, `${message.failing} (still failing: ${since} more time(s) since the last line)`);
      since = 0;
    },
    succeeded() {
      if (count === 0) return;
      logger?.info({ failures: count, ms: now() - first }, `${message.recovered} after ${count} failure(s)`);
      count = 0;
    },
    ended(why) {
      if (count === 0) return;
      logger?.info({ failures: count, ms: now() - first }, `${why} after ${count} failure(s)`);
      count = 0;
    },
  };
}

/**
 * What a failure line says of its cause. The store saying it cannot take the call (full, busy, down) is told by its
 * reason (the kind) and message: its stack is the store's own code, the same every time, and says nothing about the
 * cause (known by its name: one that crossed from the delivery thread is no longer an instance of the class). Any
 * other error is given whole on a spell's first line (`err`, with its stack), by its message (`reason`) on the summaries.
 */
function causeOf(err: unknown, whole = false): Record<string, unknown> {
  if ((err as { name?: unknown } | null)?.name === 'StoreUnavailableError') return { reason: (err as { reason?: unknown }).reason, error: (err as Error).message };
  if (whole) return { err };
  return { reason: err instanceof Error ? err.message : String(err) };
}
