// Defect from a trial: on SQLite (synchronous better-sqlite3) a DbQuery statement that never ends, or just runs long,
// ran on the server's only thread and ignored the block's timeout (then only a wait for a lock). Statements now run
// in a process of their own: past the timeout the process is killed, the block takes its timeout exit with DB_TIMEOUT,
// what the statement had not committed is rolled back, and the next statement gets a new process.
// Each statement below does end on its own (after seconds), so the test finishes even without the fix.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDatabasePort, type ClosableDatabasePort } from '../../adapters/db/index.js';
import { defaultRegistry } from '../../components/registry.js';
import { createInProcessStarter, loadScenarioLibrary, randomIds, runScenario, systemClock, type LoggerPort, type ScenarioLibrary, type Value } from '../../engine/index.js';
import { tempDir } from '../helpers.js';

/** Counts to :lim (about 10 million steps a second): long enough to outrun a 0.3 s timeout by far, yet it ends. */
const COUNT_TO = 'WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < CAST(:lim AS INTEGER)) SELECT count(*) AS c FROM r';

const SCENARIOS: Record<string, string> = {
  Count: `variables: { lim: string, c: number, err: string }
start: q
blocks:
  q:
    kind: DbQuery
    sql: ${COUNT_TO}
    params: { lim: '[lim]' }
    errorCode: err
    timeout: 0.3
    exits: { success: counted, error: failed, timeout: late }
  counted:
    kind: ReturnValue
    values: { 1: '"counted " + [c]' }
  failed:
    kind: ReturnValue
    values: { 1: '"error " + [err]' }
  late:
    kind: ReturnValue
    values: { 1: '"timeout " + [err]' }
`,
  // A write that would insert 50 million rows, stopped half way: none of its rows may be kept.
  Fill: `variables: { err: string, n: number }
start: fill
blocks:
  fill:
    kind: DbQuery
    sql: INSERT INTO numbers (n) WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < 50000000) SELECT x + 100 FROM r
    rowCount: n
    errorCode: err
    timeout: 0.3
    exits: { success: done, timeout: late }
  done:
    kind: ReturnValue
    values: { 1: '"filled " + [n]' }
  late:
    kind: ReturnValue
    values: { 1: '"timeout " + [err]' }
`,
  Add: `variables: { n: number, err: string }
start: add
blocks:
  add:
    kind: DbQuery
    sql: INSERT INTO numbers (n) VALUES (7)
    rowCount: n
    errorCode: err
    exits: { success: done, error: failed }
  done:
    kind: ReturnValue
    values: { 1: '"added " + [n]' }
  failed:
    kind: ReturnValue
    values: { 1: '"error " + [err]' }
`,
  AddThenCount: `variables: { lim: string, c: number, err: string }
start: add
blocks:
  add:
    kind: DbQuery
    sql: INSERT INTO numbers (n) VALUES (8)
    exits: { success: q }
  q:
    kind: DbQuery
    sql: ${COUNT_TO}
    params: { lim: '[lim]' }
    errorCode: err
    timeout: 0.3
    exits: { success: counted, timeout: late }
  counted:
    kind: ReturnValue
    values: { 1: '"counted " + [c]' }
  late:
    kind: ReturnValue
    values: { 1: '"timeout " + [err]' }
`,
};

function capturingLogger(): LoggerPort & { lines: Array<{ level: string; obj: object; msg: string }> } {
  const lines: Array<{ level: string; obj: object; msg: string }> = [];
  const at = (level: string) => (obj: object, msg = '') => void lines.push({ level, obj, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('SQLite: the block\'s timeout bounds how long a statement runs', () => {
  let tmp: ReturnType<typeof tempDir>;
  let path: string;
  let lib: ScenarioLibrary;
  const logger = capturingLogger();
  let live: ClosableDatabasePort;

  before(async () => {
    tmp = tempDir();
    path = join(tmp.dir, 'main.sqlite');
    const raw = new Database(path);
    raw.exec('CREATE TABLE numbers (n INTEGER NOT NULL UNIQUE)');
    raw.close();
    for (const [name, text] of Object.entries(SCENARIOS)) writeFileSync(join(tmp.dir, `${name}.yaml`), text);
    lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry, databases: { main: 'sqlite' } });
    assert.deepEqual(lib.issues, []);
    live = createDatabasePort({ main: { dialect: 'sqlite', path } }, { logger });
  });
  after(async () => {
    await live.close();
    tmp.cleanup();
  });

  const run = (name: string, variables: Record<string, Value> = {}, databases: ClosableDatabasePort = live, dryRun = false) =>
    runScenario(lib, name, {
      variables,
      dryRun,
      ports: { databases, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) },
    });

  const count = () => {
    const raw = new Database(path);
    try {
      return (raw.prepare('SELECT count(*) AS c FROM numbers').get() as { c: number }).c;
    } finally {
      raw.close();
    }
  };

  it('a short statement still takes the success exit', async () => {
    const r = await run('Count', { lim: '1000' });
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.equal(r.returnValues['1'], 'counted 1000');
  });

  it('a statement that ends but runs longer than the timeout takes the timeout exit with DB_TIMEOUT, and an error is logged', async () => {
    const r = await run('Count', { lim: '100000000' });
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.equal(r.returnValues['1'], 'timeout DB_TIMEOUT');
    assert.equal(r.dbCalls![0]!.status, 'timeout');
    assert.match(r.dbCalls![0]!.error!, /ran longer than its timeout \(0\.3 s\) and was stopped/);
    const logged = logger.lines.filter((l) => l.level === 'error');
    assert.equal(logged.length, 1);
    assert.match(logged[0]!.msg, /ran past its timeout \(0\.3 s\) and was abandoned/);
    assert.deepEqual(logged[0]!.obj, { database: `sqlite:${path}`, timeoutMs: 300, code: 'DB_TIMEOUT' });
  });

  it('the next statement on the connection runs as before; a UNIQUE violation still takes the error exit', async () => {
    assert.equal((await run('Add')).returnValues['1'], 'added 1');
    assert.equal((await run('Add')).returnValues['1'], 'error SQLITE_CONSTRAINT_UNIQUE');
    assert.equal(count(), 1);
  });

  it('a write stopped at its timeout keeps none of its rows', async () => {
    const r = await run('Fill');
    assert.equal(r.returnValues['1'], 'timeout DB_TIMEOUT');
    assert.equal(count(), 1);
  });

  it('a dry run whose statement is stopped at its timeout still leaves the file unchanged', async () => {
    const dry = createDatabasePort({ main: { dialect: 'sqlite', path } }, { rollsBack: true, logger });
    const r = await run('AddThenCount', { lim: '100000000' }, dry, true);
    await dry.close();
    assert.equal(r.returnValues['1'], 'timeout DB_TIMEOUT');
    assert.match(r.dbCalls![1]!.error!, /this dry run's earlier statements on it are rolled back too/);
    assert.equal(count(), 1);
  });
});
