// A PostgreSQL error about a parameter names it as the scenario wrote it (trial 56): the statement is sent with $1, $2,
// which the author never wrote, so `could not determine data type of parameter $2` is followed by `(:s2)`.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDatabasePort, type ClosableDatabasePort } from '../../adapters/db/index.js';
import { withParameterNames } from '../../adapters/db/postgres.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary, type ScenarioLibrary } from '../../engine/index.js';
import { tempDir } from '../helpers.js';
import { runWithDatabases } from './run-with-databases.helper.js';
import { testPostgres } from '../store/postgres.helper.js';

const pgAvailable = await testPostgres();

const TYPE_OF = `variables: { code: string, kind: string }
start: q
blocks:
  q:
    kind: DbQuery
    sql: SELECT :s::text AS s, pg_typeof(:s2) AS kind
    params: { s: '"a"', s2: '"b"' }
    errorCode: code
    exits: { success: done, error: done }
  done: { kind: Stop }
`;

const UNWIRED = `start: q
blocks:
  q:
    kind: DbQuery
    sql: SELECT :first::int AS a, pg_typeof(:second) AS b
    params: { first: 1, second: 2 }
`;

describe('parameter names in messages', () => {
  it('follows the $N of a "parameter $N" with the name, and leaves other $ texts alone', () => {
    assert.equal(withParameterNames('could not determine data type of parameter $2', ['s', 's2']), 'could not determine data type of parameter $2 (:s2)');
    assert.equal(withParameterNames('invalid input syntax for type integer: "$1"', ['a']), 'invalid input syntax for type integer: "$1"');
    assert.equal(withParameterNames('there is no parameter $3', ['a']), 'there is no parameter $3');
  });
});

describe('PostgreSQL errors name the parameter as the scenario wrote it', { skip: pgAvailable.skip }, () => {
  let tmp: ReturnType<typeof tempDir>;
  let lib: ScenarioLibrary;
  let live: ClosableDatabasePort;
  before(async () => {
    tmp = tempDir();
    writeFileSync(join(tmp.dir, 'TypeOf.yaml'), TYPE_OF);
    writeFileSync(join(tmp.dir, 'Unwired.yaml'), UNWIRED);
    lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry, databases: { main: 'postgres' } });
    assert.deepEqual(lib.issues, []);
    live = createDatabasePort({ main: { dialect: 'postgres', url: pgAvailable.url! } });
  });
  after(async () => {
    await live.close();
    tmp.cleanup();
  });
  const run = (name: string) => runWithDatabases(lib, name, live);

  it('in the run record of a statement that took its error exit', async () => {
    const r = await run('TypeOf');
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.equal(r.variables.code, '42P18');
    assert.match(r.dbCalls?.[0]?.error ?? '', /could not determine data type of parameter \$2 \(:s2\)$/);
  });

  it("in the run's error when the error exit is not wired", async () => {
    const r = await run('Unwired');
    assert.equal(r.status, 'failed');
    assert.match(r.error?.message ?? '', /DbQuery "q": PostgreSQL: could not determine data type of parameter \$2 \(:second\)$/);
  });
});
