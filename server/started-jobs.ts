// The jobs a run started (its AsyncScenario blocks), found from the run's own trace, which names each job's id, instead
// of by reading the jobs table for the run's id: `jobs.parent_run_id` has no index (one would cost every webhook's
// commit), so that read went through every stored job, newest first, even after it had found the run's few (about
// 0.5 s at 180,000 jobs, on the server's event loop for the console's run page).
import type { JobRecord, Store } from './store/store.port.js';
import { isRecordCutStep } from './run-budget.js';
import { traceNotKeptOf } from './trace-setting.js';

/**
 * The ids of the jobs a stored trace says its run started (`effect.started` steps), in the order they were started,
 * once each; undefined when the trace may not name every start: not an array, its steps not kept (OKTELL_TRACE=failed)
 * by a build whose marker did not name the starts, or steps left out (a record cut at its budget, the middle of a runaway loop), which shows as step numbers that do not
 * run 1, 2, 3… without a gap, or as a record-cut marker that left steps out (a cut of the trace's tail leaves no gap).
 */
export function startedJobIdsOf(trace: unknown): string[] | undefined {
  if (!Array.isArray(trace)) return undefined;
  // A completed run stored without its steps (OKTELL_TRACE=failed) names its starts in the marker, when it made them all
  // (trace-setting.ts); an older record's marker does not.
  const notKept = traceNotKeptOf(trace);
  if (notKept) return notKept.started && Array.isArray(notKept.started) ? [...new Set(notKept.started.filter((id) => typeof id === 'string'))] : undefined;
  const ids = new Set<string>();
  for (let i = 0; i < trace.length; i++) {
    const step = trace[i] as { step?: unknown; effect?: { started?: unknown; runId?: unknown } } | null;
    if (!step || typeof step !== 'object' || step.step !== i + 1) return undefined;
    // A record cut at its budget whose steps were left out at its end (or all of them: its last step alone larger than
    // the room, or parameters that fill it) has no gap in its numbers: the marker takes the first left-out step's number
    // and nothing follows it. Its marker says so.
    if (isRecordCutStep(step) && (step.effect as { recordCut?: { steps?: { omitted?: unknown } } } | undefined)?.recordCut?.steps?.omitted !== 0) return undefined;
    const effect = step.effect;
    if (effect && typeof effect === 'object' && typeof effect.started === 'string' && typeof effect.runId === 'string') ids.add(effect.runId);
  }
  return [...ids];
}

/**
 * The jobs the run started, newest first (as `listJobs` orders them: creation time, then id), at most `limit`: read by
 * the ids its trace names (one primary-key read each, the last started first, until `limit` are found; a duplicate delivery's hook run names jobs never queued, which are
 * not found), or, when the trace may not name them all, by `listJobs({ parentRunId })`, which reads the jobs table.
 */
export async function startedJobs(store: Pick<Store, 'getJob' | 'listJobs'>, run: { id: string; trace: unknown }, limit: number): Promise<JobRecord[]> {
  const ids = startedJobIdsOf(run.trace);
  if (!ids) return (await store.listJobs({ parentRunId: run.id, limit })).items;
  const jobs: JobRecord[] = [];
  // The newest first: a run that started thousands of jobs (a fan-out loop) is read only as far as the limit.
  for (let i = ids.length - 1; i >= 0 && jobs.length < limit; i--) {
    const job = await store.getJob(ids[i]!);
    // A caller-chosen id could name a job another run started: only this run's own.
    if (job && job.parentRunId === run.id) jobs.push(job);
  }
  return jobs.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).slice(0, limit);
}
