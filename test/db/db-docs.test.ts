// The DbQuery example of docs/scenario-format.md runs as the page says, on a real SQLite file; a dry run from the
// command line lists its statements as rolled back and leaves the database as it was.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createDatabasePort } from '../../adapters/db/index.js';
import { defaultRegistry } from '../../components/registry.js';
import { createInProcessStarter, loadScenarioLibrary, randomIds, runScenario, systemClock } from '../../engine/index.js';
import { runCli } from '../cli/cli-process.js';
import { repoPath, tempDir } from '../helpers.js';

const doc = readFileSync(repoPath('docs', 'scenario-format.md'), 'utf8');
const example = /```yaml\n# db example: LookupClient\.yaml\n([\s\S]*?)```/.exec(doc)?.[1];

function clientsDb(path: string): void {
  const db = new Database(path);
  db.exec("CREATE TABLE clients (id INTEGER PRIMARY KEY, phone TEXT UNIQUE, name TEXT, manager TEXT); INSERT INTO clients VALUES (1, '+74951234567', 'Анна', 'Пётр')");
  db.close();
}

/** A scenarios folder (with db/main for migrations) and a data folder under `root`, and `run` in them from the CLI. */
function cliFolders(root: string) {
  const scenarios = join(root, 'scenarios');
  const data = join(root, 'var');
  mkdirSync(join(scenarios, 'db', 'main'), { recursive: true });
  mkdirSync(data);
  const run = (args: string[]) => runCli(['run', ...args, '--scenarios', scenarios, '--data-dir', data], { OKTELL_DATA_DIR: data });
  return { scenarios, data, run };
}

