// A small SMTP client (RFC 5321) with a pool of kept-alive connections: STARTTLS or implicit TLS, AUTH PLAIN/LOGIN,
// and PIPELINING, so a letter on an open connection costs two writes (envelope + DATA, then the message) and no
// per-line streams. Errors carry the fields `classifySmtpError` reads: `code`, `responseCode`, `response`, `command`,
// `originalCode`. Used instead of nodemailer's SMTP transport because that transport was about a third of the
// server's CPU per letter (see docs/architecture.md).
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { isTlsFailureCode } from '../tls-failure.js';
import type { SmtpEndpoint } from './smtp-url.js';

/** The code of an `SmtpError` after the end of a message was written: whether the server has the letter is unknown. */
export const OUTCOME_UNKNOWN = 'EOUTCOME';

export class SmtpError extends Error {
  override name = 'SmtpError';
  constructor(
    message: string,
    public code: string,
    extra: { responseCode?: number; response?: string; command?: string; originalCode?: string } = {},
  ) {
    super(message);
    Object.assign(this, extra);
  }
  responseCode?: number;
  response?: string;
  command?: string;
  originalCode?: string;
}

interface Reply {
  code: number;
  lines: string[];
  text: string;
}

export interface SmtpPoolOptions {
  endpoint: SmtpEndpoint;
  rejectUnauthorized?: boolean;
  /** Connections open at most (default 5). */
  maxConnections?: number;
  /** Letters per connection before it is closed and replaced (default 100). */
  maxMessages?: number;
  /** Time to connect, greet, upgrade and log in, ms (default 10 000). */
  connectionTimeoutMs?: number;
  /** Longest silence of an open connection, ms (default 30 000); an idle connection is closed after it. */
  socketTimeoutMs?: number;
  /**
   * Longest wait for the reply to the end of a message, ms (default 600 000, RFC 5321 §4.5.3.2.6), counted from when
   * the whole message has been written (while it is written, `socketTimeoutMs` applies). The server may already hold
   * the letter while it scans it: giving up in this wait fails with `OUTCOME_UNKNOWN`, which is never sent again.
   */
  dataTimeoutMs?: number;
  /** Close each connection after one letter (no pool). */
  noReuse?: boolean;
}

/** Report a letter whose end has been written and not answered within `afterMs` (see `SmtpPool.send`). */
export interface PendingReport {
  afterMs: number;
  report(): void;
}

export interface SmtpSendResult {
  accepted: string[];
  rejected: string[];
  response: string;
}

/** Bytes of a message written at once (see `writeOut`): a usual letter is one piece. */
const WRITE_PIECE = 256 * 1024;

/** Characters of one reply line at most (RFC 5321 allows 512 octets; some servers write long EHLO lines). */
const MAX_REPLY_LINE = 4096;
/** Lines of one reply at most (an EHLO answer lists a dozen extensions). */
const MAX_REPLY_LINES = 100;

/** One SMTP connection: a reply reader over the socket and the commands of a session. */
class Connection {
  private socket: Socket | TLSSocket;
  private pendingText = '';
  private lines: string[] = [];
  private readonly waiting: Array<{ resolve: (r: Reply) => void; reject: (e: Error) => void }> = [];
  private failure: Error | undefined;
  extensions = new Set<string>();
  authMethods = new Set<string>();
  messages = 0;
  secure: boolean;
  /** Called instead of failing at the next idle timeout, once (see `SmtpPool.awaitEnd`). */
  onQuiet: (() => void) | undefined;

  constructor(
    socket: Socket | TLSSocket,
    secure: boolean,
    private readonly onGone: (c: Connection) => void,
  ) {
    this.socket = socket;
    this.secure = secure;
    this.attach(socket);
  }

  get usable(): boolean {
    return !this.failure && !this.socket.destroyed;
  }

