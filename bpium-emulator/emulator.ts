// Starts the local Bpium emulator: SQLite store seeded once from YAML, the REST API over HTTP, webhooks, test hooks.
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { envSetting, type Env } from '../engine/env.js';
import type { LoggerPort } from '../engine/ports.js';
import { EmulatorAuth } from './auth.js';
import { type BpiumFault, type EmulatorRequest, type HookEvent, type WebhookDelivery, type WebhookSubscription } from './model.js';
import { createEmulatorApp } from './routes.js';
import { applySeed, defaultSeedFile, readSeed } from './seed.js';
import { EmulatorStore } from './store.js';
import { readNewSubscription } from './subscriptions.js';
import { WebhookDispatcher } from './webhooks.js';
import { DEFAULT_EMULATOR_PORT } from './default-port.js';

export type { BpiumFault, EmulatorRequest, WebhookDelivery, WebhookSubscription, HookEvent } from './model.js';

/** Demo credentials of the emulator's single API account (the e-mail of employee "1" in the seed). */
export const DEMO_LOGIN = 'demo@example.com';
export const DEMO_PASSWORD = 'demo';

/**
 * The emulator's account from the environment, read as the Bpium client reads it: BPIUM_LOGIN trimmed (the client
 * signs in with it so), BPIUM_PASSWORD as given; either blank (spaces too) is the demo account's. What `serve`'s
 * embedded emulator, `bpium-emulator` and `demo` use, so that the three and the client agree.
 */
export function emulatorAccount(env: Env): { login: string; password: string } {
  return { login: envSetting(env, 'BPIUM_LOGIN')?.trim() ?? DEMO_LOGIN, password: envSetting(env, 'BPIUM_PASSWORD') ?? DEMO_PASSWORD };
}
export { DEFAULT_EMULATOR_PORT } from './default-port.js';

export interface BpiumEmulatorOptions {
  /** Default 4056; 0 picks a free port (tests). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The SQLite file is `<dataDir>/bpium-emulator.sqlite`. */
  dataDir: string;
  /** Default demo@example.com / demo. */
  login?: string;
  password?: string;
  /** YAML seed; default `bpium-emulator/seed.yaml` in the source tree. Used only when the file is new. */
  seedFile?: string;
  /**
   * The Oktell server: at every start, the seed's subscriptions written as a path post to this URL's origin, with its
   * credentials (allowed in the URL) and secret, each to its own path.
   */
  webhookTarget?: { url: string; secret: string };
  /** Default off; when on, answers 429 past `requests` per `perMs` for the account, like Bpium cloud. */
  rateLimit?: { requests: number; perMs: number } | false;
  /** Test aid: faults applied to the next matching requests (see BpiumFault). */
  faults?: BpiumFault[];
  /** Timeout of one webhook POST; default 10 000 ms. */
  webhookTimeoutMs?: number;
  logger?: LoggerPort;
}

export interface BpiumEmulator {
  /** API base, e.g. `http://127.0.0.1:4056/api/v1`. */
  url: string;
  port: number;
  login: string;
  password: string;
  dataFile: string;
  /** Waits for deliveries in flight, stops listening, closes the database. */
  close(): Promise<void>;
  /** Outcomes of webhook POSTs so far, oldest first (persisted). */
  deliveries(filter?: { recordId?: string; catalogId?: string; hookId?: string }): WebhookDelivery[];
  /** Resolves when all webhook deliveries started so far have finished. */
  settled(): Promise<void>;
  /**
   * Where the webhook deliveries still waiting for an answer post (`http://host:port/path`, no credentials or query):
   * what `close` waits for, each up to its timeout.
   */
  inFlight(): string[];
  webhooks(): WebhookSubscription[];
  /** Points the seed's subscriptions at the server `url` (credentials allowed) signed with `secret`, as `webhookTarget` does at start. */
  retargetSeedWebhooks(url: string, secret: string): void;
  /** Adds a subscription, as `POST /api/v1/-/webhooks` does; throws BadValueError when it is invalid. */
  addWebhook(sub: { catalogId: string; events: HookEvent[]; url: string; secret?: string; trackFields?: string[] }): string;
  /** Requests answered so far (last 1000): method, path, how they authenticated, status. */
  requests(): EmulatorRequest[];
  clearRequests(): void;
  /** Test aid: the next matching requests answer with the fault. */
  injectFaults(...faults: BpiumFault[]): void;
  /** Test aid: removes faults not used up yet. */
  clearFaults(): void;
  /** Test aid: forgets all session cookies, as a restart of Bpium would. */
  dropSessions(): void;
}

/**
 * Starts the emulator and resolves once it listens.
 * @example
 * const bpium = await startBpiumEmulator({ dataDir: './var', port: 0 });
 * // bpium.url → 'http://127.0.0.1:54321/api/v1'; log in with demo@example.com / demo
 */
export async function startBpiumEmulator(opts: BpiumEmulatorOptions): Promise<BpiumEmulator> {
  mkdirSync(opts.dataDir, { recursive: true });
  const dataFile = join(opts.dataDir, 'bpium-emulator.sqlite');
  const store = new EmulatorStore(dataFile);
  let server: Server | undefined;
  try {
    if (!store.isSeeded()) applySeed(store, readSeed(opts.seedFile ?? defaultSeedFile()));
    if (opts.webhookTarget) store.retargetSeedHooks(opts.webhookTarget.url, opts.webhookTarget.secret);
    const login = opts.login ?? DEMO_LOGIN;
    const password = opts.password ?? DEMO_PASSWORD;
    const auth = new EmulatorAuth(login, password);
    const hooks = new WebhookDispatcher(store, { timeoutMs: opts.webhookTimeoutMs ?? 10_000, logger: opts.logger });
    const faults: BpiumFault[] = [...(opts.faults ?? [])].map((f) => ({ ...f }));
    const requestLog: EmulatorRequest[] = [];
    const app = createEmulatorApp({ store, auth, hooks, faults, requestLog, rateLimit: opts.rateLimit ?? false, logger: opts.logger });

    const host = opts.host ?? '127.0.0.1';
    server = createServer(app);
    const listening = server;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(opts.port ?? DEFAULT_EMULATOR_PORT, host, () => {
        listening.off('error', reject);
        resolve();
      });
    });
    const port = (listening.address() as AddressInfo).port;
    const shownHost = host.includes(':') ? `[${host}]` : host;
    let closed = false;

    return {
      url: `http://${shownHost}:${port}/api/v1`,
      port,
      login,
      password,
      dataFile,
      async close() {
        if (closed) return;
        closed = true;
        await new Promise<void>((resolve) => {
          listening.close(() => resolve());
          listening.closeAllConnections();
        });
        await hooks.settled();
        store.close();
      },
      deliveries: (filter) => store.deliveries(filter),
      settled: () => hooks.settled(),
      inFlight: () => hooks.inFlight(),
      webhooks: () => store.hooks(),
      retargetSeedWebhooks: (url, secret) => store.retargetSeedHooks(url, secret),
      addWebhook(sub) {
        return store.insertHook({ ...readNewSubscription(store, sub), fromSeed: false });
      },
      requests: () => [...requestLog],
      clearRequests: () => void requestLog.splice(0),
      injectFaults: (...more) => void faults.push(...more.map((f) => ({ ...f }))),
      clearFaults: () => void faults.splice(0),
      dropSessions: () => auth.dropSessions(),
    };
  } catch (err) {
    server?.close();
    store.close();
    throw err;
  }
}
