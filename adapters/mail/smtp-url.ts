// Reads SMTP_URL (smtp:// or smtps://, credentials, a few query options) and prints it back with the password hidden.

/** A mail setting (SMTP_URL, MAIL_FROM) that cannot work; thrown at start-up, not while sending. */
export class MailConfigError extends Error {
  override name = 'MailConfigError';
}

/** Where and how to connect, as read from an SMTP URL. */
export interface SmtpEndpoint {
  host: string;
  port: number;
  /** true for smtps:// (TLS from the first byte); smtp:// upgrades with STARTTLS when the server offers it. */
  secure: boolean;
  user?: string;
  pass?: string;
  /** `?requireTLS=true`: fail when an smtp:// server does not offer STARTTLS. */
  requireTLS: boolean;
  /** `?ignoreTLS=true`: never use STARTTLS, even when offered (local test servers). */
  ignoreTLS: boolean;
  /**
   * `?plainAuth=true`: send the user and password even over a connection without TLS to a host that is not loopback.
   * Off by default: such a login is refused before the password is sent.
   */
  plainAuth?: boolean;
  /** `?rejectUnauthorized=false`: accept self-signed certificates. Undefined leaves Node's default (verify). */
  rejectUnauthorized?: boolean;
  /** `?name=host.example`: the name sent with EHLO. */
  name?: string;
}

const QUERY_KEYS = ['requireTLS', 'ignoreTLS', 'plainAuth', 'rejectUnauthorized', 'name'] as const;

function readBoolean(key: string, value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new MailConfigError(`SMTP_URL option ${key}=${value} must be true or false`);
}

/** A percent-encoded user or password; a bad escape is named, never echoed (it is part of a secret). */
function decodeCredential(text: string, what: 'user' | 'password'): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new MailConfigError(`SMTP_URL: the ${what} has a % that is not followed by two hex digits of a character (write %25 for a literal %)`);
  }
}

/**
 * Which part of an SMTP URL that does not parse is wrong, when it can be told: the scheme's `://`, the host, the port.
 * The port is quoted only when no `@` follows the host part, so that it cannot be a piece of a password that holds a
 * `/`, `?` or `#` (which end the host part); undefined when the part cannot be told.
 */
function wrongPart(url: string): string | undefined {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url);
  if (!scheme) return 'it does not start with smtp:// or smtps://';
  const rest = url.slice(scheme[0].length);
  const end = rest.search(/[/?#]/);
  const authority = end === -1 ? rest : rest.slice(0, end);
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  const quotable = end === -1 || !rest.slice(end).includes('@');
  const v6 = /^\[[^\]]*\](.*)$/.exec(hostPort);
  const afterHost = v6 ? v6[1]! : hostPort.slice(hostPort.includes(':') ? hostPort.indexOf(':') : hostPort.length);
  if ((v6 ? hostPort.slice(0, hostPort.indexOf(']') + 1) : hostPort.split(':')[0]) === '') return 'it has no host';
  if (afterHost === '' || !afterHost.startsWith(':')) return undefined;
  const port = afterHost.slice(1);
  if (/^\d+$/.test(port)) return Number(port) > 65535 ? `the port ${quotable ? `${port} ` : ''}is above 65535` : undefined;
  if (quotable) return `the port "${port}" is not a number`;
  return 'the port (after the host\'s ":") is not a number, or the password holds a "/", "?" or "#", which must be written %2F, %3F, %23';
}

/**
 * Parses an SMTP URL. Default ports: 587 for smtp://, 465 for smtps://. User and password are percent-decoded.
 *
 * @example parseSmtpUrl('smtps://robot:p%40ss@smtp.yandex.ru')  // { host: 'smtp.yandex.ru', port: 465, secure: true, user: 'robot', pass: 'p@ss', ... }
 */
export function parseSmtpUrl(url: string): SmtpEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The text may hold a password: never echo it (only a port, when it cannot be part of one).
    const part = wrongPart(url);
    throw new MailConfigError(`SMTP_URL is not a valid URL${part ? `: ${part}` : ''} (expected smtp://user:pass@host:port or smtps://...)`);
  }
  const protocol = parsed.protocol.replace(/:$/, '');
  if (protocol !== 'smtp' && protocol !== 'smtps') {
    throw new MailConfigError(`SMTP_URL must start with smtp:// or smtps://, not ${protocol}://`);
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new MailConfigError('SMTP_URL has no host');
  const secure = protocol === 'smtps';
  const port = parsed.port ? Number(parsed.port) : secure ? 465 : 587;
  const endpoint: SmtpEndpoint = { host, port, secure, requireTLS: false, ignoreTLS: false };
  if (parsed.username) endpoint.user = decodeCredential(parsed.username, 'user');
  if (parsed.password) endpoint.pass = decodeCredential(parsed.password, 'password');
  for (const [key, value] of parsed.searchParams) {
    switch (key as (typeof QUERY_KEYS)[number]) {
      case 'requireTLS':
        endpoint.requireTLS = readBoolean(key, value);
        break;
      case 'ignoreTLS':
        endpoint.ignoreTLS = readBoolean(key, value);
        break;
      case 'plainAuth':
        endpoint.plainAuth = readBoolean(key, value);
        break;
      case 'rejectUnauthorized':
        endpoint.rejectUnauthorized = readBoolean(key, value);
        break;
      case 'name':
        if (!/^[A-Za-z0-9.-]{1,253}$/.test(value)) throw new MailConfigError('SMTP_URL option name must be a host name');
        endpoint.name = value;
        break;
      default:
        throw new MailConfigError(`SMTP_URL has an unknown option "${key}" (known: ${QUERY_KEYS.join(', ')})`);
    }
  }
  return endpoint;
}

/** The endpoint as a URL safe to log: the password is replaced by `***`. */
export function describeSmtpEndpoint(e: SmtpEndpoint): string {
  const auth = e.user ? `${encodeURIComponent(e.user)}${e.pass ? ':***' : ''}@` : '';
  const host = e.host.includes(':') ? `[${e.host}]` : e.host;
  const tls = e.secure ? 'TLS' : e.ignoreTLS ? 'no TLS' : e.requireTLS ? 'STARTTLS required' : 'STARTTLS when offered';
  return `${e.secure ? 'smtps' : 'smtp'}://${auth}${host}:${e.port} (${tls})`;
}
