// `oktell-emu test` with a known data set: fresh SQLite databases per case from the scenarios' migrations and the
// test file's `db:`, writes seen within the case and never kept, `dbCalls` in expectations.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { runCli } from '../cli/cli-process.js';
import { repoPath, repoRoot, tempDir } from '../helpers.js';
import { dropSchema, randomSchemaName } from '../store/postgres.helper.js';

const PG_URL = process.env.OKTELL_TEST_PG_URL;

const FIND = `variables: { name: string, n: number }
start: find
blocks:
  find:
    kind: DbQuery
    sql: SELECT name FROM clients WHERE phone = :phone
    params: { phone: InputParameter(1) }
    exits: { success: log }
  log:
    kind: DbQuery
    sql: INSERT INTO lookups (phone) VALUES (:phone)
    params: { phone: InputParameter(1) }
    exits: { success: count }
  count:
    kind: DbQuery
    sql: SELECT count(*) AS n FROM lookups
`;

const TESTS = `db:
  main: |
    INSERT INTO clients VALUES ('+7001', 'Анна');
cases:
  - name: a known client
    scenario: Find
    params: { 1: "+7001" }
    expect:
      variables: { name: Анна, n: 1 }
      dbCalls:
        - { statement: { contains: SELECT name }, status: ok, rowCount: 1, rolledBack: true }
        - { status: ok, rowCount: 1, params: { phone: "+7001" } }
        - { rowCount: 1 }
  - name: the previous case's insert is gone; a case adds its own rows
    scenario: Find
    params: { 1: "+7002" }
    db:
      main: "@extra.sql"
    expect:
      variables: { name: Борис, n: 3 }
  - name: a wrong expectation fails
    scenario: Find
    params: { 1: "+7001" }
    expect:
      variables: { name: Вера }
`;

/** A scenarios folder under `root` with db/main and tests/, the scenario `name` as `text`, and the migration `sql`. */
function scenariosFolder(root: string, name: string, text: string, migration: [string, string]): string {
  const scenarios = join(root, 'scenarios');
  mkdirSync(join(scenarios, 'db', 'main'), { recursive: true });
  mkdirSync(join(scenarios, 'tests'));
  writeFileSync(join(scenarios, name), text);
  writeFileSync(join(scenarios, 'db', 'main', migration[0]), migration[1]);
  return scenarios;
}

