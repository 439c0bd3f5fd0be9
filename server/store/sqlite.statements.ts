// Every SQL statement of the SQLite store, prepared once at open. Named parameters (@name) match the row types.
import type Database from 'better-sqlite3';

/** Dead letters: jobs that ended without delivering (kept past the retention, see `prune`). */
const UNDELIVERED = `('failed', 'dead')`;
/** Jobs still to be done: their webhook's inbox entry (its dedup key), their parent run and their runs are kept. */
const PENDING = `('queued', 'running')`;

/**
 * The statements of counts() (/-/metrics, the console, the start and stop records). They read no table rows: on the
 * thread that acknowledges webhooks they once read every retained row (0.3 s at 200,000 webhooks, on every scrape).
 * COUNT(*) of a whole table counts its primary key's pages; the statuses other than the retained bulk (succeeded jobs,
 * completed runs) are ranges of a status index, and the bulk is the total less those (sqlite.store.ts); duplicates
 * have an index of their own (migration 7), which holds only them. test/store/counts-plan checks the plans.
 */
export const COUNT_SQL = {
  countJobsAll: `SELECT COUNT(*) AS n FROM jobs`,
  countJobs: `SELECT status, COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running', 'failed', 'dead') GROUP BY status`,
  countRunsAll: `SELECT COUNT(*) AS n FROM runs`,
  countRuns: `SELECT status, COUNT(*) AS n FROM runs WHERE status IN ('running', 'failed') GROUP BY status`,
  countInbox: `SELECT (SELECT COUNT(*) FROM inbox) AS total, (SELECT COUNT(*) FROM inbox WHERE duplicate_of IS NOT NULL) AS duplicates`,
};

/**
 * The statements of prune(), run on the thread that acknowledges webhooks. Each table is pruned in windows that follow
 * the index of its age: `*Window` finds the last key of the next `@n` index entries older than the cutoff after the
 * cursor (`@at`, `@key`, for effects also `@key2`: the last window's end), and the delete removes what may go between
 * the cursor and that end. A chunk so reads at most `@n` index entries and their rows, however many old rows are kept
 * (dead letters and their last runs, the work of jobs still pending); a `LIMIT` on the whole range read them all again
 * in every chunk (76 ms a chunk of 100 runs beside 60,000 kept dead letters), and found the succeeded jobs through the
 * status index, every young one read at the last chunk. test/store/prune-windows checks the plans.
 */
export const PRUNE_SQL = {
  pruneInboxWindow: `SELECT at, key FROM (SELECT received_at AS at, id AS key FROM inbox
      WHERE received_at < @cutoff AND (received_at, id) > (@at, @key) ORDER BY received_at, id LIMIT @n)
    ORDER BY at DESC, key DESC LIMIT 1`,
  // The entry of a job still queued or running is kept: a resend meanwhile is still a duplicate (retention shorter than the retries).
  pruneInbox: `DELETE FROM inbox WHERE (received_at, id) > (@at, @key) AND (received_at, id) <= (@endAt, @endKey)
      AND id NOT IN (SELECT inbox_id FROM jobs WHERE status IN ${PENDING} AND inbox_id IS NOT NULL)`,
  // Jobs by when they finished (the partial index jobs_finished, with the rowid as the tie-break); `+status` keeps the
  // planner off the status index, whose succeeded range is every retained job.
  pruneJobsWindow: `SELECT at, key FROM (SELECT finished_at AS at, rowid AS key FROM jobs
      WHERE finished_at IS NOT NULL AND finished_at < @cutoff AND (finished_at, rowid) > (@at, @key) ORDER BY finished_at, rowid LIMIT @n)
    ORDER BY at DESC, key DESC LIMIT 1`,
  pruneJobs: `DELETE FROM jobs WHERE finished_at IS NOT NULL AND (finished_at, rowid) > (@at, @key) AND (finished_at, rowid) <= (@endAt, @endKey)
      AND +status = 'succeeded'`,
  pruneDeadLetters: `DELETE FROM jobs WHERE finished_at IS NOT NULL AND (finished_at, rowid) > (@at, @key) AND (finished_at, rowid) <= (@endAt, @endKey)
      AND +status IN ${UNDELIVERED}
    RETURNING id`,
  pruneRunsWindow: `SELECT at, key FROM (SELECT started_at AS at, id AS key FROM runs
      WHERE started_at < @cutoff AND (started_at, id) > (@at, @key) ORDER BY started_at, id LIMIT @n)
    ORDER BY at DESC, key DESC LIMIT 1`,
  // The last run of a dead letter is kept with it (what a person replaying it needs to read), and so are the earlier
  // attempts and the parent run (the hook's) of a job still queued or running. Each run of the window is looked up in
  // the dead letters' last runs (their own index, migration 8: a list of them made per window took 15 ms at 60,000
  // dead letters, in every window) and its job by key; the parent runs of pending jobs are a list made per window
  // (as many as jobs wait).
  pruneRuns: `DELETE FROM runs WHERE (started_at, id) > (@at, @key) AND (started_at, id) <= (@endAt, @endKey)
      AND status <> 'running' AND finished_at < @cutoff
      AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.last_run_id = runs.id AND j.status IN ${UNDELIVERED})
      AND (job_id IS NULL OR NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = runs.job_id AND j.status IN ${PENDING}))
      AND id NOT IN (SELECT parent_run_id FROM jobs WHERE status IN ${PENDING} AND parent_run_id IS NOT NULL)`,
  pruneEffectsWindow: `SELECT at, key, key2 FROM (SELECT recorded_at AS at, run_key AS key, step_key AS key2 FROM effects
      WHERE recorded_at < @cutoff AND (recorded_at, run_key, step_key) > (@at, @key, @key2) ORDER BY recorded_at, run_key, step_key LIMIT @n)
    ORDER BY at DESC, key DESC, key2 DESC LIMIT 1`,
  pruneEffects: `DELETE FROM effects WHERE (recorded_at, run_key, step_key) > (@at, @key, @key2)
      AND (recorded_at, run_key, step_key) <= (@endAt, @endKey, @endKey2) AND run_key NOT IN (SELECT id FROM jobs)`,
} as const;

