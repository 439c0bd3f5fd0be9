// `test --from-run` decides from a statement's text whether the run wrote to a table (its later reads may then hold
// the run's own rows) and whether it made rows (INSERT, REPLACE): whatever comes before the verb (comments, a WITH of
// its own) and however the table's name is quoted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makesRows, writtenTable } from '../../cli/testing/recorded-rows.js';

const CASES: Array<[string, string | undefined, boolean]> = [
  ['INSERT INTO orders (a) VALUES (1)', 'orders', true],
  ['-- claim the new ones\nUPDATE Orders SET a = 1', 'orders', false],
  ["/* mark */ DELETE FROM orders WHERE id = 1", 'orders', false],
  ['WITH x AS (SELECT 1 AS "(") INSERT INTO orders SELECT * FROM x', 'orders', true],
  ["WITH a AS (SELECT ')' AS t), b AS (SELECT 2) UPDATE orders SET t = (SELECT t FROM a)", 'orders', false],
  ['with recursive r(n) as (select 1 union all select n + 1 from r where n < 3) delete from "Main"."Or""ders" where id in (select n from r)', 'main.or"ders', false],
  ['INSERT OR REPLACE INTO `log` VALUES (1)', 'log', true],
  ['REPLACE INTO [t] VALUES (1)', 't', true],
  ['INSERT INTO "order log" (note) VALUES (:n)', 'order log', true],
  ['update main.orders set x = 1', 'main.orders', false],
  ['SELECT * FROM orders', undefined, false],
  ["WITH a AS (SELECT 'update x') SELECT * FROM a", undefined, false],
];

describe('what a recorded statement wrote', () => {
  for (const [sql, table, rows] of CASES) {
    it(`${JSON.stringify(sql)} → ${table ?? 'no table'}${rows ? ', makes rows' : ''}`, () => {
      assert.equal(writtenTable(sql), table);
      assert.equal(makesRows(sql), rows);
    });
  }
});
