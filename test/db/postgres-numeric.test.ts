// PostgreSQL `numeric` and `bigint` values become numbers when a number is exactly that value, trailing zeros aside
// (`12.50` is 12.5, `100.00` is 100), as scenario-format.md says; before, only a text that survived a string round trip
// did, so every money value (`numeric(10,2)`) came back as text and `JsonGet(...) + 1` joined text (trial 38, finding 2).
// Values no number holds exactly (24 significant digits, a bigint past 2^53) stay text. In DbQuery `rows` and `into`,
// and in DbProcedure rows. Real parts: the test PostgreSQL, a schema of this file's.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createDatabasePort, type ClosableDatabasePort } from '../../adapters/db/index.js';
import { exactNumber } from '../../adapters/db/postgres.js';
import { defaultRegistry } from '../../components/registry.js';
import { createInProcessStarter, loadScenarioLibrary, randomIds, runScenario, systemClock, type ScenarioLibrary } from '../../engine/index.js';
import { tempDir } from '../helpers.js';
import { dropSchema, randomSchemaName, testPostgres } from '../store/postgres.helper.js';

const pgAvailable = await testPostgres();

const VALUES = `12.50::numeric AS a, 100.00::numeric AS b, 0.10::numeric AS c, -3.0::numeric AS d,
  123456789012345678901234.5::numeric AS big, 9007199254740993::bigint AS past, 9007199254740991::bigint AS top, 42::bigint AS small, 0.00::numeric AS z`;

const SCENARIOS: Record<string, string> = {
  Rows: `variables: { rows: json }
blocks:
  begin: { kind: Start, exits: { next: q } }
  q:
    kind: DbQuery
    sql: |
      SELECT ${VALUES.replace(/\n/g, '\n      ')}
    rows: rows
    exits: { success: r }
  r: { kind: ReturnValue, values: { 1: 'JsonGet([rows], "$[0].a") + 1' } }
`,
  Into: `variables: { total: number, label: string, big: string }
blocks:
  begin: { kind: Start, exits: { next: q } }
  q:
    kind: DbQuery
    sql: SELECT 117.50::numeric(10,2) AS total, 100.00::numeric AS label, 123456789012345678901234.5::numeric AS big
    into: { total: total, label: label, big: big }
    exits: { success: r }
  r: { kind: ReturnValue, values: { 1: '[total] + 1', 2: '[label]' } }
`,
  Proc: `variables: { rows: json, n: number }
blocks:
  begin: { kind: Start, exits: { next: p } }
  p:
    kind: DbProcedure
    procedure: order_sums
    rows: rows
    rowCount: n
    exits: { success: r }
  r: { kind: ReturnValue, values: { 1: 'JsonGet([rows], "$[0].total") + 1' } }
`,
};

describe('exact decimal texts as numbers', () => {
  it('trailing and leading zeros aside, the digits and the exponent must be the number\'s', () => {
    for (const [text, n] of [['12.50', 12.5], ['100.00', 100], ['0.10', 0.1], ['-3.0', -3], ['0.00', 0], ['-0.0', 0], ['007', 7], ['1.5e-7', 1.5e-7], ['1000000000000000000000', 1e21], ['9007199254740991', 9007199254740991]] as const) {
      assert.equal(exactNumber(text), n, text);
    }
    for (const text of ['123456789012345678901234.5', '9007199254740993', '9223372036854775807', '0.12345678901234567890', 'NaN', 'Infinity', '-Infinity']) {
      assert.equal(exactNumber(text), text, text);
    }
  });
});

describe('PostgreSQL numeric and bigint values', { skip: pgAvailable.skip }, () => {
  let schema: string;
  let admin: pg.Client;
  let tmp: ReturnType<typeof tempDir>;
  let lib: ScenarioLibrary;
  let db: ClosableDatabasePort;
  const run = (name: string) =>
    runScenario(lib, name, { variables: {}, ports: { databases: db, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) } });

  before(async () => {
    schema = randomSchemaName('pgnum');
    admin = new pg.Client({ connectionString: pgAvailable.url! });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.query(`CREATE FUNCTION ${schema}.order_sums() RETURNS TABLE (id bigint, total numeric(10,2), huge numeric) LANGUAGE sql AS $$
      VALUES (1::bigint, 117.50, 123456789012345678901234.5), (9007199254740993::bigint, 100.00, 1.0) $$`);
    tmp = tempDir();
    for (const [name, text] of Object.entries(SCENARIOS)) writeFileSync(join(tmp.dir, `${name}.yaml`), text);
    lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry, databases: { main: 'postgres' } });
    assert.deepEqual(lib.issues, []);
    const u = new URL(pgAvailable.url!);
    u.searchParams.set('options', `-c search_path=${schema}`);
    db = createDatabasePort({ main: { dialect: 'postgres', url: u.toString() } });
  });
  after(async () => {
    await db?.close();
    await admin?.end();
    if (schema) await dropSchema(pgAvailable.url!, schema);
    tmp?.cleanup();
  });

  it('DbQuery rows: exact values are JSON numbers, the rest JSON text', async () => {
    const r = await run('Rows');
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.deepEqual(JSON.parse(r.variables.rows as string), [
      { a: 12.5, b: 100, c: 0.1, d: -3, big: '123456789012345678901234.5', past: '9007199254740993', top: 9007199254740991, small: 42, z: 0 },
    ]);
    assert.equal(r.returnValues['1'], 13.5, 'JsonGet gives a number, and + adds');
  });

  it('DbQuery into: a money value into a number variable, 100.00 into a text variable as "100", a huge one as its text', async () => {
    const r = await run('Into');
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.equal(r.variables.total, 117.5);
    assert.equal(r.variables.label, '100');
    assert.equal(r.variables.big, '123456789012345678901234.5');
    assert.deepEqual(r.returnValues, { 1: 118.5, 2: '100' });
  });

  it('DbProcedure rows: the same rule', async () => {
    const r = await run('Proc');
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.equal(r.variables.n, 2);
    assert.deepEqual(JSON.parse(r.variables.rows as string), [
      { id: 1, total: 117.5, huge: '123456789012345678901234.5' },
      { id: '9007199254740993', total: 100, huge: 1 },
    ]);
    assert.equal(r.returnValues['1'], 118.5);
  });
});
