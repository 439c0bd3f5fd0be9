// Interfaces of every side effect a scenario can have. Blocks reach the world only through these ports;
// adapters (HTTP Bpium client, SMTP, outbox, durable queue) implement them, and a dry run swaps in recording ones.
import type { JsonValue, Value } from './values.js';

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
  /** Identifies the run and step for idempotency and tracing (e.g. `run-id/step-7`). */
  reference?: string;
}

/** Result of a delivered (or stored) letter. */
export interface MailReceipt {
  messageId: string;
  /** Where the letter went: `smtp` or `outbox`, and the file for the outbox. */
  transport: string;
  file?: string;
}

/** Sends mail. Throws `EffectError`: `transient` for refused connection, timeouts and SMTP 4xx; `permanent` for 5xx. */
export interface MailerPort {
  send(message: MailMessage): Promise<MailReceipt>;
}

/** A nunjucks template set (subject, text, html) rendered with the scenario's variables. */
export interface TemplatePort {
  /** Renders template `name` (files `<name>.subject.njk`, `<name>.text.njk`, `<name>.html.njk`; any may be absent). */
  render(name: string, context: Record<string, Value>): { subject?: string; text?: string; html?: string };
}

/** A request to start another service scenario without waiting (AsyncScenario in `async` mode). */
export interface AsyncStartRequest {
  scenario: string;
  params: Record<string, Value>;
  /** Variables copied into the new run (same name and type), as Oktell does for async starts. */
  variables: Record<string, Value>;
  parentRunId: string;
  parentBlock: string;
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
  put(runId: string, stepKey: string, outcome: JsonValue): Promise<void>;
}

export interface LoggerPort {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
