// The renewal of the leases a pool holds, refused by the store for a while (trial 65: a `LOCK TABLE jobs` held by
// another session on the PostgreSQL store): before, every heartbeat (a third of the lease, 20 s by default) logged
// `heartbeat failed` with the store's stack, for as long as the refusal lasted, on every instance. Now it is one line
// at the first failure (the store's reason and message, no stack), a summary at most once a minute, and one line when
// a renewal works again. Real parts: the test PostgreSQL, a second session holding the lock, a local HTTP server that
// keeps the job's WebRequest waiting so that its lease is held throughout.
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { createWebClient } from '../../adapters/web/client.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary, randomIds, systemClock } from '../../engine/index.js';
import { createWorkerPool } from '../../server/delivery/pool.js';
import { deliveryStoreOf } from '../../server/delivery/store-link.js';
import { openPostgresStore } from '../../server/store/postgres.store.js';
import { tempDir } from '../helpers.js';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { until } from './pool.helper.js';

const avail = await testPostgres();

describe('a heartbeat the store refuses again and again', { skip: avail.skip }, () => {
  it('is logged once with the reason and no stack, then once when the leases are renewed again', { timeout: 60_000 }, async () => {
    const waiting: ServerResponse[] = [];
    const peer = createServer((_req, res) => void waiting.push(res));
    await new Promise<void>((r) => peer.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(peer.address() as { port: number }).port}`;
    const t = tempDir();
    writeFileSync(join(t.dir, 'Slow.yaml'), `start: call
blocks:
  call:
    kind: WebRequest
    method: GET
    url: '"${url}/slow"'
    timeout: 50
    exits: { success: done }
  done:
    kind: ReturnValue
    values: { 1: '"ok"' }
`);
    const lib = await loadScenarioLibrary(t.dir, { registry: defaultRegistry });
    assert.deepEqual(lib.issues, []);
    const schema = randomSchemaName('hbfail');
    // A short lock timeout, so that each renewal waiting on the lock fails within the test.
    const store = await openPostgresStore({ url: urlWithSchema(avail.url!, schema), lockTimeoutMs: 200 });
    const other = new pg.Client({ connectionString: avail.url! });
    await other.connect();
    const web = createWebClient({ retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    const lines: Array<{ level: string; msg: string; fields: Record<string, unknown> }> = [];
    const at = (level: string) => (fields: unknown, msg?: string) => void lines.push({ level, msg: msg ?? '', fields: (fields ?? {}) as Record<string, unknown> });
    const finished: string[] = [];
    // A 3 s lease: the heartbeat renews every second.
    const pool = createWorkerPool({
      store: deliveryStoreOf(store),
      host: { library: () => lib, libraryWithVersion: () => lib },
      ports: { clock: systemClock, ids: randomIds, web },
      concurrency: 1,
      timeZone: 'UTC',
      pollMs: 200,
      leaseMs: 3000,
      onAttempt: (_job, _r, outcome) => void finished.push(outcome),
      logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
    });
    try {
      await store.enqueueJobs([{ scenario: 'Slow', params: {} }]);
      pool.start();
      await until('the job to be running, its WebRequest waiting', () => waiting.length === 1);
      await other.query('BEGIN');
      await other.query(`LOCK TABLE ${schema}.jobs IN ACCESS EXCLUSIVE MODE`);
      const failures = () => lines.filter((l) => /^heartbeat failed/.test(l.msg));
      await until('a heartbeat to fail', () => failures().length > 0, 20_000);
      // Five more heartbeats, each refused after the lock timeout.
      await new Promise((r) => setTimeout(r, 5500));
      await other.query('COMMIT');
      await until('a heartbeat to renew the leases again', () => lines.some((l) => /^heartbeat: the leases of held jobs are renewed again/.test(l.msg)), 20_000);
      waiting[0]!.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      await until('the job to end', () => finished.length === 1, 20_000);
      assert.deepEqual(finished, ['succeeded']);

      const shown = lines.filter((l) => /^heartbeat/.test(l.msg));
      const text = shown.map((l) => `${l.level} ${l.msg} ${JSON.stringify(l.fields).slice(0, 200)}`).join('\n');
      assert.equal(shown.length, 2, text);
      assert.equal(shown[0]!.level, 'warn');
      assert.match(shown[0]!.msg, /^heartbeat failed: the leases of the jobs this instance holds cannot be renewed; will try again/);
      assert.equal(shown[0]!.fields.err, undefined, `no stack: ${text}`);
      assert.equal(shown[0]!.fields.reason, 'busy');
      assert.match(String(shown[0]!.fields.error), /55P03/);
      assert.equal(shown[1]!.level, 'info');
      assert.match(shown[1]!.msg, /after [4-9] failure\(s\)$|after \d\d failure\(s\)$/);
    } finally {
      await other.query('ROLLBACK').catch(() => undefined);
      for (const res of waiting) if (!res.headersSent) res.writeHead(200).end('{}');
      await pool.stop().catch(() => undefined);
      web.close();
      await other.end().catch(() => undefined);
      await store.close().catch(() => undefined);
      await dropSchema(avail.url!, schema).catch(() => undefined);
      await new Promise((r) => peer.close(r));
    }
  });
});
