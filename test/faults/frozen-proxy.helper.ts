// A TCP proxy a test can freeze, to play a network partition that drops packets: nothing is forwarded either way any
// more and nothing is closed, so whatever waits for an answer across it (a query, a connection's goodbye) waits for ever.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface FreezableProxy {
  port: number;
  /** Stops forwarding in both directions without closing anything; new connections are accepted and then hang. */
  freeze(): void;
  /** Ends every connection (what waited across the proxy then fails) and the proxy. */
  destroy(): Promise<void>;
}

/** A TCP proxy on 127.0.0.1 to `target`, forwarding until `freeze()`. */
export async function freezableProxy(target: { host: string; port: number }): Promise<FreezableProxy> {
  const sockets = new Set<Socket>();
  let frozen = false;
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('close', () => sockets.delete(s));
  };
  const server: Server = createServer((client) => {
    track(client);
    if (frozen) return void client.pause();
    const upstream = connect(target.port, target.host);
    track(upstream);
    const forward = (from: Socket, to: Socket) => {
      from.on('data', (chunk) => {
        // A chunk read as the freeze came is dropped, as a partition drops packets.
        if (!frozen) to.write(chunk);
      });
      // Closing is forwarded only while the link works: a partition tells neither side.
      from.once('close', () => !frozen && to.destroy());
    };
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    freeze() {
      frozen = true;
      for (const s of sockets) s.pause();
    },
    async destroy() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** `url` (a postgres:// URL) with its host and port replaced by the proxy's. */
export function viaProxy(url: string, proxy: FreezableProxy): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return u.toString();
}
