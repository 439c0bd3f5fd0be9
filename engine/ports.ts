// Interfaces of every side effect a scenario can have. Blocks reach the world only through these ports;
// adapters (HTTP Bpium client, SMTP, outbox, durable queue) implement them, and a dry run swaps in recording ones.
import type { JsonValue, Value } from './values.js';
import type { EffectError } from './errors.js';
import type { SecretCarriers } from './secrets.js';

/** A Bpium record as the REST API returns it (`id`, `catalogId`, `title`, `values` by field id). Ids are opaque strings. */
export interface BpiumRecord {
  id: string;
  catalogId?: string;
  title?: string;
  values: Record<string, JsonValue>;
  [extra: string]: JsonValue | undefined;
}

/** A Bpium catalog with its field definitions (id, name, type and the type's config per field). */
export interface BpiumCatalog {
  id: string;
  name?: string;
  sectionId?: string;
  fields: Array<{ id: string; name: string; type: string; config?: JsonValue; [extra: string]: unknown }>;
  [extra: string]: unknown;
}

/** Query for `findRecords`: filters in either documented form (array form or JSON form), search, sort, paging. */
export interface BpiumFindQuery {
  catalogId: string;
  /** Array form: `[{fieldId, value}]`; JSON form: `{ "<fieldId>": value, $or: [...] }`. */
  filters?: Array<{ fieldId: string; value: JsonValue }> | Record<string, JsonValue>;
  searchText?: string;
  sortField?: string;
  /** 1 ascending (default), -1 descending. */
  sortType?: 1 | -1;
  limit?: number;
  offset?: number;
  fields?: string[];
  viewId?: string;
}

/** One HTTP attempt of a Bpium call, reported to the caller so retries show in the run's trace. */
export interface BpiumAttempt {
  attempt: number;
  status?: number;
  error?: string;
  ms: number;
}

/** Per-call options: the deadline of the call (all attempts) and an observer of each attempt. */
export interface BpiumCallOptions {
  timeoutMs?: number;
  onAttempt?: (a: BpiumAttempt) => void;
}

/**
 * Bpium REST API. Every method throws `EffectError` on failure: `permanent` for 4xx (404 unknown record, 400, 403),
 * `transient` for network errors, 429 and 5xx after the adapter's own retries, `timeout` when no answer came in time.
 * `timeoutMs` is the block's «Таймаут, сек» in milliseconds.
 */
export interface BpiumPort {
  /**
   * A fake Bpium (`--bpium-fixtures`, a test file's `bpium:`): its answers and failures are made up in this process and
   * nothing goes out, so a call it answers is recorded `performed: false` with `fixture: true`, as a web request a
   * fixture answers is. A real client leaves it out.
   */
  readonly fixture?: true;
  findRecords(query: BpiumFindQuery, opts?: BpiumCallOptions): Promise<BpiumRecord[]>;
  getRecord(catalogId: string, recordId: string, opts?: BpiumCallOptions & { fields?: string[] }): Promise<BpiumRecord>;
  getCatalog(catalogId: string, opts?: BpiumCallOptions): Promise<BpiumCatalog>;
  createRecord(catalogId: string, values: Record<string, JsonValue>, opts?: BpiumCallOptions): Promise<{ id: string }>;
  updateRecord(
    catalogId: string,
    recordId: string,
    values: Record<string, JsonValue>,
    opts?: BpiumCallOptions,
  ): Promise<BpiumRecord | null>;
  deleteRecord(catalogId: string, recordId: string, opts?: BpiumCallOptions): Promise<void>;
}

/** One e-mail as a scenario composed it. Addresses are already split and validated by the SendMail block. */
export interface MailMessage {
  from?: string;
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  text?: string;
  html?: string;
  /** Identifies the run and step for tracing (e.g. `run-id/step-7`): the `X-Oktell-Reference` header. */
  reference?: string;
  /**
   * The step's key, the same for every attempt and replay of a job (`BlockRuntime.effectKey`): the `Message-ID` is
   * derived from it and the letter's content, so a letter sent again by a retry or a replay carries the id of the
   * first copy, and a mailbox that keeps one letter per id shows it once. Without it, the reference is used.
   */
  messageKey?: string;
}

