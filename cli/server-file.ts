// The addresses a running `serve` listens on, kept in a small file of its data folder so that `demo` and
// `webhook send` find a server started on other ports than the defaults. It holds no secret.
import { readFileSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { dataFolderHeld, pidRunning } from '../server/data-lock.js';
import { writeNewPrivateFile } from '../adapters/private-file.js';

export const SERVER_FILE = 'serve.json';

/**
 * The store of the folder's last server when that store is PostgreSQL, kept after the server stops (its `serve.json`
 * goes): a command given only the folder is still refused rather than answered from an empty SQLite file there. A
 * server that starts on the folder with SQLite removes it.
 */
export const STORE_FILE = 'store.json';

export interface ServerFile {
  /** The process that wrote it; a file whose process is gone is ignored. */
  pid: number;
  /**
   * When that process started, as Linux counts it (field 22 of `/proc/<pid>/stat`, clock ticks since boot), so that a
   * file whose pid now belongs to another process (the server was killed and the pid reused) is told from the running
   * server's. Absent where there is no /proc, and in the file of an older server: the pid alone decides then.
   */
  processStart?: string;
  /** The Oktell server, e.g. `http://127.0.0.1:4055`. */
  url: string;
  /** The embedded Bpium emulator, when `serve` started one. */
  bpiumEmulator?: string;
  /** The emulator's API login (BPIUM_LOGIN of the server, else the demo account). */
  bpiumEmulatorLogin?: string;
  /**
   * Whether the emulator takes the public demo password, which can then be printed in a hint. Its password itself is
   * never written here: a server started with its own BPIUM_PASSWORD keeps it to itself.
   */
  bpiumEmulatorDemoAccount?: boolean;
  /** Hook paths that require X-Hook-Signature (`*` = every path). */
  signedPaths: string[];
  startedAt: string;
  /**
   * The store the server uses, so that a command given only this folder does not read (or create) an empty SQLite file
   * next to a server whose jobs are in PostgreSQL. Absent in the file of an older server.
   */
  store?: ServerFileStore;
  /** The scenarios folder the server runs (absolute), so `test --from-run` can tell a case written for another one. */
  scenariosDir?: string;
  /**
   * The attempts the server gives every job it queues (workers.maxAttempts, OKTELL_MAX_ATTEMPTS), so that a job the
   * CLI queues for it (`tasks run`) is retried as the server's own, whatever the operator's shell sets. Absent in the
   * file of an older server.
   */
  maxAttempts?: number;
  /**
   * The configuration file the server reads its service tasks from and watches (absolute; it may not exist yet), so
   * that `tasks` says the server refused an edit only of the file it reads. Absent in the file of an older server.
   */
  configFile?: string;
  /**
   * The server's time zone (OKTELL_TZ, else `timeZone:`), so that `test --from-run` and `--against-runs`, which make
   * their cases in the command's own zone, can say when that is not the one the runs were made in. Absent in the file
   * of an older server.
   */
  timeZone?: string;
}

/**
 * `url` is masked (`redactPostgresUrl`): the file holds no secret. `configFile`: the configuration file whose `store:`
 * named it, when OKTELL_STORE did not.
 */
export type ServerFileStore = { kind: 'sqlite' } | { kind: 'postgres'; url: string; configFile?: string };

export function serverFilePath(dataDir: string): string {
  return join(dataDir, SERVER_FILE);
}

/** Written under a temporary name and renamed, so a reader never sees half a file. */
export function writeServerFile(dataDir: string, info: ServerFile): void {
  const file = serverFilePath(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  // Owner-only like the rest of the data folder: it says which process serves it, which is no one else's business.
  try {
    removeQuietly(tmp); // a leftover of a process of the same pid; 'wx' below never follows a link put there
    writeNewPrivateFile(tmp, `${JSON.stringify(info, null, 2)}\n`);
    renameSync(tmp, file);
  } catch (e) {
    removeQuietly(tmp); // what a full disk let through is no use to anyone
    throw e;
  }
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Never written, or gone already.
  }
}

/** Removes the file when it is still this process's (a newer server may have replaced it). */
export function removeServerFile(dataDir: string, pid = process.pid): void {
  const found = readServerFile(dataDir, () => true);
  if (found?.pid !== pid) return;
  try {
    unlinkSync(serverFilePath(dataDir));
  } catch {
    // Already gone: nothing to do.
  }
}

/**
 * Keeps `store.json` in step with the server that starts on the folder: written (owner-only, password masked, like
 * `serve.json`) for a PostgreSQL store, removed for SQLite.
 */
export function writeStoreFile(dataDir: string, store: ServerFileStore): void {
  const file = join(dataDir, STORE_FILE);
  if (store.kind === 'sqlite') {
    try {
      unlinkSync(file);
    } catch {
      // None: the folder was never a PostgreSQL server's.
    }
    return;
  }
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    removeQuietly(tmp);
    writeNewPrivateFile(tmp, `${JSON.stringify({ store, since: new Date().toISOString() }, null, 2)}\n`);
    renameSync(tmp, file);
  } catch (e) {
    removeQuietly(tmp);
    throw e;
  }
}

