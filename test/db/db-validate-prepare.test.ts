// `oktell-emu validate` prepares each DbQuery statement where its connection can be reached: a statement the
// database refuses is reported at its block's line; a database that is down leaves the statements unchecked with a
// note, and validation still passes. Nothing is kept: pending migrations are applied in a rolled-back transaction.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { repoPath, tempDir } from '../helpers.js';
import { severalCommands, writtenOffset } from '../../adapters/db/prepare-check.js';
import { dropSchema, randomSchemaName, testPostgres } from '../store/postgres.helper.js';

const QUERY = (sql: string) => `variables: { n: number }
start: q
blocks:
  q:
    kind: DbQuery
    sql: ${sql}
    params: { t: '"1"' }
    exits: { success: r }
  r:
    kind: ReturnValue
    values: { 1: '[n]' }
`;

/** The environment without settings of the machine's own configuration (config file, data folder, connections). */
function withoutOktellSettings(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k === 'OKTELL_CONFIG' || k === 'OKTELL_DATA_DIR' || k.startsWith('OKTELL_DB_')) delete env[k];
  return env;
}

/** A scenarios folder with a migration creating `notes`, the given scenarios, and validate run in its parent. */
function validateIn(scenarios: Record<string, string>, env: Record<string, string> = {}, prepare?: (dir: string) => void, inspect?: (dir: string) => void, args: string[] = []) {
  const tmp = tempDir();
  try {
    mkdirSync(join(tmp.dir, 'scenarios', 'db', 'main'), { recursive: true });
    writeFileSync(join(tmp.dir, 'scenarios', 'db', 'main', '001-notes.sql'), 'CREATE TABLE notes (task_id TEXT NOT NULL, n INTEGER);\n');
    for (const [name, text] of Object.entries(scenarios)) writeFileSync(join(tmp.dir, 'scenarios', name), text);
    prepare?.(tmp.dir);
    const r = spawnSync(process.execPath, [repoPath('bin', 'oktell-emu.js'), 'validate', ...args], {
      cwd: tmp.dir,
      encoding: 'utf8',
      env: { ...withoutOktellSettings(), NO_COLOR: '1', ...env },
      timeout: 30_000,
    });
    inspect?.(tmp.dir);
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, dataFileExists: existsSync(join(tmp.dir, 'var', 'main.sqlite')) };
  } finally {
    tmp.cleanup();
  }
}

