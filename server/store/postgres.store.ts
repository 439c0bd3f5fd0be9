// The Store on PostgreSQL, shared by several server processes: SKIP LOCKED claims under leases, grouped commits.
import { PAUSE_SQL, pauseFromRow, type PauseInput, type PauseRow, type ScenarioPause } from './scenario-pause.js';
import { outcomeLetters, type RunOutcomeSource } from '../run-outcome.js';
import pg from 'pg';
import type { EffectJournalPort } from '../../engine/ports.js';
import type { JsonValue } from '../../engine/values.js';
import { keepingCut, keepingCutOfText, LEASE_LOST, lostAttemptRun, PROCESS_STOPPED } from '../run-record.js';
import { DEFAULT_BACKOFF, decideRetry, type BackoffPolicy } from './backoff.js';
import { clockOffsetOf, type ClockOffset } from './clock-skew.js';
import { classifyPgError, PgConnections, PgWriteBatcher, withAnswerBound, type PgOp, type RefusalSpell } from './postgres.batcher.js';
import { applyPgMigrations, checkPgSchema } from './postgres.migrations.js';
import type { SchemaMigrated } from './migrated.js';
import { pgSchemaProblem } from './postgres.url.js';
import { PG_SQL, type PgStatementName } from './postgres.sql.js';
import { newSortableId } from './sortable-id.js';
import { catchAllJob, catchAllOn, errorNamingCatchAll, tellBuried, type BuriedJob, type DeadLetterCatchAll, type GivenUp } from './dead-letter.js';
import { buriedByCancel, cancelledWhileRunning, cancelRequestJson, cancelRequestOf, type CancelRequest } from './cancel-request.js';
import {
  encodeCursor,
  fromJson,
  answeredMap,
  jobStateMap,
  type JobStateRow,
  inboxFromRow,
  page,
  pageLimit,
  jobFromRow,
  jobParams,
  runFromRow,
  runOutcomeMap,
  notCountedRun,
  runParams,
  runSummaryFromRow,
  scannedRuns,
  RUN_SUMMARY_COLUMNS,
  toBuffer,
  toJson,
  journalRows,
  type InboxRow,
  type JobParams,
  type JobRow,
  type DedupLookup,
  type OriginalRow,
  originalFromRow,
  keyRangeEnd,
  type RunRow,
} from './sqlite.rows.js';
import { jobPageSql, latestScheduledJobSql, pageSql, queuedJobsSql, runFilters } from './page.sql.js';
import { closedError, StoreUnavailableError, StoreUsageError } from './store.errors.js';
import {
  JOB_STATUSES,
  RUN_STATUSES,
  type AttemptOutcome,
  type FailJobInput,
  type FailJobResult,
  type DeliveryOriginal,
  type InboxEntry,
  type JobRecord,
  type JobState,
  type JournalEntry,
  type ListJobsQuery,
  type ListRunsQuery,
  type NewJob,
  type Page,
  type PruneOptions,
  type PruneResult,
  type RecordRequestInput,
  type RecordRequestResult,
  type RecoverResult,
  type RequeueOptions,
  type RequeueSelector,
  type RunRecord,
  type RunSummary,
  type RunWrite,
  type Store,
  type StoreClock,
  type StoreCounts,
  type StoreStats,
  type TaskDueInput,
  type TaskDueRecord,
} from './store.port.js';
import type { ScannedRun } from '../run-search.js';
import { emptyPruneResult, noteDeadLetters, pruneCutoffs } from './prune.js';
import { TASK_SQL, taskDueFromRow, type TaskRunRow } from './task-runs.sql.js';

export interface PostgresStoreOptions {
  /**
   * `postgres://user:password@host:5432/database`, optionally with `?schema=name` to keep the tables in that schema
   * (created if missing) instead of the first of the role's search_path (normally `public`).
   */
  url: string;
  /** Overrides the `schema` of the URL. */
  schema?: string;
  clock?: StoreClock;
  /**
   * The time zone this instance runs jobs in (the server's OKTELL_TZ, else the configuration's `timeZone`): the run
   * the store writes for an attempt whose worker vanished (its lease expired, or the process was stopped) names it,
   * as the runs its workers record do. Absent: such a run names no zone (read in the reader's own).
   */
  timeZone?: string;
  /** Attempts of a job unless the job says otherwise. Default 5. */
  defaultMaxAttempts?: number;
  backoff?: BackoffPolicy;
  random?: () => number;
  /** Connections of this process. Default 8: two write transactions in flight, the rest for reads. */
  poolSize?: number;
  /** Most write calls per transaction. Default 1000. */
  maxBatch?: number;
  /** Write transactions in flight at once. Default 2. */
  maxInFlight?: number;
  /** How long to wait for a connection before a call fails as unavailable. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** The server cancels a statement running longer than this (it then fails as `busy`). Default 30 000 ms. */
  statementTimeoutMs?: number;
  /**
   * A statement waiting this long for a lock another session holds (a `LOCK TABLE jobs`, a long transaction of a
   * maintenance script) fails as `busy` (55P03), so a webhook waiting on it is answered `503` with `Retry-After` within
   * this bound instead of the statement timeout's, which a write queued behind another such write could wait twice.
   * Default 10 000 ms; 0: no bound of its own. Migrations lift it (they wait for the other instances' transactions).
   */
  lockTimeoutMs?: number;
  /**
   * A call whose connection hears nothing from the database for this long (a network partition that drops packets,
   * a host gone without a word) closes that connection and fails as `io`, as a lost connection does, instead of
   * waiting for ever. Default the statement timeout plus 5000 ms, and none with no statement timeout (0: a statement
   * may then run as long as it needs, answering nothing meanwhile). 0: none.
   */
  noAnswerMs?: number;
  newId?: () => string;
  /**
   * The dead-letter catch-all: this scenario is enqueued, in the transaction that makes a job dead or failed for good,
   * with what became of it as its input parameters (dead-letter.ts). Absent: none.
   */
  catchAll?: DeadLetterCatchAll;
  /** Shown in pg_stat_activity. Default `oktell-emu`. */
  applicationName?: string;
  /**
   * Default true: create the schema and apply migrations (a server starting). false: change nothing, and refuse a
   * schema that is missing or not at this build's version (`PgSchemaNotReadyError`): what the CLI opens.
   */
  migrate?: boolean;
  /**
   * A table PostgreSQL estimates at fewer rows than this has its total counted for counts(); a larger one's total (and
   * so the succeeded jobs, the completed runs, the inbox and its duplicates) is the estimate. Default 10 000.
   */
  exactCountBelow?: number;
}

