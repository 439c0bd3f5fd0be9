// The loaded, validated scenario model and the contract every block kind implements.
import type { z } from 'zod';
import type { CompiledExpression } from './expr/index.js';
import type { ScenarioErrorCode, ScenarioIssue, SourceLocation } from './errors.js';
import type { Value, VarType, JsonValue } from './values.js';
import type { SecretCarriers } from './secrets.js';
import type {
  AsyncStarterPort,
  BpiumPort,
  ClockPort,
  DatabasePort,
  DbDialect,
  MailerPort,
  OutageKey,
  TemplatePort,
  TemplateReads,
  WebRequestPort,
} from './ports.js';

/** A declared scenario variable. Oktell defines every variable when the scenario is created. */
export interface VariableDecl {
  name: string;
  type: VarType;
  /** Initial value (already converted to the type); absent → '' / 0 / null by type. */
  initial: Value;
  description?: string;
  /**
   * The value is a secret (a token, a password): runs record it as `***` (in the trace, the variables, the console),
   * and an async start does not copy it. True by default for a variable whose value comes from the environment or a file.
   */
  secret?: boolean;
  /** Where `initial` came from, when not from the YAML: an environment variable or a file of the server. */
  source?: VariableSource;
  loc: SourceLocation;
  /** Where the `initial:` value is written, when the variable starts with it (not with a value read from `source`). */
  initialAt?: SourceLocation;
}

/** The environment variable or file a variable's initial value is read from, and whether it was there at load. */
export interface VariableSource {
  env?: string;
  file?: string;
  /** Not set (or the file could not be read) when the scenario was loaded: the variable starts with its fallback. */
  missing?: boolean;
  /** The environment variable was set, but to nothing or spaces (which counts as not set): said so in the warning. */
  blank?: true;
  /** What the variable starts with then: its `initial`, or its type's empty value (the validator warns). */
  fallback?: 'initial' | 'empty';
}

/** A block of a loaded scenario: its compiled config and where its exits lead. */
export interface Block<C = unknown> {
  id: string;
  kind: string;
  title?: string;
  description?: string;
  config: C;
  /** Exit name → target block id. A missing exit ends the scenario, as in Oktell. */
  exits: Readonly<Record<string, string>>;
  def: BlockDefinition<unknown, C>;
  loc: SourceLocation;
}

/** A loaded and validated scenario; runtime code may trust it. */
export interface Scenario {
  name: string;
  file: string;
  description?: string;
  /** Short content hash of the file (and templates it uses); recorded with each run. */
  version: string;
  variables: ReadonlyMap<string, VariableDecl>;
  start: string;
  blocks: ReadonlyMap<string, Block>;
  /** Scenarios this one starts (AsyncScenario targets), checked across the library. */
  calls: ReadonlyArray<{ scenario: string; loc: SourceLocation; block: string }>;
  /** Templates this one renders (SendMail), with where. */
  templates: ReadonlyArray<{ name: string; loc: SourceLocation; block: string }>;
  /**
   * Characters no editor shows in a file that loads all the same (a control character or a stray byte-order mark in a
   * comment or a text): warned of, not refused, since such a file loaded before they were looked for.
   */
  textWarnings?: ScenarioIssue[];
}

/** What the loader gives a block definition to compile its properties and report problems at their place. */
export interface CompileContext {
  readonly blockId: string;
  /**
   * Compiles an expression property (a YAML string is an Oktell expression; a YAML number/boolean a constant).
   * `expects`: the type the value is stored as, when known, so a YAML number that loses its text is judged by it.
   */
  expression(path: readonly (string | number)[], value: unknown, expects?: VarType): CompiledExpression;
  /** Checks that `name` is a declared variable; reports E_UNKNOWN_VARIABLE at `path` otherwise. */
  variable(path: readonly (string | number)[], name: string): string;
  /** The declared type of variable `name`, if it is declared. */
  variableType?(name: string): VarType | undefined;
  /** The names of the declared variables, for hints that suggest one. */
  variableNames?(): Iterable<string>;
  /**
   * Reports a problem at `path` (relative to the block); `key`: at the mapping key `path` ends with, not its value;
   * `offset`: at that character of the text value (a piece of a regular expression), not at its start.
   */
  issue(path: readonly (string | number)[], code: ScenarioErrorCode, message: string, hint?: string, key?: boolean, offset?: number): void;
  /** Location of `path` in the file (for references checked later, e.g. scenario names). */
  locate(path: readonly (string | number)[]): SourceLocation;
  /** Declares a call to another scenario, checked once the whole library is loaded. */
  callsScenario(path: readonly (string | number)[], name: string): void;
  /** The configured database connections and their dialects, when the loader was told them (else unchecked). */
  readonly databases?: Readonly<Record<string, DbDialect>>;
  /** Declares the use of a mail template, checked against the template files. */
  usesTemplate(path: readonly (string | number)[], name: string): void;
  /**
   * Set when the block failed its schema and is compiled from its well-formed properties alone, so that its own
   * checks still report in the same pass: the properties left out as wrong (`method`), wrong entries of a mapping
   * (`params.c`), and the property an unknown key most likely means. Their values are unknown (a left-out property with
   * a default has the default), so a check that depends on one must stay silent: use `isKnown` from components/common.
   */
  readonly omitted?: ReadonlySet<string>;
}

