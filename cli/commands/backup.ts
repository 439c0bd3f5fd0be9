// `oktell-emu backup <file>`: a consistent copy of the SQLite store, taken while the server runs, through SQLite's
// online backup (better-sqlite3's `db.backup`). With a PostgreSQL store it prints the pg_dump command instead.
import Database from 'better-sqlite3';
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { existingDataDir, storeSettings, shellWord, UsageError } from '../config.js';
import { noRoomLine } from '../shell-word.js';
import { UnavailableError } from '../errors.js';
import { refuseSqliteBesidePostgres } from '../store.js';
import { knownSchemaVersion, SchemaTooNewError } from '../../server/store/sqlite.migrations.js';
import { COMMAND_AGAIN, sqliteOpenRefusal, sqliteSchemaRefusal, StoreOpenError } from '../../server/store/store-open.js';
import { pgSchemaOf } from '../../server/store/postgres.url.js';

type BackupOptions = { force?: boolean; json?: boolean; dataDir?: string; config?: string };

/** What a copy holds, read from the copy itself once it is written. */
export interface BackupCounts {
  webhooks: number;
  queued: number;
  running: number;
  /** Dead letters: jobs `dead` or `failed`, waiting for a replay. */
  deadLetters: number;
}

/** A file of the data folder that the copy of the store does not hold and that is worth keeping beside it. */
interface OtherFile {
  name: string;
  what: string;
}

export async function backupAction(target: string, o: BackupOptions): Promise<void> {
  const config = storeSettings(o);
  if (config.store.kind === 'postgres') return printPgDump(config.store.url, target, o.json);
  refuseSqliteBesidePostgres(config.dataDir);
  const store = join(existingDataDir(config.dataDir), 'oktell.sqlite');
  if (!existsSync(store)) throw new UsageError(`no store in ${config.dataDir}: ${store} does not exist, so there is nothing to back up; check the path (--data-dir, OKTELL_DATA_DIR, dataDir: of the configuration file)`);
  const file = resolve(target);
  checkTarget(file, store, o.force === true);

  const source = openSource(store);
  let version: number;
  try {
    version = schemaVersion(source, store);
    const tmp = join(dirname(file), `.${basename(file)}.partial-${process.pid}`);
    let counts: BackupCounts;
    try {
      createTemporary(tmp);
      // One step after the first: a single read snapshot of the store. In WAL mode a reader does not hold the
      // server's writes (they go on into the WAL meanwhile); copying in many small steps would start over at each
      // write the server makes between two steps, so under a steady flow of webhooks it might never end.
      await source.backup(tmp, { progress: () => 0x7fffffff });
      counts = checkCopy(tmp);
      syncFile(tmp);
      renameSync(tmp, file);
    } catch (e) {
      removeCopy(tmp);
      throw copyRefusal(e, file);
    }
    // The copy is in place from here on: what fails now does not take it back, and is said so.
    try {
      syncFile(dirname(file));
      const bytes = statSync(file).size;
      const others = otherFiles(config.dataDir);
      report({ store, file, bytes, version, counts, others, dataDir: config.dataDir }, o.json === true);
    } catch (e) {
      throw keptCopyError(e, file);
    }
  } finally {
    source.close();
  }
}

/**
 * Why the copy could not be written, when the disk it goes to refuses it (full, a quota, an I/O error): one line
 * naming the copy and what to do, exit 1, instead of the SQLite driver's stack trace. The store itself is only read,
 * so it is not what is full. Anything else is passed on as it is.
 */
function copyRefusal(e: unknown, file: string): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return e;
  const folder = dirname(file);
  const message = (e as Error).message;
  if (code.startsWith('SQLITE_FULL') || code === 'ENOSPC' || code === 'EDQUOT') {
    return new UnavailableError(`cannot write the copy ${file}: ${message} (${code}): ${noRoomLine(folder, code)} or back up to another disk; no copy was kept`);
  }
  if (code.startsWith('SQLITE_IOERR') || code === 'EIO') {
    return new UnavailableError(`cannot write the copy ${file}: ${message} (${code}): a disk answered with an I/O error while the store was read or the copy written in ${folder}: check them (dmesg) and this user's disk quota (quota -s; SQLite reports one exceeded this way too), or back up to another disk; no copy was kept`);
  }
  return e;
}

/**
 * What failed once the copy was renamed into place (reading its size, the report): the copy is there, written,
 * synced and checked, so the line says so instead of the refusal's "no copy was kept"; exit 1.
 */
