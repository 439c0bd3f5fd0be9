// Starts the emulated Oktell web server with everything it needs: store, scenarios, Bpium, mail, workers.
import { accessSync, constants, existsSync, rmSync, statSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import pino from 'pino';
import type { BpiumClient } from '../adapters/bpium/client.js';
import { webRequestAttempts } from '../adapters/web/client.js';
import { buildPorts, emulatorClientOptions, type BpiumSource, type BuiltPorts } from '../adapters/ports.js';
import { applyMigrations } from '../adapters/db/migrations.js';
import { databaseDialects, fromCwd, missingDatabaseFiles } from '../adapters/db/settings.js';
import { endSpareSqliteProcesses } from '../adapters/db/sqlite.js';
import { pruneOutbox } from '../adapters/mail/outbox.adapter.js';
import { plainAuthWarning } from '../adapters/mail/plain-auth-warning.js';
import type { LoggerPort } from '../engine/index.js';
import { loadRunLibraries } from './run-libraries.js';
import { makePrivateFolder } from '../adapters/private-file.js';
import { emulatorAccount, startBpiumEmulator, type BpiumEmulator } from '../bpium-emulator/emulator.js';
import { createApp, rawWebApiAnswer, webApiForm, type AppDeps } from './app.js';
import { continueChecked, hookListener, pathOf } from './hook-listener.js';
import { hookUser, type OktellUser } from './auth.js';
import { ConfigError, DEFAULT_DEAD_LETTER_SCENARIO, deadLetterInFolder, jobBackoff, loadServerConfig, type ConfigFlags, type ServerConfig } from './config.js';
import { envSetting } from '../engine/env.js';
import { isStandardSecret } from './standard-webhooks.js';
import { configuredEmulatorSecret, EMULATOR_HOOK_PATH, EMULATOR_SECRET_FILE, emulatorWebhookSecret, generatedUser, sharedConsoleSecret } from './credentials.js';
import { createDelivery, type Delivery, type WorkerPool } from './delivery/index.js';
import { applyHeapSetting } from './heap.js';
import { Metrics } from './metrics.js';
import { SyncRuns } from './sync-runs.js';
import { stopConnections, type StopConnections } from './stop-connections.js';
import { CONNECTIONS_AFTER_GRACE_MS, notClosedText, unclosedPorts, within } from './within.js';
import { createOutageLog, type OutageLog } from './log-folding.js';
import { createLoginThrottle, shortPasswordWarning, trustAnyProxyWarning, type LoginThrottle } from './login-throttle.js';
import { bpiumScenarios, createScenarioHost, readScenarios, type ScenarioHost } from './scenario-host.js';
import { scenarioEnvNames, unknownEnvWarnings } from './env-names.js';
import { deadLetterScenarioWarning, hookScenarioWarning, replayWindowWarning, hookStatusWarnings, hookWriteWarnings, scenarioWarnings, sharedStoreDatabaseWarnings } from './startup-warnings.js';
import { retentionWarning, retryWindowShortText, retryWindowText } from './store/backoff.js';
import type { BuriedJob, DeadLetterCatchAll } from './store/dead-letter.js';
import { watchClock, type ClockWatch } from './store/clock-skew.js';
import { sortableIds } from './store/sortable-id.js';
import { openSqliteStore, quotaOptions } from './store/sqlite.store.js';
import { StoreUnavailableError } from './store/store.errors.js';
import { pgStoreOpenError, sqliteOlderServerInUse, sqliteOpenRefusal, sqliteSchemaRefusal, StoreOpenError } from './store/store-open.js';
export { sqliteOpenRefusal } from './store/store-open.js';
import { olderStoredSchema, SchemaTooNewError } from './store/sqlite.migrations.js';
import { sqliteFileInUse } from './store/store-in-use.js';
import type { Store } from './store/store.port.js';
import { migratedText, type SchemaMigrated } from './store/migrated.js';
import { logFormat, prettyDestination } from './log-format.js';
import { checkSqliteStore, warnLostWal } from './store/sqlite-check.js';
import { lockDataFolder, type DataFolderLock } from './data-lock.js';
import { readServerFile } from '../cli/server-file.js';
import { createServiceTasks, type ServiceTasks } from './tasks/index.js';
import { badAddress, bpiumSource, checkBeforeStart, EMULATOR_PORT_SETTINGS, portInUse, SERVER_PORT_SETTINGS, tlsFile } from './start-checks.js';
import type { TaskScheduler } from './tasks/scheduler.js';
import { noteServerCut } from './server-cut.js';

export interface RunningServer {
  /** An address to reach the server at from this machine (the bound one, or 127.0.0.1 when bound to all interfaces). */
  url: string;
  /** What the server binds and how to reach it, for the start banner (see `listeningOn`). */
  listening: string;
  port: number;
  config: ServerConfig;
  users: readonly OktellUser[];
  store: Store;
  host: ScenarioHost;
  workers: WorkerPool;
  metrics: Metrics;
  /** Service tasks: scenarios started on a schedule. */
  tasks: TaskScheduler;
  /** Synchronous Web-API runs whose scenario has not ended (at most `config.maxSyncRuns`). */
  syncRuns: { readonly running: number };
  emulator?: BpiumEmulator;
  /** Why the embedded emulator was not started although BPIUM_URL is unset (no scenario has a Bpium block). */
  emulatorNotStarted?: string;
  /**
   * The file of the secret generated for the embedded emulator (no secret configured for its path), which its hook
   * path then requires: for the start banner, to say where the signature's secret comes from.
   */
  generatedWebhookSecret?: { path: string; file: string };
  bpium?: BpiumClient;
  mail: { kind: 'smtp' | 'outbox'; describe: string };
  /** Problems found at start that did not stop it (also logged as warnings); the start banner shows them. */
  warnings: string[];
  /**
   * Stops taking requests, lets running jobs finish (or leaves them to be resumed), closes everything. Resolves with
   * what the stop left undone (the same stop as `close()` called again).
   */
  close(graceMs?: number): Promise<StopReport>;
}

/**
 * What a stop left undone: `unfinished` jobs (still running, or their end not recorded, when the grace period ended),
 * and among them `unrecorded` ones, whose attempt made effects (`letters` letters among `effects`) the store did not
 * record: they are made again when those jobs run again. A stop with `unrecorded` > 0 was not clean.
 */
export interface StopReport {
  unfinished: number;
  unrecorded: number;
  effects: number;
  letters: number;
}

export interface StartOptions extends ConfigFlags {
  env?: NodeJS.ProcessEnv;
  logger?: LoggerPort & { flush?(): void };
  /**
   * The embedded Bpium emulator, when BPIUM_URL is unset: false never starts it, true always does; by default it
   * starts when a scenario loaded at start has a Bpium block, or when its port is given (`bpiumEmulatorAsked`).
   */
  embeddedBpium?: boolean;
  /** Watch the scenarios folder for edits (default true). */
  watch?: boolean;
  /** Poll interval of the workers (tests lower it). */
  pollMs?: number;
  /** How often the service tasks look for due times (default 1 s). */
  taskTickMs?: number;
  /**
   * The `runs` command that reads this server's store when typed in a new shell (the CLI's, with `--data-dir` or the
   * store's setting), for the start log's hint on dead letters. Default `npx oktell-emu runs`.
   */
  runsCommand?: (config: ServerConfig) => string;
}

/**
 * Logs to stdout (or `out`: tests read what the server writes): JSON lines (`time` in epoch milliseconds), or
 * readable lines on a terminal with times in `timeZone`, the server's zone (OKTELL_LOG_FORMAT chooses; see
 * log-format.ts).
 */
export function createLogger(env: NodeJS.ProcessEnv, timeZone: string, out: NodeJS.WritableStream = process.stdout): LoggerPort & { flush?(): void } {
  const options = {
    level: logLevel(envSetting(env, 'OKTELL_LOG_LEVEL')),
    base: undefined,
    redact: { paths: ['password', '*.password', 'authorization', '*.authorization', 'headers.authorization', 'headers.cookie', 'cookie', 'secret', '*.secret'], censor: '[redacted]' },
  };
  const tty = (out as { isTTY?: boolean }).isTTY === true;
  if (logFormat(env, tty) === 'pretty') return pino(options, prettyDestination(out, timeZone));
  return out === process.stdout ? pino(options) : pino(options, out as unknown as pino.DestinationStream);
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** OKTELL_LOG_LEVEL, checked here: pino's own refusal is a stack trace that names no setting. */
function logLevel(v: string | undefined): string {
  if (v === undefined || v === '') return 'info';
  if (!LOG_LEVELS.includes(v)) throw new ConfigError(`OKTELL_LOG_LEVEL="${v}": expected ${LOG_LEVELS.slice(0, -1).join(', ')} or silent`);
  return v;
}

/**
 * Why the jobs a stopped process left running cannot be requeued at start, said so that the operator knows what to
 * change: a store full at its quota (the server would otherwise fail the same way at every restart of a supervisor),
 * or a file another program holds locked. Anything else is passed on as it is.
 */
export function recoveryRefusal(e: unknown, file: string, maxPages: number | undefined): unknown {
  if (!(e instanceof StoreUnavailableError)) return e;
  const base = `${file}: the jobs left running by the previous process cannot be requeued, so the server does not start`;
  if (e.reason === 'full' && maxPages) {
    return new StoreUnavailableError(
      'full',
      `${base}: the store is at its quota (OKTELL_STORE_MAX_PAGES=${maxPages}). Start it with a higher quota (or none) until the queue has drained; nothing stored is lost meanwhile`,
      e.retryAfterSeconds,
      { cause: e },
    );
  }
  // A file that opened but cannot be written (chattr +i, a read-only copy), or a full disk with no quota set: the
  // same line as when the file cannot be opened at all, naming it and what to check.
  if (e.reason === 'readonly' || e.reason === 'io' || e.reason === 'full') return sqliteOpenRefusal(e, file);
  if (e.reason === 'busy') {
    // The requeue is the start's first write, made whether or not any job was left running (after a clean stop none
    // was): what is known is only that the file is locked, so that is what is said.
    return new StoreUnavailableError(
      'busy',
      `${file}: the server does not start: its first write to the store (putting back any job a previous process left running) is refused, because another program holds a lock on the file (a sqlite3 shell, a backup); end it and start again`,
      e.retryAfterSeconds,
      { cause: e },
    );
  }
  return e;
}

/**
 * A store at an older schema version that another process has open, with no server in the folder's serve.lock: a
 * server of a build from before 2026-12-02 still runs there (the lock taken above would have named a later one).
 * Opening the store would migrate it under that server and requeue the jobs it is running (delivered twice then), so
 * the start is refused before anything is written. A store already at this build's version is not looked at: any
 * server on it is of a build that keeps serve.lock.
 */
function refuseOlderServerOnStore(file: string, dataDir: string): void {
  const older = olderStoredSchema(file);
  if (older && sqliteFileInUse(file)) throw sqliteOlderServerInUse(file, older.stored, older.known, dataDir, true);
}

/**
 * Opens the configured store. SQLite: one process owns the file, so jobs a killed process left `running` are
 * requeued now. PostgreSQL: other live instances may be running jobs right now, so nothing is requeued here; a dead
 * instance's jobs go back to the queue when their leases expire.
 */
async function openStore(config: ServerConfig, logger: LoggerPort, defaultCatchAll: DefaultCatchAll): Promise<{ store: Store; clock?: ClockWatch }> {
  const defaultMaxAttempts = config.workers.maxAttempts;
  const backoff = jobBackoff(config.workers);
  // The dead-letter catch-all is the store's to enqueue: in the transaction that gives a job up (docs/store.md).
  const catchAll = catchAllOption(config, logger, defaultCatchAll);
  if (config.store.kind === 'postgres') {
    // Loaded only when used: the pg driver costs a noticeable part of start-up.
    const { openPostgresStore, redactPostgresUrl } = await import('./store/postgres.store.js');
    const url = config.store.url;
    const store = await openPostgresStore({ url, defaultMaxAttempts, backoff, timeZone: config.timeZone, ...catchAll }).catch((e: unknown) => {
      throw pgStoreOpenError(url, e);
    });
    logger.info({ store: redactPostgresUrl(config.store.url), leaseMs: config.workers.leaseMs }, 'store: PostgreSQL, shared with any other instance using it');
    if (store.migrated) logMigrated(logger, store.migrated, redactPostgresUrl(config.store.url));
    await warnCatchAllDiffers(config, logger, (value) => store.swapSharedSetting(CATCH_ALL_SETTING, value));
    // Leases and due times follow each instance's clock: one far from the others' is said at the start and when it
    // drifts later. Advisory only: a database slow to answer does not hold the start up (2 s at most, then no check).
    const clock = await watchClock({ measure: () => store.clockOffset(), leaseMs: config.workers.leaseMs, everyMs: config.clockCheckMs, logger });
    return { store, clock };
  }
  const file = join(config.dataDir, 'oktell.sqlite');
  // First, before anything opens the file (the schema version read below does): a lost write-ahead log shows only then.
  warnLostWal(file, logger);
  refuseOlderServerOnStore(file, config.dataDir);
  await checkSqliteStore(file, { timeoutMs: config.storeCheckMs, logger });
  const store = await openSqliteStore({ file, defaultMaxAttempts, backoff, timeZone: config.timeZone, ...catchAll, ...quotaOptions(config) }).catch((e: unknown) => {
    throw sqliteOpenRefusal(e, file);
  });
  logMigrated(logger, store.migrated, store.file);
  const recovered = await store.recoverOrphans().catch((e: unknown) => {
    throw recoveryRefusal(e, store.file, config.storeMaxPages);
  });
  const { catchAlls, ...counts } = recovered;
  if (counts.requeued + counts.dead + counts.runsFailed) {
    logger.warn({ recovered: counts }, `resumed ${counts.requeued} job(s) left unfinished by the previous process (${counts.dead} had no attempts left)`);
  }
  for (const b of catchAlls ?? []) logBuried(logger, b, 'the previous process stopped during its last attempt');
  return { store };
}

/**
 * The store's migrations at this start, or that it found the schema up to date. `instance` (host:pid) begins every
 * worker id of this process, the `workerId` its runs record: with several instances on one PostgreSQL database it
 * tells which of them migrated the schema.
 */
function logMigrated(logger: LoggerPort, m: SchemaMigrated, store: string): void {
  logger.info({ instance: `${hostname()}:${process.pid}`, store, applied: m.applied, version: m.version }, migratedText(m));
}

/**
 * Node's HTTP timeouts: a client that sends its headers and then stalls (or trickles its body) is answered 408 and
 * cut off after the request timeout; unfinished headers after 20 s (or the request timeout, if shorter). Node
 * enforces both only when it checks its connections, so it checks every second (a quarter of a shorter timeout):
 * a stalled client is cut off within a second of the documented time, not up to 15 s later.
 */
export function httpTimeouts(requestTimeout: number): { requestTimeout: number; headersTimeout: number; connectionsCheckingInterval: number } {
  return { requestTimeout, headersTimeout: Math.min(20_000, requestTimeout), connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(requestTimeout / 4))) };
}

