// Server configuration: flags win over the environment, the environment over oktell.config.yaml, that over defaults.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { isIP } from 'node:net';
import { parse } from 'yaml';
import { z } from 'zod';
import { databaseSettings, urlWithSecretPassword, type DatabaseSettings } from '../adapters/db/settings.js';
import type { WebRequestSettings } from '../adapters/ports.js';
import { webClientOptionsFromEnv } from '../adapters/web/client.js';
import { parseSize as parseSizeValue } from '../adapters/size.js';
import { environmentOnlyKey } from './env-names.js';
import { isStandardSecret, standardSecretProblem } from './standard-webhooks.js';
import { envSetting, type Env } from '../engine/env.js';
import { allowedKeys, closest, decodeTextFile, suggestedZone, listScenarioFilesSync, scenarioNameOf, YamlSource } from '../engine/index.js';
import { DEFAULT_MAX_EFFECTS, DEFAULT_REGEX_BUDGET_MS } from '../engine/interpreter.js';
import { parseUsers, type OktellUser } from './auth.js';
import { defaultBodyBudget } from './body-budget.js';
import { formCharset, isUtf8Label } from './request-body.js';
import { DEFAULT_LOGIN_FAILURE_LIMIT } from './login-throttle.js';
import { DEFAULT_RUN_RECORD_BYTES, MIN_RUN_RECORD_BYTES, RUN_RECORD_BUDGET_SETTING } from './run-budget.js';
import { TRACE_SETTING, type TraceKept } from './trace-setting.js';
import type { BackoffPolicy } from './store/backoff.js';
import { pgSchemaOf, pgSchemaProblem } from './store/postgres.url.js';
import { DEFAULT_STORE_CHECK_MS } from './store/sqlite-check.js';
import { DEFAULT_CLOCK_CHECK_MS } from './store/clock-skew.js';
import { DEFAULT_CATCH_ALL_MAX_ATTEMPTS } from './store/dead-letter.js';
import { DEFAULT_LOG_REPEATS_MS } from './log-folding.js';
import { numberZone, parseServiceTasks, ServiceTaskError, type ServiceTask } from './tasks/definitions.js';
import { checkTimeZone } from './tasks/schedule.js';

export const DEFAULT_PORT = 4055;
export const DEFAULT_BPIUM_EMULATOR_PORT = 4056;
/** Shortest job lease: workers renew every third of it, and at most once a second. */
export const MIN_LEASE_MS = 3000;
export const DEFAULT_LEASE_MS = 60_000;

/**
 * Idle kept-alive connections stay open 65 s by default, not Node's 5 s: longer than the 60 s idle timeout of common
 * proxies (nginx's `keepalive_timeout`, cloud load balancers) and than the few seconds Node's and browsers' clients
 * keep an idle connection, so the client closes it first. With Node's 5 s a client that reuses a connection as the
 * server closes it (a sender idle for about 5 s, or any sender while the event loop stalls) has its request reset.
 */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 65_000;
export const MAX_KEEP_ALIVE_TIMEOUT_MS = 3_600_000;

/**
 * Synchronous Web-API runs at once by default. Each holds its caller's connection until its scenario ends; past this
 * many, a caller is told to retry (or to start with async=1, which queues the run as a job).
 */
export const DEFAULT_MAX_SYNC_RUNS = 64;

/** The largest failed-login limit the settings take (per address and minute); more is no throttle at all. */
export const MAX_LOGIN_FAILURE_LIMIT = 1000;

/**
 * How a job that fails as retryable is retried: the first retry after 1 s, each next delay ×3, at most 30 min apart,
 * 16 attempts in all. The delays 1 s, 3 s, 9 s, 27 s, 81 s, 4 min, 12 min, then 30 min eight times: the first few catch
 * a blip at once, and the window from the first attempt to the last is about 4 h 18 min (at least 3 h with the
 * jitter), so a mail server's or Bpium's maintenance of a few hours ends before the job is a dead letter.
 */
export const DEFAULT_RETRY = Object.freeze({ maxAttempts: 16, baseDelayMs: 1000, maxDelayMs: 30 * 60_000 });
/** Each retry delay is this many times the one before, up to the cap. */
export const RETRY_FACTOR = 3;
/** Share of each delay that is random (see BackoffPolicy.jitter). */
export const RETRY_JITTER = 0.3;
/** The longest retry delay the settings take: one day (longer would hide the end of an outage for days). */
export const MAX_RETRY_DELAY_MS = 86_400_000;

/** Where the inbox, the job queue and the runs live: one SQLite file in the data folder, or a shared PostgreSQL. */
export type StoreSetting = { kind: 'sqlite' } | { kind: 'postgres'; url: string };

const fileSchema = z.strictObject({
  port: z.number().int().min(0).max(65535).optional(),
  host: z.string().optional(),
  /** `rights`: what the login may use (hook, api, console, view: the console read-only); absent = hook, api, console. */
  users: z.array(z.strictObject({ login: z.string().min(1), password: z.string().min(1), rights: z.array(z.enum(['hook', 'api', 'console', 'view'])).min(1).optional() })).optional(),
  scenarios: z.string().optional(),
  dataDir: z.string().optional(),
  timeZone: z.string().optional(),
  hook: z
    .strictObject({
      scenario: z.string().optional(),
      /** Which request part goes into which input parameter. */
      params: z.strictObject({ address: z.number().int().min(1), headers: z.number().int().min(1), method: z.number().int().min(1), body: z.number().int().min(1) }).partial().optional(),
      /** Which return value makes which part of the response. */
      returns: z.strictObject({ body: z.number().int().min(1), status: z.number().int().min(1), contentType: z.number().int().min(1), headers: z.number().int().min(1) }).partial().optional(),
      /** A HEAD request: refused with 405 before anything runs (default), or run as any other method. */
      head: z.enum(['refuse', 'run']).optional(),
    })
    .optional(),
  bodyLimit: z.union([z.string(), z.number()]).optional(),
  /** Request body bytes held in memory at once, across all connections (past it: 503). */
  bodyBudget: z.union([z.string(), z.number()]).optional(),
  /** The most of that budget one login may hold at once (past it: 503 for that login's requests). */
  bodyBudgetPerLogin: z.union([z.string(), z.number()]).optional(),
  /** Bytes one stored run record may take (trace, calls, letters, values); past it the middle is left out. */
  runRecordBudget: z.union([z.string(), z.number()]).optional(),
  /** Which runs' records keep their trace: `all` (default) or `failed` (a completed run's steps are not stored). */
  trace: z.enum(['all', 'failed']).optional(),
  tls: z.strictObject({ cert: z.string(), key: z.string() }).optional(),
  trustProxy: z.union([z.boolean(), z.string(), z.number()]).optional(),
  workers: z.strictObject({ concurrency: z.number().int().min(1).max(256).optional(), maxAttempts: z.number().int().min(1).max(100).optional(), baseDelayMs: z.number().int().min(1).max(MAX_RETRY_DELAY_MS).optional(), maxDelayMs: z.number().int().min(1).max(MAX_RETRY_DELAY_MS).optional(), leaseMs: z.number().int().min(MIN_LEASE_MS).optional(), thread: z.boolean().optional() }).optional(),
  /** `sqlite` (default) or a `postgres://` URL shared by several instances; or { url, passwordEnv | passwordFile } to keep the password out of the file. */
  store: z.union([z.string(), z.strictObject({ url: z.string(), passwordEnv: z.string().min(1).optional(), passwordFile: z.string().min(1).optional() })]).optional(),
  retentionDays: z.number().positive().optional(),
  /** Dead letters (failed and dead jobs) are kept until replayed; given this, they go after this many days. */
  deadLetterRetentionDays: z.number().positive().optional(),
  /** The dead-letter catch-all: a service scenario run once for every job given up on; `off`: none. Default DeadLetter when that file exists. */
  deadLetterScenario: z.string().min(1).optional(),
  /** Attempts of each catch-all job (OKTELL_DEAD_LETTER_MAX_ATTEMPTS), fewer than a job's: a broken alert path shows soon. */
  deadLetterMaxAttempts: z.number().int().min(1).max(100).optional(),
  /** Effects (letters, Bpium calls, web requests, database statements, async starts) one run may make; the run fails with R_EFFECT_LIMIT before the next. */
  maxEffectsPerRun: z.number().int().min(1).optional(),
  /** Milliseconds a run's Parser regex extractions may search in all; past it the block takes its error exit. */
  regexBudgetMs: z.number().int().min(1).optional(),
  /** The position SubStr calls the first character: 0 or 1 (Oktell's own is not documented). */
  substrBase: z.union([z.literal(0), z.literal(1)]).optional(),
  /** Synchronous Web-API runs at once; a call past it is answered 503 with Retry-After. */
  maxSyncRuns: z.number().int().min(1).max(4096).optional(),
  /** What a synchronous Web-API run does when its caller's timeout passes: go on to its end, or stop before its next block. */
  syncTimeout: z.enum(['continue', 'stop']).optional(),
  /** The charset a Web-API value that names none is read in when its escapes are not UTF-8 (unset: refused with 400). */
  webApiFallbackCharset: z.string().optional(),
  /** Failed logins from one address (or for one login) within a minute before it gets 429 unchecked; 0 = off. */
  loginFailureLimit: z.number().int().min(0).max(MAX_LOGIN_FAILURE_LIMIT).optional(),
  webhookSecrets: z.record(z.string(), z.union([z.string(), z.strictObject({ file: z.string() })])).optional(),
  /** Refuse signed webhooks whose Bpium `timestamp` is further than this from now (off when absent). */
  webhookMaxAgeMinutes: z.number().positive().optional(),
  bpiumEmulatorPort: z.number().int().min(0).max(65535).optional(),
  /** `compact` (default): V8 keeps the heaps near their live size; `v8`: V8's own defaults. */
  heap: z.enum(['compact', 'v8']).optional(),
  /** Database connections for DbQuery/DbProcedure: name → `sqlite:PATH`, a postgres:// URL, or { url, passwordEnv | passwordFile }. */
  databases: z
    .record(z.string(), z.union([z.string(), z.strictObject({ url: z.string(), passwordEnv: z.string().min(1).optional(), passwordFile: z.string().min(1).optional() })]))
    .optional(),
  /** Scenarios started on a schedule; checked with positions by parseServiceTasks. */
  serviceTasks: z.unknown().optional(),
  /** WebRequest blocks: the only hosts they may reach (`*.example.com` allowed; default any) and the answer size cap. */
  webRequest: z.strictObject({ allowHosts: z.array(z.string().trim().min(1)).optional(), maxResponseBytes: z.union([z.string(), z.number().int().min(1)]).optional() }).optional(),
});

