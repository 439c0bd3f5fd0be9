// A slow HTTP service on loopback (OS-picked port) for the tests of the wait for a pooled connection: it answers the
// n-th request after answerAfterMs(n) ms (Infinity: never, so the request holds its connection) and counts what it got.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function slowService(answerAfterMs: (n: number) => number, o: { path?: string; answer?: (res: ServerResponse, n: number) => void } = {}) {
  const answer = o.answer ?? ((res) => res.end('ok'));
  let received = 0;
  const held = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const n = ++received;
      held.add(res);
      const ms = answerAfterMs(n);
      if (Number.isFinite(ms)) setTimeout(() => answer(res, n), ms);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${o.path ?? '/effect'}`,
    received: () => received,
    /** Resolves once `n` requests have come in, or after `ms` (the test's own checks then say what is missing). */
    receivedAtLeast: async (n: number, ms: number) => {
      for (let waited = 0; waited < ms && received < n; waited += 20) await new Promise((r) => setTimeout(r, 20));
    },
    close: async () => {
      for (const r of held) r.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