/** Control signals a block can return instead of an exit name. */
export type Control =
  | { control: 'stop'; returnControl: boolean }
  | { control: 'call'; scenario: string; startParam: Value | undefined; exit: string }
  | { control: 'jump'; scenario: string; startParam: Value | undefined };

/** What `run` returns: the name of the exit taken, or a control signal for the interpreter. */
export type BlockResult = string | Control;

/** One mail as recorded in a run result. */
export interface MailRecord {
  block: string;
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  text?: string;
  html?: string;
  /** false in a dry run, or when the send failed. */
  performed: boolean;
  /** `unknown`: written whole, but the server never answered its end; it may have been delivered (never sent again). */
  status: 'sent' | 'dry-run' | 'failed' | 'replayed' | 'unknown';
  transport?: string;
  /** Of a letter sent, replayed, or of unknown outcome (the id to search the mailbox for). */
  messageId?: string;
  error?: string;
  /**
   * Made by this run while an earlier attempt of its job had been cut off with its last effect perhaps not journaled
   * (`EffectJournalPort.mayRepeat`): the cut attempt may have made this effect too, so it may have happened twice.
   * A letter of unknown outcome (written whole, never answered) counts as made.
   */
  mayRepeat?: true;
}

/** One Bpium call as recorded in a run result. */
export interface BpiumCallRecord {
  block: string;
  method: string;
  catalogId: string;
  recordId?: string;
  /** 'ok', 'not-found', 'error', 'timeout', 'dry-run', 'replayed' (a retry took the answer from its job's journal) ... */
  status: string;
  /**
   * Whether Bpium was asked and answered in this run: false for a write a dry run skipped, a call that failed, a call
   * a fake Bpium answered (`fixture`), and one a retried job replayed from its journal.
   */
  performed: boolean;
  /** true when a fake Bpium (`--bpium-fixtures`, a test file's `bpium:`) gave the answer or the failure: nothing went out. */
  fixture?: true;
  /** true when every attempt waited for a free connection to Bpium in vain: nothing went out (shown "not sent"). */
  notSent?: true;
  httpStatus?: number;
  attempts?: number;
  error?: string;
  /**
   * Made by this run while an earlier attempt of its job had been cut off with its last effect perhaps not journaled
   * (`EffectJournalPort.mayRepeat`): the cut attempt may have made this effect too, so it may have happened twice.
   */
  mayRepeat?: true;
}

/** One database statement or procedure call as recorded in a run result (parameters with secrets redacted). */
export interface DbCallRecord {
  block: string;
  connection: string;
  /** The SQL text as written, or `procedure <name>`. */
  statement: string;
  params: Record<string, Value>;
  /** 'ok', 'error', 'timeout', 'transient', 'replayed'. */
  status: string;
  rowCount?: number;
  ms: number;
  /** true in a dry run: the change was made inside a transaction that was rolled back. */
  rolledBack: boolean;
  code?: string;
  error?: string;
  /**
   * Made by this run while an earlier attempt of its job had been cut off with its last effect perhaps not journaled
   * (`EffectJournalPort.mayRepeat`): the cut attempt may have made this effect too, so it may have happened twice.
   */
  mayRepeat?: true;
}

