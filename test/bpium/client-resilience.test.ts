// The Bpium client when things go wrong: session cookie, 401 fallback, retries, Retry-After, timeouts, rate limit.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EffectError } from '../../engine/errors.js';
import { createBpiumClient, type BpiumCallRecord } from '../../adapters/bpium/client.js';
import { clientFor, closedPort, startTestEmulator } from './helpers.js';

type Emulator = Awaited<ReturnType<typeof startTestEmulator>>;
let emulator: Emulator;

before(async () => {
  emulator = await startTestEmulator();
});
after(async () => {
  await emulator.stop();
});

test('the first request authenticates with Basic and later ones send only the session cookie', { timeout: 10_000 }, async () => {
  emulator.clearRequests();
  const bpium = clientFor(emulator);
  await bpium.getRecord('11', '1');
  await bpium.getRecord('3', '1');
  await bpium.getCatalog('11');
  assert.deepEqual(emulator.requests().map((r) => r.auth), ['basic', 'cookie', 'cookie']);
  bpium.close();
});

test('a 401 on the cookie drops it and retries once with Basic', { timeout: 10_000 }, async () => {
  const calls: BpiumCallRecord[] = [];
  const bpium = clientFor(emulator, { onCall: (c) => calls.push(c) });
  await bpium.getRecord('11', '1');
  emulator.dropSessions();
  const again = await bpium.getRecord('11', '1');
  assert.equal(again.id, '1');
  assert.deepEqual(calls.map((c) => [c.auth, c.status]), [['basic', 200], ['cookie', 401], ['basic', 200]]);
  bpium.close();
});

test('a wrong password is a permanent BPIUM_UNAUTHORIZED error after one attempt', { timeout: 10_000 }, async () => {
  const bpium = clientFor(emulator, { password: 'wrong' });
  await assert.rejects(bpium.getRecord('11', '1'), (err: unknown) =>
    err instanceof EffectError && err.kind === 'permanent' && err.details.code === 'BPIUM_UNAUTHORIZED' && err.details.attempts === 1 && err.details.setting === true && /a setting: Bpium refused the login: check BPIUM_LOGIN and BPIUM_PASSWORD/.test(err.message));
  bpium.close();
});

test('429 and 500 a few times, then success: the call succeeds after several attempts', { timeout: 10_000 }, async () => {
  const calls: BpiumCallRecord[] = [];
  emulator.injectFaults({ status: 429, times: 1, pathPrefix: '/api/v1/catalogs/11' }, { status: 500, times: 2, pathPrefix: '/api/v1/catalogs/11' });
  const bpium = clientFor(emulator, { onCall: (c) => calls.push(c) });
  const task = await bpium.getRecord('11', '1');
  assert.equal(task.id, '1');
  assert.deepEqual(calls.map((c) => c.status), [429, 500, 500, 200]);
  assert.equal(calls.at(-1)?.attempt, 4);
  bpium.close();
});

