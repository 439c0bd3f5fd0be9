// The effect journal of one job attempt. Entries wait in memory and reach the store with the attempt's outcome, in
// the same transaction, instead of one write per effect:
// - an attempt that succeeds drops those still waiting at its end: a succeeded job never runs again, so nothing
//   would ever read them;
// - an attempt that fails writes them with its outcome, so the next attempt replays what already happened;
// - before the run next waits on the outside world (the next effect, or a read such as a Bpium GET or a database
//   SELECT: `rt.external`), entries still waiting are written first. So an entry waits only while blocks compute,
//   which takes about as long as the grouped commit one write per effect used to wait for.
// A crash in that window repeats the effect on the next attempt, as a crash between an effect and its write did before.
import type { EffectJournalPort, JsonValue } from '../../engine/index.js';
import type { JournalEntry } from '../store/store.port.js';
import type { DeliveryStore } from './store-link.js';

export interface AttemptJournal {
  /** The port the run uses. */
  readonly port: EffectJournalPort;
  /** Entries not yet in the store; the attempt's outcome carries them. */
  take(): JournalEntry[];
}

/**
 * `lookUp`: false for a first attempt (never claimed before, never replayed), which has nothing in the store to
 * replay, so it skips the look-ups. `fence`: checked right before each effect (lease-fence.ts).
 */
export function attemptJournal(store: Pick<DeliveryStore, 'getEffect' | 'putEffect'>, lookUp: boolean, fence?: () => void | Promise<void>): AttemptJournal {
  let waiting: Array<JournalEntry & { runKey: string }> = [];
  const flush = async () => {
    const batch = waiting;
    waiting = [];
    try {
      await Promise.all(batch.map((e) => store.putEffect(e.runKey, e.stepKey, e.outcome)));
    } catch (e) {
      // Not written: they stay for the attempt's outcome, which carries them when the effect that follows fails.
      waiting = [...batch, ...waiting];
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
      async put(runKey: string, stepKey: string, outcome: JsonValue): Promise<void> {
        // The last put of a step wins (an outcome over the pending mark a slow letter left, if that mark's write
        // failed and waits here): the entries of one flush are written at once, in no set order.
        const same = waiting.findIndex((e) => e.stepKey === stepKey && e.runKey === runKey);
        if (same >= 0) waiting.splice(same, 1);
        waiting.push({ runKey, stepKey, outcome });
      },
      // A read is about to wait on the outside world: the same.
      settle,
      ...(fence ? { fence } : {}),
    },
    take() {
      const out = waiting.map(({ stepKey, outcome }) => ({ stepKey, outcome }));
      waiting = [];
      return out;
    },
  };
}
