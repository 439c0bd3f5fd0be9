// Connections the server itself cut before a request's answer was written: Node's request timeout on a body that
// trickles in (answered 408 by answerClientError), a request Node could not parse on, the connections a stop cuts
// at its deadline, an answer an unexpected error broke off. The request's log line (observeRequest) says so, rather
// than that the client ended the request.
import type { Duplex } from 'node:stream';

const cut = new WeakMap<Duplex, string>();

/** Notes, before the server destroys `socket`, why it cuts the request on it (for the request's log line). */
export function noteServerCut(socket: Duplex, why: string): void {
  if (!cut.has(socket)) cut.set(socket, why);
}

/** Why the server cut the connection, or undefined when it did not (the client closed it). */
export function serverCutReason(socket: Duplex | null | undefined): string | undefined {
  return socket ? cut.get(socket) : undefined;
}
