// The Bpium client keeps 32 connections to Bpium; when all are busy (32 jobs calling a slow Bpium at once) a call
// waits for one. That wait is not Bpium's time: the attempt's deadline starts once it has a connection, the wait is
// bounded apart (by the call's timeout), and a request that gets no connection is not sent, so even a POST may be
// sent again. Before, a create that waited most of its timeout for a connection was sent, acted on by Bpium and cut
// off as BPIUM_TIMEOUT. Real parts: the Bpium client over node:http and a slow HTTP server on loopback that holds the
// connections and counts the creates it receives.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createBpiumClient } from '../../adapters/bpium/client.js';
import type { BpiumAttempt } from '../../engine/ports.js';
import { EffectError } from '../../engine/errors.js';
import { randomIds, runScenario, systemClock } from '../../engine/index.js';
import { bpiumCallNote } from '../../server/console/call-notes.js';
import { libraryOfText, printedRun } from '../scenario-text.helper.js';
import { slowService } from '../slow-service.helper.js';

/** A Bpium that answers each create (`{ id }`, n for the n-th) after `answerAfterMs(n)` ms (Infinity: never). */
const slowBpium = (answerAfterMs: (n: number) => number) =>
  slowService(answerAfterMs, { path: '', answer: (res, n) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: n })) });

const client = (url: string, timeoutMs: number, attempts: number) =>
  createBpiumClient({ url, login: 'api', password: 'pw', rateLimit: false, timeoutMs, retry: { attempts, baseDelayMs: 5, maxDelayMs: 20 } });

