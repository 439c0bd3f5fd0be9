// PostgreSQL's `timestamp` (without time zone) holds a wall time. It must be read and written in the run's time zone,
// whatever the zone of the server process: before, pg read `2024-06-01 10:00:00` as 10:00 in the process's zone (UTC
// on most servers), which a Moscow run showed as 13:00, and wrote Now() as the process's wall time (18:05 Moscow
// stored as 15:05). A `timestamptz` keeps getting the same instant.
// Real parts: the oktell-emu binary (its process in UTC, the run in Europe/Moscow) and a real PostgreSQL.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { runCli } from '../cli/cli.helper.js';
import { tempDir } from '../helpers.js';
import { testPostgres } from '../store/postgres.helper.js';

const pg_ = await testPostgres();

describe('PostgreSQL timestamp without time zone', () => {
  it("is the run's wall time both ways", { skip: pg_.skip, timeout: 60_000 }, async () => {
    const table = `wall_time_${process.pid}_${Date.now()}`;
    const t = tempDir('oktell-wall-time-');
    const c = new pg.Client({ connectionString: pg_.url! });
    await c.connect();
    try {
      await c.query(`CREATE TABLE ${table} (id int PRIMARY KEY, ts timestamp, tstz timestamptz)`);
      await c.query(`INSERT INTO ${table} VALUES (1, '2024-06-01 10:00:00', '2024-06-01 10:00:00+03')`);
      mkdirSync(join(t.dir, 'scenarios'));
      writeFileSync(
        join(t.dir, 'scenarios', 'WallTime.yaml'),
        `variables: { ts: datetime, tstz: datetime, text: string, written: string, back: string }
start: read
blocks:
  read:
    kind: DbQuery
    connection: crm
    sql: SELECT ts, tstz, ts AS text FROM ${table} WHERE id = 1
    exits: { success: write }
  write:
    kind: DbQuery
    connection: crm
    sql: INSERT INTO ${table} VALUES (2, :at, :instant)
    params: { at: 'Now()', instant: 'Now()' }
    exits: { success: again }
  again:
    kind: DbQuery
    connection: crm
    sql: SELECT ts::text AS written, to_char(tstz AT TIME ZONE 'Europe/Moscow', 'YYYY-MM-DD HH24:MI') AS back FROM ${table} WHERE id = 2
    exits: { success: r }
  r:
    kind: ReturnValue
    values: { 1: 'FormatDate([ts], "dd.MM.yyyy HH:mm")', 2: 'FormatDate([tstz], "dd.MM.yyyy HH:mm")', 3: '[text]', 4: '[written]', 5: '[back]' }
`,
      );
      const r = runCli(['run', 'WallTime', '--scenarios', 'scenarios', '--dry-run', '--now', '2024-03-15T18:05', '--tz', 'Europe/Moscow', '--json'], {
        cwd: t.dir,
        env: { TZ: 'UTC', OKTELL_DATA_DIR: join(t.dir, 'var'), OKTELL_DB_CRM: pg_.url! },
        unset: ['OKTELL_SCENARIOS'],
      });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const out = JSON.parse(r.stdout) as { returnValues: Record<string, unknown> };
      assert.deepEqual(out.returnValues, { 1: '01.06.2024 10:00', 2: '01.06.2024 10:00', 3: '2024-06-01 10:00:00', 4: '2024-03-15 18:05:00', 5: '2024-03-15 18:05' });
    } finally {
      await c.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
      await c.end();
      t.cleanup();
    }
  });
});
