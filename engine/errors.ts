// One catalogue of error codes and the Error subclasses the engine throws, sorted by who must act.
import type { OutageKey, WebAnswer } from './ports.js';

/** Stable codes for problems in scenario files, found before anything runs (the author must act). */
export const SCENARIO_ERROR_CODES = {
  YAML_SYNTAX: 'E_YAML_SYNTAX',
  DUPLICATE_KEY: 'E_DUPLICATE_KEY',
  NOT_A_MAPPING: 'E_NOT_A_MAPPING',
  /** A fixture, test, seed or configuration file among the scenarios (engine/other-files.ts). */
  NOT_A_SCENARIO: 'E_NOT_A_SCENARIO',
  UNKNOWN_KEY: 'E_UNKNOWN_KEY',
  MISSING_PROPERTY: 'E_MISSING_PROPERTY',
  INVALID_PROPERTY: 'E_INVALID_PROPERTY',
  UNKNOWN_KIND: 'E_UNKNOWN_KIND',
  UNKNOWN_EXIT: 'E_UNKNOWN_EXIT',
  UNKNOWN_TARGET: 'E_UNKNOWN_TARGET',
  UNKNOWN_START: 'E_UNKNOWN_START',
  UNREACHABLE_BLOCK: 'E_UNREACHABLE_BLOCK',
  UNKNOWN_VARIABLE: 'E_UNKNOWN_VARIABLE',
  DUPLICATE_VARIABLE: 'E_DUPLICATE_VARIABLE',
  INVALID_VARIABLE: 'E_INVALID_VARIABLE',
  UNKNOWN_SCENARIO: 'E_UNKNOWN_SCENARIO',
  INVALID_EXPRESSION: 'E_INVALID_EXPRESSION',
  INVALID_JSONPATH: 'E_INVALID_JSONPATH',
  INVALID_REGEX: 'E_INVALID_REGEX',
  ENDLESS_LOOP: 'E_ENDLESS_LOOP',
  INVALID_TEMPLATE: 'E_INVALID_TEMPLATE',
  UNKNOWN_TEMPLATE_VARIABLE: 'E_UNKNOWN_TEMPLATE_VARIABLE',
  READ_FAILED: 'E_READ_FAILED',
  SCENARIO_NAME: 'E_SCENARIO_NAME',
  /** `oktell-emu test`: a file of a tests folder that holds `cases:` but is not named *.test.yaml, so it would not run. */
  TEST_FILE_NAME: 'E_TEST_FILE_NAME',
  /** Two files of the folder give the same scenario name (`X.yaml` and `X.yml`): neither is loaded. */
  DUPLICATE_SCENARIO: 'E_DUPLICATE_SCENARIO',
  UNKNOWN_CONNECTION: 'E_UNKNOWN_CONNECTION',
  /** Found by `oktell-emu validate` only: a DbQuery statement the reachable database refuses to prepare, or an `into:` column it does not return. */
  SQL_PREPARE: 'E_SQL_PREPARE',
  /** Found by `oktell-emu validate` only: a migration file (`db/<connection>/*.sql`) that its database refuses. */
  MIGRATION: 'E_MIGRATION',
  /** Found by `oktell-emu test` only: a test file's `db:` data set, or a migration before it, that the database refuses. */
  DATA_SET: 'E_DATA_SET',
} as const;

export type ScenarioErrorCode = (typeof SCENARIO_ERROR_CODES)[keyof typeof SCENARIO_ERROR_CODES];

/** A position in a scenario file, 1-based line and column. */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

/** One problem found while loading or validating a scenario. */
export interface ScenarioIssue extends SourceLocation {
  code: ScenarioErrorCode;
  message: string;
  hint?: string;
  block?: string;
}

