// A database setup that cannot work is said in one line naming the file, the connection, its database and the fix,
// by `serve`, `run` and `validate` alike (trial-integrator findings 1, 2 and 6): the real binary in a folder of its own.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli, type CliResult } from './cli.helper.js';
import { tempDir } from '../helpers.js';

const tmp = tempDir();
after(() => tmp.cleanup());
let folders = 0;

/**
 * A working folder as an integrator has it: oktell.config.yaml naming `tasks`, an existing database with the table,
 * a scenario reading it, and (unless `migration` is undefined) a migration that creates the table.
 */
function folder(o: { config?: string | null; migration?: string; database?: boolean; connection?: string; sql?: string } = {}): string {
  const dir = join(tmp.dir, `w${++folders}`);
  mkdirSync(join(dir, 'scenarios'), { recursive: true });
  // The data folder exists, so a live run has no note about making it.
  mkdirSync(join(dir, 'var'), { mode: 0o700 });
  if (o.config !== null) writeFileSync(join(dir, 'oktell.config.yaml'), o.config ?? 'databases:\n  tasks: sqlite:./data/tasks.sqlite\n');
  if (o.database !== false) {
    mkdirSync(join(dir, 'data'));
    const db = new Database(join(dir, 'data', 'tasks.sqlite'));
    db.exec("CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT NOT NULL); INSERT INTO tasks (title) VALUES ('Позвонить')");
    db.close();
  }
  if (o.migration !== undefined) {
    mkdirSync(join(dir, 'scenarios', 'db', 'tasks'), { recursive: true });
    writeFileSync(join(dir, 'scenarios', 'db', 'tasks', '001-tasks.sql'), o.migration);
  }
  writeFileSync(join(dir, 'scenarios', 'Sweep.yaml'), `variables: { title: string }\nstart: find\nblocks:\n  find:\n    kind: DbQuery\n    connection: ${o.connection ?? 'tasks'}\n    sql: ${o.sql ?? 'SELECT title FROM tasks'}\n`);
  return dir;
}

function cli(dir: string, args: string[]): CliResult {
  return runCli(args, { cwd: dir, env: { OKTELL_USERS: 'ops:pw' }, unset: ['OKTELL_SCENARIOS', 'OKTELL_CONFIG', 'OKTELL_DATA_DIR', 'OKTELL_STORE'], timeoutMs: 60_000 });
}

const SERVE = ['serve', '--port', '0', '--bpium-emulator-port', '0', '--host', '127.0.0.1'];

/** The one line of a refusal, after `oktell-emu: `; fails on a stack trace or any second line. */
function oneLine(r: CliResult, code: number): string {
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(r.code, code, r.stderr + r.stdout);
  assert.equal(lines.length, 1, `one line, no stack:\n${r.stderr}`);
  assert.match(lines[0]!, /^oktell-emu: /);
  return lines[0]!.replace(/^oktell-emu: /, '');
}

