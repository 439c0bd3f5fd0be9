// `oktell-emu test` with a known data set: fresh SQLite databases per case from the scenarios' migrations and the
// test file's `db:`, writes seen within the case and never kept, `dbCalls` in expectations.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../cli/cli-process.js';
import { tempDir } from '../helpers.js';

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

describe('oktell-emu test with db: data sets', () => {
  it('each case starts from the migrations and its data; a mismatch is reported at its line', () => {
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(join(scenarios, 'db', 'main'), { recursive: true });
      mkdirSync(join(scenarios, 'tests'));
      writeFileSync(join(scenarios, 'Find.yaml'), FIND);
      writeFileSync(join(scenarios, 'db', 'main', '001-tables.sql'), 'CREATE TABLE clients (phone TEXT PRIMARY KEY, name TEXT); CREATE TABLE lookups (phone TEXT);');
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
});
