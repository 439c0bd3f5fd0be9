// The one place that turns configuration into the ports a run uses: Bpium, mail, databases, web requests, templates,
// clock, ids, logger.
// The server, its delivery thread and the CLI all call `buildPorts`; a new effect block adds its port here once.
import type { BpiumPort, ClockPort, EnginePorts, IdPort, LoggerPort, OutageLogPort, TemplatePort } from '../engine/index.js';
import { systemClock } from '../engine/index.js';
import { envSetting, type Env } from '../engine/env.js';
import { bpiumClientOptionsFromEnv, createBpiumClient, type BpiumClient, type BpiumClientOptions } from './bpium/client.js';
import { createDatabasePort, databaseSettings, type DatabaseSettings } from './db/index.js';
import { checkMailSettings, createMailerFromEnv } from './mail/index.js';
import { createWebClient, webClientOptionsFromEnv, type WebClientOptions } from './web/client.js';
import { createFixtureWeb, type HttpFixture } from './fixtures/http-fixtures.adapter.js';

/** Where Bpium is: BPIUM_URL's settings (`env`), explicit client settings (the embedded emulator), fixtures, or none. */
export type BpiumSource =
  | { kind: 'env' }
  | { kind: 'client'; options: Omit<BpiumClientOptions, 'logger' | 'onCall'> }
  | { kind: 'port'; port: BpiumPort & { close?(): void } }
  | { kind: 'none'; /** Why there is none, added to a Bpium block's R_ADAPTER_MISSING error. */ hint?: string };

export interface PortSettings {
  /** The process environment: BPIUM_*, SMTP_URL, SMTP_MAX_CONNECTIONS, MAIL_FROM, WEB_REQUEST_*. */
  env: Env;
  /** The data folder (the outbox lives in it when SMTP_URL is unset). */
  dataDir: string;
  templates: TemplatePort;
  ids: IdPort;
  /** Default: BPIUM_URL from `env`. */
  bpium?: BpiumSource;
  /** WebRequest settings of `oktell.config.yaml` (`webRequest:`); WEB_REQUEST_* in `env` win over them. */
  webRequest?: WebRequestSettings;
  /** Canned answers for WebRequest blocks (`--http-fixtures`); requests none matches go to the real client. */
  httpFixtures?: readonly HttpFixture[];
  /** No mailer at all (a dry run: the SendMail block records the letter instead). */
  noMail?: boolean;
  /** Database connections (`databases:` of the config); default `main` in the data folder and OKTELL_DB_* from `env`. */
  databases?: DatabaseSettings;
  /** A dry run: every database statement runs in a transaction that `close()` rolls back. */
  rollBackDatabases?: boolean;
  clock?: ClockPort;
  logger?: LoggerPort;
  /**
   * Where SMTP, Bpium, the WebRequest hosts and the PostgreSQL connections report an outage's failures and its end, to fold their repeats in the log
   * (server/log-folding.ts); without it each failure is logged on its own.
   */
  outages?: OutageLogPort;
  /** Milliseconds a run's Parser regex extractions may search in all (the config's `regexBudgetMs`); default: the engine's. */
  regexBudgetMs?: number;
  /** The position SubStr calls the first character (the config's `substrBase`); default: the engine's 0. */
  substrBase?: 0 | 1;
}

/** The WebRequest settings a configuration file may give (the rest of the client's tuning is env only). */
export type WebRequestSettings = Pick<WebClientOptions, 'allowHosts' | 'maxResponseBytes'>;

/** The web client's settings: the file's, then WEB_REQUEST_* from the environment over them. Throws on a bad env value. */
export function webRequestOptions(file: WebRequestSettings | undefined, env: Env): WebClientOptions {
  return { ...file, ...webClientOptionsFromEnv(env) };
}

/** The ports every run shares; the async starter and the effect journal belong to one run or job and are added there. */
export type SharedPorts = Omit<EnginePorts, 'asyncStarter' | 'journal'>;

export interface BuiltPorts {
  ports: SharedPorts;
  /** The Bpium client when one was made from settings (for its stats and the start banner). */
  bpiumClient?: BpiumClient;
  /** How letters leave, safe to log (no password). */
  mail: { kind: 'smtp' | 'outbox' | 'none'; describe: string };
  /** Closes the connections the ports keep (Bpium keep-alive sockets, the SMTP pool, databases; a dry run's roll back). */
  close(): Promise<void>;
  /**
   * What `close` has begun and not finished: the database connections still closing (a database that stopped
   * answering), named as `"crm" (postgres://oktell@db.example:5432/crm)`, never with a password. The other ports close
   * without waiting for a peer.
   */
  unclosed(): string[];
}

