// The delivery thread: runs queued jobs (scenarios, Bpium calls, letters) beside the main thread, which keeps the
// HTTP server and the store to itself. Store calls travel to the main thread as messages; so do log lines.
import { parentPort, workerData } from 'node:worker_threads';
import { buildPorts } from '../../adapters/ports.js';
import { databaseDialects } from '../../adapters/db/settings.js';
import { endSpareSqliteProcesses } from '../../adapters/db/sqlite.js';
import type { LoggerPort, OutageLogPort } from '../../engine/index.js';
import { sortableIds } from '../store/sortable-id.js';
import { runTally } from '../metrics.js';
import { createScenarioHost } from '../scenario-host.js';
import { loadRunLibraries } from '../run-libraries.js';
import { CONNECTIONS_AFTER_GRACE_MS, notClosedText, unclosedPorts, within } from '../within.js';
import { createWorkerPool } from './pool.js';
import { serializeError, type DeliveryInit, type SerializedError, type ToMain, type ToThread } from './protocol.js';
import { deliveryStoreProxy, type DeliveryCall } from './store-link.js';

const port = parentPort!;
const init = workerData as DeliveryInit;
const post = (m: ToMain) => port.postMessage(m);

const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
let nextCall = 1;
/** Sends one store call to the main thread; resolves with its answer. */
function send(call: DeliveryCall): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const id = nextCall++;
    pending.set(id, { resolve, reject });
    post({ t: 'call', id, call });
  });
}

/** An error from the main thread's store, with the fields the pool and the logs look at. */
function remoteError(s: SerializedError): Error {
  const e = new Error(s.message) as Error & { code?: string; retryAfterSeconds?: number; reason?: string };
  e.name = s.name;
  if (s.code) e.code = s.code;
  if (s.retryAfterSeconds !== undefined) e.retryAfterSeconds = s.retryAfterSeconds;
  if (s.reason !== undefined) e.reason = s.reason;
  return e;
}

const store = deliveryStoreProxy(send);

const enabled = new Set(init.logLevels);
/** What can be read of a log line's fields when something in them cannot be copied between threads (a function, a socket). */
function plain(obj: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = v instanceof Error ? serializeError(v) : typeof v === 'object' && v !== null ? String(v) : typeof v === 'function' ? undefined : v;
  return out;
}
function logAt(level: 'debug' | 'info' | 'warn' | 'error') {
  return (obj: object, msg?: string) => {
    if (!enabled.has(level)) return;
    try {
      post({ t: 'log', level, obj, ...(msg !== undefined ? { msg } : {}) });
    } catch {
      post({ t: 'log', level, obj: plain(obj), ...(msg !== undefined ? { msg } : {}) });
    }
  };
}
const logger: LoggerPort = { debug: logAt('debug'), info: logAt('info'), warn: logAt('warn'), error: logAt('error') };

/**
 * The main thread's outage log, reached by messages (sent whatever the log level: they are counted there). A service
 * is said reached once after each failure, not at every letter sent; and once at first, so that a thread started again
 * during an outage (the one before it died) still ends it.
 */
function outageLogProxy(): OutageLogPort {
  /** Services told reached since their last failure here. */
  const told = new Set<string>();
  const sendLine = (m: Extract<ToMain, { t: 'outage' }>) => {
    try {
      post(m);
    } catch {
      if ('line' in m) post({ ...m, line: { ...m.line, obj: plain(m.line.obj) } });
    }
  };
  return {
    effectFailed(key, line) {
      told.delete(key.target);
      sendLine({ t: 'outage', call: 'effectFailed', key, line });
    },
    attemptFailed(key, line, job) {
      told.delete(key.target);
      sendLine({ t: 'outage', call: 'attemptFailed', key, line, job });
    },
    reached(target) {
      if (told.has(target)) return;
      // WebRequest hosts are as many as the scenarios' URLs name: the set is kept small (a target forgotten is only
      // told again once, which the main thread's outage log ignores unless that target is failing).
      if (told.size >= 1000) told.clear();
      told.add(target);
      post({ t: 'outage', call: 'reached', target });
    },
  };
}
const outages = init.foldOutages ? outageLogProxy() : undefined;

const host = await createScenarioHost(init.scenariosDir, { timeZone: init.timeZone, logger: quietReloads(logger), watch: false, databases: databaseDialects(init.databases), env: init.env });
const built = buildPorts({ env: init.env, dataDir: init.dataDir, templates: host.templates, ids: sortableIds, logger, ...(outages ? { outages } : {}), bpium: init.bpium, databases: init.databases, webRequest: init.webRequest, regexBudgetMs: init.regexBudgetMs, ...(init.substrBase !== undefined ? { substrBase: init.substrBase } : {}) });
// Before the first claim, as `serve` does before it listens (run-libraries.ts): a first load that meets EMFILE would
// fail every run of this thread until a restart.
await loadRunLibraries({ outbox: built.mail.kind === 'outbox', databases: init.databases });
const pool = createWorkerPool({
  store,
  host,
  ports: built.ports,
  concurrency: init.concurrency,
  leaseMs: init.leaseMs,
  timeZone: init.timeZone,
  maxEffects: init.maxEffects,
  runRecordBytes: init.runRecordBytes,
  traceKept: init.traceKept,
  logger,
  ...(outages ? { outages } : {}),
  ...(init.pollMs ? { pollMs: init.pollMs } : {}),
  inFlight: () => Atomics.load(init.inFlightCell, 0),
  ...(init.burstInFlight !== undefined ? { burstInFlight: init.burstInFlight } : {}),
  ...(init.releaseOnStop ? { releaseOnStop: true } : {}),
  ...(init.sharedStore ? { sharedStore: true } : {}),
  onAttempt: (_job, result, outcome) => post({ t: 'attempt', status: result.status, seconds: result.durationMs / 1000, tally: runTally(result), mayRepeat: result.mayRepeat?.length ?? 0, outcome, running: pool.running }),
});

port.on('message', (m: ToThread) => {
  switch (m.t) {
    case 'result': {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(remoteError(m.error));
      return;
    }
    case 'wake':
      pool.wake();
      return;
    case 'reload':
      // Sent after each reload of the main thread, a save of one file among hundreds: only what changed is parsed.
      host.reload('changed').catch((e: unknown) => logger.error({ err: serializeError(e) }, 'delivery thread: scenario reload failed'));
      return;
    case 'stop':
      void (async () => {
        const { unfinished, unrecorded, leased, takenOver } = await pool.stop(m.graceMs);
        host.close();
        // Bounded as on the main thread: a database that stopped answering must not hold the stop (the thread is
        // terminated next, which ends its connections).
        const closed = await within(built.close(), CONNECTIONS_AFTER_GRACE_MS).catch((e: unknown) => {
          logger.warn({ err: serializeError(e) }, "delivery thread: closing the scenarios' connections failed; they end with the thread");
          return true;
        });
        if (!closed) {
          const databases = built.unclosed();
          const undone = [unclosedPorts(databases)];
          logger.warn({ notClosed: undone, databases }, `delivery thread: ${notClosedText(undone)}`);
        }
        endSpareSqliteProcesses(); // a thread's kept processes would outlive it (their idle timers end with it)
        post({ t: 'stopped', unfinished, unrecorded, leased, ...(takenOver ? { takenOver } : {}) });
      })();
      return;
  }
});

pool.start();
post({ t: 'ready' });

/** The main thread already reports problems in the scenario files; this copy of them stays quiet about it. */
function quietReloads(l: LoggerPort): LoggerPort {
  return { debug: l.debug, info: () => undefined, warn: l.warn, error: () => undefined };
}
