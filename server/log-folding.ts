// The log of an outage (SMTP, Bpium, a WebRequest's host or a database down, refusing, too busy), folded. Without
// it every failed attempt of every job writes its lines: a 3-minute SMTP outage under load wrote 8,000 of them per
// instance. Instead, for each service and kind of failure (`OutageKey`):
// - the first failure is written in full (the adapter's line and the job's, with its cause and what becomes of it);
// - its repeats are counted, their lines written at debug level, and summed up in one line per window;
// - the service answering again ends the outage with one line, with what failed meanwhile.
// What is not a repeat is written as it comes: another kind of failure starts its own count, and an attempt that
// gives its job up (a dead letter) keeps its own line, so each dead letter can be found in the log by its job id.
// One folder per process: the delivery thread's failures come to it as messages (thread.ts), so both modes fold alike.
import type { LoggerPort, LogLine, OutageKey, OutageLogPort } from '../engine/index.js';
import { spanText } from './store/backoff.js';

/** How long repeats are counted before a line sums them up (OKTELL_LOG_REPEATS_MS). */
export const DEFAULT_LOG_REPEATS_MS = 30_000;

export interface OutageLog extends OutageLogPort {
  /** Sums up the repeats not said yet (at a stop): no count is lost between two summaries. */
  flush(): void;
  /** Ends the summary timer. */
  close(): void;
}

/** Counts of failures not yet said in a line. */
interface Unsaid {
  attempts: number;
  jobs: Set<string>;
  letters: number;
  givenUp: number;
}

interface Streak {
  key: OutageKey;
  /** When its first failure came, and when its last line (the first failure, or a summary) was written. */
  since: number;
  saidAt: number;
  /** Whether a job's failed attempt, and an adapter's failed effect, of this kind have been written in full. */
  attemptSaid: boolean;
  effectSaid: boolean;
  /** Since the first failure, that one included. */
  attempts: number;
  letters: number;
  givenUp: number;
  unsaid: Unsaid;
}

const none = (): Unsaid => ({ attempts: 0, jobs: new Set(), letters: 0, givenUp: 0 });

/**
 * The folder. `windowMs`: how often repeats are summed up (a timer looks every window; a repeat that comes after the
 * window also brings its summary). `timer: false` leaves the summing up to the failures, `flush` and `reached` (tests).
 */
export function createOutageLog(logger: LoggerPort, opts: { windowMs?: number; now?: () => number; timer?: boolean } = {}): OutageLog {
  const windowMs = opts.windowMs ?? DEFAULT_LOG_REPEATS_MS;
  const now = opts.now ?? Date.now;
  const streaks = new Map<string, Streak>();
  /** Targets with an outage going on: `reached` is called for every letter sent and must be cheap. */
  const failing = new Set<string>();

  function streakOf(key: OutageKey, t: number): { s: Streak; first: boolean } {
    const id = `${key.target}\u0000${key.kind}`;
    const s = streaks.get(id);
    if (s) return { s, first: false };
    const fresh: Streak = { key, since: t, saidAt: t, attemptSaid: false, effectSaid: false, attempts: 0, letters: 0, givenUp: 0, unsaid: none() };
    streaks.set(id, fresh);
    failing.add(key.target);
    return { s: fresh, first: true };
  }

  /** The line of a streak's first failure: what it is, and that its repeats are summed up. */
  function announced(line: LogLine, s: Streak): LogLine {
    const note = `; ${s.key.target} is failing (${s.key.kind}): further failures of this kind are summed up every ${spanText(windowMs)} until it answers again`;
    return { level: line.level, obj: { ...line.obj, outage: s.key.target, kind: s.key.kind }, msg: `${line.msg}${note}` };
  }

  function write(line: LogLine): void {
    logger[line.level](line.obj, line.msg);
  }

  /** The summary of a streak's repeats not said yet; `tail` ends it. */
  function sayRepeats(s: Streak, t: number, tail: string): void {
    const u = s.unsaid;
    if (u.attempts + u.letters === 0) return;
    const parts: string[] = [];
    if (u.attempts) parts.push(`${u.attempts} more failed attempt(s) of ${u.jobs.size} job(s)`);
    if (u.letters) parts.push(`${u.letters} more letter(s) not sent`);
    const given = u.givenUp ? `; ${u.givenUp} job(s) given up (dead letters, each logged on its own line)` : '';
    logger.warn(
      { outage: s.key.target, kind: s.key.kind, attempts: u.attempts, jobs: u.jobs.size, letters: u.letters, givenUp: u.givenUp, ms: t - s.saidAt, sinceMs: t - s.since },
      `${s.key.target} still failing (${s.key.kind}): ${parts.join(', ')} in the last ${spanText(t - s.saidAt)}${given}${tail}`,
    );
    s.unsaid = none();
    s.saidAt = t;
  }

  function dueSummaries(t: number): void {
    for (const s of streaks.values()) if (t - s.saidAt >= windowMs) sayRepeats(s, t, '');
  }

  const timer = opts.timer === false ? undefined : setInterval(() => dueSummaries(now()), windowMs);
  timer?.unref();

  return {
    effectFailed(key, line) {
      const t = now();
      const { s, first } = streakOf(key, t);
      s.letters++;
      if (!s.effectSaid) {
        s.effectSaid = true;
        write(first ? announced(line, s) : line);
      } else {
        s.unsaid.letters++;
        logger.debug(line.obj, line.msg);
      }
      dueSummaries(t);
    },
    attemptFailed(key, line, job) {
      const t = now();
      const { s, first } = streakOf(key, t);
      s.attempts++;
      if (job.givenUp) s.givenUp++;
      if (!s.attemptSaid) {
        s.attemptSaid = true;
        write(first ? announced(line, s) : line);
      } else {
        s.unsaid.attempts++;
        s.unsaid.jobs.add(job.id);
        // A dead letter is work for a person: its line stays, whatever the count.
        if (job.givenUp) {
          s.unsaid.givenUp++;
          write(line);
        } else logger.debug(line.obj, line.msg);
      }
      dueSummaries(t);
    },
    reached(target) {
      if (!failing.has(target)) return;
      failing.delete(target);
      const t = now();
      const ended = [...streaks].filter(([, s]) => s.key.target === target);
      let since = t;
      const total = { attempts: 0, letters: 0, givenUp: 0 };
      for (const [id, s] of ended) {
        sayRepeats(s, t, '');
        streaks.delete(id);
        since = Math.min(since, s.since);
        total.attempts += s.attempts;
        total.letters += s.letters;
        total.givenUp += s.givenUp;
      }
      const parts: string[] = [];
      if (total.attempts) parts.push(`${total.attempts} attempt(s) failed meanwhile${total.givenUp ? ` (${total.givenUp} job(s) given up as dead letters)` : ''}`);
      if (total.letters) parts.push(`${total.letters} letter(s) not sent`);
      logger.info(
        { outage: target, kinds: ended.map(([, s]) => s.key.kind), ms: t - since, ...total },
        `${target} reachable again after ${spanText(t - since)}; ${parts.join(', ')}`,
      );
    },
    flush() {
      const t = now();
      for (const s of streaks.values()) sayRepeats(s, t, '; said at the stop, the outage not over');
    },
    close() {
      clearInterval(timer);
    },
  };
}