/** Formats an issue as `file:line:col code message` with the hint on the next line. */
export function formatIssue(issue: ScenarioIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.col}`;
  const block = issue.block ? ` [block ${issue.block}]` : '';
  const hint = issue.hint ? `\n    hint: ${issue.hint}` : '';
  return `${where} ${issue.code} ${issue.message}${block}${hint}`;
}

/**
 * Formats a run error like a load error: `file:line:col code message` when the failing block is known, so an editor
 * or terminal can jump to the block.
 */
export function formatRunError(error: { code: string; message: string; file?: string; line?: number; col?: number }): string {
  const where = runErrorLocation(error);
  return `${where ? `${where} ` : ''}${error.code} ${error.message}`;
}

/** `file:line:col` of a run error's block, or undefined when the run failed outside a block. */
export function runErrorLocation(error: { file?: unknown; line?: unknown; col?: unknown }): string | undefined {
  return typeof error.file === 'string' && typeof error.line === 'number' && typeof error.col === 'number' ? `${error.file}:${error.line}:${error.col}` : undefined;
}

/** Thrown when a scenario (or a set of them) cannot be loaded; carries every issue found, not only the first. */
export class ScenarioLoadError extends Error {
  override name = 'ScenarioLoadError';
  constructor(readonly issues: ScenarioIssue[]) {
    super(issues.map(formatIssue).join('\n'));
  }
}

/**
 * How an effect (Bpium call, mail, ...) failed:
 * - `permanent`: refused or invalid (Bpium 4xx, SMTP 5xx, bad address). Retrying will not help.
 * - `transient`: network, 429, 5xx, SMTP 4xx. Already retried by the adapter for a short while.
 * - `timeout`: no answer in time (a kind of transient failure that Oktell routes to its own exit).
 * - `unknown`: the request went out whole and its answer never came (an SMTP server silent after the end of a
 *   letter): the effect may have been made. Not retried, since a retry could make it twice; the job is parked as a
 *   dead letter for someone to check and replay.
 *
 * `details.setting` marks a `permanent` failure that is not about this request but about a setting (a TLS
 * certificate the client rejects, a sender the mail server refuses, a server that refuses this client): every request
 * would fail the same way until someone fixes it. A block does not take its `error` exit for it (that would end the
 * run completed, with nothing to replay); the run fails with `R_EFFECT_SETTING` and the job is a dead letter at once,
 * to replay once the setting is fixed (a run that is not a job just fails: its caller makes it again).
 */
export type EffectFailureKind = 'permanent' | 'transient' | 'timeout' | 'unknown';

/** Thrown by port adapters (Bpium client, mailer) for a failed effect. */
export class EffectError extends Error {
  override name = 'EffectError';
  constructor(
    readonly kind: EffectFailureKind,
    message: string,
    /**
     * `messageId`: of a letter whose outcome is unknown, so its record names it beside the error. `fixture`: a failure
     * a web fixture made up (no request went out). `outage`: set on a transient failure of a service (SMTP, Bpium, a web host, a database connection),
     * naming it and the kind of failure, so that its repeats can be folded in the log. `notSent`: every attempt waited
     * for a free connection in vain (NoFreeConnection), so nothing went out: the call is shown "not sent", not "no answer".
     */
    readonly details: { code?: string; status?: number; attempts?: number; cause?: unknown; setting?: boolean; messageId?: string; fixture?: boolean; outage?: OutageKey; notSent?: boolean } = {},
  ) {
    super(message);
  }
  get retryable(): boolean {
    return this.kind === 'transient' || this.kind === 'timeout';
  }
}

/**
 * A web request that failed although the server answered: the last answer of an outage that outlasted the retries
 * (5xx, 408, 429), or the status and headers of an answer too large to read (its body left empty). The WebRequest
 * block puts it in its variables before taking its exit, as it does with any other answer.
 */
export class AnsweredWebFailure extends EffectError {
  override name = 'AnsweredWebFailure';
  constructor(
    kind: EffectFailureKind,
    message: string,
    details: { code?: string; status?: number; attempts?: number; cause?: unknown; fixture?: boolean },
    readonly answer: WebAnswer,
  ) {
    super(kind, message, details);
  }
}

/** Codes of run failures (what the interpreter reports in a failed RunResult). */
export const RUN_ERROR_CODES = {
  STEP_LIMIT: 'R_STEP_LIMIT',
  EFFECT_LIMIT: 'R_EFFECT_LIMIT',
  TOO_DEEP: 'R_TOO_DEEP',
  DEADLINE: 'R_DEADLINE',
  DEPTH_LIMIT: 'R_DEPTH_LIMIT',
  /** A command-line or test run followed more async starts than its cap: scenarios that start each other without end. */
  ASYNC_LIMIT: 'R_ASYNC_LIMIT',
  EXPRESSION: 'R_EXPRESSION',
  EFFECT_PERMANENT: 'R_EFFECT_PERMANENT',
  EFFECT_TRANSIENT: 'R_EFFECT_TRANSIENT',
  /** An effect whose outcome is unknown (EffectError kind `unknown`): not retried, the job becomes a dead letter. */
  EFFECT_UNKNOWN: 'R_EFFECT_UNKNOWN',
  /**
   * An effect refused because of a setting, not of what the run asked (EffectError `details.setting`: the SMTP
   * server's certificate rejected, its sender refused...): not retried, since waiting will not fix it; the job becomes
   * a dead letter at once, for `replay` once the setting is fixed.
   */
  EFFECT_SETTING: 'R_EFFECT_SETTING',
  TEMPLATE: 'R_TEMPLATE',
  UNKNOWN_SCENARIO: 'R_UNKNOWN_SCENARIO',
  ADAPTER_MISSING: 'R_ADAPTER_MISSING',
  CANCELLED: 'R_CANCELLED',
  /** The effect journal could not be read or written (its store refused): retryable, unless an effect made could not be recorded. */
  JOURNAL: 'R_JOURNAL',
  /**
   * The attempt stopped before an effect because it could no longer be sure it still held its job (its lease ran out
   * or was taken over while the process was stalled): the effect is left to the job's new owner.
   */
  LEASE_LOST: 'R_LEASE_LOST',
  /**
   * The attempt stopped before its first effect: an earlier attempt of its job journaled effects with a version of a
   * scenario whose blocks were renamed, added or removed since, so the journal could miss them (journal-versions.ts).
   */
  SCENARIO_CHANGED: 'R_SCENARIO_CHANGED',
  INTERNAL: 'R_INTERNAL',
} as const;

export type RunErrorCode = (typeof RUN_ERROR_CODES)[keyof typeof RUN_ERROR_CODES];

/** Thrown inside a block to fail the run with a code; the interpreter attributes it to the block. */
export class RunFailure extends Error {
  override name = 'RunFailure';
  constructor(
    readonly code: RunErrorCode,
    message: string,
    readonly retryable = false,
  ) {
    super(message);
  }
}
