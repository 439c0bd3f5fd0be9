// The SQLite store's cheaper acknowledgement path: the positional twins of the ack's inserts, and the delivery
// look-ups asked in one turn of the event loop made together. What is stored and found must not change.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { positionalSql, positionalValues } from '../../server/store/sqlite.statements.js';
import { notCountedRow, notCountedRun, runParams } from '../../server/store/sqlite.rows.js';
import { stringifyOnce } from '../../server/store/json-memo.js';
import { StoreUnavailableError } from '../../server/store/store.errors.js';
import type { InboxEntryInput, RunWrite } from '../../server/store/store.port.js';

const T = { timeout: 30_000 };

const inbox = (dedupKey: string | null, status = 200): InboxEntryInput => ({
  receivedAt: 1_700_000_000_000,
  method: 'POST',
  path: '/Bpium/NewTask',
  headers: 'Content-Type: application/json',
  body: Buffer.from('{"hook":{"id":"1"}}'),
  remoteAddress: '127.0.0.1',
  signature: 'valid',
  dedupKey,
  response: { status, body: `answer ${status}` },
});

describe('SqliteStore: positional binding of the acknowledgement inserts', () => {
  it('turns each @name into ? and lists the names in order, a name used twice twice', () => {
    const p = positionalSql('INSERT INTO t (a, b, c, d) VALUES (@a, @b_1, @now, @now)');
    assert.equal(p.sql, 'INSERT INTO t (a, b, c, d) VALUES (?, ?, ?, ?)');
    assert.deepEqual(p.names, ['a', 'b_1', 'now', 'now']);
  });

  it('takes each value from the given fields first, else from the row, as a spread of both would', () => {
    const p = { statement: undefined as never, names: ['a', 'b', 'now', 'now', 'c'] };
    assert.deepEqual(positionalValues(p, { a: 1, b: 2, c: null }, { b: 'given', now: 9 }), [1, 'given', 9, 9, null]);
    assert.deepEqual(positionalValues(p, { a: 1, b: 2, c: 3, now: 4 }), [1, 2, 4, 4, 3]);
  });

  it('refuses a name that neither the row nor the given fields have, as binding by name does, and binds a present undefined as NULL', () => {
    // By name better-sqlite3 refuses a missing field ("Missing named parameter"); by position it would bind NULL and
    // store a row with a column lost, silently (a field renamed in a row type, a column added to the SQL only).
    const db = new Database(':memory:');
    try {
      db.exec('CREATE TABLE t (a, b, c)');
      const sql = 'INSERT INTO t (a, b, c) VALUES (@a, @b, @c)';
      const named = db.prepare(sql);
      const positional = { statement: db.prepare(positionalSql(sql).sql), names: positionalSql(sql).names };
      assert.throws(() => named.run({ a: 1, c: 3 }), /Missing named parameter "b"/);
      assert.throws(() => positional.statement.run(positionalValues(positional, { a: 1, c: 3 })), /Missing named parameter "b"/);
      assert.throws(() => positionalValues(positional, { a: 1 }, { c: 3 }), /Missing named parameter "b"/);
      // Present but undefined (in the row or the given fields): NULL both ways.
      named.run({ a: 1, b: undefined, c: 3 });
      positional.statement.run(positionalValues(positional, { a: 1, b: undefined, c: 3 }));
      positional.statement.run(positionalValues(positional, { a: 1, c: 3 }, { b: undefined }));
      assert.deepEqual(db.prepare('SELECT a, b, c FROM t').all(), [
        { a: 1, b: null, c: 3 },
        { a: 1, b: null, c: 3 },
        { a: 1, b: null, c: 3 },
      ]);
      assert.equal((db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n, 3);
    } finally {
      db.close();
    }
  });
});

describe('SqliteStore: delivery look-ups of one turn made together', () => {
  it('answers each look-up of a turn with its own original or none, and one in the same turn as a commit sees it', T, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'oktell-ack-path-'));
    const store = await openSqliteStore({ file: join(dir, 'store.db') });
    try {
      const first = await store.recordRequest({ inbox: inbox('bpium:1:1@*', 200) });
      const second = await store.recordRequest({ inbox: inbox('bpium:1:2@*', 503) });
      const [a, none, b] = await Promise.all([store.findByDedupKey('bpium:1:1@*'), store.findByDedupKey('bpium:1:9@*'), store.findByDedupKey('bpium:1:2@*')]);
      assert.equal(a?.id, first.inboxId);
      assert.equal(a?.responseStatus, 200);
      assert.equal(a?.responseBody, 'answer 200');
      assert.equal(none, undefined);
      assert.equal(b?.id, second.inboxId);
      assert.equal(b?.responseStatus, 503);
      // A write resolved before the look-up is asked is always seen by it.
      const third = await store.recordRequest({ inbox: inbox('bpium:1:3@*') });
      assert.equal((await store.findByDedupKey('bpium:1:3@*'))?.id, third.inboxId);
      // Written and looked up in the same turn: the look-up sees the write or not, never a half of it.
      const writing = store.recordRequest({ inbox: inbox('bpium:1:4@*') });
      const found = await store.findByDedupKey('bpium:1:4@*');
      const fourth = await writing;
      assert.ok(found === undefined || found.id === fourth.inboxId);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('answers the look-ups asked before a close, and refuses those asked after it', T, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'oktell-ack-path-'));
    const store = await openSqliteStore({ file: join(dir, 'store.db') });
    try {
      const stored = await store.recordRequest({ inbox: inbox('bpium:2:1@*') });
      const asked = [store.findByDedupKey('bpium:2:1@*'), store.findByDedupKey('bpium:2:2@*')];
      const closing = store.close();
      const [found, none] = await Promise.all(asked);
      await closing;
      assert.equal(found?.id, stored.inboxId);
      assert.equal(none, undefined);
      await assert.rejects(store.findByDedupKey('bpium:2:1@*'), (err: unknown) => err instanceof StoreUnavailableError && err.reason === 'closed');
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("SqliteStore: an attempt's end, its run record made once", () => {
  const attempt = (id: string, over: Partial<RunWrite> = {}): RunWrite => ({
    id,
    scenario: 'BpiumNewTask',
    version: 'v1',
    trigger: 'async',
    status: 'completed',
    startedAt: 1_700_000_000_000,
    finishedAt: 1_700_000_000_012,
    params: { recordId: '42' },
    returnValues: { sent: 1 },
    trace: [{ step: 1, block: 'start', changed: { a: 1 } }],
    bpiumCalls: [{ method: 'GET' }],
    mails: [{ to: ['ivan@example.com'] }],
    ...over,
  });

  it('makes the row of a run whose end was refused from its row as the run itself would make it', () => {
    for (const r of [attempt('c'), attempt('f', { status: 'failed', error: { code: 'X', message: 'boom' } })]) {
      assert.deepEqual(notCountedRow(runParams(r)), runParams(notCountedRun(r)));
    }
    // Its values measured first (the run budget's texts, taken by the first row): the refused row still has them all.
    const measured = attempt('m');
    stringifyOnce(measured.trace);
    stringifyOnce(measured.mails);
    assert.deepEqual(notCountedRow(runParams(measured)), runParams(notCountedRun(attempt('m'))));
  });

  it('stores the run of an accepted end as it was, and that of a refused one as not counted, its values whole', T, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'oktell-ack-path-'));
    let now = 1_700_000_000_000;
    const store = await openSqliteStore({ file: join(dir, 'store.db'), clock: { now: () => now } });
    try {
      const [id] = await store.enqueueJobs([{ scenario: 'BpiumNewTask', params: { recordId: '42' } }]);
      await store.claimJobs('slow', 1, 1000);
      now += 1000;
      const [taken] = await store.claimJobs('other', 1, 1000);
      assert.equal(taken?.id, id);
      const lost = attempt('run-slow', { jobId: id!, workerId: 'slow' });
      stringifyOnce(lost.trace);
      assert.deepEqual(await store.completeJob(id!, 'slow', { run: lost }), { accepted: false });
      assert.deepEqual(await store.completeJob(id!, 'other', { run: attempt('run-other', { jobId: id!, workerId: 'other', attempt: 2 }) }), { accepted: true });
      const refused = await store.getRun('run-slow');
      assert.equal(refused?.status, 'completed');
      assert.equal((refused?.error as { code?: string }).code, 'LEASE_LOST_NOT_COUNTED');
      assert.match(String((refused?.error as { message?: string }).message), /its end was not accepted/);
      assert.deepEqual([refused?.params, refused?.returnValues, refused?.trace, refused?.bpiumCalls, refused?.mails], [lost.params, lost.returnValues, lost.trace, lost.bpiumCalls, lost.mails]);
      const counted = await store.getRun('run-other');
      assert.equal(counted?.status, 'completed');
      assert.equal(counted?.error ?? null, null);
      assert.equal(counted?.attempt, 2);
      assert.deepEqual(counted?.trace, lost.trace);
      assert.equal((await store.getJob(id!))?.status, 'succeeded');
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
