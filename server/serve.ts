// Starts the emulated Oktell web server with everything it needs: store, scenarios, Bpium, mail, workers.
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import { bpiumClientOptionsFromEnv, createBpiumClient, type BpiumClient, type BpiumClientOptions } from '../adapters/bpium/client.js';
import { createMailerFromEnv } from '../adapters/mail/index.js';
import { systemClock, type LoggerPort } from '../engine/index.js';
import { createApp } from './app.js';
import type { OktellUser } from './auth.js';
import { startBpiumEmulator, type BpiumEmulator } from '../bpium-emulator/emulator.js';
import { loadServerConfig, type ConfigFlags, type ServerConfig } from './config.js';
import { generatedUser, persistentSecret } from './credentials.js';
import { Metrics } from './metrics.js';
import { sortableIds } from './store/sortable-id.js';
import { createScenarioHost, type ScenarioHost } from './scenario-host.js';
import { openSqliteStore } from './store/sqlite.store.js';
import type { Store } from './store/store.port.js';
import { createThreadedWorkerPool } from './delivery-pool.js';
import { applyHeapSetting, deliveryThreadLimits } from './heap.js';
import { checkSqliteStore } from './store/sqlite-check.js';
import { createWorkerPool, type WorkerPool } from './worker-pool.js';

export interface RunningServer {
  url: string;
  port: number;
  config: ServerConfig;
  users: readonly OktellUser[];
  store: Store;
  host: ScenarioHost;
  workers: WorkerPool;
  metrics: Metrics;
  emulator?: BpiumEmulator;
  bpium?: BpiumClient;
  mail: { kind: 'smtp' | 'outbox'; describe: string };
  /** Stops taking requests, lets running jobs finish (or leaves them to be resumed), closes everything. */
  close(graceMs?: number): Promise<void>;
}

export interface StartOptions extends ConfigFlags {
  env?: NodeJS.ProcessEnv;
  logger?: LoggerPort & { flush?(): void };
  /** Start the embedded Bpium emulator when BPIUM_URL is unset (default true). */
  embeddedBpium?: boolean;
  /** Watch the scenarios folder for edits (default true). */
  watch?: boolean;
  /** Poll interval of the workers (tests lower it). */
  pollMs?: number;
}

export function createLogger(env: NodeJS.ProcessEnv = process.env): LoggerPort & { flush?(): void } {
  return pino({
    level: env.OKTELL_LOG_LEVEL ?? 'info',
    base: undefined,
    redact: { paths: ['password', '*.password', 'authorization', '*.authorization', 'headers.authorization', 'headers.cookie', 'cookie', 'secret', '*.secret'], censor: '[redacted]' },
  });
}

/** The levels `logger` writes (pino's isLevelEnabled; a logger without it writes all). */
function enabledLevels(logger: LoggerPort): Array<'debug' | 'info' | 'warn' | 'error'> {
  const check = (logger as { isLevelEnabled?: (l: string) => boolean }).isLevelEnabled;
  return (['debug', 'info', 'warn', 'error'] as const).filter((l) => (check ? check.call(logger, l) : true));
}

/**
 * Opens the configured store. SQLite: one process owns the file, so jobs a killed process left `running` are
 * requeued now. PostgreSQL: other live instances may be running jobs right now, so nothing is requeued here; a dead
 * instance's jobs go back to the queue when their leases expire.
 */
async function openStore(config: ServerConfig, logger: LoggerPort): Promise<Store> {
  const defaultMaxAttempts = config.workers.maxAttempts;
  const backoff = { initialMs: config.workers.baseDelayMs, factor: 3, maxMs: config.workers.maxDelayMs, jitter: 0.3 };
  if (config.store.kind === 'postgres') {
    // Loaded only when used: the pg driver costs a noticeable part of start-up.
    const { openPostgresStore, redactPostgresUrl } = await import('./store/postgres.store.js');
    const store = await openPostgresStore({ url: config.store.url, defaultMaxAttempts, backoff });
    logger.info({ store: redactPostgresUrl(config.store.url), leaseMs: config.workers.leaseMs }, 'store: PostgreSQL, shared with any other instance using it');
    return store;
  }
  await checkSqliteStore(join(config.dataDir, 'oktell.sqlite'), { timeoutMs: config.storeCheckMs, logger });
  const store = await openSqliteStore({ file: join(config.dataDir, 'oktell.sqlite'), defaultMaxAttempts, backoff, ...(config.storeMaxPages ? { maxPageCount: config.storeMaxPages } : {}) });
  const recovered = await store.recoverOrphans();
  if (recovered.requeued + recovered.dead + recovered.runsFailed) {
    logger.warn({ recovered }, `resumed ${recovered.requeued} job(s) left unfinished by the previous process (${recovered.dead} had no attempts left)`);
  }
  return store;
}

