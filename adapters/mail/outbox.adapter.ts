// MailerPort that writes each letter as an RFC 5322 .eml file into a local outbox folder, and reads that folder back.
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type MailComposerType from 'nodemailer/lib/mail-composer';
import type addressparserType from 'nodemailer/lib/addressparser';
import { EffectError } from '../../engine/errors.js';
import { giveToFolderOwner, isLinkRefusal, linkTarget, RefusedLinkError, withPinnedFolder } from '../private-file.js';
import type { ClockPort, LoggerPort, MailMessage, MailReceipt, MailSendOptions, MailerPort } from '../../engine/ports.js';
import { DEFAULT_MAIL_FROM, makeMessageId, toSendMailOptions } from './compose.js';
import { buildSafeMessage, senderAddress, type MailLimits } from './message.js';
import { decodeHeaderWords, readHeaderBlock } from './header-reader.js';

export interface OutboxMailerOptions {
  /** The outbox folder, usually `<OKTELL_DATA_DIR>/outbox`; created on the first letter. */
  dir: string;
  /** MAIL_FROM: the sender of every letter that does not name its own. */
  from: string;
  clock?: ClockPort;
  logger?: LoggerPort;
  limits?: Partial<MailLimits>;
}

/** One stored letter as `listOutbox` reports it. */
export interface OutboxEntry {
  /** When it was written, ISO 8601 UTC with milliseconds. */
  time: string;
  /** Bare addresses (no display names). */
  to: string[];
  cc: string[];
  subject: string;
  /** Absolute path of the .eml file. */
  file: string;
  /** Message-ID header, angle brackets included. */
  messageId: string;
  /**
   * Set when the file could not be read (no permission, a folder or a symbolic link root does not follow in its place,
   * a broken file): why, in a few words. The other fields are then empty but `file` (and `time`, from the file name).
   */
  problem?: string;
}

// 20250101-120000-123-000007-1a2b3c4d.eml: UTC time to the millisecond, a per-process counter, random bits.
const FILE_NAME = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-(\d{3})-\d{6}-[0-9a-f]{8}\.eml$/;
let counter = 0;

function fileNameFor(time: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const stamp =
    `${time.getUTCFullYear()}${p(time.getUTCMonth() + 1)}${p(time.getUTCDate())}-` +
    `${p(time.getUTCHours())}${p(time.getUTCMinutes())}${p(time.getUTCSeconds())}-${p(time.getUTCMilliseconds(), 3)}`;
  counter = (counter + 1) % 1_000_000;
  return `${stamp}-${p(counter, 6)}-${randomBytes(4).toString('hex')}.eml`;
}

/**
 * Failures of the outbox's disk that may pass: a full disk or quota, too many open files, a disk error, the folder
 * removed while a letter was written (the next attempt makes it again), a network file system's stale handle.
 */
const PASSING = new Set(['ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE', 'EBUSY', 'EAGAIN', 'EIO', 'ENOENT', 'ESTALE']);

/** What to check for a failure that waiting will not fix, by its code. */
function settingHint(code: string | undefined): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'make the outbox folder writable by the server (its owner and mode, or an immutable attribute), or give it another data folder';
    case 'EROFS':
      return 'the outbox is on a read-only file system: mount it read-write, or give the server another data folder';
    case 'ENOTDIR':
    case 'EEXIST':
    case 'EISDIR':
      return 'a file stands where the outbox folder (or a folder above it) should be: move it away, or give the server another data folder';
    case 'ENOENT':
      return 'the outbox folder cannot be made: it (or a folder above it) is a symbolic link to a folder that does not exist (an unmounted volume?): mount or make that folder, or give the server another data folder';
    default:
      return 'check that the outbox folder exists as a folder the server can write to, or give the server another data folder';
  }
}

