// Authentication of the emulator like Bpium: Basic (login = e-mail) on any request, then a `connect.sid` session cookie.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'connect.sid';
const MAX_SESSIONS = 10_000;

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Constant-time equality of two strings of any length (compares fixed-size digests). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

export type AuthOutcome =
  | { ok: true; via: 'basic' | 'cookie'; login: string; newSession?: string }
  | { ok: false; via: 'basic' | 'cookie' | 'none' };

/** One account (the emulator has exactly one API user) and its in-memory sessions. */
export class EmulatorAuth {
  private readonly sessions = new Map<string, { login: string }>();

  constructor(readonly login: string, private readonly password: string) {}

  /** Checks an e-mail/password pair (Basic header or `/auth/login` body); e-mails compare case-insensitively. */
  checkCredentials(login: string, password: string): boolean {
    const loginOk = sameSecret(login.trim().toLowerCase(), this.login.trim().toLowerCase());
    const passwordOk = sameSecret(password, this.password);
    return loginOk && passwordOk;
  }

  newSession(): string {
    // Every Basic request opens a session (as Bpium does); keep the newest ones only, so curl loops cannot grow memory.
    if (this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    const token = randomBytes(24).toString('base64url');
    this.sessions.set(token, { login: this.login });
    return token;
  }

  /** Forgets every session, as a server restart would: the next cookie request gets 401 (test aid). */
  dropSessions(): void {
    this.sessions.clear();
  }

  /** A valid session cookie wins; otherwise Basic, which opens a new session. */
  authenticate(headers: { authorization?: string; cookie?: string }): AuthOutcome {
    const token = readCookie(headers.cookie, SESSION_COOKIE);
    if (token !== undefined) {
      const session = this.sessions.get(token);
      if (session) return { ok: true, via: 'cookie', login: session.login };
    }
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(headers.authorization ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1] as string, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0 && this.checkCredentials(decoded.slice(0, colon), decoded.slice(colon + 1))) {
        return { ok: true, via: 'basic', login: this.login, newSession: this.newSession() };
      }
      return { ok: false, via: 'basic' };
    }
    return { ok: false, via: token !== undefined ? 'cookie' : 'none' };
  }
}

/** The value of cookie `name` in a Cookie header, if present. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodedCookie(part.slice(eq + 1).trim());
  }
  return undefined;
}

/**
 * A cookie value with its %-escapes decoded. One that is not valid percent-encoding (`%E0%A4%A`) is kept as sent: it
 * names no session, so the request gets the 401 of any unknown cookie instead of a 500 and an error-level stack trace
 * that anyone reaching the port could repeat (review s30 L4).
 */
function decodedCookie(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
