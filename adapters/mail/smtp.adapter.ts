// MailerPort over SMTP: pooled kept-alive connections (smtp-client.ts), the letter written in one pass (mime.ts),
// timeouts, retries with backoff for 4xx replies and network failures.
import { EffectError, type EffectFailureKind } from '../../engine/errors.js';
import type { LoggerPort, MailMessage, MailReceipt, MailSendOptions, MailerPort, OutageLogPort } from '../../engine/ports.js';
import { makeMessageId } from './compose.js';
import { bareAddress, buildSafeMessage, senderAddress, type MailLimits } from './message.js';
import { asciiAddress, composeMime } from './mime.js';
import { isTlsFailureCode } from '../tls-failure.js';
import { isRelayRefusal, OUTCOME_UNKNOWN, SmtpPool, type PendingReport, type SmtpError } from './smtp-client.js';
import { describeSmtpEndpoint, parseSmtpUrl } from './smtp-url.js';

export interface SmtpMailerOptions {
  /** SMTP_URL: `smtp://[user:pass@]host[:port][?options]` (STARTTLS when offered) or `smtps://...` (implicit TLS). */
  url: string;
  /** MAIL_FROM: the sender of every letter that does not name its own. */
  from: string;
  /** Keep connections open and reuse them (default true). */
  pool?: boolean;
  /** Connections the pool keeps open at most (default 5); letters beyond that wait for a free one. */
  maxConnections?: number;
  /** Time to connect and to get the greeting, ms (default 10 000). */
  connectionTimeoutMs?: number;
  /** Longest silence of an open connection, ms (default 30 000). */
  socketTimeoutMs?: number;
  /** Longest wait for the server's reply to the end of a message, ms (default 600 000, as RFC 5321 asks). */
  dataTimeoutMs?: number;
  /**
   * What a letter whose end was written but never answered becomes (SMTP_UNKNOWN_OUTCOME). The server may hold it, so
   * it is never sent again here. `dead-letter` (default): EffectError kind `unknown`, the job stops as a dead letter
   * to check the mailbox and replay. `retry`: kind `transient`, the job retries it later, at the risk of a second copy.
   */
  unknownOutcome?: UnknownOutcomePolicy;
  /**
   * SMTP_PENDING_MARK_MS: how long the reply to the end of a letter may take before the caller is told the letter's
   * outcome is pending (`MailSendOptions.onOutcomePending`), default `DEFAULT_PENDING_MARK_MS`.
   */
  pendingMarkMs?: number;
  /** Attempts in all (first try included) for transient failures, and the backoff between them. */
  retry?: { attempts: number; baseDelayMs: number; maxDelayMs: number };
  /** Overrides `?rejectUnauthorized=` of the URL. */
  tls?: { rejectUnauthorized?: boolean };
  logger?: LoggerPort;
  /**
   * Where a letter not sent for an outage (a transient failure: the server down, refusing connections, answering 4xx)
   * is said instead of `logger`, which folds its repeats; told too of every letter sent, which ends the outage.
   */
  outages?: OutageLogPort;
  /** Message limits, see `DEFAULT_MAIL_LIMITS`. */
  limits?: Partial<MailLimits>;
}

/** What `send` returns over SMTP: the receipt plus how many attempts it took and the server's last reply. */
export interface SmtpReceipt extends MailReceipt {
  transport: 'smtp';
  attempts: number;
  response?: string;
  /** Recipients the server refused while accepting the others (the letter went to the rest). */
  rejected: string[];
}

/** The SMTP mailer: a `MailerPort` whose receipts say how many attempts it took, plus `close` and a loggable `describe`. */
export interface SmtpMailer extends MailerPort {
  send(message: MailMessage, opts?: MailSendOptions): Promise<SmtpReceipt>;
  interruptedOutcome(pending: { messageId?: string }): EffectError | undefined;
  close(): Promise<void>;
  /** The endpoint with the password hidden, e.g. `smtp://robot:***@smtp.example.com:587 (STARTTLS when offered)`. */
  readonly describe: string;
}