describe('docs: looking up a client by phone', () => {
  it('the example answers as the page says, and notes the ignored column', async () => {
    assert.ok(example, 'the page has the "# db example: LookupClient.yaml" block');
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'LookupClient.yaml'), example!);
      clientsDb(join(tmp.dir, 'main.sqlite'));
      const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry, databases: { main: 'sqlite' } });
      assert.deepEqual(lib.issues, []);
      const db = createDatabasePort({ main: { dialect: 'sqlite', path: join(tmp.dir, 'main.sqlite') } });
      const ports = { databases: db, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) };
      // As the page runs it: the phone is input parameter 1 (`run LookupClient -p 1=…`).
      const known = await runScenario(lib, 'LookupClient', { params: { 1: '+74951234567' }, ports });
      const stranger = await runScenario(lib, 'LookupClient', { params: { 1: '+70000000000' }, ports });
      await db.close();
      assert.equal(known.returnValues['1'], 'Здравствуйте, Анна! Ваш менеджер: Пётр');
      assert.ok(doc.includes(known.returnValues['1'] as string));
      assert.deepEqual(known.trace.find((t) => t.block === 'findClient')?.notes, ['columns without a variable of the same name, ignored: id']);
      assert.ok(doc.includes('columns without a variable of the same name, ignored:\nid'));
      assert.equal(stranger.returnValues['1'], 'Здравствуйте!');
    } finally {
      tmp.cleanup();
    }
  });

  it('oktell-emu run --dry-run --json: the insert is seen by the run, listed in dbCalls as rolled back, and not kept', () => {
    const tmp = tempDir();
    try {
      const { scenarios, data, run } = cliFolders(tmp.dir);
      clientsDb(join(data, 'main.sqlite'));
      writeFileSync(
        join(scenarios, 'AddClient.yaml'),
        `variables: { n: number, password: string }
start: add
blocks:
  add:
    kind: DbQuery
    sql: INSERT INTO clients (phone, name, manager) VALUES (:phone, :password, 'x')
    params: { phone: InputParameter(1), password: '"hunter2"' }
    exits: { success: count }
  count:
    kind: DbQuery
    sql: SELECT count(*) AS n FROM clients
`,
      );
      const r = run(['AddClient', '-p', '1=+79990000000', '--dry-run', '--json']);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const result = JSON.parse(r.stdout);
      assert.equal(result.variables.n, 2);
      assert.deepEqual(
        result.dbCalls.map((c: { connection: string; status: string; rowCount: number; rolledBack: boolean; params: object }) => [c.connection, c.status, c.rowCount, c.rolledBack, c.params]),
        [
          ['main', 'ok', 1, true, { phone: '+79990000000', password: '***' }],
          ['main', 'ok', 1, true, {}],
        ],
      );
      assert.ok(!r.stdout.includes('hunter2'), 'a parameter named like a secret is not shown');
      const db = new Database(join(data, 'main.sqlite'), { readonly: true });
      assert.equal((db.prepare('SELECT count(*) AS n FROM clients').get() as { n: number }).n, 1);
      db.close();
    } finally {
      tmp.cleanup();
    }
  });

  it('a dry run applies pending migrations to a scratch copy only: the data folder keeps no database and no migration', () => {
    const tmp = tempDir();
    try {
      const { scenarios, data, run: cli } = cliFolders(tmp.dir);
      writeFileSync(join(scenarios, 'db', 'main', '001-clients.sql'), "CREATE TABLE clients (id INTEGER PRIMARY KEY, phone TEXT UNIQUE, name TEXT);\nINSERT INTO clients (phone, name) VALUES ('+74951234567', 'Анна');\n");
      writeFileSync(join(scenarios, 'Count.yaml'), 'variables: { n: number }\nstart: count\nblocks:\n  count:\n    kind: DbQuery\n    sql: SELECT count(*) AS n FROM clients\n');
      const run = (dry: boolean) => cli(['Count', '--json', ...(dry ? ['--dry-run'] : [])]);

      // No database yet: the run sees the migrated table, and nothing is created.
      const first = run(true);
      assert.equal(first.code, 0, first.stderr + first.stdout);
      assert.equal(JSON.parse(first.stdout).variables.n, 1);
      assert.ok(!existsSync(join(data, 'main.sqlite')), 'no database file was created by the dry run');

      // A live run applies the migration for good; a second one added later is seen by a dry run but not kept.
      assert.equal(run(false).code, 0);
      writeFileSync(join(scenarios, 'db', 'main', '002-more.sql'), "INSERT INTO clients (phone, name) VALUES ('+74957654321', 'Борис');\n");
      const second = run(true);
      assert.equal(second.code, 0, second.stderr + second.stdout);
      assert.equal(JSON.parse(second.stdout).variables.n, 2);
      const db = new Database(join(data, 'main.sqlite'), { readonly: true });
      assert.deepEqual((db.prepare('SELECT name FROM oktell_migrations ORDER BY name').all() as Array<{ name: string }>).map((r) => r.name), ['001-clients.sql']);
      assert.equal((db.prepare('SELECT count(*) AS n FROM clients').get() as { n: number }).n, 1);
      db.close();
    } finally {
      tmp.cleanup();
    }
  });

  it('a dry run on a database that does not exist, with no migrations, creates no file either', () => {
    const tmp = tempDir();
    try {
      const { scenarios, data, run } = cliFolders(tmp.dir);
      writeFileSync(join(scenarios, 'One.yaml'), 'variables: { n: number }\nstart: q\nblocks:\n  q:\n    kind: DbQuery\n    sql: SELECT 1 AS n\n');
      const r = run(['One', '--dry-run', '--json']);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.equal(JSON.parse(r.stdout).variables.n, 1);
      assert.ok(!existsSync(join(data, 'main.sqlite')), 'the dry run made no database file');
    } finally {
      tmp.cleanup();
    }
  });

  it('a database locked by another program: the migration check names the file and the lock, exit 1 (a runtime reason, not a usage error)', () => {
    const tmp = tempDir();
    try {
      const { scenarios, data, run } = cliFolders(tmp.dir);
      writeFileSync(join(scenarios, 'db', 'main', '001-t.sql'), 'CREATE TABLE t (x INTEGER);\n');
      writeFileSync(join(scenarios, 'Noop.yaml'), 'start: end\nblocks:\n  end: { kind: ReturnValue, values: { 1: \'"ok"\' } }\n');
      const holder = new Database(join(data, 'main.sqlite'));
      holder.exec('BEGIN EXCLUSIVE; CREATE TABLE held (x INTEGER);');
      try {
        const r = run(['Noop', '--json']);
        assert.equal(r.code, 1, r.stderr + r.stdout);
        assert.equal(JSON.parse(r.stdout).error.code, 'E_DB_LOCKED');
        assert.match(JSON.parse(r.stdout).error.message, /db\/main: cannot check the migrations of .*main\.sqlite: database is locked \(another program holds a lock on it; waited 5 s\)/);
        const plain = run(['Noop']);
        assert.equal(plain.code, 1, plain.stderr);
        assert.match(plain.stderr, /db\/main: cannot check the migrations of .*main\.sqlite: database is locked \(another program holds a lock on it; waited 5 s\)/);
        // Trial s33-docs1 #4: a dry run only reads the file, and says so; docs/cli.md quotes both forms.
        const dry = run(['Noop', '--dry-run', '--json']);
        assert.equal(dry.code, 1, dry.stderr + dry.stdout);
        assert.equal(JSON.parse(dry.stdout).error.code, 'E_DB_LOCKED');
        assert.match(JSON.parse(dry.stdout).error.message, /^db\/main: cannot read .*main\.sqlite for the dry run: database is locked \(another program holds a lock on it; waited 5 s\)$/);
        const cliDoc = readFileSync(repoPath('docs', 'cli.md'), 'utf8').replace(/\s+/g, ' ');
        assert.ok(cliDoc.includes('`db/main: cannot check the migrations of …/main.sqlite: database is locked (another program holds a lock on it; waited 5 s)`'), 'docs/cli.md quotes the live run\'s message');
        assert.ok(cliDoc.includes('`db/main: cannot read …/main.sqlite for the dry run: database is locked (…)`'), 'docs/cli.md quotes the dry run\'s message');
      } finally {
        holder.exec('ROLLBACK');
        holder.close();
      }
    } finally {
      tmp.cleanup();
    }
  });
});