/** The SQL, by name; kept apart from the store's logic so the whole query surface reads in one place. */
/** The claim while a scenario is paused (SqliteStore.claimQueued, oldestDueAt): exported for the plan test. */
export const PAUSED_CLAIM_SQL = {
  queuedScenarios: `WITH RECURSIVE s(name) AS (
      SELECT (SELECT MIN(scenario) FROM jobs INDEXED BY jobs_queued_scenario WHERE status = 'queued')
      UNION ALL
      SELECT (SELECT MIN(scenario) FROM jobs INDEXED BY jobs_queued_scenario WHERE status = 'queued' AND scenario > s.name)
      FROM s WHERE s.name IS NOT NULL)
    SELECT name FROM s WHERE name IS NOT NULL
      AND name NOT IN (SELECT scenario FROM paused_scenarios WHERE until IS NULL OR until > @now)`,
  queuedHead: `SELECT id, priority, next_run_at FROM jobs INDEXED BY jobs_queued_scenario
    WHERE status = 'queued' AND scenario = @scenario AND next_run_at <= @now ORDER BY priority DESC, next_run_at LIMIT @limit`,
  /** The oldest due of one scenario's queued jobs (oldestDueAt while a scenario is paused). */
  oldestDueOf: `SELECT MIN(next_run_at) AS at FROM jobs INDEXED BY jobs_queued_scenario
    WHERE status = 'queued' AND scenario = @scenario AND next_run_at <= @now`,
};

