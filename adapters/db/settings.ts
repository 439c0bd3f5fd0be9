// The `databases:` section of oktell.config.yaml and OKTELL_DB_<NAME>: connection name → SQLite file or PostgreSQL.
// Passwords come from the environment or a file; no message here ever repeats a URL (it may hold a password).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { DbDialect } from '../../engine/index.js';
import { decodeTextFile } from '../../engine/text-file.js';
import { envSetting, envSettingsWithPrefix, unsetOrBlank, type Env } from '../../engine/env.js';

/**
 * `written`: where a configured SQLite connection came from and its value there (`databases.tasks`,
 * `sqlite:../data/tasks.sqlite`), so that a message about its file can quote what the user typed.
 */
export type DatabaseSetting = { dialect: 'sqlite'; path: string; written?: { setting: string; value: string } } | PostgresSetting;

/**
 * `written`: the setting that holds the connection's URL (`databases.crm.url`, `OKTELL_DB_CRM`) and, when the password
 * is kept apart, where it comes from (`the environment variable CRM_PW (passwordEnv of databases.crm)`), so that a
 * login the server refuses can name what to fix; never the password itself.
 * `passwordProblem`: only when loaded with `deferPasswords` (commands that never connect to these databases): why
 * the password kept out of the file could not be had (`url` then has none); such a connection is not opened.
 */
export type PostgresSetting = { dialect: 'postgres'; url: string; written?: { setting: string; password?: string }; passwordProblem?: string };

/** Connections by name; always has `main`. Plain data, so it crosses into the delivery thread as it is. */
export type DatabaseSettings = Record<string, DatabaseSetting>;

/** One entry of `databases:` in the file: `sqlite:PATH`, a postgres:// URL, or a URL with its password kept apart. */
export type DatabaseFileEntry = string | { url: string; passwordEnv?: string; passwordFile?: string };

export const DEFAULT_DATABASE = 'main';
const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export class DatabaseConfigError extends Error {
  override name = 'DatabaseConfigError';
}

/** Where the embedded default database lives. */
export function defaultDatabasePath(dataDir: string): string {
  return join(dataDir, 'main.sqlite');
}

/**
 * Connections from the file's `databases:` (relative SQLite paths against `baseDir`), then `OKTELL_DB_<NAME>`
 * variables (a whole URL, which wins); `main` defaults to an SQLite file in the data folder.
 * `deferPasswords`: for commands that never open these connections (`runs`, `show`, `webhook send`…): a password
 * that cannot be had (its passwordEnv unset, its passwordFile unreadable) is noted on the connection
 * (`passwordProblem`) instead of refusing the whole configuration; every other mistake is refused as ever.
 * @example databaseSettings({ crm: { url: 'postgres://oktell@db/crm', passwordEnv: 'CRM_DB_PASSWORD' } }, process.env, './var', process.cwd())
 */
export function databaseSettings(file: Readonly<Record<string, DatabaseFileEntry>> | undefined, env: Env, dataDir: string, baseDir: string, opts: { deferPasswords?: boolean } = {}): DatabaseSettings {
  const out: DatabaseSettings = { [DEFAULT_DATABASE]: { dialect: 'sqlite', path: defaultDatabasePath(dataDir) } };
  for (const [name, entry] of Object.entries(file ?? {})) {
    if (!NAME.test(name)) throw new DatabaseConfigError(`databases: "${name}" is not a connection name (letters, digits, "_" and "-", starting with a letter)`);
    out[name] = typeof entry === 'string' ? parseTarget(entry, `databases.${name}`, baseDir) : withPassword(entry, name, env, baseDir, opts.deferPasswords === true);
  }
  for (const [key, value] of envSettingsWithPrefix(env, 'OKTELL_DB_')) {
    const m = /^OKTELL_DB_([A-Z0-9_]+)$/.exec(key);
    if (!m) continue;
    const name = m[1]!.toLowerCase();
    out[Object.keys(out).find((n) => n.toLowerCase() === name) ?? name] = parseTarget(value, key, baseDir);
  }
  return out;
}

/** The dialect of each connection: what the scenario loader checks DbQuery and DbProcedure blocks against. */
export function databaseDialects(settings: DatabaseSettings): Record<string, DbDialect> {
  return Object.fromEntries(Object.entries(settings).map(([n, s]) => [n, s.dialect]));
}

/** A connection as it may be shown or logged: the SQLite path, or the PostgreSQL host and database, never the password. */
export function describeDatabase(s: DatabaseSetting): string {
  if (s.dialect === 'sqlite') return `sqlite:${s.path}`;
  const u = new URL(s.url);
  return `postgres://${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${u.pathname}`;
}

/**
 * The migration files (`*.sql`, in any letter case: `001-CLIENTS.SQL` as a Windows tool names it) of one connection's
 * folder, sorted; none when the folder does not exist.
 */
export function migrationFiles(folder: string): string[] {
  return existsSync(folder) ? readdirSync(folder).filter((f) => /\.sql$/i.test(f)).sort() : [];
}

/**
 * A migration file's SQL. One saved as UTF-16 or in windows-1251 is an Error naming where and how to save it as UTF-8
 * (read as UTF-8, SQLite answered `unrecognized token` or wrote `�` into the rows); one whose lines end in CR alone
 * (old Mac) has them end in LF, since SQLite ends a `--` comment only at LF and the comment on its first line took
 * the whole file: every statement was skipped, and the tables were missing with nothing said.
 */