/** Result of a delivered (or stored) letter. */
export interface MailReceipt {
  messageId: string;
  /** Where the letter went: `smtp` or `outbox`, and the file for the outbox. */
  transport: string;
  file?: string;
}

/** What the caller of `MailerPort.send` may be told while the letter is under way. */
export interface MailSendOptions {
  /**
   * The run that sends the letter: the mailer's log lines about it (sent, not sent, pending) carry it as `runId`, so a
   * webhook can be followed in the log from its request to its letter.
   */
  runId?: string;
  /**
   * The letter has been handed over whole and the server has not answered it for a while (SMTP_PENDING_MARK_MS):
   * from now, if the sender is cut off, nobody knows whether the letter was delivered. Called at most once; not at
   * all for a letter answered in time, or by a mailer with no such wait (the outbox).
   */
  onOutcomePending?(pending: { messageId: string }): void;
}

/**
 * Sends mail. Throws `EffectError`: `transient` for refused connection, timeouts and SMTP 4xx; `permanent` for 5xx,
 * with `details.setting` when it refuses every letter (TLS, the sender, the server refusing this client) rather than
 * this one.
 */
export interface MailerPort {
  send(message: MailMessage, opts?: MailSendOptions): Promise<MailReceipt>;
  /**
   * A letter an earlier attempt reported with `onOutcomePending` and was then cut off before its answer came: the
   * error that stops it from being sent again, or undefined to send it again (SMTP_UNKNOWN_OUTCOME=retry). A mailer
   * without it never sends such a letter again.
   */
  interruptedOutcome?(pending: { messageId?: string }): EffectError | undefined;
  /**
   * For dry runs, which send nothing: the failure a letter meets by fixture (scenario tests' `mail.failures`), so
   * SendMail's error exit and an SMTP outage can be tried; undefined: the letter is rendered and not sent.
   */
  dryRunFailure?(message: MailMessage): EffectError | undefined;
}

/** A nunjucks template set (subject, text, html) rendered with the scenario's variables. */
export interface TemplatePort {
  /**
   * Renders template `name` (files `<name>.subject.njk`, `<name>.text.njk`, `<name>.html.njk`; any may be absent).
   * `reads` says, for a part rendered, which context variables it read (TemplateReads), so that a part made from a
   * secret is masked in the run's record (BlockRuntime.renderedFrom). A function, so that a run with no secret (most
   * letters) does not pay for working it out.
   */
  render(name: string, context: Record<string, Value>): { subject?: string; text?: string; html?: string; reads?: (part: 'subject' | 'text' | 'html') => TemplateReads | undefined };
}

/** The context variables one rendered part read: printed as they are, or read in any other way. */
export interface TemplateReads {
  /** Printed as they are (`{{ name }}`, a text that neither escaping nor folding changed). */
  asIs: string[];
  /** Read otherwise (a filter, a loop, a `set`, escaped or folded on output): the text may hold a changed copy. */
  changed: string[];
}

/** A request to start another service scenario without waiting (AsyncScenario in `async` mode). */
export interface AsyncStartRequest {
  scenario: string;
  params: Record<string, Value>;
  /** Variables copied into the new run (same name and type), as Oktell does for async starts. */
  variables: Record<string, Value>;
  parentRunId: string;
  parentBlock: string;
  /** The params and variables above whose values carry a secret of the starting run: the started run masks them. */
  carriesSecret?: SecretCarriers;
}

/** Starts scenarios asynchronously: an in-process queue in the engine, a durable job queue in the server. */
export interface AsyncStarterPort {
  start(request: AsyncStartRequest): Promise<{ runId: string }>;
}

/** Time source; a dry run or a test may fix it. */
export interface ClockPort {
  now(): Date;
}

/** Id generator for run ids. */
export interface IdPort {
  newId(): string;
}

/**
 * Records the outcome of each effect of a run against its step key, so a retried run does not repeat an effect
 * that already succeeded (a letter already sent, a record already created). Keys are `<blockId>#<n>`, n counting
 * visits of that block in the run. The default keeps nothing.
 */