/**
 * Why a letter could not be written into the outbox. Never a refusal of the letter (SendMail's `error` exit would
 * complete the run and drop it): a failure that may pass is `transient`, so the job retries it; any other (a missing
 * permission, a read-only disk, a file where the folder should be) is a setting, so the job waits as a dead letter
 * to replay once the folder is fixed; its message says what to check.
 */
export function outboxWriteFailure(err: unknown, what: string, o: { creating?: boolean } = {}): EffectError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  // ENOENT passes when the folder was removed after it was made (the next attempt makes it again); from making the
  // folder itself (`creating`: a symbolic link to a folder that does not exist, an unmounted volume) it does not.
  const passes = code !== undefined && PASSING.has(code) && !(o.creating && code === 'ENOENT');
  if (passes) return new EffectError('transient', `cannot ${what}: ${message}`, { code, attempts: 1 });
  return new EffectError('permanent', `cannot ${what}: ${message}; a setting: ${settingHint(code)}`, {
    ...(code ? { code } : {}),
    attempts: 1,
    setting: true,
  });
}

/**
 * Creates a mailer that never sends: each letter becomes a `.eml` file (real MIME, multipart/alternative when it
 * has text and HTML, Bcc kept in the copy) in `dir`, written under a temporary name and renamed, so a reader never
 * sees half a file. File names sort by time.
 *
 * @example
 * const mailer = createOutboxMailer({ dir: 'var/outbox', from: 'Oktell <oktell@localhost>' });
 * const { file } = await mailer.send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 'Тест', text: 'Привет' });
 */
export function createOutboxMailer(opts: OutboxMailerOptions): MailerPort {
  const dir = resolve(opts.dir);
  const from = senderAddress(opts.from || DEFAULT_MAIL_FROM);
  const clock = opts.clock ?? { now: () => new Date() };

  return {
    async send(message: MailMessage, sendOpts?: MailSendOptions): Promise<MailReceipt> {
      const safe = buildSafeMessage(message, opts.limits);
      const now = clock.now();
      const messageId = makeMessageId(safe, from);
      const { MailComposer } = await loadComposer();
      const node = new MailComposer(toSendMailOptions(safe, from, messageId, now)).compile();
      // The outbox is the sender's own copy, like a "Sent" folder: it shows the Bcc recipients too.
      node.keepBcc = true;
      const bytes = await node.build();
      const name = fileNameFor(now);
      const file = join(dir, name);
      const where = `write the letter into the outbox ${dir}`;
      // Making or pinning the folder failed. As root, an outbox that is a symbolic link is refused (its folder's
      // owner could point it at /etc): a setting, as the other failures that waiting will not fix.
      const notMade = (err: unknown) =>
        err instanceof RefusedLinkError ? new EffectError('permanent', `cannot write the letter into the outbox: ${err.message}`, { code: err.code, attempts: 1, setting: true }) : outboxWriteFailure(err, where, { creating: true });
      try {
        // A letter holds its recipients and the webhook's data: readable by the owner only, as the store is.
        const made = await mkdir(dir, { recursive: true, mode: 0o700 });
        if (made !== undefined) for (const folder of foldersMade(made, dir)) giveToFolderOwner(folder);
      } catch (err) {
        throw notMade(err);
      }
      // The folder opened, through its descriptor as root (a link put in its place now is not followed either).
      await withPinnedFolder(
        dir,
        'the outbox',
        async (folder) => {
          const temp = join(folder, `.${name}.tmp`);
          try {
            const handle = await open(temp, 'wx', 0o600);
            try {
              giveToFolderOwner(temp, handle.fd);
              await handle.writeFile(bytes);
              await handle.sync();
            } finally {
              await handle.close();
            }
            await rename(temp, join(folder, name));
          } catch (err) {
            await unlink(temp).catch(() => undefined);
            throw outboxWriteFailure(err, where);
          }
        },
        (err) => {
          throw notMade(err);
        },
      );
      opts.logger?.info({ ...(sendOpts?.runId ? { runId: sendOpts.runId } : {}), messageId, file, transport: 'outbox' }, 'letter stored in the outbox');
      return { messageId, transport: 'outbox', file };
    },
  };
}