  private attach(socket: Socket | TLSSocket) {
    socket.setEncoding('latin1');
    socket.setNoDelay(true);
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (e: NodeJS.ErrnoException) => this.fail(networkError(e)));
    socket.on('close', () => this.fail(new SmtpError('the SMTP server closed the connection', 'ECONNECTION')));
    socket.on('timeout', () => {
      const quiet = this.onQuiet;
      this.onQuiet = undefined;
      if (quiet) return quiet();
      const e = new SmtpError('the SMTP server did not answer in time', 'ETIMEDOUT');
      this.fail(e);
      socket.destroy();
    });
  }

  private onData(chunk: string) {
    if (this.failure) return;
    this.pendingText += chunk;
    let at: number;
    while ((at = this.pendingText.indexOf('\r\n')) >= 0) {
      const line = this.pendingText.slice(0, at);
      this.pendingText = this.pendingText.slice(at + 2);
      this.lines.push(line);
      if (line.length > MAX_REPLY_LINE || this.lines.length > MAX_REPLY_LINES) return this.tooLong();
      // The last line of a reply has a space (or nothing) after its code; "250-" lines continue it.
      if (/^\d{3}(?: |$)/.test(line)) {
        const lines = this.lines.map((l) => l.slice(4));
        const reply: Reply = { code: Number(line.slice(0, 3)), lines, text: this.lines.join('\n') };
        this.lines = [];
        const w = this.waiting.shift();
        if (w) w.resolve(reply);
        else if (reply.code === 421) this.fail(new SmtpError(`the SMTP server is closing the connection: ${reply.text}`, 'ECONNECTION', { responseCode: 421, response: reply.text }));
      }
    }
    if (this.pendingText.length > MAX_REPLY_LINE) this.tooLong();
  }

  /** A broken or hostile server sending an endless reply: the connection is dropped, not buffered. */
  private tooLong() {
    this.pendingText = '';
    this.lines = [];
    this.fail(new SmtpError(`the SMTP server's reply is longer than ${MAX_REPLY_LINES} lines of ${MAX_REPLY_LINE} characters: not an SMTP server, or a broken one`, 'EPROTOCOL'));
    this.socket.destroy();
  }

  private fail(e: Error) {
    if (!this.failure) {
      this.failure = e;
      this.onGone(this);
    }
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
  }

  /** The next reply. */
  reply(): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  write(text: string | Buffer) {
    if (this.failure) throw this.failure;
    this.socket.write(text);
  }

  /**
   * Writes a message and resolves once all of it has left this process (handed to the operating system): until then
   * the server cannot have its end, so a failure before it means the letter was not sent. A message larger than one
   * piece is written piece by piece, each once the last has left: Node restarts the idle timer at each write, not
   * while it drains one large write, so a big letter over a slow link would otherwise time out while still moving.
   */
  async writeOut(data: Buffer): Promise<void> {
    for (let at = 0; at < data.length || at === 0; at += WRITE_PIECE) {
      if (this.failure) throw this.failure;
      const piece = data.subarray(at, at + WRITE_PIECE);
      await new Promise<void>((resolve, reject) => {
        this.socket.write(piece, (e) => (e ? reject(this.failure ?? networkError(e)) : resolve()));
      });
    }
  }

  /** Sends a command and reads its reply. */
  async command(line: string): Promise<Reply> {
    const r = quiet(this.reply());
    this.write(`${line}\r\n`);
    return r;
  }

  setTimeout(ms: number) {
    this.socket.setTimeout(ms);
  }

  /** Replaces the socket by its TLS upgrade (STARTTLS). */
  async upgrade(opts: { servername?: string; rejectUnauthorized?: boolean }): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('timeout');
    const tls = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ socket: plain, ...opts });
      s.once('secureConnect', () => resolve(s));
      s.once('error', (e: NodeJS.ErrnoException) => reject(tlsError(e)));
    });
    tls.removeAllListeners('error');
    plain.removeAllListeners('error');
    plain.on('error', () => undefined);
    this.socket = tls;
    this.secure = true;
    this.attach(tls);
  }

  close() {
    if (this.usable) {
      try {
        this.socket.end('QUIT\r\n');
      } catch {
        // already gone
      }
    }
    this.failure ??= new SmtpError('connection closed', 'ECONNECTION');
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  destroy() {
    this.failure ??= new SmtpError('connection closed', 'ECONNECTION');
    this.socket.destroy();
  }
}

