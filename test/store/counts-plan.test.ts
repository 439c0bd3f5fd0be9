// counts() answers /-/metrics and the console on the thread that acknowledges webhooks; on SQLite it once read every
// retained row (the inbox with its bodies, every run's status), 0.3 s at 200,000 webhooks on each scrape, while no
// webhook was answered (soak trial 47). Its statements must read no table rows and no index whole: each either counts
// a whole table's pages (the Count opcode) or searches a range (SEARCH). SQLite's own query plans of the statements,
// on a store file migrated as the server migrates it.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { COUNT_SQL } from '../../server/store/sqlite.statements.js';
import { tempDir } from '../helpers.js';

describe('the SQLite store counts without reading rows', () => {
  it('each count statement counts a whole table by its pages or searches an index range', async () => {
    const t = tempDir('oktell-counts-plan-');
    const file = join(t.dir, 'oktell.sqlite');
    await (await openSqliteStore({ file })).close();
    const db = new Database(file, { readonly: true });
    try {
      for (const [name, sql] of Object.entries(COUNT_SQL)) {
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail);
        const opcodes = (db.prepare(`EXPLAIN ${sql}`).all() as Array<{ opcode: string }>).map((r) => r.opcode);
        const scans = plan.filter((d) => d.startsWith('SCAN ') && d !== 'SCAN CONSTANT ROW');
        assert.ok(!plan.some((d) => /^SCAN (inbox|jobs|runs)$/.test(d)), `${name} reads the table's rows: ${JSON.stringify(plan)}`);
        // A scan is allowed only as COUNT(*) of the whole table, which SQLite answers from its pages' cell counts.
        assert.ok(scans.length <= opcodes.filter((o) => o === 'Count').length, `${name} scans an index whole: ${JSON.stringify(plan)}`);
      }
    } finally {
      db.close();
      t.cleanup();
    }
  });
});
