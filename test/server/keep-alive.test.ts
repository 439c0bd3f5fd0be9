// Kept-alive connections: the server keeps an idle one open longer than its senders and proxies do (65 s by default,
// OKTELL_KEEP_ALIVE_TIMEOUT_MS), so the sender closes it first and never sends a request on a connection the server is
// closing (a reset). Raw sockets, so what the server does with the connection is seen as it is.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadServerConfig } from '../../server/config.js';
import { tempDir } from '../helpers.js';
import { startTestServer, type TestServer } from './server-helpers.js';

/** A raw connection that sends GET /-/health and collects what comes back; `closed` says whether the server ended it. */
class Connection {
  readonly socket: Socket;
  text = '';
  closed = false;
  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.setEncoding('utf8');
    this.socket.on('data', (d: string) => (this.text += d));
    this.socket.on('close', () => (this.closed = true));
    this.socket.on('error', () => undefined);
  }
  /** Sends one request and resolves with its answer's head (status line and headers, each line ending in CRLF). */
  async get(): Promise<string> {
    this.text = '';
    this.socket.write('GET /-/health HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const deadline = Date.now() + 5000;
    while (!/\r\n\r\n/.test(this.text) && !this.closed && Date.now() < deadline) await sleep(10);
    return `${this.text.split('\r\n\r\n')[0] ?? ''}\r\n`;
  }
}

function keepAliveMs(env: Record<string, string>): number {
  const tmp = tempDir();
  try {
    return loadServerConfig({}, env, tmp.dir).keepAliveTimeoutMs;
  } finally {
    tmp.cleanup();
  }
}

describe('OKTELL_KEEP_ALIVE_TIMEOUT_MS', () => {
  for (const [value, expected] of [[undefined, 65_000], ['', 65_000], ['1000', 1000], ['120000', 120_000]] as const) {
    it(`${JSON.stringify(value)} → ${expected}`, () => {
      assert.equal(keepAliveMs(value === undefined ? {} : { OKTELL_KEEP_ALIVE_TIMEOUT_MS: value }), expected);
    });
  }
  for (const value of ['0', '999', '3600001', '65s']) {
    it(`${value} is refused with what it must be`, () => {
      assert.throws(() => keepAliveMs({ OKTELL_KEEP_ALIVE_TIMEOUT_MS: value }), new RegExp(`OKTELL_KEEP_ALIVE_TIMEOUT_MS="${value}" must be a whole number, from 1000 to 3600000`));
    });
  }
});

describe('kept-alive connections on a real server', () => {
  describe('by default', () => {
    let t: TestServer;
    before(async () => (t = await startTestServer({ smtp: false })));
    after(() => t.cleanup());

    it('answers tell clients the connection stays open 65 s idle (Node alone says 5 s)', async () => {
      const c = new Connection(t.server.port);
      try {
        const head = await c.get();
        assert.match(head, /^HTTP\/1\.1 200 /);
        assert.match(head, /\r\nKeep-Alive: timeout=65\r\n/i);
        assert.match(head, /\r\nConnection: keep-alive\r\n/i);
      } finally {
        c.socket.destroy();
      }
    });
  });

  describe('with OKTELL_KEEP_ALIVE_TIMEOUT_MS=3000 and a request timeout shorter than the idle time', () => {
    let t: TestServer;
    // The request timeout (and with it the headers' timeout) is 500 ms: an idle kept-alive connection is not cut by it.
    // The idle time checked (1 s) is 2 s short of the keep-alive timeout, so a busy machine's late timers cannot close it first.
    before(async () => (t = await startTestServer({ smtp: false, env: { OKTELL_KEEP_ALIVE_TIMEOUT_MS: '3000', OKTELL_REQUEST_TIMEOUT_MS: '500' } })));
    after(() => t.cleanup());

    it('keeps an idle connection for the next request within the time, and closes it after', async () => {
      const c = new Connection(t.server.port);
      try {
        assert.match(await c.get(), /\r\nKeep-Alive: timeout=3\r\n/i);
        await sleep(1000);
        assert.equal(c.closed, false, 'open 1 s after its answer (the headers timeout of 0.5 s does not apply to an idle connection)');
        assert.match(await c.get(), /^HTTP\/1\.1 200 /, 'a second request on the same connection is answered');
        const closed = once(c.socket, 'close');
        const waited = await Promise.race([closed.then(() => true), sleep(10_000).then(() => false)]);
        assert.equal(waited, true, 'the server closed the idle connection within 10 s of the second answer');
      } finally {
        c.socket.destroy();
      }
    });
  });
});
