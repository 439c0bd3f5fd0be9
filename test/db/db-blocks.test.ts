// DbQuery and DbProcedure on a real SQLite file and, when one is reachable, a real PostgreSQL (its own schema):
// reads into variables, rows, rowCount, bound parameters, constraint errors, timeouts, dry runs that roll back,
// the effect journal, stored procedures.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createDatabasePort, type ClosableDatabasePort, type DatabaseSettings } from '../../adapters/db/index.js';
import { defaultRegistry } from '../../components/registry.js';
import {
  createInProcessStarter,
  loadScenarioLibrary,
  randomIds,
  runScenario,
  systemClock,
  type EffectJournalPort,
  type JsonValue,
  type ScenarioLibrary,
  type Value,
} from '../../engine/index.js';
import { tempDir } from '../helpers.js';
import { dropSchema, randomSchemaName, testPostgres } from '../store/postgres.helper.js';

/** Scenarios shared by both dialects; `%SEEN%` is the column type of an instant. */
const SCENARIOS: Record<string, string> = {
  Lookup: `variables: { phone: string, name: string, visits: number, seen: datetime, found: number, code: string }
start: find
blocks:
  find:
    kind: DbQuery
    sql: SELECT name, visits, seen, phone AS extra FROM clients WHERE phone = :phone
    params: { phone: '[phone]' }
    rowCount: found
    errorCode: code
    exits: { success: done, error: done }
  done: { kind: Stop }
`,
  Into: `variables: { who: string, all: json, n: number }
start: list
blocks:
  list:
    kind: DbQuery
    sql: |
      SELECT name, visits FROM clients
      WHERE visits >= :least -- a comment with :notAParameter and 'quotes'
      ORDER BY visits DESC
    params: { least: 1 }
    into: { who: name }
    rows: all
    rowCount: n
    maxRows: 2
  `,
  Visit: `variables: { phone: string, n: number }
start: visit
blocks:
  visit:
    kind: DbQuery
    sql: UPDATE clients SET visits = visits + 1 WHERE phone = :phone OR :phone = 'everyone'
    params: { phone: '[phone]' }
    rowCount: n
`,
  Add: `variables: { phone: string, name: string, n: number, code: string }
start: add
blocks:
  add:
    kind: DbQuery
    sql: INSERT INTO clients (phone, name, visits) VALUES (:phone, :name, 0)
    params: { phone: '[phone]', name: '[name]' }
    rowCount: n
    errorCode: code
    exits: { success: ok, error: failed }
  ok:
    kind: ReturnValue
    values: { 1: '"added"' }
  failed:
    kind: ReturnValue
    values: { 1: '"refused: " + [code]' }
`,
  AddAndReadBack: `variables: { phone: string, name: string, n: number }
start: add
blocks:
  add:
    kind: DbQuery
    sql: INSERT INTO clients (phone, name, visits) VALUES (:phone, 'Dry Run', 7)
    params: { phone: '[phone]' }
    exits: { success: read }
  read:
    kind: DbQuery
    sql: SELECT name, (SELECT count(*) FROM clients) AS n FROM clients WHERE phone = :phone
    params: { phone: '[phone]' }
`,
};

/** A slow statement per dialect, for the timeout exit (SQLite: waiting for a lock another connection holds). */
const SLOW: Record<'sqlite' | 'postgres', string> = {
  sqlite: `INSERT INTO clients (phone, name, visits) VALUES ('+70000000000', 'late', 0)`,
  postgres: 'SELECT pg_sleep(5) AS slept',
};

interface Dialect {
  name: 'sqlite' | 'postgres';
  settings: DatabaseSettings;
  /** Runs SQL behind the blocks' back (setup and checks). */
  sql(text: string, values?: unknown[]): Promise<Array<Record<string, unknown>>>;
  /** Holds a lock that makes the SLOW statement wait (SQLite); released by the returned function. */
  holdLock(): () => void;
  close(): Promise<void>;
}

