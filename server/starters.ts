// AsyncStarterPort implementations for the server: collect starts to store with a request, or enqueue at once.
import { EffectError, SECRET_MASK } from '../engine/index.js';
import type { AsyncStarterPort, AsyncStartRequest, IdPort, JsonValue, SecretCarriers, Value } from '../engine/index.js';
import type { EnqueueOptions, NewJob, Store } from './store/store.port.js';

/**
 * A job's variables that hold the same long text as one of its parameters (HTTP404 passes the webhook body as
 * parameter 1 and its `body` variable is copied too) are stored once: under this key, variable → parameter number.
 * Variable names cannot contain "[", so no scenario variable can clash with it.
 */
export const SAME_AS_PARAMETER = '[same as parameter]';
/**
 * Which of a job's parameters and variables carry a secret of the run that started it (SecretCarriers: names, never
 * values), stored beside the variables like SAME_AS_PARAMETER: the job's runs mask those values in their records.
 */
export const CARRIES_SECRET = '[carries a secret]';
const SHARED_TEXT_MIN = 1024;

/** Turns an async start into a job description (values as JSON: dates become ISO text). */
export function jobFromStart(id: string, req: AsyncStartRequest, trigger: JsonValue): NewJob {
  const params = jsonValues(req.params);
  const variables = jsonValues(req.variables);
  let shared: Record<string, string> | undefined;
  for (const [name, value] of Object.entries(variables)) {
    if (typeof value !== 'string' || value.length < SHARED_TEXT_MIN) continue;
    const param = Object.keys(params).find((k) => params[k] === value);
    if (param === undefined) continue;
    (shared ??= {})[name] = param;
    delete variables[name];
  }
  if (shared) variables[SAME_AS_PARAMETER] = shared;
  if (req.carriesSecret) variables[CARRIES_SECRET] = { ...req.carriesSecret } as JsonValue;
  return {
    id,
    scenario: req.scenario,
    params,
    variables,
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
 * start after the job is stored, so a crash between the two can start a job twice but never lose one. A job's own
 * starts pass `{ byRunningJob: true }` (see `EnqueueOptions`).
 */
export function enqueueingStarter(ids: IdPort, store: Pick<Store, 'enqueueJobs'>, trigger: JsonValue, onEnqueued?: () => void, options?: EnqueueOptions): AsyncStarterPort {
  return {
    async start(req) {
      const id = ids.newId();
      try {
        await store.enqueueJobs([jobFromStart(id, req, trigger)], options);
      } catch (e) {
        // The store refusing the job (full, locked, down; seen by name, since a thread boundary loses the class) is
        // a passing condition, not a fault of the scenario: the run fails as retryable, or takes the block's error
        // exit, instead of ending as an internal error that is never retried.
        const name = (e as { name?: unknown })?.name;
        if (name !== 'StoreUnavailableError') throw e;
        throw new EffectError('transient', `the store could not queue "${req.scenario}": ${(e as Error).message}`, { code: 'STORE_UNAVAILABLE', cause: e });
      }
      onEnqueued?.();
      return { runId: id };
    },
  };
}

/** The variables a job starts with, texts shared with a parameter restored (see SAME_AS_PARAMETER). */
export function jobVariables(params: Record<string, Value>, stored: Record<string, unknown> | null | undefined): Record<string, Value> {
  const variables = { ...(stored ?? {}) } as Record<string, Value>;
  const shared = (stored?.[SAME_AS_PARAMETER] ?? undefined) as Record<string, string> | undefined;
  if (shared) {
    delete variables[SAME_AS_PARAMETER];
    for (const [name, param] of Object.entries(shared)) variables[name] = params[param] ?? '';
  }
  delete variables[CARRIES_SECRET];
  return variables;
}

/** Which of a job's parameters and variables carry a secret of the run that started it (CARRIES_SECRET). */
export function jobSecretCarriers(stored: Record<string, unknown> | null | undefined): SecretCarriers | undefined {
  const c = stored?.[CARRIES_SECRET];
  if (!c || typeof c !== 'object' || Array.isArray(c)) return undefined;
  const names = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const { params, variables } = c as { params?: unknown; variables?: unknown };
  return { params: names(params), variables: names(variables) };
}

/** `values` with each entry `names` lists shown as the mask (a job's parameters or variables as its record shows them). */
export function maskCarriers<T>(values: Record<string, T>, names: readonly string[] | undefined): Record<string, T | string> {
  if (!names?.length) return values;
  const out: Record<string, T | string> = { ...values };
  for (const n of names) if (n in out) out[n] = SECRET_MASK;
  return out;
}
