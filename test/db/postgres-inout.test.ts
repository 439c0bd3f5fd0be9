// DbProcedure and INOUT arguments (trial 56): a procedure written before PostgreSQL 14 returns its results through
// INOUT arguments (OUT came to procedures in 14). Those the block does not give are passed as NULL, as OUT ones are,
// unless they have a default, which is then kept; before, the call failed with 42883 "procedure … does not exist".
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDatabasePort, type ClosableDatabasePort } from '../../adapters/db/index.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary, type ScenarioLibrary } from '../../engine/index.js';
import { tempDir } from '../helpers.js';
import { runWithDatabases } from './run-with-databases.helper.js';
import { schemaWith, testPostgres } from '../store/postgres.helper.js';

const pgAvailable = await testPostgres();

const scenario = (procedure: string, params: string) => `variables: { total: number, label: string, y: number, w: number, code: string }
start: p
blocks:
  p:
    kind: DbProcedure
    procedure: ${procedure}
    params: ${params}
    errorCode: code
    exits: { success: done, error: done }
  done: { kind: Stop }
`;

describe('DbProcedure with INOUT arguments', { skip: pgAvailable.skip }, () => {
  let tmp: ReturnType<typeof tempDir>;
  let lib: ScenarioLibrary;
  let live: ClosableDatabasePort;
  let drop: () => Promise<void>;
  before(async () => {
    tmp = tempDir();
    const made = await schemaWith(
      pgAvailable.url!,
      'inout',
      `CREATE PROCEDURE register(x int, INOUT total int, INOUT label text) LANGUAGE plpgsql AS $$ BEGIN total := x * 10; label := 'n' || x; END $$;
      CREATE PROCEDURE defaults(x int, INOUT y int DEFAULT 5, INOUT w int DEFAULT 1) LANGUAGE plpgsql AS $$ BEGIN y := x + y; w := w * 2; END $$;`,
    );
    drop = made.drop;
    writeFileSync(join(tmp.dir, 'Register.yaml'), scenario('register', '{ x: 4 }'));
    writeFileSync(join(tmp.dir, 'Defaults.yaml'), scenario('defaults', '{ x: 1 }'));
    lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry, databases: { main: 'postgres' } });
    assert.deepEqual(lib.issues, []);
    live = createDatabasePort({ main: { dialect: 'postgres', url: made.url } });
  });
  after(async () => {
    await live.close();
    await drop();
    tmp.cleanup();
  });
  const run = (name: string) => runWithDatabases(lib, name, live);

  it('INOUT arguments the block does not give are passed as NULL and come back as columns', async () => {
    const r = await run('Register');
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.equal(r.variables.code, '');
    assert.equal(r.variables.total, 40);
    assert.equal(r.variables.label, 'n4');
  });

  it('an INOUT argument with a default keeps its default', async () => {
    const r = await run('Defaults');
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.equal(r.variables.code, '');
    assert.equal(r.variables.y, 6);
    assert.equal(r.variables.w, 2);
  });
});
