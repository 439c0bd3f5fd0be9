// A Bpium read with fields named by their Bpium name reads the catalog structure after the record, to resolve them.
// When the record came but the structure read got no answer (the connection cut, Bpium gone), the run recorded the
// read twice: `getRecord … ok`, then `getRecord … transient` with the structure read's error and attempts, so the
// metrics counted two reads and `show` listed one read as both worked and failed. Now each call is recorded once: the
// read as it went, and the structure read as `getCatalogStructure` of its catalog. A real HTTP server on port 0.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createBpiumClient } from '../../adapters/bpium/client.js';
import { caseFromRun } from '../../cli/testing/from-run.js';
import { appendCase } from '../../cli/testing/write-case.js';
import { defaultRegistry } from '../../components/registry.js';
import { createInProcessStarter, loadScenarioLibrary, randomIds, runScenario, systemClock } from '../../engine/index.js';
import { effectsInOrder } from '../../server/console/effect-order.js';
import { runWrite } from '../../server/run-record.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { repoPath, tempDir } from '../helpers.js';

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
    mkdirSync(join(tmp.dir, 'scenarios', 'tests'), { recursive: true });
    writeFileSync(join(tmp.dir, 'scenarios', 'Read.yaml'), READ);
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    tmp.cleanup();
  });

  const load = async () => {
    const lib = await loadScenarioLibrary(join(tmp.dir, 'scenarios'), { registry: defaultRegistry }, [join(tmp.dir, 'scenarios', 'Read.yaml')]);
    assert.deepEqual(lib.issues, []);
    return lib;
  };

  it('records the read once, as it worked, and the structure read once, as getCatalogStructure', { timeout: 30_000 }, async () => {
    seen.length = 0;
    const lib = await loadScenarioLibrary(join(tmp.dir, 'scenarios'), { registry: defaultRegistry }, [join(tmp.dir, 'scenarios', 'Read.yaml')]);
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

  // The step's trace entry told the read as failed ("getRecord … failure: transient", attempts [200, ECONNRESET,
  // ECONNRESET], no answer), and `test --from-run` made of it a fixture failing the read ("3/2": network): a case of
  // something that did not happen. Now the entry keeps the read's answer and attempts, and the structure read's
  // failure beside it; the case's fixture answers the read and fails the structure read, and the case passes.
  it('traces the read as answered and the structure read as failed; --from-run makes a case of just that', { timeout: 60_000 }, async () => {
    seen.length = 0;
    const lib = await load();
    const bpium = createBpiumClient({ url, login: 'api', password: 'pw', timeoutMs: 5000, retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 }, rateLimit: false });
    const store = await openSqliteStore({ file: join(tmp.dir, 'oktell.sqlite') });
    try {
      const r = await runScenario(lib, 'Read', { ports: { bpium, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) } });
      assert.equal(r.error?.code, 'R_EFFECT_TRANSIENT');
      const effect = r.trace.find((s) => s.block === 'get')?.effect as Record<string, unknown>;
      const { attempts, answer, structureRead, ...read } = effect as { attempts: Array<{ status?: number; error?: string }>; answer: unknown; structureRead: Record<string, unknown> };
      assert.deepEqual(read, { method: 'getRecord', catalogId: '3', recordId: '2', outcome: 'ok' });
      assert.deepEqual(attempts.map((a) => a.status ?? a.error), [200]);
      assert.deepEqual(answer, { id: '2', catalogId: 3, title: 'Иван', values: { 2: 'ivan@example.com' } });
      const { attempts: structureAttempts, error, ...structure } = structureRead as { attempts: Array<{ status?: number; error?: string }>; error: string };
      assert.deepEqual(structure, { method: 'getCatalogStructure', catalogId: '3', failure: 'transient', status: null });
      assert.equal(structureAttempts.length, 2);
      assert.ok(structureAttempts.every((a) => a.status === undefined && a.error), JSON.stringify(structureAttempts));
      assert.equal(error, r.bpiumCalls[1]!.error);

      // `show` lists both calls at the step, from the stored run too.
      await store.recordRun(runWrite(r, { trigger: 'cli', params: {} }));
      const stored = await store.getRun(r.runId);
      const ordered = effectsInOrder(stored!, stored!.trace as unknown[]).map((e) => (e.kind === 'bpium' ? `${e.record.method} ${e.record.status}` : e.kind));
      assert.deepEqual(ordered, ['getRecord ok', 'getCatalogStructure transient']);

      const recorded = await caseFromRun(store, r.runId, { name: 'structure read cut', timeZone: 'Europe/Moscow' });
      assert.deepEqual(recorded.unrecorded, []);
      assert.deepEqual(recorded.case.bpium, { catalogs: { '3': { records: { '2': { '2': 'ivan@example.com' } } } }, failures: { '3/structure': 'network' } });
      const expect = recorded.case.expect as { bpiumCalls: unknown[]; error: unknown };
      assert.deepEqual(expect.bpiumCalls, [
        { method: 'getRecord', catalogId: '3', recordId: '2', status: 'ok' },
        { method: 'getCatalogStructure', catalogId: '3', status: 'transient' },
      ]);
      assert.deepEqual(expect.error, { code: 'R_EFFECT_TRANSIENT', block: 'get' });

      // The case, written to a test file, passes through the binary: the read answers, the structure read fails.
      appendCase(join(tmp.dir, 'scenarios', 'tests', 'recorded.test.yaml'), recorded.case);
      const t = spawnSync(process.execPath, [repoPath('bin', 'oktell-emu.js'), 'test', 'scenarios/tests/recorded.test.yaml'], { cwd: tmp.dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      assert.equal(t.status, 0, t.stdout + t.stderr);
      assert.match(t.stdout, /✓ scenarios\/tests\/recorded\.test\.yaml › structure read cut/);
    } finally {
      await store.close();
      bpium.close();
    }
  });
});