/**
 * Starts the server, step by step: configuration → store → database migrations → scenarios → Bpium → ports →
 * delivery → service tasks → HTTP → webhooks of the embedded emulator → delivery started → tasks started → retention.
 * A step that fails closes what the earlier ones opened.
 */
export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const env = opts.env ?? process.env;
  const base = loadServerConfig(opts, env);
  // The scenarios are read and checked while the store is opened: on a restart its integrity check runs in a thread
  // of its own, and PostgreSQL answers over the network. Their problems are logged below, where they were found before.
  // Their `env:` variables come from the same environment as every other setting: the one given, so that a test or an
  // embedder that passes `env` sets what scenarios read too, not only what the server reads.
  const scenarioOptions = { timeZone: base.timeZone, databases: databaseDialects(base.databases), env };
  const scenariosRead = readScenarios(base.scenariosDir, scenarioOptions);
  // What can be found wrong without touching anything is refused before the data folder is made (review s26-cli F8).
  // A held emulator port is no reason to refuse when no scenario needs the emulator, which then does not start.
  const emulatorNeeded = emulatorAsked(base, opts) ? undefined : () => scenariosRead.done.then((read) => bpiumScenarios(read.loaded).length > 0, () => true);
  await checkBeforeStart(base, env, opts.embeddedBpium !== false, emulatorNeeded);
  // A mistyped SQLite path of a connection other than main would become an empty database on first use.
  const missing = missingDatabaseFiles(join(base.scenariosDir, 'db'), base.databases, base.configFile && fromCwd(base.configFile));
  if (missing.length) throw new ConfigError(missing.join('\n'));
  // The log settings too (read again when the logger is made, below): a typo there is no reason to make the folder.
  if (!opts.logger) {
    logLevel(envSetting(env, 'OKTELL_LOG_LEVEL'));
    logFormat(env, process.stdout.isTTY === true);
  }
  const config = resolveConfig(base);
  const users = config.users;
  const cleanup: Array<() => unknown> = [];
  const undo = async () => {
    for (const c of cleanup.reverse()) await c();
  };
  try {
    // Made once the configuration gives the zone of readable log times (OKTELL_TZ or timeZone:, as `runs` shows).
    const logger = opts.logger ?? createLogger(env, config.timeZone);
    // Before the store is opened: opening it requeues the jobs left running, which must not be another live server's.
    // With PostgreSQL the hold is shared with the other PostgreSQL instances, but not with a live SQLite server, whose
    // serve.json this one would overwrite.
    const dataLock = lockDataFolder(config.dataDir, () => readServerFile(config.dataDir), config.store.kind);
    cleanup.push(() => dataLock.release());
    const defaultCatchAll: DefaultCatchAll = { on: config.deadLetter !== undefined };
    const { store, clock } = await openStore(config, logger, defaultCatchAll);
    cleanup.push(() => store.close());
    cleanup.push(() => clock?.stop());
    // Jobs acknowledged before this start and not yet delivered (with SQLite, those just resumed too), for the start record.
    const queued = await queuedJobs(store);
    migrateDatabases(config, logger);
    const host = await createScenarioHost(config.scenariosDir, { ...scenarioOptions, logger, watch: opts.watch !== false, firstRead: scenariosRead });
    cleanup.push(() => host.close());
    const warnings = startupWarnings(config, host, logger, webRequestAttempts(env));
    followDefaultCatchAll(config, host, defaultCatchAll, logger);
    const bpium = await startBpium(config, env, opts, logger, host);
    cleanup.push(() => bpium.emulator?.close());
    if (bpium.notStarted) host.onReload(emulatorWanted(host, logger));
    warnAllRights(config, logger);
    // One outage log for the process: the delivery thread's failures are sent to it too (log-folding.ts).
    const outages = config.logRepeatsMs > 0 ? createOutageLog(logger, { windowMs: config.logRepeatsMs }) : undefined;
    if (outages) cleanup.push(() => outages.close());
    const built = buildPorts({ env, dataDir: config.dataDir, templates: host.templates, ids: sortableIds, logger, ...(outages ? { outages } : {}), bpium: bpium.source, databases: config.databases, webRequest: config.webRequest, regexBudgetMs: config.regexBudgetMs, substrBase: config.substrBase });
    cleanup.push(() => built.close());
    warnPlainAuth(env, logger, warnings);
    warnGuessing(config, logger, warnings);
    warnShortRetention(config, logger, warnings);
    warnUnknownEnv(env, config, host, logger, warnings);
    const metrics = new Metrics();
    if (clock) metrics.sources.push(() => clock.metricLines());
    const throttle = createLoginThrottle(config.loginFailureLimit, logger, { counts: metrics.logins });
    cleanup.push(() => throttle.close());
    const workers = createDelivery({ config, store, host, ports: built.ports, bpium: bpium.source, env, metrics, logger, ...(outages ? { outages } : {}), ...(opts.pollMs ? { pollMs: opts.pollMs } : {}) });
    host.onReload(() => workers.reload());
    const tasks = createServiceTasks({ config, store, metrics, logger, scenarios: host, watch: opts.watch !== false, ...(opts.taskTickMs ? { tickMs: opts.taskTickMs } : {}) });
    cleanup.push(() => tasks.stop());
    warnings.push(...tasks.warnings);
    let accepting = true;
    const syncRuns = new SyncRuns();
    // Read once: a store that answers keeps answering for this server alone (see hasPathDeliveryKeys).
    const pathDeliveryKeys = store.hasPathDeliveryKeys ? await store.hasPathDeliveryKeys() : undefined;
    const deps: AppDeps = { config, store, host, ports: built.ports, workers, metrics, logger, users: () => users, accepting: () => accepting, syncRuns, tasks: tasks.scheduler, pathDeliveryKeys, mail: built.mail, consoleSecret: await sharedConsoleSecret(store), throttle };
    await loadRunLibraries({ outbox: built.mail.kind === 'outbox', databases: config.databases });
    const app = createApp(deps);
    const listener = hookListener(deps, app);
    const { server, url, port, listening } = await listen(config, listener, continueChecked(deps, app, listener));
    cleanup.push(() => server.close());
    const connections = stopConnections(server);
    bpium.emulator?.retargetSeedWebhooks(serverOrigin(config, port, hookUser(users)!), bpium.webhookSecret!);
    cleanup.push(() => workers.stop(1000));
    await workers.start();
    tasks.start();
    const stopRetention = startRetention(store, config, logger);
    // The log stream's own start record (the banner on stderr is for a person, and often not collected).
    logger.info(
      { url, listening, pid: process.pid, dataDir: config.dataDir, store: config.store.kind, scenariosDir: config.scenariosDir, scenarios: host.library().scenarios.size, users: users.map((u) => u.login), mail: built.mail.kind, ...(bpium.emulator ? { bpiumEmulator: bpium.emulator.url } : {}), ...(queued !== undefined ? { queued } : {}) },
      `listening on ${listening}${queued ? `; ${queued} job(s) found waiting ${config.store.kind === 'postgres' ? 'in the shared queue' : 'in the queue from before this start'}` : ''}`,
    );
    // How long an outage may last before its webhooks are dead letters: said once, from the settings in force.
    // The catch-all's own jobs have their own, shorter budget: said too while one is on.
    const catchAllScenario = config.deadLetter?.scenario;
    const catchAllRetries = catchAllScenario ? `; the dead-letter catch-all's jobs (${catchAllScenario}): ${retryWindowShortText(config.deadLetterMaxAttempts, jobBackoff(config.workers))}` : '';
    logger.info(
      { retries: { maxAttempts: config.workers.maxAttempts, baseDelayMs: config.workers.baseDelayMs, maxDelayMs: config.workers.maxDelayMs, ...(catchAllScenario ? { deadLetterMaxAttempts: config.deadLetterMaxAttempts } : {}) } },
      `jobs that fail as retryable: ${retryWindowText(config.workers.maxAttempts, jobBackoff(config.workers))} (${opts.runsCommand?.(config) ?? 'npx oktell-emu runs'} --status dead lists those)${catchAllRetries}`,
    );
    return running({ config, store, host, workers, tasks, metrics, logger, ...(outages ? { outages } : {}), users, server, url, port, listening, built, emulator: bpium.emulator, ...(bpium.notStarted ? { emulatorNotStarted: bpium.notStarted } : {}), generatedWebhookSecret: bpium.generatedWebhookSecret, stopAccepting: () => (accepting = false), connections, syncRuns, stopRetention, ...(clock ? { stopClockWatch: () => clock.stop() } : {}), warnings, dataLock, throttle });
  } catch (e) {
    await undo();
    // A user generated by this start and never shown (the banner shows it only once the server runs) is forgotten,
    // so the next start makes one and prints its password.
    if (config.generatedUser?.created) rmSync(config.generatedUser.file, { force: true });
    throw e;
  }
}

