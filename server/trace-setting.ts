// Which runs keep their trace in their stored record (`OKTELL_TRACE`, the file's `trace:`). `all` (the default): every
// run. `failed`: a run that ends `completed` is stored without its steps, which are most of a record (about 1.5 KB of
// an HTTP404 record, 2.8 KB of a letter-sending run's 5 KB) and cost time to cut and serialise; a failed run keeps its
// whole trace, which is what one looks at. Its parameters, return values, Bpium calls and letters are stored as ever,
// and so are the steps that are the only record of an effect (web requests, database statements) or that may repeat
// one of a cut-off attempt. In the place of the rest the trace holds one marker step, which the console, `show` and
// `test --from-run` read (`traceNotKeptOf`).
import type { JsonValue, RunResult, TraceStep } from '../engine/index.js';
import { dateKeys } from './stored-values.js';

/** The setting, named wherever a record without its trace is shown. */
export const TRACE_SETTING = 'OKTELL_TRACE';

export type TraceKept = 'all' | 'failed';

/** The marker step's `kind` and `block`: no scenario block has either. */
export const TRACE_NOT_KEPT_KIND = 'TraceNotKept';
export const TRACE_NOT_KEPT_BLOCK = '…';

/** Kinds of the steps whose effect the record keeps nowhere else (http-calls.ts, db-calls.ts read them from the trace). */
const EFFECT_ONLY_KINDS: ReadonlySet<string> = new Set(['WebRequest', 'DbQuery', 'DbProcedure']);

/** What the marker step's `effect` holds, for programs. */
export interface TraceNotKept {
  /** `OKTELL_TRACE=failed`, as it was when the run was stored. */
  setting: string;
  /** Steps the run made (those kept included). */
  steps: number;
  /** Return values (their numbers) that were dates: a stored trace step would have said so (stored-values.ts). */
  returnDates?: string[];
  /**
   * The ids of the jobs the run started (its AsyncScenario blocks'), in order, so that the jobs it started are read by
   * id, not found by reading the jobs table (started-jobs.ts). Absent in records of older builds.
   */
  started?: string[];
}

/** Whether a run's record keeps its trace under `kept`. */
export function keepsTrace(result: Pick<RunResult, 'status' | 'mayRepeat'>, kept: TraceKept | undefined): boolean {
  // A completed run whose effect may repeat one of a cut-off attempt is one to look into: its steps are kept.
  return kept !== 'failed' || result.status !== 'completed' || (result.mayRepeat?.length ?? 0) > 0;
}

/**
 * The trace stored for a completed run under `OKTELL_TRACE=failed`: the marker step, then only the steps that are the
 * sole record of an effect. The rest of the trace is neither copied nor cut nor serialised.
 */
export function traceWithoutSteps(result: Pick<RunResult, 'trace' | 'scenario' | 'returnValues' | 'traceTruncated' | 'asyncStarted'>): TraceStep[] {
  const kept: TraceStep[] = [];
  for (const s of result.trace) if (EFFECT_ONLY_KINDS.has(s.kind) && s.effect !== undefined) kept.push(s);
  const returnDates = dateKeys(result.returnValues);
  const steps = result.trace.length + (result.traceTruncated ?? 0);
  // Every start the run made (a runaway loop's trace may have lost some of their steps; this list is whole).
  const started = result.asyncStarted.flatMap((a) => (a.runId !== undefined ? [a.runId] : []));
  const notKept: TraceNotKept = { setting: `${TRACE_SETTING}=failed`, steps, ...(returnDates ? { returnDates } : {}), started };
  const marker: TraceStep = {
    step: 0,
    scenario: result.scenario,
    block: TRACE_NOT_KEPT_BLOCK,
    kind: TRACE_NOT_KEPT_KIND,
    exit: 'not kept',
    ms: 0,
    // Short (the record is what is being saved on): the readers say the rest (traceNotKeptText); an older build shows this.
    notes: [`trace not kept (${notKept.setting})`],
    effect: { traceNotKept: notKept as unknown as JsonValue },
  };
  return [marker, ...kept];
}

/**
 * The run as its record will keep it under `kept`: a completed run under `failed` with its trace already reduced to
 * the marker and the effect-only steps (so that what works on the trace before it is stored, the hook's masking of
 * credentials, works on those few steps only); else the run as it is. Applied twice, the same.
 */
export function untraced<R extends Pick<RunResult, 'trace' | 'scenario' | 'returnValues' | 'traceTruncated' | 'status' | 'mayRepeat' | 'asyncStarted'>>(result: R, kept: TraceKept | undefined): R {
  if (keepsTrace(result, kept) || isTraceNotKeptStep(result.trace[0])) return result;
  const { traceTruncated: _cut, ...rest } = result;
  return { ...rest, trace: traceWithoutSteps(result) } as R;
}

/** The words shown in the place of the steps of a run stored without them. */
export function traceNotKeptText(m: Pick<TraceNotKept, 'setting' | 'steps'>): string {
  return `trace not kept (${m.setting}): the ${m.steps} step(s) of this completed run were not stored; its parameters, return values, Bpium calls, letters, web requests and statements were, though not the order they were made in (listed by kind). ${TRACE_SETTING}=all (the default) keeps the steps of later runs.`;
}

/** The marker of a stored trace whose steps were not kept, if it is one. */
export function traceNotKeptOf(trace: unknown): TraceNotKept | undefined {
  if (!Array.isArray(trace)) return undefined;
  const first = trace[0] as { kind?: unknown; block?: unknown; effect?: { traceNotKept?: unknown } } | null | undefined;
  if (!isTraceNotKeptStep(first)) return undefined;
  const m = first!.effect?.traceNotKept as TraceNotKept | undefined;
  return m && typeof m === 'object' && typeof m.setting === 'string' ? m : undefined;
}

/**
 * Notes the server put on the first step of a run after its trace was reduced (the hook's note of a body in an unknown
 * charset, hook.ts withCharsetNote): they land on the marker, which the readers do not list as a step, so they are
 * read from it here; the marker's own note is not among them.
 */
export function traceNotKeptNotes(trace: unknown): string[] {
  if (!Array.isArray(trace) || !isTraceNotKeptStep(trace[0])) return [];
  const notes = (trace[0] as { notes?: unknown }).notes;
  return Array.isArray(notes) ? notes.filter((n): n is string => typeof n === 'string' && !n.startsWith('trace not kept (')) : [];
}

/** Whether a stored trace step is the marker of a trace whose steps were not kept. */
export function isTraceNotKeptStep(s: unknown): boolean {
  return !!s && typeof s === 'object' && (s as { kind?: unknown }).kind === TRACE_NOT_KEPT_KIND && (s as { block?: unknown }).block === TRACE_NOT_KEPT_BLOCK;
}
