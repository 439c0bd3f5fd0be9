// The service-task step of the server's start: definitions (hot-reloaded), the scheduler, its metrics.
import type { LoggerPort } from '../../engine/ports.js';
import type { ServerConfig } from '../config.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/store.port.js';
import { taskDefinitions } from './reload.js';
import { TaskScheduler } from './scheduler.js';

export interface ServiceTasks {
  scheduler: TaskScheduler;
  /** Starts ticking (after the workers are up, so a due run is taken at once). */
  start(): void;
  stop(): Promise<void>;
}

export function createServiceTasks(o: { config: ServerConfig; store: Store; metrics: Metrics; logger: LoggerPort; watch: boolean; tickMs?: number }): ServiceTasks {
  const definitions = taskDefinitions({ configFile: o.config.configPath ?? o.config.configFile, timeZone: o.config.timeZone, initial: o.config.serviceTasks, logger: o.logger, watch: o.watch });
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
