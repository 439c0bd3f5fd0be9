// A SET in a DbQuery statement (search_path, TimeZone) lasts for that statement only (trial 56). It used to stay on
// the pooled connection, so the next statements that got that connection — this run's or any later run's — went to
// another schema's tables; in a dry run it stayed for the rest of the run.
// A SET ROLE too, which RESET ALL does not undo: the role is reset by name.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDatabasePort, type ClosableDatabasePort } from '../../adapters/db/index.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary, type ScenarioLibrary } from '../../engine/index.js';
import { tempDir } from '../helpers.js';
import { runWithDatabases } from './run-with-databases.helper.js';
import { querySchema, schemaWith, testPostgres } from '../store/postgres.helper.js';

const pgAvailable = await testPostgres();

const SWITCH = `variables: { sp: string, zone: string, n: number }
start: set
blocks:
  set:
    kind: DbQuery
    sql: SET search_path = public
    exits: { success: zone }
  zone:
    kind: DbQuery
    sql: SET TIME ZONE 'Asia/Tokyo'
    exits: { success: read }
  read:
    kind: DbQuery
    sql: SELECT current_setting('search_path') AS sp, current_setting('TimeZone') AS zone, (SELECT count(*) FROM marker) AS n
`;

describe('a SET lasts for its own statement on PostgreSQL', { skip: pgAvailable.skip }, () => {
  let tmp: ReturnType<typeof tempDir>;
  let lib: ScenarioLibrary;
  let url: string;
  let schema: string;
  let drop: () => Promise<void>;
  let zone: string;
  before(async () => {
    tmp = tempDir();
    const made = await schemaWith(pgAvailable.url!, 'set', 'CREATE TABLE marker (x int); INSERT INTO marker VALUES (1), (2)');
    ({ schema, url, drop } = made);
    zone = (await querySchema<{ z: string }>(pgAvailable.url!, schema, `SELECT current_setting('TimeZone') AS z`))[0]!.z;
    writeFileSync(join(tmp.dir, 'Switch.yaml'), SWITCH);
    // SET ROLE to the login's own role (the test's user may not create another): enough to see whether the role set by
    // one block is still the connection's at the next, which RESET ALL alone leaves it.
    const user = decodeURIComponent(new URL(pgAvailable.url!).username).replace(/"/g, '""');
    writeFileSync(join(tmp.dir, 'Role.yaml'), `variables: { role: string }
start: set
blocks:
  set:
    kind: DbQuery
    sql: SET ROLE "${user}"
    exits: { success: read }
  read:
    kind: DbQuery
    sql: SELECT current_setting('role') AS role
`);
    lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry, databases: { main: 'postgres' } });
    assert.deepEqual(lib.issues, []);
  });
  after(async () => {
    await drop();
    tmp.cleanup();
  });
  const run = (databases: ClosableDatabasePort, dryRun: boolean, scenario = 'Switch') => runWithDatabases(lib, scenario, databases, { dryRun });

  for (const dryRun of [false, true]) {
    it(`${dryRun ? 'a dry run' : 'a live run'}: the next statement sees the schema of the URL and the server's zone`, async () => {
      const databases = createDatabasePort({ main: { dialect: 'postgres', url } }, { rollsBack: dryRun });
      try {
        for (let i = 0; i < 3; i++) {
          const r = await run(databases, dryRun);
          assert.equal(r.status, 'completed', JSON.stringify(r.error));
          assert.equal(r.variables.sp, schema);
          assert.equal(r.variables.zone, zone);
          assert.equal(r.variables.n, 2, "the marker table of the URL's schema is the one read");
        }
      } finally {
        await databases.close();
      }
    });
  }

  for (const dryRun of [false, true]) {
    it(`${dryRun ? 'a dry run' : 'a live run'}: a SET ROLE is gone at the next statement (RESET ALL keeps a role)`, async () => {
      const databases = createDatabasePort({ main: { dialect: 'postgres', url } }, { rollsBack: dryRun });
      try {
        for (let i = 0; i < 2; i++) {
          const r = await run(databases, dryRun, 'Role');
          assert.equal(r.status, 'completed', JSON.stringify(r.error));
          assert.equal(r.variables.role, 'none', 'the role the session began with, not the one the block before set');
        }
      } finally {
        await databases.close();
      }
    });
  }
});
