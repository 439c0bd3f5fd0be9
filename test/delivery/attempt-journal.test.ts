// The journal of one attempt against a real SQLite store: entries wait in memory, are written before the next effect
// starts or the run next waits on a read, and are handed to the attempt's outcome; a first attempt never looks
// anything up.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createDatabasePort } from '../../adapters/db/index.js';
import { defaultRegistry } from '../../components/registry.js';
import { createFixtureBpium } from '../../adapters/fixtures/bpium-fixtures.adapter.js';
import { createInProcessStarter, loadScenarioLibrary, randomIds, runScenario, systemClock, type BpiumPort, type DatabasePort, type EnginePorts, type RunResult } from '../../engine/index.js';
import { attemptJournal, type AttemptJournal } from '../../server/delivery/attempt-journal.js';
import { deliveryStoreOf, deliveryStoreProxy, dispatchCall } from '../../server/delivery/store-link.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { tempDir } from '../helpers.js';

type Store = Awaited<ReturnType<typeof openSqliteStore>>;

/** A fresh store in a temporary folder (`file` is its path, for a second connection that holds its write lock). */
async function withStore(fn: (s: Store, file: string) => Promise<void>) {
  const t = tempDir();
  const file = join(t.dir, 'j.db');
  // A short busy timeout: a test that holds the write lock sees the store give up quickly.
  const store = await openSqliteStore({ file, busyTimeoutMs: 50 });
  try {
    await fn(store, file);
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

  // A read's answer (a queued job's database SELECT) matters only to the effects after it: it is not written on its
  // own, not even before the next read, but ahead of the next effect's entry, or with the attempt's outcome.
  it('keeps a read’s answer until an effect’s entry is written, and writes it first', async () => {
    await withStore(async (store) => {
      const j = attemptJournal(deliveryStoreOf(store), false);
      await j.port.put('job-r', 'S:next#1', { rows: [{ id: 1 }] }, { read: true });
      await j.port.settle!();
      assert.equal(await store.effects.get('job-r', 'S:next#1'), undefined, 'a read alone writes nothing');
      assert.equal(await j.port.get('job-r', 'S:post#1'), undefined);
      assert.equal(await store.effects.get('job-r', 'S:next#1'), undefined, 'still nothing: no effect entry waits');
      await j.port.put('job-r', 'S:post#1', { status: 201 });
      await j.port.put('job-r', 'S:next#2', { rows: [{ id: 2 }] }, { read: true });
      const before = store.stats().transactions;
      await j.port.settle!();
      assert.equal(store.stats().transactions - before, 1, 'the read and the effect after it are written in one transaction: a crash keeps both or neither');
      assert.deepEqual(await store.effects.get('job-r', 'S:next#1'), { rows: [{ id: 1 }] }, 'written with the effect after it');
      assert.deepEqual(await store.effects.get('job-r', 'S:post#1'), { status: 201 });
      assert.deepEqual(await store.effects.get('job-r', 'S:next#2'), { rows: [{ id: 2 }] });
      await j.port.put('job-r', 'S:next#3', { rows: [] }, { read: true });
      assert.deepEqual(j.take(), [], 'a read after the last effect is not kept: a retry reads the rows as they are then');
      assert.deepEqual([...j.readKeys], ['S:next#1', 'S:next#2', 'S:next#3']);
    });
  });

  // Across the delivery thread every store call is a message of its own: the group must be one, or the main thread
  // could commit its parts in two transactions.
  it('sends the reads and the effect entries after them across the thread boundary as one call', async () => {
    await withStore(async (store) => {
      const calls: string[] = [];
      const proxy = deliveryStoreProxy((call) => {
        calls.push(call.method);
        return dispatchCall(deliveryStoreOf(store), call);
      });
      const j = attemptJournal(proxy, false);
      await j.port.put('job-t', 'S:next#1', { rows: [{ id: 1 }] }, { read: true });
      assert.equal(await j.port.get('job-t', 'S:post#1'), undefined);
      await j.port.put('job-t', 'S:post#1', { status: 201 });
      await j.port.put('job-t', 'S:next#2', { rows: [{ id: 2 }] }, { read: true });
      const before = store.stats().transactions;
      await j.port.settle!();
      assert.deepEqual(calls, ['putEffectGroup'], 'one message');
      assert.equal(store.stats().transactions - before, 1, 'one transaction');
      assert.deepEqual(await store.effects.get('job-t', 'S:next#1'), { rows: [{ id: 1 }] });
      assert.deepEqual(await store.effects.get('job-t', 'S:post#1'), { status: 201 });
    });
  });

  it('the outcome carries a read that an effect entry waiting with it depends on', async () => {
    await withStore(async (store) => {
      const j = attemptJournal(deliveryStoreOf(store), false);
      assert.equal(await j.port.get('job-s', 'S:next#1'), undefined);
      await j.port.put('job-s', 'S:next#1', { rows: [{ id: 7 }] }, { read: true });
      assert.equal(await j.port.get('job-s', 'S:post#1'), undefined);
      await j.port.put('job-s', 'S:post#1', { status: 201 });
      assert.deepEqual(j.take(), [
        { stepKey: 'S:next#1', outcome: { rows: [{ id: 7 }] } },
        { stepKey: 'S:post#1', outcome: { status: 201 } },
      ]);
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
  it('writes waiting entries before the run waits on a read', async () => {
    await withScenario(
      'WriteThenRead',
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
      async ({ store, dir, run }) => {
        const path = join(dir, 'crm.sqlite');
        const crm = new Database(path);
        crm.exec('CREATE TABLE visits (phone TEXT NOT NULL)');
        crm.close();
        const live = createDatabasePort({ main: { dialect: 'sqlite', path } });
        // Whether the INSERT's entry was in the store each time a statement reached the database.
        const seen: Array<[string, boolean]> = [];
        const databases: DatabasePort = {
          dialect: (n) => live.dialect(n),
          rollsBack: live.rollsBack,
          procedure: (...a) => live.procedure(...a),
          async query(connection, statement, params, opts) {
            seen.push([statement.text[0]!.split(' ')[0]!, (await store.effects.get('job-9', 'WriteThenRead:add#1')) !== undefined]);
            return live.query(connection, statement, params, opts);
          },
        };
        try {
          const { result, journal } = await run('job-9', { databases });
          assert.equal(result.status, 'completed', JSON.stringify(result.error));
          assert.equal(result.variables.n, 1);
          assert.deepEqual(seen, [['INSERT', false], ['SELECT', true]]);
          // The INSERT's entry was written before the read; the read came after the last effect, so nothing is left
          // for the outcome (a retry reads the count as it is then).
          assert.deepEqual(journal.take().map((e) => e.stepKey), []);
          assert.deepEqual([...journal.readKeys], ['WriteThenRead:count#1']);
        } finally {
          await live.close();
        }
      },
      { main: 'sqlite' },
    );
  });

  it('the Bpium block does the same: a record created is journaled before the next Bpium GET is sent; a dry run journals nothing', async () => {
    await withScenario(
      'CreateThenRead',
      CREATE_THEN_READ,
      async ({ store, run }) => {
        const fake = bpiumWithTwoCatalogs();
        const journaledAtGet: boolean[] = [];
        const bpium: BpiumPort = {
          ...fake,
          async getRecord(catalogId, recordId, opts) {
            journaledAtGet.push((await store.effects.get('job-11', 'CreateThenRead:create#1')) !== undefined);
            return fake.getRecord(catalogId, recordId, opts);
          },
        };
        assert.equal((await run('job-11', { bpium })).result.status, 'completed');
        assert.deepEqual(fake.calls, ['POST 11', 'GET 3/2']);
        assert.deepEqual(journaledAtGet, [true]);
        const dry = await run('job-12', { bpium }, true);
        // The dry run reads catalog 11's structure, which checks the field ids of the write it does not make.
        assert.deepEqual(fake.calls, ['POST 11', 'GET 3/2', 'GET 11', 'GET 3/2'], 'a dry run reads but does not write');
        assert.deepEqual(dry.journal.take(), []);
        assert.equal(await store.effects.get('job-12', 'CreateThenRead:create#1'), undefined);
      },
    );
  });

  // The store is busy (another connection holds its write lock) when the read wants the record written: the run must
  // fail as retryable, not as an internal error of the Bpium block, and the entry must stay for the attempt's outcome.
  it('a store that cannot take the entry before a read fails the run as retryable (R_JOURNAL) and keeps the entry', async () => {
    await withScenario('CreateThenRead', CREATE_THEN_READ, async ({ store, file, run }) => {
      const fake = bpiumWithTwoCatalogs();
      const other = new Database(file);
      other.exec('BEGIN IMMEDIATE');
      let outcome: Awaited<ReturnType<typeof run>>;
      try {
        outcome = await run('job-13', { bpium: fake });
      } finally {
        other.exec('ROLLBACK');
        other.close();
      }
      const { result, journal } = outcome;
      assert.equal(result.status, 'failed');
      assert.equal(result.error?.code, 'R_JOURNAL');
      assert.equal(result.error?.retryable, true);
      assert.equal(result.error?.block, 'read');
      assert.match(result.error?.message ?? '', /^the effect journal could not be read or written: /);
      assert.deepEqual(fake.calls, ['POST 11'], 'the read waited for the record and never went out');
      // With the record of the scenario version the entry was made with (journal-versions.ts).
      assert.deepEqual(journal.take().map((e) => e.stepKey), ['$versions', 'CreateThenRead:create#1'], 'the entry goes with the outcome');
      assert.equal(await store.effects.get('job-13', 'CreateThenRead:create#1'), undefined);
    });
  });
});

/** A Bpium write, then a Bpium read: in BpiumNewTask's terms, a letter and then the next employee's GET. */
const CREATE_THEN_READ = `variables: { newId: string, title: json, code: string }
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
`;

/** The FAKE Bpium (fixtures in memory) the scenario above talks to. */
const bpiumWithTwoCatalogs = () => createFixtureBpium({ catalogs: { '11': { fields: [{ id: '2', name: 'Title', type: 'text' }] }, '3': { records: { '2': { '2': 'ivan@example.com' } } } } });

/** One scenario in a fresh folder and a fresh store; `run` runs it as a job's first attempt with the given ports. */
async function withScenario(
  name: string,
  yaml: string,
  fn: (c: {
    store: Store;
    /** The store's file. */
    file: string;
    dir: string;
    run(jobId: string, ports: Partial<EnginePorts>, dryRun?: boolean): Promise<{ result: RunResult; journal: AttemptJournal }>;
  }) => Promise<void>,
  databases?: Record<string, 'sqlite'>,
) {
  await withStore(async (store, file) => {
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, `${name}.yaml`), yaml);
      const lib = await loadScenarioLibrary(t.dir, { registry: defaultRegistry, ...(databases ? { databases } : {}) });
      assert.deepEqual(lib.issues, []);
      const run = async (jobId: string, ports: Partial<EnginePorts>, dryRun = false) => {
        const journal = attemptJournal(deliveryStoreOf(store), false);
        const base = { clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) };
        const result = await runScenario(lib, name, { journalKey: jobId, dryRun, ports: { ...base, ...ports, journal: journal.port } });
        return { result, journal };
      };
      await fn({ store, file, dir: t.dir, run });
    } finally {
      t.cleanup();
    }
  });

}