/** Whether the default catch-all, DeadLetter, is on: decided at the start, then at each reload of the scenarios. */
interface DefaultCatchAll {
  on: boolean;
}

/**
 * The store's catch-all option: the scenario set, or the default DeadLetter (asked at each giving up whether it is on,
 * so a DeadLetter.yaml added while the server runs is followed from its reload), with the attempts of its jobs, and the
 * warning logged for a job buried by an expired lease.
 */
function catchAllOption(config: ServerConfig, logger: LoggerPort, defaultCatchAll: DefaultCatchAll): { catchAll?: DeadLetterCatchAll } {
  const scenario = config.deadLetter?.scenario ?? (config.deadLetterDefault ? DEFAULT_DEAD_LETTER_SCENARIO : undefined);
  if (scenario === undefined) return {};
  const onBuried = (jobs: BuriedJob[]) => {
    for (const b of jobs) logBuried(logger, b, 'its lease expired during its last attempt (its instance stopped or hung)');
  };
  const follow = config.deadLetterDefault ? { on: () => defaultCatchAll.on } : {};
  return { catchAll: { scenario, maxAttempts: config.deadLetterMaxAttempts, onBuried, ...follow } };
}

/** The shared setting under which each instance on a PostgreSQL store records its catch-all at its start. */
const CATCH_ALL_SETTING = 'deadLetterCatchAll';

/** This instance's catch-all as the start sees it, as one line: `DeadLetter, 5 attempts` or `off`. */
function catchAllText(config: ServerConfig): string {
  return config.deadLetter ? `${config.deadLetter.scenario}, ${config.deadLetterMaxAttempts} attempts` : 'off';
}

