// The web requests of a run for the console. A live run's record does not keep `httpCalls` (the store has no column
// for them), but its trace does: each WebRequest step's effect names the request and how it went.
import type { HttpCallRecord } from '../../engine/index.js';

interface WebEffect {
  request?: { method?: unknown; url?: unknown };
  status?: unknown;
  attempts?: unknown;
  dryRun?: unknown;
  replayed?: unknown;
  failure?: unknown;
  error?: unknown;
}

/** A stored trace step, as read back from the store: checked, not trusted. */
interface StoredStep {
  kind?: unknown;
  block?: unknown;
  effect?: unknown;
}

/** The run's own list when it has one (a dry run), else one row per WebRequest step of the stored trace. */
export function httpCallsOf(run: object, trace: readonly unknown[]): HttpCallRecord[] {
  const own = (run as { httpCalls?: unknown }).httpCalls;
  if (Array.isArray(own)) return own as HttpCallRecord[];
  const calls: HttpCallRecord[] = [];
  for (const step of trace) {
    const s = (step ?? {}) as StoredStep;
    if (s.kind !== 'WebRequest' || !s.effect || typeof s.effect !== 'object' || Array.isArray(s.effect)) continue;
    const e = s.effect as WebEffect;
    if (!e.request || typeof e.request.url !== 'string') continue;
    const status = typeof e.status === 'number' ? e.status : undefined;
    const outcome = e.dryRun ? 'dry-run' : e.replayed ? 'replayed' : e.failure === 'permanent' ? 'error' : e.failure ? 'timeout' : status !== undefined && status >= 200 && status < 300 ? 'ok' : 'error';
    calls.push({
      block: String(s.block),
      method: String(e.request.method ?? ''),
      url: e.request.url,
      ...(status !== undefined ? { status } : {}),
      outcome,
      performed: !e.dryRun && !e.replayed && status !== undefined,
      ...(Array.isArray(e.attempts) && e.attempts.length ? { attempts: e.attempts.length } : {}),
      ...(typeof e.error === 'string' ? { error: e.error } : {}),
    });
  }
  return calls;
}
