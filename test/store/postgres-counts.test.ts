// counts() on PostgreSQL answers /-/metrics and the console of every instance at every scrape. It once grouped every
// job, run and inbox row by status (0.3–0.5 s of database time at 44,000 runs in the PostgreSQL soak, growing with the
// retention). Now the few queued, running, failed and dead jobs and running and failed runs are counted on the status
// indexes, and a large table's total (and with it the bulk statuses) is PostgreSQL's estimate. Skipped without PostgreSQL.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openPostgresStore, PG_EXACT_COUNT_BELOW, type PostgresStore } from '../../server/store/postgres.store.js';
import { PG_SQL } from '../../server/store/postgres.sql.js';
import type { InboxEntryInput, NewJob, RunWrite } from '../../server/store/store.port.js';
import { dropSchema, querySchema, randomSchemaName, testPostgres, urlWithSchema } from './postgres.helper.js';

const T = { timeout: 30_000 };
const pg = await testPostgres();

function inbox(dedupKey: string): InboxEntryInput {
  return { receivedAt: Date.now(), method: 'POST', path: '/Bpium/NewTask', headers: '', body: Buffer.from('{}'), signature: 'valid', dedupKey };
}
function job(id: string, over: Partial<NewJob> = {}): NewJob {
  return { id, scenario: 'BpiumNewTask', params: { 1: id }, ...over };
}
function run(id: string, status: RunWrite['status'] = 'completed'): RunWrite {
  const at = Date.now();
  return { id, scenario: 'BpiumNewTask', version: 'v', trigger: 'async', status, startedAt: at, finishedAt: at + 1, params: {}, returnValues: {}, trace: [], bpiumCalls: [], mails: [] };
}

/** A store on a fresh schema (tables never measured by ANALYZE), with every job and run status and a duplicate webhook. */
async function withFilledStore(t: { skip(reason?: string): void }, exactCountBelow: number, fn: (store: PostgresStore, sql: (text: string) => Promise<unknown[]>) => Promise<void>): Promise<void> {
  if (pg.skip !== undefined) {
    t.skip(pg.skip);
    return;
  }
  const schema = randomSchemaName('counts');
  const store = await openPostgresStore({ url: urlWithSchema(pg.url, schema), poolSize: 4, exactCountBelow });
  try {
    await store.enqueueJobs([job('a'), job('b'), job('c'), job('d'), job('e'), job('f', { maxAttempts: 1 })]);
    await store.claimJobs('w', 6, 60_000);
    await store.completeJob('a', 'w', { run: run('ra') });
    await store.completeJob('b', 'w', { run: run('rb') });
    await store.failJob('c', 'w', { run: run('rc', 'failed'), retryable: false, error: 'refused' });
    await store.failJob('f', 'w', { run: run('rf', 'failed'), retryable: true, error: 'down' });
    await store.recordRequest({ inbox: inbox('k1'), run: { ...run('rh'), trigger: 'http' } });
    await store.recordRequest({ inbox: inbox('k1') });
    await fn(store, (text) => querySchema(pg.url!, schema, text));
  } finally {
    await store.close();
    await dropSchema(pg.url, schema);
  }
}

const EVERY_STATUS = {
  jobs: { queued: 0, running: 2, succeeded: 2, failed: 1, dead: 1 },
  runs: { running: 0, completed: 3, failed: 2 },
  inbox: { total: 2, duplicates: 1 },
};