describe('a migration the existing database refuses', () => {
  const CREATE = 'CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT NOT NULL);\n';
  const says = /^scenarios\/db\/tasks\/001-tasks\.sql: table tasks already exists \(the migration of connection "tasks", database data\/tasks\.sqlite\); .*write CREATE TABLE IF NOT EXISTS .*docs\/configuration\.md, "Tables out of the box"/;

  it('stops serve with one line naming the file, the database and the fix, exit 2', { timeout: 90_000 }, () => {
    const dir = folder({ migration: CREATE });
    assert.match(oneLine(cli(dir, SERVE), 2), says);
  });

  it('stops a live run and a dry run the same way (the dry run names the real database, not its scratch copy)', { timeout: 90_000 }, () => {
    const dir = folder({ migration: CREATE });
    assert.match(oneLine(cli(dir, ['run', 'Sweep']), 2), says);
    assert.match(oneLine(cli(dir, ['run', 'Sweep', '--dry-run']), 2), says);
  });

  it('a table an earlier migration of the folder made is not blamed on a program outside the emulator (trial 38 item 6)', { timeout: 90_000 }, () => {
    const dir = folder({ migration: CREATE.replace('CREATE TABLE', 'CREATE TABLE IF NOT EXISTS') });
    writeFileSync(join(dir, 'scenarios', 'db', 'tasks', '002-oops.sql'), 'CREATE TABLE tasks (id INTEGER);\n');
    const line = oneLine(cli(dir, ['run', 'Sweep', '--dry-run']), 2);
    assert.match(line, /^scenarios\/db\/tasks\/002-oops\.sql: table tasks already exists .*; that database has it already \(made by an earlier migration of this folder, or outside the emulator\): write CREATE TABLE IF NOT EXISTS .*; or drop the statement if an earlier file makes the same thing/);
  });

  it('runs once the file says IF NOT EXISTS, as the message advises', { timeout: 90_000 }, () => {
    const dir = folder({ migration: CREATE.replace('CREATE TABLE', 'CREATE TABLE IF NOT EXISTS') });
    const r = cli(dir, ['run', 'Sweep', '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(JSON.parse(r.stdout).variables.title, 'Позвонить');
  });
});

describe('validate refuses what run and serve refuse', () => {
  const SETTINGS = [
    { name: 'a databases: entry without sqlite:', config: 'databases:\n  tasks: ../data/tasks.sqlite\n', says: /^oktell\.config\.yaml:2:10: databases\.tasks must be sqlite:PATH or a postgres:\/\// },
    { name: 'a size that is not one', config: 'databases:\n  tasks: sqlite:./data/tasks.sqlite\nwebRequest:\n  maxResponseBytes: lots\n', says: /^oktell\.config\.yaml:4:21: webRequest\.maxResponseBytes: "lots" is not a size/ },
  ];
  // Each at the file's line and column of the value, as the file's form errors and the service tasks' are.
  for (const c of SETTINGS) {
    it(`${c.name}: the same line as run, at its line and column, exit 2, no ✓`, { timeout: 90_000 }, () => {
      const dir = folder({ config: c.config });
      const line = oneLine(cli(dir, ['validate']), 2);
      assert.match(line, c.says);
      assert.equal(line, oneLine(cli(dir, ['run', 'Sweep', '--dry-run']), 2));
    });
  }

  it('still validates a folder with no configuration file at all', { timeout: 90_000 }, () => {
    const dir = folder({ config: null, database: false, connection: 'main', sql: 'SELECT 1 AS title' });
    const r = cli(dir, ['validate']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /✓ 1 scenario file\(s\) valid/);
  });

  it('a migration the database refuses is a problem at its file, with the fix, exit 1 (not a note)', { timeout: 90_000 }, () => {
    const dir = folder({ migration: 'CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT NOT NULL);\n' });
    const r = cli(dir, ['validate']);
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(r.stdout, /^scenarios\/db\/tasks\/001-tasks\.sql:1:1 E_MIGRATION the migration does not apply to connection "tasks" \(database data\/tasks\.sqlite\): table tasks already exists\n    hint: .*CREATE TABLE IF NOT EXISTS/m);
    assert.match(r.stdout, /✗ 1 problem\(s\) in 1 file\(s\)/);
    assert.doesNotMatch(r.stderr, /note: the statements on connection "tasks" were not prepared/);
    const json = JSON.parse(cli(dir, ['validate', '--json']).stdout);
    assert.equal(json.valid, false);
    assert.deepEqual(json.issues.map((i: { code: string; file: string }) => [i.code, i.file]), [['E_MIGRATION', 'scenarios/db/tasks/001-tasks.sql']]);
  });
});

describe('a mistyped SQLite path of a connection other than main', () => {
  const TYPO = 'databases:\n  tasks: sqlite:./data/task.sqlite\n';
  const says = (dir: string) => new RegExp(`^oktell\\.config\\.yaml: databases\\.tasks: the SQLite database \\./data/task\\.sqlite \\(${join(dir, 'data', 'task.sqlite').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\) of connection "tasks" does not exist: check the path .*create the file .*migrations in scenarios/db/tasks/\\*\\.sql`);

  it('is refused by validate, run (live and dry) and serve, and no empty database is made', { timeout: 120_000 }, () => {
    const dir = folder({ config: TYPO });
    assert.match(oneLine(cli(dir, ['validate']), 2), says(dir));
    assert.match(oneLine(cli(dir, ['run', 'Sweep']), 2), says(dir));
    assert.match(oneLine(cli(dir, ['run', 'Sweep', '--dry-run']), 2), says(dir));
    assert.match(oneLine(cli(dir, SERVE), 2), says(dir));
    assert.equal(existsSync(join(dir, 'data', 'task.sqlite')), false);
  });

  it('is made when the connection has migrations, which is what they ask for', { timeout: 120_000 }, () => {
    const dir = folder({ config: TYPO, migration: 'CREATE TABLE IF NOT EXISTS tasks (id INTEGER PRIMARY KEY, title TEXT NOT NULL);\n' });
    const v = cli(dir, ['validate']);
    assert.equal(v.code, 0, v.stderr + v.stdout);
    const r = cli(dir, ['run', 'Sweep', '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(existsSync(join(dir, 'data', 'task.sqlite')), true);
  });
});
