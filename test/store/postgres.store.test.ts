// The PostgreSQL store: the shared contract, plus what only several instances on one database show. Skipped without PostgreSQL.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { PG_MIGRATIONS, PgSchemaTooNewError } from '../../server/store/postgres.migrations.js';
import { isPostgresUrl, openPostgresStore, redactPostgresUrl, type PostgresStore, type PostgresStoreOptions } from '../../server/store/postgres.store.js';
import { StoreUnavailableError } from '../../server/store/store.errors.js';
import type { InboxEntryInput, Store } from '../../server/store/store.port.js';
import { dropSchema, querySchema, randomSchemaName, testPostgres, urlWithSchema } from './postgres.helper.js';
import { ManualClock, storeContractTests } from './store.contract.js';

const T = { timeout: 30_000 };
const pgAvailable = await testPostgres();

if (pgAvailable.url) {
  const baseUrl = pgAvailable.url;
  storeContractTests('PostgresStore', async (ctx) => {
    const schema = randomSchemaName('contract');
    const options: PostgresStoreOptions = {
      url: urlWithSchema(baseUrl, schema),
      clock: ctx.clock,
      backoff: ctx.backoff,
      defaultMaxAttempts: ctx.defaultMaxAttempts,
      timeZone: ctx.timeZone,
      poolSize: 4,
    };
    const rawSql = async (sql: string): Promise<void> => void (await querySchema(baseUrl, schema, sql));
    return { store: await openPostgresStore(options), cleanup: () => dropSchema(baseUrl, schema), reopen: () => openPostgresStore(options), rawSql };
  });
} else {
  it('PostgresStore passes the store contract (skipped: no PostgreSQL)', (t) => {
    t.skip(pgAvailable.skip);
  });
}

function request(i: number, dedupKey: string | null = `k${i}`): { inbox: InboxEntryInput } {
  return {
    inbox: { receivedAt: Date.now(), method: 'POST', path: `/hook?i=${i}`, headers: '', body: Buffer.from(`{"i":${i}}`), signature: 'absent', dedupKey },
  };
}

/** Runs `fn` with `n` stores opened on one fresh schema (as `n` server instances would be), then drops the schema. */
async function withInstances(t: { skip(reason?: string): void }, n: number, fn: (stores: PostgresStore[], ctx: { url: string; schema: string; clock: ManualClock }) => Promise<void>, over: Partial<PostgresStoreOptions> = {}): Promise<void> {
  if (pgAvailable.skip !== undefined) {
    t.skip(pgAvailable.skip);
    return;
  }
  const schema = randomSchemaName('multi');
  const clock = new ManualClock();
  const url = urlWithSchema(pgAvailable.url, schema);
  const stores: PostgresStore[] = [];
  try {
    for (let i = 0; i < n; i++) stores.push(await openPostgresStore({ url, clock, poolSize: 4, ...over }));
    await fn(stores, { url: pgAvailable.url, schema, clock });
  } finally {
    await Promise.all(stores.map((s) => s.close()));
    await dropSchema(pgAvailable.url, schema);
  }
}

