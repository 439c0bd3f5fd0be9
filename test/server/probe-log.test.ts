// Probes (a load balancer's /-/health every few seconds, a metrics scrape) write their request line at info only when
// their answer changes: a failing probe during an outage was one info line per probe, burying the outage's own lines.
// A real listening server whose answers the test chooses, logged by the server's own request observer.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { observeRequest } from '../../server/hook-listener.js';
import { capturingLogger } from './server-helpers.js';

describe('the log lines of probes', () => {
  it('are debug while the answer stays the same, info when it changes (first failure, another failure, recovery)', async () => {
    const { lines, logger } = capturingLogger();
    const d = { metrics: { inFlight: 0 }, logger } as unknown as Parameters<typeof observeRequest>[0];
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      observeRequest(d, req.method ?? 'GET', { path: url.pathname }, () => '127.0.0.1', res, () => undefined);
      res.statusCode = Number(url.searchParams.get('status'));
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const health = [200, 200, 503, 503, 503, 200, 200, 500, 503, 503];
      for (const status of health) assert.equal((await fetch(`${base}/-/health?status=${status}`)).status, status);
      // Another probe keeps its own history; an ordinary request is info whatever it answers.
      for (const status of [503, 503]) await fetch(`${base}/-/metrics?status=${status}`);
      await fetch(`${base}/Bpium/NewTask?status=200`);
      const seen = (path: string) => lines.filter((l) => l.msg === 'request' && l.obj.path === path).map((l) => `${l.obj.status} ${l.level}`);
      assert.deepEqual(seen('/-/health'), ['200 debug', '200 debug', '503 info', '503 debug', '503 debug', '200 info', '200 debug', '500 info', '503 info', '503 debug']);
      assert.deepEqual(seen('/-/metrics'), ['503 info', '503 debug']);
      assert.deepEqual(seen('/Bpium/NewTask'), ['200 info']);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