describe('PostgreSQL counts without reading every row', () => {
  it(`counts every table exactly while it is small (below ${PG_EXACT_COUNT_BELOW} rows by default), measured or not`, T, async (t) => {
    await withFilledStore(t, PG_EXACT_COUNT_BELOW, async (store, sql) => {
      assert.deepEqual(await store.counts(), EVERY_STATUS);
      await sql('ANALYZE jobs, runs, inbox');
      assert.deepEqual(await store.counts(), EVERY_STATUS);
    });
  });

  it('counts a table its statistics never measured, whatever its size', T, async (t) => {
    await withFilledStore(t, 1, async (store) => {
      assert.deepEqual(await store.counts(), EVERY_STATUS);
    });
  });

  it("takes a large table's total from PostgreSQL's estimate; the few statuses are still counted exactly", T, async (t) => {
    await withFilledStore(t, 1, async (store, sql) => {
      await sql('ANALYZE jobs, runs, inbox');
      // ANALYZE of a small table samples every row: the estimates are the exact figures then.
      assert.deepEqual(await store.counts(), EVERY_STATUS);
      // Two jobs more, without ANALYZE (on the same page: the estimate does not change): the queued ones are counted at
      // once, the total stays the estimate of 6 jobs until autovacuum (or ANALYZE) measures the table again.
      await store.enqueueJobs([job('g'), job('h')]);
      const { jobs } = await store.counts();
      assert.equal(jobs.queued, 2, 'queued jobs are counted, not estimated');
      assert.equal(Object.values(jobs).reduce((a, b) => a + b, 0), 6, `the jobs' total is the estimate, not a count of the 8 rows: ${JSON.stringify(jobs)}`);
      await sql('ANALYZE jobs');
      assert.deepEqual((await store.counts()).jobs, { ...EVERY_STATUS.jobs, queued: 2 });
    });
  });

  it('a small table is counted from one snapshot: a job enqueued between two reads of counts() is not counted as succeeded', T, async (t) => {
    await withFilledStore(t, PG_EXACT_COUNT_BELOW, async (store) => {
      // A webhook's job stored while counts() reads: it arrives just before any later statement of counts() that reads
      // the jobs table (as one would on a busy server), so the statuses and the total must come from the same statement.
      const pool = (store as unknown as { pool: { query: (config: unknown, values?: unknown) => Promise<unknown> } }).pool;
      const query = pool.query.bind(pool);
      let jobReads = 0;
      let arrived = false;
      pool.query = async (config: unknown, values?: unknown) => {
        const text = typeof config === 'string' ? config : (config as { text: string }).text;
        if (/^\s*SELECT\b[\s\S]*\bFROM jobs\b/.test(text) && ++jobReads > 1 && !arrived) {
          arrived = true;
          await store.enqueueJobs([job('x1'), job('x2'), job('x3')]);
        }
        return query(config, values);
      };
      const { jobs } = await store.counts();
      pool.query = query;
      assert.equal(jobs.succeeded, 2, `the 3 new jobs are queued, not succeeded: ${JSON.stringify(jobs)}`);
      assert.deepEqual(jobs, arrived ? { ...EVERY_STATUS.jobs, queued: 3 } : EVERY_STATUS.jobs);
    });
  });

  it('a table with an inheritance child (statistics kept twice, with and without the child) is still counted', T, async (t) => {
    await withFilledStore(t, 1, async (store, sql) => {
      // ANALYZE of a table with children keeps two rows of statistics per column (inherited or not): the estimate
      // reads the table's own, or the query fails (more than one row from a subquery) and so do /-/metrics and the console.
      await sql('CREATE TABLE inbox_archive () INHERITS (inbox)');
      await sql('ANALYZE inbox, jobs, runs');
      assert.deepEqual(await store.counts(), EVERY_STATUS);
    });
  });

  it('counts the few statuses on an index range, not by reading the table or an index whole', T, async (t) => {
    if (pg.skip !== undefined) {
      t.skip(pg.skip);
      return;
    }
    const schema = randomSchemaName('countplan');
    await (await openPostgresStore({ url: urlWithSchema(pg.url, schema), poolSize: 1 })).close();
    try {
      for (const name of ['countJobs', 'countRuns'] as const) {
        // Sequential scans off: a table of a few rows would be read whole anyway; what matters is that an index range
        // answers the statement, as the planner chooses for a table of many rows and few of these statuses.
        const plan = await explain(pg.url, schema, PG_SQL[name]);
        const scans = scanNodes(plan[0]);
        assert.ok(scans.length > 0, `${name}: no scan in ${JSON.stringify(plan)}`);
        for (const s of scans) {
          assert.ok(!/Seq Scan/.test(s['Node Type']), `${name} reads the table: ${JSON.stringify(s)}`);
          assert.ok(typeof s['Index Cond'] === 'string', `${name} reads an index whole (no range): ${JSON.stringify(s)}`);
        }
      }
    } finally {
      await dropSchema(pg.url, schema);
    }
  });
});

type PlanNode = { 'Node Type': string; 'Index Cond'?: string; Plans?: PlanNode[] };

/** EXPLAIN (FORMAT JSON) of `text` with sequential scans off, in one session. */
async function explain(url: string, schema: string, text: string): Promise<unknown[]> {
  const { default: pgLib } = await import('pg');
  const client = new pgLib.Client({ connectionString: url, options: `-c search_path=${schema}` });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('SET enable_seqscan = off');
    return (await client.query(`EXPLAIN (FORMAT JSON) ${text}`)).rows.map((r: Record<string, unknown>) => r['QUERY PLAN']);
  } finally {
    await client.end();
  }
}

/** Every node of a plan that reads a table or an index. */
function scanNodes(plan: unknown): PlanNode[] {
  const root = (Array.isArray(plan) ? plan[0] : plan) as { Plan: PlanNode };
  const out: PlanNode[] = [];
  const walk = (n: PlanNode) => {
    if (/Scan/.test(n['Node Type']) && !/^Bitmap Heap Scan$/.test(n['Node Type'])) out.push(n);
    for (const c of n.Plans ?? []) walk(c);
  };
  walk(root.Plan);
  return out;
}
