// What DbQuery and DbProcedure share: connection, params, where results go, and how a call is run, journaled,
// recorded and routed to an exit.
import { z } from 'zod';
import {
  EffectError,
  RunFailure,
  RUN_ERROR_CODES as R,
  SCENARIO_ERROR_CODES as C,
  closest,
  jsonText,
  type BlockResult,
  type BlockRuntime,
  type CompileContext,
  type CompiledExpression,
  type DatabasePort,
  type DbDialect,
  type DbResult,
  type DbValue,
  type JsonValue,
  type Value,
} from '../engine/index.js';
import { checkOutputVariable, expr, isKnown, settingFailure, varName } from './common.js';

export const DEFAULT_CONNECTION = 'main';
export const DEFAULT_MAX_ROWS = 1000;
export const DEFAULT_DB_TIMEOUT_S = 30;
/** A parameter's name: letters of any script (`phone`, `телефон`, `電話`), digits and `_`, not starting with a digit. */
export const IDENTIFIER = /^[\p{L}_][\p{L}\p{M}\p{N}_]*$/u;

/** Properties both blocks have. */
export const dbCommonShape = {
  connection: z.string().min(1).optional(),
  /** Parameter name → expression; always bound as a value, never put into the statement's text. */
  params: z.record(z.string(), expr).optional(),
  /** variable → column; without it, the first row's columns go into the variables of the same names. */
  into: z.record(varName, z.string().min(1)).optional(),
  rows: varName.optional(),
  rowCount: varName.optional(),
  errorCode: varName.optional(),
  maxRows: z.number().int().min(1).max(100_000).optional(),
  timeout: z.number().positive().max(3600).optional(),
};

export interface DbCommonRaw {
  connection?: string | undefined;
  params?: Record<string, string | number | boolean> | undefined;
  into?: Record<string, string> | undefined;
  rows?: string | undefined;
  rowCount?: string | undefined;
  errorCode?: string | undefined;
  maxRows?: number | undefined;
  timeout?: number | undefined;
}

export interface DbCommonConfig {
  connection: string;
  params: Array<[string, CompiledExpression]>;
  into?: Array<[string, string]>;
  rows?: string;
  rowCount?: string;
  errorCode?: string;
  maxRows: number;
  timeoutMs: number;
}

/** Compiles the shared properties; reports an unknown connection (when the loader knows the connections). */
export function compileDbCommon(raw: DbCommonRaw, cx: CompileContext): DbCommonConfig & { dialect?: DbDialect } {
  const connection = raw.connection ?? DEFAULT_CONNECTION;
  const known = cx.databases;
  let dialect: DbDialect | undefined;
  // A connection left out as wrong is unknown, not the default "main": neither checked nor given a dialect.
  if (known && isKnown(cx, 'connection')) {
    dialect = known[connection];
    if (!dialect) {
      const guess = closest(connection, Object.keys(known));
      cx.issue(raw.connection ? ['connection'] : [], C.UNKNOWN_CONNECTION, `no database connection named "${connection}" is configured`, `${guess ? `did you mean "${guess}"? ` : ''}connections: ${Object.keys(known).join(', ')} (databases: in oktell.config.yaml, or OKTELL_DB_${connection.toUpperCase()})`);
    }
  }
  const params: Array<[string, CompiledExpression]> = [];
  for (const [name, value] of Object.entries(raw.params ?? {})) {
    if (!IDENTIFIER.test(name)) cx.issue(['params', name], C.INVALID_PROPERTY, `"${name}" is not a parameter name`, 'letters of any script, digits and "_", starting with a letter or "_" (e.g. phone, телефон, client_2)');
    params.push([name, cx.expression(['params', name], value)]);
  }
  if (raw.rows) checkOutputVariable(cx, 'rows', raw.rows, 'json');
  if (raw.rowCount) checkOutputVariable(cx, 'rowCount', raw.rowCount, 'number');
  if (raw.errorCode) checkOutputVariable(cx, 'errorCode', raw.errorCode, 'text');
  const into = raw.into ? Object.entries(raw.into).map(([v, col]): [string, string] => [cx.variable(['into', v], v), col]) : undefined;
  return {
    connection,
    params,
    ...(into ? { into } : {}),
    ...(raw.rows ? { rows: raw.rows } : {}),
    ...(raw.rowCount ? { rowCount: raw.rowCount } : {}),
    ...(raw.errorCode ? { errorCode: raw.errorCode } : {}),
    maxRows: raw.maxRows ?? DEFAULT_MAX_ROWS,
    timeoutMs: (raw.timeout ?? DEFAULT_DB_TIMEOUT_S) * 1000,
    ...(dialect ? { dialect } : {}),
  };
}

