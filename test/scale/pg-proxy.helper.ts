// A TCP proxy between a server and PostgreSQL that a test can turn into each kind of outage: connections cut
// (every open one ended at once), refused (nothing listens on the port), hung (connections accepted, nothing
// answered, nothing closed), and back.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'refuse' | 'hang';

export interface OutageProxy {
  port: number;
  mode(): ProxyMode;
  /** Ends every open connection (both sides), as a restarted database or a broken link does. */
  cut(): void;
  /** Closes the listening port: new connections are refused (ECONNREFUSED); open ones are cut. */
  refuse(): Promise<void>;
  /** Open connections stop forwarding and new ones are accepted and never answered; nothing is closed. */
  hang(): Promise<void>;
  /** Forwards again; connections left hanging are ended first (as a partition's end resets them). */
  pass(): Promise<void>;
  /**
   * New connections are forwarded again, while those left hanging stay as they are, open and never answered: the
   * database came back (a failover, a host restarted elsewhere) but nothing ever tells the old connections.
   */
  heal(): Promise<void>;
  /** Connections accepted since the proxy started. */
  accepted(): number;
  close(): Promise<void>;
}

export async function outageProxy(target: { host: string; port: number }): Promise<OutageProxy> {
  const sockets = new Set<Socket>();
  let current: ProxyMode = 'pass';
  let accepted = 0;
  /** Connections hung by `hang()` (both ends): `heal()` leaves them hung. */
  const hung = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('close', () => sockets.delete(s));
  };
  const onConnection = (client: Socket) => {
    accepted++;
    track(client);
    if (current === 'hang') {
      hung.add(client);
      return void client.pause();
    }
    const upstream = connect(target.port, target.host);
    track(upstream);
    const forward = (from: Socket, to: Socket) => {
      from.on('data', (chunk) => {
        if (current !== 'hang' && !hung.has(from)) to.write(chunk);
      });
      from.once('close', () => current !== 'hang' && !hung.has(from) && to.destroy());
    };
    forward(client, upstream);
    forward(upstream, client);
  };
  let server: Server = createServer(onConnection);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const cutAll = () => {
    for (const s of sockets) s.destroy();
  };
  const listening = () => server.listening;
  const closeServer = () => new Promise<void>((r) => (listening() ? server.close(() => r()) : r()));
  const openServer = async () => {
    if (listening()) return;
    server = createServer(onConnection);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  };
  return {
    port,
    mode: () => current,
    cut() {
      cutAll();
      hung.clear();
    },
    async refuse() {
      current = 'refuse';
      const closed = closeServer();
      cutAll();
      await closed;
    },
    async hang() {
      current = 'hang';
      await openServer();
      for (const s of sockets) {
        hung.add(s);
        s.pause();
      }
    },
    async pass() {
      if (current === 'hang') cutAll();
      hung.clear();
      current = 'pass';
      await openServer();
    },
    async heal() {
      current = 'pass';
      await openServer();
    },
    accepted: () => accepted,
    async close() {
      current = 'refuse';
      const closed = closeServer();
      cutAll();
      await closed;
    },
  };
}

/** `url` (a postgres:// URL) with its host and port replaced by the proxy's. */
export function throughProxy(url: string, proxy: OutageProxy): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return u.toString();
}