/** What becomes of a letter the server may or may not have (see `SmtpMailerOptions.unknownOutcome`). */
export type UnknownOutcomePolicy = 'dead-letter' | 'retry';
export const UNKNOWN_OUTCOME_POLICIES: readonly UnknownOutcomePolicy[] = ['dead-letter', 'retry'];

/**
 * Default of `pendingMarkMs`: a server that takes the letter answers its end within a second or so, content filter
 * included, so a letter answered in time writes nothing more; and well inside the 10 s a graceful stop waits, so a
 * letter still unanswered when that grace ends has been marked unless its end left in the last 2 s. Marks cost one
 * store write each, at most `maxConnections` per 2 s (5 connections: 2.5 writes a second, only against a slow server).
 */
export const DEFAULT_PENDING_MARK_MS = 2000;

/** Default retry policy: 3 attempts in all, 500 ms doubling up to 5 s, each delay jittered down by up to half. */
export const DEFAULT_SMTP_RETRY = Object.freeze({ attempts: 3, baseDelayMs: 500, maxDelayMs: 5000 });

// Codes of SMTP client errors that come from the network, not from the letter or the configuration.
const NETWORK_CODES = new Set(['ECONNECTION', 'ESOCKET', 'EDNS', 'ETIMEDOUT', 'EPROTOCOL']);

interface Classified {
  kind: EffectFailureKind;
  reason: string;
  status?: number;
  code?: string;
  /** false: a transient failure that another try within this send cannot fix (a refused login). */
  retryHere?: boolean;
  /**
   * A permanent failure of a setting (TLS, the sender, a server that refuses this client or to relay for it), not a
   * refusal of this letter: `EffectError.details.setting`, so the run fails and its job waits as a dead letter
   * instead of the block taking its `error` exit.
   */
  setting?: boolean;
}

/**
 * What a 5xx reply refuses, by the command it answers (RFC 5321): only RCPT TO (this recipient, unless the server
 * refuses to relay: `relayRefused`) and DATA (this message, at the DATA command or at its end) refuse the letter. A
 * 5xx greeting (554: no service for this client), a refused EHLO and HELO (the name this host gives), a refused MAIL
 * FROM (the sender: MAIL_FROM, or what SMTP_URL's user may send as) or a refused STARTTLS would refuse every letter:
 * the reason says which setting to check.
 */
function settingRefused(command: string | undefined, reply: string, where: string): string | undefined {
  switch (command) {
    case 'CONN':
      return `the SMTP server ${where} refuses service to this client: "${reply}" at the greeting; a setting: check that SMTP_URL names your mail server and that it accepts connections from this host`;
    case 'HELO':
    case 'EHLO':
      return `the SMTP server ${where} refused this client's name: "${reply}" to EHLO and HELO; a setting: give a name it accepts with ?name= in SMTP_URL`;
    case 'MAIL FROM':
      return `the SMTP server refused the sender: "${reply}" to MAIL FROM; a setting: check MAIL_FROM (the sender of the letters) and that the SMTP server lets SMTP_URL's user send as it`;
    case 'STARTTLS':
      return `the SMTP server ${where} offers STARTTLS but refused it: "${reply}"; a setting: use smtps:// if the server has TLS on its own port, or fix the server's TLS`;
    default:
      return undefined;
  }
}

/**
 * A refusal to relay (see `isRelayRefusal`): the server will not take mail for other domains from this client, so
 * every letter to such a recipient is refused until SMTP_URL logs in as a user it relays for, or names the server
 * that relays for this host. `hasLogin`: whether SMTP_URL has a user. The advice never names it: the reason lands in
 * logs and run records, and the operator who reads it has SMTP_URL at hand.
 */
