// The errors every command throws for main to print as one line with its exit code; kept apart from the settings
// (cli/config.ts) so that main can tell them apart without loading the engine.

/**
 * A mistake in how a command was called, or input it cannot work with: exit code 2. `code` and `details` go into the
 * JSON object printed with --json (e.g. the problems of an invalid scenario, as structured issues).
 */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    readonly code = 'E_USAGE',
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

/**
 * The command was called right but cannot be done now, for a reason outside it (a database another program holds
 * locked): one line and exit 1, as for a store that cannot be reached, not 2, which means the call or the scenario
 * is wrong. Trying again later may work.
 */
export class UnavailableError extends Error {
  override name = 'UnavailableError';
  constructor(
    message: string,
    readonly code = 'E_UNAVAILABLE',
  ) {
    super(message);
  }
}