/** One web request (WebRequest block) as recorded in a run result; the URL has its secrets masked. */
export interface HttpCallRecord {
  block: string;
  method: string;
  url: string;
  /** HTTP status of the answer, when one came. */
  status?: number;
  /** 'ok', 'error', 'network error', 'timeout', 'unknown' (a POST whose answer could not be read), 'dry-run', 'replayed' (see httpFailureOutcome). */
  outcome: string;
  /**
   * Whether the request went out and was answered in this run: false in a dry run (for methods that change things),
   * on a replay from the journal, when a fixture answered it (`fixture`), and when no answer came (a timeout or a
   * network failure: the service may or may not have received it).
   */
  performed: boolean;
  /** true when a fixture gave the answer (or the failure): nothing went out, no service answered. */
  fixture?: true;
  /** true when every attempt waited for a free connection to the host in vain: nothing went out (shown "not sent"). */
  notSent?: true;
  attempts?: number;
  ms?: number;
  error?: string;
  /**
   * Made by this run while an earlier attempt of its job had been cut off with its last effect perhaps not journaled
   * (`EffectJournalPort.mayRepeat`): the cut attempt may have made this effect too, so it may have happened twice.
   */
  mayRepeat?: true;
  /**
   * true for a request a dry run did not send that no fixture matched: it got the dry run's default answer, 200 with
   * an empty body, which no service gave.
   */
  defaultAnswer?: true;
}

/** One asynchronous start as recorded in a run result; `result` is filled when the child run is followed. */
export interface AsyncStartRecord {
  block: string;
  scenario: string;
  params: Record<string, Value>;
  runId?: string;
  result?: RunResult;
  /**
   * Made by this run while an earlier attempt of its job had been cut off with its last effect perhaps not journaled
   * (`EffectJournalPort.mayRepeat`): the cut attempt may have made this effect too, so it may have happened twice.
   */
  mayRepeat?: true;
}

/** One step of the trace. */
export interface TraceStep {
  step: number;
  scenario: string;
  block: string;
  kind: string;
  /** Exit taken, or the control action ('stop', 'call', 'jump', 'end'). */
  exit: string;
  ms: number;
  /** Variables set by this step, with their new values. */
  changed?: Record<string, Value>;
  /** For effect blocks: what was done and how it went. */
  effect?: JsonValue;
  /** What the block wants the reader of the trace to know, e.g. a Parser query that matched nothing. */
  notes?: string[];
  /** The times the step read from the run's clock (Now(), a cookie's age), in order: a test made from the run replays them. */
  clock?: string[];
  error?: string;
}

export interface RunError {
  code: string;
  message: string;
  block?: string;
  scenario?: string;
  /** Where the failing block is written (its id in the YAML file), as load errors give it. */
  file?: string;
  line?: number;
  col?: number;
  /** true when a later attempt may succeed (an outage), false when it cannot (a refusal or a scenario bug). */
  retryable: boolean;
}

/** The outcome of one run of a scenario, as a discriminated union on `status`. */
export type RunResult = RunResultBase &
  ({ status: 'completed'; error?: undefined } | { status: 'failed'; error: RunError });

export interface RunResultBase {
  runId: string;
  scenario: string;
  version: string;
  returnValues: Record<string, Value>;
  variables: Record<string, Value>;
  mails: MailRecord[];
  bpiumCalls: BpiumCallRecord[];
  /** Database statements (DbQuery, DbProcedure); absent when the run made none. */
  dbCalls?: DbCallRecord[];
  /** Web requests of WebRequest blocks; present only when the run made some. */
  httpCalls?: HttpCallRecord[];
  asyncStarted: AsyncStartRecord[];
  trace: TraceStep[];
  /** Steps left out of the trace because it reached its limit (a runaway loop). */
  traceTruncated?: number;
  /**
   * The effects this run made that an earlier, cut-off attempt of its job may have made too (`mayRepeat` on their
   * records); absent when there are none.
   */
  mayRepeat?: MayRepeatEffect[];
  /**
   * Of a run that failed on a service's outage (an SMTP, Bpium, WebRequest or database failure its adapter marked `details.outage`): which
   * service and how, so that a caller retrying the run can fold the repeats in its log. Not part of the run record.
   */
  failedOn?: OutageKey;
  steps: number;
  startedAt: string;
  durationMs: number;
}

/** An effect a run made that may repeat one of a cut-off attempt (`RunResultBase.mayRepeat`). */
export interface MayRepeatEffect {
  step: number;
  scenario: string;
  block: string;
  kind: string;
}

/** Where an assigned value comes from, for the message of a conversion that fails. */
export interface AssignmentPlace {
  from?: string;
  at?: { file: string; line: number; col: number } | undefined;
}