describe('oktell-emu validate prepares the DbQuery statements', () => {
  it('in a sql: | block, at the table the database names, on its own line; a statement naming none at its first line', () => {
    const block = (sql: string) => QUERY(`|\n      ${sql.split('\n').join('\n      ')}`);
    const r = validateIn({ 'Typo.yaml': block('SELECT count(*) AS n\nFROM notes\nJOIN notse ON notse.id = notes.id\nWHERE task_id = :t'), 'Bad.yaml': block('SELECT count(*) AS n FROM notes\nWHERE task_id = :t AND\n') });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^scenarios\/Typo\.yaml:9:12 E_SQL_PREPARE the statement does not prepare on connection "main": no such table: notse \[block q\]$/m);
    assert.match(r.stdout, /^scenarios\/Bad\.yaml:7:7 E_SQL_PREPARE the statement does not prepare on connection "main": incomplete input \[block q\]$/m);
  });

  it('on SQLite not created yet: checked against the migrations, a misspelt table at its place in the statement, no file made', () => {
    const r = validateIn({ 'Good.yaml': QUERY('SELECT count(*) AS n FROM notes WHERE task_id = :t'), 'Typo.yaml': QUERY('SELECT count(*) AS n FROM notse WHERE task_id = :t') });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(
      r.stdout,
      'scenarios/Typo.yaml:6:36 E_SQL_PREPARE the statement does not prepare on connection "main": no such table: notse [block q]\n' +
        '    hint: did you mean the table "notes"? check the table and column names against the database (or its migrations in db/<connection>/*.sql)\n' +
        '✗ 1 problem(s) in 1 file(s)\n',
    );
    assert.equal(r.dataFileExists, false, 'validate creates no database');
  });

  it('a misspelt column gets the closest column of the database, with its table; a name like none gets the general advice', () => {
    const r = validateIn({
      'Column.yaml': QUERY('SELECT count(*) AS n FROM notes WHERE tsk_id = :t'),
      'Far.yaml': QUERY('SELECT count(*) AS n FROM notes WHERE owner_email = :t'),
    });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(
      r.stdout,
      'scenarios/Column.yaml:6:48 E_SQL_PREPARE the statement does not prepare on connection "main": no such column: tsk_id [block q]\n' +
        '    hint: did you mean the column "task_id" (table notes)? check the table and column names against the database (or its migrations in db/<connection>/*.sql)\n' +
        'scenarios/Far.yaml:6:48 E_SQL_PREPARE the statement does not prepare on connection "main": no such column: owner_email [block q]\n' +
        '    hint: check the table and column names against the database (or its migrations in db/<connection>/*.sql)\n' +
        '✗ 2 problem(s) in 2 file(s)\n',
    );
  });

  it('a misspelt column of an INSERT (SQLite: "table … has no column named …"): at its place in the column list, with the closest column of that table', () => {
    const insert = 'INSERT INTO ticks (due, lable) VALUES (:t, 1)';
    // The name is written first in the WITH part, where it is right: only the column list of ticks is wrong.
    const withSource = "WITH src AS (SELECT :t AS due, 'x' AS lable) INSERT INTO ticks (due, lable) SELECT due, lable FROM src";
    const r = validateIn({ 'Tick.yaml': QUERY(insert), 'From.yaml': QUERY(withSource) }, {}, (dir) => {
      // Another table has a column named exactly so: the suggestion is the table's own column, the one the INSERT can take.
      writeFileSync(join(dir, 'scenarios', 'db', 'main', '002-ticks.sql'), 'CREATE TABLE ticks (due TEXT, label TEXT UNIQUE);\nCREATE TABLE drafts (lable TEXT);\n');
    });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const sqlCol = '    sql: '.length + 1;
    const hint = '    hint: did you mean the column "label" (table ticks)? check the table and column names against the database (or its migrations in db/<connection>/*.sql)\n';
    assert.equal(
      r.stdout,
      `scenarios/From.yaml:6:${sqlCol + withSource.indexOf('lable) SELECT')} E_SQL_PREPARE the statement does not prepare on connection "main": table ticks has no column named lable [block q]\n` +
        hint +
        `scenarios/Tick.yaml:6:${sqlCol + insert.indexOf('lable')} E_SQL_PREPARE the statement does not prepare on connection "main": table ticks has no column named lable [block q]\n` +
        hint +
        '✗ 2 problem(s) in 2 file(s)\n',
    );
  });

  it('on an existing SQLite file: its tables count, and a pending migration is applied only for the check', () => {
    let file = '';
    let tables: string[] = [];
    const r = validateIn({ 'Other.yaml': QUERY('SELECT count(*) AS n FROM visits WHERE who = :t'), 'Notes.yaml': QUERY('SELECT count(*) AS n FROM notes WHERE task_id = :t') }, {}, (dir) => {
      file = join(dir, 'var', 'main.sqlite');
      mkdirSync(join(dir, 'var'));
      const db = new Database(file);
      db.exec('CREATE TABLE visits (who TEXT)');
      db.close();
    }, () => {
      const db = new Database(file, { readonly: true });
      tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all() as string[];
      db.close();
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /✓ 2 scenario file\(s\) valid/);
    assert.deepEqual(tables, ['visits'], 'the migration was rolled back: the server applies it at its next start');
  });

  it('a connection that is down leaves the statements unchecked, with a note, and passes', () => {
    const r = validateIn({ 'Typo.yaml': QUERY('SELECT count(*) AS n FROM notse WHERE task_id = :t') }, { OKTELL_DB_MAIN: 'postgres://nobody:secret-pw@127.0.0.1:1/none' });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /✓ 1 scenario file\(s\) valid/);
    assert.match(r.stderr, /^note: the statements on connection "main" were not prepared: cannot connect: ECONNREFUSED$/m);
    assert.doesNotMatch(r.stderr, /secret-pw/);
  });

  it('on a reachable PostgreSQL: a missing relation at its place in the statement; a parameter of unknown type is no problem', async (t) => {
    const pgAvailable = await testPostgres();
    if (pgAvailable.skip) return t.skip(pgAvailable.skip);
    const r = validateIn({ 'Good.yaml': QUERY('SELECT count(*)::int AS n FROM (SELECT :t AS x) s'), 'Typo.yaml': QUERY('SELECT count(*) AS n FROM oktell_no_such_table WHERE task_id = :t') }, { OKTELL_DB_MAIN: pgAvailable.url! });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^scenarios\/Typo\.yaml:6:36 E_SQL_PREPARE the statement does not prepare on connection "main": relation "oktell_no_such_table" does not exist \[block q\]$/m);
    assert.doesNotMatch(r.stdout, /Good\.yaml/);
  });

  describe('a table the scenario creates itself, in an earlier block (CREATE TABLE IF NOT EXISTS, as Oktell scenarios do)', () => {
    const MAKES_ITS_TABLE = `variables: { n: number }
start: use
blocks:
  use:
    kind: DbQuery
    sql: INSERT INTO own_log (at) VALUES (:at)
    params: { at: '"now"' }
    rowCount: n
    exits: { success: null }
  make:
    kind: DbQuery
    sql: CREATE TABLE IF NOT EXISTS own_log (id INTEGER PRIMARY KEY, at TEXT)
    exits: { success: use }
`;
    it('on SQLite: the statement using it prepares, whatever the order of the blocks, and the table is not kept', () => {
      let kept = true;
      const r = validateIn({ 'OwnLog.yaml': MAKES_ITS_TABLE.replace('start: use', 'start: make') }, {}, (dir) => {
        mkdirSync(join(dir, 'var'));
        new Database(join(dir, 'var', 'main.sqlite')).close();
      }, (dir) => {
        const db = new Database(join(dir, 'var', 'main.sqlite'), { readonly: true });
        kept = db.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'own_log'`).get() !== undefined;
        db.close();
      });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(kept, false, 'the check rolled its CREATE TABLE back');
    });

    it('on PostgreSQL too', async (t) => {
      const pgAvailable = await testPostgres();
      if (pgAvailable.skip) return t.skip(pgAvailable.skip);
      const r = validateIn({ 'OwnLog.yaml': MAKES_ITS_TABLE.replace('start: use', 'start: make').replace('INTEGER PRIMARY KEY', 'SERIAL PRIMARY KEY') }, { OKTELL_DB_MAIN: pgAvailable.url! });
      assert.equal(r.code, 0, r.stdout + r.stderr);
    });
  });

  describe('in a file with other problems, in one run with them (a trial needed three rounds)', () => {
    // The trial's file: a WebRequest and a DbQuery, each with mistakes of the schema and of its own checks, and two
    // statements the database refuses, one in a block whose other property is wrong.
    const MANY = `variables: { err: number, body: number, r: datetime, n: number }
start: get
blocks:
  get:
    kind: WebRequest
    method: FETCH
    url: '"http://127.0.0.1:1/x"'
    timeout: "ten"
    maxRedirects: -1
    json: { a: '"1"' }
    form: { b: '"2"' }
    headers: { "Bad Header": '"x"', Content-Length: '"1"' }
    responseBody: body
    errorCode: err
    exits: { success: q }
  q:
    kind: DbQuery
    connection: crmm
    sql: SELECT x FROM t WHERE a = ? AND b = :b
    params: { c: '"1"' }
    maxRows: lots
    rows: r
    exits: { success: typo }
  typo:
    kind: DbQuery
    sql: SELEC 1
    exits: { success: missing }
  missing:
    kind: DbQuery
    sql: SELECT n FROM nosuch WHERE t = :t
    params: { t: '"1"' }
    maxRows: lots
`;
    const EVERY_PROBLEM = [
      'scenarios/W.yaml:6:13 E_INVALID_PROPERTY',
      'scenarios/W.yaml:8:14 E_INVALID_PROPERTY',
      'scenarios/W.yaml:9:19 E_INVALID_PROPERTY',
      'scenarios/W.yaml:11:11 E_INVALID_PROPERTY',
      'scenarios/W.yaml:12:30 E_INVALID_PROPERTY',
      'scenarios/W.yaml:12:53 E_INVALID_PROPERTY',
      'scenarios/W.yaml:13:19 E_INVALID_PROPERTY',
      'scenarios/W.yaml:14:16 E_INVALID_PROPERTY',
      'scenarios/W.yaml:18:17 E_UNKNOWN_CONNECTION',
      'scenarios/W.yaml:19:36 E_INVALID_PROPERTY',
      'scenarios/W.yaml:19:46 E_MISSING_PROPERTY',
      'scenarios/W.yaml:20:18 E_INVALID_PROPERTY',
      'scenarios/W.yaml:21:14 E_INVALID_PROPERTY',
      'scenarios/W.yaml:22:11 E_INVALID_PROPERTY',
      'scenarios/W.yaml:26:10 E_SQL_PREPARE',
      'scenarios/W.yaml:30:24 E_SQL_PREPARE',
      'scenarios/W.yaml:32:14 E_INVALID_PROPERTY',
    ];

    it('every problem at once, in file order, and one line naming the statement that waits for its block\'s fixes', () => {
      const r = validateIn({ 'W.yaml': MANY });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const lines = r.stdout.split('\n').filter((l) => !l.startsWith('    '));
      assert.deepEqual(lines.filter((l) => l.startsWith('scenarios/')).map((l) => l.split(' ').slice(0, 2).join(' ')), EVERY_PROBLEM);
      assert.match(r.stdout, /^scenarios\/W\.yaml:26:10 E_SQL_PREPARE the statement does not prepare on connection "main": near "SELEC": syntax error \[block typo\]$/m);
      assert.match(r.stdout, /syntax error \[block typo\]\n {4}hint: check the SQL at the place shown: a misspelt keyword/);
      assert.match(r.stdout, /^scenarios\/W\.yaml:30:24 E_SQL_PREPARE the statement does not prepare on connection "main": no such table: nosuch \[block missing\]$/m);
      assert.deepEqual(lines.slice(-3), ['note: more checks run once these are fixed: scenarios/W.yaml:16:3 block q (preparing its statement)', `✗ ${EVERY_PROBLEM.length} problem(s) in 1 file(s)`, '']);
    });

    it('--json lists the same problems, and the check that waits under "deferred"', () => {
      const r = validateIn({ 'W.yaml': MANY }, {}, undefined, undefined, ['--json']);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const out = JSON.parse(r.stdout) as { issues: Array<{ file: string; line: number; col: number; code: string }>; deferred: unknown };
      assert.deepEqual(out.issues.map((i) => `${i.file}:${i.line}:${i.col} ${i.code}`), EVERY_PROBLEM);
      assert.deepEqual(out.deferred, [{ file: 'scenarios/W.yaml', line: 16, col: 3, block: 'q', checks: 'preparing its statement' }]);
    });
  });
});

describe('oktell-emu validate compares into: with the columns the prepared statement returns (trial 38 finding 7)', () => {
  /** A scenario whose DbQuery q has the given sql and into (written as given, after `into:`). */
  const INTO = (sql: string, into: string, params = "params: { t: '\"1\"' }") => `variables: { n: number, who: string }
start: q
blocks:
  q:
    kind: DbQuery
    sql: ${sql}
    ${params}
    into: ${into}
    exits: { success: r }
  r:
    kind: ReturnValue
    values: { 1: '[n]', 2: '[who]' }
`;

  it('a column the statement does not return: at the column in into:, with the closest column and both fixes; a right one (any case) is no problem', () => {
    const r = validateIn({
      'Typo.yaml': INTO('SELECT count(*) AS cnt FROM notes WHERE task_id = :t', '{ n: count }'),
      'Good.yaml': INTO('SELECT count(*) AS cnt FROM notes WHERE task_id = :t', '\n      n: CNT'),
    });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(
      r.stdout,
      'scenarios/Typo.yaml:8:16 E_SQL_PREPARE into: the statement returns no column "count" on connection "main" (its columns: cnt), so "n" would keep its value on every run [block q]\n' +
        '    hint: did you mean "cnt"? write into: { n: cnt }, or name the column in the SQL: … AS count\n' +
        '✗ 1 problem(s) in 1 file(s)\n',
    );
  });

  it('on an existing SQLite file: a column a pending migration adds counts, one nothing adds is reported at its own line', () => {
    const r = validateIn(
      {
        'Visits.yaml': INTO('SELECT who, count(*) AS n FROM visits WHERE phone = :t', '\n      who: who\n      n: nn'),
        'Phones.yaml': INTO('SELECT phone AS who FROM visits WHERE who = :t', '{ who: who }'),
      },
      {},
      (dir) => {
        mkdirSync(join(dir, 'var'));
        const db = new Database(join(dir, 'var', 'main.sqlite'));
        db.exec('CREATE TABLE visits (who TEXT)');
        db.close();
        writeFileSync(join(dir, 'scenarios', 'db', 'main', '002-visits-phone.sql'), 'ALTER TABLE visits ADD COLUMN phone TEXT;\n');
      },
    );
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^scenarios\/Visits\.yaml:10:10 E_SQL_PREPARE into: the statement returns no column "nn" on connection "main" \(its columns: who, n\), so "n" would keep its value on every run \[block q\]\n {4}hint: did you mean "n"\? write into: \{ n: n \}, or name the column in the SQL: … AS nn$/m);
    assert.doesNotMatch(r.stdout, /Phones\.yaml/);
    assert.match(r.stdout, /✗ 1 problem\(s\) in 1 file\(s\)/);
  });

  it('a statement whose columns are the table\'s at run time (SELECT *, t.*, RETURNING *) is not judged', () => {
    const r = validateIn({
      'Star.yaml': INTO('SELECT * FROM notes WHERE task_id = :t', '{ n: added_later }'),
      'TableStar.yaml': INTO('SELECT notes.* FROM notes WHERE task_id = :t', '{ n: added_later }'),
      'Returning.yaml': INTO('INSERT INTO notes (task_id) VALUES (:t) RETURNING *', '{ n: added_later }'),
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /✓ 3 scenario file\(s\) valid/);
  });

  it('a statement that returns no rows (a write without RETURNING) fills no into:', () => {
    const r = validateIn({
      'Insert.yaml': INTO('INSERT INTO notes (task_id) VALUES (:t)', '{ n: n }'),
      'Returning.yaml': INTO('INSERT INTO notes (task_id, n) VALUES (:t, 1) RETURNING n', '{ n: n }'),
    });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(
      r.stdout,
      'scenarios/Insert.yaml:8:16 E_SQL_PREPARE into: the statement returns no rows on connection "main", so "n" would keep its value on every run (column "n") [block q]\n' +
        '    hint: remove it from into:, or make the statement return the column: … RETURNING n\n' +
        '✗ 1 problem(s) in 1 file(s)\n',
    );
  });

  describe('on PostgreSQL: the columns the server describes for the statement (Parse and Describe, nothing run)', () => {
    let url = '';
    let schema = '';
    let admin: pg.Client | undefined;
    before(async () => {
      const pgAvailable = await testPostgres();
      if (pgAvailable.skip) return;
      schema = randomSchemaName('pgval');
      admin = new pg.Client({ connectionString: pgAvailable.url });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      await admin.query(`CREATE TABLE ${schema}.calls (task_id text NOT NULL, n integer, who text)`);
      await admin.query(`CREATE TABLE ${schema}.agents (id integer, name text)`);
      const u = new URL(pgAvailable.url!);
      u.searchParams.set('options', `-c search_path=${schema}`);
      url = u.toString();
    });
    after(async () => {
      await admin?.end();
      if (schema) await dropSchema((await testPostgres()).url!, schema);
    });
    const onPg = (scenarios: Record<string, string>) => validateIn(scenarios, { OKTELL_DB_MAIN: url });

    it('a column the statement does not return: at the column in into:, with the closest column; a right one (any case) is no problem', async (t) => {
      if (!url) return t.skip((await testPostgres()).skip);
      const r = onPg({
        'Typo.yaml': INTO('SELECT count(*)::int AS cnt FROM calls WHERE task_id = :t', '{ n: count }'),
        'Good.yaml': INTO('SELECT count(*)::int AS cnt FROM calls WHERE task_id = :t', '\n      n: CNT'),
      });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.equal(
        r.stdout,
        'scenarios/Typo.yaml:8:16 E_SQL_PREPARE into: the statement returns no column "count" on connection "main" (its columns: cnt), so "n" would keep its value on every run [block q]\n' +
          '    hint: did you mean "cnt"? write into: { n: cnt }, or name the column in the SQL: … AS count\n' +
          '✗ 1 problem(s) in 1 file(s)\n',
      );
      assert.equal(r.stderr, '');
    });

    it('a write without RETURNING fills no into:; RETURNING columns are compared like a SELECT\'s, and nothing is written', async (t) => {
      if (!url) return t.skip((await testPostgres()).skip);
      const r = onPg({
        'Insert.yaml': INTO('INSERT INTO calls (task_id) VALUES (:t)', '{ n: n }'),
        'Returning.yaml': INTO('INSERT INTO calls (task_id, n) VALUES (:t, 1) RETURNING n', '{ n: n }'),
        'ReturningTypo.yaml': INTO('INSERT INTO calls (task_id, n) VALUES (:t, 1) RETURNING n, who', '\n      n: n\n      who: whom'),
      });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.equal(
        r.stdout,
        'scenarios/Insert.yaml:8:16 E_SQL_PREPARE into: the statement returns no rows on connection "main", so "n" would keep its value on every run (column "n") [block q]\n' +
          '    hint: remove it from into:, or make the statement return the column: … RETURNING n\n' +
          'scenarios/ReturningTypo.yaml:10:12 E_SQL_PREPARE into: the statement returns no column "whom" on connection "main" (its columns: n, who), so "who" would keep its value on every run [block q]\n' +
          '    hint: did you mean "who"? write into: { who: who }, or name the column in the SQL: … AS whom\n' +
          '✗ 2 problem(s) in 2 file(s)\n',
      );
      assert.equal(Number((await admin!.query(`SELECT count(*) AS n FROM ${schema}.calls`)).rows[0].n), 0, 'no INSERT ran');
    });

    it('SELECT * is judged by the columns the table has in that database (unlike SQLite)', async (t) => {
      if (!url) return t.skip((await testPostgres()).skip);
      const r = onPg({ 'Star.yaml': INTO('SELECT * FROM calls WHERE task_id = :t', '{ n: nn, who: who }') });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /^scenarios\/Star\.yaml:8:16 E_SQL_PREPARE into: the statement returns no column "nn" on connection "main" \(its columns: task_id, n, who\), so "n" would keep its value on every run \[block q\]\n {4}hint: did you mean "n"\? write into: \{ n: n \}/m);
      assert.match(r.stdout, /✗ 1 problem\(s\) in 1 file\(s\)/);
    });

    it('a syntax error at the word PostgreSQL names; several commands without parameters are no problem (the run sends them as written)', async (t) => {
      if (!url) return t.skip((await testPostgres()).skip);
      const r = onPg({
        'Bad.yaml': QUERY('SELECT count(*) AS n FORM calls WHERE task_id = :t'),
        'Two.yaml': QUERY('UPDATE calls SET n = 1; DELETE FROM calls WHERE n = 2').replace(/ {4}params: .*\n/, ''),
      });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.equal(
        r.stdout,
        'scenarios/Bad.yaml:6:31 E_SQL_PREPARE the statement does not prepare on connection "main": syntax error at or near "FORM" [block q]\n' +
          '    hint: check the SQL at the place shown: a misspelt keyword, a missing comma or parenthesis, or syntax of another database (the connection\'s is SQLite or PostgreSQL)\n' +
          '✗ 1 problem(s) in 1 file(s)\n',
      );
    });

    it('the place is the one PostgreSQL gives, also when the word is written twice or a parameter comes before it; "at end of input" at the end', async (t) => {
      if (!url) return t.skip((await testPostgres()).skip);
      // The message names "titel", which is written first in quotes: only the error's position finds the column.
      const twice = "SELECT n, 'titel' AS label FROM calls WHERE task_id = :task AND titel IS NULL";
      const r = onPg({
        'Twice.yaml': QUERY(twice).replace("params: { t: '\"1\"' }", "params: { task: '\"1\"' }"),
        'Cut.yaml': QUERY('SELECT n FROM calls WHERE').replace(/ {4}params: .*\n/, ''),
      });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const sqlCol = 'sql: '.length + 5;
      assert.equal(
        r.stdout,
        `scenarios/Cut.yaml:6:${sqlCol + 'SELECT n FROM calls WHERE'.length - 1} E_SQL_PREPARE the statement does not prepare on connection "main": syntax error at end of input [block q]\n` +
          '    hint: check the SQL at the place shown: a misspelt keyword, a missing comma or parenthesis, or syntax of another database (the connection\'s is SQLite or PostgreSQL)\n' +
          `scenarios/Twice.yaml:6:${sqlCol + twice.indexOf('titel IS')} E_SQL_PREPARE the statement does not prepare on connection "main": column "titel" does not exist [block q]\n` +
          '    hint: check the table and column names against the database (or its migrations in db/<connection>/*.sql)\n' +
          '✗ 2 problem(s) in 2 file(s)\n',
      );
    });

    it('a misspelt table or column gets the closest the database has, found by the error\'s code and position', async (t) => {
      if (!url) return t.skip((await testPostgres()).skip);
      const r = onPg({
        'Table.yaml': QUERY('SELECT count(*)::int AS n FROM cals WHERE task_id = :t'),
        'Column.yaml': QUERY('SELECT count(*)::int AS n FROM calls c WHERE c.whom = :t'),
      });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.equal(
        r.stdout,
        'scenarios/Column.yaml:6:55 E_SQL_PREPARE the statement does not prepare on connection "main": column c.whom does not exist [block q]\n' +
          '    hint: did you mean the column "who" (table calls)? check the table and column names against the database (or its migrations in db/<connection>/*.sql)\n' +
          'scenarios/Table.yaml:6:41 E_SQL_PREPARE the statement does not prepare on connection "main": relation "cals" does not exist [block q]\n' +
          '    hint: did you mean the table "calls"? check the table and column names against the database (or its migrations in db/<connection>/*.sql)\n' +
          '✗ 2 problem(s) in 2 file(s)\n',
      );
    });

    it('a misspelt column of an INSERT or UPDATE (column "…" of relation "…" does not exist): at the column, with the closest column', async (t) => {
      if (!url) return t.skip((await testPostgres()).skip);
      const insert = 'INSERT INTO calls (task_id, whom) VALUES (:t, 1)';
      const update = 'UPDATE calls SET whom = :t WHERE n = 1';
      const r = onPg({ 'Insert.yaml': QUERY(insert), 'Update.yaml': QUERY(update) });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const sqlCol = '    sql: '.length + 1;
      const hint = '    hint: did you mean the column "who" (table calls)? check the table and column names against the database (or its migrations in db/<connection>/*.sql)\n';
      assert.equal(
        r.stdout,
        `scenarios/Insert.yaml:6:${sqlCol + insert.indexOf('whom')} E_SQL_PREPARE the statement does not prepare on connection "main": column "whom" of relation "calls" does not exist [block q]\n` +
          hint +
          `scenarios/Update.yaml:6:${sqlCol + update.indexOf('whom')} E_SQL_PREPARE the statement does not prepare on connection "main": column "whom" of relation "calls" does not exist [block q]\n` +
          hint +
          '✗ 2 problem(s) in 2 file(s)\n',
      );
      assert.equal(Number((await admin!.query(`SELECT count(*) AS n FROM ${schema}.calls`)).rows[0].n), 0, 'nothing was written');
    });

    it('a misspelt column of an INSERT is looked for in that table only (on the search_path, or in the schema written), not in another table', async (t) => {
      if (!url) return t.skip((await testPostgres()).skip);
      // "names" is close to agents.name only: calls has nothing like it, so nothing is suggested. "whom" in an INSERT
      // into the other schema's calls gets that table's column, not the search_path's calls.who.
      const other = `${schema}_b`;
      await admin!.query(`CREATE SCHEMA ${other}; CREATE TABLE ${other}.calls (task_id text, whim text)`);
      try {
        const insert = 'INSERT INTO calls (task_id, names) VALUES (:t, 1)';
        const qualified = `INSERT INTO ${other}.calls (task_id, whom) VALUES (:t, 1)`;
        const r = onPg({ 'Insert.yaml': QUERY(insert), 'Other.yaml': QUERY(qualified) });
        assert.equal(r.code, 1, r.stdout + r.stderr);
        const sqlCol = '    sql: '.length + 1;
        const general = '    hint: check the table and column names against the database (or its migrations in db/<connection>/*.sql)\n';
        assert.equal(
          r.stdout,
          `scenarios/Insert.yaml:6:${sqlCol + insert.indexOf('names')} E_SQL_PREPARE the statement does not prepare on connection "main": column "names" of relation "calls" does not exist [block q]\n` +
            general +
            `scenarios/Other.yaml:6:${sqlCol + qualified.indexOf('whom')} E_SQL_PREPARE the statement does not prepare on connection "main": column "whom" of relation "calls" does not exist [block q]\n` +
            '    hint: did you mean the column "whim" (table calls)? check the table and column names against the database (or its migrations in db/<connection>/*.sql)\n' +
            '✗ 2 problem(s) in 2 file(s)\n',
        );
      } finally {
        await admin!.query(`DROP SCHEMA ${other} CASCADE`);
      }
    });

    it('a table locked by another session: the server ends the wait, that statement is noted unchecked at its block, the others are still checked', async (t) => {
      if (!url) return t.skip((await testPostgres()).skip);
      await admin!.query('BEGIN');
      try {
        await admin!.query(`LOCK TABLE ${schema}.calls IN ACCESS EXCLUSIVE MODE`);
        const started = Date.now();
        const r = onPg({
          'Locked.yaml': INTO('SELECT count(*)::int AS cnt FROM calls WHERE task_id = :t', '{ n: count }'),
          'Other.yaml': INTO('SELECT count(*)::int AS cnt FROM agents WHERE name = :t', '{ n: count }'),
        });
        assert.equal(r.code, 1, r.stdout + r.stderr);
        assert.match(r.stdout, /^scenarios\/Other\.yaml:8:16 E_SQL_PREPARE into: the statement returns no column "count" on connection "main" \(its columns: cnt\)/m);
        assert.match(r.stdout, /✗ 1 problem\(s\) in 1 file\(s\)/);
        assert.equal(
          r.stderr,
          'note: scenarios/Locked.yaml:4:3 the statement of block q was not prepared on connection "main": another session held a lock on a table it uses for 2 s\n',
        );
        assert.ok(Date.now() - started < 20_000);
        // The check's session does not wait behind the lock until it goes: the server ended its wait.
        const waiting = await admin!.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`);
        assert.equal(Number(waiting.rows[0].n), 0, 'no session of the check still waits for the lock');
      } finally {
        await admin!.query('ROLLBACK');
      }
      const left = await admin!.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'`);
      assert.equal(Number(left.rows[0].n), 0, 'no session of the check is left in its transaction');
    });
  });
});