export type ConfigFile = z.infer<typeof fileSchema>;

export interface ServerConfig {
  port: number;
  host: string;
  users: OktellUser[];
  /** true when no user was configured and one was generated (and kept in the data folder). */
  usersGenerated: boolean;
  /** With a generated user: the file that keeps it, and whether this start made it (the password is shown only then). */
  generatedUser?: { file: string; created: boolean };
  scenariosDir: string;
  dataDir: string;
  timeZone: string;
  hook: {
    scenario: string;
    params: { address: number; headers: number; method: number; body: number };
    /** `headers`: the return value of the answer's own headers (`Name: value` lines); unset, the scenario sets none. */
    returns: { body: number; status: number; contentType: number; headers?: number };
    /** `refuse`: a HEAD gets 405 and nothing runs (the default); `run`: HTTP404 runs for it as for any method. */
    head: HookHead;
  };
  bodyLimitBytes: number;
  /** Request body bytes held in memory at once across all connections; past it requests get 503 (absent: the default). */
  bodyBudgetBytes?: number;
  /** The most of that budget one login may hold at once; past it that login's requests get 503 (absent: the default). */
  bodyBudgetPerLoginBytes?: number;
  /** Bytes one stored run record may take; past it its trace, calls and letters keep their head and tail. */
  runRecordBytes: number;
  /** Which runs' records keep their trace (OKTELL_TRACE): `all`, or `failed` (completed runs are stored without their steps). */
  traceKept: TraceKept;
  tls?: { cert: string; key: string };
  trustProxy: boolean | string | number;
  /** `leaseMs`: how long a job stays taken by an instance that stops renewing it (it died) before another takes it. */
  workers: { concurrency: number; maxAttempts: number; baseDelayMs: number; maxDelayMs: number; leaseMs: number; burstInFlight?: number; thread: boolean };
  /** Longest time a client may take to send one whole request (a stalled client gets 408). */
  requestTimeoutMs: number;
  /**
   * How long an idle kept-alive connection stays open for its client's next request. Longer than a sender's or a proxy's
   * own idle timeout, so that the client, not the server, closes an idle connection: a server that closes one just as the
   * client sends on it resets that request.
   */
  keepAliveTimeoutMs: number;
  /** A quota on the SQLite file, in 4 KiB pages: past it, hook requests get 503 with Retry-After instead of filling the disk. */
  storeMaxPages?: number;
  store: StoreSetting;
  retentionMs: number;
  /** Dead letters (failed and dead jobs) older than this are pruned; absent: kept until replayed. */
  deadLetterRetentionMs?: number;
  /**
   * The dead-letter catch-all (OKTELL_DEAD_LETTER_SCENARIO, `deadLetterScenario:`): the scenario enqueued for every job
   * given up on, and where it was set (`setAt`: the variable, or the file's `file:line:col`; absent for the default,
   * DeadLetter when the scenarios folder has it). Absent: off.
   */
  deadLetter?: { scenario: string; setAt?: string };
  /**
   * Neither the variable nor the file's key is set (nor `off`): the catch-all is DeadLetter whenever that scenario is
   * in the folder, followed at each reload of the scenarios (`deadLetter` says the start's view).
   */
  deadLetterDefault?: true;
  /** Attempts of each catch-all job (OKTELL_DEAD_LETTER_MAX_ATTEMPTS, `deadLetterMaxAttempts:`), 1–100. */
  deadLetterMaxAttempts: number;
  /** How long the start-up integrity check of the SQLite store may take (0: no check). */
  storeCheckMs: number;
  /** How often `serve` on PostgreSQL measures its clock against the database's after the start (0: at the start only). */
  clockCheckMs: number;
  /**
   * How often the log sums up the repeated failures of an outage (SMTP or Bpium down), which it otherwise writes once
   * (OKTELL_LOG_REPEATS_MS; log-folding.ts); 0 writes every failure on its own line.
   */
  logRepeatsMs: number;
  /** Effects one run may make (letters, Bpium calls, web requests, database statements, async starts): a cap on fan-out from one request. */
  maxEffectsPerRun: number;
  /** Milliseconds a run's Parser regex extractions may search in all before the next one gives up (its error exit). */
  regexBudgetMs: number;
  /** The position SubStr calls the first character (`OKTELL_SUBSTR_BASE` over `substrBase:`): 0 (default) or 1. */
  substrBase: 0 | 1;
  /** Synchronous Web-API runs at once (`OKTELL_SYNC_RUNS`); a call past it is answered 503 with Retry-After. */
  maxSyncRuns: number;
  /**
   * A synchronous Web-API run whose caller's `timeout` passed (`OKTELL_SYNC_TIMEOUT` over `syncTimeout:`): `continue`
   * (the default) lets it end; `stop` stops it before its next block (R_CANCELLED), as Oktell's successor platform does.
   */
  syncTimeout: SyncTimeout;
  /**
   * The charset a Web-API value is read in when it names none (the query; a form without `charset=`) and its escapes
   * are not UTF-8 (`OKTELL_WEBAPI_FALLBACK_CHARSET` over `webApiFallbackCharset:`): `windows-1251` for callers that
   * send their strings' bytes as they are. Unset (the default): such a value is refused with 400.
   */
  webApiFallbackCharset?: string;
  /**
   * Failed logins from one client address (or for one login, from the addresses that failed it) within a minute
   * before further requests from there are answered 429 without a check (`OKTELL_LOGIN_FAILURE_LIMIT`); 0 = off.
   */
  loginFailureLimit: number;
  /** Webhook secrets by path ('*' = every path): X-Hook-Signature is required where one is set. */
  webhookSecrets: Record<string, string>;
  /** Signed webhooks whose Bpium `timestamp` is further than this from now are refused (replays); absent = off. */
  webhookMaxAgeMs?: number;
  bpiumEmulatorPort: number;
  /**
   * Set when that port is given (--bpium-emulator-port, BPIUM_EMULATOR_PORT or bpiumEmulatorPort): the embedded
   * emulator then starts even when no scenario has a Bpium block (see `startServer`).
   */
  bpiumEmulatorAsked?: true;
  /** How the process sizes its JavaScript heaps (see applyHeapSetting). */
  heap: HeapSetting;
  /** Database connections by name (always `main`); may hold passwords, so never logged as they are. */
  databases: DatabaseSettings;
  /** Service tasks: scenarios started on a schedule (see server/tasks). */
  serviceTasks: ServiceTask[];
  /** WebRequest blocks' allow-list of hosts and answer size cap (WEB_REQUEST_* win over `webRequest:`); absent = defaults. */
  webRequest: WebRequestSettings;
  configFile?: string;
  /** Where the configuration file is, or would be (created later, its service tasks are loaded then). */
  configPath?: string;
  /** The environment variables the file names (`passwordEnv:`): read too, so the start does not call them unread. */
  fileEnvNames: string[];
}