let composer: Promise<{ MailComposer: typeof MailComposerType; addressparser: typeof addressparserType }> | undefined;

/**
 * nodemailer's MIME composer, loaded with the first letter (a server sending over SMTP never loads it), or when a
 * server that writes to the outbox starts (`serve.ts`). A load that failed is tried again next time.
 */
export function loadComposer() {
  return (composer ??= Promise.all([import('nodemailer/lib/mail-composer'), import('nodemailer/lib/addressparser')])
    .then(([c, a]) => ({ MailComposer: c.default, addressparser: a.default }))
    .catch((e: unknown) => {
      composer = undefined;
      throw e;
    }));
}

function timeFromName(name: string): string | undefined {
  const m = FILE_NAME.exec(name);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, ms] = m;
  return `${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`;
}

async function bareAddresses(raw: string | undefined): Promise<string[]> {
  if (!raw) return [];
  const { addressparser } = await loadComposer();
  return addressparser(raw, { flatten: true })
    .map((a) => a.address)
    .filter((a) => a !== '');
}

/**
 * The letter `name` of the outbox `dir`, read through `via` (the folder pinned by `withPinnedFolder`; `dir` itself but as
 * root). A file that cannot be read is an entry with its `problem`, so one bad file does not hide the others.
 */
async function readEntry(dir: string, name: string, via: string = dir): Promise<OutboxEntry | undefined> {
  const file = join(dir, name);
  const path = join(via, name);
  try {
    const headers = await readHeaderBlock(file, path);
    let time = timeFromName(name);
    if (!time) {
      const date = Date.parse(headers.get('date') ?? '');
      time = Number.isNaN(date) ? (await stat(path)).mtime.toISOString() : new Date(date).toISOString();
    }
    return {
      time,
      to: await bareAddresses(headers.get('to')),
      cc: await bareAddresses(headers.get('cc')),
      subject: decodeHeaderWords(headers.get('subject') ?? ''),
      file,
      messageId: (headers.get('message-id') ?? '').trim(),
    };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // removed while we were listing
    return { time: timeFromName(name) ?? '', to: [], cc: [], subject: '', file, messageId: '', problem: await unreadable(err, path, file) };
  }
}

/**
 * Why a letter file could not be read, in a few words, with what to do. `path`: how it was opened (through the pinned
 * folder, /proc/self/fd/N/… as root); `file`: its real path, the one a message names.
 */
async function unreadable(err: unknown, path: string, file: string): Promise<string> {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (isLinkRefusal(err)) return `a symbolic link (to ${linkTarget(path)}): not followed while running as root; put the letter file itself here, or remove the link`;
  if (code === 'EISDIR') return 'a folder, not a letter file: move it out of the outbox';
  // ENXIO: open() of a socket.
  if (code === 'E_NOT_A_FILE' || code === 'ENXIO') return 'not a regular file (a named pipe, socket or device), not a letter file: remove it';
  if (code === 'EACCES' || code === 'EPERM') {
    const st = await lstat(path).catch(() => undefined);
    const whose = st ? ` (owner uid ${st.uid}, mode ${(st.mode & 0o7777).toString(8).padStart(3, '0')})` : '';
    return `unreadable: permission denied${whose}; give it to the server's user, or remove it`;
  }
  const message = (err instanceof Error ? err.message : String(err)).split(path).join(file);
  return `unreadable: ${message}`;
}

/**
 * Lists the letters in an outbox folder, **oldest first** (file-name order, which is time order). Reads only the
 * header block of each file. A missing folder is an empty outbox. For a page of a large outbox, `listOutboxPage`.
 */
export async function listOutbox(dir: string): Promise<OutboxEntry[]> {
  const abs = resolve(dir);
  return inOutbox(abs, [], async (via) => readEntries(abs, await outboxNames(via), via));
}

