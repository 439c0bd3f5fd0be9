// A scrape while the store's read of the job gauges from an earlier scrape is still under way (a store that hangs)
// waits for that read instead of starting another, and the store's two queries go one after the other: scrapes every
// few seconds against a hung PostgreSQL piled up queries in the pool the webhooks use (review of trial 51). A real
// SQLite store, its two gauge queries held at a gate the test opens.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Metrics } from '../../server/metrics.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import type { Store } from '../../server/store/store.port.js';
import { tempDir } from '../helpers.js';

describe('the job gauges of /-/metrics while the store hangs', () => {
  it('one read at a time, joined by later scrapes, and its queries one after the other', async () => {
    const tmp = tempDir('oktell-metrics-read-');
    const real = await openSqliteStore({ file: join(tmp.dir, 'oktell.sqlite') });
    try {
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      const calls: string[] = [];
      let inFlight = 0;
      let most = 0;
      const held = <T>(name: string, f: () => Promise<T>) => async () => {
        calls.push(name);
        most = Math.max(most, ++inFlight);
        await gate;
        try {
          return await f();
        } finally {
          inFlight--;
        }
      };
      const store = Object.assign(Object.create(real) as Store, {
        counts: held('counts', () => real.counts()),
        oldestDueAt: held('oldestDueAt', () => real.oldestDueAt(Date.now())),
      });
      const m = new Metrics();
      // Three scrapes that each give up on the store after 20 ms.
      for (let i = 0; i < 3; i++) assert.match(await m.render(store, Date.now(), 20), /^oktell_store_up 0$/m);
      assert.deepEqual(calls, ['counts'], 'one read, not one per scrape');
      open();
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(calls, ['counts', 'oldestDueAt']);
      assert.equal(most, 1, 'the two queries one after the other');
      // The read done, the next scrape reads again, and gets the gauges.
      assert.match(await m.render(store, Date.now(), 5000), /^oktell_store_up 1$/m);
      assert.deepEqual(calls, ['counts', 'oldestDueAt', 'counts', 'oldestDueAt']);
    } finally {
      await real.close();
      tmp.cleanup();
    }
  });
});