const SQL = {
  insertInbox: `INSERT INTO inbox (received_at, method, path, hook_id, headers, body, remote_address, signature, dedup_key,
      duplicate_of, run_id, response_status, response_body)
    VALUES (@received_at, @method, @path, @hook_id, @headers, @body, @remote_address, @signature, @dedup_key,
      @duplicate_of, @run_id, @response_status, @response_body)`,
  findOriginal: `SELECT id, response_status, response_body, run_id FROM inbox WHERE dedup_key = ? AND duplicate_of IS NULL`,
  bumpDuplicates: `UPDATE inbox SET duplicates = duplicates + 1 WHERE id = ?`,
  getInbox: `SELECT * FROM inbox WHERE id = ?`,
  answeredStatuses: `SELECT e.id AS id, COALESCE(o.response_status, e.response_status) AS status FROM inbox e
    LEFT JOIN inbox o ON o.id = e.duplicate_of WHERE e.id IN (SELECT value FROM json_each(?))`,

  insertJob: `INSERT INTO jobs (id, scenario, params, variables, parent_run_id, parent_block, trigger, inbox_id, priority,
      attempts, max_attempts, next_run_at, status, lease_owner, lease_expires_at, claimed_at, pinned_version, created_at, updated_at)
    VALUES (@id, @scenario, @params, @variables, @parent_run_id, @parent_block, @trigger, @inbox_id, @priority,
      @attempts, @max_attempts, @next_run_at, @status, @lease_owner, @lease_expires_at, @claimed_at, @pinned_version, @now, @now)`,
  getJob: `SELECT * FROM jobs WHERE id = ?`,
  jobStates: `SELECT id, status, last_run_id, attempts, max_attempts, next_run_at FROM jobs WHERE id IN (SELECT value FROM json_each(?))`,
  // Expired leases, except the claimer's own: a pool still holds those (it waits to record their end through a store
  // outage that outlasted the lease), and taking them back would run an attempt that already made its effects again.
  anyExpiredLease: `SELECT 1 FROM jobs INDEXED BY jobs_lease WHERE status = 'running' AND lease_expires_at <= ? AND lease_owner IS NOT ? LIMIT 1`,
  expiredLeases: `SELECT * FROM jobs WHERE status = 'running' AND lease_expires_at <= ? AND lease_owner IS NOT ?`,
  runningJobs: `SELECT * FROM jobs WHERE status = 'running'`,
  setLastRun: `UPDATE jobs SET last_run_id = @run_id WHERE id = @id`,
  setLastError: `UPDATE jobs SET last_error = @error WHERE id = @id`,
  buryExpired: `UPDATE jobs SET status = 'dead', lease_owner = NULL, lease_expires_at = NULL, claimed_at = NULL, last_error = @error,
      finished_at = @now, updated_at = @now
    WHERE status = 'running' AND lease_expires_at <= @now AND lease_owner IS NOT @worker AND attempts >= max_attempts`,
  // claimed_at: when this attempt began (updated_at moves again with every lease renewal). last_error: the attempt cut
  // off, so that the new one knows its effects may repeat that attempt's last one (delivery/attempt-journal.ts).
  claimExpired: `UPDATE jobs SET attempts = attempts + 1, lease_owner = @worker, lease_expires_at = @expires, claimed_at = @now,
      updated_at = @now, last_error = @error
    WHERE id IN (SELECT id FROM jobs WHERE status = 'running' AND lease_expires_at <= @now AND lease_owner IS NOT @worker
      AND scenario NOT IN (SELECT scenario FROM paused_scenarios WHERE until IS NULL OR until > @now)
      ORDER BY priority DESC, next_run_at LIMIT @limit)
    RETURNING *`,
  // Walks jobs_due in (priority DESC, next_run_at) order and stops at the limit. The jobs of a paused scenario
  // (store/scenario-pause.ts) stay queued, their attempts unused.
  claimQueued: `UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = @worker,
      lease_expires_at = @expires, claimed_at = @now, updated_at = @now
    WHERE id IN (SELECT id FROM jobs WHERE status = 'queued' AND next_run_at <= @now
      AND scenario NOT IN (SELECT scenario FROM paused_scenarios WHERE until IS NULL OR until > @now)
      ORDER BY priority DESC, next_run_at LIMIT @limit)
    RETURNING *`,
  // While a scenario is paused (claimQueued would walk jobs_due past its whole backlog on every poll): the scenarios
  // with queued jobs, one index probe each (a skip scan of jobs_queued_scenario), then the due head of each scenario
  // not paused, in claim order; the claim takes the best of those heads by id (claimQueuedIds).
  ...PAUSED_CLAIM_SQL,
  claimQueuedIds: `UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = @worker,
      lease_expires_at = @expires, claimed_at = @now, updated_at = @now
    WHERE id IN (SELECT value FROM json_each(@ids)) AND status = 'queued'
    RETURNING *`,
  extendLease: `UPDATE jobs SET lease_expires_at = @expires, updated_at = @now
    WHERE id = @id AND status = 'running' AND lease_owner = @worker`,
  releaseJob: `UPDATE jobs SET status = 'queued', attempts = attempts - 1, lease_owner = NULL, lease_expires_at = NULL, claimed_at = NULL,
      updated_at = @now, last_error = COALESCE(@error, last_error)
    WHERE id = @id AND status = 'running' AND lease_owner = @worker`,
  completeJob: `UPDATE jobs SET status = 'succeeded', lease_owner = NULL, lease_expires_at = NULL, claimed_at = NULL, finished_at = @now,
      updated_at = @now, last_run_id = COALESCE(@run_id, last_run_id)
    WHERE id = @id AND status = 'running' AND lease_owner = @worker`,
  ownedJob: `SELECT attempts, max_attempts, cancel_request, replay_count FROM jobs WHERE id = ? AND status = 'running' AND lease_owner = ?`,
  // The request names the job's replay_count: one an older build's replay left behind is none (cancel-request.ts).
  requestCancel: `UPDATE jobs SET cancel_request = json_set(@request, '$.replay', replay_count), updated_at = @now
    WHERE id = @id AND status = 'running' AND (cancel_request IS NULL OR json_extract(cancel_request, '$.replay') <> replay_count)`,
  cancelRequests: `SELECT id, cancel_request, replay_count FROM jobs WHERE id IN (SELECT value FROM json_each(@ids)) AND status = 'running'
    AND lease_owner = @worker AND cancel_request IS NOT NULL`,
  retryJob: `UPDATE jobs SET status = 'queued', next_run_at = @next_run_at, lease_owner = NULL, lease_expires_at = NULL, claimed_at = NULL,
      last_error = @error, updated_at = @now, last_run_id = COALESCE(@run_id, last_run_id)
    WHERE id = @id`,
  finishJob: `UPDATE jobs SET status = @status, lease_owner = NULL, lease_expires_at = NULL, claimed_at = NULL, last_error = @error,
      finished_at = @now, updated_at = @now, last_run_id = COALESCE(@run_id, last_run_id)
    WHERE id = @id`,
  buryOrphans: `UPDATE jobs SET status = 'dead', lease_owner = NULL, lease_expires_at = NULL, claimed_at = NULL, last_error = @error,
      finished_at = @now, updated_at = @now
    WHERE status = 'running' AND attempts >= max_attempts`,
  requeueOrphans: `UPDATE jobs SET status = 'queued', next_run_at = @now, lease_owner = NULL, lease_expires_at = NULL, claimed_at = NULL,
      last_error = @error, updated_at = @now
    WHERE status = 'running'`,
  failRunningRuns: `UPDATE runs SET status = 'failed', error = @error, finished_at = @now, duration_ms = @now - started_at
    WHERE status = 'running'`,
  failRunsOfJob: `UPDATE runs SET status = 'failed', error = @error, finished_at = @now, duration_ms = @now - started_at
    WHERE job_id = @job_id AND status = 'running'
    RETURNING id`,
  hastenOne: `UPDATE jobs SET next_run_at = @now, updated_at = @now WHERE id = @id AND status = 'queued' AND next_run_at > @now`,
  hastenQueued: `UPDATE jobs SET next_run_at = @now, updated_at = @now WHERE status = 'queued' AND next_run_at > @now RETURNING id`,
  // The queued jobs whose last error may say their last attempt was cut off (cancelJobs keeps that: run-record.ts keepingCut).
  queuedLastErrors: `SELECT id, last_error FROM jobs WHERE status = 'queued' AND last_error IS NOT NULL`,
  cancelOne: `UPDATE jobs SET status = 'dead', lease_owner = NULL, lease_expires_at = NULL, claimed_at = NULL, last_error = @error,
      finished_at = @now, updated_at = @now
    WHERE id = @id AND status = 'queued'`,
  cancelQueued: `UPDATE jobs SET status = 'dead', lease_owner = NULL, lease_expires_at = NULL, claimed_at = NULL, last_error = @error,
      finished_at = @now, updated_at = @now
    WHERE status = 'queued'
    RETURNING id`,
  requeueOne: `UPDATE jobs SET status = 'queued', attempts = 0, next_run_at = @now, lease_owner = NULL,
      lease_expires_at = NULL, claimed_at = NULL, finished_at = NULL, updated_at = @now, replay_count = replay_count + 1,
      cancel_request = NULL, pinned_version = CASE WHEN @set_pin = 1 THEN @pin ELSE pinned_version END
    WHERE id = @id AND status IN ('failed', 'dead')`,
  requeueByStatus: `UPDATE jobs SET status = 'queued', attempts = 0, next_run_at = @now, lease_owner = NULL,
      lease_expires_at = NULL, claimed_at = NULL, finished_at = NULL, updated_at = @now, replay_count = replay_count + 1,
      cancel_request = NULL, pinned_version = CASE WHEN @set_pin = 1 THEN @pin ELSE pinned_version END
    WHERE status = @status
    RETURNING id`,
  ...COUNT_SQL,
  // On jobs_due (status, priority, next_run_at): a covering range over the queued entries.
  oldestDue: `SELECT MIN(next_run_at) AS at FROM jobs WHERE status = 'queued' AND next_run_at <= ?`,
  // While a scenario is paused: not its jobs, which wait as asked, not for a worker (this one reads the table too).
  anyPause: `SELECT 1 FROM paused_scenarios LIMIT 1`,

  upsertRun: `INSERT INTO runs (id, job_id, inbox_id, parent_run_id, scenario, version, trigger, status, attempt, worker_id,
      started_at, finished_at, duration_ms, params, return_values, error, trace, bpium_calls, mails, time_zone)
    VALUES (@id, @job_id, @inbox_id, @parent_run_id, @scenario, @version, @trigger, @status, @attempt, @worker_id,
      @started_at, @finished_at, @duration_ms, @params, @return_values, @error, @trace, @bpium_calls, @mails, @time_zone)
    ON CONFLICT (id) DO UPDATE SET job_id = excluded.job_id, inbox_id = excluded.inbox_id,
      parent_run_id = excluded.parent_run_id, scenario = excluded.scenario, version = excluded.version,
      trigger = excluded.trigger, status = excluded.status, attempt = excluded.attempt, worker_id = excluded.worker_id,
      started_at = excluded.started_at, finished_at = excluded.finished_at, duration_ms = excluded.duration_ms,
      params = excluded.params, return_values = excluded.return_values, error = excluded.error,
      trace = excluded.trace, bpium_calls = excluded.bpium_calls, mails = excluded.mails, time_zone = excluded.time_zone`,
  getRun: `SELECT * FROM runs WHERE id = ?`,
  // The lists' outcome (run-outcome.ts): return values, and of each letter only its recipients and status (its text
  // stays in the database). Letters that are not objects, and a mails column that is not a JSON array, give none.
  runOutcomes: `SELECT r.id AS id, r.return_values AS return_values,
      (SELECT json_group_array(json_object('to', m.value -> '$.to', 'status', m.value ->> '$.status'))
        FROM json_each(CASE WHEN NOT json_valid(r.mails) THEN '[]' WHEN json_type(r.mails) = 'array' THEN r.mails ELSE '[]' END) m
        WHERE m.type = 'object') AS letters
    FROM runs r WHERE r.id IN (SELECT value FROM json_each(?))`,

  getEffect: `SELECT outcome FROM effects WHERE run_key = ? AND step_key = ?`,
  putEffect: `INSERT INTO effects (run_key, step_key, outcome, recorded_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (run_key, step_key) DO UPDATE SET outcome = excluded.outcome, recorded_at = excluded.recorded_at`,
  clearEffects: `DELETE FROM effects WHERE run_key = ?`,

  ...PRUNE_SQL,
} as const;

