// A budget for request body bytes held in memory across all connections. Each body is capped (OKTELL_BODY_LIMIT),
// but nothing capped their sum: a holder of a valid login could open many connections, send nearly a whole body on
// each and stall, and the server kept every byte. Past the budget a request is answered 503 with Retry-After.
import type { ServerResponse } from 'node:http';

/** Bytes of request bodies held at once, by every request of one server. */
export class BodyBudget {
  private held = 0;
  /** Requests refused because the budget was spent (for /-/metrics): counted by `holdFor`, once per request. */
  refused = 0;
  constructor(readonly limit: number) {}

  /** Takes `n` bytes, or nothing (false) when that would pass the limit. */
  take(n: number): boolean {
    if (this.held + n > this.limit) return false;
    this.held += n;
    return true;
  }

  give(n: number): void {
    this.held = Math.max(0, this.held - n);
  }

  get inUse(): number {
    return this.held;
  }
}

/** The default budget: 64 MiB, or room for two bodies of the largest size allowed when that is more. */
export function defaultBodyBudget(bodyLimitBytes: number): number {
  return Math.max(64 * 1024 * 1024, 2 * bodyLimitBytes);
}

/** Seconds a client is asked to wait when the budget is spent: bodies in flight end within a request timeout. */
export const BUDGET_RETRY_AFTER_S = 5;

export const BUDGET_REFUSAL_TEXT = '503 Service Unavailable: the server is receiving too many request bodies at once (OKTELL_BODY_BUDGET); retry later\n';

/**
 * A hold on the budget for one request, given back when its answer is finished or its connection closes (the body
 * stays in memory until then: the scenario reads it and the store writes it).
 */
export function holdFor(budget: BodyBudget, res: ServerResponse): { take(n: number): boolean } {
  let held = 0;
  let released = false;
  res.once('close', () => {
    released = true;
    budget.give(held);
    held = 0;
  });
  return {
    take(n: number): boolean {
      if (released) return true;
      // A refused take ends the request's body (it is answered 503): one refusal per request.
      if (!budget.take(n)) {
        budget.refused++;
        return false;
      }
      held += n;
      return true;
    },
  };
}

const budgets = new WeakMap<object, BodyBudget>();

/** The budget of one server, by its configuration (the hook route and the express routes share it). */
export function budgetFor(config: { bodyLimitBytes: number; bodyBudgetBytes?: number }): BodyBudget {
  let b = budgets.get(config);
  if (!b) budgets.set(config, (b = new BodyBudget(config.bodyBudgetBytes ?? defaultBodyBudget(config.bodyLimitBytes))));
  return b;
}
