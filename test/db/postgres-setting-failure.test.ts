// A PostgreSQL connection its server refuses because of a setting (a wrong or rotated password: SQLSTATE 28P01; a
// database that does not exist: 3D000) fails every statement the same way until someone fixes it. It is not the
// statement's error: DbQuery and DbProcedure do not take their `error` exit for it (the run would end completed, and a
// queued job with it, its write never made and nothing to replay). The run fails with R_EFFECT_SETTING, naming the
// setting to check and never the password; a queued job becomes a dead letter at once, replayed after the fix, as for a
// refused SMTP setting. `validate` says the same in words, not only `cannot connect: 28P01` (trial 38, findings 1 and
// 12). A database that does not answer stays retryable (test/db/db-blocks.test.ts, "a database that does not answer").
// Real parts: the test PostgreSQL (a schema of this file's), the SQLite store and the worker pool, the CLI.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createDatabasePort, databaseSettings, type DatabaseSettings } from '../../adapters/db/index.js';
import { defaultRegistry } from '../../components/registry.js';
import { createInProcessStarter, loadScenarioLibrary, randomIds, runScenario, systemClock, type RunResult, type ScenarioLibrary, type Value } from '../../engine/index.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { runCli } from '../cli/cli.helper.js';
import { mailPool } from '../delivery/pool.helper.js';
import { tempDir } from '../helpers.js';
import { dropSchema, randomSchemaName, testPostgres } from '../store/postgres.helper.js';

const pgAvailable = await testPostgres();
const skip = pgAvailable.skip;
const WRONG = 'wrong-pw-7f3a';

// As in the trial: the error exit notes the code and the run goes on to complete.
const ORDERS = `variables: { phone: string, cnt: number, dbErr: string }
blocks:
  begin: { kind: Start, exits: { next: add } }
  add:
    kind: DbQuery
    connection: pg
    sql: INSERT INTO orders (phone) VALUES (:phone)
    params: { phone: '[phone]' }
    errorCode: dbErr
    exits: { success: done, error: failed }
  done: { kind: ReturnValue, values: { 1: '"added"' } }
  failed: { kind: ReturnValue, values: { 1: '"db error " + [dbErr]' } }
`;
const REGISTER = `variables: { phone: string, total: number, dbErr: string }
blocks:
  begin: { kind: Start, exits: { next: reg } }
  reg:
    kind: DbProcedure
    connection: pg
    procedure: add_order
    params: { phone: '[phone]' }
    errorCode: dbErr
    exits: { success: done, error: failed }
  done: { kind: ReturnValue, values: { 1: '"registered"' } }
  failed: { kind: ReturnValue, values: { 1: '"db error " + [dbErr]' } }
`;

/** The test URL with its search_path set to `schema`, its password replaced by `password` when given. */
function urlOf(schema: string, password?: string): string {
  const u = new URL(pgAvailable.url!);
  u.searchParams.set('options', `-c search_path=${schema}`);
  if (password !== undefined) u.password = password;
  return u.toString();
}

