// A PostgreSQL SELECT that returns far more rows than the block's maxRows: only maxRows of them may be held in memory
// (rowCount still counts all). Before, pg kept every row of the answer until its end, and the block cut the list
// after: 200,000 rows of 2 KB took some 500 MB of a server's memory for the 1,000 a scenario gets. Here the query
// runs in a child process whose heap is limited to 64 MB, which keeping all the rows cannot fit in.
// Real parts: a real PostgreSQL, the real adapter in a real Node process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { repoPath } from '../helpers.js';
import { testPostgres } from '../store/postgres.helper.js';

const pg_ = await testPostgres();

describe('a PostgreSQL result larger than maxRows', () => {
  it('keeps maxRows rows in memory and counts the rest', { skip: pg_.skip, timeout: 120_000 }, () => {
    const adapter = pathToFileURL(repoPath('dist', 'adapters', 'db', 'index.js')).href;
    const engine = pathToFileURL(repoPath('dist', 'engine', 'index.js')).href;
    const code = `
      const { createDatabasePort } = await import(${JSON.stringify(adapter)});
      const { parseNamedSql } = await import(${JSON.stringify(engine)});
      const db = createDatabasePort({ crm: { dialect: 'postgres', url: process.env.PG_URL } });
      const r = await db.query('crm', parseNamedSql("SELECT g AS id, repeat('x', 2000) AS wide FROM generate_series(1, 200000) g"), {}, { timeoutMs: 100000, maxRows: 1000 });
      await db.close();
      process.stdout.write(JSON.stringify({ rowCount: r.rowCount, kept: r.rows.length, truncated: r.truncated, last: r.rows.at(-1).id, wide: r.rows[0].wide.length }));
    `;
    const run = spawnSync(process.execPath, ['--max-old-space-size=64', '--input-type=module', '-e', code], { encoding: 'utf8', env: { ...process.env, PG_URL: pg_.url! }, timeout: 110_000 });
    assert.equal(run.status, 0, `the child failed (${run.signal ?? run.status}): ${run.stderr.slice(-800)}`);
    assert.deepEqual(JSON.parse(run.stdout), { rowCount: 200000, kept: 1000, truncated: true, last: 1000, wide: 2000 });
  });
});
