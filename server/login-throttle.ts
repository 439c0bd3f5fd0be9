// Throttling of Basic-auth guesses. Every failed login is counted by the client's address and by the login it tried
// (any login, configured or not, so the answers do not tell which exist), over a sliding window of a minute. An address past the limit is answered 429 with
// Retry-After, without its password being checked, until its oldest counted failure leaves the window; a login past
// the limit (guesses spread over many addresses) refuses, the same way, every address that has itself failed for it
// within the window, while an address with no failure is still checked, so the rightful client is not locked out.
// Likewise an Authorization header that succeeded from an address lately is still checked there while the address is
// throttled, so a client sharing the address (NAT, proxy) with one that sends an old password keeps working.
// The failures up to the limit are logged one line each, as before; the requests refused past it are summed up in
// one line per address and minute. The tables are capped, so memory stays bounded whatever the number of addresses.
import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { ipv6Bytes } from '../adapters/web/link-local.js';
import type { LoggerPort } from '../engine/ports.js';
import type { LoginTally } from './metrics.js';
import { logRefusedLogin, printable, type GuessThrottle, type OktellUser } from './auth.js';
import { targetFields, type LoggedTarget } from './log-target.js';

/** Failed logins from one address (or for one login) within a minute before it is refused without a check. */
export const DEFAULT_LOGIN_FAILURE_LIMIT = 10;
/** The sliding window the failures are counted over. */
export const LOGIN_FAILURE_WINDOW_MS = 60_000;
/** Addresses (and logins) tracked at once; past it the least recently seen are forgotten. */
export const LOGIN_THROTTLE_ENTRIES = 10_000;
/** Logins a single address is remembered to have failed for (the per-login refusal needs it). */
const LOGINS_PER_ADDRESS = 8;
/** How long an Authorization header that succeeded from an address is still checked there while it is throttled. */
export const KNOWN_HEADER_MS = 10 * 60_000;
/** Headers remembered per address as having succeeded from it; past it the least recently used is forgotten. */
const KNOWN_HEADERS_PER_ADDRESS = 8;

/** A header's key in the table of those that succeeded: its SHA-256, never the header (it holds a password). */
const headerHash = (header: string) => createHash('sha256').update(header).digest('base64');

interface AddressEntry {
  /** Times of the last failures (at most `limit`), oldest first. */
  failures: number[];
  /** Logins (their keys, see triedLogin) this address failed for, with the time of its last failure for each. */
  logins: Map<string, number>;
  /** Requests refused without a check since the last summary line, and when that line was written. */
  refused: number;
  summaryAt: number | undefined;
}

export interface LoginThrottle extends GuessThrottle {
  readonly limit: number;
  /**
   * Seconds the client at `ip` must wait when its request is refused without a check (its address, or the login its
   * header names while that login is under attack and this address failed for it), else undefined. A request refused
   * so is counted for the address's summary line and writes no line of its own; with `count` false it is only asked.
   */
  refusal(ip: string | undefined, header: string | undefined, count?: boolean): number | undefined;
  /**
   * A login that succeeded: its header (by hash) is remembered for the address for KNOWN_HEADER_MS, during which it is
   * still checked there while the address is throttled, so a sender that logs in right is not locked out by another
   * client at the same address (a NAT, a proxy, Bpium's cloud) that keeps sending an old password.
   */
  succeeded(ip: string | undefined, header: string | undefined): void;
  /** A refused login (wrong or unknown credentials): counted, and logged as long as the address is within the limit. */
  failed(ip: string | undefined, header: string | undefined, where: LoggedTarget, users: readonly OktellUser[]): void;
  /** Writes the summary lines still due and stops the minute's sweep. */
  close(): void;
}

/**
 * The key a client address is counted under: an IPv4 address as it is (also when written IPv4-mapped,
 * `::ffff:192.0.2.7`, as a dual-stack listener gives it), an IPv6 address by its /64 prefix (`2001:db8:0:1::/64`), since
 * one host or network is given a whole /64 and could otherwise try from a fresh address each time; anything else
 * (no address) as it is.
 */
export function clientKey(ip: string | undefined): string {
  if (ip === undefined) return '';
  const a = ip.trim().toLowerCase().replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const mapped = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(a);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  if (!isIPv6(a)) return ip;
  // The first four groups of the address, from its bytes however it was written.
  const b = ipv6Bytes(a);
  return `${[0, 2, 4, 6].map((i) => ((b[i]! << 8) | b[i + 1]!).toString(16)).join(':')}::/64`;
}

/**
 * The key of the login a Basic header names (not checked), or undefined: a hash, so a long invented name takes no more
 * room than a real one. Every login tried is counted alike, configured or not, so that a 429 tells nothing of which
 * logins exist.
 */
