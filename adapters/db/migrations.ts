// Migrations for the SQLite connections: `<scenarios>/db/<connection>/*.sql`, applied in name order, each once
// (recorded in the table `oktell_migrations`), so an example's tables exist out of the box.
import Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateDatabase } from '../private-file.js';
import { describeDatabase, fromCwd, migrationFiles, migrationSql, type DatabaseSettings } from './settings.js';

export interface MigrationReport {
  connection: string;
  applied: string[];
  /** Folders whose connection is not SQLite (or not configured): their files are left alone. */
  skipped?: string;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
  /**
   * `file`: the failing file, when one failed (its path), so a caller can point at it. `busy`: another program held
   * a lock on the database the whole wait: nothing is wrong with the scenarios, trying again later may work.
   * `connection` and `database` (as describeDatabase shows it, never a password): where the file was applied.
   */
  constructor(
    message: string,
    readonly file?: string,
    readonly busy = false,
    readonly connection?: string,
    readonly database?: string,
  ) {
    super(message);
  }
}

/**
 * What `serve` and `run` say when a migration fails, in one line: the file (from the working folder), the reason,
 * the connection and its database, and the fix. A file that creates what the database has already (made outside the
 * emulator, or by an earlier file of the folder, also in the fresh database of a test) is fixed by a file that changes
 * nothing there (IF NOT EXISTS).
 * @example migrationFailureText(e) // "scenarios/db/tasks/001-tasks.sql: table tasks already exists (connection \"tasks\", database sqlite:data/tasks.sqlite); …"
 */
export function migrationFailureText(e: MigrationError, cwd = process.cwd()): string {
  if (!e.file || !e.connection) return e.message;
  const reason = e.message.slice(e.message.indexOf(': ') + 2);
  const where = `connection "${e.connection}"${e.database ? `, database ${fromCwd(e.database.replace(/^sqlite:/, ''), cwd)}` : ''}`;
  return `${fromCwd(e.file, cwd)}: ${reason} (the migration of ${where}); ${migrationFix(reason)}`;
}

/** What to do about a migration the database refuses for `reason`, with the page that says more. */
export function migrationFix(reason: string): string {
  const fix = /already exists/i.test(reason)
    ? `that database has it already (made by an earlier migration of this folder, or outside the emulator): write CREATE TABLE IF NOT EXISTS (CREATE INDEX IF NOT EXISTS, INSERT OR IGNORE for the rows it adds), so the file changes nothing where it is there and still makes the table in the fresh databases of oktell-emu test; or drop the statement if an earlier file makes the same thing`
    : 'fix the file: it runs in one transaction, so nothing of it was kept, and it is tried again at the next start or run';
  return `${fix} (docs/configuration.md, "Tables out of the box")`;
}

/** A database that could not be read: `what` and the driver's reason, and whether another program held it locked. */
function cannotRead(what: string, e: unknown): MigrationError {
  const busy = (e as { code?: string }).code === 'SQLITE_BUSY';
  return new MigrationError(`${what}: ${(e as Error).message}${busy ? ' (another program holds a lock on it; waited 5 s)' : ''}`, undefined, busy);
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
    const files = migrationFiles(join(dir, connection));
    if (!files.length) continue;
    const s = settings[connection];
    if (!s || s.dialect !== 'sqlite') {
      reports.push({ connection, applied: [], skipped: s ? 'migrations are applied to SQLite connections only' : 'no such connection is configured' });
      continue;
    }
    let db: Database.Database | undefined;
    let done: Set<string>;
    try {
      // Usually made here, before DbQuery opens it: private as the driver makes it (sqlite.ts), for the same rows.
      createPrivateDatabase(s.path);
      db = new Database(s.path);
      db.pragma('busy_timeout = 5000');
      db.exec('CREATE TABLE IF NOT EXISTS oktell_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
      done = appliedMigrations(db);
    } catch (e) {
      db?.close();
      throw cannotRead(`db/${connection}: cannot check the migrations of ${s.path}`, e);
    }
    try {
      const applied: string[] = [];
      for (const file of files) {
        if (done.has(file)) continue;
        try {
          const sql = migrationSql(join(dir, connection, file));
          db.transaction(() => {
            db.exec(sql);
            db.prepare('INSERT INTO oktell_migrations (name, applied_at) VALUES (?, ?)').run(file, new Date().toISOString());
          })();
        } catch (e) {
          throw new MigrationError(`db/${connection}/${file}: ${(e as Error).message}`, join(dir, connection, file), false, connection, describeDatabase(s));
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

/**
 * For a dry run, which keeps nothing: the SQLite connections whose file does not exist yet, or whose migrations are
 * not all applied, are replaced by scratch databases in `scratchDir` (a copy of the file, migrated there); the others
 * are left as they are (their statements are rolled back). The real files are only read.
 */
export function scratchMigrated(dir: string, settings: DatabaseSettings, scratchDir: string): DatabaseSettings {
  const out: DatabaseSettings = { ...settings };
  for (const [name, s] of Object.entries(settings)) {
    if (s.dialect !== 'sqlite') continue;
    const copy = join(scratchDir, `${name}.sqlite`);
    // Not created yet: the dry run gets a scratch database (migrated below) rather than making the file.
    if (!existsSync(s.path)) {
      out[name] = { dialect: 'sqlite', path: copy };
      continue;
    }
    const folder = join(dir, name);
    const files = existsSync(folder) ? readdirSync(folder).filter((f) => /\.sql$/i.test(f)) : [];
    if (!files.length) continue;
    const db = new Database(s.path, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      const done = appliedMigrations(db);
      if (files.every((f) => done.has(f))) continue;
      db.prepare('VACUUM INTO ?').run(copy);
    } catch (e) {
      throw cannotRead(`db/${name}: cannot read ${s.path} for the dry run`, e);
    } finally {
      db.close();
    }
    out[name] = { dialect: 'sqlite', path: copy };
  }
  try {
    applyMigrations(dir, out);
  } catch (e) {
    // Said of the configured database, not of its scratch copy.
    const real = e instanceof MigrationError && e.connection ? settings[e.connection] : undefined;
    if (e instanceof MigrationError && real) throw new MigrationError(e.message, e.file, e.busy, e.connection, describeDatabase(real));
    throw e;
  }
  return out;
}

/** The migration files recorded as applied in a database; none when it has no `oktell_migrations` table yet. */
export function appliedMigrations(db: Database.Database): Set<string> {
  const known = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'oktell_migrations'`).get() !== undefined;
  return new Set(known ? (db.prepare('SELECT name FROM oktell_migrations').all() as Array<{ name: string }>).map((r) => r.name) : []);
}