function sqliteDialect(dir: string): Dialect {
  const path = join(dir, 'crm.sqlite');
  const raw = new Database(path);
  return {
    name: 'sqlite',
    settings: { main: { dialect: 'sqlite', path } },
    async sql(text, values = []) {
      const stmt = raw.prepare(text);
      return stmt.reader ? (stmt.all(...values) as Array<Record<string, unknown>>) : (stmt.run(...values), []);
    },
    holdLock() {
      raw.exec('BEGIN IMMEDIATE');
      return () => raw.exec('ROLLBACK');
    },
    async close() {
      raw.close();
    },
  };
}

async function postgresDialect(url: string): Promise<Dialect> {
  const schema = randomSchemaName('dbq');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.query(`SET search_path = ${schema}`);
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return {
    name: 'postgres',
    settings: { main: { dialect: 'postgres', url: u.toString() } },
    async sql(text, values = []) {
      return (await client.query(text, values)).rows;
    },
    holdLock: () => () => undefined,
    async close() {
      await client.end();
      await dropSchema(url, schema);
    },
  };
}

const CREATE: Record<'sqlite' | 'postgres', string> = {
  sqlite: 'CREATE TABLE clients (id INTEGER PRIMARY KEY, phone TEXT NOT NULL UNIQUE, name TEXT, visits INTEGER NOT NULL DEFAULT 0, seen TEXT)',
  postgres: 'CREATE TABLE clients (id SERIAL PRIMARY KEY, phone TEXT NOT NULL UNIQUE, name TEXT, visits INTEGER NOT NULL DEFAULT 0, seen TIMESTAMPTZ)',
};

function memoryJournal(): EffectJournalPort & { size(): number } {
  const m = new Map<string, JsonValue>();
  return {
    get: async (run, key) => m.get(`${run}/${key}`),
    put: async (run, key, v) => void m.set(`${run}/${key}`, v),
    size: () => m.size,
  };
}

