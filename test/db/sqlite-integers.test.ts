// Whole numbers on SQLite (trial 56): a number variable is bound as an INTEGER, so a phone or an order number kept as
// TEXT is stored and found as its digits ("79161234567", not "79161234567.0"); and an INTEGER past 2^53 is read as
// its digits in text, as PostgreSQL's bigint is, not as the nearest double (9007199254740993 became ...992).
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDatabasePort, type ClosableDatabasePort } from '../../adapters/db/index.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary, type ScenarioLibrary, type Value } from '../../engine/index.js';
import { tempDir } from '../helpers.js';
import { runWithDatabases } from './run-with-databases.helper.js';

const SCENARIOS: Record<string, string> = {
  // The phone arrives as a number (a webhook's JSON number, a number variable) and the table keeps phones as text.
  AddAndFind: `variables: { phone: number, name: string, kept: string, found: number, rows: string }
start: add
blocks:
  add:
    kind: DbQuery
    sql: INSERT INTO clients (phone, name) VALUES (:phone, 'Анна')
    params: { phone: '[phone]' }
    exits: { success: find }
  find:
    kind: DbQuery
    sql: SELECT name, phone AS kept FROM clients WHERE phone = :phone
    params: { phone: '[phone]' }
    rowCount: found
    exits: { success: all }
  all:
    kind: DbQuery
    sql: SELECT phone, typeof(phone) AS kind FROM clients
    rows: rows
`,
  // Another program wrote the client with the phone as text.
  Find: `variables: { phone: number, name: string, found: number }
start: find
blocks:
  find:
    kind: DbQuery
    sql: SELECT name FROM clients WHERE phone = :phone
    params: { phone: '[phone]' }
    rowCount: found
`,
  Big: `variables: { id: string, small: number, ratio: number, rows: string }
start: q
blocks:
  q:
    kind: DbQuery
    sql: SELECT 9007199254740993 AS id, -9223372036854775808 AS least, 42 AS small, :half AS ratio
    params: { half: 1.5 }
    rows: rows
`,
};

describe('whole numbers on SQLite', () => {
  let tmp: ReturnType<typeof tempDir>;
  let path: string;
  let lib: ScenarioLibrary;
  let live: ClosableDatabasePort;

  before(async () => {
    tmp = tempDir();
    path = join(tmp.dir, 'crm.sqlite');
    const raw = new Database(path);
    raw.exec(`CREATE TABLE clients (phone TEXT NOT NULL, name TEXT); INSERT INTO clients VALUES ('79031112233', 'Борис')`);
    raw.close();
    for (const [name, text] of Object.entries(SCENARIOS)) writeFileSync(join(tmp.dir, `${name}.yaml`), text);
    lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry, databases: { main: 'sqlite' } });
    assert.deepEqual(lib.issues, []);
    live = createDatabasePort({ main: { dialect: 'sqlite', path } });
  });
  after(async () => {
    await live.close();
    tmp.cleanup();
  });

  const run = (name: string, variables: Record<string, Value> = {}, databases: ClosableDatabasePort = live) => runWithDatabases(lib, name, databases, { dryRun: databases !== live, variables });

  it('a whole number goes into a TEXT column as its digits and a WHERE on that column finds it', async () => {
    const r = await run('AddAndFind', { phone: 79161234567 });
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.equal(r.variables.found, 1, 'the row just written is found by the same number');
    assert.equal(r.variables.kept, '79161234567');
    assert.deepEqual(JSON.parse(r.variables.rows as string), [{ phone: '79031112233', kind: 'text' }, { phone: '79161234567', kind: 'text' }]);
    const raw = new Database(path, { readonly: true });
    try {
      assert.deepEqual(raw.prepare('SELECT phone FROM clients').pluck().all(), ['79031112233', '79161234567']);
    } finally {
      raw.close();
    }
  });

  it('a number finds the row another program wrote with the phone as text, in a live run and a dry run', async () => {
    const r = await run('Find', { phone: 79031112233 });
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.equal(r.variables.found, 1);
    assert.equal(r.variables.name, 'Борис');
    const dry = createDatabasePort({ main: { dialect: 'sqlite', path } }, { rollsBack: true });
    try {
      const d = await run('Find', { phone: 79031112233 }, dry);
      assert.equal(d.status, 'completed', JSON.stringify(d.error));
      assert.equal(d.variables.found, 1);
    } finally {
      await dry.close();
    }
  });

  it('an INTEGER past 2^53 is read as its digits in text; smaller ones and decimals stay numbers', async () => {
    const r = await run('Big');
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.deepEqual(JSON.parse(r.variables.rows as string), [{ id: '9007199254740993', least: '-9223372036854775808', small: 42, ratio: 1.5 }]);
    assert.equal(r.variables.id, '9007199254740993');
    assert.equal(r.variables.small, 42);
    assert.equal(r.variables.ratio, 1.5);
  });
});

describe('PRAGMA foreign_keys on SQLite', () => {
  it("a scenario's PRAGMA foreign_keys = OFF does not hold for the next statements on the connection", async () => {
    const tmp = tempDir();
    const path = join(tmp.dir, 'shop.sqlite');
    const raw = new Database(path);
    raw.exec('CREATE TABLE clients (id INTEGER PRIMARY KEY); CREATE TABLE orders (id INTEGER PRIMARY KEY, client_id INTEGER REFERENCES clients(id))');
    raw.close();
    writeFileSync(join(tmp.dir, 'Off.yaml'), `start: off\nblocks:\n  off:\n    kind: DbQuery\n    sql: PRAGMA foreign_keys = OFF\n`);
    writeFileSync(join(tmp.dir, 'Order.yaml'), `variables: { code: string }\nstart: add\nblocks:\n  add:\n    kind: DbQuery\n    sql: INSERT INTO orders (id, client_id) VALUES (1, 99)\n    errorCode: code\n    exits: { success: done, error: done }\n  done: { kind: Stop }\n`);
    const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry, databases: { main: 'sqlite' } });
    assert.deepEqual(lib.issues, []);
    const live = createDatabasePort({ main: { dialect: 'sqlite', path } });
    const run = (name: string) => runWithDatabases(lib, name, live);
    try {
      assert.equal((await run('Off')).status, 'completed');
      const r = await run('Order');
      assert.equal(r.status, 'completed', JSON.stringify(r.error));
      assert.equal(r.variables.code, 'SQLITE_CONSTRAINT_FOREIGNKEY', 'the key still holds for the next run');
    } finally {
      await live.close();
      tmp.cleanup();
    }
  });
});
