// The fence an attempt passes before each of its effects: an attempt makes an effect only while its pool can be sure
// it still holds the job's lease. A process paused past its lease (SIGSTOP, a VM pause, a long GC) wakes up with its
// attempts in the middle of their runs while another instance may have taken their jobs over; its timers, the
// heartbeat's included, fire late, so the fence does not wait for one: it compares the clock, at the moment of the
// effect, with the time the last renewal that succeeded was sent.
import { RUN_ERROR_CODES, RunFailure } from '../../engine/index.js';

/** Milliseconds for lease ages: never goes back, and never runs slower than the monotonic clock or the wall clock. */
export type LeaseClock = () => number;

/**
 * The monotonic clock (performance.now()), moved forward to the wall clock when that is ahead: CLOCK_MONOTONIC runs
 * through a SIGSTOP or a GC pause, but stops while the system is suspended (and some hypervisors pause it with the
 * VM), after which the wall clock, set again from the hardware clock or NTP, shows the time that passed.
 */
export function leaseClock(): LeaseClock {
  let mono = performance.now();
  let at = Date.now();
  return () => {
    const m = performance.now();
    at = Math.max(at + (m - mono), Date.now());
    mono = m;
    return at;
  };
}

/** What a pool knows of the lease of one job it holds (claimed ahead or running). */
export interface LeaseHold {
  /** When the claim, or the last renewal that succeeded, was sent: the lease runs at least `leaseMs` from then. */
  since: number;
  /**
   * A renewal came back without the job: another instance took it over (or it was given back). Also set by a stop
   * right before it gives the job back, so that the attempt makes no effect once another instance may claim the job.
   */
  lost: boolean;
  /** Lost because this pool's stop gives the job back (for the run's error message). */
  givenBack?: boolean;
  /** Set while an attempt runs: its journal's `complete` (attempt-journal.ts), which a stop asks before the give-back. */
  journalComplete?: () => Promise<boolean>;
  /**
   * The stop's give-back of the job, once sent, settled when the store has answered it (and the hold says whether it
   * was given back): the attempt's end waits for it, which would otherwise reach the store first, while the job is
   * still leased to this pool (the give-back first writes the journal entries waiting), and be taken as a counted attempt.
   */
  givingBack?: Promise<void>;
  /**
   * Set while an attempt runs: aborted when a renewal finds a cancel requested for the job (store/cancel-request.ts),
   * with the request as its reason; the run stops before its next block (the block running then, an effect under way
   * included, finishes first).
   */
  cancel?: AbortController;
}

/**
 * How much of the lease must be left for an effect to go ahead without asking the store: room for the time between
 * the check and the effect's start, and for the clocks of the instances to differ. The heartbeat renews every third
 * of the lease, so a lease this close to its end means renewals have been failing or the process was stalled.
 */
export const fenceMarginMs = (leaseMs: number): number => leaseMs / 3;

export interface LeaseFenceOptions {
  leaseMs: number;
  clock: LeaseClock;
  /** Renews this job's lease: resolves whether the store still had it leased to this pool. */
  renew(): Promise<boolean>;
}

/**
 * The fence of one attempt (EffectJournalPort.fence). A lease with more than the margin left: nothing to do, no round
 * trip. Near its end: renewed first, and the effect goes ahead only if that renewal succeeds. Lost (reported by
 * the heartbeat, or by that renewal): the attempt stops with R_LEASE_LOST before the effect.
 */
export function leaseFence(hold: LeaseHold, o: LeaseFenceOptions): () => void | Promise<void> {
  /** Lost: given back by this pool's stop, or else taken over as `why` says. */
  const lost = (why: string) => leaseLost(hold.givenBack ? GIVEN_BACK : why);
  const nearEnd = () => o.clock() - hold.since >= o.leaseMs - fenceMarginMs(o.leaseMs);
  async function renewFirst(): Promise<void> {
    const sent = o.clock();
    let held: boolean;
    try {
      held = await o.renew();
    } catch (e) {
      throw leaseLost(`its lease is about to run out and could not be renewed (${e instanceof Error ? e.message : String(e)})`);
    }
    if (!held) {
      hold.lost = true;
      throw lost('its lease ran out and another worker took the job over');
    }
    hold.since = Math.max(hold.since, sent);
    // A stop may have given the job back while the renewal was in flight (it marks the hold lost first): its answer
    // predates that, so it does not let the effect through.
    if (hold.lost) throw lost('another worker took the job over');
    // The renewal itself may have been held up (the process paused while it was in flight): checked again.
    if (nearEnd()) throw leaseLost('renewing its lease took longer than the lease allows');
  }
  return () => {
    if (hold.lost) throw lost('another worker took the job over (the heartbeat could not renew its lease)');
    if (nearEnd()) return renewFirst();
    return undefined;
  };
}

const GIVEN_BACK = 'the server is stopping and gave the job back to the queue, for the next start or another instance';

function leaseLost(why: string): RunFailure {
  return new RunFailure(RUN_ERROR_CODES.LEASE_LOST, `stopped before this effect, which was not made: ${why}; the job is left to its new owner`, true);
}