/** Up to this many rows a count of a whole table costs little (a few ms); past it, counts() takes PostgreSQL's estimate. */
export const PG_EXACT_COUNT_BELOW = 10_000;

const PRUNE_CHUNK = 5000;

/** BIGINT (times in epoch ms, ids) as JavaScript numbers: every value the store writes is below 2^53. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** Tells a PostgreSQL store URL from anything else (a SQLite path, a typo). */
export function isPostgresUrl(value: string | undefined): value is string {
  return typeof value === 'string' && /^postgres(ql)?:\/\//i.test(value.trim());
}

/** The URL with its passwords masked, for logs. */
export { redactPostgresUrl } from './postgres.url.js';

/**
 * Connects, creates the schema if a `schema` is named, applies migrations (serialised among instances by an advisory
 * lock) and returns the store. Rejects with `StoreUnavailableError` when the database cannot be reached.
 *
 * @example
 *   const store = await openPostgresStore({ url: 'postgres://oktell:pw@db:5432/oktell?schema=oktell' });
 *   // no recoverOrphans() with several instances: expired leases hand a dead instance's jobs to the others
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const { connectionString, schema } = splitSchema(options.url, options.schema);
  const pool = new pg.Pool({
    connectionString,
    max: options.poolSize ?? 8,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    lock_timeout: options.lockTimeoutMs ?? 10_000,
    // A frozen process must not hold row locks (and so other instances' claims) for ever.
    idle_in_transaction_session_timeout: 60_000,
    keepAlive: true,
    application_name: options.applicationName ?? 'oktell-emu',
    types: TYPES,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle connection that breaks (server restart) emits 'error'; the next call gets a fresh one.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  // Watching from the first connection on: the opening one, idle in the pool afterwards, is one of those closed when
  // the database goes silent.
  const connections = new PgConnections(pool, answeredWithin(options));
  let migrated: SchemaMigrated | undefined;
  try {
    const client = await pool.connect();
    try {
      if (options.migrate === false) await checkPgSchema(client, schema);
      else {
        if (schema) await createSchema(client, schema);
        migrated = await applyPgMigrations(client, undefined, (options.clock ?? Date).now());
      }
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw classifyPgError(err);
  }
  return new PostgresStore(pool, options, schema, migrated, connections);
}

async function createSchema(client: pg.PoolClient, schema: string): Promise<void> {
  // Two instances creating it at once: the loser's unique violation means it exists now, which is all we want.
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } catch (err) {
    if ((err as { code?: string }).code !== '23505' && (err as { code?: string }).code !== '42P06') throw err;
  }
}

function splitSchema(url: string, override: string | undefined): { connectionString: string; schema: string | undefined } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StoreUsageError('the PostgreSQL store URL is not a URL (expected postgres://user:password@host:5432/database)');
  }
  const schema = override ?? (u.searchParams.get('schema') || undefined);
  u.searchParams.delete('schema');
  const problem = schema !== undefined ? pgSchemaProblem(schema) : undefined;
  if (problem) throw new StoreUsageError(problem);
  return { connectionString: u.toString(), schema };
}

/**
 * How long a call may hear nothing before its connection is given up (`PostgresStoreOptions.noAnswerMs`): as given,
 * else the statement timeout plus 5 s; 0 (none) when statements have no timeout, since a long one answers nothing
 * until it ends.
 */
export function noAnswerBound(o: Pick<PostgresStoreOptions, 'noAnswerMs' | 'statementTimeoutMs'>): number {
  if (o.noAnswerMs !== undefined) return o.noAnswerMs;
  const statement = o.statementTimeoutMs ?? 30_000;
  return statement > 0 ? statement + 5000 : 0;
}

/**
 * How long before a silence is found a connection that heard the database proves to work (`PgConnections`): the
 * silence bound less the statement timeout (5 s by default), when both are set and the bound is the longer.
 */
export function answeredWithin(o: Pick<PostgresStoreOptions, 'noAnswerMs' | 'statementTimeoutMs'>): number {
  const statement = o.statementTimeoutMs ?? 30_000;
  const bound = noAnswerBound(o);
  return statement > 0 && bound > statement ? bound - statement : 0;
}

/** The error a job is buried with when its lease expired during its last attempt. */
const LEASE_LOST_LAST = { code: LEASE_LOST.code, message: `${LEASE_LOST.message} during the last attempt` };

/**
 * Whether a claim may take over a lease that expired at `expiresAt`, renewed last at `renewedAt` (the row's
 * `updated_at`), given the spells in which the database refused this store's writes: at once when none came since that
 * renewal; else once the database has taken writes for `graceMs` since the expiry (the time of the spells not counted).
 */
export function takeoverDue(spells: readonly RefusalSpell[], renewedAt: number, expiresAt: number, now: number, graceMs: number): boolean {
  let refusedSinceRenewal = false;
  let refusedMs = 0;
  for (const s of spells) {
    const end = Math.min(s.end ?? now, now);
    if (end < renewedAt) continue;
    refusedSinceRenewal = true;
    refusedMs += Math.max(0, end - Math.max(s.start, expiresAt));
  }
  return !refusedSinceRenewal || now - expiresAt - refusedMs >= graceMs;
}

/** Whether text compares by code point in the database's collation: upper case before lower, punctuation weighed. */
const CODE_POINT_ORDER_SQL = `SELECT ('B' < 'a' AND 'a@b' < 'aA' AND 'a/' < 'a0' AND 'a' < 'a/') AS ordered`;
/** Originals whose key begins with $1, through their index: the keys from it to it + U+10FFFF ($2); $3 the most. */
const DELIVERIES_BY_RANGE_SQL = `SELECT id, dedup_key FROM inbox WHERE dedup_key >= $1 AND dedup_key < $2 AND duplicate_of IS NULL ORDER BY id LIMIT $3`;
/** The same under a collation that is not code point order: by the key's beginning, reading every original's key. */
const DELIVERIES_BY_PREFIX_SQL = `SELECT id, dedup_key FROM inbox WHERE starts_with(dedup_key, $1) AND duplicate_of IS NULL ORDER BY id LIMIT $2`;

