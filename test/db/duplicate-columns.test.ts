// A result with two columns of the same name (`SELECT * FROM orders JOIN clients …`, both with an `id`) keeps only the
// last one's value in a row, on SQLite and PostgreSQL alike: the trace says so instead of losing the first silently
// (trial 56).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dialectDatabase, runWithDatabases, type DialectDatabase } from './run-with-databases.helper.js';
import { testPostgres } from '../store/postgres.helper.js';

const JOIN = `variables: { id: number, title: string, rows: string }
start: q
blocks:
  q:
    kind: DbQuery
    sql: SELECT * FROM orders o JOIN clients c ON c.id = o.client_id WHERE o.id = 7
    rows: rows
`;
const SETUP = `CREATE TABLE clients (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, client_id INTEGER, title TEXT);
INSERT INTO clients VALUES (3, 'Анна');
INSERT INTO orders VALUES (7, 3, 'Заказ')`;

for (const which of ['sqlite', 'postgres'] as const) {
  describe(`two columns of one name on ${which}`, async () => {
    const pgAvailable = which === 'postgres' ? await testPostgres() : undefined;
    const skip = pgAvailable?.skip;
    let db: DialectDatabase;
    before(async () => {
      if (skip) return;
      db = await dialectDatabase(which, { pgUrl: pgAvailable?.url, prefix: 'dup', setup: SETUP, scenarios: { 'Join.yaml': JOIN } });
    });
    after(async () => {
      if (!skip) await db.close();
    });

    it('the trace says which name came twice and that the last one is kept', { skip }, async () => {
      const r = await runWithDatabases(db.lib, 'Join', db.live);
      assert.equal(r.status, 'completed', JSON.stringify(r.error));
      assert.equal(r.variables.id, 3, "the last id is the client's");
      assert.equal(r.variables.title, 'Заказ');
      assert.deepEqual(JSON.parse(r.variables.rows as string), [{ id: 3, client_id: 3, title: 'Заказ', name: 'Анна' }]);
      const notes = r.trace.find((s) => s.block === 'q')?.notes ?? [];
      assert.ok(notes.some((n) => /^the result has several columns named id: a row keeps the last one's value/.test(n)), notes.join('\n'));
    });
  });
}