/** Parameters whose names suggest a secret are shown as *** in the run's record and trace. */
const SECRET_NAME = /pass|pwd|secret|token|key|auth|credential/i;

/** A long parameter value is cut in the record (the statement itself got all of it). */
const SHOWN_VALUE_CHARS = 500;

/** The block's trace keeps the rows when they are this small (a recorded run then shows what was read). */
const TRACE_ROWS_LIMIT = 16 * 1024;

export interface DbCall {
  /** The block's kind, for a message that names the block. */
  kind: 'DbQuery' | 'DbProcedure';
  /** The statement as written, or `procedure <name>`, for the record. */
  statement: string;
  /** true when the call may change data: it is journaled, so a retried run replays it instead of repeating it. */
  write: boolean;
  perform(db: DatabasePort, params: Readonly<Record<string, DbValue>>): Promise<DbResult>;
}

/** Runs the call, puts the results into variables and takes the exit (`success`, `error`, `timeout`). */
export async function runDbCall(c: DbCommonConfig, rt: BlockRuntime, call: DbCall): Promise<BlockResult> {
  const db = rt.databases;
  if (!db) throw new RunFailure(R.ADAPTER_MISSING, 'no databases are configured for this run');
  // A dry run must never keep a change: without a session that rolls back, it does not touch the database at all.
  if (rt.dryRun && !db.rollsBack) throw new RunFailure(R.ADAPTER_MISSING, 'this dry run has no database session that rolls back, so it cannot run statements');
  const params: Record<string, DbValue> = {};
  for (const [name, e] of c.params) params[name] = rt.evaluate(e);
  const shown = shownParams(params);
  const t0 = performance.now();
  const ms = () => Math.round((performance.now() - t0) * 1000) / 1000;
  const base = { connection: c.connection, statement: call.statement, params: shown, rolledBack: db.rollsBack };
  try {
    let result: DbResult;
    let replayed = false;
    if (call.write || rt.queuedJob) {
      // A queued job keeps its reads too (rt.read): a retry reads what its earlier attempt read, so the writes and
      // requests the journal replays meet the rows they were made for, not the rows that attempt's writes left over.
      const perform = async () => toJournal(await call.perform(db, params));
      const r = call.write ? await rt.effect(perform) : await rt.read(perform);
      result = fromJournal(r.value);
      replayed = r.replayed;
    } else result = await rt.external(() => call.perform(db, params));
    rt.recordDbCall({ ...base, status: replayed ? 'replayed' : 'ok', rowCount: result.rowCount, ms: ms() });
    const rowsJson = rowsAsJson(result);
    const rowsText = jsonText(rowsJson);
    rt.traceEffect({
      ...traceBase(base),
      outcome: 'ok',
      rowCount: result.rowCount,
      columns: result.columns,
      ...(rowsText.length <= TRACE_ROWS_LIMIT ? { rows: rowsJson } : { rowsChars: rowsText.length }),
      ...(result.truncated ? { truncated: true } : {}),
      ...(replayed ? { replayed: true } : {}),
    });
    const twice = duplicateColumns(result.columns);
    if (twice.length) {
      rt.traceNote(`the result has several columns named ${twice.join(', ')}: a row keeps the last one's value, in the variables and in "rows" alike; name them apart with AS (SELECT o.id AS order_id, c.id AS client_id)`);
    }
    saveResults(c, rt, result);
    if (c.rows) rt.set(c.rows, rowsText);
    if (c.rowCount) rt.set(c.rowCount, result.rowCount);
    if (c.errorCode) rt.set(c.errorCode, '');
    return 'success';
  } catch (e) {
    if (!(e instanceof EffectError)) throw e;
    const code = e.details.code ?? e.kind;
    rt.recordDbCall({ ...base, status: e.kind === 'permanent' ? 'error' : e.kind, ms: ms(), code, error: e.message });
    rt.traceEffect({ ...traceBase(base), failure: e.kind, code, error: e.message });
    if (c.errorCode) rt.set(c.errorCode, code);
    // A wrong setting (the server refusing the login, a database that does not exist) would fail every statement: not
    // this statement's error, so not the error exit, which would end the run completed with nothing to replay. The
    // run fails, and a job waits as a dead letter for the fix and a replay, as with a refused SMTP setting.
    if (e.details.setting) throw settingFailure(`${call.kind} "${rt.blockId}"`, rt, e, { queued: 'the statement is not run' });
    if (e.kind === 'permanent' && rt.hasExit('error')) return 'error';
    if (e.kind === 'timeout' && rt.hasExit('timeout')) return 'timeout';
    // An outage (or an unwired exit) fails the run; the server retries it, and the journal keeps committed writes.
    throw e;
  }
}

