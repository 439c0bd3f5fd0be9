// The pause of a scenario's delivery in the store (store/scenario-pause.ts), on SQLite and on PostgreSQL
// (OKTELL_TEST_PG_URL; skipped without it): claims skip its queued jobs (their attempts unused) and take the others'; a
// pause whose until passed, or a resume, makes them claimable; a replayed dead letter of it waits; the pause is read back
// by a store opened again; and a store made by the previous schema version is migrated to hold pauses.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { tempDir } from '../helpers.js';
import { storeKinds } from './store-kinds.helper.js';
import { applyMigrations, MIGRATIONS } from '../../server/store/sqlite.migrations.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { PAUSED_CLAIM_SQL } from '../../server/store/sqlite.statements.js';
import pgDriver from 'pg';
import { applyPgMigrations, PG_MIGRATIONS } from '../../server/store/postgres.migrations.js';
import { openPostgresStore } from '../../server/store/postgres.store.js';
import { dropSchema, querySchema, randomSchemaName, testPostgres, urlWithSchema } from './postgres.helper.js';
import type { Store } from '../../server/store/store.port.js';

const W = 'host:1:w1';
const kinds = await storeKinds('pause');
const tmp = tempDir('oktell-pause-store-');
after(() => tmp.cleanup());
const dir = () => mkdtempSync(join(tmp.dir, 'k-'));

const claimAll = async (store: Store) => (await store.claimJobs(W, 100, 60_000)).map((j) => j.id).sort();

for (const kind of kinds) {
  describe(`scenario pauses (${kind.name})`, { ...(kind.skip ? { skip: kind.skip } : {}) }, () => {
    it('a claim skips the queued jobs of a paused scenario, attempts unused, and takes them once resumed', async () => {
      const { store, drop } = await kind.open(dir());
      try {
        const paused = await store.pauseScenario({ scenario: 'Letters', by: 'ops', reason: 'SMTP down' });
        assert.deepEqual([paused.scenario, paused.by, paused.reason, paused.until, paused.queued], ['Letters', 'ops', 'SMTP down', null, 0]);
        const held = await store.enqueueJobs([{ scenario: 'Letters', params: {} }, { scenario: 'Letters', params: {} }]);
        const [other] = await store.enqueueJobs([{ scenario: 'Report', params: {} }]);
        assert.deepEqual(await claimAll(store), [other]);
        assert.deepEqual(await claimAll(store), [], 'nor on the next claim');
        for (const id of held) assert.deepEqual([(await store.getJob(id))!.status, (await store.getJob(id))!.attempts], ['queued', 0]);
        assert.equal(await store.oldestDueAt(Date.now()), undefined, 'the paused jobs are not a stuck backlog');
        assert.deepEqual((await store.pausedScenarios()).map((p) => [p.scenario, p.by, p.reason, p.queued]), [['Letters', 'ops', 'SMTP down', 2]]);
        // A dead letter of it replayed waits with the others.
        assert.deepEqual(await store.cancelJobs({ ids: [held[0]!] }, { code: 'R_CANCELLED', message: 'x' }), [held[0]]);
        assert.deepEqual(await store.requeue({ ids: [held[0]!] }), [held[0]]);
        assert.deepEqual(await claimAll(store), []);
        assert.equal(await store.resumeScenario('Letters'), true);
        assert.equal(await store.resumeScenario('Letters'), false, 'not paused any more');
        assert.deepEqual(await claimAll(store), [...held].sort());
        assert.deepEqual(await store.pausedScenarios(), []);
      } finally {
        await store.close();
        await drop();
      }
    });

    it('a pause with an until ends by itself then; pausing again replaces it', async () => {
      const { store, drop } = await kind.open(dir());
      try {
        await store.pauseScenario({ scenario: 'Letters', by: 'ops', until: Date.now() + 3_600_000 });
        const [id] = await store.enqueueJobs([{ scenario: 'Letters', params: {} }]);
        assert.deepEqual(await claimAll(store), []);
        const again = await store.pauseScenario({ scenario: 'Letters', by: 'console', until: Date.now() - 1 });
        assert.deepEqual([again.by, again.queued], ['console', 1]);
        assert.deepEqual(await store.pausedScenarios(), [], 'a pause whose until passed is not in force');
        assert.deepEqual(await claimAll(store), [id]);
      } finally {
        await store.close();
        await drop();
      }
    });

    it('while a scenario is paused, a claim takes the other scenarios\' due jobs in priority order up to its limit', async () => {
      const { store, drop } = await kind.open(dir());
      try {
        await store.pauseScenario({ scenario: 'Held', by: 'ops' });
        await store.enqueueJobs(Array.from({ length: 20 }, () => ({ scenario: 'Held', params: {}, priority: 9 })));
        const [low] = await store.enqueueJobs([{ scenario: 'Alpha', params: {}, priority: 0 }]);
        const [high] = await store.enqueueJobs([{ scenario: 'Beta', params: {}, priority: 5 }]);
        const [mid] = await store.enqueueJobs([{ scenario: 'Alpha', params: {}, priority: 3 }]);
        await store.enqueueJobs([{ scenario: 'Gamma', params: {}, priority: 7, runAt: Date.now() + 3_600_000 }]);
        assert.ok((await store.oldestDueAt(Date.now()))! > 0, 'the due jobs of the others are the backlog');
        assert.deepEqual((await store.claimJobs(W, 2, 60_000)).map((j) => j.id), [high, mid]);
        assert.deepEqual((await store.claimJobs(W, 5, 60_000)).map((j) => j.id), [low], 'not Held, not Gamma (due later)');
        assert.equal(await store.oldestDueAt(Date.now()), undefined);
        assert.equal((await store.pausedScenarios())[0]!.queued, 20);
      } finally {
        await store.close();
        await drop();
      }
    });
  });
}

