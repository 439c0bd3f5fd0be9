// What a statement writes, as `test --from-run` and the DbQuery block read it from its text (`sqlWrites`, and
// `isReadOnlySql`, which decides what DbQuery journals as a write): the tables it writes (its later reads may then hold
// the run's own rows), whether it makes rows (INSERT, REPLACE, a MERGE that inserts) and whether it calls a procedure,
// whatever comes before the verb (comments, a WITH of its own) and however the table's name is quoted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rowsAsData } from '../../cli/testing/recorded-rows.js';
import { isReadOnlySql, parseNamedSql, sqlWrites } from '../../engine/index.js';

/** [statement, tables it writes, makes rows, calls a procedure, only reads] */
const CASES: Array<[string, string[], boolean, boolean, boolean]> = [
  ['INSERT INTO orders (a) VALUES (1)', ['orders'], true, false, false],
  ['-- claim the new ones\nUPDATE Orders SET a = 1', ['orders'], false, false, false],
  ["/* mark */ DELETE FROM orders WHERE id = 1", ['orders'], false, false, false],
  ['WITH x AS (SELECT 1 AS "(") INSERT INTO orders SELECT * FROM x', ['orders'], true, false, false],
  ["WITH a AS (SELECT ')' AS t), b AS (SELECT 2) UPDATE orders SET t = (SELECT t FROM a)", ['orders'], false, false, false],
  ['with recursive r(n) as (select 1 union all select n + 1 from r where n < 3) delete from "Main"."Or""ders" where id in (select n from r)', ['main.or"ders'], false, false, false],
  ['INSERT OR REPLACE INTO `log` VALUES (1)', ['log'], true, false, false],
  ['REPLACE INTO [t] VALUES (1)', ['t'], true, false, false],
  ['INSERT INTO "order log" (note) VALUES (:n)', ['order log'], true, false, false],
  ['update main.orders set x = 1', ['main.orders'], false, false, false],
  ['SELECT * FROM orders', [], false, false, true],
  ["WITH a AS (SELECT 'update x') SELECT * FROM a", [], false, false, true],
  // PostgreSQL's MERGE: the table after MERGE INTO is written; it makes rows when a WHEN NOT MATCHED inserts.
  ['MERGE INTO stock s USING incoming i ON s.id = i.id WHEN MATCHED THEN UPDATE SET qty = i.qty WHEN NOT MATCHED THEN INSERT (id, qty) VALUES (i.id, i.qty)', ['stock'], true, false, false],
  ['merge into "Stock" AS s using (select :id as id) n on s.id = n.id when matched then delete', ['stock'], false, false, false],
  ['/* sync */ MERGE INTO ONLY public.stock USING incoming ON stock.id = incoming.id WHEN MATCHED THEN UPDATE SET qty = 0', ['public.stock'], false, false, false],
  ['WITH n AS (SELECT :id AS id) MERGE INTO stock USING n ON stock.id = n.id WHEN NOT MATCHED THEN INSERT (id) VALUES (n.id)', ['stock'], true, false, false],
  ["INSERT INTO orders (id, status) VALUES (:id, 'new') ON CONFLICT (id) DO UPDATE SET status = excluded.status", ['orders'], true, false, false],
  ['UPDATE ONLY orders SET a = 1', ['orders'], false, false, false],
  ['DELETE FROM ONLY orders WHERE id = 1', ['orders'], false, false, false],
  // A WITH's own parts may write (PostgreSQL): each table they name is written.
  ['WITH moved AS (DELETE FROM queue WHERE id = :id RETURNING *) INSERT INTO done SELECT * FROM moved', ['done', 'queue'], true, false, false],
  ["WITH taken AS ( UPDATE jobs SET status = 'busy' WHERE id = 1 RETURNING id) SELECT id FROM taken", ['jobs'], false, false, false],
  ['TRUNCATE TABLE ONLY orders, "Log" RESTART IDENTITY', ['orders', 'log'], false, false, false],
  ['truncate orders', ['orders'], false, false, false],
  ['COPY orders (id, status) FROM STDIN', ['orders'], true, false, false],
  ['COPY orders TO STDOUT', [], false, false, false],
  // A procedure may write tables its call does not name.
  ['CALL close_day(:day)', [], false, true, false],
  ['EXEC dbo.CloseDay', [], false, true, false],
  // A row lock changes nothing; quoted text and names are not keywords.
  ["SELECT id FROM jobs WHERE status = 'new' LIMIT 1 FOR UPDATE SKIP LOCKED", [], false, false, true],
  ['SELECT id FROM jobs FOR NO KEY UPDATE', [], false, false, true],
  [`SELECT 'merge into x; (delete from y)' AS note, "update" FROM t`, [], false, false, true],
  // A write must not hide in what one dialect reads as text or a comment: PostgreSQL's E'…' backslash escapes, its
  // $$ text and its nested block comments (a second statement is never looked into: the statement is not a read).
  ["WITH a AS (SELECT E'it\\'s' AS s) UPDATE orders SET note = (SELECT s FROM a)", ['orders'], false, false, false],
  ["WITH a AS (SELECT e'\\'' AS s), d AS (DELETE FROM t RETURNING 1) SELECT * FROM d", ['t'], false, false, false],
  ["select $$'$$; delete from t; -- '", [], false, true, false],
  ["select 1 /* /* */ ' */ ; delete from t; -- '", [], false, true, false],
  ["SELECT note FROM clients WHERE note = E'a\\\\b' AND id = :id", [], false, false, true],
  ['SELECT 1; -- done', [], false, false, true],
  // A WITH part named like a verb is a name, not the statement's verb.
  ['WITH update_ids AS (SELECT id FROM o) UPDATE orders SET x = 1 WHERE id IN (SELECT id FROM update_ids)', ['orders'], false, false, false],
  ['WITH select_1 AS (SELECT 1) INSERT INTO t SELECT * FROM select_1', ['t'], true, false, false],
  // Statements that may write tables their text does not name as written.
  ['DO $$ BEGIN UPDATE orders SET x = 1; END $$', [], false, true, false],
  ['UPDATE log SET a = 1; UPDATE orders SET b = 2', ['log'], false, true, false],
  ['EXPLAIN ANALYZE UPDATE orders SET x = 1', [], false, true, false],
  ['EXPLAIN ( ANALYZE ) UPDATE orders SET x = 1', [], false, true, false],
  ['SELECT * INTO archive FROM orders', [], false, true, false],
  ['CREATE TABLE a AS SELECT * FROM b', [], false, true, false],
  ['SELECT id FROM orders WHERE id IN (SELECT x FROM y)', [], false, false, true],
];

describe('what a recorded statement wrote', () => {
  for (const [sql, tables, rows, procedure, readOnly] of CASES) {
    it(`${JSON.stringify(sql)} → ${tables.join(', ') || 'no table'}${rows ? ', makes rows' : ''}${procedure ? ', a procedure' : ''}${readOnly ? ', only reads' : ''}`, () => {
      assert.deepEqual(sqlWrites(sql), { tables, makesRows: rows, procedure });
      assert.equal(isReadOnlySql(parseNamedSql(sql)), readOnly);
    });
  }
});

describe('the rows a locking read found', () => {
  it('SELECT … FOR UPDATE SKIP LOCKED: its rows become data as a plain SELECT', () => {
    const data = rowsAsData({
      scenario: 'Take',
      block: 'next',
      connection: 'main',
      statement: "SELECT id FROM jobs WHERE status = 'new' FOR UPDATE SKIP LOCKED",
      params: {},
      columns: ['id'],
      rows: [{ id: 7 }],
      rowCount: 1,
    });
    assert.deepEqual(data, { sql: ["INSERT OR IGNORE INTO jobs (status, id) VALUES ('new', 7);"], table: 'jobs' });
  });
});
