// A request cut while it waits for a connection of the pool is settled at once (0c7e366), but Node keeps it in the
// agent's queue: when a connection comes free it is handed to it, and Node gives it back to the pool unused. Checked
// here on http and https with the kept-alive agents: 16 connections held by a silent service, 60 bounded waits that
// expire, then the 16 answered: nothing more is sent, the 16 connections are back in the pool and reused, no error
// escapes, no listener piles up on them. Real parts: HttpExchanger, node:http and node:https servers on loopback.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { HttpExchanger } from '../../adapters/http/exchange.js';
import { tempDir } from '../helpers.js';

for (const tls of [false, true]) {
  describe(`requests cut while waiting for a connection (${tls ? 'https' : 'http'})`, { timeout: 60_000 }, () => {
    it('leave the pool whole: its 16 connections come back free and are reused, nothing is sent for them', async (ctx) => {
      const t = tempDir();
      let received = 0;
      let connections = 0;
      const held: ServerResponse[] = [];
      const handle = (req: IncomingMessage, res: ServerResponse) => {
        req.resume();
        req.on('end', () => {
          received++;
          if (req.method === 'POST') held.push(res);
          else res.end('ok');
        });
      };
      let server: Server;
      if (tls) {
        try {
          execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(t.dir, 'key.pem'), '-out', join(t.dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
        } catch {
          t.cleanup();
          ctx.skip('openssl is not installed, so no test certificate can be made');
          return;
        }
        // The agent trusts the system's authorities only: this self-signed certificate is let through for the test.
        process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
        server = createHttpsServer({ key: readFileSync(join(t.dir, 'key.pem')), cert: readFileSync(join(t.dir, 'cert.pem')) }, handle);
      } else server = createServer(handle);
      server.on(tls ? 'secureConnection' : 'connection', () => connections++);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const url = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
      const escaped: unknown[] = [];
      const onEscape = (e: unknown) => void escaped.push(e);
      process.on('uncaughtException', onEscape);
      const exchanger = new HttpExchanger(16);
      const agent = (exchanger as unknown as Record<'httpAgent' | 'httpsAgent', { freeSockets: Record<string, Socket[]>; sockets: Record<string, Socket[]>; requests: Record<string, unknown[]> }>)[tls ? 'httpsAgent' : 'httpAgent'];
      try {
        const holding = Array.from({ length: 16 }, () => exchanger.exchange(url, { method: 'POST', headers: {}, body: 'x', timeoutMs: 30_000, queueWaitMs: 5000 }));
        for (let i = 0; i < 500 && received < 16; i++) await new Promise((r) => setTimeout(r, 10));
        assert.equal(received, 16);
        for (let i = 0; i < 60; i++) {
          const asked = Date.now();
          await assert.rejects(exchanger.exchange(url, { method: 'POST', headers: {}, body: 'y', timeoutMs: 1000, queueWaitMs: 5 }), /came free within 5 ms/);
          assert.ok(Date.now() - asked < 1000, 'settled at once');
        }
        for (const res of held) res.end('ok');
        assert.deepEqual((await Promise.all(holding)).map((a) => a.status), Array(16).fill(200));
        await new Promise((r) => setTimeout(r, 200));
        const free = Object.values(agent.freeSockets).flat();
        assert.equal(free.length, 16, 'every connection back in the pool');
        assert.deepEqual([Object.keys(agent.sockets).length, Object.keys(agent.requests).length], [0, 0]);
        for (const s of free) assert.deepEqual([s.listenerCount('free'), s.listenerCount('error')], [1, 1], 'no listener left by the cut requests');
        const again = await Promise.all(Array.from({ length: 16 }, () => exchanger.exchange(url, { method: 'GET', headers: {}, timeoutMs: 5000 })));
        assert.deepEqual(again.map((a) => a.status), Array(16).fill(200));
        assert.deepEqual([received, connections], [32, 16], 'the cut requests sent nothing; the pool\'s 16 connections were reused');
        assert.deepEqual(escaped, []);
      } finally {
        process.off('uncaughtException', onEscape);
        exchanger.close(new Error('test over'));
        for (const res of held) res.destroy();
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
        if (tls) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
        t.cleanup();
      }
    });
  });
}