test('Retry-After is honoured before the next attempt', { timeout: 10_000 }, async () => {
  emulator.injectFaults({ status: 429, times: 1, retryAfter: '1', pathPrefix: '/api/v1/catalogs/11' });
  const bpium = clientFor(emulator, { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
  const started = Date.now();
  await bpium.getRecord('11', '1');
  assert.ok(Date.now() - started >= 950, 'waited about a second as the server asked');
  bpium.close();
});

test('a Retry-After beyond the call deadline gives up at once with a transient error', { timeout: 10_000 }, async () => {
  emulator.injectFaults({ status: 429, times: 1, retryAfter: '60', pathPrefix: '/api/v1/catalogs/11' });
  const bpium = clientFor(emulator, { timeoutMs: 2000 });
  const started = Date.now();
  await assert.rejects(bpium.getRecord('11', '1'), (err: unknown) =>
    err instanceof EffectError && err.kind === 'transient' && err.details.code === 'BPIUM_RATE_LIMITED' && err.details.status === 429);
  assert.ok(Date.now() - started < 1500);
  bpium.close();
});

test('a persistent 500 ends in a transient EffectError that counts every attempt', { timeout: 10_000 }, async () => {
  emulator.injectFaults({ status: 500, times: 10, pathPrefix: '/api/v1/catalogs/11' });
  const bpium = clientFor(emulator, { retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 10 } });
  await assert.rejects(bpium.getRecord('11', '1'), (err: unknown) => {
    assert.ok(err instanceof EffectError);
    assert.equal(err.kind, 'transient');
    assert.equal(err.details.code, 'BPIUM_SERVER_ERROR');
    assert.equal(err.details.status, 500);
    assert.equal(err.details.attempts, 3);
    // What an operator reads in the log: which Bpium, and that it was tried more than once.
    assert.equal(err.message, `Bpium GET /catalogs/11/records/1: HTTP 500: injected fault 500 (${emulator.url}, 3 attempts)`);
    return true;
  });
  emulator.clearFaults();
  bpium.close();
});

test('a 501 (a resource Bpium does not implement) is permanent after one attempt: asking again will not help', { timeout: 10_000 }, async () => {
  const calls: BpiumCallRecord[] = [];
  emulator.injectFaults({ status: 501, times: 10, pathPrefix: '/api/v1/catalogs/11' });
  const bpium = clientFor(emulator, { onCall: (c) => calls.push(c), retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 10 } });
  await assert.rejects(bpium.getRecord('11', '1'), (err: unknown) => {
    assert.ok(err instanceof EffectError);
    assert.equal(err.kind, 'permanent');
    assert.equal(err.details.code, 'BPIUM_NOT_IMPLEMENTED');
    assert.equal(err.details.attempts, 1);
    return true;
  });
  assert.equal(calls.length, 1);
  emulator.clearFaults();
  bpium.close();
});

test('a create that met a 500 is not sent again, because Bpium may have created the record', { timeout: 10_000 }, async () => {
  const calls: BpiumCallRecord[] = [];
  emulator.injectFaults({ status: 500, times: 1, method: 'POST' });
  const bpium = clientFor(emulator, { onCall: (c) => calls.push(c) });
  await assert.rejects(bpium.createRecord('11', { '2': 'Не повторять' }), (err: unknown) =>
    err instanceof EffectError && err.kind === 'transient' && err.details.attempts === 1);
  assert.equal(calls.length, 1);
  bpium.close();
});

test('a create refused with 429 is retried and succeeds', { timeout: 10_000 }, async () => {
  emulator.injectFaults({ status: 429, times: 1, method: 'POST' });
  const bpium = clientFor(emulator);
  const { id } = await bpium.createRecord('11', { '2': 'После 429' });
  assert.equal((await bpium.getRecord('11', id)).values['2'], 'После 429');
  bpium.close();
});

test('no answer within the timeout is a timeout EffectError', { timeout: 10_000 }, async () => {
  emulator.injectFaults({ delayMs: 1500, times: 1, pathPrefix: '/api/v1/catalogs/11' });
  const bpium = clientFor(emulator);
  const started = Date.now();
  await assert.rejects(bpium.getRecord('11', '1', { timeoutMs: 300 }), (err: unknown) =>
    err instanceof EffectError && err.kind === 'timeout' && err.details.code === 'BPIUM_TIMEOUT' && err.details.attempts === 1 && err.message === `Bpium GET /catalogs/11/records/1: no answer within 300 ms (${emulator.url}, 1 attempt)`);
  assert.ok(Date.now() - started < 1200, 'the call gave up at its deadline, not when the server answered');
  bpium.close();
});

test('nothing listening is a transient network error after the retries', { timeout: 10_000 }, async () => {
  const port = await closedPort();
  const calls: BpiumCallRecord[] = [];
  const bpium = createBpiumClient({ url: `http://127.0.0.1:${port}`, login: 'a@b.c', password: 'x', rateLimit: false, retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 10 }, onCall: (c) => calls.push(c) });
  await assert.rejects(bpium.getCatalog('11'), (err: unknown) =>
    err instanceof EffectError && err.kind === 'transient' && err.details.code === 'BPIUM_NETWORK' && err.message === `Bpium GET /catalogs/11: ECONNREFUSED (http://127.0.0.1:${port}/api/v1, 2 attempts)` && err.details.attempts === 2);
  assert.deepEqual(calls.map((c) => c.error), ['ECONNREFUSED', 'ECONNREFUSED']);
  bpium.close();
});

