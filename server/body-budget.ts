// A budget for request body bytes held in memory across all connections. Each body is capped (OKTELL_BODY_LIMIT),
// but nothing capped their sum: a holder of a valid login could open many connections, send nearly a whole body on
// each and stall, and the server kept every byte. Past the budget a request is answered 503 with Retry-After.
// Within it, one login may hold at most its share (OKTELL_BODY_BUDGET_PER_LOGIN): else that same login, stalling
// enough bodies, would spend the whole budget and every other sender would get 503 until its uploads timed out.
import type { ServerResponse } from 'node:http';

/** Which budget refused a body: the one of all connections, or the share of one login. */
export type BudgetRefusal = 'budget' | 'login';

/** What one login holds: its bytes, and its requests that hold a part of the budget (the entry goes with the last). */
interface LoginHold {
  bytes: number;
  requests: number;
}

/** Bytes of request bodies held at once, by every request of one server, and by each login within that. */
export class BodyBudget {
  private held = 0;
  /** Logins holding a part of the budget right now; an entry is removed when the last request of its login ends. */
  private readonly byLogin = new Map<string, LoginHold>();
  /** Requests refused because the budget was spent (for /-/metrics): counted by `holdFor`, once per request. */
  refused = 0;
  /** Requests refused because their login's share was spent (for /-/metrics): counted by `holdFor`, once per request. */
  refusedPerLogin = 0;
  /** `perLogin`: the most one login may hold (the whole budget when not given). */
  constructor(
    readonly limit: number,
    readonly perLogin: number = limit,
  ) {}

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

  /** Logins with a request holding a part of the budget now (the map keeps no login that holds nothing). */
  get loginsHolding(): number {
    return this.byLogin.size;
  }

  /** Bytes `login` holds now. */
  heldBy(login: string): number {
    return this.byLogin.get(login)?.bytes ?? 0;
  }

  /** The entry of `login`, made when it holds nothing yet; one more request of it counted (see `leave`). */
  enter(login: string): LoginHold {
    let entry = this.byLogin.get(login);
    if (entry === undefined) this.byLogin.set(login, (entry = { bytes: 0, requests: 0 }));
    entry.requests++;
    return entry;
  }

  /** A request of `login` gives back its `n` bytes; the login's entry goes with its last request. */
  leave(login: string, entry: LoginHold, n: number): void {
    entry.bytes = Math.max(0, entry.bytes - n);
    if (--entry.requests <= 0) this.byLogin.delete(login);
  }
}

/** The default budget: 64 MiB, or room for two bodies of the largest size allowed when that is more. */
export function defaultBodyBudget(bodyLimitBytes: number): number {
  return Math.max(64 * 1024 * 1024, 2 * bodyLimitBytes);
}

/** The default share of one login: half the budget, but never less than one body of the largest size allowed. */
export function defaultLoginShare(budgetBytes: number, bodyLimitBytes: number): number {
  return Math.min(budgetBytes, Math.max(Math.floor(budgetBytes / 2), bodyLimitBytes));
}

/** Seconds a client is asked to wait when the budget is spent: bodies in flight end within a request timeout. */
export const BUDGET_RETRY_AFTER_S = 5;

const BUDGET_REFUSAL_REASON = 'the server is receiving too many request bodies at once (OKTELL_BODY_BUDGET); retry later';

const LOGIN_SHARE_REFUSAL_REASON = "this login is sending too many request bodies at once, more than its share of the server's budget (OKTELL_BODY_BUDGET_PER_LOGIN); retry later";

const refusals = new WeakMap<ServerResponse, BudgetRefusal>();

/**
 * The 503 for the request `res` answers, whose body the budget refused: its reason (a Web-API answer's return value),
 * its plain text (`503 Service Unavailable: <reason>\n`), headers and the log line's message, naming the budget of all
 * connections or the share of the request's login, whichever refused (noted by its hold's `take`). The one place both
 * body readers (the hook's node:http route and express's) take their refusal from.
 */
export function budgetRefusal(res: ServerResponse): { reason: string; text: string; headers: Record<string, string>; log: string } {
  const headers = { 'Retry-After': String(BUDGET_RETRY_AFTER_S), Connection: 'close' };
  const login = refusals.get(res) === 'login';
  const reason = login ? LOGIN_SHARE_REFUSAL_REASON : BUDGET_REFUSAL_REASON;
  const log = login ? 'request refused: the share of request bodies one login may hold at once is spent (OKTELL_BODY_BUDGET_PER_LOGIN)' : 'request refused: the budget for request bodies held at once is spent (OKTELL_BODY_BUDGET)';
  return { reason, text: `503 Service Unavailable: ${reason}\n`, headers, log };
}

/**
 * A hold on the budget for one request of `login`, given back when its answer is finished or its connection closes
 * (the body stays in memory until then: the scenario reads it and the store writes it). Each chunk is charged to the
 * login's share and to the budget of all; the login's entry is looked up once, at the first chunk, so a request
 * without a body costs no look-up. A refusal is noted for budgetRefusal.
 */
export function holdFor(budget: BodyBudget, res: ServerResponse, login: string): { take(n: number): boolean } {
  let held = 0;
  let released = false;
  let entry: LoginHold | undefined;
  res.once('close', () => {
    released = true;
    budget.give(held);
    if (entry !== undefined) budget.leave(login, entry, held);
    held = 0;
  });
  return {
    take(n: number): boolean {
      if (released) return true;
      entry ??= budget.enter(login);
      // A refused take ends the request's body (it is answered 503): one refusal per request. Past both, the budget
      // of all connections is named (so with a share of the whole budget, nothing changes for a single login).
      const overShare = entry.bytes + n > budget.perLogin;
      if (!overShare && budget.take(n)) {
        held += n;
        entry.bytes += n;
        return true;
      }
      const refusal = overShare && budget.inUse + n <= budget.limit ? 'login' : 'budget';
      if (refusal === 'login') budget.refusedPerLogin++;
      else budget.refused++;
      refusals.set(res, refusal);
      return false;
    },
  };
}

/**
 * The login of a request the server's Basic auth let in (`res.locals.user`, express), whose share of the budget its
 * body is charged to. Every express route that reads a body is behind that auth; without a login (a router mounted
 * some other way) such bodies share one entry.
 */
export function loginOf(res: { locals: Record<string, unknown> }): string {
  return typeof res.locals.user === 'string' ? res.locals.user : '';
}

const budgets = new WeakMap<object, BodyBudget>();

/** The budget of one server, by its configuration (the hook route and the express routes share it). */
export function budgetFor(config: { bodyLimitBytes: number; bodyBudgetBytes?: number; bodyBudgetPerLoginBytes?: number }): BodyBudget {
  let b = budgets.get(config);
  if (!b) {
    const limit = config.bodyBudgetBytes ?? defaultBodyBudget(config.bodyLimitBytes);
    budgets.set(config, (b = new BodyBudget(limit, config.bodyBudgetPerLoginBytes ?? defaultLoginShare(limit, config.bodyLimitBytes))));
  }
  return b;
}
