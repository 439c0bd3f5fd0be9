// A real SMTP server on loopback for the mail tests: records every envelope and message, can answer with errors.
import { createServer, type Server, type Socket } from 'node:net';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';

export interface ReceivedLetter {
  mailFrom: string;
  rcptTo: string[];
  raw: Buffer;
  secure: boolean;
  user?: string;
}

export interface TestSmtpServer {
  port: number;
  letters: ReceivedLetter[];
  counts: { rcpt: number; data: number };
  /** SMTP connections open now, and the most that were open at once. */
  connections: { open: number; max: number };
  close(): Promise<void>;
}

/** An SMTP error with the reply code smtp-server should send. */
export function smtpError(code: number, text: string): Error & { responseCode: number } {
  return Object.assign(new Error(text), { responseCode: code });
}

export interface TestSmtpOptions {
  /** Decide per MAIL FROM: return an error to refuse the sender. `n` counts MAIL commands from 1. */
  mailFrom?: (address: string, n: number) => Error | undefined;
  /** Decide per RCPT TO: return an error to refuse it. `n` counts RCPT commands from 1; `user`, who logged in, if any. */
  rcpt?: (address: string, n: number, session: { user?: string }) => Error | undefined;
  /** Decide per DATA: return an error to refuse the message. `n` counts DATA commands from 1. */
  data?: (n: number) => Error | undefined;
  /**
   * Hold the reply to the end of message `n` (counted from 1) this many ms: a slow content filter. The letter is
   * recorded at once; a refusal (`data`) is held as long.
   */
  dataReplyDelayMs?: (n: number) => number;
  /**
   * After recording message `n` (the final dot received): `silent` never answers it, `hang-up` closes the connection
   * without answering. Either way the client cannot tell whether the letter was accepted.
   */
  afterData?: (n: number) => 'answer' | 'silent' | 'hang-up';
  /** Offer STARTTLS (smtp-server's built-in self-signed certificate). Off by default. */
  starttls?: boolean;
  /** Require AUTH with this user and password (offer it only, with `authOptional`). */
  auth?: { user: string; pass: string };
  /** With `auth`: a client that does not log in may still send (a relay that refuses it other domains, say). */
  authOptional?: boolean;
  /** The text of the 535 reply to a refused AUTH, from what the client sent (a server that echoes the argument). */
  authRefusal?: (auth: { method: string; username: string; password: string }) => string;
  /** The AUTH mechanisms to offer (smtp-server's default: PLAIN and LOGIN). */
  authMethods?: string[];
  /** Listen on this port (default: any free one). */
  port?: number;
  /** Listen on this address (default 127.0.0.1). */
  host?: string;
  /** Close a connection idle this long (smtp-server's socketTimeout). */
  socketTimeoutMs?: number;
  /** Do not offer PIPELINING (clients must send one command at a time). */
  hidePipelining?: boolean;
  /** How long `close` waits for open connections before it ends them (smtp-server's closeTimeout, default 30 s). */
  closeTimeoutMs?: number;
}

