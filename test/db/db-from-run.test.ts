// `test --from-run` of runs that read a database, through the real binary: the rows a plain SELECT read become the
// case's db: data set (so the case passes on its fresh test database); rows it cannot write back (a computed
// column) are named in the comment above the case and in the command's output.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { runCli } from '../cli/cli.helper.js';
import { repoPath, tempDir } from '../helpers.js';
import { dropSchema, randomSchemaName } from '../store/postgres.helper.js';

const PG_URL = process.env.OKTELL_TEST_PG_URL;

const COUNT = `variables: { n: number }
start: count
blocks:
  count:
    kind: DbQuery
    sql: SELECT count(*) AS n FROM clients
    exits: { success: done }
  done: { kind: ReturnValue, values: { 1: '[n]' } }
`;

const ADD_AND_READ = `variables: { name: string }
start: add
blocks:
  add:
    kind: DbQuery
    sql: INSERT INTO clients (phone, name) VALUES (:phone, 'Гость')
    params: { phone: InputParameter(1) }
    exits: { success: read }
  read:
    kind: DbQuery
    sql: SELECT name FROM clients WHERE phone = :phone
    params: { phone: InputParameter(1) }
    exits: { success: done }
  done: { kind: ReturnValue, values: { 1: '[name]' } }
`;



/** The compiled CLI run in `dir` (its scenarios/ and oktell.config.yaml), with this shell's server settings unset. */
function cliIn(dir: string) {
  return (...args: string[]) => runCli(args, { cwd: dir, unset: ['OKTELL_SCENARIOS', 'OKTELL_DATA_DIR', 'OKTELL_CONFIG'] });
}
type Cli = ReturnType<typeof cliIn>;

/** The id of the newest run in the store `cli` reads. */
function lastRunId(cli: Cli): string {
  return (JSON.parse(cli('runs', '--json', '-n', '1').stdout) as Array<{ id: string }>)[0]!.id;
}
/**
 * On PostgreSQL (PG_URL), a schema of its own holding ticks (label unique) and a temp folder whose scenarios name it as
 * the connection crm (its migration makes the same table for a case's database); `body` runs there, then both go.
 */