export interface EffectJournalPort {
  get(runId: string, stepKey: string): Promise<JsonValue | undefined>;
  /**
   * `opts.read`: the answer of a read (`BlockRuntime.read`), not an effect: it need not be durable before the next
   * outside call, only together with the next effect's outcome, so a journal that holds entries may keep it waiting
   * until then (and drop it when no effect follows: nothing depends on it).
   */
  put(runId: string, stepKey: string, outcome: JsonValue, opts?: { read?: boolean }): Promise<void>;
  /** Makes every outcome put so far durable (a journal that writes at `put` has nothing to do). */
  settle?(): Promise<void>;
  /**
   * Called right before an effect is made (after the journal was read, so nothing is awaited between this and the
   * effect but what it returns): throws a RunFailure when the run may no longer make effects (its job's lease is
   * lost). Returns nothing when it can tell at once, or a promise when it must ask first (a lease near its end).
   */
  fence?(): void | Promise<void>;
  /**
   * Called when an effect that passed the fence has ended, made or not, once its outcome (or the withdrawal of its
   * pending mark) has been put: until then it is in flight, and the journal cannot hold all the run made.
   */
  afterEffect?(): void;
  /**
   * Asked right before an effect is made: true when it may repeat one an earlier attempt of the job made without
   * journaling it. That attempt was cut off (killed, stopped, or its lease lost with no end recorded), so the entry of
   * the last effect it made may never have reached the store; until this attempt has written an entry of its own, an
   * effect it makes (not one it replays) may be that one again. Absent or false: nothing to suspect.
   */
  mayRepeat?(): boolean;
}

export interface LoggerPort {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * A service an effect could not reach or that failed for the moment (SMTP, Bpium, a WebRequest's host or a
 * PostgreSQL connection down, refusing, too busy), and how: `target` names the service without secrets
 * (`SMTP smtp://mail.example.com:587`, `Bpium https://x.bpium.ru/api/v1`, `https://sms.example.ru:443`,
 * `database "crm"`), `kind` the failure (`ECONNECTION`, `421`, `HTTP 503`, `ECONNREFUSED`). The log folds the repeats of one key (server/log-folding.ts).
 */
export interface OutageKey {
  target: string;
  kind: string;
}

/** A log line handed over to be written or counted. */
export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string;
}

/**
 * Where the failures of an outage go instead of straight to the log: the first of each key is written in full, its
 * repeats are counted and summed up now and then, and the service answering again ends them with one line.
 */
export interface OutageLogPort {
  /** An adapter's own line about an effect that failed (`letter not sent: …`). */
  effectFailed(key: OutageKey, line: LogLine): void;
  /**
   * A job's attempt that failed on `key` (the delivery's `run … failed (will retry)`). `givenUp`: the job will not be
   * tried again (a dead letter): its line is always written.
   */
  attemptFailed(key: OutageKey, line: LogLine, job: { id: string; givenUp: boolean }): void;
  /**
   * The service answered (a letter sent, a Bpium or web answer that is not an outage's, a statement the database
   * answered): its outage, if any, is over. Called for every answer: it must be cheap.
   */
  reached(target: string): void;
}

/** What a database connection speaks; decides which blocks it supports (stored procedures: PostgreSQL only). */
export type DbDialect = 'sqlite' | 'postgres';

/** A value bound to a statement parameter or read from a column (JSON, arrays and blobs arrive as text). */
export type DbValue = string | number | boolean | Date | null;

/** What a statement or procedure gave: the columns, the first `maxRows` rows, and how many rows it returned or changed. */
export interface DbResult {
  columns: string[];
  rows: Array<Record<string, DbValue>>;
  /** Rows returned (a query) or affected (an INSERT, UPDATE, DELETE without RETURNING). */
  rowCount: number;
  /** true when more rows came than `maxRows` (only the first `maxRows` are in `rows`). */
  truncated: boolean;
}