export class PostgresStore implements Store {
  readonly effects: EffectJournalPort;
  private readonly batcher: PgWriteBatcher;
  private readonly clock: StoreClock;
  private readonly backoff: BackoffPolicy;
  private readonly random: () => number;
  private readonly defaultMaxAttempts: number;
  /** PostgresStoreOptions.timeZone: named by the runs written for lost attempts. */
  private readonly timeZone: string | undefined;
  private readonly newId: () => string;
  private readonly catchAll: DeadLetterCatchAll | undefined;
  private readonly exactCountBelow: number;
  /** `PostgresStoreOptions.noAnswerMs`, resolved. */
  private readonly noAnswerMs: number;
  private closed = false;
  /** Whether the database's collation orders text by code point (see deliveriesByKeyPrefix), once asked. */
  private codePointKeys: Promise<boolean> | undefined;
  /** Delivery look-ups asked in this turn of the event loop (see findByDedupKey). */
  private lookups: DedupLookup[] | undefined;

  constructor(
    private readonly pool: pg.Pool,
    o: PostgresStoreOptions,
    /** The schema holding the tables, when one was named. */
    readonly schema: string | undefined,
    /** What this open did to the schema (the server's start log says it); undefined when opened without migrating. */
    readonly migrated: SchemaMigrated | undefined,
    /** Where its calls take their connections: watching the pool from its first connection on (openPostgresStore). */
    private readonly connections: PgConnections,
  ) {
    this.clock = o.clock ?? { now: () => Date.now() };
    this.backoff = o.backoff ?? DEFAULT_BACKOFF;
    this.random = o.random ?? Math.random;
    this.defaultMaxAttempts = o.defaultMaxAttempts ?? 5;
    this.timeZone = o.timeZone;
    this.newId = o.newId ?? (() => newSortableId(this.clock.now()));
    this.catchAll = o.catchAll;
    this.exactCountBelow = o.exactCountBelow ?? PG_EXACT_COUNT_BELOW;
    this.noAnswerMs = noAnswerBound(o);
    this.batcher = new PgWriteBatcher(pool, { now: () => this.clock.now(), ...(o.maxBatch ? { maxBatch: o.maxBatch } : {}), ...(o.maxInFlight ? { maxInFlight: o.maxInFlight } : {}), noAnswerMs: this.noAnswerMs, connections: this.connections });
    this.effects = {
      get: async (runKey, stepKey) => {
        const row = (await this.read<{ outcome: string }>('getEffect', [runKey, stepKey]))[0];
        return row ? fromJson(row.outcome) : undefined;
      },
      put: (runKey, stepKey, outcome) => this.putEffectGroup([{ runKey, stepKey, outcome }]),
    };
  }

  // ----- inbox -------------------------------------------------------------------------------------------------

  async recordRequest(input: RecordRequestInput): Promise<RecordRequestResult> {
    const e = input.inbox;
    const values = [
      e.receivedAt,
      e.method,
      e.path,
      e.hookId ?? null,
      pgText(e.headers),
      toBuffer(e.body),
      e.remoteAddress ?? null,
      e.signature,
      e.dedupKey,
      input.run?.id ?? null,
      e.response?.status ?? null,
      e.response?.body == null ? null : pgText(e.response.body),
    ];
    const runs = input.run ? JSON.stringify([runParams(input.run)]) : '[]';
    const jobs = this.prepareJobs(input.jobs ?? []);
    const jobsJson = JSON.stringify(jobs);
    return this.write(async (c): Promise<RecordRequestResult> => {
      // The original may be pruned between a conflict and the look-up: then the key is free again, so try anew.
      for (let tries = 0; tries < 3; tries++) {
        const inserted = await exec<{ id: number }>(c, 'recordOriginal', [...values, runs, jobsJson, this.clock.now()]);
        if (inserted.rows[0]) return { duplicate: false, inboxId: inserted.rows[0].id, jobIds: jobs.map((j) => j.id) };
        const dup = await exec<{ id: number; response_status: number | null; response_body: string | null; run_id: string | null; duplicate_id: number }>(c, 'recordDuplicate', values);
        const d = dup.rows[0];
        if (!d) continue;
        if (input.run) await exec(c, 'upsertRuns', [runs, d.duplicate_id]);
        return {
          duplicate: true,
          inboxId: d.id,
          duplicateEntryId: d.duplicate_id,
          original: { responseStatus: d.response_status, responseBody: d.response_body, runId: d.run_id },
          jobIds: [],
        };
      }
      throw new Error(`dedup key ${e.dedupKey} neither inserts nor finds its original`);
    });
  }

