// The service-task step of the server's start: definitions (hot-reloaded), the scheduler, its metrics.
import type { LoggerPort } from '../../engine/ports.js';
import { ConfigError, type ServerConfig } from '../config.js';
import type { ScenarioHost } from '../scenario-host.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/store.port.js';
import { unknownScenarios } from './definitions.js';
import { taskDefinitions } from './reload.js';
import { TaskScheduler } from './scheduler.js';

export interface ServiceTasks {
  scheduler: TaskScheduler;
  /** Starts ticking (after the workers are up, so a due run is taken at once). */
  start(): void;
  stop(): Promise<void>;
}

export function createServiceTasks(o: { config: ServerConfig; store: Store; metrics: Metrics; logger: LoggerPort; watch: boolean; tickMs?: number; scenarios?: Pick<ScenarioHost, 'names' | 'onReload'> }): ServiceTasks {
  const host = o.scenarios;
  // At start an enabled task naming a scenario that is not in the folder (a typo, most often) stops the start, as any
  // bad task. A disabled one cannot fail a run, so it only warns: a server must not refuse to restart over it.
  const enabled = o.config.serviceTasks.filter((t) => t.enabled);
  const missing = host ? unknownScenarios(enabled, host.names()) : [];
  if (missing.length) throw new ConfigError(missing.join('\n'));
  if (host) for (const w of unknownScenarios(o.config.serviceTasks.filter((t) => !t.enabled), host.names())) o.logger.warn({}, `${w} (the task is disabled)`);
  const definitions = taskDefinitions({ configFile: o.config.configPath ?? o.config.configFile, timeZone: o.config.timeZone, initial: o.config.serviceTasks, logger: o.logger, watch: o.watch, ...(host ? { scenarios: () => host.names() } : {}) });
  host?.onReload(() => definitions.checkScenarios());
  const scheduler = new TaskScheduler({ store: o.store, tasks: definitions.current, logger: o.logger, ...(o.tickMs ? { tickMs: o.tickMs } : {}) });
  o.metrics.sources.push(() => scheduler.metricLines());
  return {
    scheduler,
    start: () => scheduler.start(),
    async stop() {
      definitions.close();
      await scheduler.stop();
    },
  };
}
