// What opening a store did to its schema, said once in the start log: with several instances on one PostgreSQL
// database, the record tells which of them migrated it and which found it up to date.

/** The outcome of bringing a store's schema up to date: the versions applied now (none: it was up to date) and the version it is at. */
export interface SchemaMigrated {
  applied: number[];
  version: number;
}

/** The last version a list of migrations brings a schema to (either store's). */
export function lastVersion(migrations: readonly { version: number }[]): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

/**
 * The start log's words for it.
 *
 * @example migratedText({ applied: [2, 3], version: 3 }) // 'store migrations applied: 2–3'
 * @example migratedText({ applied: [], version: 3 })     // 'store schema up to date (version 3)'
 */
export function migratedText(m: SchemaMigrated): string {
  if (m.applied.length === 0) return `store schema up to date (version ${m.version})`;
  const first = m.applied[0]!;
  const last = m.applied[m.applied.length - 1]!;
  // Applied in order from the stored version up, so they are a run of numbers unless the list itself has gaps.
  const consecutive = last - first === m.applied.length - 1;
  return `store migrations applied: ${consecutive ? (first === last ? String(first) : `${first}–${last}`) : m.applied.join(', ')}`;
}
