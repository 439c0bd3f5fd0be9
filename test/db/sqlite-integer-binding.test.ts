// A whole number bound to a DbQuery statement on SQLite is an integer, as PostgreSQL takes it: a number variable
// (an HTTP status, an order number) stored in a TEXT column reads "200", not "200.0" (better-sqlite3 binds every
// JavaScript number as a REAL), and an untyped column keeps an integer. A fraction stays a REAL.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { endSpareSqliteProcesses, sqliteDriver } from '../../adapters/db/sqlite.js';
import { parseNamedSql } from '../../engine/index.js';
import { tempDir } from '../helpers.js';

describe('SQLite binds whole numbers as integers', () => {
  const tmp = tempDir();
  const file = join(tmp.dir, 'ints.sqlite');
  before(() => {
    const db = new Database(file);
    db.exec('CREATE TABLE t (label TEXT, n INTEGER, x)');
    db.close();
  });
  after(() => {
    endSpareSqliteProcesses();
    tmp.cleanup();
  });

  it('a whole number in a TEXT column is "200"; in an untyped column an integer; a fraction stays 1500.5', async () => {
    const d = sqliteDriver(file, false);
    try {
      const opts = { timeoutMs: 5000, maxRows: 10 };
      await d.query(parseNamedSql('INSERT INTO t (label, n, x) VALUES (:label, :n, :x)'), { label: 200, n: 7, x: 200 }, opts);
      await d.query(parseNamedSql('INSERT INTO t (label, n, x) VALUES (:label, :n, :x)'), { label: 1500.5, n: -3, x: 1500.5 }, opts);
      const r = await d.query(parseNamedSql('SELECT label, typeof(x) AS tx, x, n FROM t ORDER BY rowid'), {}, opts);
      assert.deepEqual(r.rows, [
        { label: '200', tx: 'integer', x: 200, n: 7 },
        { label: '1500.5', tx: 'real', x: 1500.5, n: -3 },
      ]);
      // Compared as the same integer: a row found by the number it was stored with.
      const found = await d.query(parseNamedSql('SELECT count(*) AS c FROM t WHERE label = :label'), { label: 200 }, opts);
      assert.deepEqual(found.rows, [{ c: 1 }]);
    } finally {
      await d.close();
    }
  });
});
