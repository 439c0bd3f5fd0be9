// The dead-letter catch-all: a scenario the store enqueues, in the transaction that gives a job up (dead or failed for
// good), so that someone is told. See docs/store.md, "The dead-letter catch-all".
import { cutText } from '../../engine/cut-text.js';
import type { JsonValue } from '../../engine/values.js';
import { jobSecretCarriers, maskCarriers } from '../starters.js';
import type { JobRecord, NewJob } from './store.port.js';

/**
 * Characters of the dead job's input parameters (JSON) the catch-all gets as parameter 5, as many as a run record keeps
 * of a parameter: a 5 MB webhook body is not stored again in a second job (which the quota's room kept per pending
 * job does not cover, so a nearly full store would refuse the write that gives the job up). The rest is counted in a
 * note; the whole stays in the dead job (`oktell-emu show <id>`).
 */
export const CATCH_ALL_PARAMS_CHARS = 4096;

/** The attempts a catch-all job has when none is set (OKTELL_DEAD_LETTER_MAX_ATTEMPTS): a broken alert path shows soon. */
export const DEFAULT_CATCH_ALL_MAX_ATTEMPTS = 5;

/** A job given up on by the store's own paths (an expired lease at its last attempt, recovery at start), as told to the caller. */
export interface BuriedJob {
  jobId: string;
  scenario: string;
  /** The catch-all job enqueued for it, or `catchAllSkipped` when it is in the catch-all's own line. */
  catchAllJob?: string;
  catchAllSkipped?: true;
}

/** The store option: the service scenario run once for every job given up on. */
export interface DeadLetterCatchAll {
  scenario: string;
  /** The attempts of each catch-all job (stored in its own `max_attempts`); absent: the store's default, as any job's. */
  maxAttempts?: number;
  /**
   * Asked at each giving up, when given: whether the catch-all is on at this moment (the default, DeadLetter, follows
   * the scenarios loaded). Absent: always on.
   */
  on?: () => boolean;
  /**
   * Told after the commit of a claim that buried jobs whose lease expired at their last attempt, with the catch-all
   * each got (or its skip), so the server can log it: the store itself does not log.
   */
  onBuried?: (jobs: BuriedJob[]) => void;
}

/**
 * Tells `onBuried` of the jobs a committed claim buried. The claim stands whatever the report does: a report that
 * throws must not turn committed claims into an error, whose jobs no worker would run until their leases expired
 * (costing each an attempt, or burying one at its last without a run).
 */
export function tellBuried(catchAll: DeadLetterCatchAll | undefined, jobs: BuriedJob[]): void {
  try {
    catchAll?.onBuried?.(jobs);
  } catch {
    // Only a log line is lost; the jobs and their catch-alls are committed.
  }
}

/** Whether a catch-all is to be started now. */
export function catchAllOn(catchAll: DeadLetterCatchAll | undefined): catchAll is DeadLetterCatchAll {
  return catchAll !== undefined && catchAll.on?.() !== false;
}

/**
 * Where a catch-all job's trigger names the job it tells of (`{"deadLetterOf": "<job id>"}`); the jobs such a run
 * starts with AsyncScenario carry `catchAllLine: true`. Neither starts the catch-all when it is given up on itself:
 * a catch-all that fails (its mail server down) would otherwise start another, for ever.
 */
export const DEAD_LETTER_OF = 'deadLetterOf';
export const CATCH_ALL_LINE = 'catchAllLine';

/** Whether a job is the catch-all's run, or was started by it (directly or further down): it never starts the catch-all. */
export function inCatchAllLine(trigger: unknown): boolean {
  if (typeof trigger !== 'object' || trigger === null) return false;
  const t = trigger as Record<string, unknown>;
  return typeof t[DEAD_LETTER_OF] === 'string' || t[CATCH_ALL_LINE] === true;
}