for (const which of ['sqlite', 'postgres'] as const) {
  describe(`DbQuery on ${which}`, async () => {
    const pgAvailable = which === 'postgres' ? await testPostgres() : undefined;
    const skip = pgAvailable?.skip;
    let tmp: ReturnType<typeof tempDir>;
    let d: Dialect;
    let lib: ScenarioLibrary;
    let live: ClosableDatabasePort;

    before(async () => {
      if (skip) return;
      tmp = tempDir();
      d = which === 'sqlite' ? sqliteDialect(tmp.dir) : await postgresDialect(pgAvailable!.url!);
      await d.sql(CREATE[which]);
      await d.sql(`INSERT INTO clients (phone, name, visits, seen) VALUES ('+74950000001', 'Анна', 3, '2024-03-15T06:30:00Z'), ('+74950000002', 'Борис', 1, NULL), ('+74950000003', 'Вера', 0, NULL)`);
      const scenarios = { ...SCENARIOS, Slow: `variables: { code: string }\nstart: slow\nblocks:\n  slow:\n    kind: DbQuery\n    sql: ${SLOW[which]}\n    timeout: 0.3\n    errorCode: code\n    exits: { timeout: late }\n  late:\n    kind: ReturnValue\n    values: { 1: '"timeout: " + [code]' }\n` };
      for (const [name, text] of Object.entries(scenarios)) writeFileSync(join(tmp.dir, `${name}.yaml`), text);
      lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry, databases: { main: which } });
      assert.deepEqual(lib.issues, []);
      live = createDatabasePort(d.settings);
    });
    after(async () => {
      if (skip) return;
      await live.close();
      await d.close();
      tmp.cleanup();
    });

    const run = (name: string, variables: Record<string, Value> = {}, opts: { dryRun?: boolean; databases?: ClosableDatabasePort; journal?: EffectJournalPort; journalKey?: string } = {}) =>
      runScenario(lib, name, {
        variables,
        dryRun: opts.dryRun === true,
        ...(opts.journalKey ? { journalKey: opts.journalKey } : {}),
        timeZone: 'Europe/Moscow',
        ports: {
          databases: opts.databases ?? live,
          ...(opts.journal ? { journal: opts.journal } : {}),
          clock: systemClock,
          ids: randomIds,
          asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))),
        },
      });

    it('reads the first row into the variables named like its columns; a column without a variable is listed in the trace', { skip }, async () => {
      const r = await run('Lookup', { phone: '+74950000001' });
      assert.equal(r.status, 'completed', JSON.stringify(r.error));
      assert.equal(r.variables.name, 'Анна');
      assert.equal(r.variables.visits, 3);
      assert.ok(r.variables.seen instanceof Date);
      assert.equal((r.variables.seen as Date).toISOString(), '2024-03-15T06:30:00.000Z');
      assert.equal(r.variables.found, 1);
      assert.equal(r.variables.code, '');
      const step = r.trace.find((s) => s.block === 'find')!;
      assert.deepEqual(step.notes, ['columns without a variable of the same name, ignored: extra']);
      assert.deepEqual(r.dbCalls?.map((c) => [c.connection, c.status, c.rowCount, c.rolledBack, c.params]), [['main', 'ok', 1, false, { phone: '+74950000001' }]]);
    });

    it('no matching row: rowCount 0, the variables keep their values', { skip }, async () => {
      const r = await run('Lookup', { phone: '+70000000009', name: 'before' });
      assert.equal(r.status, 'completed', JSON.stringify(r.error));
      assert.equal(r.variables.found, 0);
      assert.equal(r.variables.name, 'before');
    });

    it('into: maps chosen columns; rows is JSON capped by maxRows while rowCount counts them all', { skip }, async () => {
      const r = await run('Into');
      assert.equal(r.status, 'completed', JSON.stringify(r.error));
      assert.equal(r.variables.who, 'Анна');
      assert.equal(r.variables.n, 2 + 0); // visits >= 1: Анна (3) and Борис (1)
      assert.deepEqual(JSON.parse(r.variables.all as string), [
        { name: 'Анна', visits: 3 },
        { name: 'Борис', visits: 1 },
      ]);
    });

    it('rowCount of an UPDATE is the number of rows it changed', { skip }, async () => {
      const before = await d.sql('SELECT sum(visits) AS s FROM clients');
      const r = await run('Visit', { phone: 'everyone' });
      assert.equal(r.status, 'completed', JSON.stringify(r.error));
      assert.equal(r.variables.n, 3);
      const afterSum = await d.sql('SELECT sum(visits) AS s FROM clients');
      assert.equal(Number(afterSum[0]!.s), Number(before[0]!.s) + 3);
    });

    it('an injection attempt in a parameter is stored as text and runs nothing', { skip }, async () => {
      const evil = "x'); DROP TABLE clients; --";
      const r = await run('Add', { phone: evil, name: "Robert'); DELETE FROM clients; --" });
      assert.equal(r.status, 'completed', JSON.stringify(r.error));
      assert.equal(r.returnValues['1'], 'added');
      const rows = await d.sql(`SELECT name FROM clients WHERE phone = ${which === 'sqlite' ? '?' : '$1'}`, [evil]);
      assert.deepEqual(rows.map((x) => x.name), ["Robert'); DELETE FROM clients; --"]);
      assert.ok(Number((await d.sql('SELECT count(*) AS n FROM clients'))[0]!.n) >= 4);
    });

    it('a unique-constraint violation takes the error exit with the driver\'s code', { skip }, async () => {
      const r = await run('Add', { phone: '+74950000002', name: 'twin' });
      assert.equal(r.status, 'completed', JSON.stringify(r.error));
      const code = which === 'sqlite' ? 'SQLITE_CONSTRAINT_UNIQUE' : '23505';
      assert.equal(r.returnValues['1'], `refused: ${code}`);
      assert.equal(r.dbCalls![0]!.status, 'error');
      assert.equal(r.dbCalls![0]!.code, code);
    });

    it('a statement that runs out of time takes the timeout exit', { skip }, async () => {
      const release = d.holdLock();
      let r;
      try {
        r = await run('Slow');
      } finally {
        release();
      }
      assert.equal(r.status, 'completed', JSON.stringify(r.error));
      assert.equal(r.returnValues['1'], `timeout: ${which === 'sqlite' ? 'SQLITE_BUSY' : '57014'}`);
    });

    it('a dry run inserts, reads its own insert back, and leaves the table unchanged', { skip }, async () => {
      const before = await d.sql('SELECT phone, name, visits FROM clients ORDER BY phone');
      const dry = createDatabasePort(d.settings, { rollsBack: true });
      const r = await run('AddAndReadBack', { phone: '+79990000000' }, { dryRun: true, databases: dry });
      await dry.close();
      assert.equal(r.status, 'completed', JSON.stringify(r.error));
      assert.equal(r.variables.name, 'Dry Run');
      assert.equal(r.variables.n, before.length + 1);
      assert.deepEqual(r.dbCalls?.map((c) => [c.status, c.rowCount, c.rolledBack]), [
        ['ok', 1, true],
        ['ok', 1, true],
      ]);
      assert.deepEqual(await d.sql('SELECT phone, name, visits FROM clients ORDER BY phone'), before);
    });

    it('a dry run without a session that rolls back does not touch the database', { skip }, async () => {
      const r = await run('Add', { phone: '+79990000001', name: 'x' }, { dryRun: true });
      assert.equal(r.status, 'failed');
      assert.equal(r.error!.code, 'R_ADAPTER_MISSING');
      assert.equal((await d.sql(`SELECT count(*) AS n FROM clients WHERE phone = '+79990000001'`))[0]!.n, which === 'sqlite' ? 0 : '0');
    });

    it('a retried run replays a write that committed instead of repeating it (effect journal)', { skip }, async () => {
      const journal = memoryJournal();
      const first = await run('Add', { phone: '+79990000002', name: 'once' }, { journal, journalKey: 'job-1' });
      const again = await run('Add', { phone: '+79990000002', name: 'once' }, { journal, journalKey: 'job-1' });
      assert.equal(first.returnValues['1'], 'added');
      assert.equal(again.returnValues['1'], 'added', 'the replay takes the success exit, not a unique violation');
      assert.equal(again.dbCalls![0]!.status, 'replayed');
      assert.equal(Number((await d.sql(`SELECT count(*) AS n FROM clients WHERE phone = '+79990000002'`))[0]!.n), 1);
      // A job's read is kept too, so a retry reads what its earlier attempt read (the effects replayed after it were
      // made for those rows). Three entries: the write, the record of the scenario version job-1 made it with
      // (journal-versions.ts; a read records none), and job-2's read.
      const read = await run('Lookup', { phone: '+74950000001' }, { journal, journalKey: 'job-2' });
      assert.equal(journal.size(), 3);
      assert.equal(read.dbCalls![0]!.status, 'ok');
      const reread = await run('Lookup', { phone: '+74950000001' }, { journal, journalKey: 'job-2' });
      assert.equal(reread.dbCalls![0]!.status, 'replayed');
      assert.equal(reread.variables.name, 'Анна');
    });
  });
}

