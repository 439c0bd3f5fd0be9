// The start log says what the store's migrations did: which versions this instance applied, or that it found the
// schema up to date, with the instance (host:pid) and the store, so an operator can tell which instance migrated.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { startServer } from '../../server/serve.js';
import { migratedText } from '../../server/store/migrated.js';
import { PG_MIGRATIONS } from '../../server/store/postgres.migrations.js';
import { redactPostgresUrl } from '../../server/store/postgres.store.js';
import { applyMigrations, MIGRATIONS } from '../../server/store/sqlite.migrations.js';
import { repoPath, tempDir } from '../helpers.js';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { capturingLogger, startTestServer, USER, type CapturedLine } from './server-helpers.js';

const T = { timeout: 60_000 };
const INSTANCE = `${hostname()}:${process.pid}`;
const versions = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** The migration record of a start, checked to be the only one. */
function migrationRecord(lines: readonly CapturedLine[]): CapturedLine {
  const found = lines.filter((l) => /^store (migrations applied|schema up to date)/.test(l.msg ?? ''));
  assert.equal(found.length, 1, JSON.stringify(lines.map((l) => l.msg)));
  assert.equal(found[0]!.level, 'info');
  return found[0]!;
}

/** Starts and stops a server on `dataDir`, returning its log lines. */
async function startAndStop(dataDir: string): Promise<CapturedLine[]> {
  const { lines, logger } = capturingLogger();
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    scenarios: repoPath('scenarios'),
    bpiumEmulatorPort: 0,
    watch: false,
    logger,
    env: { OKTELL_USERS: `${USER.login}:${USER.password}` },
  });
  await server.close(2000);
  return lines;
}

describe('the start log: store migrations (SQLite)', () => {
  const last = MIGRATIONS[MIGRATIONS.length - 1]!.version;

  it('a new store: every migration applied; the next start: up to date, with its version', T, async () => {
    const tmp = tempDir();
    try {
      const dataDir = join(tmp.dir, 'var');
      const first = migrationRecord(await startAndStop(dataDir));
      assert.equal(first.msg, `store migrations applied: 1–${last}`);
      assert.deepEqual(first.obj, { instance: INSTANCE, store: join(dataDir, 'oktell.sqlite'), applied: versions(1, last), version: last });

      const again = migrationRecord(await startAndStop(dataDir));
      assert.equal(again.msg, `store schema up to date (version ${last})`);
      assert.deepEqual(again.obj, { instance: INSTANCE, store: join(dataDir, 'oktell.sqlite'), applied: [], version: last });
    } finally {
      tmp.cleanup();
    }
  });

  it('a store of an older build: only the migrations it lacked', T, async () => {
    const tmp = tempDir();
    try {
      const dataDir = join(tmp.dir, 'var');
      mkdirSync(dataDir);
      const old = new Database(join(dataDir, 'oktell.sqlite'));
      applyMigrations(old, MIGRATIONS.filter((m) => m.version <= 2));
      old.close();
      const record = migrationRecord(await startAndStop(dataDir));
      assert.equal(record.msg, `store migrations applied: ${last === 3 ? '3' : `3–${last}`}`);
      assert.deepEqual(record.obj.applied, versions(3, last));
    } finally {
      tmp.cleanup();
    }
  });

  it('the words for a single version, a run and a list with a gap', () => {
    assert.equal(migratedText({ applied: [4], version: 4 }), 'store migrations applied: 4');
    assert.equal(migratedText({ applied: [2, 3], version: 3 }), 'store migrations applied: 2–3');
    assert.equal(migratedText({ applied: [2, 5], version: 5 }), 'store migrations applied: 2, 5');
    assert.equal(migratedText({ applied: [], version: 3 }), 'store schema up to date (version 3)');
  });
});

const pgAvailable = await testPostgres();

describe('the start log: store migrations (PostgreSQL)', () => {
  const last = PG_MIGRATIONS[PG_MIGRATIONS.length - 1]!.version;

  it('two instances starting together on a new schema: one applies the migrations, the other finds it up to date', T, async (t) => {
    if (pgAvailable.skip !== undefined) {
      t.skip(pgAvailable.skip);
      return;
    }
    const schema = randomSchemaName('migrlog');
    const storeUrl = urlWithSchema(pgAvailable.url, schema);
    const logs = [capturingLogger(), capturingLogger()];
    try {
      const servers = await Promise.all(logs.map(({ logger }) => startTestServer({ smtp: false, logger, env: { OKTELL_STORE: storeUrl } })));
      await Promise.all(servers.map((s) => s.cleanup()));
      const records = logs.map(({ lines }) => migrationRecord(lines));
      const messages = records.map((r) => r.msg).sort();
      assert.deepEqual(messages, [`store migrations applied: 1–${last}`, `store schema up to date (version ${last})`]);
      for (const r of records) {
        assert.equal(r.obj.instance, INSTANCE);
        assert.equal(r.obj.store, redactPostgresUrl(storeUrl));
        assert.equal(r.obj.version, last);
      }
      assert.doesNotMatch(JSON.stringify(records), new RegExp(`:${decodeURIComponent(new URL(storeUrl).password)}@`), 'the password is masked');
    } finally {
      await dropSchema(pgAvailable.url, schema);
    }
  });
});
