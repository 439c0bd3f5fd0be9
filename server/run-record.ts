// Converts an engine RunResult into the store's run record.
import type { RunResult } from '../engine/index.js';
import type { RunTrigger, RunWrite } from './store/store.port.js';

export function runWrite(
  result: RunResult,
  extra: { trigger: RunTrigger; params: unknown; jobId?: string | null; inboxId?: number | null; parentRunId?: string | null; attempt?: number; workerId?: string | null },
): RunWrite {
  const startedAt = Date.parse(result.startedAt);
  return {
    id: result.runId,
    scenario: result.scenario,
    version: result.version,
    trigger: extra.trigger,
    status: result.status,
    startedAt,
    finishedAt: startedAt + Math.round(result.durationMs),
    durationMs: result.durationMs,
    params: extra.params,
    returnValues: result.returnValues,
    error: result.error ?? null,
    trace: result.trace,
    bpiumCalls: result.bpiumCalls,
    mails: result.mails,
    ...(extra.jobId !== undefined ? { jobId: extra.jobId } : {}),
    ...(extra.inboxId !== undefined ? { inboxId: extra.inboxId } : {}),
    ...(extra.parentRunId !== undefined ? { parentRunId: extra.parentRunId } : {}),
    ...(extra.attempt !== undefined ? { attempt: extra.attempt } : {}),
    ...(extra.workerId !== undefined ? { workerId: extra.workerId } : {}),
  };
}
