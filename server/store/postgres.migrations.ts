// Numbered schema migrations of the PostgreSQL store, applied at open under an advisory lock so instances can start together.
import { setTimeout as sleep } from 'node:timers/promises';
import type { PoolClient } from 'pg';
import { lastVersion, type SchemaMigrated } from './migrated.js';

export interface PgMigration {
  version: number;
  name: string;
  sql: string;
  /**
   * Set on a migration that only builds one index, named so: its `sql` is that one `CREATE INDEX CONCURRENTLY IF NOT
   * EXISTS` statement, run outside a transaction so writes to the table go on while it is built, then recorded. An
   * invalid index of that name (a build that failed or was cut off) is dropped first, so a retry builds it again.
   */
  concurrentIndex?: string;
}

/**
 * Append only: never edit what a shipped migration makes, add the next number (6 and 7 changed only how they build
 * their index: concurrently, with the same definition). Times are epoch milliseconds (BIGINT), JSON columns are text
 * (kept byte for byte, as in the SQLite store), request bodies BYTEA.
 */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'inbox, jobs, runs, effects',
    sql: `
      CREATE TABLE inbox (
        id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        received_at     BIGINT  NOT NULL,
        method          TEXT    NOT NULL,
        path            TEXT    NOT NULL,
        hook_id         TEXT,
        headers         TEXT    NOT NULL,
        body            BYTEA   NOT NULL,
        remote_address  TEXT,
        signature       TEXT    NOT NULL CHECK (signature IN ('valid', 'invalid', 'absent')),
        dedup_key       TEXT,
        duplicate_of    BIGINT,
        duplicates      INTEGER NOT NULL DEFAULT 0,
        run_id          TEXT,
        response_status INTEGER,
        response_body   TEXT
      );
      -- One original per dedup key: the arbiter of INSERT … ON CONFLICT, across every instance.
      CREATE UNIQUE INDEX inbox_dedup ON inbox (dedup_key) WHERE dedup_key IS NOT NULL AND duplicate_of IS NULL;
      CREATE INDEX inbox_received ON inbox (received_at);

      CREATE TABLE jobs (
        id               TEXT    PRIMARY KEY,
        scenario         TEXT    NOT NULL,
        params           TEXT    NOT NULL,
        variables        TEXT    NOT NULL,
        parent_run_id    TEXT,
        parent_block     TEXT,
        trigger          TEXT    NOT NULL,
        inbox_id         BIGINT,
        priority         INTEGER NOT NULL DEFAULT 0,
        attempts         INTEGER NOT NULL DEFAULT 0,
        max_attempts     INTEGER NOT NULL,
        next_run_at      BIGINT  NOT NULL,
        status           TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'dead')),
        lease_owner      TEXT,
        lease_expires_at BIGINT,
        last_error       TEXT,
        last_run_id      TEXT,
        pinned_version   TEXT,
        replay_count     INTEGER NOT NULL DEFAULT 0,
        created_at       BIGINT  NOT NULL,
        updated_at       BIGINT  NOT NULL,
        finished_at      BIGINT
      );
      CREATE INDEX jobs_queued ON jobs (priority DESC, next_run_at) WHERE status = 'queued';
      CREATE INDEX jobs_lease ON jobs (lease_expires_at) WHERE status = 'running';
      CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
      CREATE INDEX jobs_list ON jobs (created_at DESC, id DESC);
      CREATE INDEX jobs_status_list ON jobs (status, created_at DESC, id DESC);

      CREATE TABLE runs (
        id            TEXT    PRIMARY KEY,
        job_id        TEXT,
        inbox_id      BIGINT,
        parent_run_id TEXT,
        scenario      TEXT    NOT NULL,
        version       TEXT    NOT NULL,
        trigger       TEXT    NOT NULL CHECK (trigger IN ('http', 'webapi', 'async', 'cli', 'replay')),
        status        TEXT    NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
        attempt       INTEGER NOT NULL DEFAULT 1,
        worker_id     TEXT,
        started_at    BIGINT  NOT NULL,
        finished_at   BIGINT,
        duration_ms   DOUBLE PRECISION,
        params        TEXT,
        return_values TEXT,
        error         TEXT,
        trace         TEXT,
        bpium_calls   TEXT,
        mails         TEXT
      );
      CREATE INDEX runs_started ON runs (started_at DESC, id DESC);
      CREATE INDEX runs_status ON runs (status, started_at DESC);
      CREATE INDEX runs_scenario ON runs (scenario, started_at DESC);
      CREATE INDEX runs_job ON runs (job_id) WHERE job_id IS NOT NULL;

      CREATE TABLE effects (
        run_key     TEXT   NOT NULL,
        step_key    TEXT   NOT NULL,
        outcome     TEXT   NOT NULL,
        recorded_at BIGINT NOT NULL,
        PRIMARY KEY (run_key, step_key)
      );
      CREATE INDEX effects_recorded ON effects (recorded_at);
    `,
  },
  {
    version: 2,
    name: 'service task due times',
    sql: `
      CREATE TABLE task_runs (
        task       TEXT   NOT NULL,
        due_at     BIGINT NOT NULL,
        kind       TEXT   NOT NULL,
        job_id     TEXT,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (task, due_at)
      );
    `,
  },
  {
    version: 3,
    name: 'runs started by service tasks (trigger task)',
    sql: `
      ALTER TABLE runs DROP CONSTRAINT runs_trigger_check;
      ALTER TABLE runs ADD CONSTRAINT runs_trigger_check CHECK (trigger IN ('http', 'webapi', 'async', 'task', 'cli', 'replay'));
    `,
  },
  {
    version: 4,
    name: 'jobs: when the current attempt was claimed',
    // As SQLite's migration 4: updated_at moves with every lease renewal; a job running now gets its last update.
    sql: `
      ALTER TABLE jobs ADD COLUMN claimed_at BIGINT;
      UPDATE jobs SET claimed_at = updated_at WHERE status = 'running';
    `,
  },
  {
    version: 5,
    name: 'settings every instance shares (the console form token secret)',
    // PostgreSQL only: a SQLite store has one server, which keeps such secrets in its data folder.
    sql: `
      CREATE TABLE shared_settings (
        name       TEXT   PRIMARY KEY,
        value      TEXT   NOT NULL,
        created_at BIGINT NOT NULL
      );
    `,
  },
  {
    version: 6,
    name: 'jobs: the jobs of a service task, newest first',
    // As SQLite's migration 5 (JOB_TASK of page.sql.ts). json, not jsonb: one member of a json value is read by
    // scanning its text, where jsonb would build the whole value first. Built concurrently: the writes of instances
    // still running go on meanwhile.
    concurrentIndex: 'jobs_task',
    sql: `
      CREATE INDEX CONCURRENTLY IF NOT EXISTS jobs_task ON jobs ((trigger::json ->> 'task'), created_at DESC, id DESC) WHERE strpos(trigger, '"task"') > 0;
    `,
  },
  {
    version: 7,
    name: 'jobs: the scheduled runs of a service task, newest first',
    // As SQLite's migration 6 (JOB_SCHEDULED of page.sql.ts): the newest due or catch-up run of a task in one step,
    // however many manual runs came after it. Built concurrently, as migration 6.
    concurrentIndex: 'jobs_task_scheduled',
    sql: `
      CREATE INDEX CONCURRENTLY IF NOT EXISTS jobs_task_scheduled ON jobs ((trigger::json ->> 'task'), created_at DESC, id DESC)
        WHERE strpos(trigger, '"task"') > 0 AND (trigger::json ->> 'kind') IN ('due', 'catch-up');
    `,
  },
  {
    version: 8,
    name: 'runs: the time zone each run ran in',
    // As SQLite's migration 9: test --from-run and --against-runs replay a run in its own zone. NULL for the runs of
    // older builds, whose zone is not known.
    sql: `
      ALTER TABLE runs ADD COLUMN time_zone TEXT;
    `,
  },
  {
    version: 9,
    name: 'jobs: the cancel requested for a running job',
    // As SQLite's migration 10: who asked to cancel the job while its attempt ran, and when (JSON {"by", "at"}); the
    // instance that holds the job reads it with its lease renewals. NULL otherwise.
    sql: `
      ALTER TABLE jobs ADD COLUMN cancel_request TEXT;
    `,
  },
  {
    version: 10,
    name: 'paused_scenarios: scenarios whose jobs no claim takes',
    // As SQLite's migration 11: the claims of every instance sharing the schema skip the queued jobs of a scenario
    // paused here (until NULL or later than now).
    sql: `
      CREATE TABLE paused_scenarios (
        scenario  TEXT   PRIMARY KEY,
        paused_by TEXT   NOT NULL,
        paused_at BIGINT NOT NULL,
        reason    TEXT,
        until     BIGINT
      );
    `,
  },
];

