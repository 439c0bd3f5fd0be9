// Deliveries whose HTTP404 run is under way in this process, by delivery key. A resend of one arriving meanwhile
// waits for it to settle rather than running HTTP404 a second time: once the first is stored, the resend is its
// duplicate; if the first was refused (503) or failed, the resend runs as if it were first.
// Across processes (several servers on one PostgreSQL) nothing is shared: the store's unique key is the backstop.
import type { DeliveryOriginal, Store } from './store/store.port.js';

/**
 * The most keys held at once. Only requests being answered hold one (and the body budget already bounds those), so
 * this is a guard, not a working limit: past it a key is not held, and the store alone decides on a duplicate.
 */
export const IN_FLIGHT_KEY_LIMIT = 10_000;

/** Per store: servers in one process sharing a store (tests) also share what is in flight against it. */
const inFlight = new WeakMap<Store, Map<string, Promise<void>>>();

/**
 * How long a copy waits for another copy of its delivery to be settled before it is refused with a 503 (the sender
 * retries later and is then answered from the store). A hook run is usually over in milliseconds; this bounds the
 * wait behind one that hangs on the outside world, and the queue of copies behind a run that keeps failing.
 */
export const IN_FLIGHT_WAIT_MS = 10_000;

/** Why a copy stopped waiting without a claim: the wait ran out, or its client left meanwhile. */
export type NoClaim = 'busy' | 'gone';

/** The delivery's original as stored (undefined if none yet), and `release`, to call once the request is settled. */
export interface DeliveryClaim {
  original: DeliveryOriginal | undefined;
  /** Lets the next request with this key go on; safe to call more than once. */
  release(): void;
}

/**
 * Waits while another request of this process holds the key, takes it, then looks the key up in the store. The key
 * is taken before the look-up, so two requests cannot both find nothing and both run. The caller must call
 * `release` (in a `finally`): a key left held would make every later resend of it wait until `waitMs` runs out.
 * Gives up with 'busy' once it has waited `waitMs` in all, and with 'gone' when `clientGone` says, after a wait, that
 * nobody is left to answer (then nothing is run or stored for it).
 */
export async function claimDelivery(store: Store, key: string, o: { waitMs?: number; clientGone?: () => boolean } = {}): Promise<DeliveryClaim | NoClaim> {
  let keys = inFlight.get(store);
  if (!keys) inFlight.set(store, (keys = new Map()));
  let held = keys.get(key);
  if (held) {
    const until = Date.now() + (o.waitMs ?? IN_FLIGHT_WAIT_MS);
    // Checked again after each wait: several waiters wake together, and the first to run takes the key.
    for (; held; held = keys.get(key)) {
      const left = until - Date.now();
      if (left <= 0 || !(await settledWithin(held, left))) return 'busy';
      if (o.clientGone?.()) return 'gone';
    }
  }
  const release = hold(keys, key);
  try {
    return { original: await store.findByDedupKey(key), release };
  } catch (err) {
    release();
    throw err;
  }
}

/** Whether `p` settles within `ms` (a timer only for a copy that waits: rare, and cleared as soon as it is done). */
function settledWithin(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, ms, false)));
  return Promise.race([p.then(() => true), late]).finally(() => clearTimeout(timer));
}

function hold(keys: Map<string, Promise<void>>, key: string): () => void {
  if (keys.size >= IN_FLIGHT_KEY_LIMIT) return () => {};
  let settle!: () => void;
  const held = new Promise<void>((resolve) => (settle = resolve));
  keys.set(key, held);
  return () => {
    if (keys.get(key) === held) keys.delete(key);
    settle();
  };
}

/** How many keys are held against this store now (for tests: every request gives its key back). */
export const deliveriesInFlight = (store: Store): number => inFlight.get(store)?.size ?? 0;