/**
 * Builds the shared ports from settings. Throws the adapters' configuration errors (a malformed BPIUM_URL or
 * SMTP_URL) so a bad setting stops start-up with its message.
 *
 * @example
 * const built = buildPorts({ env: process.env, dataDir: './var', templates, ids: randomIds, logger });
 * await runScenario(library, 'BpiumNewTask', { params, ports: { ...built.ports, asyncStarter } });
 * await built.close();
 */
export function buildPorts(s: PortSettings): BuiltPorts {
  const logger = s.logger;
  const source = s.bpium ?? { kind: 'env' };
  let bpium: (BpiumPort & { close?(): void }) | undefined;
  let bpiumClient: BpiumClient | undefined;
  if (source.kind === 'port') bpium = source.port;
  else if (source.kind !== 'none') {
    const options = source.kind === 'client' ? source.options : bpiumClientOptionsFromEnv(s.env);
    if (options) bpium = bpiumClient = createBpiumClient({ ...options, ...(logger ? { logger } : {}), ...(s.outages ? { outages: s.outages } : {}) });
  }
  const mail = s.noMail ? undefined : createMailerFromEnv(s.env, { dataDir: s.dataDir, ...(logger ? { logger } : {}), ...(s.outages ? { outages: s.outages } : {}) });
  const mailFrom = envSetting(s.env, 'MAIL_FROM');
  const databases = createDatabasePort(s.databases ?? databaseSettings(undefined, s.env, s.dataDir, process.cwd()), { rollsBack: s.rollBackDatabases === true, ...(logger ? { logger } : {}), ...(s.outages ? { outages: s.outages } : {}) });
  // WebRequest blocks: always available (a dry run still performs GET/HEAD/OPTIONS and only records the others).
  const webClient = createWebClient({ ...webRequestOptions(s.webRequest, s.env), ...(logger ? { logger } : {}), ...(s.outages ? { outages: s.outages } : {}) });
  const web = s.httpFixtures ? createFixtureWeb(s.httpFixtures, webClient) : webClient;
  return {
    ports: {
      ...(bpium ? { bpium } : {}),
      ...(source.kind === 'none' && source.hint ? { bpiumHint: source.hint } : {}),
      ...(mail ? { mailer: mail.mailer } : {}),
      web,
      templates: s.templates,
      databases,
      clock: s.clock ?? systemClock,
      ids: s.ids,
      ...(logger ? { logger } : {}),
      ...(mailFrom ? { mailFrom } : {}),
      ...(s.regexBudgetMs !== undefined ? { regexBudgetMs: s.regexBudgetMs } : {}),
      ...(s.substrBase !== undefined ? { substrBase: s.substrBase } : {}),
    },
    ...(bpiumClient ? { bpiumClient } : {}),
    mail: mail ? { kind: mail.kind, describe: mail.describe } : { kind: 'none', describe: 'no mail (dry run)' },
    async close() {
      bpium?.close?.();
      webClient.close();
      await Promise.all([mail?.mailer.close(), databases.close()]);
    },
    unclosed: () => databases.unclosed(),
  };
}

/** Client settings for the embedded Bpium emulator: the BPIUM_* tuning knobs apply, the rate limiter is off. */
export function emulatorClientOptions(env: Env, emulator: { url: string; login: string; password: string }): Omit<BpiumClientOptions, 'logger' | 'onCall'> {
  return { ...bpiumClientOptionsFromEnv({ ...env, BPIUM_URL: emulator.url, BPIUM_LOGIN: emulator.login, BPIUM_PASSWORD: emulator.password })!, rateLimit: false };
}

/**
 * Throws the configuration error `buildPorts` (and, for `bpium: 'emulator'`, `emulatorClientOptions`) would throw for
 * these settings, without building anything: no outbox folder, no connection. A server checks its settings with it
 * before it makes its data folder, so a typo in SMTP_URL or BPIUM_URL leaves nothing behind.
 */
export function checkPortSettings(s: { env: Env; bpium: 'env' | 'emulator' | 'none'; webRequest?: WebRequestSettings }): void {
  if (s.bpium === 'env') bpiumClientOptionsFromEnv(s.env);
  // The emulator's address and login are the emulator's own; the BPIUM_* tuning knobs still apply and are checked.
  else if (s.bpium === 'emulator') emulatorClientOptions(s.env, { url: 'http://127.0.0.1', login: 'emulator', password: 'emulator' });
  checkMailSettings(s.env);
  webRequestOptions(s.webRequest, s.env);
}