  /**
   * Look-ups asked in one turn of the event loop are made together on the next `setImmediate`, in one query on one
   * pooled connection: a webhook flood asks one per request, and each alone took a connection and a round trip. A
   * look-up made later than asked sees every commit made before it was asked, and maybe more, never less. The
   * batch's error (the database silent or gone) goes to each of its callers.
   */
  findByDedupKey(dedupKey: string): Promise<DeliveryOriginal | undefined> {
    if (this.closed) return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      if (this.lookups === undefined) {
        this.lookups = [];
        setImmediate(() => void this.runLookups());
      }
      this.lookups.push({ key: dedupKey, resolve, reject });
    });
  }

  /** Makes the look-ups asked so far (see findByDedupKey). */
  private async runLookups(): Promise<void> {
    const batch = this.lookups;
    this.lookups = undefined;
    if (batch === undefined || batch.length === 0) return;
    let rows: Array<OriginalRow & { dedup_key: string }>;
    try {
      rows = batch.length === 1
        ? (await this.read<OriginalRow>('findOriginal', [batch[0]!.key])).map((r) => ({ ...r, dedup_key: batch[0]!.key }))
        : await this.read<OriginalRow & { dedup_key: string }>('findOriginals', [[...new Set(batch.map((l) => l.key))]]);
    } catch (err) {
      for (const l of batch) l.reject(err);
      return;
    }
    const byKey = new Map(rows.map((r) => [r.dedup_key, r]));
    for (const l of batch) {
      const row = byKey.get(l.key);
      l.resolve(row ? originalFromRow(row) : undefined);
    }
  }

  async deliveriesByKeyPrefix(keyPrefix: string, limit: number): Promise<Array<{ id: number; dedupKey: string }>> {
    if (keyPrefix === '') return [];
    // The index of original keys is in the database's collation: the keys that begin with a prefix are a range of it
    // only when that orders by code point (C, POSIX, C.UTF-8). A language's collation (en_US.UTF-8 weighs letters
    // before punctuation) would leave keys out of the range: they are then read by their beginning, without the index.
    this.codePointKeys ??= this.readSql<{ ordered: boolean }>(CODE_POINT_ORDER_SQL, []).then((r) => r[0]?.ordered === true);
    let ordered: boolean;
    try {
      ordered = await this.codePointKeys;
    } catch (e) {
      this.codePointKeys = undefined;
      throw e;
    }
    const rows = ordered
      ? await this.readSql<{ id: string | number; dedup_key: string }>(DELIVERIES_BY_RANGE_SQL, [keyPrefix, keyRangeEnd(keyPrefix), limit])
      : await this.readSql<{ id: string | number; dedup_key: string }>(DELIVERIES_BY_PREFIX_SQL, [keyPrefix, limit]);
    return rows.filter((r) => r.dedup_key.startsWith(keyPrefix)).map((r) => ({ id: Number(r.id), dedupKey: r.dedup_key }));
  }

  async getInboxEntry(id: number): Promise<InboxEntry | undefined> {
    if (!Number.isSafeInteger(id)) return undefined;
    const row = (await this.read<InboxRow>('getInbox', [id]))[0];
    return row ? inboxFromRow(row) : undefined;
  }

  async answeredStatuses(ids: readonly number[]): Promise<Map<number, number>> {
    const safe = ids.filter(Number.isSafeInteger);
    if (safe.length === 0) return new Map();
    return answeredMap(await this.read<{ id: string | number; status: number | null }>('answeredStatuses', [safe]));
  }

  // ----- jobs --------------------------------------------------------------------------------------------------

  async enqueueJobs(jobs: NewJob[]): Promise<string[]> {
    const prepared = this.prepareJobs(jobs);
    if (prepared.length === 0) return [];
    const json = JSON.stringify(prepared);
    return this.write(async (c) => {
      await exec(c, 'insertJobs', [json, null, this.clock.now()]);
      return prepared.map((j) => j.id);
    });
  }

  async claimTaskDue(input: TaskDueInput): Promise<{ claimed: boolean; jobId: string | null }> {
    const job = input.job ? this.prepareJobs([input.job])[0]! : null;
    return this.write(async (c) => {
      const now = this.clock.now();
      // Another instance claiming the same key waits on the unique index until this commits, then inserts nothing.
      const r = await c.query(TASK_SQL.claim, [input.task, input.dueAt, input.kind, job?.id ?? null, now]);
      if (!r.rowCount) return { claimed: false, jobId: null };
      if (job) await exec(c, 'insertJobs', [JSON.stringify([job]), null, now]);
      return { claimed: true, jobId: job?.id ?? null };
    });
  }

  async pauseScenario(input: PauseInput): Promise<ScenarioPause> {
    const at = this.clock.now();
    await this.write(async (c) => {
      await c.query(PAUSE_SQL.upsert, [input.scenario, input.by, at, input.reason ?? null, input.until ?? null]);
    });
    const rows = await this.readSql<{ n: string | number }>(`SELECT COUNT(*) AS n FROM jobs WHERE status = 'queued' AND scenario = $1`, [input.scenario]);
    return { scenario: input.scenario, by: input.by, at, reason: input.reason ?? null, until: input.until ?? null, queued: Number(rows[0]?.n ?? 0) };
  }

  async resumeScenario(scenario: string): Promise<boolean> {
    return this.write(async (c) => {
      await c.query(PAUSE_SQL.ended, [this.clock.now()]);
      return ((await c.query(PAUSE_SQL.remove, [scenario])).rowCount ?? 0) > 0;
    });
  }

  async pausedScenarios(): Promise<ScenarioPause[]> {
    return (await this.readSql<PauseRow>(PAUSE_SQL.active, [this.clock.now()])).map(pauseFromRow);
  }

  async lastTaskDues(tasks: readonly string[]): Promise<TaskDueRecord[]> {
    const rows = await Promise.all(tasks.map((t) => this.readSql<TaskRunRow>(TASK_SQL.latest, [t])));
    return rows.flatMap((r) => r.map(taskDueFromRow));
  }

  /**
   * Records this instance's value of a setting every instance should share, and answers the one the instance that
   * recorded it before had (undefined: none yet), so a start can say that they differ. Last writer wins: advisory only.
   */
  async swapSharedSetting(name: string, value: string): Promise<string | undefined> {
    return this.write(async (c) => {
      // The insert first: a start inserting the same name at once makes it wait for that commit and do nothing, and
      // the locking select, a statement of its own, then reads the value that start recorded. (A select first would
      // find no row in both, and neither start could compare with the other.)
      const inserted = await c.query('INSERT INTO shared_settings (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING RETURNING name', [name, value, this.clock.now()]);
      if ((inserted.rowCount ?? 0) > 0) return undefined;
      const before = (await c.query<{ value: string }>('SELECT value FROM shared_settings WHERE name = $1 FOR UPDATE', [name])).rows[0];
      await c.query('UPDATE shared_settings SET value = $2 WHERE name = $1', [name, value]);
      return before?.value;
    });
  }

  async sharedSecret(name: string, candidate: string): Promise<string> {
    return this.write(async (c) => {
      // A server inserting the same name at once makes this insert wait for its commit and do nothing; the select,
      // a statement of its own, then sees the row that won.
      await c.query('INSERT INTO shared_settings (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [name, candidate, this.clock.now()]);
      const row = (await c.query<{ value: string }>('SELECT value FROM shared_settings WHERE name = $1', [name])).rows[0];
      if (!row) throw new Error(`shared setting ${name} was neither inserted nor found`);
      return row.value;
    });
  }

  async claimJobs(workerId: string, limit: number, leaseMs: number): Promise<JobRecord[]> {
    if (!Number.isInteger(limit) || limit < 1) throw new StoreUsageError(`claim limit must be a positive integer, got ${limit}`);
    const r = await this.write(async (c) => {
      const now = this.clock.now();
      const expires = now + leaseMs;
      const claimed: JobRow[] = [];
      // Told to the server after the commit (a write may be tried again, so it is the result, not a side effect).
      const buriedJobs: BuriedJob[] = [];
      // Expired leases first: their worker vanished. Locked rows are another claimer's business right now.
      // Unless this store had writes refused since the holder last renewed the lease: then the database was full,
      // locked or down, and the lease most likely expired because its holder, alive, could not renew it; it holds the
      // attempt's end (its letter already sent) and records it within a few seconds of the database taking writes
      // again, and its heartbeat (every third of a lease) renews the lease by then. Taking the job over before that
      // sends the letter again (trial 65: 7 letters of 900 twice after a 60 s full disk). So such a lease is left alone
      // until the database has taken this store's writes for half a lease since it expired: the time it refused is not
      // counted, so a spell longer than that does not take the job over at its end, and refusals now and then (one
      // webhook refused every few seconds) hold up the jobs of an instance that really died by about half a lease.
      const spells = this.batcher.refusalSpells();
      const expired = (await exec<JobRow & { last: boolean }>(c, 'lockExpired', [now, workerId])).rows.filter(
        (r) => spells.length === 0 || takeoverDue(spells, Number(r.updated_at), Number(r.lease_expires_at), now, leaseMs / 2),
      );
      if (expired.length > 0) {
        const lost = toJson({ code: LEASE_LOST.code, message: `${LEASE_LOST.message} during the last attempt` }, 'error');
        const last = expired.filter((r) => r.last).map((r) => r.id);
        const retake = expired.filter((r) => !r.last).slice(0, limit).map((r) => r.id);
        // Only for the jobs this claim deals with: the others stay expired for the next claim, which records them.
        const dealt = new Set([...last, ...retake]);
        const ended = await endLostAttempts(c, expired.filter((r) => dealt.has(r.id)).map(jobFromRow), LEASE_LOST, lost, now, this.timeZone);
        if (last.length > 0) await exec(c, 'buryJobs', [last, lost, now]);
        // Each row is locked by this transaction (lockExpired), so one instance alone buries it and starts its catch-all.
        for (const r of expired) {
          if (!r.last) continue;
          const started = await this.startCatchAll(c, { job: jobFromRow(r), status: 'dead', error: LEASE_LOST_LAST, errorJson: lost, lastRunId: ended.lastRuns.get(r.id) ?? null, at: now });
          if (started) buriedJobs.push({ jobId: r.id, scenario: r.scenario, ...started });
        }
        if (retake.length > 0) claimed.push(...(await exec<JobRow>(c, 'claimIds', [retake, workerId, expires, now, lost])).rows);
      }
      if (claimed.length < limit) claimed.push(...(await exec<JobRow>(c, 'claimQueued', [workerId, expires, now, limit - claimed.length])).rows);
      return { jobs: claimed.map(jobFromRow).sort((a, b) => b.priority - a.priority || a.nextRunAt - b.nextRunAt), buriedJobs };
    });
    if (r.buriedJobs.length > 0) tellBuried(this.catchAll, r.buriedJobs);
    return r.jobs;
  }

  async heartbeat(jobIds: string[], workerId: string, leaseMs: number): Promise<string[]> {
    if (jobIds.length === 0) return [];
    return this.write(async (c) => {
      const now = this.clock.now();
      const kept = new Set((await exec<{ id: string }>(c, 'extendLeases', [jobIds, workerId, now + leaseMs, now])).rows.map((r) => r.id));
      return jobIds.filter((id) => kept.has(id));
    });
  }

  async releaseJobs(jobIds: string[], workerId: string, lastError?: JsonValue): Promise<string[]> {
    if (jobIds.length === 0) return [];
    const error = lastError === undefined ? null : toJson(lastError, 'job error');
    return this.write(async (c) => {
      const released = new Set((await exec<{ id: string }>(c, 'releaseJobs', [jobIds, workerId, this.clock.now(), error])).rows.map((r) => r.id));
      return jobIds.filter((id) => released.has(id));
    });
  }

  async completeJob(id: string, workerId: string, outcome: AttemptOutcome = {}): Promise<{ accepted: boolean }> {
    const run = outcome.run ? JSON.stringify([runParams(outcome.run)]) : undefined;
    const refused = outcome.run ? JSON.stringify([runParams(notCountedRun(outcome.run))]) : undefined;
    const jobs = this.prepareJobs(outcome.jobs ?? []);
    const jobsJson = JSON.stringify(jobs);
    const runId = outcome.run?.id ?? null;
    const effects = journalRows(outcome.effects);
    return this.write(async (c) => {
      const now = this.clock.now();
      const accepted = (await exec(c, 'completeJob', [id, workerId, now, runId])).rowCount === 1;
      // The run happened whether or not the lease was still ours (marked as not counted when it was not); its children
      // are enqueued only by the owner.
      if (run) await exec(c, 'upsertRuns', [accepted ? run : refused, null]);
      if (accepted && jobs.length > 0) await exec(c, 'insertJobs', [jobsJson, null, now]);
      if (!accepted) for (const [stepKey, text] of effects) await exec(c, 'putEffect', [id, stepKey, text, now]);
      return { accepted };
    });
  }

  async failJob(id: string, workerId: string, input: FailJobInput): Promise<FailJobResult> {
    const run = input.run ? JSON.stringify([runParams(input.run)]) : undefined;
    const jobs = this.prepareJobs(input.jobs ?? []);
    const jobsJson = JSON.stringify(jobs);
    const error = toJson(input.error, 'job error');
    const runId = input.run?.id ?? null;
    const effects = journalRows(input.effects);
    return this.write(async (c): Promise<FailJobResult> => {
      const now = this.clock.now();
      if (run) await exec(c, 'upsertRuns', [run, null]);
      for (const [stepKey, text] of effects) await exec(c, 'putEffect', [id, stepKey, text, now]);
      const job = (await exec<{ attempts: number; max_attempts: number; cancel_request: string | null; replay_count: number }>(c, 'ownedJob', [id, workerId])).rows[0];
      if (!job) return { accepted: false };
      if (jobs.length > 0) await exec(c, 'insertJobs', [jobsJson, null, now]);
      const decision = decideRetry(job.attempts, job.max_attempts, input.retryable, this.backoff, this.random);
      const cancel = cancelRequestOf(job.cancel_request, job.replay_count);
      if (buriedByCancel(cancel, decision.retry, input.error)) {
        // Cancelled while it ran: a dead letter R_CANCELLED, as a queued job cancelled is (no catch-all: an operator did it).
        await exec(c, 'finishJob', [id, toJson(cancelledWhileRunning(cancel, input.error), 'job error'), now, runId, 'dead']);
        return { accepted: true, status: 'dead', cancelled: { by: cancel.by, at: cancel.at } };
      }
      if (decision.retry) {
        const nextRunAt = input.retryAt ?? now + decision.delayMs;
        await exec(c, 'retryJob', [id, error, now, runId, nextRunAt]);
        return { accepted: true, status: 'queued', nextRunAt };
      }
      await exec(c, 'finishJob', [id, error, now, runId, decision.status]);
      // Only here, on the path that gives a job up, is the job read again (for the catch-all's parameters); ownedJob
      // locked its row, so no other instance gives it up meanwhile.
      let catchAll: Awaited<ReturnType<PostgresStore['startCatchAll']>>;
      if (catchAllOn(this.catchAll)) {
        const row = (await exec<JobRow>(c, 'getJob', [id])).rows[0]!;
        catchAll = await this.startCatchAll(c, { job: jobFromRow(row), status: decision.status, error: input.error, errorJson: error, lastRunId: runId, at: now });
      }
      return { accepted: true, status: decision.status, ...catchAll };
    });
  }

  /**
   * Inside the transaction that gave the job up: enqueues the dead-letter catch-all for it, unless there is none or the
   * job is in the catch-all's own line (said by `catchAllSkipped`, so the caller can log it).
   */
  private async startCatchAll(c: pg.PoolClient, g: GivenUp): Promise<{ catchAllJob?: string; catchAllSkipped?: true } | undefined> {
    if (!catchAllOn(this.catchAll)) return undefined;
    const job = catchAllJob(this.catchAll, g, this.newId());
    if (!job) return { catchAllSkipped: true };
    await exec(c, 'insertJobs', [JSON.stringify(this.prepareJobs([job])), null, g.at]);
    const named = errorNamingCatchAll(g.errorJson, job.id!);
    if (named !== undefined) await exec(c, 'setLastError', [g.job.id, named]);
    return { catchAllJob: job.id! };
  }

  /** Single instance only (see the port): with several instances sharing the database, expired leases do this. */
  async recoverOrphans(): Promise<RecoverResult> {
    return this.write(async (c) => {
      const now = this.clock.now();
      const error = toJson(PROCESS_STOPPED, 'error');
      const running = (await exec<JobRow>(c, 'runningJobs', [])).rows.map(jobFromRow);
      const ended = await endLostAttempts(c, running, PROCESS_STOPPED, error, now, this.timeZone);
      let runsFailed = ended.failed;
      const dead = (await exec(c, 'buryOrphans', [now, error])).rowCount ?? 0;
      // Those buryOrphans made dead: the stop cut their last attempt off.
      const catchAlls: BuriedJob[] = [];
      for (const job of running) {
        if (job.attempts < job.maxAttempts) continue;
        const started = await this.startCatchAll(c, { job, status: 'dead', error: PROCESS_STOPPED, errorJson: error, lastRunId: ended.lastRuns.get(job.id) ?? null, at: now });
        if (started) catchAlls.push({ jobId: job.id, scenario: job.scenario, ...started });
      }
      const requeued = (await exec(c, 'requeueOrphans', [now, error])).rowCount ?? 0;
      runsFailed += (await exec(c, 'failRunningRuns', [now, error])).rowCount ?? 0;
      return { requeued, dead, runsFailed, ...(catchAlls.length ? { catchAlls } : {}) };
    });
  }

  async hastenJobs(selector: { ids: string[] } | { status: 'queued' }): Promise<string[]> {
    // An id given twice is one job, answered once (as the SQLite store does).
    const ids = 'ids' in selector ? [...new Set(selector.ids)] : null;
    if (ids && ids.length === 0) return [];
    return this.write(async (c) => {
      const done = new Set((await exec<{ id: string }>(c, 'hasten', [ids, this.clock.now()])).rows.map((r) => r.id));
      return ids ? ids.filter((id) => done.has(id)) : [...done];
    });
  }

  async cancelJobs(selector: { ids: string[] } | { status: 'queued' }, error: unknown): Promise<string[]> {
    const ids = 'ids' in selector ? [...new Set(selector.ids)] : null;
    if (ids && ids.length === 0) return [];
    const errorJson = toJson(error, 'error');
    return this.write(async (c) => {
      const now = this.clock.now();
      // Every job taken is locked first, in id order (no deadlock with a replay or another cancel), and its last error
      // read under the lock; the updates touch those jobs alone. A job whose last attempt was cut off keeps saying so
      // (`afterCut`): a replay's first effects may repeat its last.
      const locked = (await exec<{ id: string; last_error: string | null }>(c, 'queuedLastErrors', [ids])).rows;
      const isCut = (r: { last_error: string | null }) => keepingCutOfText(r.last_error, error) !== error;
      const cut = locked.filter(isCut).map((r) => r.id);
      const plain = locked.filter((r) => !isCut(r)).map((r) => r.id);
      const done = new Set<string>();
      if (cut.length) for (const r of (await exec<{ id: string }>(c, 'cancel', [cut, now, toJson(keepingCut({ afterCut: true }, error), 'error')])).rows) done.add(r.id);
      if (plain.length) for (const r of (await exec<{ id: string }>(c, 'cancel', [plain, now, errorJson])).rows) done.add(r.id);
      return ids ? ids.filter((id) => done.has(id)) : [...done];
    });
  }

  async requestCancel(ids: string[], by: string): Promise<string[]> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return [];
    return this.write(async (c) => {
      const now = this.clock.now();
      const set = new Set((await exec<{ id: string }>(c, 'requestCancel', [unique, cancelRequestJson(by, now), now])).rows.map((r) => r.id));
      return unique.filter((id) => set.has(id));
    });
  }

  async cancelRequests(ids: string[], workerId: string): Promise<Array<{ id: string } & CancelRequest>> {
    if (ids.length === 0) return [];
    const rows = await this.read<{ id: string; cancel_request: string; replay_count: number }>('cancelRequests', [ids, workerId]);
    return rows.flatMap((r) => {
      const req = cancelRequestOf(r.cancel_request, r.replay_count);
      return req ? [{ id: r.id, ...req }] : [];
    });
  }

  async requeue(selector: RequeueSelector, opts: RequeueOptions = {}): Promise<string[]> {
    const setPin = opts.pinnedVersion !== undefined;
    const pin = opts.pinnedVersion ?? null;
    let ids: string[] | null = null;
    let status: string | null = null;
    if ('ids' in selector) {
      ids = [...new Set(selector.ids)];
      if (ids.length === 0) return [];
    } else {
      if (selector.status !== 'dead' && selector.status !== 'failed') throw new StoreUsageError('only dead or failed jobs can be requeued');
      status = selector.status;
    }
    return this.write(async (c) => {
      const now = this.clock.now();
      const done = (await exec<{ id: string }>(c, 'requeue', [ids, status, now, setPin, pin])).rows.map((r) => r.id);
      if (opts.clearEffects && done.length > 0) await exec(c, 'clearEffects', [done]);
      if (!ids) return done;
      const set = new Set(done);
      return ids.filter((id) => set.has(id));
    });
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const row = (await this.read<JobRow>('getJob', [id]))[0];
    return row ? jobFromRow(row) : undefined;
  }

  async jobStates(ids: readonly string[]): Promise<Map<string, JobState>> {
    if (ids.length === 0) return new Map();
    return jobStateMap(await this.read<JobStateRow>('jobStates', [[...new Set(ids)]]));
  }

  async listJobs(q: ListJobsQuery = {}): Promise<Page<JobRecord>> {
    const limit = pageLimit(q.limit);
    const { sql, args } = jobPageSql('postgres', q, limit);
    const rows = await this.readSql<JobRow>(sql, args);
    return page(rows.map(jobFromRow), limit, (j) => encodeCursor(j.createdAt, j.id));
  }

  async queuedJobs(q: { scenario?: string; since?: number; limit: number }): Promise<JobRecord[]> {
    const { sql, args } = queuedJobsSql('postgres', q);
    return (await this.readSql<JobRow>(sql, args)).map(jobFromRow);
  }

  async latestScheduledJob(task: string): Promise<JobRecord | undefined> {
    const row = (await this.readSql<JobRow>(latestScheduledJobSql('postgres'), [task]))[0];
    return row ? jobFromRow(row) : undefined;
  }

  // ----- runs --------------------------------------------------------------------------------------------------

  async recordRun(run: RunWrite): Promise<void> {
    const json = JSON.stringify([runParams(run)]);
    await this.write((c) => exec(c, 'upsertRuns', [json, null]));
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = (await this.read<RunRow>('getRun', [id]))[0];
    return row ? runFromRow(row) : undefined;
  }

  async listRuns(q: ListRunsQuery = {}): Promise<Page<RunSummary>> {
    const limit = pageLimit(q.limit);
    const { sql, args } = pageSql('postgres', { table: 'runs', columns: RUN_SUMMARY_COLUMNS, time: 'started_at', filters: runFilters(q), cursor: q.cursor, limit });
    const rows = await this.readSql<RunRow>(sql, args);
    return page(rows.map(runSummaryFromRow), limit, (r) => encodeCursor(r.startedAt, r.id));
  }

  async scanRuns(q: Omit<ListRunsQuery, 'cursor' | 'limit'> & { scan: number; cursor?: string }): Promise<{ runs: ScannedRun[]; cut: boolean; next?: string }> {
    const { sql, args } = pageSql('postgres', { table: 'runs', columns: `${RUN_SUMMARY_COLUMNS}, params, return_values`, time: 'started_at', filters: runFilters(q), cursor: q.cursor ?? null, limit: q.scan });
    return scannedRuns(await this.readSql<RunRow>(sql, args), q.scan);
  }

  async runOutcomes(ids: readonly string[]): Promise<Map<string, RunOutcomeSource>> {
    if (ids.length === 0) return new Map();
    const unique = [...new Set(ids)];
    try {
      return runOutcomeMap(await this.read<{ id: string; return_values: string | null; letters: string | null }>('runOutcomes', [unique]));
    } catch (e) {
      // PostgreSQL's json refuses some JSON that JavaScript writes, a \u0000 escape or half of a surrogate pair (text
      // a webhook brought into a letter): one such run on the page would fail the whole list. Read the page's letters
      // whole then, and reduce them here.
      if (!JSON_REFUSED.has((e as { code?: unknown })?.code as string)) throw e;
      const rows = await this.read<{ id: string; return_values: string | null; mails: string | null }>('runOutcomesWhole', [unique]);
      return new Map(rows.map((r) => [r.id, { returnValues: parsedOrNull(r.return_values), letters: outcomeLetters(parsedOrNull(r.mails)) }]));
    }
  }

  // ----- operating ---------------------------------------------------------------------------------------------

  async oldestDueAt(now: number): Promise<number | undefined> {
    const at = (await this.read<{ at: string | number | null }>('oldestDue', [now]))[0]?.at;
    return at === null || at === undefined ? undefined : Number(at);
  }

  /**
   * Every instance asks at every scrape of `/-/metrics` and console list, so no statement reads every row a month of
   * retention keeps. A table PostgreSQL estimates below `exactCountBelow` rows (or never measured) is counted whole, all
   * its statuses in one statement, so they are of one snapshot. Past it, the few queued, running, failed and dead jobs
   * and running and failed runs are counted on the status indexes, and the bulk status is the estimate less them (so is
   * the inbox, its duplicates from ANALYZE's sample).
   */
  async counts(): Promise<StoreCounts> {
    const estimates = await this.read<{ name: string; n: number | null; duplicate_share: number | null }>('estimateRows', []);
    const estimate = (table: string) => estimates.find((r) => r.name === table);
    /** The estimate of a large table; undefined when it must be counted (small, or never measured). */
    const large = (table: string): number | undefined => {
      const n = estimate(table)?.n;
      return n === null || n === undefined || Number(n) < this.exactCountBelow ? undefined : Math.round(Number(n));
    };
    const byStatus = async <S extends string>(table: 'jobs' | 'runs', statuses: readonly S[], bulk: S): Promise<Record<S, number>> => {
      const total = large(table);
      const every = table === 'jobs' ? 'countJobsEvery' : 'countRunsEvery';
      const few = table === 'jobs' ? 'countJobs' : 'countRuns';
      const out = Object.fromEntries(statuses.map((s) => [s, 0])) as Record<S, number>;
      for (const r of await this.read<{ status: S; n: number }>(total === undefined ? every : few, [])) out[r.status] = Number(r.n);
      if (total !== undefined) out[bulk] = Math.max(0, total - statuses.reduce((sum, s) => (s === bulk ? sum : sum + out[s]), 0));
      return out;
    };
    const inbox = async (): Promise<StoreCounts['inbox']> => {
      const n = large('inbox');
      const share = estimate('inbox')?.duplicate_share;
      if (n !== undefined && share !== null && share !== undefined) return { total: n, duplicates: Math.round(n * Number(share)) };
      const row = (await this.read<{ total: number; duplicates: number }>('countInbox', []))[0];
      return { total: Number(row?.total ?? 0), duplicates: Number(row?.duplicates ?? 0) };
    };
    const [jobs, runs, inboxCounts] = await Promise.all([byStatus('jobs', JOB_STATUSES, 'succeeded'), byStatus('runs', RUN_STATUSES, 'completed'), inbox()]);
    return { jobs, runs, inbox: inboxCounts };
  }

  async prune(opts: PruneOptions): Promise<PruneResult> {
    const { cutoff, deadCutoff } = pruneCutoffs(opts, this.clock.now());
    const result = emptyPruneResult();
    // Chunks, each its own grouped write, so webhooks keep being stored between them. Dead letters before runs: the
    // last run of one is kept while it is. Jobs before effects: an effect is kept while its job is.
    const chunks = async (statement: PgStatementName, at: number): Promise<number> => {
      let all = 0;
      for (;;) {
        const n = await this.write(async (c) => (await exec(c, statement, [at, PRUNE_CHUNK])).rowCount ?? 0);
        all += n;
        if (n < PRUNE_CHUNK) return all;
      }
    };
    result.inbox = await chunks('pruneInbox', cutoff);
    result.jobs = await chunks('pruneJobs', cutoff);
    if (deadCutoff !== undefined) {
      for (;;) {
        const ids = await this.write(async (c) => (await exec(c, 'pruneDeadLetters', [deadCutoff, PRUNE_CHUNK])).rows.map((r) => String((r as { id: string }).id)));
        noteDeadLetters(result, ids);
        if (ids.length < PRUNE_CHUNK) break;
      }
    }
    result.runs = await chunks('pruneRuns', cutoff);
    result.effects = await chunks('pruneEffects', cutoff);
    await this.write((c) => c.query(TASK_SQL.prune, [cutoff]));
    return result;
  }

  stats(): StoreStats {
    return this.batcher.stats();
  }

  /** `SELECT 1` on a pooled connection, as any read (so under the same silence bound): see `Store.ping`. */
  async ping(): Promise<void> {
    await this.readSql('SELECT 1', []);
  }

  /** This process's clock against the database server's (the best of three round trips): see clock-skew.ts. */
  async clockOffset(): Promise<ClockOffset> {
    const samples: Array<{ sentAt: number; receivedAt: number; dbAt: number }> = [];
    for (let i = 0; i < 3; i++) {
      const sentAt = this.clock.now();
      const [row] = await this.readSql<{ db: number }>('SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS db', []);
      samples.push({ sentAt, receivedAt: this.clock.now(), dbAt: Number(row!.db) });
    }
    return clockOffsetOf(samples);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // The look-ups asked before the close are made, as each was when asked alone.
    const lookups = this.runLookups();
    this.closed = true;
    await lookups;
    await this.batcher.close();
    await this.pool.end();
  }

  // ----- helpers -----------------------------------------------------------------------------------------------

  private prepareJobs(jobs: NewJob[]): JobParams[] {
    return jobs.map((j) => jobParams(j, j.id ?? this.newId(), this.defaultMaxAttempts));
  }

  async putEffectGroup(entries: ReadonlyArray<JournalEntry & { runKey: string }>): Promise<void> {
    if (!entries.length) return;
    const rows = entries.map((e) => [e.runKey, e.stepKey, toJson(e.outcome, 'effect outcome')] as const);
    await this.write(async (c) => {
      const now = this.clock.now();
      for (const [runKey, stepKey, text] of rows) await exec(c, 'putEffect', [runKey, stepKey, text, now]);
    });
  }

  private write<T>(op: PgOp<T>): Promise<T> {
    return this.batcher.submit(op);
  }

  private read<R extends pg.QueryResultRow>(name: PgStatementName, values: unknown[]): Promise<R[]> {
    return this.readQuery<R>({ name, text: PG_SQL[name], values });
  }

  private readSql<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<R[]> {
    return this.readQuery<R>({ text, values });
  }

  /**
   * One read on a pooled connection, as `pool.query` makes it (a connection whose query failed is not reused), but
   * given up when the database does not answer (`noAnswerMs`): a read sent on a connection whose host went silent
   * would otherwise wait for ever (a webhook's look-up of its delivery, a service task's tick).
   */
  private async readQuery<R extends pg.QueryResultRow>(query: pg.QueryConfig): Promise<R[]> {
    if (this.closed) throw closedError();
    let client: pg.PoolClient;
    try {
      client = await this.connections.connect();
    } catch (err) {
      throw asRead(classifyPgError(err));
    }
    let failed: Error | undefined;
    try {
      return (await withAnswerBound(client, this.noAnswerMs, () => client.query<R>(query), this.connections.noteSilent)).rows;
    } catch (err) {
      failed = err instanceof Error ? err : new Error(String(err));
      throw asRead(classifyPgError(err));
    } finally {
      client.release(failed);
    }
  }
}

