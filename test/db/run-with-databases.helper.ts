// A run of a scenario against real databases, as the DbQuery and DbProcedure tests make it: the system clock, random
// ids, no async starts, Moscow time.
import type { ClosableDatabasePort } from '../../adapters/db/index.js';
import { createInProcessStarter, randomIds, runScenario, systemClock, type RunResult, type ScenarioLibrary } from '../../engine/index.js';
import type { Value } from '../../engine/values.js';

export function runWithDatabases(lib: ScenarioLibrary, scenario: string, databases: ClosableDatabasePort, o: { dryRun?: boolean; variables?: Record<string, Value> } = {}): Promise<RunResult> {
  return runScenario(lib, scenario, {
    variables: o.variables ?? {},
    dryRun: o.dryRun ?? false,
    timeZone: 'Europe/Moscow',
    ports: { databases, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) },
  });
}
