// Client-side sliding-window limiter: at most N requests in any window of W ms; callers wait in FIFO order, never fail.

export interface RateLimiterOptions {
  requests: number;
  perMs: number;
  now?: () => number;
}

/** Rejects with the signal's reason when `signal` aborts during the wait. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Grants request slots so that no window of `perMs` holds more than `requests` grants (Bpium cloud: 100 per 30 s).
 * @example const limiter = new SlidingWindowLimiter({ requests: 100, perMs: 30_000 }); await limiter.take();
 */
export class SlidingWindowLimiter {
  /** How many times a caller had to wait for a slot (observability and tests). */
  waits = 0;
  private readonly stamps: number[] = [];
  private tail: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly opts: RateLimiterOptions) {
    if (!Number.isInteger(opts.requests) || opts.requests < 1 || !(opts.perMs > 0)) {
      throw new RangeError('rate limit needs requests >= 1 and perMs > 0');
    }
    this.now = opts.now ?? Date.now;
  }

  /** Resolves when the caller may send one request. */
  take(signal?: AbortSignal): Promise<void> {
    const turn = this.tail.then(() => this.acquire(signal));
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  private async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const t = this.now();
      while (this.stamps.length > 0 && (this.stamps[0] ?? 0) <= t - this.opts.perMs) this.stamps.shift();
      if (this.stamps.length < this.opts.requests) {
        this.stamps.push(t);
        return;
      }
      this.waits++;
      await sleep((this.stamps[0] ?? t) + this.opts.perMs - t, signal);
    }
  }
}
