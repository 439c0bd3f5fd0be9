// The PostgreSQL migrations that only build an index on jobs (6 and 7) build it concurrently, outside a transaction:
// writes to jobs go on meanwhile, a build cut off is redone at the next start, instances starting together wait for
// each other. Real PostgreSQL, several connections; skipped without it.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import pg from 'pg';
import { applyPgMigrations, PG_MIGRATIONS } from '../../server/store/postgres.migrations.js';
import { dropSchema, querySchema, randomSchemaName, testPostgres } from './postgres.helper.js';

const T = { timeout: 60_000 };
const pgAvailable = await testPostgres();
const LAST = PG_MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

type Conn = { client: pg.Client; pid: number };

/** A connection of its own on `schema` (as one server instance's, or one writer's), with its backend's pid. */
async function connect(url: string, schema: string, options = ''): Promise<Conn> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, options: `-c search_path=${schema} ${options}`.trim() });
  client.on('error', () => undefined);
  await client.connect();
  const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  return { client, pid };
}

const migrate = (c: Conn) => applyPgMigrations(c.client as unknown as pg.PoolClient, PG_MIGRATIONS, 1);

const insertJob = (id: string, scenario = 'S', trigger = '{"task":"report","kind":"due"}') => ({
  text: `INSERT INTO jobs (id, scenario, params, variables, trigger, max_attempts, next_run_at, status, created_at, updated_at)
         VALUES ($1, $2, '{}', '{}', $3, 3, 1, 'queued', 1, 1)`,
  values: [id, scenario, trigger],
});

/** A new schema as a server of an older build left it: migrated up to `version`, with a few jobs. */
async function schemaAt(url: string, schema: string, version: number): Promise<void> {
  await querySchema(url, 'public', `CREATE SCHEMA ${schema}`);
  const c = await connect(url, schema);
  try {
    await applyPgMigrations(c.client as unknown as pg.PoolClient, PG_MIGRATIONS.filter((m) => m.version <= version), 1);
    for (const id of ['old-1', 'old-2', 'old-3']) await c.client.query(insertJob(id));
  } finally {
    await c.client.end();
  }
}

/** What backend `pid` waits for, when it waits for a lock. */
async function lockWait(url: string, pid: number): Promise<string | undefined> {
  const rows = await querySchema<{ e: string | null }>(url, 'public', `SELECT wait_event AS e FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`, [pid]);
  return rows[0]?.e ?? undefined;
}

/** Polls until backend `pid` waits for a lock (the test's timeout bounds it); returns what it waits for. */
async function untilWaiting(url: string, pid: number): Promise<string> {
  for (;;) {
    const wait = await lockWait(url, pid);
    if (wait !== undefined) return wait;
    await sleep(20);
  }
}

/**
 * Polls until backend `pid` has asked for the migration lock: it waits in pg_advisory_lock (the old code) or has
 * tried pg_try_advisory_lock (the new code tries again and again).
 */
async function untilAskedForLock(url: string, pid: number): Promise<void> {
  for (;;) {
    const rows = await querySchema(url, 'public', `SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query ~ 'pg_(try_)?advisory_(xact_)?lock\\('`, [pid]);
    if (rows.length > 0) return;
    await sleep(20);
  }
}

/** 'done' once `query` has finished, or 'blocked' as soon as its backend `pid` is seen waiting for a lock. */
async function doneOrBlocked(url: string, pid: number, query: Promise<unknown>): Promise<'done' | 'blocked'> {
  let done = false;
  void query.then(() => (done = true), () => (done = true));
  for (;;) {
    if (done) return 'done';
    if ((await lockWait(url, pid)) !== undefined) return done ? 'done' : 'blocked';
    await sleep(20);
  }
}

/** The locks backend `pid` takes or asks for on `schema`.jobs. */
async function jobsLocks(url: string, schema: string, pid: number): Promise<Array<{ mode: string; granted: boolean }>> {
  return querySchema(url, 'public', `SELECT mode, granted FROM pg_locks WHERE pid = $1 AND relation = to_regclass($2) ORDER BY mode`, [pid, `${schema}.jobs`]);
}

async function indexes(url: string, schema: string): Promise<Record<string, { valid: boolean; def: string; oid: number }>> {
  const rows = await querySchema<{ name: string; valid: boolean; def: string; oid: number }>(url, schema,
    `SELECT c.relname AS name, i.indisvalid AS valid, pg_get_indexdef(i.indexrelid) AS def, i.indexrelid::int AS oid
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE c.relnamespace = to_regnamespace($1) AND c.relname IN ('jobs_task', 'jobs_task_scheduled')`, [schema]);
  return Object.fromEntries(rows.map((r) => [r.name, { valid: r.valid, def: r.def, oid: r.oid }]));
}

async function recorded(url: string, schema: string): Promise<number[]> {
  return (await querySchema<{ version: number }>(url, schema, 'SELECT version FROM schema_migrations ORDER BY version')).map((r) => r.version);
}

