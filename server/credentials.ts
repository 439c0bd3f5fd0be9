// The server's own Oktell user when none is configured, and the webhook secret shared with the embedded Bpium
// emulator: generated once and kept in the data folder so restarts keep them.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { OktellUser } from './auth.js';
import { makePrivateFolder, writeNewPrivateFile } from '../adapters/private-file.js';
import type { Store } from './store/store.port.js';

/** The generated user, the file that keeps it, and whether it was made just now (only then is it shown in full). */
export interface GeneratedUser {
  user: OktellUser;
  file: string;
  created: boolean;
}

export function generatedUser(dataDir: string): GeneratedUser {
  const file = join(dataDir, 'server-user.json');
  if (existsSync(file)) {
    const u = JSON.parse(readFileSync(file, 'utf8')) as Partial<OktellUser>;
    if (typeof u.login === 'string' && typeof u.password === 'string' && u.login && u.password) return { user: { login: u.login, password: u.password }, file, created: false };
  }
  // A data folder made here is private (0700) as `serve` makes it: `webhook send` may be the first to write in it.
  makePrivateFolder(dataDir);
  const user = { login: 'oktell', password: randomBytes(12).toString('base64url') };
  writeFreshPrivate(file, `${JSON.stringify(user, null, 2)}\n`);
  return { user, file, created: true };
}

export function persistentSecret(dataDir: string, name: string): string {
  const file = join(dataDir, name);
  if (existsSync(file)) {
    const s = readFileSync(file, 'utf8').trim();
    if (s) return s;
  }
  makePrivateFolder(dataDir);
  const secret = randomBytes(24).toString('base64url');
  writeFreshPrivate(file, `${secret}\n`);
  return secret;
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
 * Writes `text` as a new owner-only file in the place of whatever is there (an empty or broken file of an earlier
 * start): the old entry is removed and the file made anew with 'wx', so a link put in its place is never written
 * through (a command run as root on a service's folder would otherwise write where the link points).
 */
function writeFreshPrivate(file: string, text: string): void {
  rmSync(file, { force: true });
  writeNewPrivateFile(file, text);
}
