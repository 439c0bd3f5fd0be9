// A store with jobs in every state an outage leaves, for the tests of `runs` and `replay`: written with the store API
// as the worker pool writes them (claim, fail or complete with the run), into a SQLite file, or PostgreSQL when one is
// reachable; the CLI is then the real binary reading that store.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openPostgresStore } from '../../server/store/postgres.store.js';
import { newSortableId } from '../../server/store/sortable-id.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import type { JobRecord, NewJob, Store } from '../../server/store/store.port.js';
import { tempDir } from '../helpers.js';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { runCli } from './cli.helper.js';

const WORKER = 'test:1';

export type Kind = { name: string; skip?: string; open(): Promise<Store>; cli(args: string[]): ReturnType<typeof runCli>; dirFlag: string; cleanup(): Promise<void> };

const pg = await testPostgres();

export function sqliteKind(): Kind {
  const t = tempDir();
  return {
    name: 'SQLite',
    open: () => openSqliteStore({ file: join(t.dir, 'oktell.sqlite') }),
    cli: (args) => runCli([...args, '--data-dir', t.dir], { env: { OKTELL_TZ: 'UTC' }, unset: ['OKTELL_STORE', 'OKTELL_CONFIG'] }),
    dirFlag: ` --data-dir ${t.dir}`,
    cleanup: async () => t.cleanup(),
  };
}

export function postgresKind(): Kind {
  const t = tempDir();
  const schema = randomSchemaName('fates');
  const url = pg.url ? urlWithSchema(pg.url, schema) : '';
  return {
    name: 'PostgreSQL',
    ...(pg.skip ? { skip: pg.skip } : {}),
    open: () => openPostgresStore({ url, poolSize: 2 }),
    cli: (args) => runCli(args, { cwd: t.dir, env: { OKTELL_STORE: url, OKTELL_DATA_DIR: t.dir, OKTELL_TZ: 'UTC' }, unset: ['OKTELL_CONFIG'] }),
    dirFlag: '',
    cleanup: async () => {
      if (pg.url) await dropSchema(pg.url, schema).catch(() => undefined);
      t.cleanup();
    },
  };
}

/** A failure's `block` is recorded in its error with `retryable`, as a block's failure is (the console's run page reads both). */
type End = { ok: true } | { code: string; retryable: boolean; retryAt?: number; block?: string };

/** One attempt of the only due job, `id`, ended as the worker pool ends it: the run is written with the outcome. */
export async function attempt(store: Store, id: string, end: End): Promise<string> {
  const claimed = await store.claimJobs(WORKER, 10, 60_000);
  assert.deepEqual(claimed.map((j) => j.id), [id]);
  const job = claimed[0]!;
  const now = Date.now();
  const ok = 'ok' in end;
  const run = {
    id: newSortableId(now), jobId: id, scenario: job.scenario, version: 'aaaaaaaaaaaa', trigger: 'async' as const, status: ok ? ('completed' as const) : ('failed' as const),
    attempt: job.attempts, workerId: WORKER, startedAt: now, finishedAt: now, durationMs: 1, ...(ok ? {} : { error: { code: end.code, message: `${end.code} in a test`, ...(end.block ? { block: end.block, retryable: end.retryable } : {}) } }),
  };
  if (ok) assert.equal((await store.completeJob(id, WORKER, { run })).accepted, true);
  else assert.equal((await store.failJob(id, WORKER, { run, retryable: end.retryable, error: run.error, ...(end.retryAt !== undefined ? { retryAt: end.retryAt } : {}) })).accepted, true);
  return run.id;
}

export async function enqueue(store: Store, job: Partial<NewJob> = {}): Promise<string> {
  return (await store.enqueueJobs([{ scenario: 'Letters', params: {}, maxAttempts: 4, ...job }]))[0]!;
}

export const TRANSIENT = { code: 'R_EFFECT_TRANSIENT', retryable: true } as const;


/** What `outage` made: the jobs by letter, their runs (A1: A's first attempt), the time between the two batches, D. */
export interface Outage {
  ids: Record<string, string>;
  runs: Record<string, string>;
  cut: number;
  D: JobRecord;
}

/**
 * A: failed once, retried, delivered. B: failed once, then for good (R_SCENARIO_CHANGED). C: dead. D: waits for its
 * retry in an hour. After the cut: F (scenario Other) and G dead. E: queued, never run.
 */
export async function outage(kind: Kind): Promise<Outage> {
  const store = await kind.open();
  const ids: Record<string, string> = {};
  const runs: Record<string, string> = {};
  let cut = 0;
  try {
    // A: failed once, retried, delivered. B: failed once, then stopped for good (R_SCENARIO_CHANGED). C: dead.
    ids.A = await enqueue(store);
    runs.A1 = await attempt(store, ids.A, { ...TRANSIENT, retryAt: Date.now() });
    runs.A2 = await attempt(store, ids.A, { ok: true });
    ids.B = await enqueue(store);
    runs.B1 = await attempt(store, ids.B, { ...TRANSIENT, retryAt: Date.now() });
    runs.B2 = await attempt(store, ids.B, { code: 'R_SCENARIO_CHANGED', retryable: false });
    ids.C = await enqueue(store, { maxAttempts: 1 });
    runs.C1 = await attempt(store, ids.C, TRANSIENT);
    // D: waits for its retry in an hour.
    ids.D = await enqueue(store);
    runs.D1 = await attempt(store, ids.D, { ...TRANSIENT, retryAt: Date.now() + 3_600_000 });
    // Later (the cut): F (another scenario) and G die.
    await new Promise((r) => setTimeout(r, 20));
    cut = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    ids.F = await enqueue(store, { scenario: 'Other', maxAttempts: 1 });
    runs.F1 = await attempt(store, ids.F, TRANSIENT);
    ids.G = await enqueue(store, { maxAttempts: 1 });
    runs.G1 = await attempt(store, ids.G, TRANSIENT);
    // E: queued, never run.
    ids.E = await enqueue(store);
  } finally {
    await store.close();
  }
  const D = await (async () => {
    const s = await kind.open();
    try {
      return (await s.getJob(ids.D!))!;
    } finally {
      await s.close();
    }
  })();

  return { ids, runs, cut, D };
}

/** The jobs' statuses now, read with a store of its own. */
export async function statusesNow(kind: Kind, ids: string[]): Promise<string[]> {
  const s = await kind.open();
  try {
    return await Promise.all(ids.map(async (id) => (await s.getJob(id))!.status));
  } finally {
    await s.close();
  }
}

/** Runs `fn` on a store of the kind opened for it, and closes it. */
export async function withStoreOf<T>(kind: Kind, fn: (s: Store) => Promise<T>): Promise<T> {
  const s = await kind.open();
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}