function exec<R extends pg.QueryResultRow = pg.QueryResultRow>(c: pg.PoolClient, name: PgStatementName, values: unknown[]): Promise<pg.QueryResult<R>> {
  return c.query<R>({ name, text: PG_SQL[name], values });
}

/**
 * Ends the records of attempts whose worker vanished (inside a write): run records they left `running` are failed,
 * the others get a record of the lost attempt (naming `timeZone`, the instance's); either becomes the job's last run.
 * Returns the records failed.
 */
async function endLostAttempts(c: pg.PoolClient, jobs: JobRecord[], error: { code: string; message: string }, errorJson: string, now: number, timeZone: string | undefined): Promise<{ failed: number; lastRuns: Map<string, string> }> {
  if (jobs.length === 0) return { failed: 0, lastRuns: new Map() };
  const failed = (await exec<{ id: string; job_id: string }>(c, 'failRunsOfJobs', [jobs.map((j) => j.id), errorJson, now])).rows;
  const last = new Map(failed.map((r) => [r.job_id, r.id]));
  const lost = jobs.filter((j) => !last.has(j.id)).map((j) => lostAttemptRun(j, error, newSortableId(now), now, timeZone));
  if (lost.length) await exec(c, 'upsertRuns', [JSON.stringify(lost.map(runParams)), null]);
  for (const r of lost) last.set(r.jobId!, r.id);
  await exec(c, 'setLastRuns', [JSON.stringify([...last].map(([id, runId]) => ({ id, run_id: runId })))]);
  return { failed: failed.length, lastRuns: last };
}

/** The SQLSTATEs of text PostgreSQL's json does not take: invalid_text_representation, untranslatable_character. */
const JSON_REFUSED = new Set(['22P02', '22P05']);

/** A JSON column's value, null when it is not JSON. */
function parsedOrNull(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** PostgreSQL text cannot hold NUL characters; a stray one in free text must not cost the whole request. */
function pgText(s: string): string {
  return s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s;
}

/** A refusal of a read, marked as one (the CLI's line for `show` or `runs` says the read was not answered). */
function asRead(err: unknown): unknown {
  if (!(err instanceof StoreUnavailableError) || err.read) return err;
  return new StoreUnavailableError(err.reason, err.message, err.retryAfterSeconds, { cause: err.cause, read: true });
}
