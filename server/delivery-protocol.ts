// The messages between the server's main thread and its delivery thread (see delivery-pool.ts).
import type { BpiumClientOptions } from '../adapters/bpium/client.js';
import type { PoolStore } from './worker-pool.js';

/** What the delivery thread is started with (structured-cloned into the thread). */
export interface DeliveryInit {
  env: Record<string, string | undefined>;
  scenariosDir: string;
  dataDir: string;
  timeZone: string;
  maxEffects: number;
  concurrency: number;
  leaseMs: number;
  pollMs?: number;
  burstInFlight?: number;
  /** Requests the main thread is answering right now (Metrics.inFlightCell). */
  inFlightCell: Int32Array;
  /** Bpium as the main thread sees it (the embedded emulator's address, or BPIUM_URL's settings); absent: none. */
  bpium?: Omit<BpiumClientOptions, 'logger' | 'onCall'>;
  /** Log levels the main thread's logger writes; the others are not even sent. */
  logLevels: Array<'debug' | 'info' | 'warn' | 'error'>;
}

/** The store methods the delivery thread calls on the main thread's store. */
export type StoreMethod = 'claimJobs' | 'heartbeat' | 'completeJob' | 'failJob' | 'enqueueJobs' | 'effects.get' | 'effects.put';

export type ToMain =
  | { t: 'ready' }
  | { t: 'call'; id: number; method: StoreMethod; args: unknown[] }
  | { t: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; obj: object; msg?: string }
  | { t: 'attempt'; status: string; seconds: number; running: number }
  | { t: 'stopped'; unfinished: number };

export type ToThread =
  | { t: 'result'; id: number; ok: true; value: unknown }
  | { t: 'result'; id: number; ok: false; error: SerializedError }
  | { t: 'wake' }
  | { t: 'reload' }
  | { t: 'stop'; graceMs: number };

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  retryAfterSeconds?: number;
}

export function serializeError(e: unknown): SerializedError {
  const err = e as { name?: unknown; message?: unknown; code?: unknown; retryAfterSeconds?: unknown };
  return {
    name: typeof err?.name === 'string' ? err.name : 'Error',
    message: typeof err?.message === 'string' ? err.message : String(e),
    ...(typeof err?.code === 'string' ? { code: err.code } : {}),
    ...(typeof err?.retryAfterSeconds === 'number' ? { retryAfterSeconds: err.retryAfterSeconds } : {}),
  };
}

/** Calls one store method by its protocol name. */
export function callStore(store: PoolStore, method: StoreMethod, args: unknown[]): Promise<unknown> {
  switch (method) {
    case 'effects.get':
      return store.effects.get(args[0] as string, args[1] as string);
    case 'effects.put':
      return store.effects.put(args[0] as string, args[1] as string, args[2] as never);
    default:
      return (store[method] as (...a: unknown[]) => Promise<unknown>)(...args);
  }
}