describe('oktell-emu test with db: data sets', () => {
  it('each case starts from the migrations and its data; a mismatch is reported at its line', () => {
    const tmp = tempDir();
    try {
      const scenarios = scenariosFolder(tmp.dir, 'Find.yaml', FIND, ['001-tables.sql', 'CREATE TABLE clients (phone TEXT PRIMARY KEY, name TEXT); CREATE TABLE lookups (phone TEXT);']);
      writeFileSync(join(scenarios, 'tests', 'find.test.yaml'), TESTS);
      writeFileSync(join(scenarios, 'tests', 'extra.sql'), "INSERT INTO clients VALUES ('+7002', 'Борис'); INSERT INTO lookups VALUES ('a'), ('b');");
      const r = runCli(['test', '--scenarios', scenarios], { OKTELL_DATA_DIR: join(tmp.dir, 'var') });
      assert.equal(r.code, 1, r.stderr + r.stdout);
      assert.match(r.stdout, /✓ .*a known client/);
      assert.match(r.stdout, /✓ .*the previous case's insert is gone/);
      assert.match(r.stdout, /✗ .*a wrong expectation fails/);
      assert.match(r.stdout, /find\.test\.yaml:\d+:\d+ variables\.name: expected "Вера" got "Анна"/);
      assert.match(r.stdout, /2 passed, 1 failed/);
    } finally {
      tmp.cleanup();
    }
  });

  it('a data set the database refuses is a located problem of the test file: its cases do not run, the others do', () => {
    const tmp = tempDir();
    try {
      const scenarios = scenariosFolder(tmp.dir, 'Find.yaml', FIND, ['001-tables.sql', "CREATE TABLE clients (phone TEXT PRIMARY KEY, name TEXT); CREATE TABLE lookups (phone TEXT); INSERT INTO clients VALUES ('+7001', 'Анна');"]);
      // The file's data set inserts the migration's row again: both of its cases are kept from running.
      writeFileSync(join(scenarios, 'tests', 'clash.test.yaml'), [
        'db:',
        '  main: "INSERT INTO clients VALUES (\'+7001\', \'Анна\');"',
        'cases:',
        '  - { name: first, scenario: Find, params: { 1: "+7001" }, expect: { status: completed } }',
        '  - { name: second, scenario: Find, params: { 1: "+7001" }, expect: { status: completed } }',
        '',
      ].join('\n'));
      // A case's own data set names a table no migration creates; the next case of the file still runs.
      writeFileSync(join(scenarios, 'tests', 'missing.test.yaml'), [
        'cases:',
        '  - name: no table',
        '    scenario: Find',
        '    params: { 1: "+7001" }',
        '    db:',
        '      main: "INSERT INTO nosuch VALUES (1);"',
        '    expect: { status: completed }',
        '  - { name: still runs, scenario: Find, params: { 1: "+7001" }, expect: { variables: { name: Анна } } }',
        '',
      ].join('\n'));
      const env = { OKTELL_DATA_DIR: join(tmp.dir, 'var') };
      const r = runCli(['test', '--scenarios', scenarios], env);
      assert.equal(r.code, 2, r.stderr + r.stdout);
      assert.doesNotMatch(r.stderr, /at caseDatabases|Error:/);
      assert.match(r.stderr, /clash\.test\.yaml:2:9 E_DATA_SET db\.main: the data set fails on a fresh "main" database: UNIQUE constraint failed: clients\.phone \(2 cases were not run\)\n\s+hint: the row is there already/);
      assert.match(r.stderr, /missing\.test\.yaml:6:13 E_DATA_SET db\.main: .*no such table: nosuch \(its case was not run\)\n\s+hint: .*create the table in a migration/);
      // The hints name the migrations of the folder the cases run, as the command shows paths (from its folder).
      const migrations = `${relative(repoRoot, join(scenarios, 'db', 'main'))}/*.sql`;
      assert.ok(r.stderr.includes(`hint: the row is there already (a migration, ${migrations}, or an earlier data set inserts it too)`), r.stderr);
      assert.ok(r.stderr.includes(`hint: a data set fills tables: create the table in a migration (${migrations}), which`), r.stderr);
      assert.match(r.stdout, /✓ .*still runs/);
      assert.doesNotMatch(r.stdout, /first|second|no table/);
      assert.match(r.stdout, /1 passed, 0 failed; 2 problem\(s\) listed above \(the cases they concern did not run\)/);

      const j = runCli(['test', '--scenarios', scenarios, '--json'], env);
      assert.equal(j.code, 2, j.stderr);
      const report = JSON.parse(j.stdout) as { passed: number; status: string; issues: Array<{ file: string; line: number; code: string }> };
      assert.equal(report.passed, 1);
      assert.equal(report.status, 'invalid');
      assert.deepEqual(report.issues.map((i) => [i.file.split(/[\\/]/).pop(), i.line, i.code]), [['clash.test.yaml', 2, 'E_DATA_SET'], ['missing.test.yaml', 6, 'E_DATA_SET']]);
    } finally {
      tmp.cleanup();
    }
  });

  it('a case without db: gets every connection the folder uses, not only main, as a recorded case expects', () => {
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(join(scenarios, 'db', 'crm'), { recursive: true });
      mkdirSync(join(scenarios, 'tests'));
      // One connection with migrations, one only named by a block: both exist in a case, fresh and empty but for them.
      writeFileSync(join(scenarios, 'db', 'crm', '001-clients.sql'), "CREATE TABLE clients (phone TEXT, name TEXT); INSERT INTO clients VALUES ('+7001', 'Анна');");
      writeFileSync(join(scenarios, 'Lookup.yaml'), [
        'variables: { name: string, n: number }',
        'start: find',
        'blocks:',
        '  find:',
        '    kind: DbQuery',
        '    connection: crm',
        '    sql: SELECT name FROM clients WHERE phone = :phone',
        '    params: { phone: InputParameter(1) }',
        '    exits: { success: scratch }',
        '  scratch:',
        '    kind: DbQuery',
        '    connection: scratch',
        '    sql: SELECT 1 AS n',
        '',
      ].join('\n'));
      writeFileSync(join(scenarios, 'tests', 'lookup.test.yaml'), [
        'cases:',
        '  - name: named connections without db',
        '    scenario: Lookup',
        '    params: { 1: "+7001" }',
        '    expect:',
        '      status: completed',
        '      variables: { name: Анна, n: 1 }',
        '      dbCalls:',
        '        - { connection: crm, status: ok, rowCount: 1 }',
        '        - { connection: scratch, status: ok, rowCount: 1 }',
        '',
      ].join('\n'));
      const r = runCli(['test', '--scenarios', scenarios], { OKTELL_DATA_DIR: join(tmp.dir, 'var') });
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /1 passed, 0 failed/);
    } finally {
      tmp.cleanup();
    }
  });

  it('a migration that fails on a fresh test database is a problem at its file', () => {
    const tmp = tempDir();
    try {
      const scenarios = scenariosFolder(tmp.dir, 'Find.yaml', FIND, ['001-tables.sql', 'CREATE TABLE clients (phone TEXT PRIMARY KEY, name TEXT); INSERT INTO lookups VALUES (1);']);
      writeFileSync(join(scenarios, 'tests', 'find.test.yaml'), 'cases:\n  - { name: a, scenario: Find, params: { 1: "+7001" }, expect: { status: completed } }\n');
      const r = runCli(['test', '--scenarios', scenarios, '--json'], { OKTELL_DATA_DIR: join(tmp.dir, 'var') });
      assert.equal(r.code, 2, r.stderr + r.stdout);
      const report = JSON.parse(r.stdout) as { status: string; issues: Array<{ file: string; line: number; code: string; message: string }> };
      assert.equal(report.status, 'invalid');
      assert.equal(report.issues.length, 1);
      assert.match(report.issues[0]!.file, /db[\\/]main[\\/]001-tables\.sql$/);
      assert.equal(report.issues[0]!.code, 'E_DATA_SET');
      assert.match(report.issues[0]!.message, /no such table: lookups/);
    } finally {
      tmp.cleanup();
    }
  });

  it('a case whose run makes no statement gets no database: a broken migration stops only the cases that reach one', () => {
    const tmp = tempDir();
    try {
      const scenarios = scenariosFolder(tmp.dir, 'Find.yaml', FIND, ['001-tables.sql', 'CREATE TABLE clients (phone TEXT PRIMARY KEY, name TEXT); INSERT INTO lookups VALUES (1);']);
      writeFileSync(join(scenarios, 'Hello.yaml'), 'start: done\nblocks:\n  done: { kind: ReturnValue, values: { 1: "\'hi\'" } }\n');
      writeFileSync(join(scenarios, 'tests', 'both.test.yaml'), 'cases:\n  - { name: no database, scenario: Hello, expect: { returnValues: { 1: hi } } }\n  - { name: a lookup, scenario: Find, params: { 1: "+7001" }, expect: { status: completed } }\n');
      const r = runCli(['test', '--scenarios', scenarios], { OKTELL_DATA_DIR: join(tmp.dir, 'var') });
      assert.equal(r.code, 2, r.stderr + r.stdout);
      // The migration is never applied for the case without statements, so it runs and passes.
      assert.match(r.stdout, /✓ .*no database/);
      assert.doesNotMatch(r.stdout, /✓ .*a lookup/);
      assert.match(r.stdout + r.stderr, /001-tables\.sql.*E_DATA_SET.*no such table: lookups/);
    } finally {
      tmp.cleanup();
    }
  });

  it("the docs' data set example passes with the docs' LookupClient and migration, pasted as they are", () => {
    const block = (page: string, re: RegExp) => {
      const m = re.exec(readFileSync(repoPath('docs', page), 'utf8'));
      assert.ok(m, `${page}: ${re}`);
      return m[1]!;
    };
    const tmp = tempDir();
    try {
      const scenarios = scenariosFolder(tmp.dir, 'LookupClient.yaml', block('scenario-format.md', /```yaml\n(# db example: LookupClient\.yaml\n[\s\S]*?)```/), ['001-clients.sql', block('configuration.md', /```sql\n-- scenarios\/db\/main\/001-clients\.sql\n([\s\S]*?)```/)]);
      writeFileSync(join(scenarios, 'tests', 'lookup.test.yaml'), block('testing-scenarios.md', /A case with a data set[\s\S]*?```yaml\n([\s\S]*?)```/));
      writeFileSync(join(scenarios, 'tests', 'more-clients.sql'), "INSERT INTO clients (phone, name) VALUES ('+75550001122', 'Иван');");
      const r = runCli(['test', '--scenarios', scenarios], { OKTELL_DATA_DIR: join(tmp.dir, 'var') });
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /2 passed, 0 failed/);
    } finally {
      tmp.cleanup();
    }
  });

  it('a connection configured as PostgreSQL runs on SQLite in a case: a failing statement or data set says so, with where it is set, and PostgreSQL is never touched', { skip: PG_URL ? false : 'set OKTELL_TEST_PG_URL to run it' }, async () => {
    const schema = randomSchemaName('tcrm');
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    const tmp = tempDir();
    try {
      // The real database has the table and Анна; the scenario reads it with ILIKE, which SQLite does not take.
      await client.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.clients (phone text, name text); INSERT INTO ${schema}.clients VALUES ('+7001', 'Анна')`);
      const url = new URL(PG_URL!);
      url.searchParams.set('options', `-c search_path=${schema}`);
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(join(scenarios, 'tests'), { recursive: true });
      writeFileSync(join(scenarios, 'Lookup.yaml'), [
        'variables: { name: string, dbError: string }',
        'start: find',
        'blocks:',
        '  find:',
        '    kind: DbQuery',
        '    connection: crm',
        '    sql: SELECT name FROM clients WHERE phone ILIKE :phone',
        '    params: { phone: InputParameter(1) }',
        '    errorCode: dbError',
        '    exits: { success: done, error: done }',
        '  done: { kind: ReturnValue, values: { 1: "[name]" } }',
        '',
      ].join('\n'));
      writeFileSync(join(scenarios, 'tests', 'lookup.test.yaml'), 'cases:\n  - { name: Анна is found, scenario: Lookup, params: { 1: "+7001" }, expect: { returnValues: { 1: Анна } } }\n');
      const config = join(tmp.dir, 'oktell.config.yaml');
      writeFileSync(config, `databases:\n  crm: ${url.toString()}\n`);
      const env = { OKTELL_DATA_DIR: join(tmp.dir, 'var'), OKTELL_CONFIG: config };
      const shownConfig = config;

      const failing = runCli(['test', '--scenarios', scenarios], env);
      assert.equal(failing.code, 1, failing.stderr + failing.stdout);
      assert.match(failing.stdout, /returnValues\.1: expected "Анна" got ""/);
      assert.ok(failing.stderr.includes(`note: statements on connection "crm" failed in case ${relative(repoRoot, join(scenarios, 'tests', 'lookup.test.yaml'))} › Анна is found (SQLite: near "ILIKE": syntax error): "crm" is PostgreSQL (${shownConfig}:2:8 (databases.crm)), but a test case never opens it: it runs every connection on a fresh SQLite database of its own`), failing.stderr);
      assert.match(failing.stderr, /try the statement on PostgreSQL with oktell-emu run --dry-run/);

      // A data set for that connection: a located problem whose hint says where its tables must come from.
      writeFileSync(join(scenarios, 'tests', 'lookup.test.yaml'), 'db:\n  crm: "INSERT INTO clients VALUES (\'+7002\', \'Вера\');"\ncases:\n  - { name: Вера is found, scenario: Lookup, params: { 1: "+7002" }, expect: { returnValues: { 1: Вера } } }\n');
      const dataSet = runCli(['test', '--scenarios', scenarios], env);
      assert.equal(dataSet.code, 2, dataSet.stderr + dataSet.stdout);
      assert.match(dataSet.stderr, /lookup\.test\.yaml:2:8 E_DATA_SET db\.crm: the data set fails on a fresh "crm" database: no such table: clients \(its case was not run\)/);
      assert.ok(dataSet.stderr.includes(`hint: "crm" is PostgreSQL (${shownConfig}:2:8 (databases.crm)), but a case never opens it: it runs every connection on a fresh SQLite database of its own, which has only the tables of ${relative(repoRoot, join(scenarios, 'db', 'crm'))}/*.sql`), dataSet.stderr);

      // With the table in a migration and SQL SQLite takes too, the case passes, on SQLite.
      mkdirSync(join(scenarios, 'db', 'crm'), { recursive: true });
      writeFileSync(join(scenarios, 'db', 'crm', '001-clients.sql'), 'CREATE TABLE clients (phone TEXT, name TEXT);');
      writeFileSync(join(scenarios, 'Lookup.yaml'), readFileSync(join(scenarios, 'Lookup.yaml'), 'utf8').replace('ILIKE', 'LIKE'));
      const passing = runCli(['test', '--scenarios', scenarios], env);
      assert.equal(passing.code, 0, passing.stderr + passing.stdout);
      assert.doesNotMatch(passing.stderr, /note:/);

      // PostgreSQL kept its one row and got no migrations table.
      assert.deepEqual((await client.query(`SELECT name FROM ${schema}.clients`)).rows, [{ name: 'Анна' }]);
      assert.equal((await client.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1`, [schema])).rows[0].n, 1);
    } finally {
      await client.end();
      await dropSchema(PG_URL!, schema);
      tmp.cleanup();
    }
  });
});
