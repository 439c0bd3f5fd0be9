// The interpreter: runs a loaded scenario block by block, with guardrails, a trace and injected ports.
import { EffectError, RUN_ERROR_CODES as R, RunFailure } from './errors.js';
import { carriedParameter, ExpressionRuntimeError, type CompiledExpression } from './expr/index.js';
import { traceCutter } from './cut-text.js';
import { TraceLog } from './trace-log.js';
import { isStackOverflow } from './json-text.js';
import { maskReturnValues, RunSecrets, SECRET_MASK, type SecretCarriers } from './secrets.js';
import type { ScenarioLibrary } from './library.js';
import { NO_MARKS, onInterrupted, pendingMarks, readJournal, readJournalEntry, repeatKey } from './pending-effects.js';
import { journalVersions, VERSIONS_KEY } from './journal-versions.js';
import type {
  AsyncStartRecord,
  Block,
  BlockRuntime,
  BpiumCallRecord,
  Control,
  DbCallRecord,
  EffectInFlight,
  EffectOptions,
  HttpCallRecord,
  MailRecord,
  MayRepeatEffect,
  RunError,
  RunResult,
  RunResultBase,
  Scenario,
  TraceStep,
} from './model.js';
import type {
  AsyncStarterPort,
  BpiumPort,
  ClockPort,
  DatabasePort,
  EffectJournalPort,
  IdPort,
  LoggerPort,
  MailerPort,
  OutageKey,
  TemplatePort,
  WebRequestPort,
} from './ports.js';
import { coerceToType, type JsonValue, type Value, type VarType } from './values.js';

/** Ports a run uses. Only `asyncStarter`, `clock` and `ids` are required; a missing adapter fails the block that needs it. */
export interface EnginePorts {
  bpium?: BpiumPort;
  /** With no `bpium`: what the run's caller knows about a Bpium to use, added to the block's failure message. */
  bpiumHint?: string;
  mailer?: MailerPort;
  web?: WebRequestPort;
  templates?: TemplatePort;
  /** The configured databases (DbQuery, DbProcedure); a dry run gets one that rolls back. */
  databases?: DatabasePort;
  asyncStarter: AsyncStarterPort;
  clock: ClockPort;
  ids: IdPort;
  journal?: EffectJournalPort;
  logger?: LoggerPort;
  mailFrom?: string;
  /** Milliseconds a run's regex extractions may search in all (the server's `regexBudgetMs`); default DEFAULT_REGEX_BUDGET_MS. */
  regexBudgetMs?: number;
  /** The position `SubStr` calls the first character (the server's `substrBase`): 0 (default) or 1. */
  substrBase?: 0 | 1;
}

export interface RunLimits {
  /** Blocks one run may execute (a loop guard). */
  maxSteps: number;
  /** Wall-clock budget of one run, in ms. */
  deadlineMs: number;
  /** Nested `call` depth. */
  maxDepth: number;
  /**
   * Visits of effect blocks (letters, Bpium calls, web requests, database statements, async starts, and any later block that declares `effect`) one run
   * may make: a webhook listing one employee thousands of times must not become thousands of letters. Dry runs count
   * the same visits, so they stop where the live run would.
   */
  maxEffects: number;
}

/** The default of `RunLimits.maxEffects` (the server's `maxEffectsPerRun`, `OKTELL_MAX_EFFECTS`). */
export const DEFAULT_MAX_EFFECTS = 100;

/**
 * The default of `EnginePorts.regexBudgetMs` (`regexBudgetMs`, `OKTELL_REGEX_BUDGET_MS`): a usual extraction takes
 * microseconds; this stops the rare pattern whose matches each scan the rest of the text from holding the thread.
 */
export const DEFAULT_REGEX_BUDGET_MS = 100;

/**
 * Milliseconds a run computes before it lets the event loop take a turn. Blocks without effects (Variable, Condition,
 * Parser…) run one after another without waiting for anything; without this, one long loop, or many runs at once,
 * would hold the server's only thread: no webhook acknowledged, no timer (a Web-API caller's `timeout`) fired, no
 * health check answered until they end.
 */
export const RUN_SLICE_MS = 5;

export const DEFAULT_LIMITS: RunLimits = { maxSteps: 100_000, deadlineMs: 120_000, maxDepth: 16, maxEffects: DEFAULT_MAX_EFFECTS };

