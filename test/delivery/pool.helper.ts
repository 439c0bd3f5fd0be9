// A worker pool as the delivery tests build it: one worker over a store, a fixed library and a mailer, polling every
// 50 ms; each test adds what it watches (onAttempt, leaseMs, a logger).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBpiumClient } from '../../adapters/bpium/client.js';
import { createSmtpMailer } from '../../adapters/mail/smtp.adapter.js';
import { startBpiumEmulator } from '../../bpium-emulator/emulator.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary, randomIds, systemClock, type MailerPort, type ScenarioLibrary } from '../../engine/index.js';
import { createWorkerPool, type WorkerPool, type WorkerPoolOptions } from '../../server/delivery/pool.js';
import { deliveryStoreOf, type DeliveryStore } from '../../server/delivery/store-link.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { StoreUnavailableError } from '../../server/store/store.errors.js';
import type { Store } from '../../server/store/store.port.js';
import { tempDir } from '../helpers.js';
import { startSmtpServer } from '../mail/smtp-server.helper.js';

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

/**
 * What the SQLite stop tests run on: `scenarios` (file name → YAML) loaded as a library, a SQLite store file, the Bpium
 * emulator over HTTP, smtp-server on loopback (`smtpOpts`), and the ports that reach them (one try each, so a held-up
 * answer is not retried). `close` ends them all and removes the folder.
 */
export async function sqliteStopRig(prefix: string, scenarios: Record<string, string>, smtpOpts: Parameters<typeof startSmtpServer>[0] = {}) {
  const t = tempDir(prefix);
  for (const [file, yaml] of Object.entries(scenarios)) writeFileSync(join(t.dir, file), yaml);
  const lib = await loadScenarioLibrary(t.dir, { registry: defaultRegistry });
  assert.deepEqual(lib.issues, []);
  const store = await openSqliteStore({ file: join(t.dir, 'q.db') });
  const smtp = await startSmtpServer(smtpOpts);
  const emu = await startBpiumEmulator({ port: 0, dataDir: join(t.dir, 'bpium') });
  const bpium = createBpiumClient({ url: emu.url, login: emu.login, password: emu.password, rateLimit: false, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
  const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${smtp.port}`, from: 'robot@example.com', retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 } });
  return {
    lib,
    store,
    smtp,
    emu,
    real: deliveryStoreOf(store),
    ports: { clock: systemClock, ids: randomIds, mailer, bpium },
    async close(pool: WorkerPool) {
      await pool.stop(100);
      await mailer.close();
      await emu.close();
      await smtp.close();
      await store.close();
      t.cleanup();
    },
  };
}

/** The store's refusal of a write on a full disk, as the tests inject it. */
export const diskFull = () => new StoreUnavailableError('full', 'database unavailable (SQLITE_FULL): database or disk is full (fault injected by the test)', 30);
