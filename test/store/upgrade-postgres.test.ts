// Upgrading a PostgreSQL store: a schema the build of 2026-12-02 (PostgreSQL schema version 5) left after it was
// killed mid-delivery (test/fixtures/upgrade/postgres-2026-12-02.sql, the rows of the SQLite fixture in PostgreSQL's
// types), opened by this build. As with SQLite (upgrade.test.ts): the first server of this build migrates it, what it
// acknowledged is delivered once, what it sent is not sent again, its runs read as before and its dead letter replays.
// A command of this build does not migrate it (only a server does), and a schema a newer build migrated is refused in
// one line. Each test loads the fixture into a schema of its own, dropped at the end.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import pg from 'pg';
import { PG_MIGRATIONS } from '../../server/store/postgres.migrations.js';
import { lastVersion } from '../../server/store/migrated.js';
import { repoPath, tempDir } from '../helpers.js';
import { runCli, startServeProcess } from '../cli/cli-process.js';
import { startSmtpServer } from '../mail/smtp-server.helper.js';
import { waitFor } from '../server/server-helpers.js';
import { DEAD_LAST_RUN, DELIVERED_RUN, header, IVAN, JOB, lettersTo, MARIA, OPS } from './upgrade-fixture.js';
import { dropSchema, querySchema, randomSchemaName, testPostgres, urlWithSchema } from './postgres.helper.js';

const pgAvailable = await testPostgres();
const T = { skip: pgAvailable.skip ?? false };
const KNOWN = lastVersion(PG_MIGRATIONS);
/** The schema version the build of 2026-12-02 left (its migrations 1–5). */
const OLD = 5;

const FIXTURE = repoPath('test', 'fixtures', 'upgrade', 'postgres-2026-12-02.sql');

/** A fresh schema holding the old build's store, as that build left it, and its store URL. */
async function oldSchema(url: string): Promise<{ schema: string; storeUrl: string }> {
  const schema = randomSchemaName('upgrade');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 15_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.query(`SET search_path = ${schema}`);
    await client.query(readFileSync(FIXTURE, 'utf8'));
  } finally {
    await client.end();
  }
  return { schema, storeUrl: urlWithSchema(url, schema) };
}

const schemaVersion = async (url: string, schema: string): Promise<number> =>
  Number((await querySchema<{ v: string }>(url, schema, 'SELECT MAX(version) AS v FROM schema_migrations'))[0]!.v);
const jobStatus = async (url: string, schema: string, id: string): Promise<string | undefined> =>
  (await querySchema<{ status: string }>(url, schema, 'SELECT status FROM jobs WHERE id = $1', [id]))[0]?.status;

/** The status of every job, in one query (polled while the server delivers). */
async function statuses(url: string, schema: string): Promise<Record<string, string>> {
  const rows = await querySchema<{ id: string; status: string }>(url, schema, 'SELECT id, status FROM jobs');
  return Object.fromEntries(rows.map((r) => [r.id, r.status]));
}

