// Files that hold secrets (the SQLite stores keep webhook bodies, secrets and credentials) are created readable by
// their owner only, whatever the umask; SQLite then gives its -wal, -shm and -journal files the same mode.
import { closeSync, constants, existsSync, fchownSync, fstatSync, lchownSync, mkdirSync, openSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { lstat, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Whether this process runs as root: it then follows no symbolic link in a folder another user may own. */
export function runningAsRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * The open() flags for reading a file in a data folder: as root, a symbolic link in the file's place is refused (ELOOP)
 * rather than followed. The folder's owner (a service's user, perhaps taken over) could put a link to /etc/shadow or a
 * file of /root there, and root would read it out. Any other user reads only what it may read anyway: links followed.
 */
export function readFlags(): number {
  // O_NONBLOCK: a named pipe in a file's place answers the open at once (without it, the open waits for a writer
  // forever, holding one of libuv's four threads, and the process cannot even exit); a regular file ignores it.
  const read = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);
  return runningAsRoot() ? read | constants.O_NOFOLLOW : read;
}

/**
 * Throws unless `st` (of a file just opened for reading, at `path`) is a regular file: a folder is EISDIR, as reading
 * it would say; a named pipe, socket or device is `E_NOT_A_FILE` (read, a pipe would wait for a writer).
 */
export function assertRegularFile(st: { isFile(): boolean; isDirectory(): boolean }, path: string): void {
  if (st.isFile()) return;
  const dir = st.isDirectory();
  const err = new Error(dir ? `EISDIR: illegal operation on a directory, read '${path}'` : `${path} is not a regular file (a named pipe, socket or device)`) as NodeJS.ErrnoException;
  err.code = dir ? 'EISDIR' : 'E_NOT_A_FILE';
  throw err;
}

/** A symbolic link root refused to follow; its message names the path, why, and what to do. */
export class RefusedLinkError extends Error {
  readonly code = 'E_LINK_AS_ROOT';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'RefusedLinkError';
  }
}

/**
 * The refusal of the symbolic link at `path` (`what`: 'the outbox', 'the credentials file'): where it points, why root
 * does not follow it, and `fix`, what to do instead; running as the folder's owner is always a way.
 */
export function refusedLink(path: string, what: string, fix: string): RefusedLinkError {
  return new RefusedLinkError(
    path,
    `${what} ${path} is a symbolic link (to ${linkTarget(path)}): oktell-emu running as root does not follow it, since whoever owns the folder it is in could point it at /etc or /root and have root write or read there. ` +
      `Fix: ${fix}, or run the command as the data folder's owner (sudo -u <owner> …)`,
  );
}

/** Where the link at `path` points, for a message; '?' when it cannot be read. */
export function linkTarget(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '?';
  }
}

/** Whether `err`, from an open with O_NOFOLLOW, means a symbolic link was in the way (Linux ELOOP; some systems EMLINK or EFTYPE). */
export function isLinkRefusal(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ELOOP' || code === 'EMLINK' || code === 'EFTYPE';
}

/** How to word the refusal of a symbolic link in a file's place (`refusedLink`): what the file is, what to do. */
export interface LinkWords {
  what: string;
  fix: string;
}

/**
 * The error to throw for a failed open of the file `shown` for reading: with `link`, a symbolic link root refused
 * (`isLinkRefusal`) becomes `refusedLink(shown, link.what, link.fix)`; any other error, or any without `link`, is
 * thrown as it is.
 */
function openFailure(err: unknown, shown: string, link: LinkWords | undefined): unknown {
  return link && isLinkRefusal(err) ? refusedLink(shown, link.what, link.fix) : err;
}

/**
 * Opens the file `via` to read it (`readFlags()`: as root, a symbolic link in its place is refused) and checks that it
 * is a regular file (`assertRegularFile`: a folder is EISDIR, a named pipe, socket or device E_NOT_A_FILE; a pipe
 * would hold the read forever). `shown`: the file's path for messages, where `via` reaches it through a pinned folder
 * (`withPinnedFolder`). A link refused is a `RefusedLinkError` worded by `link`, or without it the open's own error
 * (ELOOP). The caller closes the handle; `size` is the file's at the open (from the same stat).
 */
