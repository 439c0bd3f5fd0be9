// Why the configured store could not be opened, in one line that names it (password masked): what `serve` and the
// CLI print instead of a driver's stack trace.
import { PgSchemaNotReadyError, PgSchemaTooNewError } from './postgres.migrations.js';
import { redactPostgresUrl } from './postgres.url.js';
import { StoreUnavailableError } from './store.errors.js';

/**
 * `cannot open the store postgres://oktell:***@db:5432/oktell: password authentication failed for user "oktell"`.
 * `usage`: the database answered but its schema is not one this build can use (missing, not migrated yet, newer):
 * a matter of configuration or of builds (exit 2), where the others (nothing answers, the login is refused) are an
 * outage or a wrong secret (exit 1).
 */
export class StoreOpenError extends Error {
  override name = 'StoreOpenError';
  constructor(
    message: string,
    readonly usage: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Hints for the driver's codes that do not say what to check. */
const HINTS: Record<string, string> = {
  ECONNREFUSED: 'nothing accepts connections there: is PostgreSQL running on that host and port?',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name cannot be resolved now',
  ETIMEDOUT: 'no answer in time',
};

/**
 * The error of opening the PostgreSQL store at `url`, as a StoreOpenError naming the URL with its password masked.
 * The driver's messages do not quote the password (masking its text in them would also mask a database or user
 * name that happens to be the same word).
 */
export function pgStoreOpenError(url: string, err: unknown): StoreOpenError {
  const inner = err instanceof StoreUnavailableError && err.cause instanceof Error ? err.cause : err;
  const code = (inner as { code?: unknown } | null)?.code;
  let cause = inner instanceof Error && inner.message ? inner.message : String(inner);
  const hint = typeof code === 'string' ? HINTS[code] : undefined;
  if (hint) cause += ` (${hint})`;
  const usage = err instanceof PgSchemaNotReadyError || err instanceof PgSchemaTooNewError;
  return new StoreOpenError(`cannot open the store ${redactPostgresUrl(url)}: ${cause}`, usage, { cause: err });
}
