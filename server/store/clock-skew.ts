// How far an instance's clock is from the database server's. With several instances on one PostgreSQL, each judges
// the leases of the jobs it claims and the due times of the service tasks by its own clock: an instance ahead runs
// every scheduled task early, and once it is ahead by two thirds of the lease it takes over jobs other instances are still
// running. Nothing else shows it, so `serve` measures it against PostgreSQL's clock at its start and every few
// minutes after, says when it drifts, and shows it as a metric.
import type { LoggerPort } from '../../engine/index.js';

/** This process's clock minus the database server's, and the round trip it was measured over. */
export interface ClockOffset {
  offsetMs: number;
  roundTripMs: number;
}

/** A difference past this (beyond what the round trip leaves unknown) is worth a warning: NTP keeps clocks far closer. */
export const CLOCK_SKEW_WARN_MS = 1000;

/**
 * The offset of the sample with the shortest round trip: this clock at the middle of the round trip minus the
 * database's clock read during it.
 */
export function clockOffsetOf(samples: ReadonlyArray<{ sentAt: number; receivedAt: number; dbAt: number }>): ClockOffset {
  const best = [...samples].sort((a, b) => a.receivedAt - a.sentAt - (b.receivedAt - b.sentAt))[0]!;
  const roundTripMs = best.receivedAt - best.sentAt;
  return { offsetMs: Math.round(best.sentAt + roundTripMs / 2 - best.dbAt), roundTripMs };
}

/** The warning to log for an offset, or undefined when the clocks agree closely enough. */
export function clockSkewWarning(o: ClockOffset, leaseMs: number): string | undefined {
  const sure = Math.abs(o.offsetMs) - o.roundTripMs / 2;
  if (sure <= CLOCK_SKEW_WARN_MS) return undefined;
  const s = (Math.abs(o.offsetMs) / 1000).toFixed(1);
  const ahead = o.offsetMs > 0;
  const consequence = ahead
    ? `it runs the service tasks' due times ${s} s early, before the other instances would, and ${Math.abs(o.offsetMs) >= (leaseMs * 2) / 3 ? 'already' : 'once the difference nears two thirds of the lease'} takes over jobs other instances are still running (their leases look expired to it, OKTELL_LEASE_MS=${leaseMs}), so those jobs run twice at once`
    : `the other instances take over the jobs it runs ${Math.abs(o.offsetMs) >= (leaseMs * 2) / 3 ? 'while it still runs them' : 'early once the difference nears two thirds of the lease'} (its leases look expired to them, OKTELL_LEASE_MS=${leaseMs}), and it leaves the service tasks' due times to them`;
  return `this instance's clock is ${s} s ${ahead ? 'ahead of' : 'behind'} the database server's (PostgreSQL clock_timestamp(), measured over a ${Math.round(o.roundTripMs)} ms round trip): leases and due times are judged by each instance's own clock, so if the other instances keep the database server's time, ${consequence}; keep every instance's clock, and the database server's, in sync with NTP (docs/scaling.md, "Clocks")`;
}

/** How often `serve` on PostgreSQL measures again after its start (OKTELL_CLOCK_CHECK_MS; 0: at the start only). */
export const DEFAULT_CLOCK_CHECK_MS = 300_000;
/** After a warning, the clock counts as back in step only this close (ms), so an offset about a second does not flip. */
const CLOCK_BACK_MS = 500;
/** A measurement the database takes longer than this to answer is skipped (advisory: it never holds anything up). */
const MEASURE_TIMEOUT_MS = 2000;

export interface ClockWatch {
  /**
   * `oktell_clock_offset_seconds`, the last measured offset, and `oktell_clock_offset_measured_timestamp_seconds`, when
   * it was measured (it keeps its value while measurements fail: the timestamp shows how old it is); nothing before a
   * measurement succeeded.
   */
  metricLines(): string[];
  stop(): void;
}

/**
 * Measures this clock against the database's at once and then every `everyMs` (0: once), and says when it drifts:
 * a warning when the offset first passes the threshold (at the start or later, as when NTP stops on a running host),
 * an info line when it is back within half a second. While it stays off no more is said unless it changes direction or
 * crosses two thirds of the lease (the warning's words then change); the gauge follows every measurement.
 * The first measurement is awaited (at most 2 s), so the start's warning comes before the server listens.
 */
export async function watchClock(o: { measure: () => Promise<ClockOffset>; leaseMs: number; everyMs: number; logger: LoggerPort }): Promise<ClockWatch> {
  let last: ClockOffset | undefined;
  /** When `last` was measured (epoch ms). */
  let lastAt = 0;
  /** What the last warning said (its direction, and whether past two thirds of the lease); undefined: in step. */
  let said: string | undefined;
  let measuring = false;
  let stopped = false;
  const check = async () => {
    if (measuring || stopped) return;
    // Busy until the database answers, even after the wait below gave up: a stalled database gets one measurement
    // at a time, not one more every interval piling up in the pool.
    measuring = true;
    const measured = o.measure().then(
      (x): ClockOffset | undefined => x,
      () => undefined,
    );
    void measured.finally(() => (measuring = false));
    let timer: NodeJS.Timeout | undefined;
    const offset = await Promise.race([measured, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), MEASURE_TIMEOUT_MS)).unref())]);
    clearTimeout(timer);
    if (!offset || stopped) return;
    last = offset;
    lastAt = Date.now();
    const warning = clockSkewWarning(offset, o.leaseMs);
    const fields = { clockOffsetMs: offset.offsetMs, roundTripMs: offset.roundTripMs };
    // Said again when what it says changes: an instance 2 s ahead that comes to be 45 s ahead (now taking over jobs
    // others run), or goes 20 s behind, must not stay with the first warning's words.
    const kind = warning ? `${offset.offsetMs > 0 ? 'ahead' : 'behind'}${Math.abs(offset.offsetMs) >= (o.leaseMs * 2) / 3 ? ' past the lease' : ''}` : undefined;
    if (warning) {
      if (kind !== said) o.logger.warn(fields, warning);
      said = kind;
    } else if (said && Math.abs(offset.offsetMs) <= CLOCK_BACK_MS) {
      // Back only well inside the threshold, so an offset hovering about a second does not flip the log every check.
      o.logger.info(fields, `this instance's clock is back in step with the database server's (${offset.offsetMs} ms apart, measured over a ${Math.round(offset.roundTripMs)} ms round trip): the earlier warning about its clock no longer holds`);
      said = undefined;
    }
  };
  await check();
  const timer = o.everyMs > 0 ? setInterval(() => void check(), o.everyMs) : undefined;
  timer?.unref();
  return {
    metricLines: () =>
      last === undefined
        ? []
        : [
            "# HELP oktell_clock_offset_seconds This instance's clock minus the database server's (PostgreSQL clock_timestamp()) at the last measurement: leases and service tasks' due times follow each instance's own clock, so keep it near 0 on every instance (NTP).",
            '# TYPE oktell_clock_offset_seconds gauge',
            `oktell_clock_offset_seconds ${last.offsetMs / 1000}`,
            '# HELP oktell_clock_offset_measured_timestamp_seconds When oktell_clock_offset_seconds was measured (Unix time): it keeps its last value while measurements fail, so alert when this falls behind by more than a few check intervals.',
            '# TYPE oktell_clock_offset_measured_timestamp_seconds gauge',
            `oktell_clock_offset_measured_timestamp_seconds ${Math.floor(lastAt / 1000)}`,
          ],
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
