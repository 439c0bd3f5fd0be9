// A WebRequest's timeout counts the service's time, not the wait for one of the client's connections to the host
// (16 are kept per host; trial 58: 32 workers posting to a service that answers in 1–3 s). Counted from the request's
// creation, a POST that waited 3 s for a connection was sent, acted on by the service, and cut off 2 s later as
// HTTP_TIMEOUT, so the block sent it again: the service did the work twice though it always answered in time. Real
// parts: the web client over node:http and an HTTP server on loopback that counts what it receives.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createWebClient } from '../../adapters/web/client.js';
import { EffectError } from '../../engine/errors.js';
import { randomIds, runScenario, systemClock } from '../../engine/index.js';
import { httpCallNote } from '../../server/console/call-notes.js';
import { httpCallsOf } from '../../server/console/http-calls.js';
import { libraryOfText, printedRun } from '../scenario-text.helper.js';
import { slowService } from '../slow-service.helper.js';

describe('WebRequest: the wait for a free connection', { timeout: 30_000 }, () => {
  it('20 POSTs at once to a service that answers each in 600 ms, timeout 1 s: each sent once, all answered', async () => {
    const service = await slowService(() => 600);
    const client = createWebClient({ retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 } });
    try {
      const spec = (i: number) => ({ method: 'POST', url: new URL(service.url), headers: { 'content-type': 'text/plain' }, body: Buffer.from(String(i)), timeoutMs: 1000, maxRedirects: 0 });
      const answers = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => client.send(spec(i))));
      assert.deepEqual(answers.map((a) => (a.status === 'fulfilled' ? [a.value.status, a.value.attempts] : [a.reason?.message])), Array.from({ length: 20 }, () => [200, 1]));
      assert.equal(service.received(), 20, 'the service got each POST once (four of them after waiting 600 ms for a connection)');
    } finally {
      client.close();
      await service.close();
    }
  });

  it('a request that gets no connection within its timeout is not sent, and says why', async () => {
    // The first 16 requests are never answered (they hold every connection); the 17th waits for one.
    const service = await slowService((n) => (n <= 16 ? Infinity : 0));
    const client = createWebClient({ retry: { attempts: 1, baseDelayMs: 5, maxDelayMs: 20 } });
    try {
      const spec = (timeoutMs: number) => ({ method: 'POST', url: new URL(service.url), headers: {}, body: Buffer.from('x'), timeoutMs, maxRedirects: 0 });
      const holding = Array.from({ length: 16 }, () => client.send(spec(5000)).catch(() => undefined));
      await service.receivedAtLeast(16, 2000);
      assert.equal(service.received(), 16);
      const asked = Date.now();
      await assert.rejects(client.send(spec(300)), (e: Error) => /no connection to 127\.0\.0\.1:\d+ came free within 300 ms \(all 16 .*\): the request was not sent/.test(e.message) || assert.fail(e.message));
      // Bounded: not held until one of the 16 frees its connection (their timeouts, 5 s).
      const waited = Date.now() - asked;
      assert.ok(waited < 2000, `failed after ${waited} ms`);
      assert.equal(service.received(), 16, 'nothing more reached the service');
      void holding;
    } finally {
      client.close();
      await service.close();
    }
  });

  it('a redirect whose target gets no connection says its request was not sent', async () => {
    // The target's 16 connections are held by requests it never answers; the first hop's host redirects to it.
    const target = await slowService(() => Infinity);
    const redirecting = createServer((req, res) => {
      req.resume();
      res.writeHead(302, { location: target.url }).end();
    });
    await new Promise<void>((r) => redirecting.listen(0, '127.0.0.1', r));
    const client = createWebClient({ retry: { attempts: 1, baseDelayMs: 5, maxDelayMs: 20 } });
    try {
      const holding = Array.from({ length: 16 }, () => client.send({ method: 'GET', url: new URL(target.url), headers: {}, timeoutMs: 5000, maxRedirects: 0 }).catch(() => undefined));
      await target.receivedAtLeast(16, 2000);
      assert.equal(target.received(), 16);
      const start = `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/start`;
      await assert.rejects(client.send({ method: 'GET', url: new URL(start), headers: {}, timeoutMs: 300, maxRedirects: 1 }), (e: Error) => {
        assert.match(e.message, /^GET http:\/\/127\.0\.0\.1:\d+\/start: no connection to 127\.0\.0\.1:\d+ came free within \d+ ms \(all 16 .*\): the request to the redirect's target \(after 1 redirect\(s\) followed\) was not sent$/);
        return true;
      });
      assert.equal(target.received(), 16, 'nothing more reached the target');
      void holding;
    } finally {
      client.close();
      redirecting.closeAllConnections();
      await new Promise((r) => redirecting.close(r));
      await target.close();
    }
  });

  it('a WebRequest whose every attempt got no connection is labelled "not sent" in the run record, the console and the CLI', async () => {
    // The first 16 requests are never answered (they hold every connection); the block's two attempts wait in vain.
    const service = await slowService((n) => (n <= 16 ? Infinity : 0));
    const client = createWebClient({ retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 } });
    try {
      const holding = Array.from({ length: 16 }, () => client.send({ method: 'POST', url: new URL(service.url), headers: {}, body: Buffer.from('x'), timeoutMs: 5000, maxRedirects: 0 }).catch(() => undefined));
      await service.receivedAtLeast(16, 2000);
      const yaml = `variables: { url: string, code: string }
start: call
blocks:
  call: { kind: WebRequest, method: POST, url: '[url]', body: '"x"', timeout: 0.3, errorCode: code, exits: { success: ok, error: bad, timeout: slow } }
  ok: { kind: ReturnValue, values: { 1: '"ok"' } }
  bad: { kind: ReturnValue, values: { 1: '"error"' } }
  slow: { kind: ReturnValue, values: { 1: '"timeout " + [code]' } }
`;
      const { library, name } = libraryOfText('NotSent.yaml', yaml);
      const r = await runScenario(library, name, {
        variables: { url: service.url },
        ports: { web: client, clock: systemClock, ids: randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) } },
      });
      assert.equal(r.returnValues['1'], 'timeout HTTP_TIMEOUT');
      const call = r.httpCalls![0]!;
      assert.match(String(call.error), /came free within 300 ms .*: the request was not sent$/);
      assert.deepEqual([call.outcome, call.performed, call.attempts, httpCallNote(call)], ['timeout', false, 2, 'not sent']);
      // What the console and `show` make of the stored trace says the same.
      assert.deepEqual(httpCallsOf({}, r.trace).map((c) => httpCallNote(c)), ['not sent']);
      const printed = printedRun(r);
      assert.match(printed, /http POST http:\/\/127\.0\.0\.1:\d+\/effect → — timeout 2 attempts \(not sent\) /);
      assert.doesNotMatch(printed, /no answer/);
      assert.equal(service.received(), 16, 'nothing more reached the service');
      void holding;
    } finally {
      client.close();
      await service.close();
    }
  });

  it('a PUT written and reset, whose later attempts get no connection, is not said "not sent" anywhere', async () => {
    // Real parts: the PUT reaches the server, which resets its connection; while it backs off, 16 GETs that are never
    // answered take every connection, so its later attempts wait in vain. The first attempt was sent: the service may
    // have acted on it, so neither the call's record nor its message may read as if nothing went out.
    let puts = 0;
    const held: import('node:http').ServerResponse[] = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.method === 'PUT') {
          puts++;
          req.socket.destroy();
        } else held.push(res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = createWebClient({ retry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 50 } });
    try {
      const put = client.send({ method: 'PUT', url: new URL(`${base}/item`), headers: {}, body: Buffer.from('x'), timeoutMs: 400, maxRedirects: 0 }).then(
        () => assert.fail('answered'),
        (e: unknown) => e,
      );
      await new Promise((r) => setTimeout(r, 20));
      for (let i = 0; i < 16; i++) client.send({ method: 'GET', url: new URL(`${base}/hold`), headers: {}, timeoutMs: 20_000, maxRedirects: 0 }).catch(() => undefined);
      const e = await put;
      assert.ok(e instanceof EffectError, String(e));
      assert.equal(puts, 1, 'the PUT reached the server once');
      assert.equal(e.details.notSent, undefined);
      assert.match(e.message, /the request was not sent \(an earlier attempt was sent and may have reached the service\)$/);
    } finally {
      client.close();
      for (const r of held) r.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