function networkError(e: NodeJS.ErrnoException): SmtpError {
  if (e instanceof SmtpError) return e;
  if (isTlsFailureCode(e.code)) return tlsError(e);
  const code = e.code === 'ETIMEDOUT' ? 'ETIMEDOUT' : 'ECONNECTION';
  return new SmtpError(e.message, code, e.code ? { originalCode: e.code } : {});
}

function tlsError(e: NodeJS.ErrnoException): SmtpError {
  return new SmtpError(e.message, 'ETLS', e.code ? { originalCode: e.code } : {});
}

/**
 * A connection that failed after the whole message, its final dot included, was written: the server may hold the
 * letter and deliver it, or may not. Sending it again could deliver it twice, so this failure is never retried as
 * a network failure is (see `classifySmtpError`).
 */
function outcomeUnknown(e: SmtpError): SmtpError {
  const cause = e.originalCode ?? e.code;
  return new SmtpError(`no reply to the end of the message (${cause}: ${e.message})`, OUTCOME_UNKNOWN, { command: 'DATA', originalCode: cause });
}

function replyError(r: Reply, command: string, what: string): SmtpError {
  return new SmtpError(`${what}: ${r.text}`, 'EENVELOPE', { responseCode: r.code, response: r.text, command });
}

/** RFC 5321 §4.5.3.2.6: a client waits 10 minutes for the reply to the end of the message. */
const DATA_TIMEOUT_MS = 600_000;

const isPositive = (r: Reply | undefined) => !!r && r.code >= 200 && r.code < 300;

