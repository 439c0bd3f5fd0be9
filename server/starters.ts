// AsyncStarterPort implementations for the server: collect starts to store with a request, or enqueue at once.
import type { AsyncStarterPort, AsyncStartRequest, IdPort, JsonValue, Value } from '../engine/index.js';
import type { NewJob, Store } from './store/store.port.js';

/** Turns an async start into a job description (values as JSON: dates become ISO text). */
export function jobFromStart(id: string, req: AsyncStartRequest, trigger: JsonValue): NewJob {
  return {
    id,
    scenario: req.scenario,
    params: jsonValues(req.params),
    variables: jsonValues(req.variables),
    parentRunId: req.parentRunId,
    parentBlock: req.parentBlock,
    trigger,
  };
}

function jsonValues(values: Record<string, Value>): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(values)) out[k] = v instanceof Date ? v.toISOString() : v;
  return out;
}

/**
 * Collects the starts of a hook run; the server stores them as jobs in the same transaction as the request, so the
 * acknowledgement and the jobs are durable together.
 */
export function collectingStarter(ids: IdPort, trigger: JsonValue): AsyncStarterPort & { jobs: NewJob[] } {
  const jobs: NewJob[] = [];
  return {
    jobs,
    async start(req) {
      const id = ids.newId();
      jobs.push(jobFromStart(id, req, trigger));
      return { runId: id };
    },
  };
}

/**
 * Enqueues each start at once (for runs outside a request: jobs and Web-API runs). The effect journal records the
 * start after the job is stored, so a crash between the two can start a job twice but never lose one.
 */
export function enqueueingStarter(ids: IdPort, store: Pick<Store, 'enqueueJobs'>, trigger: JsonValue, onEnqueued?: () => void): AsyncStarterPort {
  return {
    async start(req) {
      const id = ids.newId();
      await store.enqueueJobs([jobFromStart(id, req, trigger)]);
      onEnqueued?.();
      return { runId: id };
    },
  };
}
