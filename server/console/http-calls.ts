// The web requests of a run for the console, from its trace (trace-calls.ts): each WebRequest step's effect names the
// request and how it went.
import type { HttpCallRecord } from '../../engine/index.js';
import { httpFailureOutcome } from '../../components/web-request.block.js';
import { callsFromTrace } from './trace-calls.js';

interface WebEffect {
  request?: { method?: unknown; url?: unknown };
  status?: unknown;
  attempts?: unknown;
  dryRun?: unknown;
  replayed?: unknown;
  failure?: unknown;
  error?: unknown;
  defaultAnswer?: unknown;
  fixture?: unknown;
  notSent?: unknown;
}

export const WEB_KINDS = new Set(['WebRequest']);

/** The run's own list when it has one (a dry run), else one row per WebRequest step of the stored trace. */
export function httpCallsOf(run: object, trace: readonly unknown[]): HttpCallRecord[] {
  return callsFromTrace<HttpCallRecord, WebEffect>(run, 'httpCalls', trace, WEB_KINDS, (s, e) => {
    if (!e.request || typeof e.request.url !== 'string') return undefined;
    const status = typeof e.status === 'number' ? e.status : undefined;
    const outcome = e.dryRun ? 'dry-run' : e.replayed ? 'replayed' : e.failure ? httpFailureOutcome(String(e.failure), e.status) : status !== undefined && status >= 200 && status < 300 ? 'ok' : 'error';
    return {
      block: String(s.block),
      method: String(e.request.method ?? ''),
      url: e.request.url,
      ...(status !== undefined ? { status } : {}),
      outcome,
      performed: !e.dryRun && !e.replayed && e.fixture !== true && status !== undefined,
      ...(e.fixture === true ? { fixture: true as const } : {}),
      ...(e.notSent === true ? { notSent: true as const } : {}),
      ...(Array.isArray(e.attempts) && e.attempts.length ? { attempts: e.attempts.length } : {}),
      ...(typeof e.error === 'string' ? { error: e.error } : {}),
      ...(e.defaultAnswer === true ? { defaultAnswer: true as const } : {}),
    };
  });
}
