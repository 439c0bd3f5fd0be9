// The connections of a stopping server. A stop keeps the port open while running jobs and synchronous runs finish
// (a new request is answered 503 with Connection: close meanwhile), then closes it. Node's own ways of ending
// connections are both too quick for that: `closeIdleConnections()` (which `server.close()` also calls) destroys a
// kept-alive connection whose next request has arrived but has not been read yet (the event loop was busy), and
// `closeAllConnections()` destroys a request whose answer is not written yet. Either leaves its client with a closed
// socket and no answer, and a sender that does not resend a POST then drops its webhook. Here every request whose
// bytes reached the server before the port closed gets an answer, and every answer given after the stop began
// closes its connection.
import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { noteServerCut } from './server-cut.js';

/**
 * How long the port stays closed before the idle connections are: what had arrived by then is read meanwhile (the
 * wait spans at least one turn of the event loop's I/O), and a connection that got a request is answered instead.
 */
export const SETTLE_MS = 50;

/** The least time the answers being written (and the bodies being read) get once the port has closed. */
export const LAST_ANSWERS_MS = 1000;

/** How often connections that became idle after the port closed are ended (an answer begun before the stop). */
const IDLE_SWEEP_MS = 100;

export interface StopConnections {
  /** At the start of a stop: answers not written yet close their connection once written. */
  begin(): void;
  /**
   * Once nothing runs any more: closes the port, lets what had arrived be read, ends the idle connections, and waits
   * for the answers still being made until `deadline` (a time in ms since the epoch, at least LAST_ANSWERS_MS ahead);
   * then cuts what is left. Resolves with how many connections were cut.
   */
  close(deadline: number): Promise<number>;
}

/** Follows `server`'s connections and the answers in flight, for a stop. */
export function stopConnections(server: Server): StopConnections {
  const sockets = new Set<Socket>();
  const answering = new Set<ServerResponse>();
  let stopping = false;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const follow = (_req: unknown, res: ServerResponse) => {
    // While stopping, the request listener gives every new answer Connection: close itself.
    if (stopping) return;
    answering.add(res);
    res.once('close', () => answering.delete(res));
  };
  server.on('request', follow);
  server.on('checkContinue', follow);
  return {
    begin() {
      stopping = true;
      for (const res of answering) if (!res.headersSent) res.setHeader('Connection', 'close');
      answering.clear();
    },
    async close(deadline) {
      // Connections the system has already taken on the port's behalf are accepted first (a turn of the event loop's
      // I/O): closing the port would reset them, with what their clients had sent.
      await ioTurn();
      const ended = stopListening(server);
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      // A timer can fire before the I/O of its turn is read (after a long task): one more turn makes sure it is.
      await ioTurn();
      server.closeIdleConnections();
      const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), Math.max(LAST_ANSWERS_MS, deadline - Date.now()))));
      const outcome = await Promise.race([ended, late]);
      clearInterval(sweep);
      clearTimeout(timer);
      if (outcome !== 'late') return 0;
      const cut = sockets.size;
      // Their requests' log lines say the stop cut them (server-cut.ts), not their clients.
      for (const socket of sockets) noteServerCut(socket, 'the server stopped');
      server.closeAllConnections();
      // A TLS handshake not finished is not an HTTP connection yet: closeAllConnections does not see it.
      for (const socket of sockets) socket.destroy();
      await ended;
      return cut;
    },
  };
}

/** Resolves after the event loop has read the I/O ready by now: the second setImmediate runs a turn after the first. */
async function ioTurn(): Promise<void> {
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
}

/**
 * Closes the listening port and resolves when the last connection has ended. `server.close()` would also destroy
 * the idle connections at once (Node ≥ 19), before what has just arrived on them is read; that one step is left out
 * here (it comes after SETTLE_MS, in `close`).
 */
function stopListening(server: Server): Promise<'ended'> {
  const own = Object.getOwnPropertyDescriptor(server, 'closeIdleConnections');
  server.closeIdleConnections = () => undefined;
  try {
    return new Promise((r) => server.close(() => r('ended')));
  } finally {
    if (own) Object.defineProperty(server, 'closeIdleConnections', own);
    else Reflect.deleteProperty(server, 'closeIdleConnections');
  }
}