describe('whether an attempt’s journal holds all it made, as a stop asks before giving its job back', () => {
  it('not while an effect is past its fence; once its outcome is put, the waiting entry is written and it is', async () => {
    await withStore(async (store) => {
      const j = attemptJournal(deliveryStoreOf(store), false);
      await j.port.fence!();
      assert.equal(await j.complete(), false, 'a letter being sent: its entry may never reach the store');
      await j.port.put('job-1', 'S:mail#1', { messageId: '<1@x>' });
      j.port.afterEffect!();
      assert.equal(await j.complete(), true);
      assert.deepEqual(await store.effects.get('job-1', 'S:mail#1'), { messageId: '<1@x>' }, 'written by complete');
      assert.deepEqual(j.take(), [], 'nothing left waiting');
    });
  });

  it('an effect whose fence is still renewing the lease counts as in flight; one the fence refuses does not', async () => {
    await withStore(async (store) => {
      let renewed!: () => void;
      const j = attemptJournal(deliveryStoreOf(store), false, () => new Promise<void>((r) => (renewed = r)));
      const asked = j.port.fence!();
      assert.equal(await j.complete(), false, 'the effect starts as soon as the renewal answers');
      renewed();
      await asked;
      j.port.afterEffect!();
      assert.equal(await j.complete(), true);
      const refusing = attemptJournal(deliveryStoreOf(store), false, () => Promise.reject(new Error('lease lost')));
      await assert.rejects(async () => refusing.port.fence!(), /lease lost/);
      const refusedAtOnce = attemptJournal(deliveryStoreOf(store), false, () => {
        throw new Error('lease lost');
      });
      assert.throws(() => refusedAtOnce.port.fence!(), /lease lost/);
      assert.deepEqual([await refusing.complete(), await refusedAtOnce.complete()], [true, true], 'no effect was made');
    });
  });

  it('not when the store refuses the write: the entry stays for the attempt’s outcome', async () => {
    await withStore(async (store, file) => {
      const j = attemptJournal(deliveryStoreOf(store), false);
      await j.port.fence!();
      await j.port.put('job-2', 'S:mail#1', { messageId: '<2@x>' });
      j.port.afterEffect!();
      const other = new Database(file);
      other.exec('BEGIN IMMEDIATE');
      try {
        assert.equal(await j.complete(), false);
      } finally {
        other.exec('ROLLBACK');
        other.close();
      }
      assert.deepEqual(j.take(), [{ stepKey: 'S:mail#1', outcome: { messageId: '<2@x>' } }]);
    });
  });

  it('waits for a write the run itself started (before a read): not complete when that write fails', async () => {
    await withStore(async (store, file) => {
      const j = attemptJournal(deliveryStoreOf(store), false);
      await j.port.fence!();
      await j.port.put('job-3', 'S:mail#1', { messageId: '<3@x>' });
      j.port.afterEffect!();
      const other = new Database(file);
      other.exec('BEGIN IMMEDIATE');
      try {
        // The run goes on to a read: its entries leave the waiting list for a write that the lock makes fail.
        const runs = j.port.settle!().then(() => 'written', () => 'refused');
        assert.equal(await j.complete(), false, 'the run’s write was under way, then refused');
        assert.equal(await runs, 'refused');
      } finally {
        other.exec('ROLLBACK');
        other.close();
      }
      assert.equal(await j.complete(), true, 'written once the lock is gone');
      assert.deepEqual(await store.effects.get('job-3', 'S:mail#1'), { messageId: '<3@x>' });
    });
  });

  it('not after a cut-off attempt until this one has written an effect: the cut attempt\'s last effect may be missing', async () => {
    await withStore(async (store) => {
      // Stopped in a read before its first effect: the journal lacks nothing of this attempt, but the attempt before
      // it (given back with a letter in flight, say) may have sent the letter the next one sends.
      const j = attemptJournal(deliveryStoreOf(store), true, undefined, { afterLostAttempt: true });
      assert.equal(j.port.mayRepeat!(), true);
      assert.equal(await j.complete(), false, 'the suspicion is handed on, not dropped');
      // Once an effect's outcome of this attempt is written, the cut attempt's effects are behind it in the journal.
      await j.port.fence!();
      await j.port.put('job-4', 'S:mail#1', { messageId: '<4@x>' });
      j.port.afterEffect!();
      assert.equal(await j.complete(), true);
      assert.equal(j.port.mayRepeat!(), false);
    });
  });
});

