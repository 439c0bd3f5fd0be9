// The service-task step of the server's start: definitions (hot-reloaded), the scheduler, its metrics.
import type { LoggerPort } from '../../engine/ports.js';
import { ConfigError, type ServerConfig } from '../config.js';
import type { ScenarioHost } from '../scenario-host.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/store.port.js';
import { scenarioProblems, unreadParameterFindings } from './definitions.js';
import { taskDefinitions } from './reload.js';
import { TaskScheduler } from './scheduler.js';
import { endingStoreRefusals } from '../store-refusal.js';

export interface ServiceTasks {
  scheduler: TaskScheduler;
  /** Starts ticking (after the workers are up, so a due run is taken at once). */
  start(): void;
  stop(): Promise<void>;
  /** What the start found to warn about (also logged): a parameter a task gives that its scenario never reads. */
  warnings: string[];
}

export function createServiceTasks(o: { config: ServerConfig; store: Store; metrics: Metrics; logger: LoggerPort; watch: boolean; tickMs?: number; scenarios?: Pick<ScenarioHost, 'names' | 'onReload' | 'library'> }): ServiceTasks {
  const host = o.scenarios;
  // At start an enabled task naming a scenario that is not in the folder (a typo, most often) stops the start, as any
  // bad task. A disabled one cannot fail a run, so it only warns: a server must not refuse to restart over it.
  if (host) {
    const { errors, warnings } = scenarioProblems(o.config.serviceTasks, host.names());
    if (errors.length) throw new ConfigError(errors.join('\n'));
    for (const w of warnings) o.logger.warn({}, w);
  }
  // A parameter the task's scenario never reads: most often a wrong number, which leaves the one it reads empty.
  const unreadFound = host ? unreadParameterFindings(o.config.serviceTasks, host.library(), o.config.substrBase) : [];
  const unread = unreadFound.map((f) => `${f.at}: ${f.what}`);
  for (const w of unread) o.logger.warn({}, w);
  const definitions = taskDefinitions({ configFile: o.config.configPath ?? o.config.configFile, timeZone: o.config.timeZone, initial: o.config.serviceTasks, logger: o.logger, watch: o.watch, substrBase: o.config.substrBase, ...(host ? { scenarios: () => host.names(), library: () => host.library(), unreadSaid: unreadFound } : {}) });
  host?.onReload(() => definitions.checkScenarios());
  // A due time marked or a run queued ends a spell of store refusals, as a stored webhook does (store-refusal.ts).
  const store = {
    claimTaskDue: (input: Parameters<Store['claimTaskDue']>[0]) => endingStoreRefusals(o, "a service task's due time", o.store.claimTaskDue(input), (r) => r.claimed),
    enqueueJobs: (...a: Parameters<Store['enqueueJobs']>) => endingStoreRefusals(o, "a service task's run", o.store.enqueueJobs(...a)),
    lastTaskDues: o.store.lastTaskDues.bind(o.store),
    getJob: o.store.getJob.bind(o.store),
    listJobs: o.store.listJobs.bind(o.store),
    latestScheduledJob: o.store.latestScheduledJob.bind(o.store),
  };
  const scheduler = new TaskScheduler({ store, tasks: definitions.current, logger: o.logger, substrBase: o.config.substrBase, ...(o.tickMs ? { tickMs: o.tickMs } : {}) });
  o.metrics.sources.push(() => scheduler.metricLines());
  return {
    scheduler,
    warnings: unread,
    start: () => scheduler.start(),
    async stop() {
      definitions.close();
      await scheduler.stop();
    },
  };
}
