// Numbered schema migrations of the SQLite store, applied in order at open; each runs once, in its own transaction.
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { lastVersion, type SchemaMigrated } from './migrated.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Append only: never edit a migration that has shipped, add the next number. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'inbox, jobs, runs, effects',
    sql: `
      CREATE TABLE inbox (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        received_at     INTEGER NOT NULL,
        method          TEXT    NOT NULL,
        path            TEXT    NOT NULL,
        hook_id         TEXT,
        headers         TEXT    NOT NULL,
        body            BLOB    NOT NULL,
        remote_address  TEXT,
        signature       TEXT    NOT NULL CHECK (signature IN ('valid', 'invalid', 'absent')),
        dedup_key       TEXT,
        duplicate_of    INTEGER,
        duplicates      INTEGER NOT NULL DEFAULT 0,
        run_id          TEXT,
        response_status INTEGER,
        response_body   TEXT
      );
      -- One original per dedup key; duplicates keep the key but point at the original.
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
        inbox_id         INTEGER,
        priority         INTEGER NOT NULL DEFAULT 0,
        attempts         INTEGER NOT NULL DEFAULT 0,
        max_attempts     INTEGER NOT NULL,
        next_run_at      INTEGER NOT NULL,
        status           TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'dead')),
        lease_owner      TEXT,
        lease_expires_at INTEGER,
        last_error       TEXT,
        last_run_id      TEXT,
        pinned_version   TEXT,
        replay_count     INTEGER NOT NULL DEFAULT 0,
        created_at       INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL,
        finished_at      INTEGER
      );
      CREATE INDEX jobs_due ON jobs (status, priority DESC, next_run_at);
      CREATE INDEX jobs_lease ON jobs (lease_expires_at) WHERE status = 'running';
      CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
      CREATE INDEX jobs_list ON jobs (created_at DESC, id DESC);

      CREATE TABLE runs (
        id            TEXT    PRIMARY KEY,
        job_id        TEXT,
        inbox_id      INTEGER,
        parent_run_id TEXT,
        scenario      TEXT    NOT NULL,
        version       TEXT    NOT NULL,
        trigger       TEXT    NOT NULL CHECK (trigger IN ('http', 'webapi', 'async', 'cli', 'replay')),
        status        TEXT    NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
        attempt       INTEGER NOT NULL DEFAULT 1,
        worker_id     TEXT,
        started_at    INTEGER NOT NULL,
        finished_at   INTEGER,
        duration_ms   INTEGER,
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
        run_key     TEXT    NOT NULL,
        step_key    TEXT    NOT NULL,
        outcome     TEXT    NOT NULL,
        recorded_at INTEGER NOT NULL,
        PRIMARY KEY (run_key, step_key)
      ) WITHOUT ROWID;
      CREATE INDEX effects_recorded ON effects (recorded_at);
    `,
  },
  {
    version: 2,
    name: 'service task due times',
    sql: `
      CREATE TABLE task_runs (
        task       TEXT    NOT NULL,
        due_at     INTEGER NOT NULL,
        kind       TEXT    NOT NULL,
        job_id     TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (task, due_at)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: 'runs started by service tasks (trigger task)',
    // SQLite cannot change a CHECK in place: the table is copied into one with the new check.
    sql: `
      CREATE TABLE runs_v3 (
        id            TEXT    PRIMARY KEY,
        job_id        TEXT,
        inbox_id      INTEGER,
        parent_run_id TEXT,
        scenario      TEXT    NOT NULL,
        version       TEXT    NOT NULL,
        trigger       TEXT    NOT NULL CHECK (trigger IN ('http', 'webapi', 'async', 'task', 'cli', 'replay')),
        status        TEXT    NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
        attempt       INTEGER NOT NULL DEFAULT 1,
        worker_id     TEXT,
        started_at    INTEGER NOT NULL,
        finished_at   INTEGER,
        duration_ms   INTEGER,
        params        TEXT,
        return_values TEXT,
        error         TEXT,
        trace         TEXT,
        bpium_calls   TEXT,
        mails         TEXT
      );
      INSERT INTO runs_v3 (id, job_id, inbox_id, parent_run_id, scenario, version, trigger, status, attempt, worker_id,
          started_at, finished_at, duration_ms, params, return_values, error, trace, bpium_calls, mails)
        SELECT id, job_id, inbox_id, parent_run_id, scenario, version, trigger, status, attempt, worker_id,
          started_at, finished_at, duration_ms, params, return_values, error, trace, bpium_calls, mails FROM runs;
      DROP TABLE runs;
      ALTER TABLE runs_v3 RENAME TO runs;
      CREATE INDEX runs_started ON runs (started_at DESC, id DESC);
      CREATE INDEX runs_status ON runs (status, started_at DESC);
      CREATE INDEX runs_scenario ON runs (scenario, started_at DESC);
      CREATE INDEX runs_job ON runs (job_id) WHERE job_id IS NOT NULL;
    `,
  },
  {
    version: 4,
    name: 'jobs: when the current attempt was claimed',
    // updated_at moves with every lease renewal, so it cannot say when an attempt began. For a job running when the
    // file is migrated the claim time was never stored: its last update (the claim or a renewal) is the best known.
    sql: `
      ALTER TABLE jobs ADD COLUMN claimed_at INTEGER;
      UPDATE jobs SET claimed_at = updated_at WHERE status = 'running';
    `,
  },
  {
    version: 5,
    name: 'jobs: the jobs of a service task, newest first',
    // The tasks' listing looks up each task's newest job by the task named in its trigger; without this index that
    // read every job of the file for a task that never ran. Only rows whose trigger holds the text "task" are in it
    // (JOB_TASK of page.sql.ts: the query names the same expression and condition, or the index is not used).
    sql: `
      CREATE INDEX jobs_task ON jobs (json_extract(trigger, '$.task'), created_at DESC, id DESC) WHERE instr(trigger, '"task"') > 0;
    `,
  },
  {
    version: 6,
    name: 'jobs: the scheduled runs of a service task, newest first',
    // overlap: skip looks for the task's newest scheduled run (due or catch-up). Through jobs_task that walked past
    // every manual run since, one table row each; this index holds the scheduled runs only, so the look-up is one
    // step (JOB_SCHEDULED and latestScheduledJobSql of page.sql.ts spell the same expressions and conditions).
    sql: `
      CREATE INDEX jobs_task_scheduled ON jobs (json_extract(trigger, '$.task'), created_at DESC, id DESC)
        WHERE instr(trigger, '"task"') > 0 AND json_extract(trigger, '$.kind') IN ('due', 'catch-up');
    `,
  },
  {
    version: 7,
    name: 'inbox: the duplicates, for counting them',
    // counts() (/-/metrics, the console) counted them by reading every inbox row, bodies and all, on the thread that
    // acknowledges webhooks. Only duplicates have an entry here, so a first delivery writes nothing more.
    sql: `
      CREATE INDEX inbox_duplicates ON inbox (duplicate_of) WHERE duplicate_of IS NOT NULL;
    `,
  },
  {
    version: 8,
    name: 'jobs: the last runs of dead letters, for the prune to keep them',
    sql: `
      CREATE INDEX jobs_dead_letter_runs ON jobs (last_run_id) WHERE status IN ('failed', 'dead') AND last_run_id IS NOT NULL;
    `,
  },
  {
    version: 9,
    name: 'runs: the time zone each run ran in',
    // The zone of Now(), of dates written as text and read from text: test --from-run and --against-runs replay a run
    // in it, so a store copied to a machine in another zone replays as it ran. NULL for the runs of older builds.
    sql: `
      ALTER TABLE runs ADD COLUMN time_zone TEXT;
    `,
  },
  {
    version: 10,
    name: 'jobs: the cancel requested for a running job',
    // JSON {"by", "at"}: who asked to cancel the job while its attempt ran, and when (store/cancel-request.ts). Its
    // worker stops the attempt at its next block, and its failure makes the job a dead letter R_CANCELLED. NULL otherwise.
    sql: `
      ALTER TABLE jobs ADD COLUMN cancel_request TEXT;
    `,
  },
  {
    version: 11,
    name: 'paused_scenarios: scenarios whose jobs no claim takes',
    // One row per paused scenario (store/scenario-pause.ts): who paused it, when, why, and until when (NULL: until
    // resumed). A claim skips the queued jobs of a scenario with a row here whose until is NULL or later than now.
    sql: `
      CREATE TABLE paused_scenarios (
        scenario  TEXT    PRIMARY KEY,
        paused_by TEXT    NOT NULL,
        paused_at INTEGER NOT NULL,
        reason    TEXT,
        until     INTEGER
      );
      -- The queued jobs by scenario in claim order: while a scenario is paused, a claim reads each other scenario's
      -- head here instead of walking jobs_due past the paused backlog (a poll would otherwise scan all of it).
      CREATE INDEX jobs_queued_scenario ON jobs (scenario, priority DESC, next_run_at) WHERE status = 'queued';
    `,
  },
];

/** Thrown when the file was written by a newer version of the emulator than this one. */
export class SchemaTooNewError extends Error {
  override name = 'SchemaTooNewError';
  constructor(
    /** The version the file is at. */
    readonly current: number,
    /** The last version this build knows. */
    readonly known: number,
  ) {
    super(`database schema is version ${current}, this build knows up to ${known}: use a newer build`);
  }
}

/** The last schema version of the SQLite store this build knows. */
export function knownSchemaVersion(migrations: readonly Migration[] = MIGRATIONS): number {
  return lastVersion(migrations);
}

/**
 * The schema version of an existing store file as it is, read without changing anything (a read-only connection,
 * no migration); 0 when the file holds no store yet. What the CLI asks before it opens a data folder that a server
 * of another build may be running on.
 */
export function storedSchemaVersion(file: string): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    if (!db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).get()) return 0;
    return schemaVersionOf(db);
  } finally {
    db.close();
  }
}

/**
 * The stored and known schema versions when an existing store file is at an older version than this build's (one it
 * would migrate on opening); undefined when it is missing, holds no store yet, is at this build's version or later, or
 * cannot be read this way (the open itself then says what is wrong). What `serve` and the CLI ask before they migrate
 * a file another process may be using.
 */
export function olderStoredSchema(file: string): { stored: number; known: number } | undefined {
  let stored: number;
  try {
    if (!existsSync(file)) return undefined;
    stored = storedSchemaVersion(file);
  } catch {
    return undefined;
  }
  const known = knownSchemaVersion();
  return stored === 0 || stored >= known ? undefined : { stored, known };
}

/** The last migration recorded in an open store (its `schema_migrations` table must exist). */
function schemaVersionOf(db: Database.Database): number {
  return (db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
}

/** Brings the schema up to the last migration; returns the versions applied now and the version it is at. */
export function applyMigrations(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS, now = Date.now()): SchemaMigrated {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const current = schemaVersionOf(db);
  const known = knownSchemaVersion(migrations);
  if (current > known) throw new SchemaTooNewError(current, known);
  const applied: number[] = [];
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, now);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
    applied.push(m.version);
  }
  return { applied, version: known };
}
