// Every SQL statement of the PostgreSQL store, by name; numbered parameters documented next to each.
// Each is sent as a named prepared statement, so PostgreSQL parses and plans it once per connection.

const JOB_COLUMNS = `id text, scenario text, params text, variables text, parent_run_id text, parent_block text, trigger text,
  inbox_id bigint, priority integer, max_attempts integer, run_at bigint, pinned_version text`;

const RUN_COLUMNS = `id text, job_id text, inbox_id bigint, parent_run_id text, scenario text, version text, trigger text,
  status text, attempt integer, worker_id text, started_at double precision, finished_at double precision,
  duration_ms double precision, params text,
  return_values text, error text, trace text, bpium_calls text, mails text, time_zone text`;

const RUN_UPDATE = `ON CONFLICT (id) DO UPDATE SET job_id = excluded.job_id, inbox_id = excluded.inbox_id,
  parent_run_id = excluded.parent_run_id, scenario = excluded.scenario, version = excluded.version,
  trigger = excluded.trigger, status = excluded.status, attempt = excluded.attempt, worker_id = excluded.worker_id,
  started_at = excluded.started_at, finished_at = excluded.finished_at, duration_ms = excluded.duration_ms,
  params = excluded.params, return_values = excluded.return_values, error = excluded.error, trace = excluded.trace,
  bpium_calls = excluded.bpium_calls, mails = excluded.mails, time_zone = excluded.time_zone`;

/** Inserts runs given as a JSON array of run rows; `$inbox` fills a missing inbox id. */
function insertRunsFrom(jsonParam: string, inboxExpr: string, from = ''): string {
  return `INSERT INTO runs (id, job_id, inbox_id, parent_run_id, scenario, version, trigger, status, attempt, worker_id,
      started_at, finished_at, duration_ms, params, return_values, error, trace, bpium_calls, mails, time_zone)
    SELECT r.id, r.job_id, COALESCE(r.inbox_id, ${inboxExpr}), r.parent_run_id, r.scenario, r.version, r.trigger, r.status,
      r.attempt, r.worker_id, round(r.started_at)::bigint, round(r.finished_at)::bigint, r.duration_ms, r.params, r.return_values, r.error, r.trace,
      r.bpium_calls, r.mails, r.time_zone
    FROM ${from}json_to_recordset(${jsonParam}::json) AS r(${RUN_COLUMNS})
    ${RUN_UPDATE}`;
}

/** Inserts jobs given as a JSON array of job rows; `$inbox` fills a missing inbox id, `$now` the times. */
function insertJobsFrom(jsonParam: string, inboxExpr: string, nowParam: string, from = ''): string {
  return `INSERT INTO jobs (id, scenario, params, variables, parent_run_id, parent_block, trigger, inbox_id, priority,
      attempts, max_attempts, next_run_at, status, pinned_version, created_at, updated_at)
    SELECT j.id, j.scenario, j.params, j.variables, j.parent_run_id, j.parent_block, j.trigger,
      COALESCE(j.inbox_id, ${inboxExpr}), j.priority, 0, j.max_attempts, COALESCE(j.run_at, ${nowParam}), 'queued',
      j.pinned_version, ${nowParam}, ${nowParam}
    FROM ${from}json_to_recordset(${jsonParam}::json) AS j(${JOB_COLUMNS})`;
}

const INBOX_VALUES = `received_at, method, path, hook_id, headers, body, remote_address, signature, dedup_key, run_id,
  response_status, response_body`;