/**
 * Several instances on one PostgreSQL store each decide on the catch-all for themselves: the start records its own
 * and warns when the instance that started before it on the store had another (advisory: a read of one row). A
 * refusal of that write, or a database slow to answer it, is no reason not to start.
 */
async function warnCatchAllDiffers(config: ServerConfig, logger: LoggerPort, swap: (value: string) => Promise<string | undefined>): Promise<void> {
  const mine = catchAllText(config);
  // As the clock check: a database slow to answer does not hold the start up (2 s at most, then no comparison).
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((r) => (timer = setTimeout(r, 2000, undefined)));
  const before = await Promise.race([swap(mine).catch(() => undefined), late]);
  clearTimeout(timer);
  if (before === undefined || before === mine) return;
  logger.warn(
    { deadLetterCatchAll: mine, before },
    `the dead-letter catch-all of this instance (${mine}) is not the one of the instance that started before it on this PostgreSQL store (${before}): each instance decides for itself whether a job it gives up on starts the catch-all, which one and with how many attempts; give every instance the same OKTELL_DEAD_LETTER_SCENARIO (or the same DeadLetter.yaml) and OKTELL_DEAD_LETTER_MAX_ATTEMPTS (docs/scaling.md)`,
  );
}

/** One warning for a job the store buried by itself (an expired lease, recovery at the start) and the catch-all it got. */
function logBuried(logger: LoggerPort, b: BuriedJob, why: string): void {
  const told = b.catchAllJob
    ? `the dead-letter catch-all was queued as job ${b.catchAllJob}`
    : "it is of the dead-letter catch-all's own line, so no catch-all is started for it (which could loop)";
  logger.warn({ jobId: b.jobId, scenario: b.scenario, ...(b.catchAllJob ? { catchAllJob: b.catchAllJob } : { catchAllSkipped: true }) }, `dead letter: job ${b.jobId} (${b.scenario}) was given up on: ${why}; ${told}; npx oktell-emu show ${b.jobId}`);
}

/**
 * The default catch-all follows the scenarios folder at each reload: on while DeadLetter is loaded or its file is there
 * (a file that does not load yet still gets the jobs, which wait in the queue for it). Said in the log when it changes.
 */
function followDefaultCatchAll(config: ServerConfig, host: ScenarioHost, state: DefaultCatchAll, logger: LoggerPort): void {
  if (!config.deadLetterDefault) return;
  const check = () => {
    const on = host.library().scenarios.has(DEFAULT_DEAD_LETTER_SCENARIO) || deadLetterInFolder(config.scenariosDir);
    if (on === state.on) return;
    state.on = on;
    if (on) logger.info({ scenario: DEFAULT_DEAD_LETTER_SCENARIO, scenarios: config.scenariosDir }, `the dead-letter catch-all is on: ${DEFAULT_DEAD_LETTER_SCENARIO} is in the scenarios folder now, and every job given up on from now starts it`);
    else logger.warn({ scenario: DEFAULT_DEAD_LETTER_SCENARIO, scenarios: config.scenariosDir }, `the dead-letter catch-all is off: ${DEFAULT_DEAD_LETTER_SCENARIO} is no longer in the scenarios folder, so jobs given up on from now start none (set OKTELL_DEAD_LETTER_SCENARIO to keep one whatever the folder holds)`);
  };
  check();
  host.onReload(check);
}

/**
 * Problems that let the server start but fail requests (a hook scenario that is not loaded, a status no answer may
 * have), lose work (a write the hook makes while the webhook waits), repeat work (a POST or PATCH without
 * idempotencyKey that a retry sends again; `webAttempts`, WEB_REQUEST_ATTEMPTS, is how often one run may send it),
 * let a request's text become Bpium query or field structure (a filters/values entry that is a plain string variable
 * or InputParameter(n)) or split what should be shared (a scenario's SQLite database, per instance, under a
 * PostgreSQL store), each logged as a warning.
 */
function startupWarnings(config: ServerConfig, host: ScenarioHost, logger: LoggerPort, webAttempts: number): string[] {
  const hook = hookScenarioWarning(config.hook.scenario, host.library());
  if (hook) logger.warn({ scenario: config.hook.scenario, scenarios: config.scenariosDir }, hook);
  const deadLetter = deadLetterScenarioWarning(config.deadLetter, host.library());
  if (deadLetter) logger.warn({ scenario: config.deadLetter?.scenario, scenarios: config.scenariosDir }, deadLetter);
  const inTheHook = () => {
    const found = [...hookStatusWarnings(config.hook.scenario, host.library(), config.hook.returns.status), ...hookWriteWarnings(config.hook.scenario, host.library())];
    for (const w of found) logger.warn({ scenario: config.hook.scenario }, w);
    // What `validate` says of the scenarios themselves, from the same function: a secret the environment does not
    // give (the scenario runs with an empty value), a POST or PATCH a retried job may send again, a Bpium
    // filters/values entry that is request text as it came (text that looks like JSON would go to Bpium as structure).
    const inTheScenarios = scenarioWarnings(host.library(), webAttempts);
    for (const w of inTheScenarios) logger.warn({ scenarios: config.scenariosDir }, w);
    return [...found, ...inTheScenarios];
  };
  const perInstanceDatabases = () => {
    const found = sharedStoreDatabaseWarnings(config.store, config.databases, host.library());
    for (const w of found) logger.warn({ store: 'postgres' }, w);
    return found;
  };
  // Said again when an edit of the folder brings such a status, write, repeated POST, Bpium entry or database use in (or keeps it).
  host.onReload(() => {
    inTheHook();
    perInstanceDatabases();
  });
  return [...(hook ? [hook] : []), ...(deadLetter ? [deadLetter] : []), ...inTheHook(), ...perInstanceDatabases()];
}

/**
 * Environment variables with a prefix the product owns that nothing reads (`OKTELL_PROT`, `SMTP_ULR`): they would be
 * ignored silently, so the start names each with the closest one it reads. Names the file (`passwordEnv:`) and the
 * loaded scenarios (`env:`) choose are read too, so a reload that brings a scenario reading one withdraws its warning
 * (at info), and one that removes the last such scenario says it. Never the value: it may be a secret.
 */
function warnUnknownEnv(env: NodeJS.ProcessEnv, config: ServerConfig, host: ScenarioHost, logger: LoggerPort, warnings: string[]): void {
  const unread = () => new Map(unknownEnvWarnings(env, [...config.fileEnvNames, ...scenarioEnvNames(host.library())]).map((w) => [w.variable, w.message]));
  let said = unread();
  for (const [variable, message] of said) {
    logger.warn({ env: variable }, message);
    warnings.push(message);
  }
  host.onReload(() => {
    const now = unread();
    for (const variable of said.keys()) {
      if (!now.has(variable)) logger.info({ env: variable }, `environment variable ${variable} is read after all (by a scenario's env:): the warning given for it earlier no longer holds`);
    }
    for (const [variable, message] of now) if (!said.has(variable)) logger.warn({ env: variable }, message);
    said = now;
  });
}

/**
 * A retention shorter than the retry window: what a long outage leaves is pruned as soon as its jobs end; or shorter
 * than twice a signed webhook's freshness window: a replay of a captured request runs again (each said at the start).
 */
function warnShortRetention(config: ServerConfig, logger: LoggerPort, warnings: string[]): void {
  const w = retentionWarning(config.retentionMs, config.workers.maxAttempts, jobBackoff(config.workers));
  if (w) {
    logger.warn({ retentionMs: config.retentionMs, retries: { maxAttempts: config.workers.maxAttempts, baseDelayMs: config.workers.baseDelayMs, maxDelayMs: config.workers.maxDelayMs } }, w);
    warnings.push(w);
  }
  // Shorter than a signed webhook's freshness window: a captured request replayed after its key is pruned runs again.
  const replay = replayWindowWarning(config.retentionMs, config.webhookSecrets, config.webhookMaxAgeMs);
  if (replay) {
    logger.warn({ retentionMs: config.retentionMs, ...(config.webhookMaxAgeMs !== undefined ? { webhookMaxAgeMs: config.webhookMaxAgeMs } : {}) }, replay);
    warnings.push(replay);
  }
}

/** Configured logins with a short password while the server listens beyond loopback, and a throttle that counts clients by an X-Forwarded-For any client writes: said at the start. */
function warnGuessing(config: ServerConfig, logger: LoggerPort, warnings: string[]): void {
  const w = shortPasswordWarning(config.users, config.host, config.usersGenerated);
  if (w) {
    logger.warn({ host: config.host }, w);
    warnings.push(w);
  }
  const proxy = trustAnyProxyWarning(config.trustProxy, config.loginFailureLimit);
  if (proxy) {
    logger.warn({ trustProxy: config.trustProxy }, proxy);
    warnings.push(proxy);
  }
}

