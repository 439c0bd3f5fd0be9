// /-/health's look at a store that can fall silent (PostgreSQL over the network): a round trip of its own, bounded
// by a short time, so a database that stopped answering shows within seconds instead of when the first webhook's
// store call gives up (the statement timeout plus 5 s).
import type { Store } from './store/store.port.js';

/**
 * How long `/-/health` waits for the store's answer to its probe before it answers `503` saying the store does not
 * answer: far above a round trip to a database that works. A balancer whose own check timeout is shorter (Kubernetes'
 * default is 1 s) counts the check failed by its timeout instead, to the same effect.
 */
export const HEALTH_STORE_MS = 3000;

/** The probe of one store: the problem to report, or undefined when the store answered. */
export type StoreProbe = () => Promise<string | undefined>;

/**
 * Probes with `store.ping()`, one probe in flight at a time: a health check while one is under way (a database that
 * hangs, health polled every second by several balancers) waits for that one's outcome, up to `ms` after it began,
 * instead of adding another. A probe that has not answered by then is reported as such, and goes on until the store
 * ends it (its own silence bound); the first check after it ended sends a new one. A store without `ping` has
 * nothing to probe.
 */
export function storeProbe(store: Store, ms = HEALTH_STORE_MS): StoreProbe {
  let inFlight: { startedAt: number; outcome: Promise<string | undefined> } | undefined;
  return async () => {
    if (!store.ping) return undefined;
    if (!inFlight) {
      const probe = {
        startedAt: performance.now(),
        outcome: store.ping().then(
          () => undefined,
          (err: unknown) => `the store's probe failed (${String((err as Error)?.message ?? err).slice(0, 200)}): the database refuses or cannot be reached, or every connection of the pool stayed busy; webhooks may be answered 503`,
        ),
      };
      inFlight = probe;
      void probe.outcome.then(() => {
        if (inFlight === probe) inFlight = undefined;
      });
    }
    const { startedAt, outcome } = inFlight;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), Math.max(0, startedAt + ms - performance.now()))));
    try {
      const out = await Promise.race([outcome, late]);
      if (out !== 'late') return out;
      const seconds = Math.round((performance.now() - startedAt) / 100) / 10;
      return `the store has not answered for ${seconds} s (a database that stopped answering, a network that drops packets, or every connection of the pool busy): webhooks wait for it, then are answered 503`;
    } finally {
      clearTimeout(timer);
    }
  };
}
