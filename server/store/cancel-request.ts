// A cancel requested for a running job (`oktell-emu cancel`, the console's Cancel): kept on the job (jobs.cancel_request,
// JSON `{"by": …, "at": …}`) until its attempt ends. The worker that runs the attempt reads it with its lease renewals
// (`cancelRequests`) and stops the run before its next block (an effect under way ends first); the store, when the
// attempt ends in failure, makes the job a dead letter R_CANCELLED instead of retrying it. See docs/store.md.
import { RUN_ERROR_CODES } from '../../engine/errors.js';
import type { EpochMs } from './store.port.js';
import { keepingCut } from '../run-record.js';

/** Who asked for the cancel (`oktell-emu cancel, ops@host`, `the console, login ops`) and when. */
export interface CancelRequest {
  by: string;
  at: EpochMs;
}

/**
 * The column's text for a request, without its `replay`: the statement that records it adds the job's replay_count
 * there (`requestCancel` in sqlite.statements.ts and postgres.sql.ts), in the same write.
 */
export function cancelRequestJson(by: string, at: EpochMs): string {
  return JSON.stringify({ by, at });
}

/**
 * The request a `cancel_request` column holds, or null (none, text this build cannot read, or a request made before
 * the job's last replay). A replay empties the column, but the replay of a build from before the column (its console
 * during a rolling upgrade on PostgreSQL) does not: the request it leaves names the replay_count the job had when it
 * was made, so that the replayed job is not stopped by it before its first block. `replayCount`: the job's now.
 */
export function cancelRequestOf(text: string | null | undefined, replayCount: number): CancelRequest | null {
  if (typeof text !== 'string' || text === '') return null;
  try {
    const v = JSON.parse(text) as { by?: unknown; at?: unknown; replay?: unknown };
    if (typeof v?.by !== 'string') return null;
    if (typeof v.replay === 'number' && v.replay !== Number(replayCount)) return null;
    const at = Number(v.at);
    return { by: v.by, at: Number.isFinite(at) ? at : 0 };
  } catch {
    return null;
  }
}

/**
 * The error a job whose cancel was requested while it ran keeps as its last one, R_CANCELLED like that of a queued
 * job cancelled (run-status.ts cancelledError), saying who asked and when, and what its attempt did: `attemptError`,
 * the error of the attempt's own end (R_CANCELLED when it stopped for the request, another when it failed first).
 */
export function cancelledWhileRunning(req: CancelRequest, attemptError: unknown): unknown {
  const stopped = (attemptError as { code?: unknown } | null)?.code === RUN_ERROR_CODES.CANCELLED;
  const how = stopped ? 'its running attempt stopped at a block boundary' : 'its running attempt failed before it stopped, and is not retried';
  const error = {
    code: RUN_ERROR_CODES.CANCELLED,
    message: `cancelled by an operator (${req.by}, ${new Date(req.at).toISOString()}): ${how}`,
    whileRunning: true,
    ...(stopped || attemptError == null ? {} : { attemptError }),
  };
  // An attempt after a cut-off one that failed before it journaled an effect passes that suspicion on (`afterCut`):
  // a replay's first effects may repeat the cut attempt's last, and are marked so.
  return keepingCut(attemptError, error);
}

/**
 * Whether an attempt's failure, given a cancel requested while it ran, ends the job as a dead letter R_CANCELLED:
 * when it would be retried (the cancel means: no more attempts), or when it stopped for the request. A failure that
 * gives the job up anyway (failed for good, dead at its last attempt) keeps its own error, and its dead-letter catch-all.
 */
export function buriedByCancel(req: CancelRequest | null, retry: boolean, attemptError: unknown): req is CancelRequest {
  return req !== null && (retry || (attemptError as { code?: unknown } | null)?.code === RUN_ERROR_CODES.CANCELLED);
}
