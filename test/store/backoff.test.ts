// Retry delays: exponential, capped, jittered within bounds; and the retry/failed/dead decision.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { backoffDelay, decideRetry, DEFAULT_BACKOFF, type BackoffPolicy } from '../../server/store/backoff.js';

const EXACT: BackoffPolicy = { initialMs: 1000, factor: 2, maxMs: 10_000, jitter: 0 };

describe('backoffDelay', () => {
  const cases: Array<[attempt: number, delayMs: number]> = [
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 8000],
    [5, 10_000],
    [60, 10_000],
    [5000, 10_000],
  ];
  for (const [attempt, delayMs] of cases) {
    it(`waits ${delayMs} ms after failed attempt ${attempt} without jitter (doubling from 1 s, capped at 10 s)`, () => {
      assert.equal(backoffDelay(attempt, EXACT), delayMs);
    });
  }

  it('draws the jittered delay from [d·(1 − jitter), d]', () => {
    const policy = { ...EXACT, jitter: 0.5 };
    assert.equal(backoffDelay(3, policy, () => 0), 4000);
    assert.equal(backoffDelay(3, policy, () => 1), 2000);
    assert.equal(backoffDelay(3, policy, () => 0.5), 3000);
  });

  it('always stays within bounds and never grows past the cap, whatever the policy and randomness', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 60_000 }),
        fc.double({ min: 1, max: 10, noNaN: true }),
        fc.integer({ min: 1, max: 3_600_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempt, initialMs, factor, maxMs, jitter, r) => {
          const d = backoffDelay(attempt, { initialMs, factor, maxMs, jitter }, () => r);
          const base = Math.min(maxMs, initialMs * factor ** (attempt - 1));
          return Number.isFinite(d) && d >= Math.floor(base * (1 - jitter)) && d <= Math.ceil(base);
        },
      ),
    );
  });

  it('never shrinks from one attempt to the next when there is no jitter', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), (attempt) => backoffDelay(attempt + 1, { ...DEFAULT_BACKOFF, jitter: 0 }) >= backoffDelay(attempt, { ...DEFAULT_BACKOFF, jitter: 0 })),
    );
  });
});

describe('decideRetry', () => {
  const cases: Array<{ title: string; attempt: number; max: number; retryable: boolean; expected: ReturnType<typeof decideRetry> }> = [
    { title: 'a permanent failure is failed at once', attempt: 1, max: 5, retryable: false, expected: { retry: false, status: 'failed' } },
    { title: 'a transient failure with attempts left is retried', attempt: 2, max: 5, retryable: true, expected: { retry: true, delayMs: 2000 } },
    { title: 'a transient failure on the last attempt is dead', attempt: 5, max: 5, retryable: true, expected: { retry: false, status: 'dead' } },
    { title: 'a single-attempt job that fails transiently is dead', attempt: 1, max: 1, retryable: true, expected: { retry: false, status: 'dead' } },
  ];
  for (const c of cases) {
    it(c.title, () => assert.deepEqual(decideRetry(c.attempt, c.max, c.retryable, EXACT), c.expected));
  }
});