/** How long an instance that finds the migration lock taken waits before it tries again. */
const LOCK_RETRY_MS = 100;

/** Thrown when the database was migrated by a newer version of the emulator than this one. */
export class PgSchemaTooNewError extends Error {
  override name = 'PgSchemaTooNewError';
}

/** The schema a command would read is not there, or not migrated as far as this build needs: nothing was changed. */
export class PgSchemaNotReadyError extends Error {
  override name = 'PgSchemaNotReadyError';
}

/**
 * Checks, without changing anything (no CREATE, no migration), that the current schema (the first of `search_path`;
 * `schema` is the one the URL named) holds the store at the version this build knows. What reads a shared database
 * (the CLI: `runs`, `show`, `tasks`…) opens it so: a mistyped `?schema=` is said instead of made, and an operator's
 * newer build does not migrate the schema under instances of an older one (only a server migrates, as it starts).
 */
export async function checkPgSchema(client: PoolClient, schema: string | undefined, migrations: readonly PgMigration[] = PG_MIGRATIONS): Promise<void> {
  const first = 'start a server with this store first';
  const found = (await client.query<{ db: string; s: string | null; named: boolean; tables: boolean }>(
    `SELECT current_database() AS db, current_schema() AS s,
            EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS named,
            to_regclass('schema_migrations') IS NOT NULL AS tables`,
    [schema ?? ''],
  )).rows[0]!;
  if (schema !== undefined && !found.named) throw new PgSchemaNotReadyError(`no schema ${schema} in database ${found.db}; ${first} (or check ?schema= of the URL)`);
  if (!found.s) throw new PgSchemaNotReadyError(`no schema to read in database ${found.db} (the role's search_path names none); ${first}`);
  if (!found.tables) throw new PgSchemaNotReadyError(`schema ${found.s} of database ${found.db} holds no store; ${first} (or check ?schema= of the URL)`);
  const current = await schemaVersionOf(client);
  const known = lastVersion(migrations);
  if (current > known) throw new PgSchemaTooNewError(`database schema ${found.s} is version ${current}, this build knows up to ${known}: use a newer build`);
  if (current < known) {
    throw new PgSchemaNotReadyError(`schema ${found.s} is at version ${current}, this build reads version ${known}: the servers have not migrated it yet (a server of this build does as it starts); nothing was changed`);
  }
}

