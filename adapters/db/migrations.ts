// Migrations for the SQLite connections: `<scenarios>/db/<connection>/*.sql`, applied in name order, each once
// (recorded in the table `oktell_migrations`), so an example's tables exist out of the box.
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DatabaseSettings } from './settings.js';

export interface MigrationReport {
  connection: string;
  applied: string[];
  /** Folders whose connection is not SQLite (or not configured): their files are left alone. */
  skipped?: string;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/**
 * Applies the new migration files of every SQLite connection that has a folder. A file runs in one transaction with
 * its record, so a failing file leaves no half of itself behind and is tried again at the next start.
 * @example applyMigrations(join(scenariosDir, 'db'), config.databases) // [{ connection: 'main', applied: ['001-clients.sql'] }]
 */
export function applyMigrations(dir: string, settings: DatabaseSettings): MigrationReport[] {
  if (!existsSync(dir)) return [];
  const reports: MigrationReport[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const connection = entry.name;
    const files = readdirSync(join(dir, connection)).filter((f) => f.endsWith('.sql')).sort();
    if (!files.length) continue;
    const s = settings[connection];
    if (!s || s.dialect !== 'sqlite') {
      reports.push({ connection, applied: [], skipped: s ? 'migrations are applied to SQLite connections only' : 'no such connection is configured' });
      continue;
    }
    mkdirSync(dirname(s.path), { recursive: true });
    const db = new Database(s.path);
    try {
      db.pragma('busy_timeout = 5000');
      db.exec('CREATE TABLE IF NOT EXISTS oktell_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
      const done = new Set((db.prepare('SELECT name FROM oktell_migrations').all() as Array<{ name: string }>).map((r) => r.name));
      const applied: string[] = [];
      for (const file of files) {
        if (done.has(file)) continue;
        const sql = readFileSync(join(dir, connection, file), 'utf8');
        try {
          db.transaction(() => {
            db.exec(sql);
            db.prepare('INSERT INTO oktell_migrations (name, applied_at) VALUES (?, ?)').run(file, new Date().toISOString());
          })();
        } catch (e) {
          throw new MigrationError(`db/${connection}/${file}: ${(e as Error).message}`);
        }
        applied.push(file);
      }
      reports.push({ connection, applied });
    } finally {
      db.close();
    }
  }
  return reports;
}