function relayRefused(reply: string, where: string, hasLogin: boolean): string {
  const advice = hasLogin
    ? `check that the login in SMTP_URL is one this server relays for, and that SMTP_URL names the server that relays this host's mail`
    : `SMTP_URL has no login: add the user and password of an account the server relays for (smtp://user:password@host:port), or name the server that relays this host's mail`;
  return `the SMTP server ${where} refuses to relay for this client: "${reply}" to RCPT TO; a setting: ${advice}`;
}

/** A refusal of our credentials: any non-2xx reply to AUTH, or 530 (authentication required) to any command. */
function isLoginRefusal(command: string | undefined, code: string | undefined, status: number): boolean {
  if (status === 530) return true;
  return (command === 'AUTH' || code === 'EAUTH') && status >= 500;
}

/**
 * Sorts an SMTP failure into transient (retry may help), permanent, or unknown (the letter may have been delivered),
 * with a readable reason.
 */
export function classifySmtpError(err: unknown, where: string, unknownOutcome: UnknownOutcomePolicy = 'dead-letter', hasLogin = false): Classified {
  const e = (err ?? {}) as Partial<SmtpError>;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const status = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const message = e instanceof Error ? e.message : String(err);
  if (code === OUTCOME_UNKNOWN) {
    // The whole letter went out and the server fell silent or hung up before saying whether it took it. Sending it
    // again at once is how a slow server gets two copies: never here, and by the job only if configured so.
    const retried = unknownOutcome === 'retry';
    return {
      kind: retried ? 'transient' : 'unknown',
      code,
      retryHere: false,
      reason: `the SMTP server ${where} gave ${message}: the letter may have been delivered; ${
        retried ? 'the job sends it again later (SMTP_UNKNOWN_OUTCOME=retry), which may deliver a second copy' : 'it is not sent again: check the mailbox before replaying the job'
      }`,
    };
  }
  if (status !== undefined) {
    const reply = (e.response ?? message).trim();
    const command = e.command ? ` to ${e.command}` : '';
    if (isLoginRefusal(e.command, code, status)) {
      // The server refused our login (535 bad credentials, 534/538 mechanism, 530 login required, AUTH not offered):
      // a fault of the server's configuration, not of the letter. Transient, so the job is retried and ends as a dead
      // letter that `replay` sends once SMTP_URL is fixed; not retried here, since asking again cannot change it.
      return {
        kind: 'transient',
        status,
        code: code ?? 'EAUTH',
        retryHere: false,
        reason: `the SMTP server refused the login: "${reply}"${command}; check the user and password of SMTP_URL (the letter is kept and retried)`,
      };
    }
    // 4xx: the server asks to come back later. 5xx: it refuses for good, this letter or (see settingRefused) any.
    if (status >= 400 && status < 500) return { kind: 'transient', status, ...(code ? { code } : {}), reason: `the SMTP server answered "${reply}"${command}` };
    // A 5xx to RCPT TO refuses this recipient, unless it refuses to relay at all: a setting (see isRelayRefusal).
    const setting = e.command === 'RCPT TO' && isRelayRefusal(status, reply) ? relayRefused(reply, where, hasLogin) : settingRefused(e.command, reply, where);
    if (setting) return { kind: 'permanent', status, ...(code ? { code } : {}), setting: true, reason: setting };
    return { kind: 'permanent', status, ...(code ? { code } : {}), reason: `the SMTP server answered "${reply}"${command}` };
  }
  const original = typeof e.originalCode === 'string' ? e.originalCode : '';
  // A certificate or TLS failure (the client's ETLS, or the TLS code kept in originalCode): a setting, waiting will
  // not fix it. The client's own refusals (no STARTTLS offered with ?requireTLS, a login that would go in clear) say
  // in their message what to change.
  if (code === 'ETLS' || isTlsFailureCode(original)) {
    return {
      kind: 'permanent',
      code: 'ETLS',
      setting: true,
      reason: original
        ? `TLS with the SMTP server ${where} failed (${original}: ${message}); a setting: ${tlsAdvice(original)}`
        : // No TLS code: a handshake that failed before any command, or one of the client's own refusals.
          `${e.command ? `${message} (SMTP server ${where})` : `TLS with the SMTP server ${where} failed (${code}: ${message})`}; a setting of SMTP_URL or of the server`,
    };
  }
  if (code && NETWORK_CODES.has(code)) {
    return { kind: 'transient', code, reason: `cannot talk to the SMTP server ${where} (${code}${original ? ' ' + original : ''}: ${message})` };
  }
  return { kind: 'permanent', ...(code ? { code } : {}), reason: `the letter was not accepted: ${message}` };
}

