// Converts an engine RunResult into the store's run record. The record is for people (the console, `show`,
// `runs`, tests made from runs): long texts are cut there, so a 5 MB webhook body is not stored again in every trace
// step, parameter and letter. The whole values stay where they are needed: the request body in the inbox, a job's
// parameters and variables in the job.
import { cutText, cutTextParts, TRACE_TEXT_CHARS, type JsonValue, type MailRecord, type RunError, type RunResult, type TraceStep, type Value } from '../engine/index.js';
import type { JobRecord, RunTrigger, RunWrite } from './store/store.port.js';
import { taskNameOf } from './tasks/scheduler.js';
import { jobSecretCarriers, maskCarriers } from './starters.js';
import { dateKeys, type DateTags } from './stored-values.js';
import { DEFAULT_RUN_RECORD_BYTES, fitRunRecord } from './run-budget.js';
import { untraced, type TraceKept } from './trace-setting.js';

/** Characters of a text kept in a run record (trace values, parameters); the rest is counted, not stored. */
export const STORED_TEXT_CHARS = TRACE_TEXT_CHARS;
/** Characters of an input parameter or a return value kept in a run record (the whole value is in the inbox or the job). */
export const STORED_PARAM_CHARS = 4096;
/** Characters of a letter's text and HTML kept in a run record. */
export const STORED_LETTER_CHARS = 8192;
/**
 * Characters of text and HTML kept for all the letters of one run together: a run that mails one long text to 50
 * people keeps it about once, not 50 times (each letter as sent is in the outbox, when letters go there).
 */
export const STORED_LETTERS_CHARS = 16_384;

export { cutText, cutTextParts };

function cutValue<T extends Value | JsonValue | unknown>(v: T, max = STORED_TEXT_CHARS): T {
  return (typeof v === 'string' && v.length > max ? cutText(v, max) : v) as T;
}

function cutRecord<T>(values: Record<string, T>, max = STORED_TEXT_CHARS): Record<string, T> {
  let out: Record<string, T> | undefined;
  for (const k in values) {
    const v = values[k];
    if (typeof v === 'string' && v.length > max) (out ??= { ...values })[k] = cutText(v, max) as T;
  }
  return out ?? values;
}

/**
 * The trace with long values cut, and the dates among a step's values tagged (JSON keeps them as text; see
 * stored-values.ts); steps with nothing to cut or tag are kept as they are (no copy per step).
 */
function cutTrace(trace: TraceStep[]): Array<TraceStep & DateTags> {
  return trace.map((s) => {
    if (!s.changed) return s;
    const changed = cutRecord(s.changed);
    const dates = dateKeys(s.changed);
    return changed === s.changed && !dates ? s : { ...s, changed, ...(dates ? { dates } : {}) };
  });
}

/** The run's letters with their text and HTML cut to one budget for the whole run (see STORED_LETTERS_CHARS). */
function cutMails(mails: MailRecord[]): MailRecord[] {
  let left = STORED_LETTERS_CHARS;
  const part = (text: string): string => {
    const max = Math.min(STORED_LETTER_CHARS, left);
    left -= Math.min(text.length, max);
    return cutText(text, max);
  };
  return mails.map((m) => {
    const subject = cutText(m.subject, STORED_TEXT_CHARS);
    const text = m.text !== undefined ? part(m.text) : undefined;
    const html = m.html !== undefined ? part(m.html) : undefined;
    const error = m.error !== undefined ? cutText(m.error, STORED_PARAM_CHARS) : undefined;
    if (subject === m.subject && text === m.text && html === m.html && error === m.error) return m;
    return { ...m, subject, ...(text !== undefined ? { text } : {}), ...(html !== undefined ? { html } : {}), ...(error !== undefined ? { error } : {}) };
  });
}

/** The run's error with its message cut (an SMTP or HTTP server's answer can be quoted in it). */
function cutError(error: RunError | undefined): RunError | null {
  if (!error) return null;
  return error.message.length > STORED_PARAM_CHARS ? { ...error, message: cutText(error.message, STORED_PARAM_CHARS) } : error;
}

export function runWrite(
  result: RunResult,
  extra: { trigger: RunTrigger; params: unknown; jobId?: string | null; inboxId?: number | null; parentRunId?: string | null; attempt?: number; workerId?: string | null; budgetBytes?: number; traceKept?: TraceKept; timeZone?: string },
): RunWrite {
  const startedAt = Date.parse(result.startedAt);
  const params = extra.params && typeof extra.params === 'object' ? cutRecord(extra.params as Record<string, unknown>, STORED_PARAM_CHARS) : cutValue(extra.params, STORED_PARAM_CHARS);
  const returnValues = cutRecord(result.returnValues, STORED_PARAM_CHARS);
  const error = cutError(result.error);
  // A completed run under OKTELL_TRACE=failed: its steps are not cut, copied or serialised at all (trace-setting.ts).
  const { trace } = untraced(result, extra.traceKept);
  // The whole record within its budget: a run looping over calls or letters keeps their head and tail (run-budget.ts).
  const lists = fitRunRecord({ trace: cutTrace(trace), bpiumCalls: result.bpiumCalls, mails: cutMails(result.mails) }, [params, returnValues, error], extra.budgetBytes ?? DEFAULT_RUN_RECORD_BYTES, result.runId, result.scenario);
  return {
    id: result.runId,
    scenario: result.scenario,
    version: result.version,
    trigger: extra.trigger,
    status: result.status,
    startedAt,
    finishedAt: startedAt + Math.round(result.durationMs),
    durationMs: result.durationMs,
    params,
    returnValues,
    error,
    trace: lists.trace,
    bpiumCalls: lists.bpiumCalls,
    mails: lists.mails,
    ...(extra.jobId !== undefined ? { jobId: extra.jobId } : {}),
    ...(extra.inboxId !== undefined ? { inboxId: extra.inboxId } : {}),
    ...(extra.parentRunId !== undefined ? { parentRunId: extra.parentRunId } : {}),
    ...(extra.attempt !== undefined ? { attempt: extra.attempt } : {}),
    ...(extra.workerId !== undefined ? { workerId: extra.workerId } : {}),
    ...(extra.timeZone !== undefined ? { timeZone: extra.timeZone } : {}),
  };
}

