// The journal of one attempt against a real SQLite store: entries wait in memory, are written before the next effect
// starts or the run next waits on a read, and are handed to the attempt's outcome; a first attempt never looks
// anything up.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createDatabasePort } from '../../adapters/db/index.js';
import { defaultRegistry } from '../../components/registry.js';
import { createFixtureBpium } from '../../adapters/fixtures/bpium-fixtures.adapter.js';
import { createInProcessStarter, loadScenarioLibrary, randomIds, runScenario, systemClock, type BpiumPort, type DatabasePort } from '../../engine/index.js';
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

  // A run that writes and then reads (here a database INSERT, then a SELECT; in BpiumNewTask a letter, then the next
  // employee's Bpium GET): a crash while the read waits must not lose the write's entry, or a retry would repeat it.
  it('writes waiting entries before the run waits on a read, and a dry run writes nothing', async () => {
    await withStore(async (store) => {
      const t = tempDir();
      const crm = new (await import('better-sqlite3')).default(join(t.dir, 'crm.sqlite'));
      crm.exec('CREATE TABLE visits (phone TEXT NOT NULL)');
      crm.close();
      writeFileSync(
        join(t.dir, 'WriteThenRead.yaml'),
        `variables: { n: number, code: string }
start: add
blocks:
  add:
    kind: DbQuery
    sql: INSERT INTO visits (phone) VALUES ('+74950000001')
    rowCount: n
    errorCode: code
    exits: { success: count, error: done }
  count:
    kind: DbQuery
    sql: SELECT count(*) AS n FROM visits
    errorCode: code
    exits: { success: done, error: done }
  done: { kind: Stop }
`,
      );
      const lib = await loadScenarioLibrary(t.dir, { registry: defaultRegistry, databases: { main: 'sqlite' } });
      assert.deepEqual(lib.issues, []);
      const live = createDatabasePort({ main: { dialect: 'sqlite', path: join(t.dir, 'crm.sqlite') } });
      // What the store held for this job each time a statement reached the database.
      const seen: Array<{ statement: string; journaled: string[] }> = [];
      const observed: DatabasePort = {
        dialect: (n) => live.dialect(n),
        rollsBack: live.rollsBack,
        procedure: (...a) => live.procedure(...a),
        async query(connection, statement, params, opts) {
          const insert = await store.effects.get('job-9', 'WriteThenRead:add#1');
          seen.push({ statement: statement.text.join('?').split(' ')[0]!, journaled: insert === undefined ? [] : ['WriteThenRead:add#1'] });
          return live.query(connection, statement, params, opts);
        },
      };
      try {
        const j = attemptJournal(deliveryStoreOf(store), false);
        const ports = { databases: observed, journal: j.port, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) };
        const r = await runScenario(lib, 'WriteThenRead', { journalKey: 'job-9', ports });
        assert.equal(r.status, 'completed', JSON.stringify(r.error));
        assert.equal(r.variables.n, 1);
        assert.deepEqual(seen, [
          { statement: 'INSERT', journaled: [] },
          { statement: 'SELECT', journaled: ['WriteThenRead:add#1'] },
        ]);
        assert.deepEqual(j.take(), [], 'nothing left for the outcome: the read wrote it');
        seen.length = 0;
        const dry = attemptJournal(deliveryStoreOf(store), false);
        await runScenario(lib, 'WriteThenRead', { journalKey: 'job-10', dryRun: true, ports: { ...ports, journal: dry.port } });
        assert.deepEqual(dry.take(), []);
      } finally {
        await live.close();
        t.cleanup();
      }
    });
  });

  it('the Bpium block does the same: a record created is journaled before the next Bpium GET is sent', async () => {
    await withStore(async (store) => {
      const t = tempDir();
      writeFileSync(
        join(t.dir, 'CreateThenRead.yaml'),
        `variables: { newId: string, title: json, code: string }
start: create
blocks:
  create:
    kind: Bpium
    method: createRecord
    catalog: '"11"'
    values: { '2': '"Позвонить клиенту"' }
    newId: newId
    errorCode: code
    exits: { success: read, error: done }
  read:
    kind: Bpium
    method: getRecord
    catalog: '"3"'
    record: '"2"'
    answer: title
    errorCode: code
    exits: { success: done, error: done }
  done: { kind: Stop }
`,
      );
      const lib = await loadScenarioLibrary(t.dir, { registry: defaultRegistry });
      assert.deepEqual(lib.issues, []);
      const fake = createFixtureBpium({ catalogs: { '11': { fields: [{ id: '2', name: 'Title', type: 'text' }] }, '3': { records: { '2': { '2': 'ivan@example.com' } } } } });
      const journaledAtGet: boolean[] = [];
      const bpium: BpiumPort = {
        ...fake,
        async getRecord(catalogId, recordId, opts) {
          journaledAtGet.push((await store.effects.get('job-11', 'CreateThenRead:create#1')) !== undefined);
          return fake.getRecord(catalogId, recordId, opts);
        },
      };
      try {
        const j = attemptJournal(deliveryStoreOf(store), false);
        const r = await runScenario(lib, 'CreateThenRead', { journalKey: 'job-11', ports: { bpium, journal: j.port, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) } });
        assert.equal(r.status, 'completed', JSON.stringify(r.error));
        assert.deepEqual(fake.calls, ['POST 11', 'GET 3/2']);
        assert.deepEqual(journaledAtGet, [true]);
      } finally {
        t.cleanup();
      }
    });
  });
});