describe('scenario pauses: a big paused backlog', () => {
  it('SQLite: the claim and the oldest-due read while paused use jobs_queued_scenario, not a walk of the queue', async () => {
    const file = join(dir(), 'plan.sqlite');
    await (await openSqliteStore({ file })).close();
    const db = new Database(file, { readonly: true });
    try {
      for (const [name, sql] of Object.entries(PAUSED_CLAIM_SQL)) {
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ now: 1, scenario: 'x', limit: 8 }) as Array<{ detail: string }>).map((r) => r.detail);
        assert.ok(plan.some((d) => /USING (COVERING )?INDEX jobs_queued_scenario/.test(d)), `${name}: ${plan.join(' | ')}`);
        assert.ok(!plan.some((d) => /^SCAN jobs\b/.test(d)), `${name} scans jobs: ${plan.join(' | ')}`);
      }
    } finally {
      db.close();
    }
  });
});

describe('scenario pauses: a store of the previous schema version', () => {
  it('SQLite: a file at schema 10 is migrated to 11 and its queued job is held by a pause', async () => {
    const file = join(dir(), 'old.sqlite');
    const old = new Database(file);
    applyMigrations(old, MIGRATIONS.filter((m) => m.version <= 10));
    old.prepare(`INSERT INTO jobs (id, scenario, params, variables, trigger, max_attempts, next_run_at, status, attempts, created_at, updated_at)
      VALUES ('old', 'Letters', '{}', '{}', '{}', 3, 1, 'queued', 0, 1, 1)`).run();
    old.close();
    assert.equal(MIGRATIONS.at(-1)!.version, 11);
    const store = await openSqliteStore({ file });
    try {
      await store.pauseScenario({ scenario: 'Letters', by: 'ops' });
      assert.deepEqual(await claimAll(store), []);
      assert.equal((await store.getJob('old'))!.attempts, 0);
      await store.resumeScenario('Letters');
      assert.deepEqual(await claimAll(store), ['old']);
    } finally {
      await store.close();
    }
  });

  it('PostgreSQL: a schema at version 9 is migrated to 10 and its queued job is held by a pause', async (t) => {
    const pg = await testPostgres();
    if (pg.skip !== undefined) return t.skip(pg.skip);
    const schema = randomSchemaName('pauseup');
    try {
      assert.equal(PG_MIGRATIONS.at(-1)!.version, 10);
      // As a server of the previous build left it: the migrations up to 9, applied the way a start applies them (an index
      // built CONCURRENTLY cannot run inside the one transaction a multi-statement query is).
      const client = new pgDriver.Client({ connectionString: pg.url, options: `-c search_path=${schema}` });
      await client.connect();
      try {
        await client.query(`CREATE SCHEMA ${schema}`);
        await applyPgMigrations(client as unknown as pgDriver.PoolClient, PG_MIGRATIONS.filter((m) => m.version <= 9));
      } finally {
        await client.end();
      }
      await querySchema(pg.url, schema, `INSERT INTO jobs (id, scenario, params, variables, trigger, max_attempts, next_run_at, status, attempts, created_at, updated_at)
          VALUES ('old', 'Letters', '{}', '{}', '{}', 3, 1, 'queued', 0, 1, 1);`);
      const store = await openPostgresStore({ url: urlWithSchema(pg.url, schema), poolSize: 1 });
      try {
        await store.pauseScenario({ scenario: 'Letters', by: 'ops' });
        assert.deepEqual(await claimAll(store), []);
        await store.resumeScenario('Letters');
        assert.deepEqual(await claimAll(store), ['old']);
      } finally {
        await store.close();
      }
    } finally {
      await dropSchema(pg.url, schema);
    }
  });
});