describe('Bpium client: the wait for a free connection', { timeout: 60_000 }, () => {
  it('40 creates at once to a Bpium that answers each in 600 ms, timeout 1 s: each sent once, all answered', async () => {
    const bpium = await slowBpium(() => 600);
    const c = client(bpium.url, 1000, 3);
    try {
      const answers = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => c.createRecord('11', { '2': `task ${i}` })));
      assert.deepEqual(
        answers.map((a) => (a.status === 'fulfilled' ? 'created' : (a.reason as Error).message)),
        Array.from({ length: 40 }, () => 'created'),
      );
      assert.equal(bpium.received(), 40, 'Bpium got each create once (eight of them after waiting 600 ms for a connection)');
    } finally {
      c.close();
      await bpium.close();
    }
  });

  it('a create that gets no connection within the timeout is not sent, says so, and fails when its wait runs out', async () => {
    // The first 32 creates are never answered (they hold every connection); the 33rd waits for one.
    const bpium = await slowBpium((n) => (n <= 32 ? Infinity : 0));
    const c = client(bpium.url, 20_000, 1);
    try {
      const holding = Array.from({ length: 32 }, () => c.createRecord('11', { '2': 'held' }).catch(() => undefined));
      await bpium.receivedAtLeast(32, 4000);
      assert.equal(bpium.received(), 32);
      const asked = Date.now();
      await assert.rejects(c.createRecord('11', { '2': 'waits' }, { timeoutMs: 300 }), (e: unknown) => {
        assert.ok(e instanceof EffectError, String(e));
        assert.deepEqual([e.kind, e.details.code, e.details.attempts], ['timeout', 'BPIUM_TIMEOUT', 1]);
        assert.match(e.message, /^Bpium POST \/catalogs\/11\/records: no connection to 127\.0\.0\.1:\d+ came free within 300 ms \(all 32 .*\): the request was not sent \(http:\/\/127\.0\.0\.1:\d+\/api\/v1, 1 attempt\)$/);
        return true;
      });
      // Bounded: not held until one of the 32 frees its connection (their timeouts, 20 s).
      const waited = Date.now() - asked;
      assert.ok(waited < 3000, `failed after ${waited} ms`);
      assert.equal(bpium.received(), 32, 'nothing more reached Bpium');
      void holding;
    } finally {
      c.close();
      await bpium.close();
    }
  });

  it('a create that got no connection is safe to send again: its next attempt gets one and Bpium creates the record once', async () => {
    // The first 32 creates hold every connection for 1.5 s; the 33rd waits 1 s in vain, then again and gets one.
    const bpium = await slowBpium((n) => (n <= 32 ? 1500 : 0));
    const c = client(bpium.url, 20_000, 2);
    const attempts: BpiumAttempt[] = [];
    try {
      const holding = Promise.all(Array.from({ length: 32 }, () => c.createRecord('11', { '2': 'held' })));
      await bpium.receivedAtLeast(32, 4000);
      const created = await c.createRecord('11', { '2': 'waits' }, { timeoutMs: 1000, onAttempt: (a) => attempts.push(a) });
      assert.equal(created.id, '33');
      assert.deepEqual(attempts.map((x) => [x.attempt, x.status, x.error]), [[1, undefined, 'not sent: no free connection'], [2, 200, undefined]]);
      assert.equal((await holding).length, 32);
      assert.equal(bpium.received(), 33, 'each create reached Bpium once');
    } finally {
      c.close();
      await bpium.close();
    }
  });

  it('the wait for a connection is kept out of the deadline when the attempt then fails: a reset after a long wait is retried', async () => {
    // The first 32 updates hold every connection for 900 ms; the 33rd waits for one that long, is reset by Bpium 150 ms
    // after it is sent (1050 ms into a call of 1000 ms, of which it spent 150 on the wire), and its retry is answered.
    const bpium = await slowService((n) => (n <= 32 ? 900 : n === 33 ? 150 : 0), {
      path: '',
      answer: (res, n) => (n === 33 ? res.destroy() : res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: n, values: {} }))),
    });
    const c = client(bpium.url, 20_000, 3);
    const attempts: BpiumAttempt[] = [];
    try {
      const holding = Promise.all(Array.from({ length: 32 }, () => c.updateRecord('11', '1', { '2': 'held' })));
      await bpium.receivedAtLeast(32, 4000);
      await c.updateRecord('11', '2', { '2': 'waits' }, { timeoutMs: 1000, onAttempt: (a) => attempts.push(a) });
      assert.deepEqual(attempts.map((x) => [x.attempt, x.status]), [[1, undefined], [2, 200]]);
      assert.equal((await holding).length, 32);
      assert.equal(bpium.received(), 34);
    } finally {
      c.close();
      await bpium.close();
    }
  });

  it('a Bpium call whose every attempt got no connection is labelled "not sent" in the run record, the console and the CLI', async () => {
    // The first 32 creates are never answered (they hold every connection); the block's two attempts wait in vain.
    const bpium = await slowBpium((n) => (n <= 32 ? Infinity : 0));
    const c = client(bpium.url, 20_000, 2);
    try {
      const holding = Array.from({ length: 32 }, () => c.createRecord('11', { '2': 'held' }).catch(() => undefined));
      await bpium.receivedAtLeast(32, 4000);
      const yaml = `variables: { code: string }
start: get
blocks:
  get: { kind: Bpium, method: getRecord, catalog: '"11"', record: '"1"', timeout: 0.3, errorCode: code, exits: { success: ok, error: bad, timeout: slow } }
  ok: { kind: ReturnValue, values: { 1: '"ok"' } }
  bad: { kind: ReturnValue, values: { 1: '"error"' } }
  slow: { kind: ReturnValue, values: { 1: '"timeout " + [code]' } }
`;
      const { library, name } = libraryOfText('NotSent.yaml', yaml);
      const r = await runScenario(library, name, {
        variables: {},
        ports: { bpium: c, clock: systemClock, ids: randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) } },
      });
      assert.equal(r.returnValues['1'], 'timeout BPIUM_TIMEOUT');
      const call = r.bpiumCalls[0]!;
      assert.match(String(call.error), /came free within 300 ms .*: the request was not sent \(http:\/\/127\.0\.0\.1:\d+\/api\/v1, 2 attempts\)$/);
      assert.deepEqual([call.status, call.performed, call.attempts, bpiumCallNote(call)], ['timeout', false, 2, 'not sent']);
      const printed = printedRun(r);
      assert.match(printed, /bpium getRecord catalog 11 record 1 → timeout \(not sent\) /);
      assert.doesNotMatch(printed, /no answer/);
      assert.equal(bpium.received(), 32, 'nothing more reached Bpium');
      void holding;
    } finally {
      c.close();
      await bpium.close();
    }
  });

  it('a PATCH written and reset, whose later attempts get no connection, is not said "not sent"', async () => {
    // Real parts: Bpium resets the PATCH's connection once it has read it; while the call backs off, 32 creates that
    // are never answered take every connection, so its later attempts wait in vain. The first attempt was sent.
    let patches = 0;
    const held: import('node:http').ServerResponse[] = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.method === 'PATCH') {
          patches++;
          req.socket.destroy();
        } else held.push(res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const c = createBpiumClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, login: 'api', password: 'pw', rateLimit: false, timeoutMs: 20_000, retry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 50 } });
    try {
      const patch = c.updateRecord('11', '1', { '2': 'x' }, { timeoutMs: 400 }).then(
        () => assert.fail('answered'),
        (e: unknown) => e,
      );
      await new Promise((r) => setTimeout(r, 20));
      for (let i = 0; i < 32; i++) c.createRecord('99', { '2': 'held' }).catch(() => undefined);
      const e = await patch;
      assert.ok(e instanceof EffectError, String(e));
      assert.equal(patches, 1, 'the PATCH reached Bpium once');
      assert.equal(e.details.notSent, undefined);
      assert.match(e.message, /: the request was not sent, though an earlier attempt was sent and may have reached Bpium \(http:/);
    } finally {
      c.close();
      for (const r of held) r.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