function traceBase(b: { connection: string; statement: string; params: Record<string, Value>; rolledBack: boolean }): Record<string, JsonValue> {
  return { connection: b.connection, statement: b.statement, params: b.params as Record<string, JsonValue>, ...(b.rolledBack ? { rolledBack: true } : {}) };
}

/**
 * Oktell's rule: the first row's columns go into the variables of the same names (here ignoring case, since
 * PostgreSQL folds unquoted names to lower case); columns without such a variable are listed in the trace. With
 * `into:`, only the named columns go into the named variables. No row: the variables keep their values.
 */
function saveResults(c: DbCommonConfig, rt: BlockRuntime, result: DbResult) {
  const first = result.rows[0];
  if (!first) {
    if (result.columns.length) rt.traceNote('no rows: the variables keep their values');
    return;
  }
  if (c.into) {
    const missing: string[] = [];
    for (const [variable, column] of c.into) {
      const key = Object.keys(first).find((k) => k === column) ?? Object.keys(first).find((k) => k.toLowerCase() === column.toLowerCase());
      if (key === undefined) missing.push(column);
      else rt.set(variable, first[key] ?? null);
    }
    if (missing.length) rt.traceNote(`into: no column ${missing.join(', ')} in the result (columns: ${result.columns.join(', ')})`);
    return;
  }
  const declared = Object.keys(rt.snapshot());
  const ignored: string[] = [];
  for (const [column, value] of Object.entries(first)) {
    const variable = declared.find((v) => v === column) ?? declared.find((v) => v.toLowerCase() === column.toLowerCase());
    if (variable === undefined) ignored.push(column);
    else rt.set(variable, value ?? null);
  }
  // With rows: every column is kept there, in all the rows: only the first row's copy into variables skipped them.
  if (ignored.length) rt.traceNote(c.rows ? `columns without a variable of the same name, kept in "rows: ${c.rows}" only: ${ignored.join(', ')}` : `columns without a variable of the same name, ignored: ${ignored.join(', ')}`);
}

/**
 * Column names a result has more than once (`SELECT * FROM orders o JOIN clients c …` gives two `id`s): a row is an
 * object, so only the last of them is kept, on SQLite and PostgreSQL alike.
 */
export function duplicateColumns(columns: readonly string[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const c of columns) (seen.has(c) ? twice : seen).add(c);
  return [...twice];
}

function shownParams(params: Record<string, DbValue>): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const [k, v] of Object.entries(params)) {
    if (SECRET_NAME.test(k)) out[k] = '***';
    else if (v instanceof Date) out[k] = v.toISOString();
    else if (typeof v === 'string' && v.length > SHOWN_VALUE_CHARS) out[k] = `${v.slice(0, SHOWN_VALUE_CHARS)}… (${v.length} chars)`;
    else out[k] = v;
  }
  return out;
}

/** Rows as JSON: dates as ISO 8601 instants. */
function rowsAsJson(result: DbResult): JsonValue[] {
  return result.rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v])));
}

/** A journaled outcome is JSON: dates are kept as `{ "$date": iso }` so a replay gives dates back. */
function toJournal(r: DbResult): JsonValue {
  const rows = r.rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? { $date: v.toISOString() } : v])));
  return { columns: r.columns, rows, rowCount: r.rowCount, truncated: r.truncated };
}

function fromJournal(j: JsonValue): DbResult {
  const o = j as { columns: string[]; rows: Array<Record<string, JsonValue>>; rowCount: number; truncated: boolean };
  const rows = o.rows.map((row) =>
    Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v && typeof v === 'object' && !Array.isArray(v) && typeof v.$date === 'string' ? new Date(v.$date) : (v as DbValue)])),
  );
  return { columns: o.columns, rows, rowCount: o.rowCount, truncated: o.truncated };
}
