// --from-run and what comes from outside the scenario: a non-secret variable taken from the environment is pinned
// under the case's `variables:`, so the case passes wherever `test` runs; a secret one is never written, the comment
// saying which and how to give it; a connection without migrations is said to give the case a database with no tables
// at all. A real engine run recorded in a real SQLite store; the case written and run by the real binary.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createDatabasePort } from '../../adapters/db/index.js';
import { loadLibrary } from '../../cli/config.js';
import { createInProcessStarter, fixedClock, randomIds, runScenario, type EnginePorts } from '../../engine/index.js';
import { runWrite } from '../../server/run-record.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { tempDir } from '../helpers.js';
import { pinnedVariables, type OutsideVariable } from '../../cli/testing/from-run.js';
import { runCli } from './cli.helper.js';

const URL_ENV = 'OKTELL_TEST_RECEIVER_URL';
const TOKEN_ENV = 'OKTELL_TEST_RECEIVER_TOKEN';
const TOKEN = 's3cr3t-receiver-token';

const SWEEP = `variables:
  endpoint: { type: string, env: ${URL_ENV}, initial: "http://127.0.0.1:9/none", secret: false }
  token: { type: string, env: ${TOKEN_ENV} }
  n: number
start: count
blocks:
  count:
    kind: DbQuery
    connection: tasks
    sql: SELECT 1 AS n
    exits: { success: other }
  other:
    kind: DbQuery
    connection: crm
    sql: SELECT 2 AS n
    exits: { success: answer }
  answer:
    kind: ReturnValue
    values: { 1: '[endpoint]' }
`;

/** Runs Sweep with the receiver's address (and token) in the environment, and records it in the store of `dataDir`. */
async function recordSweep(scenarios: string, dataDir: string, dbDir: string): Promise<string> {
  process.env[URL_ENV] = 'http://receiver.example.ru/api';
  process.env[TOKEN_ENV] = TOKEN;
  let loaded;
  try {
    loaded = await loadLibrary(scenarios, undefined, 'Europe/Moscow');
  } finally {
    delete process.env[URL_ENV];
    delete process.env[TOKEN_ENV];
  }
  const databases = createDatabasePort({ tasks: { dialect: 'sqlite', path: join(dbDir, 'tasks.sqlite') }, crm: { dialect: 'sqlite', path: join(dbDir, 'crm.sqlite') } });
  const ports: EnginePorts = {
    databases,
    templates: loaded.templates,
    clock: fixedClock(new Date('2026-11-30T07:15:00Z')),
    ids: randomIds,
    asyncStarter: createInProcessStarter(randomIds, async () => {
      throw new Error('Sweep starts nothing');
    }),
  };
  try {
    const result = await runScenario(loaded.library, 'Sweep', { params: {}, timeZone: 'Europe/Moscow', ports });
    assert.equal(result.status, 'completed');
    assert.equal(result.returnValues['1'], 'http://receiver.example.ru/api');
    const store = await openSqliteStore({ file: join(dataDir, 'oktell.sqlite') });
    try {
      await store.recordRun(runWrite(result, { trigger: 'cli', params: {} }));
    } finally {
      await store.close();
    }
    return result.runId;
  } finally {
    await databases.close();
  }
}

describe('--from-run pins what the run took from the environment', () => {
  it('a non-secret env variable under variables:, a secret one only named, a connection without migrations said to have no tables', { timeout: 120_000 }, async () => {
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(join(scenarios, 'tests'), { recursive: true });
      mkdirSync(join(scenarios, 'db', 'crm'), { recursive: true });
      writeFileSync(join(scenarios, 'Sweep.yaml'), SWEEP);
      writeFileSync(join(scenarios, 'db', 'crm', '001-clients.sql'), 'CREATE TABLE IF NOT EXISTS clients (id INTEGER PRIMARY KEY);\n');
      const dataDir = join(tmp.dir, 'var');
      mkdirSync(dataDir);
      const runId = await recordSweep(scenarios, dataDir, tmp.dir);
      const unset = ['OKTELL_SCENARIOS', 'OKTELL_DATA_DIR', URL_ENV, TOKEN_ENV];

      // Written where the address and the token are set, as on the server.
      const written = runCli(['test', '--from-run', runId, '--name', 'sweep', '--data-dir', dataDir], {
        cwd: tmp.dir,
        unset: ['OKTELL_SCENARIOS', 'OKTELL_DATA_DIR'],
        env: { [URL_ENV]: 'http://receiver.example.ru/api', [TOKEN_ENV]: TOKEN },
        timeoutMs: 60_000,
      });
      assert.equal(written.code, 0, written.stdout + written.stderr);
      const text = readFileSync(join(scenarios, 'tests', 'recorded.test.yaml'), 'utf8');
      assert.match(text, /\n {4}variables: \{ endpoint: http:\/\/receiver\.example\.ru\/api \}\n/);
      assert.ok(!text.includes(TOKEN), text);
      assert.match(text, new RegExp(`# +Secret, so not written: token \\(environment variable ${TOKEN_ENV}\\); .*give a test value under variables:`));
      assert.match(text, new RegExp(`# +Taken from outside the scenario, pinned under variables: as this command read them .*: endpoint \\(environment variable ${URL_ENV}\\)`));
      assert.match(text, /# +Connection "tasks" has no migrations \(scenarios\/db\/tasks\/\*\.sql\): the case's fresh "tasks" database has no tables at all/);
      assert.doesNotMatch(text, /Connection "crm"/);
      // Sweep has no Bpium block: no empty fake Bpium, no "no Bpium call" to expect.
      assert.doesNotMatch(text, /bpium/i);

      // Run where neither is set (a CI job): the case still gets the address the run had.
      const elsewhere = runCli(['test'], { cwd: tmp.dir, unset, timeoutMs: 60_000 });
      assert.equal(elsewhere.code, 0, elsewhere.stdout + elsewhere.stderr);
      assert.match(elsewhere.stdout, /✓ .*recorded\.test\.yaml › sweep/);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('--from-run never writes what may be a secret', () => {
  const v = (name: string, from: string, extra: Partial<OutsideVariable> = {}): OutsideVariable => ({ name, from, secret: false, value: `value of ${name}`, ...extra });
  const cases: Array<{ title: string; variable: OutsideVariable; pinned: boolean }> = [
    { title: 'a plain URL from the environment', variable: v('endpoint', 'environment variable RECEIVER_URL'), pinned: true },
    { title: 'declared secret', variable: v('endpoint', 'environment variable RECEIVER_URL', { secret: true }), pinned: false },
    { title: 'read from a file', variable: v('greeting', 'file /run/secrets/greeting', { fromFile: true }), pinned: false },
    { title: 'named like a password', variable: v('smtpPassword', 'environment variable MAIL_PASS'), pinned: false },
    { title: 'its source named like a token', variable: v('bearer', 'environment variable CRM_TOKEN'), pinned: false },
    { title: 'named like an API key', variable: v('crmApiKey', 'environment variable CRM_KEY'), pinned: false },
  ];
  for (const c of cases) {
    it(`${c.title}: ${c.pinned ? 'pinned' : 'not written, only named'}`, () => {
      const { variables, notes } = pinnedVariables([c.variable]);
      assert.deepEqual(variables, c.pinned ? { [c.variable.name]: c.variable.value } : {});
      assert.equal(notes.length, 1);
      assert.ok(notes[0]!.includes(`${c.variable.name} (${c.variable.from})`), notes[0]);
      if (!c.pinned) assert.doesNotMatch(notes[0]!, /value of/, 'the value is not in the note');
    });
  }
});