/**
 * Runs `use` with the outbox folder pinned (`withPinnedFolder`: as root, a symbolic link in its place is refused with a
 * `RefusedLinkError`); a missing folder is an empty outbox, `empty`.
 */
async function inOutbox<T>(abs: string, empty: T, use: (via: string) => Promise<T>): Promise<T> {
  return withPinnedFolder(abs, 'the outbox', use, (err) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return empty;
    throw err;
  });
}

/** One page of the outbox, oldest first, and where the page before it starts. */
export interface OutboxPage {
  entries: OutboxEntry[];
  /** Letters in the whole outbox. */
  total: number;
  /** When older letters exist: pass it as `before` for the page of older ones. */
  olderBefore?: string;
}

/**
 * The newest `limit` letters older than the file `before` (or the newest of all), oldest first. Only the folder's
 * names are listed and sorted (the names start with the time); only the files of the page are opened, so a page
 * costs the same with 20 letters as with 20,000.
 */
export async function listOutboxPage(dir: string, opts: { limit: number; before?: string }): Promise<OutboxPage> {
  const abs = resolve(dir);
  return inOutbox(abs, { entries: [], total: 0 }, async (via) => {
    const names = await outboxNames(via);
    const end = opts.before === undefined ? names.length : firstNotBefore(names, opts.before);
    const start = Math.max(0, end - opts.limit);
    const entries = await readEntries(abs, names.slice(start, end), via);
    return { entries, total: names.length, ...(start > 0 ? { olderBefore: names[start]! } : {}) };
  });
}

/**
 * Deletes the letters written before `cutoffMs` (by the time in their file names; files named otherwise are kept) and
 * returns how many. The names are sorted by time, so the walk stops at the first letter young enough.
 */
export async function pruneOutbox(dir: string, cutoffMs: number): Promise<number> {
  const abs = resolve(dir);
  return inOutbox(abs, 0, async (via) => {
    let removed = 0;
    for (const name of await outboxNames(via)) {
      const time = timeFromName(name);
      if (time === undefined) continue;
      if (Date.parse(time) >= cutoffMs) break;
      try {
        await unlink(join(via, name));
        removed++;
      } catch (e) {
        // Gone already (a reader deleted it): nothing to do; any other error stops this round.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    return removed;
  });
}

/** One letter of the outbox by its file name, reading only that file; undefined when there is no such letter. */
export async function readOutboxEntry(dir: string, name: string): Promise<OutboxEntry | undefined> {
  if (!isLetterName(name)) return undefined;
  const abs = resolve(dir);
  return inOutbox(abs, undefined, (via) => readEntry(abs, name, via));
}

function isLetterName(name: string): boolean {
  return name.endsWith('.eml') && !name.startsWith('.') && !/[\\/\0]/.test(name);
}

/** The letters' file names, sorted (oldest first); a missing folder has none. */
async function outboxNames(abs: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.filter(isLetterName).sort();
}

/** Index of the first name not sorting before `name` (binary search in sorted names). */
function firstNotBefore(names: readonly string[], name: string): number {
  let lo = 0;
  let hi = names.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (names[mid]! < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

async function readEntries(abs: string, names: readonly string[], via: string): Promise<OutboxEntry[]> {
  const entries: OutboxEntry[] = [];
  const batch = 64;
  for (let i = 0; i < names.length; i += batch) {
    const chunk = await Promise.all(names.slice(i, i + batch).map((n) => readEntry(abs, n, via)));
    for (const e of chunk) if (e) entries.push(e);
  }
  return entries;
}

/** The folders `mkdir(dir, { recursive: true })` made when it returned `first`: `first`, then each below it down to `dir`. */
function foldersMade(first: string, dir: string): string[] {
  const out = [dir];
  for (let d = dir; d !== first && dirname(d) !== d; ) {
    d = dirname(d);
    out.unshift(d);
  }
  return out;
}