/** The dead job's error as one line of text: `CODE: message`, the message alone, or the JSON of anything else. */
export function errorText(error: unknown): string {
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && error !== null) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (typeof message === 'string') return typeof code === 'string' && code !== '' ? `${code}: ${message}` : message;
  }
  return error === undefined || error === null ? '' : JSON.stringify(error);
}

/**
 * The dead job's last error (as stored, JSON text) naming its catch-all job (`catchAllJob`), so that `show` can say
 * which it was; undefined when the error is no JSON object (it is then left as it is).
 */
export function errorNamingCatchAll(errorJson: string | null, catchAllId: string): string | undefined {
  if (errorJson === null || !errorJson.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(errorJson) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    return JSON.stringify({ ...parsed, catchAllJob: catchAllId });
  } catch {
    return undefined;
  }
}

/** The catch-all job the store started when it gave this job up (named in its last error), while it is dead or failed. */
export function catchAllJobNamed(job: Pick<JobRecord, 'status' | 'lastError'>): string | undefined {
  if (job.status !== 'dead' && job.status !== 'failed') return undefined;
  const id = (job.lastError as { catchAllJob?: unknown } | null)?.catchAllJob;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** What the store knows of a job at the moment it gives it up. */
export interface GivenUp {
  job: Pick<JobRecord, 'id' | 'scenario' | 'params' | 'variables' | 'trigger' | 'attempts'>;
  status: 'dead' | 'failed';
  /** The error the job is given up with. */
  error: unknown;
  /** The same as stored in its `last_error` (JSON text), which is made to name the catch-all job. */
  errorJson: string | null;
  /** The run of its last attempt, when known. */
  lastRunId: string | null;
  at: number;
}

/** The dead job's parameters with those that carry a secret (CARRIES_SECRET in its variables) masked. */
function paramsShown(job: Pick<JobRecord, 'params' | 'variables'>): JsonValue {
  const params = job.params ?? {};
  if (typeof params !== 'object' || Array.isArray(params)) return params;
  const variables = typeof job.variables === 'object' && job.variables !== null && !Array.isArray(job.variables) ? job.variables : null;
  return maskCarriers(params, jobSecretCarriers(variables)?.params);
}

/**
 * The catch-all job for a job given up on, or undefined when none is due: no catch-all configured, or the job is in the
 * catch-all's own line (its run, or a job it started), or it is a run of the catch-all scenario itself.
 *
 * Input parameters, numbered as Oktell numbers a service scenario's (InputParameter(n)):
 *   1 the dead job's id, 2 its scenario, 3 its last error as text (`CODE: message`, cut as parameter 5), 4 the attempts it made,
 *   5 its input parameters as JSON text (those that carry a secret of the run that started it masked, as its own run
 *   records show them; cut to CATCH_ALL_PARAMS_CHARS), 6 when it was given up (ISO 8601, UTC), 7 its status (`dead` or `failed`),
 *   8 the id of its last run (`oktell-emu show <id>`; empty when it has none).
 */
export function catchAllJob(catchAll: DeadLetterCatchAll | undefined, g: GivenUp, id: string): NewJob | undefined {
  if (!catchAll || inCatchAllLine(g.job.trigger) || g.job.scenario === catchAll.scenario) return undefined;
  const params: Record<string, JsonValue> = {
    '1': g.job.id,
    '2': g.job.scenario,
    '3': cutText(errorText(g.error), CATCH_ALL_PARAMS_CHARS),
    '4': g.job.attempts,
    '5': cutText(JSON.stringify(paramsShown(g.job)), CATCH_ALL_PARAMS_CHARS),
    '6': new Date(g.at).toISOString(),
    '7': g.status,
    '8': g.lastRunId ?? '',
  };
  const maxAttempts = catchAll.maxAttempts !== undefined ? { maxAttempts: catchAll.maxAttempts } : {};
  return { id, scenario: catchAll.scenario, params, variables: {}, trigger: { [DEAD_LETTER_OF]: g.job.id }, ...maxAttempts };
}
