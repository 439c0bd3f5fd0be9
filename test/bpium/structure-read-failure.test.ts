// A Bpium read with fields named by their Bpium name reads the catalog structure after the record, to resolve them.
// When the record came but the structure read got no answer (the connection cut, Bpium gone), the run recorded the
// read twice: `getRecord … ok`, then `getRecord … transient` with the structure read's error and attempts, so the
// metrics counted two reads and `show` listed one read as both worked and failed. Now each call is recorded once: the
// read as it went, and the structure read as `getCatalogStructure` of its catalog. A real HTTP server on port 0.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createBpiumClient } from '../../adapters/bpium/client.js';
import { defaultRegistry } from '../../components/registry.js';
import { createInProcessStarter, loadScenarioLibrary, randomIds, runScenario, systemClock } from '../../engine/index.js';
import { effectsInOrder } from '../../server/console/effect-order.js';
import { tempDir } from '../helpers.js';

const READ = `variables: { email: string, code: string }
start: get
blocks:
  get:
    kind: Bpium
    method: getRecord
    catalog: 3
    record: 2
    fields: { email: '"Email"' }
    errorCode: code
    exits: { success: null, error: null }
`;

describe('a Bpium read whose catalog structure read gets no answer', () => {
  let server: Server;
  let url: string;
  const seen: string[] = [];
  const tmp = tempDir();

  before(async () => {
    // The record is answered; the catalog structure read has its connection cut, every time.
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (/\/catalogs\/3\/records\/2$/.test(req.url ?? '')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 2, catalogId: 3, title: 'Иван', values: { 2: 'ivan@example.com' } }));
      } else req.socket.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    writeFileSync(join(tmp.dir, 'Read.yaml'), READ);
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    tmp.cleanup();
  });

  it('records the read once, as it worked, and the structure read once, as getCatalogStructure', { timeout: 30_000 }, async () => {
    const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry }, [join(tmp.dir, 'Read.yaml')]);
    assert.deepEqual(lib.issues, []);
    const bpium = createBpiumClient({ url, login: 'api', password: 'pw', timeoutMs: 5000, retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 }, rateLimit: false });
    try {
      const r = await runScenario(lib, 'Read', { ports: { bpium, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) } });
      // What went out: the record once, the structure twice (the client's two attempts).
      assert.deepEqual(seen, ['GET /api/v1/catalogs/3/records/2', 'GET /api/v1/catalogs/3', 'GET /api/v1/catalogs/3']);
      assert.equal(r.status, 'failed');
      assert.equal(r.error?.code, 'R_EFFECT_TRANSIENT');
      const calls = r.bpiumCalls.map(({ block, method, catalogId, recordId, status, performed, attempts }) => ({ block, method, catalogId, recordId, status, performed, attempts }));
      assert.deepEqual(calls, [
        { block: 'get', method: 'getRecord', catalogId: '3', recordId: '2', status: 'ok', performed: true, attempts: 1 },
        { block: 'get', method: 'getCatalogStructure', catalogId: '3', recordId: undefined, status: 'transient', performed: false, attempts: 2 },
      ]);
      assert.match(r.bpiumCalls[1]!.error ?? '', /^Bpium GET \/catalogs\/3: /);
      // Both at the block's step, in the order made (not the second left to the end as no step's).
      const ordered = effectsInOrder(r, r.trace).map((e) => (e.kind === 'bpium' ? `${e.record.method} ${e.record.status}` : e.kind));
      assert.deepEqual(ordered, ['getRecord ok', 'getCatalogStructure transient']);
    } finally {
      bpium.close();
    }
  });
});
