// Journal entries that hold no outcome: an effect marked pending while its answer is awaited (a letter written whole,
// its server silent), so that an attempt cut off in that wait (a stop, a crash, a lost lease) does not let the next
// attempt make the effect a second time; and the entry that withdraws such a mark when the effect is known not made.
import { EffectError } from './errors.js';
import type { EffectInFlight, EffectOptions } from './model.js';
import type { EffectJournalPort, LoggerPort } from './ports.js';
import type { JsonValue } from './values.js';

// Outcomes are what blocks return (a receipt, an answer, rows): objects built by code, never with this key.
const STATE = '$effect';

/** What the journal holds for a step: nothing, an outcome to replay, or a mark left by a cut-off attempt. */
export type JournalRead = { kind: 'none' } | { kind: 'outcome'; value: JsonValue } | { kind: 'pending'; detail: JsonValue };

/**
 * Where a step's marks are kept: beside its outcome, under a key of their own. A build that knows no marks (an
 * instance not yet upgraded, sharing a PostgreSQL store) reads only the step's own key: there it would take a mark for
 * the outcome and skip the effect; beside it, the mark is invisible to it, and it makes the effect as it always did.
 */
export const markKey = (stepKey: string): string => `${stepKey}/mark`;

/**
 * Where a step records that its effect may repeat one of a cut-off attempt (EffectJournalPort.mayRepeat): beside its
 * outcome, written with it. An attempt that replays the outcome reads it and marks the replayed effect too, so the
 * twin is still named when the attempt that made it was cut off in turn (its own run record is lost with it).
 */
export const repeatKey = (stepKey: string): string => `${stepKey}/repeat`;

/**
 * What the journal holds for the effect at `stepKey`: its outcome, else a mark. A mark at the step's own key is one
 * written by the build of 2026-12-02, which kept marks there; it is still honoured.
 */
export async function readJournal(get: (stepKey: string) => Promise<JsonValue | undefined>, stepKey: string, epoch: number): Promise<JournalRead> {
  const own = readJournalEntry(await get(stepKey), epoch);
  if (own.kind !== 'none') return own;
  const mark = readJournalEntry(await get(markKey(stepKey)), epoch);
  return mark.kind === 'pending' ? mark : { kind: 'none' };
}

/**
 * Reads a stored entry. A mark made before the job's latest replay (`epoch`, its replay count) no longer stops the
 * effect: replaying a dead letter is the operator's word that it was checked and must be made again.
 */
export function readJournalEntry(stored: JsonValue | undefined, epoch: number): JournalRead {
  if (stored === undefined) return { kind: 'none' };
  if (stored === null || typeof stored !== 'object' || Array.isArray(stored) || !(STATE in stored)) return { kind: 'outcome', value: stored };
  if (stored[STATE] === 'pending' && Number(stored.epoch ?? 0) >= epoch) return { kind: 'pending', detail: stored.detail ?? null };
  return { kind: 'none' };
}

/** The error an effect left pending by a cut-off attempt stops its run with, unless the block decides otherwise. */
function interruptedError(): EffectError {
  return new EffectError(
    'unknown',
    'an earlier attempt of this job was cut off (stopped, killed, or its job taken over) while it waited for the outcome of this effect: it may have been made; it is not made again: check before replaying the job',
    { code: 'EOUTCOME' },
  );
}

/** Stops, or lets the effect be made again, when an earlier attempt left it pending. */
export function onInterrupted(detail: JsonValue, opts: EffectOptions | undefined): void {
  if (opts?.interrupted) opts.interrupted(detail);
  else throw interruptedError();
}

/** The marks of one effect being made: `handle` is what `perform` gets; the rest settle the journal afterwards. */
export interface PendingMarks {
  readonly handle: EffectInFlight;
  /** The effect succeeded: its outcome (already put) supersedes the mark in the store at once. */
  afterOutcome(): Promise<void>;
  /** The effect failed: a mark is withdrawn when the failure says the effect was not made. */
  afterFailure(e: unknown): Promise<void>;
}

/** Nothing to mark with: a dry run, or no journal. */
export const NO_MARKS: EffectInFlight = {};

/**
 * Marks for the effect at `stepKey`. A mark is written at once (`put` then `settle`), while `perform` still waits;
 * what comes after it waits for that write, so a late mark never lands on top of the outcome.
 */
export function pendingMarks(journal: EffectJournalPort, runKey: string, stepKey: string, epoch: number, logger: LoggerPort | undefined): PendingMarks {
  let written: Promise<void> | undefined;
  const at = markKey(stepKey);
  const write = async (entry: JsonValue) => {
    await journal.put(runKey, at, entry);
    await journal.settle?.();
  };
  const warn = (what: string) => (e: unknown) => logger?.warn({ err: e, runKey, stepKey }, what);
  return {
    handle: {
      markPending(detail) {
        if (written) return;
        written = write({ [STATE]: 'pending', epoch, detail }).catch(
          warn('cannot record that an effect is waiting for its outcome; if this attempt is cut off now, the next one makes it again'),
        );
      },
    },
    async afterOutcome() {
      if (!written) return;
      await written;
      // The outcome was put just before; written now instead of with the attempt's end, so that an attempt cut off
      // from here on finds the outcome (which a reader takes before the mark) and does not stop at the mark.
      await Promise.resolve(journal.settle?.()).catch(warn('cannot record an effect outcome yet; it is recorded with the end of the attempt'));
    },
    async afterFailure(e) {
      if (!written) return;
      await written;
      // A failure of kind `unknown` leaves the effect perhaps made: the mark stays, so no later attempt repeats it.
      // Any other failure means it was not made (a refusal): withdrawn with the attempt's end, so a retry makes it.
      if (e instanceof EffectError && e.kind !== 'unknown') {
        await journal.put(runKey, at, { [STATE]: 'not-made' }).catch(warn('cannot withdraw the pending mark of a failed effect'));
      }
    },
  };
}
