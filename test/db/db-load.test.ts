// What is checked before anything runs: parameters against the statement, the connection's name and dialect,
// placeholders the drivers would not bind; and the `databases:` settings (passwords never in messages).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { databaseSettings, describeDatabase } from '../../adapters/db/settings.js';
import { defaultRegistry } from '../../components/registry.js';
import { formatIssue, isReadOnlySql, loadScenarioText, parseNamedSql } from '../../engine/index.js';
import { loadServerConfig } from '../../server/config.js';
import { tempDir } from '../helpers.js';

const load = (text: string, databases: Record<string, 'sqlite' | 'postgres'> = { main: 'sqlite', crm: 'postgres' }) => {
  const r = loadScenarioText('scenarios/Db.yaml', text, { registry: defaultRegistry, databases });
  return r.ok ? [] : r.issues.map(formatIssue);
};

describe('DbQuery and DbProcedure at load time', () => {
  it('a :name the statement uses without a value in params, at the :name itself', () => {
    const issues = load(`variables: { phone: string }
start: q
blocks:
  q:
    kind: DbQuery
    sql: SELECT name FROM clients WHERE phone = :phone AND region = :region
    params: { phone: '[phone]' }
`);
    assert.deepEqual(issues, [`scenarios/Db.yaml:6:69 E_MISSING_PROPERTY the statement uses :region, which "params" does not give [block q]\n    hint: add it, bound to the variable or value it stands for: params: { region: '[variable]' } or params: { region: '"text"' } (no variable "region" is declared)`]);
  });

  it('a :name left out of params, on its own line of a sql: | block', () => {
    const issues = load(`variables: { n: string }
start: q
blocks:
  q:
    kind: DbQuery
    sql: |
      INSERT INTO orders (order_no, status)
      VALUES (:n, :status)
    params: { n: '[n]' }
`);
    assert.deepEqual(issues.map((i) => i.split(' [block')[0]), ['scenarios/Db.yaml:8:19 E_MISSING_PROPERTY the statement uses :status, which "params" does not give']);
  });

  it('an unknown connection, with a suggestion', () => {
    const issues = load(`start: q
blocks:
  q:
    kind: DbQuery
    connection: crn
    sql: SELECT 1 AS one
`);
    assert.equal(issues.length, 1);
    assert.match(issues[0]!, /^scenarios\/Db\.yaml:5:17 E_UNKNOWN_CONNECTION no database connection named "crn" is configured \[block q\]\n {4}hint: did you mean "crm"\?/);
  });

  it('DbProcedure on an SQLite connection says why not', () => {
    const issues = load(`start: p
blocks:
  p:
    kind: DbProcedure
    procedure: register_call
`);
    assert.equal(issues.length, 1);
    assert.match(issues[0]!, /:5:16 E_INVALID_PROPERTY connection "main" is SQLite, which has no stored procedures/);
    assert.deepEqual(load(`start: p\nblocks:\n  p:\n    kind: DbProcedure\n    connection: crm\n    procedure: register_call\n`), []);
  });

  it('a procedure name that is not name or schema.name is refused (it is written into the CALL)', () => {
    const issues = load(`start: p\nblocks:\n  p:\n    kind: DbProcedure\n    connection: crm\n    procedure: "x(); DROP TABLE t; --"\n`);
    assert.equal(issues.length, 1);
    assert.match(issues[0]!, /E_INVALID_PROPERTY/);
  });

  it('an unused parameter and placeholders other than :name are reported, a placeholder at its own line:col', () => {
    const issues = load(`variables: { phone: string }
start: q
blocks:
  q:
    kind: DbQuery
    sql: SELECT name FROM clients WHERE phone = ?
    params: { phone: '[phone]' }
`);
    assert.equal(issues.length, 2);
    assert.match(issues[0]!, /:6:49 E_INVALID_PROPERTY the statement uses the placeholder \?; parameters are written :name/);
    assert.match(issues[1]!, /:7:22 E_INVALID_PROPERTY parameter "phone" is not used by the statement/);
  });

  it('a placeholder inside a sql: | block is placed on its own line', () => {
    const issues = load(`variables: { phone: string }\nstart: q\nblocks:\n  q:\n    kind: DbQuery\n    sql: |\n      SELECT name\n      FROM clients\n      WHERE phone = ?\n`);
    assert.match(issues[0]!, /:9:21 E_INVALID_PROPERTY the statement uses the placeholder \?; parameters are written :name/);
  });

  it('variables named by rows, rowCount, errorCode and into must be declared', () => {
    const issues = load(`start: q\nblocks:\n  q:\n    kind: DbQuery\n    sql: SELECT 1 AS one\n    into: { one: one }\n    rowCount: n\n`);
    assert.equal(issues.filter((i) => i.includes('E_UNKNOWN_VARIABLE')).length, 2);
  });
});

