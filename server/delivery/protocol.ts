// The messages between the server's main thread and its delivery thread (see threaded-pool.ts and thread.ts).
import type { DatabaseSettings } from '../../adapters/db/settings.js';
import type { LogLine, OutageKey } from '../../engine/index.js';
import type { BpiumSource, WebRequestSettings } from '../../adapters/ports.js';
import type { DeliveryCall } from './store-link.js';
import type { RunTally } from '../metrics.js';
import type { UnrecordedEnd } from './pool.js';
import type { TraceKept } from '../trace-setting.js';

/** What the delivery thread is started with (structured-cloned into the thread). */
export interface DeliveryInit {
  env: Record<string, string | undefined>;
  scenariosDir: string;
  dataDir: string;
  timeZone: string;
  maxEffects: number;
  runRecordBytes: number;
  /** OKTELL_TRACE (trace-setting.ts); absent: all. */
  traceKept?: TraceKept;
  concurrency: number;
  leaseMs: number;
  pollMs?: number;
  burstInFlight?: number;
  releaseOnStop?: boolean;
  sharedStore?: boolean;
  /** Requests the main thread is answering right now (Metrics.inFlightCell). */
  inFlightCell: Int32Array;
  /** Bpium as the main thread sees it: the embedded emulator's client settings, BPIUM_URL (`env`), or none. */
  bpium: Exclude<BpiumSource, { kind: 'port' }>;
  /** Database connections (`databases:` of the config), for DbQuery/DbProcedure. */
  databases: DatabaseSettings;
  /** WebRequest settings of the config (`webRequest:`), resolved as the main thread sees them. */
  webRequest: WebRequestSettings;
  /** Milliseconds a run's Parser regex extractions may search in all (`regexBudgetMs`). */
  regexBudgetMs: number;
  /** The position SubStr calls the first character (`substrBase`); 0 when absent. */
  substrBase?: 0 | 1;
  /**
   * The main thread folds the log of outages (server/log-folding.ts): the thread's SMTP, Bpium and attempts report
   * their failures to it as `outage` messages instead of log lines.
   */
  foldOutages?: boolean;
  /** Log levels the main thread's logger writes; the others are not even sent. */
  logLevels: Array<'debug' | 'info' | 'warn' | 'error'>;
}

export type ToMain =
  | { t: 'ready' }
  | { t: 'call'; id: number; call: DeliveryCall }
  | { t: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; obj: object; msg?: string }
  | { t: 'outage'; call: 'effectFailed'; key: OutageKey; line: LogLine }
  | { t: 'outage'; call: 'attemptFailed'; key: OutageKey; line: LogLine; job: { id: string; givenUp: boolean } }
  | { t: 'outage'; call: 'reached'; target: string }
  | { t: 'attempt'; status: string; seconds: number; tally: RunTally; mayRepeat: number; outcome: string; running: number }
  | { t: 'stopped'; unfinished: number; unrecorded: UnrecordedEnd[]; leased: number; takenOver?: number };

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
  /** A StoreUnavailableError's reason (`closed`, `full`, …). */
  reason?: string;
}

export function serializeError(e: unknown): SerializedError {
  const err = e as { name?: unknown; message?: unknown; code?: unknown; retryAfterSeconds?: unknown; reason?: unknown };
  return {
    name: typeof err?.name === 'string' ? err.name : 'Error',
    message: typeof err?.message === 'string' ? err.message : String(e),
    ...(typeof err?.code === 'string' ? { code: err.code } : {}),
    ...(typeof err?.retryAfterSeconds === 'number' ? { retryAfterSeconds: err.retryAfterSeconds } : {}),
    ...(typeof err?.reason === 'string' ? { reason: err.reason } : {}),
  };
}