export interface RunOptions {
  /** Input parameters by number (1 = start parameter). */
  params?: Readonly<Record<string | number, Value>>;
  /** Variables to preset (an async start copies the caller's same-name variables). */
  variables?: Readonly<Record<string, Value>>;
  /**
   * Values for the variables of scenarios this run calls or jumps to, in place of their initial values when the call
   * or jump declares them (a test case's `variables:`); a variable the run already has keeps its value.
   */
  calleeVariables?: Readonly<Record<string, Value>>;
  /** Which of `params` and `variables` carry a secret of the run that started this one: masked in this run's record. */
  carriesSecret?: SecretCarriers;
  runId?: string;
  /** Stable key for the effect journal across attempts (the job id); default the run id. */
  journalKey?: string;
  /**
   * How many times the job was replayed by an operator (its replay count; default 0). A pending mark an attempt
   * made before the latest replay no longer stops its effect: the replay is the decision to make it again.
   */
  journalEpoch?: number;
  dryRun?: boolean;
  /** Record a step trace (default true). */
  trace?: boolean;
  /**
   * Steps recorded in the trace at most (default 10,000). A longer run keeps its first half and its last half (where a
   * runaway loop ended); the steps between are counted in `traceTruncated`.
   */
  traceLimit?: number;
  limits?: Partial<RunLimits>;
  /**
   * Once aborted, the run stops before its next block with R_CANCELLED and the signal's reason (the Web-API's
   * `syncTimeout: stop` when its caller's timeout passed). The block running then finishes first.
   */
  signal?: AbortSignal;
  timeZone?: string;
  /**
   * The caller logs the run's failure itself, with more of what it knows (a job's attempt and what becomes of it):
   * the engine's own line for it is then written at debug level, so an outage does not log each failure twice.
   */
  failureLogged?: boolean;
  ports: EnginePorts;
}

interface Frame {
  scenario: Scenario;
  /** Where to continue in the caller when this called scenario ends. */
  returnTo: string | undefined;
  /** Undefined when a call/jump passed no parameter 1: the Start then leaves its shared variable as it is. */
  startParam: Value | undefined;
}

/** The trace note of a step whose effect may repeat one of a cut-off attempt (EffectJournalPort.mayRepeat). */
export const MAY_REPEAT_NOTE = 'an earlier attempt of this job was cut off before it journaled its last effect: this effect may repeat that one (made twice)';

/** The trace note of a replayed effect that the attempt which made it marked as a possible repeat (MAY_REPEAT_NOTE). */
export const REPLAYED_REPEAT_NOTE =
  'replayed, not made again: the earlier attempt that made it followed a cut-off attempt and marked it as a possible repeat of that one (made twice); that attempt was cut off in turn';

/** The block runtime as the run keeps it: the current block and scenario are set as the run moves on. */
type LiveRuntime = { -readonly [K in 'blockId' | 'scenario']: BlockRuntime[K] } & Omit<BlockRuntime, 'blockId' | 'scenario'>;

