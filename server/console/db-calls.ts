// The database statements of a run for the console. A live run's record does not keep `dbCalls` (the store has no
// column for them), but its trace does: each DbQuery/DbProcedure step's effect names the connection, the statement,
// its (redacted) parameters and how it went, and the step its duration.
import type { DbCallRecord, Value } from '../../engine/index.js';

interface DbEffect {
  connection?: unknown;
  statement?: unknown;
  params?: unknown;
  rolledBack?: unknown;
  outcome?: unknown;
  rowCount?: unknown;
  replayed?: unknown;
  failure?: unknown;
  code?: unknown;
  error?: unknown;
}

/** A stored trace step, as read back from the store: checked, not trusted. */
interface StoredStep {
  kind?: unknown;
  block?: unknown;
  ms?: unknown;
  effect?: unknown;
}

const DB_KINDS = new Set(['DbQuery', 'DbProcedure']);

/** The run's own list when it has one (a dry run), else one row per DbQuery/DbProcedure step of the stored trace. */
export function dbCallsOf(run: object, trace: readonly unknown[]): DbCallRecord[] {
  const own = (run as { dbCalls?: unknown }).dbCalls;
  if (Array.isArray(own)) return own as DbCallRecord[];
  const calls: DbCallRecord[] = [];
  for (const step of trace) {
    const s = (step ?? {}) as StoredStep;
    if (typeof s.kind !== 'string' || !DB_KINDS.has(s.kind) || !isObject(s.effect)) continue;
    const e = s.effect as DbEffect;
    if (typeof e.statement !== 'string') continue;
    const failure = typeof e.failure === 'string' ? e.failure : undefined;
    calls.push({
      block: String(s.block),
      connection: String(e.connection ?? ''),
      statement: e.statement,
      params: isObject(e.params) ? (e.params as Record<string, Value>) : {},
      status: failure ? (failure === 'permanent' ? 'error' : failure) : e.replayed ? 'replayed' : 'ok',
      ...(typeof e.rowCount === 'number' ? { rowCount: e.rowCount } : {}),
      ms: typeof s.ms === 'number' ? s.ms : 0,
      rolledBack: e.rolledBack === true,
      ...(typeof e.code === 'string' ? { code: e.code } : {}),
      ...(typeof e.error === 'string' ? { error: e.error } : {}),
    });
  }
  return calls;
}

function isObject(v: unknown): v is object {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}
