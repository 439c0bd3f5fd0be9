// The wait of a delivery's copy for another copy of it in flight in this process (server/hook-in-flight.ts): it takes
// the key once the other is settled, is bounded (then 'busy': the hook answers 503 so the sender retries), and stops
// for a client that left meanwhile ('gone': nothing is run or stored for it). Against a real SQLite store.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { claimDelivery, deliveriesInFlight, type DeliveryClaim } from '../../server/hook-in-flight.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import type { Store } from '../../server/store/store.port.js';
import { tempDir } from '../helpers.js';

function claimed(c: DeliveryClaim | 'busy' | 'gone'): DeliveryClaim {
  assert.ok(typeof c === 'object', `expected a claim, got ${String(c)}`);
  return c;
}

describe('a copy waiting for another copy of its delivery', () => {
  const tmp = tempDir('oktell-in-flight-');
  let store: Store;
  before(async () => {
    store = await openSqliteStore({ file: join(tmp.dir, 'oktell.sqlite') });
  });
  after(async () => {
    await store.close();
    tmp.cleanup();
  });

  it('takes the key once the first is settled, and finds what the first stored', async () => {
    const first = claimed(await claimDelivery(store, 'k1'));
    assert.equal(first.original, undefined);
    const second = claimDelivery(store, 'k1');
    const stored = await store.recordRequest({ inbox: { receivedAt: Date.now(), method: 'POST', path: '/x', headers: '', body: Buffer.from('{}'), remoteAddress: null, signature: 'valid', dedupKey: 'k1', response: { status: 200, body: 'ok' } } });
    first.release();
    const c = claimed(await second);
    assert.deepEqual(c.original, { id: stored.inboxId, responseStatus: 200, responseBody: 'ok', runId: null });
    c.release();
    assert.equal(deliveriesInFlight(store), 0);
  });

  it('gives up as busy once its wait runs out, holding nothing; the key is free again after the first settles', async () => {
    const first = claimed(await claimDelivery(store, 'k2'));
    assert.equal(await claimDelivery(store, 'k2', { waitMs: 30 }), 'busy');
    assert.equal(deliveriesInFlight(store), 1, 'only the first holds the key');
    first.release();
    claimed(await claimDelivery(store, 'k2', { waitMs: 30 })).release();
    assert.equal(deliveriesInFlight(store), 0);
  });

  it('stops for a client that left while it waited, without taking the key', async () => {
    const first = claimed(await claimDelivery(store, 'k3'));
    let gone = false;
    const second = claimDelivery(store, 'k3', { clientGone: () => gone });
    gone = true;
    first.release();
    assert.equal(await second, 'gone');
    assert.equal(deliveriesInFlight(store), 0);
  });

  it('a request with nobody ahead of it never asks whether its client left', async () => {
    const c = claimed(await claimDelivery(store, 'k4', { clientGone: () => true }));
    c.release();
  });
});