export interface DbCallOptions {
  /** The block's «Таймаут»: PostgreSQL's statement_timeout; on SQLite both the wait for a lock and how long the statement may run. */
  timeoutMs: number;
  maxRows: number;
  /**
   * The run's time zone. PostgreSQL's `timestamp` (without time zone) holds a wall time: a date parameter is sent as
   * the wall time of this zone (with its offset, so a `timestamptz` gets the same instant), and a `timestamp` column
   * comes back as its text, which a datetime variable reads in this zone.
   */
  timeZone?: string;
}

/**
 * The configured databases. Every method throws `EffectError`: `permanent` for what a retry cannot fix (a
 * constraint, a syntax or permission error; `details.code` is the driver's code), `transient` for a lost
 * connection, a deadlock or a serialization failure, `timeout` when the statement ran out of time.
 */
export interface DatabasePort {
  /** The dialect of connection `name`, or undefined when no such connection is configured. */
  dialect(name: string): DbDialect | undefined;
  /** Runs one statement with named parameters (see `parseNamedSql`); `params` holds a value for every name. */
  query(connection: string, statement: { text: string[]; names: string[] }, params: Readonly<Record<string, DbValue>>, opts: DbCallOptions): Promise<DbResult>;
  /** Calls a stored procedure or a (set-returning) function by name, parameters in named notation. */
  procedure(connection: string, name: string, params: ReadonlyArray<readonly [string, DbValue]>, opts: DbCallOptions): Promise<DbResult>;
  /**
   * true for a dry run's port: every statement runs inside one transaction per connection that is rolled back when
   * the dry run ends, so the run sees its own writes and nothing is kept.
   */
  readonly rollsBack: boolean;
}

/** One HTTP request of the WebRequest block, already built and checked (URL parsed, headers free of CR/LF). */
export interface WebRequestSpec {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: Buffer;
  /** Per attempt: connecting, sending and reading the whole answer. */
  timeoutMs: number;
  /** Redirects followed at most; a 3xx beyond that is the answer. */
  maxRedirects: number;
}

/** The final answer to a WebRequestSpec: any status the block decides on (2xx, 3xx not followed, 4xx). */
export interface WebAnswer {
  status: number;
  /** Lower-case names; a repeated header (set-cookie) keeps its values as a list. */
  headers: Record<string, string | string[]>;
  /** The body decoded as text (by the charset of its Content-Type; UTF-8 by default). */
  body: string;
  /** The URL that answered (after redirects). */
  url: string;
  attempts: number;
  /** Given by a fixture (`--http-fixtures`, a test file's `http:`): no service was asked, nothing went out. */
  fixture?: true;
  /** Something of the body that was left unread and why (bytes after its gzip data), said in the trace. */
  note?: string;
}

/** One HTTP attempt of a web request, reported so retries show in the trace. */
export interface WebAttempt {
  attempt: number;
  status?: number;
  error?: string;
  ms: number;
}

/**
 * Sends web requests for the WebRequest block. Retries 5xx, 408, 429 (honouring Retry-After), network failures and
 * timeouts with backoff; answers any other status. Throws `EffectError`: `timeout` (code HTTP_TIMEOUT) or `transient`
 * (HTTP_NETWORK, or `status` of the last 5xx/408/429) once retries are spent; `permanent` for what retrying cannot
 * mend (HTTP_HOST_REFUSED, HTTP_TOO_LARGE, HTTP_BAD_ENCODING, HTTP_TLS, HTTP_BAD_URL).
 */
export interface WebRequestPort {
  send(request: WebRequestSpec, opts?: { onAttempt?: (a: WebAttempt) => void }): Promise<WebAnswer>;
  /**
   * A dry run's answer to a request it does not send (POST, PUT, PATCH, DELETE): a fixture's, or undefined for the
   * default (200, empty body). May throw the fixture's failure as an EffectError. Real clients leave it out.
   */
  dryRunAnswer?(request: WebRequestSpec): WebAnswer | undefined;
  /**
   * Why the client would refuse this request before sending anything, from what needs no network (the allow-list of
   * hosts, a literal link-local address); undefined: it would try. The block asks before a live request and in a dry
   * run alike, so a dry run takes the exit the live run would take, with the same code (HTTP_HOST_REFUSED).
   */
  refusal?(request: WebRequestSpec): EffectError | undefined;
}