/** An SMTP login the mail client will refuse on every letter unless the server offers STARTTLS: said at the start. */
function warnPlainAuth(env: NodeJS.ProcessEnv, logger: LoggerPort, warnings: string[]): void {
  const w = plainAuthWarning(env);
  if (!w) return;
  logger.warn({ mail: 'smtp' }, w);
  warnings.push(w);
}

/**
 * Configured users given no rights have all of them (as before rights existed). With a signed hook route and no
 * user given rights at all (a configuration written before rights existed) that is worth a warning: the webhook
 * sender's login can then start the scenario the signature protects through the Web-API with parameters of its
 * choosing. Once any user has rights the setup is taken as deliberate (an operator's login with every right is
 * normal). The generated user of a first start is the operator's own.
 */
function warnAllRights(config: ServerConfig, logger: LoggerPort): void {
  if (config.usersGenerated || Object.keys(config.webhookSecrets).length === 0) return;
  if (config.users.some((u) => u.rights !== undefined)) return;
  const implicit = config.users.map((u) => u.login);
  logger.warn(
    { users: implicit },
    `user(s) ${implicit.join(', ')} have every right (hook, api, console) because none is given; a webhook sender's login should have only hook, or it can start any scenario through the Web-API without a signature: OKTELL_USERS='bpium[hook]:PASSWORD,ops:OTHER' or rights: [hook] under users: (docs/configuration.md, "Users and rights")`,
  );
}

/** Applies `<scenarios>/db/<connection>/*.sql` to the SQLite connections (each file once); a failing file stops the start. */
function migrateDatabases(config: ServerConfig, logger: LoggerPort): void {
  for (const m of applyMigrations(join(config.scenariosDir, 'db'), config.databases)) {
    if (m.skipped) logger.warn({ connection: m.connection }, `db/${m.connection}: migrations not applied: ${m.skipped}`);
    else if (m.applied.length) logger.info({ connection: m.connection, applied: m.applied }, `db/${m.connection}: applied ${m.applied.join(', ')}`);
  }
}

/** The configuration with its users: the configured ones, or one generated and kept in the data folder. */
function resolveConfig(base: ReturnType<typeof loadServerConfig>): ServerConfig {
  // Checked before the data folder is made: a refused start leaves nothing behind.
  if (!isFolder(base.scenariosDir)) throw new ConfigError(`the scenarios folder ${base.scenariosDir} does not exist or is not a folder: give it with -s/--scenarios, OKTELL_SCENARIOS or scenarios: in the config file`);
  makeDataDir(base.dataDir);
  const usersGenerated = base.users.length === 0;
  const generated = usersGenerated ? generatedUser(base.dataDir) : undefined;
  const config: ServerConfig = {
    ...base,
    usersGenerated,
    users: generated ? [generated.user] : base.users,
    ...(generated ? { generatedUser: { file: generated.file, created: generated.created } } : {}),
  };
  applyHeapSetting(config.heap, { deliveryThread: config.workers.thread });
  return config;
}

function isFolder(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}

/** Creates the data folder (0700: it holds webhook bodies, letters and databases); a folder already there keeps its mode. */
function makeDataDir(dir: string): void {
  try {
    makePrivateFolder(dir);
  } catch (e) {
    throw new ConfigError(`the data folder ${dir} cannot be created: ${(e as Error).message}; choose another with --data-dir, OKTELL_DATA_DIR or dataDir: in the config file`);
  }
  refuseUnwritableDataDir(dir);
}

/**
 * A data folder that is there but this user may not write in (made by root, or for another service user): said before
 * anything is written, with whose it is and the fix, rather than as the first file that fails (`cannot open
 * …/server-user.json: permission denied`).
 */
function refuseUnwritableDataDir(dir: string): void {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code;
    if (errno === 'EROFS') throw new ConfigError(`the data folder ${dir} is on a read-only file system: remount it read-write, or choose another with --data-dir, OKTELL_DATA_DIR or dataDir: in the config file`);
    if (errno !== 'EACCES' && errno !== 'EPERM') return; // anything else is said by the write that meets it
    let user = String(process.getuid?.() ?? '');
    try {
      user = userInfo().username;
    } catch {
      // No name for this uid (a container's numeric user): the number says it.
    }
    const folder = folderOwner(dir);
    if (folder.gone) throw new ConfigError(`the data folder ${dir} ${folder.gone} while the start checked it (it was there, and not writable by ${user}): start again to have it made, or choose another with --data-dir, OKTELL_DATA_DIR or dataDir: in the config file`);
    throw new ConfigError(`the data folder ${dir} is not writable by the user the server runs as (${user}; ${folder.said}): give it the folder (chown ${user} ${dir}; chmod 700 ${dir}) or choose another with --data-dir, OKTELL_DATA_DIR or dataDir: in the config file`);
  }
}

/**
 * Whose the data folder is and its mode, for the message about a folder the server may not write in; `gone`, what
 * became of it, when it was removed since the check (another process, a cleanup script), which the stat then meets as
 * ENOENT, or a folder on its path was replaced by a file (ENOTDIR).
 */
function folderOwner(dir: string): { said: string; gone?: string } {
  try {
    const folder = statSync(dir);
    return { said: `the folder belongs to uid ${folder.uid}, mode ${(folder.mode & 0o777).toString(8)}` };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { said: '', gone: 'was removed' };
    if (code === 'ENOTDIR') return { said: '', gone: 'stopped being reachable (a folder on its path was replaced by a file)' };
    return { said: `whose the folder is cannot be read: ${code ?? (e as Error).message}` };
  }
}

interface BpiumSetup {
  /** Where runs find Bpium: BPIUM_URL, the embedded emulator, or none. */
  source: Exclude<BpiumSource, { kind: 'port' }>;
  emulator?: BpiumEmulator;
  /** The secret the embedded emulator signs its webhooks with (also required on /Bpium/NewTask). */
  webhookSecret?: string;
  /** Set when that secret was generated, not configured. */
  generatedWebhookSecret?: { path: string; file: string };
  /** Why the emulator was not started although BPIUM_URL is unset. */
  notStarted?: string;
}

/** Whether the embedded emulator was asked for whatever the scenarios use: `embeddedBpium: true`, or its port given. */
function emulatorAsked(config: Pick<ServerConfig, 'bpiumEmulatorAsked'>, opts: StartOptions): boolean {
  return opts.embeddedBpium === true || config.bpiumEmulatorAsked === true;
}

/**
 * After a reload, a warning for each scenario that now has a Bpium block while the emulator was not started: its
 * Bpium blocks fail with R_ADAPTER_MISSING until a restart, which starts the emulator.
 */
function emulatorWanted(host: ScenarioHost, logger: LoggerPort): () => void {
  const said = new Set<string>();
  return () => {
    for (const name of bpiumScenarios(host.library())) {
      if (said.has(name)) continue;
      said.add(name);
      logger.warn({ scenario: name }, `scenario ${name} has a Bpium block, but the embedded Bpium emulator was not started (no scenario had one when the server started): its Bpium blocks fail with R_ADAPTER_MISSING until the server is restarted, which starts the emulator (or set BPIUM_URL)`);
    }
  };
}

/**
 * BPIUM_URL set: that Bpium. Otherwise the embedded emulator (unless turned off), whose seed webhook will post to
 * this server's /Bpium/NewTask signed with a secret the server then requires on that path. Not asked for, it starts
 * only when a loaded scenario has a Bpium block; otherwise the log says so in one line, and /Bpium/NewTask requires
 * no signature but a configured one.
 */