/** Runs scenario `name` of `library` to its end. Never throws for scenario-level failures: they are in the result. */
export async function runScenario(library: ScenarioLibrary, name: string, opts: RunOptions): Promise<RunResult> {
  const ports = opts.ports;
  const clock = ports.clock;
  const started = clock.now();
  /** The times the current step read from the clock, for its trace entry: a test made from the run replays them. */
  let clockReads: string[] | undefined;
  const readClock = (): Date => {
    const now = clock.now();
    if (opts.trace !== false) (clockReads ??= []).push(now.toISOString());
    return now;
  };
  const t0 = performance.now();
  const runId = opts.runId ?? ports.ids.newId();
  const root = library.scenarios.get(name);
  const base = {
    runId,
    scenario: name,
    version: root?.version ?? 'unknown',
    returnValues: {} as Record<string, Value>,
    variables: {} as Record<string, Value>,
    mails: [] as MailRecord[],
    bpiumCalls: [] as BpiumCallRecord[],
    dbCalls: undefined as DbCallRecord[] | undefined,
    httpCalls: undefined as HttpCallRecord[] | undefined,
    asyncStarted: [] as AsyncStartRecord[],
    trace: [] as TraceStep[],
    steps: 0,
    startedAt: started.toISOString(),
    durationMs: 0,
  };
  if (!root) {
    const known = [...library.scenarios.keys()].join(', ') || 'none';
    // Retryable: a queued job finds its scenario missing or invalid while someone is editing it; once the edit is
    // fixed the job runs, so an acknowledged webhook is never lost to an edit (it becomes a dead letter at worst).
    return recordOf(base, undefined, [], { code: R.UNKNOWN_SCENARIO, message: `scenario "${name}" is not loaded (known: ${known}); fix or restore its file and the job runs again`, retryable: true });
  }
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const traceOn = opts.trace !== false;
  // Past the first half of the limit, steps go round a ring of the other half, so the trace ends with the last steps.
  const trace = traceOn ? new TraceLog(opts.traceLimit ?? 10_000) : undefined;
  // Values are cut as a step records them, not when the run is stored: 10,000 kept steps of a text growing in a loop
  // would otherwise hold (and, once cut, copy) thousands of versions of it (see cut-text.ts).
  const traceValue = traceCutter();
  const timeZone = opts.timeZone ?? 'UTC';
  const params = new Map<number, Value>();
  for (const [k, v] of Object.entries(opts.params ?? {})) params.set(Number(k), v);
  const vars = new Map<string, Value>();
  const returnValues = new Map<number, Value>();
  const visits = new Map<string, number>();
  const journalKey = opts.journalKey ?? runId;
  /** The effect journal, unless this is a dry run (which makes no effects to record). */
  const journal = opts.dryRun === true ? undefined : ports.journal;
  const journalEpoch = opts.journalEpoch ?? 0;
  /** The scenario versions the job's effects were journaled under: a retry on an edited scenario checks them first. */
  const versions = journal && journalVersions(journal, journalKey, journalEpoch, library.scenarios, () => journaled(() => journal.get(journalKey, VERSIONS_KEY)), ports.logger);

  let frame: Frame = { scenario: root, returnTo: undefined, startParam: params.get(1) ?? '' };
  const frames: Frame[] = [];
  initVariables(frame.scenario, vars, opts.variables, timeZone);
  /** The run's secret variables and their values, masked in what the run records (secrets.ts). */
  const secrets = new RunSecrets();
  secrets.addScenario(root, vars);
  // What the starting run passed of its secrets is masked here too (the values as passed; the job holds them).
  for (const n of opts.carriesSecret?.params ?? []) secrets.addValue(params.get(Number(n)));
  for (const n of opts.carriesSecret?.variables ?? []) secrets.addValue(vars.get(n));
  /** The names of CompiledExpression.carries that stand for a secret here: `InputParameter(n)` as carriedParameter(n). */
  const secretParams = new Set((opts.carriesSecret?.params ?? []).map((n) => carriedParameter(Number(n))));
  if (secretParams.size) secretParams.add(carriedParameter(undefined));
  const carriesSecret = (n: string): boolean => secrets.isSecret(n) || secretParams.has(n) || secrets.holds(vars.get(n));

  let block: Block | undefined;
  let effectDetail: JsonValue | undefined;
  /** The current step's notes: the first alone (most steps have none or one), all of them once there are two. */
  let firstNote: string | undefined;
  let notes: string[] | undefined;
  let step = 0;
  let effects = 0;
  /** The step whose effect may repeat one of a cut-off attempt (EffectJournalPort.mayRepeat): its records say so. */
  let repeatStep = -1;
  const mayRepeat: MayRepeatEffect[] = [];
  const markRepeat = () => {
    repeatStep = step;
    mayRepeat.push({ step, scenario: stepScenario, block: block!.id, kind: block!.kind });
    rt.traceNote(MAY_REPEAT_NOTE);
  };
  const repeatMark = (): { mayRepeat?: true } => (repeatStep === step ? { mayRepeat: true } : {});
  let stepScenario = root.name;

  const exprCtx = {
    getVariable(n: string): Value {
      const v = vars.get(n);
      // A json variable holding JSON null (what a Parser miss leaves) reads as the empty value: it joins as empty
      // text, not as the word "null", as IsEmpty already treats it. The variable itself keeps the text "null".
      if (v === 'null' && frame.scenario.variables.get(n)?.type === 'json') return null;
      return v ?? null;
    },
    inputParameter: (n: number) => params.get(n) ?? '',
    now: () => readClock(),
    timeZone,
    substrBase: ports.substrBase ?? 0,
  };

  // `blockId` and `scenario` are plain properties that the loop below keeps current, not getters: an object literal
  // with accessors gets a hidden class of its own each time it is made, which made this runtime cost several times a
  // short run's own work, most of it in garbage collection (a one-block run went from about 75 to 17 µs of CPU, the
  // shipped four-block HTTP404 from about 120 to 21 µs).
  const rt: LiveRuntime = {
    blockId: '',
    scenario: root.name,
    runId,
    dryRun: opts.dryRun === true,
    timeZone,
    evaluate(expr: CompiledExpression) {
      let v: Value;
      try {
        v = expr.evaluate(exprCtx);
      } catch (e) {
        throw e instanceof ExpressionRuntimeError ? e.place(undefined, failedAt(e, expr)) : e;
      }
      // A text computed from a secret (cased, cut, replaced in) is masked in the record like the secret itself.
      if (typeof v === 'string' && !secrets.none && expr.carries?.length && !expr.literalTexts?.includes(v)) {
        if (expr.changes?.some(carriesSecret)) secrets.addDerived(v);
        else if (expr.carries.some(carriesSecret)) secrets.addJoined(v);
      }
      return v;
    },
    get: (n) => vars.get(n) ?? null,
    set(n, value, where) {
      const decl = frame.scenario.variables.get(n);
      let v = value;
      if (decl) {
        try {
          v = coerceToType(value, decl.type, timeZone);
        } catch (e) {
          throw e instanceof ExpressionRuntimeError ? e.place(`${where?.from ? `${where.from} → ` : ''}${n} (${decl.type})`, where?.at) : e;
        }
      }
      vars.set(n, v);
      if (secrets.isSecret(n)) {
        secrets.addValue(v);
        trace?.change(n, SECRET_MASK);
      } else trace?.change(n, traceValue(v));
    },
    inputParameter: (n) => params.get(n) ?? '',
    startParameter: () => frame.startParam,
    setReturnValue(n, value) {
      returnValues.set(n, value);
      // A number that is a secret's value is known as one now (its variable holds it); a text is masked with the record.
      trace?.change(`Return value ${n}`, traceValue(secrets.maskValue(value)));
    },
    hasExit: (exit) => block!.exits[exit] !== undefined,
    queuedJob: journal !== undefined,
    bpium: ports.bpium,
    bpiumHint: ports.bpiumHint,
    mailer: ports.mailer,
    web: ports.web,
    templates: ports.templates,
    databases: ports.databases,
    asyncStarter: ports.asyncStarter,
    clock: { now: readClock },
    mailFrom: ports.mailFrom,
    regexBudget: { limitMs: ports.regexBudgetMs ?? DEFAULT_REGEX_BUDGET_MS, spentMs: 0 },
    snapshot: (forScenario) => (forScenario === undefined ? Object.fromEntries(vars) : sameTyped(forScenario)),
    secretCarriers: (params, variables) => {
      const p = secrets.carriersIn(params);
      const v = secrets.carriersIn(variables);
      return p.length || v.length ? { ...(p.length ? { params: p } : {}), ...(v.length ? { variables: v } : {}) } : undefined;
    },
    takenFrom(source, value) {
      if (secrets.none || (typeof value !== 'string' && typeof value !== 'number')) return;
      if (source.carries?.some(carriesSecret)) secrets.addDerived(String(value));
    },
    renderedFrom(text, reads) {
      if (secrets.none) return;
      const r = reads();
      if (!r) return;
      if (r.changed.some(carriesSecret)) secrets.addDerived(text);
      else if (r.asIs.some(carriesSecret)) secrets.addJoined(text);
    },
    async effect<T extends JsonValue>(perform: (inFlight: EffectInFlight) => Promise<T>, effectOpts?: EffectOptions) {
      const key = stepKey();
      if (!journal || !versions) return { value: await perform(NO_MARKS), replayed: false };
      await versions.check();
      const prior = await readJournal((at) => journaled(() => journal.get(journalKey, at)), key, journalEpoch);
      if (prior.kind === 'outcome' && effectOpts?.made?.(prior.value) !== false) {
        // The attempt that made it may have made it twice, and been cut off before its run was recorded: this run's
        // record of the replayed effect carries the mark, so runs, show and the console still name the twin.
        if ((await journaled(() => journal.get(journalKey, repeatKey(key)))) === true) {
          repeatStep = step;
          rt.traceNote(REPLAYED_REPEAT_NOTE);
        }
        return { value: prior.value as T, replayed: true };
      }
      if (prior.kind === 'pending') onInterrupted(prior.detail, effectOpts);
      const marks = pendingMarks(journal, journalKey, key, journalEpoch, ports.logger);
      // Last, right before the effect: a job whose lease this attempt may have lost is left to its new owner.
      const fenced = journal.fence?.();
      if (fenced) await fenced;
      // Asked before the effect: once it is made, its own entry waits to be written, which says nothing of the cut attempt.
      const repeat = journal.mayRepeat?.() === true;
      let value: T;
      try {
        try {
          value = await perform(versions.marking(marks.handle, frame.scenario));
        } catch (e) {
          await marks.afterFailure(e);
          // An outcome unknown (a letter written whole and never answered) leaves the effect perhaps made, as one that
          // succeeded is: after a cut-off attempt it may repeat that attempt's last, so it is marked the same way.
          if (repeat && e instanceof EffectError && e.kind === 'unknown') markRepeat();
          throw e;
        }
        // Not retryable: the effect was made, and a retry that cannot find it in the journal would make it again.
        await journaled(() => versions.record(frame.scenario), false);
        // Written with the outcome (before it, in the same write of a journal that holds entries), so a retry that
        // replays the effect still says it may have been made twice.
        if (repeat) await journaled(() => journal.put(journalKey, repeatKey(key), true), false);
        await journaled(() => journal.put(journalKey, key, value), false);
        await marks.afterOutcome();
      } finally {
        journal.afterEffect?.();
      }
      if (repeat) markRepeat();
      return { value, replayed: false };
    },
    async external<T>(perform: () => Promise<T>): Promise<T> {
      if (journal?.settle) await journaled(() => journal.settle!());
      return perform();
    },
    async read<T extends JsonValue>(perform: () => Promise<T>) {
      if (!journal || !versions) return { value: await rt.external(perform), replayed: false };
      const key = stepKey();
      await versions.check();
      const prior = readJournalEntry(await journaled(() => journal.get(journalKey, key)), journalEpoch);
      if (prior.kind === 'outcome') return { value: prior.value as T, replayed: true };
      const value = await rt.external(perform);
      await journaled(() => journal.put(journalKey, key, value, { read: true }));
      return { value, replayed: false };
    },
    recordMail: (m) => base.mails.push({ block: block!.id, ...m, ...repeatMark() }),
    recordBpiumCall: (c) => base.bpiumCalls.push({ block: block!.id, ...c, ...repeatMark() }),
    recordAsyncStart: (a) => base.asyncStarted.push({ block: block!.id, ...a, ...repeatMark() }),
    recordDbCall: (c) => (base.dbCalls ??= []).push({ block: block!.id, ...c, ...repeatMark() }),
    recordHttpCall: (c) => (base.httpCalls ??= []).push({ block: block!.id, ...c, ...repeatMark() }),
    effectKey: () => `${journalKey}/${stepKey()}`,
    traceEffect(details) {
      effectDetail = details;
    },
    traceNote(text) {
      // A note made by a function costs nothing when the run keeps no trace, and one that fails to compute is left
      // out: keeping a trace must never change how a run ends.
      let t: string | undefined;
      try {
        t = typeof text === 'function' ? (traceOn ? text(rt) : undefined) : text;
      } catch {
        t = undefined;
      }
      if (!t) return;
      if (firstNote === undefined) firstNote = t;
      else (notes ??= [firstNote]).push(t);
    },
  };

  /**
   * The variables an async start copies into scenario `name`: those it declares with the same name and the same type
   * as this run does (Oktell's rule). A scenario that is not loaded gets them all; its run converts what fits when
   * the scenario is back (a job waiting for a restored file must not lose its copies).
   */
  function sameTyped(name: string): Record<string, Value> {
    const target = library.scenarios.get(name);
    const out: Record<string, Value> = {};
    for (const [n, v] of vars) {
      // A secret stays in this run: the job of the start is stored, and the started scenario takes its own secret
      // from its own declaration (the same environment variable or file, when it declares the same).
      if (secrets.isSecret(n)) continue;
      if (!target) {
        out[n] = v;
        continue;
      }
      const type = target.variables.get(n)?.type;
      if (type !== undefined && type === declaredType(n)) out[n] = v;
    }
    return out;
  }

  /** A variable's declared type: this scenario's declaration, else the nearest caller's (call/jump share variables). */
  function declaredType(n: string): VarType | undefined {
    for (let i = frames.length; i >= 0; i--) {
      const type = (i === frames.length ? frame : frames[i]!).scenario.variables.get(n)?.type;
      if (type !== undefined) return type;
    }
    return undefined;
  }

  /** The journal's key of the current step: scenario, block and the how-many-th visit of it in this run. */
  function stepKey(): string {
    return `${frame.scenario.name}:${block!.id}#${visits.get(`${frame.scenario.name}:${block!.id}`) ?? 1}`;
  }

  const deadline = Date.now() + limits.deadlineMs;
  let sliceStart = performance.now();
  let blockId: string | undefined = frame.scenario.start;
  let failure: RunError | undefined;
  let failedOn: OutageKey | undefined;
  /**
   * When the current step began, for its trace entry: the previous step's end, so that a step reads the clock once
   * (at its end) rather than twice; read again after the run waited between steps (a slice's turn).
   */
  let stepStart = traceOn ? performance.now() : 0;

  try {
    for (;;) {
      if (blockId === undefined) {
        const caller = frames.pop();
        if (!caller) break;
        blockId = frame.returnTo;
        frame = caller;
        rt.scenario = frame.scenario.name;
        continue;
      }
      if (++step > limits.maxSteps) {
        // Named as the error's place is: the last block that ran (the loop's exit condition is usually there).
        throw new RunFailure(R.STEP_LIMIT, `stopped after ${limits.maxSteps} blocks: the scenario is probably looping (last block "${block?.id ?? blockId}", next "${blockId}"); check the loop's exit condition`);
      }
      if (opts.signal?.aborted) {
        throw new RunFailure(R.CANCELLED, `stopped before block "${blockId}": ${String(opts.signal.reason ?? 'the run was cancelled')}`);
      }
      if ((step & 1023) === 0 && Date.now() > deadline) {
        throw new RunFailure(R.DEADLINE, `stopped after ${limits.deadlineMs} ms at block "${blockId}": a slow Bpium/SMTP or a long loop; raise the deadline only if the work is really that long`, true);
      }
      if ((step & 127) === 0 && performance.now() - sliceStart >= RUN_SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
        stepStart = sliceStart;
      }
      block = frame.scenario.blocks.get(blockId)!;
      rt.blockId = block.id;
      stepScenario = frame.scenario.name;
      if (block.def.effect) {
        // Counted before the block runs, so the effect over the cap is never performed.
        if (++effects > limits.maxEffects) {
          throw new RunFailure(
            R.EFFECT_LIMIT,
            `stopped before block "${block.id}": the run reached its cap of ${limits.maxEffects} effects (letters, Bpium calls, web requests, database statements, async starts); the input probably asks for far more than intended (a list repeating one id); raise maxEffectsPerRun (OKTELL_MAX_EFFECTS) only if a run really needs more`,
          );
        }
        const vk = `${frame.scenario.name}:${block.id}`;
        visits.set(vk, (visits.get(vk) ?? 0) + 1);
      }
      effectDetail = undefined;
      firstNote = undefined;
      notes = undefined;
      clockReads = undefined;
      let result = block.def.run(block.config, rt);
      if (typeof result !== 'string' && 'then' in result) {
        result = await result;
        sliceStart = performance.now();
      }
      let exitName: string;
      if (typeof result === 'string') {
        exitName = result;
        blockId = block.exits[result];
      } else {
        exitName = result.control;
        blockId = control(result);
      }
      if (traceOn) stepStart = pushTrace(exitName, stepStart);
    }
  } catch (e) {
    failure = secrets.maskTexts(toRunError(e, block, frame.scenario.name));
    if (e instanceof EffectError && e.details.outage) failedOn = e.details.outage;
    // The failed step lasted from its start (the previous step's end) to here, its waits included.
    if (traceOn && block) pushTrace('failed', stepStart, failure.message);
    const level = failure.code === R.INTERNAL ? 'error' : opts.failureLogged ? 'debug' : 'warn';
    ports.logger?.[level]({ runId, scenario: name, block: block?.id, code: failure.code, err: failure.code === R.INTERNAL ? e : undefined }, failure.message);
  }

  // A Parser that took its error exit for the regex budget leaves the run completed: without this line an
  // operator would learn of it only by reading the run's trace.
  const exhausted = rt.regexBudget.exhausted;
  if (exhausted) ports.logger?.warn({ runId, scenario: exhausted.scenario, block: exhausted.block, limitMs: rt.regexBudget.limitMs }, exhausted.reason);
  base.steps = step;
  if (trace) base.trace = trace.steps();
  base.returnValues = Object.fromEntries([...returnValues].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v]));
  base.variables = secrets.maskTexts(secrets.maskVariables(Object.fromEntries(vars)));
  if (!secrets.none) maskRecord();
  base.durationMs = Math.round((performance.now() - t0) * 1000) / 1000;
  const result = recordOf(base, trace?.truncated, mayRepeat, failure, failedOn);
  // The return values as the record shows them; the scenario's answer keeps them as set (secrets.ts, answerValues).
  return maskReturnValues(result, secrets);

  /**
   * Replaces the run's secret values wherever the record quotes them: a header or URL built from a secret, an error
   * message, a letter. The return values are masked apart (maskReturnValues): the answer to the caller keeps them.
   */
  function maskRecord() {
    base.trace = secrets.maskTexts(base.trace);
    base.bpiumCalls = secrets.maskTexts(base.bpiumCalls);
    base.mails = secrets.maskTexts(base.mails);
    base.asyncStarted = secrets.maskTexts(base.asyncStarted);
    if (base.dbCalls) base.dbCalls = secrets.maskTexts(base.dbCalls);
    if (base.httpCalls) base.httpCalls = secrets.maskTexts(base.httpCalls);
  }

  /** Records the current step in the trace; returns when it ended (the next step's start). */
  function pushTrace(exit: string, s0: number, error?: string): number {
    const end = performance.now();
    const ms = Math.round((end - s0) * 1000) / 1000;
    if (effectDetail === undefined && clockReads === undefined && error === undefined && notes === undefined) {
      trace!.endWithNote(step, stepScenario, block!.id, block!.kind, exit, ms, firstNote);
      return end;
    }
    // A candidate repeat is marked in its step's effect too, where a stored run's list can find it (`"mayRepeat":true`).
    const effect = repeatStep === step && effectDetail !== null && typeof effectDetail === 'object' && !Array.isArray(effectDetail) ? { ...effectDetail, mayRepeat: true } : effectDetail;
    trace!.end(step, stepScenario, block!.id, block!.kind, exit, ms, { effect, notes: notes ?? (firstNote === undefined ? undefined : [firstNote]), clock: clockReads, error });
    return end;
  }

  /** Applies a control signal; returns the next block id in the (possibly new) current scenario. */
  function control(c: Control): string | undefined {
    switch (c.control) {
      case 'stop':
        if (c.returnControl) return undefined;
        frames.length = 0;
        return undefined;
      case 'call': {
        if (frames.length + 1 >= limits.maxDepth) {
          throw new RunFailure(R.DEPTH_LIMIT, `nested calls deeper than ${limits.maxDepth}: "${c.scenario}" probably calls itself without end`);
        }
        const callee = library.scenarios.get(c.scenario);
        if (!callee) throw new RunFailure(R.UNKNOWN_SCENARIO, `scenario "${c.scenario}" is not loaded`, true);
        frames.push(frame);
        const returnTo = block!.exits[c.exit];
        frame = { scenario: callee, returnTo, startParam: c.startParam };
        rt.scenario = callee.name;
        initVariables(callee, vars, opts.calleeVariables, timeZone, true);
        secrets.addScenario(callee, vars);
        return callee.start;
      }
      case 'jump': {
        const next = library.scenarios.get(c.scenario);
        if (!next) throw new RunFailure(R.UNKNOWN_SCENARIO, `scenario "${c.scenario}" is not loaded`, true);
        frame = { scenario: next, returnTo: frame.returnTo, startParam: c.startParam };
        rt.scenario = next.name;
        initVariables(next, vars, opts.calleeVariables, timeZone, true);
        secrets.addScenario(next, vars);
        return next.start;
      }
    }
  }
}

