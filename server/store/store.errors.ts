// Errors of the store, sorted by who must act: the database refusing writes (answer 503, retry later), or a caller bug.

/** Why the database could not take a write. */
export type StoreUnavailableReason = 'full' | 'busy' | 'readonly' | 'io' | 'closed';

/**
 * The database cannot take the write right now (disk full, locked beyond the busy timeout, read-only, I/O error, or
 * the store is closed). Nothing of the call was stored. The server answers `503` with `Retry-After: retryAfterSeconds`.
 *
 * @example
 *   try { await store.recordRequest(req) } catch (e) {
 *     if (e instanceof StoreUnavailableError) res.status(503).set('Retry-After', String(e.retryAfterSeconds)).end();
 *   }
 */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  /** `true` when the call refused was a read (a list, a look-up), not a write: the CLI's line says so. */
  readonly read: boolean;
  /**
   * The data folder of the SQLite store that refused, where the caller knows it (the store knows only its file): set
   * by the CLI's `withStore`, so that its line for a full disk names the folder in its df commands, as the server's does.
   */
  dataDir?: string;
  constructor(
    readonly reason: StoreUnavailableReason,
    message: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown; read?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.read = options?.read === true;
  }
}

/** A call the store refuses because of its arguments (a caller bug): bad limit, value that is not JSON, ... */
export class StoreUsageError extends Error {
  override name = 'StoreUsageError';
}

/**
 * A page cursor that is not one the store handed out (it comes from a URL, so anyone can type one). `status` makes
 * the server's error handler answer 400 with this message instead of logging a 500.
 */
export class InvalidCursorError extends StoreUsageError {
  override name = 'InvalidCursorError';
  readonly status = 400;
  constructor() {
    super('Bad Request: invalid page cursor (use the links of the list pages)');
  }
}

const RETRY_AFTER: Record<StoreUnavailableReason, number> = { full: 30, busy: 1, readonly: 30, io: 5, closed: 5 };

/**
 * Maps a SQLite error to `StoreUnavailableError` when it means "the database cannot write now"; returns the error
 * unchanged otherwise (constraint violations and such are bugs, not outages).
 */
export function classifySqliteError(err: unknown): unknown {
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : '';
  const reason = reasonOf(code);
  if (!reason) return err;
  const message = `database unavailable (${code}): ${(err as Error).message}`;
  return new StoreUnavailableError(reason, message, RETRY_AFTER[reason], { cause: err });
}

function reasonOf(code: string): StoreUnavailableReason | undefined {
  if (code === 'SQLITE_FULL') return 'full';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
  if (code.startsWith('SQLITE_READONLY')) return 'readonly';
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN')) return 'io';
  return undefined;
}

/** The error every call gets once the store is closed. */
export function closedError(): StoreUnavailableError {
  return new StoreUnavailableError('closed', 'the store is closed', RETRY_AFTER.closed);
}