/** What `perform` of `BlockRuntime.effect` may do while the effect is under way. */
export interface EffectInFlight {
  /**
   * Records at once, durably, that the effect may be made already while its outcome is not known yet (a letter
   * written whole, its server silent so far). `detail` is kept with the mark (e.g. the letter's Message-ID). The
   * outcome supersedes the mark; a failure of kind other than `unknown` withdraws it. Only the first call counts.
   * Absent when the run keeps no journal (a dry run, a hook's own run). Call it after a delay, not for every effect:
   * it is a write.
   */
  markPending?(detail: JsonValue): void;
}

export interface EffectOptions {
  /**
   * The journal holds a pending mark for this step, made by an earlier attempt cut off while it waited (stopped,
   * killed, or its job taken over), and no outcome. Throw (an EffectError) to stop; return to make the effect again.
   */
  interrupted?(detail: JsonValue): void;
  /**
   * Whether a journaled outcome is that of an effect made. One that is not (a refusal an earlier build journaled: a
   * WebRequest's 400, on which the service did not act) is not replayed: the effect is made again. Default: made.
   */
  made?(outcome: JsonValue): boolean;
}

/** The ports and facts a block can use while it runs. */
/** See `BlockRuntime.regexBudget`. */
export interface RegexBudget {
  readonly limitMs: number;
  spentMs: number;
  /** The block whose extraction found the budget spent first, and why (the run logs it once, as a warning, when it ends). */
  exhausted?: { scenario: string; block: string; reason: string };
}

export interface BlockRuntime {
  readonly blockId: string;
  readonly scenario: string;
  readonly runId: string;
  readonly dryRun: boolean;
  /**
   * Whether this run is an attempt of a queued job: it has an effect journal, which only the worker pool gives. A
   * failure that is not retried then leaves the job as a dead letter, for `replay`. False for a run that answers a
   * request (the hook scenario, a synchronous Web-API run), a live `oktell-emu run`, a test case and a dry run:
   * nothing keeps those to replay, so a message about them must not promise a dead letter.
   */
  readonly queuedJob: boolean;
  evaluate(expr: CompiledExpression): Value;
  get(name: string): Value;
  /**
   * Assigns with conversion to the variable's declared type. A value that does not fit throws an expression error
   * naming the variable and its type; `from` (e.g. "parameter 2", a JSONPath) and `at` (the line of the assignment)
   * make the message say where the value came from and point at the line.
   */
  set(name: string, value: Value, where?: AssignmentPlace): void;
  inputParameter(n: number): Value;
  setReturnValue(n: number, value: Value): void;
  // The ports below reach the outside world. A block calls them inside `effect` (a write: made once per run and step)
  // or `external` (a read): never bare, or a job's journal could still hold an effect's record in memory while the
  // run waits on the outside world, and a crash then would make a retry repeat the effect.
  readonly bpium: BpiumPort | undefined;
  /** See `EnginePorts.bpiumHint`. */
  readonly bpiumHint: string | undefined;
  readonly mailer: MailerPort | undefined;
  readonly web: WebRequestPort | undefined;
  readonly templates: TemplatePort | undefined;
  readonly databases: DatabasePort | undefined;
  readonly asyncStarter: AsyncStarterPort;
  readonly clock: ClockPort;
  readonly mailFrom: string | undefined;
  /**
   * The run's regex budget (a setting, not a port): the milliseconds its Parser regex extractions may search, all of
   * them together, and how many they have used. Per run, not per extraction, so a loop that takes match i of a long
   * text at each turn (quadratic over the turns) is bounded too.
   */
  readonly regexBudget: RegexBudget;
  /**
   * Variables as a plain object (template context); given a scenario's name, only those that scenario declares with
   * the same name and type (what an async start copies).
   */
  snapshot(forScenario?: string): Record<string, Value>;
  /**
   * Which of an async start's parameters and copied variables carry a secret of this run (its own, or a text built
   * from one): the started run masks them in its record (SecretCarriers). Undefined when none does.
   */
  secretCarriers(params: Readonly<Record<string, Value>>, variables: Readonly<Record<string, Value>>): SecretCarriers | undefined;
  /**
   * Notes that `value` was taken out of what `source` evaluated to (a Parser's extraction from its document): when that
   * carried a secret of this run, the value is masked in the run's record like the secret, since a part of a secret
   * text is not found by looking for the whole one.
   */
  takenFrom(source: CompiledExpression, value: Value): void;
  /**
   * Notes that `text` was rendered from a template that read the variables `reads` names (asked only when the run has
   * a secret): when one read otherwise than
   * printed as it is carries a secret of this run, the text is masked whole in the run's record (a template can
   * upper-case, escape or cut a secret, which looking for the secret as it is would miss); when only ones printed as
   * they are do, it is masked at the secret.
   */
  renderedFrom(text: string, reads: () => TemplateReads | undefined): void;
  /**
   * Runs an effect once per run and step: when the journal already holds this step's outcome (a retried run), it is
   * returned without running `perform` again. When it holds a pending mark instead (`EffectInFlight.markPending`: an
   * earlier attempt was cut off while it waited for the effect's answer), `opts.interrupted` decides; by default the
   * run fails with an EffectError of kind `unknown` and `perform` is not called.
   */
  effect<T extends JsonValue>(perform: (inFlight: EffectInFlight) => Promise<T>, opts?: EffectOptions): Promise<{ value: T; replayed: boolean }>;
  /**
   * Runs an outside call that is not an effect (a read: a Bpium GET, a database SELECT). Effects this run has already
   * done are made durable first, so a crash while the call waits on the outside world cannot make a retry repeat them.
   */
  external<T>(perform: () => Promise<T>): Promise<T>;
  /**
   * A read whose answer a queued job keeps (a database SELECT): run as `external`, and its answer is put in the
   * journal against the step, so a retry reads what the earlier attempt read, up to where that attempt got, instead
   * of other rows (the attempt's own committed writes, or another program's, change what a read finds). Without
   * that, the effects the journal replays by step would meet data they were not made for: an order read after a
   * retry would get the answer of the order posted before it. Not an effect: no fence, no pending marks, and nothing
   * of it reaches the store unless an effect after it does (written ahead of that effect's entry, or with the
   * attempt's outcome when that entry waits there too).
   */
  read<T extends JsonValue>(perform: () => Promise<T>): Promise<{ value: T; replayed: boolean }>;
  recordMail(mail: Omit<MailRecord, 'block'>): void;
  recordBpiumCall(call: Omit<BpiumCallRecord, 'block'>): void;
  recordAsyncStart(start: Omit<AsyncStartRecord, 'block'>): void;
  recordDbCall(call: Omit<DbCallRecord, 'block'>): void;
  recordHttpCall(call: Omit<HttpCallRecord, 'block'>): void;
  /** This step's key, stable across attempts of a job (the journal's key): for Idempotency-Key headers. */
  effectKey(): string;
  /** Attaches effect details to this step's trace entry. */
  traceEffect(details: JsonValue): void;
  /**
   * Adds a note to this step's trace entry (something that went quietly, like a query that matched nothing). A note
   * that costs something to work out is given as a function, called (with this runtime) only when the run keeps a
   * trace; a block can then make it once, when it is compiled, rather than a closure at every visit.
   */
  traceNote(text: string | ((rt: BlockRuntime) => string | undefined)): void;
  /** Whether this block has `exit` wired (blocks choose between an error exit and failing the run). */
  hasExit(exit: string): boolean;
  /**
   * The value passed to this scenario's Start block (input parameter 1, or a caller's start value); undefined when a
   * `call`/`jump` passed none, so the shared variable keeps its value.
   */
  startParameter(): Value | undefined;
  readonly timeZone: string;
}