/**
 * The run's result, its keys in the record's order and only those it has: made by adding them one by one rather than
 * by deleting the empty ones from `base` and spreading it, because a deleted key turns an object into a dictionary,
 * and copying one of those per run was a tenth of a short run's cost.
 */
function recordOf(base: RunResultBase, truncated: number | undefined, mayRepeat: MayRepeatEffect[], failure: RunError | undefined, failedOn?: OutageKey): RunResult {
  const r = { runId: base.runId, scenario: base.scenario, version: base.version, returnValues: base.returnValues, variables: base.variables, mails: base.mails, bpiumCalls: base.bpiumCalls } as RunResultBase;
  if (base.dbCalls !== undefined) r.dbCalls = base.dbCalls;
  if (base.httpCalls !== undefined) r.httpCalls = base.httpCalls;
  r.asyncStarted = base.asyncStarted;
  r.trace = base.trace;
  if (truncated) r.traceTruncated = truncated;
  r.steps = base.steps;
  r.startedAt = base.startedAt;
  r.durationMs = base.durationMs;
  if (mayRepeat.length) r.mayRepeat = mayRepeat;
  if (failedOn) r.failedOn = failedOn;
  const ended = r as RunResultBase & { status: RunResult['status']; error?: RunError };
  ended.status = failure ? 'failed' : 'completed';
  if (failure) ended.error = failure;
  return ended as RunResult;
}