function keptCopyError(e: unknown, file: string): UnavailableError {
  const code = (e as { code?: unknown } | null)?.code;
  const why = e instanceof Error ? e.message : String(e);
  return new UnavailableError(`the copy ${file} is in place (written, synced, quick_check ok), but it could not be reported on: ${why}${typeof code === 'string' && !why.includes(code) ? ` (${code})` : ''}; the copy is kept (ls -l ${shellWord(file)})`);
}

/** Refuses a target that cannot or must not be written, before anything is: exit 2, nothing written. */
function checkTarget(file: string, store: string, force: boolean): void {
  const folder = dirname(file);
  let isFolder = false;
  try {
    isFolder = statSync(folder).isDirectory();
  } catch {
    // said below
  }
  if (!isFolder) throw new UsageError(`cannot back up to ${file}: the folder ${folder} does not exist; make it first (mkdir -p ${shellWord(folder)}) or name a file in an existing folder; nothing was written`);
  const real = (p: string) => (existsSync(p) ? realpathSync(p) : join(realpathSync(dirname(p)), basename(p)));
  const own = [store, `${store}-wal`, `${store}-shm`, `${store}-journal`].map(real);
  if (own.includes(real(file))) throw new UsageError(`cannot back up to ${file}: that is the store itself (or its log); name a file outside the store's own files; nothing was written`);
  if (!existsSync(file)) return;
  if (statSync(file).isDirectory()) throw new UsageError(`cannot back up to ${file}: it is a folder; name the file to write, e.g. ${join(file, 'oktell.sqlite')}; nothing was written`);
  if (!force) throw new UsageError(`cannot back up to ${file}: the file exists; give --force to replace it, or name another file; nothing was written`);
}

/**
 * The store opened to be read: never created (fileMustExist), never migrated. Read-write, because a read-only
 * connection cannot open a WAL database whose -shm is missing (a server stopped cleanly removes it); it writes no data,
 * but when no server runs, its close is the last and folds a -wal left by a crash into the file (docs/store.md says so).
 */
function openSource(store: string): Database.Database {
  try {
    return new Database(store, { fileMustExist: true, timeout: 1000 });
  } catch (e) {
    throw new UnavailableError(`cannot open the store ${store}: ${(e as Error).message}; nothing was written`);
  }
}

/**
 * The store's schema version. A store migrated by a newer build is refused as the other commands refuse it. An older
 * one (a server of an older build runs on it, or a copy is taken before an upgrade) is copied as it is, not migrated:
 * the copy is for that build to start on.
 */
function schemaVersion(db: Database.Database, store: string): number {
  let version = 0;
  try {
    if (db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).get()) {
      version = (db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
    }
  } catch (e) {
    // A full disk (no room for the store's -shm, with no server running) or a failing one: said as the other commands say it.
    const refused = sqliteOpenRefusal(e, store, COMMAND_AGAIN);
    if (refused instanceof StoreOpenError) throw refused;
    throw new UnavailableError(`cannot read the store ${store}: ${(e as Error).message}; nothing was written (if SQLite says it is damaged, see docs/store.md, "A damaged file")`);
  }
  if (version === 0) throw new UsageError(`${store} holds no store of oktell-emu (no schema_migrations table): nothing to back up; nothing was written`);
  const known = knownSchemaVersion();
  if (version > known) throw sqliteSchemaRefusal(new SchemaTooNewError(version, known), store);
  return version;
}

/** Checks the copy (PRAGMA quick_check) and counts what it holds; a copy that fails the check is not kept. */
function checkCopy(tmp: string): BackupCounts {
  const damaged = (what: string) => new UnavailableError(`the copy fails SQLite's quick_check (${what}), so the store itself may be damaged: see docs/store.md, "A damaged file"; no copy was kept`);
  const db = new Database(tmp, { fileMustExist: true });
  try {
    let problems: string[];
    try {
      problems = (db.pragma('quick_check') as Array<{ quick_check: string }>).map((r) => r.quick_check.replace(/\s+/g, ' ').trim());
    } catch (e) {
      // A page SQLite cannot even walk stops the check itself (SQLITE_CORRUPT).
      throw damaged((e as Error).message);
    }
    if (problems.join() !== 'ok') throw damaged(`${problems.slice(0, 3).join('; ')}${problems.length > 3 ? `; ${problems.length - 3} more` : ''}`);
    const byStatus = Object.fromEntries((db.prepare('SELECT status, COUNT(*) AS n FROM jobs GROUP BY status').all() as Array<{ status: string; n: number }>).map((r) => [r.status, r.n]));
    const webhooks = (db.prepare('SELECT COUNT(*) AS n FROM inbox').get() as { n: number }).n;
    return { webhooks, queued: byStatus.queued ?? 0, running: byStatus.running ?? 0, deadLetters: (byStatus.dead ?? 0) + (byStatus.failed ?? 0) };
  } finally {
    // The last connection to close folds the copy's log back into it: one file is left, no -wal or -shm.
    db.close();
  }
}