/**
 * One block kind: its Oktell name, its property schema, a tested YAML example, how to compile its properties, and
 * how to run it.
 */
export interface BlockDefinition<Raw = unknown, C = unknown> {
  kind: string;
  /** Oktell's Russian name of the component. */
  oktellName: string;
  description: string;
  /** Exits this kind may have. */
  exits: readonly string[];
  /** Properties of the block besides kind/title/description/exits. */
  schema: z.ZodType<Raw>;
  /** A YAML example of one block of this kind (a mapping `id: {kind: …}`), loaded by the tests. */
  example: string;
  /** true when the block has side effects (Bpium, mail, async start): it is journaled and retried. */
  effect?: boolean;
  /**
   * What a run of this block changes outside the emulator, as a phrase for a warning ("sends a letter"); undefined
   * when this configuration only reads (a Bpium getRecord, a GET, a SELECT). The server warns about such blocks in
   * the hook scenario, whose run is not a job: a write there that fails is neither retried nor kept as a dead letter.
   * An async start has none: it is stored as a job with the webhook.
   */
  writes?(config: C): string | undefined;
  compile(raw: Raw, cx: CompileContext): C;
  run(config: C, rt: BlockRuntime): BlockResult | Promise<BlockResult>;
}

/** The explicit map of block kinds the loader accepts. */
export type BlockRegistry = ReadonlyMap<string, BlockDefinition<any, any>>;
