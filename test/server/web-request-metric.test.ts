// /-/metrics counts the WebRequest calls by outcome (oktell_web_requests_total), as it counts the Bpium calls: a
// service answering errors, down or gone shows on the page, not only in the runs. A real server; the Web-API runs
// each scenario; a real HTTP service on loopback answers 200, 404 and 503, holds one request past the block's
// timeout, and a closed port stands for a service that is gone. A url the block refuses before sending is not counted.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { AUTH, startTestServer, type TestServer } from './server-helpers.js';

const call = (url: string) => `variables: { code: string, st: number }
start: call
blocks:
  call: { kind: WebRequest, url: '${url}', timeout: 1, status: st, errorCode: code, exits: { success: ok, error: bad, timeout: slow } }
  ok: { kind: ReturnValue, values: { 1: '"ok " + [st]' } }
  bad: { kind: ReturnValue, values: { 1: '"error " + [code]' } }
  slow: { kind: ReturnValue, values: { 1: '"timeout " + [code]' } }
`;

async function webCalls(t: TestServer): Promise<Record<string, number>> {
  const res = await fetch(`${t.server.url}/-/metrics`, { headers: { authorization: AUTH } });
  assert.equal(res.status, 200);
  const page = await res.text();
  assert.match(page, /^# TYPE oktell_web_requests_total counter$/m);
  const out: Record<string, number> = {};
  for (const m of page.matchAll(/^oktell_web_requests_total\{outcome="(\w+)"\} (\d+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

/** A port nothing listens on: taken from the OS, then closed. */
async function closedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('oktell_web_requests_total', { timeout: 60_000 }, () => {
  it('counts ok, error answers, outages, timeouts and refused connections, each call once; not a url refused before sending', async () => {
    const held: Array<() => void> = [];
    const service: Server = createServer((req, res) => {
      if (req.url === '/hold') {
        held.push(() => res.end('late'));
        return;
      }
      res.statusCode = req.url === '/ok' ? 200 : req.url === '/missing' ? 404 : 503;
      res.end('answer');
    });
    await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
    const gone = await closedPort();
    const t = await startTestServer({
      // One attempt per call: an outage is not retried inside the block, so each call is one request.
      env: { WEB_REQUEST_ATTEMPTS: '1' },
      extraScenarios: {
        'CallOk.yaml': call(`"${base}/ok"`),
        'CallMissing.yaml': call(`"${base}/missing"`),
        'CallDown.yaml': call(`"${base}/down"`),
        'CallHold.yaml': call(`"${base}/hold"`),
        'CallGone.yaml': call(`"http://127.0.0.1:${gone}/x"`),
        'CallBad.yaml': call(`"http://127.0.0.1:" + [code] + "99999/x"`),
      },
    });
    const run = async (name: string) => (await fetch(`${t.server.url}/execsvcscriptplain?name=${name}`, { headers: { authorization: AUTH } })).text();
    try {
      assert.deepEqual(await webCalls(t), { ok: 0, error: 0, outage: 0, timeout: 0, network_error: 0, unknown: 0 });
      assert.equal(await run('CallOk'), 'ok 200');
      assert.equal(await run('CallOk'), 'ok 200');
      assert.equal(await run('CallMissing'), 'error 404');
      assert.match(await run('CallDown'), /^timeout /);
      assert.match(await run('CallHold'), /^timeout /);
      assert.match(await run('CallGone'), /^timeout /);
      assert.equal(await run('CallBad'), 'error HTTP_BAD_URL');
      assert.deepEqual(await webCalls(t), { ok: 2, error: 1, outage: 1, timeout: 1, network_error: 1, unknown: 0 });
    } finally {
      for (const h of held) h();
      await t.cleanup();
      service.closeAllConnections();
      await new Promise<void>((r) => service.close(() => r()));
    }
  });
});