/**
 * Creates the temporary copy empty, 0600, as a new file: one already at its name (a copy left by a backup killed
 * mid-way, or a file or link another user of a shared folder put there) is removed first, never written through, or
 * the backup stops when it cannot be (someone else's file in a sticky folder such as /tmp).
 */
function createTemporary(tmp: string): void {
  rmSync(tmp, { force: true });
  closeSync(openSync(tmp, 'wx', 0o600));
}

function syncFile(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    fsyncSync(fd);
  } catch {
    // A folder cannot be synced on every system; the rename is done all the same.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function removeCopy(tmp: string): void {
  for (const f of [tmp, `${tmp}-journal`, `${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
}

/** The files of the data folder the copy does not hold and a restore needs, those that exist. */
function otherFiles(dataDir: string): OtherFile[] {
  const known: OtherFile[] = [
    { name: 'server-user.json', what: 'the generated login of the console and the Web API (webhook senders use it)' },
    { name: 'bpium-webhook-secret', what: 'the secret webhooks of the embedded Bpium emulator are signed with' },
    { name: 'console-csrf-secret', what: "the console's form secret (a new one is made when it is missing)" },
    { name: 'main.sqlite', what: "the scenarios' default database (db/main): copy it with the server stopped, or with sqlite3 main.sqlite \".backup 'copy.sqlite'\"" },
    { name: 'bpium-emulator.sqlite', what: "the embedded Bpium emulator's records" },
  ];
  const found = known.filter((f) => existsSync(join(dataDir, f.name)));
  const outbox = join(dataDir, 'outbox');
  if (existsSync(outbox)) {
    let letters = 0;
    try {
      letters = readdirSync(outbox).filter((n) => n.endsWith('.eml')).length;
    } catch {
      // counted as none
    }
    found.push({ name: 'outbox/', what: `${letters} letter(s) written while SMTP_URL is unset` });
  }
  return found;
}

function size(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function report(r: { store: string; file: string; bytes: number; version: number; counts: BackupCounts; others: OtherFile[]; dataDir: string }, json: boolean): void {
  const known = knownSchemaVersion();
  if (json) {
    process.stdout.write(`${JSON.stringify({ store: r.store, file: r.file, bytes: r.bytes, schemaVersion: r.version, check: 'ok', ...r.counts, otherFiles: r.others.map((f) => join(r.dataDir, f.name)) })}\n`);
    return;
  }
  const c = r.counts;
  const lines = [
    `backed up ${r.store} to ${r.file} (${size(r.bytes)}, schema version ${r.version}, quick_check ok)`,
    `  in the copy: ${c.webhooks} webhook(s) received, ${c.queued} job(s) queued, ${c.running} running, ${c.deadLetters} dead letter(s)`,
  ];
  if (c.running) lines.push(`  the ${c.running} job(s) running at the copy run again when a server starts on it`);
  if (r.version < known) lines.push(`  the store is at schema version ${r.version}, older than this build's ${known}: copied as it is, not migrated`);
  if (r.others.length) {
    lines.push(`  not in the copy; keep these files of ${r.dataDir} with it (cp -a):`);
    for (const f of r.others) lines.push(`    ${f.name.padEnd(22)} ${f.what}`);
  }
  lines.push('  to restore: stop the server, move oktell.sqlite and its -wal and -shm aside, put the copy in place as oktell.sqlite, start (docs/store.md, "Backups and restore")');
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * The connection parameters libpq (and so pg_dump and pg_restore) takes in a URL. node-postgres takes some more of its
 * own (`?ssl=true`, `?uselibpqcompat=`), which pg_dump refuses with "invalid URI query parameter".
 */
const LIBPQ_PARAMS = new Set([
  'host', 'hostaddr', 'port', 'dbname', 'user', 'passfile', 'require_auth', 'channel_binding', 'connect_timeout',
  'client_encoding', 'options', 'application_name', 'fallback_application_name', 'keepalives', 'keepalives_idle',
  'keepalives_interval', 'keepalives_count', 'tcp_user_timeout', 'replication', 'gssencmode', 'sslmode', 'requiressl',
  'sslnegotiation', 'sslcompression', 'sslcert', 'sslkey', 'sslcertmode', 'sslrootcert', 'sslcrl', 'sslcrldir', 'sslsni',
  'requirepeer', 'ssl_min_protocol_version', 'ssl_max_protocol_version', 'krbsrvname', 'gsslib', 'gssdelegation',
  'service', 'target_session_attrs', 'load_balance_hosts',
]);

/**
 * The store URL as pg_dump takes it: no password (pg_dump reads it from PGPASSWORD or its password file), no
 * `?schema=` (given as `--schema`), node-postgres's `?ssl=true` as libpq's `sslmode=require`, and any other parameter
 * libpq does not know left out and named in `dropped`. node-postgres's own `sslmode=no-verify` (encrypted, the
 * certificate not checked), a value libpq refuses, is written as `sslmode=require`, which means the same to libpq.
 */
export function libpqUrl(url: string): { dbname: string; dropped: string[]; sslRequired: boolean; noVerify: boolean } {
  const u = new URL(url);
  u.password = '';
  const dropped: string[] = [];
  let sslRequired = false;
  for (const name of [...new Set(u.searchParams.keys())]) {
    if (name === 'ssl') {
      const on = ['true', '1'].includes(u.searchParams.get(name) ?? '');
      u.searchParams.delete(name);
      if (on && !u.searchParams.has('sslmode')) {
        u.searchParams.set('sslmode', 'require');
        sslRequired = true;
      }
    } else if (name === 'schema' || /password/i.test(name)) {
      u.searchParams.delete(name);
    } else if (!LIBPQ_PARAMS.has(name)) {
      u.searchParams.delete(name);
      dropped.push(name);
    }
  }
  const noVerify = u.searchParams.get('sslmode') === 'no-verify';
  if (noVerify) u.searchParams.set('sslmode', 'require');
  // Written back with %20 for a space: URLSearchParams writes "+", which libpq does not decode (it decodes %XX only),
  // so `options=-c%20statement_timeout%3D0` would reach the server as "-c+statement_timeout=0" and be refused.
  const query = [...u.searchParams].map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  u.search = query ? `?${query}` : '';
  return { dbname: u.toString(), dropped, sslRequired, noVerify };
}

/**
 * A PostgreSQL store is backed up with PostgreSQL's own tool: the command for the store's URL as libpq takes it
 * (`libpqUrl`), with `?schema=` turned into `--schema`.
 */
function printPgDump(url: string, target: string, json?: boolean): void {
  const schema = pgSchemaOf(url);
  let converted: ReturnType<typeof libpqUrl>;
  try {
    converted = libpqUrl(url);
  } catch {
    throw new UsageError('the PostgreSQL store URL cannot be read (OKTELL_STORE or store: of the configuration file)');
  }
  const { dbname, dropped, sslRequired, noVerify } = converted;
  // Without ?schema= the store's tables are in the first schema of the role's search_path, which the URL does not say:
  // the whole database is dumped rather than a guess at it (public) that could miss the store.
  const command = `pg_dump --dbname=${shellWord(dbname)}${schema ? ` --schema=${schema}` : ''} --format=custom --file=${shellWord(target)}`;
  if (json) {
    process.stdout.write(`${JSON.stringify({ store: 'postgres', schema: schema ?? null, command, droppedParams: dropped })}\n`);
    return;
  }
  const lines = [
    'the store is PostgreSQL: back it up with pg_dump, which takes a consistent snapshot while the servers run:',
    `  ${command}`,
    '  (the password from PGPASSWORD or the password file, PGPASSFILE; it is not printed)',
  ];
  if (sslRequired) lines.push("  ?ssl=true is node-postgres's own parameter: it is written as libpq's sslmode=require; to check the server's certificate as the server does, use sslmode=verify-full with sslrootcert=<the CA file> (or sslrootcert=system with PostgreSQL 16 or later)");
  if (noVerify) lines.push("  sslmode=no-verify is node-postgres's own value (encrypted, the certificate not checked), which pg_dump refuses: it is written as libpq's sslmode=require, which means the same");
  if (dropped.length) lines.push(`  left out of the URL, since pg_dump does not know ${dropped.length === 1 ? 'it' : 'them'}: ${dropped.map((n) => `?${n}=`).join(', ')}`);
  if (!schema) lines.push("  the URL names no ?schema=, so the store's tables are in the first schema of the role's search_path (SHOW search_path); the command dumps the whole database, which holds them");
  lines.push(`  to restore, with every server stopped: pg_restore --dbname=${shellWord(dbname)} --clean --if-exists ${shellWord(target)} (docs/store.md, "Backups and restore")`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
