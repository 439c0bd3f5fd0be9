// What the database port needs from one connection, whatever its dialect, and the value conversions they share.
import type { DbCallOptions, DbResult, DbValue, NamedSql } from '../../engine/index.js';

export interface DbDriver {
  query(statement: NamedSql, params: Readonly<Record<string, DbValue>>, opts: DbCallOptions): Promise<DbResult>;
  /** Rolls back a dry run's transaction (if any) and closes the connection or pool. */
  close(): Promise<void>;
}

/** A column value as a scenario can hold it: blobs as base64 text, JSON and arrays as JSON text, big integers as text. */
export function columnValue(v: unknown): DbValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v instanceof Date) return v;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
  if (Buffer.isBuffer(v)) return v.toString('base64');
  return JSON.stringify(v);
}

/** Collects rows up to `maxRows`, counting the rest. */
export function collectRows(source: Iterable<Record<string, unknown>>, maxRows: number): { rows: Array<Record<string, DbValue>>; count: number } {
  const rows: Array<Record<string, DbValue>> = [];
  let count = 0;
  for (const row of source) {
    if (count++ < maxRows) rows.push(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, columnValue(v)])));
  }
  return { rows, count };
}