/** A 32-bit FNV-1a mark of a text: cheap, and not a way back to it (many texts share each mark). */
function quickMark(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function triedLogin(header: string | undefined): string | undefined {
  if (!header || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i > 0 ? createHash('sha256').update(decoded.slice(0, i)).digest('base64') : undefined;
}

/**
 * A throttle allowing `limit` failed logins per address (and per configured login) within `windowMs`; `limit` 0
 * turns it off (every failure is checked and logged, as before). `counts` (the server's Metrics.logins) gets one per
 * refused login and one per request refused without a check, throttle on or off. `now` is for tests of the window
 * itself.
 */
export function createLoginThrottle(
  limit: number,
  logger: LoggerPort,
  opts: { windowMs?: number; maxEntries?: number; now?: () => number; counts?: LoginTally } = {},
): LoginThrottle {
  const windowMs = opts.windowMs ?? LOGIN_FAILURE_WINDOW_MS;
  const maxEntries = opts.maxEntries ?? LOGIN_THROTTLE_ENTRIES;
  const now = opts.now ?? Date.now;
  const counts = opts.counts ?? { refused: 0, throttled: 0 };
  const addresses = new Map<string, AddressEntry>();
  // Per login tried (configured or not, by its key): the times of its last failures, from any address.
  const logins = new Map<string, number[]>();
  // Per address: the hashes of the Authorization headers that succeeded from it, with the time of the last success.
  const known = new Map<string, Map<string, number>>();
  /**
   * The last success noted in `known`, by a quick mark of its header (not the header, which holds a password): the
   * same header from the same address within a second is not noted again. Only headers that passed the check come
   * here, so two headers with one mark merely leave the second's time in `known` a second older; `failed` forgets it.
   */
  let lastSuccess: { ip: string | undefined; mark: number; at: number } | undefined;

  const recent = (times: number[], t: number) => {
    while (times.length && times[0]! <= t - windowMs) times.shift();
    return times;
  };
  /** Puts `key` last (most recently seen) and forgets the least recently seen past the cap. */
  const touch = <V>(map: Map<string, V>, key: string, value: V) => {
    map.delete(key);
    map.set(key, value);
    while (map.size > maxEntries) {
      const oldest = map.keys().next().value as string;
      const gone = map.get(oldest);
      map.delete(oldest);
      if (map === (addresses as Map<string, unknown>)) summarize(oldest, gone as AddressEntry, now());
    }
  };
  const summarize = (ip: string, e: AddressEntry, t: number) => {
    if (e.refused === 0) return;
    logger.warn(
      { ip, refused: e.refused, limit, windowS: windowMs / 1000 },
      `${e.refused} login attempt(s) from ${printable(ip)} refused with 429 without a check: more than ${limit} failed logins within ${windowMs / 1000} s (OKTELL_LOGIN_FAILURE_LIMIT)`,
    );
    e.refused = 0;
    e.summaryAt = t;
  };
  /** The address's wait in ms, when it is past the limit. */
  const addressWait = (e: AddressEntry | undefined, t: number) => {
    if (!e || recent(e.failures, t).length < limit) return undefined;
    return e.failures[e.failures.length - limit]! + windowMs - t;
  };
  /** The wait for `login` from this address, when the login is past the limit and the address failed for it. */
  const loginWait = (e: AddressEntry | undefined, login: string | undefined, t: number) => {
    if (!e || login === undefined) return undefined;
    const last = e.logins.get(login);
    if (last === undefined || last <= t - windowMs) return undefined;
    const times = logins.get(login);
    if (!times || recent(times, t).length < limit) return undefined;
    return last + windowMs - t;
  };

  // Summaries of the minute that ended and forgetting of entries past their window, once a minute.
  const sweep = setInterval(() => {
    const t = now();
    for (const [ip, e] of addresses) {
      if (e.refused > 0 && (e.summaryAt === undefined || t - e.summaryAt >= windowMs)) summarize(ip, e, t);
      if (recent(e.failures, t).length === 0 && e.refused === 0 && (e.summaryAt === undefined || t - e.summaryAt >= windowMs)) addresses.delete(ip);
    }
    for (const [login, times] of logins) if (recent(times, t).length === 0) logins.delete(login);
    for (const [ip, headers] of known) {
      for (const [hash, at] of headers) if (at <= t - KNOWN_HEADER_MS) headers.delete(hash);
      if (headers.size === 0) known.delete(ip);
    }
  }, Math.max(1, Math.floor(windowMs / 6)));
  sweep.unref();

  return {
    limit,
    refusal(ip, header, count = true) {
      if (limit === 0) return undefined;
      const key = clientKey(ip);
      const t = now();
      const e = addresses.get(key);
      // An address that has not failed lately (every sender in the usual case) is not throttled: nothing to work out.
      if (!e) return undefined;
      const wait = addressWait(e, t) ?? loginWait(e, triedLogin(header), t);
      if (wait === undefined) return undefined;
      // A header that succeeded from here lately is checked as usual: it is right already, a guesser learns nothing.
      const at = header ? known.get(key)?.get(headerHash(header)) : undefined;
      if (at !== undefined && at > t - KNOWN_HEADER_MS) return undefined;
      if (!count) return Math.max(1, Math.ceil(wait / 1000));
      counts.throttled++;
      e!.refused++;
      // The first refusal of a minute is said at once; the others of that minute in the next line (the sweep's).
      if (e!.summaryAt === undefined || t - e!.summaryAt >= windowMs) summarize(key, e!, t);
      return Math.max(1, Math.ceil(wait / 1000));
    },
    succeeded(ip, header) {
      if (limit === 0 || !header) return;
      // A sender repeats the same header from the same address request after request: its success is noted once a
      // second, not hashed at each request (its time in `known` is then at most a second old).
      const t = now();
      const mark = quickMark(header);
      if (lastSuccess && lastSuccess.ip === ip && lastSuccess.mark === mark && t - lastSuccess.at < 1000) return;
      lastSuccess = { ip, mark, at: t };
      const key = clientKey(ip);
      const headers = known.get(key) ?? new Map<string, number>();
      const hash = headerHash(header);
      headers.delete(hash);
      headers.set(hash, now());
      if (headers.size > KNOWN_HEADERS_PER_ADDRESS) headers.delete(headers.keys().next().value as string);
      touch(known, key, headers);
    },
    failed(ip, header, where, users) {
      // A request with no credentials at all (a browser's first try) is not a guess.
      if (!header) return;
      counts.refused++;
      if (limit === 0) {
        logRefusedLogin(logger, header, { ...targetFields(where), ip }, users);
        return;
      }
      const key = clientKey(ip);
      const t = now();
      // A header that succeeded before and fails now is out of date (a password changed): it is no longer let through.
      known.get(key)?.delete(headerHash(header));
      lastSuccess = undefined;
      const e = addresses.get(key) ?? { failures: [], logins: new Map<string, number>(), refused: 0, summaryAt: undefined };
      recent(e.failures, t).push(t);
      if (e.failures.length > limit) e.failures.shift();
      const login = triedLogin(header);
      if (login !== undefined) {
        e.logins.delete(login);
        e.logins.set(login, t);
        if (e.logins.size > LOGINS_PER_ADDRESS) e.logins.delete(e.logins.keys().next().value as string);
        const times = recent(logins.get(login) ?? [], t);
        times.push(t);
        if (times.length > limit) times.shift();
        touch(logins, login, times);
      }
      touch(addresses, key, e);
      logRefusedLogin(logger, header, { ...targetFields(where), ip }, users);
    },
    close() {
      clearInterval(sweep);
      const t = now();
      for (const [ip, e] of addresses) summarize(ip, e, t);
    },
  };
}


/**
 * The start warning for a throttle of failed logins that counts clients by an address they choose: with
 * `trust proxy` true, the client's address is the first one in X-Forwarded-For, which any client writes itself, so a
 * guesser could name a new address for each few guesses, or name a rightful sender's address to get it refused.
 * Undefined when the throttle is off or the setting names the proxies (hops, addresses, subnets).
 */
export function trustAnyProxyWarning(trustProxy: boolean | string | number, limit: number): string | undefined {
  if (trustProxy !== true || limit === 0) return undefined;
  return (
    `OKTELL_TRUST_PROXY is true: the address of every client is taken from the X-Forwarded-For it sends, so the throttle of failed logins ` +
    `(OKTELL_LOGIN_FAILURE_LIMIT) counts each client by an address it may write itself, a new one per guess or a rightful sender's; ` +
    `name the proxy instead (OKTELL_TRUST_PROXY=loopback, its address or subnet, or a number of hops) (docs/configuration.md, "Password guessing")`
  );
}

/** Passwords shorter than this get a warning at start when the server listens beyond this machine. */
export const MIN_PASSWORD_LENGTH = 12;

/** Whether `host` (the address the server listens on) is this machine alone: 127.0.0.0/8, ::1 or localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * The start warning for configured logins whose password is shorter than MIN_PASSWORD_LENGTH characters while the
 * server listens on an interface other than loopback (where anyone on the network may guess); undefined when there is
 * none. A generated user's password is long. It names the logins, never a password nor its length.
 */
export function shortPasswordWarning(users: readonly OktellUser[], host: string, generated: boolean): string | undefined {
  if (generated || isLoopbackHost(host)) return undefined;
  const short = users.filter((u) => [...u.password].length < MIN_PASSWORD_LENGTH).map((u) => printable(u.login));
  if (!short.length) return undefined;
  const where = host === '' || host === '0.0.0.0' || host === '::' ? `${host || '0.0.0.0'} (all interfaces)` : host;
  return (
    `login(s) ${short.join(', ')} have a password shorter than ${MIN_PASSWORD_LENGTH} characters while the server listens on ${where}: ` +
    `anyone who reaches the port may guess it (the throttle of failed logins slows guessing, it does not stop it); ` +
    `give each a password of ${MIN_PASSWORD_LENGTH} characters or more (e.g. openssl rand -base64 18), or listen on 127.0.0.1 behind a proxy (docs/configuration.md, "Users and rights")`
  );
}