function readStoreFile(dataDir: string): ServerFileStore | undefined {
  try {
    return storeEntry((JSON.parse(readFileSync(join(dataDir, STORE_FILE), 'utf8')) as { store?: unknown } | null)?.store);
  } catch {
    return undefined;
  }
}

/**
 * When the process `pid` started (field 22 of /proc/<pid>/stat, ticks since boot), or undefined where that cannot be
 * read (no /proc, the process is gone, or /proc hides other users' processes).
 */
export function processStartOf(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces and parentheses itself: count from the last ")".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = fields[19]; // fields 3.. follow the name: field 22 is the 20th
  return start !== undefined && /^\d+$/.test(start) ? start : undefined;
}

/**
 * Whether the process that wrote a `serve.json` still runs: its pid is alive and, when the file recorded its start
 * (`processStart`) and /proc tells the pid's, that is the same start; else the pid belongs to another process now.
 */
function processAlive(pid: number, processStart?: string): boolean {
  if (!pidRunning(pid)) return false;
  if (processStart === undefined) return true;
  const now = processStartOf(pid);
  return now === undefined || now === processStart;
}

/** The running server's addresses, or undefined when no server of this data folder is running (or the file is bad). */
export function readServerFile(dataDir: string, alive: (pid: number, processStart?: string) => boolean = processAlive): ServerFile | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(serverFilePath(dataDir), 'utf8'));
  } catch {
    return undefined;
  }
  const f = parsed as Partial<ServerFile> | null;
  const processStart = typeof f?.processStart === 'string' ? f.processStart : undefined;
  if (!f || typeof f.pid !== 'number' || typeof f.url !== 'string' || !alive(f.pid, processStart)) return undefined;
  return {
    pid: f.pid,
    ...(processStart !== undefined ? { processStart } : {}),
    url: f.url,
    ...(typeof f.bpiumEmulator === 'string' ? { bpiumEmulator: f.bpiumEmulator } : {}),
    ...(typeof f.bpiumEmulatorLogin === 'string' ? { bpiumEmulatorLogin: f.bpiumEmulatorLogin } : {}),
    ...(typeof f.bpiumEmulatorDemoAccount === 'boolean' ? { bpiumEmulatorDemoAccount: f.bpiumEmulatorDemoAccount } : {}),
    signedPaths: Array.isArray(f.signedPaths) ? f.signedPaths.filter((p): p is string => typeof p === 'string') : [],
    startedAt: String(f.startedAt ?? ''),
    ...(storeEntry(f.store) ? { store: storeEntry(f.store)! } : {}),
    ...(typeof f.scenariosDir === 'string' ? { scenariosDir: f.scenariosDir } : {}),
    ...(typeof f.maxAttempts === 'number' && Number.isInteger(f.maxAttempts) && f.maxAttempts >= 1 ? { maxAttempts: f.maxAttempts } : {}),
    ...(typeof f.configFile === 'string' ? { configFile: f.configFile } : {}),
    ...(typeof f.timeZone === 'string' ? { timeZone: f.timeZone } : {}),
  };
}