/**
 * Gives every declared variable its initial value, or its `preset` value; shared (call/jump) runs keep values that
 * already exist, and their presets go only to the variables they declare anew.
 */
function initVariables(s: Scenario, vars: Map<string, Value>, preset: Readonly<Record<string, Value>> | undefined, timeZone: string, keepExisting = false) {
  const kept = keepExisting && preset ? new Set<string>() : undefined;
  for (const decl of s.variables.values()) {
    if (keepExisting && vars.has(decl.name)) {
      kept?.add(decl.name);
      continue;
    }
    vars.set(decl.name, decl.initial);
  }
  if (preset) {
    for (const [k, v] of Object.entries(preset)) {
      const decl = s.variables.get(k);
      if (!decl || kept?.has(k)) continue;
      try {
        // The starter sent only variables of the same name and type (rt.snapshot(scenario)); converting still turns
        // a stored job's date, kept as ISO text, back into a date.
        vars.set(k, coerceToType(v, decl.type, timeZone));
      } catch {
        // The scenario was edited between the start and the run, and the value no longer fits: the initial value.
      }
    }
  }
}

/**
 * A journal operation. Its store refusing (busy, full, closed) is not the block's fault and may pass: the run fails
 * with R_JOURNAL, retryable unless an effect was just made and could not be recorded. Entries not yet written stay
 * with the journal for the attempt's outcome.
 */
