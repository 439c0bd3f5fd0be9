// scenarios/db/<connection>/*.sql: applied in name order to SQLite connections, each once; a failing file leaves
// nothing of itself and names itself; `oktell-emu run` applies them before running.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { applyMigrations } from '../../adapters/db/migrations.js';
import { runCli } from '../cli/cli-process.js';
import { tempDir } from '../helpers.js';

describe('database migrations', () => {
  it('apply in name order, each once; other dialects and unknown connections are left alone', () => {
    const tmp = tempDir();
    try {
      const dir = join(tmp.dir, 'db');
      mkdirSync(join(dir, 'main'), { recursive: true });
      mkdirSync(join(dir, 'crm'));
      mkdirSync(join(dir, 'nowhere'));
      writeFileSync(join(dir, 'main', '002-seed.sql'), "INSERT INTO clients (phone, name) VALUES ('+74951234567', 'Анна');");
      writeFileSync(join(dir, 'main', '001-clients.sql'), 'CREATE TABLE clients (phone TEXT PRIMARY KEY, name TEXT);');
      writeFileSync(join(dir, 'crm', '001.sql'), 'SELECT 1;');
      writeFileSync(join(dir, 'nowhere', '001.sql'), 'SELECT 1;');
      const path = join(tmp.dir, 'var', 'main.sqlite');
      const settings = { main: { dialect: 'sqlite' as const, path }, crm: { dialect: 'postgres' as const, url: 'postgres://u@h/db' } };
      const first = applyMigrations(dir, settings);
      assert.deepEqual(first, [
        { connection: 'crm', applied: [], skipped: 'migrations are applied to SQLite connections only' },
        { connection: 'main', applied: ['001-clients.sql', '002-seed.sql'] },
        { connection: 'nowhere', applied: [], skipped: 'no such connection is configured' },
      ]);
      assert.deepEqual(applyMigrations(dir, settings).find((m) => m.connection === 'main'), { connection: 'main', applied: [] });
      const db = new Database(path, { readonly: true });
      assert.deepEqual(db.prepare('SELECT phone, name FROM clients').all(), [{ phone: '+74951234567', name: 'Анна' }]);
      db.close();
    } finally {
      tmp.cleanup();
    }
  });

  it('a failing file leaves nothing of itself, names itself, and is tried again next time', () => {
    const tmp = tempDir();
    try {
      const dir = join(tmp.dir, 'db');
      mkdirSync(join(dir, 'main'), { recursive: true });
      writeFileSync(join(dir, 'main', '001.sql'), 'CREATE TABLE a (x TEXT); CREATE TABLE oops (;');
      const path = join(tmp.dir, 'main.sqlite');
      assert.throws(() => applyMigrations(dir, { main: { dialect: 'sqlite', path } }), /^MigrationError: db\/main\/001\.sql: /);
      const db = new Database(path, { readonly: true });
      assert.deepEqual(db.prepare("SELECT name FROM sqlite_master WHERE name = 'a'").all(), []);
      assert.deepEqual(db.prepare('SELECT name FROM oktell_migrations').all(), []);
      db.close();
    } finally {
      tmp.cleanup();
    }
  });

  it('oktell-emu run applies them to the embedded main database before the run', () => {
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      const data = join(tmp.dir, 'var');
      mkdirSync(join(scenarios, 'db', 'main'), { recursive: true });
      writeFileSync(join(scenarios, 'db', 'main', '001-clients.sql'), "CREATE TABLE clients (phone TEXT PRIMARY KEY, name TEXT); INSERT INTO clients VALUES ('+7', 'Анна');");
      writeFileSync(
        join(scenarios, 'Find.yaml'),
        `variables: { name: string }\nstart: find\nblocks:\n  find:\n    kind: DbQuery\n    sql: SELECT name FROM clients WHERE phone = :phone\n    params: { phone: InputParameter(1) }\n`,
      );
      const r = runCli(['run', 'Find', '-p', '1=+7', '--json', '--scenarios', scenarios, '--data-dir', data], { OKTELL_DATA_DIR: data });
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.equal(JSON.parse(r.stdout).variables.name, 'Анна');
    } finally {
      tmp.cleanup();
    }
  });
});