function storeEntry(v: unknown): ServerFileStore | undefined {
  const s = v as { kind?: unknown; url?: unknown; configFile?: unknown } | null | undefined;
  if (s?.kind === 'sqlite') return { kind: 'sqlite' };
  if (s?.kind !== 'postgres' || typeof s.url !== 'string') return undefined;
  return { kind: 'postgres', url: s.url, ...(typeof s.configFile === 'string' ? { configFile: s.configFile } : {}) };
}

/**
 * A data folder's `serve.json`, read once for a command that asks several questions of it: `file` whatever became of
 * its process (a killed server's counts where the folder's store is concerned), `running` the same file when its
 * process still runs (what readServerFile answers), else undefined.
 */
export interface FolderServer {
  file: ServerFile | undefined;
  running: ServerFile | undefined;
}

export function readFolderServer(dataDir: string): FolderServer {
  const file = readServerFile(dataDir, () => true);
  return { file, running: file && processAlive(file.pid, file.processStart) ? file : undefined };
}

/**
 * The PostgreSQL store named by the folder's `serve.json`, with whether its server still runs. The file of a killed
 * server counts too: it was serving that folder with PostgreSQL, and most likely will again when restarted. With no
 * `serve.json` (its server stopped normally), the `store.json` that server left, unless a SQLite server holds the
 * folder's lock now; `pid` is then undefined. `server`: the folder's `serve.json` when the caller has read it already.
 */
export function folderPostgresStore(dataDir: string, server: FolderServer = readFolderServer(dataDir)): { url: string; configFile?: string; pid?: number; running: boolean; file: string } | undefined {
  const served = server.file;
  const store = served ? served.store : readStoreFile(dataDir);
  if (store?.kind !== 'postgres') return undefined;
  const configFile = store.configFile ? { configFile: store.configFile } : {};
  if (served) return { url: store.url, ...configFile, pid: served.pid, running: server.running !== undefined, file: SERVER_FILE };
  // A SQLite server holding the folder now decides over what a PostgreSQL server once left there.
  if (dataFolderHeld(dataDir)) return undefined;
  return { url: store.url, ...configFile, running: false, file: STORE_FILE };
}

/**
 * For a command that queued work into a data folder's SQLite store: a note when no server of that folder is running to
 * take it (the work waits). Undefined when one runs, or for PostgreSQL, whose servers may run on other machines.
 * `server`: the folder's `serve.json`, when the caller has read it already.
 */
export function noServerNote(settings: { dataDir: string; store: { kind: string } }, dataDirArg: string, server?: FolderServer): string | undefined {
  if (settings.store.kind !== 'sqlite' || (server ?? readFolderServer(settings.dataDir)).running) return undefined;
  return `no server is running with ${settings.dataDir}: the queued job(s) wait there until one starts (npx oktell-emu serve${dataDirArg})`;
}

/**
 * For `runs` and `show` on a SQLite store: what became of a job the store says is running when no server holds the
 * data folder (its lock is free and no `serve.json` process is alive): its server was killed mid-attempt, so the
 * attempt was cut off, and the next start on the folder resumes the job. Undefined while a server holds the folder,
 * and for PostgreSQL, where another instance may be running the job. `dataDirArg` is the folder as a flag.
 */
export function cutOffNote(settings: { dataDir: string; store: { kind: string } }, dataDirArg: string): string | undefined {
  if (settings.store.kind !== 'sqlite') return undefined;
  let held: boolean;
  try {
    held = dataFolderHeld(settings.dataDir);
  } catch {
    held = true; // cannot tell: say nothing new
  }
  if (held || readFolderServer(settings.dataDir).running) return undefined;
  return `no server is running with ${settings.dataDir}: its attempt was cut off when the server stopped, and the next start resumes the job (npx oktell-emu serve${dataDirArg})`;
}