async function startBpium(config: ServerConfig, env: NodeJS.ProcessEnv, opts: StartOptions, logger: LoggerPort, host: ScenarioHost): Promise<BpiumSetup> {
  const source = bpiumSource(env, opts.embeddedBpium !== false);
  if (source !== 'emulator') return { source: { kind: source } };
  if (!emulatorAsked(config, opts) && bpiumScenarios(host.library()).length === 0) {
    const notStarted = `no scenario in ${config.scenariosDir} has a Bpium block`;
    logger.info({ scenariosDir: config.scenariosDir }, `embedded Bpium emulator not started: ${notStarted} (a restart after adding one starts it; --bpium-emulator-port, BPIUM_EMULATOR_PORT or bpiumEmulatorPort starts it anyway)`);
    const hint = 'the embedded Bpium emulator was not started, as no scenario had a Bpium block when the server started: restart the server to start it';
    return { source: { kind: 'none', hint }, notStarted };
  }
  const generated = configuredEmulatorSecret(config.webhookSecrets) === undefined;
  const webhookSecret = emulatorWebhookSecret(config.webhookSecrets, config.dataDir);
  if (isStandardSecret(webhookSecret)) {
    // Bpium signs with X-Hook-Signature, and so does its emulator: a route checked by the Standard Webhooks scheme
    // refuses every webhook it sends. Said at start, not refused: the route may be meant for another sender.
    logger.warn({ path: EMULATOR_HOOK_PATH }, `the secret of ${EMULATOR_HOOK_PATH} is a Standard Webhooks one (whsec_…), but the embedded Bpium emulator signs its webhooks as Bpium does (X-Hook-Signature): each one will be refused with 401; give ${EMULATOR_HOOK_PATH} a Bpium secret (webhookSecrets or BPIUM_WEBHOOK_SECRET) for the emulator's webhooks`);
  }
  const generatedWebhookSecret = generated ? { generatedWebhookSecret: { path: EMULATOR_HOOK_PATH, file: join(config.dataDir, EMULATOR_SECRET_FILE) } } : {};
  const emulator = await startBpiumEmulator({
    port: config.bpiumEmulatorPort,
    host: '127.0.0.1',
    dataDir: config.dataDir,
    // As the Bpium client reads them (trimmed login) and as every variable is read (blank, spaces too, is unset): a
    // login of spaces made the emulator's login "  " and the client's check stopped the start with "BPIUM_URL is
    // set", and " a@b.ru " one the client, which trims it, could not sign in with (every Bpium block: 401).
    ...emulatorAccount(env),
    logger,
  }).catch((e: unknown) => {
    throw portInUse(e, 'the embedded Bpium emulator', EMULATOR_PORT_SETTINGS);
  });
  try {
    return { source: { kind: 'client', options: emulatorClientOptions(env, emulator) }, emulator, webhookSecret, ...generatedWebhookSecret };
  } catch (e) {
    // A bad BPIUM_* setting: the emulator, not yet in the caller's cleanup, would keep the process alive.
    await emulator.close();
    throw e;
  }
}

/**
 * Listens with the configured timeouts (HTTP or HTTPS); resolves with the address to show. `checkContinue` decides
 * whether a request that expects `100 Continue` gets it (instead of node sending it before any check).
 */
async function listen(config: ServerConfig, app: RequestListener, checkContinue: RequestListener): Promise<{ server: Server; url: string; port: number; listening: string }> {
  const timeouts = httpTimeouts(config.requestTimeoutMs);
  const server: Server = config.tls
    ? createHttpsServer({ ...timeouts, cert: tlsFile(config.tls.cert, 'OKTELL_TLS_CERT or tls.cert'), key: tlsFile(config.tls.key, 'OKTELL_TLS_KEY or tls.key') }, app)
    : createHttpServer(timeouts, app);
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  server.on('checkContinue', checkContinue);
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(badAddress(portInUse(e, 'the server', SERVER_PORT_SETTINGS), config.host)));
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return { server, port, ...listeningOn(config.host, port, config.tls !== undefined) };
}

/** Node's own answers to a request it could not parse (what it sends when no `clientError` listener is set). */
const CLIENT_ERROR_ANSWERS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Payload Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

/**
 * The reason of a 431 on every path but the Web-API's (the hooks, the console) and on one not known any more: what
 * happened, without the Web-API's way around it, which those routes do not take.
 */
const HEADERS_TOO_LARGE = 'the request line and headers are larger than the server reads (16 KB): nothing was started';

/** What the Web-API says for Node's own answers, when the request is known to be the Web-API's. */
const WEB_API_REASONS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: `${HEADERS_TOO_LARGE}; send long values as a POST form, with the parameters in the body`,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'a chunk of the body has extensions larger than the server reads: nothing was started',
  ERR_HTTP_REQUEST_TIMEOUT: 'the request did not arrive within the request timeout (OKTELL_REQUEST_TIMEOUT_MS): nothing was started; send it again',
};

/**
 * The path of the request a parse error cut, where it is known: the request in flight, once its headers were read
 * (a body that did not arrive in time); else the request line at the start of the bytes that failed (headers too
 * large, sent at once). Undefined when those bytes start elsewhere (headers that came in several reads): the 431 is
 * then the plain one every other path gets.
 */
