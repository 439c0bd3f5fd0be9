// The journal of one attempt against a real SQLite store: entries wait in memory, are written before the next effect
// starts, and are handed to the attempt's outcome; a first attempt never looks anything up.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { attemptJournal } from '../../server/delivery/attempt-journal.js';
import { deliveryStoreOf } from '../../server/delivery/store-link.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { tempDir } from '../helpers.js';

async function withStore(fn: (s: Awaited<ReturnType<typeof openSqliteStore>>) => Promise<void>) {
  const t = tempDir();
  const store = await openSqliteStore({ file: join(t.dir, 'j.db') });
  try {
    await fn(store);
  } finally {
    await store.close();
    t.cleanup();
  }
}

describe('an attempt’s effect journal', () => {
  it('keeps an entry in memory until the next effect starts, then writes it before answering', async () => {
    await withStore(async (store) => {
      const j = attemptJournal(deliveryStoreOf(store), false);
      assert.equal(await j.port.get('job-1', 'S:mail#1'), undefined);
      await j.port.put('job-1', 'S:mail#1', { messageId: '<1@x>' });
      assert.equal(await store.effects.get('job-1', 'S:mail#1'), undefined, 'not written yet');
      assert.equal(await j.port.get('job-1', 'S:web#1'), undefined, 'a first attempt looks nothing up');
      assert.deepEqual(await store.effects.get('job-1', 'S:mail#1'), { messageId: '<1@x>' }, 'durable before the next effect runs');
      await j.port.put('job-1', 'S:web#1', { status: 200 });
      assert.deepEqual(j.take(), [{ stepKey: 'S:web#1', outcome: { status: 200 } }], 'only what is still waiting goes with the outcome');
      assert.deepEqual(j.take(), [], 'taken once');
    });
  });

  it('a later attempt replays what the store holds', async () => {
    await withStore(async (store) => {
      await store.effects.put('job-2', 'S:mail#1', { messageId: '<2@x>' });
      const j = attemptJournal(deliveryStoreOf(store), true);
      assert.deepEqual(await j.port.get('job-2', 'S:mail#1'), { messageId: '<2@x>' });
      assert.equal(await j.port.get('job-2', 'S:mail#2'), undefined);
    });
  });
});