/**
 * What to do about a TLS failure, from the TLS layer's code: a certificate refused can be fixed with a trusted
 * certificate or, for a self-signed one, ?rejectUnauthorized=false; another handshake failure is usually smtps://
 * to a port that speaks plain SMTP first, or the reverse. Our own refusals carry no such code (no STARTTLS offered
 * with requireTLS, a password that would go in clear): their message already says what to do, and no certificate is
 * involved.
 */
function tlsAdvice(tlsCode: string): string {
  if (/^(CERT_|DEPTH_ZERO_|SELF_SIGNED_|UNABLE_TO_|HOSTNAME_MISMATCH|ERR_TLS_CERT_)/.test(tlsCode)) {
    return "check the server's certificate (expired, not issued for SMTP_URL's host, or by an issuer this host does not trust), or add ?rejectUnauthorized=false for a self-signed one";
  }
  return 'most often smtps:// (TLS from the first byte, usually port 465) names a port that speaks plain SMTP first (587, 25): use smtp:// there, which upgrades with STARTTLS';
}

/**
 * A function that hides the SMTP password in a text quoting the server (a refusal may echo the command it refused):
 * the password as written and percent-encoded, the base64 of the AUTH PLAIN string (`\0user\0pass`) and of the
 * AUTH LOGIN answer (the password alone), and any other base64 word that decodes to text holding the password.
 */
export function smtpPasswordMasker(user: string | undefined, pass: string | undefined): (text: string) => string {
  if (!pass || pass.length < 3) return (text) => text;
  const b64 = (t: string) => Buffer.from(t, 'utf8').toString('base64');
  const forms = [...new Set([pass, encodeURIComponent(pass), b64(`\0${user ?? ''}\0${pass}`), b64(pass)].flatMap((f) => [f, f.replace(/=+$/, '')]))]
    .filter((f) => f.length >= 3)
    .sort((a, b) => b.length - a.length);
  return (text) => {
    let masked = text;
    for (const form of forms) if (masked.includes(form)) masked = masked.split(form).join('***');
    // An echo cut or re-encoded differently: a base64 word whose decoded bytes contain the password.
    return masked.replace(/[A-Za-z0-9+/]{8,}={0,2}/g, (word) => (Buffer.from(word, 'base64').toString('utf8').includes(pass) ? '***' : word));
  };
}

function backoffDelay(attempt: number, policy: { baseDelayMs: number; maxDelayMs: number }): number {
  const full = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(full / 2 + (Math.random() * full) / 2);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Creates a mailer that delivers over SMTP. A 4xx reply or a network failure is retried here (with backoff and
 * jitter) before `EffectError('transient')` is thrown; a 5xx reply throws `EffectError('permanent')` at once, except a
 * refused login (5xx to AUTH, or 530), which throws `EffectError('transient')` at once: the job retries it later.
 * A failure after the whole letter was written (no reply to its end) is never retried here: the server may have it.
 * It throws `EffectError('unknown')` (code `EOUTCOME`), which parks the job as a dead letter, or with
 * `unknownOutcome: 'retry'` `EffectError('transient')`.
 * `details.status` is the SMTP reply code, `details.code` nodemailer's code, `details.attempts` the attempts made.
 *
 * @example
 * const mailer = createSmtpMailer({ url: 'smtp://127.0.0.1:2525?ignoreTLS=true', from: 'robot@example.com' });
 * await mailer.send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 'Привет', text: 'Текст' });
 * await mailer.close();
 */