export const PG_SQL = {
  /**
   * A request that is not a duplicate, with its hook run and jobs, in one round trip. Returns no row when the dedup
   * key already has an original (then nothing at all was written). $1..$12 inbox columns, $13 runs JSON, $14 jobs
   * JSON, $15 now.
   */
  recordOriginal: `WITH e AS (
      INSERT INTO inbox (${INBOX_VALUES}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
      ON CONFLICT (dedup_key) WHERE dedup_key IS NOT NULL AND duplicate_of IS NULL DO NOTHING
      RETURNING id
    ), r AS (${insertRunsFrom('$13', 'e.id', 'e, ')}
    ), j AS (${insertJobsFrom('$14', 'e.id', '$15::bigint', 'e, ')}
    )
    SELECT id FROM e`,
  /**
   * A duplicate: stored as its own row pointing at the original, counted on the original. Returns no row if the
   * original vanished meanwhile (pruned). $1..$12 inbox columns ($9 the dedup key).
   */
  recordDuplicate: `WITH o AS (
      SELECT id, response_status, response_body, run_id FROM inbox WHERE dedup_key = $9 AND duplicate_of IS NULL
    ), b AS (
      UPDATE inbox SET duplicates = duplicates + 1 WHERE id IN (SELECT id FROM o)
    ), d AS (
      INSERT INTO inbox (${INBOX_VALUES}, duplicate_of)
      SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, o.id FROM o
      RETURNING id
    )
    SELECT o.id, o.response_status, o.response_body, o.run_id, d.id AS duplicate_id FROM o, d`,
  /** $1 runs JSON, $2 inbox id for runs without one. */
  upsertRuns: insertRunsFrom('$1', '$2::bigint'),
  /** $1 jobs JSON, $2 inbox id for jobs without one, $3 now. */
  insertJobs: insertJobsFrom('$1', '$2::bigint', '$3::bigint'),
  findOriginal: `SELECT id, response_status, response_body, run_id FROM inbox WHERE dedup_key = $1 AND duplicate_of IS NULL`,
  /** The originals of several dedup keys ($1 text[]) in one read: each row names its key. */
  findOriginals: `SELECT dedup_key, id, response_status, response_body, run_id FROM inbox WHERE dedup_key = ANY($1::text[]) AND duplicate_of IS NULL`,
  getInbox: `SELECT * FROM inbox WHERE id = $1`,
  answeredStatuses: `SELECT e.id AS id, COALESCE(o.response_status, e.response_status) AS status FROM inbox e
    LEFT JOIN inbox o ON o.id = e.duplicate_of WHERE e.id = ANY($1::bigint[])`,

  getJob: `SELECT * FROM jobs WHERE id = $1`,
  jobStates: `SELECT id, status, last_run_id, attempts, max_attempts, next_run_at FROM jobs WHERE id = ANY($1::text[])`,
  /** Jobs whose worker stopped renewing: locked so exactly one claimer deals with each. $1 now. */
  // Not the claimer's own: a pool still holds those (it waits to record their end through a store outage).
  lockExpired: `SELECT *, attempts >= max_attempts AS last FROM jobs
    WHERE status = 'running' AND lease_expires_at <= $1 AND lease_owner IS DISTINCT FROM $2
      AND (attempts >= max_attempts OR scenario NOT IN (SELECT scenario FROM paused_scenarios WHERE until IS NULL OR until > $1))
    ORDER BY priority DESC, next_run_at
    FOR UPDATE SKIP LOCKED`,
  /** $1 job ids, $2 error JSON, $3 now. */
  failRunsOfJobs: `UPDATE runs SET status = 'failed', error = $2, finished_at = $3, duration_ms = $3 - started_at
    WHERE job_id = ANY($1::text[]) AND status = 'running'
    RETURNING id, job_id`,
  /** $1 job ids, $2 error JSON, $3 now. */
  buryJobs: `UPDATE jobs SET status = 'dead', lease_owner = NULL, lease_expires_at = NULL, claimed_at = NULL, last_error = $2,
      finished_at = $3, updated_at = $3
    WHERE id = ANY($1::text[])`,
  /**
   * Takes over expired leases already locked by this transaction. $1 ids, $2 worker, $3 expires, $4 now, $5 the error
   * of the attempt cut off (the new one's effects may repeat its last: delivery/attempt-journal.ts).
   */
  claimIds: `UPDATE jobs SET attempts = attempts + 1, lease_owner = $2, lease_expires_at = $3, claimed_at = $4, updated_at = $4,
      last_error = $5
    WHERE id = ANY($1::text[])
    RETURNING *`,
  /**
   * Due queued jobs, highest priority first, skipping rows other instances are taking and the jobs of a paused scenario
   * (store/scenario-pause.ts). $1 worker, $2 expires, $3 now, $4 limit.
   */
  claimQueued: `WITH due AS (
      SELECT id FROM jobs WHERE status = 'queued' AND next_run_at <= $3
        AND scenario NOT IN (SELECT scenario FROM paused_scenarios WHERE until IS NULL OR until > $3)
      ORDER BY priority DESC, next_run_at
      LIMIT $4
      FOR UPDATE SKIP LOCKED
    )
    UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = $1, lease_expires_at = $2, claimed_at = $3,
      updated_at = $3
    FROM due WHERE jobs.id = due.id
    RETURNING jobs.*`,
  /** $1 ids, $2 worker, $3 expires, $4 now. */
  extendLeases: `UPDATE jobs SET lease_expires_at = $3, updated_at = $4
    WHERE id = ANY($1::text[]) AND status = 'running' AND lease_owner = $2
    RETURNING id`,
  /** $1 ids, $2 worker, $3 now. */
  releaseJobs: `UPDATE jobs SET status = 'queued', attempts = attempts - 1, lease_owner = NULL, lease_expires_at = NULL, claimed_at = NULL,
      updated_at = $3, last_error = COALESCE($4, last_error)
    WHERE id = ANY($1::text[]) AND status = 'running' AND lease_owner = $2
    RETURNING id`,
  /** $1 id, $2 worker, $3 now, $4 run id. */
  completeJob: `UPDATE jobs SET status = 'succeeded', lease_owner = NULL, lease_expires_at = NULL, claimed_at = NULL, finished_at = $3,
      updated_at = $3, last_run_id = COALESCE($4, last_run_id)
    WHERE id = $1 AND status = 'running' AND lease_owner = $2`,
  /** $1 id, $2 worker. */
  ownedJob: `SELECT attempts, max_attempts, cancel_request, replay_count FROM jobs WHERE id = $1 AND status = 'running' AND lease_owner = $2 FOR UPDATE`,
  /**
   * $1 ids, $2 request JSON, $3 now: running jobs without a request, locked in id order (as the bulk statements below).
   * The request names the job's replay_count: one an older build's replay left behind is none (cancel-request.ts).
   */
  requestCancel: `WITH chosen AS (
      SELECT id FROM jobs WHERE id = ANY($1::text[]) AND status = 'running'
        AND (cancel_request IS NULL OR (cancel_request::json ->> 'replay')::bigint <> replay_count) ORDER BY id FOR UPDATE
    )
    UPDATE jobs SET cancel_request = jsonb_set($2::jsonb, '{replay}', to_jsonb(jobs.replay_count))::text, updated_at = $3
    FROM chosen WHERE jobs.id = chosen.id RETURNING jobs.id`,
  /** $1 ids, $2 worker. */
  cancelRequests: `SELECT id, cancel_request, replay_count FROM jobs WHERE id = ANY($1::text[]) AND status = 'running' AND lease_owner = $2
    AND cancel_request IS NOT NULL`,
  /** $1 id, $2 error, $3 now, $4 run id, $5 next run at. */
  retryJob: `UPDATE jobs SET status = 'queued', next_run_at = $5, lease_owner = NULL, lease_expires_at = NULL, claimed_at = NULL,
      last_error = $2, updated_at = $3, last_run_id = COALESCE($4, last_run_id)
    WHERE id = $1`,
  /** $1 id, $2 error, $3 now, $4 run id, $5 status. */
  finishJob: `UPDATE jobs SET status = $5, lease_owner = NULL, lease_expires_at = NULL, claimed_at = NULL, last_error = $2,
      finished_at = $3, updated_at = $3, last_run_id = COALESCE($4, last_run_id)
    WHERE id = $1`,
  /** $1 id, $2 error JSON: a dead job's error naming its dead-letter catch-all. */
  setLastError: `UPDATE jobs SET last_error = $2 WHERE id = $1`,
  /** Single instance only: the jobs a stopped server left running. */
  runningJobs: `SELECT * FROM jobs WHERE status = 'running'`,
  /** $1 JSON array of { id, run_id }: each job's last run. */
  setLastRuns: `UPDATE jobs SET last_run_id = x.run_id
    FROM jsonb_to_recordset($1::jsonb) AS x(id text, run_id text) WHERE jobs.id = x.id`,
  /** Single instance only. $1 now, $2 error. */
  buryOrphans: `UPDATE jobs SET status = 'dead', lease_owner = NULL, lease_expires_at = NULL, claimed_at = NULL, last_error = $2,
      finished_at = $1, updated_at = $1
    WHERE status = 'running' AND attempts >= max_attempts`,
  requeueOrphans: `UPDATE jobs SET status = 'queued', next_run_at = $1, lease_owner = NULL, lease_expires_at = NULL, claimed_at = NULL,
      last_error = $2, updated_at = $1
    WHERE status = 'running'`,
  failRunningRuns: `UPDATE runs SET status = 'failed', error = $2, finished_at = $1, duration_ms = $1 - started_at
    WHERE status = 'running'`,
  // The bulk statements on queued, dead and failed jobs (hasten, cancel, requeue) lock their rows first, in id order,
  // in a statement of their own or a CTE, and touch no other row afterwards: two of them at once (replay --status
  // queued and cancel --status queued, two cancels) then wait for each other instead of deadlocking, which cost
  // deadlock_timeout (1 s) and a run of the whole batch again, each time. Claims skip locked rows (SKIP LOCKED).
  /** $1 ids or null (every queued job), $2 now. */
  hasten: `WITH due AS (
      SELECT id FROM jobs WHERE status = 'queued' AND next_run_at > $2 AND ($1::text[] IS NULL OR id = ANY($1::text[]))
      ORDER BY id
      FOR UPDATE
    )
    UPDATE jobs SET next_run_at = $2, updated_at = $2 FROM due WHERE jobs.id = due.id RETURNING jobs.id`,
  /**
   * $1 ids or null (every queued job): the queued jobs cancelJobs takes, locked in id order, with their last errors
   * (one may say its last attempt was cut off). Locked, none can be claimed, given back or failed until the cancel
   * commits, so the errors read are those the jobs have when they are cancelled.
   */
  queuedLastErrors: `SELECT id, last_error FROM jobs WHERE status = 'queued' AND ($1::text[] IS NULL OR id = ANY($1::text[]))
    ORDER BY id
    FOR UPDATE`,
  /**
   * $1 ids that queuedLastErrors locked, $2 now, $3 error JSON. Only those: a job queued since (given back or retried
   * by another instance, enqueued) is not taken, nor locked out of the id order.
   */
  cancel: `UPDATE jobs SET status = 'dead', lease_owner = NULL, lease_expires_at = NULL, claimed_at = NULL, last_error = $3,
      finished_at = $2, updated_at = $2
    WHERE id = ANY($1::text[]) AND status = 'queued' RETURNING id`,
  /** $1 ids or null, $2 status or null, $3 now, $4 set the pin?, $5 pin. */
  requeue: `WITH chosen AS (
      SELECT id FROM jobs
      WHERE status IN ('failed', 'dead') AND ($1::text[] IS NULL OR id = ANY($1::text[])) AND ($2::text IS NULL OR status = $2)
      ORDER BY id
      FOR UPDATE
    )
    UPDATE jobs SET status = 'queued', attempts = 0, next_run_at = $3, lease_owner = NULL,
      lease_expires_at = NULL, claimed_at = NULL, finished_at = NULL, updated_at = $3, replay_count = replay_count + 1,
      cancel_request = NULL, pinned_version = CASE WHEN $4::boolean THEN $5 ELSE pinned_version END
    FROM chosen WHERE jobs.id = chosen.id
    RETURNING jobs.id`,
  // Counts for /-/metrics and the console, from every instance at every scrape: a small table's statuses all in one
  // statement (one snapshot: a job stored between two statements would be counted as succeeded); a large one's few
  // statuses exactly, on the status indexes (a range each), and its bulk (succeeded jobs, completed runs) PostgreSQL's
  // estimate of its rows less them (counts() in postgres.store.ts), so that no count reads every row a month of
  // retention keeps.
  countJobs: `SELECT status, COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running', 'failed', 'dead') GROUP BY status`,
  countJobsEvery: `SELECT status, COUNT(*) AS n FROM jobs GROUP BY status`,
  /** $1 now. On the partial index jobs_queued. */
  // Not the jobs of a paused scenario: they wait as asked, not for a worker.
  oldestDue: `SELECT MIN(next_run_at) AS at FROM jobs WHERE status = 'queued' AND next_run_at <= $1
    AND scenario NOT IN (SELECT scenario FROM paused_scenarios WHERE until IS NULL OR until > $1)`,

  getRun: `SELECT * FROM runs WHERE id = $1`,
  /** $1 run ids. The lists' outcome (run-outcome.ts): return values, and of each letter its recipients and status only. */
  runOutcomes: `SELECT r.id, r.return_values,
      (SELECT json_agg(json_build_object('to', m -> 'to', 'status', m ->> 'status'))
        FROM json_array_elements(CASE WHEN json_typeof(r.mails::json) = 'array' THEN r.mails::json ELSE '[]'::json END) m
        WHERE json_typeof(m) = 'object')::text AS letters
    FROM runs r WHERE r.id = ANY($1::text[])`,
  /** $1 run ids. runOutcomes' fallback when PostgreSQL's json refuses a run's mails: the letters are reduced in JavaScript. */
  runOutcomesWhole: `SELECT id, return_values, mails FROM runs WHERE id = ANY($1::text[])`,
  countRuns: `SELECT status, COUNT(*) AS n FROM runs WHERE status IN ('running', 'failed') GROUP BY status`,
  countRunsEvery: `SELECT status, COUNT(*) AS n FROM runs GROUP BY status`,
  countInbox: `SELECT COUNT(*) AS total, COUNT(duplicate_of) AS duplicates FROM inbox`,
  /**
   * PostgreSQL's own estimate of each table's rows, as its planner makes it: the rows per page its statistics last
   * saw (VACUUM and ANALYZE, autovacuum's included) times the pages the table has now; null when never measured. With
   * the share of inbox rows that are duplicates, from ANALYZE's sample of the table's own rows (a table with
   * inheritance children has a second row of statistics, over them too).
   */
  estimateRows: `SELECT c.relname AS name,
      CASE WHEN c.reltuples < 0 OR c.relpages <= 0 THEN NULL
        ELSE c.reltuples / c.relpages * (pg_relation_size(c.oid) / current_setting('block_size')::bigint) END AS n,
      (SELECT 1 - s.null_frac FROM pg_stats s WHERE s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = 'duplicate_of' AND NOT s.inherited) AS duplicate_share
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid IN ('jobs'::regclass, 'runs'::regclass, 'inbox'::regclass)`,

  getEffect: `SELECT outcome FROM effects WHERE run_key = $1 AND step_key = $2`,
  putEffect: `INSERT INTO effects (run_key, step_key, outcome, recorded_at) VALUES ($1, $2, $3, $4)
    ON CONFLICT (run_key, step_key) DO UPDATE SET outcome = excluded.outcome, recorded_at = excluded.recorded_at`,
  clearEffects: `DELETE FROM effects WHERE run_key = ANY($1::text[])`,

  /** $1 cutoff, $2 chunk. */
  // The entry of a job still queued or running is kept (its dedup key too), as in the SQLite store.
  // NOT EXISTS (an anti-join) rather than NOT IN, whose plan may turn into a scan per row when many jobs wait.
  pruneInbox: `DELETE FROM inbox WHERE id IN (SELECT i.id FROM inbox i WHERE i.received_at < $1
      AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.inbox_id = i.id AND j.status IN ('queued', 'running')) LIMIT $2)`,
  // The last run of a dead letter (a failed or dead job) is kept with it; so are the runs and the parent run of a
  // job still queued or running.
  pruneRuns: `DELETE FROM runs WHERE id IN (SELECT r.id FROM runs r
    WHERE r.started_at < $1 AND r.status <> 'running' AND r.finished_at < $1
      AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.last_run_id = r.id AND j.status IN ('failed', 'dead'))
      AND (r.job_id IS NULL OR NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = r.job_id AND j.status IN ('queued', 'running')))
      AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.parent_run_id = r.id AND j.status IN ('queued', 'running')) LIMIT $2)`,
  pruneJobs: `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs
    WHERE finished_at IS NOT NULL AND finished_at < $1 AND status = 'succeeded' LIMIT $2)`,
  // Its rows are locked in the subquery, which re-checks a row changed since the statement began (READ COMMITTED
  // re-checks only the outer WHERE, `id IN (…)`, so a dead letter a replay requeued meanwhile was deleted), and
  // skips those another transaction holds (a replay, a cancel): no waiting on them, and no lock order against theirs.
  pruneDeadLetters: `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs
    WHERE finished_at IS NOT NULL AND finished_at < $1 AND status IN ('failed', 'dead') LIMIT $2 FOR UPDATE SKIP LOCKED)
    AND status IN ('failed', 'dead')
    RETURNING id`,
  pruneEffects: `DELETE FROM effects WHERE (run_key, step_key) IN (SELECT e.run_key, e.step_key FROM effects e
    WHERE e.recorded_at < $1 AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.id = e.run_key) LIMIT $2)`,
} as const;

export type PgStatementName = keyof typeof PG_SQL;