describe('the PostgreSQL check reads the error by its code and position, not by its text (servers answer in their own language)', () => {
  it('several commands without parameters: 42601 without a position, whatever the message says', () => {
    const two = { text: ['UPDATE calls SET n = 1; DELETE FROM calls'], names: [] };
    // A fake error, as a server with lc_messages = ru_RU answers; the English server's case runs above.
    assert.equal(severalCommands('42601', undefined, two), true);
    assert.equal(severalCommands('42601', '8', two), false, 'a syntax error has a position');
    assert.equal(severalCommands('42601', undefined, { text: ['UPDATE calls SET n = ', '; DELETE FROM calls'], names: ['n'] }), false, 'with parameters the run prepares it too');
    assert.equal(severalCommands('42P01', undefined, two), false);
  });

  const cases: Array<[string, string[], string[], number, number]> = [
    ['before any parameter', ['SELECT x FROM t WHERE a = ', ''], ['task'], 7, 7],
    ['after a longer name', ['SELECT 1 WHERE a = ', ' AND titel = 1'], ['task'], 'SELECT 1 WHERE a = $1 AND '.length, 'SELECT 1 WHERE a = :task AND '.length],
    ['inside a placeholder: at its colon', ['WHERE a = ', ''], ['task'], 'WHERE a = $'.length, 'WHERE a = '.length],
    ['a repeated name keeps its number', ['WHERE a = ', ' OR b = ', ' OR c = ', ' AND zz'], ['aa', 'bbb', 'aa'], 'WHERE a = $1 OR b = $2 OR c = $1 AND '.length, 'WHERE a = :aa OR b = :bbb OR c = :aa AND '.length],
    ['past the end stays past the end', ['SELECT '], [], 7, 7],
  ];
  for (const [name, text, names, sent, written] of cases) {
    it(`an offset in the statement as sent maps to the statement as written: ${name}`, () => {
      assert.equal(writtenOffset({ text, names }, sent), written);
    });
  }
});
