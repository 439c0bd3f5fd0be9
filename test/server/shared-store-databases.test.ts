// With a PostgreSQL store the instances share the queue and the runs, but a scenario's database connection that is an
// SQLite file (`main` by default) is each instance's own: `serve` and `validate` say so, naming the connection, the
// scenarios that use it and the fix. Nothing is said with a SQLite store, nor once the connection is PostgreSQL.
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../cli/cli.helper.js';
import { repoPath, tempDir } from '../helpers.js';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { capturingLogger, startTestServer } from './server-helpers.js';

const pg = await testPostgres();
const T = { timeout: 60_000 };
const SAID = /^database connection "main" \(used by DailyReport, RecordNotification\) is the SQLite file /;

/** The warning of a start with the shipped scenarios and `env`, on a fresh schema when the store is PostgreSQL. */
async function startWarnings(env: Record<string, string>, postgres: boolean) {
  const schema = randomSchemaName('dbwarn');
  const log = capturingLogger();
  const t = await startTestServer({ smtp: false, logger: log.logger, env: { ...(postgres ? { OKTELL_STORE: urlWithSchema(pg.url!, schema) } : {}), ...env } });
  try {
    const loaded = [...t.server.host.library().scenarios.keys()];
    return { warnings: t.server.warnings.filter((w) => w.startsWith('database connection')), logged: log.lines.filter((l) => l.level === 'warn' && l.msg?.startsWith('database connection')), dataDir: t.dataDir, loaded };
  } finally {
    await t.cleanup();
    if (postgres) await dropSchema(pg.url!, schema);
  }
}

describe('a scenario database of each instance under a shared PostgreSQL store', () => {
  it('serve with a PostgreSQL store and the default main: one warning, in the log and the banner, naming the file and the fix', { ...T, skip: pg.skip }, async () => {
    const { warnings, logged, dataDir } = await startWarnings({}, true);
    assert.deepEqual(warnings, [
      `database connection "main" (used by DailyReport, RecordNotification) is the SQLite file ${join(dataDir, 'main.sqlite')} of this instance, while the store is PostgreSQL, shared with other instances: ` +
        'each instance reads and writes its own copy, so what a scenario records on one instance the others do not see (a repeat another instance recorded is not caught; a report counts the rows of whichever instance runs it). ' +
        'Point it at a database every instance shares: OKTELL_DB_MAIN=postgres://… or databases: { main: postgres://… } in oktell.config.yaml (docs/scaling.md, "What is shared, what is not")',
    ]);
    assert.deepEqual(logged.map((l) => l.msg), warnings);
  });

  it('serve with a SQLite store (one instance): no such warning', T, async () => {
    const { warnings, loaded } = await startWarnings({}, false);
    assert.ok(loaded.includes('RecordNotification'));
    assert.deepEqual(warnings, []);
  });

  it('serve with a PostgreSQL store and main on PostgreSQL too: no such warning', { ...T, skip: pg.skip }, async () => {
    const { warnings, loaded } = await startWarnings({ OKTELL_DB_MAIN: pg.url! }, true);
    assert.ok(loaded.includes('RecordNotification') && loaded.includes('DailyReport'), 'the scenarios using main are loaded');
    assert.deepEqual(warnings, []);
  });

  it('validate says it when the configuration names a PostgreSQL store, as a warning (exit 0), and not without one', () => {
    const tmp = tempDir();
    try {
      cpSync(repoPath('scenarios'), join(tmp.dir, 'scenarios'), { recursive: true });
      // validate reads the configuration but connects to no store: an address nothing listens on is enough.
      const shared = runCli(['validate'], { cwd: tmp.dir, env: { NO_COLOR: '1', OKTELL_STORE: 'postgres://oktell@127.0.0.1:9/oktell?schema=oktell' } });
      assert.equal(shared.code, 0, shared.stdout + shared.stderr);
      const lines = shared.stdout.split('\n').filter((l) => l.startsWith('warning: database connection'));
      assert.equal(lines.length, 1, shared.stdout);
      assert.match(lines[0]!.slice('warning: '.length), SAID);
      assert.match(lines[0]!, /OKTELL_DB_MAIN=postgres:\/\/… or databases: \{ main: postgres:\/\/… \}/);
      const single = runCli(['validate'], { cwd: tmp.dir, env: { NO_COLOR: '1' } });
      assert.equal(single.code, 0, single.stdout + single.stderr);
      assert.doesNotMatch(single.stdout, /database connection/);
    } finally {
      tmp.cleanup();
    }
  });
});
