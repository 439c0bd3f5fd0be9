// The database statements of a run for the console, from its trace (trace-calls.ts): each DbQuery/DbProcedure step's
// effect names the connection, the statement, its (redacted) parameters and how it went, and the step its duration.
import type { DbCallRecord, Value } from '../../engine/index.js';
import { callsFromTrace, isObject } from './trace-calls.js';

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

export const DB_KINDS = new Set(['DbQuery', 'DbProcedure']);

/** The run's own list when it has one (a dry run), else one row per DbQuery/DbProcedure step of the stored trace. */
export function dbCallsOf(run: object, trace: readonly unknown[]): DbCallRecord[] {
  return callsFromTrace<DbCallRecord, DbEffect>(run, 'dbCalls', trace, DB_KINDS, (s, e) => {
    if (typeof e.statement !== 'string') return undefined;
    const failure = typeof e.failure === 'string' ? e.failure : undefined;
    return {
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
    };
  });
}