export async function startSmtpServer(opts: TestSmtpOptions = {}): Promise<TestSmtpServer> {
  const letters: ReceivedLetter[] = [];
  const counts = { rcpt: 0, data: 0 };
  let mailFroms = 0;
  const connections = { open: 0, max: 0 };
  const sockets = new Set<Socket>();
  const options: SMTPServerOptions = {
    logger: false,
    onConnect(_session, callback) {
      connections.open++;
      connections.max = Math.max(connections.max, connections.open);
      callback();
    },
    onClose() {
      connections.open--;
    },
    authOptional: !opts.auth || opts.authOptional === true,
    ...(opts.authMethods ? { authMethods: opts.authMethods } : {}),
    ...(opts.socketTimeoutMs ? { socketTimeout: opts.socketTimeoutMs } : {}),
    ...(opts.hidePipelining ? { hidePIPELINING: true } : {}),
    ...(opts.closeTimeoutMs !== undefined ? { closeTimeout: opts.closeTimeoutMs } : {}),
    allowInsecureAuth: true,
    disabledCommands: opts.starttls ? [] : ['STARTTLS'],
    onAuth(auth, _session, callback) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) callback(null, { user: auth.username });
      else callback(smtpError(535, opts.authRefusal?.({ method: auth.method, username: auth.username ?? '', password: auth.password ?? '' }) ?? 'Authentication credentials invalid'));
    },
    onMailFrom(address, _session, callback) {
      mailFroms++;
      callback(opts.mailFrom?.(address.address, mailFroms) ?? null);
    },
    onRcptTo(address, session, callback) {
      counts.rcpt++;
      callback(opts.rcpt?.(address.address, counts.rcpt, session.user ? { user: String(session.user) } : {}) ?? null);
    },
    onData(stream, session: SMTPServerSession, callback) {
      counts.data++;
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const n = counts.data;
        const refusal = opts.data?.(n);
        if (refusal) {
          const refuseAfterMs = opts.dataReplyDelayMs?.(n) ?? 0;
          return refuseAfterMs > 0 ? void setTimeout(() => callback(refusal), refuseAfterMs) : callback(refusal);
        }
        const from = session.envelope.mailFrom;
        letters.push({
          mailFrom: from ? from.address : '',
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
          secure: session.secure,
          ...(session.user ? { user: String(session.user) } : {}),
        });
        const after = opts.afterData?.(n) ?? 'answer';
        if (after === 'silent') return;
        if (after === 'hang-up') {
          for (const socket of sockets) socket.destroy();
          return;
        }
        const delayMs = opts.dataReplyDelayMs?.(n) ?? 0;
        if (delayMs > 0) setTimeout(() => callback(null), delayMs);
        else callback(null);
      });
    },
  };
  const server = new SMTPServer(options);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  // A client that dies mid-session (a server killed with SIGKILL in a test) resets its connection: not a test failure.
  server.on('error', () => undefined);
  server.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('SMTP test server has no port');
  return {
    port: address.port,
    letters,
    counts,
    connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A port on 127.0.0.1 where nothing listens (bound, then released): for a server's SMTP_URL that should be refused,
 * or an SMTP server a test starts there later. Another socket may take it once released, so never hand it to a
 * spawned `serve`: start that on --port 0 and read its port back (serveUrl in bench/bench-support, which server-helpers passes on).
 */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A TCP server that accepts connections and never says a word (no SMTP greeting): for timeouts. */
export async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const s: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (s.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        s.close(() => resolve());
      }),
  };
}

/**
 * What the scripted server does with the body of message `n` (counted from 1) once it has said 354: `slow` accepts it
 * while reading steadily but slowly (a pause of 20 ms after every chunk), as over a slow link.
 */
export type BodyBehaviour = 'accept' | 'stall' | 'drop' | 'slow';

/**
 * A minimal SMTP server written on a bare socket, for what smtp-server cannot be made to do: stop reading in the
 * middle of a message (`stall`: the client's writes back up) or drop the connection at its first bytes (`drop`).
 * `accept` reads up to the final dot and answers 250. `started` counts 354 replies, `ended` messages read whole.
 */
export async function startScriptedSmtpServer(body: (n: number) => BodyBehaviour): Promise<{ port: number; counts: { started: number; ended: number }; close(): Promise<void> }> {
  const counts = { started: 0, ended: 0 };
  const sockets = new Set<Socket>();
  const s: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.setEncoding('latin1');
    let text = '';
    let reading: BodyBehaviour | undefined;
    socket.write('220 scripted ESMTP\r\n');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (reading === 'drop') return void socket.destroy();
      if (reading === 'slow') {
        socket.pause();
        setTimeout(() => socket.resume(), 20).unref();
      }
      if (reading === 'accept' || reading === 'slow') {
        const end = text.indexOf('\r\n.\r\n');
        if (end < 0) return void (text = text.slice(-4));
        text = text.slice(end + 5);
        reading = undefined;
        counts.ended++;
        socket.write('250 queued\r\n');
      }
      let at: number;
      while (reading === undefined && (at = text.indexOf('\r\n')) >= 0) {
        const line = text.slice(0, at).toUpperCase();
        text = text.slice(at + 2);
        if (line.startsWith('DATA')) {
          reading = body(++counts.started);
          socket.write('354 go ahead\r\n');
          if (reading === 'stall') socket.pause();
        } else if (line.startsWith('QUIT')) socket.end('221 bye\r\n');
        else socket.write('250 ok\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (s.address() as { port: number }).port,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        s.close(() => resolve());
      }),
  };
}
