// The CLI against a PostgreSQL store, as an operator runs it next to a cluster: it never creates or migrates the
// shared schema (only a server does), a schema missing or older than the build is said and left as it is, and a store
// that cannot be opened is one line naming it with its password masked, not the driver's stack.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { applyPgMigrations, PG_MIGRATIONS } from '../../server/store/postgres.migrations.js';
import { openPostgresStore } from '../../server/store/postgres.store.js';
import { repoPath, tempDir } from '../helpers.js';
import { dropSchema, querySchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { runCli, runCliAsync } from './cli.helper.js';
import { storeRefusalLine } from '../../cli/store-refusal-line.js';
import { StoreUnavailableError } from '../../server/store/store.errors.js';
import { startServeProcess } from './cli-process.js';

const pgAvailable = await testPostgres();
const T = { skip: pgAvailable.skip ?? false };
const LAST = PG_MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

/** The commands that read the store, and `replay` / `tasks run`, which write to it but must not change its schema. */
const READERS: Array<{ args: string[]; name: string }> = [
  { name: 'runs', args: ['runs'] },
  { name: 'show', args: ['show', '01m8t1xbnmetspjv8xqct9a469'] },
  { name: 'tasks', args: ['tasks'] },
  { name: 'replay', args: ['replay', '--status', 'dead'] },
  { name: 'test --from-run', args: ['test', '--from-run', '01m8t1xbnmetspjv8xqct9a469'] },
];

async function schemaExists(url: string, schema: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 1;
  } finally {
    await client.end();
  }
}

