// The effect journal of one job attempt. Entries wait in memory and reach the store with the attempt's outcome, in
// the same transaction, instead of one write per effect:
// - an attempt that succeeds drops those still waiting at its end: a succeeded job never runs again, so nothing
//   would ever read them;
// - an attempt that fails writes them with its outcome, so the next attempt replays what already happened;
// - before the run next waits on the outside world (the next effect, or a read such as a Bpium GET or a database
//   SELECT: `rt.external`), entries still waiting are written first. So an entry waits only while blocks compute,
//   which takes about as long as the grouped commit one write per effect used to wait for.
// A crash in that window repeats the effect on the next attempt, as a crash between an effect and its write did before.
// So an attempt that follows a cut-off one (`afterLostAttempt`) says of each effect it makes before its first write
// that it may be such a repeat (`mayRepeat`): the run records and logs it, and an operator can look for the twin.
// The answers of reads (`put` with `read`: a database SELECT of a queued job) wait longer: a read's answer matters
// only to the effects after it, so it is written with the next batch that holds other entries (ahead of them), or
// with the attempt's outcome when an effect's entry waits there too. Reads after the attempt's last effect are never
// written: a job that only reads writes nothing more than before, and a retry reads what is there then.
import { VERSIONS_KEY, type EffectJournalPort, type JsonValue } from '../../engine/index.js';
import type { JournalEntry } from '../store/store.port.js';
import type { DeliveryStore } from './store-link.js';

export interface AttemptJournal {
  /** The port the run uses. */
  readonly port: EffectJournalPort;
  /** Entries not yet in the store; the attempt's outcome carries them. */
  take(): JournalEntry[];
  /** The step keys of the reads this attempt journaled: no effect, so not counted as one made. */
  readonly readKeys: ReadonlySet<string>;
  /**
   * For a stop that has fenced the attempt (no effect starts after this): writes the entries still waiting and says
   * whether the store now holds every effect the attempt made, which is so when none is in flight (one past its
   * fence may still be made, and its entry could be lost with the process) and the write succeeded; and, after a
   * cut-off attempt, only once this one has written an effect's outcome (before that, the cut attempt's last effect
   * may be missing, and saying "all in the journal" would drop the next attempt's `may repeat`).
   */
  complete(): Promise<boolean>;
}

/**
 * Whether a journal entry is an effect's outcome: not a pending mark or its withdrawal (`…/mark`), nor the note that
 * an effect may repeat a cut-off attempt's (`…/repeat`), nor the record of scenario versions.
 */
export function isEffectOutcome(stepKey: string): boolean {
  return stepKey !== VERSIONS_KEY && !stepKey.endsWith('/mark') && !stepKey.endsWith('/repeat');
}

/**
 * `lookUp`: false for a first attempt (never claimed before, never replayed), which has nothing in the store to
 * replay, so it skips the look-ups. `fence`: checked right before each effect (lease-fence.ts). `afterLostAttempt`:
 * the job's previous attempt was cut off with its end unrecorded (`previousAttemptCut`).
 */
export function attemptJournal(
  store: Pick<DeliveryStore, 'getEffect' | 'putEffectGroup'>,
  lookUp: boolean,
  fence?: () => void | Promise<void>,
  opts: { afterLostAttempt?: boolean } = {},
): AttemptJournal {
  let waiting: Array<JournalEntry & { runKey: string }> = [];
  /** Effects past the fence whose outcome has not been put yet (`afterEffect`). */
  let inFlight = 0;
  /** Writes of entries under way (the run's own flushes): `complete` waits for them too. */
  const writing = new Set<Promise<void>>();
  /** Answers of reads not yet in the store: they go with the next flush of other entries, first. */
  let reads: Array<JournalEntry & { runKey: string }> = [];
  const readKeys = new Set<string>();
  /**
   * Whether the outcome of an effect of this attempt has reached the store. The cut attempt, following the same steps, wrote the
   * entries of its effects before going past this point too, so only the effects before it may be its unjournaled last.
   */
  let wrote = false;
  const flush = async () => {
    const batch = waiting;
    const readBatch = reads;
    waiting = [];
    reads = [];
    try {
      // The reads with the entries after them, in one write of the store (one transaction, one message across the
      // delivery thread): a crash cannot leave the reads without the effect and the scenario-versions record that
      // follow them (a retry would replay reads an edited scenario no longer matches), nor an effect without its reads.
      const write = store.putEffectGroup([...readBatch, ...batch]);
      writing.add(write);
      await write.finally(() => writing.delete(write));
      // An effect's outcome: not a pending mark or its withdrawal (`…/mark`), nor the record of scenario versions.
      if (batch.some((e) => isEffectOutcome(e.stepKey))) wrote = true;
    } catch (e) {
      // Not written: they stay for the attempt's outcome, which carries them when the effect that follows fails.
      waiting = [...batch, ...waiting];
      reads = [...readBatch, ...reads];
      throw e;
    }
  };
  const settle = async () => {
    if (waiting.length) await flush();
  };
  return {
    port: {
      async get(runKey: string, stepKey: string): Promise<JsonValue | undefined> {
        // An effect is about to start: what happened before it must be durable first.
        await settle();
        return lookUp ? store.getEffect(runKey, stepKey) : undefined;
      },
      async put(runKey: string, stepKey: string, outcome: JsonValue, putOpts?: { read?: boolean }): Promise<void> {
        if (putOpts?.read) {
          reads.push({ runKey, stepKey, outcome });
          readKeys.add(stepKey);
          return;
        }
        // The last put of a step wins (an outcome over the pending mark a slow letter left, if that mark's write
        // failed and waits here): the entries of one flush are written at once, in no set order.
        const same = waiting.findIndex((e) => e.stepKey === stepKey && e.runKey === runKey);
        if (same >= 0) waiting.splice(same, 1);
        waiting.push({ runKey, stepKey, outcome });
      },
      // A read is about to wait on the outside world: the same.
      settle,
      // An effect is in flight from the moment its fence is asked (a renewal the fence waits for included) until the
      // fence refuses it or the effect ends (`afterEffect`): a stop never sees an effect about to start as none.
      fence: () => {
        inFlight++;
        let asked: void | Promise<void>;
        try {
          asked = fence?.();
        } catch (e) {
          inFlight--;
          throw e;
        }
        if (asked === undefined) return undefined;
        return asked.catch((e: unknown) => {
          inFlight--;
          throw e;
        });
      },
      afterEffect: () => {
        inFlight--;
      },
      mayRepeat: () => opts.afterLostAttempt === true && !wrote,
    },
    async complete() {
      if (inFlight > 0) return false;
      try {
        // A flush the run started (before a read) may still be under way, its entries no longer waiting here.
        await Promise.all([...writing, settle()]);
      } catch {
        return false;
      }
      // After a cut-off attempt, until this one has written an effect's outcome, that attempt's last effect may be
      // missing from the journal (`mayRepeat`): this attempt cannot vouch for it, so the next one keeps the suspicion.
      return waiting.length === 0 && !(opts.afterLostAttempt === true && !wrote);
    },
    take() {
      // A read is put right after its look-up, which wrote every entry waiting then: so the reads still here come
      // before all the entries waiting, and with none waiting they come after the attempt's last effect. Those are
      // left out: no effect of this attempt depends on them, and a retry reads the rows as they are then.
      const needed = waiting.length ? reads : [];
      const out = [...needed, ...waiting].map(({ stepKey, outcome }) => ({ stepKey, outcome }));
      waiting = [];
      reads = [];
      return out;
    },
    readKeys,
  };
}
