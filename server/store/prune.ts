// What both stores share of retention pruning: the cutoffs from the options, the result, the ids of dead letters.
import { StoreUsageError } from './store.errors.js';
import { PRUNED_DEAD_LETTER_IDS, type PruneOptions, type PruneResult } from './store.port.js';

/** The cutoff times of a prune; refuses a negative or non-numeric age. */
export function pruneCutoffs(opts: PruneOptions, now: number): { cutoff: number; deadCutoff?: number } {
  if (!(opts.olderThanMs >= 0)) throw new StoreUsageError('olderThanMs must be a non-negative number');
  const dead = opts.deadLettersOlderThanMs;
  if (dead === undefined) return { cutoff: now - opts.olderThanMs };
  if (!(dead >= 0)) throw new StoreUsageError('deadLettersOlderThanMs must be a non-negative number');
  return { cutoff: now - opts.olderThanMs, deadCutoff: now - dead };
}

export const emptyPruneResult = (): PruneResult => ({ inbox: 0, runs: 0, jobs: 0, effects: 0, deadLetters: 0, deadLetterIds: [] });

/** Counts a chunk of pruned dead letters and keeps the first ids for the log. */
export function noteDeadLetters(result: PruneResult, ids: readonly string[]): void {
  result.deadLetters += ids.length;
  for (const id of ids) {
    if (result.deadLetterIds.length >= PRUNED_DEAD_LETTER_IDS) break;
    result.deadLetterIds.push(id);
  }
}
