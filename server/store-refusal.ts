// The requests the store refuses (a full disk, a read-only file, a lock), said in the log: each is answered 503 and
// its request line shows only the status, so without these lines nothing in the log says why webhooks are refused.
import type { LoggerPort } from '../engine/index.js';
import { freeSpaceHint } from '../cli/shell-word.js';
import type { Metrics } from './metrics.js';
import type { StoreUnavailableError } from './store/store.errors.js';

/** How often, at most, a refusal that goes on is said again (with the count of the requests refused meanwhile). */
export const STORE_REFUSAL_LOG_EVERY_MS = 30_000;

/**
 * A reason that changes within this long of the last warning is folded into that warning's spell, not said at once: a
 * PostgreSQL that crashes answers full, then io, then full again within a tenth of a second. A reason that lasts is
 * said by the first refusal after it (at most this late), with the other reasons refused meanwhile.
 */
export const STORE_REFUSAL_REASON_FOLD_MS = 5_000;

/** What to check for each reason the SQLite store gives (store.errors.ts). */
const WHAT_TO_CHECK: Record<string, string> = {
  // SQLite says SQLITE_FULL for a disk without room (ENOSPC) only: a user's quota (EDQUOT) comes as an I/O error.
  // Said with the data folder itself where it is known (fullHint): this is the line without it.
  full: 'the disk holding the data folder is full (or the store is at OKTELL_STORE_MAX_PAGES): free space (df -h for room, df -i for files, on the data folder) or raise OKTELL_STORE_MAX_PAGES',
  readonly: 'the store file or its folder is read-only (a read-only mount, chattr +i, permissions): make them writable',
  busy: 'another program holds a lock on the store (a sqlite3 shell, a backup): end it',
  io: "the disk or the database answers with errors: check it (dmesg); SQLite says a user's disk quota that is exceeded (EDQUOT) this way too (quota -s)",
  closed: 'the store is closed (the server is stopping)',
};

/** The same for PostgreSQL (postgres.batcher.ts, classifyPgError): the database is elsewhere, and so is its disk. */
const WHAT_TO_CHECK_PG: Record<string, string> = {
  full: "the disk of the PostgreSQL server is full (53100): free space on the database's host",
  readonly: 'PostgreSQL refuses writes (25006: a standby, or default_transaction_read_only): point OKTELL_STORE at the primary',
  busy: 'PostgreSQL is overloaded or a lock is held too long (too many connections, out of memory, a lock or statement timeout): check pg_stat_activity',
  io: 'the connection to PostgreSQL failed (the server down or unreachable): check the database and the network to it',
  closed: WHAT_TO_CHECK.closed!,
};

/**
 * Counts a request the store refused, keeps the refusal for `/-/health`, and logs it: a `warn` line at the first
 * refusal, naming the reason, the store's error and what to check, then at most one every 30 s while refusals go on,
 * with how many requests were refused since the last line.
 */