describe('DbProcedure on postgres', async () => {
  const pgAvailable = await testPostgres();
  const skip = pgAvailable.skip;
  let tmp: ReturnType<typeof tempDir>;
  let d: Dialect;
  let lib: ScenarioLibrary;
  let live: ClosableDatabasePort;
  before(async () => {
    if (skip) return;
    tmp = tempDir();
    d = await postgresDialect(pgAvailable.url!);
    await d.sql('CREATE TABLE calls (phone text NOT NULL, operator text)');
    await d.sql(`CREATE PROCEDURE register_call(phone text, operator text, OUT total integer) LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO calls VALUES (phone, operator); SELECT count(*) INTO total FROM calls; END $$`);
    await d.sql(`CREATE FUNCTION calls_of(who text) RETURNS TABLE (phone text, operator text) LANGUAGE sql AS $$
      SELECT phone, operator FROM calls WHERE operator = who ORDER BY phone $$`);
    writeFileSync(
      join(tmp.dir, 'Register.yaml'),
      `variables: { phone: string, total: number, code: string }
start: register
blocks:
  register:
    kind: DbProcedure
    procedure: register_call
    params: { phone: '[phone]', operator: '"op-7"' }
    errorCode: code
    exits: { success: done, error: done }
  done: { kind: Stop }
`,
    );
    writeFileSync(
      join(tmp.dir, 'CallsOf.yaml'),
      `variables: { phone: string, list: json, n: number }
start: list
blocks:
  list:
    kind: DbProcedure
    procedure: calls_of
    params: { who: '"op-7"' }
    rows: list
    rowCount: n
`,
    );
    lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry, databases: { main: 'postgres' } });
    assert.deepEqual(lib.issues, []);
    live = createDatabasePort(d.settings);
  });
  after(async () => {
    if (skip) return;
    await live.close();
    await d.close();
    tmp.cleanup();
  });
  const run = (name: string, variables: Record<string, Value> = {}, databases: ClosableDatabasePort = live, dryRun = false) =>
    runScenario(lib, name, { variables, dryRun, ports: { databases, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) } });

  it('calls a procedure (its OUT argument into the same-name variable) and a set-returning function (rows)', { skip }, async () => {
    const a = await run('Register', { phone: '+74950000001' });
    const b = await run('Register', { phone: '+74950000002' });
    assert.equal(a.status, 'completed', JSON.stringify(a.error));
    assert.equal(a.variables.total, 1);
    assert.equal(b.variables.total, 2);
    assert.equal(b.dbCalls![0]!.statement, 'procedure register_call');
    const list = await run('CallsOf');
    assert.equal(list.status, 'completed', JSON.stringify(list.error));
    assert.equal(list.variables.n, 2);
    assert.deepEqual(JSON.parse(list.variables.list as string), [
      { phone: '+74950000001', operator: 'op-7' },
      { phone: '+74950000002', operator: 'op-7' },
    ]);
  });

  it('a dry run calls the procedure inside a transaction that is rolled back', { skip }, async () => {
    const count = async () => Number((await d.sql('SELECT count(*) AS n FROM calls'))[0]!.n);
    const before = await count();
    const dry = createDatabasePort(d.settings, { rollsBack: true });
    const r = await run('Register', { phone: '+74950000003' }, dry, true);
    await dry.close();
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.equal(r.variables.total, before + 1);
    assert.equal(r.dbCalls![0]!.rolledBack, true);
    assert.equal(await count(), before);
  });

  it('a procedure that does not exist takes the error exit with its SQLSTATE', { skip }, async () => {
    await d.sql('DROP PROCEDURE register_call');
    const r = await run('Register', { phone: '1' });
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.equal(r.variables.code, '42883');
    assert.equal(r.dbCalls![0]!.status, 'error');
  });
});

describe('a database that does not answer', () => {
  it('fails the run as retryable (the server retries it), without the error exit', async () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'Add.yaml'), SCENARIOS.Add!);
      const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry, databases: { main: 'postgres' } });
      const db = createDatabasePort({ main: { dialect: 'postgres', url: 'postgres://nobody:secret-pw@127.0.0.1:1/none' } });
      const r = await runScenario(lib, 'Add', { variables: { phone: '1', name: 'x' }, ports: { databases: db, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) } });
      await db.close();
      assert.equal(r.status, 'failed');
      assert.equal(r.error!.code, 'R_EFFECT_TRANSIENT');
      assert.equal(r.error!.retryable, true);
      assert.ok(!JSON.stringify(r).includes('secret-pw'), 'the password is nowhere in the result');
    } finally {
      tmp.cleanup();
    }
  });
});
