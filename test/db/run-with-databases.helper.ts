// A run of a scenario against real databases, as the DbQuery and DbProcedure tests make it: the system clock, random
// ids, no async starts, Moscow time; and the database of either dialect such a test runs against.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDatabasePort, type ClosableDatabasePort, type DatabaseSettings } from '../../adapters/db/index.js';
import { defaultRegistry } from '../../components/registry.js';
import { createInProcessStarter, loadScenarioLibrary, randomIds, runScenario, systemClock, type RunResult, type ScenarioLibrary } from '../../engine/index.js';
import type { Value } from '../../engine/values.js';
import { tempDir } from '../helpers.js';
import { schemaWith } from '../store/postgres.helper.js';

export function runWithDatabases(lib: ScenarioLibrary, scenario: string, databases: ClosableDatabasePort, o: { dryRun?: boolean; variables?: Record<string, Value> } = {}): Promise<RunResult> {
  return runScenario(lib, scenario, {
    variables: o.variables ?? {},
    dryRun: o.dryRun ?? false,
    timeZone: 'Europe/Moscow',
    ports: { databases, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) },
  });
}

/** A scenario library over one `main` database of either dialect, made for a test, and its removal. */
export interface DialectDatabase {
  lib: ScenarioLibrary;
  live: ClosableDatabasePort;
  close(): Promise<void>;
}

/**
 * `main` as a new SQLite file or a PostgreSQL schema of its own (at `pgUrl`, named from `prefix`), set up with `setup`,
 * and the `scenarios` (file name → text) loaded against it, which must load without a problem.
 */
export async function dialectDatabase(which: 'sqlite' | 'postgres', o: { pgUrl?: string; prefix: string; setup: string; scenarios: Readonly<Record<string, string>> }): Promise<DialectDatabase> {
  const tmp = tempDir();
  let settings: DatabaseSettings;
  let drop = async (): Promise<void> => undefined;
  if (which === 'sqlite') {
    const path = join(tmp.dir, `${o.prefix}.sqlite`);
    const raw = new Database(path);
    raw.exec(o.setup);
    raw.close();
    settings = { main: { dialect: 'sqlite', path } };
  } else {
    const made = await schemaWith(o.pgUrl!, o.prefix, o.setup);
    settings = { main: { dialect: 'postgres', url: made.url } };
    drop = made.drop;
  }
  for (const [file, text] of Object.entries(o.scenarios)) writeFileSync(join(tmp.dir, file), text);
  const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry, databases: { main: which } });
  assert.deepEqual(lib.issues, []);
  const live = createDatabasePort(settings);
  return {
    lib,
    live,
    close: async () => {
      await live.close();
      await drop();
      tmp.cleanup();
    },
  };
}