describe(`upgrade: a PostgreSQL store of the 2026-12-02 build (schema ${OLD}) opened by this build`, () => {
  const url = pgAvailable.url ?? '';

  it('a command leaves it unmigrated; the first server migrates it, delivers the queued jobs once (no journaled letter again), dead-letters the pending one, shows the old runs, and replays its dead letter', T, async () => {
    const { schema, storeUrl } = await oldSchema(url);
    const data = tempDir('oktell-upgrade-pg-');
    const env = { OKTELL_STORE: storeUrl };
    const smtp = await startSmtpServer();
    let serve: Awaited<ReturnType<typeof startServeProcess>> | undefined;
    try {
      // Before any server of this build started on it: a command says so and changes nothing (only a server migrates).
      const early = runCli(['runs', '--data-dir', data.dir], env);
      assert.equal(early.code, 2, early.stderr);
      assert.match(early.stderr, new RegExp(`^oktell-emu: cannot open the store [^\\n]*: schema ${schema} is at version ${OLD}, this build reads version ${KNOWN}: the servers have not migrated it yet[^\\n]*nothing was changed\\n$`));
      assert.equal(await schemaVersion(url, schema), OLD, 'not migrated by a command');

      // The letter the old build sent for the half-sent job, as its journal says.
      const journaled = (await querySchema<{ outcome: string }>(url, schema, `SELECT outcome FROM effects WHERE run_key = $1 AND step_key = 'BpiumNewTask:notify#1'`, [JOB.halfSent]))[0]!;
      const sentBefore = (JSON.parse(journaled.outcome) as { messageId: string }).messageId;
      serve = await startServeProcess({
        dataDir: data.dir,
        env: {
          ...env,
          SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
          OKTELL_USERS: `${OPS.login}:${OPS.password}`,
          // The fixture's rows are from 2026-12-05: kept whatever the date the test runs on.
          OKTELL_RETENTION_DAYS: '36500',
          OKTELL_LOG_LEVEL: 'info',
        },
      });
      await waitFor('the queued jobs delivered and the pending one dead', async () => {
        const s = await statuses(url, schema);
        return s[JOB.halfSent] === 'succeeded' && s[JOB.noneSent] === 'succeeded' && s[JOB.pending] === 'dead';
      }, 30_000);
      assert.match(serve.stdout(), new RegExp(`store migrations applied: ${OLD + 1}–${KNOWN}`));
      assert.equal(await schemaVersion(url, schema), KNOWN);
      // Half-sent: Мария only; none-sent: both; the pending letter is not sent again; the dead letter waits.
      assert.equal(lettersTo(smtp.letters, IVAN), 1, 'one letter to Иван (the job that had sent none)');
      assert.equal(lettersTo(smtp.letters, MARIA), 2);
      assert.ok(!smtp.letters.some((l) => header(l, 'Message-ID') === sentBefore), 'the letter the old build sent and journaled is not sent again');
      const pendingRun = (await querySchema<{ error: string }>(url, schema, 'SELECT r.error FROM jobs j JOIN runs r ON r.id = j.last_run_id WHERE j.id = $1', [JOB.pending]))[0]!;
      assert.match(pendingRun.error, /R_EFFECT_UNKNOWN/);
      assert.equal(await jobStatus(url, schema, JOB.dead), 'dead');

      // The old runs, in the CLI and the console.
      const dead = runCli(['runs', '--status', 'dead', '--data-dir', data.dir], env);
      assert.equal(dead.code, 0, dead.stderr);
      assert.match(dead.stdout, new RegExp(`${DEAD_LAST_RUN} job ${JOB.dead} #3 R_EFFECT_TRANSIENT`));
      const shown = runCli(['show', DEAD_LAST_RUN, '--data-dir', data.dir], env);
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /notify SendMail → failed/);
      assert.match(shown.stdout, /451 try later/);
      const delivered = runCli(['show', DELIVERED_RUN, '--data-dir', data.dir], env);
      assert.equal(delivered.code, 0, delivered.stderr);
      assert.match(delivered.stdout, new RegExp(`mail sent to ${MARIA.replace(/\./g, '\\.')}`));
      const auth = `Basic ${Buffer.from(`${OPS.login}:${OPS.password}`).toString('base64')}`;
      for (const run of [DEAD_LAST_RUN, DELIVERED_RUN]) {
        const page = await fetch(`${serve.url}/-/console/runs/${run}`, { headers: { authorization: auth } });
        assert.equal(page.status, 200, `console page of the old run ${run}`);
        assert.match(await page.text(), /BpiumNewTask/);
      }

      // Its dead letter replayed by this build: both letters.
      const replay = runCli(['replay', JOB.dead, '--data-dir', data.dir], env);
      assert.equal(replay.code, 0, replay.stderr);
      await waitFor('the replayed dead letter delivered', async () => (await jobStatus(url, schema, JOB.dead)) === 'succeeded', 30_000);
      assert.equal(lettersTo(smtp.letters, IVAN), 2);
      assert.equal(lettersTo(smtp.letters, MARIA), 3);
      assert.equal(await jobStatus(url, schema, JOB.delivered), 'succeeded');
      assert.equal(await serve.stop(), 0);
    } finally {
      await serve?.stop();
      await smtp.close();
      data.cleanup();
      await dropSchema(url, schema);
    }
  });

  it('a schema a newer build migrated: serve and the CLI say so in one line (exit 2) and change nothing', T, async () => {
    const { schema, storeUrl } = await oldSchema(url);
    const data = tempDir('oktell-upgrade-pg-');
    try {
      // Every version this build knows, and one more.
      const newer = KNOWN + 1;
      for (let v = OLD + 1; v <= newer; v++) {
        await querySchema(url, schema, 'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, 0)', [v, v === newer ? 'from a newer build' : `m${v}`]);
      }
      const expected = new RegExp(`^oktell-emu: cannot open the store postgres://[^\\n]*schema=${schema}: database schema ${schema} is version ${newer}, this build knows up to ${KNOWN}: use a newer build\\n$`);
      const env = { OKTELL_STORE: storeUrl, OKTELL_USERS: `${OPS.login}:${OPS.password}` };
      const serve = runCli(['serve', '--port', '0', '--host', '127.0.0.1', '--bpium-emulator-port', '0', '--data-dir', data.dir], env);
      assert.equal(serve.code, 2, serve.stderr);
      assert.match(serve.stderr, expected);
      assert.doesNotMatch(serve.stderr, /\n\s+at /, 'no stack trace');
      for (const args of [['runs'], ['show', DELIVERED_RUN], ['replay', JOB.dead]]) {
        const r = runCli([...args, '--data-dir', data.dir], env);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, expected);
      }
      assert.equal(await schemaVersion(url, schema), newer);
      assert.equal(await jobStatus(url, schema, JOB.dead), 'dead');
    } finally {
      data.cleanup();
      await dropSchema(url, schema);
    }
  });
});