describe('named parameters in SQL', () => {
  it('are found outside quotes, comments, dollar quoting and :: casts', () => {
    const s = parseNamedSql(`SELECT ':no', "a:b", $$ :no $$, x::text, :yes -- :no\n/* :no */ FROM t WHERE a = :yes2 AND b = :yes`);
    assert.deepEqual(s.names, ['yes', 'yes2', 'yes']);
    assert.deepEqual(s.problems, []);
  });
  it('reads and writes are told apart for the journal', () => {
    assert.equal(isReadOnlySql(parseNamedSql('SELECT name FROM clients WHERE note = :x')), true);
    assert.equal(isReadOnlySql(parseNamedSql("SELECT 'insert' AS word")), true);
    assert.equal(isReadOnlySql(parseNamedSql('WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x')), false);
    assert.equal(isReadOnlySql(parseNamedSql('INSERT INTO t VALUES (:a)')), false);
  });
});

describe('databases: settings', () => {
  it('main is an SQLite file in the data folder unless configured; sqlite paths are relative to the config', () => {
    const s = databaseSettings({ crm: 'sqlite:./crm.sqlite' }, {}, '/data', '/etc/oktell');
    assert.deepEqual(s, { main: { dialect: 'sqlite', path: '/data/main.sqlite' }, crm: { dialect: 'sqlite', path: '/etc/oktell/crm.sqlite', written: { setting: 'databases.crm', value: 'sqlite:./crm.sqlite' } } });
  });

  it('a password from the environment or a file goes into the URL, and is never shown', () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'pw'), 'p@ss:word\n');
      const s = databaseSettings(
        { a: { url: 'postgres://oktell@db.local:5432/crm', passwordEnv: 'CRM_PW' }, b: { url: 'postgres://oktell@db.local/crm', passwordFile: 'pw' } },
        { CRM_PW: 's3cret' },
        '/data',
        tmp.dir,
      );
      assert.equal(s.a!.dialect === 'postgres' && new URL(s.a!.url).password, 's3cret');
      assert.equal(s.b!.dialect === 'postgres' && decodeURIComponent(new URL(s.b!.url).password), 'p@ss:word');
      assert.equal(describeDatabase(s.a!), 'postgres://oktell@db.local:5432/crm');
      assert.throws(() => databaseSettings({ a: { url: 'postgres://oktell@db/crm', passwordEnv: 'MISSING' } }, {}, '/d', '/'), /the environment variable MISSING \(passwordEnv\) is not set/);
    } finally {
      tmp.cleanup();
    }
  });

  it('OKTELL_DB_<NAME> defines or replaces a connection; a bad URL is refused without repeating it', () => {
    const s = databaseSettings(undefined, { OKTELL_DB_MAIN: 'postgres://u:pw@h/db', OKTELL_DB_REPORTS: 'sqlite:/r.sqlite' }, '/data', '/');
    assert.deepEqual(Object.keys(s).sort(), ['main', 'reports']);
    assert.equal(s.main!.dialect, 'postgres');
    assert.throws(() => databaseSettings(undefined, { OKTELL_DB_X: 'postgres://u:sec ret@[bad/db' }, '/d', '/'), (e: Error) => !e.message.includes('sec ret') && /OKTELL_DB_X/.test(e.message));
    assert.throws(() => databaseSettings(undefined, { OKTELL_DB_X: 'mysql://u@h/db' }, '/d', '/'), /must be sqlite:PATH or a postgres:\/\//);
  });

  it('oktell.config.yaml databases: reaches the server configuration', () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'dataDir: ./data\ndatabases:\n  crm: sqlite:./crm.sqlite\n');
      const c = loadServerConfig({}, {}, tmp.dir);
      assert.deepEqual(c.databases, { main: { dialect: 'sqlite', path: join(tmp.dir, 'data', 'main.sqlite') }, crm: { dialect: 'sqlite', path: join(tmp.dir, 'crm.sqlite'), written: { setting: 'databases.crm', value: 'sqlite:./crm.sqlite' } } });
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'databases:\n  "bad name": sqlite:x\n');
      assert.throws(() => loadServerConfig({}, {}, tmp.dir), /oktell\.config\.yaml:2:3: databases: "bad name" is not a connection name/);
    } finally {
      tmp.cleanup();
    }
  });
});