function clientErrorPath(e: Error & { rawPacket?: unknown }, inFlight: { req?: { url?: string } } | null | undefined): string | undefined {
  const url = inFlight?.req?.url;
  if (typeof url === 'string') return pathOf(url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, ''));
  if (!Buffer.isBuffer(e.rawPacket)) return undefined;
  // The path must end in these bytes (a "?", a space): one cut off could be /execsvcscript of /execsvcscriptplain.
  const line = /^[A-Z]{1,20} (?:[a-z][a-z0-9+.-]*:\/\/[^/?#\s]*)?(\/[^\s?#]*)[\s?#]/i.exec(e.rawPacket.subarray(0, 1024).toString('latin1'));
  return line?.[1];
}

/**
 * Errors of a connection its client ended: a reset, its side closed in the middle of a request (Node's parser reports
 * the early end of a body as HPE_INVALID_EOF_STATE: a caller's own timeout, a closed 1C client), the network gone.
 * Their requests are logged as ended by the client, not as cut by the server.
 */
const CLIENT_ENDED = new Set(['ECONNRESET', 'HPE_INVALID_EOF_STATE', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT']);

/**
 * A request line with a character that must be percent-encoded, a letter outside ASCII in the path or the query
 * (`curl 'http://…/Bpium/NewTask?тема=Привет'` sends the Cyrillic of the query raw, while it encodes the path's), is
 * refused by Node's parser before the server sees it. Node answers a bare `400 Bad Request`; this says why and how
 * to send it. Every other parse error gets Node's own answer, as before.
 */
export function answerClientError(e: Error & { code?: string }, socket: Duplex): void {
  // As node does: no answer when a response on this connection has begun (it would be cut into); an earlier response
  // of a kept-alive connection, finished, does not count (node's `_httpMessage` is the one in flight).
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean; req?: { url?: string } } | null })._httpMessage;
  // Unless the client ended the connection itself, the server cuts it: the request's log line says so (server-cut.ts),
  // not that its client ended it.
  if (!CLIENT_ENDED.has(e.code ?? '')) noteServerCut(socket, e.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'its body did not arrive within the request timeout, OKTELL_REQUEST_TIMEOUT_MS; answered 408' : `the rest of the request could not be read (${String(e.code ?? e.message).slice(0, 60)})`);
  if (e.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  if (e.code === 'HPE_INVALID_URL') {
    const body =
      '400 Bad Request: the address has a character that must be percent-encoded (a letter outside ASCII, such as ' +
      'Cyrillic, or a space): encode it as UTF-8, e.g. /%D0%97 for /З and ?%D1%82%D0%B5%D0%BC%D0%B0=%D0%9F for ?тема=П ' +
      "(curl encodes the path itself; for the query, curl -G --data-urlencode 'тема=Привет' URL)\n";
    socket.write(`HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  } else {
    const statusLine = CLIENT_ERROR_ANSWERS[e.code ?? ''] ?? '400 Bad Request';
    const reason = WEB_API_REASONS[e.code ?? ''];
    const form = reason !== undefined ? webApiForm(clientErrorPath(e, inFlight) ?? '') : undefined;
    // A Web-API client reads Oktell's answer (XML, or the plain return value with its start result), not Node's bare line.
    if (form !== undefined) socket.write(rawWebApiAnswer(form, statusLine, { started: false, startResult: -1, returnValue: reason! }));
    // Headers too large on any other path, or on a path not known any more (headers that came in several reads: the
    // bytes that passed the limit start inside them, and the request line, maybe the Web-API's, is gone): the same
    // answer either way, the reason as text and the start result (nothing was started), not an empty body; without
    // the Web-API's "send long values as a POST form", which a hook's sender or the console's browser cannot follow.
    else if (e.code === 'HPE_HEADER_OVERFLOW') socket.write(rawWebApiAnswer('plain', statusLine, { started: false, startResult: -1, returnValue: HEADERS_TOO_LARGE }));
    else socket.write(`HTTP/1.1 ${statusLine}\r\nConnection: close\r\n\r\n`);
  }
  // As node does: the answer is written at once, then the connection is closed.
  socket.destroy();
}

const ALL_INTERFACES = new Set(['0.0.0.0', '::', '']);

/**
 * The URL to reach a server bound to `host`:`port` from this machine, and the banner's account of it: bound to all
 * interfaces it says so and gives the loopback URL as an example (`0.0.0.0:4055 (all interfaces), e.g.
 * http://127.0.0.1:4055`); bound to one address, that address's URL is the whole story.
 */
export function listeningOn(host: string, port: number, tls: boolean): { url: string; listening: string } {
  const scheme = tls ? 'https' : 'http';
  const inUrl = (h: string) => (h.includes(':') ? `[${h}]` : h);
  if (ALL_INTERFACES.has(host)) {
    const url = `${scheme}://127.0.0.1:${port}`;
    return { url, listening: `${inUrl(host || '0.0.0.0')}:${port} (all interfaces), e.g. ${url}` };
  }
  const url = `${scheme}://${inUrl(host)}:${port}`;
  return { url, listening: url };
}

export { PortInUseError } from './start-checks.js';

/** This server's origin with the first user's credentials: the embedded emulator's seed webhooks post to their paths on it. */
function serverOrigin(config: ServerConfig, port: number, user: OktellUser): string {
  const target = new URL(`${config.tls ? 'https' : 'http'}://127.0.0.1:${port}/`);
  target.username = encodeURIComponent(user.login);
  target.password = encodeURIComponent(user.password);
  return target.toString();
}

/** Prunes entries older than the retention now and every hour; returns the stop function. */
function startRetention(store: Store, config: ServerConfig, logger: LoggerPort): () => void {
  const prune = retentionPrune(store, config, logger);
  void prune();
  const pruneTimer = setInterval(prune, 3_600_000);
  pruneTimer.unref();
  return () => clearInterval(pruneTimer);
}

/**
 * One run of the retention: the store's prune, then the outbox's, each logged. A prune whose WAL checkpoint thread
 * failed (SQLite) is warned about once per server run: the store checkpointed on its own connection instead, so
 * nothing is lost, but every later prune then stalls the event loop as before (docs/store.md, Retention).
 */
export function retentionPrune(store: Store, config: Pick<ServerConfig, 'retentionMs' | 'deadLetterRetentionMs' | 'dataDir'>, logger: LoggerPort): () => Promise<void> {
  let checkpointWarned = false;
  return async () => {
    try {
      const dead = config.deadLetterRetentionMs;
      const { deadLetters, deadLetterIds, checkpointFailure, ...r } = await store.prune({ olderThanMs: config.retentionMs, ...(dead !== undefined ? { deadLettersOlderThanMs: dead } : {}) });
      if (checkpointFailure && !checkpointWarned) {
        checkpointWarned = true;
        logger.warn(
          { checkpointFailure },
          `retention: the prune's WAL checkpoint thread stopped (${checkpointFailure}); the store's own connection checkpointed instead, so nothing is lost, but the prune holds the event loop longer while it does; if it recurs, check that dist/server/store/prune-checkpoints.worker.js is installed beside prune-checkpoints.js (said once per run)`,
        );
      }
      // Letters kept in the outbox (no SMTP_URL) go by the same rule, or a busy service task fills the disk. An outbox
      // that cannot be pruned (run as root, a symbolic link in its place; a file there) is said on its own: what the
      // store prune removed, the dead letters above all, is still logged.
      let letters = 0;
      try {
        letters = await pruneOutbox(join(config.dataDir, 'outbox'), Date.now() - config.retentionMs);
      } catch (e) {
        logger.warn({ err: e }, `retention: the outbox was not pruned: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (r.inbox + r.runs + r.jobs + letters) logger.info({ pruned: { ...r, outboxLetters: letters } }, 'retention: old entries removed');
      // Acknowledged webhooks that were never delivered: never removed without saying so.
      if (deadLetters) {
        const more = deadLetters > deadLetterIds.length ? ` (the first ${deadLetterIds.length} named)` : '';
        logger.warn({ deadLetters, jobs: deadLetterIds }, `retention: ${deadLetters} dead letter(s) never delivered were removed, older than OKTELL_DEAD_LETTER_RETENTION_DAYS${more}`);
      }
    } catch (e) {
      logger.warn({ err: e }, 'retention: prune failed');
    }
  };
}

interface Parts {
  config: ServerConfig;
  store: Store;
  host: ScenarioHost;
  workers: Delivery;
  tasks: ServiceTasks;
  metrics: Metrics;
  logger: LoggerPort;
  users: readonly OktellUser[];
  server: Server;
  url: string;
  port: number;
  listening: string;
  built: BuiltPorts;
  emulator: BpiumEmulator | undefined;
  emulatorNotStarted?: string;
  generatedWebhookSecret: { path: string; file: string } | undefined;
  stopAccepting(): void;
  /** The connections, for the stop to close without cutting a request short. */
  connections: StopConnections;
  syncRuns: SyncRuns;
  stopRetention(): void;
  /** Ends the periodic check of this clock against PostgreSQL's (clock-skew.ts). */
  stopClockWatch?(): void;
  warnings: string[];
  /** The hold on the data folder (exclusive with the SQLite store, shared with PostgreSQL), given up last. */
  dataLock: DataFolderLock;
  /** The throttle of failed logins, whose last summary lines are written at the stop. */
  throttle: LoginThrottle;
  /** The outage log, whose repeats not yet summed up are at the stop (absent: OKTELL_LOG_REPEATS_MS=0). */
  outages?: OutageLog;
}

/**
 * How long after the grace period a stop waits for the store's last steps (counting the queued jobs, closing it):
 * a store that does not answer at all (PostgreSQL behind a network partition that drops packets) is left, so the
 * stop ends within its grace period and this much more, whatever the store does.
 */
const STORE_AFTER_GRACE_MS = 2000;
/** The least time those steps get when what comes before them (answers still being written) used most of that. */
const STORE_LAST_STEPS_MS = 500;
/** The least time the scenarios' connections get to close when the answers still being written used the grace period and more. */
const CONNECTIONS_LEAST_MS = 300;

/** The jobs waiting in the queue, for the start and stop records; undefined when the store cannot count them now. */
function queuedJobs(store: Store): Promise<number | undefined> {
  return store.counts().then(
    (c) => c.jobs.queued,
    () => undefined,
  );
}

/**
 * The stop's account of jobs whose end the store refused or did not answer until the grace period ended: what they
 * did, said plainly, since the next attempt of each makes it again.
 */
function unrecordedText(jobs: number, effects: number, letters: number, when: string): string {
  const others = effects - letters;
  const made = [letters ? `${letters} letter(s) sent` : '', others ? `${others} other effect(s)` : ''].filter(Boolean).join(' and ');
  return `${jobs} job(s) made effects (${made}) whose end the store did not record before the grace period ended (it refused the writes or did not answer them): ${when}, these are made again (letters sent twice)`;
}

/**
 * The embedded emulator, when a stop left its close unfinished, with what it was waiting for: its webhook deliveries
 * still unanswered, by where they post (e.g. `the embedded Bpium emulator (1 webhook delivery still waiting for an
 * answer: http://crm.local:8080/hook)`).
 */
function emulatorUnclosed(webhooks: readonly string[]): string {
  if (!webhooks.length) return 'the embedded Bpium emulator';
  const where = [...new Set(webhooks)].join(', ');
  return `the embedded Bpium emulator (${webhooks.length} webhook ${webhooks.length === 1 ? 'delivery' : 'deliveries'} still waiting for an answer: ${where})`;
}

/** The running server's handle; `close` takes the steps of the start back in reverse order. */
function running(p: Parts): RunningServer {
  const { config, store, host, workers, logger, emulator, built } = p;

  let closed: Promise<StopReport> | undefined;
  return {
    url: p.url,
    listening: p.listening,
    port: p.port,
    config,
    users: p.users,
    store,
    host,
    workers,
    metrics: p.metrics,
    tasks: p.tasks.scheduler,
    syncRuns: p.syncRuns,
    ...(emulator ? { emulator } : {}),
    ...(p.emulatorNotStarted ? { emulatorNotStarted: p.emulatorNotStarted } : {}),
    ...(p.generatedWebhookSecret ? { generatedWebhookSecret: p.generatedWebhookSecret } : {}),
    ...(built.bpiumClient ? { bpium: built.bpiumClient } : {}),
    mail: { kind: built.mail.kind === 'smtp' ? 'smtp' : 'outbox', describe: built.mail.describe },
    warnings: p.warnings,
    close(graceMs = 10_000) {
      closed ??= (async () => {
        // The grace period runs from the stop's start: stopping the service tasks (a write of their marks) is in it.
        const graceEnds = performance.now() + graceMs;
        p.stopAccepting();
        // Answers being made close their connection once given, as those given from now on do.
        p.connections.begin();
        p.stopRetention();
        p.stopClockWatch?.();
        // Within the grace period: a store that does not answer must not hold the stop here (their marks are then
        // not written, as after a kill).
        const tasksStopped = await within(p.tasks.stop(), graceMs);
        if (!tasksStopped) logger.warn({}, 'service tasks: the store did not answer their last writes within the grace period; the stop goes on without them');
        // The port stays open while running jobs and synchronous Web-API runs finish: a request that comes meanwhile
        // is answered 503 with Retry-After and Connection: close (hookListener, /-/health failing), which a load
        // balancer or a client takes as "try elsewhere or later", instead of finding the port closed. Kept-alive
        // connections stay open too, so a request already sent on one is answered 503 rather than cut; the port
        // and they close when nothing runs any more (stop-connections.ts).
        // Jobs, synchronous Web-API runs and hook requests being answered share the grace period: callers waiting on a
        // run get its answer (a run takes turns with other work, so one may be half done when the stop comes).
        // A job whose attempt has ended but whose end the store refuses (full, busy, down) or does not answer (a
        // network partition) counts as unfinished: the stop keeps trying to record it within the same grace period,
        // and one still unrecorded then is reported as such, not as still running.
        const left = Math.max(0, graceEnds - performance.now());
        const [{ unfinished, unrecorded, leased, takenOver = 0 }, cut] = await Promise.all([workers.stop(left), p.syncRuns.drain(left)]);
        // Every attempt has ended or been cut (a delivery thread's reports came before its stop's): the repeats of an
        // outage not yet summed up are, so that the log's counts add up.
        p.outages?.flush();
        p.outages?.close();
        // Every request that reached the server before the port closed is answered (within the grace, or a second).
        const serverClosed = p.connections.close(Date.now() + Math.max(0, graceEnds - performance.now()));
        const postgres = config.store.kind === 'postgres';
        // Jobs whose attempt ended but whose end the store refused or did not answer: those whose effects are not in the
        // journal make them again (`ends`, the stop is not clean); the others left none outside the journal: they only
        // run again (`quiet`). They keep their lease (they are not given back: their end may still arrive).
        const ends = unrecorded.filter((u) => u.effects > 0);
        const quiet = unrecorded.filter((u) => u.effects === 0);
        const still = unfinished - unrecorded.length;
        // With PostgreSQL, the attempts still running were given back to the queue at the end of the grace period
        // (fenced first), unless another instance had taken them over or the store refused or did not answer the
        // give-back: those wait for their leases to expire.
        const givenBack = Math.max(0, still - leased - takenOver);
        const when = !postgres
          ? 'they resume at the next start'
          : [
              givenBack ? `${givenBack === still ? '' : `${givenBack} `}given back to the queue, which another instance takes over at once` : '',
              takenOver ? `${takenOver} already taken over by another instance (its lease had expired)` : '',
              leased ? `${leased === still ? '' : `${leased} `}not given back (the store refused or did not answer the give-back), taken over by another instance when their lease expires` : '',
            ].filter(Boolean).join('; ');
        if (still > 0) logger.warn({ unfinished: still }, `${still} job(s) still running at shutdown; ${when}`);
        const endsWhen = postgres ? 'when another instance runs them after their lease expires' : 'when they run again at the next start';
        if (quiet.length) {
          logger.warn(
            { notRecorded: quiet.length, jobs: quiet.map((u) => u.jobId) },
            `${quiet.length} job(s) ended but their ends were not recorded (the store refused the writes or did not answer them until the grace period ended): they will run again (${postgres ? 'another instance takes them when their lease expires' : 'they resume at the next start'}); no effect of theirs will repeat (the journal holds every effect they made, if any), though the first effect of their next attempt is marked as a possible repeat, as after any cut-off attempt`,
          );
        }
        const effects = ends.reduce((n, u) => n + u.effects, 0);
        const letters = ends.reduce((n, u) => n + u.letters, 0);
        const repeated = ends.length ? unrecordedText(ends.length, effects, letters, endsWhen) : '';
        if (ends.length) logger.error({ unrecorded: ends.length, effects, letters, jobs: ends.map((u) => u.jobId) }, repeated);
        if (cut.runs) logger.warn({ webapiRuns: cut.runs }, `${cut.runs} synchronous Web-API run(s) still running at shutdown were answered startresult 2 and end with the process: they are not resumed`);
        if (cut.hooks) {
          logger.warn(
            { hookRequests: cut.hooks },
            `${cut.hooks} webhook request(s) whose hook scenario was still running at shutdown were answered 503 with Retry-After and end with the process: each is stored only if its run ends before then; a resend of one that is not runs the hook scenario again, whose effects (a letter) may then repeat`,
          );
        }
        const connectionsCut = await serverClosed;
        if (connectionsCut) logger.warn({ connections: connectionsCut }, `${connectionsCut} connection(s) still receiving a request or its answer at the end of the grace period were closed`);
        p.throttle.close();
        host.close();
        // The scenarios' connections (their databases, mail, Bpium) and the embedded emulator close side by side, within
        // a bound of their own: a database that stops answering (behind a network partition) is left as a kill would
        // leave it, its connections ending with the process, so that the store still closes and the data folder is
        // given up.
        const connectionsDeadline = Math.max(graceEnds + CONNECTIONS_AFTER_GRACE_MS, performance.now() + CONNECTIONS_LEAST_MS);
        const [portsClosed, emulatorClosed] = await Promise.all([
          within(built.close(), connectionsDeadline - performance.now()).catch((e: unknown) => {
            logger.warn({ err: e }, 'closing the scenarios\' connections failed; they end with the process');
            return true;
          }),
          emulator
            ? within(emulator.close(), connectionsDeadline - performance.now()).catch((e: unknown) => {
                logger.warn({ err: e }, 'closing the embedded Bpium emulator failed; it ends with the process');
                return true;
              })
            : true,
        ]);
        if (!portsClosed || !emulatorClosed) {
          const databases = portsClosed ? [] : built.unclosed();
          // What holds the emulator: its webhook deliveries still waiting for an answer (each up to its timeout).
          const webhooks = emulatorClosed ? [] : (emulator?.inFlight() ?? []);
          const undone = [portsClosed ? '' : unclosedPorts(databases), emulatorClosed ? '' : emulatorUnclosed(webhooks)].filter(Boolean);
          logger.warn({ notClosed: undone, ...(databases.length ? { databases } : {}), ...(webhooks.length ? { webhooks } : {}) }, notClosedText(undone));
        }
        // Processes kept from closed SQLite connections (console dry runs) end with the server, not 30 s later.
        endSpareSqliteProcesses();
        // What waits for the next start, counted before the store closes, for the stop record. Neither step may hold
        // the stop past a short bound: a store that does not answer is left as a kill would leave it.
        const storeDeadline = Math.max(graceEnds + STORE_AFTER_GRACE_MS, performance.now() + STORE_LAST_STEPS_MS);
        let queued: number | undefined;
        const counted = await within(
          queuedJobs(store).then((n) => void (queued = n)),
          storeDeadline - performance.now(),
        );
        const storeClosed = await within(store.close(), storeDeadline - performance.now());
        if (!counted || !storeClosed) {
          const undone = [counted ? '' : 'queued jobs not counted', storeClosed ? '' : 'the store not closed cleanly (its connections end with the process)'].filter(Boolean).join(', ');
          const resumed = !postgres
            ? 'the next start resumes the unfinished ones'
            : leased > 0 || unrecorded.length > 0 || unfinished === 0
              ? 'an unfinished one under its lease, which PostgreSQL hands to another instance when it expires'
              : 'the unfinished ones given back to the queue, for another instance';
          logger.warn(
            { queuedCounted: counted, storeClosed },
            `the store did not answer the stop's last steps in time (${STORE_AFTER_GRACE_MS / 1000} s after the grace period): ${undone}; nothing acknowledged is lost by this: every job stays in the store, ${resumed}`,
          );
        }
        p.dataLock.release();
        const queuedText = queued ? `: ${queued} job(s) ${postgres ? 'queued in the shared store' : 'left queued for the next start'}` : '';
        if (ends.length) logger.error({ unfinished, unrecorded: ends.length, effects, letters, ...(queued !== undefined ? { queued } : {}) }, `stopped, not cleanly${queuedText}; ${repeated}`);
        else logger.info({ unfinished, ...(queued !== undefined ? { queued } : {}) }, `stopped${queuedText}`);
        return { unfinished, unrecorded: ends.length, effects, letters };
      })();
      return closed;
    },
  };
}