test('the rate limiter makes requests wait for the window instead of failing', { timeout: 10_000 }, async () => {
  const bpium = clientFor(emulator, { rateLimit: { requests: 2, perMs: 150 } });
  const results = await Promise.all([1, 2, 3, 4, 5].map(() => bpium.getRecord('3', '1')));
  assert.equal(results.length, 5);
  assert.ok(results.every((r) => r.id === '1'));
  assert.ok(bpium.stats().limiterWaits >= 1);
  bpium.close();
});

test('the emulator answers 429 past its own rate limit, and the client rides it out with retries', { timeout: 10_000 }, async () => {
  const limited = await startTestEmulator({ rateLimit: { requests: 2, perMs: 200 } });
  try {
    const calls: BpiumCallRecord[] = [];
    const bpium = clientFor(limited, { retry: { attempts: 10, baseDelayMs: 50, maxDelayMs: 200 }, onCall: (c) => calls.push(c) });
    const users = await Promise.all(['1', '2', '3', '4'].map((id) => bpium.getRecord('3', id)));
    assert.deepEqual(users.map((u) => u.id), ['1', '2', '3', '4']);
    assert.ok(calls.some((c) => c.status === 429), 'the emulator refused at least one request');
    bpium.close();
  } finally {
    await limited.stop();
  }
});

test('a closed client refuses further calls', { timeout: 10_000 }, async () => {
  const bpium = clientFor(emulator);
  bpium.close();
  await assert.rejects(bpium.getRecord('11', '1'), (err: unknown) => err instanceof EffectError && err.details.code === 'BPIUM_CLIENT_CLOSED');
});

test('an answer over the size cap fails the call as a permanent BPIUM_TOO_LARGE after one attempt, not the memory', { timeout: 10_000 }, async () => {
  const writer = clientFor(emulator);
  const { id } = await writer.createRecord('11', { '2': 'Большая задача', '3': 'x'.repeat(200_000) });
  writer.close();
  const calls: BpiumCallRecord[] = [];
  const bpium = clientFor(emulator, { maxResponseBytes: 100_000, onCall: (c) => calls.push(c) });
  await assert.rejects(bpium.getRecord('11', id), (err: unknown) =>
    err instanceof EffectError && err.kind === 'permanent' && err.details.code === 'BPIUM_TOO_LARGE' && err.details.attempts === 1 && /cap of 100000/.test(err.message));
  assert.equal(calls.length, 1);
  // The same record under the default cap (16 MiB) is read whole.
  const roomy = clientFor(emulator);
  assert.equal(((await roomy.getRecord('11', id)).values['3'] as string).length, 200_000);
  roomy.close();
  bpium.close();
});

test('many calls waiting out a Bpium outage at once raise no "possible memory leak" warning (each backoff wait listens to the close signal)', { timeout: 10_000 }, async () => {
  // A server's jobs share one client: during an outage every running job (32 by default) sleeps between retries on
  // the same close signal. Node warned past 10 listeners, on stderr, as if memory leaked; the listeners are removed.
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    const port = await closedPort();
    const bpium = createBpiumClient({ url: `http://127.0.0.1:${port}`, login: 'a@b.c', password: 'x', rateLimit: false, retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 100 } });
    const results = await Promise.allSettled(Array.from({ length: 32 }, () => bpium.getCatalog('11')));
    assert.ok(results.every((r) => r.status === 'rejected' && r.reason instanceof EffectError && r.reason.details.code === 'BPIUM_NETWORK'));
    bpium.close();
    // Warnings are emitted on a later tick.
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings.map((w) => `${w.name}: ${w.message}`), []);
  } finally {
    process.off('warning', onWarning);
  }
});