/** The words servers use to deny relaying (Postfix, Sendmail, Exim, Exchange, qmail, Gmail's relay…). */
const RELAY_DENIED =
  /\b(?:relay(?:ing)?\s+(?:access\s+)?(?:denied|refused|rejected|prohibited|forbidden|disallowed|not\s+(?:permitted|allowed|authori[sz]ed))|(?:unable|not\s+(?:permitted|allowed|authori[sz]ed))\s+to\s+relay|(?:(?:do|does|will|can)(?:\s+not|n't)|cannot)\s+relay|allowed\s+rcpthosts)\b/i;

/**
 * Whether a reply to RCPT TO refuses to relay: the server takes no mail from this client for domains not its own,
 * most often because the client did not log in (or logged in as a user it does not relay for), so it would refuse
 * every letter to such a recipient. A 5xx reply whose text says so (`554 5.7.1 <x@y>: Relay access denied`,
 * `550 relay not permitted`, `550 5.7.1 Unable to relay`, qmail's `553 sorry, that domain isn't in my list of allowed
 * rcpthosts`). An enhanced status code (RFC 3463) other than 5.7.x (security or policy) means the refusal is about
 * this recipient, whatever the text says: `550 5.1.1 <x@y>: Recipient address rejected: User unknown in relay
 * recipient table` is an unknown user. A 5.7.x that does not speak of relaying (an address refused by the server's
 * policy) is a refusal of this recipient too. A 4xx is not one: the server asks to be asked again, and it is retried.
 */
export function isRelayRefusal(code: number, text: string): boolean {
  if (code < 500 || code > 599) return false;
  const body = text.replace(/^\d{3}[ -]?/gm, '');
  const enhanced = /^\s*[245]\.(\d{1,3})\.\d{1,3}\b/.exec(body);
  if (enhanced && enhanced[1] !== '7') return false;
  return RELAY_DENIED.test(body);
}

const END = Buffer.from('\r\n.\r\n');
const END_AFTER_NEWLINE = Buffer.from('.\r\n');

/** A reply promise that may be left unread when the connection fails first: its rejection is not "unhandled". */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** Lines of the message that start with a dot get a second one (RFC 5321 §4.5.2). */
function dotStuff(data: Buffer): Buffer {
  if (data[0] !== 0x2e && data.indexOf('\r\n.') < 0) return data;
  return Buffer.from(data.toString('latin1').replace(/^\./, '..').replace(/\r\n\./g, '\r\n..'), 'latin1');
}

/**
 * A pool of SMTP connections to one server.
 *
 * @example
 * const pool = new SmtpPool({ endpoint: parseSmtpUrl('smtp://127.0.0.1:2525?ignoreTLS=true') });
 * await pool.send('robot@example.com', ['ivan@example.com'], composeMime(letter, from, id));
 * await pool.close();
 */
export class SmtpPool {
  private readonly idle: Connection[] = [];
  private open = 0;
  private readonly queue: Array<() => void> = [];
  private closed = false;
  /** When a connection last came free, closed or failed (ms since the epoch): the waiters' bound counts from it. */
  private lastProgress = 0;
  private readonly max: number;
  private readonly maxMessages: number;
  private readonly connectionTimeoutMs: number;
  private readonly socketTimeoutMs: number;
  private readonly dataTimeoutMs: number;

  constructor(private readonly o: SmtpPoolOptions) {
    this.max = Math.max(1, o.maxConnections ?? 5);
    this.maxMessages = o.noReuse ? 1 : Math.max(1, o.maxMessages ?? 100);
    this.connectionTimeoutMs = o.connectionTimeoutMs ?? 10_000;
    this.socketTimeoutMs = o.socketTimeoutMs ?? 30_000;
    this.dataTimeoutMs = Math.max(this.socketTimeoutMs, o.dataTimeoutMs ?? DATA_TIMEOUT_MS);
  }

  /**
   * Sends one message; a connection the server closed while it was idle is replaced once without a retry delay.
   * `pending.report` is called when the whole message has been written and its reply has not come in `afterMs`.
   */
  async send(from: string, recipients: string[], data: Buffer, pending?: PendingReport): Promise<SmtpSendResult> {
    for (let fresh = false; ; fresh = true) {
      const conn = await this.acquire(fresh);
      const reused = conn.messages > 0;
      let started = false;
      try {
        const result = await this.transaction(conn, from, recipients, data, () => (started = true), pending);
        this.release(conn);
        return result;
      } catch (e) {
        const err = e as SmtpError;
        if (err.responseCode !== undefined && conn.usable) this.release(conn);
        else this.drop(conn);
        // A kept-alive connection the server had already closed: nothing was sent, try a new one at once.
        if (reused && !started && !fresh && err.responseCode === undefined) continue;
        throw err;
      }
    }
  }

  private async transaction(conn: Connection, from: string, recipients: string[], data: Buffer, onReply: () => void, pending: PendingReport | undefined): Promise<SmtpSendResult> {
    conn.messages++;
    const { mail, rcpt, data: dataReply } = await this.envelope(conn, from, recipients, onReply);
    const accepted = recipients.filter((_, i) => isPositive(rcpt[i]));
    const rejected = recipients.filter((_, i) => !isPositive(rcpt[i]));
    if (mail.code !== 250 || accepted.length === 0 || dataReply?.code !== 354) {
      // The transaction did not start: end it so the connection can carry the next letter.
      if (dataReply?.code === 354) await conn.command('.').catch(() => undefined);
      await conn.command('RSET').catch(() => undefined);
      if (mail.code !== 250) throw replyError(mail, 'MAIL FROM', 'the SMTP server refused the sender');
      // A refusal to relay is reported before the others: it is a setting, and once it is fixed the letter can go.
      const refusal = rcpt.find((r) => isRelayRefusal(r.code, r.text)) ?? rcpt.find((r) => !isPositive(r));
      if (accepted.length === 0 && refusal) throw replyError(refusal, 'RCPT TO', 'the SMTP server refused every recipient');
      throw replyError(dataReply ?? mail, 'DATA', 'the SMTP server refused the message');
    }
    const done = quiet(conn.reply());
    // While the message is written the idle timeout holds (RFC 5321 gives 3 minutes per data block): a transfer that
    // stalls fails soon, and since the end of the message never left, the letter is not sent and may be sent again.
    let ended = false;
    let final: Reply | undefined;
    const written = quiet(
      conn.writeOut(Buffer.concat([dotStuff(data), data[data.length - 1] === 0x0a ? END_AFTER_NEWLINE : END])).then(() => {
        ended = true;
        // From here the server may have the letter: a content filter can take far longer than our idle timeout to
        // say 250, so the long wait starts now (unless the reply came first); a failure from here on leaves the
        // outcome unknown.
        if (!final) this.awaitEnd(conn, pending);
      }),
    );
    try {
      await Promise.race([written, done]);
      final = await done;
    } catch (e) {
      if (ended) throw outcomeUnknown(e as SmtpError);
      throw e;
    } finally {
      conn.onQuiet = undefined;
    }
    conn.setTimeout(this.socketTimeoutMs);
    if (final.code !== 250) throw new SmtpError(`the SMTP server refused the message: ${final.text}`, 'EMESSAGE', { responseCode: final.code, response: final.text, command: 'DATA' });
    return { accepted, rejected, response: final.text };
  }

  /**
   * The long wait for the reply to the end of a message. With `pending`, its first `afterMs` are timed apart, on the
   * same idle timer (no timer of its own per letter): when they pass in silence the letter is reported, and the wait
   * goes on for the rest of `dataTimeoutMs`.
   */
  private awaitEnd(conn: Connection, pending: PendingReport | undefined) {
    if (!pending || pending.afterMs >= this.dataTimeoutMs) return conn.setTimeout(this.dataTimeoutMs);
    conn.onQuiet = () => {
      conn.setTimeout(this.dataTimeoutMs - pending.afterMs);
      try {
        pending.report();
      } catch {
        // The report is the caller's bookkeeping: it must not break the wait for the server's reply.
      }
    };
    conn.setTimeout(pending.afterMs);
  }

  /** MAIL FROM, RCPT TO for each recipient, DATA: in one write where the server allows PIPELINING. */
  private async envelope(conn: Connection, from: string, recipients: string[], onReply: () => void): Promise<{ mail: Reply; rcpt: Reply[]; data?: Reply }> {
    const lines = [`MAIL FROM:<${from}>`, ...recipients.map((r) => `RCPT TO:<${r}>`), 'DATA'];
    if (conn.extensions.has('PIPELINING')) {
      const pending = lines.map(() => quiet(conn.reply()));
      conn.write(`${lines.join('\r\n')}\r\n`);
      const all: Reply[] = [];
      for (const p of pending) {
        all.push(await p);
        onReply();
      }
      return { mail: all[0]!, rcpt: all.slice(1, -1), data: all[all.length - 1]! };
    }
    const mail = await conn.command(lines[0]!);
    onReply();
    if (mail.code !== 250) return { mail, rcpt: [] };
    const rcpt: Reply[] = [];
    for (const r of recipients) rcpt.push(await conn.command(`RCPT TO:<${r}>`));
    if (!rcpt.some(isPositive)) return { mail, rcpt };
    return { mail, rcpt, data: await conn.command('DATA') };
  }

  private async acquire(forceNew: boolean): Promise<Connection> {
    for (;;) {
      if (this.closed) throw new SmtpError('the mailer is closed', 'ECONNECTION');
      if (!forceNew) {
        const c = this.idle.pop();
        if (c) {
          if (c.usable) return c;
          continue;
        }
      }
      if (this.open < this.max) {
        this.open++;
        try {
          return await this.connect();
        } catch (e) {
          this.open--;
          this.next();
          throw e;
        }
      }
      if (forceNew && this.idle.length) {
        // At the limit with idle ones around: close one to make room for the fresh connection.
        this.retire(this.idle.shift()!);
        continue;
      }
      await this.waitForFreeConnection();
    }
  }

  /**
   * Waits for a connection to come free, giving up only after `socketTimeoutMs` in which no connection of the pool
   * came free (no letter ended, well or not). Without a bound, a server that stops answering the ends of letters (each
   * waited for up to `dataTimeoutMs`, 10 minutes) held every other letter of this process behind its connections for
   * as long, and their jobs with them, under leases the heartbeat kept renewing. The bound is counted from the pool's
   * last progress, not from the start of the wait: a busy pool that keeps finishing letters (a long queue behind one
   * slow but working server) serves its waiters in turn however long the queue. Nothing of a letter that gave up here
   * was sent, so it is a network failure like a refused connection: retried, never unknown.
   */
  private waitForFreeConnection(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout;
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const check = () => {
        const quietFor = Date.now() - this.lastProgress;
        if (quietFor < this.socketTimeoutMs) {
          timer = setTimeout(check, this.socketTimeoutMs - quietFor);
          return;
        }
        const i = this.queue.indexOf(wake);
        if (i >= 0) this.queue.splice(i, 1);
        reject(
          new SmtpError(
            `no SMTP connection came free within ${this.socketTimeoutMs} ms: all ${this.max} are busy and none finished a letter meanwhile (a server that does not answer the end of a letter keeps its connection up to ${this.dataTimeoutMs} ms); nothing of this letter was sent`,
            'ETIMEDOUT',
          ),
        );
      };
      // Every wait gets its full bound first, then as long again as the pool keeps finishing letters.
      timer = setTimeout(check, this.socketTimeoutMs);
      this.queue.push(wake);
    });
  }

  private release(conn: Connection) {
    if (this.closed || !conn.usable || conn.messages >= this.maxMessages) this.retire(conn);
    else this.idle.push(conn);
    this.next();
  }

  private drop(conn: Connection) {
    conn.destroy();
    this.forget(conn);
    this.next();
  }

  private retire(conn: Connection) {
    conn.close();
    this.forget(conn);
  }

  /** Counts a connection out once, whether it was closed by us or by the server. */
  private forget(conn: Connection) {
    const seen = conn as Connection & { counted?: boolean };
    if (seen.counted === false) return;
    seen.counted = false;
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    this.open--;
  }

  private next() {
    // A connection came free, closed or failed: the pool moved, so the waiters' bound starts again from now.
    this.lastProgress = Date.now();
    this.queue.shift()?.();
  }

  private async connect(): Promise<Connection> {
    const { endpoint } = this.o;
    const servername = isIP(endpoint.host) ? undefined : endpoint.host;
    const tlsOpts = { ...(servername ? { servername } : {}), ...(this.o.rejectUnauthorized !== undefined ? { rejectUnauthorized: this.o.rejectUnauthorized } : {}) };
    const socket = endpoint.secure ? tlsConnect({ host: endpoint.host, port: endpoint.port, ...tlsOpts }) : netConnect({ host: endpoint.host, port: endpoint.port });
    const conn = new Connection(socket, endpoint.secure, (c) => {
      // The server closed it, or it broke: an idle one leaves the pool.
      if (this.idle.includes(c)) {
        this.forget(c);
        this.next();
      }
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SmtpError(`no greeting from the SMTP server within ${this.connectionTimeoutMs} ms`, 'ETIMEDOUT')), this.connectionTimeoutMs);
    });
    try {
      await Promise.race([this.open_(conn, tlsOpts), deadline]);
      conn.setTimeout(this.socketTimeoutMs);
      return conn;
    } catch (e) {
      conn.destroy();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Greeting, EHLO, STARTTLS when offered (unless ignoreTLS), EHLO again, AUTH. */
  private async open_(conn: Connection, tlsOpts: { servername?: string; rejectUnauthorized?: boolean }): Promise<void> {
    const { endpoint } = this.o;
    const greeting = await conn.reply();
    if (greeting.code !== 220) throw new SmtpError(`unexpected greeting: ${greeting.text}`, 'EPROTOCOL', { responseCode: greeting.code, response: greeting.text, command: 'CONN' });
    const name = endpoint.name ?? 'localhost';
    await this.hello(conn, name);
    if (!conn.secure && !endpoint.ignoreTLS && conn.extensions.has('STARTTLS')) {
      const r = await conn.command('STARTTLS');
      if (r.code !== 220) throw new SmtpError(`STARTTLS refused: ${r.text}`, 'ETLS', { responseCode: r.code, response: r.text, command: 'STARTTLS' });
      await conn.upgrade(tlsOpts);
      await this.hello(conn, name);
    }
    if (!conn.secure && endpoint.requireTLS) throw new SmtpError('the SMTP server does not offer STARTTLS and requireTLS is set', 'ETLS', { command: 'STARTTLS' });
    if (endpoint.user && !conn.secure && !endpoint.plainAuth && !isLoopbackHost(endpoint.host)) {
      // Whoever is on the path can strip STARTTLS from the EHLO answer; the password must not follow in clear.
      throw new SmtpError(
        `${endpoint.host} offers no STARTTLS, so the password would cross the network in clear: not sent. Use smtps://, a server with STARTTLS, or add ?plainAuth=true to SMTP_URL to allow it`,
        'ETLS',
        { command: 'AUTH' },
      );
    }
    if (endpoint.user) await this.login(conn, endpoint.user, endpoint.pass ?? '');
  }

  private async hello(conn: Connection, name: string) {
    let r = await conn.command(`EHLO ${name}`);
    conn.extensions = new Set();
    conn.authMethods = new Set();
    if (r.code !== 250) {
      r = await conn.command(`HELO ${name}`);
      if (r.code !== 250) throw new SmtpError(`HELO refused: ${r.text}`, 'EPROTOCOL', { responseCode: r.code, response: r.text, command: 'HELO' });
      return;
    }
    for (const line of r.lines.slice(1)) {
      const [keyword, ...args] = line.toUpperCase().split(/\s+/);
      if (!keyword) continue;
      conn.extensions.add(keyword);
      if (keyword === 'AUTH') for (const a of args) conn.authMethods.add(a);
    }
  }

  private async login(conn: Connection, user: string, pass: string) {
    let r: Reply;
    if (conn.authMethods.has('PLAIN') || !conn.authMethods.has('LOGIN')) {
      r = await conn.command(`AUTH PLAIN ${Buffer.from(`\0${user}\0${pass}`, 'utf8').toString('base64')}`);
    } else {
      r = await conn.command('AUTH LOGIN');
      if (r.code === 334) r = await conn.command(Buffer.from(user, 'utf8').toString('base64'));
      if (r.code === 334) r = await conn.command(Buffer.from(pass, 'utf8').toString('base64'));
    }
    if (r.code !== 235) throw new SmtpError(`authentication failed: ${r.text}`, 'EAUTH', { responseCode: r.code, response: r.text, command: 'AUTH' });
  }

  /** Closes every connection; letters in flight finish first on theirs. */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.idle.splice(0)) {
      c.close();
      this.open--;
    }
    for (const w of this.queue.splice(0)) w();
  }
}

/** A host that is this machine (localhost, 127.0.0.0/8, ::1): a login to it never crosses a network. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
