// A worker pool as the delivery tests build it: one worker over a store, a fixed library and a mailer, polling every
// 50 ms; each test adds what it watches (onAttempt, leaseMs, a logger).
import { randomIds, systemClock, type MailerPort, type ScenarioLibrary } from '../../engine/index.js';
import { createWorkerPool, type WorkerPool, type WorkerPoolOptions } from '../../server/delivery/pool.js';
import { deliveryStoreOf } from '../../server/delivery/store-link.js';
import type { Store } from '../../server/store/store.port.js';

export function mailPool(store: Store, lib: ScenarioLibrary, mailer: MailerPort, extra: Partial<WorkerPoolOptions> = {}): WorkerPool {
  return createWorkerPool({
    store: deliveryStoreOf(store),
    host: { library: () => lib, libraryWithVersion: () => lib },
    ports: { clock: systemClock, ids: randomIds, mailer },
    concurrency: 1,
    timeZone: 'UTC',
    pollMs: 50,
    ...extra,
  });
}
