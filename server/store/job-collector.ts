// An AsyncStarterPort that collects a run's asynchronous starts as jobs, to be stored with the run in one transaction.
import type { AsyncStarterPort, AsyncStartRequest } from '../../engine/ports.js';
import type { NewJob } from './store.port.js';

/** Collects starts; the caller stores them with `recordRequest({ …, jobs })` or `completeJob(id, w, { jobs })`. */
export interface JobCollector extends AsyncStarterPort {
  /** The jobs collected so far, emptying the collector. */
  take(): NewJob[];
}

/**
 * The job id is chosen at start time and returned as the child's `runId`, so the parent's trace can name the child
 * before anything is stored. Nothing is durable until the jobs are stored: if the process dies first, the request was
 * not answered (or the attempt not completed) and will be delivered (or retried) again.
 *
 * Variables travel as JSON: a `Date` becomes its ISO string; the worker restores types from the child's declarations.
 *
 * @example
 *   const starter = collectJobs(() => newSortableId());
 *   const result = await runScenario(lib, 'HTTP404', { …ports, asyncStarter: starter });
 *   await store.recordRequest({ inbox, run, jobs: starter.take() });
 */
export function collectJobs(newId: () => string, defaults: Partial<Pick<NewJob, 'priority' | 'maxAttempts' | 'pinnedVersion'>> = {}): JobCollector {
  let jobs: NewJob[] = [];
  return {
    async start(req: AsyncStartRequest) {
      const id = newId();
      jobs.push({
        ...defaults,
        id,
        scenario: req.scenario,
        params: req.params,
        variables: req.variables,
        parentRunId: req.parentRunId,
        parentBlock: req.parentBlock,
        trigger: { kind: 'async', parentRunId: req.parentRunId, parentBlock: req.parentBlock },
      });
      return { runId: id };
    },
    take() {
      const out = jobs;
      jobs = [];
      return out;
    },
  };
}