export async function openRegularFile(via: string, shown: string = via, link?: LinkWords): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    handle = await open(via, readFlags());
  } catch (err) {
    throw openFailure(err, shown, link);
  }
  try {
    const st = await handle.stat();
    assertRegularFile(st, shown);
    return { handle, size: st.size };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** `openRegularFile`, synchronous: the file descriptor, which the caller closes. */
export function openRegularFileSync(via: string, shown: string = via, link?: LinkWords): number {
  let fd: number;
  try {
    fd = openSync(via, readFlags());
  } catch (err) {
    throw openFailure(err, shown, link);
  }
  try {
    assertRegularFile(fstatSync(fd), shown);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

/** A folder opened so that it cannot be swapped while it is used: `path` reaches that very folder. */
export interface PinnedFolder {
  path: string;
  close(): Promise<void>;
}

/**
 * The folder `dir` (`what` names it in messages: 'the outbox') to list, read or write in. As root it is opened refusing
 * a symbolic link in its place (O_NOFOLLOW: a `RefusedLinkError`), and on Linux `path` is /proc/self/fd/N, which
 * reaches the folder opened, so a link put in its place meanwhile is not followed either; elsewhere a link is refused
 * by lstat. Any other user gets `dir` itself, links followed as before (an outbox linked to another disk works).
 * ENOENT and other failures of `dir` are thrown as they are.
 */
export async function pinFolder(dir: string, what: string): Promise<PinnedFolder> {
  const none = { path: dir, close: async () => undefined };
  if (!runningAsRoot()) return none;
  const refuse = () => refusedLink(dir, what, 'make it a real folder (remove the link, make the folder and move what it held into it)');
  if ((await lstat(dir)).isSymbolicLink()) throw refuse();
  let handle;
  try {
    handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (err) {
    // A link put there since the lstat: O_DIRECTORY with O_NOFOLLOW answers ENOTDIR (Linux) or ELOOP for a link.
    if ((await lstat(dir).catch(() => undefined))?.isSymbolicLink()) throw refuse();
    throw err;
  }
  const viaFd = `/proc/self/fd/${handle.fd}`;
  if (!existsSync(viaFd)) {
    await handle.close();
    return none;
  }
  return { path: viaFd, close: () => handle.close() };
}

/**
 * Runs `use` with the folder `dir` pinned (`pinFolder`; `what` names it in messages), given the path that reaches it,
 * and closes the folder after, whatever `use` did. A folder that cannot be pinned (missing, a symbolic link root
 * refuses, …) is answered by `failed`, which returns what stands for `use`'s result or throws; without `failed`, its
 * error is thrown as it is.
 */
export async function withPinnedFolder<T>(dir: string, what: string, use: (path: string) => Promise<T>, failed?: (err: unknown) => T | Promise<T>): Promise<T> {
  let pinned: PinnedFolder;
  try {
    pinned = await pinFolder(dir, what);
  } catch (err) {
    if (failed) return failed(err);
    throw err;
  }
  try {
    return await use(pinned.path);
  } catch (err) {
    throw namedByFolder(err, pinned.path, dir);
  } finally {
    await pinned.close();
  }
}

/**
 * `err` with the pinned path `via` (/proc/self/fd/N) put back as `dir` in its message and path: an administrator reading
 * "EROFS: read-only file system, open '/proc/self/fd/18/.x.eml.tmp'" cannot tell which folder that was.
 */
function namedByFolder(err: unknown, via: string, dir: string): unknown {
  if (via === dir || !(err instanceof Error)) return err;
  // Only the whole path: /proc/self/fd/18 must not turn /proc/self/fd/180 into the folder.
  const swap = (text: string) => text.split(via).reduce((out, part, i) => (i === 0 ? part : /^(?![0-9])/.test(part) ? `${out}${dir}${part}` : `${out}${via}${part}`), '');
  // Only what changes is set, and only where it can be: an error whose message cannot be written (frozen, or a
  // DOMException's getter) is thrown as it was, rather than the TypeError of the assignment in its place.
  const record = err as unknown as Record<string, unknown>;
  for (const key of ['message', 'path']) {
    const text = record[key];
    if (typeof text !== 'string') continue;
    const named = swap(text);
    if (named === text) continue;
    try {
      record[key] = named;
    } catch {
      // Left as it was.
    }
  }
  return err;
}

/** Creates `file` empty with mode 0600 unless it exists already (an existing file keeps its mode). */
export function createPrivateFile(file: string): void {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return;
  }
  try {
    giveToFolderOwner(file, fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `text` into `file` made new (mode 0600, 'wx': never through a link already in its place, and an existing
 * entry is an error), given to the folder's owner through the descriptor it was made with (`giveToFolderOwner`).
 */
export function writeNewPrivateFile(file: string, text: string): void {
  const fd = openSync(file, 'wx', 0o600);
  try {
    giveToFolderOwner(file, fd);
    writeFileSync(fd, text);
  } catch (e) {
    // A full disk (ENOSPC) or a quota lets the file be made and refuses its text: what was made is no use to anyone,
    // and the error, which names no file when written through a descriptor, is given the file's name.
    closeSync(fd);
    rmSync(file, { force: true });
    throw namedFileError(e, file);
  }
  closeSync(fd);
}

/** `e` with `path` set to `file` when it is a file-system error that names none (a write through a descriptor). */
export function namedFileError(e: unknown, file: string): unknown {
  const f = e as NodeJS.ErrnoException;
  if (e instanceof Error && typeof f.code === 'string' && typeof f.syscall === 'string' && f.path === undefined) f.path = file;
  return e;
}

/**
 * Run as root (an administrator's `oktell-emu run`, `tasks run` or `serve` on the data folder of a service that runs
 * as its own user), gives the file or folder `path` just made to the owner and group of the folder it is in, as SQLite
 * does for the -wal and -shm files it makes. Otherwise a root-owned file of mode 600 is left in the service's folder:
 * a letter the console's outbox page and `oktell-emu outbox` cannot read, a database the service cannot open. Nothing
 * changes for any other user, or in a folder root owns. The folder's owner could put a link to /etc/shadow in the
 * file's place meanwhile, and root would hand that over: with `fd`, the descriptor the file was made with, that very
 * file is given (fchown), whatever is at its name now, a hard link included; without one (a folder just made), the
 * path itself, never what a symbolic link there points to (lchown).
 */
export function giveToFolderOwner(path: string, fd?: number): void {
  if (process.getuid?.() !== 0) return;
  try {
    const folder = statSync(dirname(path));
    if (folder.uid === 0) return;
    if (fd === undefined) lchownSync(path, folder.uid, folder.gid);
    else fchownSync(fd, folder.uid, folder.gid);
  } catch {
    // A file system where root may not give files away (NFS with root_squash, some FUSE mounts): left as made.
  }
}

/** A path SQLite opens as a file of that name (not `:memory:`, not a `file:` URI). */
export function isPlainDatabaseFile(path: string): boolean {
  return path !== '' && path !== ':memory:' && !path.startsWith('file:');
}

/**
 * Creates the SQLite database `path` empty with mode 0600, and its folder 0700 when missing, before a driver opens
 * it: a file the driver creates itself gets 0644 under the usual umask 022.
 */
export function createPrivateDatabase(path: string): void {
  if (!isPlainDatabaseFile(path)) return;
  makePrivateFolder(dirname(path));
  createPrivateFile(path);
}

/**
 * Creates the folder `dir` with mode 0700 and the missing folders above it with the usual mode, one level at a time.
 * Returns whether `dir` was made now (false: it was there). Node's recursive mkdir never returns on some paths (under
 * /proc it loops on ENOENT/EEXIST, deaf to SIGTERM), and it would give its mode to the folders above too.
 */
export function makePrivateFolder(dir: string): boolean {
  const missing: string[] = [];
  let found = dir;
  while (!existsSync(found) && dirname(found) !== found) {
    missing.unshift(found);
    found = dirname(found);
  }
  if (!missing.length) return false;
  if (!statSync(found).isDirectory()) throw new Error(`${found} is not a folder`);
  for (const m of missing) {
    try {
      mkdirSync(m, m === dir ? 0o700 : 0o777);
    } catch (e) {
      // Made meanwhile by another process: as good.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      continue;
    }
    giveToFolderOwner(m);
  }
  return true;
}