export function createSmtpMailer(opts: SmtpMailerOptions): SmtpMailer {
  const endpoint = parseSmtpUrl(opts.url);
  const from = senderAddress(opts.from);
  const retry = opts.retry ?? DEFAULT_SMTP_RETRY;
  const attemptsAllowed = Math.max(1, Math.floor(retry.attempts));
  const connectionTimeout = opts.connectionTimeoutMs ?? 10_000;
  const describe = describeSmtpEndpoint(endpoint);
  const where = `${endpoint.host}:${endpoint.port}`;
  /** The server as an outage names it (no user, no password). */
  const target = `SMTP ${endpoint.secure ? 'smtps' : 'smtp'}://${where}`;
  const outages = opts.outages;
  const redact = smtpPasswordMasker(endpoint.user, endpoint.pass);

  const rejectUnauthorized = opts.tls?.rejectUnauthorized ?? endpoint.rejectUnauthorized;
  const pool = new SmtpPool({
    endpoint,
    ...(rejectUnauthorized !== undefined ? { rejectUnauthorized } : {}),
    maxConnections: opts.maxConnections ?? 5,
    maxMessages: 100,
    connectionTimeoutMs: connectionTimeout,
    socketTimeoutMs: opts.socketTimeoutMs ?? 30_000,
    ...(opts.dataTimeoutMs !== undefined ? { dataTimeoutMs: opts.dataTimeoutMs } : {}),
    noReuse: opts.pool === false,
  });
  const log = opts.logger;

  const pendingMarkMs = opts.pendingMarkMs ?? DEFAULT_PENDING_MARK_MS;

  /** The report of a letter left unanswered for `pendingMarkMs` after its end, when the caller asked for it. */
  function pendingReport(messageId: string, sendOpts: MailSendOptions | undefined): PendingReport | undefined {
    const run = sendOpts?.runId ? { runId: sendOpts.runId } : {};
    const onPending = sendOpts?.onOutcomePending;
    if (!onPending) return undefined;
    return {
      afterMs: pendingMarkMs,
      report() {
        log?.info({ ...run, messageId, afterMs: pendingMarkMs, transport: 'smtp' }, 'letter written whole, no reply to its end yet: recorded as pending, so it is not sent again if this attempt is cut off');
        onPending({ messageId });
      },
    };
  }

  /** A letter an earlier attempt was cut off from while it waited for the server's reply to its end. */
  function interruptedOutcome(pending: { messageId?: string }): EffectError | undefined {
    const id = pending.messageId ?? 'unknown';
    const what = `an earlier attempt of this job was cut off (the server stopped or was killed, or another instance took the job over) while it waited for the reply of the SMTP server ${where} to the end of the letter: the letter may have been delivered`;
    if (opts.unknownOutcome === 'retry') {
      log?.warn({ messageId: id, transport: 'smtp' }, `sending a letter again: ${what}; SMTP_UNKNOWN_OUTCOME=retry, so a second copy may arrive`);
      return undefined;
    }
    return new EffectError('unknown', `SMTP outcome unknown, not sent again: ${what}; check the mailbox before replaying the job (Message-ID ${id})`, { code: OUTCOME_UNKNOWN, ...(pending.messageId ? { messageId: pending.messageId } : {}) });
  }

  async function send(message: MailMessage, sendOpts?: MailSendOptions): Promise<SmtpReceipt> {
    const safe = buildSafeMessage(message, opts.limits);
    const messageId = makeMessageId(safe, from);
    const envelopeTo = [...new Set([...safe.to, ...safe.cc, ...safe.bcc].map((a) => asciiAddress(bareAddress(a))))];
    const envelopeFrom = asciiAddress(bareAddress(safe.from ?? from));
    const data = composeMime(safe, from, messageId);
    const pending = pendingReport(messageId, sendOpts);
    // Each line about the letter names its run, whose own lines name the job and the webhook's run.
    const run = sendOpts?.runId ? { runId: sendOpts.runId } : {};
    for (let attempt = 1; ; attempt++) {
      try {
        const info = await pool.send(envelopeFrom, envelopeTo, data, pending);
        outages?.reached(target);
        if (info.rejected.length > 0) log?.warn({ ...run, messageId, rejected: info.rejected, transport: 'smtp' }, 'SMTP server refused some recipients');
        if (log && (log as { isLevelEnabled?: (l: string) => boolean }).isLevelEnabled?.('info') !== false) {
          log.info({ ...run, messageId, recipients: envelopeTo.length, attempts: attempt, transport: 'smtp' }, 'letter sent');
        }
        return { messageId, transport: 'smtp', attempts: attempt, rejected: info.rejected, response: info.response };
      } catch (err) {
        const c = classifySmtpError(err, where, opts.unknownOutcome, Boolean(endpoint.user));
        // The Message-ID lets whoever checks the mailbox find the letter; a replay sends it with the same one.
        const reason = redact(c.code === OUTCOME_UNKNOWN ? `${c.reason} (Message-ID ${messageId})` : c.reason);
        const last = c.kind === 'permanent' || c.retryHere === false || attempt >= attemptsAllowed;
        if (last) {
          // Tries to the SMTP server within this run, not the job's attempts (a job that fails as transient is retried
          // with its own): said apart, so that a dead letter's 'gave up after 3 tries' does not read as its 3 attempts.
          const tries = `${attempt} ${attempt === 1 ? 'try' : 'tries'} within this run`;
          const note =
            c.setting ? 'setting failure, not retried'
            : c.kind === 'permanent' ? 'permanent failure, not retried'
            : c.code === OUTCOME_UNKNOWN ? 'outcome unknown, not retried'
            : c.retryHere === false ? 'transient failure (server configuration)'
            : `transient failure, gave up after ${tries}`;
          // ERROR is what needs a person: a refusal, a setting, a letter perhaps delivered. An outage the job retries is
          // a WARN (its dead letter is an ERROR, logged by the pool when the job's attempts run out).
          const outage = c.kind === 'transient' || c.kind === 'timeout';
          const line = { level: outage ? 'warn' : 'error', obj: { ...run, messageId, status: c.status, code: c.code, attempts: attempt, transport: 'smtp' }, msg: `${c.code === OUTCOME_UNKNOWN ? 'letter perhaps not sent' : 'letter not sent'}: ${reason}` } as const;
          // An outage's key: the server, and how it failed (the reply code, else the client's error code).
          const key = outage ? { target, kind: c.status !== undefined ? String(c.status) : (c.code ?? c.kind) } : undefined;
          if (key && outages) outages.effectFailed(key, line);
          else log?.[line.level](line.obj, line.msg);
          throw new EffectError(c.kind, `SMTP ${note}: ${reason}`, {
            ...(key ? { outage: key } : {}),
            ...(c.status !== undefined ? { status: c.status } : {}),
            ...(c.code !== undefined ? { code: c.code } : {}),
            ...(c.setting ? { setting: true } : {}),
            ...(c.code === OUTCOME_UNKNOWN ? { messageId } : {}),
            attempts: attempt,
          });
        }
        const delayMs = backoffDelay(attempt, retry);
        // At debug: the letter's own line follows within seconds (sent, or not sent after N attempts), and an outage
        // would otherwise write one more warning for every try of every letter.
        log?.debug({ ...run, messageId, status: c.status, code: c.code, attempt, delayMs, transport: 'smtp' }, `SMTP attempt failed, retrying: ${reason}`);
        await sleep(delayMs);
      }
    }
  }

  return {
    send,
    interruptedOutcome,
    describe,
    close: () => pool.close(),
  };
}
