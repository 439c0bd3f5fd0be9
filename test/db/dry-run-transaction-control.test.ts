// A DbQuery statement that controls the transaction (COMMIT, BEGIN, ROLLBACK, SAVEPOINT, RELEASE, END). A dry run
// runs its statements in a transaction it rolls back at the end: a COMMIT there kept the dry run's earlier INSERT (on
// SQLite and PostgreSQL alike) while the output said "rolled back", and a BEGIN on a live run's pooled connection
// would leave the next runs' statements in a transaction nobody commits. Such a statement is refused at load time.
// Real parts: the oktell-emu binary, a real SQLite file and, when reachable, a real PostgreSQL.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { parseNamedSql, sqlTransactionControl } from '../../engine/index.js';
import { runCli } from '../cli/cli.helper.js';
import { tempDir } from '../helpers.js';
import { testPostgres } from '../store/postgres.helper.js';

const pg_ = await testPostgres();

const scenario = (connection: string, table: string) => `variables: { n: number }
start: a
blocks:
  a:
    kind: DbQuery
    connection: ${connection}
    sql: INSERT INTO ${table} (note) VALUES ('first')
    exits: { success: b }
  b:
    kind: DbQuery
    connection: ${connection}
    sql: COMMIT
    exits: { success: r }
  r:
    kind: ReturnValue
    values: { 1: '[n]' }
`;

describe('transaction control in a DbQuery statement', () => {
  const t = tempDir('oktell-dry-commit-');
  after(() => t.cleanup());
  const data = join(t.dir, 'var');
  mkdirSync(join(t.dir, 'scenarios'), { recursive: true });
  mkdirSync(data, { recursive: true, mode: 0o700 });

  it('is found where it is, and only there', () => {
    const control = (sql: string) => sqlTransactionControl(parseNamedSql(sql));
    assert.equal(control('COMMIT'), 'COMMIT');
    assert.equal(control('  begin transaction'), 'BEGIN');
    assert.equal(control("INSERT INTO t VALUES ('a'); COMMIT"), 'COMMIT');
    assert.equal(control('rollback to savepoint x'), 'ROLLBACK');
    assert.equal(control('START TRANSACTION'), 'START TRANSACTION');
    assert.equal(control('/* why */ END'), 'END');
    assert.equal(control("INSERT INTO t (note) VALUES ('commit; begin')"), undefined);
    assert.equal(control('SELECT CASE WHEN :a THEN 1 END AS x -- commit'), undefined);
    assert.equal(control('CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE u SET n = n + 1; END'), undefined);
    assert.equal(control('CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN UPDATE u SET n = n + 1; END'), undefined);
    assert.equal(control('CREATE TABLE t2 (a int); COMMIT'), 'COMMIT');
    assert.equal(control('SELECT committed, begins FROM t'), undefined);
  });

  it('SQLite: validate reports it at its line; a dry run refuses it and keeps nothing', () => {
    const file = join(data, 'main.sqlite');
    const db = new Database(file);
    db.exec('CREATE TABLE calls (id INTEGER PRIMARY KEY, note TEXT)');
    db.close();
    writeFileSync(join(t.dir, 'scenarios', 'DryCommit.yaml'), scenario('main', 'calls'));
    const env = { OKTELL_DATA_DIR: data };
    const v = runCli(['validate', '--scenarios', 'scenarios'], { cwd: t.dir, env, unset: ['OKTELL_SCENARIOS'] });
    assert.notEqual(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout + v.stderr, /DryCommit\.yaml:12:\d+ E_\w+ the statement holds COMMIT: a DbQuery statement commits on its own/);
    const r = runCli(['run', 'DryCommit', '--scenarios', 'scenarios', '--dry-run'], { cwd: t.dir, env, unset: ['OKTELL_SCENARIOS'] });
    assert.notEqual(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /the statement holds COMMIT/);
    const after = new Database(file, { readonly: true });
    try {
      assert.deepEqual(after.prepare('SELECT count(*) AS n FROM calls').get(), { n: 0 });
    } finally {
      after.close();
    }
  });

  it('PostgreSQL: a dry run refuses it and keeps nothing', { skip: pg_.skip }, async () => {
    const table = `dry_commit_${process.pid}_${Date.now()}`;
    const c = new pg.Client({ connectionString: pg_.url! });
    await c.connect();
    try {
      await c.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, note text)`);
      writeFileSync(join(t.dir, 'scenarios', 'DryCommitPg.yaml'), scenario('crm', table));
      const r = runCli(['run', 'DryCommitPg', '--scenarios', 'scenarios', '--dry-run'], { cwd: t.dir, env: { OKTELL_DATA_DIR: data, OKTELL_DB_CRM: pg_.url! }, unset: ['OKTELL_SCENARIOS'] });
      assert.notEqual(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout + r.stderr, /the statement holds COMMIT/);
      assert.equal((await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n, 0);
    } finally {
      await c.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
      await c.end();
    }
  });
});