describe('PostgresStore: several instances on one database', () => {
  it('never gives the same job to claimers in different instances racing for it', T, async (t) => {
    await withInstances(t, 3, async (stores) => {
      await stores[0]!.enqueueJobs(Array.from({ length: 300 }, (_, i) => ({ id: `j${i}`, scenario: 'S', params: { i } })));
      const claimed: string[] = [];
      const claimer = async (store: Store, worker: string) => {
        for (;;) {
          const jobs = await store.claimJobs(worker, 7, 60_000);
          if (jobs.length === 0) return;
          claimed.push(...jobs.map((j) => j.id));
        }
      };
      await Promise.all(stores.flatMap((s, i) => [claimer(s, `w${i}a`), claimer(s, `w${i}b`)]));
      assert.equal(claimed.length, 300);
      assert.equal(new Set(claimed).size, 300);
    });
  });

  it('hands a job to another instance once its lease expires, and only to one of them', T, async (t) => {
    await withInstances(t, 3, async ([a, b, c], { clock }) => {
      await a!.enqueueJobs([{ id: 'handover', scenario: 'S', params: {} }]);
      const [taken] = await a!.claimJobs('a-worker', 1, 5000);
      assert.equal(taken?.id, 'handover');
      clock.advance(4999);
      assert.deepEqual(await b!.claimJobs('b-worker', 5, 5000), [], 'the lease still holds on the other instance');
      clock.advance(1);
      const [fromB, fromC] = await Promise.all([b!.claimJobs('b-worker', 5, 5000), c!.claimJobs('c-worker', 5, 5000)]);
      const winners = [...fromB!, ...fromC!];
      assert.equal(winners.length, 1, 'exactly one instance takes the expired job');
      assert.equal(winners[0]!.attempts, 2);
      assert.deepEqual(await a!.heartbeat(['handover'], 'a-worker', 5000), [], 'the first owner cannot renew');
      assert.deepEqual(await a!.completeJob('handover', 'a-worker'), { accepted: false }, 'nor complete');
      assert.deepEqual(await (fromB!.length ? b! : c!).completeJob('handover', winners[0]!.leaseOwner!), { accepted: true });
    });
  });

  it('recognises one original among the same delivery recorded at once by different instances', T, async (t) => {
    await withInstances(t, 3, async (stores) => {
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => stores[i % 3]!.recordRequest({ ...request(i, 'bpium:1:77'), jobs: [{ scenario: 'S', params: { i } }] })));
      assert.equal(results.filter((r) => !r.duplicate).length, 1);
      const original = results.find((r) => !r.duplicate)!.inboxId;
      assert.ok(results.every((r) => r.inboxId === original));
      const counts = await stores[1]!.counts();
      assert.equal(counts.jobs.queued, 1, 'the jobs of the delivery are enqueued once');
      assert.deepEqual(counts.inbox, { total: 30, duplicates: 29 });
      assert.equal((await stores[2]!.getInboxEntry(original))?.duplicates, 29);
    });
  });

  it('keeps one shared secret: of instances asking at once with their own candidates, the first writer wins for all', T, async (t) => {
    await withInstances(t, 3, async (stores) => {
      const got = await Promise.all(stores.flatMap((s, i) => [s.sharedSecret!('console-csrf-secret', `candidate-${i}a`), s.sharedSecret!('console-csrf-secret', `candidate-${i}b`)]));
      assert.equal(new Set(got).size, 1, `one value for all: ${got.join(', ')}`);
      assert.match(got[0]!, /^candidate-\d[ab]$/);
      assert.equal(await stores[1]!.sharedSecret!('console-csrf-secret', 'later'), got[0], 'a later candidate does not replace it');
      assert.equal(await stores[2]!.sharedSecret!('other', 'x'), 'x', 'each name has its own');
    });
  });

  it('groups the webhooks of each instance into few transactions while all instances write at once', T, async (t) => {
    await withInstances(t, 2, async (stores) => {
      const n = 400;
      const before = stores.map((s) => s.stats().transactions);
      const results = await Promise.all(Array.from({ length: n }, (_, i) => stores[i % 2]!.recordRequest({ ...request(i), jobs: [{ scenario: 'S', params: { i } }] })));
      assert.equal(new Set(results.map((r) => r.inboxId)).size, n);
      const counts = await stores[0]!.counts();
      assert.equal(counts.inbox.total, n);
      assert.equal(counts.jobs.queued, n);
      const transactions = stores.reduce((sum, s, i) => sum + s.stats().transactions - before[i]!, 0);
      t.diagnostic(`${n} webhooks over 2 instances: ${transactions} transactions`);
      assert.ok(transactions <= 20, `expected grouped commits, got ${transactions}`);
    });
  });
});

