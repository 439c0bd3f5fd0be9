// The server's own Oktell user when none is configured, and the webhook secret shared with the embedded Bpium
// emulator: generated once and kept in the data folder so restarts keep them.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, linkSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { OktellUser } from './auth.js';
import { makePrivateFolder, openRegularFileSync, RefusedLinkError, writeNewPrivateFile } from '../adapters/private-file.js';
import type { Store } from './store/store.port.js';

/** The generated user, the file that keeps it, and whether it was made just now (only then is it shown in full). */
export interface GeneratedUser {
  user: OktellUser;
  file: string;
  created: boolean;
}

export function generatedUser(dataDir: string): GeneratedUser {
  const file = join(dataDir, 'server-user.json');
  const kept = keptUser(file);
  if (kept) return { user: kept, file, created: false };
  // A data folder made here is private (0700) as `serve` makes it: `webhook send` may be the first to write in it.
  makePrivateFolder(dataDir);
  const user = { login: 'oktell', password: randomBytes(12).toString('base64url') };
  if (writeOnce(file, `${JSON.stringify(user, null, 2)}\n`, () => keptUser(file) !== undefined)) return { user, file, created: true };
  // Another command made it meanwhile: its user is the one.
  const theirs = keptUser(file);
  if (!theirs) throw new Error(`${file} was made by another process meanwhile, without a login and password in it: remove it and start again`);
  return { user: theirs, file, created: false };
}

/** The user kept in `file`, if it holds one (a file without a login and password is left for writeOnce to replace). */
function keptUser(file: string): OktellUser | undefined {
  const text = keptText(file, 'the file of the generated login', 'replace the link with the file itself, or remove it (a new login and password are generated and shown at the next start)');
  if (text === undefined) return undefined;
  const u = JSON.parse(text) as Partial<OktellUser>;
  return typeof u.login === 'string' && typeof u.password === 'string' && u.login && u.password ? { login: u.login, password: u.password } : undefined;
}

export function persistentSecret(dataDir: string, name: string): string {
  const file = join(dataDir, name);
  const kept = keptSecret(file);
  if (kept) return kept;
  makePrivateFolder(dataDir);
  const secret = randomBytes(24).toString('base64url');
  if (writeOnce(file, `${secret}\n`, () => keptSecret(file) !== undefined)) return secret;
  // Another command made it meanwhile (a `webhook send` and a starting `serve`): both must use the same one.
  const theirs = keptSecret(file);
  if (!theirs) throw new Error(`${file} was made by another process meanwhile, empty: remove it and start again`);
  return theirs;
}

function keptSecret(file: string): string | undefined {
  const text = keptText(file, 'the secret file', 'replace the link with the file itself, or remove it (a new secret is generated; whatever signs with the old one must be given the new)');
  return text?.trim() || undefined;
}

/**
 * The text of a kept secret file, undefined when there is none. Run as root (an administrator's command on a service's
 * data folder) a symbolic link in its place is refused, not followed (O_NOFOLLOW): the folder's owner could point it at
 * a file only root may read, and root would take that for the secret, and perhaps print it (the generated login is
 * shown at the start). `what` and `fix` word the refusal. Any other user follows a link, as before.
 */
function keptText(file: string, what: string, fix: string): string | undefined {
  let fd: number;
  try {
    // A named pipe in its place would hold the start forever: refused, as anything but a regular file.
    fd = openRegularFileSync(file, file, { what, fix });
  } catch (e) {
    // No file, or a link to nothing (it holds no secret, and is replaced by the new one, writeOnce, as before).
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e instanceof RefusedLinkError && !existsSync(file))) return undefined;
    throw e;
  }
  try {
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** Under which name the console's form token secret is kept: a file of the data folder, or a shared setting. */
export const CONSOLE_SECRET_NAME = 'console-csrf-secret';

/**
 * The secret the console signs its form tokens with, when the store is shared. Servers sharing a store (PostgreSQL)
 * behind a load balancer must all hold the same one, or a form one of them rendered is refused by the next: it is kept
 * in the store, made by the first server to start. Undefined for a store of one server (SQLite): the console then
 * keeps its secret in the data folder (`persistentSecret`), made on its first request.
 */
export async function sharedConsoleSecret(store: Pick<Store, 'sharedSecret'>): Promise<string | undefined> {
  return store.sharedSecret?.(CONSOLE_SECRET_NAME, randomBytes(24).toString('base64url'));
}

/** The hook path the embedded Bpium emulator posts its webhooks to. */
export const EMULATOR_HOOK_PATH = '/Bpium/NewTask';

/** The file of the data folder that keeps the secret generated for the embedded emulator. */
export const EMULATOR_SECRET_FILE = 'bpium-webhook-secret';

/** The secret configured for the embedded emulator's hook path (or for every path); undefined: one is generated. */
export function configuredEmulatorSecret(secrets: Record<string, string>): string | undefined {
  return secrets[EMULATOR_HOOK_PATH] ?? secrets['*'];
}

/**
 * The secret the embedded Bpium emulator signs with: the one configured for its hook path (or for every path), else
 * one generated once in the data folder, which that path then requires (it is added to `secrets`). `serve` and
 * `oktell-emu webhook send` both call this, so the command signs exactly as the server checks.
 */
export function emulatorWebhookSecret(secrets: Record<string, string>, dataDir: string): string {
  const configured = configuredEmulatorSecret(secrets);
  if (configured !== undefined) return configured;
  const generated = persistentSecret(dataDir, EMULATOR_SECRET_FILE);
  secrets[EMULATOR_HOOK_PATH] = generated;
  return generated;
}

/**
 * Makes `file` with `text`, owner-only, unless another process made it first: false then, and theirs stands. The text
 * is written under a temporary name and linked into place, which fails when the name exists: two commands making the
 * same secret at once never each keep their own, and a reader never sees it half written. What is there and holds
 * nothing usable (`usable`: an empty file of an earlier start) is replaced. Neither the temporary file nor the link is
 * made through a link already in their place.
 */
function writeOnce(file: string, text: string, usable: () => boolean): boolean {
  const tmp = `${file}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  try {
    writeNewPrivateFile(tmp, text);
  } catch (e) {
    // Named by the file it was to become (a full disk: `cannot write …/server-user.json: no space left …`), not
    // by the temporary name, which is gone again.
    const f = e as NodeJS.ErrnoException;
    if (f.path === tmp) f.path = file;
    throw e;
  }
  try {
    for (let tries = 0; ; tries++) {
      try {
        linkSync(tmp, file);
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || tries > 0 || usable()) {
          if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
          throw e;
        }
        rmSync(file, { force: true });
      }
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}