/** Makes `schema` as a server of an older build left it: migrated up to `version`. */
async function schemaAtVersion(url: string, schema: string, version: number): Promise<void> {
  const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA ${schema}`);
    await applyPgMigrations(client as unknown as pg.PoolClient, PG_MIGRATIONS.filter((m) => m.version <= version));
  } finally {
    await client.end();
  }
}

/** A local port where nothing listens (just freed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/**
 * A listener that answers every connection's start-up as PostgreSQL does when no connection slot is left: an
 * ErrorResponse FATAL 53300 with `message` (`sorry, too many clients already`, or the words of a role's or database's
 * CONNECTION LIMIT), then the connection closed (an SSLRequest is declined first). The cluster's own slots cannot be
 * taken by a test (max_connections is the cluster's, and the test role may not create a role with a CONNECTION LIMIT),
 * so the protocol's answer is given by this stand-in.
 */
async function noSlotLeftServer(message = 'sorry, too many clients already'): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((socket) => {
    let buffered = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 8 && buffered.length >= buffered.readInt32BE(0)) {
        const length = buffered.readInt32BE(0);
        const code = buffered.readInt32BE(4);
        buffered = buffered.subarray(length);
        if (code === 80877103) {
          socket.write('N');
          continue;
        }
        const fields = Buffer.from(`SFATAL\0VFATAL\0C53300\0M${message}\0\0`, 'utf8');
        const header = Buffer.alloc(5);
        header.write('E', 0);
        header.writeInt32BE(4 + fields.length, 1);
        socket.end(Buffer.concat([header, fields]));
        return;
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('the CLI opens a PostgreSQL store without changing its schema', () => {
  const url = pgAvailable.url ?? '';
  const tmp = tempDir();
  const made: string[] = [];
  const cli = (args: string[], storeUrl: string, env: Record<string, string> = {}) =>
    runCli(args, { cwd: tmp.dir, env: { OKTELL_STORE: storeUrl, OKTELL_DATA_DIR: tmp.dir, ...env }, unset: ['OKTELL_CONFIG'] });
  after(async () => {
    for (const s of made) await dropSchema(url, s).catch(() => undefined);
    tmp.cleanup();
  });

  for (const r of READERS) {
    it(`${r.name}: a missing schema is said (exit 2) and not created`, T, async () => {
      const schema = randomSchemaName('typo');
      made.push(schema);
      const res = cli(r.args, urlWithSchema(url, schema));
      assert.equal(res.code, 2, res.stderr);
      assert.match(res.stderr, new RegExp(`^oktell-emu: cannot open the store postgres://[^\\n]*schema=${schema}: no schema ${schema} in database \\w+; start a server with this store first`));
      assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
      assert.equal(await schemaExists(url, schema), false, 'the schema was not created');
    });
  }

  it('a schema older than the build is said and left at its version', T, async () => {
    const schema = randomSchemaName('old');
    made.push(schema);
    await schemaAtVersion(url, schema, LAST - 1);
    for (const r of READERS) {
      const res = cli(r.args, urlWithSchema(url, schema));
      assert.equal(res.code, 2, `${r.name}: ${res.stderr}`);
      assert.match(res.stderr, new RegExp(`schema ${schema} is at version ${LAST - 1}, this build reads version ${LAST}: the servers have not migrated it yet`));
    }
    const versions = await querySchema<{ version: number }>(url, schema, 'SELECT version FROM schema_migrations ORDER BY version');
    assert.deepEqual(versions.map((v) => v.version), PG_MIGRATIONS.filter((m) => m.version < LAST).map((m) => m.version));
  });

  it('a schema newer than the build is said in one line (exit 2)', T, async () => {
    const schema = randomSchemaName('new');
    made.push(schema);
    await (await openPostgresStore({ url: urlWithSchema(url, schema) })).close();
    await querySchema(url, schema, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'from the future', 0)", [LAST + 1]);
    const res = cli(['runs'], urlWithSchema(url, schema));
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, new RegExp(`^oktell-emu: cannot open the store .*: database schema ${schema} is version ${LAST + 1}, this build knows up to ${LAST}: use a newer build\\n$`));
  });

  it('a read refused behind another session\'s lock says the read was not answered and how to find the lock (55P03), exit 1', { ...T, timeout: 60_000 }, async () => {
    const schema = randomSchemaName('locked');
    made.push(schema);
    await (await openPostgresStore({ url: urlWithSchema(url, schema) })).close();
    const holder = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE runs IN ACCESS EXCLUSIVE MODE');
      // The store's lock timeout (10 s) ends the command's wait.
      const res = await runCliAsync(['runs'], { cwd: tmp.dir, env: { OKTELL_STORE: urlWithSchema(url, schema), OKTELL_DATA_DIR: tmp.dir }, unset: ['OKTELL_CONFIG'], timeoutMs: 45_000 });
      assert.equal(res.code, 1, res.stderr);
      assert.match(res.stderr, /^oktell-emu: the store did not answer the read \(busy\): database unavailable \(55P03\): canceling statement due to lock timeout; another PostgreSQL session holds a lock on the store's tables .*pg_blocking_pids\(pid\).*; end that transaction and run the command again\n$/);
      assert.doesNotMatch(res.stderr, /refuses the write/);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
  });

  it('a write refused for want of connections (53300) says so and names max_connections', () => {
    const e = new StoreUnavailableError('busy', 'database unavailable (53300): sorry, too many clients already', 1);
    assert.equal(storeRefusalLine(e), "the store refuses the write (busy): database unavailable (53300): sorry, too many clients already; all of PostgreSQL's connections are taken (max_connections): see who holds them (SELECT usename, application_name, count(*) FROM pg_stat_activity GROUP BY 1, 2), end the idle clients or raise max_connections, and run the command again");
  });

  // The same code for a role's or a database's own CONNECTION LIMIT, which max_connections does not lift: the hint
  // followed the code and named max_connections for all three.
  const ROLE_HINT = `the role "oktell" has all the connections its CONNECTION LIMIT allows (max_connections is not reached): see who holds them (SELECT datname, application_name, count(*) FROM pg_stat_activity WHERE usename = 'oktell' GROUP BY 1, 2), end the idle clients or raise the limit (ALTER ROLE "oktell" CONNECTION LIMIT <n>; -1 for none)`;
  const DATABASE_HINT = `the database "oktell" has all the connections its CONNECTION LIMIT allows (max_connections is not reached): see who holds them (SELECT usename, application_name, count(*) FROM pg_stat_activity WHERE datname = 'oktell' GROUP BY 1, 2), end the idle clients or raise the limit (ALTER DATABASE "oktell" CONNECTION LIMIT <n>; -1 for none)`;
  const SLOT_CASES: ReadonlyArray<readonly [string, string]> = [
    ['sorry, too many clients already', "all of PostgreSQL's connections are taken (max_connections): see who holds them (SELECT usename, application_name, count(*) FROM pg_stat_activity GROUP BY 1, 2), end the idle clients or raise max_connections"],
    ['remaining connection slots are reserved for roles with the SUPERUSER attribute', "all of PostgreSQL's connections are taken (max_connections)"],
    ['too many connections for role "oktell"', ROLE_HINT],
    ['too many connections for database "oktell"', DATABASE_HINT],
    ['слишком много подключений для роли "oktell"', "all of PostgreSQL's connections are taken (max_connections): see who holds them (SELECT usename, application_name, count(*) FROM pg_stat_activity GROUP BY 1, 2), end the idle clients or raise max_connections; or, if the role or the database has a CONNECTION LIMIT (SELECT rolconnlimit FROM pg_roles, SELECT datconnlimit FROM pg_database; -1 is none), raise that (ALTER ROLE or ALTER DATABASE … CONNECTION LIMIT <n>)"],
  ];
  for (const [words, hint] of SLOT_CASES) {
    it(`a call refused with 53300 "${words}": the hint for that limit`, () => {
      const e = new StoreUnavailableError('busy', `database unavailable (53300): ${words}`, 1);
      assert.ok(storeRefusalLine(e).startsWith(`the store refuses the write (busy): database unavailable (53300): ${words}; ${hint}`), storeRefusalLine(e));
      assert.ok(storeRefusalLine(e).endsWith(', and run the command again'));
    });
    it(`an open refused with 53300 "${words}" (runs): one line with the hint for that limit`, async () => {
      const full = await noSlotLeftServer(words);
      try {
        const storeUrl = `postgres://oktell:S3cr3tPW@127.0.0.1:${full.port}/oktell?schema=cluster`;
        const res = await runCliAsync(['runs'], { cwd: tmp.dir, env: { OKTELL_STORE: storeUrl, OKTELL_DATA_DIR: tmp.dir }, unset: ['OKTELL_CONFIG'] });
        assert.equal(res.code, 1, res.stderr);
        assert.ok(res.stderr.startsWith(`oktell-emu: cannot open the store postgres://oktell:***@127.0.0.1:${full.port}/oktell?schema=cluster: ${words} (${hint}`), res.stderr);
        assert.ok(res.stderr.endsWith(')\n'), res.stderr);
        assert.doesNotMatch(res.stderr, /S3cr3tPW|\n\s+at /);
      } finally {
        await full.close();
      }
    });
  }

  it('a schema a server migrated is read', T, async () => {
    const schema = randomSchemaName('ok');
    made.push(schema);
    await (await openPostgresStore({ url: urlWithSchema(url, schema) })).close();
    const res = cli(['runs', '--json'], urlWithSchema(url, schema));
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(JSON.parse(res.stdout), []);
  });

  it('store: { url, passwordEnv } in the configuration file: the CLI connects with the variable\'s password', T, async () => {
    const schema = randomSchemaName('pwenv');
    made.push(schema);
    await (await openPostgresStore({ url: urlWithSchema(url, schema) })).close();
    const u = new URL(urlWithSchema(url, schema));
    const password = decodeURIComponent(u.password);
    u.password = '';
    const dir = tempDir();
    try {
      writeFileSync(join(dir.dir, 'oktell.config.yaml'), `store:\n  url: ${u.toString()}\n  passwordEnv: STORE_PW\n`);
      const res = runCli(['runs', '--json', '-n', '1'], { cwd: dir.dir, env: { STORE_PW: password }, unset: ['OKTELL_STORE', 'OKTELL_CONFIG', 'OKTELL_DATA_DIR', 'PGPASSWORD'] });
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(JSON.parse(res.stdout), []);
    } finally {
      dir.cleanup();
    }
  });

  it('a store that refuses connections: one line naming it, password masked, exit 1 (runs and serve)', async () => {
    const port = await closedPort();
    const storeUrl = `postgres://oktell:S3cr3tPW@127.0.0.1:${port}/oktell?schema=cluster`;
    const res = cli(['runs'], storeUrl);
    assert.equal(res.code, 1, res.stderr);
    assert.equal(res.stderr, `oktell-emu: cannot open the store postgres://oktell:***@127.0.0.1:${port}/oktell?schema=cluster: connect ECONNREFUSED 127.0.0.1:${port} (nothing accepts connections there: is PostgreSQL running on that host and port?)\n`);
    const served = cli(['serve', '--port', '0', '--bpium-emulator-port', '0', '--host', '127.0.0.1', '--scenarios', repoPath('scenarios')], storeUrl, { OKTELL_USERS: 'a:b', OKTELL_LOG_FORMAT: 'json' });
    assert.equal(served.code, 1, served.stderr);
    assert.match(served.stderr, new RegExp(`^oktell-emu: cannot open the store postgres://oktell:\\*\\*\\*@127\\.0\\.0\\.1:${port}/oktell\\?schema=cluster: connect ECONNREFUSED[^\\n]*\\n$`));
    assert.doesNotMatch(served.stdout + served.stderr, /S3cr3tPW|\n\s+at /);
  });

  it('a store with no connection slot left (53300 at connect): one line naming max_connections, as after the open (runs and serve)', async () => {
    const full = await noSlotLeftServer();
    try {
      const storeUrl = `postgres://oktell:S3cr3tPW@127.0.0.1:${full.port}/oktell?schema=cluster`;
      const hint = "all of PostgreSQL's connections are taken (max_connections): see who holds them (SELECT usename, application_name, count(*) FROM pg_stat_activity GROUP BY 1, 2), end the idle clients or raise max_connections";
      const res = await runCliAsync(['runs'], { cwd: tmp.dir, env: { OKTELL_STORE: storeUrl, OKTELL_DATA_DIR: tmp.dir }, unset: ['OKTELL_CONFIG'] });
      assert.equal(res.code, 1, res.stderr);
      assert.equal(res.stderr, `oktell-emu: cannot open the store postgres://oktell:***@127.0.0.1:${full.port}/oktell?schema=cluster: sorry, too many clients already (${hint})\n`);
      const served = await runCliAsync(['serve', '--port', '0', '--bpium-emulator-port', '0', '--host', '127.0.0.1', '--scenarios', repoPath('scenarios')], { cwd: tmp.dir, env: { OKTELL_STORE: storeUrl, OKTELL_DATA_DIR: tmp.dir, OKTELL_USERS: 'a:b', OKTELL_LOG_FORMAT: 'json' }, unset: ['OKTELL_CONFIG'] });
      assert.equal(served.code, 1, served.stderr);
      assert.ok(served.stderr.endsWith(`: sorry, too many clients already (${hint})\n`), served.stderr);
      assert.doesNotMatch(res.stderr + served.stdout + served.stderr, /S3cr3tPW|\n\s+at /);
    } finally {
      await full.close();
    }
  });

  it('a bad schema name is a configuration error, said before connecting (exit 2, runs and serve)', () => {
    const storeUrl = 'postgres://oktell:S3cr3tPW@127.0.0.1:1/oktell?schema=My-Schema';
    const expected = 'oktell-emu: OKTELL_STORE / store: ?schema=: schema "My-Schema" is not a plain lower-case identifier: use lower-case letters, digits and _ (not first), at most 63 characters\n';
    const res = cli(['runs'], storeUrl);
    assert.equal(res.code, 2);
    assert.equal(res.stderr, expected);
    const served = cli(['serve', '--port', '0', '--bpium-emulator-port', '0', '--host', '127.0.0.1'], storeUrl, { OKTELL_USERS: 'a:b' });
    assert.equal(served.code, 2);
    assert.equal(served.stderr, expected);
  });

  it('a wrong password: one line with the server\'s answer, the password masked (exit 1)', T, () => {
    const u = new URL(url);
    u.password = 'Wr0ngS3cret';
    const res = cli(['runs'], u.toString());
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /^oktell-emu: cannot open the store postgres:\/\/[^:]+:\*\*\*@[^\n]*: password authentication failed for user "[^"]+"\n$/);
  });

  it('the start banner names the store, and its runs command reads that store (PostgreSQL from OKTELL_STORE, ?password= masked)', T, async () => {
    const schema = randomSchemaName('banner');
    made.push(schema);
    // The password as a ?password= parameter: masked in the log line and the banner like the userinfo's.
    const u = new URL(urlWithSchema(url, schema));
    const password = decodeURIComponent(u.password);
    u.password = '';
    u.searchParams.set('password', password);
    const served = await startServeProcess({ dataDir: tmp.dir, env: { OKTELL_STORE: u.toString(), OKTELL_USERS: 'a:b', OKTELL_LOG_FORMAT: 'json' } });
    let banner: string;
    let log: string;
    try {
      banner = served.stderr();
      log = served.stdout();
    } finally {
      await served.stop();
    }
    const masked = `postgres://${u.username}@${u.host}${u.pathname}?schema=${schema}&password=***`;
    assert.match(banner, new RegExp(`\\n  store      ${masked.replace(/[?*.]/g, '\\$&')} \\(PostgreSQL, shared with every instance using it\\)\\n`));
    assert.match(log, /"store":"[^"]*password=\*\*\*"/);
    assert.doesNotMatch(banner + log, new RegExp(`password=${password}\\b`));
    const hint = /\n  OKTELL_STORE='([^']+)' npx oktell-emu runs +# runs, their status and retries; the password in place of \*\*\*\n/.exec(banner);
    assert.ok(hint, banner);
    assert.equal(hint[1], masked);
    // Typed as printed (the password put back) in another folder, with no data folder there: it reads the shared store.
    const elsewhere = tempDir();
    try {
      const typed = runCli(['runs', '--json'], { cwd: elsewhere.dir, env: { OKTELL_STORE: hint[1]!.replace('***', password) }, unset: ['OKTELL_CONFIG', 'OKTELL_DATA_DIR'] });
      assert.equal(typed.code, 0, typed.stderr);
      assert.deepEqual(JSON.parse(typed.stdout), []);
    } finally {
      elsewhere.cleanup();
    }
  });

  it('the start banner names the SQLite file of the data folder as the store', async () => {
    const dir = tempDir();
    const served = await startServeProcess({ dataDir: dir.dir, env: { OKTELL_STORE: 'sqlite', OKTELL_USERS: 'a:b' } });
    try {
      assert.ok(served.stderr().includes(`\n  store      ${dir.dir}/oktell.sqlite\n`), served.stderr());
      assert.match(served.stderr(), /\n  npx oktell-emu runs --data-dir \S+ +# runs, their status and retries\n/);
    } finally {
      await served.stop();
      dir.cleanup();
    }
  });
});