/**
 * The trigger a job's runs are recorded with: a replay, a service task's run, a Web-API call with `async=1` (a job of
 * its own, not started by a run), or an AsyncScenario start (a webhook's or a Web-API run's included).
 */
export function jobRunTrigger(job: Pick<JobRecord, 'replayCount' | 'trigger' | 'parentRunId'>): RunTrigger {
  if (job.replayCount > 0) return 'replay';
  if (taskNameOf(job.trigger) !== undefined) return 'task';
  return job.parentRunId === null && isWebApiTrigger(job.trigger) ? 'webapi' : 'async';
}

/** A job's trigger as the Web-API stores it: `{"webapi": "/execsvcscript…"}`. */
function isWebApiTrigger(trigger: unknown): boolean {
  return typeof trigger === 'object' && trigger !== null && typeof (trigger as { webapi?: unknown }).webapi === 'string';
}

/** Why an attempt was lost: its worker stopped renewing its lease (another instance, or a stalled process). */
export const LEASE_LOST = { code: 'LEASE_EXPIRED', message: 'the worker stopped renewing its lease' } as const;
/** Why an attempt was lost: the server stopped while it ran (found at the next start). */
export const PROCESS_STOPPED = { code: 'PROCESS_STOPPED', message: 'the server stopped during this attempt' } as const;
/** The error a job cut short by a graceful stop is given back with (its attempt not counted). */
export const CUT_BY_STOP = { code: 'STOPPED', message: 'the server stopped during this attempt; the job was given back to the queue, the attempt not counted' };

/** Codes of a job's last error that say its last attempt was cut off with its end unrecorded. */
const CUT_OFF_CODES: ReadonlySet<string> = new Set([LEASE_LOST.code, PROCESS_STOPPED.code, CUT_BY_STOP.code]);

/**
 * Whether a job's last error says its last attempt was cut off with no end recorded (the entry of the last effect it
 * made may be missing from the journal, so the next attempt may make that effect again), or carries that suspicion
 * on (`afterCut`: an attempt after a cut-off one failed before it journaled an effect).
 */
export function lastAttemptCut(e: unknown): boolean {
  if (e === null || typeof e !== 'object' || Array.isArray(e)) return false;
  const o = e as { code?: unknown; journaled?: unknown; afterCut?: unknown };
  return (typeof o.code === 'string' && CUT_OFF_CODES.has(o.code) && o.journaled !== true) || o.afterCut === true;
}

/**
 * The last error a job gets without an attempt (cancelled while queued), keeping the suspicion of a cut-off attempt
 * its last error held (`afterCut`): a replay's first effects may repeat that attempt's last and are marked so.
 */
export function keepingCut(lastError: unknown, error: unknown): unknown {
  return lastAttemptCut(lastError) && error !== null && typeof error === 'object' && !Array.isArray(error) ? { ...error, afterCut: true } : error;
}

/** `keepingCut` of a last error stored as JSON text (one that is not JSON holds no suspicion). */
export function keepingCutOfText(lastError: string | null, error: unknown): unknown {
  if (lastError === null) return error;
  let parsed: unknown;
  try {
    parsed = JSON.parse(lastError);
  } catch {
    return error;
  }
  return keepingCut(parsed, error);
}

/**
 * The run record of an attempt whose worker vanished: its lease expired, or the server stopped while it ran. A run is
 * recorded only when an attempt ends, so without this the attempt (and, at the last attempt, the dead letter it
 * leaves) would appear in no list. What it did is not known: it is recorded as failed from the attempt's claim to the
 * moment the loss was found (for an attempt claimed before claim times were stored, from the worker's last sign of
 * life: the claim or the last lease renewal).
 */
export function lostAttemptRun(job: JobRecord, error: { code: string; message: string }, id: string, now: number, timeZone?: string): RunWrite {
  const params = job.params && typeof job.params === 'object' && !Array.isArray(job.params) ? cutRecord(maskCarriers(job.params as Record<string, JsonValue>, jobSecretCarriers(job.variables as Record<string, unknown> | null)?.params), STORED_PARAM_CHARS) : {};
  const who = job.leaseOwner ? `worker ${job.leaseOwner}` : 'its worker';
  const startedAt = job.claimedAt ?? job.updatedAt;
  return {
    id,
    scenario: job.scenario,
    version: job.pinnedVersion ?? 'unknown',
    trigger: jobRunTrigger(job),
    status: 'failed',
    startedAt,
    finishedAt: now,
    durationMs: Math.max(0, now - startedAt),
    params,
    returnValues: {},
    error: { code: error.code, message: `${error.message} (${who}, attempt ${job.attempts}); what the attempt did is not known: a letter or other effect it made may be made again by the next attempt` },
    trace: [],
    bpiumCalls: [],
    mails: [],
    jobId: job.id,
    inboxId: job.inboxId,
    parentRunId: job.parentRunId,
    attempt: job.attempts,
    workerId: job.leaseOwner,
    // The zone of the instance that writes it, which its job's runs run in: `show` and the console read its values in
    // it, and `test --from-run` replays it there, as a run the worker recorded itself.
    ...(timeZone !== undefined ? { timeZone } : {}),
  };
}