async function withPgTicks(prefix: string, body: (t: { schema: string; client: pg.Client; scenarios: string; cli: Cli }) => Promise<void>): Promise<void> {
  const schema = randomSchemaName(prefix);
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  const tmp = tempDir();
  try {
    await client.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.ticks (id serial PRIMARY KEY, due text, label text UNIQUE)`);
    const url = new URL(PG_URL!);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const scenarios = join(tmp.dir, 'scenarios');
    mkdirSync(join(scenarios, 'db', 'crm'), { recursive: true });
    writeFileSync(join(scenarios, 'db', 'crm', '001-ticks.sql'), 'CREATE TABLE IF NOT EXISTS ticks (id INTEGER PRIMARY KEY, due TEXT, label TEXT UNIQUE);\n');
    writeFileSync(join(tmp.dir, 'oktell.config.yaml'), `databases:\n  crm: ${url.toString()}\n`);
    const cli = cliIn(tmp.dir);
    await body({ schema, client, scenarios, cli });
  } finally {
    await client.end();
    await dropSchema(PG_URL!, schema);
    tmp.cleanup();
  }
}
describe('test --from-run of a run that read the database', () => {
  it('the rows a SELECT read become db:, and the case passes; a computed read is named in the comment', () => {
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(join(scenarios, 'db', 'main'), { recursive: true });
      const doc = (page: string, re: RegExp) => re.exec(readFileSync(repoPath('docs', page), 'utf8'))![1]!;
      writeFileSync(join(scenarios, 'LookupClient.yaml'), doc('scenario-format.md', /```yaml\n(# db example: LookupClient\.yaml\n[\s\S]*?)```/));
      writeFileSync(join(scenarios, 'db', 'main', '001-clients.sql'), doc('configuration.md', /```sql\n-- scenarios\/db\/main\/001-clients\.sql\n([\s\S]*?)```/));
      writeFileSync(join(scenarios, 'CountClients.yaml'), COUNT);
      writeFileSync(join(scenarios, 'AddAndRead.yaml'), ADD_AND_READ);
      const cli = cliIn(tmp.dir);

      // The migration makes the table; a client is added by hand, as real data would be.
      assert.equal(cli('run', 'LookupClient', '-p', '1=+74951234567').code, 0);
      const db = new Database(join(tmp.dir, 'var', 'main.sqlite'));
      db.prepare("INSERT INTO clients (phone, name, manager) VALUES ('+75550001122', 'Вера', 'Иван')").run();
      db.close();
      assert.equal(cli('run', 'LookupClient', '-p', '1=+75550001122').code, 0);
      const vera = cli('test', '--from-run', lastRunId(cli), '--name', 'vera');
      assert.equal(vera.code, 0, vera.stdout + vera.stderr);
      assert.match(vera.stdout, /\+ case "vera" written to scenarios\/tests\/recorded\.test\.yaml\n✓ .*vera/);
      const file = join(scenarios, 'tests', 'recorded.test.yaml');
      assert.match(readFileSync(file, 'utf8'), /db:\n\s+main: \|\n\s+INSERT OR IGNORE INTO clients \(phone, id, name, manager\) VALUES \('\+75550001122', 2, 'Вера', 'Иван'\);\n/);

      // count(*) cannot be written back as rows: said in the output and the comment, and the case fails honestly.
      assert.equal(cli('run', 'CountClients').code, 0);
      const counted = cli('test', '--from-run', lastRunId(cli), '--name', 'count');
      assert.equal(counted.code, 1, counted.stdout + counted.stderr);
      assert.match(counted.stdout, /\(the rows of 1 database read\(s\) not recorded: see the comment above it\)/);
      assert.match(readFileSync(file, 'utf8'), /# Recorded from run \S+\. Database reads whose rows are not in db: .*\n\s+#\s+- main: SELECT count\(\*\) AS n FROM clients \(block count of CountClients\): its select list computes values \(a function or an expression\); it read 1 row\(s\): \[\{"n":2\}\]/);

      // A read of a row the run wrote itself is not made data (the case's own insert would clash with it).
      assert.equal(cli('run', 'AddAndRead', '-p', '1=+70000000001').code, 0);
      const own = cli('test', '--from-run', lastRunId(cli), '--name', 'own row');
      assert.equal(own.code, 0, own.stdout + own.stderr);
      assert.match(readFileSync(file, 'utf8'), /- main: SELECT name FROM clients WHERE phone = :phone \(block read of AddAndRead\): the run wrote to clients before this read, so its rows may be the run's own; it read 1 row\(s\)/);
    } finally {
      tmp.cleanup();
    }
  });

  // A loop over the unsent rows (trial 40 L4): each read comes after the run's UPDATE of the row before; those rows
  // were there before the run (an UPDATE makes none), and `sent_at IS NULL` says what the column held.
  it('a loop that marks each row it reads: every row it read becomes db:, and the case passes', () => {
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(join(scenarios, 'db', 'main'), { recursive: true });
      writeFileSync(join(scenarios, 'db', 'main', '001-orders.sql'), 'CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, order_no TEXT NOT NULL, sent_at TEXT);\n');
      writeFileSync(
        join(scenarios, 'SendOrders.yaml'),
        `variables: { id: number, order_no: string, found: number, sent: string }
start: next
blocks:
  next:
    kind: DbQuery
    sql: SELECT id, order_no FROM orders WHERE sent_at IS NULL ORDER BY id LIMIT 1
    rowCount: found
    exits: { success: any }
  any: { kind: Condition, expression: '[found] > 0', exits: { true: mark, false: done } }
  mark:
    kind: DbQuery
    sql: UPDATE orders SET sent_at = 'now' WHERE id = :id
    params: { id: '[id]' }
    exits: { success: count }
  count: { kind: Variable, set: { sent: '[sent] + [order_no] + " "', found: 0 }, exits: { next: next } }
  done: { kind: ReturnValue, values: { 1: '[sent]' } }
`,
      );
      const cli = cliIn(tmp.dir);
      assert.equal(cli('run', 'SendOrders').code, 0);
      const db = new Database(join(tmp.dir, 'var', 'main.sqlite'));
      for (const no of ['A-1', 'A-2', 'A-3']) db.prepare('INSERT INTO orders (order_no) VALUES (?)').run(no);
      db.close();
      const ran = cli('run', 'SendOrders', '--json');
      assert.equal(ran.code, 0, ran.stdout + ran.stderr);
      assert.deepEqual((JSON.parse(ran.stdout) as { returnValues: Record<string, string> }).returnValues, { 1: 'A-1 A-2 A-3 ' });
      const id = lastRunId(cli);
      const written = cli('test', '--from-run', id, '--name', 'loop');
      assert.equal(written.code, 0, written.stdout + written.stderr);
      assert.doesNotMatch(written.stdout, /not recorded/);
      assert.match(
        readFileSync(join(scenarios, 'tests', 'recorded.test.yaml'), 'utf8'),
        /main: \|\n\s+INSERT OR IGNORE INTO orders \(sent_at, id, order_no\) VALUES \(NULL, 1, 'A-1'\);\n\s+INSERT OR IGNORE INTO orders \(sent_at, id, order_no\) VALUES \(NULL, 2, 'A-2'\);\n\s+INSERT OR IGNORE INTO orders \(sent_at, id, order_no\) VALUES \(NULL, 3, 'A-3'\);\n/,
      );
    } finally {
      tmp.cleanup();
    }
  });

  // The rows an UPDATE changed before the run first read the table are not data from before the run: the case would
  // start with them changed already and its UPDATE would find nothing to change.
  it('a read of rows the run updated before it first read the table is named in the comment, not made data', () => {
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(join(scenarios, 'db', 'main'), { recursive: true });
      writeFileSync(join(scenarios, 'db', 'main', '001-orders.sql'), 'CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, status TEXT NOT NULL);\n');
      writeFileSync(
        join(scenarios, 'TakeNew.yaml'),
        `variables: { id: number }
start: take
blocks:
  take:
    kind: DbQuery
    sql: "/* claim */ UPDATE orders SET status = 'processing' WHERE status = 'new'"
    exits: { success: read }
  read:
    kind: DbQuery
    sql: SELECT id, status FROM orders WHERE status = 'processing'
    exits: { success: done }
  done: { kind: ReturnValue, values: { 1: '[id]' } }
`,
      );
      const cli = cliIn(tmp.dir);
      assert.equal(cli('run', 'TakeNew').code, 0);
      const db = new Database(join(tmp.dir, 'var', 'main.sqlite'));
      db.prepare("INSERT INTO orders (status) VALUES ('new')").run();
      db.close();
      assert.equal(cli('run', 'TakeNew').code, 0);
      const id = lastRunId(cli);
      const written = cli('test', '--from-run', id, '--name', 'take');
      assert.match(written.stdout, /\(the rows of 1 database read\(s\) not recorded: see the comment above it\)/);
      const text = readFileSync(join(scenarios, 'tests', 'recorded.test.yaml'), 'utf8');
      assert.doesNotMatch(text, /INSERT OR IGNORE/);
      assert.match(text, /- main: SELECT id, status FROM orders WHERE status = 'processing' \(block read of TakeNew\): the run wrote to orders before this read, so its rows may be the run's own/);
    } finally {
      tmp.cleanup();
    }
  });

  it('a read on a second SQLite connection (not main): its rows become db: of that connection, and the case passes', () => {
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(join(scenarios, 'db', 'reports'), { recursive: true });
      mkdirSync(join(scenarios, 'db', 'main'), { recursive: true });
      // main in a file of its own choosing, reports beside it: both named under databases:, each with its migrations.
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'databases:\n  main: sqlite:./var/own-main.sqlite\n  reports: sqlite:./reports.sqlite\n');
      writeFileSync(join(scenarios, 'db', 'reports', '001-clients.sql'), 'CREATE TABLE IF NOT EXISTS clients (id INTEGER PRIMARY KEY, phone TEXT NOT NULL UNIQUE, name TEXT);\n');
      writeFileSync(join(scenarios, 'db', 'main', '001-notes.sql'), 'CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, phone TEXT);\n');
      // The top scenario writes on main, then calls a child that reads reports (and starts it once more, async).
      writeFileSync(
        join(scenarios, 'Top.yaml'),
        `variables: { name: string }
start: note
blocks:
  note: { kind: DbQuery, sql: 'INSERT INTO notes (phone) VALUES (:phone)', params: { phone: InputParameter(1) }, exits: { success: c } }
  c: { kind: AsyncScenario, mode: call, scenario: Child, params: { 1: InputParameter(1) }, exits: { next: a } }
  a: { kind: AsyncScenario, scenario: Child, params: { 1: InputParameter(1) }, exits: { next: done } }
  done: { kind: ReturnValue, values: { 1: '[name]' } }
`,
      );
      writeFileSync(
        join(scenarios, 'Child.yaml'),
        `variables: { name: string }
start: q
blocks:
  q: { kind: DbQuery, connection: reports, sql: 'SELECT name FROM clients WHERE phone = :phone', params: { phone: InputParameter(1) }, exits: { success: done } }
  done: { kind: ReturnValue, values: { 1: '[name]' } }
`,
      );
      const cli = cliIn(tmp.dir);
      // The migration makes the table of reports; its row is added by hand, as another system's would be.
      assert.equal(cli('run', 'Top', '-p', '1=+70000000009').code, 0);
      const db = new Database(join(tmp.dir, 'reports.sqlite'));
      db.prepare("INSERT INTO clients (phone, name) VALUES ('+75550001122', 'Вера')").run();
      db.close();
      const ran = cli('run', 'Top', '-p', '1=+75550001122');
      assert.equal(ran.code, 0, ran.stdout + ran.stderr);
      const id = (JSON.parse(cli('runs', '--json', '-n', '5').stdout) as Array<{ id: string; scenario: string }>).find((r) => r.scenario === 'Top')!.id;
      const made = cli('test', '--from-run', id, '--name', 'vera on reports');
      assert.equal(made.code, 0, made.stdout + made.stderr);
      assert.match(made.stdout, /1 passed, 0 failed\n$/);
      const file = readFileSync(join(scenarios, 'tests', 'recorded.test.yaml'), 'utf8');
      assert.match(file, /db:\n\s+reports: \|\n\s+INSERT OR IGNORE INTO clients \(phone, name\) VALUES \('\+75550001122', 'Вера'\);\n/);
      assert.match(file, /- connection: reports\n\s+statement: SELECT name FROM clients WHERE phone = :phone\n\s+status: ok\n\s+rowCount: 1/);
      // The written case runs alone too, as `oktell-emu test` runs the folder.
      const again = cli('test');
      assert.equal(again.code, 0, again.stdout + again.stderr);
    } finally {
      tmp.cleanup();
    }
  });

  it('the recorded case expects the statements the run made: a changed INSERT fails it', () => {
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(join(scenarios, 'db', 'main'), { recursive: true });
      writeFileSync(join(scenarios, 'db', 'main', '001-clients.sql'), 'CREATE TABLE clients (phone TEXT PRIMARY KEY, name TEXT);\n');
      writeFileSync(join(scenarios, 'AddAndRead.yaml'), ADD_AND_READ);
      const cli = cliIn(tmp.dir);
      assert.equal(cli('run', 'AddAndRead', '-p', '1=+70000000002').code, 0);
      const id = lastRunId(cli);
      const made = cli('test', '--from-run', id, '--name', 'add');
      assert.equal(made.code, 0, made.stdout + made.stderr);
      const file = join(scenarios, 'tests', 'recorded.test.yaml');
      assert.match(readFileSync(file, 'utf8'), /dbCalls:[\s\S]*statement: INSERT INTO clients \(phone, name\) VALUES \(:phone, 'Гость'\)[\s\S]*rowCount: 1/);
      // The same return value and path, another statement: only the expected statements tell.
      writeFileSync(join(scenarios, 'AddAndRead.yaml'), ADD_AND_READ.replace('INSERT INTO', 'INSERT OR REPLACE INTO'));
      const changed = cli('test');
      assert.equal(changed.code, 1, changed.stdout + changed.stderr);
      assert.match(changed.stdout, /dbCalls\[0\]\.statement: expected "INSERT INTO clients/);
    } finally {
      tmp.cleanup();
    }
  });

  // Trial finding: a second live run inserting the same key took its error exit on the row the first one wrote. The
  // case's fresh database has no such row, so the case goes the other way at once: the command says so, and what to
  // add to the case's db: (which then makes it pass).
  it('a write that clashed with a row already in the database (a UNIQUE key) is named as not replayed, with what to add to db:', () => {
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(join(scenarios, 'db', 'main'), { recursive: true });
      writeFileSync(join(scenarios, 'db', 'main', '001-ticks.sql'), 'CREATE TABLE IF NOT EXISTS ticks (id INTEGER PRIMARY KEY, due TEXT, label TEXT UNIQUE);\n');
      writeFileSync(
        join(scenarios, 'Tick.yaml'),
        `variables: { code: string }
start: add
blocks:
  add:
    kind: DbQuery
    sql: INSERT INTO ticks (due, label) VALUES (:due, :label)
    params: { due: '"2026-01-05"', label: InputParameter(1) }
    errorCode: code
    exits: { success: ok, error: dbFailed }
  ok: { kind: ReturnValue, values: { 1: '"ok " + InputParameter(1)' } }
  dbFailed: { kind: ReturnValue, values: { 1: '"db: " + [code]' } }
`,
      );
      const cli = cliIn(tmp.dir);
      const returned = (r: { stdout: string }) => (JSON.parse(r.stdout) as { returnValues: Record<string, unknown> }).returnValues[1];
      assert.equal(returned(cli('run', 'Tick', '-p', '1=A-1', '--json')), 'ok A-1');
      assert.equal(returned(cli('run', 'Tick', '-p', '1=A-1', '--json')), 'db: SQLITE_CONSTRAINT_UNIQUE');
      const id = lastRunId(cli);

      const made = cli('test', '--from-run', id, '--name', 'clash');
      assert.equal(made.code, 1, made.stdout + made.stderr);
      const note = 'main: INSERT INTO ticks (due, label) VALUES (:due, :label) (block add of Tick) failed on a row already in ticks ' +
        '(SQLite: UNIQUE constraint failed: ticks.label; SQLITE_CONSTRAINT_UNIQUE, exit "error"): unless the run wrote that row itself, it was in the database before the run, ' +
        'and the case\'s database has only the rows of its db:, so there the write goes through and the run takes another way; ' +
        'to replay the clash, add that row under the case\'s db: main (an INSERT into ticks with the values it clashed on; the statement\'s parameters were {"due":"2026-01-05","label":"A-1"}), or drop the case';
      assert.match(made.stdout, new RegExp(`^! cannot be replayed: ${note.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
      const file = join(scenarios, 'tests', 'recorded.test.yaml');
      const text = readFileSync(file, 'utf8');
      assert.ok(text.includes(`#   - ${note}`), text);
      assert.match(made.stdout, /expected "db: SQLITE_CONSTRAINT_UNIQUE"/);

      // Done as the note says, the case replays the clash.
      writeFileSync(file, text.replace(/^(\s+)scenario: Tick\n/m, "$1scenario: Tick\n$1db:\n$1  main: \"INSERT INTO ticks (due, label) VALUES ('2026-01-01', 'A-1');\"\n"));
      const replayed = cli('test', 'scenarios/tests/recorded.test.yaml');
      assert.equal(replayed.code, 0, replayed.stdout + replayed.stderr + readFileSync(file, 'utf8'));
    } finally {
      tmp.cleanup();
    }
  });

  it('on PostgreSQL the same clash (23505, unique_violation) is named too', { skip: PG_URL ? false : 'set OKTELL_TEST_PG_URL to run it' }, async () => {
    await withPgTicks('tclash', async ({ schema, client, scenarios, cli }) => {
      writeFileSync(
        join(scenarios, 'Tick.yaml'),
        `variables: { code: string }
start: add
blocks:
  add:
    kind: DbQuery
    connection: crm
    sql: INSERT INTO ticks (due, label) VALUES ('2026-01-05', :label)
    params: { label: InputParameter(1) }
    errorCode: code
    exits: { success: ok, error: dbFailed }
  ok: { kind: ReturnValue, values: { 1: '"ok"' } }
  dbFailed: { kind: ReturnValue, values: { 1: '"db: " + [code]' } }
`,
      );
      await client.query(`INSERT INTO ${schema}.ticks (due, label) VALUES ('2026-01-01', 'A-1')`);
      const ran = cli('run', 'Tick', '-p', '1=A-1', '--json');
      assert.equal((JSON.parse(ran.stdout) as { returnValues: Record<string, unknown> }).returnValues[1], 'db: 23505', ran.stdout + ran.stderr);
      const id = lastRunId(cli);
      const made = cli('test', '--from-run', id, '--name', 'clash');
      assert.equal(made.code, 1, made.stdout + made.stderr);
      assert.match(made.stdout, /^! cannot be replayed: crm: INSERT INTO ticks \(due, label\) VALUES \('2026-01-05', :label\) \(block add of Tick\) failed on a row already in ticks \(PostgreSQL: duplicate key value violates unique constraint "ticks_label_key"; 23505, exit "error"\): .* add that row under the case's db: crm \(an INSERT into ticks with the values it clashed on; the statement's parameters were \{"label":"A-1"\}\), or drop the case$/m);
    });
  });

  // The row the INSERT clashed with was the run's own: the case's run writes it too and the clash replays, so no note.
  const TWICE = (second: string) => `variables: { code: string }
start: first
blocks:
  first:
    kind: DbQuery
    sql: INSERT INTO ticks (due, label) VALUES ('2026-01-05', :label)
    params: { label: InputParameter(1) }
    exits: { success: again }
  again:
    kind: DbQuery
    sql: ${second}
    params: { label: InputParameter(1) }
    errorCode: code
    exits: { success: ok, error: dbFailed }
  ok: { kind: ReturnValue, values: { 1: '"ok"' } }
  dbFailed: { kind: ReturnValue, values: { 1: '"db: " + [code]' } }
`;

  it('a clash with a row the run itself inserted earlier (same key values) is not named: the case replays it', () => {
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(join(scenarios, 'db', 'main'), { recursive: true });
      writeFileSync(join(scenarios, 'db', 'main', '001-ticks.sql'), 'CREATE TABLE IF NOT EXISTS ticks (id INTEGER PRIMARY KEY, due TEXT, label TEXT UNIQUE);\n');
      // Another statement, another due: only the key (label) is the same.
      writeFileSync(join(scenarios, 'Twice.yaml'), TWICE("INSERT INTO ticks (label, due) VALUES (:label, '2026-01-06')"));
      const cli = cliIn(tmp.dir);
      const ran = cli('run', 'Twice', '-p', '1=A-1', '--json');
      assert.equal((JSON.parse(ran.stdout) as { returnValues: Record<string, unknown> }).returnValues[1], 'db: SQLITE_CONSTRAINT_UNIQUE', ran.stdout + ran.stderr);
      const id = lastRunId(cli);
      const made = cli('test', '--from-run', id, '--name', 'own clash');
      assert.equal(made.code, 0, made.stdout + made.stderr);
      assert.doesNotMatch(made.stdout, /cannot be replayed/);
      assert.ok(!readFileSync(join(scenarios, 'tests', 'recorded.test.yaml'), 'utf8').includes('failed on a row already in'));
      assert.match(made.stdout, /✓ scenarios\/tests\/recorded\.test\.yaml › own clash/);
    } finally {
      tmp.cleanup();
    }
  });

  it('on PostgreSQL too: the run\'s own earlier INSERT gave every column the refused one gives (23505 names no column)', { skip: PG_URL ? false : 'set OKTELL_TEST_PG_URL to run it' }, async () => {
    await withPgTicks('townclash', async ({ scenarios, cli }) => {
      writeFileSync(join(scenarios, 'Twice.yaml'), TWICE('INSERT INTO ticks (label) VALUES (:label)').replaceAll('    kind: DbQuery\n', '    kind: DbQuery\n    connection: crm\n'));
      const ran = cli('run', 'Twice', '-p', '1=A-1', '--json');
      assert.equal((JSON.parse(ran.stdout) as { returnValues: Record<string, unknown> }).returnValues[1], 'db: 23505', ran.stdout + ran.stderr);
      const id = lastRunId(cli);
      const made = cli('test', '--from-run', id, '--name', 'own clash');
      assert.doesNotMatch(made.stdout, /cannot be replayed/);
      // The case's database is SQLite: its run clashes there as well, with SQLite's code (the case expects 23505, as the run had).
      assert.match(made.stdout, /expected "db: 23505" got "db: SQLITE_CONSTRAINT_UNIQUE"/);
    });
  });

  // A foreign key: an INSERT it refused replays by itself (the row it refers to is missing from the case's database
  // too), so nothing is said; a DELETE it refused does not (the rows referring to the deleted one were the database's).
  const FK_SCHEMA = 'CREATE TABLE IF NOT EXISTS customers (id INTEGER PRIMARY KEY, name TEXT);\nCREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id), item TEXT);\n';
  const ONE = (sql: string, connection = '') => `variables: { code: string }
start: write
blocks:
  write:
    kind: DbQuery
${connection}    sql: ${sql}
    params: { c: InputParameter(1) }
    errorCode: code
    exits: { success: ok, error: dbFailed }
  ok: { kind: ReturnValue, values: { 1: '"ok"' } }
  dbFailed: { kind: ReturnValue, values: { 1: '"db: " + [code]' } }
`;

  it('a DELETE a foreign key refused is named as not replayed, with the keys and what to add to db:; a refused INSERT is not', () => {
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(join(scenarios, 'db', 'main'), { recursive: true });
      writeFileSync(join(scenarios, 'db', 'main', '001-orders.sql'), FK_SCHEMA);
      writeFileSync(join(scenarios, 'Order.yaml'), ONE("INSERT INTO orders (customer_id, item) VALUES (:c, 'tea')"));
      writeFileSync(join(scenarios, 'Drop.yaml'), ONE('DELETE FROM customers WHERE id = :c'));
      const cli = cliIn(tmp.dir);
      const returned = (r: { stdout: string }) => (JSON.parse(r.stdout) as { returnValues: Record<string, unknown> }).returnValues[1];

      // No customer 7: the INSERT is refused, and so it is in the case, which passes with no note.
      assert.equal(returned(cli('run', 'Order', '-p', '1=7', '--json')), 'db: SQLITE_CONSTRAINT_FOREIGNKEY');
      const insert = cli('test', '--from-run', lastRunId(cli), '--name', 'no customer');
      assert.equal(insert.code, 0, insert.stdout + insert.stderr);
      assert.doesNotMatch(insert.stdout, /cannot be replayed/);

      const db = new Database(join(tmp.dir, 'var', 'main.sqlite'));
      db.exec("INSERT INTO customers (id, name) VALUES (7, 'Вера'); INSERT INTO orders (customer_id, item) VALUES (7, 'tea');");
      db.close();
      const ran = cli('run', 'Drop', '-p', '1=7', '--json');
      assert.equal(returned(ran), 'db: SQLITE_CONSTRAINT_FOREIGNKEY');
      const id = lastRunId(cli);
      const trace = JSON.parse(cli('show', id, '--json').stdout) as { trace: Array<{ effect?: { error?: string } }> };
      assert.equal(trace.trace[0]!.effect!.error, 'SQLite: FOREIGN KEY constraint failed (foreign keys: orders.customer_id → customers.id)', 'the message names the key');
      const made = cli('test', '--from-run', id, '--name', 'still ordered');
      assert.equal(made.code, 1, made.stdout + made.stderr);
      const note = 'main: DELETE FROM customers WHERE id = :c (block write of Drop) was refused by a foreign key ' +
        '(SQLite: FOREIGN KEY constraint failed (foreign keys: orders.customer_id → customers.id); SQLITE_CONSTRAINT_FOREIGNKEY, exit "error"): ' +
        'the row of customers it changes or deletes was in the database, and the case\'s database has only the rows of its db:, so there the statement changes nothing, goes through and the run takes another way; ' +
        'to replay the refusal, add under the case\'s db: main the row of customers the statement changes or deletes and, when the key is one by which another table refers to customers, ' +
        'a row of that table referring to it (the statement\'s parameters were {"c":"7"}), or drop the case';
      assert.match(made.stdout, new RegExp(`^! cannot be replayed: ${note.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
      const file = join(scenarios, 'tests', 'recorded.test.yaml');
      const text = readFileSync(file, 'utf8');
      assert.ok(text.includes(`#   - ${note}`), text);

      // Done as the note says, the case replays the refusal.
      const withRows = text.replace(/^(\s+)scenario: Drop\n/m, "$1scenario: Drop\n$1db:\n$1  main: \"INSERT INTO customers (id, name) VALUES (7, 'Вера'); INSERT INTO orders (customer_id, item) VALUES (7, 'tea');\"\n");
      assert.notEqual(withRows, text);
      writeFileSync(file, withRows);
      const replayed = cli('test', 'scenarios/tests/recorded.test.yaml');
      assert.equal(replayed.code, 0, replayed.stdout + replayed.stderr + readFileSync(file, 'utf8'));
    } finally {
      tmp.cleanup();
    }
  });

  it('on PostgreSQL (23503) the same: a refused DELETE is named with the constraint, a refused INSERT is not', { skip: PG_URL ? false : 'set OKTELL_TEST_PG_URL to run it' }, async () => {
    const schema = randomSchemaName('tfk');
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    const tmp = tempDir();
    try {
      await client.query(`CREATE SCHEMA ${schema}; SET search_path = ${schema}; ${FK_SCHEMA.replace('orders (id INTEGER PRIMARY KEY', 'orders (id serial PRIMARY KEY')}`);
      const url = new URL(PG_URL!);
      url.searchParams.set('options', `-c search_path=${schema}`);
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(join(scenarios, 'db', 'crm'), { recursive: true });
      writeFileSync(join(scenarios, 'db', 'crm', '001-orders.sql'), FK_SCHEMA);
      writeFileSync(join(scenarios, 'Order.yaml'), ONE("INSERT INTO orders (customer_id, item) VALUES (CAST(:c AS integer), 'tea')", '    connection: crm\n'));
      writeFileSync(join(scenarios, 'Drop.yaml'), ONE('DELETE FROM customers WHERE id = CAST(:c AS integer)', '    connection: crm\n'));
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), `databases:\n  crm: ${url.toString()}\n`);
      const cli = cliIn(tmp.dir);
      const returned = (r: { stdout: string; stderr: string }) => (JSON.parse(r.stdout) as { returnValues: Record<string, unknown> }).returnValues[1];

      assert.equal(returned(cli('run', 'Order', '-p', '1=7', '--json')), 'db: 23503');
      assert.doesNotMatch(cli('test', '--from-run', lastRunId(cli), '--name', 'no customer').stdout, /cannot be replayed/);

      await client.query(`INSERT INTO ${schema}.customers (id, name) VALUES (7, 'Вера'); INSERT INTO ${schema}.orders (customer_id, item) VALUES (7, 'tea')`);
      assert.equal(returned(cli('run', 'Drop', '-p', '1=7', '--json')), 'db: 23503');
      const made = cli('test', '--from-run', lastRunId(cli), '--name', 'still ordered');
      assert.equal(made.code, 1, made.stdout + made.stderr);
      assert.match(made.stdout, /^! cannot be replayed: crm: DELETE FROM customers WHERE id = CAST\(:c AS integer\) \(block write of Drop\) was refused by a foreign key \(PostgreSQL: update or delete on table "customers" violates foreign key constraint "orders_customer_id_fkey" on table "orders"; 23503, exit "error"\): .* add under the case's db: crm the row of customers the statement changes or deletes and, when the key is one by which another table refers to customers, a row of that table referring to it \(the statement's parameters were \{"c":"7"\}\), or drop the case$/m);
    } finally {
      await client.end();
      await dropSchema(PG_URL!, schema);
      tmp.cleanup();
    }
  });

  // PostgreSQL's MERGE (and a procedure, which may write any table) before a read: what the read found may be the
  // run's own row, as after an INSERT, so it is named in the comment, not made data the case would clash with.
  it('a read after a MERGE INTO or a CALL on PostgreSQL is named in the comment, not made data', { skip: PG_URL ? false : 'set OKTELL_TEST_PG_URL to run it' }, async () => {
    const schema = randomSchemaName('tmerge');
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    const tmp = tempDir();
    try {
      await client.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.stock (id integer PRIMARY KEY, qty integer NOT NULL);
        CREATE PROCEDURE ${schema}.restock(p integer) LANGUAGE sql AS $$ INSERT INTO ${schema}.stock (id, qty) VALUES (p, 1) $$`);
      const url = new URL(PG_URL!);
      url.searchParams.set('options', `-c search_path=${schema}`);
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(join(scenarios, 'db', 'crm'), { recursive: true });
      writeFileSync(join(scenarios, 'db', 'crm', '001-stock.sql'), 'CREATE TABLE IF NOT EXISTS stock (id INTEGER PRIMARY KEY, qty INTEGER NOT NULL);\n');
      const scenario = (write: string) => `variables: { qty: number }
start: write
blocks:
  write:
    kind: DbQuery
    connection: crm
    sql: ${write}
    params: { id: InputParameter(1) }
    exits: { success: read }
  read:
    kind: DbQuery
    connection: crm
    sql: SELECT id, qty FROM stock WHERE id = :id
    params: { id: InputParameter(1) }
    exits: { success: done }
  done: { kind: ReturnValue, values: { 1: '[qty]' } }
`;
      writeFileSync(join(scenarios, 'Restock.yaml'), scenario('MERGE INTO stock s USING (SELECT CAST(:id AS integer) AS id) n ON s.id = n.id WHEN MATCHED THEN UPDATE SET qty = s.qty + 1 WHEN NOT MATCHED THEN INSERT (id, qty) VALUES (n.id, 1)'));
      writeFileSync(join(scenarios, 'CallRestock.yaml'), scenario('CALL restock(CAST(:id AS integer))'));
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), `databases:\n  crm: ${url.toString()}\n`);
      const cli = cliIn(tmp.dir);

      const merged = cli('run', 'Restock', '-p', '1=5', '--json');
      assert.equal(merged.code, 0, merged.stdout + merged.stderr);
      assert.deepEqual((JSON.parse(merged.stdout) as { returnValues: Record<string, unknown> }).returnValues, { 1: 1 });
      cli('test', '--from-run', lastRunId(cli), '--name', 'merge');
      const file = join(scenarios, 'tests', 'recorded.test.yaml');
      assert.doesNotMatch(readFileSync(file, 'utf8'), /INSERT OR IGNORE INTO stock/);
      assert.match(readFileSync(file, 'utf8'), /- crm: SELECT id, qty FROM stock WHERE id = :id \(block read of Restock\): the run wrote to stock before this read, so its rows may be the run's own; it read 1 row\(s\): \[\{"id":5,"qty":1\}\]/);

      const called = cli('run', 'CallRestock', '-p', '1=6');
      assert.equal(called.code, 0, called.stdout + called.stderr);
      cli('test', '--from-run', lastRunId(cli), '--name', 'call');
      assert.doesNotMatch(readFileSync(file, 'utf8'), /INSERT OR IGNORE INTO stock/);
      assert.match(readFileSync(file, 'utf8'), /- crm: SELECT id, qty FROM stock WHERE id = :id \(block read of CallRestock\): the run called a procedure \(CALL restock\(CAST\(:id AS integer\)\)\) before this read, which may have written stock, so its rows may be the run's own/);
      assert.deepEqual((await client.query(`SELECT id, qty FROM ${schema}.stock ORDER BY id`)).rows, [{ id: 5, qty: 1 }, { id: 6, qty: 1 }]);
    } finally {
      await client.end();
      await dropSchema(PG_URL!, schema);
      tmp.cleanup();
    }
  });
});