async function journaled<T>(op: () => Promise<T>, retryable = true): Promise<T> {
  try {
    return await op();
  } catch (e) {
    throw new RunFailure(R.JOURNAL, `the effect journal could not be read or written: ${e instanceof Error ? e.message : String(e)}`, retryable);
  }
}

/**
 * Where a failed expression is pointed at: the failing call or operator when the error knows it and the loader said how
 * to place it (a call two lines down a |- value), else the value's start. A failure of the whole value on its first
 * line keeps the value's start (its opening quote), as before.
 */
function failedAt(e: ExpressionRuntimeError, expr: CompiledExpression): CompiledExpression['at'] {
  if (!e.span || !expr.locate) return expr.at;
  const inside = expr.locate(e.span.offset);
  return e.span.offset > 0 || !expr.at || inside.line !== expr.at.line ? inside : expr.at;
}

function toRunError(e: unknown, block: Block | undefined, scenario: string): RunError {
  const where = { ...(block ? { block: block.id, file: block.loc.file, line: block.loc.line, col: block.loc.col } : {}), scenario };
  if (e instanceof RunFailure) return { code: e.code, message: e.message, retryable: e.retryable, ...where };
  if (e instanceof EffectError) {
    return {
      code: e.kind === 'unknown' ? R.EFFECT_UNKNOWN : e.retryable ? R.EFFECT_TRANSIENT : R.EFFECT_PERMANENT,
      message: `${block?.kind ?? 'block'} "${block?.id}": ${e.message}`,
      retryable: e.retryable,
      ...where,
    };
  }
  if (e instanceof ExpressionRuntimeError) {
    // Pointed at the failing line (the set: entry, the property) when the block said which it was.
    return { code: R.EXPRESSION, message: `block "${block?.id}": ${e.message}`, retryable: false, ...where, ...(e.at ?? {}) };
  }
  if (isStackOverflow(e)) {
    // Data nested so deep that walking it recursively (a JSONPath "..", a JSON body sent on) exhausts the stack:
    // the same input fails the same way on every attempt, so it is permanent, and the message says what to look at.
    return {
      code: R.TOO_DEEP,
      message: `block "${block?.id}": the data is nested too deeply to process here (arrays or objects thousands of levels deep, e.g. in the webhook body); read only the parts of the document that are not so deep`,
      retryable: false,
      ...where,
    };
  }
  const msg = e instanceof Error ? e.message : String(e);
  return { code: R.INTERNAL, message: `internal error in block "${block?.id}": ${msg}`, retryable: false, ...where };
}
