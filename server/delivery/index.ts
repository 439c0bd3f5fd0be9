// Delivery: runs the queued jobs (scenarios, Bpium calls, letters). One entry point, one option shape; where the
// jobs run (on the main thread, the default, or on a delivery thread) is a setting, not a different API.
import type { BpiumSource, SharedPorts } from '../../adapters/ports.js';
import type { LoggerPort, OutageLogPort } from '../../engine/index.js';
import type { ServerConfig } from '../config.js';
import { deliveryThreadLimits } from '../heap.js';
import { runTally, type Metrics } from '../metrics.js';
import { levelEnabled } from '../log-format.js';
import type { ScenarioHost } from '../scenario-host.js';
import type { Store } from '../store/store.port.js';
import { endingStoreRefusals } from '../store-refusal.js';
import { createWorkerPool, type WorkerPool } from './pool.js';
import { deliveryStoreOf, type DeliveryStore } from './store-link.js';
import { createThreadedWorkerPool } from './threaded-pool.js';

export type { WorkerPool } from './pool.js';

export interface Delivery extends WorkerPool {
  /** The scenarios changed on disk (a delivery thread keeps its own copy). */
  reload(): void;
}

export interface DeliverySettings {
  config: ServerConfig;
  store: Store;
  host: ScenarioHost;
  /** The main thread's ports, used when the jobs run on the main thread. */
  ports: SharedPorts;
  /** Where the delivery thread finds Bpium (it builds its own ports from the same settings). */
  bpium: Exclude<BpiumSource, { kind: 'port' }>;
  env: NodeJS.ProcessEnv;
  metrics: Metrics;
  logger: LoggerPort;
  /** The process's outage log (log-folding.ts), when repeats are folded; the same on either thread. */
  outages?: OutageLogPort;
  /** Poll interval of the workers (tests lower it). */
  pollMs?: number;
}

/** Creates the delivery side; `start()` begins claiming jobs. */
export function createDelivery(s: DeliverySettings): Delivery {
  const { config, metrics, logger } = s;
  const store = endingRefusals(deliveryStoreOf(s.store), s);
  const common = {
    concurrency: config.workers.concurrency,
    leaseMs: config.workers.leaseMs,
    timeZone: config.timeZone,
    maxEffects: config.maxEffectsPerRun,
    runRecordBytes: config.runRecordBytes,
    traceKept: config.traceKept,
    // Jobs still running at the end of a stop's grace period go back to the queue, their attempts fenced first: for
    // the next start (SQLite), or for another instance at once (PostgreSQL) instead of when their leases expire.
    releaseOnStop: true,
    sharedStore: config.store.kind === 'postgres',
    ...(s.pollMs ? { pollMs: s.pollMs } : {}),
    ...(config.workers.burstInFlight !== undefined ? { burstInFlight: config.workers.burstInFlight } : {}),
  };
  if (!config.workers.thread) {
    const pool = createWorkerPool({
      ...common,
      store,
      host: s.host,
      ports: s.ports,
      logger,
      ...(s.outages ? { outages: s.outages } : {}),
      inFlight: () => metrics.inFlight,
      onAttempt: (_job, result, outcome) => metrics.run(result.status, result.durationMs / 1000, runTally(result), result.mayRepeat?.length ?? 0, outcome),
    });
    return Object.assign(pool, { reload: () => undefined });
  }
  const limits = deliveryThreadLimits(config.heap);
  return createThreadedWorkerPool({
    store,
    logger,
    ...(s.outages ? { outages: s.outages } : {}),
    init: {
      ...common,
      foldOutages: s.outages !== undefined,
      env: { ...s.env },
      scenariosDir: config.scenariosDir,
      dataDir: config.dataDir,
      inFlightCell: metrics.inFlightCell,
      logLevels: enabledLevels(logger),
      bpium: s.bpium,
      databases: config.databases,
      webRequest: config.webRequest,
      regexBudgetMs: config.regexBudgetMs,
      substrBase: config.substrBase,
    },
    onAttempt: (status, seconds, tally, mayRepeat, outcome) => metrics.run(status, seconds, tally, mayRepeat, outcome),
    ...(limits ? { resourceLimits: limits } : {}),
  });
}

/** The levels `logger` writes: the thread sends no others. */
function enabledLevels(logger: LoggerPort): Array<'debug' | 'info' | 'warn' | 'error'> {
  return (['debug', 'info', 'warn', 'error'] as const).filter((l) => levelEnabled(logger, l));
}

/**
 * The delivery's writes that store records (the end of a job with its run, journal entries, jobs a running job starts)
 * end a spell of store refusals when they succeed, as a stored webhook does, also when no webhook comes (store-refusal.ts).
 * On either thread: the delivery thread's store calls are answered by this object on the main thread.
 */
function endingRefusals(store: DeliveryStore, d: Pick<DeliverySettings, 'metrics' | 'logger'>): DeliveryStore {
  const accepted = (r: { accepted: boolean }) => r.accepted;
  return {
    ...store,
    completeJob: (...a) => endingStoreRefusals(d, 'the end of a job', store.completeJob(...a), accepted),
    failJob: (...a) => endingStoreRefusals(d, 'the end of a job', store.failJob(...a), accepted),
    putEffectGroup: (...a) => endingStoreRefusals(d, "a running job's journal", store.putEffectGroup(...a)),
    enqueueJobs: (...a) => endingStoreRefusals(d, 'a job started by a running job', store.enqueueJobs(...a)),
  };
}