describe('a PostgreSQL connection refused for a setting', { skip }, () => {
  let schema: string;
  let admin: pg.Client;
  let tmp: ReturnType<typeof tempDir>;
  let lib: ScenarioLibrary;
  const count = async () => Number((await admin.query(`SELECT count(*) AS n FROM ${schema}.orders`)).rows[0].n);
  /** As `databases: { pg: { url, passwordEnv: PG_PW } }` in the configuration file, with PG_PW = `password`. */
  const withPasswordEnv = (password: string): DatabaseSettings =>
    databaseSettings({ pg: { url: urlOf(schema, ''), passwordEnv: 'PG_PW' } }, { PG_PW: password }, join(tmp.dir, 'data'), tmp.dir);
  const run = (name: string, settings: DatabaseSettings, variables: Record<string, Value>, dryRun = false) => {
    const databases = createDatabasePort(settings, { rollsBack: dryRun });
    return runScenario(lib, name, { variables, dryRun, ports: { databases, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) } }).finally(() => databases.close());
  };
  const assertSettingFailure = (r: RunResult, block: string) => {
    assert.equal(r.status, 'failed', JSON.stringify(r.returnValues));
    assert.deepEqual(r.returnValues, {}, 'the error exit was not taken');
    assert.equal(r.error?.code, 'R_EFFECT_SETTING');
    assert.equal(r.error?.block, block);
    assert.equal(r.error?.retryable, false);
    assert.ok(!JSON.stringify(r).includes(WRONG), 'the password is nowhere in the result');
  };

  before(async () => {
    schema = randomSchemaName('pgset');
    admin = new pg.Client({ connectionString: pgAvailable.url! });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.query(`CREATE TABLE ${schema}.orders (id serial PRIMARY KEY, phone text NOT NULL)`);
    await admin.query(`CREATE PROCEDURE ${schema}.add_order(phone text, OUT total integer) LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO orders (phone) VALUES (phone); SELECT count(*) INTO total FROM orders; END $$`);
    tmp = tempDir();
    mkdirSync(join(tmp.dir, 'scenarios'));
    mkdirSync(join(tmp.dir, 'data'), { mode: 0o700 });
    writeFileSync(join(tmp.dir, 'scenarios', 'Orders.yaml'), ORDERS);
    writeFileSync(join(tmp.dir, 'scenarios', 'Register.yaml'), REGISTER);
    lib = await loadScenarioLibrary(join(tmp.dir, 'scenarios'), { registry: defaultRegistry, databases: { main: 'sqlite', pg: 'postgres' } });
    assert.deepEqual(lib.issues, []);
  });
  after(async () => {
    await admin?.end();
    if (schema) await dropSchema(pgAvailable.url!, schema);
    tmp?.cleanup();
  });

  it('a wrong password (28P01): DbQuery does not take its error exit; the run fails naming the password setting, not the password', async () => {
    const r = await run('Orders', withPasswordEnv(WRONG), { phone: '+7900' });
    assertSettingFailure(r, 'add');
    assert.match(r.error!.message, /^DbQuery "add": PostgreSQL setting failure, not retried: the PostgreSQL server refused the login of connection "pg" \(postgres:\/\/oktell_test@[^)]+\): 28P01 password authentication failed for user "oktell_test"; /);
    assert.match(r.error!.message, /a setting: check the password in the environment variable PG_PW \(passwordEnv of databases\.pg\), and the user name \("oktell_test"\) in databases\.pg\.url in the configuration file; /);
    assert.match(r.error!.message, /this run is not a queued job, so no dead letter keeps it: once the setting is fixed, make the request \(or run the command\) again$/);
    assert.equal(r.dbCalls?.[0]?.code, '28P01');
    assert.equal(await count(), 0);
  });

  it('the same in a dry run, for a DbProcedure, and for a database that does not exist (3D000), with the URL in OKTELL_DB_PG', async () => {
    const dry = await run('Register', withPasswordEnv(WRONG), { phone: '+7901' }, true);
    assertSettingFailure(dry, 'reg');
    assert.match(dry.error!.message, /^DbProcedure "reg": PostgreSQL setting failure, not retried: .*28P01/);

    const env = databaseSettings(undefined, { OKTELL_DB_PG: urlOf(schema).replace(/\/oktell_test\?/, '/oktell_no_such_db?') }, join(tmp.dir, 'data'), tmp.dir);
    const missing = await run('Orders', env, { phone: '+7902' });
    assertSettingFailure(missing, 'add');
    assert.match(missing.error!.message, /3D000 database "oktell_no_such_db" does not exist; a setting: check the database name \(the end of the URL\) in the environment variable OKTELL_DB_PG, or create that database in the server; /);
    assert.ok(!missing.error!.message.includes(':oktell_test@'), 'the password of the URL is not shown');

    // A URL with no password, where the server wants one (and no PGPASSWORD for the driver to take instead).
    if (process.env.PGPASSWORD === undefined) {
      const none = await run('Orders', databaseSettings({ pg: urlOf(schema, '') }, {}, join(tmp.dir, 'data'), tmp.dir), { phone: '+7902' });
      assertSettingFailure(none, 'add');
      assert.match(none.error!.message, /the PostgreSQL server wants a password for connection "pg" \([^)]+\), and none is given; a setting: give the password: postgres:\/\/user:PASSWORD@host:5432\/database in databases\.pg in the configuration file, /);
    }

    // With the right setting, the same scenarios write.
    const fixed = await run('Orders', withPasswordEnv(new URL(pgAvailable.url!).password), { phone: '+7903' });
    assert.equal(fixed.status, 'completed', JSON.stringify(fixed.error));
    assert.deepEqual(fixed.returnValues, { 1: 'added' });
    assert.equal(await count(), 1);
  });

  it('a queued job is a dead letter at once, its attempts not spent; replayed after the fix, it writes once', async () => {
    const data = join(tmp.dir, 'data');
    const before = await count();
    const jobs = async (settings: DatabaseSettings, enqueue: boolean) => {
      const store = await openSqliteStore({ file: join(data, 'oktell.sqlite'), defaultMaxAttempts: 5 });
      const databases = createDatabasePort(settings);
      const ended: Array<{ jobId: string; outcome: string; result: RunResult }> = [];
      const pool = mailPool(store, lib, { send: () => Promise.reject(new Error('no mail here')) }, {
        ports: { clock: systemClock, ids: randomIds, databases },
        onAttempt: (job, result, outcome) => void ended.push({ jobId: job.id, outcome, result }),
      });
      try {
        if (enqueue) await store.enqueueJobs([{ scenario: 'Orders', params: { 1: '+7904' } }]);
        pool.start();
        for (let i = 0; i < 750 && ended.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
        assert.equal(ended.length, 1, 'one attempt ended');
        return { ...ended[0]!, job: (await store.getJob(ended[0]!.jobId))! };
      } finally {
        await pool.stop(1000);
        await databases.close();
        await store.close();
      }
    };
    const first = await jobs(withPasswordEnv(WRONG), true);
    assert.equal(first.outcome, 'dead');
    assertSettingFailure(first.result, 'add');
    assert.match(first.result.error!.message, /; the statement is not run: its job is a dead letter, to replay once the setting is fixed$/);
    assert.equal(first.job.status, 'dead');
    assert.equal(first.job.attempts, 1, 'no attempt spent on retries');
    assert.equal(await count(), before);

    const replay = runCli(['replay', '--status', 'dead', '--data-dir', data], { cwd: tmp.dir, unset: ['OKTELL_STORE', 'OKTELL_CONFIG', 'OKTELL_DATA_DIR'] });
    assert.equal(replay.code, 0, replay.stderr);
    const second = await jobs(withPasswordEnv(new URL(pgAvailable.url!).password), false);
    assert.equal(second.outcome, 'succeeded', JSON.stringify(second.result.error));
    assert.deepEqual(second.result.returnValues, { 1: 'added' });
    assert.equal(await count(), before + 1);
  });

  it('validate says in words which setting to check, without the password', () => {
    const r = runCli(['validate', '--scenarios', join(tmp.dir, 'scenarios'), '--data-dir', join(tmp.dir, 'data')], {
      cwd: tmp.dir,
      env: { OKTELL_DB_PG: urlOf(schema, WRONG) },
      unset: ['OKTELL_STORE', 'OKTELL_CONFIG', 'OKTELL_DATA_DIR'],
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /^note: the statements on connection "pg" were not prepared: cannot connect: the PostgreSQL server refused the login of connection "pg" \(postgres:\/\/oktell_test@[^)]+\): 28P01 password authentication failed for user "oktell_test"; check the user name \("oktell_test"\) and the password in the environment variable OKTELL_DB_PG$/m,
    );
    assert.ok(!(r.stdout + r.stderr).includes(WRONG));
  });
});