export function migrationSql(path: string): string {
  const read = decodeTextFile(readFileSync(path));
  if (!read.ok) throw new Error(`${read.message}; ${read.hint}`);
  return read.text.includes('\r') && !read.text.includes('\n') ? read.text.replace(/\r/g, '\n') : read.text;
}

/**
 * The SQLite files of connections other than `main` that do not exist and that no migrations would make (no
 * `<migrationsDir>/<connection>/*.sql`): a mistyped path would otherwise become an empty database on first use, and
 * every statement a "no such table". `main` is the emulator's own, made on first use. One message per file, naming
 * the setting (with `configFile`, the file it is in), the path as written and resolved, and the fixes.
 */
export function missingDatabaseFiles(migrationsDir: string, settings: DatabaseSettings, configFile?: string): string[] {
  const out: string[] = [];
  for (const [name, s] of Object.entries(settings)) {
    if (name === DEFAULT_DATABASE || s.dialect !== 'sqlite' || existsSync(s.path)) continue;
    if (migrationFiles(join(migrationsDir, name)).length) continue;
    const w = s.written;
    const setting = w ? `${w.setting.startsWith('databases.') && configFile ? `${configFile}: ` : ''}${w.setting}: ` : '';
    const given = w ? `${w.value.replace(/^sqlite:/i, '')} (${s.path})` : s.path;
    out.push(`${setting}the SQLite database ${given} of connection "${name}" does not exist: check the path (a relative one is from the working directory); if the scenarios make their own tables there, create the file (an empty one will do), or give the connection migrations in ${fromCwd(join(migrationsDir, name))}/*.sql, which make it (docs/configuration.md, "Databases")`);
  }
  return out;
}

/** A path as a person in `cwd` would type it: relative when it is under `cwd`, else absolute. */
export function fromCwd(path: string, cwd = process.cwd()): string {
  const r = relative(cwd, path);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : path;
}

function parseTarget(value: string, where: string, baseDir: string): DatabaseSetting {
  const v = value.trim();
  if (/^sqlite:/i.test(v)) {
    const path = v.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path || path === ':memory:') throw new DatabaseConfigError(`${where}: sqlite: needs a file path, e.g. sqlite:./var/crm.sqlite`);
    return { dialect: 'sqlite', path: isAbsolute(path) ? path : resolve(baseDir, path), written: { setting: where.replace(/\.url$/, ''), value: v } };
  }
  if (/^postgres(ql)?:\/\//i.test(v)) {
    try {
      new URL(v);
    } catch {
      throw new DatabaseConfigError(`${where}: the postgres:// URL cannot be parsed (characters like @ : / in the password must be percent-encoded)`);
    }
    return { dialect: 'postgres', url: v, written: { setting: where } };
  }
  throw new DatabaseConfigError(`${where} must be sqlite:PATH or a postgres://user@host:5432/database URL`);
}

function withPassword(entry: Exclude<DatabaseFileEntry, string>, name: string, env: Env, baseDir: string, defer: boolean): DatabaseSetting {
  const where = `databases.${name}`;
  const target = parseTarget(entry.url, `${where}.url`, baseDir);
  if (entry.passwordEnv === undefined && entry.passwordFile === undefined) return target;
  if (target.dialect !== 'postgres') throw new DatabaseConfigError(`${where}: a password applies to PostgreSQL connections only`);
  const password = entry.passwordEnv !== undefined ? `the environment variable ${entry.passwordEnv} (passwordEnv of ${where})` : `the file ${isAbsolute(entry.passwordFile!) ? entry.passwordFile! : resolve(baseDir, entry.passwordFile!)} (passwordFile of ${where})`;
  const written = { setting: `${where}.url`, password };
  try {
    return { dialect: 'postgres', url: urlWithSecretPassword(target.url, entry, where, env, baseDir), written };
  } catch (e) {
    if (!defer || !(e instanceof DatabaseConfigError)) throw e;
    return { dialect: 'postgres', url: target.url, written, passwordProblem: e.message };
  }
}

/**
 * `url` with the password its entry keeps out of the file: the environment variable `passwordEnv` names, or the text
 * of `passwordFile` (relative to `baseDir`); `url` as it is when the entry names neither. Also used by the store's
 * `store: { url, passwordEnv | passwordFile }`. `where` names the setting in errors (DatabaseConfigError).
 */
export function urlWithSecretPassword(url: string, entry: { passwordEnv?: string | undefined; passwordFile?: string | undefined }, where: string, env: Env, baseDir: string): string {
  let password: string;
  if (entry.passwordEnv !== undefined) {
    const v = envSetting(env, entry.passwordEnv);
    if (v === undefined) throw new DatabaseConfigError(`${where}: the environment variable ${entry.passwordEnv} (passwordEnv) ${unsetOrBlank(env, entry.passwordEnv)}`);
    password = v;
  } else if (entry.passwordFile !== undefined) {
    const path = isAbsolute(entry.passwordFile) ? entry.passwordFile : resolve(baseDir, entry.passwordFile);
    try {
      password = readFileSync(path, 'utf8').trim();
    } catch (e) {
      throw new DatabaseConfigError(`${where}: cannot read passwordFile ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  } else {
    return url;
  }
  const u = new URL(url);
  u.password = encodeURIComponent(password);
  return u.toString();
}