/**
 * Brings the current schema (the first of `search_path`) up to the last migration, holding a session advisory lock
 * named after that schema from start to end: a second instance starting at the same moment waits (trying again every
 * LOCK_RETRY_MS), then finds nothing to do. Migrations in a row run in one transaction; one with `concurrentIndex`
 * runs alone, outside any, and is recorded after its build (a crash in between builds it again, or finds it built, at
 * the next start). Returns the versions applied now (none for that second instance) and the version the schema is at.
 */
export async function applyPgMigrations(client: PoolClient, migrations: readonly PgMigration[] = PG_MIGRATIONS, now = Date.now()): Promise<SchemaMigrated> {
  const schema = (await client.query<{ s: string | null }>('SELECT current_schema() AS s')).rows[0]?.s;
  if (!schema) throw new Error('no schema to create the tables in: the search_path names no existing schema');
  const lockKey = `hashtext('oktell-emulator:migrate:' || $1::text)`;
  // Tried again and again, not waited for: a statement waiting for the lock holds a snapshot, and the CREATE INDEX
  // CONCURRENTLY of the instance holding the lock waits for every older snapshot to end (a deadlock).
  while (!(await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${lockKey}) AS locked`, [schema])).rows[0]?.locked) {
    await sleep(LOCK_RETRY_MS);
  }
  let migrated: SchemaMigrated;
  try {
    // The store's lock_timeout (10 s) is for the writes of a running server; a migration's ALTER may wait for the
    // other instances' transactions longer than that, so it is lifted here, and RESET before the connection is pooled.
    await client.query('SET lock_timeout = 0');
    try {
      migrated = await migrateLocked(client, schema, migrations, now);
    } finally {
      await client.query('RESET lock_timeout').catch(() => undefined);
    }
  } catch (err) {
    // A connection that broke has lost the lock with it; one that did not must not go back to the pool holding it.
    await client.query(`SELECT pg_advisory_unlock(${lockKey})`, [schema]).catch(() => undefined);
    throw err;
  }
  await client.query(`SELECT pg_advisory_unlock(${lockKey})`, [schema]);
  return migrated;
}

/** The last migration recorded in the schema (its `schema_migrations` table must exist). */
async function schemaVersionOf(client: PoolClient): Promise<number> {
  return Number((await client.query<{ v: string | number }>('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations')).rows[0]?.v ?? 0);
}

async function migrateLocked(client: PoolClient, schema: string, migrations: readonly PgMigration[], now: number): Promise<SchemaMigrated> {
  await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`);
  const current = await schemaVersionOf(client);
  const known = lastVersion(migrations);
  if (current > known) {
    throw new PgSchemaTooNewError(`database schema ${schema} is version ${current}, this build knows up to ${known}: use a newer build`);
  }
  const pending = [...migrations].sort((a, b) => a.version - b.version).filter((m) => m.version > current);
  const record = (m: PgMigration) =>
    client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, now]);
  const applied: number[] = [];
  while (pending.length > 0) {
    const m = pending[0]!;
    if (m.concurrentIndex !== undefined) {
      await buildIndexConcurrently(client, m.concurrentIndex, m.sql);
      await record(m);
      applied.push(pending.shift()!.version);
      continue;
    }
    const end = pending.findIndex((n) => n.concurrentIndex !== undefined);
    const batch = pending.splice(0, end < 0 ? pending.length : end);
    await client.query('BEGIN');
    try {
      for (const n of batch) {
        await client.query(n.sql);
        await record(n);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    applied.push(...batch.map((n) => n.version));
  }
  return { applied, version: known };
}

/**
 * Runs `sql` (a `CREATE INDEX CONCURRENTLY IF NOT EXISTS` of `index`) outside a transaction. An invalid index of that
 * name in the current schema, left by a build that failed or whose instance died, is dropped first: IF NOT EXISTS
 * would keep it. A valid one (built, then the instance died before recording the migration) is kept as it is.
 */
async function buildIndexConcurrently(client: PoolClient, index: string, sql: string): Promise<void> {
  const state = async () => (await client.query<{ name: string; valid: boolean | null }>(
    `SELECT format('%I.%I', current_schema(), $1::text) AS name,
            (SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(format('%I.%I', current_schema(), $1::text))) AS valid`,
    [index],
  )).rows[0]!;
  const before = await state();
  // The build reads the whole table and first waits for every older transaction of the database: on a large jobs
  // table that outlasts the store's statement timeout (30 s), which would fail every start. Lifted for the build
  // only; RESET gives the connection back its own (set when it connected) before it returns to the pool.
  await client.query('SET statement_timeout = 0');
  try {
    if (before.valid === false) await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${before.name}`);
    await client.query(sql);
  } finally {
    await client.query('RESET statement_timeout');
  }
  if ((await state()).valid !== true) {
    throw new Error(`index ${before.name} is not valid after CREATE INDEX CONCURRENTLY; the next start drops and builds it again`);
  }
}