export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const env = opts.env ?? process.env;
  const base = loadServerConfig(opts, env);
  const logger = opts.logger ?? createLogger(env);
  const usersGenerated = base.users.length === 0;
  const users = usersGenerated ? [generatedUser(base.dataDir)] : base.users;
  const config: ServerConfig = { ...base, usersGenerated };

  mkdirSync(config.dataDir, { recursive: true });
  applyHeapSetting(config.heap);
  const store = await openStore(config, logger);

  const host = await createScenarioHost(config.scenariosDir, { timeZone: config.timeZone, logger, watch: opts.watch !== false });

  let emulator: BpiumEmulator | undefined;
  /** The client settings for the embedded emulator, once it listens (the delivery thread gets the same). */
  let embeddedBpium: BpiumClientOptions | undefined;
  let bpium: BpiumClient | undefined;
  const bpiumEnv = bpiumClientOptionsFromEnv(env);
  if (bpiumEnv) bpium = createBpiumClient({ ...bpiumEnv, logger });
  const embedEmulator = !bpiumEnv && opts.embeddedBpium !== false;
  let emulatorSecret: string | undefined;
  if (embedEmulator) {
    emulatorSecret = config.webhookSecrets['/Bpium/NewTask'] ?? config.webhookSecrets['*'] ?? persistentSecret(config.dataDir, 'bpium-webhook-secret');
    if (!config.webhookSecrets['/Bpium/NewTask'] && !config.webhookSecrets['*']) config.webhookSecrets['/Bpium/NewTask'] = emulatorSecret;
  }

  const mail = createMailerFromEnv(env, { dataDir: config.dataDir, logger });
  const ports: Parameters<typeof createApp>[0]['ports'] = {
    ...(bpium ? { bpium } : {}),
    mailer: mail.mailer,
    templates: host.templates,
    clock: systemClock,
    ids: sortableIds,
    logger,
    ...(env.MAIL_FROM ? { mailFrom: env.MAIL_FROM } : {}),
  };
  const metrics = new Metrics();
  const threadLimits = deliveryThreadLimits(config.heap);
  const workers: WorkerPool & { reload?(): void } = config.workers.thread
    ? createThreadedWorkerPool({
        store,
        logger,
        init: {
          env: { ...env },
          scenariosDir: config.scenariosDir,
          dataDir: config.dataDir,
          timeZone: config.timeZone,
          maxEffects: config.maxEffectsPerRun,
          concurrency: config.workers.concurrency,
          leaseMs: config.workers.leaseMs,
          ...(opts.pollMs ? { pollMs: opts.pollMs } : {}),
          ...(config.workers.burstInFlight !== undefined ? { burstInFlight: config.workers.burstInFlight } : {}),
          inFlightCell: metrics.inFlightCell,
          logLevels: enabledLevels(logger),
        },
        // The embedded emulator's address is known only once it listens, which is before the pool starts.
        bpium: () => embeddedBpium,
        onAttempt: (status, seconds) => metrics.run(status, seconds),
        ...(threadLimits ? { resourceLimits: threadLimits } : {}),
      })
    : createWorkerPool({
        store,
        host,
        ports,
        concurrency: config.workers.concurrency,
        leaseMs: config.workers.leaseMs,
        timeZone: config.timeZone,
        maxEffects: config.maxEffectsPerRun,
        logger,
        ...(opts.pollMs ? { pollMs: opts.pollMs } : {}),
        inFlight: () => metrics.inFlight,
        ...(config.workers.burstInFlight !== undefined ? { burstInFlight: config.workers.burstInFlight } : {}),
        onAttempt: (_job, result) => metrics.run(result.status, result.durationMs / 1000),
      });
  host.onReload(() => workers.reload?.());
  let accepting = true;
  const app = createApp({ config, store, host, ports, workers, metrics, logger, users: () => users, accepting: () => accepting });
  // A client that sends its headers and then stalls (or trickles its body) is answered 408 and cut off after the
  // request timeout; node checks the timeouts every connectionsCheckingInterval, so that follows the timeout.
  const requestTimeout = config.requestTimeoutMs;
  const timeouts = { requestTimeout, headersTimeout: Math.min(20_000, requestTimeout), connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(requestTimeout / 4))) };
  const server: Server = config.tls
    ? createHttpsServer({ ...timeouts, cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) }, app)
    : createHttpServer(timeouts, app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const scheme = config.tls ? 'https' : 'http';
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `${scheme}://${shownHost}:${port}`;
  if (embedEmulator) {
    // The emulator's seed subscription posts to this server's /Bpium/NewTask with its credentials and secret, so the
    // emulator starts once this server's port is known.
    const target = new URL('/Bpium/NewTask', `${scheme}://127.0.0.1:${port}`);
    target.username = encodeURIComponent(users[0]!.login);
    target.password = encodeURIComponent(users[0]!.password);
    try {
      emulator = await startBpiumEmulator({
        port: config.bpiumEmulatorPort,
        host: '127.0.0.1',
        dataDir: config.dataDir,
        webhookTarget: { url: target.toString(), secret: emulatorSecret! },
        ...(env.BPIUM_LOGIN ? { login: env.BPIUM_LOGIN } : {}),
        ...(env.BPIUM_PASSWORD ? { password: env.BPIUM_PASSWORD } : {}),
        logger,
      });
    } catch (e) {
      server.close();
      await store.close();
      throw e;
    }
    // The BPIUM_* tuning knobs (timeout, retries, users cache) apply to the emulator too; its rate limiter is off.
    embeddedBpium = { ...bpiumClientOptionsFromEnv({ ...env, BPIUM_URL: emulator.url, BPIUM_LOGIN: emulator.login, BPIUM_PASSWORD: emulator.password })!, rateLimit: false };
    bpium = createBpiumClient({ ...embeddedBpium, logger });
    ports.bpium = bpium;
  }
  try {
    await workers.start();
  } catch (e) {
    server.close();
    await emulator?.close();
    await store.close();
    throw e;
  }

  const prune = async () => {
    try {
      const r = await store.prune({ olderThanMs: config.retentionMs });
      if (r.inbox + r.runs + r.jobs) logger.info({ pruned: r }, 'retention: old entries removed');
    } catch (e) {
      logger.warn({ err: e }, 'retention: prune failed');
    }
  };
  void prune();
  const pruneTimer = setInterval(prune, 3_600_000);
  pruneTimer.unref();

  let closed: Promise<void> | undefined;
  return {
    url,
    port,
    config,
    users,
    store,
    host,
    workers,
    metrics,
    ...(emulator ? { emulator } : {}),
    ...(bpium ? { bpium } : {}),
    mail: { kind: mail.kind, describe: mail.describe },
    close(graceMs = 10_000) {
      closed ??= (async () => {
        accepting = false;
        clearInterval(pruneTimer);
        const serverClosed = new Promise<void>((r) => server.close(() => r()));
        server.closeIdleConnections();
        const { unfinished } = await workers.stop(graceMs);
        if (unfinished) {
          const when = config.store.kind === 'postgres' ? 'another instance takes them when their lease expires' : 'they resume at the next start';
          logger.warn({ unfinished }, `${unfinished} job(s) still running at shutdown; ${when}`);
        }
        server.closeAllConnections();
        await serverClosed;
        host.close();
        bpium?.close();
        await emulator?.close();
        await mail.mailer.close();
        await store.close();
      })();
      return closed;
    },
  };
}
