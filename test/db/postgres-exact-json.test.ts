// PostgreSQL json, jsonb, int8[] and numeric[] columns reach a scenario without losing digits: before, pg parsed
// json and wrote it again (9007199254740993 became 9007199254740992) and read numeric[] elements as floats
// (123456789012345678901234.56789 became 1.2345678901234569e+23), silently. Now json is the server's own text, and
// array elements follow the rule of their scalar type: a number when one holds the value exactly, else the text.
// Real parts: a real PostgreSQL and the real adapter.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDatabasePort } from '../../adapters/db/index.js';
import { parseNamedSql } from '../../engine/index.js';
import { testPostgres } from '../store/postgres.helper.js';

const pg_ = await testPostgres();

describe('PostgreSQL json and number arrays', () => {
  it('keep every digit', { skip: pg_.skip }, async () => {
    const db = createDatabasePort({ crm: { dialect: 'postgres', url: pg_.url! } });
    try {
      const sql = `SELECT '{"id": 9007199254740993, "n": [1.10]}'::json AS j, '{"id": 9007199254740993}'::jsonb AS jb,
                          ARRAY[123456789012345678901234.56789, 12.50, NULL]::numeric[] AS na, ARRAY[9007199254740993, 7]::int8[] AS ia,
                          NULL::jsonb AS nothing`;
      const r = await db.query('crm', parseNamedSql(sql), {}, { timeoutMs: 5000, maxRows: 10 });
      const row = r.rows[0]!;
      assert.equal(row.j, '{"id": 9007199254740993, "n": [1.10]}');
      assert.equal(JSON.parse(String(row.jb).replace(/9007199254740993/, '"exact"')).id, 'exact');
      assert.equal(row.na, '["123456789012345678901234.56789",12.5,null]');
      assert.equal(row.ia, '["9007199254740993",7]');
      assert.equal(row.nothing, null);
    } finally {
      await db.close();
    }
  });

  it('timestamp[] and date[] keep their wall times and days, as the scalars do, whatever the host zone', { skip: pg_.skip }, async () => {
    const db = createDatabasePort({ crm: { dialect: 'postgres', url: pg_.url! } });
    try {
      const sql = `SELECT ARRAY['2024-06-01 10:00:00'::timestamp, NULL] AS ta, ARRAY['2024-06-01'::date] AS da`;
      const r = await db.query('crm', parseNamedSql(sql), {}, { timeoutMs: 5000, maxRows: 10, timeZone: 'Europe/Moscow' });
      assert.equal(r.rows[0]!.ta, '["2024-06-01 10:00:00",null]');
      assert.equal(r.rows[0]!.da, '["2024-06-01"]');
    } finally {
      await db.close();
    }
  });
});