/**
 * The statements an acknowledgement runs, as positional twins of their named ones (same SQL, `@name` → `?`): bound
 * from an array, without better-sqlite3 looking each of some fifty names up in a row object per webhook. `names`
 * says which row field goes where (a name used twice, `@now`, is listed twice).
 */
const POSITIONAL = ['insertInbox', 'upsertRun', 'insertJob'] as const;
type PositionalName = (typeof POSITIONAL)[number];

export interface PositionalStatement {
  statement: Database.Statement;
  names: readonly string[];
}

export type Statements = { readonly [K in keyof typeof SQL]: Database.Statement } & { readonly positional: { readonly [K in PositionalName]: PositionalStatement } };

/** The SQL with its named parameters made positional, and their names in order. */
export function positionalSql(sql: string): { sql: string; names: string[] } {
  const names: string[] = [];
  return { sql: sql.replace(/@(\w+)/g, (_m, name: string) => (names.push(name), '?')), names };
}

/**
 * The values in a positional statement's order: each name's from `given` when it has that name, else from `row`
 * (what `{ ...row, ...given }` bound by name would bind, without making that object). A name neither has is refused
 * as better-sqlite3 refuses it by name ("Missing named parameter"): bound by position it would be NULL, silently.
 */
export function positionalValues(p: PositionalStatement, row: object, given?: Readonly<Record<string, unknown>>): unknown[] {
  const names = p.names;
  const values = row as Readonly<Record<string, unknown>>;
  const out = new Array<unknown>(names.length);
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (given !== undefined && name in given) {
      out[i] = given[name];
      continue;
    }
    const value = values[name];
    // Only an undefined value is checked: the rows the store builds have every field, so this costs nothing there.
    if (value === undefined && !(name in values)) throw new RangeError(`Missing named parameter "${name}"`);
    out[i] = value;
  }
  return out;
}

export function prepareStatements(db: Database.Database): Statements {
  const out = {} as Record<keyof typeof SQL, Database.Statement>;
  for (const [name, sql] of Object.entries(SQL) as Array<[keyof typeof SQL, string]>) out[name] = db.prepare(sql);
  const positional = {} as Record<PositionalName, PositionalStatement>;
  for (const name of POSITIONAL) {
    const p = positionalSql(SQL[name]);
    positional[name] = { statement: db.prepare(p.sql), names: p.names };
  }
  return { ...out, positional };
}
