// A worker pool as the delivery tests build it: one worker over a store, a fixed library and a mailer, polling every
// 50 ms; each test adds what it watches (onAttempt, leaseMs, a logger).
import assert from 'node:assert/strict';
import { randomIds, systemClock, type MailerPort, type ScenarioLibrary } from '../../engine/index.js';
import { createWorkerPool, type WorkerPool, type WorkerPoolOptions } from '../../server/delivery/pool.js';
import { deliveryStoreOf, type DeliveryStore } from '../../server/delivery/store-link.js';
import type { Store } from '../../server/store/store.port.js';

/**
 * A pool as serve sets it up on SQLite for a stop (server/delivery/index.ts: the stop gives running jobs back), over a
 * delivery store the test may wrap, with a minute's lease; `extra` adds what the test watches.
 */
export function givingBackPool(store: DeliveryStore, lib: ScenarioLibrary, ports: WorkerPoolOptions['ports'], extra: Partial<WorkerPoolOptions> = {}): WorkerPool {
  return createWorkerPool({
    store,
    host: { library: () => lib, libraryWithVersion: () => lib },
    ports,
    concurrency: 1,
    timeZone: 'UTC',
    pollMs: 50,
    leaseMs: 60_000,
    releaseOnStop: true,
    ...extra,
  });
}

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

/** Reads an employee from Bpium (the article's flow), then writes to them: a stop can cut it in the read. */
export const READ_THEN_MAIL = `variables:
  email: string
start: read
blocks:
  read:
    kind: Bpium
    method: getRecord
    catalog: '"3"'
    record: '"2"'
    fields: { email: '"2"' }
    exits: { success: mail }
  mail:
    kind: SendMail
    to: '"ivan@example.com"'
    subject: '"после чтения"'
    text: '"t"'
    exits: { success: sent }
  sent:
    kind: ReturnValue
    values: { 1: '"sent"' }
`;

/** Waits until `ok` holds (checked every 20 ms), at most `ms`; fails with `what` otherwise. */
export async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok()) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  assert.ok(await ok(), what);
}