const all = PG_MIGRATIONS.map((m) => m.version);
/** The versions from `v` on: those a schema at `v - 1` is migrated through (the later ones included). */
const from = (v: number) => all.filter((n) => n >= v);

describe('PostgreSQL migrations 6 and 7: indexes on jobs built concurrently', () => {
  it('while the index is built, another connection writes to jobs without waiting (lock mode ShareUpdateExclusiveLock, not ShareLock)', T, async (t) => {
    if (!pgAvailable.url) return t.skip(pgAvailable.skip);
    const url = pgAvailable.url;
    const schema = randomSchemaName('cic');
    await schemaAt(url, schema, 5);
    const conns: Conn[] = [];
    let migrating: Promise<unknown> = Promise.resolve();
    let write: Promise<unknown> = Promise.resolve();
    try {
      // An older instance's write still open: CREATE INDEX waits for it, whichever form.
      const holder = await connect(url, schema);
      const migrator = await connect(url, schema);
      const writer = await connect(url, schema);
      conns.push(holder, migrator, writer);
      await holder.client.query('BEGIN');
      await holder.client.query(insertJob('held'));

      migrating = migrate(migrator);
      migrating.catch(() => undefined);
      await untilWaiting(url, migrator.pid);
      // A plain CREATE INDEX would ask for ShareLock here, and every later writer would queue behind it.
      assert.deepEqual(await jobsLocks(url, schema, migrator.pid), [{ mode: 'ShareUpdateExclusiveLock', granted: true }]);

      write = writer.client.query(insertJob('during-build'));
      write.catch(() => undefined);
      assert.equal(await doneOrBlocked(url, writer.pid, write), 'done', 'a write to jobs waited for the index build');

      await holder.client.query('COMMIT');
      assert.deepEqual(await migrating, { applied: from(6), version: LAST });
      const built = await indexes(url, schema);
      assert.deepEqual([built.jobs_task?.valid, built.jobs_task_scheduled?.valid], [true, true]);
      assert.deepEqual(await recorded(url, schema), all);
      const ids = await querySchema<{ id: string }>(url, schema, 'SELECT id FROM jobs ORDER BY id');
      assert.deepEqual(ids.map((r) => r.id), ['during-build', 'held', 'old-1', 'old-2', 'old-3']);
    } finally {
      if (conns[0]) await conns[0].client.query('ROLLBACK').catch(() => undefined);
      await Promise.allSettled([migrating, write]);
      await Promise.all(conns.map((c) => c.client.end().catch(() => undefined)));
      await dropSchema(url, schema);
    }
  });

  it('a build that waits longer than the connection\'s statement timeout (a long build, an old transaction) still completes: the timeout is lifted for the build and restored after', T, async (t) => {
    if (!pgAvailable.url) return t.skip(pgAvailable.skip);
    const url = pgAvailable.url;
    const schema = randomSchemaName('cicslow');
    await schemaAt(url, schema, 5);
    const conns: Conn[] = [];
    let migrating: Promise<unknown> = Promise.resolve();
    try {
      const holder = await connect(url, schema);
      // As the store's pool connects: its statement timeout given at connection start (here 200 ms, not 30 s).
      const migrator = await connect(url, schema, '-c statement_timeout=200');
      conns.push(holder, migrator);
      await holder.client.query('BEGIN');
      await holder.client.query(insertJob('held'));
      migrating = migrate(migrator);
      migrating.catch(() => undefined);
      await untilWaiting(url, migrator.pid);
      await sleep(600); // the build has now waited three times the connection's statement timeout
      await holder.client.query('COMMIT');
      assert.deepEqual(await migrating, { applied: from(6), version: LAST });
      const timeout = (await migrator.client.query<{ t: string }>("SELECT current_setting('statement_timeout') AS t")).rows[0]?.t;
      assert.equal(timeout, '200ms', 'the connection goes back to the pool with its own statement timeout');
    } finally {
      if (conns[0]) await conns[0].client.query('ROLLBACK').catch(() => undefined);
      await migrating.catch(() => undefined);
      await Promise.all(conns.map((c) => c.client.end().catch(() => undefined)));
      await dropSchema(url, schema);
    }
  });

  it('an invalid index left by a failed build is dropped and built again, valid, with the migration\'s definition', T, async (t) => {
    if (!pgAvailable.url) return t.skip(pgAvailable.skip);
    const url = pgAvailable.url;
    const schema = randomSchemaName('cicbad');
    try {
      await schemaAt(url, schema, 5);
      // A concurrent build that fails leaves its index behind, invalid (here: unique over the three jobs' one scenario).
      await assert.rejects(querySchema(url, schema, 'CREATE UNIQUE INDEX CONCURRENTLY jobs_task ON jobs (scenario)'), { code: '23505' });
      assert.equal((await indexes(url, schema)).jobs_task?.valid, false);

      const c = await connect(url, schema);
      try {
        assert.deepEqual(await migrate(c), { applied: from(6), version: LAST });
      } finally {
        await c.client.end();
      }
      const built = await indexes(url, schema);
      assert.equal(built.jobs_task?.valid, true);
      assert.match(built.jobs_task!.def, /^CREATE INDEX jobs_task ON \S+\.jobs USING btree \(\(\(\(trigger\)::json ->> 'task'::text\)\), created_at DESC, id DESC\) WHERE \(strpos\(trigger, '"task"'::text\) > 0\)$/);
      assert.equal(built.jobs_task_scheduled?.valid, true);
      assert.deepEqual(await recorded(url, schema), all);
    } finally {
      await dropSchema(url, schema);
    }
  });

  it('an index built by an instance that died before recording its migration is kept, and the migration recorded', T, async (t) => {
    if (!pgAvailable.url) return t.skip(pgAvailable.skip);
    const url = pgAvailable.url;
    const schema = randomSchemaName('cicdone');
    try {
      await schemaAt(url, schema, 6);
      await querySchema(url, schema, PG_MIGRATIONS.find((m) => m.version === 7)!.sql);
      const before = await indexes(url, schema);
      assert.equal(before.jobs_task_scheduled?.valid, true);

      const c = await connect(url, schema);
      try {
        assert.deepEqual(await migrate(c), { applied: from(7), version: LAST });
      } finally {
        await c.client.end();
      }
      const after = await indexes(url, schema);
      assert.deepEqual(after.jobs_task_scheduled, before.jobs_task_scheduled, 'the same index, not a second build');
      assert.deepEqual(await recorded(url, schema), all);
    } finally {
      await dropSchema(url, schema);
    }
  });

  it('two instances migrating at once: the second waits for the first\'s lock while writes go on; both succeed, each migration recorded once', T, async (t) => {
    if (!pgAvailable.url) return t.skip(pgAvailable.skip);
    const url = pgAvailable.url;
    const schema = randomSchemaName('cictwo');
    await schemaAt(url, schema, 5);
    const conns: Conn[] = [];
    let first: Promise<unknown> = Promise.resolve();
    let second: Promise<unknown> = Promise.resolve();
    let write: Promise<unknown> = Promise.resolve();
    try {
      const holder = await connect(url, schema);
      const a = await connect(url, schema);
      const b = await connect(url, schema);
      const writer = await connect(url, schema);
      conns.push(holder, a, b, writer);
      await holder.client.query('BEGIN');
      await holder.client.query(insertJob('held'));

      first = migrate(a);
      first.catch(() => undefined);
      await untilWaiting(url, a.pid);
      second = migrate(b);
      second.catch(() => undefined);
      await untilAskedForLock(url, b.pid);
      assert.deepEqual(await jobsLocks(url, schema, b.pid), [], 'the second instance waits before touching jobs');

      write = writer.client.query(insertJob('during-build'));
      write.catch(() => undefined);
      assert.equal(await doneOrBlocked(url, writer.pid, write), 'done', 'a write to jobs waited for the index build');

      await holder.client.query('COMMIT');
      assert.deepEqual(await Promise.all([first, second]), [{ applied: from(6), version: LAST }, { applied: [], version: LAST }]);
      assert.deepEqual(await recorded(url, schema), all);
      const built = await indexes(url, schema);
      assert.deepEqual([built.jobs_task?.valid, built.jobs_task_scheduled?.valid], [true, true]);
      // The lock went with the run: a third start takes it at once and finds nothing to do.
      assert.deepEqual(await migrate(b), { applied: [], version: LAST });
    } finally {
      if (conns[0]) await conns[0].client.query('ROLLBACK').catch(() => undefined);
      await Promise.allSettled([first, second, write]);
      await Promise.all(conns.map((c) => c.client.end().catch(() => undefined)));
      await dropSchema(url, schema);
    }
  });

  it('a new schema still migrates from 0 to the last version in one start', T, async (t) => {
    if (!pgAvailable.url) return t.skip(pgAvailable.skip);
    const url = pgAvailable.url;
    const schema = randomSchemaName('cicnew');
    try {
      await querySchema(url, 'public', `CREATE SCHEMA ${schema}`);
      const c = await connect(url, schema);
      try {
        assert.deepEqual(await migrate(c), { applied: all, version: LAST });
        // No lock left on the connection (it goes back to a pool).
        const held = await c.client.query(`SELECT 1 FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory'`);
        assert.equal(held.rowCount, 0);
      } finally {
        await c.client.end();
      }
      const built = await indexes(url, schema);
      assert.deepEqual([built.jobs_task?.valid, built.jobs_task_scheduled?.valid], [true, true]);
      assert.deepEqual(await recorded(url, schema), all);
    } finally {
      await dropSchema(url, schema);
    }
  });
});