export function noteStoreRefusal(d: { metrics: Metrics; logger: LoggerPort; config: { store: { kind: string }; dataDir?: string } }, err: StoreUnavailableError, what: 'webhook' | 'request' | 'run', now = Date.now()): void {
  d.metrics.unavailable++;
  const ended = d.metrics.storeRefusalEnded;
  if (d.metrics.storeRefused === undefined && ended !== undefined && ended.reason === err.reason && now - ended.loggedAt < STORE_REFUSAL_LOG_EVERY_MS) {
    // Refused again for the same reason soon after a write ended the refusals (a nearly full disk takes a small write,
    // not a webhook): the same spell, said again at most every 30 s, and its end not said a second time meanwhile.
    d.metrics.storeRefused = { at: now, reason: err.reason, loggedAt: ended.loggedAt, refused: ended.refused + 1, notLogged: ended.notLogged + 1, endSaid: true };
    return;
  }
  // Refusals a write ended without the log saying so (the line before said it) are continued by the next one: its
  // warning counts them.
  const before = d.metrics.storeRefused ?? (ended?.unsaid && ended.reason === err.reason ? { ...ended, at: ended.loggedAt } : undefined);
  const refused = (before?.refused ?? 0) + 1;
  // The reason the last warning said (the spell's `reason` is the latest, for /-/health).
  const said = before?.said ?? before?.reason;
  const sameSpell = before !== undefined && said === err.reason && now - before.loggedAt < STORE_REFUSAL_LOG_EVERY_MS;
  const flicker = before !== undefined && said !== err.reason && now - before.loggedAt < STORE_REFUSAL_REASON_FOLD_MS;
  if (sameSpell || flicker) {
    const also = (before.also ?? []).includes(err.reason) ? before.also! : [...(before.also ?? []), err.reason];
    d.metrics.storeRefused = { ...before, at: now, reason: err.reason, said: said!, also, refused, notLogged: before.notLogged + 1 };
    return;
  }
  // The reasons of the refusals since the last line, other than the one this line says (a crash's full, then io).
  const others = (before?.also ?? []).filter((r) => r !== err.reason);
  const mixed = others.length > 0 ? `, some of them as ${others.join(', ')}` : '';
  const since = before && before.notLogged > 0 ? ` (${before.notLogged} more refused since the last such line${mixed})` : '';
  d.logger.warn(
    { reason: err.reason, error: err.message, refused },
    `${what} refused with 503 and Retry-After: the store cannot take writes (${err.reason}): nothing of it was stored, so its sender must send it again${since}; ${whatToCheck(d.config, err.reason)}`,
  );
  d.metrics.storeRefused = { at: now, reason: err.reason, loggedAt: now, refused, notLogged: 0 };
}

/**
 * What to check for a refusal's reason. A full SQLite store names its data folder (the store is `oktell.sqlite` in it)
 * in the df commands, quoted for the shell, so that they can be pasted as they are, as the commands' own lines do.
 */
function whatToCheck(config: { store: { kind: string }; dataDir?: string }, reason: string): string {
  if (config.store.kind === 'postgres') return WHAT_TO_CHECK_PG[reason] ?? 'check the store';
  if (reason === 'full' && config.dataDir) {
    return `the disk holding the data folder ${config.dataDir} is full (or the store is at OKTELL_STORE_MAX_PAGES): ${freeSpaceHint(config.dataDir)} or raise OKTELL_STORE_MAX_PAGES`;
  }
  return WHAT_TO_CHECK[reason] ?? 'check the store';
}

/**
 * A write was stored: the refusals, if any, are over, and the log says so once, with how many requests were refused.
 * `stored`: what was stored when it is not a request (a webhook, a Web-API start), for the line: the end of a job, a
 * service task's due time. Only writes that add records count, as a webhook does: a lease's claim, renewal or give-back
 * changes a row in place, which a full disk still takes, so it proves nothing.
 */
export function noteStoreTakesWrites(d: { metrics: Metrics; logger: LoggerPort }, stored?: string): void {
  const before = d.metrics.storeRefused;
  if (before === undefined) return;
  d.metrics.storeRefused = undefined;
  d.metrics.storeRefusalEnded = { reason: before.said ?? before.reason, loggedAt: before.loggedAt, refused: before.refused, notLogged: before.notLogged, ...(before.endSaid ? { unsaid: true as const } : {}) };
  // Refused again within 30 s of the line that said their end: that line stands until the next warning.
  if (before.endSaid) return;
  const what = stored === undefined ? 'webhooks are stored and acknowledged' : `${stored} was stored, so webhooks can be stored and acknowledged again`;
  d.logger.info({ refused: before.refused, ...(stored !== undefined ? { stored } : {}) }, `the store takes writes again: ${what} (${before.refused} request(s) were refused with 503 before)`);
}

/**
 * `write`, which stores `stored` (see noteStoreTakesWrites), ending the refusals once it succeeds (and `counts` says
 * it wrote something). Costs nothing while the store takes writes: only a write made during refusals is watched.
 */
export function endingStoreRefusals<T>(d: { metrics: Metrics; logger: LoggerPort }, stored: string, write: Promise<T>, counts: (value: T) => boolean = () => true): Promise<T> {
  if (d.metrics.storeRefused === undefined) return write;
  return write.then((value) => {
    if (counts(value)) noteStoreTakesWrites(d, stored);
    return value;
  });
}