export type HeapSetting = 'compact' | 'v8';

export interface ConfigFlags {
  port?: number;
  host?: string;
  scenarios?: string;
  dataDir?: string;
  config?: string;
  bpiumEmulatorPort?: number;
  /**
   * Takes the service tasks' problems instead of refusing the configuration over them, which then has only the good
   * tasks: for `oktell-emu tasks`, which lists those and names the others. Every other setting is checked as ever.
   */
  onTaskProblems?: (e: ServiceTaskError) => void;
  /**
   * For commands that never open the scenarios' databases (`runs`, `show`, `replay`, `webhook send`, `outbox`…): a
   * database password kept out of the file that cannot be had (passwordEnv unset, passwordFile unreadable) does not
   * refuse the configuration; the connection carries `passwordProblem` instead. `serve`, `run` and `validate` leave
   * it unset and refuse as ever.
   */
  deferDatabasePasswords?: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses "5mb", "512kb", "1048576" into bytes (adapters/size.ts, which the web client's variables share); a ConfigError. */
export function parseSize(v: string | number, setting?: string): number {
  try {
    return parseSizeValue(v, setting);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
}

/**
 * The config file's problems, one line each, at the file's line and column: an unknown key with the closest known one
 * (`prot` → `port`), any other problem at its value.
 */
function fileIssues(file: string, text: string, issues: readonly z.core.$ZodIssue[]): string {
  const src = new YamlSource(file, text);
  return issues
    .flatMap((i) => {
      const path = i.path.filter((p): p is string | number => typeof p !== 'symbol');
      const where = path.length ? path.join('.') : 'the top level';
      if (i.code !== 'unrecognized_keys') {
        const at = src.locate(path);
        // `timeZone: +3` unquoted is the number 3 to YAML: said so, with the zone of the offset, as a task's zone is.
        const written = path.length === 1 && path[0] === 'timeZone' && i.code === 'invalid_type' ? src.sourceOf(path) : undefined;
        if (written !== undefined && written.trim() !== '' && Number.isFinite(Number(written))) return [`${file}:${at.line}:${at.col}: timeZone: ${numberZone(written, Number(written))}`];
        // `timeZone:` with nothing after it is null to YAML: said so, with what to write.
        if (written !== undefined && /^(?:~|null|Null|NULL)?$/.test(written.trim())) return [`${file}:${at.line}:${at.col}: timeZone: is empty: write a zone name (e.g. Europe/Moscow, UTC), or remove the line for the default, Europe/Moscow`];
        return [`${file}:${at.line}:${at.col}: ${where}: ${i.message}`];
      }
      const known = allowedKeys(fileSchema, path);
      return i.keys.map((key) => {
        const at = src.locate([...path, key], { key: true });
        const envOnly = environmentOnlyKey(path, key);
        if (envOnly) {
          const how = envOnly.fileKey
            ? `in this file it is ${envOnly.fileKey}: (or the environment variable ${envOnly.variable})`
            : `${envOnly.variable} is set in the environment only (${envOnly.variable}=… in the server's environment), not in this file`;
          return `${file}:${at.line}:${at.col}: unknown key "${key}" at ${where}: ${how}; known keys: ${known.join(', ')}`;
        }
        const guess = closest(key, known);
        return `${file}:${at.line}:${at.col}: unknown key "${key}" at ${where}${guess ? ` (did you mean "${guess}"?)` : ''}; known keys: ${known.join(', ')}`;
      });
    })
    .join('\n');
}

/** OKTELL_USERS as a ConfigError when it does not parse (auth.ts says which entry, never its text). */
function usersSetting(spec: string): OktellUser[] {
  try {
    return parseUsers(spec);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * `trust proxy` as express takes it: true/false, a number of hops, or addresses, subnets (a.b.c.d/n) and the names
 * loopback, linklocal, uniquelocal, comma-separated. Checked here: express's refusal is a stack trace at start.
 */
export function trustProxySetting(v: boolean | string | number, setting: string): boolean | string | number {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  if (t === 'true' || t === 'false') return t === 'true';
  if (/^\d+$/.test(t)) return Number(t);
  const bad = t.split(',').map((p) => p.trim()).find((p) => !PROXY_NAMES.has(p) && !subnet(p));
  if (bad !== undefined) throw new ConfigError(`${setting}="${v}": "${bad}" is not an address, a subnet (10.0.0.0/8) or one of loopback, linklocal, uniquelocal; or give true, false or a number of hops`);
  return t;
}

function subnet(p: string): boolean {
  const [addr = '', bits, ...more] = p.split('/');
  const family = isIP(addr);
  if (!family || more.length) return false;
  if (bits === undefined) return true;
  if (isIP(bits) === family) return true; // a netmask
  return /^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/** The environment variables the configuration file names (`passwordEnv:` of `store:` and of `databases:` entries): read too. */
function passwordEnvNames(fc: ConfigFile): string[] {
  const sources = [fc.store, ...Object.values(fc.databases ?? {})];
  return sources.flatMap((s) => (s && typeof s === 'object' && s.passwordEnv ? [s.passwordEnv] : []));
}

/**
 * The configuration file (`--config`, else OKTELL_CONFIG, else ./oktell.config.yaml of `cwd`), parsed and checked;
 * empty when the default file is absent. A named file that is absent, or a file whose YAML or form is wrong, is a
 * ConfigError.
 */
function readConfigFile(flags: Pick<ConfigFlags, 'config'>, env: Env, cwd: string): { file: string; filePath: string; fc: ConfigFile; fileText?: string } {
  const file = flags.config ?? envSetting(env, 'OKTELL_CONFIG') ?? 'oktell.config.yaml';
  const filePath = resolve(cwd, file);
  if (!existsSync(filePath)) {
    if (flags.config || envSetting(env, 'OKTELL_CONFIG')) throw new ConfigError(`config file ${file} does not exist`);
    return { file, filePath, fc: {} };
  }
  let raw: unknown;
  let fileText: string;
  try {
    const read = decodeTextFile(readFileSync(filePath));
    // Saved as UTF-16 or in a Cyrillic code page, it was read as a string, or with its paths and names turned to U+FFFD.
    if (!read.ok) throw new ConfigError(`${file}:${read.line}:${read.col}: ${read.message}; ${read.hint}`);
    fileText = read.text;
    raw = parse(fileText);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`${file}: ${(e as Error).message}`);
  }
  const r = fileSchema.safeParse(raw ?? {});
  if (!r.success) throw new ConfigError(fileIssues(file, fileText, r.error.issues));
  return { file, filePath, fc: r.data, fileText };
}

/** The scenarios folder: the flag, else OKTELL_SCENARIOS, else `scenarios:` of the file, else ./scenarios; absolute, from `cwd`. */
function scenariosFrom(flags: Pick<ConfigFlags, 'scenarios'>, env: Env, fc: ConfigFile, cwd: string): string {
  const dir = flags.scenarios ?? envSetting(env, 'OKTELL_SCENARIOS') ?? fc.scenarios ?? './scenarios';
  return isAbsolute(dir) ? dir : resolve(cwd, dir);
}

/**
 * The scenarios folder `serve` would load (loadServerConfig's), for the commands that need only that. The
 * configuration file is read when the flag or OKTELL_SCENARIOS does not name the folder, or when `flags.config` or
 * OKTELL_CONFIG names the file (a missing one is said), and then only its form is checked (not its secrets files, users or other
 * settings), so a setting the command does not use cannot stop it.
 */
export function configuredScenariosDir(flags: Pick<ConfigFlags, 'scenarios' | 'config'>, env: Env = process.env, cwd = process.cwd()): string {
  const named = flags.scenarios !== undefined || envSetting(env, 'OKTELL_SCENARIOS') !== undefined;
  // A file named by --config or OKTELL_CONFIG is read even then: a missing or malformed one is said, as serve says it.
  const fileNamed = flags.config !== undefined || envSetting(env, 'OKTELL_CONFIG') !== undefined;
  return scenariosFrom(flags, env, named && !fileNamed ? {} : readConfigFile(flags, env, cwd).fc, cwd);
}

/**
 * `hook.returns`: which return value makes which part of the hook's answer. Two parts on one return value would make
 * one value both (a body read as header lines answers every request 500): refused at the start, at the setting.
 */
function hookReturns(own: Partial<ServerConfig['hook']['returns']> | undefined, at: (...path: string[]) => string): ServerConfig['hook']['returns'] {
  const returns = { body: 1, status: 2, contentType: 3, ...own };
  const parts = Object.entries(returns) as Array<[string, number]>;
  for (const [i, [part, n]] of parts.entries()) {
    const other = parts.slice(0, i).find(([, m]) => m === n);
    if (other) {
      const mine = own && part in own ? part : other[0];
      throw new ConfigError(`${at('hook', 'returns', mine)}: hook.returns gives ${other[0]} and ${part} the same return value ${n}; give each part of the answer its own number (the defaults are body 1, status 2, contentType 3)`);
    }
  }
  return returns;
}

/**
 * `file:line:col` of a setting of the file, as its form errors and the service tasks' say it: where a value that is
 * wrong is written, for an editor to jump to. The file's text is read as YAML with positions once, at the first call.
 */
function settingLocator(file: string, fileText: string | undefined): (...path: string[]) => string {
  let source: YamlSource | undefined;
  return (...path: string[]) => {
    if (fileText === undefined) return file;
    const l = (source ??= new YamlSource(file, fileText)).locate(path);
    return `${file}:${l.line}:${l.col}`;
  };
}

/**
 * The run settings `serve` would use, for the commands that need only those (`oktell-emu test`): loadServerConfig's
 * `webRequest` (WEB_REQUEST_ALLOW_HOSTS / WEB_REQUEST_MAX_RESPONSE_BYTES over `webRequest:`), effect cap
 * (OKTELL_MAX_EFFECTS over `maxEffectsPerRun:`) and regex budget (OKTELL_REGEX_BUDGET_MS over `regexBudgetMs:`), the
 * file being the one named by `flags.config`, OKTELL_CONFIG or ./oktell.config.yaml. The cap and the budget are
 * undefined when neither sets them (the engine's defaults then). Also the connections configured as PostgreSQL, which a
 * case runs on SQLite (postgresConnections). Only the file's form is checked besides, as for configuredScenariosDir,
 * so a setting the command does not use cannot stop it.
 */
export function configuredRunSettings(flags: Pick<ConfigFlags, 'config'>, env: Env = process.env, cwd = process.cwd()): { webRequest: WebRequestSettings; maxEffectsPerRun: number | undefined; regexBudgetMs: number | undefined; substrBase: 0 | 1 | undefined; postgresConnections: Record<string, string> } {
  const { file, fc, fileText } = readConfigFile(flags, env, cwd);
  const at = settingLocator(file, fileText);
  return {
    webRequest: webRequestSettings(fc.webRequest, env, at),
    maxEffectsPerRun: maxEffectsFromEnv(env) ?? fc.maxEffectsPerRun,
    regexBudgetMs: regexBudgetFromEnv(env) ?? fc.regexBudgetMs,
    substrBase: substrBaseFromEnv(env) ?? fc.substrBase,
    postgresConnections: postgresConnections(fc.databases, env, cwd, at),
  };
}

/**
 * The connections `serve` would open on PostgreSQL, each with where that is set (`oktell.config.yaml:3:8
 * (databases.crm)`, `OKTELL_DB_CRM`), for `oktell-emu test`, whose cases run every connection on SQLite. A
 * `databases:` setting that does not load is left to the commands that open the databases: none is named then.
 */
function postgresConnections(entries: Parameters<typeof databaseSettings>[0], env: Env, cwd: string, at: (...path: string[]) => string): Record<string, string> {
  let settings: DatabaseSettings;
  try {
    settings = databaseSettings(entries, env, './var', cwd, { deferPasswords: true });
  } catch {
    return {};
  }
  const out: Record<string, string> = {};
  for (const [name, s] of Object.entries(settings)) {
    if (s.dialect !== 'postgres') continue;
    const setting = s.written?.setting ?? `databases.${name}`;
    out[name] = setting.startsWith('databases.') ? `${at('databases', name)} (databases.${name})` : setting;
  }
  return out;
}

/**
 * The embedded emulator's port: the one given (which asks for the emulator, see `bpiumEmulatorAsked`); else, when the
 * server's own port is 0 (the OS picks it: tests, several servers side by side), 0 as well, so that the emulator does
 * not clash on 4056 with another server's; else 4056. The ports taken are named in the banner and the start log.
 */
function emulatorPort(given: number | undefined, serverPort: number): Pick<ServerConfig, 'bpiumEmulatorPort' | 'bpiumEmulatorAsked'> {
  if (given !== undefined) return { bpiumEmulatorPort: given, bpiumEmulatorAsked: true };
  return { bpiumEmulatorPort: serverPort === 0 ? 0 : DEFAULT_BPIUM_EMULATOR_PORT };
}

/** Users and their origin, before the data folder is consulted for a generated user. */
export function loadServerConfig(flags: ConfigFlags, env: Env = process.env, cwd = process.cwd()): Omit<ServerConfig, 'usersGenerated' | 'generatedUser'> {
  const { file, filePath, fc, fileText } = readConfigFile(flags, env, cwd);
  const at = settingLocator(file, fileText);
  const num = (name: string) => {
    // Blank (spaces too) is unset (envSetting): Number(' ') is 0, which would pick a random port.
    const v = envSetting(env, name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`${name}="${v}" is not a port number`);
    return n;
  };
  const base = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
  const scenariosDir = scenariosFrom(flags, env, fc, cwd);
  const usersVar = envSetting(env, 'OKTELL_USERS');
  const users = usersVar ? usersSetting(usersVar) : (fc.users ?? []);
  const secrets: Record<string, string> = {};
  // The file each secret written `{ file: … }` was read from, so a refusal of its text names the file to fix.
  const secretFiles: Record<string, string> = {};
  for (const [path, s] of Object.entries(fc.webhookSecrets ?? {})) {
    if (typeof s !== 'string') secretFiles[path] = base(s.file);
    secrets[path] = typeof s === 'string' ? s : readSecretFile(base(s.file), path);
  }
  const secretVar = envSetting(env, 'BPIUM_WEBHOOK_SECRET');
  const secretFileVar = envSetting(env, 'BPIUM_WEBHOOK_SECRET_FILE');
  if (secretVar) secrets['*'] = secretVar;
  else if (secretFileVar) secrets['*'] = readSecretFile(base(secretFileVar), '*');
  for (const [path, s] of Object.entries(secrets)) {
    const problem = isStandardSecret(s) ? standardSecretProblem(s) : undefined;
    if (problem === undefined) continue;
    const fromEnv = path === '*' && (secretVar || secretFileVar);
    const where = fromEnv ? (secretVar ? 'BPIUM_WEBHOOK_SECRET' : `BPIUM_WEBHOOK_SECRET_FILE (${base(secretFileVar!)})`) : `${at('webhookSecrets', path)}: webhookSecrets: ${path}${secretFiles[path] !== undefined ? ` (the secret read from ${secretFiles[path]})` : ''}`;
    throw new ConfigError(`${where}: ${problem}`);
  }
  const tlsCert = envSetting(env, 'OKTELL_TLS_CERT') ?? fc.tls?.cert;
  const tlsKey = envSetting(env, 'OKTELL_TLS_KEY') ?? fc.tls?.key;
  if (Boolean(tlsCert) !== Boolean(tlsKey)) throw new ConfigError('HTTPS needs both OKTELL_TLS_CERT and OKTELL_TLS_KEY');
  const trustVar = envSetting(env, 'OKTELL_TRUST_PROXY');
  const trust = trustProxySetting(trustVar ?? fc.trustProxy ?? false, trustVar !== undefined ? 'OKTELL_TRUST_PROXY' : `${at('trustProxy')}: trustProxy`);
  const dataDir = base(flags.dataDir ?? envSetting(env, 'OKTELL_DATA_DIR') ?? fc.dataDir ?? './var');
  let databases: DatabaseSettings;
  try {
    databases = databaseSettings(fc.databases, env, dataDir, cwd, { deferPasswords: flags.deferDatabasePasswords === true });
  } catch (e) {
    throw new ConfigError(`${existsSync(filePath) ? `${databaseErrorAt(e as Error, file, at)}: ` : ''}${(e as Error).message}`);
  }
  const timeZone = validTimeZone(envSetting(env, 'OKTELL_TZ'), fc.timeZone, at('timeZone')) ?? 'Europe/Moscow';
  const port = flags.port ?? num('OKTELL_PORT') ?? fc.port ?? DEFAULT_PORT;
  const maxAttempts = optionalCount('n', env, 'OKTELL_MAX_ATTEMPTS', 1, 100).n ?? fc.workers?.maxAttempts ?? DEFAULT_RETRY.maxAttempts;
  return {
    fileEnvNames: passwordEnvNames(fc),
    port,
    // Trimmed: ` 127.0.0.1` from a quoted systemd or compose line is the address, not a name that does not resolve.
    host: flags.host ?? envSetting(env, 'OKTELL_HOST')?.trim() ?? fc.host ?? '0.0.0.0',
    users,
    scenariosDir,
    dataDir,
    timeZone,
    hook: {
      scenario: envSetting(env, 'OKTELL_HOOK_SCENARIO') ?? fc.hook?.scenario ?? 'HTTP404',
      params: { address: 1, headers: 2, method: 3, body: 4, ...fc.hook?.params },
      returns: hookReturns(fc.hook?.returns, at),
      head: hookHead(env) ?? fc.hook?.head ?? 'refuse',
    },
    bodyLimitBytes: bodyLimit(envSetting(env, 'OKTELL_BODY_LIMIT'), fc.bodyLimit, at('bodyLimit')),
    ...bodyBudgets(env, fc, at),
    runRecordBytes: runRecordBudget(envSetting(env, 'OKTELL_RUN_RECORD_BUDGET'), fc.runRecordBudget, at('runRecordBudget')),
    traceKept: traceKept(env) ?? fc.trace ?? 'all',
    ...(tlsCert && tlsKey ? { tls: { cert: base(tlsCert), key: base(tlsKey) } } : {}),
    trustProxy: trust,
    workers: {
      // The same bounds as the file's `workers:` keys: 0 workers would accept webhooks and never deliver them.
      concurrency: optionalCount('n', env, 'OKTELL_WORKERS', 1, 256).n ?? fc.workers?.concurrency ?? 32,
      maxAttempts,
      ...retryDelays(env, fc.workers, file, at),
      leaseMs: leaseMs(env) ?? fc.workers?.leaseMs ?? DEFAULT_LEASE_MS,
      ...optionalCount('burstInFlight', env, 'OKTELL_BURST_IN_FLIGHT', 0),
      thread: onOff(env, 'OKTELL_DELIVERY_THREAD') ?? fc.workers?.thread ?? false,
    },
    ...optionalCount('storeMaxPages', env, 'OKTELL_STORE_MAX_PAGES', 16),
    requestTimeoutMs: optionalCount('ms', env, 'OKTELL_REQUEST_TIMEOUT_MS', 100).ms ?? 60_000,
    keepAliveTimeoutMs: optionalCount('ms', env, 'OKTELL_KEEP_ALIVE_TIMEOUT_MS', 1000, MAX_KEEP_ALIVE_TIMEOUT_MS).ms ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
    store: storeSetting(envSetting(env, 'OKTELL_STORE') ?? storeFromFile(fc.store, at('store'), env, cwd)),
    retentionMs: (retentionDays(env, 'OKTELL_RETENTION_DAYS') ?? fc.retentionDays ?? 30) * 86_400_000,
    ...deadLetterRetention(retentionDays(env, 'OKTELL_DEAD_LETTER_RETENTION_DAYS') ?? fc.deadLetterRetentionDays),
    ...deadLetterScenario(envSetting(env, 'OKTELL_DEAD_LETTER_SCENARIO'), fc.deadLetterScenario, at('deadLetterScenario'), scenariosDir),
    // Unset, never more than a job's own: with OKTELL_MAX_ATTEMPTS=2 the catch-all does not try longer than the job did.
    deadLetterMaxAttempts: optionalCount('n', env, 'OKTELL_DEAD_LETTER_MAX_ATTEMPTS', 1, 100).n ?? fc.deadLetterMaxAttempts ?? Math.min(DEFAULT_CATCH_ALL_MAX_ATTEMPTS, maxAttempts),
    storeCheckMs: optionalCount('ms', env, 'OKTELL_STORE_CHECK_MS', 0).ms ?? DEFAULT_STORE_CHECK_MS,
    clockCheckMs: clockCheckMs(env),
    logRepeatsMs: logRepeatsMs(env),
    maxEffectsPerRun: maxEffectsFromEnv(env) ?? fc.maxEffectsPerRun ?? DEFAULT_MAX_EFFECTS,
    regexBudgetMs: regexBudgetFromEnv(env) ?? fc.regexBudgetMs ?? DEFAULT_REGEX_BUDGET_MS,
    substrBase: substrBaseFromEnv(env) ?? fc.substrBase ?? 0,
    maxSyncRuns: optionalCount('n', env, 'OKTELL_SYNC_RUNS', 1, 4096).n ?? fc.maxSyncRuns ?? DEFAULT_MAX_SYNC_RUNS,
    syncTimeout: syncTimeoutSetting(env) ?? fc.syncTimeout ?? 'continue',
    ...fallbackCharset(envSetting(env, 'OKTELL_WEBAPI_FALLBACK_CHARSET'), fc.webApiFallbackCharset, at('webApiFallbackCharset')),
    loginFailureLimit: optionalCount('n', env, 'OKTELL_LOGIN_FAILURE_LIMIT', 0, MAX_LOGIN_FAILURE_LIMIT).n ?? fc.loginFailureLimit ?? DEFAULT_LOGIN_FAILURE_LIMIT,
    webhookSecrets: secrets,
    ...webhookMaxAge(envSetting(env, 'BPIUM_WEBHOOK_MAX_AGE_MINUTES'), fc.webhookMaxAgeMinutes),
    ...emulatorPort(flags.bpiumEmulatorPort ?? num('BPIUM_EMULATOR_PORT') ?? fc.bpiumEmulatorPort, port),
    heap: heapSetting(env) ?? fc.heap ?? 'compact',
    databases,
    serviceTasks: fileText === undefined ? [] : serviceTasks(file, fileText, timeZone, scenarioNamesOnDisk(scenariosDir), flags.onTaskProblems),
    webRequest: webRequestSettings(fc.webRequest, env, at),
    ...(existsSync(filePath) ? { configFile: filePath } : {}),
    configPath: filePath,
  };
}

/**
 * Where the `databases:` entry a DatabaseConfigError names is written (`file:line:col`, by `at`): its connection's
 * value, or the key of a name that is not one; the file alone when the message names no entry.
 */
function databaseErrorAt(e: Error, file: string, at: (...path: string[]) => string): string {
  const entry = /^databases\.([A-Za-z_][A-Za-z0-9_-]*)/.exec(e.message);
  if (entry) return at('databases', entry[1]!);
  return /^databases:/.test(e.message) ? at('databases') : file;
}

/**
 * The retry delays: OKTELL_RETRY_BASE_DELAY_MS / OKTELL_RETRY_MAX_DELAY_MS over the file's `workers.baseDelayMs` /
 * `workers.maxDelayMs`, over the defaults. A first delay above the cap is refused, naming where each came from (the
 * file's at its line and column): every delay would be the cap, which is not what whoever set the first one meant.
 */
function retryDelays(env: Env, fromFile: ConfigFile['workers'], file: string, at: (...path: string[]) => string): { baseDelayMs: number; maxDelayMs: number } {
  const setting = (name: string, key: 'baseDelayMs' | 'maxDelayMs', fallback: number) => {
    const n = optionalCount('ms', env, name, 1, MAX_RETRY_DELAY_MS).ms;
    if (n !== undefined) return { ms: n, from: name };
    const v = fromFile?.[key];
    if (v === undefined) return { ms: fallback, from: `the default ${key}` };
    return { ms: v, from: `${at('workers', key)}: workers.${key}` };
  };
  const base = setting('OKTELL_RETRY_BASE_DELAY_MS', 'baseDelayMs', DEFAULT_RETRY.baseDelayMs);
  const max = setting('OKTELL_RETRY_MAX_DELAY_MS', 'maxDelayMs', DEFAULT_RETRY.maxDelayMs);
  if (base.ms > max.ms) {
    // Led by a setting of the file when there is one, so its file:line:col starts the line as editors expect.
    const inFile = (x: { from: string }) => x.from.startsWith(`${file}:`);
    throw new ConfigError(
      inFile(max) && !inFile(base)
        ? `${max.from} (${max.ms} ms) is below ${base.from} (${base.ms} ms): the longest retry delay must not be shorter than the first one`
        : `${base.from} (${base.ms} ms) is above ${max.from} (${max.ms} ms): the first retry delay must not exceed the longest one`,
    );
  }
  return { baseDelayMs: base.ms, maxDelayMs: max.ms };
}

/** The backoff the workers retry jobs with, from the workers' settings. */
export function jobBackoff(workers: Pick<ServerConfig['workers'], 'baseDelayMs' | 'maxDelayMs'>): BackoffPolicy {
  return { initialMs: workers.baseDelayMs, factor: RETRY_FACTOR, maxMs: workers.maxDelayMs, jitter: RETRY_JITTER };
}

/**
 * The configured service tasks; their problems become one ConfigError with every file:line:col, a task's scenario
 * missing from `known` (the folder's names) among them when there are others.
 */
export function serviceTasks(file: string, text: string, timeZone: string, known?: ReadonlySet<string>, onProblems?: (e: ServiceTaskError) => void): ServiceTask[] {
  try {
    return parseServiceTasks(file, text, timeZone, Date.now(), known);
  } catch (e) {
    if (e instanceof ServiceTaskError && onProblems) {
      onProblems(e);
      return [...e.tasks];
    }
    if (e instanceof ServiceTaskError) throw new ConfigError(e.message);
    throw e;
  }
}

/** The scenario names of the files in `dir` (as the scenario host names them), undefined when it cannot be read. */
function scenarioNamesOnDisk(dir: string): ReadonlySet<string> | undefined {
  try {
    return new Set(listScenarioFilesSync(dir).map(scenarioNameOf));
  } catch {
    return undefined;
  }
}

/**
 * The WebRequest settings of the file with WEB_REQUEST_ALLOW_HOSTS / WEB_REQUEST_MAX_RESPONSE_BYTES over them; a
 * value of the file that is wrong is named at its file:line:col (`at`), as bodyLimit is.
 */
function webRequestSettings(file: ConfigFile['webRequest'], env: Env, at: (...path: string[]) => string): WebRequestSettings {
  let fromEnv: WebRequestSettings;
  try {
    fromEnv = webClientOptionsFromEnv(env);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  const out: WebRequestSettings = {};
  const hosts = fromEnv.allowHosts ?? file?.allowHosts;
  if (hosts && hosts.length > 0) out.allowHosts = hosts;
  const setting = fromEnv.maxResponseBytes !== undefined ? 'WEB_REQUEST_MAX_RESPONSE_BYTES' : `${at('webRequest', 'maxResponseBytes')}: webRequest.maxResponseBytes`;
  const max = fromEnv.maxResponseBytes ?? (file?.maxResponseBytes !== undefined ? parseSize(file.maxResponseBytes, setting) : undefined);
  if (max !== undefined) {
    if (max < 1) throw new ConfigError(`${setting} must be at least 1 byte`);
    out.maxResponseBytes = max;
  }
  return out;
}

/**
 * Why `zone`, given as `given` (`OKTELL_TZ="Mars/Base"`, `--tz "Mars/Base"`), is not a time zone; undefined when it
 * is one. The server's settings, `validate` and `run` say it in the same words.
 */
export function timeZoneProblem(zone: string, given: string): string | undefined {
  try {
    checkTimeZone(zone);
    return undefined;
  } catch {
    const guess = suggestedZone(zone);
    return guess !== undefined
      ? `${given} is not a time zone: did you mean ${guess}? (an IANA name such as Europe/Moscow, Asia/Yekaterinburg or UTC)`
      : `${given} is not a time zone: use an IANA name such as Europe/Moscow, Asia/Yekaterinburg or UTC`;
  }
}

/**
 * The zone of OKTELL_TZ, else of the file's `timeZone`, checked now: an unknown zone would otherwise start the server
 * and fail every run later with an expression error blamed on the scenario. The same check as a service task's zone.
 */
function validTimeZone(env: string | undefined, fromFile: string | undefined, file: string): string | undefined {
  const [value, setting] = env !== undefined ? [env, 'OKTELL_TZ'] : [fromFile, `${file}: timeZone`];
  if (value === undefined) return undefined;
  const problem = timeZoneProblem(value, `${setting}="${value}"`);
  if (problem) throw new ConfigError(problem);
  return value;
}

/** OKTELL_BODY_LIMIT, else the file's `bodyLimit`, else 5 MB; an error names the one that is wrong. */
function bodyLimit(env: string | undefined, fromFile: string | number | undefined, file: string): number {
  if (env !== undefined) return parseSize(env, 'OKTELL_BODY_LIMIT');
  if (fromFile !== undefined) return parseSize(fromFile, `${file}: bodyLimit`);
  return parseSize('5mb');
}

/**
 * The body budget and one login's share of it: `{ bodyBudgetBytes, bodyBudgetPerLoginBytes }`, each left out for its
 * default. The share is at least the body limit (else a request of the largest size allowed would always be refused)
 * and at most the budget.
 */
function bodyBudgets(env: Env, fc: ConfigFile, at: (key: string) => string): { bodyBudgetBytes?: number; bodyBudgetPerLoginBytes?: number } {
  const limit = bodyLimit(envSetting(env, 'OKTELL_BODY_LIMIT'), fc.bodyLimit, at('bodyLimit'));
  const budget = bodyBudget(envSetting(env, 'OKTELL_BODY_BUDGET'), fc.bodyBudget, at('bodyBudget'), limit);
  return { ...budget, ...bodyBudgetPerLogin(envSetting(env, 'OKTELL_BODY_BUDGET_PER_LOGIN'), fc.bodyBudgetPerLogin, at('bodyBudgetPerLogin'), limit, budget.bodyBudgetBytes) };
}

/** `{ bodyBudgetPerLoginBytes }` from OKTELL_BODY_BUDGET_PER_LOGIN or `bodyBudgetPerLogin:`, `{}` for the default. */
function bodyBudgetPerLogin(env: string | undefined, fromFile: string | number | undefined, file: string, limit: number, budget: number | undefined): { bodyBudgetPerLoginBytes?: number } {
  const setting = env !== undefined ? 'OKTELL_BODY_BUDGET_PER_LOGIN' : fromFile !== undefined ? `${file}: bodyBudgetPerLogin` : undefined;
  if (setting === undefined) return {};
  const bytes = parseSize(setting === 'OKTELL_BODY_BUDGET_PER_LOGIN' ? env! : fromFile!, setting);
  if (bytes < limit) {
    throw new ConfigError(`${setting} (${bytes} bytes) is below the body limit (${limit} bytes): one request of the largest size allowed would always be refused; set it to at least ${limit} bytes, or lower the body limit (OKTELL_BODY_LIMIT / bodyLimit)`);
  }
  const all = budget ?? defaultBodyBudget(limit);
  if (bytes > all) {
    throw new ConfigError(`${setting} (${bytes} bytes) is above the body budget (${all} bytes${budget === undefined ? ', the default' : ''}) it is a share of: set it to at most ${all} bytes (the whole budget: no share), or raise the budget (OKTELL_BODY_BUDGET / bodyBudget)`);
  }
  return { bodyBudgetPerLoginBytes: bytes };
}

/** `{ bodyBudgetBytes }` from OKTELL_BODY_BUDGET or `bodyBudget:` (not below the body limit), `{}` for the default. */
function bodyBudget(env: string | undefined, fromFile: string | number | undefined, file: string, limit: number): { bodyBudgetBytes?: number } {
  const setting = env !== undefined ? 'OKTELL_BODY_BUDGET' : fromFile !== undefined ? `${file}: bodyBudget` : undefined;
  if (setting === undefined) return {};
  const bytes = parseSize(setting === 'OKTELL_BODY_BUDGET' ? env! : fromFile!, setting);
  if (bytes < limit) throw new ConfigError(`${setting} (${bytes} bytes) is below the body limit (${limit} bytes): one request of the largest size allowed would always be refused`);
  return { bodyBudgetBytes: bytes };
}

/** OKTELL_RUN_RECORD_BUDGET, else the file's `runRecordBudget`, else 64 KiB; not below 16 KiB. */
function runRecordBudget(env: string | undefined, fromFile: string | number | undefined, file: string): number {
  const setting = env !== undefined ? RUN_RECORD_BUDGET_SETTING : fromFile !== undefined ? `${file}: runRecordBudget` : undefined;
  if (setting === undefined) return DEFAULT_RUN_RECORD_BYTES;
  const bytes = parseSize(setting === RUN_RECORD_BUDGET_SETTING ? env! : fromFile!, setting);
  if (bytes < MIN_RUN_RECORD_BYTES) throw new ConfigError(`${setting} (${bytes} bytes) is below ${MIN_RUN_RECORD_BYTES} bytes (16kb): a hook run's cut parameters alone may take that much`);
  return bytes;
}

/** A number of days (positive, fractions allowed) from the named setting, undefined when unset. */
function retentionDays(env: Env, setting: string): number | undefined {
  const v = envSetting(env, setting);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`${setting}="${v}" must be a positive number of days (e.g. 30)`);
  return n;
}

/** `{ deadLetterRetentionMs }` when dead letters have a retention of their own, `{}` when they are kept until replayed. */
const deadLetterRetention = (days: number | undefined): { deadLetterRetentionMs?: number } => (days === undefined ? {} : { deadLetterRetentionMs: days * 86_400_000 });

/** `{ webhookMaxAgeMs }` from minutes (the environment wins over the file), `{}` when off. */
function webhookMaxAge(env: string | undefined, file: number | undefined): { webhookMaxAgeMs?: number } {
  if (env !== undefined) {
    const n = Number(env);
    if (!Number.isFinite(n) || n < 0) throw new ConfigError(`BPIUM_WEBHOOK_MAX_AGE_MINUTES="${env}" must be a number of minutes (0 = off)`);
    return n > 0 ? { webhookMaxAgeMs: n * 60_000 } : {};
  }
  return file !== undefined ? { webhookMaxAgeMs: file * 60_000 } : {};
}

/** The scenario the dead-letter catch-all runs when none is set: used only when the scenarios folder holds it. */
export const DEFAULT_DEAD_LETTER_SCENARIO = 'DeadLetter';

/**
 * `{ deadLetter }`: the variable, else the file's key, else DeadLetter when the scenarios folder has that file; `off`
 * (any case) turns the catch-all off, the default too. A name set but not loaded is warned of at the start and by
 * `validate` (startup-warnings.ts), not refused: the folder is watched, and the jobs it would start wait in the queue.
 */
function deadLetterScenario(fromEnv: string | undefined, fromFile: string | undefined, fileAt: string, scenariosDir: string): Pick<ServerConfig, 'deadLetter' | 'deadLetterDefault'> {
  const given = fromEnv?.trim() || fromFile?.trim();
  if (given) {
    if (given.toLowerCase() === 'off') return {};
    return { deadLetter: { scenario: given, setAt: fromEnv?.trim() ? 'OKTELL_DEAD_LETTER_SCENARIO' : fileAt } };
  }
  // The start's view; the server follows the folder at each reload of the scenarios after it (deadLetterDefault).
  return { deadLetterDefault: true, ...(deadLetterInFolder(scenariosDir) ? { deadLetter: { scenario: DEFAULT_DEAD_LETTER_SCENARIO } } : {}) };
}

/** Whether the scenarios folder holds the default catch-all, DeadLetter (a file of that name, whether or not it loads). */
export function deadLetterInFolder(scenariosDir: string): boolean {
  return scenarioNamesOnDisk(scenariosDir)?.has(DEFAULT_DEAD_LETTER_SCENARIO) === true;
}

/** OKTELL_MAX_EFFECTS, the per-run cap on effects (also read by `oktell-emu run`); undefined when unset. */
export function maxEffectsFromEnv(env: Env): number | undefined {
  return optionalCount('n', env, 'OKTELL_MAX_EFFECTS', 1).n;
}

/** OKTELL_REGEX_BUDGET_MS, the time a run's regex extractions may take in all (also read by `oktell-emu test`); undefined when unset. */
export function regexBudgetFromEnv(env: Env): number | undefined {
  return optionalCount('ms', env, 'OKTELL_REGEX_BUDGET_MS', 1).ms;
}

/**
 * OKTELL_SUBSTR_BASE, the position SubStr calls the first character (also read by `oktell-emu run` and `test`);
 * undefined when unset. Anything but 0 or 1 stops the start: a base of 2 is no one's convention.
 */
export function substrBaseFromEnv(env: Env): 0 | 1 | undefined {
  const v = envSetting(env, 'OKTELL_SUBSTR_BASE');
  if (v === undefined) return undefined;
  const t = v.trim();
  if (t === '0' || t === '1') return Number(t) as 0 | 1;
  throw new ConfigError(`OKTELL_SUBSTR_BASE="${v}" must be 0 (SubStr counts the first character as 0) or 1 (as 1)`);
}

export type HookHead = 'refuse' | 'run';
export type SyncTimeout = 'continue' | 'stop';

/**
 * An environment setting that takes one of two words (any case, spaces around ignored), undefined when unset; any
 * other value stops the start with both words and what each does.
 */
function envChoice<T extends string>(env: Env, name: string, choices: readonly [[T, string], [T, string]]): T | undefined {
  const v = envSetting(env, name);
  if (v === undefined) return undefined;
  const t = v.trim().toLowerCase();
  const found = choices.find(([word]) => word === t);
  if (found) return found[0];
  throw new ConfigError(`${name}="${v}" must be ${choices.map(([word, what]) => `${word} (${what})`).join(' or ')}`);
}

/**
 * `OKTELL_WEBAPI_FALLBACK_CHARSET` over the file's `webApiFallbackCharset:`, checked: a label TextDecoder knows for a
 * charset in which a form's `&`, `=` and `%` are ASCII, and not UTF-8 itself (the fallback is for values that are not).
 */
function fallbackCharset(fromEnv: string | undefined, fromFile: string | undefined, fileAt: string): { webApiFallbackCharset?: string } {
  const label = (fromEnv ?? fromFile)?.trim();
  if (label === undefined || label === '') return {};
  const name = fromEnv !== undefined ? `OKTELL_WEBAPI_FALLBACK_CHARSET="${fromEnv}"` : `${fileAt}: webApiFallbackCharset "${fromFile}"`;
  if (!formCharset(label.toLowerCase())) throw new ConfigError(`${name} is not a charset a form can be read in: give a label such as windows-1251, koi8-r or iso-8859-5`);
  if (isUtf8Label(label.toLowerCase())) throw new ConfigError(`${name} names UTF-8, which every value is read in first: give the charset to read the values that are not UTF-8 in, such as windows-1251, or leave it unset to refuse them`);
  return { webApiFallbackCharset: label.toLowerCase() };
}

const syncTimeoutSetting = (env: Env): SyncTimeout | undefined =>
  envChoice(env, 'OKTELL_SYNC_TIMEOUT', [
    ['continue', 'the default: a synchronous run goes on to its end after its caller was answered startresult 2'],
    ['stop', 'the run stops before its next block once its caller was answered startresult 2'],
  ]);

const hookHead = (env: Env): HookHead | undefined =>
  envChoice(env, 'OKTELL_HOOK_HEAD', [
    ['refuse', 'the default: a HEAD gets 405 and the hook scenario does not run'],
    ['run', 'the hook scenario runs for a HEAD as for any method'],
  ]);

const traceKept = (env: Env): TraceKept | undefined =>
  envChoice(env, TRACE_SETTING, [
    ['all', 'the default: every run keeps its trace'],
    ['failed', 'a completed run is stored without its trace steps; a failed run keeps them'],
  ]);

const heapSetting = (env: Env): HeapSetting | undefined =>
  envChoice(env, 'OKTELL_HEAP', [
    ['compact', 'the default: heaps kept near their live size'],
    ['v8', "V8's own sizing"],
  ]);

/** An on/off environment setting (`1`/`0`, `true`/`false`, `on`/`off`), undefined when unset. */
function onOff(env: Env, name: string): boolean | undefined {
  const v = envSetting(env, name);
  if (v === undefined) return undefined;
  if (/^(1|true|on|yes)$/i.test(v.trim())) return true;
  if (/^(0|false|off|no)$/i.test(v.trim())) return false;
  throw new ConfigError(`${name}="${v}" must be on or off (1/0, true/false)`);
}

/** `{ [key]: n }` for a whole-number environment setting from `min` to `max`, `{}` when unset. */
function optionalCount<K extends string>(key: K, env: Env, name: string, min: number, max = Infinity): { [k in K]?: number } {
  const v = envSetting(env, name);
  if (v === undefined) return {};
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name}="${v}" must be a whole number, ${max === Infinity ? `at least ${min}` : `from ${min} to ${max}`}`);
  }
  return { [key]: n } as { [k in K]?: number };
}

/** The longest OKTELL_LOG_REPEATS_MS: an hour-long silence about an outage still going on is long enough. */
export const MAX_LOG_REPEATS_MS = 3_600_000;

/** OKTELL_LOG_REPEATS_MS: 0 (no folding) or a second to an hour, so that a typo cannot write a summary a millisecond. */
function logRepeatsMs(env: Env): number {
  const { ms } = optionalCount('ms', env, 'OKTELL_LOG_REPEATS_MS', 0, MAX_LOG_REPEATS_MS);
  if (ms !== undefined && ms > 0 && ms < 1000) throw new ConfigError(`OKTELL_LOG_REPEATS_MS="${envSetting(env, 'OKTELL_LOG_REPEATS_MS')}" must be 0 (log every failure of an outage on its own line) or from 1000 to ${MAX_LOG_REPEATS_MS} milliseconds`);
  return ms ?? DEFAULT_LOG_REPEATS_MS;
}

/** OKTELL_CLOCK_CHECK_MS: 0 (at the start only) or at least a second, so a typo cannot query the database in a tight loop. */
function clockCheckMs(env: Env): number {
  const { ms } = optionalCount('ms', env, 'OKTELL_CLOCK_CHECK_MS', 0);
  if (ms !== undefined && ms > 0 && ms < 1000) throw new ConfigError(`OKTELL_CLOCK_CHECK_MS="${envSetting(env, 'OKTELL_CLOCK_CHECK_MS')}" must be 0 (measure the clock at the start only) or at least 1000 milliseconds`);
  return ms ?? DEFAULT_CLOCK_CHECK_MS;
}

function leaseMs(env: Env): number | undefined {
  const v = envSetting(env, 'OKTELL_LEASE_MS');
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < MIN_LEASE_MS) throw new ConfigError(`OKTELL_LEASE_MS="${v}" must be a whole number of milliseconds, at least ${MIN_LEASE_MS}`);
  return n;
}

/**
 * The file's `store:` as a URL: a string as it is; `{ url, passwordEnv | passwordFile }` with that password put in
 * (the one the URL may carry is replaced), so the secret can stay out of the file as for `databases:`.
 */
function storeFromFile(store: ConfigFile['store'], file: string, env: Env, cwd: string): string | undefined {
  if (store === undefined || typeof store === 'string') return store;
  if (store.passwordEnv !== undefined && store.passwordFile !== undefined) throw new ConfigError(`${file}: store: give passwordEnv or passwordFile, not both`);
  if ((store.passwordEnv !== undefined || store.passwordFile !== undefined) && !/^postgres(ql)?:\/\//i.test(store.url.trim())) {
    throw new ConfigError(`${file}: store: a password applies to a postgres:// URL only`);
  }
  storeSetting(store.url);
  try {
    return urlWithSecretPassword(store.url.trim(), store, `${file}: store`, env, cwd);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
}

/** The value may hold a password: error messages never repeat it. */
export function storeSetting(v: string | undefined): StoreSetting {
  const value = v?.trim() ?? '';
  if (value === '' || value.toLowerCase() === 'sqlite') return { kind: 'sqlite' };
  if (/^postgres(ql)?:\/\//i.test(value)) {
    try {
      new URL(value);
    } catch {
      throw new ConfigError('OKTELL_STORE / store: the postgres:// URL cannot be parsed (characters like @ : / in the password must be percent-encoded)');
    }
    const schema = pgSchemaOf(value);
    const problem = schema !== undefined ? pgSchemaProblem(schema) : undefined;
    if (problem) throw new ConfigError(`OKTELL_STORE / store: ?schema=: ${problem}`);
    return { kind: 'postgres', url: value };
  }
  throw new ConfigError('OKTELL_STORE / store must be "sqlite" or a postgres://user:password@host:5432/database URL');
}

function readSecretFile(path: string, forPath: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (e) {
    throw new ConfigError(`webhook secret for ${forPath}: cannot read ${path}: ${(e as Error).message}`);
  }
}

/** The secret that protects a hook request, and the route it belongs to (the dedup scope of its deliveries). */
export interface HookSecret {
  secret: string;
  /**
   * The configured secret path the request matched (the request path itself for an exact entry), or `*` for the
   * secret of every path: one scope for all its paths, so a signed delivery resent to `/Bpium/NewTask/` or
   * `/x/Bpium/NewTask` (which a hook scenario's Contains still matches) is the same delivery.
   */
  route: string;
}

/**
 * The secret for a hook request: an exact path entry; else the longest configured path that the address the
 * scenario sees (path and query, as sent and percent-decoded) contains, ignoring case; else '*'. Hook scenarios match
 * addresses with Contains, so `/x/Bpium/NewTask/`, `/x?/Bpium/NewTask` and `/any?next=%2FBpium%2FNewTask` all reach
 * the scenario of `/Bpium/NewTask` and must not skip its signature check. Case is folded as a scenario's Upper and
 * Lower can fold it (`ı` and `ſ` upper-case to I and S, the Kelvin sign lower-cases to k), and the address is decoded
 * as often as it still changes (`%252F`: a scenario may call UrlDecode twice).
 */
export function hookSecret(secrets: Readonly<Record<string, string>>, path: string, address: string): HookSecret | undefined {
  const exact = secrets[path];
  if (exact !== undefined) return { secret: exact, route: path };
  const seen = decodedForms(address).map(foldCase);
  let best: string | undefined;
  for (const p of Object.keys(secrets)) {
    const folded = foldCase(p);
    if (p !== '*' && p.length > 1 && seen.some((s) => s.includes(folded)) && (best === undefined || p.length > best.length)) best = p;
  }
  if (best !== undefined) return { secret: secrets[best]!, route: best };
  const any = secrets['*'];
  return any !== undefined ? { secret: any, route: '*' } : undefined;
}

/**
 * Text with its case folded so that whatever a scenario's Upper, Lower or both make of it folds the same:
 * upper-casing first maps `ı` to I, `ſ` to S and `ﬆ` to ST, which lower-casing alone leaves apart from i, s and st.
 */
function foldCase(text: string): string {
  return text.toUpperCase().toLowerCase();
}

/** Times an address is percent-decoded at most: each round undoes one layer of `%25`. */
const DECODE_ROUNDS = 16;

/** The address as sent and each percent-decoding of it that differs, until it stops changing or does not decode. */
function decodedForms(address: string): string[] {
  const forms = [address];
  for (let i = 0; i < DECODE_ROUNDS; i++) {
    let next: string;
    try {
      next = decodeURIComponent(forms[forms.length - 1]!);
    } catch {
      // A malformed escape: a scenario's UrlDecode fails on it too, so the last form is all it can see.
      break;
    }
    if (next === forms[forms.length - 1]) break;
    forms.push(next);
  }
  return forms;
}
