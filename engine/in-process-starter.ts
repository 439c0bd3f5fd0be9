// An in-process AsyncStarterPort: runs started scenarios concurrently in this process and keeps their results.
// The CLI uses it (live and dry runs alike); the server replaces it with its durable job queue.
import type { AsyncStarterPort, AsyncStartRequest, IdPort } from './ports.js';
import type { RunResult } from './model.js';
import type { RunOptions } from './interpreter.js';
import { RUN_ERROR_CODES, RunFailure } from './errors.js';

export interface InProcessStarter extends AsyncStarterPort {
  /** Waits until every started run (and what those runs started) has finished; returns results by run id. */
  drain(): Promise<Map<string, RunResult>>;
}

/**
 * `runChild` runs one started scenario (with the same ports, so its own async starts come back here).
 * `maxRuns` bounds a chain of scenarios that keep starting each other.
 */
export function createInProcessStarter(ids: IdPort, runChild: (req: AsyncStartRequest, runId: string) => Promise<RunResult>, maxRuns = 1000): InProcessStarter {
  const pending = new Map<string, Promise<RunResult>>();
  const done = new Map<string, RunResult>();
  return {
    async start(req) {
      if (pending.size + done.size >= maxRuns) {
        // A guard doing its job, not an internal error: named, with the scenario whose start went over.
        throw new RunFailure(RUN_ERROR_CODES.ASYNC_LIMIT, `more than ${maxRuns} asynchronous starts followed in one run (the last: ${req.scenario}): scenarios probably start each other without end`);
      }
      const runId = ids.newId();
      // Started on the next turn, as a real queue would: the caller goes on without waiting.
      const p = new Promise<void>((r) => setImmediate(r)).then(() => runChild(req, runId));
      pending.set(runId, p);
      p.then(
        (r) => done.set(runId, r),
        () => undefined,
      ).finally(() => pending.delete(runId));
      return { runId };
    },
    async drain() {
      while (pending.size) await Promise.allSettled([...pending.values()]);
      return done;
    },
  };
}

/**
 * What a started run takes from its start request: its parameters, the copied variables, and which of them carry a
 * secret of the run that started it (masked in its record as they were in that run's).
 */
export function startedRunInputs(req: AsyncStartRequest): Pick<RunOptions, 'params' | 'variables' | 'carriesSecret'> {
  return { params: req.params, variables: req.variables, ...(req.carriesSecret ? { carriesSecret: req.carriesSecret } : {}) };
}

/** Puts each child's result into the `asyncStarted` entry of the run that started it, recursively. */
export function attachChildResults(result: RunResult, results: ReadonlyMap<string, RunResult>): RunResult {
  for (const a of result.asyncStarted) {
    const child = a.runId ? results.get(a.runId) : undefined;
    if (child) a.result = attachChildResults(child, results);
  }
  return result;
}