describe('PostgresStore: values as the server writes them', () => {
  it('keeps a fractional run duration and a body that is not UTF-8, and stores NUL in free text without failing', T, async (t) => {
    await withInstances(t, 1, async ([store]) => {
      const startedAt = Date.UTC(2025, 0, 15, 9);
      const body = Buffer.from([0x00, 0xff, 0xfe, 0x7b]);
      const r = await store!.recordRequest({
        inbox: { ...request(1).inbox, body, response: { status: 200, body: 'ok\u0000then' } },
        run: { id: 'hook', scenario: 'Hook', version: 'v', trigger: 'http', status: 'completed', startedAt, finishedAt: startedAt + 1, durationMs: 1.232 },
      });
      assert.equal((await store!.getRun('hook'))?.durationMs, 1.232);
      const e = await store!.getInboxEntry(r.inboxId);
      assert.deepEqual([...e!.body], [...body]);
      assert.equal(e!.responseBody, 'ok\uFFFDthen');
    });
  });
});

describe('PostgresStore: schema', () => {
  it('applies the migrations once when several instances start at the same moment', T, async (t) => {
    if (!pgAvailable.url) return t.skip(pgAvailable.skip);
    const schema = randomSchemaName('migrate');
    const url = urlWithSchema(pgAvailable.url, schema);
    try {
      const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore({ url, poolSize: 2 })));
      await Promise.all(stores.map((s) => s.close()));
      await (await openPostgresStore({ url, poolSize: 1 })).close();
      const rows = await querySchema<{ version: number }>(pgAvailable.url, schema, 'SELECT version FROM schema_migrations ORDER BY version');
      assert.deepEqual(rows.map((r) => r.version), PG_MIGRATIONS.map((m) => m.version));
    } finally {
      await dropSchema(pgAvailable.url, schema);
    }
  });

  it('migration 3 keeps the runs of an older schema and takes the trigger task', T, async (t) => {
    if (!pgAvailable.url) return t.skip(pgAvailable.skip);
    const schema = randomSchemaName('upgrade');
    const url = urlWithSchema(pgAvailable.url, schema);
    try {
      await querySchema(pgAvailable.url, 'public', `CREATE SCHEMA ${schema}`);
      const older = PG_MIGRATIONS.filter((m) => m.version <= 2);
      await querySchema(pgAvailable.url, schema, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL);
        ${older.map((m) => `${m.sql}; INSERT INTO schema_migrations VALUES (${m.version}, 'v${m.version}', 0);`).join('\n')}
        INSERT INTO runs (id, scenario, version, trigger, status, started_at) VALUES ('r-old', 'Hook', 'v', 'http', 'completed', 1);`);
      const store = await openPostgresStore({ url, poolSize: 1 });
      try {
        assert.equal((await store.getRun('r-old'))?.trigger, 'http');
        const started = Date.UTC(2026, 0, 1);
        await store.recordRun({ id: 'r-task', scenario: 'Report', version: 'v', trigger: 'task', status: 'completed', startedAt: started, finishedAt: started + 1, durationMs: 1 });
        assert.equal((await store.getRun('r-task'))?.trigger, 'task');
      } finally {
        await store.close();
      }
      const rows = await querySchema<{ version: number }>(pgAvailable.url, schema, 'SELECT version FROM schema_migrations ORDER BY version');
      assert.deepEqual(rows.map((r) => r.version), PG_MIGRATIONS.map((m) => m.version));
    } finally {
      await dropSchema(pgAvailable.url, schema);
    }
  });

  it('migration 4 gives a job running in an older schema its last update as claim time, and the others none', T, async (t) => {
    if (!pgAvailable.url) return t.skip(pgAvailable.skip);
    const schema = randomSchemaName('upgrade');
    const url = urlWithSchema(pgAvailable.url, schema);
    try {
      await querySchema(pgAvailable.url, 'public', `CREATE SCHEMA ${schema}`);
      const older = PG_MIGRATIONS.filter((m) => m.version <= 3);
      const job = (id: string, status: string, attempts: number, owner: string, expires: string, updated: number) =>
        `INSERT INTO jobs (id, scenario, params, variables, trigger, max_attempts, next_run_at, status, attempts, lease_owner,
          lease_expires_at, created_at, updated_at) VALUES ('${id}', 'S', '{}', '{}', '{}', 3, 1, '${status}', ${attempts}, ${owner}, ${expires}, 1, ${updated});`;
      await querySchema(pgAvailable.url, schema, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL);
        ${older.map((m) => `${m.sql}; INSERT INTO schema_migrations VALUES (${m.version}, 'v${m.version}', 0);`).join('\n')}
        ${job('running', 'running', 1, "'w'", '9000', 5000)}
        ${job('queued', 'queued', 0, 'NULL', 'NULL', 2000)}`);
      const store = await openPostgresStore({ url, poolSize: 1 });
      try {
        assert.equal((await store.getJob('running'))?.claimedAt, 5000);
        assert.equal((await store.getJob('queued'))?.claimedAt, null);
      } finally {
        await store.close();
      }
    } finally {
      await dropSchema(pgAvailable.url, schema);
    }
  });

  it('refuses a schema migrated by a newer build', T, async (t) => {
    if (!pgAvailable.url) return t.skip(pgAvailable.skip);
    const schema = randomSchemaName('future');
    const url = urlWithSchema(pgAvailable.url, schema);
    try {
      await (await openPostgresStore({ url, poolSize: 1 })).close();
      await querySchema(pgAvailable.url, schema, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'from the future', 0)`);
      await assert.rejects(openPostgresStore({ url, poolSize: 1 }), PgSchemaTooNewError);
    } finally {
      await dropSchema(pgAvailable.url, schema);
    }
  });

  it('keeps each schema apart: two stores in two schemas of one database see only their own rows', T, async (t) => {
    if (!pgAvailable.url) return t.skip(pgAvailable.skip);
    const [s1, s2] = [randomSchemaName('apart'), randomSchemaName('apart')];
    const a = await openPostgresStore({ url: urlWithSchema(pgAvailable.url, s1), poolSize: 2 });
    const b = await openPostgresStore({ url: urlWithSchema(pgAvailable.url, s2), poolSize: 2 });
    try {
      await a.recordRequest(request(1));
      assert.equal((await a.counts()).inbox.total, 1);
      assert.equal((await b.counts()).inbox.total, 0);
    } finally {
      await a.close();
      await b.close();
      await dropSchema(pgAvailable.url, s1);
      await dropSchema(pgAvailable.url, s2);
    }
  });
});

describe('PostgresStore: when the database cannot be reached', () => {
  it('fails to open with StoreUnavailableError (io) when nothing listens at the address', T, async () => {
    await assert.rejects(
      openPostgresStore({ url: 'postgres://nobody:secret@127.0.0.1:1/none', connectTimeoutMs: 1000 }),
      (e: unknown) => e instanceof StoreUnavailableError && e.reason === 'io' && e.retryAfterSeconds > 0 && !e.message.includes('secret'),
    );
  });

  it('recovers after the server drops its connections: the next write gets a fresh one', T, async (t) => {
    await withInstances(t, 1, async ([store], { url }) => {
      await store!.recordRequest(request(1));
      const killed = await querySchema(url, 'public', `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'oktell-emu-terminate-me' AND pid <> pg_backend_pid()`);
      assert.ok(killed.length >= 1, 'the store had a connection to drop');
      await new Promise((r) => setTimeout(r, 100));
      let stored = 0;
      for (let i = 2; i < 6; i++) {
        try {
          await store!.recordRequest(request(i));
          stored++;
        } catch (e) {
          assert.ok(e instanceof StoreUnavailableError, `a dropped connection is reported as unavailable, got ${String(e)}`);
        }
      }
      assert.ok(stored >= 3, `writes succeed again (${stored} of 4)`);
      assert.equal((await store!.counts()).inbox.total, 1 + stored);
    }, { applicationName: 'oktell-emu-terminate-me' });
  });

  it('tells a PostgreSQL URL from a file path, and never shows the password in logs', () => {
    const cases: Array<[string | undefined, boolean]> = [
      ['postgres://u:p@h/db', true],
      ['postgresql://u:p@h:5433/db?schema=x', true],
      ['./var/oktell.sqlite', false],
      ['sqlite', false],
      [undefined, false],
    ];
    for (const [value, expected] of cases) assert.equal(isPostgresUrl(value), expected, String(value));
    // Every place a password can be written: the userinfo, and libpq's query parameters, which the driver accepts too.
    const shown: Array<[string, string]> = [
      ['postgres://oktell:hunter2@db:5432/oktell?schema=a', 'postgres://oktell:***@db:5432/oktell?schema=a'],
      ['postgres://oktell@db:5432/oktell?schema=a&password=hunter2', 'postgres://oktell@db:5432/oktell?schema=a&password=***'],
      ['postgres://oktell@db/oktell?PASSWORD=hunter2', 'postgres://oktell@db/oktell?PASSWORD=***'],
      ['postgres://oktell:hunter2@db/oktell?sslpassword=hunter3&schema=a', 'postgres://oktell:***@db/oktell?sslpassword=***&schema=a'],
      ['postgres://oktell@db/oktell', 'postgres://oktell@db/oktell'],
    ];
    for (const [url, expected] of shown) assert.equal(redactPostgresUrl(url), expected, url);
  });
});

describe('PostgresStore: delivery look-ups of one turn made together', () => {
  /** Counts the connections the pools of this process take while `fn` runs. */
  async function countingConnections<T>(fn: () => Promise<T>): Promise<{ result: T; connections: number }> {
    const original = pg.Pool.prototype.connect;
    let connections = 0;
    pg.Pool.prototype.connect = function (this: pg.Pool, ...args: unknown[]) {
      connections++;
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
    try {
      return { result: await fn(), connections };
    } finally {
      pg.Pool.prototype.connect = original;
    }
  }

  it('answers each look-up of a turn with its own original or none, through one query', T, async (t) => {
    await withInstances(t, 1, async ([store]) => {
      const first = await store!.recordRequest(request(1, 'bpium:1:1@*'));
      const second = await store!.recordRequest(request(2, 'bpium:1:2@*'));
      const keys = ['bpium:1:1@*', 'bpium:1:9@*', 'bpium:1:2@*', 'bpium:1:1@*', ...Array.from({ length: 8 }, (_, i) => `bpium:1:${20 + i}@*`)];
      const { result, connections } = await countingConnections(() => Promise.all(keys.map((k) => store!.findByDedupKey(k))));
      assert.equal(connections, 1, 'twelve look-ups asked in one turn take one connection');
      assert.equal(String(result[0]?.id), String(first.inboxId));
      assert.equal(result[1], undefined);
      assert.equal(String(result[2]?.id), String(second.inboxId));
      assert.equal(String(result[3]?.id), String(first.inboxId), 'the same key asked twice gets its original twice');
      assert.deepEqual(result.slice(4), Array(8).fill(undefined));
      // A write resolved before the look-up is asked is always seen by it.
      const third = await store!.recordRequest(request(3, 'bpium:1:3@*'));
      assert.equal(String((await store!.findByDedupKey('bpium:1:3@*'))?.id), String(third.inboxId));
    });
  });

  it('answers the look-ups asked before a close, and refuses those asked after it', T, async (t) => {
    await withInstances(t, 1, async ([store]) => {
      const stored = await store!.recordRequest(request(1, 'bpium:2:1@*'));
      const asked = [store!.findByDedupKey('bpium:2:1@*'), store!.findByDedupKey('bpium:2:2@*')];
      const closing = store!.close();
      const [found, none] = await Promise.all(asked);
      await closing;
      assert.equal(String(found?.id), String(stored.inboxId));
      assert.equal(none, undefined);
      await assert.rejects(store!.findByDedupKey('bpium:2:1@*'), (err: unknown) => err instanceof StoreUnavailableError && err.reason === 'closed');
    });
  });
});
