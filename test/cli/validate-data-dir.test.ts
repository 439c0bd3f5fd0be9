// `validate --data-dir` prepares DbQuery statements against that data folder's database, as `run --data-dir` runs
// them there; a data folder that does not exist is a usage error, not a check against an empty database.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const LOOKUP = (table: string) => `variables: { phone: string, name: string }
blocks:
  begin: { kind: Start, param: phone, exits: { next: q } }
  q:
    kind: DbQuery
    sql: SELECT name FROM ${table} WHERE phone = :phone
    params: { phone: '[phone]' }
    exits: { success: r, error: r }
  r: { kind: ReturnValue, values: { 1: '[name]' } }
`;

describe('oktell-emu validate --data-dir', () => {
  const tmp = tempDir();
  const data = join(tmp.dir, 'data');
  before(() => {
    mkdirSync(join(tmp.dir, 'w'));
    mkdirSync(data);
    // A table the data folder's database has, made outside any migration (by hand, or by an earlier run).
    const db = new Database(join(data, 'main.sqlite'));
    db.exec('CREATE TABLE callbacks (phone TEXT, name TEXT)');
    db.close();
    writeFileSync(join(tmp.dir, 'w', 'Lookup.yaml'), LOOKUP('callbacks'));
  });
  after(() => tmp.cleanup());
  const validate = (...args: string[]) => runCli(['validate', '--scenarios', 'w', '--json', ...args], { cwd: tmp.dir, unset: ['OKTELL_DATA_DIR', 'OKTELL_CONFIG'] });

  it('checks the statements against that folder\'s database', () => {
    const there = validate('--data-dir', 'data');
    assert.equal(there.code, 0, there.stdout + there.stderr);
    assert.equal(JSON.parse(there.stdout).valid, true);
    // The default folder (./var, absent) has no such table.
    const here = validate();
    assert.equal(here.code, 1, here.stdout);
    assert.deepEqual((JSON.parse(here.stdout) as { issues: Array<{ code: string; message: string }> }).issues.map((i) => [i.code, i.message]), [['E_SQL_PREPARE', 'the statement does not prepare on connection "main": no such table: callbacks']]);
  });

  it('finds a misspelt table there', () => {
    writeFileSync(join(tmp.dir, 'w', 'Lookup.yaml'), LOOKUP('calbacks'));
    try {
      const r = validate('--data-dir', 'data');
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, /no such table: calbacks/);
    } finally {
      writeFileSync(join(tmp.dir, 'w', 'Lookup.yaml'), LOOKUP('callbacks'));
    }
  });

  it('refuses a data folder that does not exist', () => {
    const r = validate('--data-dir', 'nodata');
    assert.equal(r.code, 2);
    assert.match(JSON.parse(r.stdout).error.message, /^no data folder .*nodata: /);
  });
});
